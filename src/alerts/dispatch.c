/* SPDX-License-Identifier: Apache-2.0 */
/* Aggregation groups, their timers, and the notification pipeline.
 *
 * Every alert is routed when it arrives; at each matching route node it
 * joins the group named by the route and its group labels. A new group
 * waits group_wait before its first notification (at once if the alert
 * started longer ago than that), then flushes every group_interval while
 * it has alerts. One dispatcher thread sleeps until the earliest due group
 * (or a wake-up from a push), snapshots each due group under the lock into
 * a job — the alerts that are neither silenced nor inhibited, with their
 * references held — and queues it for the notifier threads, which send
 * without the lock.
 *
 * For each integration of the group's receiver a job first asks the
 * notification log whether a notification is needed, exactly as
 * Alertmanager's dedup stage decides: never notified and something firing;
 * firing set not a subset of what was last sent; everything resolved while
 * the last notice had firing alerts; new resolved alerts when
 * send_resolved; or repeat_interval elapsed. Only a successful send is
 * logged. After all integrations succeeded, the resolved alerts that were
 * part of the notification and have not changed since leave the group, and
 * an empty group is dropped. Time intervals are checked when a group
 * flushes: a route muted now, or outside its active intervals, sends
 * nothing for that flush.
 *
 * Groups are scanned linearly to find due ones; with thousands of groups
 * this is still microseconds per wake-up, and it keeps timer updates (every
 * push may make a group due at once) trivial. */
#include "alerts/am_int.h"

#include "alerts/route.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "core/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NFLOG_RETENTION_MS (120LL * 3600 * 1000)
#define GC_INTERVAL_MS 30000

typedef struct trn__am_job {
    struct trn__am_job *next;
    trn__am_cfg_t *cfg;
    const trn_am_route_t *route;
    char *group_key;
    uint64_t group_hash;
    trn_labels_t group_labels;
    char *gl_mem;
    trn__am_alert_t **alerts; /* unmuted, to notify */
    size_t n_alerts;
    trn__am_alert_t **all; /* every alert of the group at flush time */
    size_t n_all;
    int64_t now;
    bool muted;
} trn__am_job_t;

static uint64_t str_hash(const char *s, size_t n)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static void copy_labels(const trn_labels_t *src, trn_labels_t *dst, char **mem)
{
    size_t need = src->n * sizeof(trn_label_t);
    for (size_t i = 0; i < src->n; i++)
        need += src->v[i].name.len + src->v[i].value.len + 2;
    *mem = trn_xmalloc(need ? need : 1);
    dst->v = (trn_label_t *)*mem;
    dst->n = src->n;
    char *p = *mem + src->n * sizeof(trn_label_t);
    for (size_t i = 0; i < src->n; i++) {
        memcpy(p, src->v[i].name.p, src->v[i].name.len);
        p[src->v[i].name.len] = 0;
        dst->v[i].name = (trn_str_t){p, src->v[i].name.len};
        p += src->v[i].name.len + 1;
        memcpy(p, src->v[i].value.p, src->v[i].value.len);
        p[src->v[i].value.len] = 0;
        dst->v[i].value = (trn_str_t){p, src->v[i].value.len};
        p += src->v[i].value.len + 1;
    }
}

static void group_free(trn__am_group_t *g)
{
    size_t i = 0;
    void *v;
    while (trn__am_map_next(&g->alerts, &i, NULL, &v))
        trn__am_alert_unref(v);
    trn__am_map_fini(&g->alerts);
    free(g->key);
    free(g->labels_mem);
    free(g);
}

void trn__am_groups_clear(trn_alertmanager_t *am)
{
    size_t i = 0;
    void *v;
    while (trn__am_map_next(&am->groups, &i, NULL, &v))
        group_free(v);
    trn__am_map_fini(&am->groups);
}

