/* SPDX-License-Identifier: Apache-2.0 */
/* The rule manager: groups, their evaluation loop, writing results, and
 * carrying state across reloads.
 *
 * Timing (Prometheus's): a group with interval I evaluates at timestamps
 * k*I + offset, where offset = hash(file, name) mod I spreads groups over
 * the interval; timestamps are therefore aligned and identical across
 * restarts. A group's thread sleeps until its next slot on a condition
 * variable (so stopping is immediate), evaluates its rules in order at
 * that timestamp, and if it fell behind by whole intervals it skips them
 * and counts them as missed iterations. Queries run at the timestamp minus
 * the group's query_offset, and results are written at that time.
 *
 * Writing: each rule's output (recording results, or ALERTS and
 * ALERTS_FOR_STATE) is one store append; series the rule wrote last time
 * but not now get a staleness marker, so they vanish from queries at once
 * instead of after the lookback window. A failed evaluation leaves the
 * previous series alone (Prometheus does the same).
 *
 * Reload: the new configuration's rules take over the runtime state of
 * the old rule with the same group (file and name), type, name and
 * labels; that keeps pending/firing alerts and their timers across a
 * config reload. Old rules without a successor get staleness markers.
 *
 * Locking: m->mu guards the current config pointer; each group's mu
 * guards its rules' runtime state, taken per rule evaluation so the API
 * snapshot waits at most one rule. Group threads never take m->mu. */
#include "rules/rules_int.h"

#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "core/timefmt.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int trn__out_push(trn_arena_t *a, out_vec_t *o, trn_labels_t ls, double v)
{
    if (o->n == o->cap) {
        size_t nc = o->cap ? o->cap * 2 : 16;
        trn_promql_sample_t *g = trn_arena_grow(a, o->v, o->cap * sizeof *g, nc * sizeof *g);
        if (!g) return TRN_ELIMIT;
        o->v = g;
        o->cap = nc;
    }
    o->v[o->n++] = (trn_promql_sample_t){.labels = ls, .v = v};
    return 0;
}

int trn__rules_query(struct trn_rule_manager *m, const trn_promql_expr_t *e, int64_t t_ms,
                     trn_arena_t *a, trn_promql_value_t *out, trn_diag_t *d)
{
    trn_promql_opts_t po = {
        .lookback_delta_ms = m->o.lookback_delta_ms,
        .timeout_ms = m->o.query_timeout_ms,
        .max_samples = m->o.query_max_samples,
    };
    return trn_promql_eval_instant(m->store, e, t_ms, &po, a, out, d);
}

/* ---- writing */

static double stale_nan(void)
{
    union {
        uint64_t u;
        double d;
    } x = {.u = TRN_STALE_NAN_BITS};
    return x.d;
}

/* Appends out at t and marks series of r->prev missing from out stale;
 * out becomes r->prev. Returns the number of samples written. */
static size_t write_output(trn_rule_manager_t *m, trn_rule_t *r, const out_vec_t *out, int64_t t,
                           trn_arena_t *a)
{
    series_set_t next = {0};
    size_t n_stale = 0;
    for (size_t i = 0; i < out->n; i++)
        trn__series_set_add_from(&next, &out->v[i].labels, trn_labels_hash(&out->v[i].labels),
                                 &r->prev);
    /* what was not handed over to next has disappeared */
    for (size_t i = 0; i < r->prev.cap; i++)
        if (r->prev.v[i].hash && !r->prev.v[i].moved) n_stale++;
    size_t total = out->n + n_stale;
    if (total) {
        trn_append_series_t *as = trn_arena_alloc(a, total * sizeof *as);
        trn_sample_t *smp = trn_arena_alloc(a, total * sizeof *smp);
        if (as && smp) {
            size_t k = 0;
            for (size_t i = 0; i < out->n; i++, k++) {
                smp[k] = (trn_sample_t){t, out->v[i].v};
                as[k] = (trn_append_series_t){out->v[i].labels, &smp[k], 1};
            }
            for (size_t i = 0; i < r->prev.cap; i++) {
                if (!r->prev.v[i].hash || r->prev.v[i].moved) continue;
                smp[k] = (trn_sample_t){t, stale_nan()};
                as[k] = (trn_append_series_t){r->prev.v[i].ls, &smp[k], 1};
                k++;
            }
            trn_append_result_t res = {0};
            trn_diag_t d;
            trn_diag_init(&d);
            if (trn_store_append(m->store, as, k, &res, &d) < 0)
                trn_log(TRN_LOG_WARN, "rules", "writing rule results failed", "rule", r->name,
                        "err", d.msg, (const char *)NULL);
        }
    }
    trn__series_set_free(&r->prev);
    r->prev = next;
    return out->n;
}

