/* SPDX-License-Identifier: Apache-2.0 */
/* Alertmanager's API v2 on the built-in alert manager: alerts (list with
 * filters, post), alert groups, silences (list, create/update, get,
 * expire), status and receivers, with the shapes of Alertmanager's
 * api/v2/openapi.yaml so amtool and Grafana's alertmanager datasource work
 * unchanged (docs/api/alertmanager.md lists what differs).
 *
 * Handlers parse (jansson for bodies, Alertmanager's matcher syntax for
 * `filter`), call alerts/alertmanager.h, and encode. Errors are 400 with
 * the message as a JSON string, as Alertmanager's generated server answers;
 * a missing required field is 422 with go-swagger's {code, message}. */
#include "api/alertmanager.h"
#include "alerts/alertmanager.h"
#include "alerts/matchers.h"
#include "api/api.h"
#include "core/err.h"
#include "core/json.h"
#include "core/timefmt.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AM_VERSION "0.25.0"

static trn_alertmanager_t *get_am(void *ctx, trn_http_resp_t *resp)
{
    trn_api_ctx_t *api = ctx;
    if (api && api->alerts) return api->alerts;
    resp->status = 404;
    trn_buf_puts(&resp->body, "\"the alert manager is not enabled (set alertmanager_config)\"");
    return NULL;
}

static void json_error(trn_http_resp_t *resp, int status, const char *msg)
{
    resp->status = status;
    resp->content_type = "application/json";
    resp->body.len = 0;
    trn_json_t j;
    trn_json_init(&j, &resp->body);
    trn_json_str(&j, msg);
}

static void swagger_error(trn_http_resp_t *resp, int status, int code, const char *msg)
{
    resp->status = status;
    resp->content_type = "application/json";
    resp->body.len = 0;
    trn_json_t j;
    trn_json_init(&j, &resp->body);
    trn_json_obj_begin(&j);
    trn_json_key(&j, "code");
    trn_json_int(&j, code);
    trn_json_key(&j, "message");
    trn_json_str(&j, msg);
    trn_json_obj_end(&j);
}

static void api_time(trn_json_t *j, int64_t ms)
{
    char b[40];
    trn_format_rfc3339_ms(b, ms);
    trn_json_str(j, b);
}

static void labels_obj(trn_json_t *j, const trn_labels_t *ls)
{
    trn_json_obj_begin(j);
    for (size_t i = 0; i < ls->n; i++) {
        trn_json_keyn(j, ls->v[i].name.p, ls->v[i].name.len);
        trn_json_strn(j, ls->v[i].value.p, ls->v[i].value.len);
    }
    trn_json_obj_end(j);
}

/* Boolean query parameter with a default; false on "false", true on "true". */
static int bool_param(trn_http_req_t *req, const char *name, bool dflt, bool *out,
                      trn_http_resp_t *resp)
{
    const char *v = trn_http_param(req, name);
    *out = dflt;
    if (!v) return 0;
    if (!strcmp(v, "true"))
        *out = true;
    else if (!strcmp(v, "false"))
        *out = false;
    else {
        char msg[160];
        snprintf(msg, sizeof msg, "%s in query must be of type bool: \"%.60s\"", name, v);
        swagger_error(resp, 400, 400, msg);
        return TRN_EINVAL;
    }
    return 0;
}

typedef struct alert_filter {
    bool active, silenced, inhibited, unprocessed;
    trn_am_matchers_t matchers;
    trn_regex_t *receiver;
} alert_filter_t;

static void filter_fini(alert_filter_t *f)
{
    trn_am_matchers_fini(&f->matchers);
    trn_regex_free(f->receiver);
}

