/* SPDX-License-Identifier: Apache-2.0 */
/* Prometheus remote_write 1.0 decoder: a snappy block-compressed protobuf
 * WriteRequest (prompb/remote.proto, types.proto) decoded straight into
 * trn_append_series_t arrays ready for one trn_store_append call. Label
 * views point into the decompressed buffer; everything lives in the
 * caller's arena. Series with invalid labels are dropped and counted (the
 * rest of the request still goes in); undecodable bodies are errors. */
#ifndef TRN_INGEST_REMOTE_WRITE_H
#define TRN_INGEST_REMOTE_WRITE_H

#include "core/arena.h"
#include "core/diag.h"
#include "core/str.h"
#include "metrics/store.h"

#include <stddef.h>
#include <stdint.h>

/* Why a series was dropped (index into trn_rw_result_t.dropped). */
typedef enum {
    TRN_RW_DROP_EMPTY_LABEL_NAME = 0,
    TRN_RW_DROP_INVALID_LABEL_NAME,
    TRN_RW_DROP_DUPLICATE_LABEL_NAME,
    TRN_RW_DROP_MISSING_METRIC_NAME,
    TRN_RW_DROP_INVALID_METRIC_NAME,
    TRN_RW_DROP_INVALID_UTF8,
    TRN_RW_DROP_TOO_MANY_LABELS,
    TRN_RW_DROP_N
} trn_rw_drop_t;

typedef struct trn_rw_limits {
    size_t max_decoded_bytes; /* decompressed body cap; 0 = 256 MiB */
    size_t max_labels;        /* labels per series; 0 = 256 */
} trn_rw_limits_t;

typedef struct trn_rw_result {
    trn_append_series_t *series; /* valid series with >= 1 sample; arena */
    size_t n_series;
    trn_metric_meta_t *meta; /* MetricMetadata entries; views into the body */
    size_t n_meta;
    uint64_t n_samples;              /* samples in series[] */
    uint64_t dropped_series;         /* series dropped for their labels */
    uint64_t dropped_samples;        /* their samples */
    uint64_t dropped[TRN_RW_DROP_N]; /* dropped samples by reason */
    uint64_t exemplars_skipped;      /* exemplars are not stored */
    uint64_t histograms_skipped;     /* native histograms are not stored */
    trn_diag_t drop;                 /* why the first series was dropped, with offset */
} trn_rw_result_t;

/* Decompresses a snappy block (not framed) into the arena. The claimed
 * length is checked against max_bytes (TRN_ELIMIT) before anything is
 * allocated; corrupt input is TRN_EINVAL. *out views arena memory. */
int trn_rw_snappy_decode(const char *buf, size_t len, size_t max_bytes, trn_arena_t *a,
                         trn_str_t *out, trn_diag_t *d);

/* Decodes an uncompressed WriteRequest pb[0..len) (borrowed; the result's
 * views point into it, so it must outlive *out). Returns 0 (possibly with
 * dropped series counted in *out), TRN_EINVAL for malformed protobuf (d has
 * the byte offset), TRN_ELIMIT when the arena budget is spent. */
int trn_rw_decode(const char *pb, size_t len, const trn_rw_limits_t *lim, trn_arena_t *a,
                  trn_rw_result_t *out, trn_diag_t *d);

/* Both steps: snappy body in, result out (decompressed bytes in the arena). */
int trn_rw_decode_snappy(const char *body, size_t len, const trn_rw_limits_t *lim, trn_arena_t *a,
                         trn_rw_result_t *out, trn_diag_t *d);

/* Metric label value for a drop reason ("invalid_label_name", ...). */
const char *trn_rw_drop_name(trn_rw_drop_t r);

#endif