/* Recording rule output: __name__ set to the record name, rule labels
 * applied (an empty value deletes), duplicates rejected. */
static int record_output(trn_rule_group_t *g, trn_rule_t *r, const trn_promql_sample_t *vec,
                         size_t n, trn_arena_t *a, out_vec_t *out, char *err, size_t errlen)
{
    if (g->limit > 0 && (int64_t)n > g->limit) {
        snprintf(err, errlen, "exceeded limit %lld with %zu series", (long long)g->limit, n);
        return TRN_ELIMIT;
    }
    series_set_t seen = {0};
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        const trn_labels_t *src = &vec[i].labels;
        trn_label_t *v = trn_arena_alloc(a, (src->n + r->labels.n + 1) * sizeof *v);
        if (!v) {
            rc = TRN_ELIMIT;
            snprintf(err, errlen, "out of memory for rule output");
            break;
        }
        size_t k = 0;
        for (size_t x = 0; x < src->n; x++)
            if (!trn_str_eqc(src->v[x].name, TRN_METRIC_NAME)) v[k++] = src->v[x];
        v[k++] = (trn_label_t){TRN_STR(TRN_METRIC_NAME), trn_str_c(r->name)};
        for (size_t x = 0; x < r->labels.n; x++) {
            size_t y = 0;
            while (y < k && !trn_str_eq(v[y].name, r->labels.v[x].name))
                y++;
            if (r->labels.v[x].value.len == 0) {
                if (y < k) v[y] = v[--k];
                continue;
            }
            if (y == k) k++;
            v[y] = r->labels.v[x];
        }
        trn_labels_t ls = {v, k};
        trn_labels_sort(&ls);
        uint64_t h = trn_labels_hash(&ls);
        if (trn__series_set_has(&seen, &ls, h)) {
            snprintf(err, errlen,
                     "vector contains metrics with the same labelset after applying rule labels");
            rc = TRN_EINVAL;
            break;
        }
        trn__series_set_add(&seen, &ls, h);
        if (trn__out_push(a, out, ls, vec[i].v) < 0) {
            rc = TRN_ELIMIT;
            snprintf(err, errlen, "out of memory for rule output");
            break;
        }
    }
    trn__series_set_free(&seen);
    return rc;
}

static int64_t mono_ns(void)
{
    return trn_mono_ns();
}

/* Evaluates one rule at ts; returns 0 or < 0 on failure (health set). */
static int eval_rule(trn_rule_manager_t *m, trn_rules_config_t *c, trn_rule_group_t *g,
                     trn_rule_t *r, int64_t ts, trn_arena_t *a, size_t *samples)
{
    int64_t t0 = mono_ns();
    int64_t qt = ts - g->query_offset_ms;
    trn_promql_value_t val;
    trn_diag_t d;
    trn_diag_init(&d);
    char err[TRN_DIAG_MSG_MAX] = "";
    int rc = trn__rules_query(m, r->expr, qt, a, &val, &d);
    const trn_promql_sample_t *vec = NULL;
    size_t n = 0;
    trn_promql_sample_t one;
    if (rc < 0) {
        snprintf(err, sizeof err, "%.500s", d.msg[0] ? d.msg : trn_strerror(rc));
    } else if (val.type == TRN_PROMQL_VECTOR) {
        vec = val.vec;
        n = val.n_vec;
    } else if (val.type == TRN_PROMQL_SCALAR) {
        one = (trn_promql_sample_t){.labels = {NULL, 0}, .t_ms = qt, .v = val.scalar};
        vec = &one;
        n = 1;
    } else {
        rc = TRN_EINVAL;
        snprintf(err, sizeof err, "rule result is not a vector or scalar");
    }
    out_vec_t out = {0};
    pthread_mutex_lock(&g->mu);
    if (rc == 0) {
        if (r->is_alerting)
            rc = trn__alerting_eval(m, c, g, r, ts, vec, n, a, &out, err, sizeof err);
        else
            rc = record_output(g, r, vec, n, a, &out, err, sizeof err);
    }
    if (rc == 0) *samples += write_output(m, r, &out, qt, a);
    r->health = rc == 0 ? "ok" : "err";
    snprintf(r->last_error, sizeof r->last_error, "%.500s", rc == 0 ? "" : err);
    r->last_eval_ms = ts;
    r->eval_seconds = (double)(mono_ns() - t0) / 1e9;
    if (rc == 0 && r->is_alerting) trn__alerting_send(m, c, g, r, ts);
    pthread_mutex_unlock(&g->mu);
    if (m->h_rule_dur) trn_histogram_observe(m->h_rule_dur, r->eval_seconds);
    if (rc < 0)
        trn_log(TRN_LOG_WARN, "rules", "evaluating rule failed", "group", g->name, "rule", r->name,
                "err", err, (const char *)NULL);
    return rc;
}

