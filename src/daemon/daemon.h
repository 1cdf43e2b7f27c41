/* SPDX-License-Identifier: Apache-2.0 */
/* The running daemon: the one runtime struct that owns every subsystem
 * (STYLE.md: no globals outside it). serve.c builds it, runs the signal
 * loop, reloads and tears it down in reverse order. */
#ifndef TRN_DAEMON_DAEMON_H
#define TRN_DAEMON_DAEMON_H

#include "alerts/alertmanager.h"
#include "api/api.h"
#include "core/registry.h"
#include "daemon/config.h"
#include "metrics/store.h"
#include "net/http.h"
#include "scrape/scrape.h"

#include <pthread.h>

typedef struct trn_daemon {
    trn_config_t *config; /* current config (replaced on reload) */
    char *config_path;    /* NULL: embedded defaults */
    const char *listen_override, *data_override;
    trn_registry_t *registry;
    trn_store_t *store;
    trn_http_server_t *http;
    trn_scrape_manager_t *scrape;
    trn_alertmanager_t *alerts;
    trn_rule_manager_t *rules;
    const char *am_override; /* --alertmanager-config */
    trn_api_ctx_t api;
    pthread_mutex_t reload_mu;
    trn_counter_t *reloads_ok, *reloads_failed;
} trn_daemon_t;

/* Registers the collector for process and store metrics on d->registry. */
void trn_daemon_register_selfmetrics(trn_daemon_t *d);

#endif
