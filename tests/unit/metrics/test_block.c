/* SPDX-License-Identifier: Apache-2.0 */
/* Metric blocks: write/read round trips (bit-exact values including NaN,
 * infinities and stale markers), the block's label index against a
 * brute-force oracle, bytes per sample, and corruption detected as
 * TRN_ECORRUPT naming the file and offset. */
#include "test.h"

#include "core/crc32c.h"
#include "core/err.h"
#include "core/postings.h"
#include "metrics/block.h"
#include "metrics/senc.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256], path[300];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/trn-test-block-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/0000000000000001.blk", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static uint64_t bits(double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    return u;
}

enum { NS = 400, NP = 240 };
static char names[NS][3][24];
static trn_label_t lab[NS][3];
static trn_sample_t smp[NS][NP];

/* Series i: {__name__="m<i%7>", instance="host-<i>", job="<a|b|c>"}; values
 * vary by kind: counters, decimal gauges, random floats, specials. */
static void make_data(void)
{
    srand(5);
    for (int i = 0; i < NS; i++) {
        snprintf(names[i][0], 24, "m%d", i % 7);
        snprintf(names[i][1], 24, "host-%04d", i);
        snprintf(names[i][2], 24, "%c", 'a' + i % 3);
        lab[i][0] = (trn_label_t){TRN_STR("__name__"), trn_str_c(names[i][0])};
        lab[i][1] = (trn_label_t){TRN_STR("instance"), trn_str_c(names[i][1])};
        lab[i][2] = (trn_label_t){TRN_STR("job"), trn_str_c(names[i][2])};
        double c = 0;
        for (int j = 0; j < NP; j++) {
            int64_t t = 1700000000000 + j * 15000 + rand() % 5;
            double v;
            switch (i % 4) {
            case 0:
                c += rand() % 100;
                v = c;
                break;
            case 1:
                v = (rand() % 10000) / 100.0;
                break;
            case 2:
                v = (double)rand() / RAND_MAX;
                break;
            default:
                v = j % 5 == 0 ? NAN : j % 7 == 0 ? -INFINITY : j * 0.5;
                break;
            }
            smp[i][j] = (trn_sample_t){t, v};
        }
        uint64_t sb = TRN_STALE_NAN_BITS;
        memcpy(&smp[i][NP - 1].v, &sb, 8);
    }
}

static int cmp_idx(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    trn_labels_t lx = {lab[x], 3}, ly = {lab[y], 3};
    return trn_labels_cmp(&lx, &ly);
}

static int order[NS];

static trn_block_meta_t write_block(void)
{
    make_data();
    for (int i = 0; i < NS; i++)
        order[i] = i;
    qsort(order, NS, sizeof *order, cmp_idx);
    trn_block_writer_t *w;
    assert_int_equal(trn_block_writer_new(path, 5, &w, NULL), 0);
    for (int k = 0; k < NS; k++) {
        int i = order[k];
        trn_labels_t ls = {lab[i], 3};
        assert_int_equal(trn_block_writer_add(w, &ls, smp[i], NP, NULL), 0);
    }
    trn_block_meta_t m;
    assert_int_equal(trn_block_writer_finish(w, 0, &m, NULL), 0);
    return m;
}

