/* SPDX-License-Identifier: Apache-2.0 */
/* `trine serve`, `trine check-config` and `trine version`. Serve opens the
 * store (replaying the WAL) before it listens, so a request never sees a
 * half-loaded store. Signals are blocked in every thread and taken by the
 * main thread with sigwait: SIGHUP reloads, SIGTERM/SIGINT stop accepting,
 * let in-flight requests finish, flush the store and exit 0. */
#include "daemon/commands.h"
#include "daemon/daemon.h"
#include "rules/to_alertmanager.h"
#include "core/version.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/timefmt.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct serve_args {
    const char *config, *listen, *data, *log_level, *alertmanager_config;
} serve_args_t;

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "trine serve: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    fprintf(stderr, "usage: trine serve [--config FILE] [--listen HOST:PORT] [--data DIR] "
                    "[--log-level LEVEL] [--alertmanager-config FILE]\n");
    return 2;
}

/* Accepts "--flag value" and "--flag=value". */
static const char *flag_value(int argc, char **argv, int *i, const char *flag)
{
    size_t n = strlen(flag);
    if (strncmp(argv[*i], flag, n) != 0) return NULL;
    if (argv[*i][n] == '=') return argv[*i] + n + 1;
    if (argv[*i][n] != 0 || *i + 1 >= argc) return NULL;
    return argv[++*i];
}

static int parse_args(int argc, char **argv, serve_args_t *a)
{
    for (int i = 0; i < argc; i++) {
        const char *v;
        if ((v = flag_value(argc, argv, &i, "--config")) ||
            (v = flag_value(argc, argv, &i, "--config.file")))
            a->config = v;
        else if ((v = flag_value(argc, argv, &i, "--listen")))
            a->listen = v;
        else if ((v = flag_value(argc, argv, &i, "--data")))
            a->data = v;
        else if ((v = flag_value(argc, argv, &i, "--log-level")))
            a->log_level = v;
        else if ((v = flag_value(argc, argv, &i, "--alertmanager-config")))
            a->alertmanager_config = v;
        else
            return usage_error("unknown or incomplete flag", argv[i]);
    }
    return 0;
}

static int load_config(trn_daemon_t *dm, trn_config_t **out, trn_diag_t *d)
{
    int rc = trn_config_load(dm->config_path, out, d);
    if (rc < 0) return rc;
    if (dm->listen_override) {
        free((*out)->listen);
        (*out)->listen = trn_xstrdup(dm->listen_override);
    }
    if (dm->data_override) trn_config_set_data_dir(*out, dm->data_override);
    if (dm->am_override) {
        rc = trn_config_set_alertmanager(*out, dm->am_override, d);
        if (rc < 0) {
            trn_config_free(*out);
            *out = NULL;
            return rc;
        }
    }
    return 0;
}

/* Hands each subsystem its part of config c (at start and on reload). A
 * subsystem that refuses its part fails the whole reload. */
static int apply_subsystems(trn_daemon_t *dm, trn_config_t *c, trn_diag_t *d)
{
    if (c->am) {
        int rc;
        if (!dm->alerts) {
            trn_am_opts_t o = {0}; /* state goes to <data>/alertmanager */
            rc = trn_alertmanager_new(c->am, c->data_dir, dm->registry, &o, &dm->alerts, d);
            dm->api.alerts = dm->alerts;
        } else
            rc = trn_alertmanager_reload(dm->alerts, c->am, d);
        if (rc < 0) return rc;
        c->am = NULL; /* owned by the alert manager now */
    }
    if (c->rules) {
        bool first = !dm->rules;
        if (first) {
            char url[300];
            snprintf(url, sizeof url, "http://%s", c->listen);
            trn_rule_manager_opts_t o = {.external_url = url,
                                         .lookback_delta_ms = c->lookback_delta_ms,
                                         .query_timeout_ms = c->query_timeout_ms,
                                         .query_max_samples = c->query_max_samples};
            dm->rules = trn_rule_manager_new(dm->store, dm->registry, &o);
            if (dm->alerts)
                trn_rule_manager_set_notify(dm->rules, trn_rules_notify_alertmanager, dm->alerts);
            dm->api.rules = dm->rules;
        }
        int rc = trn_rule_manager_apply(dm->rules, c->rules, d);
        c->rules = NULL; /* owned by the rule manager, also on error */
        if (rc < 0) return rc;
        if (first && (rc = trn_rule_manager_start(dm->rules, d)) < 0) return rc;
    }
    if (c->scrape) {
        if (!dm->scrape) {
            dm->scrape = trn_scrape_manager_new(dm->store, dm->registry);
            dm->api.scrape = dm->scrape;
        }
        int rc = trn_scrape_manager_apply(dm->scrape, c->scrape, d);
        if (rc < 0) return rc;
    }
    return 0;
}

