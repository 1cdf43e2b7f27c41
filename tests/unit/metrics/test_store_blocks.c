/* SPDX-License-Identifier: Apache-2.0 */
/* The store across head and blocks: flush cuts the head into a block and
 * truncates the WAL, data survives reopen from blocks plus checkpoint,
 * automatic cuts and compaction keep every sample, backfill goes to blocks
 * and merges with the head (newest write wins), retention drops whole
 * blocks, and concurrent appends, queries and maintenance agree. */
#include "test.h"

#include "core/arena.h"
#include "core/err.h"
#include "core/matcher.h"
#include "metrics/store.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];

#define H (3600 * INT64_C(1000))
#define T0 (1700000000000 / H * H)

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/trn-test-sblk-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static trn_store_t *open_store(int64_t range, int64_t retention, bool background)
{
    trn_store_opts_t o;
    trn_store_opts_default(&o);
    o.dir = dir;
    o.block_range_ms = range;
    o.retention_ms = retention;
    o.ooo_window_ms = range > H ? range : H;
    o.fsync_mode = TRN_FSYNC_NEVER;
    o.background = background;
    trn_store_t *s;
    trn_diag_t d;
    trn_diag_init(&d);
    int rc = trn_store_open(&o, &s, &d);
    if (rc) fprintf(stderr, "open: %s\n", d.msg);
    assert_int_equal(rc, 0);
    return s;
}

/* value of series k at time t: deterministic, decimal */
static double val(int k, int64_t t)
{
    return k * 1000 + (double)(t / 1000 % 997) / 4;
}

static void put(trn_store_t *s, int n_series, int64_t from, int64_t to, int64_t step, bool backfill,
                double bias)
{
    char vals[64][16];
    trn_label_t lv[64][2];
    trn_append_series_t as[64];
    size_t per = (size_t)((to - from) / step);
    trn_sample_t *smp = malloc(per * 64 * sizeof *smp);
    for (int k0 = 0; k0 < n_series; k0 += 64) {
        int nb = n_series - k0 < 64 ? n_series - k0 : 64;
        for (int b = 0; b < nb; b++) {
            snprintf(vals[b], sizeof vals[b], "%03d", k0 + b);
            lv[b][0] = (trn_label_t){TRN_STR("__name__"), TRN_STR("m")};
            lv[b][1] = (trn_label_t){TRN_STR("k"), trn_str_c(vals[b])};
            for (size_t j = 0; j < per; j++) {
                int64_t t = from + (int64_t)j * step;
                smp[(size_t)b * per + j] = (trn_sample_t){t, val(k0 + b, t) + bias};
            }
            as[b] = (trn_append_series_t){{lv[b], 2}, smp + (size_t)b * per, per};
        }
        trn_append_result_t r;
        trn_diag_t d;
        trn_diag_init(&d);
        int rc = backfill ? trn_store_backfill(s, as, (size_t)nb, &r, &d)
                          : trn_store_append(s, as, (size_t)nb, &r, &d);
        if (rc) fprintf(stderr, "append: %s\n", d.msg);
        assert_int_equal(rc, 0);
        assert_int_equal(r.accepted, per * (size_t)nb);
    }
    free(smp);
}

/* Checks every series has exactly the samples from..to by step, values with bias. */
static void check(trn_store_t *s, int n_series, int64_t from, int64_t to, int64_t step, double bias)
{
    trn_querier_t *q;
    assert_int_equal(trn_store_querier(s, from, to - 1, &q), 0);
    trn_matcher_t m;
    assert_int_equal(trn_matcher_init(&m, TRN_MATCH_EQ, TRN_STR("__name__"), TRN_STR("m"), NULL),
                     0);
    trn_arena_t *a = trn_arena_new(0);
    trn_series_t *ss;
    size_t n;
    assert_int_equal(trn_querier_select(q, &m, 1, a, &ss, &n, NULL), 0);
    assert_int_equal(n, n_series);
    for (size_t i = 0; i < n; i++) {
        int k = atoi(trn_labels_get(&ss[i].labels, "k").p);
        assert_int_equal(k, (int)i);
        trn_sample_t *smp;
        size_t ns;
        assert_int_equal(trn_querier_samples(q, &ss[i], from, to - 1, a, &smp, &ns), 0);
        assert_int_equal(ns, (size_t)((to - from) / step));
        for (size_t j = 0; j < ns; j++) {
            assert_int_equal(smp[j].t_ms, from + (int64_t)j * step);
            assert_true(smp[j].v == val(k, smp[j].t_ms) + bias);
        }
    }
    trn_str_t *vals;
    assert_int_equal(trn_querier_label_values(q, TRN_STR("k"), NULL, 0, a, &vals, &n), 0);
    assert_int_equal(n, n_series);
    assert_int_equal(trn_querier_label_names(q, &m, 1, a, &vals, &n), 0);
    assert_int_equal(n, 2);
    trn_arena_free(a);
    trn_matcher_fini(&m);
    trn_querier_close(q);
}

