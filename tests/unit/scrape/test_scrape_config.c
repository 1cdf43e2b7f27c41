/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for scrape configuration: Prometheus's defaults (global and
 * per job, the timeout cut to the interval), errors with file:line:col,
 * target label building (discovered labels, relabeling, instance, the
 * scrape URL with params) and file_sd files in JSON and YAML. */
#include "test.h"

#include "core/arena.h"
#include "core/labels.h"
#include "core/yaml.h"
#include "scrape/scrape_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static trn_scrape_config_t *parse(const char *yaml, trn_diag_t *d)
{
    trn_yaml_doc_t *doc = NULL;
    trn_diag_init(d);
    assert_int_equal(trn_yaml_parse("test.yml", yaml, strlen(yaml), &doc, d), 0);
    trn_scrape_config_t *c = NULL;
    int rc = trn_scrape_config_parse(trn_yaml_root(doc), &c, d);
    trn_yaml_free(doc);
    return rc == 0 ? c : NULL;
}

static void check_error(const char *yaml, const char *want)
{
    trn_diag_t d;
    trn_scrape_config_t *c = parse(yaml, &d);
    if (c) fail_msg("expected an error containing %s", want);
    if (!strstr(d.msg, want)) fail_msg("error \"%s\" does not contain \"%s\"", d.msg, want);
}

static void test_scrape_config_defaults(void **state)
{
    (void)state;
    trn_diag_t d;
    trn_scrape_config_t *c = parse("scrape_configs:\n"
                                   "  - job_name: a\n"
                                   "  - job_name: b\n"
                                   "    scrape_interval: 5s\n"
                                   "  - job_name: c\n"
                                   "    scrape_interval: 30s\n"
                                   "    scrape_timeout: 10s\n"
                                   "other_section: ignored\n",
                                   &d);
    if (!c) fail_msg("%s", d.msg);
    assert_int_equal(trn_scrape_config_jobs(c), 3);
    assert_int_equal(c->jobs[0].interval_ms, 60000);
    assert_int_equal(c->jobs[0].timeout_ms, 10000);
    assert_int_equal(c->jobs[1].interval_ms, 5000);
    assert_int_equal(c->jobs[1].timeout_ms, 5000); /* inherited timeout cut to the interval */
    assert_int_equal(c->jobs[2].timeout_ms, 10000);
    assert_string_equal(c->jobs[0].metrics_path, "/metrics");
    assert_string_equal(c->jobs[0].scheme, "http");
    assert_true(c->jobs[0].honor_timestamps);
    assert_false(c->jobs[0].honor_labels);
    trn_scrape_config_free(c);

    c = parse("global:\n  scrape_interval: 15s\n  external_labels: {b: '2', a: '1'}\n"
              "scrape_configs:\n  - job_name: x\n",
              &d);
    if (!c) fail_msg("%s", d.msg);
    assert_int_equal(c->jobs[0].interval_ms, 15000);
    assert_int_equal(c->jobs[0].timeout_ms, 10000);
    const trn_labels_t *el = trn_scrape_config_external_labels(c);
    assert_int_equal(el->n, 2);
    assert_true(trn_str_eqc(el->v[0].name, "a"));
    trn_scrape_config_free(c);

    c = parse("server: {}\n", &d);
    assert_non_null(c);
    assert_int_equal(trn_scrape_config_jobs(c), 0);
    trn_scrape_config_free(c);
}

