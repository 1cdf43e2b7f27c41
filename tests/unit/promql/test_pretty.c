/* SPDX-License-Identifier: Apache-2.0 */
/* /api/v1/format_query's layout (trn_promql_format_pretty): short
 * expressions stay on one canonical line; longer ones split the way
 * Prometheus's Pretty(0) does. Every expected text below is what
 * Prometheus's own /api/v1/format_query returned for the same input. */
#include "test.h"

#include "metrics/promql/promql.h"

#include <string.h>

static const struct {
    const char *in, *want;
} cases[] = {
    {"sum(x)by(a)", "sum by (a) (x)"},
    {"container_memory_usage_bytes{pod=~\"hypersdk-.*\"} "
     "/\ncontainer_spec_memory_limit_bytes{pod=~\"hypersdk-.*\"} > 0.9",
     "    container_memory_usage_bytes{pod=~\"hypersdk-.*\"}\n"
     "  /\n"
     "    container_spec_memory_limit_bytes{pod=~\"hypersdk-.*\"}\n"
     ">\n"
     "  0.9"},
    {"topk by (job) (5, "
     "rate(http_requests_total{job=\"api\",handler=\"/api/v1/query_range\",code=~\"5..\"}[5m]) * "
     "100)",
     "topk by (job) (\n"
     "  5,\n"
     "  rate(http_requests_total{code=~\"5..\",handler=\"/api/v1/query_range\",job=\"api\"}[5m]) * "
     "100\n"
     ")"},
    {"-(rate(http_requests_total{job=\"api\",handler=\"/api/v1/query_range\",code=~\"5..\"}[5m]) + "
     "rate(http_requests_total{job=\"api\",handler=\"/api/v1/query_range\",code=~\"5..\"}[1m]))",
     "-(\n"
     "    "
     "rate(http_requests_total{code=~\"5..\",handler=\"/api/v1/query_range\",job=\"api\"}[5m])\n"
     "  +\n"
     "    "
     "rate(http_requests_total{code=~\"5..\",handler=\"/api/v1/query_range\",job=\"api\"}[1m])\n"
     ")"},
    {"max_over_time((rate(http_requests_total{job=\"api\",handler=\"/api/v1/"
     "query_range\",code=~\"5..\"}[5m]) + 1)[1h:1m] offset 5m)",
     "max_over_time(\n"
     "  (rate(http_requests_total{code=~\"5..\",handler=\"/api/v1/query_range\",job=\"api\"}[5m]) "
     "+ 1)[1h:1m] offset 5m\n"
     ")"},
    {"rate(http_requests_total{job=\"api\",handler=\"/api/v1/query_range\",code=~\"5..\"}[5m]) / "
     "on (job) group_left (instance) "
     "rate(http_requests_total{job=\"api\",handler=\"/api/v1/query_range\",code=~\"5..\"}[1m])",
     "  rate(http_requests_total{code=~\"5..\",handler=\"/api/v1/query_range\",job=\"api\"}[5m])\n"
     "/ on (job) group_left (instance)\n"
     "  rate(http_requests_total{code=~\"5..\",handler=\"/api/v1/query_range\",job=\"api\"}[1m])"},
    {"label_replace(rate(http_requests_total{job=\"api\",handler=\"/api/v1/"
     "query_range\",code=~\"5..\"}[5m]), \"a\", \"$1\", \"b\", \"(.*)\")",
     "label_replace(\n"
     "  rate(http_requests_total{code=~\"5..\",handler=\"/api/v1/query_range\",job=\"api\"}[5m]),\n"
     "  \"a\",\n"
     "  \"$1\",\n"
     "  \"b\",\n"
     "  \"(.*)\"\n"
     ")"},
};

static void test_promql_pretty_matches_prometheus(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        trn_arena_t *a = trn_arena_new(0);
        trn_promql_expr_t *e = NULL;
        trn_diag_t d;
        trn_diag_init(&d);
        assert_int_equal(trn_promql_parse(cases[i].in, strlen(cases[i].in), a, &e, &d), 0);
        trn_buf_t b;
        trn_buf_init(&b);
        trn_promql_format_pretty(e, &b);
        trn_buf_putc(&b, '\0');
        assert_string_equal(b.data, cases[i].want);
        trn_buf_fini(&b);
        trn_promql_expr_release(e);
        trn_arena_free(a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_promql_pretty_matches_prometheus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
