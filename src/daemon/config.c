/* SPDX-License-Identifier: Apache-2.0 */
/* Main config loader. Every section is checked against its list of known
 * keys, so a typo is an error with its position rather than a silently
 * ignored setting. Subsystem sections are only checked for presence here;
 * their owners validate them (see daemon/serve.c for the wiring). */
#include "daemon/config.h"
#include "core/alloc.h"
#include "core/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const top_keys[] = {
    "server",         "storage",     "query",    "global",
    "scrape_configs", "rule_files",  "alerting", "alertmanager_config",
    "remote_write",   "remote_read", NULL};
static const char *const server_keys[] = {"listen", "max_request_bytes", "log_level", NULL};
static const char *const storage_keys[] = {
    "path",        "retention", "retention_size",     "out_of_order_window",
    "block_range", "wal_fsync", "wal_fsync_interval", NULL};
static const char *const query_keys[] = {"lookback_delta", "timeout", "max_samples", "max_bytes",
                                         NULL};

static void defaults(trn_config_t *c)
{
    c->listen = trn_xstrdup("127.0.0.1:9090");
    c->max_body_bytes = 64u << 20;
    c->log_level = TRN_LOG_INFO;
    trn_store_opts_default(&c->store);
    c->store.background = true;
    trn_config_set_data_dir(c, "./data");
    c->lookback_delta_ms = 5 * 60 * 1000;
    c->query_timeout_ms = 2 * 60 * 1000;
    c->query_max_samples = 50000000;
    c->query_max_bytes = (uint64_t)2 << 30;
}

void trn_config_set_data_dir(trn_config_t *c, const char *dir)
{
    free(c->data_dir);
    free(c->metrics_dir);
    c->data_dir = trn_xstrdup(dir);
    size_t n = strlen(dir) + 16;
    c->metrics_dir = trn_xmalloc(n);
    snprintf(c->metrics_dir, n, "%s/metrics", dir);
    c->store.dir = c->metrics_dir;
}

static int parse_server(trn_config_t *c, const trn_yaml_node_t *n, trn_diag_t *d)
{
    int rc = trn_yaml_check_map(n, "server", server_keys, d);
    if (rc < 0) return rc;
    const trn_yaml_node_t *v;
    const char *s;
    if ((v = trn_yaml_get(n, "listen"))) {
        if ((rc = trn_yaml_str(v, &s, d)) < 0) return rc;
        free(c->listen);
        c->listen = trn_xstrdup(s);
    }
    if ((v = trn_yaml_get(n, "max_request_bytes")) &&
        (rc = trn_yaml_bytes(v, &c->max_body_bytes, d)) < 0)
        return rc;
    if ((v = trn_yaml_get(n, "log_level"))) {
        if ((rc = trn_yaml_str(v, &s, d)) < 0) return rc;
        if (trn_log_parse_level(s, &c->log_level) < 0)
            return trn_yaml_error(d, v, "log_level must be debug, info, warn or error, not \"%s\"",
                                  s);
    }
    return 0;
}

static int parse_storage(trn_config_t *c, const trn_yaml_node_t *n, trn_diag_t *d)
{
    int rc = trn_yaml_check_map(n, "storage", storage_keys, d);
    if (rc < 0) return rc;
    const trn_yaml_node_t *v;
    const char *s;
    if ((v = trn_yaml_get(n, "path"))) {
        if ((rc = trn_yaml_str(v, &s, d)) < 0) return rc;
        trn_config_set_data_dir(c, s);
    }
    if ((v = trn_yaml_get(n, "retention")) &&
        (rc = trn_yaml_duration(v, &c->store.retention_ms, d)) < 0)
        return rc;
    if ((v = trn_yaml_get(n, "retention_size")) &&
        (rc = trn_yaml_bytes(v, &c->store.retention_bytes, d)) < 0)
        return rc;
    if ((v = trn_yaml_get(n, "out_of_order_window")) &&
        (rc = trn_yaml_duration(v, &c->store.ooo_window_ms, d)) < 0)
        return rc;
    if ((v = trn_yaml_get(n, "block_range"))) {
        if ((rc = trn_yaml_duration(v, &c->store.block_range_ms, d)) < 0) return rc;
        if (c->store.block_range_ms < 60000)
            return trn_yaml_error(d, v, "block_range must be at least 1m");
    }
    if ((v = trn_yaml_get(n, "wal_fsync"))) {
        if ((rc = trn_yaml_str(v, &s, d)) < 0) return rc;
        if (!strcmp(s, "batch"))
            c->store.fsync_mode = TRN_FSYNC_BATCH;
        else if (!strcmp(s, "interval"))
            c->store.fsync_mode = TRN_FSYNC_INTERVAL;
        else if (!strcmp(s, "never"))
            c->store.fsync_mode = TRN_FSYNC_NEVER;
        else
            return trn_yaml_error(d, v, "wal_fsync must be batch, interval or never, not \"%s\"",
                                  s);
    }
    if ((v = trn_yaml_get(n, "wal_fsync_interval")) &&
        (rc = trn_yaml_duration(v, &c->store.fsync_interval_ms, d)) < 0)
        return rc;
    return 0;
}

