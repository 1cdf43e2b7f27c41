/* SPDX-License-Identifier: Apache-2.0 */
/* The head: recent samples of every series in memory, in Gorilla chunks,
 * with an index from labels to series. Series ids are handed out in
 * ascending order and never reused while the head lives. Not thread-safe:
 * the store wraps it in a read-write lock. */
#ifndef TRN_METRICS_HEAD_H
#define TRN_METRICS_HEAD_H

#include "core/arena.h"
#include "core/labels.h"
#include "core/matcher.h"
#include "core/postings.h"
#include "metrics/store.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct trn_head trn_head_t;
typedef struct trn_hseries trn_hseries_t;

typedef enum {
    TRN_HEAD_APPENDED = 0, /* stored in order */
    TRN_HEAD_OOO = 1,      /* stored out of order (or replaced a duplicate) */
    TRN_HEAD_TOO_OLD = 2,  /* rejected */
} trn_head_append_t;

/* ooo_window_ms: how far behind a series' newest sample a sample may land.
 * new_series_window_ms: how far behind the head's newest sample the first
 * sample of a new series may land. */
trn_head_t *trn_head_new(int64_t ooo_window_ms, int64_t new_series_window_ms);
void trn_head_free(trn_head_t *h);

/* Finds the series with these sorted labels (hash = trn_labels_hash), or
 * creates it (copying labels into the head's symbol table) and sets *created.
 * id 0 means "next id"; WAL replay passes the recorded id. Returns NULL only
 * when an explicit id is already taken by different labels. */
trn_hseries_t *trn_head_get_or_create(trn_head_t *h, const trn_labels_t *ls, uint64_t hash,
                                      uint32_t id, bool *created);
/* Makes sure ids below next_id are never handed out (WAL replay). */
void trn_head_reserve_ids(trn_head_t *h, uint32_t next_id);
/* Cache hints for batched appends: the table slot a hash probes first, the
 * series' open chunk header, then that chunk's tail. No effect on results. */
void trn_head_prefetch(const trn_head_t *h, uint64_t hash);
void trn_hseries_prefetch_chunk(const trn_hseries_t *s);
void trn_hseries_prefetch_tail(const trn_hseries_t *s);
/* Series by id, or NULL. */
trn_hseries_t *trn_head_by_id(const trn_head_t *h, uint32_t id);
uint32_t trn_hseries_id(const trn_hseries_t *s);
/* Labels of the series: out gets trn_hseries_n_labels entries whose
 * strings are interned in the head (valid while the series lives). */
size_t trn_hseries_n_labels(const trn_hseries_t *s);
void trn_hseries_labels(const trn_hseries_t *s, trn_label_t *out);
/* Same, with the array from the arena; TRN_ELIMIT when it is spent. */
int trn_hseries_labels_arena(const trn_hseries_t *s, trn_arena_t *a, trn_labels_t *out);
/* Time range of the series' samples; false if it has none. */
bool trn_hseries_range(const trn_hseries_t *s, int64_t *min_t, int64_t *max_t);

/* Appends one sample (see trn_head_append_t). force skips the age checks
 * (WAL replay re-applies samples that were accepted once). */
trn_head_append_t trn_head_append(trn_head_t *h, trn_hseries_t *s, int64_t t, double v, bool force);

/* Sorted ids of series matching all matchers (all series if n_ms is 0). */
int trn_head_select(trn_head_t *h, const trn_matcher_t *ms, size_t n_ms, trn_ids_t *out);
/* Calls fn for each value of label name (any order). */
int trn_head_each_value(trn_head_t *h, trn_str_t name, trn_value_fn *fn, void *ctx);
/* Calls fn for each label name (any order). */
int trn_head_each_name(trn_head_t *h, trn_value_fn *fn, void *ctx);
/* Number of series with name=value. */
size_t trn_head_postings_len(trn_head_t *h, trn_str_t name, trn_str_t value);

/* Samples of s within [mint, maxt], sorted, duplicates resolved (the later
 * write wins); array from the arena. TRN_ELIMIT when the arena is spent. */
int trn_hseries_samples(const trn_hseries_t *s, int64_t mint, int64_t maxt, trn_arena_t *a,
                        trn_sample_t **out, size_t *n_out);
/* Same into a caller-owned heap array (grown with trn_xrealloc; *cap in
 * samples). Used by block writing, which has no arena. */
size_t trn_hseries_samples_heap(const trn_hseries_t *s, int64_t mint, int64_t maxt,
                                trn_sample_t **buf, size_t *cap);

/* Drops every sample before t. Series left empty stay until unlinked. */
void trn_head_truncate(trn_head_t *h, int64_t t);
/* Removes series without samples from the tables and the index and returns
 * them (heap array the caller frees, count in *n). Readers that already hold
 * one may keep reading it (it is empty) until trn_head_release. */
trn_hseries_t **trn_head_unlink_empty(trn_head_t *h, size_t *n);
/* Frees series returned by trn_head_unlink_empty. */
void trn_head_release(trn_head_t *h, trn_hseries_t **v, size_t n);

typedef void trn_hseries_fn(void *ctx, trn_hseries_t *s);
/* Calls fn for every series in id order. */
void trn_head_each_series(trn_head_t *h, trn_hseries_fn *fn, void *ctx);

typedef struct trn_head_stats {
    uint64_t series, samples, chunks;
    int64_t min_t, max_t; /* 0, 0 when empty */
    uint32_t next_id;
} trn_head_stats_t;
void trn_head_stats(const trn_head_t *h, trn_head_stats_t *out);

#endif