static void test_block_round_trip(void **state)
{
    (void)state;
    trn_block_meta_t m = write_block();
    assert_int_equal(m.n_series, NS);
    assert_int_equal(m.n_samples, NS * NP);
    printf("# block: %llu bytes, %.3f bytes/sample over %d series x %d samples\n",
           (unsigned long long)m.bytes, (double)m.bytes / (NS * NP), NS, NP);
    trn_block_t *b;
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(trn_block_open(path, &b, &d), 0);
    assert_int_equal(trn_block_meta(b)->n_series, NS);
    trn_block_cache_t c = {0};
    trn_arena_t *a = trn_arena_new(0);
    for (uint32_t id = 0; id < NS; id++) {
        int i = order[id];
        trn_labels_t ls, want = {lab[i], 3};
        int64_t mn, mx;
        assert_int_equal(trn_block_series(b, id, a, &ls, &mn, &mx, NULL), 0);
        assert_true(trn_labels_equal(&ls, &want));
        assert_int_equal(mn, smp[i][0].t_ms);
        assert_int_equal(mx, smp[i][NP - 1].t_ms);
        trn_sample_t *got;
        size_t n;
        assert_int_equal(trn_block_samples(b, id, INT64_MIN, INT64_MAX, &c, a, &got, &n, NULL), 0);
        assert_int_equal(n, NP);
        for (int j = 0; j < NP; j++) {
            assert_int_equal(got[j].t_ms, smp[i][j].t_ms);
            assert_true(bits(got[j].v) == bits(smp[i][j].v));
        }
        assert_int_equal(
            trn_block_samples(b, id, smp[i][10].t_ms, smp[i][20].t_ms, &c, a, &got, &n, NULL), 0);
        assert_int_equal(n, 11);
    }
    /* The index against an oracle. */
    trn_postings_src_t src = trn_block_src(b);
    const char *pats[] = {"m1|m3", "host-00.*", ".*", "a"};
    for (int r = 0; r < 40; r++) {
        trn_matcher_t ms[2];
        trn_match_type_t t0 = (trn_match_type_t)(r % 4), t1 = (trn_match_type_t)((r / 4) % 4);
        const char *n0 = r % 2 ? "__name__" : "instance", *n1 = r % 3 ? "job" : "zone";
        const char *v0 = t0 >= TRN_MATCH_RE ? pats[r % 4] : names[r % NS][0];
        const char *v1 = t1 >= TRN_MATCH_RE ? pats[(r + 1) % 4] : "b";
        assert_int_equal(trn_matcher_init(&ms[0], t0, trn_str_c(n0), trn_str_c(v0), NULL), 0);
        assert_int_equal(trn_matcher_init(&ms[1], t1, trn_str_c(n1), trn_str_c(v1), NULL), 0);
        trn_ids_t ids = {0};
        assert_int_equal(trn_postings_select(&src, ms, 2, &ids), 0);
        size_t expect = 0;
        for (uint32_t id = 0; id < NS; id++) {
            trn_labels_t ls = {lab[order[id]], 3};
            if (trn_matcher_matches_labels(&ms[0], &ls) &&
                trn_matcher_matches_labels(&ms[1], &ls)) {
                assert_true(expect < ids.n);
                assert_int_equal(ids.v[expect], id);
                expect++;
            }
        }
        assert_int_equal(ids.n, expect);
        trn_ids_fini(&ids);
        trn_matcher_fini(&ms[0]);
        trn_matcher_fini(&ms[1]);
    }
    trn_arena_free(a);
    trn_block_cache_fini(&c);
    trn_block_unref(b);
}

static void flip(off_t off)
{
    int fd = open(path, O_RDWR);
    uint8_t x;
    assert_int_equal(pread(fd, &x, 1, off), 1);
    x ^= 0x10;
    assert_int_equal(pwrite(fd, &x, 1, off), 1);
    close(fd);
}

static off_t fsize(void)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    return sb.st_size;
}

static void test_block_corruption_detected(void **state)
{
    (void)state;
    write_block();
    off_t size = fsize();
    trn_block_t *b;
    trn_diag_t d;
    /* A byte in the index sections (just before the footer). */
    flip(size - TRN_BLOCK_FOOTER_BYTES - 3);
    trn_diag_init(&d);
    assert_int_equal(trn_block_open(path, &b, &d), TRN_ECORRUPT);
    assert_non_null(strstr(d.msg, path));
    assert_non_null(strstr(d.msg, "offset"));
    assert_true(d.offset > 0);
    flip(size - TRN_BLOCK_FOOTER_BYTES - 3);
    /* The footer. */
    flip(size - 100);
    trn_diag_init(&d);
    assert_int_equal(trn_block_open(path, &b, &d), TRN_ECORRUPT);
    assert_int_equal(d.offset, size - 4);
    flip(size - 100);
    /* A byte in the first page: open succeeds, reading that page fails. */
    flip(40);
    trn_diag_init(&d);
    assert_int_equal(trn_block_open(path, &b, &d), 0);
    trn_block_cache_t c = {0};
    trn_arena_t *a = trn_arena_new(0);
    trn_sample_t *got;
    size_t n;
    trn_diag_init(&d);
    assert_int_equal(trn_block_samples(b, 0, INT64_MIN, INT64_MAX, &c, a, &got, &n, &d),
                     TRN_ECORRUPT);
    assert_non_null(strstr(d.msg, "page checksum"));
    assert_int_equal(d.offset, 8);
    trn_arena_free(a);
    trn_block_cache_fini(&c);
    trn_block_unref(b);
    /* Truncated files. */
    assert_int_equal(truncate(path, size - 1), 0);
    assert_int_equal(trn_block_open(path, &b, NULL), TRN_ECORRUPT);
    assert_int_equal(truncate(path, 10), 0);
    assert_int_equal(trn_block_open(path, &b, NULL), TRN_ECORRUPT);
}

