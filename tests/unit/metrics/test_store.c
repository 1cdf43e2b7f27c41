/* SPDX-License-Identifier: Apache-2.0 */
/* The metrics store in memory: appends, out-of-order and duplicate samples,
 * staleness markers, the querier's select (against a brute-force oracle on
 * random series and matchers), label names and values, stats, top metrics. */
#include "test.h"

#include "core/arena.h"
#include "core/err.h"
#include "core/labels.h"
#include "core/matcher.h"
#include "metrics/chunk.h"
#include "metrics/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static trn_store_t *mem_store(void)
{
    trn_store_opts_t o;
    trn_store_opts_default(&o);
    o.dir = NULL;
    o.ooo_window_ms = 60000;
    trn_store_t *s;
    assert_int_equal(trn_store_open(&o, &s, NULL), 0);
    return s;
}

/* Builds a sorted label set from "k=v,k=v" into storage the caller keeps. */
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

static void append1(trn_store_t *s, const char *spec, int64_t t, double v, trn_append_result_t *r)
{
    lsbuf_t b;
    trn_sample_t smp = {t, v};
    trn_append_series_t as = {*mk(&b, spec), &smp, 1};
    assert_int_equal(trn_store_append(s, &as, 1, r, NULL), 0);
}

static size_t select_all(trn_querier_t *q, const char *name, trn_arena_t *a, trn_series_t **out)
{
    trn_matcher_t m;
    assert_int_equal(trn_matcher_init(&m, TRN_MATCH_EQ, TRN_STR("__name__"), trn_str_c(name), NULL),
                     0);
    size_t n;
    assert_int_equal(trn_querier_select(q, &m, 1, a, out, &n, NULL), 0);
    trn_matcher_fini(&m);
    return n;
}

