/* SPDX-License-Identifier: Apache-2.0 */
/* The rule manager at run time: group threads evaluating on their own,
 * alerts posted to an external Alertmanager (a loopback server standing in
 * for one) with the v2 JSON body, the self-metrics, and the main-config
 * side of the loader (rule_files globs, global settings, alerting). */
#include "test.h"

#include "core/registry.h"
#include "core/timefmt.h"
#include "core/yaml.h"
#include "metrics/store.h"
#include "net/http.h"
#include "rules/rules.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct am_sink {
    pthread_mutex_t mu;
    int posts;
    char path[128];
    char body[4096];
} am_sink_t;

static void am_post(void *ctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    am_sink_t *s = ctx;
    trn_str_t b = trn_http_body(req);
    pthread_mutex_lock(&s->mu);
    s->posts++;
    snprintf(s->path, sizeof s->path, "%s", trn_http_path(req));
    snprintf(s->body, sizeof s->body, "%.*s", (int)b.len, b.p);
    pthread_mutex_unlock(&s->mu);
    resp->status = 200;
}

static const trn_route_t am_routes[] = {
    {.method = "POST", .pattern = "/prefix/api/v2/alerts", .fn = am_post},
};

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void put_now(trn_store_t *s, const char *name, double v)
{
    trn_label_t l[2] = {{TRN_STR("__name__"), trn_str_c(name)}, {TRN_STR("job"), TRN_STR("x")}};
    trn_labels_t ls = {l, 2};
    trn_sample_t smp = {trn_now_ms(), v};
    trn_append_series_t as = {ls, &smp, 1};
    trn_append_result_t r;
    assert_int_equal(trn_store_append(s, &as, 1, &r, NULL), 0);
}

static void test_rules_threads_and_external_alertmanager(void **state)
{
    (void)state;
    am_sink_t sink = {.mu = PTHREAD_MUTEX_INITIALIZER};
    trn_http_opts_t ho = {.listen = "127.0.0.1:0", .max_body_bytes = 1 << 20, .threads = 1};
    trn_http_server_t *http = trn_http_server_new(&ho);
    trn_http_add_routes(http, am_routes, 1, &sink);
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(trn_http_server_start(http, &d), 0);
    int port = trn_http_server_port(http);

    char dir[] = "/tmp/trine-rules-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/a.rules.yml", dir);
    FILE *f = fopen(path, "w");
    fputs("groups:\n- name: fast\n  interval: 1s\n  rules:\n  - alert: Down\n    expr: probe == 0\n"
          "    annotations:\n      summary: \"{{ $labels.job }} {{ $externalLabels.dc }}\"\n"
          "  - record: probe:copy\n    expr: probe\n",
          f);
    fclose(f);
    char cfg[1024];
    snprintf(cfg, sizeof cfg,
             "global:\n  evaluation_interval: 2s\n  external_labels:\n    dc: eu1\n"
             "rule_files:\n  - '*.rules.yml'\n  - 'nothing-*.yml'\n"
             "alerting:\n  alertmanagers:\n  - path_prefix: /prefix/\n    timeout: 2s\n"
             "    static_configs:\n    - targets: ['127.0.0.1:%d']\n",
             port);
    trn_yaml_doc_t *doc;
    assert_int_equal(trn_yaml_parse("trine.yml", cfg, strlen(cfg), &doc, &d), 0);
    trn_rules_config_t *c;
    int rc = trn_rules_config_parse(trn_yaml_root(doc), dir, &c, &d);
    if (rc) fprintf(stderr, "%s\n", d.msg);
    assert_int_equal(rc, 0);
    trn_yaml_free(doc);
    assert_int_equal(trn_rules_config_n_rules(c), 2);

    trn_store_opts_t so;
    trn_store_opts_default(&so);
    so.dir = NULL;
    trn_store_t *s;
    assert_int_equal(trn_store_open(&so, &s, NULL), 0);
    put_now(s, "probe", 0);
    trn_registry_t *reg = trn_registry_new();
    trn_rule_manager_t *m = trn_rule_manager_new(s, reg, NULL);
    assert_int_equal(trn_rule_manager_apply(m, c, NULL), 0);
    assert_int_equal(trn_rule_manager_start(m, NULL), 0);

    /* the group thread fires the alert (no `for`) and the sender posts it */
    int posts = 0;
    for (int i = 0; i < 100 && posts == 0; i++) {
        sleep_ms(50);
        pthread_mutex_lock(&sink.mu);
        posts = sink.posts;
        pthread_mutex_unlock(&sink.mu);
        if (i % 10 == 0) put_now(s, "probe", 0);
    }
    assert_true(posts > 0);
    pthread_mutex_lock(&sink.mu);
    assert_string_equal(sink.path, "/prefix/api/v2/alerts");
    json_error_t jerr;
    json_t *j = json_loads(sink.body, 0, &jerr);
    pthread_mutex_unlock(&sink.mu);
    assert_non_null(j);
    assert_int_equal(json_array_size(j), 1);
    json_t *a0 = json_array_get(j, 0);
    json_t *labels = json_object_get(a0, "labels");
    assert_string_equal(json_string_value(json_object_get(labels, "alertname")), "Down");
    assert_string_equal(json_string_value(json_object_get(labels, "dc")),
                        "eu1"); /* external label */
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(a0, "annotations"), "summary")), "x eu1");
    assert_non_null(json_string_value(json_object_get(a0, "startsAt")));
    assert_non_null(json_string_value(json_object_get(a0, "endsAt")));
    assert_non_null(strstr(json_string_value(json_object_get(a0, "generatorURL")),
                           "/graph?g0.expr=probe+%3D%3D+0"));
    json_decref(j);

    trn_buf_t out;
    trn_buf_init(&out);
    trn_registry_write(reg, &out);
    assert_non_null(strstr(out.data, "trine_rule_group_rules{rule_group="));
    assert_non_null(strstr(out.data, "a.rules.yml;fast\"} 2"));
    assert_non_null(strstr(out.data, "trine_rule_group_interval_seconds{rule_group="));
    assert_non_null(strstr(out.data, "trine_rule_evaluations_total{rule_group="));
    assert_non_null(strstr(out.data, "trine_notifications_sent_total{alertmanager="));
    trn_buf_fini(&out);

    trn_rule_manager_free(m);
    trn_registry_free(reg);
    trn_store_close(s);
    trn_http_server_free(http);
    unlink(path);
    rmdir(dir);
}

