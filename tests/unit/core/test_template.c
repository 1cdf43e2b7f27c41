/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the template engine. Expected outputs are what Go's
 * text/template with Prometheus's functions produces: the humanize*
 * tables come from Prometheus's template_test.go and prometheus/common's
 * helpers tests, the rest from Go's documented semantics. */
#include "test.h"

#include "core/template.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static trn_arena_t *A;

static int setup(void **state)
{
    (void)state;
    A = trn_arena_new(0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    trn_arena_free(A);
    return 0;
}

static int fake_query(void *ctx, trn_str_t expr, int64_t t_ms, trn_arena_t *a, trn_tval_t *out,
                      trn_diag_t *d)
{
    (void)ctx;
    (void)t_ms;
    (void)d;
    if (trn_str_eqc(expr, "missing")) return 0;
    trn_label_t lb[2][2] = {
        {{TRN_STR("__name__"), TRN_STR("metric")}, {TRN_STR("instance"), TRN_STR("b")}},
        {{TRN_STR("__name__"), TRN_STR("metric")}, {TRN_STR("instance"), TRN_STR("a")}}};
    double vals[2] = {21, 11};
    for (int i = 0; i < 2; i++) {
        trn_labels_t ls = {lb[i], 2};
        trn_tval_t s;
        if (trn_tmpl_sample(a, &ls, vals[i], &s) < 0) return -2;
        if (trn_tval_list_push(a, out, s) < 0) return -2;
    }
    return 0;
}

static const trn_tmpl_env_t ENV = {
    .query = fake_query,
    .now_ms = 1353755652000,
    .external_url = "http://testhost:9090/path/prefix",
};

static char *run_named(const char *name, const char *text, const trn_tval_t *data, int *rc_out,
                       trn_diag_t *d)
{
    trn_buf_t out;
    trn_buf_init(&out);
    trn_diag_init(d);
    *rc_out = trn_tmpl_expand(name, text, data, &ENV, &out, d);
    char *s = trn_arena_strndup(A, out.data ? out.data : "", out.len);
    trn_buf_fini(&out);
    return s;
}

static char *run(const char *text, const trn_tval_t *data, int *rc_out, trn_diag_t *d)
{
    return run_named("test", text, data, rc_out, d);
}

static void expect(const char *text, const trn_tval_t *data, const char *want)
{
    trn_diag_t d;
    int rc;
    char *got = run(text, data, &rc, &d);
    if (rc != 0 || strcmp(got, want) != 0) {
        fprintf(stderr, "template %s\n  want %s\n  got  %s (rc %d: %s)\n", text, want, got, rc,
                d.msg);
        fail();
    }
}

static void expect_err(const char *text, const trn_tval_t *data, const char *want_msg)
{
    trn_diag_t d;
    int rc;
    run(text, data, &rc, &d);
    if (rc == 0 || strstr(d.msg, want_msg) == NULL) {
        fprintf(stderr, "template %s\n  want error %s\n  got  rc %d: %s\n", text, want_msg, rc,
                d.msg);
        fail();
    }
}

static trn_tval_t floats(const double *v, size_t n)
{
    trn_tval_t l = trn_tval_list(A, n);
    for (size_t i = 0; i < n; i++)
        trn_tval_list_push(A, &l, trn_tval_float(v[i]));
    return l;
}

static trn_tval_t ints(const int64_t *v, size_t n)
{
    trn_tval_t l = trn_tval_list(A, n);
    for (size_t i = 0; i < n; i++)
        trn_tval_list_push(A, &l, trn_tval_int(v[i]));
    return l;
}

static trn_tval_t strs(const char *const *v, size_t n)
{
    trn_tval_t l = trn_tval_list(A, n);
    for (size_t i = 0; i < n; i++)
        trn_tval_list_push(A, &l, trn_tval_cstr(v[i]));
    return l;
}

/* The data Prometheus gives alert templates, with the prelude it adds. */
static trn_tval_t alert_data(double value)
{
    trn_label_t lb[] = {{TRN_STR("alertname"), TRN_STR("HighMem")},
                        {TRN_STR("instance"), TRN_STR("host:9100")},
                        {TRN_STR("pod"), TRN_STR("hypersdk-0")}};
    trn_labels_t ls = {lb, 3};
    trn_tval_t labels, ext;
    trn_tval_from_labels(A, &ls, &labels);
    trn_label_t eb[] = {{TRN_STR("cluster"), TRN_STR("prod")}};
    trn_labels_t es = {eb, 1};
    trn_tval_from_labels(A, &es, &ext);
    trn_tval_t m = trn_tval_map(A, 4, TRN_TV_STRUCT);
    trn_tval_map_put(A, &m, TRN_STR("Labels"), labels);
    trn_tval_map_put(A, &m, TRN_STR("ExternalLabels"), ext);
    trn_tval_map_put(A, &m, TRN_STR("ExternalURL"), trn_tval_cstr("http://x"));
    trn_tval_map_put(A, &m, TRN_STR("Value"), trn_tval_float(value));
    trn_tval_map_seal(&m);
    return m;
}

#define PRELUDE                                                                                    \
    "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := "               \
    ".ExternalURL}}{{$value := .Value}}"

static void test_template_basics(void **state)
{
    (void)state;
    expect("plain text", NULL, "plain text");
    expect("{{ 1 }}", NULL, "1");
    expect("{{ 1.5 }}", NULL, "1.5");
    expect("{{ \"<b>\" }}", NULL, "<b>");
    expect("{{ .Foo }}", NULL, "<no value>");
    expect("{{ true }} {{ false }}", NULL, "true false");
    expect("{{/* a comment */}}x", NULL, "x");
    expect("a  {{- 1 -}}  b", NULL, "a1b");
    expect("a {{- /* c */ -}} b", NULL, "ab");
    expect("{{ 1e6 }} {{ 0.1 }} {{ 1234567.0 }}", NULL, "1e+06 0.1 1.234567e+06");
    /* found by fuzzing: huge floats must not go through a long long cast */
    expect("{{ 3.3333333333333333e48 }} {{ -1e300 }}", NULL, "3.3333333333333334e+48 -1e+300");
    expect("{{ 'a' }} {{ 0x10 }} {{ -3 }}", NULL, "97 16 -3");
    expect("{{ `raw\\n` }}", NULL, "raw\\n");
    expect("{{ \"q\\t\\u00e9\" }}", NULL, "q\t\xc3\xa9");
}

static void test_template_alert_data(void **state)
{
    (void)state;
    trn_tval_t d = alert_data(0.9512345);
    expect(PRELUDE "Pod {{ $labels.pod }} is down", &d, "Pod hypersdk-0 is down");
    expect(PRELUDE "{{ .Labels.instance }}/{{ $externalLabels.cluster }}", &d, "host:9100/prod");
    expect(PRELUDE "Memory usage: {{ $value | humanizePercentage }}", &d, "Memory usage: 95.12%");
    expect(PRELUDE "Error rate is {{ $value }} (threshold: 0.05)", &d,
           "Error rate is 0.9512345 (threshold: 0.05)");
    expect(PRELUDE "[{{ $labels.missing }}]", &d, "[]");
    expect(PRELUDE "{{ $labels.instance | stripPort }}", &d, "host");
    expect("{{ .Labels.SortedPairs.Values | join \",\" }}", &d, "HighMem,host:9100,hypersdk-0");
    expect("{{ .Labels.SortedPairs.Names | join \" \" }}", &d, "alertname instance pod");
    /* alertname sorts first, as Alertmanager's SortedPairs does */
    trn_label_t zb[] = {{TRN_STR("a"), TRN_STR("1")},
                        {TRN_STR("alertname"), TRN_STR("X")},
                        {TRN_STR("z"), TRN_STR("2")}};
    trn_labels_t zs = {zb, 3};
    trn_tval_t kv;
    trn_tval_from_labels(A, &zs, &kv);
    expect("{{ .SortedPairs.Names | join \",\" }}|{{ .Names | join \",\" }}|{{ .Values | join "
           "\",\" }}",
           &kv, "alertname,a,z|alertname,a,z|X,1,2");
    expect("{{ range .SortedPairs }}{{ .Name }}={{ .Value }} {{ end }}", &kv,
           "alertname=X a=1 z=2 ");
    expect("{{ range .Labels.SortedPairs }}{{ .Name }}={{ .Value }};{{ end }}", &d,
           "alertname=HighMem;instance=host:9100;pod=hypersdk-0;");
    expect("{{ (.Labels.Remove (stringSlice \"pod\")).Names | join \",\" }}", &d,
           "alertname,instance");
    expect("{{ len .Labels }}", &d, "3");
    expect_err("{{ .Nope }}", &d, "can't evaluate field Nope");
    /* Go refuses to compare a float64 with an untyped int constant */
    expect_err(PRELUDE "{{ if gt $value 1 }}x{{ end }}", &d, "incompatible types for comparison");
    expect(PRELUDE "{{ if gt $value 0.5 }}high{{ else }}low{{ end }}", &d, "high");
}

static void test_template_control(void **state)
{
    (void)state;
    const char *sv[] = {"b", "a", "c"};
    trn_tval_t l = strs(sv, 3);
    expect("{{ range . }}{{ . }}{{ end }}", &l, "bac");
    expect("{{ range $i, $v := . }}{{ $i }}={{ $v }} {{ end }}", &l, "0=b 1=a 2=c ");
    expect("{{ range $v := . }}{{ $v }}{{ end }}", &l, "bac");
    expect("{{ range . }}{{ if eq . \"a\" }}{{ break }}{{ end }}{{ . }}{{ end }}", &l, "b");
    expect("{{ range . }}{{ if eq . \"a\" }}{{ continue }}{{ end }}{{ . }}{{ end }}", &l, "bc");
    trn_tval_t empty = trn_tval_list(A, 0);
    expect("{{ range . }}x{{ else }}empty{{ end }}", &empty, "empty");
    trn_tval_t m = trn_tval_map(A, 3, 0);
    trn_tval_map_put(A, &m, TRN_STR("z"), trn_tval_int(1));
    trn_tval_map_put(A, &m, TRN_STR("a"), trn_tval_int(2));
    trn_tval_map_put(A, &m, TRN_STR("m"), trn_tval_int(3));
    trn_tval_map_seal(&m);
    expect("{{ range $k, $v := . }}{{ $k }}{{ $v }}{{ end }}", &m, "a2m3z1");
    expect("{{ . }}", &m, "map[a:2 m:3 z:1]");
    expect("{{ index . \"m\" }} {{ index . \"none\" }}", &m, "3 <no value>");
    expect("{{ range 3 }}{{ . }}{{ end }}", NULL, "012");
    expect("{{ if 0 }}a{{ else if \"\" }}b{{ else if 1 }}c{{ else }}d{{ end }}", NULL, "c");
    expect("{{ with \"x\" }}{{ . }}{{ else }}none{{ end }}", NULL, "x");
    expect("{{ with \"\" }}{{ . }}{{ else }}none{{ end }}", NULL, "none");
    expect("{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}", NULL, "2");
    expect("{{ define \"t\" }}[{{ . }}]{{ end }}{{ template \"t\" \"arg\" }}", NULL, "[arg]");
    expect("{{define \"x\"}}{{.arg0}} {{.arg1}}{{end}}{{template \"x\" (args 1 \"2\")}}", NULL,
           "1 2");
    expect("{{ block \"b\" 5 }}<{{ . }}>{{ end }}", NULL, "<5>");
    expect("{{ and 1 0 2 }} {{ or 0 \"\" 3 }} {{ not 0 }}", NULL, "0 3 true");
    expect("{{ and 0 (index nil 1) }}", NULL, "0"); /* short-circuit */
    expect("{{ len \"abc\" }} {{ len . }}", &l, "3 3");
    expect("{{ index . 1 }}", &l, "a");
    expect("{{ slice \"abcdef\" 1 3 }}", NULL, "bc");
    expect("{{ eq 1 2 3 1 }} {{ ne \"a\" \"b\" }} {{ lt 1 2 }} {{ le 2 2 }} {{ ge 1.5 2.5 }}", NULL,
           "true true true true false");
    expect("{{ \"x\" | printf \"%s-%s\" \"y\" }}", NULL, "y-x");
}

static void test_template_printf_like_go(void **state)
{
    (void)state;
    expect("{{ printf \"%d %5.2f %s %q %v %t\" 42 3.14159 \"s\" \"q\" 1.5 true }}", NULL,
           "42  3.14 s \"q\" 1.5 true");
    expect("{{ printf \"%x %X %o %b %c\" 255 255 8 5 65 }}", NULL, "ff FF 10 101 A");
    expect("{{ printf \"%-4s|%04d|%+d\" \"a\" 7 3 }}", NULL, "a   |0007|+3");
    expect("{{ printf \"%d\" \"x\" }}", NULL, "%!d(string=x)");
    expect("{{ printf \"%s %s\" \"x\" }}", NULL, "x %!s(MISSING)");
    expect("{{ printf \"%s\" \"x\" 3 }}", NULL, "x%!(EXTRA int=3)");
    expect("{{ printf \"%g %e %.3g\" 0.000012345 1234.5 1234.5 }}", NULL,
           "1.2345e-05 1.234500e+03 1.23e+03");
    expect("{{ printf \"%0.2f\" (parseDuration \"1h2m10ms\") }}", NULL, "3720.01");
    expect("{{ printf \"%0.2f\" (parseDuration \"-1h2m10ms\") }}", NULL, "-3720.01");
    expect("{{ print 1 2 \"a\" \"b\" 3 }}", NULL, "1 2ab3");
    expect("{{ println 1 \"a\" }}", NULL, "1 a\n");
    expect("{{ html \"<a href='x'>&\" }}", NULL, "&lt;a href=&#39;x&#39;&gt;&amp;");
    expect("{{ urlquery \"a b&c\" }}", NULL, "a+b%26c");
}

static void test_template_humanize_tables(void **state)
{
    (void)state;
    double f1[] = {0.0, 1.0, 1234567.0, .12};
    trn_tval_t l = floats(f1, 4);
    expect("{{ range . }}{{ humanize . }}:{{ end }}", &l, "0:1:1.235M:120m:");
    const char *s1[] = {"0.0", "1.0", "1234567.0", ".12"};
    l = strs(s1, 4);
    expect("{{ range . }}{{ humanize . }}:{{ end }}", &l, "0:1:1.235M:120m:");
    int64_t i1[] = {0, -1, 1, 1234567, INT64_MAX};
    l = ints(i1, 5);
    expect("{{ range . }}{{ humanize . }}:{{ end }}", &l, "0:-1:1:1.235M:9.223E:");
    expect("{{ range . }}{{ humanize1024 . }}:{{ end }}", &l, "0:-1:1:1.177Mi:8Ei:");
    expect("{{ range . }}{{ humanizePercentage . }}:{{ end }}", &l,
           "0%:-100%:100%:1.235e+08%:9.223e+20%:");
    double f2[] = {0.0, 1.0, 1048576.0, .12};
    l = floats(f2, 4);
    expect("{{ range . }}{{ humanize1024 . }}:{{ end }}", &l, "0:1:1Mi:0.12:");
    double f3[] = {0,     1, 60, 3600, 86400, 86400 + 3600, -(86400 * 2 + 3600 * 3 + 60 * 4 + 5),
                   899.99};
    l = floats(f3, 8);
    expect("{{ range . }}{{ humanizeDuration . }}:{{ end }}", &l,
           "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:1d 1h 0m 0s:-2d 3h 4m 5s:14m 59s:");
    double f4[] = {.1, .0001, .12345, 60.1, 60.5, 1.2345, 12.345};
    l = floats(f4, 7);
    expect("{{ range . }}{{ humanizeDuration . }}:{{ end }}", &l,
           "100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:");
    int64_t i2[] = {0, -1, 1, 1234567};
    l = ints(i2, 4);
    expect("{{ range . }}{{ humanizeDuration . }}:{{ end }}", &l, "0s:-1s:1s:14d 6h 56m 7s:");
    double f5[] = {INFINITY, -INFINITY, NAN};
    l = floats(f5, 3);
    expect("{{ range . }}{{ humanize . }}:{{ humanize1024 . }}:{{ humanizeDuration . }}:"
           "{{humanizeTimestamp .}}:{{ end }}",
           &l, "+Inf:+Inf:+Inf:+Inf:-Inf:-Inf:-Inf:-Inf:NaN:NaN:NaN:NaN:");
    const char *s2[] = {"+Inf", "-Inf", "NaN"};
    l = strs(s2, 3);
    expect("{{ range . }}{{ humanize . }}:{{ humanize1024 . }}:{{ humanizeDuration . }}:"
           "{{humanizeTimestamp .}}:{{ end }}",
           &l, "+Inf:+Inf:+Inf:+Inf:-Inf:-Inf:-Inf:-Inf:NaN:NaN:NaN:NaN:");
    expect("{{ -0.22222 | humanizePercentage }}:{{ 0.0 | humanizePercentage }}:"
           "{{ 0.1234567 | humanizePercentage }}:{{ 1.23456 | humanizePercentage }}",
           NULL, "-22.22%:0%:12.35%:123.5%");
    int64_t i3[] = {0, -1, 1, 1234567, 9223372036};
    l = ints(i3, 5);
    expect("{{ range . }}{{ humanizeTimestamp . }}:{{ end }}", &l,
           "1970-01-01 00:00:00 +0000 UTC:1969-12-31 23:59:59 +0000 UTC:1970-01-01 00:00:01 +0000 "
           "UTC:1970-01-15 06:56:07 +0000 UTC:2262-04-11 23:47:16 +0000 UTC:");
    expect("{{ 1435065584.128 | humanizeTimestamp }}", NULL, "2015-06-23 13:19:44.128 +0000 UTC");
    expect("{{ \"1435065584.128\" | humanizeTimestamp }}", NULL,
           "2015-06-23 13:19:44.128 +0000 UTC");
    int64_t i4[] = {INT64_MIN, INT64_MAX};
    l = ints(i4, 2);
    expect_err("{{ range . }}{{ humanizeTimestamp . }}:{{ end }}", &l,
               "error calling humanizeTimestamp: -9.223372036854776e+18 cannot be represented as a "
               "nanoseconds timestamp since it overflows int64");
    expect_err(
        "{{ humanize \"one\" }}", NULL,
        "template: test:1:3: executing \"test\" at <humanize \"one\">: error calling humanize: "
        "strconv.ParseFloat: parsing \"one\": invalid syntax");
}

static void test_template_prometheus_functions(void **state)
{
    (void)state;
    expect("{{ query \"metric\" | first | value }}", NULL, "21");
    expect("{{ query \"metric\" | first | label \"instance\" }}", NULL, "b");
    expect("{{ query \"metric\" | first | label \"foo\" }}", NULL, "");
    expect("{{ $x := query \"metric\" | first }}{{ $x.Labels.foo }}", NULL, "");
    expect("{{ range query \"metric\" | sortByLabel \"instance\" "
           "}}{{.Labels.instance}}:{{.Value}}: {{end}}",
           NULL, "a:11: b:21: ");
    expect_err(
        "{{ query \"missing\" | first }}", NULL,
        "template: test:1:21: executing \"test\" at <first>: error calling first: first() called "
        "on vector with no elements");
    expect("{{ reReplaceAll \"(a)b\" \"x$1\" \"ab\" }}", NULL, "xa");
    expect("{{ reReplaceAll \"a*\" \"-\" \"baaac\" }}", NULL, "-b-c-");
    expect("{{ reReplaceAll \"(?P<w>o+)\" \"[${w}]\" \"foo boo\" }}", NULL, "f[oo] b[oo]");
    expect("{{ match \"a+\" \"aa\" }} {{ match \"a+\" \"b\" }}", NULL, "true false");
    expect("{{ \"aa bb CC\" | title }}", NULL, "Aa Bb CC");
    expect("{{ \"aa bb CC\" | toUpper }}", NULL, "AA BB CC");
    expect("{{ \"aA bB CC\" | toLower }}", NULL, "aa bb cc");
    expect("{{ \"<b>\" | safeHtml }}", NULL, "<b>");
    expect("{{ graphLink \"up\" }}", NULL, "/graph?g0.expr=up&g0.tab=0");
    expect("{{ tableLink \"up\" }}", NULL, "/graph?g0.expr=up&g0.tab=1");
    expect("{{ pathPrefix }}", NULL, "/path/prefix");
    expect("{{ externalURL }}", NULL, "http://testhost:9090/path/prefix");
    expect("{{ now }}", NULL, "1.353755652e+09");
    expect("{{ \"foo.example.com:12345\" | stripPort }}", NULL, "foo.example.com");
    expect("{{ \"[2001:0DB8::1]:12345\" | stripPort }}", NULL, "2001:0DB8::1");
    expect("{{ \"2001:0DB8::1\" | stripPort }}", NULL, "2001:0DB8::1");
    expect("{{ \"[2001:0DB8::1]::12345\" | stripPort }}", NULL, "[2001:0DB8::1]::12345");
    expect("{{ \"foo.example.com\" | stripDomain }}", NULL, "foo");
    expect("{{ \"foo.example.com:12345\" | stripDomain }}", NULL, "foo:12345");
    expect("{{ \"192.0.2.1:12345\" | stripDomain }}", NULL, "192.0.2.1:12345");
    expect("{{ \"[2001:0DB8::1]:12345\" | stripDomain }}", NULL, "[2001:0DB8::1]:12345");
    expect("{{ \" x \" | trimSpace }}", NULL, "x");
}

static void test_template_parse_errors_have_positions(void **state)
{
    (void)state;
    expect_err("{{", NULL, "template: test:1: unclosed action");
    expect_err("a\n{{ nosuch 1 }}", NULL, "template: test:2: function \"nosuch\" not defined");
    expect_err("{{ $x }}", NULL, "undefined variable \"$x\"");
    expect_err("{{ if 1 }}x", NULL, "unexpected EOF");
    expect_err("{{ end }}", NULL, "unexpected {{end}}");
    expect_err("{{ \xc2\xa0 }}", NULL, "unrecognized character in action: U+00A0");
    expect_err("{{ break }}", NULL, "{{break}} outside {{range}}");
    expect_err("{{ \"abc }}", NULL, "unterminated quoted string");
    expect_err("{{ (1 }}", NULL, "unclosed left paren");
    expect_err("{{ template \"nope\" }}", NULL, "template \"nope\" not defined");
    expect_err("{{ \"x\" 1 }}", NULL, "can't give argument to non-function");
    trn_diag_t d;
    int rc;
    run("line1\nline2 {{ if }}", NULL, &rc, &d);
    assert_int_equal(d.line, 2);
}

static void test_template_limits(void **state)
{
    (void)state;
    trn_tmpl_env_t env = ENV;
    env.max_steps = 1000;
    trn_buf_t out;
    trn_buf_init(&out);
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(trn_tmpl_expand("t", "{{ range 100000000 }}x{{ end }}", NULL, &env, &out, &d),
                     -2);
    trn_buf_fini(&out);
    trn_buf_init(&out);
    trn_diag_init(&d);
    env.max_steps = 0;
    env.max_output_bytes = 100;
    assert_int_equal(
        trn_tmpl_expand("t", "{{ range 1000 }}xxxxxxxx{{ end }}", NULL, &env, &out, &d), -2);
    trn_buf_fini(&out);
    trn_buf_init(&out);
    trn_diag_init(&d);
    assert_int_equal(
        trn_tmpl_expand("t", "{{ define \"r\" }}{{ template \"r\" }}{{ end }}{{ template \"r\" }}",
                        NULL, &env, &out, &d),
        -2);
    trn_buf_fini(&out);
}

/* Every template in tests/data/template/go_text_template.txt against the
 * output (or error) Go's text/template produced for the same data. */
static void test_template_matches_go_recordings(void **state)
{
    (void)state;
    FILE *f = fopen("tests/data/template/go_text_template.txt", "r");
    assert_non_null(f);
    trn_tval_t d = trn_tval_map(A, 8, 0);
    trn_tval_map_put(A, &d, TRN_STR("s"), trn_tval_cstr("str"));
    trn_tval_map_put(A, &d, TRN_STR("i"), trn_tval_int(42));
    trn_tval_map_put(A, &d, TRN_STR("f"), trn_tval_float(3.25));
    int64_t iv[] = {1, 2, 3};
    trn_tval_map_put(A, &d, TRN_STR("l"), ints(iv, 3));
    trn_tval_t m = trn_tval_map(A, 2, 0);
    trn_tval_map_put(A, &m, TRN_STR("b"), trn_tval_int(2));
    trn_tval_map_put(A, &m, TRN_STR("a"), trn_tval_int(1));
    trn_tval_map_seal(&m);
    trn_tval_map_put(A, &d, TRN_STR("m"), m);
    trn_tval_map_put(A, &d, TRN_STR("e"), trn_tval_list(A, 0));
    trn_tval_map_put(A, &d, TRN_STR("t"), trn_tval_bool(true));
    trn_tval_map_seal(&d);
    char line[4096], tmpl[4096] = "";
    int n = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n') line[--len] = 0;
        if (strncmp(line, "T: ", 3) == 0) {
            snprintf(tmpl, sizeof tmpl, "%s", line + 3);
            continue;
        }
        if (strncmp(line, "O: ", 3) != 0 && strncmp(line, "E: ", 3) != 0) continue;
        char want[4096];
        size_t k = 0;
        for (const char *p = line + 3; *p && k + 1 < sizeof want; p++) {
            if (*p == '\\' && p[1] == 'n') {
                want[k++] = '\n';
                p++;
            } else if (*p == '\\' && p[1] == '\\') {
                want[k++] = '\\';
                p++;
            } else {
                want[k++] = *p;
            }
        }
        want[k] = 0;
        trn_diag_t dg;
        int rc;
        char *got = run_named("t", tmpl, &d, &rc, &dg);
        n++;
        bool is_err = line[0] == 'E';
        if (is_err ? (rc == 0 || strcmp(dg.msg, want) != 0) : (rc != 0 || strcmp(got, want) != 0)) {
            fprintf(stderr, "template %s\n  want %s\n  got  %s\n", tmpl, want, rc ? dg.msg : got);
            bad++;
        }
    }
    fclose(f);
    assert_true(n > 90);
    assert_int_equal(bad, 0);
}

