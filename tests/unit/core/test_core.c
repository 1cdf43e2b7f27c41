/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for small core pieces: arena budgets and marks, float and
 * duration formatting (Prometheus's spellings), time parsing, JSON. */
#include "test.h"

#include "core/arena.h"
#include "core/json.h"
#include "core/labels.h"
#include "core/matcher.h"
#include "core/str.h"
#include "core/timefmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_arena_budget_is_sticky(void **state)
{
    (void)state;
    trn_arena_t *a = trn_arena_new(100);
    assert_non_null(trn_arena_alloc(a, 64));
    assert_null(trn_arena_alloc(a, 64));
    assert_true(trn_arena_failed(a));
    assert_null(trn_arena_alloc(a, 1));
    trn_arena_free(a);
}

static void test_arena_mark_reset_reuses(void **state)
{
    (void)state;
    trn_arena_t *a = trn_arena_new(0);
    trn_arena_mark_t m = trn_arena_mark(a);
    for (int i = 0; i < 1000; i++)
        assert_non_null(trn_arena_alloc(a, 10000));
    trn_arena_reset(a, m);
    assert_int_equal(trn_arena_used(a), 0);
    char *s = trn_arena_printf(a, "x=%d", 42);
    assert_string_equal(s, "x=42");
    trn_arena_free(a);
}

static void test_fmt_float_matches_go(void **state)
{
    (void)state;
    struct {
        double v;
        const char *s;
    } cases[] = {{1, "1"},
                 {0.1, "0.1"},
                 {1e6, "1000000"},
                 {123456, "123456"},
                 {1e21, "1e+21"},
                 {1e20, "100000000000000000000"},
                 {0.0001, "0.0001"},
                 {0.00001, "0.00001"},
                 {1e-7, "1e-07"},
                 {-2.5, "-2.5"},
                 {NAN, "NaN"},
                 {INFINITY, "+Inf"},
                 {-INFINITY, "-Inf"},
                 {1.0 / 3, "0.3333333333333333"},
                 {0.1 + 0.2, "0.30000000000000004"},
                 {5e-324, "5e-324"},
                 {1e23, "1e+23"},
                 {1.7976931348623157e308, "1.7976931348623157e+308"},
                 {9223372036854775808.0, "9223372036854776000"},
                 {1.5e-7, "1.5e-07"},
                 {0.000001, "0.000001"},
                 {9.5367431640625e-07, "9.5367431640625e-07"},
                 {0.0971458, "0.0971458"},
                 {-1234.5678, "-1234.5678"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[33];
        trn_fmt_float(out, cases[i].v);
        assert_string_equal(out, cases[i].s);
    }
    char n[21];
    assert_int_equal(trn_fmt_i64(n, 0), 1);
    assert_string_equal(n, "0");
    trn_fmt_i64(n, -1795557600);
    assert_string_equal(n, "-1795557600");
    assert_int_equal(trn_fmt_i64(n, INT64_MIN), 20);
    assert_string_equal(n, "-9223372036854775808");
    trn_fmt_i64(n, INT64_MAX);
    assert_string_equal(n, "9223372036854775807");
}

/* Digits of the shortest round-trip form, found the slow sure way. */
static int oracle_digits(double v)
{
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
        if (strtod(tmp, NULL) == v) return prec;
    }
    return 17;
}

static int count_digits(const char *s)
{
    int n = 0, leading = 1;
    for (const char *p = s; *p && *p != 'e'; p++) {
        if (*p < '0' || *p > '9') continue;
        if (leading && *p == '0') continue;
        leading = 0;
        n++;
    }
    /* trailing zeros of an integer part are not significant */
    const char *e = strchr(s, 'e');
    if (!strchr(s, '.') && !e) {
        size_t len = strlen(s);
        while (len > 1 && s[len - 1] == '0' && n > 1)
            len--, n--;
    }
    return n;
}

/* The significant digits of a formatted number, without sign, point,
 * exponent, leading or trailing zeros ("-0.0120e+05" -> "12"). */
static void sig_digits(const char *s, char out[40])
{
    int n = 0;
    for (const char *p = s; *p && *p != 'e' && n < 39; p++) {
        if (*p < '0' || *p > '9') continue;
        if (n == 0 && *p == '0') continue;
        out[n++] = *p;
    }
    while (n > 1 && out[n - 1] == '0')
        n--;
    out[n] = 0;
}

static void test_fmt_float_shortest_round_trip(void **state)
{
    (void)state;
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        union {
            uint64_t u;
            double d;
        } u = {.u = x};
        double v = u.d;
        if (i % 4 == 1) v = (double)(x % 100000) / 100.0;                   /* short decimals */
        if (i % 4 == 2) v = (double)(int64_t)(x % 10000000);                /* integers */
        if (i % 8 == 3) v = ldexp((double)(x >> 11), (int)(x % 240) - 170); /* 1e-35..1e30 */
        if (i % 8 == 7) v = (double)(x % 1000000007) / (double)(1 + (x >> 40) % 997);
        if (isnan(v) || isinf(v)) continue;
        char out[33];
        trn_fmt_float(out, v);
        if (strtod(out, NULL) != v) fail_msg("%s does not round-trip %.17g", out, v);
        int nd = oracle_digits(v);
        if (count_digits(out) > nd)
            fail_msg("%s is longer than the shortest form of %.17g (%d digits)", out, v, nd);
        if (count_digits(out) == nd) {
            /* of the shortest forms, the nearest: printf's correct rounding */
            char want[40], a[40], b[40];
            snprintf(want, sizeof want, "%.*e", nd - 1, v);
            sig_digits(out, a);
            sig_digits(want, b);
            if (strcmp(a, b) != 0) fail_msg("%s is not the nearest shortest form (%s)", out, want);
        }
        trn_fmt_float_g(out, v);
        if (strtod(out, NULL) != v) fail_msg("g: %s does not round-trip %.17g", out, v);
    }
}

