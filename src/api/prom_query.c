/* SPDX-License-Identifier: Apache-2.0 */
/* Prometheus's query endpoints over the PromQL engine, with Prometheus's
 * parameter names, response shapes, status codes and error types:
 *
 *   /api/v1/query        query, time (RFC3339 or Unix seconds; default now),
 *                        timeout (duration or seconds), limit, stats,
 *                        lookback_delta
 *   /api/v1/query_range  query, start, end, step (duration or float seconds),
 *                        timeout, limit, stats, lookback_delta
 *   /api/v1/format_query query -> the canonical text, split over lines
 *                        as Prometheus's prettifier does past 100 bytes
 *   /api/v1/parse_query  query -> the AST as JSON (Prometheus's UI shape)
 *   /api/v1/query_exemplars  success with an empty list (trine keeps no
 *                        exemplars; Grafana only needs the probe to succeed)
 *
 * Results are written as {"status":"success","data":{"resultType":..,
 * "result":..}} with values as [<seconds>, "<value>"] (seconds with the
 * millisecond fraction Prometheus writes, values in its float format),
 * warnings and infos as string arrays. Errors are {"status":"error",
 * "errorType":..,"error":..}: bad_data/400 for bad parameters and parse
 * errors, execution/422 for evaluation errors, timeout/503, canceled/503. */
#include "api/prom_query.h"

#include "core/alloc.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "core/str.h"
#include "core/timefmt.h"
#include "metrics/promql/promql.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Each query evaluates in its own arena with a byte budget (the engine's
 * memory limit, `query.max_bytes`); the result is encoded into the response
 * before it goes. */
static size_t query_budget(const trn_api_ctx_t *ctx)
{
    return ctx && ctx->query_max_bytes ? (size_t)ctx->query_max_bytes : (size_t)2 << 30;
}

static void send_code(trn_http_resp_t *resp, int code, const char *msg)
{
    if (code == TRN_ECANCELED)
        trn_log(TRN_LOG_INFO, "query", "query canceled: the client went away", NULL);
    trn_api_prom_error_code(resp, code, msg);
}

/* Seconds with the milliseconds as three decimals when there are any
 * ("1700000000", "1700000000.5" is written "1700000000.500"); by hand, as
 * this runs once per point of a matrix. Returns the length (at most 25). */
static int fmt_ts(char b[27], int64_t ms)
{
    int n = 0;
    uint64_t u = ms < 0 ? 0 - (uint64_t)ms : (uint64_t)ms;
    if (ms < 0) b[n++] = '-';
    n += trn_fmt_i64(b + n, (int64_t)(u / 1000));
    unsigned frac = (unsigned)(u % 1000);
    if (frac) {
        b[n++] = '.';
        b[n++] = (char)('0' + frac / 100);
        b[n++] = (char)('0' + frac / 10 % 10);
        b[n++] = (char)('0' + frac % 10);
    }
    b[n] = 0;
    return n;
}

static void put_ts(trn_json_t *j, int64_t ms)
{
    char b[27];
    int n = fmt_ts(b, ms);
    trn_json_raw(j, b, (size_t)n);
}

/* A matrix's series mostly share one step grid, so point k of each series
 * usually has the same timestamp: the text of each point index's last
 * timestamp is kept and reused when it matches. */
typedef struct {
    int64_t t_ms;
    uint8_t len;
    char text[27];
} ts_text_t;

/* The "values" array body of one matrix series, [ts,"v"] pairs joined by
 * commas, written straight into the buffer: the JSON writer's per-token
 * bookkeeping would cost more than the formatting here, and nothing in
 * these tokens needs escaping. The caller opens and closes the array. */
