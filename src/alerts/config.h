/* SPDX-License-Identifier: Apache-2.0 */
/* The alert manager's configuration in Alertmanager's own format (global,
 * route, receivers, inhibit_rules, templates, time_intervals), read from a
 * plain file or from the Kubernetes Secret / ConfigMap that wraps it under
 * the key `alertmanager.yaml` (stringData, or base64 data). The loaded
 * config is immutable and may be shared by threads for reading. */
#ifndef TRN_ALERTS_CONFIG_H
#define TRN_ALERTS_CONFIG_H

#include "alerts/matchers.h"
#include "core/arena.h"
#include "core/diag.h"

#include <stdbool.h>
#include <stdint.h>

/* Built-in default timers of the root route (Alertmanager's). */
#define TRN_AM_GROUP_WAIT_MS 30000
#define TRN_AM_GROUP_INTERVAL_MS 300000
#define TRN_AM_REPEAT_INTERVAL_MS 14400000
#define TRN_AM_RESOLVE_TIMEOUT_MS 300000

typedef struct trn_am_kv {
    const char *key, *value; /* arena strings */
} trn_am_kv_t;

/* What `http_config` can say; only the parts trine's notifiers use. */
typedef struct trn_am_http_config {
    const char *basic_user, *basic_password; /* NULL when unset */
    const char *bearer_token;                /* authorization.credentials or bearer_token */
    const char *auth_type;                   /* authorization.type, default "Bearer" */
    const char *proxy_url;
    bool insecure_skip_verify;
    bool follow_redirects;
} trn_am_http_config_t;

typedef enum {
    TRN_AM_WEBHOOK = 0,
    TRN_AM_SLACK,
    TRN_AM_PAGERDUTY,
    TRN_AM_EMAIL,
    TRN_AM_N_KINDS,
} trn_am_kind_t;

/* One `*_configs` entry. Scalar options are looked up by their YAML key
 * with trn_am_integration_opt (defaults from Alertmanager filled in);
 * map-valued options (pagerduty `details`, email `headers`, slack `fields`
 * flattened as title/value/short triples) are kv lists. */
typedef struct trn_am_integration {
    trn_am_kind_t kind;
    int index; /* position among the receiver's integrations of this kind */
    bool send_resolved;
    trn_am_kv_t *opts; /* scalar options, templates unrendered */
    size_t n_opts;
    trn_am_kv_t *details; /* pagerduty details / email headers */
    size_t n_details;
    trn_am_kv_t *fields; /* slack fields: key = title, value = value */
    bool *fields_short;
    size_t n_fields;
    trn_am_http_config_t http;
    int line;
    const char *tmpl_prefix; /* names of this integration's parsed templates */
} trn_am_integration_t;

typedef struct trn_am_receiver {
    const char *name;
    trn_am_integration_t *integrations;
    size_t n_integrations;
    size_t n_unsupported; /* integrations of kinds trine does not deliver */
} trn_am_receiver_t;

typedef struct trn_am_route trn_am_route_t;
/* A routing node with its settings already inherited from its parents. */
struct trn_am_route {
    trn_am_route_t *parent;
    const char *receiver;
    const char **group_by; /* sorted label names */
    size_t n_group_by;
    bool group_by_all; /* group_by: ['...'] */
    int64_t group_wait_ms, group_interval_ms, repeat_interval_ms;
    trn_am_matchers_t matchers;
    const char **mute_intervals, **active_intervals;
    size_t n_mute, n_active;
    bool is_continue;
    trn_am_route_t **routes;
    size_t n_routes;
    const char *key; /* Alertmanager's route key: parent key + "/" + matchers */
    size_t id;       /* preorder index, stable for one config */
};

typedef struct trn_am_inhibit_rule {
    trn_am_matchers_t source, target;
    const char **equal;
    size_t n_equal;
} trn_am_inhibit_rule_t;

/* A time range in minutes of the day [start, end). */
typedef struct trn_am_time_range {
    int start, end;
} trn_am_time_range_t;

/* One entry of a time interval: every present field must match. Ranges are
 * inclusive pairs; days_of_month may be negative (from the month's end). */
typedef struct trn_am_time_spec {
    trn_am_time_range_t *times;
    size_t n_times;
    int (*weekdays)[2];
    size_t n_weekdays;
    int (*days_of_month)[2];
    size_t n_days_of_month;
    int (*months)[2];
    size_t n_months;
    int (*years)[2];
    size_t n_years;
    const char *location; /* "UTC" (default) or "Local" */
} trn_am_time_spec_t;

typedef struct trn_am_time_interval {
    const char *name;
    trn_am_time_spec_t *specs;
    size_t n_specs;
} trn_am_time_interval_t;

typedef struct trn_am_global {
    int64_t resolve_timeout_ms;
    const char *smtp_from, *smtp_smarthost, *smtp_hello, *smtp_auth_username, *smtp_auth_password,
        *smtp_auth_identity;
    bool smtp_require_tls;
    const char *slack_api_url, *pagerduty_url;
    trn_am_http_config_t http;
} trn_am_global_t;

typedef struct trn_am_config {
    trn_arena_t *arena; /* owns every string and array below */
    trn_am_global_t global;
    trn_am_route_t *route;
    size_t n_routes; /* nodes in the tree */
    trn_am_receiver_t *receivers;
    size_t n_receivers;
    trn_am_inhibit_rule_t *inhibit_rules;
    size_t n_inhibit_rules;
    trn_am_time_interval_t *time_intervals;
    size_t n_time_intervals;
    const char **templates; /* glob patterns, as written */
    size_t n_templates;
    const char *source_path;
    struct trn_tmpl *tmpl; /* default + `templates` files + every option text, parsed */
    char *yaml_text;       /* the Alertmanager YAML itself (unwrapped), NUL-terminated */
} trn_am_config_t;

/* Loads and validates a config file (plain or wrapped). Errors read
 * "file:line:col: what" where a position is known. */
int trn_alertmanager_config_load(const char *path, trn_am_config_t **out, trn_diag_t *d);
/* Same from memory; name is used in messages. */
int trn_am_config_parse(const char *name, const char *buf, size_t len, trn_am_config_t **out,
                        trn_diag_t *d);
void trn_am_config_free(trn_am_config_t *c);

/* The receiver called name, or NULL. */
const trn_am_receiver_t *trn_am_config_receiver(const trn_am_config_t *c, const char *name);
/* Value of a scalar option of an integration, or "" when unset. */
const char *trn_am_integration_opt(const trn_am_integration_t *in, const char *key);
/* Name of an integration kind: "webhook", "slack", "pagerduty", "email". */
const char *trn_am_kind_name(trn_am_kind_t k);
/* The time interval called name, or NULL. */
const trn_am_time_interval_t *trn_am_config_time_interval(const trn_am_config_t *c,
                                                          const char *name);
/* True if t_ms (Unix ms) falls inside any spec of the interval. */
bool trn_am_time_interval_contains(const trn_am_time_interval_t *ti, int64_t t_ms);

#endif
