/* SPDX-License-Identifier: Apache-2.0 */
/* The store's durability: data survives close/reopen and a process that
 * dies right after its appends were acknowledged; out-of-order samples,
 * duplicates and stale markers replay exactly; a flipped WAL byte costs one
 * record, never the store; replay of a million samples is timed. */
#include "test.h"

#include "core/arena.h"
#include "core/err.h"
#include "core/matcher.h"
#include "metrics/store.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/trn-test-store-XXXXXX");
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

static trn_store_t *open_store(trn_fsync_mode_t mode)
{
    trn_store_opts_t o;
    trn_store_opts_default(&o);
    o.dir = dir;
    o.fsync_mode = mode;
    o.ooo_window_ms = 60000;
    trn_store_t *s;
    trn_diag_t d;
    trn_diag_init(&d);
    int rc = trn_store_open(&o, &s, &d);
    if (rc) fprintf(stderr, "open: %s\n", d.msg);
    assert_int_equal(rc, 0);
    return s;
}

/* Appends n_series series m{i="k"} with samples t = base + j*step, v = k*1e7 + t/1000. */
static void append_grid(trn_store_t *s, int n_series, int n_samples, int64_t base, int64_t step)
{
    char vals[64][16];
    trn_label_t lv[64][2];
    trn_append_series_t as[64];
    trn_sample_t *smp = malloc((size_t)n_samples * 64 * sizeof *smp);
    for (int k0 = 0; k0 < n_series; k0 += 64) {
        int nb = n_series - k0 < 64 ? n_series - k0 : 64;
        for (int b = 0; b < nb; b++) {
            snprintf(vals[b], sizeof vals[b], "%d", k0 + b);
            lv[b][0] = (trn_label_t){TRN_STR("__name__"), TRN_STR("m")};
            lv[b][1] = (trn_label_t){TRN_STR("i"), trn_str_c(vals[b])};
            for (int j = 0; j < n_samples; j++)
                smp[b * n_samples + j] = (trn_sample_t){
                    base + j * step, (k0 + b) * 1e7 + (double)(base + j * step) / 1000};
            as[b] = (trn_append_series_t){{lv[b], 2}, smp + b * n_samples, (size_t)n_samples};
        }
        trn_append_result_t r;
        assert_int_equal(trn_store_append(s, as, (size_t)nb, &r, NULL), 0);
        assert_int_equal(r.accepted, (uint64_t)nb * (uint64_t)n_samples);
    }
    free(smp);
}

static void check_grid(trn_store_t *s, int n_series, int n_samples, int64_t base, int64_t step)
{
    trn_querier_t *q;
    assert_int_equal(trn_store_querier(s, INT64_MIN, INT64_MAX, &q), 0);
    trn_matcher_t m;
    assert_int_equal(trn_matcher_init(&m, TRN_MATCH_EQ, TRN_STR("__name__"), TRN_STR("m"), NULL),
                     0);
    trn_arena_t *a = trn_arena_new(0);
    trn_series_t *ss;
    size_t n;
    assert_int_equal(trn_querier_select(q, &m, 1, a, &ss, &n, NULL), 0);
    assert_int_equal(n, n_series);
    for (size_t i = 0; i < n; i++) {
        trn_str_t iv = trn_labels_get(&ss[i].labels, "i");
        int k = atoi(iv.p);
        trn_sample_t *smp;
        size_t ns;
        assert_int_equal(trn_querier_samples(q, &ss[i], INT64_MIN, INT64_MAX, a, &smp, &ns), 0);
        assert_int_equal(ns, n_samples);
        for (size_t j = 0; j < ns; j++) {
            assert_int_equal(smp[j].t_ms, base + (int64_t)j * step);
            assert_true(smp[j].v == k * 1e7 + (double)smp[j].t_ms / 1000);
        }
    }
    trn_arena_free(a);
    trn_matcher_fini(&m);
    trn_querier_close(q);
}

static void test_store_wal_reopen(void **state)
{
    (void)state;
    trn_store_t *s = open_store(TRN_FSYNC_BATCH);
    append_grid(s, 100, 50, 1000000, 15000);
    trn_store_close(s);
    s = open_store(TRN_FSYNC_BATCH);
    check_grid(s, 100, 50, 1000000, 15000);
    /* And once more after appending on top of the replayed head. */
    append_grid(s, 100, 50, 1000000 + 50 * 15000, 15000);
    trn_store_close(s);
    s = open_store(TRN_FSYNC_INTERVAL);
    check_grid(s, 100, 100, 1000000, 15000);
    trn_store_stats_t st;
    trn_store_stats(s, &st);
    assert_int_equal(st.head_series, 100);
    assert_int_equal(st.head_samples, 10000);
    assert_int_equal(st.wal_corrupt_records, 0);
    trn_store_close(s);
}

static void test_store_wal_survives_process_death(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        trn_store_t *s = open_store(TRN_FSYNC_NEVER);
        append_grid(s, 30, 20, 5000, 1000);
        _exit(0); /* no close: what kill -9 leaves behind */
    }
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    trn_store_t *s = open_store(TRN_FSYNC_BATCH);
    check_grid(s, 30, 20, 5000, 1000);
    trn_store_close(s);
}