static int eval_group(trn_rule_manager_t *m, trn_rules_config_t *c, trn_rule_group_t *g, int64_t ts)
{
    int64_t t0 = mono_ns();
    trn_arena_t *a = trn_arena_new(0);
    size_t samples = 0;
    int failures = 0;
    for (size_t i = 0; i < g->n_rules; i++) {
        trn_arena_mark_t mk = trn_arena_mark(a);
        if (g->c_evals) trn_counter_inc(g->c_evals);
        if (eval_rule(m, c, g, &g->rules[i], ts, a, &samples) < 0) {
            failures++;
            if (g->c_failures) trn_counter_inc(g->c_failures);
        }
        trn_arena_reset(a, mk);
    }
    trn_arena_free(a);
    pthread_mutex_lock(&g->mu);
    /* like Prometheus, restore after the second evaluation, so that data
     * scraped since the restart is there to decide what is active */
    if (g->evals_until_restore > 0 && --g->evals_until_restore == 0)
        trn__alerting_restore(m, g, ts);
    g->last_eval_ms = ts;
    g->eval_seconds = (double)(mono_ns() - t0) / 1e9;
    g->last_samples = samples;
    pthread_mutex_unlock(&g->mu);
    if (m->h_group_dur) trn_histogram_observe(m->h_group_dur, g->eval_seconds);
    if (g->c_iterations) trn_counter_inc(g->c_iterations);
    if (g->g_last_ts) trn_gauge_set(g->g_last_ts, (double)ts / 1000.0);
    if (g->g_last_dur) trn_gauge_set(g->g_last_dur, g->eval_seconds);
    if (g->g_samples) trn_gauge_set(g->g_samples, (double)samples);
    return failures;
}

/* ---- threads */

static void abs_deadline(struct timespec *ts, int64_t wall_ms)
{
    ts->tv_sec = wall_ms / 1000;
    ts->tv_nsec = (long)(wall_ms % 1000) * 1000000L;
}

static void *group_main(void *arg)
{
    trn_rule_group_t *g = arg;
    trn_rule_manager_t *m = g->m;
    int64_t iv = g->interval_ms;
    int64_t off = (int64_t)(g->hash % (uint64_t)iv);
    int64_t now = trn_now_ms();
    int64_t next = ((now - off) / iv) * iv + off + iv;
    for (;;) {
        pthread_mutex_lock(&g->mu);
        while (!g->stop) {
            now = trn_now_ms();
            if (now >= next) break;
            struct timespec dl;
            abs_deadline(&dl, next);
            pthread_cond_timedwait(&g->cond, &g->mu, &dl);
        }
        bool stop = g->stop;
        pthread_mutex_unlock(&g->mu);
        if (stop) break;
        eval_group(m, g->cfg, g, next);
        now = trn_now_ms();
        int64_t missed = (now - next) / iv - 1;
        if (missed > 0) {
            /* skipped slots count as scheduled iterations too, as in Prometheus */
            if (g->c_missed) trn_counter_add(g->c_missed, (uint64_t)missed);
            if (g->c_iterations) trn_counter_add(g->c_iterations, (uint64_t)missed);
            next += missed * iv;
        }
        next += iv;
    }
    return NULL;
}

static void escape_label_value(trn_buf_t *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"') trn_buf_putc(b, '\\');
        if (*s == '\n') {
            trn_buf_puts(b, "\\n");
            continue;
        }
        trn_buf_putc(b, *s);
    }
}

