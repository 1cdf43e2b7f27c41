/* SPDX-License-Identifier: Apache-2.0 */
/* Internals shared by the files of src/rules: the loaded configuration
 * (immutable after loading, except for the runtime state each rule and
 * group carries) and the helpers the manager, the alerting code and the
 * notifier share. Nothing outside src/rules includes this. */
#ifndef TRN_RULES_RULES_INT_H
#define TRN_RULES_RULES_INT_H

#include "core/template.h"
#include "metrics/promql/promql.h"
#include "rules/rules.h"

#include <pthread.h>

/* A label set whose array and strings live in one heap block. */
typedef struct hlabels {
    trn_labels_t ls;
    uint64_t hash;
    bool moved; /* in a series set: the labels were handed to the next set */
} hlabels_t;

/* Open-addressing set of label sets keyed by hash (the series a rule
 * wrote last time, for staleness). */
typedef struct series_set {
    hlabels_t *v; /* slots; ls.v == NULL marks empty */
    size_t n, cap;
} series_set_t;

typedef struct alert {
    hlabels_t labels;
    trn_labels_t annotations; /* heap block like labels */
    trn_alert_state_t state;
    double value;
    int64_t active_at_ms, fired_at_ms, resolved_at_ms, last_sent_at_ms, valid_until_ms;
    int64_t keep_firing_since_ms;
} alert_t;

typedef struct trn_rule {
    bool is_alerting;
    char *name;
    char *query; /* canonical expression text */
    trn_promql_expr_t *expr;
    int64_t for_ms, keep_firing_for_ms;
    trn_labels_t labels;      /* sorted; group labels merged in */
    trn_labels_t annotations; /* sorted */
    trn_tmpl_t **label_tmpl;  /* alerting: one per label, with Prometheus's prelude */
    trn_tmpl_t **annot_tmpl;
    /* runtime state, guarded by the group's mutex */
    alert_t *alerts;
    size_t n_alerts, cap_alerts;
    series_set_t prev; /* series written by the last evaluation */
    bool restored;
    const char *health; /* static string */
    char last_error[TRN_DIAG_MSG_MAX];
    double eval_seconds;
    int64_t last_eval_ms;
} trn_rule_t;

typedef struct trn_rule_group {
    char *name, *file;
    int64_t interval_ms, limit, query_offset_ms;
    trn_rule_t *rules;
    size_t n_rules;
    uint64_t hash; /* spreads the group's evaluations over its interval */
    /* runtime */
    pthread_mutex_t mu;
    double eval_seconds;
    int64_t last_eval_ms;
    uint64_t last_samples;
    int evals_until_restore; /* >0: restore `for` state after that many more evaluations */
    /* thread */
    pthread_t thread;
    bool running;
    bool stop;
    pthread_cond_t cond;
    struct trn_rule_manager *m;
    struct trn_rules_config *cfg; /* the config this group belongs to */
    /* self-metrics children */
    trn_counter_t *c_evals, *c_failures, *c_missed, *c_iterations;
    trn_gauge_t *g_interval, *g_last_ts, *g_last_dur, *g_rules, *g_samples;
} trn_rule_group_t;

typedef struct am_target {
    char *url; /* full URL of POST /api/v2/alerts */
} am_target_t;

struct trn_rules_config {
    trn_arena_t *a;
    int64_t eval_interval_ms, query_offset_ms;
    trn_labels_t external_labels; /* sorted, arena */
    trn_rule_group_t *groups;
    size_t n_groups;
    am_target_t *ams;
    size_t n_ams;
    int64_t am_timeout_ms;
};

/* ---- labels on the heap (rules_state.c) */
void trn__hlabels_set(hlabels_t *h, const trn_labels_t *src);
void trn__hlabels_fini(hlabels_t *h);
trn_labels_t trn__labels_heap_dup(const trn_labels_t *src);
void trn__labels_heap_free(trn_labels_t *ls);
/* Series sets. */
bool trn__series_set_has(const series_set_t *s, const trn_labels_t *ls, uint64_t hash);
void trn__series_set_add(series_set_t *s, const trn_labels_t *ls, uint64_t hash);
/* Adds ls to s, taking the heap copy from prev when prev has the same
 * series (marking it moved there) instead of copying again. */
void trn__series_set_add_from(series_set_t *s, const trn_labels_t *ls, uint64_t hash,
                              series_set_t *prev);
void trn__series_set_free(series_set_t *s);
/* Frees an alert's heap parts. */
void trn__alert_fini(alert_t *a);
/* Frees a rule's runtime state. */
void trn__rule_state_free(trn_rule_t *r);

struct trn_rule_manager {
    trn_store_t *store;
    trn_registry_t *reg;
    trn_rule_manager_opts_t o;
    char *external_url;
    trn_rules_notify_fn *notify;
    void *notify_ctx;
    struct trn_am_sender *am;
    pthread_mutex_t mu; /* guards cfg and started */
    trn_rules_config_t *cfg;
    bool started;
    trn_histogram_t *h_rule_dur, *h_group_dur;
};

/* The output of one rule evaluation: series to append at one timestamp. */
typedef struct out_vec {
    trn_promql_sample_t *v; /* arena */
    size_t n, cap;
} out_vec_t;

/* Appends a sample (labels borrowed; must live as long as the arena). */
int trn__out_push(trn_arena_t *a, out_vec_t *o, trn_labels_t ls, double v);
/* Instant query at t_ms with the manager's limits. */
int trn__rules_query(struct trn_rule_manager *m, const trn_promql_expr_t *e, int64_t t_ms,
                     trn_arena_t *a, trn_promql_value_t *out, trn_diag_t *d);

/* ---- alerting rules (alerting.c) */
/* Updates r's alerts from the query result vec (ts: evaluation time) and
 * adds ALERTS/ALERTS_FOR_STATE samples to out once the rule is restored.
 * On error writes err and returns < 0. Caller holds the group's mutex. */
int trn__alerting_eval(struct trn_rule_manager *m, trn_rules_config_t *c, trn_rule_group_t *g,
                       trn_rule_t *r, int64_t ts, const trn_promql_sample_t *vec, size_t n,
                       trn_arena_t *a, out_vec_t *out, char *err, size_t errlen);
/* Sends the alerts due for (re)sending to the hook and the Alertmanagers. */
void trn__alerting_send(struct trn_rule_manager *m, trn_rules_config_t *c, trn_rule_group_t *g,
                        trn_rule_t *r, int64_t ts);
/* Restores `for` state of g's alerting rules from ALERTS_FOR_STATE. */
void trn__alerting_restore(struct trn_rule_manager *m, trn_rule_group_t *g, int64_t ts);

/* ---- the external Alertmanager sender (notify.c) */
typedef struct trn_am_sender trn_am_sender_t;

trn_am_sender_t *trn__am_sender_new(trn_registry_t *reg);
/* Replaces the targets (copied). */
void trn__am_sender_set_targets(trn_am_sender_t *s, const am_target_t *t, size_t n,
                                int64_t timeout_ms);
/* Queues alerts for every target (copied); drops and counts when full. */
void trn__am_sender_push(trn_am_sender_t *s, const trn_rule_alert_t *alerts, size_t n);
void trn__am_sender_free(trn_am_sender_t *s);
/* Encodes alerts as Alertmanager's v2 JSON array. */
void trn__am_encode(const trn_rule_alert_t *alerts, size_t n, trn_buf_t *out);

#endif
