/* SPDX-License-Identifier: Apache-2.0 */
/* Rule loading, validation and evaluation against the in-memory store.
 * The seed's PrometheusRule is loaded unchanged; synthetic HyperSDK data
 * makes each of its alerts go pending, fire and resolve at evaluations
 * worked out from Prometheus's semantics (rate over [5m], `for`), and the
 * recording rules' series must equal their expressions evaluated
 * directly. Also: for-state restore across a manager restart, state kept
 * across a reload, and the validation errors with their positions. */
#include "test.h"

#include "core/err.h"
#include "metrics/promql/promql.h"
#include "metrics/store.h"
#include "rules/rules.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEED "/work/shared/seed/hypersdk/prometheusrule.yaml"
/* aligned to the groups' 30s interval */
#define T0 1699999980000LL
#define S(x) ((int64_t)(x)*1000)

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    *len = fread(b, 1, (size_t)n, f);
    b[*len] = 0;
    fclose(f);
    return b;
}

/* The seed's rules, or an equivalent copy when the seed is not there. */
static char *seed_text(size_t *len)
{
    char *t = slurp(SEED, len);
    assert_non_null(t);
    return t;
}

static trn_store_t *mem_store(void)
{
    trn_store_opts_t o;
    trn_store_opts_default(&o);
    o.dir = NULL;
    o.ooo_window_ms = 24 * 3600 * 1000LL;
    trn_store_t *s;
    assert_int_equal(trn_store_open(&o, &s, NULL), 0);
    return s;
}

typedef struct lsbuf {
    char text[256];
    trn_label_t v[16];
    trn_labels_t ls;
} lsbuf_t;

static trn_labels_t *mk(lsbuf_t *b, const char *spec)
{
    snprintf(b->text, sizeof b->text, "%s", spec);
    b->ls.v = b->v;
    b->ls.n = 0;
    for (char *save = NULL, *kv = strtok_r(b->text, ",", &save); kv;
         kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        *eq = 0;
        b->v[b->ls.n++] = (trn_label_t){trn_str_c(kv), trn_str_c(eq + 1)};
    }
    trn_labels_sort(&b->ls);
    return &b->ls;
}

static void put(trn_store_t *s, const char *spec, int64_t t, double v)
{
    lsbuf_t b;
    trn_sample_t smp = {t, v};
    trn_append_series_t as = {*mk(&b, spec), &smp, 1};
    trn_append_result_t r;
    assert_int_equal(trn_store_append(s, &as, 1, &r, NULL), 0);
}

/* HyperSDK data every 15s over [T0-10m, T0+25m]. */
static void seed_data(trn_store_t *s)
{
    for (int64_t t = T0 - S(600); t <= T0 + S(1500); t += S(15)) {
        double rel = (double)(t - T0) / 1000.0;
        /* 5xx counter: flat, +10/s over [T0, T0+15m], flat again */
        double err = rel <= 0 ? 0 : rel <= 900 ? rel * 10 : 9000;
        put(s, "__name__=hypersdk_http_requests_total,status=500,pod=hypersdk-0", t, err);
        put(s, "__name__=hypersdk_http_requests_total,status=200,pod=hypersdk-0", t,
            1000 + rel * 100);
        /* pod down over [T0+60s, T0+10m) */
        put(s, "__name__=up,job=hypersdk,pod=hypersdk-1,instance=10.0.0.2:8080", t,
            rel >= 60 && rel < 600 ? 0 : 1);
        put(s, "__name__=up,job=hypersdk,pod=hypersdk-0,instance=10.0.0.1:8080", t, 1);
        /* memory at 95.12% of the limit all along */
        put(s, "__name__=container_memory_usage_bytes,pod=hypersdk-0", t, 951.2);
        put(s, "__name__=container_spec_memory_limit_bytes,pod=hypersdk-0", t, 1000);
        /* database errors: +1 per 15s after T0+2m */
        put(s, "__name__=hypersdk_database_errors_total,pod=hypersdk-0", t,
            rel <= 120 ? 0 : (rel - 120) / 15);
        /* jobs */
        put(s, "__name__=hypersdk_jobs_completed_total,pod=hypersdk-0", t, 500 + rel * 2);
        put(s, "__name__=hypersdk_jobs_completed_total,pod=hypersdk-1", t, 100 + rel * 0.5);
        put(s, "__name__=hypersdk_jobs_failed_total,pod=hypersdk-0", t, 3);
        put(s, "__name__=hypersdk_export_duration_seconds,pod=hypersdk-0", t, 12.5);
        put(s, "__name__=hypersdk_export_duration_seconds,pod=hypersdk-1", t, 7.5);
        put(s, "__name__=hypersdk_active_jobs,pod=hypersdk-0,provider=vsphere", t, 3);
        put(s, "__name__=hypersdk_active_jobs,pod=hypersdk-1,provider=vsphere", t, 2);
        put(s, "__name__=hypersdk_active_jobs,pod=hypersdk-1,provider=aws", t, 1);
    }
}

