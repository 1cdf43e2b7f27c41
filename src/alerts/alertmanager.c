/* SPDX-License-Identifier: Apache-2.0 */
/* The alert manager's front: lifecycle, the alert store, accepting alerts,
 * inhibition, and the read side the API uses.
 *
 * Alerts are keyed by Alertmanager's fingerprint (FNV-1a 64 over the
 * sorted label names and values, each followed by 0xff) so ids match what
 * Alertmanager would show for the same labels. An incoming alert whose
 * time span overlaps the stored one is merged the Alertmanager way: the
 * earliest start wins, the newer update provides annotations, and an
 * explicit end beats a resolve_timeout one. Every accepted version is a new
 * immutable object; the store and the aggregation groups hold references.
 *
 * Inhibition is answered from a per-rule index rebuilt lazily (after any
 * change, or once a second since sources expire by time): a map from the
 * hash of a source alert's `equal` label values to its fingerprint, plus a
 * second map of only the sources that do not also match the rule's target
 * side, used when the alert being checked matches both sides (an alert
 * must not inhibit itself). A check is then one hash lookup per rule. */
#include "alerts/alertmanager.h"

#include "alerts/am_int.h"
#include "alerts/route.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "core/timefmt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int64_t trn__am_now(const trn_alertmanager_t *am)
{
    return am->opts.now_ms ? am->opts.now_ms() : trn_now_ms();
}

int64_t trn_alertmanager_now(const trn_alertmanager_t *am)
{
    return trn__am_now(am);
}

int64_t trn_alertmanager_start_ms(const trn_alertmanager_t *am)
{
    return am->start_ms;
}

/* ---------------------------------------------------------------- alerts */

uint64_t trn__am_fingerprint(const trn_labels_t *ls)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < ls->n; i++) {
        for (size_t k = 0; k < ls->v[i].name.len; k++)
            h = (h ^ (unsigned char)ls->v[i].name.p[k]) * 1099511628211ULL;
        h = (h ^ 0xff) * 1099511628211ULL;
        for (size_t k = 0; k < ls->v[i].value.len; k++)
            h = (h ^ (unsigned char)ls->v[i].value.p[k]) * 1099511628211ULL;
        h = (h ^ 0xff) * 1099511628211ULL;
    }
    return h;
}

static int cmp_label(const void *a, const void *b)
{
    return trn_str_cmp(((const trn_label_t *)a)->name, ((const trn_label_t *)b)->name);
}

static size_t labels_bytes(const trn_labels_t *ls)
{
    size_t n = 0;
    for (size_t i = 0; i < ls->n; i++)
        n += ls->v[i].name.len + ls->v[i].value.len + 2;
    return n;
}

/* Copies non-empty labels into dst using *p for strings. */
static void copy_labels(const trn_labels_t *src, trn_labels_t *dst, trn_label_t *arr, char **p)
{
    dst->v = arr;
    dst->n = 0;
    for (size_t i = 0; i < src->n; i++) {
        if (src->v[i].value.len == 0) continue;
        trn_label_t *l = &arr[dst->n++];
        memcpy(*p, src->v[i].name.p, src->v[i].name.len);
        (*p)[src->v[i].name.len] = 0;
        l->name = (trn_str_t){*p, src->v[i].name.len};
        *p += src->v[i].name.len + 1;
        if (src->v[i].value.len) memcpy(*p, src->v[i].value.p, src->v[i].value.len);
        (*p)[src->v[i].value.len] = 0;
        l->value = (trn_str_t){*p, src->v[i].value.len};
        *p += src->v[i].value.len + 1;
    }
    qsort(dst->v, dst->n, sizeof *dst->v, cmp_label);
}

