/* SPDX-License-Identifier: Apache-2.0 */
/* The metrics store: open and close, appends, WAL replay, metadata and
 * statistics (contract: metrics/store.h; queriers in store_query.c,
 * block cuts, compaction and retention in store_maint.c).
 *
 * Appends take the head's write lock for a whole batch: every series is
 * looked up by its label hash and every sample appended to its chunk while
 * the lock is held, so a batch costs one lock round trip and no allocation
 * per sample. While the lock is held the batch is also encoded into WAL
 * records (new series first, then one SAMPLES record) and queued with
 * trn_wal_log, so the WAL order is the order the head applied things in.
 * The lock is dropped before trn_wal_commit waits for write/fsync, which lets
 * concurrent appenders share one fsync (group commit in core/wal.c). Only
 * when the commit succeeds does trn_store_append return 0.
 *
 * Recovery: blocks are opened first; then the newest checkpoint (if any)
 * restores the head as it was after the last block cut (series and the
 * samples not in blocks), then every segment numbered from the checkpoint's
 * first segment on is replayed in order, samples re-applied without the age
 * checks (they were accepted once). Older segments are superseded by the
 * checkpoint and deleted. Corrupt records are logged, counted and skipped;
 * torn tails are cut by core/wal.c. See store_maint.c for why a checkpoint
 * taken without stopping appends is still exact.
 *
 * With o->dir NULL the store lives in memory only (tests, the PromQL test
 * runner): no WAL, no blocks. */
#include "metrics/store.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/postings.h"
#include "core/wal.h"
#include "metrics/head.h"
#include "metrics/store_int.h"
#include "metrics/walrec.h"

#include <dirent.h>
#include <unistd.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS (24 * 3600 * INT64_C(1000))
#define REC_FLUSH_BYTES (4u << 20) /* split WAL records of huge batches here */

void trn_store_opts_default(trn_store_opts_t *o)
{
    *o = (trn_store_opts_t){
        .dir = "data/metrics",
        .retention_ms = 15 * DAY_MS,
        .retention_bytes = 0,
        .block_range_ms = 2 * 3600 * INT64_C(1000),
        .ooo_window_ms = 3600 * INT64_C(1000),
        .fsync_mode = TRN_FSYNC_BATCH,
        .fsync_interval_ms = 1000,
        .background = false,
    };
}

/* ---- WAL replay ---- */

typedef struct replay_ctx {
    trn_store_t *s;
    uint32_t segment; /* segment being replayed; 0 for the checkpoint */
    const char *path;
    uint64_t unknown_series;
} replay_ctx_t;

static void on_corrupt(void *ctx, const char *path, uint64_t offset, const char *why)
{
    replay_ctx_t *r = ctx;
    atomic_fetch_add(&r->s->wal_corrupt_records, 1);
    char off[32];
    snprintf(off, sizeof off, "%" PRIu64, offset);
    trn_log(TRN_LOG_WARN, "tsdb", "corrupt WAL record skipped", "file", path, "offset", off,
            "reason", why, NULL);
}

static int replay_series(void *ctx, uint32_t id, const trn_labels_t *ls)
{
    replay_ctx_t *r = ctx;
    bool created;
    if (!trn_head_get_or_create(r->s->head, ls, trn_labels_hash(ls), id, &created))
        r->unknown_series++; /* id reused for other labels: keep the first */
    return 0;
}

static int replay_sample(void *ctx, uint32_t id, int64_t t, double v)
{
    replay_ctx_t *r = ctx;
    trn_hseries_t *hs = trn_head_by_id(r->s->head, id);
    if (!hs) {
        r->unknown_series++;
        return 0;
    }
    trn_head_append(r->s->head, hs, t, v, true);
    return 0;
}

static int replay_record(void *ctx, uint8_t type, const uint8_t *p, size_t len)
{
    replay_ctx_t *r = ctx;
    trn_diag_t d;
    trn_diag_init(&d);
    int rc = 0;
    switch (type) {
    case TRN_WALREC_SERIES:
        rc = trn_walrec_decode_series(p, len, replay_series, r, &d);
        break;
    case TRN_WALREC_SAMPLES:
        rc = trn_walrec_decode_samples(p, len, replay_sample, r, &d);
        break;
    case TRN_WALREC_CHECKPOINT: {
        int64_t t;
        uint32_t seg, next_id;
        rc = trn_walrec_decode_checkpoint(p, len, &t, &seg, &next_id, &d);
        if (rc == 0 && r->segment == 0) {
            r->s->ckpt_first_segment = seg;
            trn_head_reserve_ids(r->s->head, next_id);
        }
        break;
    }
    default:
        trn_diag_set(&d, TRN_ECORRUPT, 0, "unknown record type %u", type);
        rc = TRN_ECORRUPT;
    }
    if (rc < 0) on_corrupt(r, r->path, 0, d.msg);
    return 0;
}