void trn__am_dispatch_insert(trn_alertmanager_t *am, trn__am_alert_t *a, int64_t now)
{
    const trn_am_config_t *c = am->cfg->c;
    const trn_am_route_t *stack[64], **hits = stack;
    size_t n = trn_am_route_match(c->route, &a->labels, stack, 64);
    if (n > 64) {
        hits = trn_xcalloc(n, sizeof *hits);
        trn_am_route_match(c->route, &a->labels, hits, n);
    }
    trn_label_t gl_stack[32];
    trn_labels_t gl = {a->labels.n <= 32 ? gl_stack : trn_xcalloc(a->labels.n, sizeof(trn_label_t)),
                       0};
    trn_buf_t key;
    trn_buf_init(&key);
    for (size_t i = 0; i < n; i++) {
        const trn_am_route_t *r = hits[i];
        trn_am_route_group_labels(r, &a->labels, &gl);
        key.len = 0;
        trn_am_group_key(r, &gl, &key);
        uint64_t h = str_hash(key.data, key.len) ^ (r->id * 0x9E3779B97F4A7C15ULL);
        trn__am_group_t *g = trn__am_map_get(&am->groups, h);
        if (!g) {
            g = trn_xcalloc(1, sizeof *g);
            g->route = r;
            g->key = trn_xstrndup(key.data, key.len);
            g->key_hash = h;
            copy_labels(&gl, &g->labels, &g->labels_mem);
            g->next_flush = now + r->group_wait_ms;
            trn__am_map_put(&am->groups, h, g);
        }
        trn__am_alert_ref(a);
        trn__am_alert_t *old = trn__am_map_put(&g->alerts, a->fp, a);
        if (old) trn__am_alert_unref(old);
        if (!g->has_flushed && a->starts_at + r->group_wait_ms < now && g->next_flush > now)
            g->next_flush = now;
    }
    trn_buf_fini(&key);
    if (gl.v != gl_stack) free(gl.v);
    if (hits != stack) free(hits);
}

static int cmp_alert(const void *x, const void *y)
{
    const trn__am_alert_t *a = *(trn__am_alert_t *const *)x, *b = *(trn__am_alert_t *const *)y;
    static const char *const keys[] = {"job", "instance"};
    for (int k = 0; k < 2; k++) {
        trn_str_t va = trn_labels_get(&a->labels, keys[k]),
                  vb = trn_labels_get(&b->labels, keys[k]);
        if (!va.p || !vb.p) continue;
        int c = trn_str_cmp(va, vb);
        if (c) return c;
    }
    return trn_labels_cmp(&a->labels, &b->labels);
}

static bool route_muted(const trn_am_config_t *c, const trn_am_route_t *r, int64_t now)
{
    for (size_t i = 0; i < r->n_mute; i++) {
        const trn_am_time_interval_t *ti = trn_am_config_time_interval(c, r->mute_intervals[i]);
        if (ti && trn_am_time_interval_contains(ti, now)) return true;
    }
    if (r->n_active == 0) return false;
    for (size_t i = 0; i < r->n_active; i++) {
        const trn_am_time_interval_t *ti = trn_am_config_time_interval(c, r->active_intervals[i]);
        if (ti && trn_am_time_interval_contains(ti, now)) return false;
    }
    return true;
}

static trn__am_job_t *make_job(trn_alertmanager_t *am, trn__am_group_t *g, int64_t now)
{
    trn__am_job_t *j = trn_xcalloc(1, sizeof *j);
    j->cfg = am->cfg;
    am->cfg->refs++;
    j->route = g->route;
    j->group_key = trn_xstrdup(g->key);
    j->group_hash = g->key_hash;
    copy_labels(&g->labels, &j->group_labels, &j->gl_mem);
    j->now = now;
    j->all = trn_xcalloc(g->alerts.n + 1, sizeof *j->all);
    j->alerts = trn_xcalloc(g->alerts.n + 1, sizeof *j->alerts);
    size_t it = 0;
    void *v;
    while (trn__am_map_next(&g->alerts, &it, NULL, &v)) {
        trn__am_alert_t *a = v;
        trn__am_alert_ref(a);
        j->all[j->n_all++] = a;
    }
    qsort(j->all, j->n_all, sizeof *j->all, cmp_alert);
    j->muted = route_muted(am->cfg->c, g->route, now);
    for (size_t i = 0; i < j->n_all && !j->muted; i++) {
        trn__am_alert_t *a = j->all[i];
        if (trn__am_silenced_by(am, &a->labels, now, NULL, 0)) continue;
        if (trn__am_inhibited(am, &a->labels, a->fp, now, NULL)) continue;
        trn__am_alert_ref(a);
        j->alerts[j->n_alerts++] = a;
    }
    return j;
}

static void job_free(trn__am_job_t *j)
{
    for (size_t i = 0; i < j->n_all; i++)
        trn__am_alert_unref(j->all[i]);
    for (size_t i = 0; i < j->n_alerts; i++)
        trn__am_alert_unref(j->alerts[i]);
    free(j->all);
    free(j->alerts);
    trn__am_cfg_unref(j->cfg);
    free(j->group_key);
    free(j->gl_mem);
    free(j);
}

