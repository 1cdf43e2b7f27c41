/* SPDX-License-Identifier: Apache-2.0 */
/* Loader for Alertmanager configuration files.
 *
 * The YAML tree (core/yaml) is walked once; everything kept is copied into
 * the config's arena, so the tree is freed before returning. Validation
 * mirrors Alertmanager 0.25 and reuses its wording ("undefined receiver
 * \"x\" used in route", "root route must not have any matchers", ...) with a
 * file:line:col prefix, so `trine check-config` reads like amtool's.
 *
 * Route settings are inherited while building, exactly as Alertmanager's
 * dispatch.NewRoute does: a child starts from its parent's receiver,
 * group_by and timers and overrides what it sets; matchers from match,
 * match_re and matchers are merged and sorted; mute/active intervals and
 * `continue` are not inherited. Each node gets Alertmanager's route key
 * (parent key, "/", sorted matchers), which becomes part of group keys and
 * so of notification-log entries.
 *
 * Integration options are kept as strings keyed by their YAML names with
 * Alertmanager's defaults pre-filled (default templates for slack,
 * pagerduty and email texts); the notifiers render them. Kinds trine does
 * not deliver (opsgenie, wechat, ...) are accepted and counted so that
 * configs written for Alertmanager still load. */
#include "alerts/config.h"

#include "alerts/am_int.h"

#include "core/alloc.h"
#include "core/err.h"
#include "core/timefmt.h"
#include "core/yaml.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct loader {
    trn_am_config_t *c;
    trn_arena_t *a;
    trn_diag_t *d;
    size_t next_id;
} loader_t;

static const char *adup(loader_t *L, const char *s)
{
    return trn_arena_strndup(L->a, s, strlen(s));
}

static void *aalloc(loader_t *L, size_t k, size_t n)
{
    void *p = trn_arena_calloc(L->a, k ? k : 1, n);
    TRN_ASSERT(p); /* the config arena has no budget */
    return p;
}

static int read_str(loader_t *L, const trn_yaml_node_t *n, const char **out)
{
    const char *s;
    int rc = trn_yaml_str(n, &s, L->d);
    if (rc < 0) return rc;
    *out = adup(L, s);
    return 0;
}

/* A sequence of strings into an arena array. */
static int read_str_seq(loader_t *L, const trn_yaml_node_t *n, const char ***out, size_t *n_out)
{
    if (trn_yaml_is_null(n)) {
        *out = NULL;
        *n_out = 0;
        return 0;
    }
    if (n->kind != TRN_YAML_SEQ) return trn_yaml_error(L->d, n, "expected a list of strings");
    const char **v = aalloc(L, n->n, sizeof *v);
    for (size_t i = 0; i < n->n; i++) {
        int rc = read_str(L, n->items[i], &v[i]);
        if (rc < 0) return rc;
    }
    *out = v;
    *n_out = n->n;
    return 0;
}

/* ---------------------------------------------------------------- matchers */

static int read_match_map(loader_t *L, const trn_yaml_node_t *n, trn_match_type_t t,
                          trn_am_matchers_t *ms)
{
    if (trn_yaml_is_null(n)) return 0;
    if (n->kind != TRN_YAML_MAP) return trn_yaml_error(L->d, n, "expected a mapping of labels");
    for (size_t i = 0; i < n->n; i++) {
        const trn_yaml_node_t *k = n->pairs[i].key, *v = n->pairs[i].value;
        if (k->kind != TRN_YAML_SCALAR || v->kind != TRN_YAML_SCALAR)
            return trn_yaml_error(L->d, k, "expected label: value pairs");
        if (!trn_label_name_valid((trn_str_t){k->str, k->len}))
            return trn_yaml_error(L->d, k, "invalid label name \"%s\"", k->str);
        trn_diag_t d2;
        trn_diag_init(&d2);
        if (trn_am_matchers_add(ms, L->a, t, (trn_str_t){k->str, k->len},
                                (trn_str_t){v->str, v->len}, &d2) < 0)
            return trn_yaml_error(L->d, v, "%s", d2.msg);
    }
    return 0;
}

static int read_matchers(loader_t *L, const trn_yaml_node_t *n, trn_am_matchers_t *ms)
{
    if (trn_yaml_is_null(n)) return 0;
    if (n->kind != TRN_YAML_SEQ)
        return trn_yaml_error(L->d, n, "matchers must be a list of strings");
    for (size_t i = 0; i < n->n; i++) {
        const trn_yaml_node_t *it = n->items[i];
        if (it->kind != TRN_YAML_SCALAR)
            return trn_yaml_error(L->d, it, "matcher must be a string");
        trn_diag_t d2;
        trn_diag_init(&d2);
        if (trn_am_matchers_parse((trn_str_t){it->str, it->len}, L->a, ms, &d2) < 0)
            return trn_yaml_error(L->d, it, "%s", d2.msg);
    }
    return 0;
}

/* ---------------------------------------------------------------- http_config */

static const char *const http_keys[] = {
    "basic_auth", "authorization", "bearer_token",           "bearer_token_file",
    "proxy_url",  "tls_config",    "follow_redirects",       "enable_http2",
    "oauth2",     "no_proxy",      "proxy_from_environment", "proxy_connect_header",
    NULL};

static int read_http(loader_t *L, const trn_yaml_node_t *n, trn_am_http_config_t *h)
{
    if (trn_yaml_is_null(n)) return 0;
    int rc = trn_yaml_check_map(n, "http_config", http_keys, L->d);
    if (rc < 0) return rc;
    const trn_yaml_node_t *v;
    if ((v = trn_yaml_get(n, "basic_auth")) && !trn_yaml_is_null(v)) {
        static const char *const k[] = {"username", "password", "password_file", NULL};
        if ((rc = trn_yaml_check_map(v, "basic_auth", k, L->d)) < 0) return rc;
        const trn_yaml_node_t *u = trn_yaml_get(v, "username"), *p = trn_yaml_get(v, "password");
        if (u && (rc = read_str(L, u, &h->basic_user)) < 0) return rc;
        if (p && (rc = read_str(L, p, &h->basic_password)) < 0) return rc;
        if (!h->basic_password) h->basic_password = "";
        if (!h->basic_user) h->basic_user = "";
    }
    if ((v = trn_yaml_get(n, "authorization")) && !trn_yaml_is_null(v)) {
        static const char *const k[] = {"type", "credentials", "credentials_file", NULL};
        if ((rc = trn_yaml_check_map(v, "authorization", k, L->d)) < 0) return rc;
        const trn_yaml_node_t *t = trn_yaml_get(v, "type"), *c = trn_yaml_get(v, "credentials");
        if (t && (rc = read_str(L, t, &h->auth_type)) < 0) return rc;
        if (c && (rc = read_str(L, c, &h->bearer_token)) < 0) return rc;
    }
    if ((v = trn_yaml_get(n, "bearer_token")) && (rc = read_str(L, v, &h->bearer_token)) < 0)
        return rc;
    if ((v = trn_yaml_get(n, "proxy_url")) && (rc = read_str(L, v, &h->proxy_url)) < 0) return rc;
    if ((v = trn_yaml_get(n, "follow_redirects")) &&
        (rc = trn_yaml_bool(v, &h->follow_redirects, L->d)) < 0)
        return rc;
    if ((v = trn_yaml_get(n, "tls_config")) && v->kind == TRN_YAML_MAP) {
        const trn_yaml_node_t *s = trn_yaml_get(v, "insecure_skip_verify");
        if (s && (rc = trn_yaml_bool(s, &h->insecure_skip_verify, L->d)) < 0) return rc;
    }
    if (h->bearer_token && h->basic_user)
        return trn_yaml_error(L->d, n,
                              "at most one of basic_auth, bearer_token & authorization "
                              "must be configured");
    return 0;
}