static void test_rules_main_config_errors(void **state)
{
    (void)state;
    struct {
        const char *cfg, *msg;
    } cases[] = {
        {"rule_files: x\n", "rule_files must be a list"},
        {"global:\n  evaluation_interval: -1s\n", "trine.yml:2:"},
        {"alerting:\n  alertmanagers:\n  - api_version: v1\n", "api_version v1 is not supported"},
        {"alerting:\n  alert_relabel_configs:\n  - action: drop\n",
         "alert_relabel_configs is not supported"},
        {"alerting:\n  alertmanagers:\n  - bogus: 1\n", "unknown key \"bogus\""},
        {"global:\n  external_labels:\n    bad-name: x\n", "invalid label name: bad-name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        trn_yaml_doc_t *doc;
        trn_diag_t d;
        trn_diag_init(&d);
        assert_int_equal(trn_yaml_parse("trine.yml", cases[i].cfg, strlen(cases[i].cfg), &doc, &d),
                         0);
        trn_rules_config_t *c = NULL;
        int rc = trn_rules_config_parse(trn_yaml_root(doc), "/nonexistent", &c, &d);
        trn_yaml_free(doc);
        if (rc == 0 || !strstr(d.msg, cases[i].msg)) {
            fprintf(stderr, "case %zu: want %s, got rc %d: %s\n", i, cases[i].msg, rc, d.msg);
            fail();
        }
    }
    /* no root / no rules: an empty config */
    trn_rules_config_t *c;
    assert_int_equal(trn_rules_config_parse(NULL, NULL, &c, NULL), 0);
    assert_int_equal(trn_rules_config_n_groups(c), 0);
    trn_rules_config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_threads_and_external_alertmanager),
        cmocka_unit_test(test_rules_main_config_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