/* Prometheus's humanize family and Go's %v/%e/%.3f over values spanning
 * 60 orders of magnitude, against outputs recorded from Go. */
static void test_template_humanize_matches_go_recordings(void **state)
{
    (void)state;
    FILE *f = fopen("tests/data/template/go_humanize.txt", "r");
    assert_non_null(f);
    char line[1024];
    int n = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#') continue;
        line[strcspn(line, "\n")] = 0;
        trn_tval_t v = trn_tval_float(strtod(line, NULL));
        bool ts_err = strstr(line, "|ERR|") != NULL;
        const char *tpl =
            ts_err ? "{{ . }}|{{ humanize . }}|{{ humanize1024 . }}|{{ humanizeDuration . }}|"
                     "{{ humanizePercentage . }}|ERR|{{ printf \"%e|%.3f\" . . }}"
                   : "{{ . }}|{{ humanize . }}|{{ humanize1024 . }}|{{ humanizeDuration . }}|"
                     "{{ humanizePercentage . }}|{{ humanizeTimestamp . }}|{{ printf \"%e|%.3f\" . "
                     ". }}";
        trn_diag_t d;
        int rc;
        char *got = run(tpl, &v, &rc, &d);
        n++;
        if (rc != 0 || strcmp(got, line) != 0) {
            fprintf(stderr, "want %s\ngot  %s %s\n", line, got, d.msg);
            bad++;
        }
        if (ts_err) {
            run("{{ humanizeTimestamp . }}", &v, &rc, &d);
            if (rc == 0) bad++;
        }
    }
    fclose(f);
    assert_true(n > 200);
    assert_int_equal(bad, 0);
}

