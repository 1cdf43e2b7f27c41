/* SPDX-License-Identifier: Apache-2.0 */
/* Prometheus's series-metadata endpoints: /api/v1/series, /api/v1/labels
 * and /api/v1/label/<name>/values, with match[], start, end and limit.
 * Several match[] selectors union their results. Label names that Grafana
 * sends escaped ("U__" + "_2e_" hex escapes, "__" for "_") are unescaped. */
#include "api/api.h"
#include "api/prom_series.h"
#include "core/err.h"
#include "core/json.h"
#include "core/timefmt.h"
#include "metrics/promql/promql.h"
#include "metrics/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_TIME (INT64_MIN / 4)
#define MAX_TIME (INT64_MAX / 4)

typedef struct selectors {
    size_t n;
    const trn_matcher_t **ms;
    size_t *n_ms;
} selectors_t;

static int parse_time_param(trn_http_req_t *req, trn_http_resp_t *resp, const char *name,
                            int64_t def, int64_t *out)
{
    const char *s = trn_http_param(req, name);
    if (!s || !*s) {
        *out = def;
        return 0;
    }
    if (trn_parse_time(trn_str_c(s), out) == 0) return 0;
    char msg[300];
    snprintf(msg, sizeof msg,
             "invalid parameter \"%s\": cannot parse \"%.100s\" to a valid timestamp", name, s);
    trn_api_prom_error(resp, 400, "bad_data", msg);
    return -1;
}

