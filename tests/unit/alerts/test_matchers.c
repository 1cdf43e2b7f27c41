/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for Alertmanager matcher parsing: quoting, escapes, lists
 * in braces, tolerant whitespace, and the error messages. */
#include "test.h"

#include "alerts/matchers.h"
#include "core/err.h"

#include <string.h>

static int parse_list(const char *s, trn_am_matchers_t *ms, trn_arena_t *a, trn_diag_t *d)
{
    trn_diag_init(d);
    return trn_am_matchers_parse(trn_str_c(s), a, ms, d);
}

static void expect_one(const char *in, trn_match_type_t t, const char *name, const char *value)
{
    trn_arena_t *a = trn_arena_new(0);
    trn_am_matchers_t ms = {0};
    trn_diag_t d;
    assert_int_equal(parse_list(in, &ms, a, &d), 0);
    assert_int_equal(ms.n, 1);
    assert_int_equal(ms.v[0].type, t);
    assert_true(trn_str_eqc(ms.v[0].name, name));
    assert_true(trn_str_eqc(ms.v[0].value, value));
    trn_am_matchers_fini(&ms);
    trn_arena_free(a);
}

static void test_matchers_single_forms(void **state)
{
    (void)state;
    expect_one("foo=bar", TRN_MATCH_EQ, "foo", "bar");
    expect_one("  foo  !=  \"bar baz\"  ", TRN_MATCH_NE, "foo", "bar baz");
    expect_one("severity=~\"critical|warning\"", TRN_MATCH_RE, "severity", "critical|warning");
    expect_one("x!~a.*", TRN_MATCH_NRE, "x", "a.*");
    expect_one("q=\"say \\\"hi\\\"\\n\"", TRN_MATCH_EQ, "q", "say \"hi\"\n");
    expect_one("e=\"\"", TRN_MATCH_EQ, "e", "");
    expect_one("e=", TRN_MATCH_EQ, "e", "");
    expect_one("p=a\\b", TRN_MATCH_EQ, "p", "a\\b");
    expect_one("ns:x=1", TRN_MATCH_EQ, "ns:x", "1");
}

static void test_matchers_list_with_braces_and_commas(void **state)
{
    (void)state;
    trn_arena_t *a = trn_arena_new(0);
    trn_am_matchers_t ms = {0};
    trn_diag_t d;
    assert_int_equal(parse_list("{a=\"b\", c!=\"d,e\", }", &ms, a, &d), 0);
    assert_int_equal(ms.n, 2);
    assert_true(trn_str_eqc(ms.v[1].value, "d,e"));
    trn_buf_t b;
    trn_buf_init(&b);
    trn_am_matchers_format(&ms, &b);
    assert_string_equal(b.data, "{a=\"b\",c!=\"d,e\"}");
    trn_buf_fini(&b);

    trn_label_t lv[] = {{TRN_STR("a"), TRN_STR("b")}, {TRN_STR("c"), TRN_STR("x")}};
    trn_labels_t ls = {lv, 2};
    assert_true(trn_am_matchers_match(&ms, &ls));
    lv[1].value = TRN_STR("d,e");
    assert_false(trn_am_matchers_match(&ms, &ls));
    trn_am_matchers_fini(&ms);
    trn_arena_free(a);
}

static void test_matchers_errors(void **state)
{
    (void)state;
    trn_arena_t *a = trn_arena_new(0);
    trn_am_matchers_t ms = {0};
    trn_diag_t d;
    assert_int_equal(parse_list("foo", &ms, a, &d), TRN_EINVAL);
    assert_string_equal(d.msg, "bad matcher format: foo");
    assert_int_equal(parse_list("a=b,,c=d", &ms, a, &d), TRN_EINVAL);
    assert_int_equal(ms.n, 0);
    assert_int_equal(parse_list("a=\"b", &ms, a, &d), TRN_EINVAL);
    assert_non_null(strstr(d.msg, "unescaped double quote"));
    assert_int_equal(parse_list("a=b\"c", &ms, a, &d), TRN_EINVAL);
    assert_int_equal(parse_list("1a=b", &ms, a, &d), TRN_EINVAL);
    assert_int_equal(parse_list("a=~\"(\"", &ms, a, &d), TRN_EINVAL);
    assert_non_null(strstr(d.msg, "regular expression"));
    assert_int_equal(parse_list("a=\"\xff\"", &ms, a, &d), TRN_EINVAL);
    assert_non_null(strstr(d.msg, "UTF-8"));
    trn_am_matchers_fini(&ms);
    trn_arena_free(a);
}

static void test_matchers_regex_anchored_and_absent_label(void **state)
{
    (void)state;
    trn_arena_t *a = trn_arena_new(0);
    trn_am_matchers_t ms = {0};
    trn_diag_t d;
    assert_int_equal(parse_list("team=~\"db|web\", env=\"\"", &ms, a, &d), 0);
    trn_label_t lv[] = {{TRN_STR("team"), TRN_STR("dbx")}};
    trn_labels_t ls = {lv, 1};
    assert_false(trn_am_matchers_match(&ms, &ls));
    lv[0].value = TRN_STR("web");
    assert_true(trn_am_matchers_match(&ms, &ls));
    trn_am_matchers_fini(&ms);
    trn_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matchers_single_forms),
        cmocka_unit_test(test_matchers_list_with_braces_and_commas),
        cmocka_unit_test(test_matchers_errors),
        cmocka_unit_test(test_matchers_regex_anchored_and_absent_label),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