/* Re-reads the config file and applies what can change at runtime. The
 * store and listener keep their settings (a restart changes those). */
static int reload(void *daemon, trn_diag_t *d)
{
    trn_daemon_t *dm = daemon;
    pthread_mutex_lock(&dm->reload_mu);
    trn_config_t *nc = NULL;
    int rc = load_config(dm, &nc, d);
    if (rc == 0) rc = apply_subsystems(dm, nc, d);
    if (rc == 0) {
        trn_config_t *old = dm->config;
        dm->config = nc;
        dm->api.config_yaml = nc->text;
        trn_config_free(old);
        trn_counter_inc(dm->reloads_ok);
        trn_log(TRN_LOG_INFO, "daemon", "config reloaded", "file",
                dm->config_path ? dm->config_path : "(defaults)", NULL);
    } else {
        trn_counter_inc(dm->reloads_failed);
        trn_log(TRN_LOG_ERROR, "daemon", "config reload failed", "error", d->msg, NULL);
    }
    pthread_mutex_unlock(&dm->reload_mu);
    return rc;
}

static int start(trn_daemon_t *dm, trn_diag_t *d)
{
    trn_config_t *c = dm->config;
    if (trn_fs_mkdir_p(c->metrics_dir) < 0)
        return trn_diag_set(d, TRN_EIO, -1, "cannot create data directory %s: %s", c->data_dir,
                            strerror(errno));
    int64_t t0 = trn_mono_ns();
    int rc = trn_store_open(&c->store, &dm->store, d);
    if (rc < 0) return rc;
    char ms[32];
    snprintf(ms, sizeof ms, "%.1f", (double)(trn_mono_ns() - t0) / 1e6);
    trn_log(TRN_LOG_INFO, "daemon", "metrics store opened", "dir", c->metrics_dir, "ms", ms, NULL);

    dm->api = (trn_api_ctx_t){
        .store = dm->store,
        .registry = dm->registry,
        .config_yaml = c->text,
        .start_time_ms = trn_now_ms(),
        .lookback_delta_ms = c->lookback_delta_ms,
        .query_timeout_ms = c->query_timeout_ms,
        .query_max_samples = c->query_max_samples,
        .query_max_bytes = c->query_max_bytes,
        .reload = reload,
        .daemon = dm,
    };
    trn_http_opts_t ho = {
        .listen = c->listen, .max_body_bytes = c->max_body_bytes, .registry = dm->registry};
    dm->http = trn_http_server_new(&ho);
    for (size_t i = 0; i < trn_api_n_tables; i++)
        trn_http_add_routes(dm->http, trn_api_tables[i].routes, trn_api_tables[i].n, &dm->api);
    /* Subsystems first: a request must never see a half-started daemon. */
    rc = apply_subsystems(dm, c, d);
    if (rc < 0) return rc;
    rc = trn_http_server_start(dm->http, d);
    if (rc < 0) return rc;
    char port[16];
    snprintf(port, sizeof port, "%d", trn_http_server_port(dm->http));
    trn_log(TRN_LOG_INFO, "daemon", "listening", "address", c->listen, "port", port, NULL);
    return 0;
}

static void stop(trn_daemon_t *dm)
{
    trn_http_server_free(dm->http); /* waits for in-flight requests */
    dm->http = NULL;
    trn_rule_manager_free(dm->rules); /* before the store and the alert manager */
    dm->rules = NULL;
    trn_scrape_manager_free(dm->scrape); /* writes staleness markers */
    dm->scrape = NULL;
    trn_alertmanager_free(dm->alerts); /* persists silences and the notification log */
    dm->alerts = NULL;
    trn_store_close(dm->store);
    dm->store = NULL;
}