trn__am_alert_t *trn__am_alert_new(const trn_am_alert_t *in, int64_t now, int64_t resolve_ms)
{
    size_t gl = in->generator_url ? strlen(in->generator_url) : 0;
    size_t need = (in->labels.n + in->annotations.n) * sizeof(trn_label_t) +
                  labels_bytes(&in->labels) + labels_bytes(&in->annotations) + gl + 1;
    trn__am_alert_t *a = trn_xcalloc(1, sizeof *a);
    a->mem = trn_xmalloc(need);
    trn_label_t *arr = (trn_label_t *)a->mem;
    char *p = a->mem + (in->labels.n + in->annotations.n) * sizeof(trn_label_t);
    copy_labels(&in->labels, &a->labels, arr, &p);
    copy_labels(&in->annotations, &a->annotations, arr + in->labels.n, &p);
    if (gl) memcpy(p, in->generator_url, gl);
    p[gl] = 0;
    a->generator_url = p;
    a->refs = 1;
    a->fp = trn__am_fingerprint(&a->labels);
    a->updated_at = now;
    a->starts_at = in->starts_at_ms;
    a->ends_at = in->ends_at_ms;
    if (a->starts_at == 0) a->starts_at = a->ends_at ? a->ends_at : now;
    if (a->ends_at == 0) {
        a->timeout = true;
        a->ends_at = now + resolve_ms;
    }
    return a;
}

void trn__am_alert_ref(trn__am_alert_t *a)
{
    a->refs++;
}

void trn__am_alert_unref(trn__am_alert_t *a)
{
    if (!a || --a->refs > 0) return;
    free(a->mem);
    free(a);
}

static int validate_set(const trn_labels_t *ls, const char *what, trn_diag_t *d)
{
    for (size_t i = 0; i < ls->n; i++) {
        if (!trn_label_name_valid(ls->v[i].name))
            return trn_diag_set(d, TRN_EINVAL, -1, "invalid %s name \"%.*s\"", what,
                                (int)(ls->v[i].name.len > 100 ? 100 : ls->v[i].name.len),
                                ls->v[i].name.p ? ls->v[i].name.p : "");
        if (!trn_utf8_valid(ls->v[i].value.p, ls->v[i].value.len))
            return trn_diag_set(d, TRN_EINVAL, -1, "invalid %s value for \"%.*s\" (not UTF-8)",
                                what, (int)ls->v[i].name.len, ls->v[i].name.p);
        for (size_t j = 0; j < i; j++)
            if (trn_str_eq(ls->v[j].name, ls->v[i].name))
                return trn_diag_set(d, TRN_EINVAL, -1, "duplicate %s name \"%.*s\"", what,
                                    (int)ls->v[i].name.len, ls->v[i].name.p);
    }
    return 0;
}

int trn_am_alert_validate(const trn_am_alert_t *a, trn_diag_t *d)
{
    size_t non_empty = 0;
    for (size_t i = 0; i < a->labels.n; i++)
        non_empty += a->labels.v[i].value.len > 0;
    if (non_empty == 0) return trn_diag_set(d, TRN_EINVAL, -1, "at least one label pair required");
    int rc = validate_set(&a->labels, "label", d);
    if (rc == 0) rc = validate_set(&a->annotations, "annotation", d);
    if (rc < 0) return rc;
    if (a->ends_at_ms && a->starts_at_ms && a->ends_at_ms < a->starts_at_ms)
        return trn_diag_set(d, TRN_EINVAL, -1, "start time must be before end time");
    return 0;
}

/* Alertmanager's Alert.Merge: o is the younger update. */
static void merge_into(trn__am_alert_t *res, const trn__am_alert_t *old, int64_t now)
{
    if (old->starts_at < res->starts_at) res->starts_at = old->starts_at;
    if (trn__am_alert_resolved(res, now)) {
        if (trn__am_alert_resolved(old, now) && old->ends_at > res->ends_at)
            res->ends_at = old->ends_at;
    } else if (old->ends_at > res->ends_at && !old->timeout) {
        res->ends_at = old->ends_at;
        res->timeout = false;
    }
}