/* ---------------------------------------------------------------- integrations */

typedef enum { OPT_STR, OPT_BOOL, OPT_INT, OPT_MAP, OPT_SEQ, OPT_HTTP, OPT_FIELDS } opt_type_t;

typedef struct opt_desc {
    const char *key;
    opt_type_t type;
    const char *dflt; /* NULL: unset */
} opt_desc_t;

typedef struct kind_desc {
    const char *yaml_key; /* "webhook_configs" */
    const char *name;
    bool send_resolved;
    const opt_desc_t *opts;
} kind_desc_t;

static const opt_desc_t webhook_opts[] = {
    {"url", OPT_STR, NULL},          {"url_file", OPT_STR, NULL}, {"max_alerts", OPT_INT, "0"},
    {"http_config", OPT_HTTP, NULL}, {NULL, OPT_STR, NULL},
};

static const opt_desc_t slack_opts[] = {
    {"api_url", OPT_STR, NULL},
    {"api_url_file", OPT_STR, NULL},
    {"channel", OPT_STR, NULL},
    {"username", OPT_STR, "{{ template \"slack.default.username\" . }}"},
    {"color", OPT_STR, "{{ if eq .Status \"firing\" }}danger{{ else }}good{{ end }}"},
    {"title", OPT_STR, "{{ template \"slack.default.title\" . }}"},
    {"title_link", OPT_STR, "{{ template \"slack.default.titlelink\" . }}"},
    {"pretext", OPT_STR, "{{ template \"slack.default.pretext\" . }}"},
    {"text", OPT_STR, "{{ template \"slack.default.text\" . }}"},
    {"fields", OPT_FIELDS, NULL},
    {"short_fields", OPT_BOOL, "false"},
    {"footer", OPT_STR, "{{ template \"slack.default.footer\" . }}"},
    {"fallback", OPT_STR, "{{ template \"slack.default.fallback\" . }}"},
    {"callback_id", OPT_STR, "{{ template \"slack.default.callbackid\" . }}"},
    {"icon_emoji", OPT_STR, "{{ template \"slack.default.iconemoji\" . }}"},
    {"icon_url", OPT_STR, "{{ template \"slack.default.iconurl\" . }}"},
    {"image_url", OPT_STR, NULL},
    {"thumb_url", OPT_STR, NULL},
    {"link_names", OPT_BOOL, "false"},
    {"mrkdwn_in", OPT_SEQ, NULL},
    {"actions", OPT_SEQ, NULL},
    {"http_config", OPT_HTTP, NULL},
    {NULL, OPT_STR, NULL},
};

static const opt_desc_t pagerduty_opts[] = {
    {"service_key", OPT_STR, NULL},
    {"service_key_file", OPT_STR, NULL},
    {"routing_key", OPT_STR, NULL},
    {"routing_key_file", OPT_STR, NULL},
    {"url", OPT_STR, NULL},
    {"client", OPT_STR, "{{ template \"pagerduty.default.client\" . }}"},
    {"client_url", OPT_STR, "{{ template \"pagerduty.default.clientURL\" . }}"},
    {"description", OPT_STR, "{{ template \"pagerduty.default.description\" .}}"},
    {"details", OPT_MAP, NULL},
    {"images", OPT_SEQ, NULL},
    {"links", OPT_SEQ, NULL},
    {"source", OPT_STR, NULL},
    {"severity", OPT_STR, NULL},
    {"class", OPT_STR, NULL},
    {"component", OPT_STR, NULL},
    {"group", OPT_STR, NULL},
    {"http_config", OPT_HTTP, NULL},
    {NULL, OPT_STR, NULL},
};

static const opt_desc_t email_opts[] = {
    {"to", OPT_STR, NULL},
    {"from", OPT_STR, NULL},
    {"hello", OPT_STR, NULL},
    {"smarthost", OPT_STR, NULL},
    {"auth_username", OPT_STR, NULL},
    {"auth_password", OPT_STR, NULL},
    {"auth_password_file", OPT_STR, NULL},
    {"auth_secret", OPT_STR, NULL},
    {"auth_identity", OPT_STR, NULL},
    {"headers", OPT_MAP, NULL},
    {"html", OPT_STR, "{{ template \"email.default.html\" . }}"},
    {"text", OPT_STR, NULL},
    {"require_tls", OPT_BOOL, NULL},
    {"tls_config", OPT_MAP, NULL},
    {NULL, OPT_STR, NULL},
};

static const kind_desc_t kinds[TRN_AM_N_KINDS] = {
    [TRN_AM_WEBHOOK] = {"webhook_configs", "webhook", true, webhook_opts},
    [TRN_AM_SLACK] = {"slack_configs", "slack", false, slack_opts},
    [TRN_AM_PAGERDUTY] = {"pagerduty_configs", "pagerduty", true, pagerduty_opts},
    [TRN_AM_EMAIL] = {"email_configs", "email", false, email_opts},
};

/* Receiver kinds Alertmanager knows and trine accepts without delivering. */
static const char *const other_kinds[] = {"opsgenie_configs",  "wechat_configs", "pushover_configs",
                                          "victorops_configs", "sns_configs",    "telegram_configs",
                                          "discord_configs",   "webex_configs",  NULL};

const char *trn_am_kind_name(trn_am_kind_t k)
{
    return k < TRN_AM_N_KINDS ? kinds[k].name : "unknown";
}

const char *trn_am_integration_opt(const trn_am_integration_t *in, const char *key)
{
    for (size_t i = 0; i < in->n_opts; i++)
        if (!strcmp(in->opts[i].key, key)) return in->opts[i].value;
    return "";
}

static int read_kv_map(loader_t *L, const trn_yaml_node_t *n, trn_am_kv_t **out, size_t *n_out)
{
    if (trn_yaml_is_null(n)) return 0;
    if (n->kind != TRN_YAML_MAP) return trn_yaml_error(L->d, n, "expected a mapping");
    trn_am_kv_t *kv = aalloc(L, n->n, sizeof *kv);
    for (size_t i = 0; i < n->n; i++) {
        int rc = read_str(L, n->pairs[i].key, &kv[i].key);
        if (rc == 0) rc = read_str(L, n->pairs[i].value, &kv[i].value);
        if (rc < 0) return rc;
    }
    *out = kv;
    *n_out = n->n;
    return 0;
}

static void set_opt(loader_t *L, trn_am_integration_t *in, size_t cap, const char *k, const char *v)
{
    for (size_t i = 0; i < in->n_opts; i++)
        if (!strcmp(in->opts[i].key, k)) {
            in->opts[i].value = v;
            return;
        }
    TRN_ASSERT(in->n_opts < cap);
    in->opts[in->n_opts].key = k;
    in->opts[in->n_opts].value = v;
    in->n_opts++;
    (void)L;
}

