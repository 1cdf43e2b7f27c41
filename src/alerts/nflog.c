/* SPDX-License-Identifier: Apache-2.0 */
/* The notification log: for each (group key, receiver integration) the
 * time of the last successful notification and the fingerprints of the
 * firing and resolved alerts it carried. The dispatcher's deduplication
 * asks it whether anything changed or the repeat interval has passed, as
 * Alertmanager's nflog does.
 *
 * Each successful notification appends one JSON record to <state>/nflog
 * (statelog.c); the notifier fsyncs it (outside the manager's lock, so
 * concurrent notifications share one flush) before it moves on, so after a kill -9
 * the restarted manager knows what it already sent and does not send it
 * again inside repeat_interval. Entries expire after their retention; the
 * file is compacted to the live entries at open and whenever the appended
 * records outnumber the live ones. */
#include "alerts/am_int.h"

#include "core/alloc.h"
#include "core/json.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t key_hash(const char *k)
{
    uint64_t h = 14695981039346656037ULL;
    for (const unsigned char *p = (const unsigned char *)k; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h;
}

static void nfe_free(trn__am_nfe_t *e)
{
    if (!e) return;
    free(e->key);
    free(e->firing);
    free(e->resolved);
    free(e);
}

static void set_entry(trn_alertmanager_t *am, trn__am_nfe_t *e)
{
    uint64_t h = key_hash(e->key);
    /* a colliding different key overwrites: the worst case is one extra notification */
    trn__am_nfe_t *old = trn__am_map_put(&am->nflog, h, e);
    nfe_free(old);
}

static void nfe_json(const trn__am_nfe_t *e, trn_buf_t *out)
{
    trn_json_t j;
    trn_json_init(&j, out);
    trn_json_obj_begin(&j);
    trn_json_key(&j, "key");
    trn_json_str(&j, e->key);
    trn_json_key(&j, "ts");
    trn_json_int(&j, e->ts);
    trn_json_key(&j, "expires");
    trn_json_int(&j, e->expires);
    char hex[17];
    trn_json_key(&j, "firing");
    trn_json_arr_begin(&j);
    for (size_t i = 0; i < e->n_firing; i++) {
        snprintf(hex, sizeof hex, "%016" PRIx64, e->firing[i]);
        trn_json_str(&j, hex);
    }
    trn_json_arr_end(&j);
    trn_json_key(&j, "resolved");
    trn_json_arr_begin(&j);
    for (size_t i = 0; i < e->n_resolved; i++) {
        snprintf(hex, sizeof hex, "%016" PRIx64, e->resolved[i]);
        trn_json_str(&j, hex);
    }
    trn_json_arr_end(&j);
    trn_json_obj_end(&j);
}

static uint64_t *read_fps(json_t *arr, size_t *n)
{
    size_t k = json_array_size(arr);
    uint64_t *v = trn_xcalloc(k ? k : 1, sizeof *v);
    size_t i;
    json_t *x;
    *n = 0;
    json_array_foreach(arr, i, x)
    {
        const char *s = json_string_value(x);
        if (s) v[(*n)++] = strtoull(s, NULL, 16);
    }
    return v;
}

static void on_record(void *ctx, const char *payload, size_t len)
{
    trn_alertmanager_t *am = ctx;
    json_error_t err;
    json_t *o = json_loadb(payload, len, 0, &err);
    if (!o) return;
    const char *key = json_string_value(json_object_get(o, "key"));
    if (key) {
        trn__am_nfe_t *e = trn_xcalloc(1, sizeof *e);
        e->key = trn_xstrdup(key);
        e->ts = json_integer_value(json_object_get(o, "ts"));
        e->expires = json_integer_value(json_object_get(o, "expires"));
        e->firing = read_fps(json_object_get(o, "firing"), &e->n_firing);
        e->resolved = read_fps(json_object_get(o, "resolved"), &e->n_resolved);
        set_entry(am, e);
    }
    json_decref(o);
}

static void compact(trn_alertmanager_t *am, int64_t now)
{
    trn_buf_t recs, one;
    trn_buf_init(&recs);
    trn_buf_init(&one);
    size_t i = 0;
    uint64_t k;
    void *v;
    uint64_t *dead = NULL;
    size_t n_dead = 0;
    while (trn__am_map_next(&am->nflog, &i, &k, &v)) {
        trn__am_nfe_t *e = v;
        if (e->expires < now) {
            dead = trn_xrealloc(dead, (n_dead + 1) * sizeof *dead);
            dead[n_dead++] = k;
            continue;
        }
        one.len = 0;
        nfe_json(e, &one);
        trn__am_statelog_frame(&recs, one.data, one.len);
    }
    for (size_t j = 0; j < n_dead; j++)
        nfe_free(trn__am_map_del(&am->nflog, dead[j]));
    free(dead);
    if (am->nf_log) trn__am_statelog_rewrite(am->nf_log, &recs);
    trn_buf_fini(&recs);
    trn_buf_fini(&one);
}

int trn__am_nflog_open(trn_alertmanager_t *am, trn_diag_t *d)
{
    if (!am->state_dir) return 0;
    size_t n = strlen(am->state_dir) + 16;
    char *p = trn_xmalloc(n);
    snprintf(p, n, "%s/nflog", am->state_dir);
    int rc = trn__am_statelog_open(p, "TRNAMNFL", on_record, am, &am->nf_log, d);
    free(p);
    if (rc < 0) return rc;
    compact(am, trn__am_now(am));
    return 0;
}

const trn__am_nfe_t *trn__am_nflog_get(trn_alertmanager_t *am, const char *key)
{
    trn__am_nfe_t *e = trn__am_map_get(&am->nflog, key_hash(key));
    return e && !strcmp(e->key, key) ? e : NULL;
}

void trn__am_nflog_log(trn_alertmanager_t *am, const char *key, int64_t now, int64_t retention_ms,
                       const uint64_t *firing, size_t n_firing, const uint64_t *resolved,
                       size_t n_resolved)
{
    trn__am_nfe_t *e = trn_xcalloc(1, sizeof *e);
    e->key = trn_xstrdup(key);
    e->ts = now;
    e->expires = now + retention_ms;
    e->firing = trn_xmalloc((n_firing ? n_firing : 1) * sizeof *e->firing);
    e->resolved = trn_xmalloc((n_resolved ? n_resolved : 1) * sizeof *e->resolved);
    if (n_firing) memcpy(e->firing, firing, n_firing * sizeof *firing);
    if (n_resolved) memcpy(e->resolved, resolved, n_resolved * sizeof *resolved);
    e->n_firing = n_firing;
    e->n_resolved = n_resolved;
    if (am->nf_log) {
        trn_buf_t b;
        trn_buf_init(&b);
        nfe_json(e, &b);
        trn__am_statelog_append(am->nf_log, b.data, b.len, false);
        trn_buf_fini(&b);
    }
    set_entry(am, e);
    if (am->nf_log && trn__am_statelog_appended(am->nf_log) > 2 * am->nflog.n + 256)
        compact(am, now);
}

void trn__am_nflog_sync(trn_alertmanager_t *am)
{
    if (am->nf_log) trn__am_statelog_sync(am->nf_log);
}

void trn__am_nflog_free(trn_alertmanager_t *am)
{
    size_t i = 0;
    void *v;
    while (trn__am_map_next(&am->nflog, &i, NULL, &v))
        nfe_free(v);
    trn__am_map_fini(&am->nflog);
    trn__am_statelog_close(am->nf_log);
    am->nf_log = NULL;
}