/* Newest checkpoint file name in wal_dir, or 0. */
static uint32_t find_checkpoint(const char *wal_dir)
{
    DIR *dh = opendir(wal_dir);
    if (!dh) return 0;
    uint32_t best = 0;
    struct dirent *e;
    while ((e = readdir(dh))) {
        unsigned n;
        char tail;
        if (sscanf(e->d_name, "checkpoint.%8u%c", &n, &tail) == 1 && n > best) best = n;
    }
    closedir(dh);
    return best;
}

static int replay_wal(trn_store_t *s, trn_diag_t *d)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    replay_ctx_t r = {.s = s};
    trn_wal_replay_stats_t st = {0};
    char path[4096];
    int rc = 0;
    uint32_t ck = find_checkpoint(s->wal_dir);
    if (ck) {
        snprintf(path, sizeof path, "%s/checkpoint.%08u", s->wal_dir, ck);
        r.segment = 0;
        r.path = path;
        rc = trn_wal_replay_file(path, replay_record, on_corrupt, &r, &st, d);
    }
    uint32_t *segs = NULL;
    size_t n = 0;
    if (rc == 0) rc = trn_wal_list(s->wal_dir, &segs, &n, d);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        snprintf(path, sizeof path, "%s/%08u", s->wal_dir, segs[i]);
        if (segs[i] < s->ckpt_first_segment) { /* superseded by the checkpoint */
            unlink(path);
            continue;
        }
        r.segment = segs[i];
        r.path = path;
        rc = trn_wal_replay_file(path, replay_record, on_corrupt, &r, &st, d);
    }
    free(segs);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    trn_head_stats_t hs;
    trn_head_stats(s->head, &hs);
    trn_logf(TRN_LOG_INFO, "tsdb",
             "WAL replayed: %" PRIu64 " files, %" PRIu64 " records, %" PRIu64 " corrupt, %" PRIu64
             " torn tails cut, %" PRIu64 " series, %" PRIu64 " samples in %.3fs",
             st.files, st.records, st.corrupt_records, st.torn_tails, hs.series, hs.samples,
             (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return rc;
}

static trn_wal_sync_t wal_mode(trn_fsync_mode_t m)
{
    switch (m) {
    case TRN_FSYNC_INTERVAL:
        return TRN_WAL_SYNC_INTERVAL;
    case TRN_FSYNC_NEVER:
        return TRN_WAL_SYNC_NEVER;
    default:
        return TRN_WAL_SYNC_ALWAYS;
    }
}

int trn_store_open(const trn_store_opts_t *o, trn_store_t **out, trn_diag_t *d)
{
    int rc = 0;
    trn_store_t *s = trn_xcalloc(1, sizeof *s);
    s->opts = *o;
    s->dir = o->dir ? trn_xstrdup(o->dir) : NULL;
    s->opts.dir = s->dir;
    if (s->opts.block_range_ms <= 0) s->opts.block_range_ms = 2 * 3600 * INT64_C(1000);
    if (s->opts.ooo_window_ms < 0) s->opts.ooo_window_ms = 0;
    int64_t new_window = s->opts.ooo_window_ms > s->opts.block_range_ms ? s->opts.ooo_window_ms
                                                                        : s->opts.block_range_ms;
    pthread_rwlock_init(&s->lock, NULL);
    pthread_mutex_init(&s->meta_lock, NULL);
    pthread_mutex_init(&s->maint_mu, NULL);
    pthread_mutex_init(&s->blocks_mu, NULL);
    pthread_cond_init(&s->blocks_cv, NULL);
    pthread_mutex_init(&s->thr_mu, NULL);
    pthread_cond_init(&s->thr_cv, NULL);
    s->head = trn_head_new(s->opts.ooo_window_ms, new_window);
    s->next_block_id = 1;
    if (s->dir) {
        if (trn_fs_mkdir_p(s->dir) < 0) {
            rc = trn_diag_set(d, TRN_EIO, -1, "create %s: %s", s->dir, strerror(errno));
            goto fail;
        }
        size_t n = strlen(s->dir) + 8;
        s->wal_dir = trn_xmalloc(n);
        snprintf(s->wal_dir, n, "%s/wal", s->dir);
        s->blocks_dir = trn_xmalloc(n);
        snprintf(s->blocks_dir, n, "%s/blocks", s->dir);
        rc = trn__store_load_blocks(s, d);
        if (rc < 0) goto fail;
        rc = replay_wal(s, d);
        if (rc < 0) goto fail;
        trn_wal_opts_t wo = {.dir = s->wal_dir,
                             .sync = wal_mode(s->opts.fsync_mode),
                             .sync_interval_ms = s->opts.fsync_interval_ms};
        rc = trn_wal_open(&wo, &s->wal, d);
        if (rc < 0) goto fail;
        if (s->opts.background) {
            rc = trn__store_start_thread(s);
            if (rc < 0) {
                trn_diag_set(d, rc, -1, "cannot start the TSDB maintenance thread");
                goto fail;
            }
        }
    }
    *out = s;
    return 0;
fail:
    trn_store_close(s);
    return rc;
}

void trn_store_close(trn_store_t *s)
{
    if (!s) return;
    trn__store_stop_thread(s);
    trn_wal_close(s->wal);
    trn__store_free_blocks(s);
    if (s->n_graveyard) trn_head_release(s->head, s->graveyard, s->n_graveyard);
    free(s->graveyard);
    free(s->late);
    free(s->wal_dir);
    free(s->blocks_dir);
    trn_buf_fini(&s->rec_series);
    trn_buf_fini(&s->rec_samples);
    trn_head_free(s->head);
    for (size_t i = 0; i < s->n_meta; i++) {
        free(s->meta[i].metric);
        free(s->meta[i].type);
        free(s->meta[i].help);
        free(s->meta[i].unit);
    }
    free(s->meta);
    pthread_rwlock_destroy(&s->lock);
    pthread_mutex_destroy(&s->meta_lock);
    pthread_mutex_destroy(&s->maint_mu);
    pthread_mutex_destroy(&s->blocks_mu);
    pthread_cond_destroy(&s->blocks_cv);
    pthread_mutex_destroy(&s->thr_mu);
    pthread_cond_destroy(&s->thr_cv);
    free(s->dir);
    free(s);
}

/* ---- appending ---- */

/* Queues the pending records (series first) and restarts the samples one. */
static uint64_t flush_records(trn_store_t *s, int64_t base_t, bool *has_samples)
{
    uint64_t pos = 0;
    if (s->rec_series.len)
        pos = trn_wal_log(s->wal, TRN_WALREC_SERIES, s->rec_series.data, s->rec_series.len);
    if (*has_samples)
        pos = trn_wal_log(s->wal, TRN_WALREC_SAMPLES, s->rec_samples.data, s->rec_samples.len);
    s->rec_series.len = 0;
    s->rec_samples.len = 0;
    trn_walrec_samples_begin(&s->rec_samples, base_t);
    *has_samples = false;
    return pos;
}

/* A sample the running block cut may have missed: re-applied after the cut
 * truncates the head (store_maint.c). */
static void note_late(trn_store_t *s, uint32_t id, int64_t t, double v)
{
    if (s->n_late == s->cap_late) {
        s->cap_late = s->cap_late ? s->cap_late * 2 : 256;
        s->late = trn_xrealloc(s->late, s->cap_late * sizeof *s->late);
    }
    s->late[s->n_late++] = (late_sample_t){id, t, v};
}

/* Series per prefetch window in trn_store_append. */
#define APPEND_WINDOW 16

int trn_store_append(trn_store_t *s, const trn_append_series_t *series, size_t n,
                     trn_append_result_t *res, trn_diag_t *d)
{
    trn_append_result_t r = {0};
    uint64_t pos = 0;
    bool has_samples = false;
    int64_t base_t = 0;
    for (size_t i = 0; i < n && !base_t; i++)
        if (series[i].n_samples) base_t = series[i].samples[0].t_ms;
    /* Hash outside the lock. */
    uint64_t stack_hashes[256], *hashes = n <= 256 ? stack_hashes : trn_xmalloc(n * sizeof *hashes);
    for (size_t i = 0; i < n; i++)
        hashes[i] = series[i].n_samples ? trn_labels_hash(&series[i].labels) : 0;
    pthread_rwlock_wrlock(&s->lock);
    if (s->wal) {
        s->rec_series.len = 0;
        s->rec_samples.len = 0;
        trn_walrec_samples_begin(&s->rec_samples, base_t);
    }
    /* A batch is a walk of cache misses (table slot, series, chunk header,
     * chunk tail); going through it a window at a time, one step per pass,
     * lets the prefetches of one pass land while the next pass runs. */
    trn_hseries_t *win[APPEND_WINDOW];
    for (size_t i0 = 0; i0 < n; i0 += APPEND_WINDOW) {
        size_t i1 = n - i0 < APPEND_WINDOW ? n : i0 + APPEND_WINDOW;
        for (size_t i = i0; i < i1; i++)
            if (series[i].n_samples) trn_head_prefetch(s->head, hashes[i]);
        for (size_t i = i0; i < i1; i++) {
            const trn_append_series_t *as = &series[i];
            win[i - i0] = NULL;
            if (!as->n_samples) continue;
            bool created;
            trn_hseries_t *hs =
                trn_head_get_or_create(s->head, &as->labels, hashes[i], 0, &created);
            TRN_ASSERT(hs);
            if (created) {
                r.series_created++;
                if (s->wal) trn_walrec_put_series(&s->rec_series, trn_hseries_id(hs), &as->labels);
            }
            trn_hseries_prefetch_chunk(hs);
            win[i - i0] = hs;
        }
        for (size_t i = i0; i < i1; i++)
            if (win[i - i0]) trn_hseries_prefetch_tail(win[i - i0]);
        for (size_t i = i0; i < i1; i++) {
            const trn_append_series_t *as = &series[i];
            trn_hseries_t *hs = win[i - i0];
            if (!hs) continue;
            uint32_t id = trn_hseries_id(hs);
            for (size_t k = 0; k < as->n_samples; k++) {
                const trn_sample_t *sm = &as->samples[k];
                if (trn_head_append(s->head, hs, sm->t_ms, sm->v, false) == TRN_HEAD_TOO_OLD) {
                    r.too_old++;
                    continue;
                }
                r.accepted++;
                if (s->cutting && sm->t_ms < s->cut_t) note_late(s, id, sm->t_ms, sm->v);
                if (s->wal) {
                    trn_walrec_put_sample(&s->rec_samples, base_t, id, sm->t_ms, sm->v);
                    has_samples = true;
                    /* One huge series must not outgrow a WAL record either. */
                    if (s->rec_samples.len > REC_FLUSH_BYTES)
                        pos = flush_records(s, base_t, &has_samples);
                }
            }
        }
        if (s->wal && (s->rec_samples.len > REC_FLUSH_BYTES || s->rec_series.len > REC_FLUSH_BYTES))
            pos = flush_records(s, base_t, &has_samples);
    }
    if (hashes != stack_hashes) free(hashes);
    if (s->wal) {
        uint64_t p = flush_records(s, base_t, &has_samples);
        if (p) pos = p;
    }
    bool due = s->wal && !s->opts.background && trn__store_cut_due(s);
    pthread_rwlock_unlock(&s->lock);
    atomic_fetch_add(&s->samples_appended, r.accepted);
    atomic_fetch_add(&s->samples_too_old, r.too_old);
    if (pos) {
        int rc = trn_wal_commit(s->wal, pos, d);
        if (rc < 0) return rc;
    }
    if (res) *res = r;
    if (due) { /* no maintenance thread: the appender that notices does it */
        trn_diag_t md;
        trn_diag_init(&md);
        if (trn__store_maintain(s, false, false, &md) < 0)
            trn_log(TRN_LOG_ERROR, "tsdb", "maintenance failed", "error", md.msg, NULL);
    }
    return 0;
}

/* ---- metadata ---- */

static char *dup_str(trn_str_t v)
{
    return trn_xstrndup(v.len ? v.p : "", v.len);
}

void trn_store_set_metadata(trn_store_t *s, const trn_metric_meta_t *m)
{
    pthread_mutex_lock(&s->meta_lock);
    size_t lo = 0, hi = s->n_meta;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (trn_str_cmp(trn_str_c(s->meta[mid].metric), m->metric) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    meta_ent_t *e;
    if (lo < s->n_meta && trn_str_eq(trn_str_c(s->meta[lo].metric), m->metric)) {
        e = &s->meta[lo];
        free(e->type);
        free(e->help);
        free(e->unit);
    } else {
        if (s->n_meta == s->cap_meta) {
            s->cap_meta = s->cap_meta ? s->cap_meta * 2 : 16;
            s->meta = trn_xrealloc(s->meta, s->cap_meta * sizeof *s->meta);
        }
        memmove(s->meta + lo + 1, s->meta + lo, (s->n_meta - lo) * sizeof *s->meta);
        s->n_meta++;
        e = &s->meta[lo];
        e->metric = dup_str(m->metric);
    }
    e->type = dup_str(m->type);
    e->help = dup_str(m->help);
    e->unit = dup_str(m->unit);
    pthread_mutex_unlock(&s->meta_lock);
}

void trn_store_each_metadata(trn_store_t *s, trn_meta_fn *fn, void *ctx)
{
    pthread_mutex_lock(&s->meta_lock);
    for (size_t i = 0; i < s->n_meta; i++) {
        trn_metric_meta_t m = {trn_str_c(s->meta[i].metric), trn_str_c(s->meta[i].type),
                               trn_str_c(s->meta[i].help), trn_str_c(s->meta[i].unit)};
        fn(ctx, &m);
    }
    pthread_mutex_unlock(&s->meta_lock);
}

/* ---- statistics ---- */

void trn_store_stats(trn_store_t *s, trn_store_stats_t *out)
{
    trn_head_stats_t hs;
    pthread_rwlock_rdlock(&s->lock);
    trn_head_stats(s->head, &hs);
    pthread_rwlock_unlock(&s->lock);
    trn_wal_stats_t ws = {0};
    if (s->wal) trn_wal_stats(s->wal, &ws);
    uint64_t block_bytes = 0, n_blocks;
    pthread_mutex_lock(&s->blocks_mu);
    n_blocks = s->n_blocks;
    for (size_t i = 0; i < s->n_blocks; i++)
        block_bytes += trn_block_meta(s->blocks[i])->bytes;
    pthread_mutex_unlock(&s->blocks_mu);
    *out = (trn_store_stats_t){
        .wal_bytes_written = ws.bytes_written,
        .wal_fsyncs = ws.fsyncs,
        .head_series = hs.series,
        .head_samples = hs.samples,
        .head_chunks = hs.chunks,
        .head_min_t_ms = hs.min_t,
        .head_max_t_ms = hs.max_t,
        .wal_corrupt_records = atomic_load(&s->wal_corrupt_records),
        .blocks = n_blocks,
        .block_bytes = block_bytes,
        .compactions = atomic_load(&s->compactions),
        .compactions_failed = atomic_load(&s->compactions_failed),
        .retention_deleted_blocks = atomic_load(&s->retention_deleted),
        .samples_appended = atomic_load(&s->samples_appended),
        .samples_too_old = atomic_load(&s->samples_too_old),
    };
}

typedef struct top_ctx {
    trn_head_t *head;
    trn_name_count_t *v;
    size_t n, cap;
} top_ctx_t;

static int top_add(void *ctx, trn_str_t name)
{
    top_ctx_t *t = ctx;
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->v = trn_xrealloc(t->v, t->cap * sizeof *t->v);
    }
    t->v[t->n++] =
        (trn_name_count_t){name, trn_head_postings_len(t->head, TRN_STR(TRN_METRIC_NAME), name)};
    return 0;
}

static int cmp_top(const void *a, const void *b)
{
    const trn_name_count_t *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return trn_str_cmp(x->name, y->name);
}

int trn_store_top_metrics(trn_store_t *s, size_t limit, trn_arena_t *a, trn_name_count_t **out,
                          size_t *n_out)
{
    top_ctx_t t = {.head = s->head};
    pthread_rwlock_rdlock(&s->lock);
    trn_head_each_value(s->head, TRN_STR(TRN_METRIC_NAME), top_add, &t);
    qsort(t.v, t.n, sizeof *t.v, cmp_top);
    size_t n = t.n < limit ? t.n : limit;
    trn_name_count_t *res = trn_arena_alloc(a, (n ? n : 1) * sizeof *res);
    int rc = res ? 0 : TRN_ELIMIT;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char *p = trn_arena_strndup(a, t.v[i].name.p, t.v[i].name.len);
        if (!p)
            rc = TRN_ELIMIT;
        else
            res[i] = (trn_name_count_t){{p, t.v[i].name.len}, t.v[i].count};
    }
    pthread_rwlock_unlock(&s->lock);
    free(t.v);
    if (rc < 0) return rc;
    *out = res;
    *n_out = n;
    return 0;
}
