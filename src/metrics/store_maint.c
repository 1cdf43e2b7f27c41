/* SPDX-License-Identifier: Apache-2.0 */
/* Store maintenance: cutting the head into blocks, checkpoints and WAL
 * truncation, compaction, retention, backfill, and the background thread.
 *
 * Cutting a block at time T without stopping appends:
 *   1. Under the write lock: mark the cut (appends of samples older than T
 *      are also noted in a "late" list) and roll the WAL to a new segment N.
 *      Everything appended from now on is in segments >= N.
 *   2. Without holding the lock for long, copy every series' samples older
 *      than T into a new block (series in label order), publish it, and wait
 *      for queriers that started before publication to finish — they do not
 *      know the block and must keep seeing those samples in the head.
 *   3. Under the write lock: drop samples older than T from the head, put the
 *      late samples back (they may have missed the block), end the cut, and
 *      free series left empty when no querier is open.
 *   4. Write checkpoint.N: the head's series and samples, series by series
 *      under short read locks, then delete segments before N.
 * Why the checkpoint is exact though appends continue during step 4: any
 * sample appended before step 1 is either older than T (in the block) or in
 * the head and therefore in the checkpoint; any sample appended after step 1
 * is in a segment >= N, which replay applies after the checkpoint, so a later
 * write to the same timestamp still wins. A crash at any point leaves either
 * the old checkpoint with all old segments, or the new one.
 *
 * Compaction merges blocks that overlap in time (out-of-order data, backfill,
 * an interrupted compaction) and, for ranges 3, 9, 27 and 81 times the block
 * range, all blocks inside one completed aligned window. Merging walks the
 * inputs' series in label order (each block is sorted) and merges samples
 * with the newer block winning equal timestamps. The new block is published
 * before the inputs are marked deleted; readers holding an input keep it
 * mapped until they let go.
 *
 * Retention drops whole blocks whose newest sample is older than the newest
 * data minus the retention, then the oldest blocks while the directory is
 * over the size cap. */
#include "core/alloc.h"
#include "core/err.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "metrics/store_int.h"
#include "metrics/walrec.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define QUERIER_WAIT_MS 10000
#define CKPT_RECORD_BYTES (1u << 20)
#define ZSTD_LEVEL_CUT 9
#define ZSTD_LEVEL_COMPACT 15

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* ---- the block list ---- */

static void block_file(const trn_store_t *s, uint64_t id, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%016" PRIx64 ".blk", s->blocks_dir, id);
}

/* Inserts b (one reference handed over) keeping min_t, id order. */
static void blocks_insert(trn_store_t *s, trn_block_t *b, uint64_t id)
{
    if (s->n_blocks == s->cap_blocks) {
        s->cap_blocks = s->cap_blocks ? s->cap_blocks * 2 : 16;
        s->blocks = trn_xrealloc(s->blocks, s->cap_blocks * sizeof *s->blocks);
        s->block_ids = trn_xrealloc(s->block_ids, s->cap_blocks * sizeof *s->block_ids);
    }
    int64_t mt = trn_block_meta(b)->min_t;
    size_t i = s->n_blocks;
    while (i > 0 && (trn_block_meta(s->blocks[i - 1])->min_t > mt ||
                     (trn_block_meta(s->blocks[i - 1])->min_t == mt && s->block_ids[i - 1] > id))) {
        s->blocks[i] = s->blocks[i - 1];
        s->block_ids[i] = s->block_ids[i - 1];
        i--;
    }
    s->blocks[i] = b;
    s->block_ids[i] = id;
    s->n_blocks++;
}

/* Removes the block at index i, marking its file for deletion. */
static void blocks_drop(trn_store_t *s, size_t i)
{
    trn_block_t *b = s->blocks[i];
    memmove(s->blocks + i, s->blocks + i + 1, (s->n_blocks - i - 1) * sizeof *s->blocks);
    memmove(s->block_ids + i, s->block_ids + i + 1, (s->n_blocks - i - 1) * sizeof *s->block_ids);
    s->n_blocks--;
    trn_block_mark_deleted(b);
    trn_block_unref(b);
}