static trn_rule_manager_t *seed_manager(trn_store_t *s, const trn_rule_manager_opts_t *o)
{
    size_t len;
    char *text = seed_text(&len);
    trn_rules_config_t *c;
    trn_diag_t d;
    trn_diag_init(&d);
    int rc = trn_rules_config_load_text("prometheusrule.yaml", text, len, 0, &c, &d);
    if (rc) fprintf(stderr, "%s\n", d.msg);
    assert_int_equal(rc, 0);
    free(text);
    trn_rule_manager_t *m = trn_rule_manager_new(s, NULL, o);
    assert_int_equal(trn_rule_manager_apply(m, c, &d), 0);
    return m;
}

typedef struct seen {
    int64_t pending, firing, resolved;
    char desc[256];
    char labels[256];
} seen_t;

static const char *const ALERTS[] = {"HyperSDKHighErrorRate", "HyperSDKJobFailures",
                                     "HyperSDKPodDown", "HyperSDKHighMemory",
                                     "HyperSDKDatabaseErrors"};

/* Records each alert's first pending/firing time and when it left. */
static void observe(trn_rule_manager_t *m, int64_t ts, seen_t *seen)
{
    trn_arena_t *a = trn_arena_new(0);
    trn_rule_group_info_t *gs;
    size_t ng;
    assert_int_equal(trn_rule_manager_snapshot(m, a, &gs, &ng), 0);
    for (size_t g = 0; g < ng; g++)
        for (size_t r = 0; r < gs[g].n_rules; r++) {
            trn_rule_info_t *ri = &gs[g].rules[r];
            assert_string_equal(ri->health, "ok");
            for (int k = 0; k < 5; k++) {
                if (strcmp(ri->name, ALERTS[k]) != 0) continue;
                seen_t *sk = &seen[k];
                if (ri->n_alerts == 0 && sk->pending && !sk->resolved) sk->resolved = ts;
                for (size_t x = 0; x < ri->n_alerts; x++) {
                    trn_rule_alert_info_t *al = &ri->alerts[x];
                    if (al->state == TRN_ALERT_PENDING && !sk->pending) sk->pending = ts;
                    if (al->state == TRN_ALERT_FIRING && !sk->firing) {
                        sk->firing = ts;
                        trn_str_t dsc = trn_labels_get(&al->annotations, "description");
                        snprintf(sk->desc, sizeof sk->desc, "%.*s", (int)dsc.len, dsc.p);
                        trn_buf_t b;
                        trn_buf_init(&b);
                        trn_labels_format(&al->labels, &b);
                        snprintf(sk->labels, sizeof sk->labels, "%s", b.data);
                        trn_buf_fini(&b);
                    }
                }
            }
        }
    trn_arena_free(a);
}

static double eval_scalarish(trn_store_t *s, const char *q, int64_t t)
{
    trn_arena_t *a = trn_arena_new(0);
    trn_promql_expr_t *e;
    trn_promql_value_t v;
    assert_int_equal(trn_promql_parse(q, strlen(q), a, &e, NULL), 0);
    assert_int_equal(trn_promql_eval_instant(s, e, t, NULL, a, &v, NULL), 0);
    double r = v.type == TRN_PROMQL_VECTOR && v.n_vec ? v.vec[0].v : NAN;
    trn_promql_expr_release(e);
    trn_arena_free(a);
    return r;
}