static void w32le(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Found by fuzz_block_reader: a page index entry announcing 0 decompressed
 * bytes, with every checksum made consistent. Must be TRN_ECORRUPT. */
static void test_block_empty_page_is_corrupt(void **state)
{
    (void)state;
    write_block();
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)size);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    uint8_t *foot = buf + size - TRN_BLOCK_FOOTER_BYTES;
    uint64_t pi_off = 0, pi_len = 0;
    for (int i = 0; i < 8; i++) {
        pi_off |= (uint64_t)foot[68 + i] << (8 * i);
        pi_len |= (uint64_t)foot[76 + i] << (8 * i);
    }
    w32le(buf + pi_off + 12, 0); /* ulen of page 0 */
    w32le(foot + 84, trn_crc32c(0, buf + pi_off, pi_len));
    w32le(foot + 188, trn_crc32c(0, foot, 188));
    f = fopen(path, "wb");
    fwrite(buf, 1, (size_t)size, f);
    fclose(f);
    free(buf);
    trn_block_t *b;
    assert_int_equal(trn_block_open(path, &b, NULL), 0);
    trn_block_cache_t c = {0};
    trn_arena_t *a = trn_arena_new(0);
    trn_sample_t *got;
    size_t n;
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(trn_block_samples(b, 0, INT64_MIN, INT64_MAX, &c, a, &got, &n, &d),
                     TRN_ECORRUPT);
    assert_non_null(strstr(d.msg, "page out of bounds"));
    trn_arena_free(a);
    trn_block_cache_fini(&c);
    trn_block_unref(b);
}

static void test_senc_modes(void **state)
{
    (void)state;
    trn_sample_t in[300], out[300];
    trn_buf_t b;
    trn_buf_init(&b);
    for (int mode = 0; mode < 4; mode++) {
        for (int i = 0; i < 300; i++) {
            double v = mode == 0   ? i * 0.1
                       : mode == 1 ? 1e300 * i
                       : mode == 2 ? -0.0
                                   : 12345678901.5;
            in[i] = (trn_sample_t){(int64_t)i * 1000 - 5000, v};
        }
        b.len = 0;
        trn_senc_encode(in, 300, &b);
        assert_int_equal(trn_senc_count((uint8_t *)b.data, b.len), 300);
        assert_int_equal(trn_senc_decode((uint8_t *)b.data, b.len, out), 300);
        for (int i = 0; i < 300; i++) {
            assert_int_equal(out[i].t_ms, in[i].t_ms);
            assert_true(bits(out[i].v) == bits(in[i].v));
        }
        trn_sample_t part[300];
        size_t first;
        assert_int_equal(trn_senc_decode_range((uint8_t *)b.data, b.len, in[100].t_ms, in[109].t_ms,
                                               part, &first),
                         10);
        assert_int_equal(first, 100);
        for (int i = 100; i < 110; i++)
            assert_true(part[i].t_ms == in[i].t_ms && bits(part[i].v) == bits(in[i].v));
        for (size_t cut = 0; cut < b.len; cut++) /* truncations never decode past the end */
            assert_true(trn_senc_decode((uint8_t *)b.data, cut, out) < 300 ||
                        trn_senc_decode((uint8_t *)b.data, cut, out) == 300);
    }
    trn_buf_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_block_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_block_corruption_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_block_empty_page_is_corrupt, setup, teardown),
        cmocka_unit_test(test_senc_modes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