static void test_store_append_and_read(void **state)
{
    (void)state;
    trn_store_t *s = mem_store();
    trn_append_result_t r;
    for (int i = 0; i < 500; i++)
        append1(s, "__name__=up,job=a", 1000 + i * 1000, i, &r);
    assert_int_equal(r.accepted, 1);
    append1(s, "__name__=up,job=b", 1000, 7, &r);
    assert_int_equal(r.series_created, 1);

    trn_querier_t *q;
    assert_int_equal(trn_store_querier(s, 0, INT64_MAX, &q), 0);
    trn_arena_t *a = trn_arena_new(0);
    trn_series_t *ss;
    assert_int_equal(select_all(q, "up", a, &ss), 2);
    assert_true(trn_str_eqc(trn_labels_get(&ss[0].labels, "job"), "a"));
    trn_sample_t *smp;
    size_t n;
    assert_int_equal(trn_querier_samples(q, &ss[0], 0, INT64_MAX, a, &smp, &n), 0);
    assert_int_equal(n, 500);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(smp[i].t_ms, 1000 + (int64_t)i * 1000);
        assert_true(smp[i].v == (double)i);
    }
    assert_int_equal(trn_querier_samples(q, &ss[0], 5000, 7500, a, &smp, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(smp[0].t_ms, 5000);

    trn_store_stats_t st;
    trn_store_stats(s, &st);
    assert_int_equal(st.head_series, 2);
    assert_int_equal(st.head_samples, 501);
    assert_int_equal(st.head_min_t_ms, 1000);
    assert_int_equal(st.head_max_t_ms, 500000);
    assert_true(st.head_chunks >= 500 / TRN_CHUNK_SAMPLES + 1);

    trn_name_count_t *top;
    assert_int_equal(trn_store_top_metrics(s, 10, a, &top, &n), 0);
    assert_int_equal(n, 1);
    assert_true(trn_str_eqc(top[0].name, "up"));
    assert_int_equal(top[0].count, 2);

    trn_arena_free(a);
    trn_querier_close(q);
    trn_store_close(s);
}

static void test_store_ooo_and_duplicates(void **state)
{
    (void)state;
    trn_store_t *s = mem_store();
    trn_append_result_t r;
    double stale;
    uint64_t sb = TRN_STALE_NAN_BITS;
    memcpy(&stale, &sb, sizeof stale);
    for (int i = 10; i < 200; i++)
        append1(s, "__name__=m", i * 1000, i, &r);
    append1(s, "__name__=m", 150000, -1, &r); /* duplicate: last wins */
    assert_int_equal(r.accepted, 1);
    append1(s, "__name__=m", 199000, -2, &r);  /* duplicate of the newest */
    append1(s, "__name__=m", 150500, 0.5, &r); /* out of order inside the window */
    append1(s, "__name__=m", 100, 9, &r);      /* too old */
    assert_int_equal(r.too_old, 1);
    append1(s, "__name__=m", 200000, stale, &r);
    /* Enough ooo samples to force a rebuild of the series. */
    for (int i = 0; i < 100; i++)
        append1(s, "__name__=m", 140000 + i * 100 + 50, 1000 + i, &r);
    append1(s, "__name__=m", 140050, 4242, &r); /* duplicate of an ooo sample */

    trn_querier_t *q;
    assert_int_equal(trn_store_querier(s, 0, INT64_MAX, &q), 0);
    trn_arena_t *a = trn_arena_new(0);
    trn_series_t *ss;
    assert_int_equal(select_all(q, "m", a, &ss), 1);
    trn_sample_t *smp;
    size_t n;
    assert_int_equal(trn_querier_samples(q, &ss[0], 0, INT64_MAX, a, &smp, &n), 0);
    assert_int_equal(n, 190 + 1 + 1 + 100);
    for (size_t i = 1; i < n; i++)
        assert_true(smp[i - 1].t_ms < smp[i].t_ms);
    for (size_t i = 0; i < n; i++) {
        if (smp[i].t_ms == 150000) assert_true(smp[i].v == -1);
        if (smp[i].t_ms == 199000) assert_true(smp[i].v == -2);
        if (smp[i].t_ms == 150500) assert_true(smp[i].v == 0.5);
        if (smp[i].t_ms == 140050) assert_true(smp[i].v == 4242);
    }
    assert_true(trn_is_stale_nan(smp[n - 1].v));
    trn_arena_free(a);
    trn_querier_close(q);
    trn_store_close(s);
}

/* Random series over a few label names; random matchers; compare select with
 * a direct evaluation of the matchers on every label set. */
static const char *names[] = {"__name__", "job", "instance", "mode"};
static const char *values[] = {"a", "b", "c", "cpu", "up", "x-1", "x-2", ""};

static void random_spec(char *out, size_t cap)
{
    size_t len = 0;
    len += (size_t)snprintf(out + len, cap - len, "__name__=%s", values[rand() % 7]);
    for (int k = 1; k < 4; k++) {
        const char *v = values[rand() % 8];
        if (!*v) continue; /* absent label */
        len += (size_t)snprintf(out + len, cap - len, ",%s=%s", names[k], v);
    }
}

static void test_store_select_matches_oracle(void **state)
{
    (void)state;
    srand(3);
    trn_store_t *s = mem_store();
    enum { N = 300 };
    static lsbuf_t all[N];
    size_t n_all = 0;
    for (int i = 0; i < N; i++) {
        char spec[200];
        random_spec(spec, sizeof spec);
        trn_append_result_t r;
        append1(s, spec, 1000, i, &r);
        if (r.series_created) mk(&all[n_all++], spec);
    }
    const char *patterns[] = {"a|b", "x-.*", ".*", "", "c|", "u.", "cpu|up|zzz", ".+"};
    trn_querier_t *q;
    assert_int_equal(trn_store_querier(s, 0, INT64_MAX, &q), 0);
    for (int round = 0; round < 400; round++) {
        trn_matcher_t ms[3];
        size_t n_ms = 1 + (size_t)(rand() % 3);
        for (size_t i = 0; i < n_ms; i++) {
            trn_match_type_t ty = (trn_match_type_t)(rand() % 4);
            const char *val = (ty >= TRN_MATCH_RE) ? patterns[rand() % 8] : values[rand() % 8];
            assert_int_equal(
                trn_matcher_init(&ms[i], ty, trn_str_c(names[rand() % 4]), trn_str_c(val), NULL),
                0);
        }
        trn_arena_t *a = trn_arena_new(0);
        trn_series_t *out;
        size_t n;
        assert_int_equal(trn_querier_select(q, ms, n_ms, a, &out, &n, NULL), 0);
        size_t expect = 0;
        for (size_t k = 0; k < n_all; k++) {
            bool ok = true;
            for (size_t i = 0; i < n_ms && ok; i++)
                ok = trn_matcher_matches_labels(&ms[i], &all[k].ls);
            if (!ok) continue;
            expect++;
            bool found = false;
            for (size_t j = 0; j < n && !found; j++)
                found = trn_labels_equal(&out[j].labels, &all[k].ls);
            assert_true(found);
        }
        assert_int_equal(n, expect);
        for (size_t j = 1; j < n; j++)
            assert_true(trn_labels_cmp(&out[j - 1].labels, &out[j].labels) < 0);
        for (size_t i = 0; i < n_ms; i++)
            trn_matcher_fini(&ms[i]);
        trn_arena_free(a);
    }
    trn_querier_close(q);
    trn_store_close(s);
}

static void test_store_label_names_values(void **state)
{
    (void)state;
    trn_store_t *s = mem_store();
    trn_append_result_t r;
    append1(s, "__name__=up,job=a,instance=i1", 1000, 1, &r);
    append1(s, "__name__=up,job=b", 1000, 1, &r);
    append1(s, "__name__=down,zone=z", 1000, 1, &r);
    trn_querier_t *q;
    assert_int_equal(trn_store_querier(s, 0, INT64_MAX, &q), 0);
    trn_arena_t *a = trn_arena_new(0);
    trn_str_t *v;
    size_t n;
    assert_int_equal(trn_querier_label_names(q, NULL, 0, a, &v, &n), 0);
    assert_int_equal(n, 4);
    assert_true(trn_str_eqc(v[0], "__name__"));
    assert_true(trn_str_eqc(v[3], "zone"));
    trn_matcher_t m;
    assert_int_equal(trn_matcher_init(&m, TRN_MATCH_EQ, TRN_STR("__name__"), TRN_STR("up"), NULL),
                     0);
    assert_int_equal(trn_querier_label_names(q, &m, 1, a, &v, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(trn_querier_label_values(q, TRN_STR("job"), &m, 1, a, &v, &n), 0);
    assert_int_equal(n, 2);
    assert_true(trn_str_eqc(v[0], "a") && trn_str_eqc(v[1], "b"));
    assert_int_equal(trn_querier_label_values(q, TRN_STR("__name__"), NULL, 0, a, &v, &n), 0);
    assert_int_equal(n, 2);
    assert_true(trn_str_eqc(v[0], "down"));
    trn_series_t *ss;
    assert_int_equal(trn_querier_select(q, &m, 0, a, &ss, &n, NULL), TRN_EINVAL);
    trn_matcher_fini(&m);
    trn_arena_free(a);
    trn_querier_close(q);
    /* A querier over a range without samples sees no series. */
    assert_int_equal(trn_store_querier(s, 5000, 9000, &q), 0);
    a = trn_arena_new(0);
    assert_int_equal(select_all(q, "up", a, &ss), 0);
    trn_arena_free(a);
    trn_querier_close(q);
    trn_store_close(s);
}

typedef struct meta_got {
    int n;
    char first[32], help[32];
} meta_got_t;

static void collect(void *ctx, const trn_metric_meta_t *mm)
{
    meta_got_t *g = ctx;
    if (g->n++ == 0) {
        snprintf(g->first, sizeof g->first, "%.*s", (int)mm->metric.len, mm->metric.p);
        snprintf(g->help, sizeof g->help, "%.*s", (int)mm->help.len, mm->help.p);
    }
}

static void test_store_metadata(void **state)
{
    (void)state;
    trn_store_t *s = mem_store();
    trn_metric_meta_t m = {TRN_STR("b_total"), TRN_STR("counter"), TRN_STR("help b"), TRN_STR("")};
    trn_store_set_metadata(s, &m);
    m.metric = TRN_STR("a");
    m.type = TRN_STR("gauge");
    trn_store_set_metadata(s, &m);
    m.help = TRN_STR("new help");
    trn_store_set_metadata(s, &m);
    meta_got_t got = {0};
    trn_store_each_metadata(s, collect, &got);
    assert_int_equal(got.n, 2);
    assert_string_equal(got.first, "a");
    assert_string_equal(got.help, "new help");
    trn_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_append_and_read),
        cmocka_unit_test(test_store_ooo_and_duplicates),
        cmocka_unit_test(test_store_select_matches_oracle),
        cmocka_unit_test(test_store_label_names_values),
        cmocka_unit_test(test_store_metadata),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