static void test_rules_seed_alerts_lifecycle(void **state)
{
    (void)state;
    trn_store_t *s = mem_store();
    seed_data(s);
    trn_rule_manager_t *m = seed_manager(s, NULL);
    seen_t seen[5];
    memset(seen, 0, sizeof seen);
    char err_desc[256] = "";
    for (int64_t ts = T0; ts <= T0 + S(1500); ts += S(30)) {
        assert_int_equal(trn_rule_manager_eval_at(m, ts), 0);
        observe(m, ts, seen);
        if (ts == T0 + S(330)) {
            char num[40];
            trn_fmt_float_g(
                num,
                eval_scalarish(s, "rate(hypersdk_http_requests_total{status=~\"5..\"}[5m])", ts));
            snprintf(err_desc, sizeof err_desc, "Error rate is %s (threshold: 0.05)", num);
        }
    }
    /* HighErrorRate: rate > 0 from T0+30s, for 5m, flat again after T0+15m */
    assert_int_equal(seen[0].pending, T0 + S(30));
    assert_int_equal(seen[0].firing, T0 + S(330));
    assert_int_equal(seen[0].resolved, T0 + S(1200));
    assert_string_equal(seen[0].desc, err_desc);
    assert_string_equal(seen[0].labels, "{alertname=\"HyperSDKHighErrorRate\", pod=\"hypersdk-0\", "
                                        "severity=\"warning\", status=\"500\"}");
    /* JobFailures never triggers */
    assert_int_equal(seen[1].pending, 0);
    /* PodDown: up == 0 from T0+60s, for 2m, back at T0+10m */
    assert_int_equal(seen[2].pending, T0 + S(60));
    assert_int_equal(seen[2].firing, T0 + S(180));
    assert_int_equal(seen[2].resolved, T0 + S(600));
    assert_string_equal(seen[2].desc, "Pod hypersdk-1 is down");
    /* HighMemory: 0.9512 from the start, for 5m */
    assert_int_equal(seen[3].pending, T0);
    assert_int_equal(seen[3].firing, T0 + S(300));
    assert_int_equal(seen[3].resolved, 0);
    assert_string_equal(seen[3].desc, "Memory usage: 95.12%");
    /* DatabaseErrors: +1/15s from T0+2m; the 5m rate passes 0.01 once the
     * window holds four increments (T0+3m), then `for: 2m` */
    assert_int_equal(seen[4].pending, T0 + S(180));
    assert_int_equal(seen[4].firing, T0 + S(300));
    /* ALERTS and ALERTS_FOR_STATE as Prometheus writes them */
    assert_true(eval_scalarish(s, "ALERTS{alertname=\"HyperSDKHighMemory\",alertstate=\"firing\"}",
                               T0 + S(600)) == 1);
    assert_true(eval_scalarish(s, "ALERTS_FOR_STATE{alertname=\"HyperSDKHighMemory\"}",
                               T0 + S(600)) == (double)(T0 / 1000));
    /* resolved alerts leave ALERTS at once (staleness marker) */
    assert_true(isnan(eval_scalarish(s, "ALERTS{alertname=\"HyperSDKPodDown\"}", T0 + S(630))));
    trn_rule_manager_free(m);
    trn_store_close(s);
}

static void compare_vectors(trn_store_t *s, const char *recorded, const char *expr, int64_t t,
                            size_t want_n)
{
    trn_arena_t *a = trn_arena_new(0);
    trn_promql_expr_t *e1, *e2;
    trn_promql_value_t v1, v2;
    assert_int_equal(trn_promql_parse(recorded, strlen(recorded), a, &e1, NULL), 0);
    assert_int_equal(trn_promql_parse(expr, strlen(expr), a, &e2, NULL), 0);
    assert_int_equal(trn_promql_eval_instant(s, e1, t, NULL, a, &v1, NULL), 0);
    assert_int_equal(trn_promql_eval_instant(s, e2, t, NULL, a, &v2, NULL), 0);
    assert_int_equal(v1.n_vec, want_n);
    assert_int_equal(v2.n_vec, want_n);
    for (size_t i = 0; i < v1.n_vec; i++) {
        /* the recorded series carry the record name; otherwise the same labels */
        trn_labels_t l1 = v1.vec[i].labels;
        trn_label_t tmp[16];
        size_t k = 0;
        for (size_t x = 0; x < l1.n; x++)
            if (!trn_str_eqc(l1.v[x].name, "__name__")) tmp[k++] = l1.v[x];
        trn_labels_t l1n = {tmp, k};
        size_t j = 0;
        while (j < v2.n_vec && !trn_labels_equal(&l1n, &v2.vec[j].labels))
            j++;
        assert_true(j < v2.n_vec);
        assert_true(v1.vec[i].v == v2.vec[j].v);
        assert_true(trn_str_eqc(trn_labels_get(&l1, "__name__"), recorded));
    }
    trn_promql_expr_release(e1);
    trn_promql_expr_release(e2);
    trn_arena_free(a);
}

