/* SPDX-License-Identifier: Apache-2.0 */
/* GET /api/v1/rules and /api/v1/alerts over a real loopback HTTP server
 * with a rule manager evaluated at chosen timestamps: Prometheus's JSON
 * shapes, the filters Grafana sends, and the parameter errors. */
#include "test.h"

#include "api/api.h"
#include "api/prom_rules.h"
#include "metrics/store.h"
#include "net/http.h"
#include "rules/rules.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1699999980000LL

typedef struct fixture {
    trn_store_t *store;
    trn_rule_manager_t *rules;
    trn_http_server_t *http;
    trn_api_ctx_t api;
    int port;
} fixture_t;

static size_t collect(char *p, size_t sz, size_t n, void *ud)
{
    trn_buf_append(ud, p, sz * n);
    return sz * n;
}

static json_t *get(fixture_t *f, const char *path_query, long *status)
{
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", f->port, path_query);
    CURL *c = curl_easy_init();
    trn_buf_t b;
    trn_buf_init(&b);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(c);
    json_error_t err;
    json_t *j = json_loadb(b.data ? b.data : "", b.len, 0, &err);
    if (!j) fprintf(stderr, "bad JSON: %.*s\n", (int)b.len, b.data);
    trn_buf_fini(&b);
    assert_non_null(j);
    return j;
}

static void put(trn_store_t *s, const char *name, const char *job, int64_t t, double v)
{
    trn_label_t l[2] = {{TRN_STR("__name__"), trn_str_c(name)}, {TRN_STR("job"), trn_str_c(job)}};
    trn_labels_t ls = {l, 2};
    trn_sample_t smp = {t, v};
    trn_append_series_t as = {ls, &smp, 1};
    trn_append_result_t r;
    assert_int_equal(trn_store_append(s, &as, 1, &r, NULL), 0);
}

static const char *RULES = "groups:\n"
                           "- name: rec\n"
                           "  interval: 30s\n"
                           "  rules:\n"
                           "  - record: job:up:sum\n"
                           "    expr: sum by (job) (up)\n"
                           "- name: alerts\n"
                           "  rules:\n"
                           "  - alert: Down\n"
                           "    expr: up == 0\n"
                           "    for: 1m\n"
                           "    labels:\n"
                           "      severity: page\n"
                           "    annotations:\n"
                           "      summary: \"{{ $labels.job }} down\"\n";

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    trn_store_opts_t o;
    trn_store_opts_default(&o);
    o.dir = NULL;
    o.ooo_window_ms = 3600 * 1000LL;
    assert_int_equal(trn_store_open(&o, &f->store, NULL), 0);
    for (int64_t t = T0 - 300000; t <= T0 + 300000; t += 15000) {
        put(f->store, "up", "api", t, 0);
        put(f->store, "up", "db", t, 1);
    }
    trn_rules_config_t *c;
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(
        trn_rules_config_load_text("/etc/trine/rules.yml", RULES, strlen(RULES), 0, &c, &d), 0);
    trn_rule_manager_opts_t ro = {.no_for_state_restore = true};
    f->rules = trn_rule_manager_new(f->store, NULL, &ro);
    assert_int_equal(trn_rule_manager_apply(f->rules, c, NULL), 0);
    f->api.store = f->store;
    f->api.rules = f->rules;
    trn_http_opts_t ho = {.listen = "127.0.0.1:0", .max_body_bytes = 1 << 20, .threads = 2};
    f->http = trn_http_server_new(&ho);
    trn_http_add_routes(f->http, trn_api_prom_rules_routes, TRN_API_PROM_RULES_N_ROUTES, &f->api);
    assert_int_equal(trn_http_server_start(f->http, &d), 0);
    f->port = trn_http_server_port(f->http);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    trn_http_server_free(f->http);
    trn_rule_manager_free(f->rules);
    trn_store_close(f->store);
    free(f);
    return 0;
}