int trn_cmd_serve(int argc, char **argv)
{
    serve_args_t a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc;
    trn_daemon_t dm = {.config_path = (char *)a.config,
                       .listen_override = a.listen,
                       .data_override = a.data,
                       .am_override = a.alertmanager_config};
    pthread_mutex_init(&dm.reload_mu, NULL);
    trn_diag_t d;
    trn_diag_init(&d);
    if (load_config(&dm, &dm.config, &d) < 0) {
        fprintf(stderr, "trine: %s\n", d.msg);
        return 1;
    }
    trn_log_level_t lvl = dm.config->log_level;
    if (a.log_level && trn_log_parse_level(a.log_level, &lvl) < 0)
        return usage_error("bad --log-level", a.log_level);
    trn_log_set_level(lvl);

    /* Block the signals before any thread starts so that all inherit it. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    dm.registry = trn_registry_new();
    dm.reloads_ok = trn_counter_get(dm.registry, "trine_config_reloads_total",
                                    "Config reloads by result.", "result=\"success\"");
    dm.reloads_failed = trn_counter_get(dm.registry, "trine_config_reloads_total",
                                        "Config reloads by result.", "result=\"failure\"");
    trn_log(TRN_LOG_INFO, "daemon", "starting trine", "version", TRN_VERSION, "config",
            a.config ? a.config : "(embedded defaults)", NULL);
    if (start(&dm, &d) < 0) {
        trn_log(TRN_LOG_ERROR, "daemon", "cannot start", "error", d.msg, NULL);
        stop(&dm);
        trn_config_free(dm.config);
        trn_registry_free(dm.registry);
        return 1;
    }
    trn_daemon_register_selfmetrics(&dm);

    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0) continue;
        if (sig == SIGHUP) {
            trn_diag_init(&d);
            reload(&dm, &d);
            continue;
        }
        trn_log(TRN_LOG_INFO, "daemon", "shutting down", "signal", strsignal(sig), NULL);
        break;
    }
    stop(&dm);
    trn_config_free(dm.config);
    trn_registry_free(dm.registry);
    pthread_mutex_destroy(&dm.reload_mu);
    trn_log(TRN_LOG_INFO, "daemon", "stopped", NULL);
    return 0;
}

/* `trine check-config [FILE...] [--alertmanager-config FILE]`: loads each
 * main config (with every subsystem's section) and each alertmanager
 * config, printing SUCCESS or the first error with its position. */
int trn_cmd_check_config(int argc, char **argv)
{
    int bad = 0, checked = 0;
    for (int i = 0; i < argc; i++) {
        trn_diag_t d;
        trn_diag_init(&d);
        const char *am = flag_value(argc, argv, &i, "--alertmanager-config");
        if (am) {
            trn_am_config_t *c = NULL;
            checked++;
            if (trn_alertmanager_config_load(am, &c, &d) < 0) {
                fprintf(stderr, "%s\n", d.msg);
                bad = 1;
                continue;
            }
            trn_am_config_free(c);
            printf("%s: SUCCESS\n", am);
            continue;
        }
        if (argv[i][0] == '-') {
            fprintf(stderr, "trine check-config: unknown flag %s\n", argv[i]);
            return 2;
        }
        trn_config_t *c = NULL;
        checked++;
        if (trn_config_load(argv[i], &c, &d) < 0) {
            fprintf(stderr, "%s\n", d.msg);
            bad = 1;
            continue;
        }
        trn_config_free(c);
        printf("%s: SUCCESS\n", argv[i]);
    }
    if (!checked) {
        fprintf(stderr, "usage: trine check-config [FILE...] [--alertmanager-config FILE]\n");
        return 2;
    }
    return bad;
}

int trn_cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("trine, version %s (revision: %s, branch: %s)\n  build date: %s\n", TRN_VERSION,
           TRN_REVISION, TRN_BRANCH, TRN_BUILD_DATE);
    return 0;
}