/* Found by fuzzing: a NUL verb byte must not reach C's printf. */
static void test_template_printf_nul_verb(void **state)
{
    (void)state;
    static const char text[] = "{{ printf \"%\0\" 1.5 }}";
    trn_tmpl_t *t;
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(trn_tmpl_parse(A, "t", text, sizeof text - 1, NULL, &t, &d), 0);
    trn_buf_t out;
    trn_buf_init(&out);
    assert_int_equal(trn_tmpl_exec(t, NULL, NULL, NULL, A, &out, &d), 0);
    assert_int_equal(out.len, 16);
    assert_memory_equal(out.data, "%!\0(float64=1.5)", 16);
    trn_buf_fini(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_template_basics),
        cmocka_unit_test(test_template_alert_data),
        cmocka_unit_test(test_template_control),
        cmocka_unit_test(test_template_printf_like_go),
        cmocka_unit_test(test_template_humanize_tables),
        cmocka_unit_test(test_template_prometheus_functions),
        cmocka_unit_test(test_template_parse_errors_have_positions),
        cmocka_unit_test(test_template_limits),
        cmocka_unit_test(test_template_printf_nul_verb),
        cmocka_unit_test(test_template_matches_go_recordings),
        cmocka_unit_test(test_template_humanize_matches_go_recordings),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
