/* SPDX-License-Identifier: Apache-2.0 */
/* PromQL lexer/parser/printer: round trips (parse → print → parse → print
 * gives the same text), canonical forms, literal values, type errors with
 * Prometheus's messages and positions. */
#include "test.h"

#include "core/err.h"
#include "metrics/promql/promql.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static char *fmt(trn_arena_t *a, const char *q, int *rc, trn_diag_t *d)
{
    trn_promql_expr_t *e = NULL;
    trn_diag_init(d);
    *rc = trn_promql_parse(q, strlen(q), a, &e, d);
    if (*rc < 0) return NULL;
    trn_buf_t b;
    trn_buf_init(&b);
    trn_promql_format(e, &b);
    char *s = trn_arena_strndup(a, b.data ? b.data : "", b.len);
    trn_buf_fini(&b);
    trn_promql_expr_release(e);
    return s;
}

static void test_promql_roundtrip(void **state)
{
    (void)state;
    static const char *const qs[] = {
        "foo",
        "foo{a=\"b\",c!~\"d.*\"}",
        "{__name__=~\"a|b\"}",
        "rate(http_requests_total[5m] offset 1m)",
        "sum by (job, instance) (rate(x[1m]))",
        "sum(x) without (a)",
        "topk(3, foo)",
        "count_values(\"v\", foo)",
        "a + on (b) group_left (c) d",
        "a / ignoring (x) b",
        "a > bool 1",
        "-a ^ 2",
        "2 ^ 3 ^ 2",
        "(a + b) * c",
        "foo @ 1609746000",
        "foo @ start()",
        "rate(foo[5m:1m] @ end() offset -10s)",
        "max_over_time(rate(x[1m])[1h:])",
        "foo offset -5m",
        "label_replace(up, \"a\", \"$1\", \"b\", \"(.*)\")",
        "1h30m",
        "0x1F + 1e3 + .5 + Inf + NaN",
        "\"a\\nb\\\"c\"",
        "`raw\\string`",
        "histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))",
        "a and b or c unless d",
        "-(1)",
        "sort_by_label(x, \"a\", \"b\")",
    };
    trn_arena_t *a = trn_arena_new(0);
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        int rc;
        trn_diag_t d;
        char *p1 = fmt(a, qs[i], &rc, &d);
        if (rc != 0) fail_msg("parse of %s failed: %s", qs[i], d.msg);
        char *p2 = fmt(a, p1, &rc, &d);
        if (rc != 0) fail_msg("re-parse of %s (printed %s) failed: %s", qs[i], p1, d.msg);
        assert_string_equal(p1, p2);
    }
    trn_arena_free(a);
}

static void test_promql_canonical(void **state)
{
    (void)state;
    static const char *const pairs[][2] = {
        {"sum(x) by (a)", "sum by (a) (x)"},
        {"foo{b=\"1\", a=\"2\"}", "foo{a=\"2\",b=\"1\"}"},
        {"rate(x[90s])", "rate(x[1m30s])"},
        {"x offset 1h30m", "x offset 1h30m"},
        {"foo @ 10", "foo @ 10.000"},
        {"-1", "-1"},
        {"1e21", "1000000000000000000000"},
        {"a+b*c", "a + b * c"},
        {"SUM(x)", "sum(x)"},
    };
    trn_arena_t *a = trn_arena_new(0);
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        int rc;
        trn_diag_t d;
        char *p = fmt(a, pairs[i][0], &rc, &d);
        if (rc != 0) fail_msg("parse of %s failed: %s", pairs[i][0], d.msg);
        assert_string_equal(p, pairs[i][1]);
    }
    trn_arena_free(a);
}

static void test_promql_errors(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"rate(foo)",
         "expected type range vector in call to function \"rate\", got instant vector"},
        {"foo[5m] + 1", "binary expression must contain only scalar and instant vector types"},
        {"1 == 1", "comparisons between scalars must use BOOL modifier"},
        {"1 and 1", "set operator \"and\" not allowed in binary scalar expression"},
        {"{}", "vector selector must contain at least one non-empty matcher"},
        {"foo{a=\"\"}[5m] offset 1m offset 2m", "offset may not be set multiple times"},
        {"nosuchfn(x)", "unknown function with name \"nosuchfn\""},
        {"sum(", "unclosed left parenthesis"},
        {"a + b bool", ""},
        {"foo{a=~\"(\"}", "invalid regular expression"},
        {"topk(foo)",
         "wrong number of arguments for aggregate expression provided, expected 2, got 1"},
        {"(1 + 2)[5m]", "ranges only allowed for vector selectors"},
        {"", "no expression found in input"},
        {"foo + {{schema:0 sum:1 count:1}}", "native histogram syntax {{...}} is not supported"},
    };
    trn_arena_t *a = trn_arena_new(0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc;
        trn_diag_t d;
        (void)fmt(a, cases[i][0], &rc, &d);
        if (rc != TRN_EINVAL) fail_msg("%s: expected an error", cases[i][0]);
        if (!strstr(d.msg, cases[i][1]))
            fail_msg("%s: message %s lacks %s", cases[i][0], d.msg, cases[i][1]);
        if (!strstr(d.msg, "parse error"))
            fail_msg("%s: message %s lacks position", cases[i][0], d.msg);
    }
    int rc;
    trn_diag_t d;
    (void)fmt(a, "foo +\n  bar[5m]", &rc, &d);
    assert_int_equal(rc, TRN_EINVAL);
    assert_int_equal(d.line, 2);
    assert_int_equal(d.col, 3);
    trn_arena_free(a);
}

