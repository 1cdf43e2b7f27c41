/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the exposition parser: tables of valid sample and
 * metadata lines taken from the Prometheus text-format and OpenMetrics
 * documentation (labels, values, timestamps, escapes, exemplars), and
 * malformed inputs with the line:col the error must name. */
#include "test.h"

#include "core/err.h"
#include "ingest/exposition.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    trn_expo_format_t fmt;
    const char *line;
    const char *labels; /* trn_labels_format of the sorted labels */
    double value;       /* NAN compares as NaN */
    bool has_ts;
    int64_t t_ms;
    const char *exemplar; /* formatted exemplar labels, NULL if none */
    double ex_value;
    int64_t ex_t_ms; /* -1: no exemplar timestamp */
} sample_case_t;

static const sample_case_t sample_cases[] = {
    {TRN_EXPO_TEXT, "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000",
     "{__name__=\"http_requests_total\", code=\"200\", method=\"post\"}", 1027, true, 1395066363000,
     NULL, 0, -1},
    {TRN_EXPO_TEXT, "http_requests_total{method=\"post\",code=\"400\"}    3 1395066363000",
     "{__name__=\"http_requests_total\", code=\"400\", method=\"post\"}", 3, true, 1395066363000,
     NULL, 0, -1},
    {TRN_EXPO_TEXT,
     "msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\",error=\"Cannot find "
     "file:\\n\\\"FILE.TXT\\\"\"} 1.458255915e9",
     "{__name__=\"msdos_file_access_time_seconds\", error=\"Cannot find "
     "file:\\n\\\"FILE.TXT\\\"\", path=\"C:\\\\DIR\\\\FILE.TXT\"}",
     1.458255915e9, false, 0, NULL, 0, -1},
    {TRN_EXPO_TEXT, "metric_without_timestamp_and_labels 12.47",
     "{__name__=\"metric_without_timestamp_and_labels\"}", 12.47, false, 0, NULL, 0, -1},
    {TRN_EXPO_TEXT, "something_weird{problem=\"division by zero\"} +Inf -3982045",
     "{__name__=\"something_weird\", problem=\"division by zero\"}", INFINITY, true, -3982045, NULL,
     0, -1},
    {TRN_EXPO_TEXT, "http_request_duration_seconds_bucket{le=\"+Inf\"} 144320",
     "{__name__=\"http_request_duration_seconds_bucket\", le=\"+Inf\"}", 144320, false, 0, NULL, 0,
     -1},
    {TRN_EXPO_TEXT, "rpc_duration_seconds{quantile=\"0.5\",} 4773", /* trailing comma */
     "{__name__=\"rpc_duration_seconds\", quantile=\"0.5\"}", 4773, false, 0, NULL, 0, -1},
    {TRN_EXPO_TEXT, "  m { a = \"1\" , b=\"\" }\t-Inf\t", "{__name__=\"m\", a=\"1\"}", -INFINITY,
     false, 0, NULL, 0, -1},
    {TRN_EXPO_TEXT, "nan_metric NaN", "{__name__=\"nan_metric\"}", NAN, false, 0, NULL, 0, -1},
    {TRN_EXPO_TEXT, "m{} 1e-3", "{__name__=\"m\"}", 1e-3, false, 0, NULL, 0, -1},
    {TRN_EXPO_TEXT, "{__name__=\"via_label\",x=\"y\"} 2", "{__name__=\"via_label\", x=\"y\"}", 2,
     false, 0, NULL, 0, -1},
    {TRN_EXPO_TEXT, "ns:colon_rule:rate5m 0.5", "{__name__=\"ns:colon_rule:rate5m\"}", 0.5, false,
     0, NULL, 0, -1},
    {TRN_EXPO_TEXT, "utf{v=\"h\xc3\xa9llo\"} 1 0", "{__name__=\"utf\", v=\"h\xc3\xa9llo\"}", 1,
     true, 0, NULL, 0, -1},
    {TRN_EXPO_TEXT, "crlf 7\r", "{__name__=\"crlf\"}", 7, false, 0, NULL, 0, -1},
    {TRN_EXPO_OPENMETRICS, "foo_bucket{le=\"0.01\"} 0", "{__name__=\"foo_bucket\", le=\"0.01\"}", 0,
     false, 0, NULL, 0, -1},
    {TRN_EXPO_OPENMETRICS, "foo_bucket{le=\"0.1\"} 8 # {} 0.054",
     "{__name__=\"foo_bucket\", le=\"0.1\"}", 8, false, 0, "{}", 0.054, -1},
    {TRN_EXPO_OPENMETRICS, "foo_bucket{le=\"1\"} 11 # {trace_id=\"KOO5S4vxi0o\"} 0.67",
     "{__name__=\"foo_bucket\", le=\"1\"}", 11, false, 0, "{trace_id=\"KOO5S4vxi0o\"}", 0.67, -1},
    {TRN_EXPO_OPENMETRICS,
     "foo_bucket{le=\"10\"} 17 # {trace_id=\"oHg5SJYRHA0\"} 9.8 1520879607.789",
     "{__name__=\"foo_bucket\", le=\"10\"}", 17, false, 0, "{trace_id=\"oHg5SJYRHA0\"}", 9.8,
     1520879607789},
    {TRN_EXPO_OPENMETRICS,
     "acme_http_router_request_seconds_sum{path=\"/api/v1\",method=\"GET\"} "
     "9036.32 1520879607.001",
     "{__name__=\"acme_http_router_request_seconds_sum\", method=\"GET\", path=\"/api/v1\"}",
     9036.32, true, 1520879607001, NULL, 0, -1},
    {TRN_EXPO_OPENMETRICS, "a_total 1 123", "{__name__=\"a_total\"}", 1, true, 123000, NULL, 0, -1},
};

