/* SPDX-License-Identifier: Apache-2.0 */
/* Column encoding of one series' samples inside a block page
 * (docs/format/metric-block.md, "series data"): delta-of-delta varint
 * timestamps, then values as scaled-decimal integer deltas (with bit-exact
 * exceptions) or XOR'd raw bits. Byte-aligned on purpose: the page is then
 * compressed with zstd, which finds the repetition a bit stream would hide. */
#ifndef TRN_METRICS_SENC_H
#define TRN_METRICS_SENC_H

#include "core/str.h"
#include "metrics/store.h"

#include <stddef.h>
#include <stdint.h>

/* Appends the encoding of n samples (sorted, unique timestamps) to b. */
void trn_senc_encode(const trn_sample_t *s, size_t n, trn_buf_t *b);
/* Number of samples an encoding holds, or -1 if the header is malformed. */
int64_t trn_senc_count(const uint8_t *p, size_t len);
/* Decodes into out (room for trn_senc_count samples). Returns the count, or
 * -1 when the bytes are malformed (never reads outside [p, p+len)). */
int64_t trn_senc_decode(const uint8_t *p, size_t len, trn_sample_t *out);
/* Same, but only samples with mint <= t <= maxt get values: they are
 * out[*first .. *first + count); returns count or -1. Cheaper when the range
 * is a small part of the series (an instant query's lookback). */
int64_t trn_senc_decode_range(const uint8_t *p, size_t len, int64_t mint, int64_t maxt,
                              trn_sample_t *out, size_t *first);

#endif
