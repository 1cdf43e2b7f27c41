/* SPDX-License-Identifier: Apache-2.0 */
/* The scrape manager: one pool per job, each holding the targets that
 * discovery (static_configs and file_sd_configs) and relabeling produced,
 * and one discovery thread that watches the file_sd files.
 *
 * Sync is the one operation everything goes through (apply, a file that
 * changed, the refresh interval): it computes the pool's wanted targets —
 * identified by their full label set (including the __ labels, so a new
 * address, path, scheme or interval is a new target) plus URL — keeps the
 * running loops whose identity is still wanted (pointing them at the new
 * config), starts loops for new identities and stops the others with
 * staleness markers. A target that stays therefore keeps its health, last
 * scrape and series cache across reloads.
 *
 * Files are watched by polling their stat data (inode, size, mtime in ns)
 * every second, which notices edits, atomic renames and deletions without
 * inotify; a full re-read also happens every refresh_interval. A file that
 * fails to parse keeps its previous groups (logged once per change), as
 * Prometheus does; a deleted file's targets go away.
 *
 * Locking: m->mu guards the pools and is held during a sync (stopping a
 * loop aborts its transfer through curl's progress callback, so the wait
 * is short). Loop threads never take m->mu, only their target's mutex. */
#include "scrape/scrape_int.h"

#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "core/timefmt.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SD_POLL_MS 1000

typedef struct sd_file {
    char *path;
    char sig[96]; /* stat signature at the last read */
    trn__tgroup_t *groups;
    size_t n_groups;
    bool seen; /* still matched by the patterns in this round */
} sd_file_t;

typedef struct pool {
    char *name;
    const trn__scrape_job_t *job; /* from m->cfg */
    trn__target_t **targets;
    size_t n_targets;
    trn_arena_t *dropped_arena;
    trn_labels_t *dropped; /* discovered labels of dropped targets */
    size_t n_dropped;
    sd_file_t *files;
    size_t n_files;
    int64_t next_refresh_ms;
} pool_t;

struct trn_scrape_manager {
    struct trn_store *store;
    trn_registry_t *reg;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    trn_scrape_config_t *cfg;
    pool_t **pools;
    size_t n_pools;
    pthread_t sd_thread;
    bool sd_started, stopping;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
}

/* ---- file_sd state ---- */