static void test_rules_seed_recording_equals_expression(void **state)
{
    (void)state;
    trn_store_t *s = mem_store();
    seed_data(s);
    trn_rule_manager_t *m = seed_manager(s, NULL);
    for (int64_t ts = T0; ts <= T0 + S(120); ts += S(30))
        assert_int_equal(trn_rule_manager_eval_at(m, ts), 0);
    int64_t t = T0 + S(120);
    compare_vectors(s, "hypersdk:job_completion_rate:5m", "rate(hypersdk_jobs_completed_total[5m])",
                    t, 2);
    compare_vectors(s, "hypersdk:job_failure_rate:5m", "rate(hypersdk_jobs_failed_total[5m])", t,
                    1);
    compare_vectors(s, "hypersdk:export_duration_seconds:avg",
                    "avg(hypersdk_export_duration_seconds)", t, 1);
    compare_vectors(s, "hypersdk:active_exports:by_provider",
                    "sum(hypersdk_active_jobs) by (provider)", t, 2);
    trn_rule_manager_free(m);
    trn_store_close(s);
}

static int64_t firing_at(trn_rule_manager_t *m, const char *name)
{
    trn_arena_t *a = trn_arena_new(0);
    trn_rule_group_info_t *gs;
    size_t ng;
    int64_t r = -1;
    assert_int_equal(trn_rule_manager_snapshot(m, a, &gs, &ng), 0);
    for (size_t g = 0; g < ng; g++)
        for (size_t k = 0; k < gs[g].n_rules; k++)
            if (strcmp(gs[g].rules[k].name, name) == 0)
                for (size_t x = 0; x < gs[g].rules[k].n_alerts; x++)
                    r = gs[g].rules[k].alerts[x].state == TRN_ALERT_FIRING
                            ? 1
                            : gs[g].rules[k].alerts[x].active_at_ms;
    trn_arena_free(a);
    return r;
}

static void test_rules_for_state_restored_after_restart(void **state)
{
    (void)state;
    trn_store_t *s = mem_store();
    seed_data(s);
    trn_rule_manager_opts_t o = {.for_grace_period_ms = S(30)};
    trn_rule_manager_t *m = seed_manager(s, &o);
    for (int64_t ts = T0; ts <= T0 + S(210); ts += S(30))
        assert_int_equal(trn_rule_manager_eval_at(m, ts), 0);
    assert_int_equal(firing_at(m, "HyperSDKPodDown"), 1); /* fired at T0+3m */
    trn_rule_manager_free(m);
    /* restarted 30s later: the first two evaluations see a new pending
     * alert; then the state is restored from ALERTS_FOR_STATE (active since
     * T0+60s, firing when trine stopped), so it fires on the next one
     * instead of waiting another 2m */
    m = seed_manager(s, &o);
    assert_int_equal(trn_rule_manager_eval_at(m, T0 + S(240)), 0);
    assert_int_equal(firing_at(m, "HyperSDKPodDown"), T0 + S(240));
    assert_int_equal(trn_rule_manager_eval_at(m, T0 + S(270)), 0);
    assert_int_equal(firing_at(m, "HyperSDKPodDown"), T0 + S(60));
    assert_int_equal(trn_rule_manager_eval_at(m, T0 + S(300)), 0);
    assert_int_equal(firing_at(m, "HyperSDKPodDown"), 1);
    trn_rule_manager_free(m);
    /* a pending alert: 30s of its 2m done when stopped at T0+90s; after
     * the restart it needs the remaining 90s counted from the restore */
    trn_store_t *s2 = mem_store();
    seed_data(s2);
    m = seed_manager(s2, &o);
    for (int64_t ts = T0; ts <= T0 + S(90); ts += S(30))
        assert_int_equal(trn_rule_manager_eval_at(m, ts), 0);
    trn_rule_manager_free(m);
    m = seed_manager(s2, &o);
    assert_int_equal(trn_rule_manager_eval_at(m, T0 + S(150)), 0);
    assert_int_equal(trn_rule_manager_eval_at(m, T0 + S(180)), 0);
    /* active T0+60s shifted by the downtime T0+90s..T0+180s */
    assert_int_equal(firing_at(m, "HyperSDKPodDown"), T0 + S(150));
    trn_rule_manager_free(m);
    trn_store_close(s2);
    trn_store_close(s);
}

