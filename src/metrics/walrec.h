/* SPDX-License-Identifier: Apache-2.0 */
/* The metrics store's WAL record types and their payload encodings
 * (docs/format/metrics-wal-records.md). Encoders append to a trn_buf_t;
 * decoders check every length against the bytes left and report
 * TRN_ECORRUPT with the payload offset. */
#ifndef TRN_METRICS_WALREC_H
#define TRN_METRICS_WALREC_H

#include "core/diag.h"
#include "core/labels.h"
#include "core/str.h"

#include <stddef.h>
#include <stdint.h>

enum {
    TRN_WALREC_SERIES = 1,     /* series ids and their label sets */
    TRN_WALREC_SAMPLES = 2,    /* (series id, t, v) triples */
    TRN_WALREC_CHECKPOINT = 3, /* head state after a truncation (checkpoint files) */
};

/* Appends one series entry (id, labels) to a SERIES payload. */
void trn_walrec_put_series(trn_buf_t *b, uint32_t id, const trn_labels_t *ls);
/* Starts a SAMPLES payload with its base time. */
void trn_walrec_samples_begin(trn_buf_t *b, int64_t base_t);
/* Appends one sample; base_t is the one given to trn_walrec_samples_begin. */
void trn_walrec_put_sample(trn_buf_t *b, int64_t base_t, uint32_t id, int64_t t, double v);
/* CHECKPOINT payload: samples before min_valid_t in segments before
 * first_segment are already in blocks; ids below next_id were used. */
void trn_walrec_put_checkpoint(trn_buf_t *b, int64_t min_valid_t, uint32_t first_segment,
                               uint32_t next_id);

/* Decoding callbacks; a non-zero return stops decoding and is passed on. */
typedef int trn_walrec_series_fn(void *ctx, uint32_t id, const trn_labels_t *ls);
typedef int trn_walrec_sample_fn(void *ctx, uint32_t id, int64_t t, double v);

/* Decodes a SERIES payload; label views point into p. Labels are handed
 * out in a scratch array of at most TRN_WALREC_MAX_LABELS entries. */
#define TRN_WALREC_MAX_LABELS 256
int trn_walrec_decode_series(const uint8_t *p, size_t len, trn_walrec_series_fn *fn, void *ctx,
                             trn_diag_t *d);
int trn_walrec_decode_samples(const uint8_t *p, size_t len, trn_walrec_sample_fn *fn, void *ctx,
                              trn_diag_t *d);
int trn_walrec_decode_checkpoint(const uint8_t *p, size_t len, int64_t *min_valid_t,
                                 uint32_t *first_segment, uint32_t *next_id, trn_diag_t *d);

#endif
