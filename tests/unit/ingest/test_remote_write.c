/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the remote_write decoder: valid requests built by the test
 * encoder (labels, samples, metadata, skipped exemplars and histograms),
 * label normalisation (sorting, empty values), series dropped for invalid
 * labels with reasons and offsets, and a table of malformed bodies. */
#include "test.h"

#include "core/err.h"
#include "ingest/remote_write.h"
#include "pbenc.h"

#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>

/* Appends a TimeSeries with the given "name=value" labels and samples. */
static void add_series(trn_buf_t *req, const char *const *kv, size_t n_kv, const double *v,
                       const int64_t *t, size_t n)
{
    trn_buf_t ts, m;
    trn_buf_init(&ts);
    trn_buf_init(&m);
    for (size_t i = 0; i + 1 < n_kv; i += 2) {
        pbenc_str(&m, 1, kv[i]);
        pbenc_str(&m, 2, kv[i + 1]);
        pbenc_msg(&ts, 1, &m);
    }
    for (size_t i = 0; i < n; i++) {
        pbenc_double(&m, 1, v[i]);
        pbenc_uint(&m, 2, (uint64_t)t[i]);
        pbenc_msg(&ts, 2, &m);
    }
    pbenc_msg(req, 1, &ts);
    trn_buf_fini(&ts);
    trn_buf_fini(&m);
}

static char *compress(const trn_buf_t *b, size_t *len)
{
    size_t cap = snappy_max_compressed_length(b->len);
    char *out = malloc(cap);
    *len = cap;
    assert_int_equal(snappy_compress(b->data ? b->data : "", b->len, out, len), SNAPPY_OK);
    return out;
}

static void test_remote_write_decodes_series_and_metadata(void **state)
{
    (void)state;
    trn_buf_t req, x, m;
    trn_buf_init(&req);
    trn_buf_init(&x);
    trn_buf_init(&m);
    const char *l1[] = {"__name__", "up", "instance", "a:9100", "job", "node"};
    double v1[] = {1, 0};
    int64_t t1[] = {1700000000000, -5};
    add_series(&req, l1, 6, v1, t1, 2);
    /* Unsorted labels, one with an empty value, an exemplar and a histogram. */
    pbenc_str(&m, 1, "zone");
    pbenc_str(&m, 2, "eu");
    pbenc_msg(&x, 1, &m);
    pbenc_str(&m, 1, "__name__");
    pbenc_str(&m, 2, "temp_celsius");
    pbenc_msg(&x, 1, &m);
    pbenc_str(&m, 1, "empty");
    pbenc_msg(&x, 1, &m);
    pbenc_double(&m, 1, 21.5);
    pbenc_uint(&m, 2, 1000);
    pbenc_msg(&x, 2, &m);
    pbenc_double(&m, 2, 3);
    pbenc_msg(&x, 3, &m);
    pbenc_uint(&m, 1, 5);
    pbenc_msg(&x, 4, &m);
    pbenc_uint(&x, 99, 1); /* unknown field: skipped */
    pbenc_msg(&req, 1, &x);
    /* A series with only a histogram is not appended. */
    pbenc_str(&m, 1, "__name__");
    pbenc_str(&m, 2, "h");
    pbenc_msg(&x, 1, &m);
    pbenc_uint(&m, 1, 5);
    pbenc_msg(&x, 4, &m);
    pbenc_msg(&req, 1, &x);
    /* Metadata. */
    pbenc_uint(&m, 1, 1);
    pbenc_str(&m, 2, "http_requests_total");
    pbenc_str(&m, 4, "Requests.");
    pbenc_str(&m, 5, "requests");
    pbenc_msg(&req, 3, &m);

    size_t clen;
    char *body = compress(&req, &clen);
    trn_arena_t *a = trn_arena_new(0);
    trn_rw_result_t res;
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(trn_rw_decode_snappy(body, clen, NULL, a, &res, &d), 0);
    assert_int_equal(res.n_series, 2);
    assert_int_equal(res.n_samples, 3);
    assert_int_equal(res.dropped_series, 0);
    assert_int_equal(res.exemplars_skipped, 1);
    assert_int_equal(res.histograms_skipped, 2);

    const trn_append_series_t *s = &res.series[0];
    assert_int_equal(s->labels.n, 3);
    assert_true(trn_str_eqc(s->labels.v[0].name, "__name__"));
    assert_true(trn_str_eqc(s->labels.v[0].value, "up"));
    assert_true(trn_str_eqc(s->labels.v[2].value, "node"));
    assert_int_equal(s->n_samples, 2);
    assert_true(s->samples[0].v == 1 && s->samples[0].t_ms == 1700000000000);
    assert_true(s->samples[1].v == 0 && s->samples[1].t_ms == -5);

    s = &res.series[1];
    assert_int_equal(s->labels.n, 2); /* "empty" dropped */
    assert_true(trn_str_eqc(s->labels.v[0].name, "__name__"));
    assert_true(trn_str_eqc(s->labels.v[1].name, "zone"));
    assert_true(s->samples[0].v == 21.5 && s->samples[0].t_ms == 1000);

    assert_int_equal(res.n_meta, 1);
    assert_true(trn_str_eqc(res.meta[0].metric, "http_requests_total"));
    assert_true(trn_str_eqc(res.meta[0].type, "counter"));
    assert_true(trn_str_eqc(res.meta[0].help, "Requests."));
    assert_true(trn_str_eqc(res.meta[0].unit, "requests"));

    free(body);
    trn_arena_free(a);
    trn_buf_fini(&req);
    trn_buf_fini(&x);
    trn_buf_fini(&m);
}