static void test_rules_reload_keeps_alert_state(void **state)
{
    (void)state;
    trn_store_t *s = mem_store();
    seed_data(s);
    trn_rule_manager_t *m = seed_manager(s, NULL);
    for (int64_t ts = T0; ts <= T0 + S(120); ts += S(30))
        assert_int_equal(trn_rule_manager_eval_at(m, ts), 0);
    assert_int_equal(firing_at(m, "HyperSDKPodDown"), T0 + S(60));
    size_t len;
    char *text = seed_text(&len);
    trn_rules_config_t *c;
    assert_int_equal(trn_rules_config_load_text("prometheusrule.yaml", text, len, 0, &c, NULL), 0);
    free(text);
    assert_int_equal(trn_rule_manager_apply(m, c, NULL), 0);
    assert_int_equal(trn_rule_manager_eval_at(m, T0 + S(150)), 0);
    assert_int_equal(firing_at(m, "HyperSDKPodDown"), T0 + S(60));
    assert_int_equal(trn_rule_manager_eval_at(m, T0 + S(180)), 0);
    assert_int_equal(firing_at(m, "HyperSDKPodDown"), 1);
    trn_rule_manager_free(m);
    trn_store_close(s);
}

static void expect_invalid(const char *text, const char *msg, int line)
{
    trn_diag_t d;
    trn_diag_init(&d);
    int rc = trn_rules_text_check("r.yml", text, strlen(text), &d);
    if (rc == 0 || !strstr(d.msg, msg) || (line && d.line != line)) {
        fprintf(stderr, "want error containing \"%s\" at line %d\n got rc %d line %d: %s\n", msg,
                line, rc, d.line, d.msg);
        fail();
    }
}

static void test_rules_validation_errors(void **state)
{
    (void)state;
    expect_invalid("groups: [", "r.yml", 0);
    expect_invalid("groups:\n- name: g\n  rules:\n  - record: x\n    expr: sum(rate(a[5m])\n",
                   "could not parse expression", 5);
    expect_invalid("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: |\n      up ==\n",
                   "could not parse expression", 7);
    expect_invalid(
        "groups:\n- name: g\n  rules:\n  - record: x\n    expr: up\n  - record: x\n    expr: up\n",
        "duplicate rule", 6);
    expect_invalid("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    labels:\n      "
                   "bad-name: x\n",
                   "invalid label name: bad-name", 7);
    expect_invalid("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    annotations:\n   "
                   "   d: \"{{ $value \"\n",
                   "annotation d: template: __alert_A:1:", 7);
    expect_invalid("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    annotations:\n   "
                   "   d: \"{{ nope }}\"\n",
                   "function \"nope\" not defined", 7);
    expect_invalid("groups:\n- name: g\n  rules:\n  - record: x\n    expr: up\n    for: 5m\n",
                   "invalid field 'for' in recording rule", 6);
    expect_invalid("groups:\n- name: g\n  rules:\n  - record: bad name\n    expr: up\n",
                   "invalid recording rule name", 4);
    expect_invalid("groups:\n- name: g\n  rules:\n  - expr: up\n",
                   "one of 'record' or 'alert' must be set", 4);
    expect_invalid("groups:\n- name: g\n  rules:\n  - alert: A\n", "field 'expr' must be set", 4);
    expect_invalid("groups:\n- name: g\n- name: g\n",
                   "groupname: \"g\" is repeated in the same file", 3);
    /* found by fuzzing: the repeated group's parsed rules were not released */
    expect_invalid(
        "groups:\n- name: g\n- name: g\n  rules:\n  - record: r\n    expr: m{a=~\"x.*\"}\n",
        "groupname: \"g\" is repeated in the same file", 3);
    expect_invalid("groups:\n- rules: []\n", "Groupname must not be empty", 2);
    expect_invalid("groups:\n- name: g\n  bogus: 1\n", "unknown key \"bogus\"", 3);
    expect_invalid("apiVersion: v1\nkind: ConfigMap\n", "unsupported kind", 2);
    /* the seed loads unchanged */
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(trn_rules_file_check(SEED, &d), 0);
    size_t len;
    char *text = seed_text(&len);
    trn_rules_config_t *c;
    assert_int_equal(trn_rules_config_load_text("seed", text, len, 0, &c, NULL), 0);
    assert_int_equal(trn_rules_config_n_groups(c), 2);
    assert_int_equal(trn_rules_config_n_rules(c), 9);
    trn_rules_config_free(c);
    free(text);
}

