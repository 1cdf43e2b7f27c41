/* SPDX-License-Identifier: Apache-2.0 */
/* Gorilla-style sample chunks: delta-of-delta timestamps and XOR'd float
 * bits in one bit stream (byte layout: docs/format/metric-chunk.md). Values
 * are kept bit-exact, so NaN payloads such as the staleness marker survive.
 * A chunk holds samples with strictly increasing timestamps; the head keeps
 * out-of-order samples elsewhere. Not thread-safe. */
#ifndef TRN_METRICS_CHUNK_H
#define TRN_METRICS_CHUNK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Samples per head chunk before a new one is started. */
#define TRN_CHUNK_SAMPLES 240

/* An appendable chunk: the bit stream plus the encoder's state. */
typedef struct trn_chunk {
    uint8_t *buf;    /* owned; bit stream, MSB first */
    uint32_t cap;    /* bytes allocated */
    uint32_t nbits;  /* bits written */
    uint16_t n;      /* samples */
    uint8_t leading; /* XOR window of the previous value */
    uint8_t trailing;
    int64_t min_t, max_t;
    int64_t delta;   /* previous timestamp delta */
    uint64_t v_bits; /* previous value's bits */
} trn_chunk_t;

void trn_chunk_init(trn_chunk_t *c);
void trn_chunk_fini(trn_chunk_t *c);
/* Appends (t, v); t must be greater than c->max_t unless the chunk is empty.
 * Grows the buffer geometrically (no allocation on most calls). */
void trn_chunk_append(trn_chunk_t *c, int64_t t, double v);
/* Bytes the stream occupies (rounded up). */
static inline size_t trn_chunk_bytes(const trn_chunk_t *c)
{
    return (c->nbits + 7) / 8;
}

/* Reads a stream of n samples from [p, p+len); never reads past it. */
typedef struct trn_chunk_iter {
    const uint8_t *p;
    size_t nbits, pos;
    uint32_t n, i;
    int64_t t, delta;
    uint64_t v_bits;
    uint8_t leading, trailing;
    bool err; /* set when the stream ended early or was malformed */
} trn_chunk_iter_t;

void trn_chunk_iter_init(trn_chunk_iter_t *it, const uint8_t *p, size_t len, uint32_t n);
/* Next sample, or false at the end or on error (check it->err). */
bool trn_chunk_next(trn_chunk_iter_t *it, int64_t *t, double *v);

#endif
