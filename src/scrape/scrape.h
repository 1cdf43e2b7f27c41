/* SPDX-License-Identifier: Apache-2.0 */
/* Scraping: Prometheus's `scrape_configs` (static and file-based targets,
 * relabeling, auth, limits), one loop per target that fetches the
 * exposition text over HTTP(S), stores the samples with the synthetic
 * series (up, scrape_duration_seconds, ...) and writes staleness markers
 * when series or targets go away. The daemon parses the config, creates
 * one manager and applies every (re)loaded config to it. */
#ifndef TRN_SCRAPE_SCRAPE_H
#define TRN_SCRAPE_SCRAPE_H

#include "core/arena.h"
#include "core/diag.h"
#include "core/labels.h"
#include "core/registry.h"
#include "core/yaml.h"

#include <stdbool.h>
#include <stdint.h>

struct trn_store;

typedef struct trn_scrape_config trn_scrape_config_t;
typedef struct trn_scrape_manager trn_scrape_manager_t;

/* Reads `global` and `scrape_configs` from the main config's root map
 * (other top-level keys are ignored; the daemon checks them). Unknown keys
 * inside those sections are errors with file:line:col. root NULL gives
 * the defaults and no jobs. Returns 0 and an owned config in *out. */
int trn_scrape_config_parse(const trn_yaml_node_t *root, trn_scrape_config_t **out, trn_diag_t *d);
/* Releases the caller's reference (a manager keeps its own). NULL allowed. */
void trn_scrape_config_free(trn_scrape_config_t *c);
/* Number of scrape jobs. */
size_t trn_scrape_config_jobs(const trn_scrape_config_t *c);
/* global.external_labels (sorted; borrowed from c). */
const trn_labels_t *trn_scrape_config_external_labels(const trn_scrape_config_t *c);

/* A manager writing into store and counting into reg (both borrowed, must
 * outlive it). No scraping happens before the first apply. */
trn_scrape_manager_t *trn_scrape_manager_new(struct trn_store *store, trn_registry_t *reg);
/* Starts or reloads: targets that stay keep their loop and state, new ones
 * start, removed ones stop and get staleness markers. c stays the caller's
 * (the manager takes its own reference). Errors (a file_sd file that cannot
 * be read is not one: it is logged and retried) leave the old set running. */
int trn_scrape_manager_apply(trn_scrape_manager_t *m, const trn_scrape_config_t *c, trn_diag_t *d);
/* Stops every loop, writes staleness markers, frees. NULL allowed. */
void trn_scrape_manager_free(trn_scrape_manager_t *m);

typedef enum {
    TRN_TARGET_UNKNOWN = 0,
    TRN_TARGET_UP = 1,
    TRN_TARGET_DOWN = 2,
} trn_target_health_t;

/* A snapshot of one target for /api/v1/targets. Strings and label sets
 * are copies in the caller's arena. */
typedef struct trn_target_info {
    trn_labels_t discovered; /* before relabeling */
    trn_labels_t labels;     /* after relabeling (empty for dropped targets) */
    const char *pool;        /* job name */
    const char *url;         /* scrape URL (empty for dropped targets) */
    const char *last_error;  /* "" when the last scrape worked */
    int64_t last_scrape_ms;  /* wall time of the last scrape start; 0 = never */
    double last_duration_s;
    trn_target_health_t health;
    int64_t interval_ms, timeout_ms;
} trn_target_info_t;

/* Snapshot of the active targets (sorted by pool, then labels) and the
 * dropped ones (relabeling removed them). Arrays from the arena; either
 * out pointer may be NULL to skip that list. Thread-safe. Returns 0 or
 * TRN_ELIMIT when the arena budget ran out. */
int trn_scrape_manager_targets(trn_scrape_manager_t *m, trn_arena_t *a, trn_target_info_t **active,
                               size_t *n_active, trn_target_info_t **dropped, size_t *n_dropped);

/* One entry per job (pool), sorted by name: target counts for
 * droppedTargetCounts and the UI. Names are arena copies. Thread-safe. */
typedef struct trn_scrape_pool_info {
    const char *name;
    size_t n_active, n_dropped;
} trn_scrape_pool_info_t;
int trn_scrape_manager_pools(trn_scrape_manager_t *m, trn_arena_t *a, trn_scrape_pool_info_t **out,
                             size_t *n_out);

#endif