static int parse_limit(trn_http_req_t *req, trn_http_resp_t *resp, size_t *out)
{
    const char *s = trn_http_param(req, "limit");
    *out = 0;
    if (!s || !*s) return 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end || v < 0) {
        trn_api_prom_error(resp, 400, "bad_data",
                           "invalid parameter \"limit\": must be a non-negative integer");
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

/* Parses every match[] into matcher lists; the parsed expressions are kept
 * in *keep so their regexes can be released. */
static int parse_selectors(trn_http_req_t *req, trn_http_resp_t *resp, selectors_t *sel,
                           trn_promql_expr_t ***keep)
{
    trn_arena_t *a = trn_http_arena(req);
    const char **vals = NULL;
    size_t n = trn_http_params(req, "match[]", &vals);
    sel->n = n;
    sel->ms = trn_arena_calloc(a, n ? n : 1, sizeof *sel->ms);
    sel->n_ms = trn_arena_calloc(a, n ? n : 1, sizeof *sel->n_ms);
    *keep = trn_arena_calloc(a, n ? n : 1, sizeof **keep);
    for (size_t i = 0; i < n; i++) {
        trn_diag_t d;
        trn_diag_init(&d);
        int rc = trn_promql_parse_selector(vals[i], strlen(vals[i]), a, &(*keep)[i], &sel->ms[i],
                                           &sel->n_ms[i], &d);
        if (rc < 0) {
            char msg[TRN_DIAG_MSG_MAX + 64];
            snprintf(msg, sizeof msg, "invalid parameter \"match[]\": %s", d.msg);
            trn_api_prom_error(resp, 400, "bad_data", msg);
            return -1;
        }
    }
    return 0;
}

static void release(trn_promql_expr_t **keep, size_t n)
{
    for (size_t i = 0; keep && i < n; i++)
        trn_promql_expr_release(keep[i]);
}

static void end(trn_json_t *j, bool truncated)
{
    if (truncated) {
        trn_json_key(j, "warnings");
        trn_json_arr_begin(j);
        trn_json_str(j, "results truncated due to limit");
        trn_json_arr_end(j);
    }
    trn_json_obj_end(j);
}

static int cmp_series(const void *a, const void *b)
{
    return trn_labels_cmp(&((const trn_series_t *)a)->labels, &((const trn_series_t *)b)->labels);
}

static void series(void *ctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    trn_api_ctx_t *api = ctx;
    trn_arena_t *a = trn_http_arena(req);
    int64_t start, stop;
    size_t limit;
    if (parse_time_param(req, resp, "start", MIN_TIME, &start) < 0 ||
        parse_time_param(req, resp, "end", MAX_TIME, &stop) < 0 ||
        parse_limit(req, resp, &limit) < 0)
        return;
    selectors_t sel;
    trn_promql_expr_t **keep = NULL;
    if (parse_selectors(req, resp, &sel, &keep) < 0) goto out;
    if (sel.n == 0) {
        trn_api_prom_error(resp, 400, "bad_data", "no match[] parameter provided");
        goto out;
    }
    trn_querier_t *q = NULL;
    if (trn_store_querier(api->store, start, stop, &q) < 0) {
        trn_api_prom_error(resp, 500, "internal", "cannot open a querier");
        goto out;
    }
    trn_series_t *all = NULL;
    size_t n_all = 0;
    for (size_t i = 0; i < sel.n; i++) {
        trn_series_t *s = NULL;
        size_t n = 0;
        trn_diag_t d;
        trn_diag_init(&d);
        int rc = trn_querier_select(q, sel.ms[i], sel.n_ms[i], a, &s, &n, &d);
        if (rc < 0) {
            trn_querier_close(q);
            trn_api_prom_error_code(resp, rc, d.msg[0] ? d.msg : trn_strerror(rc));
            goto out;
        }
        trn_series_t *merged =
            trn_arena_grow(a, all, n_all * sizeof *all, (n_all + n + 1) * sizeof *all);
        if (!merged) {
            trn_querier_close(q);
            trn_api_prom_error(resp, 422, "execution", "query memory limit exceeded");
            goto out;
        }
        if (n) memcpy(merged + n_all, s, n * sizeof *s);
        all = merged;
        n_all += n;
    }
    if (sel.n > 1 && n_all > 1) qsort(all, n_all, sizeof *all, cmp_series);
    trn_json_t j;
    trn_api_prom_success(&j, resp);
    trn_json_arr_begin(&j);
    size_t emitted = 0;
    bool truncated = false;
    for (size_t i = 0; i < n_all; i++) {
        if (i > 0 && trn_labels_equal(&all[i].labels, &all[i - 1].labels)) continue;
        if (limit && emitted == limit) {
            truncated = true;
            break;
        }
        emitted++;
        trn_json_obj_begin(&j);
        for (size_t k = 0; k < all[i].labels.n; k++) {
            trn_json_keyn(&j, all[i].labels.v[k].name.p, all[i].labels.v[k].name.len);
            trn_json_strn(&j, all[i].labels.v[k].value.p, all[i].labels.v[k].value.len);
        }
        trn_json_obj_end(&j);
    }
    trn_json_arr_end(&j);
    end(&j, truncated);
    trn_querier_close(q);
out:
    release(keep, sel.n);
}

static int cmp_str(const void *a, const void *b)
{
    return trn_str_cmp(*(const trn_str_t *)a, *(const trn_str_t *)b);
}

/* Names or values for each selector (or for all series), unioned. */
static void names_or_values(trn_api_ctx_t *api, trn_http_req_t *req, trn_http_resp_t *resp,
                            const char *label)
{
    trn_arena_t *a = trn_http_arena(req);
    int64_t start, stop;
    size_t limit;
    if (parse_time_param(req, resp, "start", MIN_TIME, &start) < 0 ||
        parse_time_param(req, resp, "end", MAX_TIME, &stop) < 0 ||
        parse_limit(req, resp, &limit) < 0)
        return;
    selectors_t sel;
    trn_promql_expr_t **keep = NULL;
    if (parse_selectors(req, resp, &sel, &keep) < 0) goto out;
    trn_querier_t *q = NULL;
    if (trn_store_querier(api->store, start, stop, &q) < 0) {
        trn_api_prom_error(resp, 500, "internal", "cannot open a querier");
        goto out;
    }
    trn_str_t *all = NULL;
    size_t n_all = 0;
    size_t rounds = sel.n ? sel.n : 1;
    for (size_t i = 0; i < rounds; i++) {
        trn_str_t *v = NULL;
        size_t n = 0;
        const trn_matcher_t *ms = sel.n ? sel.ms[i] : NULL;
        size_t n_ms = sel.n ? sel.n_ms[i] : 0;
        int rc = label ? trn_querier_label_values(q, trn_str_c(label), ms, n_ms, a, &v, &n)
                       : trn_querier_label_names(q, ms, n_ms, a, &v, &n);
        if (rc < 0) {
            trn_querier_close(q);
            trn_api_prom_error_code(resp, rc, trn_strerror(rc));
            goto out;
        }
        trn_str_t *merged =
            trn_arena_grow(a, all, n_all * sizeof *all, (n_all + n + 1) * sizeof *all);
        if (!merged) {
            trn_querier_close(q);
            trn_api_prom_error(resp, 422, "execution", "query memory limit exceeded");
            goto out;
        }
        if (n) memcpy(merged + n_all, v, n * sizeof *v);
        all = merged;
        n_all += n;
    }
    if (rounds > 1 && n_all > 1) qsort(all, n_all, sizeof *all, cmp_str);
    trn_json_t j;
    trn_api_prom_success(&j, resp);
    trn_json_arr_begin(&j);
    size_t emitted = 0;
    bool truncated = false;
    for (size_t i = 0; i < n_all; i++) {
        if (i > 0 && trn_str_eq(all[i], all[i - 1])) continue;
        if (limit && emitted == limit) {
            truncated = true;
            break;
        }
        emitted++;
        trn_json_strn(&j, all[i].p, all[i].len);
    }
    trn_json_arr_end(&j);
    end(&j, truncated);
    trn_querier_close(q);
out:
    release(keep, sel.n);
}

static void labels(void *ctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    names_or_values(ctx, req, resp, NULL);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Undoes Prometheus's "U__" label-name escaping: "__" is "_", "_XX_" is the
 * code point 0xXX (hex, any length); anything else is kept. NULL when the
 * escaping is malformed. */
static char *unescape_name(trn_arena_t *a, const char *s)
{
    if (strncmp(s, "U__", 3) != 0) return (char *)s;
    size_t n = strlen(s);
    char *out = trn_arena_alloc(a, n * 4 + 1);
    if (!out) return NULL;
    size_t j = 0;
    for (size_t i = 3; i < n; i++) {
        if (s[i] != '_') {
            out[j++] = s[i];
            continue;
        }
        if (i + 1 < n && s[i + 1] == '_') {
            out[j++] = '_';
            i++;
            continue;
        }
        uint32_t cp = 0;
        size_t k = i + 1;
        while (k < n && hexval(s[k]) >= 0)
            cp = cp * 16 + (uint32_t)hexval(s[k++]);
        if (k == i + 1 || k >= n || s[k] != '_' || cp > 0x10ffff) return NULL;
        if (cp < 0x80)
            out[j++] = (char)cp;
        else if (cp < 0x800) {
            out[j++] = (char)(0xc0 | (cp >> 6));
            out[j++] = (char)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            out[j++] = (char)(0xe0 | (cp >> 12));
            out[j++] = (char)(0x80 | ((cp >> 6) & 0x3f));
            out[j++] = (char)(0x80 | (cp & 0x3f));
        } else {
            out[j++] = (char)(0xf0 | (cp >> 18));
            out[j++] = (char)(0x80 | ((cp >> 12) & 0x3f));
            out[j++] = (char)(0x80 | ((cp >> 6) & 0x3f));
            out[j++] = (char)(0x80 | (cp & 0x3f));
        }
        i = k;
    }
    out[j] = 0;
    return out;
}

static void label_values(void *ctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    const char *raw = trn_http_path_param(req, "name");
    char *name = raw ? unescape_name(trn_http_arena(req), raw) : NULL;
    if (!name || !*name) {
        char msg[300];
        snprintf(msg, sizeof msg, "invalid label name: \"%.200s\"", raw ? raw : "");
        trn_api_prom_error(resp, 400, "bad_data", msg);
        return;
    }
    names_or_values(ctx, req, resp, name);
}

const trn_route_t trn_api_prom_series_routes[] = {
    {.method = "GET|POST", .pattern = "/api/v1/series", .fn = series},
    {.method = "GET|POST", .pattern = "/api/v1/labels", .fn = labels},
    {.method = "GET", .pattern = "/api/v1/label/:name/values", .fn = label_values},
};
