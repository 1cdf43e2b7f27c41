/* SPDX-License-Identifier: Apache-2.0 */
/* GET /api/v1/rules and GET /api/v1/alerts in Prometheus's shapes.
 *
 * rules: {"groups":[{name, file, rules:[...], interval, limit,
 * evaluationTime, lastEvaluation}], "groupNextToken"?}; an alerting rule
 * is {state, name, query, duration, keepFiringFor, labels, annotations,
 * alerts, health, lastError?, evaluationTime, lastEvaluation, type:
 * "alerting"}, a recording rule {name, query, labels, health, lastError?,
 * evaluationTime, lastEvaluation, type: "recording"}. Filters as
 * Prometheus: type=alert|record, rule_name[], rule_group[], file[],
 * match[] (selectors on the rules' labels), exclude_alerts, and
 * group_limit/group_next_token pagination; a group left without rules by
 * the filters is omitted. alerts: {"alerts":[{labels, annotations, state,
 * activeAt, keepFiringSince?, value}]} for every pending or firing alert,
 * value in Go's shortest %e form ("1e+00"). Times are RFC3339 in UTC with
 * milliseconds; a rule never evaluated shows 0001-01-01T00:00:00Z. The
 * pagination token is opaque (a hash of file and group name). */
#include "api/prom_rules.h"

#include "core/json.h"
#include "core/timefmt.h"
#include "metrics/promql/promql.h"
#include "rules/rules.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void labels_obj(trn_json_t *j, const trn_labels_t *ls)
{
    trn_json_obj_begin(j);
    for (size_t i = 0; i < ls->n; i++) {
        trn_json_keyn(j, ls->v[i].name.p, ls->v[i].name.len);
        trn_json_strn(j, ls->v[i].value.p ? ls->v[i].value.p : "", ls->v[i].value.len);
    }
    trn_json_obj_end(j);
}

static void time_str(trn_json_t *j, int64_t ms)
{
    char ts[40];
    if (ms)
        trn_format_rfc3339_ms(ts, ms);
    else
        snprintf(ts, sizeof ts, "0001-01-01T00:00:00Z");
    trn_json_str(j, ts);
}

