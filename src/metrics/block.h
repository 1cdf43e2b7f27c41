/* SPDX-License-Identifier: Apache-2.0 */
/* Immutable metric blocks: one file holding the series, label index and
 * compressed samples of a time range (docs/format/metric-block.md). Written
 * once by trn_block_writer_*, then read through mmap by trn_block_*.
 * A block is reference-counted: queriers pin it while they read; a block
 * marked for deletion (compaction, retention) is unmapped and its file
 * removed when the last reference goes. Readers are thread-safe; a page
 * cache (trn_block_cache_t) belongs to one thread. */
#ifndef TRN_METRICS_BLOCK_H
#define TRN_METRICS_BLOCK_H

#include "core/arena.h"
#include "core/diag.h"
#include "core/labels.h"
#include "core/postings.h"
#include "metrics/store.h"

#include <stdbool.h>
#include <stdint.h>

#define TRN_BLOCK_MAGIC "TRNB"
#define TRN_BLOCK_VERSION 1
#define TRN_BLOCK_FOOTER_BYTES 192
#define TRN_BLOCK_PAGE_BYTES (64u << 10) /* uncompressed page target */

typedef struct trn_block_meta {
    int64_t min_t, max_t; /* inclusive */
    uint64_t n_samples;
    uint32_t n_series, n_pages;
    uint32_t level; /* 0 = cut from the head or backfilled; +1 per compaction */
    uint64_t bytes; /* file size */
} trn_block_meta_t;

/* ---- writing ---- */

typedef struct trn_block_writer trn_block_writer_t;

/* Starts a block that will be renamed to path on finish (path.tmp until). */
int trn_block_writer_new(const char *path, int zstd_level, trn_block_writer_t **out, trn_diag_t *d);
/* Adds one series. Series must come in strictly increasing label order;
 * samples sorted by time with unique timestamps; n > 0. Labels are copied. */
int trn_block_writer_add(trn_block_writer_t *w, const trn_labels_t *ls, const trn_sample_t *s,
                         size_t n, trn_diag_t *d);
/* Writes the index and footer, fsyncs, renames into place; frees w.
 * An empty block (no series) is not written: returns TRN_ENOTFOUND. */
int trn_block_writer_finish(trn_block_writer_t *w, uint32_t level, trn_block_meta_t *meta,
                            trn_diag_t *d);
/* Discards an unfinished block and frees w. NULL allowed. */
void trn_block_writer_abort(trn_block_writer_t *w);

/* ---- reading ---- */

typedef struct trn_block trn_block_t;

/* Maps path and checks header, footer and index checksums; corruption is
 * TRN_ECORRUPT with the file and offset in d. Returns with one reference. */
int trn_block_open(const char *path, trn_block_t **out, trn_diag_t *d);
void trn_block_ref(trn_block_t *b);
/* Drops a reference; the last one unmaps (and deletes if marked). NULL ok. */
void trn_block_unref(trn_block_t *b);
/* The file is removed once no reference remains. */
void trn_block_mark_deleted(trn_block_t *b);
const trn_block_meta_t *trn_block_meta(const trn_block_t *b);
const char *trn_block_path(const trn_block_t *b);

/* Label index of the block as a postings source (ids 0..n_series-1, in
 * label order). Corrupt index entries surface as TRN_ECORRUPT. */
trn_postings_src_t trn_block_src(trn_block_t *b);
/* Calls fn for every label name in the block. */
int trn_block_each_name(trn_block_t *b, trn_value_fn *fn, void *ctx);
/* Labels of series id (array from the arena, strings borrowed from the
 * mapping) and its time range and sample count. */
int trn_block_series(trn_block_t *b, uint32_t id, trn_arena_t *a, trn_labels_t *ls, int64_t *min_t,
                     int64_t *max_t, trn_diag_t *d);

/* One decompressed page, reused across calls (one per reading thread). */
typedef struct trn_block_cache {
    const trn_block_t *b;
    uint32_t page;
    uint8_t *buf;
    size_t cap, len;
} trn_block_cache_t;
void trn_block_cache_fini(trn_block_cache_t *c);

/* Samples of series id within [mint, maxt], array from the arena. */
int trn_block_samples(trn_block_t *b, uint32_t id, int64_t mint, int64_t maxt, trn_block_cache_t *c,
                      trn_arena_t *a, trn_sample_t **out, size_t *n, trn_diag_t *d);
/* All samples of series id into a heap buffer grown as needed (compaction). */
int trn_block_samples_heap(trn_block_t *b, uint32_t id, trn_block_cache_t *c, trn_sample_t **buf,
                           size_t *cap, size_t *n, trn_diag_t *d);

#endif
