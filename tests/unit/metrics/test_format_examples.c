/* SPDX-License-Identifier: Apache-2.0 */
/* Decodes the worked hex examples of docs/format/wal.md,
 * metrics-wal-records.md and metric-chunk.md, byte for byte, so the pages
 * cannot drift from the code. */
#include "test.h"

#include "core/wal.h"
#include "metrics/chunk.h"
#include "metrics/store.h"
#include "metrics/walrec.h"

#include <string.h>

static const uint8_t wal_example[] = {
    0x54, 0x52, 0x4e, 0x57, 0x01, 0x00, 0x00, 0x00,       /* header */
    0x0e, 0x00, 0x00, 0x00, 0x73, 0x25, 0xfc, 0x63, 0x01, /* SERIES */
    0x01, 0x01, 0x08, 0x5f, 0x5f, 0x6e, 0x61, 0x6d, 0x65, 0x5f, 0x5f, 0x02,
    0x75, 0x70, 0x18, 0x00, 0x00, 0x00, 0x60, 0xef, 0x93, 0xd7, 0x02, /* SAMPLES */
    0xd0, 0x0f, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f,
    0x01, 0xb0, 0xea, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x7f,
};

typedef struct seen {
    int series, samples;
    int64_t t[4];
    double v[4];
} seen_t;

static int on_series(void *ctx, uint32_t id, const trn_labels_t *ls)
{
    seen_t *s = ctx;
    assert_int_equal(id, 1);
    assert_int_equal(ls->n, 1);
    assert_true(trn_str_eqc(ls->v[0].name, "__name__"));
    assert_true(trn_str_eqc(ls->v[0].value, "up"));
    s->series++;
    return 0;
}

static int on_sample(void *ctx, uint32_t id, int64_t t, double v)
{
    seen_t *s = ctx;
    assert_int_equal(id, 1);
    s->t[s->samples] = t;
    s->v[s->samples] = v;
    s->samples++;
    return 0;
}

static int on_record(void *ctx, uint8_t type, const uint8_t *p, size_t len)
{
    if (type == TRN_WALREC_SERIES)
        assert_int_equal(trn_walrec_decode_series(p, len, on_series, ctx, NULL), 0);
    else if (type == TRN_WALREC_SAMPLES)
        assert_int_equal(trn_walrec_decode_samples(p, len, on_sample, ctx, NULL), 0);
    else
        fail();
    return 0;
}

static void test_format_wal_example(void **state)
{
    (void)state;
    seen_t s = {0};
    trn_wal_replay_stats_t st = {0};
    size_t keep;
    assert_int_equal(
        trn_wal_scan(wal_example, sizeof wal_example, "example", on_record, NULL, &s, &st, &keep),
        0);
    assert_int_equal(keep, sizeof wal_example);
    assert_int_equal(st.records, 2);
    assert_int_equal(s.series, 1);
    assert_int_equal(s.samples, 2);
    assert_int_equal(s.t[0], 1000);
    assert_true(s.v[0] == 1.0);
    assert_int_equal(s.t[1], 16000);
    assert_true(trn_is_stale_nan(s.v[1]));
    /* The encoders produce the same bytes. */
    trn_buf_t b;
    trn_buf_init(&b);
    trn_label_t lv[] = {{TRN_STR("__name__"), TRN_STR("up")}};
    trn_labels_t ls = {lv, 1};
    trn_walrec_put_series(&b, 1, &ls);
    assert_memory_equal(b.data, wal_example + 17, 14);
    b.len = 0;
    trn_walrec_samples_begin(&b, 1000);
    trn_walrec_put_sample(&b, 1000, 1, 1000, 1.0);
    trn_walrec_put_sample(&b, 1000, 1, 16000, s.v[1]);
    assert_memory_equal(b.data, wal_example + 40, 24);
    trn_buf_fini(&b);
}

static void test_format_chunk_example(void **state)
{
    (void)state;
    static const uint8_t ex[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe8,
                                 0x3f, 0xf0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                 0xe0, 0x3a, 0x98, 0x41, 0x58, 0x26, 0x7f, 0xf4};
    trn_chunk_iter_t it;
    trn_chunk_iter_init(&it, ex, sizeof ex, 3);
    int64_t t[3];
    double v[3];
    for (int i = 0; i < 3; i++)
        assert_true(trn_chunk_next(&it, &t[i], &v[i]));
    assert_false(trn_chunk_next(&it, &t[0], &v[0]));
    assert_false(it.err);
    assert_int_equal(t[0], 1000);
    assert_int_equal(t[1], 16000);
    assert_int_equal(t[2], 31010);
    assert_true(v[0] == 1.0 && v[1] == 1.0 && v[2] == 2.5);
    trn_chunk_t c;
    trn_chunk_init(&c);
    trn_chunk_append(&c, 1000, 1.0);
    trn_chunk_append(&c, 16000, 1.0);
    trn_chunk_append(&c, 31010, 2.5);
    assert_int_equal(c.nbits, 190);
    assert_memory_equal(c.buf, ex, sizeof ex);
    trn_chunk_fini(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_wal_example),
        cmocka_unit_test(test_format_chunk_example),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