/* strconv.FormatFloat(v, 'e', -1, 64): the shortest digits that read back. */
static void value_e(trn_json_t *j, double v)
{
    char buf[40];
    if (isnan(v)) {
        trn_json_str(j, "NaN");
        return;
    }
    if (isinf(v)) {
        trn_json_str(j, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    for (int p = 0; p < 17; p++) {
        snprintf(buf, sizeof buf, "%.*e", p, v);
        if (strtod(buf, NULL) == v) break;
    }
    trn_json_str(j, buf);
}

static const char *state_name(trn_alert_state_t s)
{
    return s == TRN_ALERT_FIRING ? "firing" : s == TRN_ALERT_PENDING ? "pending" : "inactive";
}

static void alert_obj(trn_json_t *j, const trn_rule_alert_info_t *a)
{
    trn_json_obj_begin(j);
    trn_json_key(j, "labels");
    labels_obj(j, &a->labels);
    trn_json_key(j, "annotations");
    labels_obj(j, &a->annotations);
    trn_json_key(j, "state");
    trn_json_str(j, state_name(a->state));
    trn_json_key(j, "activeAt");
    time_str(j, a->active_at_ms);
    if (a->keep_firing_since_ms) {
        trn_json_key(j, "keepFiringSince");
        time_str(j, a->keep_firing_since_ms);
    }
    trn_json_key(j, "value");
    value_e(j, a->value);
    trn_json_obj_end(j);
}

static bool in_set(const char **set, size_t n, const char *v)
{
    if (n == 0) return true;
    for (size_t i = 0; i < n; i++)
        if (strcmp(set[i], v) == 0) return true;
    return false;
}

static void group_token(const char *file, const char *name, char out[17])
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a over file;name */
    for (const char *p = file; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ ';') * 1099511628211ULL;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    snprintf(out, 17, "%016" PRIx64, h);
}

typedef struct msets {
    const trn_matcher_t **ms;
    size_t *n;
    trn_promql_expr_t **keep;
    size_t n_sets;
} msets_t;

static bool rule_matches(const msets_t *m, const trn_labels_t *ls)
{
    if (m->n_sets == 0) return true;
    for (size_t s = 0; s < m->n_sets; s++) {
        bool all = true;
        for (size_t k = 0; k < m->n[s] && all; k++)
            if (!trn_matcher_matches_labels(&m->ms[s][k], ls)) all = false;
        if (all) return true;
    }
    return false;
}

static void rules_handler(void *ctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    trn_api_ctx_t *api = ctx;
    trn_arena_t *a = trn_http_arena(req);
    const char *typ = trn_http_param(req, "type");
    bool want_alert = true, want_record = true;
    if (typ && *typ) {
        if (strcasecmp(typ, "alert") == 0) {
            want_record = false;
        } else if (strcasecmp(typ, "record") == 0) {
            want_alert = false;
        } else {
            char msg[256];
            snprintf(msg, sizeof msg, "invalid parameter \"type\": not supported value \"%.100s\"",
                     typ);
            trn_api_prom_error(resp, 400, "bad_data", msg);
            return;
        }
    }
    bool exclude_alerts = false;
    const char *ex = trn_http_param(req, "exclude_alerts");
    if (ex && *ex) {
        if (strcasecmp(ex, "true") == 0 || strcmp(ex, "1") == 0 || strcasecmp(ex, "t") == 0) {
            exclude_alerts = true;
        } else if (!(strcasecmp(ex, "false") == 0 || strcmp(ex, "0") == 0 ||
                     strcasecmp(ex, "f") == 0)) {
            trn_api_prom_error(
                resp, 400, "bad_data",
                "invalid parameter \"exclude_alerts\": error converting exclude_alerts: "
                "strconv.ParseBool: invalid syntax");
            return;
        }
    }
    long group_limit = -1;
    const char *gl = trn_http_param(req, "group_limit");
    const char *next = trn_http_param(req, "group_next_token");
    if (next && *next && !(gl && *gl)) {
        trn_api_prom_error(
            resp, 400, "bad_data",
            "invalid parameter \"group_next_token\": group_limit needs to be present in order to "
            "paginate over the groups");
        return;
    }
    if (gl && *gl) {
        char *end;
        group_limit = strtol(gl, &end, 10);
        if (*end || group_limit <= 0) {
            trn_api_prom_error(
                resp, 400, "bad_data",
                "invalid parameter \"group_limit\": group_limit needs to be greater than 0");
            return;
        }
    }
    const char **names, **groups, **files, **matches;
    size_t n_names = trn_http_params(req, "rule_name[]", &names);
    size_t n_groups = trn_http_params(req, "rule_group[]", &groups);
    size_t n_files = trn_http_params(req, "file[]", &files);
    size_t n_match = trn_http_params(req, "match[]", &matches);
    msets_t ms = {0};
    if (n_match) {
        ms.ms = trn_arena_calloc(a, n_match, sizeof *ms.ms);
        ms.n = trn_arena_calloc(a, n_match, sizeof *ms.n);
        ms.keep = trn_arena_calloc(a, n_match, sizeof *ms.keep);
        for (size_t i = 0; i < n_match; i++) {
            trn_diag_t d;
            trn_diag_init(&d);
            if (trn_promql_parse_selector(matches[i], strlen(matches[i]), a, &ms.keep[i], &ms.ms[i],
                                          &ms.n[i], &d) < 0) {
                for (size_t k = 0; k < ms.n_sets; k++)
                    trn_promql_expr_release(ms.keep[k]);
                trn_api_prom_error(resp, 400, "bad_data", d.msg);
                return;
            }
            ms.n_sets++;
        }
    }
    trn_rule_group_info_t *gs = NULL;
    size_t ng = 0;
    if (api->rules) {
        int rc = trn_rule_manager_snapshot(api->rules, a, &gs, &ng);
        if (rc < 0) {
            for (size_t k = 0; k < ms.n_sets; k++)
                trn_promql_expr_release(ms.keep[k]);
            trn_api_prom_error_code(resp, rc, "too many rules for the request's memory budget");
            return;
        }
    }
    trn_json_t j;
    trn_json_init(&j, &resp->body);
    trn_json_obj_begin(&j);
    trn_json_key(&j, "status");
    trn_json_str(&j, "success");
    trn_json_key(&j, "data");
    trn_json_obj_begin(&j);
    trn_json_key(&j, "groups");
    trn_json_arr_begin(&j);
    bool found_token = !(next && *next);
    long emitted = 0;
    char next_token[17] = "";
    for (size_t g = 0; g < ng; g++) {
        const trn_rule_group_info_t *gi = &gs[g];
        char tok[17];
        group_token(gi->file, gi->name, tok);
        if (!found_token) {
            if (strcmp(tok, next) != 0) continue;
            found_token = true;
        }
        if (!in_set(groups, n_groups, gi->name) || !in_set(files, n_files, gi->file)) continue;
        size_t kept = 0;
        for (size_t r = 0; r < gi->n_rules; r++) {
            const trn_rule_info_t *ri = &gi->rules[r];
            if ((ri->is_alerting ? want_alert : want_record) && in_set(names, n_names, ri->name) &&
                rule_matches(&ms, &ri->labels))
                kept++;
        }
        if (kept == 0) continue;
        if (group_limit > 0 && emitted == group_limit) {
            memcpy(next_token, tok, sizeof tok);
            break;
        }
        emitted++;
        trn_json_obj_begin(&j);
        trn_json_key(&j, "name");
        trn_json_str(&j, gi->name);
        trn_json_key(&j, "file");
        trn_json_str(&j, gi->file);
        trn_json_key(&j, "rules");
        trn_json_arr_begin(&j);
        for (size_t r = 0; r < gi->n_rules; r++) {
            const trn_rule_info_t *ri = &gi->rules[r];
            if (!((ri->is_alerting ? want_alert : want_record) &&
                  in_set(names, n_names, ri->name) && rule_matches(&ms, &ri->labels)))
                continue;
            trn_json_obj_begin(&j);
            if (ri->is_alerting) {
                trn_json_key(&j, "state");
                trn_json_str(&j, state_name(ri->state));
            }
            trn_json_key(&j, "name");
            trn_json_str(&j, ri->name);
            trn_json_key(&j, "query");
            trn_json_str(&j, ri->query);
            if (ri->is_alerting) {
                trn_json_key(&j, "duration");
                trn_json_num(&j, (double)ri->for_ms / 1000.0);
                trn_json_key(&j, "keepFiringFor");
                trn_json_num(&j, (double)ri->keep_firing_for_ms / 1000.0);
            }
            trn_json_key(&j, "labels");
            labels_obj(&j, &ri->labels);
            if (ri->is_alerting) {
                trn_json_key(&j, "annotations");
                labels_obj(&j, &ri->annotations);
                trn_json_key(&j, "alerts");
                if (exclude_alerts) {
                    trn_json_null(&j);
                } else {
                    trn_json_arr_begin(&j);
                    for (size_t x = 0; x < ri->n_alerts; x++)
                        alert_obj(&j, &ri->alerts[x]);
                    trn_json_arr_end(&j);
                }
            }
            trn_json_key(&j, "health");
            trn_json_str(&j, ri->health);
            if (ri->last_error && *ri->last_error) {
                trn_json_key(&j, "lastError");
                trn_json_str(&j, ri->last_error);
            }
            trn_json_key(&j, "evaluationTime");
            trn_json_num(&j, ri->eval_seconds);
            trn_json_key(&j, "lastEvaluation");
            time_str(&j, ri->last_eval_ms);
            trn_json_key(&j, "type");
            trn_json_str(&j, ri->is_alerting ? "alerting" : "recording");
            trn_json_obj_end(&j);
        }
        trn_json_arr_end(&j);
        trn_json_key(&j, "interval");
        trn_json_num(&j, (double)gi->interval_ms / 1000.0);
        trn_json_key(&j, "limit");
        trn_json_int(&j, gi->limit);
        trn_json_key(&j, "evaluationTime");
        trn_json_num(&j, gi->eval_seconds);
        trn_json_key(&j, "lastEvaluation");
        time_str(&j, gi->last_eval_ms);
        trn_json_obj_end(&j);
    }
    trn_json_arr_end(&j);
    if (next_token[0]) {
        trn_json_key(&j, "groupNextToken");
        trn_json_str(&j, next_token);
    }
    trn_json_obj_end(&j);
    trn_json_obj_end(&j);
    for (size_t k = 0; k < ms.n_sets; k++)
        trn_promql_expr_release(ms.keep[k]);
    if (!found_token) {
        resp->body.len = 0;
        char msg[200];
        snprintf(msg, sizeof msg,
                 "invalid parameter \"group_next_token\": invalid group_next_token '%.64s'. were "
                 "rule groups "
                 "changed?",
                 next);
        trn_api_prom_error(resp, 400, "bad_data", msg);
    }
}

static void alerts_handler(void *ctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    trn_api_ctx_t *api = ctx;
    trn_rule_group_info_t *gs = NULL;
    size_t ng = 0;
    if (api->rules) {
        int rc = trn_rule_manager_snapshot(api->rules, trn_http_arena(req), &gs, &ng);
        if (rc < 0) {
            trn_api_prom_error_code(resp, rc, "too many alerts for the request's memory budget");
            return;
        }
    }
    trn_json_t j;
    trn_json_init(&j, &resp->body);
    trn_json_obj_begin(&j);
    trn_json_key(&j, "status");
    trn_json_str(&j, "success");
    trn_json_key(&j, "data");
    trn_json_obj_begin(&j);
    trn_json_key(&j, "alerts");
    trn_json_arr_begin(&j);
    for (size_t g = 0; g < ng; g++)
        for (size_t r = 0; r < gs[g].n_rules; r++)
            for (size_t x = 0; x < gs[g].rules[r].n_alerts; x++)
                alert_obj(&j, &gs[g].rules[r].alerts[x]);
    trn_json_arr_end(&j);
    trn_json_obj_end(&j);
    trn_json_obj_end(&j);
}

const trn_route_t trn_api_prom_rules_routes[TRN_API_PROM_RULES_N_ROUTES] = {
    {.method = "GET|POST", .pattern = "/api/v1/rules", .fn = rules_handler},
    {.method = "GET|POST", .pattern = "/api/v1/alerts", .fn = alerts_handler},
};
