/* SPDX-License-Identifier: Apache-2.0 */
/* Alerting rules: Prometheus's alert state machine, ALERTS series, alert
 * sending and `for` state restoration.
 *
 * Each evaluation turns the query's vector into alert candidates: the
 * sample's labels without __name__, the rule's labels expanded as
 * templates (an empty result deletes the label), alertname, and expanded
 * annotations. Candidates and the rule's current alerts are both kept
 * sorted by (label hash, labels), so one merge pass pairs them in
 * O(n log n) even with many thousands of alerts:
 *   - present now and active before: value and annotations refresh;
 *   - present now, absent or resolved before: a new pending alert, active
 *     from this evaluation;
 *   - absent now: a pending alert is dropped; a firing one keeps firing
 *     for keep_firing_for, then resolves, and a resolved alert is kept
 *     15 minutes (so Alertmanagers see the resolution) before it goes.
 * A pending alert fires once it has been active for `for`. While the rule
 * is "restored", every pending/firing alert adds an ALERTS sample
 * (alertstate label, value 1) and an ALERTS_FOR_STATE sample (value: the
 * active-since Unix second) to the output the group writes.
 *
 * Sending follows Prometheus: pending alerts are never sent; a firing
 * alert is (re)sent when resend_delay has passed since the last send, a
 * resolved one at once and then on the same cadence while kept; each send
 * carries an end time of 4 x max(resend_delay, interval) ahead, or the
 * resolve time. Restoration after a restart reads the last
 * ALERTS_FOR_STATE sample within outage_tolerance (after the group's
 * second evaluation, as Prometheus) and shifts the alert's active time by
 * the downtime, or to leave for_grace_period to fire; an alert that was
 * already firing keeps its original active time and fires again at once. */
#include "rules/rules_int.h"

#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESOLVED_RETENTION_MS (15 * 60 * 1000)

typedef struct cand {
    trn_labels_t labels; /* arena, sorted */
    uint64_t hash;
    trn_labels_t annotations;
    double value;
} cand_t;

static int cmp_key(uint64_t ha, const trn_labels_t *a, uint64_t hb, const trn_labels_t *b)
{
    if (ha != hb) return ha < hb ? -1 : 1;
    return trn_labels_cmp(a, b);
}

static int cand_cmp(const void *pa, const void *pb)
{
    const cand_t *a = pa, *b = pb;
    return cmp_key(a->hash, &a->labels, b->hash, &b->labels);
}

typedef struct qctx {
    struct trn_rule_manager *m;
} qctx_t;

/* The templates' `query`: PromQL at t_ms, as a list of samples. */
static int tmpl_query(void *ctx, trn_str_t expr, int64_t t_ms, trn_arena_t *a, trn_tval_t *out,
                      trn_diag_t *d)
{
    qctx_t *q = ctx;
    trn_promql_expr_t *e;
    int rc = trn_promql_parse(expr.p, expr.len, a, &e, d);
    if (rc < 0) return rc;
    trn_promql_value_t v;
    rc = trn__rules_query(q->m, e, t_ms, a, &v, d);
    trn_promql_expr_release(e);
    if (rc < 0) return rc;
    if (v.type == TRN_PROMQL_SCALAR) {
        trn_labels_t none = {NULL, 0};
        trn_tval_t s;
        if (trn_tmpl_sample(a, &none, v.scalar, &s) < 0) return TRN_ELIMIT;
        return trn_tval_list_push(a, out, s);
    }
    if (v.type != TRN_PROMQL_VECTOR)
        return trn_diag_set(d, TRN_EINVAL, -1, "query result is not a vector or scalar");
    for (size_t i = 0; i < v.n_vec; i++) {
        trn_tval_t s;
        if (trn_tmpl_sample(a, &v.vec[i].labels, v.vec[i].v, &s) < 0) return TRN_ELIMIT;
        if (trn_tval_list_push(a, out, s) < 0) return TRN_ELIMIT;
    }
    return 0;
}