/* Reads a small secret file (URL, key, password), whitespace-trimmed. */
static int read_secret_file(loader_t *L, const char *path, const char **out)
{
    FILE *f = fopen(path, "rb");
    if (!f) return TRN_EIO;
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = buf;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    size_t len = strlen(p);
    while (len &&
           (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\n' || p[len - 1] == '\r'))
        len--;
    *out = trn_arena_strndup(L->a, p, len);
    return 0;
}

static int read_integration(loader_t *L, trn_am_kind_t kind, int index, const trn_yaml_node_t *n,
                            trn_am_integration_t *in)
{
    const kind_desc_t *kd = &kinds[kind];
    const char *allowed[48];
    size_t na = 0, n_desc = 0;
    allowed[na++] = "send_resolved";
    for (const opt_desc_t *o = kd->opts; o->key; o++)
        allowed[na++] = o->key, n_desc++;
    allowed[na] = NULL;
    char what[64];
    snprintf(what, sizeof what, "%s", kd->yaml_key);
    int rc = trn_yaml_check_map(n, what, allowed, L->d);
    if (rc < 0) return rc;
    in->kind = kind;
    in->index = index;
    in->line = n->line;
    in->send_resolved = kd->send_resolved;
    in->opts = aalloc(L, n_desc, sizeof *in->opts);
    in->http = L->c->global.http;
    for (const opt_desc_t *o = kd->opts; o->key; o++)
        if (o->dflt) set_opt(L, in, n_desc, o->key, o->dflt);
    const trn_yaml_node_t *v;
    if ((v = trn_yaml_get(n, "send_resolved")) &&
        (rc = trn_yaml_bool(v, &in->send_resolved, L->d)) < 0)
        return rc;
    for (const opt_desc_t *o = kd->opts; o->key; o++) {
        v = trn_yaml_get(n, o->key);
        if (!v || trn_yaml_is_null(v)) continue;
        switch (o->type) {
        case OPT_STR: {
            const char *s;
            if ((rc = read_str(L, v, &s)) < 0) return rc;
            set_opt(L, in, n_desc, o->key, s);
            break;
        }
        case OPT_BOOL: {
            bool b;
            if ((rc = trn_yaml_bool(v, &b, L->d)) < 0) return rc;
            set_opt(L, in, n_desc, o->key, b ? "true" : "false");
            break;
        }
        case OPT_INT: {
            int64_t x;
            if ((rc = trn_yaml_int(v, &x, L->d)) < 0) return rc;
            if (x < 0) return trn_yaml_error(L->d, v, "%s must be >= 0", o->key);
            set_opt(L, in, n_desc, o->key, trn_arena_printf(L->a, "%lld", (long long)x));
            break;
        }
        case OPT_MAP:
            if (!strcmp(o->key, "tls_config")) break;
            if ((rc = read_kv_map(L, v, &in->details, &in->n_details)) < 0) return rc;
            break;
        case OPT_SEQ:
            if (v->kind != TRN_YAML_SEQ)
                return trn_yaml_error(L->d, v, "%s must be a list", o->key);
            break;
        case OPT_HTTP:
            if ((rc = read_http(L, v, &in->http)) < 0) return rc;
            break;
        case OPT_FIELDS: {
            if (v->kind != TRN_YAML_SEQ) return trn_yaml_error(L->d, v, "fields must be a list");
            in->fields = aalloc(L, v->n, sizeof *in->fields);
            in->fields_short = aalloc(L, v->n, sizeof *in->fields_short);
            static const char *const fk[] = {"title", "value", "short", NULL};
            for (size_t i = 0; i < v->n; i++) {
                const trn_yaml_node_t *f = v->items[i], *x;
                if ((rc = trn_yaml_check_map(f, "slack field", fk, L->d)) < 0) return rc;
                x = trn_yaml_get(f, "title");
                if (!x || trn_yaml_is_null(x))
                    return trn_yaml_error(L->d, f, "missing title in Slack field configuration");
                if ((rc = read_str(L, x, &in->fields[i].key)) < 0) return rc;
                x = trn_yaml_get(f, "value");
                if (!x || trn_yaml_is_null(x))
                    return trn_yaml_error(L->d, f, "missing value in Slack field configuration");
                if ((rc = read_str(L, x, &in->fields[i].value)) < 0) return rc;
                x = trn_yaml_get(f, "short");
                if (x && (rc = trn_yaml_bool(x, &in->fields_short[i], L->d)) < 0) return rc;
            }
            in->n_fields = v->n;
            break;
        }
        }
    }
    /* Per-kind checks and global fallbacks, in Alertmanager's words. */
    const trn_am_global_t *g = &L->c->global;
    switch (kind) {
    case TRN_AM_WEBHOOK:
        if (!*trn_am_integration_opt(in, "url") && !*trn_am_integration_opt(in, "url_file"))
            return trn_yaml_error(L->d, n, "one of url or url_file must be configured");
        if (*trn_am_integration_opt(in, "url") && *trn_am_integration_opt(in, "url_file"))
            return trn_yaml_error(L->d, n, "at most one of url & url_file must be configured");
        break;
    case TRN_AM_SLACK:
        if (!*trn_am_integration_opt(in, "api_url") &&
            !*trn_am_integration_opt(in, "api_url_file")) {
            if (!g->slack_api_url)
                return trn_yaml_error(L->d, n,
                                      "no global Slack API URL set either inline or in a file");
            set_opt(L, in, n_desc, "api_url", g->slack_api_url);
        }
        break;
    case TRN_AM_PAGERDUTY:
        if (!*trn_am_integration_opt(in, "routing_key") &&
            !*trn_am_integration_opt(in, "service_key") &&
            !*trn_am_integration_opt(in, "routing_key_file") &&
            !*trn_am_integration_opt(in, "service_key_file"))
            return trn_yaml_error(L->d, n, "missing service or routing key in PagerDuty config");
        if (!*trn_am_integration_opt(in, "url")) set_opt(L, in, n_desc, "url", g->pagerduty_url);
        if (!in->details) {
            in->n_details = 4;
            in->details = aalloc(L, 4, sizeof *in->details);
            in->details[0] = (trn_am_kv_t){
                "firing", "{{ template \"pagerduty.default.instances\" .Alerts.Firing }}"};
            in->details[1] = (trn_am_kv_t){
                "resolved", "{{ template \"pagerduty.default.instances\" .Alerts.Resolved }}"};
            in->details[2] = (trn_am_kv_t){"num_firing", "{{ .Alerts.Firing | len }}"};
            in->details[3] = (trn_am_kv_t){"num_resolved", "{{ .Alerts.Resolved | len }}"};
        }
        break;
    case TRN_AM_EMAIL:
        if (!*trn_am_integration_opt(in, "to"))
            return trn_yaml_error(L->d, n, "missing to address in email config");
        if (!*trn_am_integration_opt(in, "smarthost")) {
            if (!g->smtp_smarthost) return trn_yaml_error(L->d, n, "no global SMTP smarthost set");
            set_opt(L, in, n_desc, "smarthost", g->smtp_smarthost);
        }
        if (!*trn_am_integration_opt(in, "from")) {
            if (!g->smtp_from) return trn_yaml_error(L->d, n, "no global SMTP from set");
            set_opt(L, in, n_desc, "from", g->smtp_from);
        }
        if (!*trn_am_integration_opt(in, "hello")) set_opt(L, in, n_desc, "hello", g->smtp_hello);
        if (!*trn_am_integration_opt(in, "auth_username") && g->smtp_auth_username)
            set_opt(L, in, n_desc, "auth_username", g->smtp_auth_username);
        if (!*trn_am_integration_opt(in, "auth_password") && g->smtp_auth_password)
            set_opt(L, in, n_desc, "auth_password", g->smtp_auth_password);
        if (!*trn_am_integration_opt(in, "auth_identity") && g->smtp_auth_identity)
            set_opt(L, in, n_desc, "auth_identity", g->smtp_auth_identity);
        if (!*trn_am_integration_opt(in, "require_tls"))
            set_opt(L, in, n_desc, "require_tls", g->smtp_require_tls ? "true" : "false");
        break;
    default:
        break;
    }
    /* *_file options: the secret is read now (Alertmanager reads it per
     * notification; a changed file takes effect here on reload). */
    static const char *const file_opts[][2] = {{"url_file", "url"},
                                               {"api_url_file", "api_url"},
                                               {"routing_key_file", "routing_key"},
                                               {"service_key_file", "service_key"},
                                               {"auth_password_file", "auth_password"}};
    for (size_t i = 0; i < sizeof file_opts / sizeof file_opts[0]; i++) {
        const char *path = trn_am_integration_opt(in, file_opts[i][0]);
        if (!*path || *trn_am_integration_opt(in, file_opts[i][1])) continue;
        const char *text;
        if ((rc = read_secret_file(L, path, &text)) < 0)
            return trn_yaml_error(L->d, trn_yaml_get(n, file_opts[i][0]), "%s: cannot read %s",
                                  file_opts[i][0], path);
        set_opt(L, in, n_desc, file_opts[i][1], text);
    }
    return 0;
}

static int read_receiver(loader_t *L, const trn_yaml_node_t *n, trn_am_receiver_t *r)
{
    const char *allowed[TRN_AM_N_KINDS + 12];
    size_t na = 0;
    allowed[na++] = "name";
    for (int k = 0; k < TRN_AM_N_KINDS; k++)
        allowed[na++] = kinds[k].yaml_key;
    for (const char *const *o = other_kinds; *o; o++)
        allowed[na++] = *o;
    allowed[na] = NULL;
    int rc = trn_yaml_check_map(n, "receiver", allowed, L->d);
    if (rc < 0) return rc;
    const trn_yaml_node_t *nm = trn_yaml_get(n, "name");
    if (!nm || trn_yaml_is_null(nm) || (nm->kind == TRN_YAML_SCALAR && nm->len == 0))
        return trn_yaml_error(L->d, n, "missing name in receiver");
    if ((rc = read_str(L, nm, &r->name)) < 0) return rc;
    size_t total = 0;
    for (int k = 0; k < TRN_AM_N_KINDS; k++) {
        const trn_yaml_node_t *v = trn_yaml_get(n, kinds[k].yaml_key);
        if (!v || trn_yaml_is_null(v)) continue;
        if (v->kind != TRN_YAML_SEQ)
            return trn_yaml_error(L->d, v, "%s must be a list", kinds[k].yaml_key);
        total += v->n;
    }
    r->integrations = aalloc(L, total, sizeof *r->integrations);
    for (int k = 0; k < TRN_AM_N_KINDS; k++) {
        const trn_yaml_node_t *v = trn_yaml_get(n, kinds[k].yaml_key);
        if (!v || trn_yaml_is_null(v)) continue;
        for (size_t i = 0; i < v->n; i++) {
            rc = read_integration(L, (trn_am_kind_t)k, (int)i, v->items[i],
                                  &r->integrations[r->n_integrations]);
            if (rc < 0) return rc;
            r->n_integrations++;
        }
    }
    for (const char *const *o = other_kinds; *o; o++) {
        const trn_yaml_node_t *v = trn_yaml_get(n, *o);
        if (v && v->kind == TRN_YAML_SEQ) r->n_unsupported += v->n;
    }
    return 0;
}

/* ---------------------------------------------------------------- routes */

static const char *const route_keys[] = {"receiver",
                                         "group_by",
                                         "match",
                                         "match_re",
                                         "matchers",
                                         "mute_time_intervals",
                                         "active_time_intervals",
                                         "continue",
                                         "routes",
                                         "group_wait",
                                         "group_interval",
                                         "repeat_interval",
                                         NULL};

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int read_route(loader_t *L, const trn_yaml_node_t *n, trn_am_route_t *parent,
                      trn_am_route_t **out)
{
    int rc = trn_yaml_check_map(n, "route", route_keys, L->d);
    if (rc < 0) return rc;
    trn_am_route_t *r = aalloc(L, 1, sizeof *r);
    r->parent = parent;
    r->id = L->next_id++;
    if (parent) {
        r->receiver = parent->receiver;
        r->group_by = parent->group_by;
        r->n_group_by = parent->n_group_by;
        r->group_by_all = parent->group_by_all;
        r->group_wait_ms = parent->group_wait_ms;
        r->group_interval_ms = parent->group_interval_ms;
        r->repeat_interval_ms = parent->repeat_interval_ms;
    } else {
        r->group_wait_ms = TRN_AM_GROUP_WAIT_MS;
        r->group_interval_ms = TRN_AM_GROUP_INTERVAL_MS;
        r->repeat_interval_ms = TRN_AM_REPEAT_INTERVAL_MS;
    }
    *out = r; /* linked before children so a failure still frees the matchers */
    const trn_yaml_node_t *v;
    if ((v = trn_yaml_get(n, "receiver")) && !trn_yaml_is_null(v)) {
        const char *s;
        if ((rc = read_str(L, v, &s)) < 0) return rc;
        if (*s) r->receiver = s;
    }
    if ((v = trn_yaml_get(n, "group_by")) && !trn_yaml_is_null(v)) {
        const char **gb;
        size_t ngb;
        if ((rc = read_str_seq(L, v, &gb, &ngb)) < 0) return rc;
        size_t k = 0;
        bool all = false;
        for (size_t i = 0; i < ngb; i++) {
            if (!strcmp(gb[i], "...")) {
                all = true;
                continue;
            }
            if (!trn_label_name_valid(trn_str_c(gb[i])))
                return trn_yaml_error(L->d, v->items[i],
                                      "invalid label name \"%s\" in group_by list", gb[i]);
            for (size_t j = 0; j < k; j++)
                if (!strcmp(gb[j], gb[i]))
                    return trn_yaml_error(L->d, v->items[i], "duplicated label \"%s\" in group_by",
                                          gb[i]);
            gb[k++] = gb[i];
        }
        if (all && k > 0)
            return trn_yaml_error(L->d, v,
                                  "cannot have wildcard group_by (`...`) and other other "
                                  "labels at the same time");
        qsort(gb, k, sizeof *gb, cmp_cstr);
        r->group_by = gb;
        r->n_group_by = k;
        r->group_by_all = all;
    }
    int64_t ms;
    if ((v = trn_yaml_get(n, "group_wait")) && !trn_yaml_is_null(v)) {
        if ((rc = trn_yaml_duration(v, &ms, L->d)) < 0) return rc;
        r->group_wait_ms = ms;
    }
    if ((v = trn_yaml_get(n, "group_interval")) && !trn_yaml_is_null(v)) {
        if ((rc = trn_yaml_duration(v, &ms, L->d)) < 0) return rc;
        if (ms == 0) return trn_yaml_error(L->d, v, "group_interval cannot be zero");
        r->group_interval_ms = ms;
    }
    if ((v = trn_yaml_get(n, "repeat_interval")) && !trn_yaml_is_null(v)) {
        if ((rc = trn_yaml_duration(v, &ms, L->d)) < 0) return rc;
        if (ms == 0) return trn_yaml_error(L->d, v, "repeat_interval cannot be zero");
        r->repeat_interval_ms = ms;
    }
    if ((v = trn_yaml_get(n, "continue")) && !trn_yaml_is_null(v) &&
        (rc = trn_yaml_bool(v, &r->is_continue, L->d)) < 0)
        return rc;
    if ((rc = read_match_map(L, trn_yaml_get(n, "match"), TRN_MATCH_EQ, &r->matchers)) < 0)
        return rc;
    if ((rc = read_match_map(L, trn_yaml_get(n, "match_re"), TRN_MATCH_RE, &r->matchers)) < 0)
        return rc;
    if ((rc = read_matchers(L, trn_yaml_get(n, "matchers"), &r->matchers)) < 0) return rc;
    trn_am_matchers_sort(&r->matchers);
    if ((v = trn_yaml_get(n, "mute_time_intervals")) &&
        (rc = read_str_seq(L, v, &r->mute_intervals, &r->n_mute)) < 0)
        return rc;
    if ((v = trn_yaml_get(n, "active_time_intervals")) &&
        (rc = read_str_seq(L, v, &r->active_intervals, &r->n_active)) < 0)
        return rc;
    trn_buf_t key;
    trn_buf_init(&key);
    if (parent) {
        trn_buf_puts(&key, parent->key);
        trn_buf_putc(&key, '/');
    }
    trn_am_matchers_format(&r->matchers, &key);
    r->key = trn_arena_strndup(L->a, key.data, key.len);
    trn_buf_fini(&key);
    if ((v = trn_yaml_get(n, "routes")) && !trn_yaml_is_null(v)) {
        if (v->kind != TRN_YAML_SEQ) return trn_yaml_error(L->d, v, "routes must be a list");
        r->routes = aalloc(L, v->n, sizeof *r->routes);
        for (size_t i = 0; i < v->n; i++) {
            rc = read_route(L, v->items[i], r, &r->routes[i]);
            r->n_routes = i + 1;
            if (rc < 0) return rc;
        }
    }
    return 0;
}

static void free_route(trn_am_route_t *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n_routes; i++)
        free_route(r->routes[i]);
    trn_am_matchers_fini(&r->matchers);
}

static const trn_yaml_node_t *route_node_by_id(const trn_yaml_node_t *n, size_t *id, size_t want)
{
    if (*id == want) return n;
    (*id)++;
    const trn_yaml_node_t *rs = trn_yaml_get(n, "routes");
    if (!rs || rs->kind != TRN_YAML_SEQ) return NULL;
    for (size_t i = 0; i < rs->n; i++) {
        const trn_yaml_node_t *f = route_node_by_id(rs->items[i], id, want);
        if (f) return f;
    }
    return NULL;
}

static int check_route_refs(loader_t *L, const trn_yaml_node_t *root, const trn_am_route_t *r)
{
    for (size_t i = 0; i < r->n_routes; i++) {
        int rc = check_route_refs(L, root, r->routes[i]);
        if (rc < 0) return rc;
    }
    size_t id = 0;
    const trn_yaml_node_t *n = route_node_by_id(root, &id, r->id);
    const trn_yaml_node_t *rv = n ? trn_yaml_get(n, "receiver") : NULL;
    if (rv && rv->kind == TRN_YAML_SCALAR && rv->len && !trn_am_config_receiver(L->c, rv->str))
        return trn_yaml_error(L->d, rv, "undefined receiver \"%s\" used in route", rv->str);
    for (size_t i = 0; i < r->n_active + r->n_mute; i++) {
        const char *ti =
            i < r->n_active ? r->active_intervals[i] : r->mute_intervals[i - r->n_active];
        if (!trn_am_config_time_interval(L->c, ti))
            return trn_yaml_error(L->d, n, "undefined time interval \"%s\" used in route", ti);
    }
    return 0;
}

/* ---------------------------------------------------------------- inhibit rules */

static const char *const inhibit_keys[] = {
    "source_match",    "source_match_re", "source_matchers", "target_match",
    "target_match_re", "target_matchers", "equal",           NULL};

static int read_inhibit(loader_t *L, const trn_yaml_node_t *n, trn_am_inhibit_rule_t *ir)
{
    int rc = trn_yaml_check_map(n, "inhibit rule", inhibit_keys, L->d);
    if (rc < 0) return rc;
    if ((rc = read_match_map(L, trn_yaml_get(n, "source_match"), TRN_MATCH_EQ, &ir->source)) < 0 ||
        (rc = read_match_map(L, trn_yaml_get(n, "source_match_re"), TRN_MATCH_RE, &ir->source)) <
            0 ||
        (rc = read_matchers(L, trn_yaml_get(n, "source_matchers"), &ir->source)) < 0 ||
        (rc = read_match_map(L, trn_yaml_get(n, "target_match"), TRN_MATCH_EQ, &ir->target)) < 0 ||
        (rc = read_match_map(L, trn_yaml_get(n, "target_match_re"), TRN_MATCH_RE, &ir->target)) <
            0 ||
        (rc = read_matchers(L, trn_yaml_get(n, "target_matchers"), &ir->target)) < 0)
        return rc;
    const trn_yaml_node_t *v = trn_yaml_get(n, "equal");
    if (v && (rc = read_str_seq(L, v, &ir->equal, &ir->n_equal)) < 0) return rc;
    for (size_t i = 0; i < ir->n_equal; i++)
        if (!trn_label_name_valid(trn_str_c(ir->equal[i])))
            return trn_yaml_error(L->d, v->items[i], "invalid label name \"%s\" in equal list",
                                  ir->equal[i]);
    return 0;
}

/* ---------------------------------------------------------------- time intervals */

static const char *const weekday_names[] = {"sunday",   "monday", "tuesday",  "wednesday",
                                            "thursday", "friday", "saturday", NULL};
static const char *const month_names[] = {"january",  "february", "march",  "april",     "may",
                                          "june",     "july",     "august", "september", "october",
                                          "november", "december", NULL};

/* One end of a range: a name from names (index + base) or an integer. */
static int range_end(const char *s, size_t len, const char *const *names, int base, int *out)
{
    char buf[32];
    if (len == 0 || len >= sizeof buf) return TRN_EINVAL;
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)tolower((unsigned char)s[i]);
    buf[len] = 0;
    if (names)
        for (int i = 0; names[i]; i++)
            if (!strcmp(names[i], buf)) {
                *out = i + base;
                return 0;
            }
    char *end;
    errno = 0;
    long v = strtol(buf, &end, 10);
    if (*end || errno || v < -100000 || v > 100000) return TRN_EINVAL;
    *out = (int)v;
    return 0;
}