int trn_alertmanager_push(trn_alertmanager_t *am, const trn_am_alert_t *alerts, size_t n)
{
    int accepted = 0;
    int64_t now = trn__am_now(am);
    pthread_mutex_lock(&am->mu);
    int64_t resolve_ms = am->cfg->c->global.resolve_timeout_ms;
    for (size_t i = 0; i < n; i++) {
        if (trn_am_alert_validate(&alerts[i], NULL) < 0) {
            trn_counter_inc(am->c_invalid);
            continue;
        }
        trn__am_alert_t *a = trn__am_alert_new(&alerts[i], now, resolve_ms);
        trn__am_alert_t *old = trn__am_map_get(&am->alerts, a->fp);
        if (old && ((a->ends_at > old->starts_at && a->ends_at < old->ends_at) ||
                    (a->starts_at > old->starts_at && a->starts_at < old->ends_at) ||
                    (a->starts_at == old->starts_at)))
            merge_into(a, old, now);
        trn__am_map_put(&am->alerts, a->fp, a);
        if (old) trn__am_alert_unref(old);
        if (trn__am_alert_resolved(a, now))
            trn_counter_inc(am->c_received_resolved);
        else
            trn_counter_inc(am->c_received_firing);
        if (!am->opts.no_dispatch) trn__am_dispatch_insert(am, a, now);
        accepted++;
    }
    am->inhibit_dirty = true;
    pthread_cond_signal(&am->cond);
    pthread_mutex_unlock(&am->mu);
    return accepted;
}

/* ---------------------------------------------------------------- inhibition */

static uint64_t equal_hash(const trn_am_inhibit_rule_t *r, const trn_labels_t *ls)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < r->n_equal; i++) {
        trn_str_t v = trn_labels_get(ls, r->equal[i]);
        for (size_t k = 0; k < v.len; k++)
            h = (h ^ (unsigned char)v.p[k]) * 1099511628211ULL;
        h = (h ^ 0xff) * 1099511628211ULL;
    }
    return h;
}

static void inhibit_free(trn_alertmanager_t *am)
{
    for (size_t i = 0; i < am->n_inhibit; i++) {
        trn__am_map_fini(&am->inhibit_src[i]);
        trn__am_map_fini(&am->inhibit_src_nt[i]);
    }
    free(am->inhibit_src);
    free(am->inhibit_src_nt);
    am->inhibit_src = am->inhibit_src_nt = NULL;
    am->n_inhibit = 0;
}

static void inhibit_build(trn_alertmanager_t *am, int64_t now)
{
    const trn_am_config_t *c = am->cfg->c;
    if (!am->inhibit_dirty && am->n_inhibit == c->n_inhibit_rules &&
        now - am->inhibit_built_at < 1000)
        return;
    inhibit_free(am);
    am->n_inhibit = c->n_inhibit_rules;
    am->inhibit_src = trn_xcalloc(am->n_inhibit + 1, sizeof *am->inhibit_src);
    am->inhibit_src_nt = trn_xcalloc(am->n_inhibit + 1, sizeof *am->inhibit_src_nt);
    size_t it = 0;
    void *v;
    while (trn__am_map_next(&am->alerts, &it, NULL, &v)) {
        trn__am_alert_t *a = v;
        if (trn__am_alert_resolved(a, now)) continue;
        for (size_t r = 0; r < am->n_inhibit; r++) {
            const trn_am_inhibit_rule_t *rule = &c->inhibit_rules[r];
            if (!trn_am_matchers_match(&rule->source, &a->labels)) continue;
            uint64_t h = equal_hash(rule, &a->labels);
            /* map values must be non-NULL: store fp | 1 is not safe, box it */
            trn__am_map_put(&am->inhibit_src[r], h, a);
            if (!trn_am_matchers_match(&rule->target, &a->labels))
                trn__am_map_put(&am->inhibit_src_nt[r], h, a);
        }
    }
    am->inhibit_dirty = false;
    am->inhibit_built_at = now;
}