static int parse_filter(trn_http_req_t *req, trn_http_resp_t *resp, alert_filter_t *f)
{
    *f = (alert_filter_t){0};
    if (bool_param(req, "active", true, &f->active, resp) < 0 ||
        bool_param(req, "silenced", true, &f->silenced, resp) < 0 ||
        bool_param(req, "inhibited", true, &f->inhibited, resp) < 0 ||
        bool_param(req, "unprocessed", true, &f->unprocessed, resp) < 0)
        return TRN_EINVAL;
    const char **vals;
    size_t n = trn_http_params(req, "filter", &vals);
    trn_diag_t d;
    trn_diag_init(&d);
    for (size_t i = 0; i < n; i++) {
        if (trn_am_matchers_parse(trn_str_c(vals[i]), trn_http_arena(req), &f->matchers, &d) < 0) {
            json_error(resp, 400, d.msg);
            filter_fini(f);
            return TRN_EINVAL;
        }
    }
    const char *rcv = trn_http_param(req, "receiver");
    if (rcv && *rcv && trn_regex_new(trn_str_c(rcv), &f->receiver, &d) < 0) {
        json_error(resp, 400, d.msg);
        filter_fini(f);
        return TRN_EINVAL;
    }
    return 0;
}

static bool keep_alert(const alert_filter_t *f, const trn_am_alert_view_t *v, int64_t now)
{
    if (v->ends_at_ms && v->ends_at_ms < now) return false;
    if (!f->active && !strcmp(v->state, "active")) return false;
    if (!f->unprocessed && !strcmp(v->state, "unprocessed")) return false;
    if (!f->silenced && v->n_silenced_by) return false;
    if (!f->inhibited && v->n_inhibited_by) return false;
    if (!trn_am_matchers_match(&f->matchers, &v->labels)) return false;
    if (f->receiver) {
        bool any = false;
        for (size_t i = 0; i < v->n_receivers && !any; i++)
            any = trn_regex_match(f->receiver, trn_str_c(v->receivers[i]));
        if (!any) return false;
    }
    return true;
}

static void write_alert(trn_json_t *j, const trn_am_alert_view_t *v)
{
    trn_json_obj_begin(j);
    trn_json_key(j, "annotations");
    labels_obj(j, &v->annotations);
    trn_json_key(j, "endsAt");
    api_time(j, v->ends_at_ms);
    trn_json_key(j, "fingerprint");
    trn_json_str(j, v->fingerprint);
    trn_json_key(j, "receivers");
    trn_json_arr_begin(j);
    for (size_t i = 0; i < v->n_receivers; i++) {
        trn_json_obj_begin(j);
        trn_json_key(j, "name");
        trn_json_str(j, v->receivers[i]);
        trn_json_obj_end(j);
    }
    trn_json_arr_end(j);
    trn_json_key(j, "startsAt");
    api_time(j, v->starts_at_ms);
    trn_json_key(j, "status");
    trn_json_obj_begin(j);
    trn_json_key(j, "inhibitedBy");
    trn_json_arr_begin(j);
    for (size_t i = 0; i < v->n_inhibited_by; i++)
        trn_json_str(j, v->inhibited_by[i]);
    trn_json_arr_end(j);
    trn_json_key(j, "silencedBy");
    trn_json_arr_begin(j);
    for (size_t i = 0; i < v->n_silenced_by; i++)
        trn_json_str(j, v->silenced_by[i]);
    trn_json_arr_end(j);
    trn_json_key(j, "state");
    trn_json_str(j, v->state);
    trn_json_obj_end(j);
    trn_json_key(j, "updatedAt");
    api_time(j, v->updated_at_ms);
    trn_json_key(j, "generatorURL");
    trn_json_str(j, v->generator_url);
    trn_json_key(j, "labels");
    labels_obj(j, &v->labels);
    trn_json_obj_end(j);
}