/* Expands one template; on error the text Prometheus substitutes. */
static trn_str_t expand(struct trn_rule_manager *m, trn_rule_t *r, trn_tmpl_t *t,
                        const trn_tval_t *data, int64_t ts, trn_arena_t *a)
{
    qctx_t q = {m};
    trn_tmpl_env_t env = {
        .query = tmpl_query, .query_ctx = &q, .now_ms = ts, .external_url = m->external_url};
    trn_buf_t out;
    trn_buf_init(&out);
    trn_diag_t d;
    trn_diag_init(&d);
    int rc = trn_tmpl_exec(t, NULL, data, &env, a, &out, &d);
    char *s;
    if (rc < 0) {
        s = trn_arena_printf(a,
                             "<error expanding template: error executing template __alert_%s: %s>",
                             r->name, d.msg);
        trn_log(TRN_LOG_WARN, "rules", "expanding alert template failed", "alert", r->name, "err",
                d.msg, (const char *)NULL);
    } else {
        s = trn_arena_strndup(a, out.data ? out.data : "", out.len);
    }
    trn_buf_fini(&out);
    return trn_str_c(s ? s : "");
}

static int build_cand(struct trn_rule_manager *m, const trn_tval_t *ext, trn_rule_t *r, int64_t ts,
                      const trn_promql_sample_t *smp, trn_arena_t *a, cand_t *out)
{
    trn_tval_t labels, data;
    if (trn_tval_from_labels(a, &smp->labels, &labels) < 0) return TRN_ELIMIT;
    data = trn_tval_map(a, 4, TRN_TV_STRUCT);
    if (trn_tval_map_put(a, &data, TRN_STR("Labels"), labels) < 0 ||
        trn_tval_map_put(a, &data, TRN_STR("ExternalLabels"), *ext) < 0 ||
        trn_tval_map_put(a, &data, TRN_STR("ExternalURL"), trn_tval_cstr(m->external_url)) < 0 ||
        trn_tval_map_put(a, &data, TRN_STR("Value"), trn_tval_float(smp->v)) < 0)
        return TRN_ELIMIT;
    trn_tval_map_seal(&data);
    size_t cap = smp->labels.n + r->labels.n + 1;
    trn_label_t *v = trn_arena_alloc(a, cap * sizeof *v);
    if (!v) return TRN_ELIMIT;
    size_t n = 0;
    for (size_t i = 0; i < smp->labels.n; i++)
        if (!trn_str_eqc(smp->labels.v[i].name, TRN_METRIC_NAME)) v[n++] = smp->labels.v[i];
    for (size_t i = 0; i < r->labels.n + 1; i++) {
        trn_str_t name = i < r->labels.n ? r->labels.v[i].name : TRN_STR("alertname");
        trn_str_t val =
            i < r->labels.n ? expand(m, r, r->label_tmpl[i], &data, ts, a) : trn_str_c(r->name);
        size_t k = 0;
        while (k < n && !trn_str_eq(v[k].name, name))
            k++;
        if (val.len == 0) { /* an empty value deletes the label */
            if (k < n) v[k] = v[--n];
            continue;
        }
        if (k == n) n++;
        v[k] = (trn_label_t){name, val};
    }
    out->labels = (trn_labels_t){v, n};
    trn_labels_sort(&out->labels);
    out->hash = trn_labels_hash(&out->labels);
    out->value = smp->v;
    trn_label_t *an = trn_arena_alloc(a, (r->annotations.n + 1) * sizeof *an);
    if (!an) return TRN_ELIMIT;
    for (size_t i = 0; i < r->annotations.n; i++)
        an[i] =
            (trn_label_t){r->annotations.v[i].name, expand(m, r, r->annot_tmpl[i], &data, ts, a)};
    out->annotations = (trn_labels_t){an, r->annotations.n};
    return 0;
}