bool trn__am_inhibited(trn_alertmanager_t *am, const trn_labels_t *ls, uint64_t fp, int64_t now,
                       uint64_t *by)
{
    inhibit_build(am, now);
    const trn_am_config_t *c = am->cfg->c;
    for (size_t r = 0; r < am->n_inhibit; r++) {
        const trn_am_inhibit_rule_t *rule = &c->inhibit_rules[r];
        if (!trn_am_matchers_match(&rule->target, ls)) continue;
        uint64_t h = equal_hash(rule, ls);
        bool both = trn_am_matchers_match(&rule->source, ls);
        trn__am_alert_t *src =
            trn__am_map_get(both ? &am->inhibit_src_nt[r] : &am->inhibit_src[r], h);
        if (src && src->fp != fp) {
            if (by) *by = src->fp;
            return true;
        }
    }
    return false;
}

/* ---------------------------------------------------------------- lifecycle */

static int mkdir_p(const char *path, trn_diag_t *d)
{
    char *tmp = trn_xstrdup(path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST) {
            int e = errno;
            free(tmp);
            return trn_diag_set(d, TRN_EIO, -1, "%s: %s", path, strerror(e));
        }
        *p = '/';
    }
    int rc = 0;
    if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
        rc = trn_diag_set(d, TRN_EIO, -1, "%s: %s", path, strerror(errno));
    free(tmp);
    return rc;
}

void trn__am_cfg_unref(trn__am_cfg_t *c)
{
    if (!c || --c->refs > 0) return;
    trn_am_config_free(c->c);
    free(c);
}

static trn__am_cfg_t *cfg_wrap(trn_am_config_t *c)
{
    trn__am_cfg_t *w = trn_xcalloc(1, sizeof *w);
    w->refs = 1;
    w->c = c;
    return w;
}

int trn_alertmanager_new(trn_am_config_t *cfg, const char *data_dir, trn_registry_t *reg,
                         const trn_am_opts_t *opts, trn_alertmanager_t **out, trn_diag_t *d)
{
    int rc;
    trn_alertmanager_t *am = trn_xcalloc(1, sizeof *am);
    pthread_mutex_init(&am->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&am->cond, &ca);
    pthread_cond_init(&am->jobs_cond, &ca);
    pthread_condattr_destroy(&ca);
    if (opts) am->opts = *opts;
    am->external_url =
        trn_xstrdup(am->opts.external_url ? am->opts.external_url : "http://localhost:9093");
    am->reg = reg;
    am->start_ms = trn__am_now(am);
    if (data_dir) {
        size_t n = strlen(data_dir) + 16;
        am->state_dir = trn_xmalloc(n);
        snprintf(am->state_dir, n, "%s/alertmanager", data_dir);
        if ((rc = mkdir_p(am->state_dir, d)) < 0) goto fail;
    }
    trn_registry_t *r = reg ? reg : trn_registry_new();
    if (!reg) am->reg = r, am->own_reg = true;
    am->c_received_firing =
        trn_counter_get(am->reg, "trine_alertmanager_alerts_received_total",
                        "Alerts received by the built-in alert manager.", "status=\"firing\"");
    am->c_received_resolved =
        trn_counter_get(am->reg, "trine_alertmanager_alerts_received_total",
                        "Alerts received by the built-in alert manager.", "status=\"resolved\"");
    am->c_invalid = trn_counter_get(am->reg, "trine_alertmanager_alerts_invalid_total",
                                    "Alerts rejected as invalid.", "");
    for (int k = 0; k < TRN_AM_N_KINDS; k++) {
        char l[64];
        snprintf(l, sizeof l, "integration=\"%s\"", trn_am_kind_name((trn_am_kind_t)k));
        am->c_notif[k] = trn_counter_get(am->reg, "trine_alertmanager_notifications_total",
                                         "Notifications attempted, by integration.", l);
        am->c_notif_failed[k] =
            trn_counter_get(am->reg, "trine_alertmanager_notifications_failed_total",
                            "Notifications that failed after retries, by integration.", l);
        am->h_latency[k] =
            trn_histogram_get(am->reg, "trine_alertmanager_notification_latency_seconds",
                              "Time to deliver a notification, by integration.", l, NULL, 0);
    }
    am->cfg = cfg_wrap(cfg);
    if ((rc = trn__am_silences_open(am, d)) < 0) goto fail;
    if ((rc = trn__am_nflog_open(am, d)) < 0) goto fail;
    if (!am->opts.no_dispatch && (rc = trn__am_dispatch_start(am, d)) < 0) goto fail;
    *out = am;
    return 0;
fail:
    if (am->cfg) {
        am->cfg->c = NULL; /* the caller keeps cfg on failure */
        trn__am_cfg_unref(am->cfg);
        am->cfg = NULL;
    }
    trn_alertmanager_free(am);
    return rc;
}