static void get_alerts(void *ctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    trn_alertmanager_t *am = get_am(ctx, resp);
    if (!am) return;
    alert_filter_t f;
    if (parse_filter(req, resp, &f) < 0) return;
    trn_am_alert_view_t *v;
    size_t n;
    if (trn_alertmanager_alerts(am, trn_http_arena(req), &v, &n) < 0) {
        json_error(resp, 500, "response too large for the request memory budget");
        filter_fini(&f);
        return;
    }
    int64_t now = trn_alertmanager_now(am);
    trn_json_t j;
    trn_json_init(&j, &resp->body);
    trn_json_arr_begin(&j);
    for (size_t i = 0; i < n; i++)
        if (keep_alert(&f, &v[i], now)) write_alert(&j, &v[i]);
    trn_json_arr_end(&j);
    filter_fini(&f);
}

static void get_groups(void *ctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    trn_alertmanager_t *am = get_am(ctx, resp);
    if (!am) return;
    alert_filter_t f;
    if (parse_filter(req, resp, &f) < 0) return;
    trn_am_group_view_t *g;
    size_t n;
    if (trn_alertmanager_groups(am, trn_http_arena(req), &g, &n) < 0) {
        json_error(resp, 500, "response too large for the request memory budget");
        filter_fini(&f);
        return;
    }
    int64_t now = trn_alertmanager_now(am);
    trn_json_t j;
    trn_json_init(&j, &resp->body);
    trn_json_arr_begin(&j);
    for (size_t i = 0; i < n; i++) {
        if (f.receiver && !trn_regex_match(f.receiver, trn_str_c(g[i].receiver))) continue;
        size_t kept = 0;
        for (size_t k = 0; k < g[i].n_alerts; k++)
            kept += keep_alert(&f, &g[i].alerts[k], now);
        if (!kept) continue;
        trn_json_obj_begin(&j);
        trn_json_key(&j, "alerts");
        trn_json_arr_begin(&j);
        for (size_t k = 0; k < g[i].n_alerts; k++)
            if (keep_alert(&f, &g[i].alerts[k], now)) write_alert(&j, &g[i].alerts[k]);
        trn_json_arr_end(&j);
        trn_json_key(&j, "labels");
        labels_obj(&j, &g[i].labels);
        trn_json_key(&j, "receiver");
        trn_json_obj_begin(&j);
        trn_json_key(&j, "name");
        trn_json_str(&j, g[i].receiver);
        trn_json_obj_end(&j);
        trn_json_obj_end(&j);
    }
    trn_json_arr_end(&j);
    filter_fini(&f);
}

/* Reads a JSON object of string values into a label set in arena a. */
static int read_kv(json_t *o, trn_arena_t *a, trn_labels_t *out, const char *what, char *err,
                   size_t err_len)
{
    out->n = 0;
    out->v = NULL;
    if (!o) return 0;
    if (!json_is_object(o)) {
        snprintf(err, err_len, "%s must be an object of strings", what);
        return TRN_EINVAL;
    }
    out->v = trn_arena_calloc(a, json_object_size(o) + 1, sizeof(trn_label_t));
    if (!out->v) {
        snprintf(err, err_len, "request too large");
        return TRN_ELIMIT;
    }
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        if (!json_is_string(v)) {
            snprintf(err, err_len, "%s.%.60s must be a string", what, k);
            return TRN_EINVAL;
        }
        out->v[out->n++] =
            (trn_label_t){trn_str_c(k), {json_string_value(v), json_string_length(v)}};
    }
    return 0;
}

static int read_time(json_t *o, const char *key, int64_t *out, char *err, size_t err_len)
{
    json_t *v = json_object_get(o, key);
    *out = 0;
    if (!v || json_is_null(v)) return 0;
    const char *s = json_string_value(v);
    if (!s || (*s && trn_parse_time(trn_str_c(s), out) < 0)) {
        snprintf(err, err_len, "%s in body must be of type date-time: \"%.60s\"", key, s ? s : "?");
        return TRN_EINVAL;
    }
    if (s && !strncmp(s, "0001-01-01", 10)) *out = 0;
    return 0;
}