static void put_points(trn_json_t *j, const trn_sample_t *pts, size_t n, ts_text_t *cache,
                       size_t n_cache)
{
    trn_buf_t *b = j->b;
    for (size_t k = 0; k < n; k++) {
        ts_text_t one, *c = k < n_cache ? &cache[k] : &one;
        if (c == &one || c->len == 0 || c->t_ms != pts[k].t_ms) {
            c->t_ms = pts[k].t_ms;
            c->len = (uint8_t)fmt_ts(c->text, pts[k].t_ms);
        }
        char v[33];
        int vn = trn_fmt_float(v, pts[k].v);
        trn_buf_reserve(b, (size_t)c->len + (size_t)vn + 6);
        char *p = b->data + b->len;
        if (k) *p++ = ',';
        *p++ = '[';
        memcpy(p, c->text, c->len);
        p += c->len;
        *p++ = ',';
        *p++ = '"';
        memcpy(p, v, (size_t)vn);
        p += vn;
        *p++ = '"';
        *p++ = ']';
        b->len = (size_t)(p - b->data);
        b->data[b->len] = 0;
    }
}

static void put_metric(trn_json_t *j, const trn_labels_t *ls)
{
    trn_json_key(j, "metric");
    trn_json_obj_begin(j);
    for (size_t i = 0; i < ls->n; i++) {
        trn_json_keyn(j, ls->v[i].name.p, ls->v[i].name.len);
        trn_json_strn(j, ls->v[i].value.p ? ls->v[i].value.p : "", ls->v[i].value.len);
    }
    trn_json_obj_end(j);
}

static void put_strings(trn_json_t *j, const char *key, const char **v, size_t n)
{
    if (!n) return;
    trn_json_key(j, key);
    trn_json_arr_begin(j);
    for (size_t i = 0; i < n; i++)
        trn_json_str(j, v[i]);
    trn_json_arr_end(j);
}

static void write_result(trn_http_resp_t *resp, const trn_promql_value_t *v, bool stats,
                         const char *extra_warning)
{
    resp->status = 200;
    resp->content_type = "application/json";
    trn_json_t j;
    trn_api_prom_success(&j, resp);
    trn_json_obj_begin(&j);
    trn_json_key(&j, "resultType");
    trn_json_str(&j, trn_promql_type_name(v->type));
    trn_json_key(&j, "result");
    switch (v->type) {
    case TRN_PROMQL_SCALAR:
        trn_json_arr_begin(&j);
        put_ts(&j, v->t_ms);
        trn_json_float_str(&j, v->scalar);
        trn_json_arr_end(&j);
        break;
    case TRN_PROMQL_STRING:
        trn_json_arr_begin(&j);
        put_ts(&j, v->t_ms);
        trn_json_strn(&j, v->str.p ? v->str.p : "", v->str.len);
        trn_json_arr_end(&j);
        break;
    case TRN_PROMQL_VECTOR:
        trn_json_arr_begin(&j);
        for (size_t i = 0; i < v->n_vec; i++) {
            trn_json_obj_begin(&j);
            put_metric(&j, &v->vec[i].labels);
            trn_json_key(&j, "value");
            trn_json_arr_begin(&j);
            put_ts(&j, v->vec[i].t_ms);
            trn_json_float_str(&j, v->vec[i].v);
            trn_json_arr_end(&j);
            trn_json_obj_end(&j);
        }
        trn_json_arr_end(&j);
        break;
    default: {
        size_t n_cache = 0, n_points = 0;
        for (size_t i = 0; i < v->n_mat; i++) {
            if (v->mat[i].n_points > n_cache) n_cache = v->mat[i].n_points;
            n_points += v->mat[i].n_points;
        }
        /* about 30 bytes a point: one reservation instead of doublings */
        trn_buf_reserve(j.b, n_points * 30 + v->n_mat * 160);
        ts_text_t *cache = n_cache ? trn_xcalloc(n_cache, sizeof *cache) : NULL;
        trn_json_arr_begin(&j);
        for (size_t i = 0; i < v->n_mat; i++) {
            trn_json_obj_begin(&j);
            put_metric(&j, &v->mat[i].labels);
            trn_json_key(&j, "values");
            trn_json_arr_begin(&j);
            put_points(&j, v->mat[i].points, v->mat[i].n_points, cache, n_cache);
            trn_json_arr_end(&j);
            trn_json_obj_end(&j);
        }
        trn_json_arr_end(&j);
        free(cache);
        break;
    }
    }
    if (stats) {
        trn_json_key(&j, "stats");
        trn_json_obj_begin(&j);
        trn_json_key(&j, "timings");
        trn_json_obj_begin(&j);
        trn_json_key(&j, "evalTotalTime");
        trn_json_num(&j, 0);
        trn_json_key(&j, "resultSortTime");
        trn_json_num(&j, 0);
        trn_json_key(&j, "queryPreparationTime");
        trn_json_num(&j, 0);
        trn_json_key(&j, "innerEvalTime");
        trn_json_num(&j, 0);
        trn_json_key(&j, "execQueueTime");
        trn_json_num(&j, 0);
        trn_json_key(&j, "execTotalTime");
        trn_json_num(&j, 0);
        trn_json_obj_end(&j);
        trn_json_key(&j, "samples");
        trn_json_obj_begin(&j);
        trn_json_key(&j, "totalQueryableSamples");
        trn_json_uint(&j, v->samples_total);
        trn_json_key(&j, "peakSamples");
        trn_json_uint(&j, v->peak_samples);
        trn_json_obj_end(&j);
        trn_json_obj_end(&j);
    }
    trn_json_obj_end(&j);
    if (extra_warning) {
        trn_json_key(&j, "warnings");
        trn_json_arr_begin(&j);
        trn_json_str(&j, extra_warning);
        for (size_t i = 0; i < v->n_warnings; i++)
            trn_json_str(&j, v->warnings[i]);
        trn_json_arr_end(&j);
    } else {
        put_strings(&j, "warnings", v->warnings, v->n_warnings);
    }
    put_strings(&j, "infos", v->infos, v->n_infos);
    trn_json_obj_end(&j);
}