static int read_ranges(loader_t *L, const trn_yaml_node_t *n, const char *what,
                       const char *const *names, int base, int lo, int hi, bool allow_neg,
                       int (**out)[2], size_t *n_out)
{
    if (trn_yaml_is_null(n)) return 0;
    if (n->kind != TRN_YAML_SEQ) return trn_yaml_error(L->d, n, "%s must be a list", what);
    int(*v)[2] = aalloc(L, n->n, sizeof *v);
    for (size_t i = 0; i < n->n; i++) {
        const trn_yaml_node_t *it = n->items[i];
        if (it->kind != TRN_YAML_SCALAR) return trn_yaml_error(L->d, it, "invalid %s", what);
        const char *colon = strchr(it->str, ':');
        int a, b;
        if (range_end(it->str, colon ? (size_t)(colon - it->str) : it->len, names, base, &a) < 0 ||
            (colon && range_end(colon + 1, strlen(colon + 1), names, base, &b) < 0))
            return trn_yaml_error(L->d, it, "invalid %s \"%s\"", what, it->str);
        if (!colon) b = a;
        bool ok_a = (a >= lo && a <= hi) || (allow_neg && a <= -lo && a >= -hi);
        bool ok_b = (b >= lo && b <= hi) || (allow_neg && b <= -lo && b >= -hi);
        if (!ok_a || !ok_b)
            return trn_yaml_error(L->d, it, "%s out of range: \"%s\"", what, it->str);
        if ((a >= 0) == (b >= 0) && a > b)
            return trn_yaml_error(L->d, it, "start day cannot be before end day: \"%s\"", it->str);
        v[i][0] = a;
        v[i][1] = b;
    }
    *out = v;
    *n_out = n->n;
    return 0;
}

