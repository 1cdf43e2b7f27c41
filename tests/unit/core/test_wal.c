/* SPDX-License-Identifier: Apache-2.0 */
/* The WAL: CRC32C vectors, round trips, torn tails, flipped bytes, empty
 * and header-only segments, segment rolling and removal, group commit from
 * several threads, checkpoint files. */
#include "test.h"

#include "core/crc32c.h"
#include "core/err.h"
#include "core/wal.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/trn-test-wal-XXXXXX");
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

typedef struct got {
    int n;
    uint8_t types[4096];
    uint32_t firsts[4096];
    size_t lens[4096];
    int corrupt;
} got_t;

static int on_rec(void *ctx, uint8_t type, const uint8_t *p, size_t len)
{
    got_t *g = ctx;
    if (g->n < 4096) {
        g->types[g->n] = type;
        g->lens[g->n] = len;
        uint32_t f = 0;
        if (len >= 4) memcpy(&f, p, 4);
        g->firsts[g->n] = f;
    }
    g->n++;
    return 0;
}

static void on_bad(void *ctx, const char *path, uint64_t off, const char *why)
{
    (void)path;
    (void)off;
    (void)why;
    ((got_t *)ctx)->corrupt++;
}

static trn_wal_t *open_wal(uint64_t seg_bytes, trn_wal_sync_t mode)
{
    trn_wal_opts_t o = {
        .dir = dir, .segment_bytes = seg_bytes, .sync = mode, .sync_interval_ms = 5};
    trn_wal_t *w;
    assert_int_equal(trn_wal_open(&o, &w, NULL), 0);
    return w;
}

/* Writes n records: type 1 + (i % 3), payload = i as u32 followed by i bytes. */
static void write_records(trn_wal_t *w, int from, int n)
{
    uint8_t buf[600];
    for (int i = from; i < from + n; i++) {
        uint32_t v = (uint32_t)i;
        memcpy(buf, &v, 4);
        memset(buf + 4, i & 0xff, (size_t)(i % 500));
        uint64_t pos = trn_wal_log(w, (uint8_t)(1 + i % 3), buf, 4 + (size_t)(i % 500));
        assert_int_equal(trn_wal_commit(w, pos, NULL), 0);
    }
}

static got_t *replay(trn_wal_replay_stats_t *st)
{
    static got_t g;
    memset(&g, 0, sizeof g);
    memset(st, 0, sizeof *st);
    assert_int_equal(trn_wal_replay_dir(dir, 0, on_rec, on_bad, &g, st, NULL), 0);
    return &g;
}

static void test_crc32c_vectors(void **state)
{
    (void)state;
    assert_int_equal(trn_crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(trn_crc32c(0, "", 0), 0);
    uint8_t zeros[32] = {0};
    assert_int_equal(trn_crc32c(0, zeros, 32), 0x8A9136AAu); /* RFC 3720 B.4 */
    const char *s = "The quick brown fox jumps over the lazy dog, twice over.";
    size_t n = strlen(s);
    assert_int_equal(trn_crc32c(trn_crc32c(0, s, 10), s + 10, n - 10), trn_crc32c(0, s, n));
}

static void test_wal_round_trip(void **state)
{
    (void)state;
    trn_wal_t *w = open_wal(0, TRN_WAL_SYNC_ALWAYS);
    write_records(w, 0, 100);
    trn_wal_stats_t ws;
    trn_wal_stats(w, &ws);
    assert_int_equal(ws.fsyncs, 100);
    trn_wal_close(w);
    trn_wal_replay_stats_t st;
    got_t *g = replay(&st);
    assert_int_equal(g->n, 100);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(g->firsts[i], i);
        assert_int_equal(g->types[i], 1 + i % 3);
        assert_int_equal(g->lens[i], 4 + i % 500);
    }
    assert_int_equal(st.corrupt_records, 0);
    assert_int_equal(st.torn_tails, 0);
}

