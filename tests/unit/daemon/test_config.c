/* SPDX-License-Identifier: Apache-2.0 */
/* Main config: defaults, each section's settings, and errors that name the
 * file, line and column. */
#include "test.h"

#include "daemon/config.h"

#include <string.h>

static trn_config_t *parse_ok(const char *text)
{
    trn_diag_t d;
    trn_diag_init(&d);
    trn_config_t *c = NULL;
    int rc = trn_config_parse("t.yaml", text, strlen(text), &c, &d);
    if (rc != 0) fail_msg("unexpected error: %s", d.msg);
    return c;
}

static void expect_error(const char *text, const char *want)
{
    trn_diag_t d;
    trn_diag_init(&d);
    trn_config_t *c = NULL;
    assert_int_not_equal(trn_config_parse("t.yaml", text, strlen(text), &c, &d), 0);
    assert_null(c);
    if (!strstr(d.msg, want)) fail_msg("message \"%s\" lacks \"%s\"", d.msg, want);
}

static void test_config_defaults(void **state)
{
    (void)state;
    trn_config_t *c = parse_ok("");
    assert_string_equal(c->listen, "127.0.0.1:9090");
    assert_string_equal(c->data_dir, "./data");
    assert_string_equal(c->store.dir, "./data/metrics");
    assert_int_equal(c->store.retention_ms, 15LL * 24 * 3600 * 1000);
    assert_int_equal(c->lookback_delta_ms, 300000);
    trn_config_free(c);
}

static void test_config_sections(void **state)
{
    (void)state;
    trn_config_t *c =
        parse_ok("server:\n  listen: 127.0.0.1:0\n  max_request_bytes: 2MiB\n"
                 "  log_level: debug\n"
                 "storage:\n  path: /tmp/x\n  retention: 1d\n  retention_size: 1GB\n"
                 "  wal_fsync: interval\n  wal_fsync_interval: 50ms\n"
                 "query:\n  lookback_delta: 1m\n  max_samples: 1000\n  max_bytes: 64MiB\n"
                 "scrape_configs: []\n");
    assert_string_equal(c->listen, "127.0.0.1:0");
    assert_int_equal(c->max_body_bytes, 2u << 20);
    assert_int_equal(c->log_level, TRN_LOG_DEBUG);
    assert_string_equal(c->metrics_dir, "/tmp/x/metrics");
    assert_int_equal(c->store.retention_ms, 86400000);
    assert_int_equal(c->store.retention_bytes, 1000000000ULL);
    assert_int_equal(c->store.fsync_mode, TRN_FSYNC_INTERVAL);
    assert_int_equal(c->store.fsync_interval_ms, 50);
    assert_int_equal(c->lookback_delta_ms, 60000);
    assert_int_equal(c->query_max_samples, 1000);
    assert_int_equal(c->query_max_bytes, 64u << 20);
    trn_config_free(c);
}

static void test_config_errors_have_positions(void **state)
{
    (void)state;
    expect_error("bogus: 1\n", "t.yaml:1:1: unknown key \"bogus\" in the config file");
    expect_error("storage:\n  retention: 15x\n", "t.yaml:2:14: not a valid duration string");
    expect_error("storage: [1]\n", "t.yaml:1:10: storage must be a mapping");
    expect_error("server:\n  log_level: loud\n", "t.yaml:2:14: log_level must be");
    expect_error("storage:\n  block_range: 1s\n", "block_range must be at least 1m");
    expect_error("query:\n  max_samples: -3\n", "max_samples must be positive");
    expect_error("query:\n  max_bytes: 1KiB\n", "max_bytes must be at least 1MiB");
    expect_error("server: {listen: a\n", "t.yaml:");
    expect_error("storage:\n  path: a\n  path: b\n", "key \"path\" already set in storage");
    expect_error("a: *nope\n", "unknown alias");
}

static void test_config_anchors_resolve(void **state)
{
    (void)state;
    trn_config_t *c = parse_ok("query:\n  lookback_delta: &d 2m\n  timeout: *d\n");
    assert_int_equal(c->query_timeout_ms, 120000);
    trn_config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test(test_config_sections),
        cmocka_unit_test(test_config_errors_have_positions),
        cmocka_unit_test(test_config_anchors_resolve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
