/* SPDX-License-Identifier: Apache-2.0 */
/* Internals shared by the alert manager's files (alertmanager.c, dispatch.c,
 * silences.c, nflog.c, statelog.c, notify.c). Nothing outside src/alerts/
 * includes this header.
 *
 * Locking: one mutex, am->mu, guards the alert store, the groups, the
 * silences and the notification log. Alerts are immutable once created and
 * reference-counted (counts change only under am->mu), so a notification
 * job can hold a snapshot of a group's alerts while the notifier threads
 * send it without the lock. The config is reference-counted the same way so
 * a reload does not pull it from under an in-flight job. */
#ifndef TRN_ALERTS_AM_INT_H
#define TRN_ALERTS_AM_INT_H

#include "alerts/alertmanager.h"
#include "alerts/config.h"
#include "core/json.h"
#include "core/registry.h"
#include "core/str.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* ---- u64-keyed hash map (open addressing, linear probing). */
typedef struct trn__am_map {
    uint64_t *keys;
    void **vals; /* NULL = empty slot; deleted slots hold the tombstone marker */
    size_t cap, n, used;
} trn__am_map_t;

void *trn__am_map_get(const trn__am_map_t *m, uint64_t k);
/* Inserts or replaces; returns the previous value or NULL. */
void *trn__am_map_put(trn__am_map_t *m, uint64_t k, void *v);
void *trn__am_map_del(trn__am_map_t *m, uint64_t k);
/* Iterates: i starts at 0; returns false at the end. */
bool trn__am_map_next(const trn__am_map_t *m, size_t *i, uint64_t *k, void **v);
void trn__am_map_fini(trn__am_map_t *m);

/* ---- alerts */
typedef struct trn__am_alert {
    int refs;
    uint64_t fp;         /* Alertmanager's fingerprint (FNV-1a over sorted labels) */
    trn_labels_t labels; /* sorted, storage in mem */
    trn_labels_t annotations;
    const char *generator_url;
    int64_t starts_at, ends_at, updated_at; /* ms */
    bool timeout;                           /* ends_at came from resolve_timeout */
    char *mem;                              /* one block holding arrays and strings */
} trn__am_alert_t;

uint64_t trn__am_fingerprint(const trn_labels_t *ls);
trn__am_alert_t *trn__am_alert_new(const trn_am_alert_t *in, int64_t now, int64_t resolve_ms);
void trn__am_alert_ref(trn__am_alert_t *a);
void trn__am_alert_unref(trn__am_alert_t *a);
static inline bool trn__am_alert_resolved(const trn__am_alert_t *a, int64_t now)
{
    return a->ends_at != 0 && a->ends_at <= now;
}

/* ---- config, reference counted */
typedef struct trn__am_cfg {
    int refs;
    trn_am_config_t *c;
    void *tmpl; /* notification templates (notify_tmpl.c), or NULL */
} trn__am_cfg_t;

void trn__am_cfg_unref(trn__am_cfg_t *c);

/* ---- aggregation groups */
typedef struct trn__am_group {
    const trn_am_route_t *route;
    char *key; /* Alertmanager's group key */
    uint64_t key_hash;
    trn_labels_t labels; /* group labels, storage in labels_mem */
    char *labels_mem;
    trn__am_map_t alerts; /* fp -> trn__am_alert_t* (a reference each) */
    int64_t next_flush;   /* ms */
    bool has_flushed, flushing;
} trn__am_group_t;

/* ---- silences */
typedef struct trn__am_sil {
    trn_am_silence_t s; /* matchers compiled; strings in mem */
    char *mem;
} trn__am_sil_t;

/* ---- notification log entry */
typedef struct trn__am_nfe {
    char *key;           /* group key \x1f receiver \x1f kind \x1f index */
    int64_t ts, expires; /* ms */
    uint64_t *firing, *resolved;
    size_t n_firing, n_resolved;
} trn__am_nfe_t;

/* ---- persisted state log (statelog.c) */
typedef struct trn__am_statelog trn__am_statelog_t;
typedef void trn__am_record_fn(void *ctx, const char *payload, size_t len);
/* Opens (creating) path, replaying valid records to fn. A torn tail or a
 * record failing its CRC ends the replay and is cut from the file
 * (logged). magic is 8 bytes. */
int trn__am_statelog_open(const char *path, const char *magic, trn__am_record_fn *fn, void *ctx,
                          trn__am_statelog_t **out, trn_diag_t *d);
/* Appends one record; fsyncs when sync. */
int trn__am_statelog_append(trn__am_statelog_t *l, const char *payload, size_t len, bool sync);
/* Replaces the file atomically with the framed records in recs (built with
 * trn__am_statelog_frame). */