static void test_exposition_valid_samples(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof sample_cases / sizeof sample_cases[0]; i++) {
        const sample_case_t *c = &sample_cases[i];
        char doc[512];
        snprintf(doc, sizeof doc, "%s\n%s", c->line,
                 c->fmt == TRN_EXPO_OPENMETRICS ? "# EOF\n" : "");
        trn_expo_parser_t *p = trn_expo_parser_new(doc, strlen(doc), c->fmt, 0);
        trn_expo_sample_t s;
        trn_expo_meta_t m;
        trn_diag_t d;
        trn_diag_init(&d);
        int rc = trn_expo_next(p, &s, &m, &d);
        if (rc != TRN_EXPO_SAMPLE) fail_msg("case %zu: rc %d: %s", i, rc, d.msg);
        trn_buf_t b;
        trn_buf_init(&b);
        trn_labels_format(&s.labels, &b);
        if (strcmp(b.data, c->labels)) fail_msg("case %zu: labels %s", i, b.data);
        if (isnan(c->value))
            assert_true(isnan(s.value));
        else if (s.value != c->value)
            fail_msg("case %zu: value %g", i, s.value);
        assert_int_equal(s.has_timestamp, c->has_ts);
        if (c->has_ts) assert_int_equal(s.t_ms, c->t_ms);
        assert_int_equal(s.has_exemplar, c->exemplar != NULL);
        if (c->exemplar) {
            b.len = 0;
            trn_labels_format(&s.exemplar_labels, &b);
            assert_string_equal(b.data, c->exemplar);
            assert_true(s.exemplar_value == c->ex_value);
            assert_int_equal(s.exemplar_has_ts, c->ex_t_ms >= 0);
            if (c->ex_t_ms >= 0) assert_int_equal(s.exemplar_t_ms, c->ex_t_ms);
        }
        trn_buf_fini(&b);
        assert_int_equal(trn_expo_next(p, &s, &m, &d), TRN_EXPO_EOF);
        assert_int_equal(d.code, 0);
        trn_expo_parser_free(p);
    }
}