/* ALERTS / ALERTS_FOR_STATE samples for an active alert. */
static int emit_series(trn_arena_t *a, out_vec_t *out, const alert_t *al)
{
    size_t n = al->labels.ls.n;
    for (int k = 0; k < 2; k++) {
        trn_label_t *v = trn_arena_alloc(a, (n + 2) * sizeof *v);
        if (!v) return TRN_ELIMIT;
        memcpy(v, al->labels.ls.v, n * sizeof *v);
        size_t m = n;
        v[m++] = (trn_label_t){TRN_STR(TRN_METRIC_NAME),
                               k == 0 ? TRN_STR("ALERTS") : TRN_STR("ALERTS_FOR_STATE")};
        if (k == 0)
            v[m++] = (trn_label_t){TRN_STR("alertstate"), al->state == TRN_ALERT_FIRING
                                                              ? TRN_STR("firing")
                                                              : TRN_STR("pending")};
        trn_labels_t ls = {v, m};
        trn_labels_sort(&ls);
        /* a copy into the arena: the alert may be freed before the append */
        trn_labels_t cp;
        if (trn_labels_copy(a, &ls, &cp) < 0) return TRN_ELIMIT;
        double val = k == 0 ? 1.0 : (double)(al->active_at_ms / 1000);
        if (trn__out_push(a, out, cp, val) < 0) return TRN_ELIMIT;
    }
    return 0;
}

int trn__alerting_eval(struct trn_rule_manager *m, trn_rules_config_t *c, trn_rule_group_t *g,
                       trn_rule_t *r, int64_t ts, const trn_promql_sample_t *vec, size_t n,
                       trn_arena_t *a, out_vec_t *out, char *err, size_t errlen)
{
    cand_t *cs = n ? trn_arena_alloc(a, n * sizeof *cs) : NULL;
    if (n && !cs) return snprintf(err, errlen, "out of memory for alerts"), TRN_ELIMIT;
    trn_tval_t ext; /* the same for every sample */
    if (trn_tval_from_labels(a, &c->external_labels, &ext) < 0)
        return snprintf(err, errlen, "out of memory for alerts"), TRN_ELIMIT;
    for (size_t i = 0; i < n; i++)
        if (build_cand(m, &ext, r, ts, &vec[i], a, &cs[i]) < 0)
            return snprintf(err, errlen, "out of memory for alerts"), TRN_ELIMIT;
    if (n > 1) qsort(cs, n, sizeof *cs, cand_cmp);
    for (size_t i = 1; i < n; i++)
        if (cs[i].hash == cs[i - 1].hash && trn_labels_equal(&cs[i].labels, &cs[i - 1].labels)) {
            snprintf(err, errlen,
                     "vector contains metrics with the same labelset after applying alert labels");
            return TRN_EINVAL;
        }
    alert_t *old = r->alerts;
    size_t no = r->n_alerts;
    alert_t *nv = trn_xcalloc(no + n + 1, sizeof *nv);
    size_t nn = 0, i = 0, j = 0;
    int64_t n_active = 0;
    while (i < no || j < n) {
        int cmp = i >= no ? 1
                  : j >= n
                      ? -1
                      : cmp_key(old[i].labels.hash, &old[i].labels.ls, cs[j].hash, &cs[j].labels);
        alert_t *al;
        if (cmp == 0 && old[i].state != TRN_ALERT_INACTIVE) {
            al = &nv[nn++];
            *al = old[i++];
            al->value = cs[j].value;
            trn__labels_heap_free(&al->annotations);
            al->annotations = trn__labels_heap_dup(&cs[j].annotations);
            al->keep_firing_since_ms = 0;
            j++;
        } else if (cmp >= 0) {
            if (cmp == 0) trn__alert_fini(&old[i++]); /* a resolved alert fires again: start over */
            al = &nv[nn++];
            memset(al, 0, sizeof *al);
            trn__hlabels_set(&al->labels, &cs[j].labels);
            al->annotations = trn__labels_heap_dup(&cs[j].annotations);
            al->state = TRN_ALERT_PENDING;
            al->active_at_ms = ts;
            al->value = cs[j].value;
            j++;
        } else {
            /* no longer in the result */
            alert_t *o = &old[i++];
            bool keep = false;
            if (o->state == TRN_ALERT_FIRING && r->keep_firing_for_ms > 0) {
                if (o->keep_firing_since_ms == 0) o->keep_firing_since_ms = ts;
                if (ts - o->keep_firing_since_ms < r->keep_firing_for_ms) keep = true;
            }
            bool drop = o->state == TRN_ALERT_PENDING ||
                        (o->resolved_at_ms != 0 && o->state == TRN_ALERT_INACTIVE &&
                         ts - o->resolved_at_ms > RESOLVED_RETENTION_MS);
            if (drop) {
                trn__alert_fini(o);
                continue;
            }
            if (o->state != TRN_ALERT_INACTIVE && !keep) {
                o->state = TRN_ALERT_INACTIVE;
                o->resolved_at_ms = ts;
            }
            al = &nv[nn++];
            *al = *o;
            if (!keep) continue;
        }
        n_active++;
        if (al->state == TRN_ALERT_PENDING && ts - al->active_at_ms >= r->for_ms) {
            al->state = TRN_ALERT_FIRING;
            al->fired_at_ms = ts;
        }
        if (r->restored && emit_series(a, out, al) < 0) {
            free(old);
            r->alerts = nv;
            r->n_alerts = r->cap_alerts = nn;
            snprintf(err, errlen, "out of memory for ALERTS series");
            return TRN_ELIMIT;
        }
    }
    free(old);
    r->alerts = nv;
    r->n_alerts = nn;
    r->cap_alerts = no + n + 1;
    if (g->limit > 0 && n_active > g->limit) {
        for (size_t k = 0; k < r->n_alerts; k++)
            trn__alert_fini(&r->alerts[k]);
        r->n_alerts = 0;
        out->n = 0;
        snprintf(err, errlen, "exceeded limit of %lld with %lld alerts", (long long)g->limit,
                 (long long)n_active);
        return TRN_ELIMIT;
    }
    return 0;
}