static void group_metrics(trn_rule_manager_t *m, trn_rule_group_t *g)
{
    if (!m->reg) return;
    trn_buf_t lb;
    trn_buf_init(&lb);
    trn_buf_puts(&lb, "rule_group=\"");
    escape_label_value(&lb, g->file);
    trn_buf_putc(&lb, ';');
    escape_label_value(&lb, g->name);
    trn_buf_putc(&lb, '"');
    const char *l = lb.data;
    g->c_evals = trn_counter_get(m->reg, "trine_rule_evaluations_total",
                                 "The total number of rule evaluations.", l);
    g->c_failures = trn_counter_get(m->reg, "trine_rule_evaluation_failures_total",
                                    "The total number of rule evaluation failures.", l);
    g->c_missed = trn_counter_get(
        m->reg, "trine_rule_group_iterations_missed_total",
        "The total number of rule group evaluations missed due to slow rule group evaluation.", l);
    g->c_iterations = trn_counter_get(
        m->reg, "trine_rule_group_iterations_total",
        "The total number of scheduled rule group evaluations, whether executed or missed.", l);
    g->g_interval = trn_gauge_get(m->reg, "trine_rule_group_interval_seconds",
                                  "The interval of a rule group.", l);
    g->g_last_ts = trn_gauge_get(m->reg, "trine_rule_group_last_evaluation_timestamp_seconds",
                                 "The timestamp of the last rule group evaluation in seconds.", l);
    g->g_last_dur = trn_gauge_get(m->reg, "trine_rule_group_last_duration_seconds",
                                  "The duration of the last rule group evaluation.", l);
    g->g_rules = trn_gauge_get(m->reg, "trine_rule_group_rules", "The number of rules.", l);
    g->g_samples =
        trn_gauge_get(m->reg, "trine_rule_group_last_evaluation_samples",
                      "The number of samples returned during the last rule group evaluation.", l);
    trn_gauge_set(g->g_interval, (double)g->interval_ms / 1000.0);
    trn_gauge_set(g->g_rules, (double)g->n_rules);
    trn_buf_fini(&lb);
}

/* ---- lifecycle */

trn_rule_manager_t *trn_rule_manager_new(trn_store_t *store, trn_registry_t *registry,
                                         const trn_rule_manager_opts_t *opts)
{
    trn_rule_manager_t *m = trn_xcalloc(1, sizeof *m);
    m->store = store;
    m->reg = registry;
    if (opts) m->o = *opts;
    if (!m->o.lookback_delta_ms) m->o.lookback_delta_ms = 5 * 60 * 1000;
    if (!m->o.query_timeout_ms) m->o.query_timeout_ms = 2 * 60 * 1000;
    if (!m->o.query_max_samples) m->o.query_max_samples = 50000000;
    if (!m->o.outage_tolerance_ms) m->o.outage_tolerance_ms = 60 * 60 * 1000;
    if (!m->o.for_grace_period_ms) m->o.for_grace_period_ms = 10 * 60 * 1000;
    if (!m->o.resend_delay_ms) m->o.resend_delay_ms = 60 * 1000;
    const char *u =
        m->o.external_url && *m->o.external_url ? m->o.external_url : "http://localhost:9090";
    size_t ul = strlen(u);
    while (ul > 0 && u[ul - 1] == '/')
        ul--;
    m->external_url = trn_xstrndup(u, ul);
    m->o.external_url = m->external_url;
    pthread_mutex_init(&m->mu, NULL);
    if (registry) {
        m->h_rule_dur = trn_histogram_get(registry, "trine_rule_evaluation_duration_seconds",
                                          "The duration for a rule to execute.", "", NULL, 0);
        m->h_group_dur = trn_histogram_get(registry, "trine_rule_group_duration_seconds",
                                           "The duration of rule group evaluations.", "", NULL, 0);
    }
    return m;
}

void trn_rule_manager_set_notify(trn_rule_manager_t *m, trn_rules_notify_fn *fn, void *ctx)
{
    pthread_mutex_lock(&m->mu);
    m->notify = fn;
    m->notify_ctx = ctx;
    pthread_mutex_unlock(&m->mu);
}

static void start_group(trn_rule_manager_t *m, trn_rule_group_t *g)
{
    g->m = m;
    g->stop = false;
    if (pthread_create(&g->thread, NULL, group_main, g) == 0)
        g->running = true;
    else
        trn_log(TRN_LOG_ERROR, "rules", "cannot start rule group thread", "group", g->name,
                (const char *)NULL);
}

static void stop_groups(trn_rules_config_t *c)
{
    for (size_t i = 0; c && i < c->n_groups; i++) {
        trn_rule_group_t *g = &c->groups[i];
        if (!g->running) continue;
        pthread_mutex_lock(&g->mu);
        g->stop = true;
        pthread_cond_broadcast(&g->cond);
        pthread_mutex_unlock(&g->mu);
        pthread_join(g->thread, NULL);
        g->running = false;
    }
}