static void post_alerts(void *ctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    trn_alertmanager_t *am = get_am(ctx, resp);
    if (!am) return;
    trn_str_t body = trn_http_body(req);
    json_error_t jerr;
    json_t *root = json_loadb(body.p ? body.p : "", body.len, 0, &jerr);
    char msg[512];
    if (!root || !json_is_array(root)) {
        if (root)
            snprintf(msg, sizeof msg,
                     "parsing alerts body from \"\" failed, because json: cannot unmarshal into "
                     "models.PostableAlerts: expected an array");
        else
            snprintf(msg, sizeof msg, "parsing alerts body failed: %s at line %d column %d",
                     jerr.text, jerr.line, jerr.column);
        json_decref(root);
        swagger_error(resp, 400, 400, msg);
        return;
    }
    trn_arena_t *a = trn_http_arena(req);
    size_t n = json_array_size(root);
    trn_am_alert_t *alerts = trn_arena_calloc(a, n + 1, sizeof *alerts);
    trn_buf_t errs;
    trn_buf_init(&errs);
    size_t k = 0, i;
    json_t *it;
    json_array_foreach(root, i, it)
    {
        trn_am_alert_t *al = &alerts[k];
        char e[256] = "";
        int rc = 0;
        if (!json_is_object(it)) {
            snprintf(e, sizeof e, "alert %zu is not an object", i);
            rc = TRN_EINVAL;
        }
        if (rc == 0 && !json_object_get(it, "labels")) {
            swagger_error(resp, 422, 602, "labels in body is required");
            json_decref(root);
            trn_buf_fini(&errs);
            return;
        }
        if (rc == 0)
            rc = read_kv(json_object_get(it, "labels"), a, &al->labels, "labels", e, sizeof e);
        if (rc == 0)
            rc = read_kv(json_object_get(it, "annotations"), a, &al->annotations, "annotations", e,
                         sizeof e);
        if (rc == 0) rc = read_time(it, "startsAt", &al->starts_at_ms, e, sizeof e);
        if (rc == 0) rc = read_time(it, "endsAt", &al->ends_at_ms, e, sizeof e);
        if (rc == 0) {
            json_t *g = json_object_get(it, "generatorURL");
            if (g && !json_is_null(g) && !json_is_string(g)) {
                snprintf(e, sizeof e, "generatorURL must be a string");
                rc = TRN_EINVAL;
            }
            al->generator_url = json_string_value(g);
        }
        if (rc == 0) {
            trn_labels_sort(&al->labels);
            trn_labels_sort(&al->annotations);
            trn_diag_t d;
            trn_diag_init(&d);
            if (trn_am_alert_validate(al, &d) < 0) {
                snprintf(e, sizeof e, "%.200s", d.msg);
                rc = TRN_EINVAL;
            }
        }
        if (rc < 0) {
            if (errs.len) trn_buf_puts(&errs, ";");
            trn_buf_puts(&errs, e);
            continue;
        }
        k++;
    }
    trn_alertmanager_push(am, alerts, k);
    json_decref(root);
    if (errs.len) json_error(resp, 400, errs.data);
    trn_buf_fini(&errs);
}

/* ---------------------------------------------------------------- silences */