int trn_alertmanager_reload(trn_alertmanager_t *am, trn_am_config_t *cfg, trn_diag_t *d)
{
    (void)d;
    int64_t now = trn__am_now(am);
    pthread_mutex_lock(&am->mu);
    trn__am_cfg_t *old = am->cfg;
    trn__am_groups_clear(am);
    am->cfg = cfg_wrap(cfg);
    inhibit_free(am);
    am->inhibit_dirty = true;
    if (!am->opts.no_dispatch) {
        size_t it = 0;
        void *v;
        while (trn__am_map_next(&am->alerts, &it, NULL, &v))
            trn__am_dispatch_insert(am, v, now);
    }
    trn__am_cfg_unref(old);
    pthread_cond_signal(&am->cond);
    pthread_mutex_unlock(&am->mu);
    return 0;
}

void trn_alertmanager_free(trn_alertmanager_t *am)
{
    if (!am) return;
    trn__am_dispatch_stop(am);
    pthread_mutex_lock(&am->mu);
    trn__am_groups_clear(am);
    size_t it = 0;
    void *v;
    while (trn__am_map_next(&am->alerts, &it, NULL, &v))
        trn__am_alert_unref(v);
    trn__am_map_fini(&am->alerts);
    trn__am_map_fini(&am->groups);
    inhibit_free(am);
    trn__am_silences_free(am);
    trn__am_nflog_free(am);
    pthread_mutex_unlock(&am->mu);
    trn__am_cfg_unref(am->cfg);
    if (am->own_reg) trn_registry_free(am->reg);
    pthread_mutex_destroy(&am->mu);
    pthread_cond_destroy(&am->cond);
    pthread_cond_destroy(&am->jobs_cond);
    free(am->external_url);
    free(am->state_dir);
    free(am);
}

/* ---------------------------------------------------------------- views */

static trn_labels_t labels_dup(trn_arena_t *a, const trn_labels_t *ls)
{
    trn_labels_t out;
    trn_labels_copy(a, ls, &out);
    return out;
}

static void make_view(trn_alertmanager_t *am, trn_arena_t *a, const trn__am_alert_t *al,
                      int64_t now, trn_am_alert_view_t *v)
{
    const trn_am_config_t *c = am->cfg->c;
    v->labels = labels_dup(a, &al->labels);
    v->annotations = labels_dup(a, &al->annotations);
    v->starts_at_ms = al->starts_at;
    v->ends_at_ms = al->ends_at;
    v->updated_at_ms = al->updated_at;
    v->generator_url = trn_arena_strndup(a, al->generator_url, strlen(al->generator_url));
    snprintf(v->fingerprint, sizeof v->fingerprint, "%016" PRIx64, al->fp);
    const trn_am_route_t **hits = trn_arena_calloc(a, c->n_routes + 1, sizeof *hits);
    size_t n = trn_am_route_match(c->route, &al->labels, hits, c->n_routes + 1);
    if (n > c->n_routes + 1) n = c->n_routes + 1;
    v->receivers = trn_arena_calloc(a, n + 1, sizeof *v->receivers);
    for (size_t i = 0; i < n; i++)
        v->receivers[i] = trn_arena_strndup(a, hits[i]->receiver, strlen(hits[i]->receiver));
    v->n_receivers = n;
    size_t ns = trn__am_silenced_by(am, &al->labels, now, NULL, 0);
    v->silenced_by = trn_arena_calloc(a, ns + 1, sizeof *v->silenced_by);
    trn__am_silenced_by(am, &al->labels, now, v->silenced_by, ns);
    for (size_t i = 0; i < ns; i++)
        v->silenced_by[i] = trn_arena_strndup(a, v->silenced_by[i], strlen(v->silenced_by[i]));
    v->n_silenced_by = ns;
    uint64_t by;
    v->inhibited_by = trn_arena_calloc(a, 1, sizeof *v->inhibited_by);
    if (!trn__am_alert_resolved(al, now) && trn__am_inhibited(am, &al->labels, al->fp, now, &by)) {
        v->inhibited_by[0] = trn_arena_printf(a, "%016" PRIx64, by);
        v->n_inhibited_by = 1;
    }
    v->state = ns || v->n_inhibited_by ? "suppressed" : "active";
}