int trn__store_load_blocks(trn_store_t *s, trn_diag_t *d)
{
    if (trn_fs_mkdir_p(s->blocks_dir) < 0)
        return trn_diag_set(d, TRN_EIO, -1, "create %s: %s", s->blocks_dir, strerror(errno));
    DIR *dh = opendir(s->blocks_dir);
    if (!dh) return trn_diag_set(d, TRN_EIO, -1, "open %s: %s", s->blocks_dir, strerror(errno));
    struct dirent *e;
    while ((e = readdir(dh))) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", s->blocks_dir, e->d_name);
        size_t len = strlen(e->d_name);
        if (len > 4 && !strcmp(e->d_name + len - 4, ".tmp")) {
            unlink(path); /* an unfinished block from a crash */
            continue;
        }
        uint64_t id;
        char tail[8];
        if (len != 20 || sscanf(e->d_name, "%16" SCNx64 "%4s", &id, tail) != 2 ||
            strcmp(tail, ".blk"))
            continue;
        trn_block_t *b;
        trn_diag_t bd;
        trn_diag_init(&bd);
        if (trn_block_open(path, &b, &bd) < 0) {
            trn_log(TRN_LOG_ERROR, "tsdb", "skipping unreadable block", "file", path, "error",
                    bd.msg, NULL);
            continue;
        }
        blocks_insert(s, b, id);
        if (id >= s->next_block_id) s->next_block_id = id + 1;
    }
    closedir(dh);
    return 0;
}

void trn__store_free_blocks(trn_store_t *s)
{
    for (size_t i = 0; i < s->n_blocks; i++)
        trn_block_unref(s->blocks[i]);
    free(s->blocks);
    free(s->block_ids);
    s->blocks = NULL;
    s->block_ids = NULL;
    s->n_blocks = 0;
}

/* Publishes a finished block file (maint_mu held). */
static int publish(trn_store_t *s, uint64_t id, bool new_generation, trn_diag_t *d)
{
    char path[4096];
    block_file(s, id, path, sizeof path);
    trn_block_t *b;
    int rc = trn_block_open(path, &b, d);
    if (rc < 0) return rc;
    pthread_mutex_lock(&s->blocks_mu);
    blocks_insert(s, b, id);
    if (new_generation && !trn__store_drain_queriers(s))
        trn_log(TRN_LOG_WARN, "tsdb",
                "queriers older than a block cut are still open; they may miss samples", NULL);
    pthread_mutex_unlock(&s->blocks_mu);
    return 0;
}

bool trn__store_drain_queriers(trn_store_t *s)
{
    if (s->open_queriers[0] + s->open_queriers[1] == 0) s->stale_queriers = false;
    unsigned old = s->generation++;
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += QUERIER_WAIT_MS / 1000;
    while (s->open_queriers[old & 1] > 0)
        if (pthread_cond_timedwait(&s->blocks_cv, &s->blocks_mu, &dl) != 0) {
            s->stale_queriers = true;
            return false;
        }
    /* After an earlier timeout, queriers older than `old` may share the other
     * parity; only a moment with none open at all clears that doubt. */
    if (s->open_queriers[0] + s->open_queriers[1] == 0) s->stale_queriers = false;
    return !s->stale_queriers;
}

/* Frees unlinked head series once every querier that could hold one has
 * closed; otherwise they wait for the next maintenance round. */
static void release_graveyard(trn_store_t *s)
{
    if (!s->n_graveyard) return;
    pthread_mutex_lock(&s->blocks_mu);
    bool drained = trn__store_drain_queriers(s);
    pthread_mutex_unlock(&s->blocks_mu);
    if (!drained) return;
    pthread_rwlock_wrlock(&s->lock);
    trn_head_release(s->head, s->graveyard, s->n_graveyard);
    pthread_rwlock_unlock(&s->lock);
    free(s->graveyard);
    s->graveyard = NULL;
    s->n_graveyard = 0;
}

/* ---- cutting the head ---- */

typedef struct cut_item {
    trn_hseries_t *hs;
    trn_labels_t ls; /* array in the list's arena, strings interned in the head */
} cut_item_t;

static int cmp_cut(const void *a, const void *b)
{
    return trn_labels_cmp(&((const cut_item_t *)a)->ls, &((const cut_item_t *)b)->ls);
}

typedef struct series_list {
    cut_item_t *v;
    size_t n, cap;
    int64_t before; /* only series with samples before this */
    trn_arena_t *a;
} series_list_t;

