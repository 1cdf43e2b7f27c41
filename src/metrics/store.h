/* SPDX-License-Identifier: Apache-2.0 */
/* The metrics store (TSDB): the one interface ingest, PromQL, rules and the
 * read APIs use. Series are keyed by their sorted label set; samples are
 * (int64 ms, double). Appends are durable (in the WAL) when they return 0.
 * Thread-safety: trn_store_append and queriers may be used concurrently
 * from any threads; one querier is used by one thread at a time. */
#ifndef TRN_METRICS_STORE_H
#define TRN_METRICS_STORE_H

#include "core/arena.h"
#include "core/diag.h"
#include "core/labels.h"
#include "core/matcher.h"

#include <stdbool.h>
#include <stdint.h>

/* Prometheus's staleness marker: a NaN with this exact bit pattern. */
#define TRN_STALE_NAN_BITS 0x7ff0000000000002ULL

typedef struct trn_store trn_store_t;
typedef struct trn_querier trn_querier_t;

typedef struct trn_sample {
    int64_t t_ms;
    double v;
} trn_sample_t;

typedef enum {
    TRN_FSYNC_BATCH = 0,    /* fsync before acknowledging every append */
    TRN_FSYNC_INTERVAL = 1, /* group commit: fsync at most every fsync_interval_ms */
    TRN_FSYNC_NEVER = 2,    /* write(2) only; survives kill -9, not power loss */
} trn_fsync_mode_t;

typedef struct trn_store_opts {
    const char *dir;          /* e.g. "data/metrics"; created if missing; NULL = memory only */
    int64_t retention_ms;     /* 0 = keep forever; default 15d */
    uint64_t retention_bytes; /* 0 = no size cap */
    int64_t block_range_ms;   /* head span cut into one block; default 2h */
    int64_t ooo_window_ms;    /* accept samples this far behind a series' newest */
    trn_fsync_mode_t fsync_mode;
    int64_t fsync_interval_ms; /* for TRN_FSYNC_INTERVAL */
    bool background;           /* run compaction/retention in a thread */
} trn_store_opts_t;

/* Default options (15d retention, 2h blocks, 1h ooo window, batch fsync). */
void trn_store_opts_default(trn_store_opts_t *o);

/* Opens (creating) the store in o->dir, loads blocks and replays the WAL.
 * A torn WAL tail is cut; a corrupt record is logged and skipped. */
int trn_store_open(const trn_store_opts_t *o, trn_store_t **out, trn_diag_t *d);
/* Stops background work, syncs the WAL, frees everything. NULL allowed. */
void trn_store_close(trn_store_t *s);

/* One series in an append batch. Labels must be sorted, valid and without
 * empty values (ingest does that: trn_labels_sort/validate/drop_empty);
 * samples in any order. Strings are borrowed for the call only. */
typedef struct trn_append_series {
    trn_labels_t labels;
    const trn_sample_t *samples;
    size_t n_samples;
} trn_append_series_t;

typedef struct trn_append_result {
    uint64_t accepted; /* samples stored (including replaced duplicates) */
    uint64_t too_old;  /* outside the ooo window and older than the head */
    uint64_t series_created;
} trn_append_result_t;

/* Appends a batch; returns 0 once everything accepted is in the WAL
 * (fsynced per the policy). Rejected samples are counted in res, not errors.
 * A duplicate timestamp replaces the earlier value (last write wins). */
int trn_store_append(trn_store_t *s, const trn_append_series_t *series, size_t n,
                     trn_append_result_t *res, trn_diag_t *d);

/* Writes historical samples (backfill) straight to blocks, bypassing the
 * head's ooo window. Same contract as trn_store_append. */
int trn_store_backfill(trn_store_t *s, const trn_append_series_t *series, size_t n,
                       trn_append_result_t *res, trn_diag_t *d);

/* Metric metadata, as remote_write and exposition carry it. */
typedef struct trn_metric_meta {
    trn_str_t metric, type, help, unit; /* type: counter|gauge|histogram|summary|... */
} trn_metric_meta_t;
void trn_store_set_metadata(trn_store_t *s, const trn_metric_meta_t *m);
/* Calls fn for each known metric's metadata (sorted by metric name). */
typedef void trn_meta_fn(void *ctx, const trn_metric_meta_t *m);
void trn_store_each_metadata(trn_store_t *s, trn_meta_fn *fn, void *ctx);

/* A read view over [mint_ms, maxt_ms] across the head and the blocks; pins
 * what it reads until closed. Label strings it returns stay valid until then. */
int trn_store_querier(trn_store_t *s, int64_t mint_ms, int64_t maxt_ms, trn_querier_t **out);
void trn_querier_close(trn_querier_t *q);

typedef struct trn_series {
    trn_labels_t labels; /* sorted; borrowed from the querier */
    uint64_t ref;        /* opaque handle for trn_querier_samples */
} trn_series_t;

/* Series matching all matchers that have samples in the querier's range,
 * sorted by labels; array from the arena. An empty matcher list is
 * TRN_EINVAL. Errors: TRN_ELIMIT when the arena budget is spent. */
int trn_querier_select(trn_querier_t *q, const trn_matcher_t *ms, size_t n_ms, trn_arena_t *a,
                       trn_series_t **out, size_t *n_out, trn_diag_t *d);
/* Decoded samples of one series within [mint_ms, maxt_ms] (clipped to the
 * querier's range), sorted by time, duplicates resolved; array from the arena.
 * Stale markers are returned as NaN with TRN_STALE_NAN_BITS. */
int trn_querier_samples(trn_querier_t *q, const trn_series_t *s, int64_t mint_ms, int64_t maxt_ms,
                        trn_arena_t *a, trn_sample_t **out, size_t *n_out);
/* Sorted distinct label names of series matching ms (all series if n_ms 0). */
int trn_querier_label_names(trn_querier_t *q, const trn_matcher_t *ms, size_t n_ms, trn_arena_t *a,
                            trn_str_t **out, size_t *n_out);
/* Sorted distinct values of label name among series matching ms (all if n_ms 0). */
int trn_querier_label_values(trn_querier_t *q, trn_str_t name, const trn_matcher_t *ms, size_t n_ms,
                             trn_arena_t *a, trn_str_t **out, size_t *n_out);

/* Head and store statistics for /metrics and /api/v1/status/tsdb. */
typedef struct trn_store_stats {
    uint64_t head_series, head_samples, head_chunks;
    int64_t head_min_t_ms, head_max_t_ms;
    uint64_t wal_bytes_written, wal_fsyncs, wal_corrupt_records;
    uint64_t blocks, block_bytes, compactions, compactions_failed;
    uint64_t samples_appended, samples_too_old, retention_deleted_blocks;
} trn_store_stats_t;
void trn_store_stats(trn_store_t *s, trn_store_stats_t *out);

/* Top-N metric names by head series count, for /api/v1/status/tsdb. */
typedef struct trn_name_count {
    trn_str_t name; /* arena copy */
    uint64_t count;
} trn_name_count_t;
int trn_store_top_metrics(trn_store_t *s, size_t limit, trn_arena_t *a, trn_name_count_t **out,
                          size_t *n_out);

/* Cuts the head into a block now and compacts (tests and shutdown use it). */
int trn_store_flush(trn_store_t *s, trn_diag_t *d);

static inline bool trn_is_stale_nan(double v)
{
    union {
        double d;
        uint64_t u;
    } x = {.d = v};
    return x.u == TRN_STALE_NAN_BITS;
}

#endif