static void test_duration_parse_and_format(void **state)
{
    (void)state;
    int64_t ms;
    assert_int_equal(trn_parse_duration(trn_str_c("1h30m"), &ms), 0);
    assert_int_equal(ms, 5400000);
    assert_int_equal(trn_parse_duration(trn_str_c("100ms"), &ms), 0);
    assert_int_equal(ms, 100);
    assert_int_equal(trn_parse_duration(trn_str_c("1d"), &ms), 0);
    assert_int_equal(ms, 86400000);
    assert_int_not_equal(trn_parse_duration(trn_str_c("30m1h"), &ms), 0);
    assert_int_not_equal(trn_parse_duration(trn_str_c("5"), &ms), 0);
    assert_int_not_equal(trn_parse_duration(trn_str_c(""), &ms), 0);
    char out[32];
    trn_format_duration(out, 5400000);
    assert_string_equal(out, "1h30m");
    trn_format_duration(out, 1209600000);
    assert_string_equal(out, "2w");
    trn_format_duration(out, 90061001);
    assert_string_equal(out, "1d1h1m1s1ms");
}

static void test_time_parse(void **state)
{
    (void)state;
    int64_t ms;
    assert_int_equal(trn_parse_time(trn_str_c("4"), &ms), 0);
    assert_int_equal(ms, 4000);
    assert_int_equal(trn_parse_time(trn_str_c("1700000000.123"), &ms), 0);
    assert_int_equal(ms, 1700000000123LL);
    assert_int_equal(trn_parse_time(trn_str_c("2015-07-01T20:10:51.781Z"), &ms), 0);
    assert_int_equal(ms, 1435781451781LL);
    assert_int_equal(trn_parse_time(trn_str_c("2015-07-01T22:10:51+02:00"), &ms), 0);
    assert_int_equal(ms, 1435781451000LL);
    assert_int_not_equal(trn_parse_time(trn_str_c("yesterday"), &ms), 0);
    assert_int_equal(trn_parse_step(trn_str_c("15"), &ms), 0);
    assert_int_equal(ms, 15000);
    assert_int_equal(trn_parse_step(trn_str_c("1m"), &ms), 0);
    assert_int_equal(ms, 60000);
}

