/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for relabeling: the cases of Prometheus's documented
 * semantics (defaults, separator, $1 / ${1} expansion, hashmod buckets,
 * labelmap, keepequal/dropequal, lowercase/uppercase) and the validation
 * errors with their positions. Rules are written in YAML, as users do. */
#include "test.h"

#include "core/arena.h"
#include "core/labels.h"
#include "core/yaml.h"
#include "core/digest.h"
#include "scrape/relabel.h"

#include <stdio.h>
#include <string.h>

/* Parses "a=foo,b=bar" into a sorted label set (strings from the arena). */
static trn_labels_t mk(trn_arena_t *a, const char *spec)
{
    trn_labels_t ls = {trn_arena_alloc(a, 32 * sizeof(trn_label_t)), 0};
    char *s = trn_arena_strndup(a, spec, strlen(spec));
    const char *sep = strchr(spec, '&') ? "&" : ","; /* '&' when values hold commas */
    for (char *tok = strtok(s, sep); tok; tok = strtok(NULL, sep)) {
        char *eq = strchr(tok, '=');
        *eq = 0;
        ls.v[ls.n++] = (trn_label_t){trn_str_c(tok), trn_str_c(eq + 1)};
    }
    trn_labels_sort(&ls);
    return ls;
}

static trn_relabel_t *parse(const char *yaml, trn_diag_t *d)
{
    trn_yaml_doc_t *doc = NULL;
    trn_diag_init(d);
    assert_int_equal(trn_yaml_parse("test.yml", yaml, strlen(yaml), &doc, d), 0);
    trn_relabel_t *r = NULL;
    int rc = trn_relabel_parse(trn_yaml_root(doc), &r, d);
    trn_yaml_free(doc);
    return rc == 0 ? r : NULL;
}

/* Runs the rules on input; returns the formatted result or "DROP". */
static void check(const char *yaml, const char *input, const char *want)
{
    trn_diag_t d;
    trn_relabel_t *r = parse(yaml, &d);
    if (!r) fail_msg("parse failed: %s", d.msg);
    trn_arena_t *a = trn_arena_new(0);
    trn_labels_t in = mk(a, input), out;
    int rc = trn_relabel_apply(r, &in, a, &out);
    assert_true(rc >= 0);
    trn_buf_t b;
    trn_buf_init(&b);
    if (rc == 0)
        trn_buf_puts(&b, "DROP");
    else
        trn_labels_format(&out, &b);
    if (strcmp(b.data, want) != 0)
        fail_msg("rules:\n%s\ninput %s\nwant %s\ngot  %s", yaml, input, want, b.data);
    trn_buf_fini(&b);
    trn_arena_free(a);
    trn_relabel_free(r);
}

static void check_error(const char *yaml, const char *want_substr)
{
    trn_diag_t d;
    trn_relabel_t *r = parse(yaml, &d);
    if (r) fail_msg("expected error containing %s", want_substr);
    if (!strstr(d.msg, want_substr)) fail_msg("error %s does not contain %s", d.msg, want_substr);
}

static void test_relabel_md5_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *in, *hex;
    } v[] = {{"", "d41d8cd98f00b204e9800998ecf8427e"},
             {"abc", "900150983cd24fb0d6963f7d28e17f72"},
             {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
             {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
              "57edf4a22be3c955ac49da2e2107b67a"}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t out[16];
        char hex[33];
        trn_md5(v[i].in, strlen(v[i].in), out);
        for (int j = 0; j < 16; j++)
            snprintf(hex + 2 * j, 3, "%02x", out[j]);
        assert_string_equal(hex, v[i].hex);
    }
}