static int parse_hhmm(const char *s, int *out)
{
    int h, m;
    char tail;
    if (sscanf(s, "%d:%d%c", &h, &m, &tail) != 2 || strlen(s) != 5) return TRN_EINVAL;
    if (h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0)) return TRN_EINVAL;
    *out = h * 60 + m;
    return 0;
}

static int read_time_interval(loader_t *L, const trn_yaml_node_t *n, trn_am_time_interval_t *ti)
{
    static const char *const keys[] = {"name", "time_intervals", NULL};
    int rc = trn_yaml_check_map(n, "time interval", keys, L->d);
    if (rc < 0) return rc;
    const trn_yaml_node_t *nm = trn_yaml_get(n, "name"), *specs = trn_yaml_get(n, "time_intervals");
    if (!nm || trn_yaml_is_null(nm))
        return trn_yaml_error(L->d, n, "missing name in time interval");
    if ((rc = read_str(L, nm, &ti->name)) < 0) return rc;
    if (!specs || trn_yaml_is_null(specs)) return 0;
    if (specs->kind != TRN_YAML_SEQ)
        return trn_yaml_error(L->d, specs, "time_intervals must be a list");
    ti->specs = aalloc(L, specs->n, sizeof *ti->specs);
    ti->n_specs = specs->n;
    static const char *const sk[] = {"times",    "weekdays", "days_of_month", "months", "years",
                                     "location", NULL};
    for (size_t i = 0; i < specs->n; i++) {
        const trn_yaml_node_t *s = specs->items[i], *v;
        trn_am_time_spec_t *sp = &ti->specs[i];
        if ((rc = trn_yaml_check_map(s, "time interval", sk, L->d)) < 0) return rc;
        if ((v = trn_yaml_get(s, "times")) && !trn_yaml_is_null(v)) {
            if (v->kind != TRN_YAML_SEQ) return trn_yaml_error(L->d, v, "times must be a list");
            sp->times = aalloc(L, v->n, sizeof *sp->times);
            sp->n_times = v->n;
            static const char *const tk[] = {"start_time", "end_time", NULL};
            for (size_t j = 0; j < v->n; j++) {
                const trn_yaml_node_t *t = v->items[j];
                if ((rc = trn_yaml_check_map(t, "times", tk, L->d)) < 0) return rc;
                const trn_yaml_node_t *st = trn_yaml_get(t, "start_time"),
                                      *en = trn_yaml_get(t, "end_time");
                if (!st || !en || st->kind != TRN_YAML_SCALAR || en->kind != TRN_YAML_SCALAR)
                    return trn_yaml_error(L->d, t, "both start and end times must be provided");
                if (parse_hhmm(st->str, &sp->times[j].start) < 0)
                    return trn_yaml_error(L->d, st, "couldn't parse timestamp %s, invalid format",
                                          st->str);
                if (parse_hhmm(en->str, &sp->times[j].end) < 0)
                    return trn_yaml_error(L->d, en, "couldn't parse timestamp %s, invalid format",
                                          en->str);
                if (sp->times[j].start >= sp->times[j].end)
                    return trn_yaml_error(L->d, t,
                                          "start time cannot be equal or greater than end time");
            }
        }
        if ((rc = read_ranges(L, trn_yaml_get(s, "weekdays"), "weekday", weekday_names, 0, 0, 6,
                              false, &sp->weekdays, &sp->n_weekdays)) < 0 ||
            (rc = read_ranges(L, trn_yaml_get(s, "days_of_month"), "day of month", NULL, 0, 1, 31,
                              true, &sp->days_of_month, &sp->n_days_of_month)) < 0 ||
            (rc = read_ranges(L, trn_yaml_get(s, "months"), "month", month_names, 1, 1, 12, false,
                              &sp->months, &sp->n_months)) < 0 ||
            (rc = read_ranges(L, trn_yaml_get(s, "years"), "year", NULL, 0, 1, 9999, false,
                              &sp->years, &sp->n_years)) < 0)
            return rc;
        sp->location = "UTC";
        if ((v = trn_yaml_get(s, "location")) && !trn_yaml_is_null(v)) {
            if ((rc = read_str(L, v, &sp->location)) < 0) return rc;
            if (strcmp(sp->location, "UTC") && strcmp(sp->location, "Local"))
                return trn_yaml_error(L->d, v,
                                      "unsupported location \"%s\" (trine supports UTC and Local)",
                                      sp->location);
        }
    }
    return 0;
}