static void seg_file(char *out, size_t cap, uint32_t seg)
{
    snprintf(out, cap, "%s/%08u", dir, seg);
}

static off_t file_size(const char *p)
{
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    return sb.st_size;
}

static void test_wal_torn_tail_is_cut(void **state)
{
    (void)state;
    trn_wal_t *w = open_wal(0, TRN_WAL_SYNC_NEVER);
    write_records(w, 0, 20);
    trn_wal_close(w);
    char p[300];
    seg_file(p, sizeof p, 1);
    off_t full = file_size(p);
    assert_int_equal(truncate(p, full - 7), 0); /* the last write was interrupted */
    trn_wal_replay_stats_t st;
    got_t *g = replay(&st);
    assert_int_equal(g->n, 19);
    assert_int_equal(st.torn_tails, 1);
    assert_int_equal(g->corrupt, 0);
    off_t cut = file_size(p);
    assert_true(cut < full - 7);
    /* A second replay sees a clean file; a new writer continues in segment 2. */
    g = replay(&st);
    assert_int_equal(g->n, 19);
    assert_int_equal(st.torn_tails, 0);
    w = open_wal(0, TRN_WAL_SYNC_NEVER);
    assert_int_equal(trn_wal_segment(w), 2);
    write_records(w, 100, 5);
    trn_wal_close(w);
    g = replay(&st);
    assert_int_equal(g->n, 24);
    assert_int_equal(g->firsts[19], 100);
}

static void test_wal_flipped_byte_skips_one_record(void **state)
{
    (void)state;
    trn_wal_t *w = open_wal(0, TRN_WAL_SYNC_NEVER);
    write_records(w, 0, 50);
    trn_wal_close(w);
    char p[300];
    seg_file(p, sizeof p, 1);
    /* Records are 13 + i%500 bytes; flip a payload byte inside record 10. */
    off_t off = 8;
    for (int i = 0; i < 10; i++)
        off += 13 + i % 500;
    int fd = open(p, O_RDWR);
    uint8_t b;
    assert_int_equal(pread(fd, &b, 1, off + 12), 1);
    b ^= 0x40;
    assert_int_equal(pwrite(fd, &b, 1, off + 12), 1);
    close(fd);
    trn_wal_replay_stats_t st;
    got_t *g = replay(&st);
    assert_int_equal(g->n, 49);
    assert_int_equal(g->corrupt, 1);
    assert_int_equal(st.corrupt_records, 1);
    assert_int_equal(g->firsts[9], 9);
    assert_int_equal(g->firsts[10], 11);
}

static void test_wal_empty_and_header_only_segments(void **state)
{
    (void)state;
    char p[300];
    seg_file(p, sizeof p, 1);
    int fd = open(p, O_CREAT | O_WRONLY, 0644); /* 0 bytes */
    close(fd);
    seg_file(p, sizeof p, 2);
    fd = open(p, O_CREAT | O_WRONLY, 0644);
    assert_int_equal(write(fd, "TRNW\1\0\0\0", 8), 8);
    close(fd);
    seg_file(p, sizeof p, 3);
    fd = open(p, O_CREAT | O_WRONLY, 0644);
    assert_int_equal(write(fd, "TRN", 3), 3); /* torn header */
    close(fd);
    seg_file(p, sizeof p, 4);
    fd = open(p, O_CREAT | O_WRONLY, 0644);
    assert_int_equal(write(fd, "XXXX\1\0\0\0garbage", 15), 15); /* not a segment */
    close(fd);
    trn_wal_replay_stats_t st;
    got_t *g = replay(&st);
    assert_int_equal(g->n, 0);
    assert_int_equal(st.files, 4);
    assert_int_equal(g->corrupt, 1);
    trn_wal_t *w = open_wal(0, TRN_WAL_SYNC_ALWAYS);
    assert_int_equal(trn_wal_segment(w), 5);
    write_records(w, 0, 3);
    trn_wal_close(w);
    g = replay(&st);
    assert_int_equal(g->n, 3);
}