static void test_scrape_config_errors(void **state)
{
    (void)state;
    check_error("scrape_configs:\n  - job_name: a\n    scrape_intervall: 5s\n",
                "test.yml:3:5: unknown key \"scrape_intervall\" in scrape_config");
    check_error("global:\n  scrape_timeout: 2m\n", "test.yml:2:19: global scrape timeout greater "
                                                   "than scrape interval");
    check_error("global:\n  evaluation_intervall: 1m\n",
                "test.yml:2:3: unknown key \"evaluation_intervall\" in global");
    check_error("scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n"
                "    scrape_timeout: 10s\n",
                "test.yml:4:21: scrape timeout greater than scrape interval for scrape config "
                "with job name \"a\"");
    check_error("scrape_configs:\n  - job_name: a\n  - job_name: a\n",
                "test.yml:3:5: found multiple scrape configs with job name \"a\"");
    check_error("scrape_configs:\n  - scheme: http\n", "test.yml:2:5: job_name is empty");
    check_error("scrape_configs:\n  - job_name: a\n    scheme: ftp\n",
                "test.yml:3:13: unknown scheme \"ftp\"");
    check_error("scrape_configs:\n  - job_name: a\n    scrape_interval: 5x\n", "test.yml:3:22");
    check_error("scrape_configs:\n  - job_name: a\n    static_configs:\n"
                "      - targets: [x]\n        lables: {a: b}\n",
                "test.yml:5:9: unknown key \"lables\" in target group");
    check_error("scrape_configs:\n  - job_name: a\n    static_configs:\n"
                "      - targets: [x]\n        labels: {0a: b}\n",
                "\"0a\" is not a valid label name");
    check_error("scrape_configs:\n  - job_name: a\n    relabel_configs:\n"
                "      - action: hashmod\n        target_label: x\n",
                "test.yml:4:17: relabel configuration for hashmod requires non-zero modulus");
    check_error("scrape_configs:\n  - job_name: a\n    metric_relabel_configs:\n"
                "      - action: keep\n        regex: '('\n",
                "test.yml:5:16: invalid regex");
    check_error("scrape_configs:\n  - job_name: a\n    file_sd_configs:\n"
                "      - files: [targets.txt]\n",
                "test.yml:4:17: path name \"targets.txt\" is not valid for file discovery");
    check_error("scrape_configs:\n  - job_name: a\n    basic_auth: {username: u}\n"
                "    authorization: {credentials: t}\n",
                "at most one of basic_auth, authorization");
    check_error("scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs: []\n",
                "unknown key \"kubernetes_sd_configs\" in scrape_config");
    check_error("scrape_configs: {}\n", "test.yml:1:17: scrape_configs must be a list");
}

static void test_scrape_config_target_labels(void **state)
{
    (void)state;
    trn_diag_t d;
    trn_scrape_config_t *c = parse("scrape_configs:\n"
                                   "  - job_name: node\n"
                                   "    scrape_interval: 1s\n"
                                   "    metrics_path: /probe\n"
                                   "    params: {module: [http_2xx], x: [a b, c]}\n"
                                   "    static_configs:\n"
                                   "      - targets: ['127.0.0.1:9100', 'drop.me:1']\n"
                                   "        labels: {env: prod, __meta_x: y}\n"
                                   "    relabel_configs:\n"
                                   "      - source_labels: [__address__]\n"
                                   "        regex: 'drop\\..*'\n"
                                   "        action: drop\n"
                                   "      - source_labels: [__param_module]\n"
                                   "        target_label: module\n",
                                   &d);
    if (!c) fail_msg("%s", d.msg);
    const trn__scrape_job_t *j = &c->jobs[0];
    trn_arena_t *a = trn_arena_new(0);
    trn_labels_t disc, labels;
    trn_diag_init(&d);
    assert_int_equal(trn__target_labels(j, &j->static_groups[0], 0, a, &disc, &labels, &d), 1);
    trn_buf_t b;
    trn_buf_init(&b);
    trn_labels_format(&disc, &b);
    assert_string_equal(b.data,
                        "{__address__=\"127.0.0.1:9100\", __meta_x=\"y\", "
                        "__metrics_path__=\"/probe\", __param_module=\"http_2xx\", "
                        "__param_x=\"a b\", __scheme__=\"http\", __scrape_interval__=\"1s\", "
                        "__scrape_timeout__=\"1s\", env=\"prod\", job=\"node\"}");
    b.len = 0;
    trn_labels_format(&labels, &b);
    assert_string_equal(b.data, "{__address__=\"127.0.0.1:9100\", __metrics_path__=\"/probe\", "
                                "__param_module=\"http_2xx\", __param_x=\"a b\", "
                                "__scheme__=\"http\", __scrape_interval__=\"1s\", "
                                "__scrape_timeout__=\"1s\", env=\"prod\", "
                                "instance=\"127.0.0.1:9100\", job=\"node\", module=\"http_2xx\"}");
    trn_buf_fini(&b);
    char *url = trn__target_url(j, &labels, a);
    assert_string_equal(url, "http://127.0.0.1:9100/probe?module=http_2xx&x=a+b&x=c");
    int64_t iv, to;
    assert_int_equal(trn__target_timing(&labels, &iv, &to, &d), 0);
    assert_int_equal(iv, 1000);
    assert_int_equal(to, 1000);
    /* The second target is dropped by relabeling. */
    assert_int_equal(trn__target_labels(j, &j->static_groups[0], 1, a, &disc, &labels, &d), 0);
    trn_arena_free(a);
    trn_scrape_config_free(c);
}