static int parse_query(trn_config_t *c, const trn_yaml_node_t *n, trn_diag_t *d)
{
    int rc = trn_yaml_check_map(n, "query", query_keys, d);
    if (rc < 0) return rc;
    const trn_yaml_node_t *v;
    if ((v = trn_yaml_get(n, "lookback_delta")) &&
        (rc = trn_yaml_duration(v, &c->lookback_delta_ms, d)) < 0)
        return rc;
    if ((v = trn_yaml_get(n, "timeout")) &&
        (rc = trn_yaml_duration(v, &c->query_timeout_ms, d)) < 0)
        return rc;
    if ((v = trn_yaml_get(n, "max_samples"))) {
        int64_t x;
        if ((rc = trn_yaml_int(v, &x, d)) < 0) return rc;
        if (x <= 0) return trn_yaml_error(d, v, "max_samples must be positive");
        c->query_max_samples = (uint64_t)x;
    }
    if ((v = trn_yaml_get(n, "max_bytes"))) {
        if ((rc = trn_yaml_bytes(v, &c->query_max_bytes, d)) < 0) return rc;
        if (c->query_max_bytes < (1u << 20))
            return trn_yaml_error(d, v, "max_bytes must be at least 1MiB");
    }
    return 0;
}

static char *read_all(const char *path, trn_diag_t *d)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        trn_diag_set(d, TRN_EIO, -1, "%s: %s", path, strerror(errno));
        return NULL;
    }
    trn_buf_t b;
    trn_buf_init(&b);
    char chunk[65536];
    size_t r;
    while ((r = fread(chunk, 1, sizeof chunk, f)) > 0) {
        trn_buf_append(&b, chunk, r);
        if (b.len > (16u << 20)) {
            fclose(f);
            trn_buf_fini(&b);
            trn_diag_set(d, TRN_ELIMIT, -1, "%s: config larger than 16 MiB", path);
            return NULL;
        }
    }
    fclose(f);
    return trn_buf_steal(&b, NULL);
}

/* A path from the config, relative to the config file's folder. */
static char *resolve(const char *config_path, const char *p)
{
    const char *slash = strrchr(config_path, '/');
    if (p[0] == '/' || !slash) return trn_xstrdup(p);
    size_t n = (size_t)(slash - config_path) + 1 + strlen(p) + 1;
    char *out = trn_xmalloc(n);
    snprintf(out, n, "%.*s/%s", (int)(slash - config_path), config_path, p);
    return out;
}

int trn_config_set_alertmanager(trn_config_t *c, const char *path, trn_diag_t *d)
{
    trn_am_config_t *am = NULL;
    int rc = trn_alertmanager_config_load(path, &am, d);
    if (rc < 0) return rc;
    trn_am_config_free(c->am);
    c->am = am;
    free(c->alertmanager_config);
    c->alertmanager_config = trn_xstrdup(path);
    return 0;
}

int trn_config_parse(const char *name, const char *text, size_t len, trn_config_t **out,
                     trn_diag_t *d)
{
    trn_config_t *c = trn_xcalloc(1, sizeof *c);
    defaults(c);
    int rc = 0;
    c->path = trn_xstrdup(name);
    c->text = trn_xstrndup(text, len);
    rc = trn_yaml_parse(name, text, len, &c->doc, d);
    if (rc < 0) goto fail;
    const trn_yaml_node_t *root = trn_yaml_root(c->doc);
    if (!root || trn_yaml_is_null(root)) goto done; /* empty file: defaults */
    rc = trn_yaml_check_map(root, "the config file", top_keys, d);
    if (rc < 0) goto fail;
    const trn_yaml_node_t *v;
    if ((v = trn_yaml_get(root, "server")) && (rc = parse_server(c, v, d)) < 0) goto fail;
    if ((v = trn_yaml_get(root, "storage")) && (rc = parse_storage(c, v, d)) < 0) goto fail;
    if ((v = trn_yaml_get(root, "query")) && (rc = parse_query(c, v, d)) < 0) goto fail;
    if ((v = trn_yaml_get(root, "alertmanager_config"))) {
        const char *s;
        if ((rc = trn_yaml_str(v, &s, d)) < 0) goto fail;
        char *path = resolve(name, s);
        rc = trn_config_set_alertmanager(c, path, d);
        free(path);
        if (rc < 0) goto fail;
    }
    if ((rc = trn_scrape_config_parse(root, &c->scrape, d)) < 0) goto fail;
    {
        char *dir = resolve(name, ".");
        rc = trn_rules_config_parse(root, dir, &c->rules, d);
        free(dir);
        if (rc < 0) goto fail;
    }
done:
    *out = c;
    return 0;
fail:
    trn_config_free(c);
    return rc < 0 ? rc : TRN_EINVAL;
}

int trn_config_load(const char *path, trn_config_t **out, trn_diag_t *d)
{
    if (!path) {
        trn_config_t *c = trn_xcalloc(1, sizeof *c);
        defaults(c);
        c->text = trn_xstrdup("# embedded defaults\n");
        *out = c;
        return 0;
    }
    char *text = read_all(path, d);
    if (!text) return d && d->code ? d->code : TRN_EIO;
    int rc = trn_config_parse(path, text, strlen(text), out, d);
    free(text);
    return rc;
}

const trn_yaml_node_t *trn_config_root(const trn_config_t *c)
{
    return c->doc ? trn_yaml_root(c->doc) : NULL;
}

void trn_config_free(trn_config_t *c)
{
    if (!c) return;
    trn_scrape_config_free(c->scrape);
    trn_rules_config_free(c->rules);
    trn_am_config_free(c->am);
    trn_yaml_free(c->doc);
    free(c->path);
    free(c->text);
    free(c->listen);
    free(c->data_dir);
    free(c->metrics_dir);
    free(c->alertmanager_config);
    free(c);
}
