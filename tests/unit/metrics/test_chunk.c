/* SPDX-License-Identifier: Apache-2.0 */
/* Gorilla chunk round trips: regular and irregular timestamps, every dod
 * class, NaN payloads (stale markers), infinities, signed zero, and a
 * decoder that must reject truncated streams without reading past them. */
#include "test.h"

#include "metrics/chunk.h"
#include "metrics/store.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t bits_of(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}

static double from_bits(uint64_t u)
{
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static void round_trip(const int64_t *ts, const double *vs, size_t n)
{
    trn_chunk_t c;
    trn_chunk_init(&c);
    for (size_t i = 0; i < n; i++)
        trn_chunk_append(&c, ts[i], vs[i]);
    assert_int_equal(c.n, n);
    trn_chunk_iter_t it;
    trn_chunk_iter_init(&it, c.buf, trn_chunk_bytes(&c), c.n);
    int64_t t;
    double v;
    size_t k = 0;
    while (trn_chunk_next(&it, &t, &v)) {
        assert_true(k < n);
        assert_int_equal(t, ts[k]);
        assert_true(bits_of(v) == bits_of(vs[k]));
        k++;
    }
    assert_false(it.err);
    assert_int_equal(k, n);
    /* Every strict prefix of the byte stream must decode to an error, not
     * to garbage read past the end. */
    for (size_t len = 0; len + 1 < trn_chunk_bytes(&c); len++) {
        trn_chunk_iter_init(&it, c.buf, len, c.n);
        size_t got = 0;
        while (trn_chunk_next(&it, &t, &v))
            got++;
        assert_true(it.err || got == n);
    }
    trn_chunk_fini(&c);
}

static void test_chunk_regular_scrapes(void **state)
{
    (void)state;
    int64_t ts[120];
    double vs[120];
    for (int i = 0; i < 120; i++) {
        ts[i] = 1700000000000 + i * 15000 + (i % 3); /* a little jitter */
        vs[i] = 1000 + i * 0.5;
    }
    round_trip(ts, vs, 120);
}

static void test_chunk_special_values(void **state)
{
    (void)state;
    double stale = from_bits(TRN_STALE_NAN_BITS);
    int64_t ts[] = {-5000, 0, 1, 2, 1000, 1000000, 1000000000, INT64_MAX / 4, INT64_MAX / 2};
    double vs[] = {NAN, stale, INFINITY, -INFINITY, -0.0, 0.0, 1e308, 5e-324, stale};
    round_trip(ts, vs, sizeof ts / sizeof ts[0]);
    assert_true(trn_is_stale_nan(stale));
    assert_false(trn_is_stale_nan(NAN));
}

static void test_chunk_every_dod_class(void **state)
{
    (void)state;
    int64_t deltas[] = {10, 10, 137, 10, 9000, 10, 600000, 10, INT64_C(1) << 40, 1, 1, 2};
    int64_t ts[13];
    double vs[13];
    ts[0] = 100;
    vs[0] = 1;
    for (int i = 0; i < 12; i++) {
        ts[i + 1] = ts[i] + deltas[i];
        vs[i + 1] = (i % 2) ? vs[i] * 3.7 : vs[i];
    }
    round_trip(ts, vs, 13);
}

static void test_chunk_random_values(void **state)
{
    (void)state;
    srand(7);
    int64_t ts[TRN_CHUNK_SAMPLES];
    double vs[TRN_CHUNK_SAMPLES];
    int64_t t = 0;
    for (int i = 0; i < TRN_CHUNK_SAMPLES; i++) {
        t += 1 + rand() % 100000;
        ts[i] = t;
        uint64_t u = ((uint64_t)rand() << 40) ^ ((uint64_t)rand() << 20) ^ (uint64_t)rand();
        vs[i] = (i % 4 == 0) ? from_bits(u) : (double)(rand() % 1000) / 7.0;
    }
    round_trip(ts, vs, TRN_CHUNK_SAMPLES);
}

/* Counters that mostly stand still and sometimes step (histogram
 * buckets): records of one or two bits, so many of them sit in the last
 * 64 bits of the stream, where the decoder reads from a partial window. */
static void test_chunk_mostly_flat_counters(void **state)
{
    (void)state;
    srand(11);
    int64_t ts[TRN_CHUNK_SAMPLES];
    double vs[TRN_CHUNK_SAMPLES];
    int64_t t = 1795557600000;
    double v = 1000;
    for (int i = 0; i < TRN_CHUNK_SAMPLES; i++) {
        t += 15000 + (rand() % 50 == 0 ? rand() % 3000 : 0);
        if (rand() % 9 == 0) v += 1 + rand() % 40;
        if (rand() % 61 == 0) v = v * 1.000123456789;
        ts[i] = t;
        vs[i] = v;
    }
    round_trip(ts, vs, TRN_CHUNK_SAMPLES);
    for (int n = 1; n < 40; n++)
        round_trip(ts, vs, (size_t)n);
}

static void test_chunk_single_sample(void **state)
{
    (void)state;
    int64_t ts[] = {42};
    double vs[] = {3.25};
    round_trip(ts, vs, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunk_regular_scrapes),
        cmocka_unit_test(test_chunk_special_values),
        cmocka_unit_test(test_chunk_every_dod_class),
        cmocka_unit_test(test_chunk_random_values),
        cmocka_unit_test(test_chunk_single_sample),
        cmocka_unit_test(test_chunk_mostly_flat_counters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
