/* SPDX-License-Identifier: Apache-2.0 */
/* Recording and alerting rules, as Prometheus runs them.
 *
 * Config: `rule_files` (globs, relative to the main config's directory)
 * name files in Prometheus's rule-file format or wrapped as a
 * PrometheusRule resource (apiVersion/kind/metadata/spec.groups).
 * trn_rules_config_parse loads and validates all of them (YAML, PromQL
 * expressions with positions, rule and label names, templates, duplicate
 * rules) together with `global.evaluation_interval`,
 * `global.external_labels`, `global.rule_query_offset` and
 * `alerting.alertmanagers`.
 *
 * Manager: each group runs on its own thread at its interval, at aligned
 * timestamps offset per group so groups spread over the interval; rules
 * run in order. Recording rules append their result to the store;
 * alerting rules keep inactive/pending/firing state, write ALERTS and
 * ALERTS_FOR_STATE, restore `for` state after a restart, and hand alerts
 * to the notify hook and to external Alertmanagers. Every function is
 * thread-safe unless noted. */
#ifndef TRN_RULES_RULES_H
#define TRN_RULES_RULES_H

#include "core/arena.h"
#include "core/diag.h"
#include "core/labels.h"
#include "core/registry.h"
#include "core/yaml.h"
#include "metrics/store.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct trn_rules_config trn_rules_config_t;
typedef struct trn_rule_manager trn_rule_manager_t;

/* Reads rule_files, global.{evaluation_interval, external_labels,
 * rule_query_offset} and alerting from the main config's root map (NULL:
 * no rules), loading every file the globs match (relative globs resolve
 * against base_dir). Errors name the file and line:col. *out is owned. */
int trn_rules_config_parse(const trn_yaml_node_t *root, const char *base_dir,
                           trn_rules_config_t **out, trn_diag_t *d);
/* Loads and validates one rule file on its own (check-config, tests). */
int trn_rules_file_check(const char *path, trn_diag_t *d);
/* Same for rule-file text; name is used as the file name in messages. */
int trn_rules_text_check(const char *name, const char *text, size_t len, trn_diag_t *d);
/* A config holding the groups of one rule file's text (tests, tools);
 * eval_interval_ms is the default group interval (0: 1m). */
int trn_rules_config_load_text(const char *name, const char *text, size_t len,
                               int64_t eval_interval_ms, trn_rules_config_t **out, trn_diag_t *d);
size_t trn_rules_config_n_groups(const trn_rules_config_t *c);
size_t trn_rules_config_n_rules(const trn_rules_config_t *c);
void trn_rules_config_free(trn_rules_config_t *c);

/* An alert as sent to an Alertmanager (v2 API fields). Labels include the
 * external labels; both sets sorted. Everything is borrowed for the call. */
typedef struct trn_rule_alert {
    trn_labels_t labels;
    trn_labels_t annotations;
    int64_t starts_at_ms;
    int64_t ends_at_ms; /* resolve time, or the validity deadline while firing */
    const char *generator_url;
} trn_rule_alert_t;

/* Called from a group's thread after each alerting rule evaluation with
 * the alerts due for (re)sending; must not call back into the manager. */
typedef void trn_rules_notify_fn(void *ctx, const trn_rule_alert_t *alerts, size_t n);

typedef struct trn_rule_manager_opts {
    const char *external_url;  /* for generatorURL and templates; default "http://localhost:9090" */
    int64_t lookback_delta_ms; /* PromQL; default 5m */
    int64_t query_timeout_ms;  /* default 2m */
    uint64_t query_max_samples;  /* default 50M */
    int64_t outage_tolerance_ms; /* for-state restore window; default 1h */
    int64_t for_grace_period_ms; /* default 10m */
    int64_t resend_delay_ms;     /* default 1m */
    bool no_for_state_restore;   /* skip restoring `for` state from ALERTS_FOR_STATE */
} trn_rule_manager_opts_t;

/* A manager writing to store and registering its metrics (trine_rule_*)
 * in registry (may be NULL). opts may be NULL. Keeps both pointers. */
trn_rule_manager_t *trn_rule_manager_new(trn_store_t *store, trn_registry_t *registry,
                                         const trn_rule_manager_opts_t *opts);
/* Sets the hook alerts are pushed to (the built-in alert manager). */
void trn_rule_manager_set_notify(trn_rule_manager_t *m, trn_rules_notify_fn *fn, void *ctx);
/* Replaces the rules with c (taking ownership of it, also on error).
 * Alert state and series bookkeeping carry over for rules with the same
 * group (file, name), rule name and labels. Running groups are restarted. */
int trn_rule_manager_apply(trn_rule_manager_t *m, trn_rules_config_t *c, trn_diag_t *d);
/* Starts one evaluation thread per group (and per later apply). */
int trn_rule_manager_start(trn_rule_manager_t *m, trn_diag_t *d);
/* Evaluates every group once at t_ms, synchronously, in file order (for
 * tests and tools; do not mix with start). Returns the number of failed
 * rule evaluations. */
int trn_rule_manager_eval_at(trn_rule_manager_t *m, int64_t t_ms);
/* Stops the threads, marks the rules' series stale, frees. NULL allowed. */
void trn_rule_manager_free(trn_rule_manager_t *m);

/* ---- Snapshots for the HTTP API (all strings and arrays in the arena). */
typedef enum {
    TRN_ALERT_INACTIVE = 0,
    TRN_ALERT_PENDING = 1,
    TRN_ALERT_FIRING = 2,
} trn_alert_state_t;

typedef struct trn_rule_alert_info {
    trn_labels_t labels, annotations;
    trn_alert_state_t state;
    int64_t active_at_ms;
    int64_t keep_firing_since_ms; /* 0 when not keeping */
    double value;
} trn_rule_alert_info_t;

typedef struct trn_rule_info {
    bool is_alerting;
    const char *name;
    const char *query; /* the expression in canonical form */
    int64_t for_ms, keep_firing_for_ms;
    trn_labels_t labels, annotations;
    trn_alert_state_t state; /* highest state among its alerts */
    const char *health;      /* "unknown", "ok", "err" */
    const char *last_error;  /* "" when none */
    double eval_seconds;
    int64_t last_eval_ms;          /* 0 before the first evaluation */
    trn_rule_alert_info_t *alerts; /* active (pending/firing) alerts */
    size_t n_alerts;
} trn_rule_info_t;

typedef struct trn_rule_group_info {
    const char *name, *file;
    int64_t interval_ms;
    int64_t limit;
    double eval_seconds;
    int64_t last_eval_ms;
    trn_rule_info_t *rules;
    size_t n_rules;
} trn_rule_group_info_t;

/* Copies the current groups, rules and alerts into a. TRN_ELIMIT when the
 * arena budget runs out. */
int trn_rule_manager_snapshot(trn_rule_manager_t *m, trn_arena_t *a, trn_rule_group_info_t **out,
                              size_t *n_out);

#endif