static bool in_ranges(int (*r)[2], size_t n, int v, int neg_base)
{
    if (n == 0) return true;
    for (size_t i = 0; i < n; i++) {
        int a = r[i][0], b = r[i][1];
        if (a < 0) a = neg_base + a + 1;
        if (b < 0) b = neg_base + b + 1;
        if (v >= a && v <= b) return true;
    }
    return false;
}

static int days_in_month(int year, int mon /* 1..12 */)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mon == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0)) return 29;
    return d[mon - 1];
}

bool trn_am_time_interval_contains(const trn_am_time_interval_t *ti, int64_t t_ms)
{
    time_t t = (time_t)(t_ms / 1000);
    for (size_t i = 0; i < ti->n_specs; i++) {
        const trn_am_time_spec_t *s = &ti->specs[i];
        struct tm tm;
        if (!strcmp(s->location, "Local"))
            localtime_r(&t, &tm);
        else
            gmtime_r(&t, &tm);
        int year = tm.tm_year + 1900, mon = tm.tm_mon + 1, minute = tm.tm_hour * 60 + tm.tm_min;
        bool ok = s->n_times == 0;
        for (size_t j = 0; j < s->n_times && !ok; j++)
            ok = minute >= s->times[j].start && minute < s->times[j].end;
        if (!ok) continue;
        if (!in_ranges(s->weekdays, s->n_weekdays, tm.tm_wday, 0)) continue;
        if (!in_ranges(s->days_of_month, s->n_days_of_month, tm.tm_mday, days_in_month(year, mon)))
            continue;
        if (!in_ranges(s->months, s->n_months, mon, 0)) continue;
        if (!in_ranges(s->years, s->n_years, year, 0)) continue;
        return true;
    }
    return false;
}