int trn__am_statelog_rewrite(trn__am_statelog_t *l, const trn_buf_t *recs);
void trn__am_statelog_frame(trn_buf_t *out, const char *payload, size_t len);
/* fdatasync of what was appended without sync (thread-safe against the
 * owner's appends and rewrites; call without the manager's lock). */
int trn__am_statelog_sync(trn__am_statelog_t *l);
size_t trn__am_statelog_appended(const trn__am_statelog_t *l);
void trn__am_statelog_close(trn__am_statelog_t *l);
uint32_t trn__am_crc32c(uint32_t crc, const void *p, size_t n);

/* ---- the manager */
struct trn_alertmanager {
    pthread_mutex_t mu;
    pthread_cond_t cond;      /* dispatcher wake-up */
    pthread_cond_t jobs_cond; /* notifier wake-up */
    trn__am_cfg_t *cfg;
    trn_am_opts_t opts;
    char *external_url;
    char *state_dir; /* <data>/alertmanager or NULL */
    trn_registry_t *reg;
    bool own_reg;
    int64_t start_ms;

    trn__am_map_t alerts; /* fp -> trn__am_alert_t* */
    trn__am_map_t groups; /* key hash -> trn__am_group_t* */
    bool inhibit_dirty;
    int64_t inhibit_built_at;
    trn__am_map_t *inhibit_src;    /* per rule: equal-hash -> source fp (as pointer-sized value) */
    trn__am_map_t *inhibit_src_nt; /* per rule: same, sources not matching the target */
    size_t n_inhibit;

    trn__am_sil_t **silences;
    size_t n_silences, cap_silences;
    trn__am_statelog_t *sil_log;

    trn__am_map_t nflog; /* hash(key) -> trn__am_nfe_t* */
    trn__am_statelog_t *nf_log;

    /* notification jobs */
    struct trn__am_job *jobs_head, *jobs_tail;
    size_t jobs_pending;
    pthread_t dispatcher;
    pthread_t *notifiers;
    unsigned n_notifiers;
    bool stopping;
    int64_t last_gc;

    trn_counter_t *c_received_firing, *c_received_resolved, *c_invalid;
    trn_counter_t *c_notif[TRN_AM_N_KINDS], *c_notif_failed[TRN_AM_N_KINDS];
    trn_histogram_t *h_latency[TRN_AM_N_KINDS];
};

int64_t trn__am_now(const trn_alertmanager_t *am);

/* alertmanager.c: mute checks (caller holds mu). Writes the ids of the
 * silences / fingerprints of the inhibiting alerts when out arrays given. */
size_t trn__am_silenced_by(trn_alertmanager_t *am, const trn_labels_t *ls, int64_t now,
                           const char **ids, size_t max);
bool trn__am_inhibited(trn_alertmanager_t *am, const trn_labels_t *ls, uint64_t fp, int64_t now,
                       uint64_t *by);

/* dispatch.c */
/* Routes alert a (a new version) into its groups; caller holds mu. */
void trn__am_dispatch_insert(trn_alertmanager_t *am, trn__am_alert_t *a, int64_t now);
/* Drops every group (config reload, shutdown); caller holds mu. */
void trn__am_groups_clear(trn_alertmanager_t *am);
int trn__am_dispatch_start(trn_alertmanager_t *am, trn_diag_t *d);
/* Alertmanager's dedup decision for one integration: given the last log
 * entry (NULL: never notified) and the group's current firing and resolved
 * fingerprints, must a notification go out now? */
bool trn__am_needs_update(const trn__am_nfe_t *e, const uint64_t *firing, size_t nf,
                          const uint64_t *resolved, size_t nr, bool send_resolved,
                          int64_t repeat_ms, int64_t now);
void trn__am_dispatch_stop(trn_alertmanager_t *am);

/* silences.c (caller holds mu unless said) */
int trn__am_silences_open(trn_alertmanager_t *am, trn_diag_t *d);
void trn__am_silences_free(trn_alertmanager_t *am);

/* nflog.c (caller holds mu) */
int trn__am_nflog_open(trn_alertmanager_t *am, trn_diag_t *d);
const trn__am_nfe_t *trn__am_nflog_get(trn_alertmanager_t *am, const char *key);
void trn__am_nflog_log(trn_alertmanager_t *am, const char *key, int64_t now, int64_t retention_ms,
                       const uint64_t *firing, size_t n_firing, const uint64_t *resolved,
                       size_t n_resolved);
/* Makes logged entries durable; call after trn__am_nflog_log, without mu. */
void trn__am_nflog_sync(trn_alertmanager_t *am);
void trn__am_nflog_free(trn_alertmanager_t *am);