static void list_series(void *ctx, trn_hseries_t *hs)
{
    series_list_t *l = ctx;
    int64_t mn, mx;
    if (!trn_hseries_range(hs, &mn, &mx) || mn >= l->before) return;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 1024;
        l->v = trn_xrealloc(l->v, l->cap * sizeof *l->v);
    }
    cut_item_t *it = &l->v[l->n++];
    it->hs = hs;
    /* The arena has no budget, so this cannot fail short of aborting. */
    int rc = trn_hseries_labels_arena(hs, l->a, &it->ls);
    TRN_ASSERT(rc == 0);
}

static int write_checkpoint(trn_store_t *s, int64_t t, uint32_t first_segment, trn_diag_t *d)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/checkpoint.%08u", s->wal_dir, first_segment);
    trn_wal_file_t *f;
    int rc = trn_wal_file_create(path, &f, d);
    if (rc < 0) return rc;
    trn_buf_t ser, smp;
    trn_buf_init(&ser);
    trn_buf_init(&smp);
    series_list_t l = {.before = INT64_MAX, .a = trn_arena_new(0)};
    pthread_rwlock_rdlock(&s->lock);
    trn_head_stats_t hst;
    trn_head_stats(s->head, &hst);
    trn_head_each_series(s->head, list_series, &l);
    pthread_rwlock_unlock(&s->lock);
    trn_walrec_put_checkpoint(&ser, t, first_segment, hst.next_id);
    rc = trn_wal_file_add(f, TRN_WALREC_CHECKPOINT, ser.data, ser.len, d);
    ser.len = 0;
    trn_sample_t *buf = NULL;
    size_t cap = 0;
    bool has = false;
    trn_walrec_samples_begin(&smp, hst.min_t);
    for (size_t i = 0; rc == 0 && i <= l.n; i++) {
        if (i < l.n) {
            pthread_rwlock_rdlock(&s->lock);
            uint32_t id = trn_hseries_id(l.v[i].hs);
            trn_walrec_put_series(&ser, id, &l.v[i].ls);
            size_t n = trn_hseries_samples_heap(l.v[i].hs, INT64_MIN, INT64_MAX, &buf, &cap);
            pthread_rwlock_unlock(&s->lock);
            for (size_t k = 0; rc == 0 && k < n; k++) {
                trn_walrec_put_sample(&smp, hst.min_t, id, buf[k].t_ms, buf[k].v);
                has = true;
                if (smp.len > CKPT_RECORD_BYTES) { /* a series with a huge head */
                    if (ser.len) rc = trn_wal_file_add(f, TRN_WALREC_SERIES, ser.data, ser.len, d);
                    if (rc == 0) rc = trn_wal_file_add(f, TRN_WALREC_SAMPLES, smp.data, smp.len, d);
                    ser.len = smp.len = 0;
                    has = false;
                    trn_walrec_samples_begin(&smp, hst.min_t);
                }
            }
        }
        if (i == l.n || ser.len + smp.len > CKPT_RECORD_BYTES) {
            if (ser.len) rc = trn_wal_file_add(f, TRN_WALREC_SERIES, ser.data, ser.len, d);
            if (rc == 0 && has) rc = trn_wal_file_add(f, TRN_WALREC_SAMPLES, smp.data, smp.len, d);
            ser.len = smp.len = 0;
            has = false;
            trn_walrec_samples_begin(&smp, hst.min_t);
        }
    }
    free(buf);
    free(l.v);
    trn_arena_free(l.a);
    trn_buf_fini(&ser);
    trn_buf_fini(&smp);
    if (rc < 0) {
        trn_wal_file_abort(f);
        return rc;
    }
    rc = trn_wal_file_commit(f, d);
    if (rc < 0) return rc;
    /* The checkpoint supersedes older segments and checkpoints. */
    rc = trn_wal_remove_before(s->wal, first_segment, d);
    DIR *dh = opendir(s->wal_dir);
    struct dirent *e;
    while (dh && (e = readdir(dh))) {
        unsigned n;
        char tail;
        if (sscanf(e->d_name, "checkpoint.%8u%c", &n, &tail) == 1 && n < first_segment) {
            char p[4096];
            snprintf(p, sizeof p, "%s/%s", s->wal_dir, e->d_name);
            unlink(p);
        }
    }
    if (dh) closedir(dh);
    return rc;
}