static void init_group(trn_rule_manager_t *m, trn_rule_group_t *g)
{
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cond, NULL);
    g->m = m;
    g->evals_until_restore = m->o.no_for_state_restore ? 0 : 2;
    for (size_t i = 0; i < g->n_rules; i++)
        g->rules[i].restored = m->o.no_for_state_restore;
    group_metrics(m, g);
}

static void fini_group(trn_rule_group_t *g)
{
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cond);
}

/* Moves runtime state from old rules to their successors; stales the rest. */
static void carry_state(trn_rule_manager_t *m, trn_rules_config_t *old, trn_rules_config_t *c)
{
    int64_t now = trn_now_ms();
    for (size_t i = 0; old && i < old->n_groups; i++) {
        trn_rule_group_t *og = &old->groups[i];
        trn_rule_group_t *ng = NULL;
        for (size_t j = 0; j < c->n_groups && !ng; j++)
            if (strcmp(c->groups[j].name, og->name) == 0 &&
                strcmp(c->groups[j].file, og->file) == 0)
                ng = &c->groups[j];
        if (ng) {
            ng->last_eval_ms = og->last_eval_ms;
            ng->eval_seconds = og->eval_seconds;
            ng->evals_until_restore = og->evals_until_restore;
        }
        for (size_t k = 0; k < og->n_rules; k++) {
            trn_rule_t * or = &og->rules[k], *nr = NULL;
            for (size_t x = 0; ng && x < ng->n_rules && !nr; x++) {
                trn_rule_t *cand = &ng->rules[x];
                if (cand->last_eval_ms == 0 && cand->health[0] == 'u' && !cand->alerts &&
                        !cand->prev.cap &&
                        cand->is_alerting == or->is_alerting && strcmp(cand->name, or->name) == 0 &&
                                                   trn_labels_equal(&cand->labels, & or->labels))
                    nr = cand;
            }
            if (nr) {
                nr->alerts = or->alerts;
                nr->n_alerts = or->n_alerts;
                nr->cap_alerts = or->cap_alerts;
                nr->prev = or->prev;
                nr->restored = or->restored;
                nr->health = or->health;
                memcpy(nr->last_error, or->last_error, sizeof nr->last_error);
                nr->eval_seconds = or->eval_seconds;
                nr->last_eval_ms = or->last_eval_ms;
                or->alerts = NULL;
                or->n_alerts = or->cap_alerts = 0;
                memset(& or->prev, 0, sizeof or->prev);
            } else if (or->prev.n) {
                trn_arena_t *a = trn_arena_new(0);
                out_vec_t none = {0};
                write_output(m, or, &none, now, a);
                trn_arena_free(a);
            }
        }
    }
}

int trn_rule_manager_apply(trn_rule_manager_t *m, trn_rules_config_t *c, trn_diag_t *d)
{
    (void)d;
    for (size_t i = 0; i < c->n_groups; i++) {
        init_group(m, &c->groups[i]);
        c->groups[i].cfg = c;
    }
    pthread_mutex_lock(&m->mu);
    trn_rules_config_t *old = m->cfg;
    stop_groups(old);
    carry_state(m, old, c);
    m->cfg = c;
    if (c->n_ams && !m->am) m->am = trn__am_sender_new(m->reg);
    if (m->am) trn__am_sender_set_targets(m->am, c->ams, c->n_ams, c->am_timeout_ms);
    if (m->started)
        for (size_t i = 0; i < c->n_groups; i++)
            start_group(m, &c->groups[i]);
    pthread_mutex_unlock(&m->mu);
    for (size_t i = 0; old && i < old->n_groups; i++)
        fini_group(&old->groups[i]);
    trn_rules_config_free(old);
    return 0;
}

int trn_rule_manager_start(trn_rule_manager_t *m, trn_diag_t *d)
{
    (void)d;
    pthread_mutex_lock(&m->mu);
    if (!m->started) {
        m->started = true;
        for (size_t i = 0; m->cfg && i < m->cfg->n_groups; i++)
            start_group(m, &m->cfg->groups[i]);
    }
    pthread_mutex_unlock(&m->mu);
    return 0;
}

int trn_rule_manager_eval_at(trn_rule_manager_t *m, int64_t t_ms)
{
    int failures = 0;
    pthread_mutex_lock(&m->mu);
    trn_rules_config_t *c = m->cfg;
    for (size_t i = 0; c && i < c->n_groups; i++)
        failures += eval_group(m, c, &c->groups[i], t_ms);
    pthread_mutex_unlock(&m->mu);
    return failures;
}

