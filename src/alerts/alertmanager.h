/* SPDX-License-Identifier: Apache-2.0 */
/* The built-in alert manager: receives alerts (in-process from the rule
 * evaluator, or through the API), routes them through the configured tree
 * into aggregation groups, applies inhibition, silences and time intervals,
 * and notifies receivers with Alertmanager's timing and deduplication.
 * Silences and the notification log are persisted under
 * <data_dir>/alertmanager/ (docs/format/alertmanager.md), so a restart
 * neither loses silences nor repeats a notification inside its
 * repeat_interval.
 *
 * Thread-safety: every function may be called from any thread. Results
 * handed out (views, silences, strings) are copies in the caller's arena. */
#ifndef TRN_ALERTS_ALERTMANAGER_H
#define TRN_ALERTS_ALERTMANAGER_H

#include "alerts/config.h"
#include "alerts/matchers.h"
#include "core/arena.h"
#include "core/diag.h"
#include "core/labels.h"
#include "core/registry.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct trn_alertmanager trn_alertmanager_t;

/* An alert as a client posts it. Strings are borrowed; push copies them.
 * Times are Unix ms; 0 means unset (starts: now, ends: now + resolve_timeout,
 * i.e. firing until refreshed). */
typedef struct trn_am_alert {
    trn_labels_t labels, annotations;
    int64_t starts_at_ms, ends_at_ms;
    const char *generator_url; /* may be NULL */
} trn_am_alert_t;

typedef struct trn_am_opts {
    const char *external_url; /* for templates and links; default "http://<host>" */
    int64_t (*now_ms)(void);  /* clock; NULL = wall clock (tests inject) */
    unsigned notify_threads;  /* default 8 */
    bool no_dispatch;         /* tests: route and store, but never notify */
} trn_am_opts_t;

/* Creates the alert manager and starts its dispatcher. Takes ownership of
 * cfg on success. data_dir NULL keeps state in memory only. Errors: TRN_EIO
 * (state dir), TRN_ECORRUPT is not fatal (bad records are skipped and logged). */
int trn_alertmanager_new(trn_am_config_t *cfg, const char *data_dir, trn_registry_t *reg,
                         const trn_am_opts_t *opts, trn_alertmanager_t **out, trn_diag_t *d);
/* Swaps in a new config (ownership taken on success). Groups are rebuilt
 * from the current alerts; the notification log keeps deduplicating. */
int trn_alertmanager_reload(trn_alertmanager_t *am, trn_am_config_t *cfg, trn_diag_t *d);
/* Stops the dispatcher and notifiers (in-flight sends finish), persists
 * state and frees. NULL allowed. */
void trn_alertmanager_free(trn_alertmanager_t *am);

/* Checks one alert as Alertmanager's API does (labels present and valid,
 * annotations valid, end not before start). */
int trn_am_alert_validate(const trn_am_alert_t *a, trn_diag_t *d);
/* Accepts alerts (copied). Invalid ones are skipped and counted; returns
 * the number accepted. For the rule evaluator and the API. */
int trn_alertmanager_push(trn_alertmanager_t *am, const trn_am_alert_t *alerts, size_t n);

/* --- read side for the API --- */

typedef struct trn_am_alert_view {
    trn_labels_t labels, annotations;
    int64_t starts_at_ms, ends_at_ms, updated_at_ms;
    const char *generator_url;
    char fingerprint[17];
    const char **receivers;
    size_t n_receivers;
    const char *state; /* "active", "suppressed", "unprocessed" */
    const char **silenced_by, **inhibited_by;
    size_t n_silenced_by, n_inhibited_by;
} trn_am_alert_view_t;

typedef struct trn_am_group_view {
    trn_labels_t labels;
    const char *receiver;
    trn_am_alert_view_t *alerts;
    size_t n_alerts;
} trn_am_group_view_t;

/* Every alert the manager holds (resolved ones until collected), sorted
 * by fingerprint-independent label order. */
int trn_alertmanager_alerts(trn_alertmanager_t *am, trn_arena_t *a, trn_am_alert_view_t **out,
                            size_t *n);
/* Aggregation groups with their alerts. */
int trn_alertmanager_groups(trn_alertmanager_t *am, trn_arena_t *a, trn_am_group_view_t **out,
                            size_t *n);

typedef struct trn_am_silence {
    char id[40];
    trn_am_matchers_t matchers; /* in views: regexes not compiled (re == NULL) */
    int64_t starts_at_ms, ends_at_ms, updated_at_ms;
    const char *created_by, *comment;
} trn_am_silence_t;

/* State of a silence at now: "expired", "active" or "pending". */
const char *trn_am_silence_state(const trn_am_silence_t *s, int64_t now_ms);
/* Creates (id empty) or updates a silence. As Alertmanager: an update of an
 * active silence that changes matchers or start expires it and creates a
 * new one. Writes the resulting id to out_id. Errors: TRN_EINVAL with d,
 * TRN_ENOTFOUND for an unknown id. Strings and matchers are copied. */
int trn_alertmanager_silence_set(trn_alertmanager_t *am, const trn_am_silence_t *s, char out_id[40],
                                 trn_diag_t *d);
/* Expires a silence now. TRN_ENOTFOUND / TRN_EINVAL (already expired). */
int trn_alertmanager_silence_expire(trn_alertmanager_t *am, const char *id, trn_diag_t *d);
/* Copies of every silence (id NULL) or of one (TRN_ENOTFOUND if absent). */
int trn_alertmanager_silences(trn_alertmanager_t *am, const char *id, trn_arena_t *a,
                              trn_am_silence_t **out, size_t *n);

/* The current config's YAML text and receiver names (copies). */
const char *trn_alertmanager_config_text(trn_alertmanager_t *am, trn_arena_t *a);
size_t trn_alertmanager_receiver_names(trn_alertmanager_t *am, trn_arena_t *a, const char ***names);
int64_t trn_alertmanager_start_ms(const trn_alertmanager_t *am);
int64_t trn_alertmanager_now(const trn_alertmanager_t *am);

#endif