/* Cuts every head sample older than t into a new block (maint_mu held). */
static int cut_head(trn_store_t *s, int64_t t, trn_diag_t *d)
{
    pthread_rwlock_wrlock(&s->lock);
    s->cutting = true;
    s->cut_t = t;
    s->n_late = 0;
    int64_t seg = trn_wal_roll(s->wal, d);
    if (seg < 0) s->cutting = false;
    pthread_rwlock_unlock(&s->lock);
    if (seg < 0) return (int)seg;

    series_list_t l = {.before = t, .a = trn_arena_new(0)};
    pthread_rwlock_rdlock(&s->lock);
    trn_head_each_series(s->head, list_series, &l);
    pthread_rwlock_unlock(&s->lock);
    /* Label views stay valid: only maintenance frees head series. */
    if (l.n > 1) qsort(l.v, l.n, sizeof *l.v, cmp_cut);
    uint64_t id = s->next_block_id++;
    char path[4096];
    block_file(s, id, path, sizeof path);
    trn_block_writer_t *w = NULL;
    int rc = trn_block_writer_new(path, ZSTD_LEVEL_CUT, &w, d);
    trn_sample_t *buf = NULL;
    size_t cap = 0;
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        pthread_rwlock_rdlock(&s->lock);
        size_t n = trn_hseries_samples_heap(l.v[i].hs, INT64_MIN, t - 1, &buf, &cap);
        pthread_rwlock_unlock(&s->lock);
        if (n) rc = trn_block_writer_add(w, &l.v[i].ls, buf, n, d);
    }
    free(buf);
    free(l.v);
    trn_arena_free(l.a);
    bool published = false;
    if (rc == 0) {
        rc = trn_block_writer_finish(w, 0, NULL, d);
        w = NULL;
        if (rc == 0) {
            rc = publish(s, id, true, d);
            published = rc == 0;
        } else if (rc == TRN_ENOTFOUND)
            rc = 0; /* nothing older than t */
    }
    trn_block_writer_abort(w);

    pthread_rwlock_wrlock(&s->lock);
    if (published) {
        trn_head_truncate(s->head, t);
        for (size_t i = 0; i < s->n_late; i++) {
            trn_hseries_t *hs = trn_head_by_id(s->head, s->late[i].id);
            if (hs) trn_head_append(s->head, hs, s->late[i].t, s->late[i].v, true);
        }
    }
    s->cutting = false;
    s->n_late = 0;
    size_t n_dead;
    trn_hseries_t **dead = trn_head_unlink_empty(s->head, &n_dead);
    if (n_dead) {
        s->graveyard = trn_xrealloc(s->graveyard, (s->n_graveyard + n_dead) * sizeof *dead);
        memcpy(s->graveyard + s->n_graveyard, dead, n_dead * sizeof *dead);
        s->n_graveyard += n_dead;
    }
    free(dead);
    pthread_rwlock_unlock(&s->lock);
    release_graveyard(s);
    if (rc < 0) return rc;
    return write_checkpoint(s, t, (uint32_t)seg, d);
}

bool trn__store_cut_due(trn_store_t *s)
{
    trn_head_stats_t hs;
    trn_head_stats(s->head, &hs);
    return hs.samples && hs.max_t - hs.min_t > s->opts.block_range_ms / 2 * 3;
}

/* ---- compaction ---- */

static void merge_heap(trn_sample_t **acc, size_t *n_acc, size_t *cap_acc, const trn_sample_t *y,
                       size_t ny, trn_sample_t **tmp, size_t *cap_tmp)
{
    if (!ny) return;
    size_t need = *n_acc + ny;
    if (need > *cap_tmp) {
        *tmp = trn_xrealloc(*tmp, need * sizeof **tmp);
        *cap_tmp = need;
    }
    size_t i = 0, j = 0, k = 0;
    trn_sample_t *x = *acc, *r = *tmp;
    while (i < *n_acc || j < ny) {
        if (j == ny || (i < *n_acc && x[i].t_ms < y[j].t_ms))
            r[k++] = x[i++];
        else {
            if (i < *n_acc && x[i].t_ms == y[j].t_ms) i++;
            r[k++] = y[j++];
        }
    }
    /* swap buffers */
    trn_sample_t *t = *acc;
    size_t tc = *cap_acc;
    *acc = *tmp;
    *cap_acc = *cap_tmp;
    *tmp = t;
    *cap_tmp = tc;
    *n_acc = k;
}