/* url.QueryEscape for the generator URL. */
static void query_escape(const char *s, trn_buf_t *b)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_' || ch == '.' || ch == '~')
            trn_buf_putc(b, (char)ch);
        else if (ch == ' ')
            trn_buf_putc(b, '+');
        else
            trn_buf_printf(b, "%%%02X", ch);
    }
}

void trn__alerting_send(struct trn_rule_manager *m, trn_rules_config_t *c, trn_rule_group_t *g,
                        trn_rule_t *r, int64_t ts)
{
    if (!m->notify && !m->am) return;
    int64_t delta = m->o.resend_delay_ms > g->interval_ms ? m->o.resend_delay_ms : g->interval_ms;
    trn_rule_alert_t *out = NULL;
    size_t n = 0;
    trn_arena_t *a = NULL;
    trn_buf_t url;
    trn_buf_init(&url);
    for (size_t i = 0; i < r->n_alerts; i++) {
        alert_t *al = &r->alerts[i];
        if (al->state == TRN_ALERT_PENDING) continue;
        bool due = al->resolved_at_ms > al->last_sent_at_ms ||
                   al->last_sent_at_ms + m->o.resend_delay_ms < ts;
        if (!due) continue;
        al->last_sent_at_ms = ts;
        al->valid_until_ms = ts + 4 * delta;
        if (!a) {
            a = trn_arena_new(0);
            out = trn_arena_alloc(a, r->n_alerts * sizeof *out);
            trn_buf_puts(&url, m->external_url);
            trn_buf_puts(&url, "/graph?g0.expr=");
            query_escape(r->query, &url);
            trn_buf_puts(&url, "&g0.tab=1");
        }
        trn_rule_alert_t *o = &out[n++];
        /* external labels fill in names the alert does not have */
        const trn_labels_t *el = &c->external_labels;
        trn_label_t *v = trn_arena_alloc(a, (al->labels.ls.n + el->n + 1) * sizeof *v);
        size_t k = 0;
        for (size_t x = 0; x < al->labels.ls.n; x++)
            v[k++] = al->labels.ls.v[x];
        for (size_t x = 0; x < el->n; x++)
            if (!trn_labels_get(&al->labels.ls,
                                trn_arena_strndup(a, el->v[x].name.p, el->v[x].name.len))
                     .p)
                v[k++] = el->v[x];
        o->labels = (trn_labels_t){v, k};
        trn_labels_sort(&o->labels);
        o->annotations = al->annotations;
        o->starts_at_ms = al->fired_at_ms;
        o->ends_at_ms = al->resolved_at_ms ? al->resolved_at_ms : al->valid_until_ms;
        o->generator_url = url.data;
    }
    if (n) {
        if (m->notify) m->notify(m->notify_ctx, out, n);
        if (m->am) trn__am_sender_push(m->am, out, n);
    }
    trn_buf_fini(&url);
    trn_arena_free(a);
}

