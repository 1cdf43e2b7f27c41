/* SPDX-License-Identifier: Apache-2.0 */
/* PromQL evaluation over a real store: range queries agree with instant
 * queries at every step (series-at-a-time evaluation must not change
 * results), limits fail with their errors (samples, points per series,
 * timeout, cancellation, memory budget), and a few hand-computed results
 * (rate extrapolation, histogram_quantile, label_replace, annotations). */
#include "test.h"

#include "core/err.h"
#include "core/log.h"
#include "metrics/promql/promql.h"
#include "metrics/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static trn_store_t *st;
static char dir[64];

static void add(const char *name, const char *k, const char *v, double start, double inc, int n)
{
    trn_label_t l[3];
    size_t nl = 0;
    l[nl++] = (trn_label_t){TRN_STR("__name__"), trn_str_c(name)};
    if (k) l[nl++] = (trn_label_t){trn_str_c(k), trn_str_c(v)};
    trn_labels_t ls = {l, nl};
    trn_labels_sort(&ls);
    trn_sample_t s[200];
    for (int i = 0; i < n; i++)
        s[i] = (trn_sample_t){(int64_t)i * 60000, start + inc * i};
    trn_append_series_t as = {ls, s, (size_t)n};
    trn_append_result_t r;
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(trn_store_append(st, &as, 1, &r, &d), 0);
}

static int setup(void **state)
{
    (void)state;
    trn_log_set_level(TRN_LOG_WARN);
    snprintf(dir, sizeof dir, "/tmp/trine-test-promql-XXXXXX");
    assert_non_null(mkdtemp(dir));
    trn_store_opts_t o;
    trn_store_opts_default(&o);
    o.dir = dir;
    o.fsync_mode = TRN_FSYNC_NEVER;
    o.background = false;
    o.ooo_window_ms = INT64_MAX / 4;
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(trn_store_open(&o, &st, &d), 0);
    add("req_total", "job", "a", 0, 10, 60);
    add("req_total", "job", "b", 100, 1, 60);
    add("temp", "room", "x", 20, 0.5, 60);
    add("h_bucket", "le", "1", 0, 1, 60);
    add("h_bucket", "le", "10", 0, 3, 60);
    add("h_bucket", "le", "+Inf", 0, 4, 60);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    trn_store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

typedef struct {
    trn_arena_t *a;
    trn_promql_expr_t *e;
    trn_promql_value_t v;
    trn_diag_t d;
    int rc;
} res_t;

static void run(res_t *r, const char *q, bool range, int64_t s, int64_t e, int64_t step,
                const trn_promql_opts_t *o, size_t budget)
{
    r->a = trn_arena_new(budget);
    trn_diag_init(&r->d);
    r->rc = trn_promql_parse(q, strlen(q), r->a, &r->e, &r->d);
    if (r->rc < 0) fail_msg("%s: %s", q, r->d.msg);
    if (range)
        r->rc = trn_promql_eval_range(st, r->e, s, e, step, o, r->a, &r->v, &r->d);
    else
        r->rc = trn_promql_eval_instant(st, r->e, s, o, r->a, &r->v, &r->d);
}

static void done(res_t *r)
{
    trn_promql_expr_release(r->e);
    trn_arena_free(r->a);
}

static void test_eval_range_matches_instant(void **state)
{
    (void)state;
    static const char *const qs[] = {
        "rate(req_total[5m])",
        "sum by (job) (increase(req_total[10m]))",
        "req_total / on(job) group_left sum by (job) (req_total)",
        "topk(1, req_total)",
        "avg_over_time(temp[3m:30s])",
        "req_total > 300 or temp",
        "deriv(temp[10m])",
        "histogram_quantile(0.5, h_bucket)",
        "max_over_time(req_total[7m] offset 2m)",
        "req_total @ 600",
    };
    for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++) {
        res_t rr;
        run(&rr, qs[k], true, 0, 3000000, 120000, NULL, 0);
        if (rr.rc) fail_msg("%s: %s", qs[k], rr.d.msg);
        for (int64_t t = 0; t <= 3000000; t += 120000) {
            res_t ri;
            run(&ri, qs[k], false, t, t, 0, NULL, 0);
            if (ri.rc) fail_msg("%s @%lld: %s", qs[k], (long long)t, ri.d.msg);
            size_t found = 0;
            for (size_t i = 0; i < ri.v.n_vec; i++) {
                bool ok = false;
                for (size_t m = 0; m < rr.v.n_mat && !ok; m++) {
                    if (!trn_labels_equal(&rr.v.mat[m].labels, &ri.v.vec[i].labels)) continue;
                    for (size_t p = 0; p < rr.v.mat[m].n_points; p++)
                        if (rr.v.mat[m].points[p].t_ms == t &&
                            (rr.v.mat[m].points[p].v == ri.v.vec[i].v ||
                             (isnan(rr.v.mat[m].points[p].v) && isnan(ri.v.vec[i].v))))
                            ok = true;
                }
                if (!ok)
                    fail_msg("%s at %lld: instant value %g not in range result", qs[k],
                             (long long)t, ri.v.vec[i].v);
                found++;
            }
            size_t in_range = 0;
            for (size_t m = 0; m < rr.v.n_mat; m++)
                for (size_t p = 0; p < rr.v.mat[m].n_points; p++)
                    if (rr.v.mat[m].points[p].t_ms == t) in_range++;
            assert_int_equal(found, in_range);
            done(&ri);
        }
        done(&rr);
    }
}