/* Merges the given blocks (sorted by id: older first) into one new block. */
static int merge_blocks(trn_store_t *s, trn_block_t **in, size_t n_in, trn_diag_t *d)
{
    uint64_t id = s->next_block_id++;
    char path[4096];
    block_file(s, id, path, sizeof path);
    trn_block_writer_t *w = NULL;
    int rc = trn_block_writer_new(path, ZSTD_LEVEL_COMPACT, &w, d);
    uint32_t *pos = trn_xcalloc(n_in, sizeof *pos);
    trn_labels_t *cur = trn_xcalloc(n_in, sizeof *cur);
    trn_block_cache_t *caches = trn_xcalloc(n_in, sizeof *caches);
    trn_arena_t *a = trn_arena_new(0);
    trn_sample_t *acc = NULL, *part = NULL, *tmp = NULL;
    size_t cap_acc = 0, cap_part = 0, cap_tmp = 0;
    uint32_t level = 0;
    for (size_t i = 0; i < n_in; i++)
        if (trn_block_meta(in[i])->level >= level) level = trn_block_meta(in[i])->level + 1;
    trn_arena_mark_t m0 = trn_arena_mark(a);
    while (rc == 0) {
        trn_arena_reset(a, m0);
        const trn_labels_t *min = NULL;
        for (size_t i = 0; rc == 0 && i < n_in; i++) {
            if (pos[i] >= trn_block_meta(in[i])->n_series) continue;
            int64_t mn, mx;
            rc = trn_block_series(in[i], pos[i], a, &cur[i], &mn, &mx, d);
            if (rc == 0 && (!min || trn_labels_cmp(&cur[i], min) < 0)) min = &cur[i];
        }
        if (rc < 0 || !min) break;
        trn_labels_t key = *min;
        size_t n_acc = 0;
        for (size_t i = 0; rc == 0 && i < n_in; i++) {
            if (pos[i] >= trn_block_meta(in[i])->n_series || !trn_labels_equal(&cur[i], &key))
                continue;
            size_t n;
            rc = trn_block_samples_heap(in[i], pos[i], &caches[i], &part, &cap_part, &n, d);
            if (rc == 0) merge_heap(&acc, &n_acc, &cap_acc, part, n, &tmp, &cap_tmp);
            pos[i]++;
        }
        if (rc == 0 && n_acc) rc = trn_block_writer_add(w, &key, acc, n_acc, d);
    }
    if (rc == 0) {
        rc = trn_block_writer_finish(w, level, NULL, d);
        w = NULL;
        if (rc == TRN_ENOTFOUND)
            rc = 0;
        else if (rc == 0)
            rc = publish(s, id, false, d);
    }
    trn_block_writer_abort(w);
    for (size_t i = 0; i < n_in; i++)
        trn_block_cache_fini(&caches[i]);
    free(caches);
    free(pos);
    free(cur);
    free(acc);
    free(part);
    free(tmp);
    trn_arena_free(a);
    if (rc < 0) {
        atomic_fetch_add(&s->compactions_failed, 1);
        return rc;
    }
    /* Retire the inputs. */
    pthread_mutex_lock(&s->blocks_mu);
    for (size_t k = 0; k < n_in; k++)
        for (size_t i = 0; i < s->n_blocks; i++)
            if (s->blocks[i] == in[k]) {
                blocks_drop(s, i);
                break;
            }
    pthread_mutex_unlock(&s->blocks_mu);
    atomic_fetch_add(&s->compactions, 1);
    return 0;
}

