/* SPDX-License-Identifier: Apache-2.0 */
/* Prometheus's status and metadata endpoints: buildinfo (the shape Grafana
 * probes, without a `features` map so it is classified as Prometheus),
 * config, flags, runtimeinfo, tsdb (head stats and cardinality tops), and
 * /api/v1/metadata from the metadata that remote_write and scrapes carry. */
#include "api/api.h"
#include "api/prom_status.h"
#include "core/json.h"
#include "core/timefmt.h"
#include "core/version.h"
#include "metrics/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void kv(trn_json_t *j, const char *k, const char *v)
{
    trn_json_key(j, k);
    trn_json_str(j, v);
}

static void buildinfo(void *ctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    (void)ctx;
    (void)req;
    trn_json_t j;
    trn_api_prom_success(&j, resp);
    trn_json_obj_begin(&j);
    kv(&j, "version", TRN_VERSION);
    kv(&j, "revision", TRN_REVISION);
    kv(&j, "branch", TRN_BRANCH);
    kv(&j, "buildUser", "trine");
    kv(&j, "buildDate", TRN_BUILD_DATE);
    kv(&j, "goVersion", "none (C)");
    trn_json_obj_end(&j);
    trn_json_obj_end(&j);
}

static void config(void *ctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    (void)req;
    trn_api_ctx_t *api = ctx;
    trn_json_t j;
    trn_api_prom_success(&j, resp);
    trn_json_obj_begin(&j);
    kv(&j, "yaml", api->config_yaml ? api->config_yaml : "");
    trn_json_obj_end(&j);
    trn_json_obj_end(&j);
}

static void flags(void *ctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    (void)req;
    trn_api_ctx_t *api = ctx;
    char dur[32];
    trn_json_t j;
    trn_api_prom_success(&j, resp);
    trn_json_obj_begin(&j);
    trn_format_duration(dur, api->lookback_delta_ms);
    kv(&j, "query.lookback-delta", dur);
    trn_format_duration(dur, api->query_timeout_ms);
    kv(&j, "query.timeout", dur);
    char n[32];
    snprintf(n, sizeof n, "%llu", (unsigned long long)api->query_max_samples);
    kv(&j, "query.max-samples", n);
    trn_json_obj_end(&j);
    trn_json_obj_end(&j);
}

static void runtimeinfo(void *ctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    (void)req;
    trn_api_ctx_t *api = ctx;
    char ts[40], cwd[1024];
    trn_format_rfc3339_ms(ts, api->start_time_ms);
    if (!getcwd(cwd, sizeof cwd)) strcpy(cwd, "");
    trn_json_t j;
    trn_api_prom_success(&j, resp);
    trn_json_obj_begin(&j);
    kv(&j, "startTime", ts);
    kv(&j, "CWD", cwd);
    trn_json_key(&j, "reloadConfigSuccess");
    trn_json_bool(&j, true);
    trn_json_key(&j, "corruptionCount");
    trn_json_int(&j, 0);
    trn_json_key(&j, "GOMAXPROCS");
    trn_json_int(&j, sysconf(_SC_NPROCESSORS_ONLN));
    kv(&j, "storageRetention", "see /api/v1/status/flags");
    trn_json_obj_end(&j);
    trn_json_obj_end(&j);
}