/* Messages and byte offsets exactly as Prometheus's parser reports them. */
static void test_promql_error_texts(void **state)
{
    (void)state;
    static const struct {
        const char *q;
        int64_t off;
        const char *msg;
    } cases[] = {
        {"1+", 2, "unexpected end of input"},
        {"@@", 0, "unexpected <op:@>"},
        {"a - on(b) ignoring(c) d", 10, "unexpected <ignoring>"},
        {"foo + group_left(baz) bar", 6, "unexpected <group_left>"},
        {"foo @ NaN", 0, "timestamp out of bounds for @ modifier: NaN"},
        {"some}", 4, "unexpected character: '}'"},
        {"foo{a*\"b\"}", 5, "unexpected character inside braces: '*'"},
        {"foo{__name__= =}", 14, "unexpected \"=\" in label matching, expected string"},
        {"some_metric OFFSET 1m[5m]", 21, "no offset modifiers allowed before range"},
        {"some_metric @ 1234 [5m]", 19, "no @ modifiers allowed before range"},
        {"(foo + bar)[5m]", 11, "ranges only allowed for vector selectors"},
        {"\"\\c\"", 0, "unknown escape sequence U+0063 'c'"},
        {"\"\\x.\"", 0, "illegal character U+002E '.' in escape sequence"},
        {"sum (some_metric) without (test) by (test)", 33, "unexpected <by>"},
        {"test[5d] OFFSET 10s [10m:5s]", 0,
         "subquery is only allowed on instant vector, got matrix instead"},
        {"foo offset 9.5e10", 11, "duration out of range"},
    };
    trn_arena_t *a = trn_arena_new(0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        trn_promql_expr_t *e;
        trn_diag_t d;
        trn_diag_init(&d);
        if (trn_promql_parse(cases[i].q, strlen(cases[i].q), a, &e, &d) == 0)
            fail_msg("%s parsed", cases[i].q);
        const char *m = strstr(d.msg, "parse error: ");
        assert_non_null(m);
        if (strcmp(m + 13, cases[i].msg))
            fail_msg("%s: got %s, want %s", cases[i].q, m + 13, cases[i].msg);
        if (d.offset != cases[i].off)
            fail_msg("%s: offset %lld, want %lld", cases[i].q, (long long)d.offset,
                     (long long)cases[i].off);
    }
    trn_arena_free(a);
}

static void test_promql_types(void **state)
{
    (void)state;
    trn_arena_t *a = trn_arena_new(0);
    struct {
        const char *q;
        trn_promql_type_t t;
    } cases[] = {
        {"1", TRN_PROMQL_SCALAR},
        {"foo", TRN_PROMQL_VECTOR},
        {"foo[1m]", TRN_PROMQL_MATRIX},
        {"\"s\"", TRN_PROMQL_STRING},
        {"scalar(foo)", TRN_PROMQL_SCALAR},
        {"foo * 2", TRN_PROMQL_VECTOR},
        {"rate(foo[1m])[5m:]", TRN_PROMQL_MATRIX},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        trn_promql_expr_t *e;
        trn_diag_t d;
        trn_diag_init(&d);
        assert_int_equal(trn_promql_parse(cases[i].q, strlen(cases[i].q), a, &e, &d), 0);
        assert_int_equal(trn_promql_expr_type(e), cases[i].t);
        trn_promql_expr_release(e);
    }
    trn_arena_free(a);
}

/* Evaluates a store-free expression at t and returns the single value. */
static double eval1(const char *q, int64_t t)
{
    trn_arena_t *a = trn_arena_new(0);
    trn_promql_expr_t *e;
    trn_diag_t d;
    trn_diag_init(&d);
    if (trn_promql_parse(q, strlen(q), a, &e, &d) < 0) fail_msg("%s: %s", q, d.msg);
    trn_promql_value_t v;
    if (trn_promql_eval_instant(NULL, e, t, NULL, a, &v, &d) < 0) fail_msg("%s: %s", q, d.msg);
    double r = NAN;
    if (v.type == TRN_PROMQL_SCALAR) r = v.scalar;
    if (v.type == TRN_PROMQL_VECTOR && v.n_vec == 1) r = v.vec[0].v;
    trn_promql_expr_release(e);
    trn_arena_free(a);
    return r;
}