/* Picks one set of blocks to merge; returns how many (0 = nothing to do). */
static size_t plan_compaction(trn_store_t *s, int64_t newest, trn_block_t **out, uint64_t *ids)
{
    size_t n = 0;
    pthread_mutex_lock(&s->blocks_mu);
    /* 1. Overlapping blocks (sorted by min_t: a run whose ranges chain). */
    for (size_t i = 0; i + 1 < s->n_blocks && n == 0; i++) {
        int64_t end = trn_block_meta(s->blocks[i])->max_t;
        size_t j = i + 1;
        while (j < s->n_blocks && trn_block_meta(s->blocks[j])->min_t <= end) {
            if (trn_block_meta(s->blocks[j])->max_t > end)
                end = trn_block_meta(s->blocks[j])->max_t;
            j++;
        }
        if (j - i >= 2)
            for (size_t k = i; k < j; k++) {
                out[n] = s->blocks[k];
                ids[n++] = s->block_ids[k];
            }
    }
    /* 2. Completed aligned windows of 3^k block ranges. */
    int64_t r = s->opts.block_range_ms;
    for (int k = 1; k <= 4 && n == 0; k++) {
        r *= 3;
        if (s->opts.retention_ms > 0 && r > s->opts.retention_ms / 2) break;
        for (size_t i = 0; i < s->n_blocks && n == 0; i++) {
            const trn_block_meta_t *m = trn_block_meta(s->blocks[i]);
            int64_t w0 = floor_div(m->min_t, r) * r;
            if (m->max_t >= w0 + r || w0 + r > newest) continue;
            size_t j = i;
            while (j < s->n_blocks && trn_block_meta(s->blocks[j])->min_t < w0 + r &&
                   trn_block_meta(s->blocks[j])->max_t < w0 + r)
                j++;
            if (j - i >= 2)
                for (size_t x = i; x < j; x++) {
                    out[n] = s->blocks[x];
                    ids[n++] = s->block_ids[x];
                }
        }
    }
    for (size_t i = 0; i < n; i++)
        trn_block_ref(out[i]);
    pthread_mutex_unlock(&s->blocks_mu);
    /* Older blocks first, so newer ones win equal timestamps. */
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0 && ids[k - 1] > ids[k]; k--) {
            uint64_t t = ids[k];
            ids[k] = ids[k - 1];
            ids[k - 1] = t;
            trn_block_t *b = out[k];
            out[k] = out[k - 1];
            out[k - 1] = b;
        }
    return n;
}

static int64_t newest_time(trn_store_t *s)
{
    trn_head_stats_t hs;
    pthread_rwlock_rdlock(&s->lock);
    trn_head_stats(s->head, &hs);
    pthread_rwlock_unlock(&s->lock);
    int64_t newest = hs.samples ? hs.max_t : INT64_MIN;
    pthread_mutex_lock(&s->blocks_mu);
    for (size_t i = 0; i < s->n_blocks; i++)
        if (trn_block_meta(s->blocks[i])->max_t > newest)
            newest = trn_block_meta(s->blocks[i])->max_t;
    pthread_mutex_unlock(&s->blocks_mu);
    return newest;
}

static int compact(trn_store_t *s, trn_diag_t *d)
{
    for (int round = 0; round < 64; round++) {
        size_t cap;
        pthread_mutex_lock(&s->blocks_mu);
        cap = s->n_blocks;
        pthread_mutex_unlock(&s->blocks_mu);
        if (cap < 2) return 0;
        trn_block_t **in = trn_xmalloc(cap * sizeof *in);
        uint64_t *ids = trn_xmalloc(cap * sizeof *ids);
        size_t n = plan_compaction(s, newest_time(s), in, ids);
        int rc = n ? merge_blocks(s, in, n, d) : 0;
        for (size_t i = 0; i < n; i++)
            trn_block_unref(in[i]);
        free(in);
        free(ids);
        if (rc < 0) return rc;
        if (!n) return 0;
    }
    return 0;
}

static void retention(trn_store_t *s)
{
    int64_t newest = newest_time(s);
    uint64_t wal_bytes = s->wal_dir ? trn_fs_dir_bytes(s->wal_dir) : 0;
    pthread_mutex_lock(&s->blocks_mu);
    if (s->opts.retention_ms > 0 && newest != INT64_MIN) {
        for (size_t i = 0; i < s->n_blocks;) {
            if (trn_block_meta(s->blocks[i])->max_t < newest - s->opts.retention_ms) {
                trn_log(TRN_LOG_INFO, "tsdb", "retention: deleting block", "file",
                        trn_block_path(s->blocks[i]), NULL);
                blocks_drop(s, i);
                atomic_fetch_add(&s->retention_deleted, 1);
            } else
                i++;
        }
    }
    if (s->opts.retention_bytes) {
        for (;;) {
            uint64_t total = wal_bytes;
            size_t oldest = 0;
            for (size_t i = 0; i < s->n_blocks; i++) {
                total += trn_block_meta(s->blocks[i])->bytes;
                if (trn_block_meta(s->blocks[i])->max_t < trn_block_meta(s->blocks[oldest])->max_t)
                    oldest = i;
            }
            if (total <= s->opts.retention_bytes || !s->n_blocks) break;
            trn_log(TRN_LOG_INFO, "tsdb", "size retention: deleting block", "file",
                    trn_block_path(s->blocks[oldest]), NULL);
            blocks_drop(s, oldest);
            atomic_fetch_add(&s->retention_deleted, 1);
        }
    }
    pthread_mutex_unlock(&s->blocks_mu);
}