static void test_remote_write_drops_invalid_series(void **state)
{
    (void)state;
    static const struct {
        const char *kv[6];
        size_t n;
        trn_rw_drop_t why;
        const char *msg;
    } cases[] = {
        {{"__name__", "up", "", "x"}, 4, TRN_RW_DROP_EMPTY_LABEL_NAME, "empty label name"},
        {{"__name__", "up", "1x", "x"},
         4,
         TRN_RW_DROP_INVALID_LABEL_NAME,
         "invalid label name \"1x\""},
        {{"__name__", "up", "a-b", "x"},
         4,
         TRN_RW_DROP_INVALID_LABEL_NAME,
         "invalid label name \"a-b\""},
        {{"__name__", "up", "job", "a", "job", "b"},
         6,
         TRN_RW_DROP_DUPLICATE_LABEL_NAME,
         "duplicate label name \"job\""},
        {{"job", "a"}, 2, TRN_RW_DROP_MISSING_METRIC_NAME, "without a metric name"},
        {{"__name__", "", "job", "a"}, 4, TRN_RW_DROP_MISSING_METRIC_NAME, "without a metric name"},
        {{"__name__", "9up"}, 2, TRN_RW_DROP_INVALID_METRIC_NAME, "invalid metric name \"9up\""},
        {{"__name__", "up", "job", "\xff"}, 4, TRN_RW_DROP_INVALID_UTF8, "invalid UTF-8"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        trn_buf_t req;
        trn_buf_init(&req);
        const char *good[] = {"__name__", "ok:total"};
        double v = 1;
        int64_t t = 1;
        add_series(&req, good, 2, &v, &t, 1);
        add_series(&req, cases[i].kv, cases[i].n, &v, &t, 1);
        trn_arena_t *a = trn_arena_new(0);
        trn_rw_result_t res;
        trn_diag_t d;
        trn_diag_init(&d);
        assert_int_equal(trn_rw_decode(req.data, req.len, NULL, a, &res, &d), 0);
        assert_int_equal(res.n_series, 1);
        assert_int_equal(res.dropped_series, 1);
        assert_int_equal(res.dropped_samples, 1);
        assert_int_equal(res.dropped[cases[i].why], 1);
        if (!strstr(res.drop.msg, cases[i].msg)) fail_msg("case %zu: got \"%s\"", i, res.drop.msg);
        assert_true(res.drop.offset > 0 && (size_t)res.drop.offset < req.len);
        trn_arena_free(a);
        trn_buf_fini(&req);
    }
}

static void test_remote_write_rejects_malformed(void **state)
{
    (void)state;
    /* Protobuf bodies (uncompressed); each must be rejected with the message. */
    static const struct {
        const char *in;
        size_t len;
        const char *msg;
    } cases[] = {
        {"\x0a\x05\x0a\x03", 4, "claims 5 bytes"}, /* truncated TimeSeries */
        {"\x0a\x02\x0a\x05", 4, "claims 5 bytes"}, /* truncated Label */
        {"\x08\x01", 2, "WriteRequest.timeseries (field 1) has wire type varint"},
        {"\x0a\x02\x08\x01", 4, "TimeSeries.labels (field 1) has wire type varint"},
        {"\x0a\x04\x12\x02\x08\x01", 6, "Sample.value (field 1) has wire type varint"},
        {"\x0a\x04\x12\x02\x11\x01", 6, "truncated fixed64"},
        {"\x0a\x04\x0a\x02\x08\x01", 6, "Label.name (field 1) has wire type varint"},
        {"\x1a\x02\x10\x01", 4, "MetricMetadata.metric_family_name (field 2) has wire type"},
        {"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 10, "claims"},
        {"\x0a\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80", 11, "overflows 64 bits"},
        {"\x0b\x0c", 2, "start-group"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        trn_arena_t *a = trn_arena_new(0);
        trn_rw_result_t res;
        trn_diag_t d;
        trn_diag_init(&d);
        int rc = trn_rw_decode(cases[i].in, cases[i].len, NULL, a, &res, &d);
        if (rc != TRN_EINVAL || !strstr(d.msg, cases[i].msg))
            fail_msg("case %zu: rc %d, got \"%s\"", i, rc, d.msg);
        assert_non_null(strstr(d.msg, "byte offset"));
        trn_arena_free(a);
    }
}

static void test_remote_write_bad_snappy(void **state)
{
    (void)state;
    trn_arena_t *a = trn_arena_new(0);
    trn_rw_result_t res;
    trn_diag_t d;
    /* Not snappy at all (a varint header that never ends). */
    trn_diag_init(&d);
    assert_int_equal(trn_rw_decode_snappy("\xff\xff\xff\xff\xff\xff", 6, NULL, a, &res, &d),
                     TRN_EINVAL);
    assert_non_null(strstr(d.msg, "snappy"));
    /* A header that promises more than the data holds. */
    trn_diag_init(&d);
    assert_int_equal(trn_rw_decode_snappy("\x10\x0c"
                                          "abcd",
                                          6, NULL, a, &res, &d),
                     TRN_EINVAL);
    assert_non_null(strstr(d.msg, "snappy: corrupt"));
    /* A header claiming more than the limit is refused before allocating. */
    trn_diag_init(&d);
    trn_rw_limits_t lim = {.max_decoded_bytes = 1000};
    assert_int_equal(trn_rw_decode_snappy("\xff\xff\x7f", 3, &lim, a, &res, &d), TRN_ELIMIT);
    assert_non_null(strstr(d.msg, "exceeds the limit"));
    /* An empty body is a valid empty request. */
    trn_diag_init(&d);
    assert_int_equal(trn_rw_decode_snappy("\x00", 1, NULL, a, &res, &d), 0);
    assert_int_equal(res.n_series, 0);
    trn_arena_free(a);
}

static void test_remote_write_budget_is_a_limit(void **state)
{
    (void)state;
    trn_buf_t req;
    trn_buf_init(&req);
    const char *kv[] = {"__name__", "m"};
    double v = 1;
    int64_t t = 1;
    for (int i = 0; i < 1000; i++)
        add_series(&req, kv, 2, &v, &t, 1);
    trn_arena_t *a = trn_arena_new(4096);
    trn_rw_result_t res;
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(trn_rw_decode(req.data, req.len, NULL, a, &res, &d), TRN_ELIMIT);
    trn_arena_free(a);
    trn_buf_fini(&req);
}

static void test_remote_write_too_many_labels(void **state)
{
    (void)state;
    trn_buf_t req;
    trn_buf_init(&req);
    const char *kv[] = {"__name__", "m", "a", "1", "b", "2"};
    double v = 1;
    int64_t t = 1;
    add_series(&req, kv, 6, &v, &t, 1);
    trn_arena_t *a = trn_arena_new(0);
    trn_rw_result_t res;
    trn_diag_t d;
    trn_diag_init(&d);
    trn_rw_limits_t lim = {.max_labels = 2};
    assert_int_equal(trn_rw_decode(req.data, req.len, &lim, a, &res, &d), 0);
    assert_int_equal(res.dropped[TRN_RW_DROP_TOO_MANY_LABELS], 1);
    assert_string_equal(trn_rw_drop_name(TRN_RW_DROP_TOO_MANY_LABELS), "too_many_labels");
    trn_arena_free(a);
    trn_buf_fini(&req);
}

static void test_remote_write_field_order_and_long_forms(void **state)
{
    (void)state;
    /* Fields in unusual order, a label with name after value, lengths and
     * tags in multi-byte form: all must decode like the common shapes. */
    trn_buf_t req, ts, m;
    trn_buf_init(&req);
    trn_buf_init(&ts);
    trn_buf_init(&m);
    pbenc_str(&m, 2, "up");
    pbenc_str(&m, 1, "__name__");
    pbenc_msg(&ts, 1, &m);
    char longval[300];
    memset(longval, 'v', sizeof longval - 1);
    longval[sizeof longval - 1] = 0;
    pbenc_str(&m, 1, "long");
    pbenc_str(&m, 2, longval);
    pbenc_msg(&ts, 1, &m);
    pbenc_uint(&m, 2, 1234567890123);
    pbenc_double(&m, 1, 4.25);
    pbenc_msg(&ts, 2, &m);
    pbenc_double(&m, 1, 1.5);
    pbenc_uint(&m, 2, 77);
    pbenc_uint(&m, 200, 1); /* unknown field with a two-byte tag */
    pbenc_msg(&ts, 2, &m);
    pbenc_msg(&req, 1, &ts);
    trn_arena_t *a = trn_arena_new(0);
    trn_rw_result_t res;
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(trn_rw_decode(req.data, req.len, NULL, a, &res, &d), 0);
    assert_int_equal(res.n_series, 1);
    const trn_append_series_t *s = &res.series[0];
    assert_true(trn_str_eqc(s->labels.v[0].value, "up"));
    assert_int_equal(s->labels.v[1].value.len, 299);
    assert_int_equal(s->n_samples, 2);
    assert_true(s->samples[0].v == 4.25 && s->samples[0].t_ms == 1234567890123);
    assert_true(s->samples[1].v == 1.5 && s->samples[1].t_ms == 77);
    trn_arena_free(a);
    trn_buf_fini(&req);
    trn_buf_fini(&ts);
    trn_buf_fini(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_remote_write_decodes_series_and_metadata),
        cmocka_unit_test(test_remote_write_drops_invalid_series),
        cmocka_unit_test(test_remote_write_rejects_malformed),
        cmocka_unit_test(test_remote_write_bad_snappy),
        cmocka_unit_test(test_remote_write_budget_is_a_limit),
        cmocka_unit_test(test_remote_write_too_many_labels),
        cmocka_unit_test(test_remote_write_field_order_and_long_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