static void test_scrape_config_target_errors(void **state)
{
    (void)state;
    trn_diag_t d;
    trn_scrape_config_t *c = parse("scrape_configs:\n"
                                   "  - job_name: j\n"
                                   "    static_configs: [{targets: ['a:1']}]\n"
                                   "    relabel_configs:\n"
                                   "      - target_label: __address__\n"
                                   "        replacement: ''\n",
                                   &d);
    if (!c) fail_msg("%s", d.msg);
    trn_arena_t *a = trn_arena_new(0);
    trn_labels_t disc, labels;
    trn_diag_init(&d);
    assert_int_equal(
        trn__target_labels(&c->jobs[0], &c->jobs[0].static_groups[0], 0, a, &disc, &labels, &d),
        -1);
    assert_string_equal(d.msg, "no address");
    trn_arena_free(a);
    trn_scrape_config_free(c);
}

static char *write_tmp(const char *suffix, const char *text)
{
    char *path = malloc(256);
    snprintf(path, 256, "/tmp/trn_sd_test_%d%s", (int)getpid(), suffix);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_scrape_config_file_sd(void **state)
{
    (void)state;
    trn_diag_t d;
    trn__tgroup_t *gs = NULL;
    size_t n = 0;
    char *p = write_tmp(".json", "[{\"targets\": [\"h1:80\", \"h2:80\"], \"labels\": {\"env\": "
                                 "\"dev\"}}, {\"targets\": [\"h3:80\"]}]");
    trn_diag_init(&d);
    if (trn__file_sd_read(p, &gs, &n, &d) < 0) fail_msg("%s", d.msg);
    assert_int_equal(n, 2);
    assert_int_equal(gs[0].n_targets, 2);
    assert_string_equal(gs[0].targets[1], "h2:80");
    assert_string_equal(gs[0].names[0], "env");
    assert_string_equal(gs[0].names[1], "__meta_filepath");
    assert_string_equal(gs[0].values[1], p);
    for (size_t i = 0; i < n; i++)
        trn__tgroup_fini(&gs[i]);
    free(gs);
    unlink(p);
    free(p);

    p = write_tmp(".yml", "- targets: ['h1:80']\n  labels:\n    env: dev\n");
    trn_diag_init(&d);
    if (trn__file_sd_read(p, &gs, &n, &d) < 0) fail_msg("%s", d.msg);
    assert_int_equal(n, 1);
    assert_string_equal(gs[0].targets[0], "h1:80");
    trn__tgroup_fini(&gs[0]);
    free(gs);
    unlink(p);
    free(p);

    p = write_tmp(".yml", "- targets: ['h1:80']\n  labels:\n    env: dev\n  extra: 1\n");
    trn_diag_init(&d);
    assert_int_equal(trn__file_sd_read(p, &gs, &n, &d), -1);
    assert_non_null(strstr(d.msg, ":4:3: unknown key \"extra\" in target group"));
    unlink(p);
    free(p);

    p = write_tmp(".json", "[{\"targets\": [1]}]");
    trn_diag_init(&d);
    assert_int_equal(trn__file_sd_read(p, &gs, &n, &d), -1);
    assert_non_null(strstr(d.msg, "is not a non-empty string"));
    unlink(p);
    free(p);

    p = write_tmp(".json", "[{\"targets\": [");
    trn_diag_init(&d);
    assert_int_equal(trn__file_sd_read(p, &gs, &n, &d), -1);
    assert_int_equal(d.line, 1);
    unlink(p);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scrape_config_defaults),
        cmocka_unit_test(test_scrape_config_errors),
        cmocka_unit_test(test_scrape_config_target_labels),
        cmocka_unit_test(test_scrape_config_target_errors),
        cmocka_unit_test(test_scrape_config_file_sd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