int trn__store_maintain(trn_store_t *s, bool force_all, bool wait, trn_diag_t *d)
{
    if (!s->dir) return 0;
    int rc = 0;
    if (wait)
        pthread_mutex_lock(&s->maint_mu);
    else if (pthread_mutex_trylock(&s->maint_mu) != 0)
        return 0; /* someone is at it */
    int64_t r = s->opts.block_range_ms;
    for (int i = 0; rc == 0 && i < 1000; i++) {
        trn_head_stats_t hs;
        pthread_rwlock_rdlock(&s->lock);
        trn_head_stats(s->head, &hs);
        bool due = trn__store_cut_due(s);
        pthread_rwlock_unlock(&s->lock);
        if (!hs.samples) break;
        int64_t t;
        if (force_all)
            t = hs.max_t + 1;
        else if (due)
            t = (floor_div(hs.min_t, r) + 1) * r;
        else
            break;
        rc = cut_head(s, t, d);
        if (force_all) break;
    }
    if (rc == 0) rc = compact(s, d);
    retention(s);
    pthread_mutex_unlock(&s->maint_mu);
    return rc;
}

/* ---- backfill ---- */

typedef struct bf_item {
    const trn_append_series_t *as;
} bf_item_t;

static int cmp_bf(const void *a, const void *b)
{
    return trn_labels_cmp(&((const bf_item_t *)a)->as->labels, &((const bf_item_t *)b)->as->labels);
}

typedef struct idx_sample {
    trn_sample_t s;
    size_t order; /* arrival order: later wins */
} idx_sample_t;

static int cmp_idx_sample(const void *a, const void *b)
{
    const idx_sample_t *x = a, *y = b;
    if (x->s.t_ms != y->s.t_ms) return x->s.t_ms < y->s.t_ms ? -1 : 1;
    return (x->order > y->order) - (x->order < y->order);
}

int trn_store_backfill(trn_store_t *s, const trn_append_series_t *series, size_t n,
                       trn_append_result_t *res, trn_diag_t *d)
{
    trn_append_result_t r = {0};
    if (!s->dir) { /* memory-only: straight into the head, no age checks */
        pthread_rwlock_wrlock(&s->lock);
        for (size_t i = 0; i < n; i++) {
            if (!series[i].n_samples) continue;
            bool created;
            trn_hseries_t *hs = trn_head_get_or_create(
                s->head, &series[i].labels, trn_labels_hash(&series[i].labels), 0, &created);
            r.series_created += created;
            for (size_t k = 0; k < series[i].n_samples; k++)
                trn_head_append(s->head, hs, series[i].samples[k].t_ms, series[i].samples[k].v,
                                true);
            r.accepted += series[i].n_samples;
        }
        pthread_rwlock_unlock(&s->lock);
        atomic_fetch_add(&s->samples_appended, r.accepted);
        if (res) *res = r;
        return 0;
    }
    bf_item_t *items = trn_xmalloc((n ? n : 1) * sizeof *items);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (series[i].n_samples) items[m++] = (bf_item_t){&series[i]};
    qsort(items, m, sizeof *items, cmp_bf);
    pthread_mutex_lock(&s->maint_mu);
    uint64_t id = s->next_block_id++;
    char path[4096];
    block_file(s, id, path, sizeof path);
    trn_block_writer_t *w = NULL;
    int rc = trn_block_writer_new(path, ZSTD_LEVEL_CUT, &w, d);
    idx_sample_t *buf = NULL;
    trn_sample_t *out = NULL;
    size_t cap = 0;
    for (size_t i = 0; rc == 0 && i < m;) {
        size_t j = i, total = 0;
        while (j < m && trn_labels_equal(&items[j].as->labels, &items[i].as->labels))
            total += items[j++].as->n_samples;
        if (total > cap) {
            buf = trn_xrealloc(buf, total * sizeof *buf);
            out = trn_xrealloc(out, total * sizeof *out);
            cap = total;
        }
        size_t k = 0;
        /* items of equal labels keep their input order (qsort is not stable):
         * order by the series' position in the caller's array. */
        for (size_t x = i; x < j; x++) {
            size_t base = (size_t)(items[x].as - series) * ((size_t)1 << 32);
            for (size_t y = 0; y < items[x].as->n_samples; y++, k++)
                buf[k] = (idx_sample_t){items[x].as->samples[y], base + y};
        }
        qsort(buf, total, sizeof *buf, cmp_idx_sample);
        size_t u = 0;
        for (size_t x = 0; x < total; x++) {
            if (u && out[u - 1].t_ms == buf[x].s.t_ms)
                out[u - 1] = buf[x].s;
            else
                out[u++] = buf[x].s;
        }
        rc = trn_block_writer_add(w, &items[i].as->labels, out, u, d);
        r.accepted += total;
        r.series_created++;
        i = j;
    }
    free(buf);
    free(out);
    free(items);
    if (rc == 0) {
        rc = trn_block_writer_finish(w, 0, NULL, d);
        w = NULL;
        if (rc == TRN_ENOTFOUND)
            rc = 0;
        else if (rc == 0)
            rc = publish(s, id, false, d);
    }
    trn_block_writer_abort(w);
    pthread_mutex_unlock(&s->maint_mu);
    if (rc < 0) return rc;
    atomic_fetch_add(&s->samples_appended, r.accepted);
    if (res) *res = r;
    if (!s->opts.background) {
        trn_diag_t md;
        trn_diag_init(&md);
        if (trn__store_maintain(s, false, false, &md) < 0)
            trn_log(TRN_LOG_ERROR, "tsdb", "maintenance failed", "error", md.msg, NULL);
    }
    return 0;
}