static void test_rules_group_labels_limit_and_scalar(void **state)
{
    (void)state;
    trn_store_t *s = mem_store();
    for (int64_t t = T0 - S(300); t <= T0; t += S(15)) {
        put(s, "__name__=m,i=a", t, 1);
        put(s, "__name__=m,i=b", t, 2);
    }
    const char *text = "groups:\n- name: g\n  interval: 15s\n  labels:\n    team: core\n  rules:\n"
                       "  - record: job:m:x\n    expr: m\n    labels:\n      i: \"\"\n"
                       "  - record: scalar_rule\n    expr: vector(3) * 2\n"
                       "  - record: two\n    expr: m\n"
                       "- name: lim\n  limit: 1\n  rules:\n  - alert: Many\n    expr: m > 0\n";
    trn_rules_config_t *c;
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(trn_rules_config_load_text("r.yml", text, strlen(text), 0, &c, &d), 0);
    trn_rule_manager_t *m = trn_rule_manager_new(s, NULL, NULL);
    assert_int_equal(trn_rule_manager_apply(m, c, NULL), 0);
    /* job:m:x drops label i, which collides; the limit group fails too */
    assert_int_equal(trn_rule_manager_eval_at(m, T0), 2);
    trn_arena_t *a = trn_arena_new(0);
    trn_rule_group_info_t *gs;
    size_t ng;
    assert_int_equal(trn_rule_manager_snapshot(m, a, &gs, &ng), 0);
    assert_int_equal(ng, 2);
    assert_string_equal(gs[0].rules[0].health, "err");
    assert_string_equal(
        gs[0].rules[0].last_error,
        "vector contains metrics with the same labelset after applying rule labels");
    assert_string_equal(gs[0].rules[1].health, "ok");
    assert_string_equal(gs[1].rules[0].last_error, "exceeded limit of 1 with 2 alerts");
    assert_int_equal(gs[0].interval_ms, 15000);
    trn_arena_free(a);
    assert_true(eval_scalarish(s, "scalar_rule{team=\"core\"}", T0) == 6);
    assert_true(eval_scalarish(s, "two{i=\"b\",team=\"core\"}", T0) == 2);
    trn_rule_manager_free(m);
    trn_store_close(s);
}

typedef struct sink {
    int calls;
    size_t n;
    char first[512];
} sink_t;

static void notify(void *ctx, const trn_rule_alert_t *al, size_t n)
{
    sink_t *k = ctx;
    k->calls++;
    k->n += n;
    if (k->calls == 1) {
        trn_buf_t b;
        trn_buf_init(&b);
        trn_labels_format(&al[0].labels, &b);
        snprintf(k->first, sizeof k->first, "%s %lld %lld %s", b.data,
                 (long long)al[0].starts_at_ms, (long long)al[0].ends_at_ms, al[0].generator_url);
        trn_buf_fini(&b);
    }
}