static void test_store_wal_ooo_dups_stale(void **state)
{
    (void)state;
    trn_store_t *s = open_store(TRN_FSYNC_BATCH);
    trn_label_t lv[] = {{TRN_STR("__name__"), TRN_STR("x")}};
    uint64_t sb = 0x7ff0000000000002ULL;
    double stale;
    memcpy(&stale, &sb, 8);
    trn_sample_t smp[] = {{10000, 1},     {20000, 2},         {15000, 1.5}, {20000, 3},
                          {30000, stale}, {12000, -INFINITY}, {25000, NAN}};
    trn_append_series_t as = {{lv, 1}, smp, 7};
    trn_append_result_t r;
    assert_int_equal(trn_store_append(s, &as, 1, &r, NULL), 0);
    assert_int_equal(r.accepted, 7);
    trn_store_close(s);
    s = open_store(TRN_FSYNC_BATCH);
    trn_querier_t *q;
    assert_int_equal(trn_store_querier(s, 0, 100000, &q), 0);
    trn_matcher_t m;
    assert_int_equal(trn_matcher_init(&m, TRN_MATCH_EQ, TRN_STR("__name__"), TRN_STR("x"), NULL),
                     0);
    trn_arena_t *a = trn_arena_new(0);
    trn_series_t *ss;
    size_t n;
    assert_int_equal(trn_querier_select(q, &m, 1, a, &ss, &n, NULL), 0);
    assert_int_equal(n, 1);
    trn_sample_t *got;
    assert_int_equal(trn_querier_samples(q, &ss[0], 0, 100000, a, &got, &n), 0);
    assert_int_equal(n, 6);
    int64_t ts[] = {10000, 12000, 15000, 20000, 25000, 30000};
    for (size_t i = 0; i < n; i++)
        assert_int_equal(got[i].t_ms, ts[i]);
    assert_true(got[1].v == -INFINITY);
    assert_true(got[3].v == 3);
    assert_true(isnan(got[4].v) && !trn_is_stale_nan(got[4].v));
    assert_true(trn_is_stale_nan(got[5].v));
    trn_arena_free(a);
    trn_matcher_fini(&m);
    trn_querier_close(q);
    trn_store_close(s);
}

static void test_store_wal_flipped_byte(void **state)
{
    (void)state;
    trn_store_t *s = open_store(TRN_FSYNC_BATCH);
    append_grid(s, 1, 10, 1000, 1000); /* series record + samples record */
    append_grid(s, 1, 10, 11000, 1000);
    append_grid(s, 1, 10, 21000, 1000);
    trn_store_close(s);
    /* Damage the middle samples record (the 3rd of 4 records in segment 1). */
    char p[300];
    snprintf(p, sizeof p, "%s/wal/00000001", dir);
    int fd = open(p, O_RDWR);
    uint8_t hdr[9];
    off_t off = 8;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pread(fd, hdr, 9, off), 9);
        off += 9 + (hdr[0] | hdr[1] << 8 | hdr[2] << 16);
    }
    uint8_t b;
    assert_int_equal(pread(fd, &b, 1, off + 20), 1);
    b ^= 1;
    assert_int_equal(pwrite(fd, &b, 1, off + 20), 1);
    close(fd);
    s = open_store(TRN_FSYNC_BATCH);
    trn_store_stats_t st;
    trn_store_stats(s, &st);
    assert_int_equal(st.wal_corrupt_records, 1);
    assert_int_equal(st.head_samples, 20);
    trn_store_close(s);
}

static void test_store_wal_one_huge_series(void **state)
{
    (void)state;
    /* 600k samples of one series in one call: the WAL records are split
     * inside the series, so each stays far below the record limit. */
    enum { N = 600000 };
    trn_sample_t *smp = malloc(N * sizeof *smp);
    for (int i = 0; i < N; i++)
        smp[i] = (trn_sample_t){1000000 + i, i * 0.5};
    trn_label_t lv[] = {{TRN_STR("__name__"), TRN_STR("huge")}};
    trn_append_series_t as = {{lv, 1}, smp, N};
    trn_store_t *s = open_store(TRN_FSYNC_NEVER);
    trn_append_result_t r;
    assert_int_equal(trn_store_append(s, &as, 1, &r, NULL), 0);
    assert_int_equal(r.accepted, N);
    trn_store_close(s);
    s = open_store(TRN_FSYNC_NEVER);
    trn_store_stats_t st;
    trn_store_stats(s, &st);
    assert_int_equal(st.head_samples, N);
    trn_store_close(s);
    free(smp);
}

static double secs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_store_wal_replay_million(void **state)
{
    (void)state;
    trn_store_t *s = open_store(TRN_FSYNC_NEVER);
    double t0 = secs();
    append_grid(s, 10000, 100, 1700000000000, 15000);
    double t1 = secs();
    trn_store_close(s);
    double t2 = secs();
    s = open_store(TRN_FSYNC_NEVER);
    double t3 = secs();
    trn_store_stats_t st;
    trn_store_stats(s, &st);
    assert_int_equal(st.head_samples, 1000000);
    printf("# append 1M samples: %.3fs (%.1f M/s); WAL replay 1M samples: %.3fs\n", t1 - t0,
           1.0 / (t1 - t0), t3 - t2);
    trn_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_store_wal_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_wal_survives_process_death, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_wal_ooo_dups_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_wal_flipped_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_wal_one_huge_series, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_wal_replay_million, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