static bool param_time(trn_http_req_t *req, trn_http_resp_t *resp, const char *name, int64_t *out,
                       bool required, int64_t dflt)
{
    const char *s = trn_http_param(req, name);
    if (!s || !*s) {
        if (!required) {
            *out = dflt;
            return true;
        }
        char msg[200];
        snprintf(msg, sizeof msg,
                 "invalid parameter \"%s\": cannot parse \"\" to a valid timestamp", name);
        trn_api_prom_error(resp, 400, "bad_data", msg);
        return false;
    }
    if (trn_parse_time(trn_str_c(s), out) < 0) {
        char msg[300];
        snprintf(msg, sizeof msg,
                 "invalid parameter \"%s\": cannot parse \"%.100s\" to a valid timestamp", name, s);
        trn_api_prom_error(resp, 400, "bad_data", msg);
        return false;
    }
    return true;
}

/* Cancellation: the engine polls this between series; the socket is looked
 * at no more than every 20 ms. */
typedef struct cancel_ctx {
    trn_http_req_t *req;
    int64_t next_ns;
} cancel_ctx_t;

static bool client_gone(void *vctx)
{
    cancel_ctx_t *c = vctx;
    int64_t now = trn_mono_ns();
    if (now < c->next_ns) return false;
    c->next_ns = now + 20 * 1000000;
    return trn_http_client_gone(c->req);
}