static alert_t *find_alert(trn_rule_t *r, const trn_labels_t *ls)
{
    uint64_t h = trn_labels_hash(ls);
    size_t lo = 0, hi = r->n_alerts;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_key(r->alerts[mid].labels.hash, &r->alerts[mid].labels.ls, h, ls);
        if (c == 0) return &r->alerts[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static void restore_rule(struct trn_rule_manager *m, trn_rule_t *r, trn_querier_t *q, int64_t ts,
                         trn_arena_t *a)
{
    size_t nm = r->labels.n + 2;
    trn_matcher_t *ms = trn_arena_calloc(a, nm, sizeof *ms);
    if (!ms) return;
    size_t k = 0;
    trn_diag_t d;
    trn_diag_init(&d);
    trn_matcher_init(&ms[k++], TRN_MATCH_EQ, TRN_STR(TRN_METRIC_NAME), TRN_STR("ALERTS_FOR_STATE"),
                     &d);
    trn_matcher_init(&ms[k++], TRN_MATCH_EQ, TRN_STR("alertname"), trn_str_c(r->name), &d);
    for (size_t i = 0; i < r->labels.n; i++)
        trn_matcher_init(&ms[k++], TRN_MATCH_EQ, r->labels.v[i].name, r->labels.v[i].value, &d);
    trn_series_t *ss;
    size_t ns;
    if (trn_querier_select(q, ms, k, a, &ss, &ns, &d) == 0) {
        for (size_t i = 0; i < ns; i++) {
            trn_labels_t ls = ss[i].labels;
            trn_label_t *v = trn_arena_alloc(a, (ls.n + 1) * sizeof *v);
            if (!v) break;
            size_t n = 0;
            for (size_t x = 0; x < ls.n; x++)
                if (!trn_str_eqc(ls.v[x].name, TRN_METRIC_NAME)) v[n++] = ls.v[x];
            trn_labels_t key = {v, n};
            alert_t *al = find_alert(r, &key);
            if (!al) continue;
            trn_sample_t *smp;
            size_t nsmp;
            if (trn_querier_samples(q, &ss[i], ts - m->o.outage_tolerance_ms, ts, a, &smp, &nsmp) <
                    0 ||
                !nsmp)
                continue;
            int64_t t = smp[nsmp - 1].t_ms;
            double val = smp[nsmp - 1].v;
            if (trn_is_stale_nan(val) || isnan(val)) continue;
            int64_t down_ms = (t / 1000) * 1000;
            int64_t restored_ms = (int64_t)val * 1000;
            int64_t remaining = r->for_ms - (down_ms - restored_ms);
            if (remaining <= 0) {
                /* it was firing when trine stopped: the next evaluation fires it again */
            } else if (remaining < m->o.for_grace_period_ms) {
                restored_ms = ts + m->o.for_grace_period_ms - r->for_ms;
            } else {
                restored_ms += ts - down_ms;
            }
            al->active_at_ms = restored_ms;
        }
    }
    for (size_t i = 0; i < k; i++)
        trn_matcher_fini(&ms[i]);
}

void trn__alerting_restore(struct trn_rule_manager *m, trn_rule_group_t *g, int64_t ts)
{
    trn_querier_t *q = NULL;
    trn_arena_t *a = NULL;
    for (size_t i = 0; i < g->n_rules; i++) {
        trn_rule_t *r = &g->rules[i];
        if (!r->is_alerting || r->restored) continue;
        if (r->for_ms >= m->o.for_grace_period_ms && r->n_alerts > 0) {
            if (!q && trn_store_querier(m->store, ts - m->o.outage_tolerance_ms, ts, &q) < 0)
                q = NULL;
            if (!a) a = trn_arena_new(256u << 20);
            if (q) restore_rule(m, r, q, ts, a);
        }
        r->restored = true;
    }
    if (q) trn_querier_close(q);
    trn_arena_free(a);
}