static int count_files(const char *sub, const char *suffix)
{
    char p[400];
    snprintf(p, sizeof p, "%s/%s", dir, sub);
    DIR *dh = opendir(p);
    int n = 0;
    struct dirent *e;
    while (dh && (e = readdir(dh)))
        if (strstr(e->d_name, suffix)) n++;
    if (dh) closedir(dh);
    return n;
}

static void test_store_flush_and_reopen(void **state)
{
    (void)state;
    trn_store_t *s = open_store(2 * H, 0, false);
    put(s, 50, T0, T0 + H, 15000, false, 0);
    assert_int_equal(trn_store_flush(s, NULL), 0);
    trn_store_stats_t st;
    trn_store_stats(s, &st);
    assert_int_equal(st.blocks, 1);
    assert_int_equal(st.head_samples, 0);
    assert_true(st.block_bytes > 0);
    printf("# flushed block: %.3f bytes/sample\n", (double)st.block_bytes / (50 * 240));
    check(s, 50, T0, T0 + H, 15000, 0);
    /* more data in the head on top of the block */
    put(s, 50, T0 + H, T0 + H + 600000, 15000, false, 0);
    check(s, 50, T0, T0 + H + 600000, 15000, 0);
    trn_store_close(s);
    assert_int_equal(count_files("wal", "checkpoint."), 1);
    s = open_store(2 * H, 0, false);
    check(s, 50, T0, T0 + H + 600000, 15000, 0);
    trn_store_stats(s, &st);
    assert_int_equal(st.blocks, 1);
    assert_int_equal(st.head_samples, 50 * 40);
    trn_store_close(s);
}

static void test_store_auto_cut_and_compaction(void **state)
{
    (void)state;
    /* 1-minute blocks; 40 minutes of data in 1-minute appends. */
    int64_t r = 60000;
    trn_store_t *s = open_store(r, 0, false);
    for (int64_t t = T0; t < T0 + 40 * r; t += r)
        put(s, 20, t, t + r, 10000, false, 0);
    trn_store_stats_t st;
    trn_store_stats(s, &st);
    assert_true(st.blocks >= 1);
    assert_true(st.compactions >= 1);
    assert_true(st.head_max_t_ms - st.head_min_t_ms <= 2 * r);
    check(s, 20, T0, T0 + 40 * r, 10000, 0);
    trn_store_close(s);
    s = open_store(r, 0, false);
    check(s, 20, T0, T0 + 40 * r, 10000, 0);
    trn_store_close(s);
}

static void test_store_backfill_and_overrides(void **state)
{
    (void)state;
    trn_store_t *s = open_store(2 * H, 0, false);
    put(s, 10, T0 + 10 * H, T0 + 11 * H, 60000, false, 0); /* recent, in the head */
    put(s, 10, T0, T0 + 5 * H, 60000, true, 0);            /* old, straight to a block */
    trn_store_stats_t st;
    trn_store_stats(s, &st);
    assert_int_equal(st.blocks, 1);
    check(s, 10, T0, T0 + 5 * H, 60000, 0);
    check(s, 10, T0 + 10 * H, T0 + 11 * H, 60000, 0);
    /* Backfill the same range again with other values: the newer block wins,
     * compaction merges the overlap. */
    put(s, 10, T0, T0 + 5 * H, 60000, true, 0.5);
    trn_store_stats(s, &st);
    assert_int_equal(st.blocks, 1);
    assert_true(st.compactions >= 1);
    check(s, 10, T0, T0 + 5 * H, 60000, 0.5);
    trn_store_close(s);
    s = open_store(2 * H, 0, false);
    check(s, 10, T0, T0 + 5 * H, 60000, 0.5);
    check(s, 10, T0 + 10 * H, T0 + 11 * H, 60000, 0);
    trn_store_close(s);
}