const trn_am_time_interval_t *trn_am_config_time_interval(const trn_am_config_t *c,
                                                          const char *name)
{
    for (size_t i = 0; i < c->n_time_intervals; i++)
        if (!strcmp(c->time_intervals[i].name, name)) return &c->time_intervals[i];
    return NULL;
}

const trn_am_receiver_t *trn_am_config_receiver(const trn_am_config_t *c, const char *name)
{
    for (size_t i = 0; i < c->n_receivers; i++)
        if (!strcmp(c->receivers[i].name, name)) return &c->receivers[i];
    return NULL;
}

/* ---------------------------------------------------------------- global */

static const char *const global_keys[] = {"resolve_timeout",
                                          "http_config",
                                          "smtp_from",
                                          "smtp_hello",
                                          "smtp_smarthost",
                                          "smtp_auth_username",
                                          "smtp_auth_password",
                                          "smtp_auth_password_file",
                                          "smtp_auth_secret",
                                          "smtp_auth_identity",
                                          "smtp_require_tls",
                                          "slack_api_url",
                                          "slack_api_url_file",
                                          "victorops_api_key",
                                          "victorops_api_key_file",
                                          "victorops_api_url",
                                          "pagerduty_url",
                                          "opsgenie_api_key",
                                          "opsgenie_api_key_file",
                                          "opsgenie_api_url",
                                          "wechat_api_url",
                                          "wechat_api_secret",
                                          "wechat_api_corp_id",
                                          "telegram_api_url",
                                          "webex_api_url",
                                          NULL};

static int read_global(loader_t *L, const trn_yaml_node_t *n)
{
    trn_am_global_t *g = &L->c->global;
    g->resolve_timeout_ms = TRN_AM_RESOLVE_TIMEOUT_MS;
    g->smtp_hello = "localhost";
    g->smtp_require_tls = true;
    g->pagerduty_url = "https://events.pagerduty.com/v2/enqueue";
    g->http.follow_redirects = true;
    if (!n || trn_yaml_is_null(n)) return 0;
    int rc = trn_yaml_check_map(n, "global", global_keys, L->d);
    if (rc < 0) return rc;
    const trn_yaml_node_t *v;
    if ((v = trn_yaml_get(n, "resolve_timeout")) &&
        (rc = trn_yaml_duration(v, &g->resolve_timeout_ms, L->d)) < 0)
        return rc;
    if ((v = trn_yaml_get(n, "http_config")) && (rc = read_http(L, v, &g->http)) < 0) return rc;
    if ((v = trn_yaml_get(n, "smtp_require_tls")) &&
        (rc = trn_yaml_bool(v, &g->smtp_require_tls, L->d)) < 0)
        return rc;
    static const struct {
        const char *key;
        size_t off;
    } strs[] = {
        {"smtp_from", offsetof(trn_am_global_t, smtp_from)},
        {"smtp_hello", offsetof(trn_am_global_t, smtp_hello)},
        {"smtp_smarthost", offsetof(trn_am_global_t, smtp_smarthost)},
        {"smtp_auth_username", offsetof(trn_am_global_t, smtp_auth_username)},
        {"smtp_auth_password", offsetof(trn_am_global_t, smtp_auth_password)},
        {"smtp_auth_identity", offsetof(trn_am_global_t, smtp_auth_identity)},
        {"slack_api_url", offsetof(trn_am_global_t, slack_api_url)},
        {"pagerduty_url", offsetof(trn_am_global_t, pagerduty_url)},
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        v = trn_yaml_get(n, strs[i].key);
        if (!v || trn_yaml_is_null(v)) continue;
        if ((rc = read_str(L, v, (const char **)((char *)g + strs[i].off))) < 0) return rc;
    }
    if (trn_yaml_get(n, "slack_api_url") && trn_yaml_get(n, "slack_api_url_file"))
        return trn_yaml_error(
            L->d, n, "at most one of slack_api_url & slack_api_url_file must be configured");
    return 0;
}

/* ---------------------------------------------------------------- wrapper */

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