static void file_sig(const char *path, char out[96])
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(out, 96, "missing");
        return;
    }
    snprintf(out, 96, "%llu/%lld/%lld.%09ld", (unsigned long long)st.st_ino, (long long)st.st_size,
             (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

static void sd_file_clear(sd_file_t *f)
{
    for (size_t i = 0; i < f->n_groups; i++)
        trn__tgroup_fini(&f->groups[i]);
    free(f->groups);
    f->groups = NULL;
    f->n_groups = 0;
}

typedef struct glob_ctx {
    pool_t *p;
    bool force;
    bool changed;
} glob_ctx_t;

static void on_sd_path(void *ctx, const char *path)
{
    glob_ctx_t *g = ctx;
    pool_t *p = g->p;
    sd_file_t *f = NULL;
    for (size_t i = 0; i < p->n_files && !f; i++)
        if (strcmp(p->files[i].path, path) == 0) f = &p->files[i];
    if (!f) {
        p->files = trn_xrealloc(p->files, (p->n_files + 1) * sizeof *p->files);
        f = &p->files[p->n_files++];
        memset(f, 0, sizeof *f);
        f->path = trn_xstrdup(path);
    }
    if (f->seen) return; /* matched by two patterns */
    f->seen = true;
    char sig[96];
    file_sig(path, sig);
    if (!g->force && strcmp(sig, f->sig) == 0) return;
    trn__tgroup_t *gs = NULL;
    size_t n = 0;
    trn_diag_t d;
    trn_diag_init(&d);
    if (trn__file_sd_read(path, &gs, &n, &d) < 0) {
        if (strcmp(sig, f->sig) != 0)
            trn_log(TRN_LOG_ERROR, "scrape", "file_sd: cannot read targets file", "job", p->name,
                    "file", path, "err", d.msg, NULL);
        memcpy(f->sig, sig, sizeof sig); /* do not re-read until it changes again */
        return;
    }
    sd_file_clear(f);
    f->groups = gs;
    f->n_groups = n;
    memcpy(f->sig, sig, sizeof sig);
    g->changed = true;
}

/* Re-globs the job's files and re-reads the changed ones (all when force).
 * Returns true when the pool's groups changed. */
static bool refresh_files(pool_t *p, bool force)
{
    glob_ctx_t g = {p, force, false};
    for (size_t i = 0; i < p->n_files; i++)
        p->files[i].seen = false;
    trn__file_sd_glob(p->job, on_sd_path, &g);
    for (size_t i = 0; i < p->n_files;) {
        if (p->files[i].seen) {
            i++;
            continue;
        }
        sd_file_clear(&p->files[i]);
        free(p->files[i].path);
        p->files[i] = p->files[--p->n_files];
        g.changed = true;
    }
    return g.changed;
}

/* ---- sync ---- */

typedef struct wanted {
    trn_labels_t discovered, labels;
    char *url, *key;
    bool matched;
} wanted_t;

static void add_group(pool_t *p, const trn__tgroup_t *g, trn_arena_t *a, wanted_t **w, size_t *n,
                      size_t *cap, trn_labels_t **dropped, size_t *n_dropped, size_t *cap_dropped)
{
    for (size_t i = 0; i < g->n_targets; i++) {
        trn_labels_t disc, labels;
        trn_diag_t d;
        trn_diag_init(&d);
        int rc = trn__target_labels(p->job, g, i, a, &disc, &labels, &d);
        if (rc < 0) {
            trn_log(TRN_LOG_WARN, "scrape", "invalid target", "job", p->name, "target",
                    g->targets[i], "err", d.msg, NULL);
            continue;
        }
        if (rc == 0) {
            if (*n_dropped == *cap_dropped) {
                *cap_dropped = *cap_dropped * 2 + 16;
                *dropped = trn_xrealloc(*dropped, *cap_dropped * sizeof **dropped);
            }
            (*dropped)[(*n_dropped)++] = disc;
            continue;
        }
        char *url = trn__target_url(p->job, &labels, a);
        trn_buf_t k;
        trn_buf_init(&k);
        trn_labels_format(&labels, &k);
        trn_buf_printf(&k, " %s", url ? url : "");
        char *key = trn_arena_strndup(a, k.data, k.len);
        trn_buf_fini(&k);
        if (!url || !key) continue;
        bool dup = false;
        for (size_t j = 0; j < *n && !dup; j++)
            dup = strcmp((*w)[j].key, key) == 0;
        if (dup) continue;
        if (*n == *cap) {
            *cap = *cap * 2 + 16;
            *w = trn_xrealloc(*w, *cap * sizeof **w);
        }
        (*w)[(*n)++] = (wanted_t){disc, labels, url, key, false};
    }
}

static void sync_pool(trn_scrape_manager_t *m, pool_t *p)
{
    trn_arena_t *a = trn_arena_new(0);
    wanted_t *w = NULL;
    size_t n = 0, cap = 0, n_dropped = 0, cap_dropped = 0;
    trn_labels_t *dropped = NULL;
    for (size_t i = 0; i < p->job->n_static; i++)
        add_group(p, &p->job->static_groups[i], a, &w, &n, &cap, &dropped, &n_dropped,
                  &cap_dropped);
    for (size_t f = 0; f < p->n_files; f++)
        for (size_t i = 0; i < p->files[f].n_groups; i++)
            add_group(p, &p->files[f].groups[i], a, &w, &n, &cap, &dropped, &n_dropped,
                      &cap_dropped);

    /* Keep, stop, start. */
    size_t kept = 0;
    for (size_t i = 0; i < p->n_targets; i++) {
        trn__target_t *t = p->targets[i];
        wanted_t *match = NULL;
        for (size_t j = 0; j < n && !match; j++)
            if (!w[j].matched && strcmp(w[j].key, t->key) == 0) match = &w[j];
        if (match) {
            match->matched = true;
            trn__target_set_job(t, m->cfg, p->job);
            p->targets[kept++] = t;
        } else {
            trn__target_stop(t, true);
        }
    }
    p->n_targets = kept;
    p->targets = trn_xrealloc(p->targets, (kept + n + 1) * sizeof *p->targets);
    for (size_t j = 0; j < n; j++)
        if (!w[j].matched)
            p->targets[p->n_targets++] =
                trn__target_start(m->store, m->reg, m->cfg, p->job, &w[j].discovered, &w[j].labels,
                                  w[j].url, w[j].key);

    /* Dropped targets keep copies of their discovered labels. */
    trn_arena_free(p->dropped_arena);
    free(p->dropped);
    p->dropped_arena = trn_arena_new(0);
    p->dropped = trn_xcalloc(n_dropped + 1, sizeof *p->dropped);
    p->n_dropped = n_dropped;
    for (size_t i = 0; i < n_dropped; i++)
        trn_labels_copy(p->dropped_arena, &dropped[i], &p->dropped[i]);
    free(dropped);
    free(w);
    trn_arena_free(a);
}

static void pool_free(pool_t *p, bool write_stale)
{
    if (!p) return;
    for (size_t i = 0; i < p->n_targets; i++)
        trn__target_stop(p->targets[i], write_stale);
    free(p->targets);
    for (size_t i = 0; i < p->n_files; i++) {
        sd_file_clear(&p->files[i]);
        free(p->files[i].path);
    }
    free(p->files);
    trn_arena_free(p->dropped_arena);
    free(p->dropped);
    free(p->name);
    free(p);
}

/* ---- discovery thread ---- */

static void *sd_main(void *arg)
{
    trn_scrape_manager_t *m = arg;
    pthread_mutex_lock(&m->mu);
    while (!m->stopping) {
        struct timespec until;
        int64_t wake = trn_now_ms() + SD_POLL_MS;
        until.tv_sec = wake / 1000;
        until.tv_nsec = (long)(wake % 1000) * 1000000L;
        pthread_cond_timedwait(&m->cv, &m->mu, &until);
        if (m->stopping) break;
        int64_t now = trn_now_ms();
        for (size_t i = 0; i < m->n_pools; i++) {
            pool_t *p = m->pools[i];
            if (!p->job->n_sd_files) continue;
            bool force = now >= p->next_refresh_ms;
            if (force) p->next_refresh_ms = now + p->job->sd_refresh_ms;
            if (refresh_files(p, force)) sync_pool(m, p);
        }
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

/* ---- public ---- */

trn_scrape_manager_t *trn_scrape_manager_new(struct trn_store *store, trn_registry_t *reg)
{
    pthread_once(&curl_once, curl_init_once);
    trn_scrape_manager_t *m = trn_xcalloc(1, sizeof *m);
    m->store = store;
    m->reg = reg;
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    return m;
}

int trn_scrape_manager_apply(trn_scrape_manager_t *m, const trn_scrape_config_t *c, trn_diag_t *d)
{
    (void)d;
    trn_scrape_config_t *ref = trn__scrape_config_ref(c);
    pthread_mutex_lock(&m->mu);
    trn_scrape_config_t *old = m->cfg;
    m->cfg = ref;
    /* Pools of removed jobs go first, with staleness markers. */
    for (size_t i = 0; i < m->n_pools;) {
        bool found = false;
        for (size_t j = 0; j < c->n_jobs && !found; j++)
            found = strcmp(c->jobs[j].name, m->pools[i]->name) == 0;
        if (found) {
            i++;
            continue;
        }
        pool_free(m->pools[i], true);
        m->pools[i] = m->pools[--m->n_pools];
    }
    pool_t **pools = trn_xcalloc(c->n_jobs + 1, sizeof *pools);
    for (size_t j = 0; j < c->n_jobs; j++) {
        pool_t *p = NULL;
        for (size_t i = 0; i < m->n_pools && !p; i++)
            if (m->pools[i] && strcmp(m->pools[i]->name, c->jobs[j].name) == 0) {
                p = m->pools[i];
                m->pools[i] = NULL;
            }
        if (!p) {
            p = trn_xcalloc(1, sizeof *p);
            p->name = trn_xstrdup(c->jobs[j].name);
        }
        p->job = &c->jobs[j];
        p->next_refresh_ms = trn_now_ms() + p->job->sd_refresh_ms;
        refresh_files(p, true);
        sync_pool(m, p);
        pools[j] = p;
    }
    free(m->pools);
    m->pools = pools;
    m->n_pools = c->n_jobs;
    if (!m->sd_started) m->sd_started = pthread_create(&m->sd_thread, NULL, sd_main, m) == 0;
    pthread_mutex_unlock(&m->mu);
    trn_scrape_config_free(old);
    trn_logf(TRN_LOG_INFO, "scrape", "scrape config applied: %zu jobs", c->n_jobs);
    return 0;
}

void trn_scrape_manager_free(trn_scrape_manager_t *m)
{
    if (!m) return;
    pthread_mutex_lock(&m->mu);
    m->stopping = true;
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
    if (m->sd_started) pthread_join(m->sd_thread, NULL);
    for (size_t i = 0; i < m->n_pools; i++)
        pool_free(m->pools[i], true);
    free(m->pools);
    trn_scrape_config_free(m->cfg);
    pthread_mutex_destroy(&m->mu);
    pthread_cond_destroy(&m->cv);
    free(m);
}

static int copy_info(trn_arena_t *a, trn__target_t *t, const char *pool, trn_target_info_t *o)
{
    memset(o, 0, sizeof *o);
    if (trn_labels_copy(a, &t->discovered, &o->discovered) < 0 ||
        trn_labels_copy(a, &t->series_labels, &o->labels) < 0)
        return TRN_ELIMIT;
    o->pool = trn_arena_strndup(a, pool, strlen(pool));
    o->url = trn_arena_strndup(a, t->url, strlen(t->url));
    pthread_mutex_lock(&t->mu);
    o->last_error = trn_arena_strndup(a, t->last_error, strlen(t->last_error));
    o->last_scrape_ms = t->last_scrape_ms;
    o->last_duration_s = t->last_duration_s;
    o->health = t->health;
    pthread_mutex_unlock(&t->mu);
    o->interval_ms = t->interval_ms;
    o->timeout_ms = t->timeout_ms;
    return o->pool && o->url && o->last_error ? 0 : TRN_ELIMIT;
}

static int info_cmp(const void *x, const void *y)
{
    const trn_target_info_t *a = x, *b = y;
    int c = strcmp(a->pool, b->pool);
    if (c) return c;
    c = trn_labels_cmp(&a->labels, &b->labels);
    return c ? c : trn_labels_cmp(&a->discovered, &b->discovered);
}

int trn_scrape_manager_targets(trn_scrape_manager_t *m, trn_arena_t *a, trn_target_info_t **active,
                               size_t *n_active, trn_target_info_t **dropped, size_t *n_dropped)
{
    int rc = 0;
    pthread_mutex_lock(&m->mu);
    size_t na = 0, nd = 0;
    for (size_t i = 0; i < m->n_pools; i++) {
        na += m->pools[i]->n_targets;
        nd += m->pools[i]->n_dropped;
    }
    trn_target_info_t *av = active ? trn_arena_calloc(a, na + 1, sizeof *av) : NULL;
    trn_target_info_t *dv = dropped ? trn_arena_calloc(a, nd + 1, sizeof *dv) : NULL;
    if ((active && !av) || (dropped && !dv)) {
        rc = TRN_ELIMIT;
        goto out;
    }
    size_t ia = 0, id = 0;
    for (size_t i = 0; i < m->n_pools; i++) {
        pool_t *p = m->pools[i];
        for (size_t k = 0; av && k < p->n_targets; k++)
            if ((rc = copy_info(a, p->targets[k], p->name, &av[ia++])) < 0) goto out;
        for (size_t k = 0; dv && k < p->n_dropped; k++) {
            trn_target_info_t *o = &dv[id++];
            o->pool = trn_arena_strndup(a, p->name, strlen(p->name));
            o->url = o->last_error = "";
            o->interval_ms = p->job->interval_ms;
            o->timeout_ms = p->job->timeout_ms;
            if (!o->pool || trn_labels_copy(a, &p->dropped[k], &o->discovered) < 0) {
                rc = TRN_ELIMIT;
                goto out;
            }
        }
    }
    if (av) qsort(av, ia, sizeof *av, info_cmp);
    if (dv) qsort(dv, id, sizeof *dv, info_cmp);
    if (active) *active = av, *n_active = ia;
    if (dropped) *dropped = dv, *n_dropped = id;
out:
    pthread_mutex_unlock(&m->mu);
    return rc;
}

static int pool_info_cmp(const void *x, const void *y)
{
    return strcmp(((const trn_scrape_pool_info_t *)x)->name,
                  ((const trn_scrape_pool_info_t *)y)->name);
}

int trn_scrape_manager_pools(trn_scrape_manager_t *m, trn_arena_t *a, trn_scrape_pool_info_t **out,
                             size_t *n_out)
{
    int rc = 0;
    pthread_mutex_lock(&m->mu);
    trn_scrape_pool_info_t *v = trn_arena_calloc(a, m->n_pools + 1, sizeof *v);
    if (!v) {
        rc = TRN_ELIMIT;
        goto out;
    }
    for (size_t i = 0; i < m->n_pools; i++) {
        const pool_t *p = m->pools[i];
        v[i] = (trn_scrape_pool_info_t){trn_arena_strndup(a, p->name, strlen(p->name)),
                                        p->n_targets, p->n_dropped};
        if (!v[i].name) {
            rc = TRN_ELIMIT;
            goto out;
        }
    }
    qsort(v, m->n_pools, sizeof *v, pool_info_cmp);
    *out = v;
    *n_out = m->n_pools;
out:
    pthread_mutex_unlock(&m->mu);
    return rc;
}