static void write_silence(trn_json_t *j, const trn_am_silence_t *s, int64_t now)
{
    trn_json_obj_begin(j);
    trn_json_key(j, "id");
    trn_json_str(j, s->id);
    trn_json_key(j, "status");
    trn_json_obj_begin(j);
    trn_json_key(j, "state");
    trn_json_str(j, trn_am_silence_state(s, now));
    trn_json_obj_end(j);
    trn_json_key(j, "updatedAt");
    api_time(j, s->updated_at_ms);
    trn_json_key(j, "comment");
    trn_json_str(j, s->comment);
    trn_json_key(j, "createdBy");
    trn_json_str(j, s->created_by);
    trn_json_key(j, "endsAt");
    api_time(j, s->ends_at_ms);
    trn_json_key(j, "matchers");
    trn_json_arr_begin(j);
    for (size_t i = 0; i < s->matchers.n; i++) {
        const trn_matcher_t *m = &s->matchers.v[i];
        trn_json_obj_begin(j);
        trn_json_key(j, "isEqual");
        trn_json_bool(j, m->type == TRN_MATCH_EQ || m->type == TRN_MATCH_RE);
        trn_json_key(j, "isRegex");
        trn_json_bool(j, m->type == TRN_MATCH_RE || m->type == TRN_MATCH_NRE);
        trn_json_key(j, "name");
        trn_json_strn(j, m->name.p, m->name.len);
        trn_json_key(j, "value");
        trn_json_strn(j, m->value.p, m->value.len);
        trn_json_obj_end(j);
    }
    trn_json_arr_end(j);
    trn_json_key(j, "startsAt");
    api_time(j, s->starts_at_ms);
    trn_json_obj_end(j);
}

/* A silence passes the filter when each filter matcher accepts the value
 * of the silence's equality matcher of the same name. */
static bool silence_matches(const trn_am_silence_t *s, const trn_am_matchers_t *f)
{
    for (size_t i = 0; i < f->n; i++) {
        bool ok = false;
        for (size_t k = 0; k < s->matchers.n && !ok; k++)
            ok = trn_str_eq(s->matchers.v[k].name, f->v[i].name) &&
                 trn_matcher_matches(&f->v[i], s->matchers.v[k].value);
        if (!ok) return false;
    }
    return true;
}

static int state_rank(const char *st)
{
    return !strcmp(st, "active") ? 0 : !strcmp(st, "pending") ? 1 : 2;
}

/* Alertmanager's order: active by end, pending by start, expired latest first. */
static int cmp_silence(const void *x, const void *y, void *ctx)
{
    const trn_am_silence_t *a = x, *b = y;
    int64_t now = *(const int64_t *)ctx;
    int ra = state_rank(trn_am_silence_state(a, now)),
        rb = state_rank(trn_am_silence_state(b, now));
    if (ra != rb) return ra - rb;
    int64_t ka = ra == 1 ? a->starts_at_ms : a->ends_at_ms,
            kb = rb == 1 ? b->starts_at_ms : b->ends_at_ms;
    if (ra == 2) return ka > kb ? -1 : ka < kb;
    return ka < kb ? -1 : ka > kb;
}

static void get_silences(void *ctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    trn_alertmanager_t *am = get_am(ctx, resp);
    if (!am) return;
    trn_am_matchers_t f = {0};
    const char **vals;
    size_t nv = trn_http_params(req, "filter", &vals);
    trn_diag_t d;
    trn_diag_init(&d);
    for (size_t i = 0; i < nv; i++)
        if (trn_am_matchers_parse(trn_str_c(vals[i]), trn_http_arena(req), &f, &d) < 0) {
            json_error(resp, 400, d.msg);
            trn_am_matchers_fini(&f);
            return;
        }
    trn_am_silence_t *s;
    size_t n;
    trn_alertmanager_silences(am, NULL, trn_http_arena(req), &s, &n);
    int64_t now = trn_alertmanager_now(am);
    trn_am_silence_t *sorted = s;
    qsort_r(sorted, n, sizeof *sorted, cmp_silence, &now);
    trn_json_t j;
    trn_json_init(&j, &resp->body);
    trn_json_arr_begin(&j);
    for (size_t i = 0; i < n; i++)
        if (silence_matches(&sorted[i], &f)) write_silence(&j, &sorted[i], now);
    trn_json_arr_end(&j);
    trn_am_matchers_fini(&f);
}