/* Decodes base64 (standard or URL alphabet, whitespace ignored) into a heap buffer. */
static char *b64_decode(const char *s, size_t len, size_t *out_len)
{
    char *out = trn_xmalloc(len / 4 * 3 + 4);
    size_t k = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '=' || c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
        int v = b64val(c);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[k++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[k] = 0;
    *out_len = k;
    return out;
}

/* If root is a Kubernetes Secret/ConfigMap, returns (heap) the wrapped
 * alertmanager.yaml text in *text; *text stays NULL for a plain config. */
static int unwrap(const trn_yaml_node_t *root, char **text, size_t *len, trn_diag_t *d)
{
    *text = NULL;
    const trn_yaml_node_t *kind = trn_yaml_get(root, "kind");
    if (!kind || kind->kind != TRN_YAML_SCALAR) return 0;
    bool secret = !strcmp(kind->str, "Secret");
    if (!secret && strcmp(kind->str, "ConfigMap"))
        return trn_yaml_error(d, kind,
                              "unsupported kind \"%s\" (expected an Alertmanager config, "
                              "a Secret or a ConfigMap)",
                              kind->str);
    const trn_yaml_node_t *sd = trn_yaml_get(root, "stringData"),
                          *data = trn_yaml_get(root, "data");
    const trn_yaml_node_t *v = NULL;
    bool b64 = false;
    if (sd && sd->kind == TRN_YAML_MAP) v = trn_yaml_get(sd, "alertmanager.yaml");
    if (!v && data && data->kind == TRN_YAML_MAP) {
        v = trn_yaml_get(data, "alertmanager.yaml");
        b64 = secret;
    }
    if (!v || v->kind != TRN_YAML_SCALAR)
        return trn_yaml_error(d, root, "%s has no key \"alertmanager.yaml\" in %s", kind->str,
                              secret ? "stringData or data" : "data");
    if (b64) {
        *text = b64_decode(v->str, v->len, len);
        if (!*text) return trn_yaml_error(d, v, "data.alertmanager.yaml is not valid base64");
    } else {
        *text = trn_xstrndup(v->str, v->len);
        *len = v->len;
    }
    return 0;
}

static const char *const top_keys[] = {
    "global",    "route",          "receivers",           "inhibit_rules",
    "templates", "time_intervals", "mute_time_intervals", NULL};

static int load_tree(loader_t *L, const trn_yaml_node_t *root)
{
    int rc;
    if (!root)
        return trn_diag_set(L->d, TRN_EINVAL, -1, "%s: empty configuration", L->c->source_path);
    if ((rc = trn_yaml_check_map(root, "config", top_keys, L->d)) < 0) return rc;
    if ((rc = read_global(L, trn_yaml_get(root, "global"))) < 0) return rc;
    trn_am_config_t *c = L->c;
    const trn_yaml_node_t *v;
    if ((v = trn_yaml_get(root, "templates")) &&
        (rc = read_str_seq(L, v, &c->templates, &c->n_templates)) < 0)
        return rc;
    size_t n_ti = 0;
    const trn_yaml_node_t *ti1 = trn_yaml_get(root, "mute_time_intervals");
    const trn_yaml_node_t *ti2 = trn_yaml_get(root, "time_intervals");
    if (ti1 && !trn_yaml_is_null(ti1) && ti1->kind != TRN_YAML_SEQ)
        return trn_yaml_error(L->d, ti1, "mute_time_intervals must be a list");
    if (ti2 && !trn_yaml_is_null(ti2) && ti2->kind != TRN_YAML_SEQ)
        return trn_yaml_error(L->d, ti2, "time_intervals must be a list");
    n_ti = (ti1 && ti1->kind == TRN_YAML_SEQ ? ti1->n : 0) +
           (ti2 && ti2->kind == TRN_YAML_SEQ ? ti2->n : 0);
    c->time_intervals = aalloc(L, n_ti, sizeof *c->time_intervals);
    for (int pass = 0; pass < 2; pass++) {
        const trn_yaml_node_t *tis = pass ? ti2 : ti1;
        if (!tis || tis->kind != TRN_YAML_SEQ) continue;
        for (size_t i = 0; i < tis->n; i++) {
            trn_am_time_interval_t *ti = &c->time_intervals[c->n_time_intervals];
            if ((rc = read_time_interval(L, tis->items[i], ti)) < 0) return rc;
            if (trn_am_config_time_interval(c, ti->name))
                return trn_yaml_error(L->d, tis->items[i], "%s interval \"%s\" is not unique",
                                      pass ? "time" : "mute time", ti->name);
            c->n_time_intervals++;
        }
    }
    v = trn_yaml_get(root, "receivers");
    if (v && !trn_yaml_is_null(v)) {
        if (v->kind != TRN_YAML_SEQ) return trn_yaml_error(L->d, v, "receivers must be a list");
        c->receivers = aalloc(L, v->n, sizeof *c->receivers);
        for (size_t i = 0; i < v->n; i++) {
            trn_am_receiver_t *r = &c->receivers[c->n_receivers];
            if ((rc = read_receiver(L, v->items[i], r)) < 0) return rc;
            if (trn_am_config_receiver(c, r->name))
                return trn_yaml_error(L->d, v->items[i],
                                      "notification config name \"%s\" is not unique", r->name);
            for (size_t k = 0; k < r->n_integrations; k++)
                r->integrations[k].tmpl_prefix =
                    trn_arena_printf(L->a, "__trn.r%zu.i%zu.", c->n_receivers, k);
            c->n_receivers++;
        }
    }
    v = trn_yaml_get(root, "inhibit_rules");
    if (v && !trn_yaml_is_null(v)) {
        if (v->kind != TRN_YAML_SEQ) return trn_yaml_error(L->d, v, "inhibit_rules must be a list");
        c->inhibit_rules = aalloc(L, v->n, sizeof *c->inhibit_rules);
        for (size_t i = 0; i < v->n; i++) {
            rc = read_inhibit(L, v->items[i], &c->inhibit_rules[i]);
            c->n_inhibit_rules = i + 1;
            if (rc < 0) return rc;
        }
    }
    const trn_yaml_node_t *rn = trn_yaml_get(root, "route");
    if (!rn || trn_yaml_is_null(rn)) return trn_yaml_error(L->d, root, "no routes provided");
    if ((rc = read_route(L, rn, NULL, &c->route)) < 0) return rc;
    c->n_routes = L->next_id;
    if (!c->route->receiver)
        return trn_yaml_error(L->d, rn, "root route must specify a default receiver");
    if (c->route->matchers.n > 0)
        return trn_yaml_error(L->d, rn, "root route must not have any matchers");
    if (c->route->n_mute)
        return trn_yaml_error(L->d, rn, "root route must not have any mute time intervals");
    if (c->route->n_active)
        return trn_yaml_error(L->d, rn, "root route must not have any active time intervals");
    return check_route_refs(L, rn, c->route);
}

int trn_am_config_parse(const char *name, const char *buf, size_t len, trn_am_config_t **out,
                        trn_diag_t *d)
{
    int rc;
    trn_yaml_doc_t *doc = NULL, *inner = NULL;
    char *text = NULL;
    size_t text_len = 0;
    trn_am_config_t *c = trn_xcalloc(1, sizeof *c);
    c->arena = trn_arena_new(0);
    c->source_path = trn_arena_strndup(c->arena, name, strlen(name));
    loader_t L = {.c = c, .a = c->arena, .d = d};
    if ((rc = trn_yaml_parse(name, buf, len, &doc, d)) < 0) goto fail;
    const trn_yaml_node_t *root = trn_yaml_root(doc);
    if (root && root->kind == TRN_YAML_MAP) {
        if ((rc = unwrap(root, &text, &text_len, d)) < 0) goto fail;
        if (text) {
            char *inner_name = trn_arena_printf(c->arena, "%s (alertmanager.yaml)", name);
            if ((rc = trn_yaml_parse(inner_name, text, text_len, &inner, d)) < 0) goto fail;
            root = trn_yaml_root(inner);
        }
    }
    if (root && root->kind != TRN_YAML_MAP) {
        rc = trn_yaml_error(d, root, "configuration must be a mapping");
        goto fail;
    }
    if ((rc = load_tree(&L, root)) < 0) goto fail;
    if ((rc = trn__am_templates_load(c, d)) < 0) goto fail;
    c->yaml_text = text ? text : trn_xstrndup(buf, len);
    text = NULL;
    trn_yaml_free(inner);
    trn_yaml_free(doc);
    *out = c;
    return 0;
fail:
    free(text);
    trn_yaml_free(inner);
    trn_yaml_free(doc);
    trn_am_config_free(c);
    return rc < 0 ? rc : TRN_EINVAL;
}

int trn_alertmanager_config_load(const char *path, trn_am_config_t **out, trn_diag_t *d)
{
    FILE *f = fopen(path, "rb");
    if (!f) return trn_diag_set(d, TRN_EIO, -1, "%s: %s", path, strerror(errno));
    trn_buf_t b;
    trn_buf_init(&b);
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        trn_buf_append(&b, chunk, got);
    int err = ferror(f) ? errno : 0;
    fclose(f);
    if (err) {
        trn_buf_fini(&b);
        return trn_diag_set(d, TRN_EIO, -1, "%s: %s", path, strerror(err));
    }
    int rc = trn_am_config_parse(path, b.data ? b.data : "", b.len, out, d);
    trn_buf_fini(&b);
    return rc;
}

void trn_am_config_free(trn_am_config_t *c)
{
    if (!c) return;
    free_route(c->route);
    for (size_t i = 0; i < c->n_inhibit_rules; i++) {
        trn_am_matchers_fini(&c->inhibit_rules[i].source);
        trn_am_matchers_fini(&c->inhibit_rules[i].target);
    }
    free(c->yaml_text);
    trn_arena_free(c->arena);
    free(c);
}