static void test_relabel_replace(void **state)
{
    (void)state;
    check("- source_labels: [a]\n  regex: f(.*)\n  target_label: d\n  replacement: ch${1}-ch${1}\n",
          "a=foo,b=bar,c=baz", "{a=\"foo\", b=\"bar\", c=\"baz\", d=\"choo-choo\"}");
    check("- source_labels: [a, b]\n  regex: f(.*);(.*)r\n  target_label: a\n"
          "  replacement: b${1}${2}m\n"
          "- source_labels: [c, a]\n  regex: (b).*b(.*)ba(.*)\n  target_label: d\n"
          "  replacement: $1$2$2$3\n",
          "a=foo,b=bar,c=baz", "{a=\"boobam\", b=\"bar\", c=\"baz\", d=\"boooom\"}");
    /* The regex is anchored: ".*(b).*" needs the whole value. */
    check("- source_labels: [a]\n  regex: .*(b).*\n  target_label: d\n", "a=abc",
          "{a=\"abc\", d=\"b\"}");
    /* No match: no replacement. */
    check("- source_labels: [a]\n  regex: f\n  target_label: b\n  replacement: bar\n", "a=boo",
          "{a=\"boo\"}");
    /* Defaults: regex (.*), replacement $1, separator ; over absent labels. */
    check("- source_labels: [a, missing]\n  target_label: j\n", "a=x", "{a=\"x\", j=\"x;\"}");
    /* Empty result deletes the target. */
    check("- source_labels: [missing]\n  target_label: a\n", "a=x,b=y", "{b=\"y\"}");
    /* Expanded target_label; invalid expansion skips the rule. */
    check("- source_labels: [a]\n  regex: some-([^-]+)-([^,]+)\n  replacement: ${2}\n"
          "  target_label: ${1}\n",
          "a=some-name-value", "{a=\"some-name-value\", name=\"value\"}");
    check("- source_labels: [a]\n  regex: some-([^-]+)-([^,]+)\n  replacement: ${1}\n"
          "  target_label: ${3}\n",
          "a=some-name-0", "{a=\"some-name-0\"}");
    /* Go's Expand: "$1x" names group "1x" (empty), "$$" is a '$'. */
    check("- source_labels: [a]\n  regex: (.*)\n  target_label: b\n  replacement: $1x\n", "a=v",
          "{a=\"v\"}");
    check("- source_labels: [a]\n  regex: (.*)\n  target_label: b\n  replacement: ${1}x$$\n", "a=v",
          "{a=\"v\", b=\"vx$\"}");
    check("- source_labels: [a]\n  regex: (?P<first>.)(.*)\n  target_label: b\n"
          "  replacement: $first-$2\n",
          "a=xyz", "{a=\"xyz\", b=\"x-yz\"}");
    /* A real-life chain over a meta label. */
    check("- source_labels: [__meta_sd_tags]\n  regex: '(?:.+,|^)path:(/[^,]+).*'\n"
          "  target_label: __metrics_path__\n"
          "- source_labels: [__meta_sd_tags]\n  regex: '(?:.+,|^)job:([^,]+).*'\n"
          "  target_label: job\n"
          "- source_labels: [__meta_sd_tags]\n  regex: '(?:.+,|^)label:([^=]+)=([^,]+).*'\n"
          "  replacement: ${2}\n  target_label: ${1}\n",
          "__meta_sd_tags=path:/secret,job:some-job,label:foo=bar&x=y",
          "{__meta_sd_tags=\"path:/secret,job:some-job,label:foo=bar\", "
          "__metrics_path__=\"/secret\", "
          "foo=\"bar\", job=\"some-job\", x=\"y\"}");
}

static void test_relabel_keep_drop(void **state)
{
    (void)state;
    check("- source_labels: [a]\n  regex: .*o.*\n  action: drop\n"
          "- source_labels: [a]\n  regex: f(.*)\n  target_label: d\n",
          "a=foo", "DROP");
    check("- source_labels: [a]\n  regex: no-match\n  action: drop\n", "a=foo", "{a=\"foo\"}");
    check("- source_labels: [a]\n  regex: f|o\n  action: drop\n", "a=foo", "{a=\"foo\"}");
    check("- source_labels: [a]\n  regex: no-match\n  action: keep\n", "a=foo", "DROP");
    check("- source_labels: [a]\n  regex: f.*\n  action: Keep\n", "a=foo", "{a=\"foo\"}");
    /* Dot matches newline ((?s) like Prometheus). */
    check("- source_labels: [a]\n  regex: foo.bar\n  action: keep\n", "a=foo\nbar",
          "{a=\"foo\\nbar\"}");
}

static void test_relabel_equal(void **state)
{
    (void)state;
    const char *in = "__tmp_port=1234,__port1=1234,__port2=5678";
    const char *all = "{__port1=\"1234\", __port2=\"5678\", __tmp_port=\"1234\"}";
    check("- source_labels: [__tmp_port]\n  action: keepequal\n  target_label: __port1\n", in, all);
    check("- source_labels: [__tmp_port]\n  action: dropequal\n  target_label: __port1\n", in,
          "DROP");
    check("- source_labels: [__tmp_port]\n  action: dropequal\n  target_label: __port2\n", in, all);
    check("- source_labels: [__tmp_port]\n  action: keepequal\n  target_label: __port2\n", in,
          "DROP");
}

static void test_relabel_hashmod(void **state)
{
    (void)state;
    check("- source_labels: [c]\n  target_label: d\n  action: hashmod\n  modulus: 1000\n",
          "a=foo,b=bar,c=baz", "{a=\"foo\", b=\"bar\", c=\"baz\", d=\"976\"}");
    check("- source_labels: [a]\n  target_label: b\n  action: hashmod\n  modulus: 1000\n",
          "a=foo\nbar", "{a=\"foo\\nbar\", b=\"734\"}");
}