static void test_rules_api_shapes(void **state)
{
    fixture_t *f = *state;
    long st;
    json_t *j = get(f, "/api/v1/rules", &st);
    assert_int_equal(st, 200);
    json_t *groups = json_object_get(json_object_get(j, "data"), "groups");
    assert_int_equal(json_array_size(groups), 2);
    json_t *r0 = json_array_get(json_object_get(json_array_get(groups, 0), "rules"), 0);
    assert_string_equal(json_string_value(json_object_get(r0, "health")), "unknown");
    assert_string_equal(json_string_value(json_object_get(r0, "lastEvaluation")),
                        "0001-01-01T00:00:00Z");
    json_decref(j);

    assert_int_equal(trn_rule_manager_eval_at(f->rules, T0), 0);
    assert_int_equal(trn_rule_manager_eval_at(f->rules, T0 + 60000), 0);
    j = get(f, "/api/v1/rules", &st);
    groups = json_object_get(json_object_get(j, "data"), "groups");
    json_t *g0 = json_array_get(groups, 0), *g1 = json_array_get(groups, 1);
    assert_string_equal(json_string_value(json_object_get(g0, "name")), "rec");
    assert_string_equal(json_string_value(json_object_get(g0, "file")), "/etc/trine/rules.yml");
    assert_true(json_number_value(json_object_get(g0, "interval")) == 30);
    assert_true(json_number_value(json_object_get(g1, "interval")) == 60);
    assert_int_equal(json_integer_value(json_object_get(g0, "limit")), 0);
    json_t *rec = json_array_get(json_object_get(g0, "rules"), 0);
    assert_string_equal(json_string_value(json_object_get(rec, "type")), "recording");
    assert_string_equal(json_string_value(json_object_get(rec, "query")), "sum by (job) (up)");
    assert_string_equal(json_string_value(json_object_get(rec, "health")), "ok");
    assert_null(json_object_get(rec, "lastError"));
    assert_null(json_object_get(rec, "state"));
    json_t *al = json_array_get(json_object_get(g1, "rules"), 0);
    assert_string_equal(json_string_value(json_object_get(al, "type")), "alerting");
    assert_string_equal(json_string_value(json_object_get(al, "state")), "firing");
    assert_true(json_number_value(json_object_get(al, "duration")) == 60);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(al, "labels"), "severity")), "page");
    json_t *alerts = json_object_get(al, "alerts");
    assert_int_equal(json_array_size(alerts), 1);
    json_t *a0 = json_array_get(alerts, 0);
    assert_string_equal(json_string_value(json_object_get(a0, "state")), "firing");
    assert_string_equal(json_string_value(json_object_get(a0, "value")), "0e+00");
    assert_string_equal(json_string_value(json_object_get(a0, "activeAt")),
                        "2023-11-14T22:13:00.000Z");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(a0, "annotations"), "summary")),
        "api down");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(a0, "labels"), "alertname")), "Down");
    json_decref(j);

    j = get(f, "/api/v1/alerts", &st);
    assert_int_equal(st, 200);
    alerts = json_object_get(json_object_get(j, "data"), "alerts");
    assert_int_equal(json_array_size(alerts), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(alerts, 0), "state")),
                        "firing");
    json_decref(j);
}

static void test_rules_api_filters(void **state)
{
    fixture_t *f = *state;
    long st;
    json_t *j = get(f, "/api/v1/rules?type=record", &st);
    json_t *groups = json_object_get(json_object_get(j, "data"), "groups");
    assert_int_equal(json_array_size(groups), 1); /* the alerting group is left empty and dropped */
    json_decref(j);
    j = get(f, "/api/v1/rules?type=alert&exclude_alerts=true", &st);
    groups = json_object_get(json_object_get(j, "data"), "groups");
    assert_int_equal(json_array_size(groups), 1);
    json_t *al = json_array_get(json_object_get(json_array_get(groups, 0), "rules"), 0);
    assert_true(json_is_null(json_object_get(al, "alerts")));
    json_decref(j);
    j = get(f, "/api/v1/rules?rule_name[]=job:up:sum&rule_name[]=nope", &st);
    assert_int_equal(json_array_size(json_object_get(json_object_get(j, "data"), "groups")), 1);
    json_decref(j);
    j = get(f, "/api/v1/rules?rule_group[]=alerts&file[]=/etc/trine/rules.yml", &st);
    assert_int_equal(json_array_size(json_object_get(json_object_get(j, "data"), "groups")), 1);
    json_decref(j);
    j = get(f, "/api/v1/rules?match[]=%7Bseverity%3D%22page%22%7D", &st);
    assert_int_equal(json_array_size(json_object_get(json_object_get(j, "data"), "groups")), 1);
    json_decref(j);
    j = get(f, "/api/v1/rules?group_limit=1", &st);
    const char *tok =
        json_string_value(json_object_get(json_object_get(j, "data"), "groupNextToken"));
    assert_non_null(tok);
    char q[256];
    snprintf(q, sizeof q, "/api/v1/rules?group_limit=1&group_next_token=%s", tok);
    json_decref(j);
    j = get(f, q, &st);
    groups = json_object_get(json_object_get(j, "data"), "groups");
    assert_int_equal(json_array_size(groups), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(groups, 0), "name")),
                        "alerts");
    assert_null(json_object_get(json_object_get(j, "data"), "groupNextToken"));
    json_decref(j);
    j = get(f, "/api/v1/rules?type=bogus", &st);
    assert_int_equal(st, 400);
    assert_string_equal(json_string_value(json_object_get(j, "errorType")), "bad_data");
    assert_string_equal(json_string_value(json_object_get(j, "error")),
                        "invalid parameter \"type\": not supported value \"bogus\"");
    json_decref(j);
    j = get(f, "/api/v1/rules?group_next_token=abc", &st);
    assert_int_equal(st, 400);
    json_decref(j);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rules_api_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rules_api_filters, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
