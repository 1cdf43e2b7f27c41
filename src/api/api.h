/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP API surfaces. Handlers are thin: parse parameters, call the
 * subsystem, encode the answer. Each surface file exports one route table;
 * api/routes.c lists the tables and the daemon registers them all with the
 * context below (filled by the daemon, read-only for handlers except
 * through the subsystems' own thread-safe calls). */
#ifndef TRN_API_API_H
#define TRN_API_API_H

#include "core/json.h"
#include "core/registry.h"
#include "net/http.h"

#include <stdint.h>

struct trn_store;
struct trn_scrape_manager;
struct trn_rule_manager;
struct trn_alertmanager;

typedef struct trn_api_ctx {
    struct trn_store *store;           /* metrics TSDB */
    struct trn_scrape_manager *scrape; /* may be NULL */
    struct trn_rule_manager *rules;    /* may be NULL */
    struct trn_alertmanager *alerts;   /* may be NULL */
    trn_registry_t *registry;          /* trine's own metrics */
    const char *config_yaml;           /* the loaded config text, for status/config */
    int64_t start_time_ms;
    int64_t lookback_delta_ms;  /* PromQL lookback (default 5m) */
    int64_t query_timeout_ms;   /* default 2m */
    uint64_t query_max_samples; /* default 50M like Prometheus */
    uint64_t query_max_bytes;   /* per-query memory budget; default 2 GiB */
    /* Asks the daemon to reload its config; returns 0 or an error with d set. */
    int (*reload)(void *daemon, trn_diag_t *d);
    void *daemon;
} trn_api_ctx_t;

/* A surface's routes. */
typedef struct trn_route_table {
    const trn_route_t *routes;
    size_t n;
} trn_route_table_t;

/* Every surface's table, in registration order (api/routes.c). */
extern const trn_route_table_t trn_api_tables[];
extern const size_t trn_api_n_tables;

/* Prometheus-style JSON envelope helpers shared by handlers. */
/* Starts a success envelope in resp->body: `{"status":"success","data":`;
 * the caller writes the data value (and optionally "warnings"), then closes
 * the object with trn_json_obj_end. */
void trn_api_prom_success(trn_json_t *j, trn_http_resp_t *resp);
/* Writes {"status":"error","errorType":type,"error":msg} with the status. */
void trn_api_prom_error(trn_http_resp_t *resp, int http_status, const char *error_type,
                        const char *msg);
/* Maps a TRN_E* code to the error and sends it (bad_data/400, execution/422,
 * timeout/503, canceled/503, internal/500). */
void trn_api_prom_error_code(trn_http_resp_t *resp, int code, const char *msg);

#endif