static void test_json_writer_commas_and_escapes(void **state)
{
    (void)state;
    trn_buf_t b;
    trn_buf_init(&b);
    trn_json_t j;
    trn_json_init(&j, &b);
    trn_json_obj_begin(&j);
    trn_json_key(&j, "a");
    trn_json_arr_begin(&j);
    trn_json_int(&j, 1);
    trn_json_str(&j, "x\"\n\x01");
    trn_json_float_str(&j, NAN);
    trn_json_arr_end(&j);
    trn_json_key(&j, "b");
    trn_json_obj_begin(&j);
    trn_json_obj_end(&j);
    trn_json_obj_end(&j);
    assert_string_equal(b.data, "{\"a\":[1,\"x\\\"\\n\\u0001\",\"NaN\"],\"b\":{}}");
    trn_buf_fini(&b);
}

static void test_matcher_anchored_regex(void **state)
{
    (void)state;
    trn_matcher_t m;
    assert_int_equal(trn_matcher_init(&m, TRN_MATCH_RE, trn_str_c("job"), trn_str_c("api.*"), NULL),
                     0);
    assert_true(trn_matcher_matches(&m, trn_str_c("api-server")));
    assert_false(trn_matcher_matches(&m, trn_str_c("my-api")));
    trn_matcher_fini(&m);
    assert_int_equal(trn_matcher_init(&m, TRN_MATCH_RE, trn_str_c("x"), trn_str_c("a|bc"), NULL),
                     0);
    assert_true(trn_matcher_matches(&m, trn_str_c("bc")));
    assert_false(trn_matcher_matches(&m, trn_str_c("abc")));
    trn_matcher_fini(&m);
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_not_equal(trn_matcher_init(&m, TRN_MATCH_RE, trn_str_c("x"), trn_str_c("a("), &d),
                         0);
    assert_non_null(strstr(d.msg, "invalid regular expression"));
    assert_int_equal(trn_matcher_init(&m, TRN_MATCH_NRE, trn_str_c("x"), trn_str_c(".+"), NULL), 0);
    trn_labels_t empty = {0};
    assert_true(trn_matcher_matches_labels(&m, &empty));
    trn_matcher_fini(&m);
}

static void test_labels_sort_validate(void **state)
{
    (void)state;
    trn_label_t v[] = {{TRN_STR("job"), TRN_STR("a")},
                       {TRN_STR("__name__"), TRN_STR("up")},
                       {TRN_STR("job"), TRN_STR("b")}};
    trn_labels_t ls = {v, 3};
    trn_labels_sort(&ls);
    assert_true(trn_str_eqc(ls.v[0].name, "__name__"));
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(trn_labels_validate(&ls, &d), -1);
    assert_non_null(strstr(d.msg, "duplicate label name"));
    ls.n = 2;
    assert_int_equal(trn_labels_validate(&ls, NULL), 0);
    trn_buf_t b;
    trn_buf_init(&b);
    trn_labels_format(&ls, &b);
    assert_string_equal(b.data, "{__name__=\"up\", job=\"a\"}");
    trn_buf_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena_budget_is_sticky),
        cmocka_unit_test(test_arena_mark_reset_reuses),
        cmocka_unit_test(test_fmt_float_matches_go),
        cmocka_unit_test(test_fmt_float_shortest_round_trip),
        cmocka_unit_test(test_duration_parse_and_format),
        cmocka_unit_test(test_time_parse),
        cmocka_unit_test(test_json_writer_commas_and_escapes),
        cmocka_unit_test(test_matcher_anchored_regex),
        cmocka_unit_test(test_labels_sort_validate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