int trn_store_flush(trn_store_t *s, trn_diag_t *d)
{
    return trn__store_maintain(s, true, true, d);
}

/* ---- background thread ---- */

static void *maint_thread(void *arg)
{
    trn_store_t *s = arg;
    time_t backoff = 0, backoff_until = 0;
    pthread_mutex_lock(&s->thr_mu);
    while (!s->stop) {
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        int64_t wait_ms = 1000;
        if (s->opts.fsync_mode == TRN_FSYNC_INTERVAL && s->opts.fsync_interval_ms > 0 &&
            s->opts.fsync_interval_ms < wait_ms)
            wait_ms = s->opts.fsync_interval_ms;
        dl.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
        dl.tv_sec += wait_ms / 1000 + dl.tv_nsec / 1000000000L;
        dl.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&s->thr_cv, &s->thr_mu, &dl);
        if (s->stop) break;
        pthread_mutex_unlock(&s->thr_mu);
        trn_diag_t d;
        trn_diag_init(&d);
        if (s->opts.fsync_mode == TRN_FSYNC_INTERVAL && trn_wal_sync(s->wal, &d) < 0)
            trn_log(TRN_LOG_ERROR, "tsdb", "WAL sync failed", "error", d.msg, NULL);
        trn_diag_init(&d);
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec >= backoff_until && trn__store_maintain(s, false, true, &d) < 0) {
            /* Back off (1 min, doubling to 30 min) so a full disk does not
             * turn into a failed cut and an error line every second. */
            backoff = backoff ? (backoff * 2 > 1800 ? 1800 : backoff * 2) : 60;
            backoff_until = now.tv_sec + backoff;
            char secs[24];
            snprintf(secs, sizeof secs, "%ld", (long)backoff);
            trn_log(TRN_LOG_ERROR, "tsdb", "maintenance failed", "error", d.msg, "retry_in_s", secs,
                    NULL);
        } else if (now.tv_sec >= backoff_until)
            backoff = 0;
        pthread_mutex_lock(&s->thr_mu);
    }
    pthread_mutex_unlock(&s->thr_mu);
    return NULL;
}

int trn__store_start_thread(trn_store_t *s)
{
    if (pthread_create(&s->thread, NULL, maint_thread, s) != 0) return TRN_EIO;
    s->thread_started = true;
    return 0;
}

void trn__store_stop_thread(trn_store_t *s)
{
    if (!s->thread_started) return;
    pthread_mutex_lock(&s->thr_mu);
    s->stop = true;
    pthread_cond_broadcast(&s->thr_cv);
    pthread_mutex_unlock(&s->thr_mu);
    pthread_join(s->thread, NULL);
    s->thread_started = false;
}