static void tsdb(void *ctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    trn_api_ctx_t *api = ctx;
    trn_arena_t *a = trn_http_arena(req);
    size_t limit = 10;
    const char *l = trn_http_param(req, "limit");
    if (l) {
        char *end;
        long v = strtol(l, &end, 10);
        if (*end || v <= 0) {
            trn_api_prom_error(resp, 400, "bad_data", "limit must be a positive number");
            return;
        }
        limit = (size_t)v;
    }
    trn_store_stats_t st;
    trn_store_stats(api->store, &st);
    trn_name_count_t *top = NULL;
    size_t n_top = 0;
    trn_store_top_metrics(api->store, limit, a, &top, &n_top);

    trn_json_t j;
    trn_api_prom_success(&j, resp);
    trn_json_obj_begin(&j);
    trn_json_key(&j, "headStats");
    trn_json_obj_begin(&j);
    trn_json_key(&j, "numSeries");
    trn_json_uint(&j, st.head_series);
    trn_json_key(&j, "chunkCount");
    trn_json_uint(&j, st.head_chunks);
    trn_json_key(&j, "minTime");
    trn_json_int(&j, st.head_min_t_ms);
    trn_json_key(&j, "maxTime");
    trn_json_int(&j, st.head_max_t_ms);
    trn_json_obj_end(&j);
    trn_json_key(&j, "seriesCountByMetricName");
    trn_json_arr_begin(&j);
    for (size_t i = 0; i < n_top; i++) {
        trn_json_obj_begin(&j);
        trn_json_key(&j, "name");
        trn_json_strn(&j, top[i].name.p, top[i].name.len);
        trn_json_key(&j, "value");
        trn_json_uint(&j, top[i].count);
        trn_json_obj_end(&j);
    }
    trn_json_arr_end(&j);
    /* Label cardinality over the head's time range, from the index. */
    trn_json_key(&j, "labelValueCountByLabelName");
    trn_json_arr_begin(&j);
    trn_querier_t *q = NULL;
    if (trn_store_querier(api->store, st.head_min_t_ms, st.head_max_t_ms, &q) == 0) {
        trn_str_t *names = NULL;
        size_t n_names = 0;
        trn_querier_label_names(q, NULL, 0, a, &names, &n_names);
        trn_name_count_t *counts = trn_arena_calloc(a, n_names ? n_names : 1, sizeof *counts);
        for (size_t i = 0; counts && i < n_names; i++) {
            trn_str_t *vals = NULL;
            size_t n_vals = 0;
            trn_querier_label_values(q, names[i], NULL, 0, a, &vals, &n_vals);
            counts[i] = (trn_name_count_t){names[i], n_vals};
        }
        /* top `limit` by count, selection by repeated max (limit is small) */
        for (size_t k = 0; counts && k < limit && k < n_names; k++) {
            size_t best = k;
            for (size_t i = k + 1; i < n_names; i++)
                if (counts[i].count > counts[best].count) best = i;
            trn_name_count_t t = counts[k];
            counts[k] = counts[best];
            counts[best] = t;
            trn_json_obj_begin(&j);
            trn_json_key(&j, "name");
            trn_json_strn(&j, counts[k].name.p, counts[k].name.len);
            trn_json_key(&j, "value");
            trn_json_uint(&j, counts[k].count);
            trn_json_obj_end(&j);
        }
        trn_querier_close(q);
    }
    trn_json_arr_end(&j);
    trn_json_key(&j, "memoryInBytesByLabelName");
    trn_json_arr_begin(&j);
    trn_json_arr_end(&j);
    trn_json_key(&j, "seriesCountByLabelValuePair");
    trn_json_arr_begin(&j);
    trn_json_arr_end(&j);
    trn_json_obj_end(&j);
    trn_json_obj_end(&j);
}

typedef struct meta_ctx {
    trn_json_t *j;
    const char *only; /* metric filter or NULL */
    long limit, per_metric;
    long n;
} meta_ctx_t;

static void emit_meta(void *ctx, const trn_metric_meta_t *m)
{
    meta_ctx_t *c = ctx;
    if (c->only && !trn_str_eqc(m->metric, c->only)) return;
    if (c->limit >= 0 && c->n >= c->limit) return;
    c->n++;
    trn_json_keyn(c->j, m->metric.p, m->metric.len);
    trn_json_arr_begin(c->j);
    if (c->per_metric != 0) {
        trn_json_obj_begin(c->j);
        trn_json_key(c->j, "type");
        trn_json_strn(c->j, m->type.p, m->type.len);
        trn_json_key(c->j, "help");
        trn_json_strn(c->j, m->help.p, m->help.len);
        trn_json_key(c->j, "unit");
        trn_json_strn(c->j, m->unit.p, m->unit.len);
        trn_json_obj_end(c->j);
    }
    trn_json_arr_end(c->j);
}

static int parse_limit(const char *s, long *out)
{
    if (!s || !*s) return 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end) return -1;
    *out = v <= 0 ? -1 : v; /* Prometheus: 0 or negative means no limit */
    return 0;
}

static void metadata(void *ctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    trn_api_ctx_t *api = ctx;
    meta_ctx_t c = {.only = trn_http_param(req, "metric"), .limit = -1, .per_metric = -1};
    if (parse_limit(trn_http_param(req, "limit"), &c.limit) < 0 ||
        parse_limit(trn_http_param(req, "limit_per_metric"), &c.per_metric) < 0) {
        trn_api_prom_error(resp, 400, "bad_data", "limit must be a number");
        return;
    }
    if (c.only && !*c.only) c.only = NULL;
    trn_json_t j;
    trn_api_prom_success(&j, resp);
    c.j = &j;
    trn_json_obj_begin(&j);
    trn_store_each_metadata(api->store, emit_meta, &c);
    trn_json_obj_end(&j);
    trn_json_obj_end(&j);
}

const trn_route_t trn_api_prom_status_routes[] = {
    {.method = "GET", .pattern = "/api/v1/status/buildinfo", .fn = buildinfo},
    {.method = "GET", .pattern = "/api/v1/status/config", .fn = config},
    {.method = "GET", .pattern = "/api/v1/status/flags", .fn = flags},
    {.method = "GET", .pattern = "/api/v1/status/runtimeinfo", .fn = runtimeinfo},
    {.method = "GET", .pattern = "/api/v1/status/tsdb", .fn = tsdb},
    {.method = "GET", .pattern = "/api/v1/metadata", .fn = metadata},
};