static void test_exposition_metadata_and_comments(void **state)
{
    (void)state;
    static const char text[] = "# HELP http_requests_total The total number of HTTP requests.\n"
                               "# TYPE http_requests_total counter\n"
                               "\n"
                               "# Escaping in label values:\n"
                               "# HELP esc Line one\\nwith \\\\ and \\\"kept\\\".\n"
                               "#no space comment\n"
                               "# EOF is just a comment here\n"
                               "# TYPE u untyped\n"
                               "x 1\n";
    trn_expo_parser_t *p = trn_expo_parser_new(text, sizeof text - 1, TRN_EXPO_TEXT, 0);
    trn_expo_sample_t s;
    trn_expo_meta_t m;
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(trn_expo_next(p, &s, &m, &d), TRN_EXPO_HELP);
    assert_true(trn_str_eqc(m.metric, "http_requests_total"));
    assert_true(trn_str_eqc(m.text, "The total number of HTTP requests."));
    assert_int_equal(trn_expo_line(p), 1);
    assert_int_equal(trn_expo_next(p, &s, &m, &d), TRN_EXPO_TYPE);
    assert_true(trn_str_eqc(m.text, "counter"));
    assert_int_equal(trn_expo_next(p, &s, &m, &d), TRN_EXPO_HELP);
    assert_true(trn_str_eqc(m.metric, "esc"));
    assert_true(trn_str_eqc(m.text, "Line one\nwith \\ and \\\"kept\\\"."));
    assert_int_equal(trn_expo_line(p), 5);
    assert_int_equal(trn_expo_next(p, &s, &m, &d), TRN_EXPO_TYPE);
    assert_true(trn_str_eqc(m.text, "untyped"));
    assert_int_equal(trn_expo_next(p, &s, &m, &d), TRN_EXPO_SAMPLE);
    assert_int_equal(trn_expo_line(p), 9);
    assert_int_equal(trn_expo_next(p, &s, &m, &d), TRN_EXPO_EOF);
    trn_expo_parser_free(p);

    static const char om[] = "# TYPE acme_http_router_request_seconds summary\n"
                             "# UNIT acme_http_router_request_seconds seconds\n"
                             "# HELP acme_http_router_request_seconds Latency \\\"quoted\\\".\n"
                             "# TYPE foo gaugehistogram\n"
                             "# EOF\n";
    p = trn_expo_parser_new(om, sizeof om - 1, TRN_EXPO_OPENMETRICS, 0);
    assert_int_equal(trn_expo_next(p, &s, &m, &d), TRN_EXPO_TYPE);
    assert_true(trn_str_eqc(m.text, "summary"));
    assert_int_equal(trn_expo_next(p, &s, &m, &d), TRN_EXPO_UNIT);
    assert_true(trn_str_eqc(m.text, "seconds"));
    assert_int_equal(trn_expo_next(p, &s, &m, &d), TRN_EXPO_HELP);
    assert_true(trn_str_eqc(m.text, "Latency \"quoted\"."));
    assert_int_equal(trn_expo_next(p, &s, &m, &d), TRN_EXPO_TYPE);
    assert_int_equal(trn_expo_next(p, &s, &m, &d), TRN_EXPO_EOF);
    assert_int_equal(d.code, 0);
    trn_expo_parser_free(p);
}