static void test_wal_rolls_and_removes_segments(void **state)
{
    (void)state;
    trn_wal_t *w = open_wal(4096, TRN_WAL_SYNC_INTERVAL);
    write_records(w, 0, 200);
    uint32_t cur = trn_wal_segment(w);
    assert_true(cur > 5);
    int64_t next = trn_wal_roll(w, NULL);
    assert_int_equal(next, cur + 1);
    write_records(w, 200, 10);
    trn_wal_close(w);
    trn_wal_replay_stats_t st;
    got_t *g = replay(&st);
    assert_int_equal(g->n, 210);
    for (int i = 0; i < 210; i++)
        assert_int_equal(g->firsts[i], i);
    w = open_wal(4096, TRN_WAL_SYNC_INTERVAL);
    assert_int_equal(trn_wal_remove_before(w, (uint32_t)next, NULL), 0);
    trn_wal_close(w);
    g = replay(&st);
    assert_int_equal(g->n, 10);
    assert_int_equal(g->firsts[0], 200);
}

typedef struct thr {
    trn_wal_t *w;
    int id;
} thr_t;

static void *writer(void *arg)
{
    thr_t *t = arg;
    for (int i = 0; i < 200; i++) {
        uint32_t v = (uint32_t)(t->id * 1000 + i);
        uint64_t pos = trn_wal_log(t->w, 1, &v, 4);
        if (trn_wal_commit(t->w, pos, NULL) != 0) return (void *)1;
    }
    return NULL;
}

static void test_wal_group_commit_threads(void **state)
{
    (void)state;
    trn_wal_t *w = open_wal(0, TRN_WAL_SYNC_ALWAYS);
    pthread_t th[4];
    thr_t args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (thr_t){w, i};
        pthread_create(&th[i], NULL, writer, &args[i]);
    }
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(th[i], &r);
        assert_null(r);
    }
    trn_wal_stats_t ws;
    trn_wal_stats(w, &ws);
    assert_true(ws.fsyncs <= 800);
    trn_wal_close(w);
    trn_wal_replay_stats_t st;
    got_t *g = replay(&st);
    assert_int_equal(g->n, 800);
    int next[4] = {0};
    for (int i = 0; i < 800; i++) { /* per-thread order is kept */
        int t = (int)g->firsts[i] / 1000, k = (int)g->firsts[i] % 1000;
        assert_int_equal(k, next[t]);
        next[t]++;
    }
}

static void test_wal_checkpoint_file(void **state)
{
    (void)state;
    char p[300];
    snprintf(p, sizeof p, "%s/checkpoint.00000007", dir);
    trn_wal_file_t *f;
    assert_int_equal(trn_wal_file_create(p, &f, NULL), 0);
    for (uint32_t i = 0; i < 5000; i++)
        assert_int_equal(trn_wal_file_add(f, 2, &i, 4, NULL), 0);
    assert_int_equal(trn_wal_file_commit(f, NULL), 0);
    got_t g = {0};
    trn_wal_replay_stats_t st = {0};
    assert_int_equal(trn_wal_replay_file(p, on_rec, on_bad, &g, &st, NULL), 0);
    assert_int_equal(g.n, 5000);
    assert_int_equal(g.firsts[4095], 4095);
    /* segments listing ignores the checkpoint */
    uint32_t *segs;
    size_t n;
    assert_int_equal(trn_wal_list(dir, &segs, &n, NULL), 0);
    assert_int_equal(n, 0);
    free(segs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c_vectors),
        cmocka_unit_test_setup_teardown(test_wal_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wal_torn_tail_is_cut, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wal_flipped_byte_skips_one_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wal_empty_and_header_only_segments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wal_rolls_and_removes_segments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wal_group_commit_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wal_checkpoint_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