/* notify.c: one notification to one integration. */
typedef struct trn__am_notification {
    const char *receiver;
    const char *group_key;
    const trn_labels_t *group_labels;
    trn__am_alert_t **alerts; /* firing first is not required; status per alert from now */
    size_t n_alerts;
    int64_t now;
    const char *external_url;
    const trn__am_cfg_t *cfg;
} trn__am_notification_t;

/* Sends with retries; returns 0 or a negative code with err filled. */
int trn__am_notify(const trn_am_integration_t *in, const trn__am_notification_t *n, char *err,
                   size_t err_len);

/* One attempt of one integration (notify_<kind>.c). Returns 0, TRN_EIO
 * (worth retrying: network error, 5xx, 429) or another error (not). */
typedef int trn__am_send_fn(const trn_am_integration_t *in, const trn__am_notification_t *n,
                            char *err, size_t err_len);
trn__am_send_fn trn__am_send_webhook;
trn__am_send_fn trn__am_send_slack;
trn__am_send_fn trn__am_send_pagerduty;
trn__am_send_fn trn__am_send_email;

/* Template rendering context for one send: data built once, options
 * rendered into the arena; the first template error is kept in d. */
typedef struct trn__am_tctx {
    trn_arena_t *a;
    struct trn_tval *data;
    const trn_am_config_t *c;
    const trn_am_integration_t *in;
    trn_diag_t d;
} trn__am_tctx_t;
int trn__am_tctx_init(trn__am_tctx_t *t, const trn_am_integration_t *in,
                      const trn__am_notification_t *n);
void trn__am_tctx_fini(trn__am_tctx_t *t);
/* Rendered option (arena string; "" when unset or after an error). */
const char *trn__am_tx(trn__am_tctx_t *t, const char *key);
const char *trn__am_tx_detail(trn__am_tctx_t *t, size_t i);
const char *trn__am_tx_field(trn__am_tctx_t *t, size_t i, int which);

/* notify.c helpers for the integrations. */
/* POSTs body to url with the integration's http_config; maps the outcome
 * to 0 / TRN_EIO (retryable) / TRN_EINVAL (4xx). */
int trn__am_http_post(const trn_am_http_config_t *h, const char *url, const char *content_type,
                      const char *body, size_t len, char *err, size_t err_len);
/* Go's RFC3339Nano in UTC as encoding/json writes a time.Time
 * ("2024-01-02T03:04:05.678Z"); ms 0 is Go's zero time. */
void trn__am_json_time(trn_json_t *j, int64_t ms);
/* "firing" if any alert is firing at n->now, else "resolved". */
const char *trn__am_group_status(const trn__am_notification_t *n);
/* Labels (annotations when ann) shared with the same value by all alerts;
 * out->v needs room for the first alert's count. Views borrow the alerts. */
void trn__am_common(const trn__am_notification_t *n, bool ann, trn_labels_t *out);
/* Writes a label set as a JSON object (keys sorted, as Go maps marshal). */
void trn__am_json_labels(trn_json_t *j, const trn_labels_t *ls);

/* templates.c: notification templates. */
struct trn_tval;
/* Parses Alertmanager-style default templates, the config's `templates`
 * files (globs relative to the config file) and every templated option of
 * every integration into c->tmpl. Errors name the receiver and option. */
int trn__am_templates_load(trn_am_config_t *c, trn_diag_t *d);
void trn__am_templates_free(trn_am_config_t *c);
/* Builds Alertmanager's template data (.Receiver, .Status, .Alerts, ...)
 * for a notification, in a. */
int trn__am_tmpl_data(const trn__am_notification_t *n, trn_arena_t *a, struct trn_tval *out);
/* Renders option key of integration in (its template parsed at load) with
 * data; "" for an unset option. Appends to out. */
int trn__am_render(const trn_am_config_t *c, const trn_am_integration_t *in, const char *key,
                   const struct trn_tval *data, trn_arena_t *a, trn_buf_t *out, trn_diag_t *d);
/* Renders the i-th details (pagerduty) / headers (email) value. */
int trn__am_render_detail(const trn_am_config_t *c, const trn_am_integration_t *in, size_t i,
                          const struct trn_tval *data, trn_arena_t *a, trn_buf_t *out,
                          trn_diag_t *d);
/* Renders the i-th slack field's title (which 0) or value (which 1). */
int trn__am_render_field(const trn_am_config_t *c, const trn_am_integration_t *in, size_t i,
                         int which, const struct trn_tval *data, trn_arena_t *a, trn_buf_t *out,
                         trn_diag_t *d);

#endif
