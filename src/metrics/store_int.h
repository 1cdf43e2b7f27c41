/* SPDX-License-Identifier: Apache-2.0 */
/* Internals shared by store.c (open, append, metadata, stats),
 * store_query.c (queriers) and store_maint.c (block cuts, compaction,
 * retention, backfill, checkpoints). Nothing outside src/metrics includes
 * this file.
 *
 * Locks, in acquisition order:
 *   maint_mu  — one maintenance operation at a time (cut, compact, retention,
 *               backfill publication, flush);
 *   lock      — read-write lock over the head (appends write, readers read);
 *   blocks_mu — the block list and querier registration;
 *   the WAL's own mutex (inside core/wal.c). */
#ifndef TRN_METRICS_STORE_INT_H
#define TRN_METRICS_STORE_INT_H

#include "core/wal.h"
#include "metrics/block.h"
#include "metrics/head.h"
#include "metrics/store.h"

#include <pthread.h>
#include <stdatomic.h>

typedef struct meta_ent {
    char *metric, *type, *help, *unit;
} meta_ent_t;

typedef struct late_sample {
    uint32_t id;
    int64_t t;
    double v;
} late_sample_t;

struct trn_store {
    trn_store_opts_t opts;
    char *dir, *wal_dir, *blocks_dir;

    pthread_mutex_t maint_mu;

    pthread_rwlock_t lock; /* guards head, rec_*, cutting, late */
    trn_head_t *head;
    trn_wal_t *wal;
    trn_buf_t rec_series, rec_samples;
    bool cutting; /* a block cut is writing samples before cut_t */
    int64_t cut_t;
    late_sample_t *late; /* samples before cut_t accepted during the cut */
    size_t n_late, cap_late;
    uint32_t ckpt_first_segment; /* from the checkpoint replayed at open */

    pthread_mutex_t blocks_mu;
    pthread_cond_t blocks_cv;
    trn_block_t **blocks; /* sorted by min_t, then id */
    uint64_t *block_ids;  /* parallel to blocks: creation order (newer wins) */
    size_t n_blocks, cap_blocks;
    uint64_t next_block_id;
    unsigned generation;       /* bumped to tell old queriers from new ones */
    unsigned open_queriers[2]; /* per generation parity */
    bool stale_queriers;       /* a wait for old queriers timed out */

    trn_hseries_t **graveyard; /* unlinked head series waiting for old queriers */
    size_t n_graveyard;

    pthread_mutex_t meta_lock;
    meta_ent_t *meta;
    size_t n_meta, cap_meta;

    pthread_t thread;
    bool thread_started;
    pthread_mutex_t thr_mu;
    pthread_cond_t thr_cv;
    bool stop;

    atomic_uint_least64_t samples_appended, samples_too_old, wal_corrupt_records;
    atomic_uint_least64_t compactions, compactions_failed, retention_deleted;
};

/* Bumps the generation and waits (bounded) until no querier from before is
 * open; true if they all closed. blocks_mu held. */
bool trn__store_drain_queriers(trn_store_t *s);

/* Maintenance (store_maint.c). */
int trn__store_load_blocks(trn_store_t *s, trn_diag_t *d);
void trn__store_free_blocks(trn_store_t *s);
/* Cuts, compacts and applies retention as the options say; maint_mu must
 * not be held. force_all cuts the whole head. Without wait, returns at once
 * when another maintenance is running. */
int trn__store_maintain(trn_store_t *s, bool force_all, bool wait, trn_diag_t *d);
/* True if the head spans enough time to cut a block (lock held). */
bool trn__store_cut_due(trn_store_t *s);
int trn__store_start_thread(trn_store_t *s);
void trn__store_stop_thread(trn_store_t *s);

#endif