static bool common_opts(trn_api_ctx_t *ctx, trn_http_req_t *req, trn_http_resp_t *resp,
                        trn_promql_opts_t *o, uint64_t *limit)
{
    memset(o, 0, sizeof *o);
    cancel_ctx_t *cc = trn_arena_calloc(trn_http_arena(req), 1, sizeof *cc);
    if (cc) {
        cc->req = req;
        cc->next_ns = trn_mono_ns() + 20 * 1000000;
        o->is_canceled = client_gone;
        o->cancel_ctx = cc;
    }
    o->lookback_delta_ms = ctx && ctx->lookback_delta_ms ? ctx->lookback_delta_ms : 5 * 60 * 1000;
    o->timeout_ms = ctx && ctx->query_timeout_ms ? ctx->query_timeout_ms : 2 * 60 * 1000;
    o->max_samples = ctx && ctx->query_max_samples ? ctx->query_max_samples : 50000000;
    const char *t = trn_http_param(req, "timeout");
    if (t && *t) {
        int64_t ms;
        if (trn_parse_step(trn_str_c(t), &ms) < 0 || ms <= 0) {
            char msg[300];
            snprintf(msg, sizeof msg,
                     "invalid parameter \"timeout\": cannot parse \"%.100s\" to a valid duration",
                     t);
            trn_api_prom_error(resp, 400, "bad_data", msg);
            return false;
        }
        if (ms < o->timeout_ms) o->timeout_ms = ms;
    }
    const char *lb = trn_http_param(req, "lookback_delta");
    if (lb && *lb) {
        int64_t ms;
        if (trn_parse_step(trn_str_c(lb), &ms) < 0 || ms < 0) {
            char msg[300];
            snprintf(msg, sizeof msg,
                     "error parsing lookback delta duration: cannot parse \"%.100s\" to a valid "
                     "duration",
                     lb);
            trn_api_prom_error(resp, 400, "bad_data", msg);
            return false;
        }
        if (ms > 0) o->lookback_delta_ms = ms;
    }
    *limit = 0;
    const char *l = trn_http_param(req, "limit");
    if (l && *l) {
        char *end;
        long long v = strtoll(l, &end, 10);
        if (*end || v < 0) {
            trn_api_prom_error(resp, 400, "bad_data",
                               "invalid parameter \"limit\": limit must be a non-negative integer");
            return false;
        }
        *limit = (uint64_t)v;
    }
    return true;
}

static bool want_stats(trn_http_req_t *req)
{
    const char *s = trn_http_param(req, "stats");
    return s && *s;
}

static const char *apply_limit(trn_promql_value_t *v, uint64_t limit)
{
    if (!limit) return NULL;
    if (v->type == TRN_PROMQL_VECTOR && v->n_vec > limit) {
        v->n_vec = limit;
        return "results truncated due to limit";
    }
    if (v->type == TRN_PROMQL_MATRIX && v->n_mat > limit) {
        v->n_mat = limit;
        return "results truncated due to limit";
    }
    return NULL;
}

static void handle_query(void *vctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    trn_api_ctx_t *ctx = vctx;
    const char *q = trn_http_param(req, "query");
    trn_promql_opts_t o;
    uint64_t limit;
    if (!common_opts(ctx, req, resp, &o, &limit)) return;
    int64_t t;
    if (!param_time(req, resp, "time", &t, false, trn_now_ms())) return;
    trn_arena_t *a = trn_arena_new(query_budget(ctx));
    trn_diag_t d;
    trn_diag_init(&d);
    trn_promql_expr_t *e = NULL;
    if (!q) q = "";
    if (trn_promql_parse(q, strlen(q), a, &e, &d) < 0) {
        char msg[TRN_DIAG_MSG_MAX + 40];
        snprintf(msg, sizeof msg, "invalid parameter \"query\": %s", d.msg);
        trn_api_prom_error(resp, 400, "bad_data", msg);
        trn_arena_free(a);
        return;
    }
    trn_promql_value_t v;
    int rc = trn_promql_eval_instant(ctx ? ctx->store : NULL, e, t, &o, a, &v, &d);
    trn_promql_expr_release(e);
    if (rc < 0) {
        send_code(resp, rc, d.msg);
    } else {
        const char *w = apply_limit(&v, limit);
        write_result(resp, &v, want_stats(req), w);
    }
    trn_arena_free(a);
}