static void gc(trn_alertmanager_t *am, int64_t now)
{
    uint64_t *dead = NULL;
    size_t n_dead = 0, it = 0;
    uint64_t k;
    void *v;
    while (trn__am_map_next(&am->alerts, &it, &k, &v)) {
        if (!trn__am_alert_resolved(v, now)) continue;
        dead = trn_xrealloc(dead, (n_dead + 1) * sizeof *dead);
        dead[n_dead++] = k;
    }
    for (size_t i = 0; i < n_dead; i++)
        trn__am_alert_unref(trn__am_map_del(&am->alerts, dead[i]));
    if (n_dead) am->inhibit_dirty = true;
    free(dead);
}

static void *dispatcher_main(void *arg)
{
    trn_alertmanager_t *am = arg;
    pthread_mutex_lock(&am->mu);
    while (!am->stopping) {
        int64_t now = trn__am_now(am);
        if (now - am->last_gc >= GC_INTERVAL_MS) {
            gc(am, now);
            am->last_gc = now;
        }
        int64_t wait_ms = 1000;
        size_t it = 0;
        void *v;
        while (trn__am_map_next(&am->groups, &it, NULL, &v)) {
            trn__am_group_t *g = v;
            if (g->flushing) continue;
            if (g->next_flush <= now) {
                trn__am_job_t *j = make_job(am, g, now);
                g->flushing = true;
                g->has_flushed = true;
                g->next_flush = now + g->route->group_interval_ms;
                if (am->jobs_tail)
                    am->jobs_tail->next = j;
                else
                    am->jobs_head = j;
                am->jobs_tail = j;
                am->jobs_pending++;
                pthread_cond_signal(&am->jobs_cond);
            } else if (g->next_flush - now < wait_ms) {
                wait_ms = g->next_flush - now;
            }
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += wait_ms / 1000;
        ts.tv_nsec += (wait_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&am->cond, &am->mu, &ts);
    }
    pthread_mutex_unlock(&am->mu);
    return NULL;
}

static bool subset(const uint64_t *set, size_t n_set, const uint64_t *sub, size_t n_sub)
{
    for (size_t i = 0; i < n_sub; i++) {
        bool found = false;
        for (size_t k = 0; k < n_set && !found; k++)
            found = set[k] == sub[i];
        if (!found) return false;
    }
    return true;
}

bool trn__am_needs_update(const trn__am_nfe_t *e, const uint64_t *firing, size_t nf,
                          const uint64_t *resolved, size_t nr, bool send_resolved,
                          int64_t repeat_ms, int64_t now)
{
    if (!e) return nf > 0;
    if (!subset(e->firing, e->n_firing, firing, nf)) return true;
    if (nf == 0) return e->n_firing > 0;
    if (send_resolved && !subset(e->resolved, e->n_resolved, resolved, nr)) return true;
    return e->ts < now - repeat_ms;
}

static bool run_integration(trn_alertmanager_t *am, trn__am_job_t *j, const trn_am_receiver_t *rcv,
                            const trn_am_integration_t *in)
{
    uint64_t *firing = trn_xcalloc(j->n_alerts + 1, sizeof *firing);
    uint64_t *resolved = trn_xcalloc(j->n_alerts + 1, sizeof *resolved);
    trn__am_alert_t **send = trn_xcalloc(j->n_alerts + 1, sizeof *send);
    size_t nf = 0, nr = 0, ns = 0;
    for (size_t i = 0; i < j->n_alerts; i++) {
        trn__am_alert_t *a = j->alerts[i];
        if (trn__am_alert_resolved(a, j->now))
            resolved[nr++] = a->fp;
        else
            firing[nf++] = a->fp;
        if (in->send_resolved || !trn__am_alert_resolved(a, j->now)) send[ns++] = a;
    }
    trn_buf_t kb;
    trn_buf_init(&kb);
    trn_buf_printf(&kb, "%s\x1f%s\x1f%s\x1f%d", j->group_key, rcv->name, trn_am_kind_name(in->kind),
                   in->index);
    pthread_mutex_lock(&am->mu);
    bool need = trn__am_needs_update(trn__am_nflog_get(am, kb.data), firing, nf, resolved, nr,
                                     in->send_resolved, j->route->repeat_interval_ms, j->now);
    pthread_mutex_unlock(&am->mu);
    bool ok = true;
    if (need) {
        int rc = 0;
        if (ns > 0) {
            trn__am_notification_t n = {
                .receiver = rcv->name,
                .group_key = j->group_key,
                .group_labels = &j->group_labels,
                .alerts = send,
                .n_alerts = ns,
                .now = j->now,
                .external_url = am->external_url,
                .cfg = j->cfg,
            };
            char err[256] = "";
            int64_t t0 = trn_mono_ns();
            trn_counter_inc(am->c_notif[in->kind]);
            rc = trn__am_notify(in, &n, err, sizeof err);
            trn_histogram_observe(am->h_latency[in->kind], (double)(trn_mono_ns() - t0) / 1e9);
            if (rc < 0) {
                trn_counter_inc(am->c_notif_failed[in->kind]);
                trn_log(TRN_LOG_WARN, "alertmanager", "notify failed", "receiver", rcv->name,
                        "integration", trn_am_kind_name(in->kind), "group", j->group_key, "error",
                        err, NULL);
                ok = false;
            }
        }
        if (rc == 0) {
            pthread_mutex_lock(&am->mu);
            trn__am_nflog_log(am, kb.data, j->now, NFLOG_RETENTION_MS, firing, nf, resolved, nr);
            pthread_mutex_unlock(&am->mu);
            trn__am_nflog_sync(am);
        }
    }
    trn_buf_fini(&kb);
    free(firing);
    free(resolved);
    free(send);
    return ok;
}

static void run_job(trn_alertmanager_t *am, trn__am_job_t *j)
{
    bool ok = true;
    const trn_am_receiver_t *rcv = trn_am_config_receiver(j->cfg->c, j->route->receiver);
    if (rcv && !j->muted && j->n_alerts > 0)
        for (size_t i = 0; i < rcv->n_integrations; i++)
            ok = run_integration(am, j, rcv, &rcv->integrations[i]) && ok;
    pthread_mutex_lock(&am->mu);
    trn__am_group_t *g = trn__am_map_get(&am->groups, j->group_hash);
    if (g && j->cfg == am->cfg) {
        g->flushing = false;
        if (ok && !j->muted)
            for (size_t i = 0; i < j->n_all; i++) {
                trn__am_alert_t *a = j->all[i];
                if (!trn__am_alert_resolved(a, j->now)) continue;
                if (trn__am_map_get(&g->alerts, a->fp) != a) continue;
                trn__am_map_del(&g->alerts, a->fp);
                trn__am_alert_unref(a);
            }
        if (g->alerts.n == 0) {
            trn__am_map_del(&am->groups, g->key_hash);
            group_free(g);
        }
    }
    pthread_cond_signal(&am->cond);
    pthread_mutex_unlock(&am->mu);
    pthread_mutex_lock(&am->mu);
    job_free(j);
    pthread_mutex_unlock(&am->mu);
}

static void *notifier_main(void *arg)
{
    trn_alertmanager_t *am = arg;
    pthread_mutex_lock(&am->mu);
    for (;;) {
        while (!am->jobs_head && !am->stopping)
            pthread_cond_wait(&am->jobs_cond, &am->mu);
        if (!am->jobs_head) break;
        trn__am_job_t *j = am->jobs_head;
        am->jobs_head = j->next;
        if (!am->jobs_head) am->jobs_tail = NULL;
        am->jobs_pending--;
        pthread_mutex_unlock(&am->mu);
        run_job(am, j);
        pthread_mutex_lock(&am->mu);
    }
    pthread_mutex_unlock(&am->mu);
    return NULL;
}

int trn__am_dispatch_start(trn_alertmanager_t *am, trn_diag_t *d)
{
    am->n_notifiers = am->opts.notify_threads ? am->opts.notify_threads : 8;
    am->notifiers = trn_xcalloc(am->n_notifiers, sizeof *am->notifiers);
    if (pthread_create(&am->dispatcher, NULL, dispatcher_main, am) != 0)
        return trn_diag_set(d, TRN_EIO, -1, "cannot start the alert dispatcher thread");
    for (unsigned i = 0; i < am->n_notifiers; i++)
        if (pthread_create(&am->notifiers[i], NULL, notifier_main, am) != 0)
            TRN_ASSERT(!"cannot start a notifier thread");
    return 0;
}

void trn__am_dispatch_stop(trn_alertmanager_t *am)
{
    if (!am->notifiers) return;
    pthread_mutex_lock(&am->mu);
    am->stopping = true;
    pthread_cond_broadcast(&am->cond);
    pthread_cond_broadcast(&am->jobs_cond);
    pthread_mutex_unlock(&am->mu);
    pthread_join(am->dispatcher, NULL);
    for (unsigned i = 0; i < am->n_notifiers; i++)
        pthread_join(am->notifiers[i], NULL);
    free(am->notifiers);
    am->notifiers = NULL;
    /* jobs still queued are dropped; their groups notify again after restart */
    pthread_mutex_lock(&am->mu);
    while (am->jobs_head) {
        trn__am_job_t *j = am->jobs_head;
        am->jobs_head = j->next;
        job_free(j);
    }
    am->jobs_tail = NULL;
    pthread_mutex_unlock(&am->mu);
}