static void test_rules_notify_firing_and_resolved(void **state)
{
    (void)state;
    trn_store_t *s = mem_store();
    for (int64_t t = T0 - S(300); t <= T0 + S(600); t += S(15))
        put(s, "__name__=up,job=x", t, t < T0 + S(120) ? 0 : 1);
    const char *text =
        "groups:\n- name: g\n  interval: 30s\n  rules:\n  - alert: Down\n    expr: up == 0\n";
    trn_rules_config_t *c;
    assert_int_equal(trn_rules_config_load_text("r.yml", text, strlen(text), 0, &c, NULL), 0);
    trn_rule_manager_opts_t o = {.external_url = "http://trine:9090/",
                                 .no_for_state_restore = true};
    trn_rule_manager_t *m = trn_rule_manager_new(s, NULL, &o);
    sink_t k = {0};
    trn_rule_manager_set_notify(m, notify, &k);
    assert_int_equal(trn_rule_manager_apply(m, c, NULL), 0);
    assert_int_equal(trn_rule_manager_eval_at(m, T0), 0);
    assert_int_equal(k.calls, 1);
    char want[512];
    snprintf(want, sizeof want,
             "{alertname=\"Down\", job=\"x\"} %lld %lld "
             "http://trine:9090/graph?g0.expr=up+%%3D%%3D+0&g0.tab=1",
             (long long)T0, (long long)(T0 + 4 * S(60)));
    assert_string_equal(k.first, want);
    /* not resent before resend_delay (1m) */
    assert_int_equal(trn_rule_manager_eval_at(m, T0 + S(30)), 0);
    assert_int_equal(k.calls, 1);
    assert_int_equal(trn_rule_manager_eval_at(m, T0 + S(90)), 0);
    assert_int_equal(k.calls, 2);
    /* resolved: sent at once */
    assert_int_equal(trn_rule_manager_eval_at(m, T0 + S(120)), 0);
    assert_int_equal(k.calls, 3);
    trn_rule_manager_free(m);
    trn_store_close(s);
}

/* keep_firing_for holds a firing alert after its condition clears; a
 * resolved alert is re-sent while kept and forgotten after 15 minutes. */
static void test_rules_keep_firing_for_and_resolved_retention(void **state)
{
    (void)state;
    trn_store_t *s = mem_store();
    for (int64_t t = T0 - S(300); t <= T0 + S(3600); t += S(15))
        put(s, "__name__=up,job=x", t, t < T0 + S(60) ? 0 : 1);
    const char *text =
        "groups:\n- name: g\n  interval: 30s\n  rules:\n  - alert: Down\n    expr: up == 0\n"
        "    keep_firing_for: 90s\n";
    trn_rules_config_t *c;
    assert_int_equal(trn_rules_config_load_text("r.yml", text, strlen(text), 0, &c, NULL), 0);
    trn_rule_manager_opts_t o = {.no_for_state_restore = true};
    trn_rule_manager_t *m = trn_rule_manager_new(s, NULL, &o);
    sink_t k = {0};
    trn_rule_manager_set_notify(m, notify, &k);
    assert_int_equal(trn_rule_manager_apply(m, c, NULL), 0);
    assert_int_equal(trn_rule_manager_eval_at(m, T0), 0);
    assert_int_equal(firing_at(m, "Down"), 1); /* no `for`: fires at once */
    /* the condition clears at T0+60s; kept firing while < 90s */
    for (int64_t ts = T0 + S(30); ts <= T0 + S(120); ts += S(30)) {
        assert_int_equal(trn_rule_manager_eval_at(m, ts), 0);
        assert_int_equal(firing_at(m, "Down"), 1);
    }
    int calls = k.calls;
    assert_int_equal(trn_rule_manager_eval_at(m, T0 + S(150)), 0); /* 90s since T0+60s: resolved */
    assert_int_equal(firing_at(m, "Down"), -1);
    assert_int_equal(k.calls, calls + 1); /* the resolution is sent at once */
    /* resolved alerts are re-sent every resend_delay while kept, then dropped */
    assert_int_equal(trn_rule_manager_eval_at(m, T0 + S(180)), 0);
    assert_int_equal(k.calls, calls + 1);
    assert_int_equal(trn_rule_manager_eval_at(m, T0 + S(240)), 0);
    assert_int_equal(k.calls, calls + 2);
    assert_int_equal(trn_rule_manager_eval_at(m, T0 + S(150) + S(900) + S(30)), 0);
    int before = k.calls;
    assert_int_equal(trn_rule_manager_eval_at(m, T0 + S(150) + S(900) + S(120)), 0);
    assert_int_equal(k.calls, before); /* forgotten: nothing left to send */
    trn_rule_manager_free(m);
    trn_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_validation_errors),
        cmocka_unit_test(test_rules_seed_alerts_lifecycle),
        cmocka_unit_test(test_rules_seed_recording_equals_expression),
        cmocka_unit_test(test_rules_for_state_restored_after_restart),
        cmocka_unit_test(test_rules_reload_keeps_alert_state),
        cmocka_unit_test(test_rules_group_labels_limit_and_scalar),
        cmocka_unit_test(test_rules_notify_firing_and_resolved),
        cmocka_unit_test(test_rules_keep_firing_for_and_resolved_retention),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
