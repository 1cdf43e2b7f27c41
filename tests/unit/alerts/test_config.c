/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the Alertmanager config loader: the Kubernetes wrappers,
 * inheritance of route settings, route keys, defaults, and the errors
 * (wording as Alertmanager's, with positions). */
#include "test.h"

#include "alerts/config.h"
#include "alerts/route.h"
#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static trn_am_config_t *load_ok(const char *y)
{
    trn_am_config_t *c = NULL;
    trn_diag_t d;
    trn_diag_init(&d);
    int rc = trn_am_config_parse("t.yml", y, strlen(y), &c, &d);
    if (rc) print_error("unexpected error: %s\n", d.msg);
    assert_int_equal(rc, 0);
    return c;
}

static void expect_err(const char *y, const char *needle)
{
    trn_am_config_t *c = NULL;
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(trn_am_config_parse("t.yml", y, strlen(y), &c, &d), TRN_EINVAL);
    assert_null(c);
    if (!strstr(d.msg, needle)) print_error("got \"%s\", want \"%s\"\n", d.msg, needle);
    assert_non_null(strstr(d.msg, needle));
}

static void test_config_secret_wrappers(void **state)
{
    (void)state;
    trn_am_config_t *c =
        load_ok("apiVersion: v1\nkind: Secret\nstringData:\n  alertmanager.yaml: |\n"
                "    route: {receiver: a}\n    receivers: [{name: a}]\n");
    assert_string_equal(c->route->receiver, "a");
    trn_am_config_free(c);
    /* base64 of "route: {receiver: b}\nreceivers: [{name: b}]\n" */
    c = load_ok("kind: Secret\ndata:\n  alertmanager.yaml: "
                "cm91dGU6IHtyZWNlaXZlcjogYn0KcmVjZWl2ZXJzOiBbe25hbWU6IGJ9XQo=\n");
    assert_string_equal(c->route->receiver, "b");
    trn_am_config_free(c);
    c = load_ok("kind: ConfigMap\ndata:\n  alertmanager.yaml: |\n    route: {receiver: c}\n"
                "    receivers: [{name: c}]\n");
    assert_string_equal(c->route->receiver, "c");
    trn_am_config_free(c);
    expect_err("kind: Secret\nstringData: {other: x}\n", "alertmanager.yaml");
}

static void test_config_inheritance_and_keys(void **state)
{
    (void)state;
    trn_am_config_t *c = load_ok("route:\n  receiver: a\n  group_by: [cluster, alertname]\n"
                                 "  group_wait: 5s\n  routes:\n"
                                 "    - match: {severity: critical}\n      receiver: b\n"
                                 "      repeat_interval: 1h\n      routes:\n"
                                 "        - matchers: ['team=~\"db|web\"']\n"
                                 "          group_by: ['...']\n"
                                 "receivers: [{name: a}, {name: b}]\n");
    const trn_am_route_t *r = c->route, *b = r->routes[0], *leaf = b->routes[0];
    assert_int_equal(r->group_wait_ms, 5000);
    assert_int_equal(r->group_interval_ms, TRN_AM_GROUP_INTERVAL_MS);
    assert_string_equal(r->group_by[0], "alertname");
    assert_string_equal(b->receiver, "b");
    assert_int_equal(b->repeat_interval_ms, 3600000);
    assert_int_equal(leaf->group_wait_ms, 5000);
    assert_string_equal(leaf->receiver, "b");
    assert_true(leaf->group_by_all);
    assert_int_equal(leaf->repeat_interval_ms, 3600000);
    assert_string_equal(r->key, "{}");
    assert_string_equal(leaf->key, "{}/{severity=\"critical\"}/{team=~\"db|web\"}");
    assert_int_equal(c->n_routes, 3);
    assert_int_equal(c->global.resolve_timeout_ms, TRN_AM_RESOLVE_TIMEOUT_MS);

    trn_label_t lv[] = {{TRN_STR("alertname"), TRN_STR("X")},
                        {TRN_STR("cluster"), TRN_STR("eu \"1\"")},
                        {TRN_STR("zone"), TRN_STR("z")}};
    trn_label_t gv[3];
    trn_labels_t ls = {lv, 3}, gl = {gv, 0};
    trn_am_route_group_labels(r, &ls, &gl);
    assert_int_equal(gl.n, 2);
    trn_buf_t k;
    trn_buf_init(&k);
    trn_am_group_key(r, &gl, &k);
    assert_string_equal(k.data, "{}:{alertname=\"X\", cluster=\"eu \\\"1\\\"\"}");
    trn_buf_fini(&k);
    trn_am_config_free(c);
}

static void test_config_receiver_defaults(void **state)
{
    (void)state;
    trn_am_config_t *c =
        load_ok("global: {slack_api_url: 'http://s/x', smtp_smarthost: 'h:25', smtp_from: 'a@b'}\n"
                "route: {receiver: r}\nreceivers:\n  - name: r\n"
                "    webhook_configs: [{url: 'http://w/'}]\n"
                "    slack_configs: [{channel: '#c', send_resolved: true}]\n"
                "    pagerduty_configs: [{service_key: k}]\n"
                "    email_configs: [{to: 'x@y'}]\n");
    const trn_am_receiver_t *r = trn_am_config_receiver(c, "r");
    assert_non_null(r);
    assert_int_equal(r->n_integrations, 4);
    assert_true(r->integrations[0].send_resolved);
    assert_string_equal(trn_am_integration_opt(&r->integrations[1], "api_url"), "http://s/x");
    assert_true(r->integrations[1].send_resolved);
    assert_non_null(
        strstr(trn_am_integration_opt(&r->integrations[1], "title"), "slack.default.title"));
    assert_string_equal(trn_am_integration_opt(&r->integrations[2], "url"),
                        "https://events.pagerduty.com/v2/enqueue");
    assert_int_equal(r->integrations[2].n_details, 4);
    assert_string_equal(trn_am_integration_opt(&r->integrations[3], "smarthost"), "h:25");
    assert_false(r->integrations[3].send_resolved);
    trn_am_config_free(c);
}

static void test_config_errors(void **state)
{
    (void)state;
    expect_err("receivers: [{name: a}]\n", "no routes provided");
    expect_err("route: {group_by: [a]}\nreceivers: [{name: a}]\n",
               "root route must specify a default receiver");
    expect_err("route: {receiver: a, match: {x: y}}\nreceivers: [{name: a}]\n",
               "root route must not have any matchers");
    expect_err("route: {receiver: a, routes: [{receiver: nope}]}\nreceivers: [{name: a}]\n",
               "t.yml:1:42: undefined receiver \"nope\" used in route");
    expect_err("route: {receiver: a}\nreceivers: [{name: a}, {name: a}]\n",
               "notification config name \"a\" is not unique");
    expect_err("route: {receiver: a, routes: [{matchers: ['=b']}]}\nreceivers: [{name: a}]\n",
               "bad matcher format: =b");
    expect_err("route: {receiver: a, routes: [{matchers: ['x=~\"(\"']}]}\nreceivers: [{name: a}]\n",
               "regular expression");
    expect_err("route: {receiver: a, group_by: ['...', b]}\nreceivers: [{name: a}]\n",
               "wildcard group_by");
    expect_err("route: {receiver: a, repeat_interval: 0s}\nreceivers: [{name: a}]\n",
               "repeat_interval cannot be zero");
    expect_err("route: {receiver: a, recevier: b}\nreceivers: [{name: a}]\n",
               "unknown key \"recevier\" in route");
    expect_err("route: {receiver: a}\nreceivers: [{name: a, webhook_configs: [{}]}]\n",
               "one of url or url_file must be configured");
    expect_err("route: {receiver: a}\nreceivers: [{name: a, slack_configs: [{channel: x}]}]\n",
               "no global Slack API URL set");
    expect_err("route: {receiver: a}\nreceivers: [{name: a, pagerduty_configs: [{}]}]\n",
               "missing service or routing key");
    expect_err("route: {receiver: a, routes: [{receiver: a, mute_time_intervals: [nope]}]}\n"
               "receivers: [{name: a}]\n",
               "undefined time interval \"nope\" used in route");
    expect_err("route: {receiver: a}\nreceivers: [{name: a}]\ninhibit_rules: [{equal: ['1x']}]\n",
               "invalid label name \"1x\"");
    expect_err("route: {receiver: a}\nreceivers: [{}]\n", "missing name in receiver");
}

static void test_config_secret_files(void **state)
{
    (void)state;
    char path[] = "/tmp/trn-am-url-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, " http://hook.example/x\n", 23), 23);
    close(fd);
    char y[512];
    snprintf(y, sizeof y,
             "route: {receiver: r}\nreceivers: [{name: r, webhook_configs: [{url_file: '%s'}]}]\n",
             path);
    trn_am_config_t *c = load_ok(y);
    assert_string_equal(trn_am_integration_opt(&c->receivers[0].integrations[0], "url"),
                        "http://hook.example/x");
    trn_am_config_free(c);
    unlink(path);
    expect_err("route: {receiver: r}\nreceivers: [{name: r, webhook_configs: [{url_file: "
               "/nonexistent/x}]}]\n",
               "url_file: cannot read /nonexistent/x");
}

static void test_config_time_intervals(void **state)
{
    (void)state;
    trn_am_config_t *c =
        load_ok("route: {receiver: a, routes: [{receiver: a, mute_time_intervals: [offhours]}]}\n"
                "receivers: [{name: a}]\n"
                "time_intervals:\n  - name: offhours\n    time_intervals:\n"
                "      - weekdays: [saturday, sunday]\n"
                "      - times: [{start_time: '00:00', end_time: '08:00'}]\n"
                "        weekdays: ['monday:friday']\n        months: ['january:march']\n");
    const trn_am_time_interval_t *ti = trn_am_config_time_interval(c, "offhours");
    assert_non_null(ti);
    /* 2024-01-06 is a Saturday; 2024-01-08 a Monday; 2024-04-08 a Monday. */
    assert_true(trn_am_time_interval_contains(ti, 1704542400000LL));  /* Sat 12:00 */
    assert_true(trn_am_time_interval_contains(ti, 1704672000000LL));  /* Mon 08 00:00 */
    assert_false(trn_am_time_interval_contains(ti, 1704700800000LL)); /* Mon 08 08:00 */
    assert_false(trn_am_time_interval_contains(ti, 1712534400000LL)); /* Mon Apr 8 00:00 */
    trn_am_config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_secret_wrappers),
        cmocka_unit_test(test_config_inheritance_and_keys),
        cmocka_unit_test(test_config_receiver_defaults),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_config_secret_files),
        cmocka_unit_test(test_config_time_intervals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
