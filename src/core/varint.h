/* SPDX-License-Identifier: Apache-2.0 */
/* LEB128 varints (unsigned, and zigzag-signed) as trine's on-disk formats
 * write them (WAL records, block sections, sample encoding): a writer into a
 * trn_buf_t and a bounds-checked reader over a byte range. The reader never
 * reads past len; a truncated or over-long varint sets `bad` and yields 0,
 * so callers check once after a run of reads. */
#ifndef TRN_CORE_VARINT_H
#define TRN_CORE_VARINT_H

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct trn_vreader {
    const uint8_t *p; /* borrowed */
    size_t len, off;
    bool bad; /* sticky: set by the first malformed read */
} trn_vreader_t;

static inline void trn_varint_put(trn_buf_t *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    trn_buf_append(b, tmp, n);
}

static inline void trn_varint_put_signed(trn_buf_t *b, int64_t v)
{
    trn_varint_put(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static inline uint64_t trn_vreader_u(trn_vreader_t *r)
{
    if (r->off < r->len && r->p[r->off] < 0x80) return r->p[r->off++]; /* one byte: most values */
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (r->off >= r->len) break;
        uint8_t c = r->p[r->off++];
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) return v;
    }
    r->bad = true;
    return 0;
}

static inline int64_t trn_vreader_s(trn_vreader_t *r)
{
    uint64_t u = trn_vreader_u(r);
    return (int64_t)((u >> 1) ^ (0 - (u & 1)));
}

#endif