static int cmp_view(const void *x, const void *y)
{
    return strcmp(((const trn_am_alert_view_t *)x)->fingerprint,
                  ((const trn_am_alert_view_t *)y)->fingerprint);
}

int trn_alertmanager_alerts(trn_alertmanager_t *am, trn_arena_t *a, trn_am_alert_view_t **out,
                            size_t *n)
{
    int64_t now = trn__am_now(am);
    pthread_mutex_lock(&am->mu);
    trn_am_alert_view_t *v = trn_arena_calloc(a, am->alerts.n + 1, sizeof *v);
    size_t k = 0, it = 0;
    void *x;
    while (v && trn__am_map_next(&am->alerts, &it, NULL, &x))
        make_view(am, a, x, now, &v[k++]);
    pthread_mutex_unlock(&am->mu);
    if (!v || trn_arena_failed(a)) return TRN_ELIMIT;
    qsort(v, k, sizeof *v, cmp_view);
    *out = v;
    *n = k;
    return 0;
}

int trn_alertmanager_groups(trn_alertmanager_t *am, trn_arena_t *a, trn_am_group_view_t **out,
                            size_t *n)
{
    int64_t now = trn__am_now(am);
    pthread_mutex_lock(&am->mu);
    trn_am_group_view_t *g = trn_arena_calloc(a, am->groups.n + 1, sizeof *g);
    size_t k = 0, it = 0;
    void *x;
    while (g && trn__am_map_next(&am->groups, &it, NULL, &x)) {
        trn__am_group_t *gr = x;
        trn_am_group_view_t *gv = &g[k++];
        gv->labels = labels_dup(a, &gr->labels);
        gv->receiver = trn_arena_strndup(a, gr->route->receiver, strlen(gr->route->receiver));
        gv->alerts = trn_arena_calloc(a, gr->alerts.n + 1, sizeof *gv->alerts);
        size_t j = 0;
        void *y;
        while (gv->alerts && trn__am_map_next(&gr->alerts, &j, NULL, &y))
            make_view(am, a, y, now, &gv->alerts[gv->n_alerts++]);
        if (gv->alerts) qsort(gv->alerts, gv->n_alerts, sizeof *gv->alerts, cmp_view);
    }
    pthread_mutex_unlock(&am->mu);
    if (!g || trn_arena_failed(a)) return TRN_ELIMIT;
    *out = g;
    *n = k;
    return 0;
}

const char *trn_alertmanager_config_text(trn_alertmanager_t *am, trn_arena_t *a)
{
    pthread_mutex_lock(&am->mu);
    const char *t = am->cfg->c->yaml_text ? am->cfg->c->yaml_text : "";
    char *r = trn_arena_strndup(a, t, strlen(t));
    pthread_mutex_unlock(&am->mu);
    return r;
}

size_t trn_alertmanager_receiver_names(trn_alertmanager_t *am, trn_arena_t *a, const char ***names)
{
    pthread_mutex_lock(&am->mu);
    const trn_am_config_t *c = am->cfg->c;
    const char **v = trn_arena_calloc(a, c->n_receivers + 1, sizeof *v);
    for (size_t i = 0; v && i < c->n_receivers; i++)
        v[i] = trn_arena_strndup(a, c->receivers[i].name, strlen(c->receivers[i].name));
    size_t n = c->n_receivers;
    pthread_mutex_unlock(&am->mu);
    *names = v;
    return v ? n : 0;
}