static void test_eval_known_values(void **state)
{
    (void)state;
    res_t r;
    /* req_total{job=a} grows 10/min: rate over 5m at 30m is 10/60 exactly */
    run(&r, "rate(req_total{job=\"a\"}[5m])", false, 1800000, 0, 0, NULL, 0);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.v.n_vec, 1);
    assert_true(fabs(r.v.vec[0].v - 10.0 / 60) < 1e-12);
    assert_int_equal(r.v.vec[0].labels.n, 1); /* __name__ dropped */
    assert_int_equal(r.v.n_infos, 0);
    done(&r);
    /* at 30m: buckets le=1 → 30, le=10 → 90, +Inf → 120: median rank 60 in (1,10] */
    run(&r, "histogram_quantile(0.5, h_bucket)", false, 1800000, 0, 0, NULL, 0);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.v.n_vec, 1);
    assert_true(fabs(r.v.vec[0].v - (1 + 9 * (30.0 / 60))) < 1e-12);
    done(&r);
    run(&r, "label_replace(temp, \"floor\", \"f-$1\", \"room\", \"(.)\")", false, 0, 0, 0, NULL, 0);
    assert_int_equal(r.rc, 0);
    assert_true(trn_str_eqc(trn_labels_get(&r.v.vec[0].labels, "floor"), "f-x"));
    done(&r);
    /* absent(): the first equality matcher sets a label, later ones on the name drop it */
    run(&r, "absent(nope{a=\"x\", a!=\"y\", b=\"c\"})", false, 0, 0, 0, NULL, 0);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.v.n_vec, 1);
    assert_int_equal(r.v.vec[0].labels.n, 1);
    assert_true(trn_str_eqc(trn_labels_get(&r.v.vec[0].labels, "b"), "c"));
    done(&r);
    run(&r, "absent_over_time(nope{a!=\"y\", a=\"x\"}[5m])", false, 0, 0, 0, NULL, 0);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.v.n_vec, 1);
    assert_true(trn_str_eqc(trn_labels_get(&r.v.vec[0].labels, "a"), "x"));
    done(&r);
    /* an annotation with its position */
    run(&r, "rate(temp[5m])", false, 1800000, 0, 0, NULL, 0);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.v.n_infos, 1);
    assert_string_equal(r.v.infos[0],
                        "PromQL info: metric might not be a counter, name does not end in "
                        "_total/_sum/_count/_bucket: \"temp\" (1:6)");
    done(&r);
}

static void test_eval_errors(void **state)
{
    (void)state;
    res_t r;
    run(&r, "req_total + on() req_total", false, 600000, 0, 0, NULL, 0);
    assert_int_equal(r.rc, TRN_EEXEC);
    assert_non_null(strstr(r.d.msg, "many-to-many matching not allowed"));
    done(&r);
    trn_promql_opts_t o = {.max_samples = 10};
    run(&r, "req_total[30m]", false, 1800000, 0, 0, &o, 0);
    assert_int_equal(r.rc, TRN_ELIMIT);
    assert_non_null(strstr(r.d.msg, "too many samples"));
    done(&r);
    run(&r, "req_total", true, 0, 20000000, 1000, NULL, 0);
    assert_int_equal(r.rc, TRN_EINVAL);
    assert_non_null(strstr(r.d.msg, "11,000 points"));
    done(&r);
    run(&r, "sum(rate(req_total[5m]))", true, 0, 3600000, 60000, NULL, 4096);
    assert_int_equal(r.rc, TRN_ELIMIT);
    done(&r);
}

static bool always(void *ctx)
{
    (void)ctx;
    return true;
}

static void test_eval_cancel(void **state)
{
    (void)state;
    res_t r;
    trn_promql_opts_t o = {.is_canceled = always};
    run(&r, "rate(req_total[5m])", true, 0, 3600000, 60000, &o, 0);
    assert_int_equal(r.rc, TRN_ECANCELED);
    done(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eval_range_matches_instant),
        cmocka_unit_test(test_eval_known_values),
        cmocka_unit_test(test_eval_errors),
        cmocka_unit_test(test_eval_cancel),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
