/* SPDX-License-Identifier: Apache-2.0 */
/* trine's main config: one YAML file. This module owns the top-level keys
 * and the daemon's own sections (server, storage, query); the sections of
 * other subsystems (global + scrape_configs, rule_files, alerting) are
 * parsed by those subsystems from the same document, which the config
 * keeps. No file means the embedded defaults. Unknown keys are errors. */
#ifndef TRN_DAEMON_CONFIG_H
#define TRN_DAEMON_CONFIG_H

#include "core/diag.h"
#include "core/log.h"
#include "core/yaml.h"
#include "metrics/store.h"
#include "alerts/config.h"
#include "rules/rules.h"
#include "scrape/scrape.h"

#include <stdint.h>

typedef struct trn_config {
    char *path;          /* NULL when embedded defaults */
    char *text;          /* the YAML as loaded (for /api/v1/status/config) */
    trn_yaml_doc_t *doc; /* parsed document; NULL for defaults */
    /* server */
    char *listen; /* "127.0.0.1:9090" */
    uint64_t max_body_bytes;
    trn_log_level_t log_level;
    /* storage */
    char *data_dir;         /* "./data" */
    trn_store_opts_t store; /* store.dir points into data_dir/metrics (owned here) */
    char *metrics_dir;
    /* query */
    int64_t lookback_delta_ms, query_timeout_ms;
    uint64_t query_max_samples;
    uint64_t query_max_bytes;
    /* global + scrape_configs, parsed by scrape/ */
    trn_scrape_config_t *scrape;
    /* rule_files, parsed by rules/; handed to the rule manager */
    trn_rules_config_t *rules;
    /* alerting */
    char *alertmanager_config; /* path, or NULL (resolved against the config's folder) */
    trn_am_config_t *am;       /* loaded from it; handed to the alert manager */
} trn_config_t;

/* Loads path (NULL: defaults). Errors read "file:line:col: what is wrong". */
int trn_config_load(const char *path, trn_config_t **out, trn_diag_t *d);
/* Parses config text; name is used in error messages as the file name. */
int trn_config_parse(const char *name, const char *text, size_t len, trn_config_t **out,
                     trn_diag_t *d);
/* Root map node of the document, or NULL for defaults. */
const trn_yaml_node_t *trn_config_root(const trn_config_t *c);
/* Loads path as the alertmanager config (replacing any), e.g. for a flag. */
int trn_config_set_alertmanager(trn_config_t *c, const char *path, trn_diag_t *d);
/* Sets the data dir (flag override) and the derived directories. */
void trn_config_set_data_dir(trn_config_t *c, const char *dir);
void trn_config_free(trn_config_t *c);

#endif