void trn_rule_manager_free(trn_rule_manager_t *m)
{
    if (!m) return;
    pthread_mutex_lock(&m->mu);
    stop_groups(m->cfg);
    pthread_mutex_unlock(&m->mu);
    trn__am_sender_free(m->am);
    for (size_t i = 0; m->cfg && i < m->cfg->n_groups; i++)
        fini_group(&m->cfg->groups[i]);
    trn_rules_config_free(m->cfg);
    pthread_mutex_destroy(&m->mu);
    free(m->external_url);
    free(m);
}

/* ---- snapshot */

static int copy_labels(trn_arena_t *a, const trn_labels_t *src, trn_labels_t *dst)
{
    if (src->n == 0) {
        dst->v = NULL;
        dst->n = 0;
        return 0;
    }
    return trn_labels_copy(a, src, dst);
}

static char *acopy(trn_arena_t *a, const char *s)
{
    return trn_arena_strndup(a, s, strlen(s));
}

int trn_rule_manager_snapshot(trn_rule_manager_t *m, trn_arena_t *a, trn_rule_group_info_t **out,
                              size_t *n_out)
{
    int rc = 0;
    pthread_mutex_lock(&m->mu);
    trn_rules_config_t *c = m->cfg;
    size_t ng = c ? c->n_groups : 0;
    trn_rule_group_info_t *gs = trn_arena_calloc(a, ng ? ng : 1, sizeof *gs);
    if (!gs) rc = TRN_ELIMIT;
    for (size_t i = 0; rc == 0 && i < ng; i++) {
        trn_rule_group_t *g = &c->groups[i];
        trn_rule_group_info_t *gi = &gs[i];
        pthread_mutex_lock(&g->mu);
        gi->name = acopy(a, g->name);
        gi->file = acopy(a, g->file);
        gi->interval_ms = g->interval_ms;
        gi->limit = g->limit;
        gi->eval_seconds = g->eval_seconds;
        gi->last_eval_ms = g->last_eval_ms;
        gi->n_rules = g->n_rules;
        gi->rules = trn_arena_calloc(a, g->n_rules ? g->n_rules : 1, sizeof *gi->rules);
        if (!gi->rules) rc = TRN_ELIMIT;
        for (size_t k = 0; rc == 0 && k < g->n_rules; k++) {
            trn_rule_t *r = &g->rules[k];
            trn_rule_info_t *ri = &gi->rules[k];
            ri->is_alerting = r->is_alerting;
            ri->name = acopy(a, r->name);
            ri->query = acopy(a, r->query);
            ri->for_ms = r->for_ms;
            ri->keep_firing_for_ms = r->keep_firing_for_ms;
            ri->health = r->health;
            ri->last_error = acopy(a, r->last_error);
            ri->eval_seconds = r->eval_seconds;
            ri->last_eval_ms = r->last_eval_ms;
            if (copy_labels(a, &r->labels, &ri->labels) < 0 ||
                copy_labels(a, &r->annotations, &ri->annotations) < 0)
                rc = TRN_ELIMIT;
            size_t na = 0;
            for (size_t x = 0; x < r->n_alerts; x++)
                if (r->alerts[x].state != TRN_ALERT_INACTIVE) na++;
            ri->alerts = trn_arena_calloc(a, na ? na : 1, sizeof *ri->alerts);
            if (!ri->alerts) rc = TRN_ELIMIT;
            for (size_t x = 0; rc == 0 && x < r->n_alerts; x++) {
                alert_t *al = &r->alerts[x];
                if (al->state == TRN_ALERT_INACTIVE) continue;
                trn_rule_alert_info_t *ai = &ri->alerts[ri->n_alerts++];
                if (al->state > ri->state) ri->state = al->state;
                ai->state = al->state;
                ai->active_at_ms = al->active_at_ms;
                ai->keep_firing_since_ms = al->keep_firing_since_ms;
                ai->value = al->value;
                if (copy_labels(a, &al->labels.ls, &ai->labels) < 0 ||
                    copy_labels(a, &al->annotations, &ai->annotations) < 0)
                    rc = TRN_ELIMIT;
            }
        }
        pthread_mutex_unlock(&g->mu);
    }
    pthread_mutex_unlock(&m->mu);
    if (rc < 0) return rc;
    *out = gs;
    *n_out = ng;
    return 0;
}