static void test_promql_function_edges(void **state)
{
    (void)state;
    assert_true(eval1("round(vector(2.5))", 0) == 3);
    assert_true(eval1("round(vector(-2.5))", 0) == -2);
    assert_true(eval1("round(vector(7), 5)", 0) == 5);
    assert_true(isnan(eval1("1 % 0", 0)));
    assert_true(eval1("2 ^ 3 ^ 2", 0) == 512);
    assert_true(eval1("-2 ^ 2", 0) == -4);
    assert_true(eval1("clamp(vector(5), 0, 3)", 0) == 3);
    assert_true(eval1("clamp_min(vector(-1), 0)", 0) == 0);
    assert_true(eval1("sgn(vector(-3))", 0) == -1);
    assert_true(eval1("time()", 90000) == 90);
    assert_true(eval1("year(vector(0))", 0) == 1970);
    assert_true(eval1("days_in_month(vector(2678400))", 0) == 28); /* 1970-02-01 */
    assert_true(eval1("day_of_week(vector(0))", 0) == 4);
    assert_true(eval1("scalar(vector(7))", 0) == 7);
    assert_true(eval1("max_of(1, 2)", 0) == 2);
    assert_true(eval1("1 > bool 0", 0) == 1);
    assert_true(eval1("(vector(1) atan2 vector(1)) * 4", 0) > 3.14);
    assert_true(eval1("sum(vector(1) or vector(2))", 0) == 1);
    assert_true(eval1("count_over_time(vector(1)[5m:1m])", 300000) == 5);
    assert_true(eval1("quantile(0.5, vector(3))", 0) == 3);
}

/* Deep nesting is an error, not a stack overflow. */
static void test_promql_depth_limit(void **state)
{
    (void)state;
    trn_arena_t *a = trn_arena_new(0);
    trn_buf_t b;
    trn_buf_init(&b);
    for (int i = 0; i < 20000; i++)
        trn_buf_putc(&b, '(');
    trn_buf_putc(&b, '1');
    for (int i = 0; i < 20000; i++)
        trn_buf_putc(&b, ')');
    trn_promql_expr_t *e;
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(trn_promql_parse(b.data, b.len, a, &e, &d), TRN_EINVAL);
    assert_non_null(strstr(d.msg, "nesting too deep"));
    b.len = 0;
    trn_buf_puts(&b, "x");
    for (int i = 0; i < 5000; i++)
        trn_buf_puts(&b, " + x");
    trn_diag_init(&d);
    assert_int_equal(trn_promql_parse(b.data, b.len, a, &e, &d), TRN_EINVAL);
    assert_non_null(strstr(d.msg, "nesting too deep"));
    b.len = 0;
    trn_buf_puts(&b, "x");
    for (int i = 0; i < 100; i++)
        trn_buf_puts(&b, " or x");
    trn_diag_init(&d);
    assert_int_equal(trn_promql_parse(b.data, b.len, a, &e, &d), 0);
    trn_promql_expr_release(e);
    trn_buf_fini(&b);
    trn_arena_free(a);
}

/* Small arena budgets: every failure path must release compiled regexes
 * (found by fuzz_promql_parse; the sanitizer build checks for leaks). */
static void test_promql_budget_failures_release(void **state)
{
    (void)state;
    const char *q =
        "sum by (a) (x{b=~\"a.*\", c!~\"z+\"}) / on(a) y{d=~\"e|f\"} + rate(z{g=~\"h\"}[5m])";
    int ok = 0, failed = 0;
    for (size_t budget = 64; budget < 8192; budget += 64) {
        trn_arena_t *a = trn_arena_new(budget);
        trn_promql_expr_t *e = NULL;
        trn_diag_t d;
        trn_diag_init(&d);
        int rc = trn_promql_parse(q, strlen(q), a, &e, &d);
        if (rc == 0) {
            ok++;
            trn_promql_expr_release(e);
        } else {
            failed++;
            assert_true(rc == TRN_ELIMIT || rc == TRN_EINVAL);
        }
        trn_arena_free(a);
    }
    assert_true(ok > 0 && failed > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_promql_roundtrip),
        cmocka_unit_test(test_promql_canonical),
        cmocka_unit_test(test_promql_errors),
        cmocka_unit_test(test_promql_error_texts),
        cmocka_unit_test(test_promql_types),
        cmocka_unit_test(test_promql_function_edges),
        cmocka_unit_test(test_promql_budget_failures_release),
        cmocka_unit_test(test_promql_depth_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