static void handle_query_range(void *vctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    trn_api_ctx_t *ctx = vctx;
    trn_promql_opts_t o;
    uint64_t limit;
    if (!common_opts(ctx, req, resp, &o, &limit)) return;
    int64_t start, end, step;
    if (!param_time(req, resp, "start", &start, true, 0)) return;
    if (!param_time(req, resp, "end", &end, true, 0)) return;
    if (end < start) {
        trn_api_prom_error(resp, 400, "bad_data", "end timestamp must not be before start time");
        return;
    }
    const char *ss = trn_http_param(req, "step");
    if (!ss || trn_parse_step(trn_str_c(ss), &step) < 0) {
        char msg[300];
        snprintf(msg, sizeof msg,
                 "invalid parameter \"step\": cannot parse \"%.100s\" to a valid duration",
                 ss ? ss : "");
        trn_api_prom_error(resp, 400, "bad_data", msg);
        return;
    }
    if (step <= 0) {
        trn_api_prom_error(
            resp, 400, "bad_data",
            "zero or negative query resolution step widths are not accepted. Try a positive "
            "integer");
        return;
    }
    if ((end - start) / step > 11000) {
        trn_api_prom_error(
            resp, 400, "bad_data",
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the "
            "query resolution (?step=XX)");
        return;
    }
    const char *q = trn_http_param(req, "query");
    if (!q) q = "";
    trn_diag_t d;
    trn_diag_init(&d);
    trn_promql_expr_t *e = NULL;
    trn_arena_t *a = trn_arena_new(query_budget(ctx));
    if (trn_promql_parse(q, strlen(q), a, &e, &d) < 0) {
        char msg[TRN_DIAG_MSG_MAX + 40];
        snprintf(msg, sizeof msg, "invalid parameter \"query\": %s", d.msg);
        trn_api_prom_error(resp, 400, "bad_data", msg);
        trn_arena_free(a);
        return;
    }
    trn_promql_value_t v;
    int rc = trn_promql_eval_range(ctx ? ctx->store : NULL, e, start, end, step, &o, a, &v, &d);
    trn_promql_expr_release(e);
    if (rc < 0) {
        send_code(resp, rc, d.msg);
    } else {
        const char *w = apply_limit(&v, limit);
        write_result(resp, &v, want_stats(req), w);
    }
    trn_arena_free(a);
}

/* The `query` parameter parsed, or NULL with a bad_data error sent. */
static trn_promql_expr_t *parse_query_param(trn_http_req_t *req, trn_http_resp_t *resp)
{
    const char *q = trn_http_param(req, "query");
    if (!q) q = "";
    trn_diag_t d;
    trn_diag_init(&d);
    trn_promql_expr_t *e = NULL;
    if (trn_promql_parse(q, strlen(q), trn_http_arena(req), &e, &d) < 0) {
        char msg[TRN_DIAG_MSG_MAX + 40];
        snprintf(msg, sizeof msg, "invalid parameter \"query\": %s", d.msg);
        trn_api_prom_error(resp, 400, "bad_data", msg);
        return NULL;
    }
    return e;
}

static void handle_format(void *vctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    (void)vctx;
    trn_promql_expr_t *e = parse_query_param(req, resp);
    if (!e) return;
    trn_buf_t b;
    trn_buf_init(&b);
    trn_promql_format_pretty(e, &b);
    trn_promql_expr_release(e);
    resp->status = 200;
    resp->content_type = "application/json";
    trn_json_t j;
    trn_api_prom_success(&j, resp);
    trn_json_strn(&j, b.data ? b.data : "", b.len);
    trn_json_obj_end(&j);
    trn_buf_fini(&b);
}

static void handle_parse(void *vctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    (void)vctx;
    trn_promql_expr_t *e = parse_query_param(req, resp);
    if (!e) return;
    resp->status = 200;
    resp->content_type = "application/json";
    trn_json_t j;
    trn_api_prom_success(&j, resp);
    trn_promql_ast_json(e, &j);
    trn_json_obj_end(&j);
    trn_promql_expr_release(e);
}

static void handle_exemplars(void *vctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    (void)vctx;
    (void)req;
    resp->status = 200;
    resp->content_type = "application/json";
    trn_buf_puts(&resp->body, "{\"status\":\"success\",\"data\":[]}");
}

const trn_route_t trn_api_prom_query_routes[TRN_API_PROM_QUERY_N_ROUTES] = {
    {"GET|POST", "/api/v1/query", handle_query, 0, 0},
    {"GET|POST", "/api/v1/query_range", handle_query_range, 0, 0},
    {"GET|POST", "/api/v1/format_query", handle_format, 0, 0},
    {"GET|POST", "/api/v1/parse_query", handle_parse, 0, 0},
    {"GET|POST", "/api/v1/query_exemplars", handle_exemplars, 0, 0},
};