static void post_silence(void *ctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    trn_alertmanager_t *am = get_am(ctx, resp);
    if (!am) return;
    trn_str_t body = trn_http_body(req);
    json_error_t jerr;
    json_t *o = json_loadb(body.p ? body.p : "", body.len, 0, &jerr);
    char msg[512];
    if (!o || !json_is_object(o)) {
        snprintf(msg, sizeof msg, "parsing silence body failed: %s",
                 o ? "expected an object" : jerr.text);
        json_decref(o);
        swagger_error(resp, 400, 400, msg);
        return;
    }
    static const char *const required[] = {"matchers", "startsAt", "endsAt", "createdBy",
                                           "comment"};
    for (size_t i = 0; i < 5; i++)
        if (!json_object_get(o, required[i])) {
            snprintf(msg, sizeof msg, "%s in body is required", required[i]);
            json_decref(o);
            swagger_error(resp, 422, 602, msg);
            return;
        }
    trn_am_silence_t s = {0};
    trn_arena_t *a = trn_http_arena(req);
    const char *id = json_string_value(json_object_get(o, "id"));
    if (id) snprintf(s.id, sizeof s.id, "%s", id);
    s.created_by = json_string_value(json_object_get(o, "createdBy"));
    s.comment = json_string_value(json_object_get(o, "comment"));
    int rc = 0;
    if (!s.created_by || !s.comment) {
        snprintf(msg, sizeof msg, "createdBy and comment must be strings");
        rc = TRN_EINVAL;
    }
    if (rc == 0) rc = read_time(o, "startsAt", &s.starts_at_ms, msg, sizeof msg);
    if (rc == 0) rc = read_time(o, "endsAt", &s.ends_at_ms, msg, sizeof msg);
    json_t *ms = json_object_get(o, "matchers");
    if (rc == 0 && !json_is_array(ms)) {
        snprintf(msg, sizeof msg, "matchers must be an array");
        rc = TRN_EINVAL;
    }
    size_t i;
    json_t *m;
    trn_diag_t d;
    trn_diag_init(&d);
    if (rc == 0) json_array_foreach(ms, i, m)
        {
            const char *n = json_string_value(json_object_get(m, "name"));
            const char *v = json_string_value(json_object_get(m, "value"));
            json_t *re = json_object_get(m, "isRegex"), *eq = json_object_get(m, "isEqual");
            if (!n || !v || !json_is_boolean(re)) {
                snprintf(msg, sizeof msg, "matcher %zu needs name, value and isRegex", i);
                rc = TRN_EINVAL;
                break;
            }
            bool is_re = json_is_true(re), is_eq = !json_is_false(eq);
            trn_match_type_t t = is_re ? (is_eq ? TRN_MATCH_RE : TRN_MATCH_NRE)
                                       : (is_eq ? TRN_MATCH_EQ : TRN_MATCH_NE);
            if (trn_am_matchers_add(&s.matchers, a, t, trn_str_c(n), trn_str_c(v), &d) < 0) {
                snprintf(msg, sizeof msg, "%s", d.msg);
                rc = TRN_EINVAL;
                break;
            }
        }
    char out_id[40];
    if (rc == 0) {
        trn_diag_init(&d);
        rc = trn_alertmanager_silence_set(am, &s, out_id, &d);
        if (rc < 0) snprintf(msg, sizeof msg, "%s", d.msg);
    }
    trn_am_matchers_fini(&s.matchers);
    json_decref(o);
    if (rc == TRN_ENOTFOUND) {
        json_error(resp, 404, msg);
        return;
    }
    if (rc < 0) {
        json_error(resp, 400, msg);
        return;
    }
    trn_json_t j;
    trn_json_init(&j, &resp->body);
    trn_json_obj_begin(&j);
    trn_json_key(&j, "silenceID");
    trn_json_str(&j, out_id);
    trn_json_obj_end(&j);
}

static void get_silence(void *ctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    trn_alertmanager_t *am = get_am(ctx, resp);
    if (!am) return;
    const char *id = trn_http_path_param(req, "id");
    trn_am_silence_t *s;
    size_t n;
    if (!id || trn_alertmanager_silences(am, id, trn_http_arena(req), &s, &n) < 0) {
        resp->status = 404;
        return;
    }
    trn_json_t j;
    trn_json_init(&j, &resp->body);
    write_silence(&j, s, trn_alertmanager_now(am));
}