static void test_exposition_malformed(void **state)
{
    (void)state;
    static const struct {
        trn_expo_format_t fmt;
        const char *in;
        int line, col;
        const char *msg;
    } cases[] = {
        {TRN_EXPO_TEXT, "ok 1\nbad{a=\"1\" 2\n", 2, 11, "expected ',' or '}'"},
        {TRN_EXPO_TEXT, "m{a=\"1} 2\n", 1, 5, "unterminated quoted string"},
        {TRN_EXPO_TEXT, "m{a=1} 2\n", 1, 5, "expected quoted label value"},
        {TRN_EXPO_TEXT, "m{a\"1\"} 2\n", 1, 4, "expected '=' after label name"},
        {TRN_EXPO_TEXT, "m{1a=\"1\"} 2\n", 1, 3, "invalid label name"},
        {TRN_EXPO_TEXT, "m{a=\"1\",a=\"2\"} 2\n", 1, 9, "duplicate label name \"a\""},
        {TRN_EXPO_TEXT, "m{__name__=\"x\"} 2\n", 1, 3, "duplicate label name \"__name__\""},
        {TRN_EXPO_TEXT, "m\n", 1, 2, "expected a value"},
        {TRN_EXPO_TEXT, "m abc\n", 1, 3, "invalid value \"abc\""},
        {TRN_EXPO_TEXT, "m 0x10\n", 1, 3, "invalid value"},
        {TRN_EXPO_TEXT, "m 1_000\n", 1, 3, "invalid value"},
        {TRN_EXPO_TEXT, "m 1e999\n", 1, 3, "invalid value"},
        {TRN_EXPO_TEXT, "m 1 12.5\n", 1, 5, "invalid timestamp \"12.5\""},
        {TRN_EXPO_TEXT, "m 1 99999999999999999999\n", 1, 5, "invalid timestamp"},
        {TRN_EXPO_TEXT, "m 1 2 3\n", 1, 7, "unexpected \"3\""},
        {TRN_EXPO_TEXT, "m 1 # {a=\"b\"} 1\n", 1, 5, "unexpected \"#"},
        {TRN_EXPO_TEXT, "9m 1\n", 1, 1, "invalid metric name"},
        {TRN_EXPO_TEXT, "{a=\"b\"} 1\n", 1, 1, "without a metric name"},
        {TRN_EXPO_TEXT, "{__name__=\"9x\"} 1\n", 1, 12, "invalid metric name \"9x\""},
        {TRN_EXPO_TEXT, "\"quoted\" 1\n", 1, 1, "quoted (UTF-8)"},
        {TRN_EXPO_TEXT, "m{a=\"\xff\"} 1\n", 1, 6, "invalid UTF-8"},
        {TRN_EXPO_TEXT, "# TYPE m gaugehistogram\n", 1, 10, "invalid metric type"},
        {TRN_EXPO_TEXT, "# TYPE 9m counter\n", 1, 8, "expected metric name after TYPE"},
        {TRN_EXPO_OPENMETRICS, "m 1\n", 2, 1, "data does not end with # EOF"},
        {TRN_EXPO_OPENMETRICS, "m 1\n# EOF\nm 2\n", 3, 1, "unexpected data after # EOF"},
        {TRN_EXPO_OPENMETRICS, "# TYPE m untyped\n# EOF\n", 1, 10, "invalid metric type"},
        {TRN_EXPO_OPENMETRICS, "# UNIT m_bytes seconds\n# EOF\n", 1, 16, "not a suffix"},
        {TRN_EXPO_OPENMETRICS, "m 1 # {a=\"b\"}\n# EOF\n", 1, 14, "invalid exemplar value"},
        {TRN_EXPO_OPENMETRICS, "m 1 # a 1\n# EOF\n", 1, 7, "expected '{'"},
        {TRN_EXPO_OPENMETRICS, "m 1 1 # {} 1 NaN\n# EOF\n", 1, 14, "invalid timestamp"},
        {TRN_EXPO_OPENMETRICS, "m 1 1 # {} 1 2 3\n# EOF\n", 1, 16, "after the exemplar"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        trn_expo_parser_t *p =
            trn_expo_parser_new(cases[i].in, strlen(cases[i].in), cases[i].fmt, 0);
        trn_expo_sample_t s;
        trn_expo_meta_t m;
        trn_diag_t d;
        trn_diag_init(&d);
        int rc;
        while ((rc = trn_expo_next(p, &s, &m, &d)) > 0) {
        }
        if (rc != TRN_EINVAL || d.line != cases[i].line || d.col != cases[i].col ||
            !strstr(d.msg, cases[i].msg))
            fail_msg("case %zu: rc %d at %d:%d: %s", i, rc, d.line, d.col, d.msg);
        char where[32];
        snprintf(where, sizeof where, "line %d:%d: ", d.line, d.col);
        assert_non_null(strstr(d.msg, where));
        /* Errors are sticky. */
        trn_diag_t d2;
        trn_diag_init(&d2);
        assert_int_equal(trn_expo_next(p, &s, &m, &d2), TRN_EINVAL);
        assert_string_equal(d2.msg, d.msg);
        assert_int_equal(trn_expo_line(p), cases[i].line);
        trn_expo_parser_free(p);
    }
}

static void test_exposition_label_limit(void **state)
{
    (void)state;
    static const char in[] = "m{a=\"1\",b=\"2\",c=\"3\"} 1\n";
    trn_expo_parser_t *p = trn_expo_parser_new(in, sizeof in - 1, TRN_EXPO_TEXT, 3);
    trn_expo_sample_t s;
    trn_expo_meta_t m;
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(trn_expo_next(p, &s, &m, &d), TRN_ELIMIT);
    assert_non_null(strstr(d.msg, "more than 3 labels"));
    trn_expo_parser_free(p);
}

static void test_exposition_content_type(void **state)
{
    (void)state;
    assert_int_equal(trn_expo_format_from_content_type(NULL), TRN_EXPO_TEXT);
    assert_int_equal(trn_expo_format_from_content_type("text/plain; version=0.0.4"), TRN_EXPO_TEXT);
    assert_int_equal(
        trn_expo_format_from_content_type("application/openmetrics-text; version=1.0.0"),
        TRN_EXPO_OPENMETRICS);
}

static void test_exposition_many_lines_no_growth(void **state)
{
    (void)state;
    trn_buf_t b;
    trn_buf_init(&b);
    for (int i = 0; i < 10000; i++)
        trn_buf_printf(&b, "m{i=\"%d\",esc=\"a\\\"b\"} %d %d\n", i, i, i);
    trn_expo_parser_t *p = trn_expo_parser_new(b.data, b.len, TRN_EXPO_TEXT, 0);
    trn_expo_sample_t s;
    trn_expo_meta_t m;
    trn_diag_t d;
    trn_diag_init(&d);
    int n = 0, rc;
    while ((rc = trn_expo_next(p, &s, &m, &d)) == TRN_EXPO_SAMPLE) {
        assert_true(s.value == n && s.t_ms == n);
        assert_true(trn_str_eqc(trn_labels_get(&s.labels, "esc"), "a\"b"));
        n++;
    }
    assert_int_equal(rc, TRN_EXPO_EOF);
    assert_int_equal(n, 10000);
    trn_expo_parser_free(p);
    trn_buf_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exposition_valid_samples),
        cmocka_unit_test(test_exposition_metadata_and_comments),
        cmocka_unit_test(test_exposition_malformed),
        cmocka_unit_test(test_exposition_label_limit),
        cmocka_unit_test(test_exposition_content_type),
        cmocka_unit_test(test_exposition_many_lines_no_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
