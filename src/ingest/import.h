/* SPDX-License-Identifier: Apache-2.0 */
/* Text-exposition import (/api/v1/import/prometheus): turns a whole body
 * of exposition lines, with optional timestamps, into one append batch.
 * Lines of the same series that follow each other share one batch entry;
 * samples without a timestamp get now_ms (VictoriaMetrics's rule). */
#ifndef TRN_INGEST_IMPORT_H
#define TRN_INGEST_IMPORT_H

#include "core/arena.h"
#include "core/diag.h"
#include "core/labels.h"
#include "ingest/exposition.h"
#include "metrics/store.h"

#include <stddef.h>
#include <stdint.h>

typedef struct trn_import_batch {
    trn_append_series_t *series; /* arena; labels sorted, copied into the arena */
    size_t n_series;
    trn_metric_meta_t *meta; /* one per family that had HELP/TYPE/UNIT; views into buf */
    size_t n_meta;
    uint64_t n_samples;
    uint64_t exemplars_skipped; /* exemplars are not stored */
} trn_import_batch_t;

/* Parses buf[0..len) (borrowed; metadata views point into it). extra
 * (may be NULL) adds or overrides labels on every sample; an empty value
 * removes the label. max_labels as for the parser. Returns 0, TRN_EINVAL
 * with d naming line:col, or TRN_ELIMIT (labels or arena budget). */
int trn_import_parse(const char *buf, size_t len, trn_expo_format_t fmt, int64_t now_ms,
                     const trn_labels_t *extra, size_t max_labels, trn_arena_t *a,
                     trn_import_batch_t *out, trn_diag_t *d);

/* Splits b's samples into those older than cutoff_ms (*old, for
 * trn_store_backfill) and the rest (*recent). New arrays (samples copied)
 * come from the arena; labels are shared with b. Only series and sample
 * counts are filled in the outputs. TRN_ELIMIT if the arena budget is spent. */
int trn_import_split(const trn_import_batch_t *b, int64_t cutoff_ms, trn_arena_t *a,
                     trn_import_batch_t *old, trn_import_batch_t *recent, trn_diag_t *d);

#endif