static void delete_silence(void *ctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    trn_alertmanager_t *am = get_am(ctx, resp);
    if (!am) return;
    const char *id = trn_http_path_param(req, "id");
    trn_diag_t d;
    trn_diag_init(&d);
    int rc = id ? trn_alertmanager_silence_expire(am, id, &d) : TRN_ENOTFOUND;
    if (rc == TRN_ENOTFOUND)
        resp->status = 404;
    else if (rc < 0)
        json_error(resp, 500, d.msg);
}

/* ---------------------------------------------------------------- status */

static void get_status(void *ctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    trn_alertmanager_t *am = get_am(ctx, resp);
    if (!am) return;
    trn_json_t j;
    trn_json_init(&j, &resp->body);
    trn_json_obj_begin(&j);
    trn_json_key(&j, "cluster");
    trn_json_obj_begin(&j);
    trn_json_key(&j, "name");
    trn_json_str(&j, "");
    trn_json_key(&j, "peers");
    trn_json_arr_begin(&j);
    trn_json_arr_end(&j);
    /* A single node is a settled cluster of one; Grafana's Alertmanager
     * datasource expects "ready" here (shared/compat §5). */
    trn_json_key(&j, "status");
    trn_json_str(&j, "ready");
    trn_json_obj_end(&j);
    trn_json_key(&j, "config");
    trn_json_obj_begin(&j);
    trn_json_key(&j, "original");
    trn_json_str(&j, trn_alertmanager_config_text(am, trn_http_arena(req)));
    trn_json_obj_end(&j);
    trn_json_key(&j, "uptime");
    api_time(&j, trn_alertmanager_start_ms(am));
    trn_json_key(&j, "versionInfo");
    trn_json_obj_begin(&j);
    static const char *const vi[][2] = {{"branch", "main"},     {"buildDate", ""},
                                        {"buildUser", "trine"}, {"goVersion", "none (trine, C)"},
                                        {"revision", ""},       {"version", AM_VERSION}};
    for (size_t i = 0; i < 6; i++) {
        trn_json_key(&j, vi[i][0]);
        trn_json_str(&j, vi[i][1]);
    }
    trn_json_obj_end(&j);
    trn_json_obj_end(&j);
}

static void get_receivers(void *ctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    trn_alertmanager_t *am = get_am(ctx, resp);
    if (!am) return;
    const char **names;
    size_t n = trn_alertmanager_receiver_names(am, trn_http_arena(req), &names);
    trn_json_t j;
    trn_json_init(&j, &resp->body);
    trn_json_arr_begin(&j);
    for (size_t i = 0; i < n; i++) {
        trn_json_obj_begin(&j);
        trn_json_key(&j, "name");
        trn_json_str(&j, names[i]);
        trn_json_obj_end(&j);
    }
    trn_json_arr_end(&j);
}

const trn_route_t trn_api_alertmanager_routes[] = {
    {.method = "GET", .pattern = "/api/v2/alerts", .fn = get_alerts},
    {.method = "POST", .pattern = "/api/v2/alerts", .fn = post_alerts},
    {.method = "GET", .pattern = "/api/v2/alerts/groups", .fn = get_groups},
    {.method = "GET", .pattern = "/api/v2/silences", .fn = get_silences},
    {.method = "POST", .pattern = "/api/v2/silences", .fn = post_silence},
    {.method = "GET", .pattern = "/api/v2/silence/:id", .fn = get_silence},
    {.method = "DELETE", .pattern = "/api/v2/silence/:id", .fn = delete_silence},
    {.method = "GET", .pattern = "/api/v2/status", .fn = get_status},
    {.method = "GET", .pattern = "/api/v2/receivers", .fn = get_receivers},
};