static void test_store_retention_drops_blocks(void **state)
{
    (void)state;
    trn_store_t *s = open_store(H, 3 * H, false);
    put(s, 5, T0, T0 + H, 60000, true, 0);
    put(s, 5, T0 + 5 * H, T0 + 6 * H, 60000, true, 0);
    trn_store_stats_t st;
    trn_store_stats(s, &st);
    assert_int_equal(st.blocks, 1);
    assert_int_equal(st.retention_deleted_blocks, 1);
    check(s, 5, T0 + 5 * H, T0 + 6 * H, 60000, 0);
    trn_store_close(s);
    assert_int_equal(count_files("blocks", ".blk"), 1);
}

typedef struct worker {
    trn_store_t *s;
    int id;
    int64_t from;
} worker_t;

static void *appender(void *arg)
{
    worker_t *w = arg;
    char v[16];
    snprintf(v, sizeof v, "w%d", w->id);
    trn_label_t lv[] = {{TRN_STR("__name__"), TRN_STR("c")}, {TRN_STR("w"), trn_str_c(v)}};
    for (int i = 0; i < 3000; i++) {
        trn_sample_t smp = {w->from + i * 1000, i};
        trn_append_series_t as = {{lv, 2}, &smp, 1};
        trn_append_result_t r;
        if (trn_store_append(w->s, &as, 1, &r, NULL) != 0 || r.accepted != 1) return (void *)1;
    }
    return NULL;
}

static void *reader(void *arg)
{
    worker_t *w = arg;
    trn_matcher_t m;
    trn_matcher_init(&m, TRN_MATCH_EQ, TRN_STR("__name__"), TRN_STR("c"), NULL);
    for (int i = 0; i < 200; i++) {
        trn_querier_t *q;
        trn_store_querier(w->s, INT64_MIN, INT64_MAX, &q);
        trn_arena_t *a = trn_arena_new(0);
        trn_series_t *ss;
        size_t n;
        if (trn_querier_select(q, &m, 1, a, &ss, &n, NULL) != 0) return (void *)1;
        for (size_t k = 0; k < n; k++) {
            trn_sample_t *smp;
            size_t ns;
            if (trn_querier_samples(q, &ss[k], INT64_MIN, INT64_MAX, a, &smp, &ns) != 0)
                return (void *)1;
            for (size_t j = 1; j < ns; j++)
                if (smp[j].t_ms <= smp[j - 1].t_ms) return (void *)1;
        }
        trn_arena_free(a);
        trn_querier_close(q);
        if (i % 50 == 0) trn_store_flush(w->s, NULL);
    }
    trn_matcher_fini(&m);
    return NULL;
}

static void test_store_concurrent_append_query_flush(void **state)
{
    (void)state;
    trn_store_t *s = open_store(60000, 0, true);
    pthread_t th[4];
    worker_t w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker_t){s, i, T0};
        pthread_create(&th[i], NULL, i < 3 ? appender : reader, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(th[i], &r);
        assert_null(r);
    }
    trn_store_close(s);
    s = open_store(60000, 0, false);
    trn_querier_t *q;
    assert_int_equal(trn_store_querier(s, INT64_MIN, INT64_MAX, &q), 0);
    trn_matcher_t m;
    trn_matcher_init(&m, TRN_MATCH_EQ, TRN_STR("__name__"), TRN_STR("c"), NULL);
    trn_arena_t *a = trn_arena_new(0);
    trn_series_t *ss;
    size_t n;
    assert_int_equal(trn_querier_select(q, &m, 1, a, &ss, &n, NULL), 0);
    assert_int_equal(n, 3);
    for (size_t k = 0; k < n; k++) {
        trn_sample_t *smp;
        size_t ns;
        assert_int_equal(trn_querier_samples(q, &ss[k], INT64_MIN, INT64_MAX, a, &smp, &ns), 0);
        assert_int_equal(ns, 3000);
        for (size_t j = 0; j < ns; j++)
            assert_true(smp[j].v == (double)j);
    }
    trn_arena_free(a);
    trn_matcher_fini(&m);
    trn_querier_close(q);
    trn_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_store_flush_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_auto_cut_and_compaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_backfill_and_overrides, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_retention_drops_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_concurrent_append_query_flush, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