static void test_relabel_labelmap_drop_keep(void **state)
{
    (void)state;
    check("- regex: (b.*)\n  replacement: bar_${1}\n  action: labelmap\n", "a=foo,b1=bar,b2=baz",
          "{a=\"foo\", b1=\"bar\", b2=\"baz\", bar_b1=\"bar\", bar_b2=\"baz\"}");
    check("- regex: __meta_(my.*)\n  action: labelmap\n",
          "a=foo,__meta_my_bar=aaa,__meta_my_baz=bbb,__meta_other=ccc",
          "{__meta_my_bar=\"aaa\", __meta_my_baz=\"bbb\", __meta_other=\"ccc\", a=\"foo\", "
          "my_bar=\"aaa\", my_baz=\"bbb\"}");
    check("- regex: (b.*)\n  action: labelkeep\n", "a=foo,b1=bar,b2=baz",
          "{b1=\"bar\", b2=\"baz\"}");
    check("- regex: (b.*)\n  action: labeldrop\n", "a=foo,b1=bar,b2=baz", "{a=\"foo\"}");
    check("- regex: ^__meta_kubernetes_pod_container_port_name$\n  action: labeldrop\n"
          "- source_labels: [__meta_kubernetes_pod_annotation_XXX_metrics_port]\n"
          "  regex: (.+)\n  replacement: metrics\n"
          "  target_label: __meta_kubernetes_pod_container_port_name\n"
          "- source_labels: [__meta_kubernetes_pod_container_port_name]\n"
          "  regex: ^metrics$\n  action: keep\n",
          "__meta_kubernetes_pod_container_port_name=foo,"
          "__meta_kubernetes_pod_annotation_XXX_metrics_port=9091",
          "{__meta_kubernetes_pod_annotation_XXX_metrics_port=\"9091\", "
          "__meta_kubernetes_pod_container_port_name=\"metrics\"}");
}

static void test_relabel_case(void **state)
{
    (void)state;
    check("- source_labels: [foo]\n  action: uppercase\n  target_label: foo_uppercase\n"
          "- source_labels: [foo]\n  action: lowercase\n  target_label: foo_lowercase\n",
          "foo=bAr123Foo",
          "{foo=\"bAr123Foo\", foo_lowercase=\"bar123foo\", foo_uppercase=\"BAR123FOO\"}");
}

static void test_relabel_validation_errors(void **state)
{
    (void)state;
    check_error("- action: replace\n", "test.yml:1:11: relabel configuration for replace action "
                                       "requires 'target_label' value");
    check_error("- action: lowercase\n", "requires 'target_label' value");
    check_error("- action: lowercase\n  target_label: ${3}\n",
                "\"${3}\" is invalid 'target_label'");
    check_error("- source_labels: [a]\n  target_label: 0${3}\n",
                "\"0${3}\" is invalid 'target_label'");
    check_error("- source_labels: [a]\n  target_label: -${3}\n",
                "\"-${3}\" is invalid 'target_label' for replace action");
    check_error("- source_labels: [a]\n  target_label: b\n  action: hashmod\n",
                "requires non-zero modulus");
    check_error("- action: ''\n", "relabel action cannot be empty");
    check_error("- action: bogus\n", "test.yml:1:11: unknown relabel action \"bogus\"");
    check_error("- source_labels: [a]\n  target_label: b\n  regxe: x\n",
                "test.yml:3:3: unknown key \"regxe\" in relabel_config");
    check_error("- source_labels: [a]\n  target_label: b\n  regex: '(x'\n",
                "test.yml:3:10: invalid regex \"(x\"");
    check_error("- regex: x\n  action: labeldrop\n  target_label: y\n",
                "labeldrop action requires only 'regex', and no other fields");
    check_error("- source_labels: [a]\n  target_label: b\n  action: keepequal\n  regex: x\n",
                "keepequal action requires only 'source_labels' and `target_label`");
    check_error("- source_labels: [a]\n  target_label: b\n  action: uppercase\n"
                "  replacement: x\n",
                "'replacement' can not be set for uppercase action");
    check_error("- regex: (.*)\n  action: labelmap\n  replacement: -$1\n",
                "\"-$1\" is invalid 'replacement' for labelmap action");
    check_error("source_labels: [a]\n", "relabel configs must be a list");
}

static void test_relabel_empty_and_budget(void **state)
{
    (void)state;
    check("[]\n", "b=2,a=1", "{a=\"1\", b=\"2\"}");
    trn_diag_t d;
    trn_relabel_t *r = parse("- source_labels: [a]\n  target_label: b\n  replacement: "
                             "$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1\n",
                             &d);
    assert_non_null(r);
    trn_arena_t *a = trn_arena_new(64 * 1024);
    char big[4000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    trn_label_t l = {TRN_STR("a"), trn_str_c(big)};
    trn_labels_t in = {&l, 1}, out;
    assert_int_equal(trn_relabel_apply(r, &in, a, &out), -2 /* TRN_ELIMIT */);
    trn_arena_free(a);
    trn_relabel_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relabel_md5_vectors),
        cmocka_unit_test(test_relabel_replace),
        cmocka_unit_test(test_relabel_keep_drop),
        cmocka_unit_test(test_relabel_equal),
        cmocka_unit_test(test_relabel_hashmod),
        cmocka_unit_test(test_relabel_labelmap_drop_keep),
        cmocka_unit_test(test_relabel_case),
        cmocka_unit_test(test_relabel_validation_errors),
        cmocka_unit_test(test_relabel_empty_and_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
