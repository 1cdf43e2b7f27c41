/* SPDX-License-Identifier: Apache-2.0 */
/* Gorilla chunk encoder and decoder (docs/format/metric-chunk.md).
 *
 * The idea (Pelkonen et al., "Gorilla", VLDB 2015): scrape timestamps come
 * at a nearly fixed interval, so the difference between consecutive deltas
 * is almost always 0 and costs one bit; float series change slowly, so the
 * XOR of consecutive values' bits has long runs of leading and trailing
 * zeros and only the middle ("meaningful") bits need storing, often inside
 * the window the previous value already announced.
 *
 * Our choices, all fixed by the format page:
 * - the first sample stores its timestamp and value raw (64 bits each);
 *   every later timestamp stores dod = delta - previous delta (previous
 *   delta starts at 0) in one of five prefix classes:
 *       0                 dod == 0
 *       10   + 8 bits     -128 .. 127
 *       110  + 14 bits    -8192 .. 8191
 *       1110 + 20 bits    -524288 .. 524287
 *       1111 + 64 bits    anything
 *   each payload being dod in two's complement of that width. Millisecond
 *   scrape jitter lands in the 8-bit class; a missed scrape in the 14- or
 *   20-bit class.
 * - values: xor == 0 is "0"; a xor that fits the previous window is
 *   "10" + the window's bits; otherwise "11" + 6 bits of leading zeros +
 *   6 bits of (meaningful length - 1) + the meaningful bits. The window
 *   starts as the whole word (0 leading, 0 trailing). The encoder takes the
 *   "10" form only when it is no longer than the "11" form would be — a
 *   choice the decoder need not know about.
 * Values are handled purely as bit patterns, so NaN payloads (the staleness
 * marker 0x7ff0000000000002), signed zeros and infinities round-trip.
 *
 * The decoder checks every read against the stream length and reports a
 * short or malformed stream through it->err; it never reads out of bounds,
 * which is what lets block readers hand it untrusted bytes. */
#include "metrics/chunk.h"
#include "core/alloc.h"
#include "core/err.h"

#include <stdlib.h>
#include <string.h>

void trn_chunk_init(trn_chunk_t *c)
{
    memset(c, 0, sizeof *c);
}

void trn_chunk_fini(trn_chunk_t *c)
{
    if (!c) return;
    free(c->buf);
    memset(c, 0, sizeof *c);
}

static void put_bits(trn_chunk_t *c, uint64_t v, unsigned nb)
{
    if (nb == 0) return;
    uint32_t need = (c->nbits + nb + 7) / 8 + 8; /* slack for the 8-byte stores below */
    if (need > c->cap) {
        /* Grow by a quarter (at least 32 bytes): a head holds one open chunk
         * per series, so doubling would leave a third of them empty. */
        uint32_t cap = c->cap ? c->cap + c->cap / 4 : 32;
        if (cap < need + 32) cap = need + 32;
        c->buf = trn_xrealloc(c->buf, cap);
        memset(c->buf + c->cap, 0, cap - c->cap);
        c->cap = cap;
    }
    if (nb > 56) { /* keep each store within one 64-bit window */
        put_bits(c, v >> 32, nb - 32);
        nb = 32;
    }
    v &= (UINT64_C(1) << nb) - 1;
    /* The byte at nbits holds `used` bits, everything after it is zero:
     * merge into a big-endian 64-bit window and store it whole. */
    uint32_t byte = c->nbits >> 3, used = c->nbits & 7;
    uint64_t w = (uint64_t)c->buf[byte] << 56 | v << (64 - used - nb);
    for (int i = 0; i < 8; i++)
        c->buf[byte + (uint32_t)i] = (uint8_t)(w >> (56 - 8 * i));
    c->nbits += nb;
}

static inline uint64_t f2u(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}

static inline double u2f(uint64_t u)
{
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static void encode_dod(trn_chunk_t *c, int64_t dod)
{
    if (dod == 0)
        put_bits(c, 0, 1);
    else if (dod >= -128 && dod <= 127) {
        put_bits(c, 2, 2);
        put_bits(c, (uint64_t)dod, 8);
    } else if (dod >= -8192 && dod <= 8191) {
        put_bits(c, 6, 3);
        put_bits(c, (uint64_t)dod, 14);
    } else if (dod >= -524288 && dod <= 524287) {
        put_bits(c, 14, 4);
        put_bits(c, (uint64_t)dod, 20);
    } else {
        put_bits(c, 15, 4);
        put_bits(c, (uint64_t)dod, 64);
    }
}

static void encode_value(trn_chunk_t *c, uint64_t bits)
{
    uint64_t x = bits ^ c->v_bits;
    if (x == 0) {
        put_bits(c, 0, 1);
        return;
    }
    unsigned lead = (unsigned)__builtin_clzll(x), trail = (unsigned)__builtin_ctzll(x);
    unsigned sig = 64 - lead - trail, win = 64u - c->leading - c->trailing;
    if (lead >= c->leading && trail >= c->trailing && win <= sig + 12) {
        put_bits(c, 2, 2);
        put_bits(c, x >> c->trailing, 64 - c->leading - c->trailing);
        return;
    }
    put_bits(c, 3, 2);
    put_bits(c, lead, 6);
    put_bits(c, sig - 1, 6);
    put_bits(c, x >> trail, sig);
    c->leading = (uint8_t)lead;
    c->trailing = (uint8_t)trail;
}

void trn_chunk_append(trn_chunk_t *c, int64_t t, double v)
{
    uint64_t bits = f2u(v);
    if (c->n == 0) {
        put_bits(c, (uint64_t)t, 64);
        put_bits(c, bits, 64);
        c->min_t = t;
        c->delta = 0;
    } else {
        TRN_ASSERT(t > c->max_t);
        int64_t delta = (int64_t)((uint64_t)t - (uint64_t)c->max_t);
        encode_dod(c, (int64_t)((uint64_t)delta - (uint64_t)c->delta));
        c->delta = delta;
        encode_value(c, bits);
    }
    c->max_t = t;
    c->v_bits = bits;
    c->n++;
}

void trn_chunk_iter_init(trn_chunk_iter_t *it, const uint8_t *p, size_t len, uint32_t n)
{
    memset(it, 0, sizeof *it);
    it->p = p;
    it->nbits = len * 8;
    it->n = n;
}

/* Eight bytes as a big-endian integer, in one unaligned load. */
static inline uint64_t load_be64(const uint8_t *q)
{
    uint64_t x;
    memcpy(&x, q, sizeof x);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    x = __builtin_bswap64(x);
#elif !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_BIG_ENDIAN__
    x = 0;
    for (int i = 0; i < 8; i++)
        x = x << 8 | q[i];
#endif
    return x;
}

static uint64_t get_bits(trn_chunk_iter_t *it, unsigned nb)
{
    if (nb == 0) return 0;
    if (it->nbits - it->pos < nb || it->pos > it->nbits) {
        it->err = true;
        it->pos = it->nbits;
        return 0;
    }
    size_t byte = it->pos >> 3;
    unsigned used = (unsigned)(it->pos & 7);
    if (nb <= 56 && (it->nbits >> 3) - byte >= 8) { /* one 8-byte window */
        uint64_t w = load_be64(it->p + byte);
        it->pos += nb;
        return (w << used) >> (64 - nb);
    }
    uint64_t v = 0;
    while (nb) {
        byte = it->pos >> 3;
        used = (unsigned)(it->pos & 7);
        unsigned room = 8 - used;
        unsigned take = nb < room ? nb : room;
        uint8_t b = (uint8_t)(it->p[byte] >> (room - take)) & (uint8_t)((1u << take) - 1);
        v = (v << take) | b;
        it->pos += take;
        nb -= take;
    }
    return v;
}

static int64_t sext(uint64_t v, unsigned nb)
{
    if (nb == 64) return (int64_t)v;
    uint64_t m = UINT64_C(1) << (nb - 1);
    return (int64_t)((v ^ m) - m);
}

/* The next 64 bits from the read position, first bit at the top, from one
 * unaligned 8-byte load; false when fewer than 64 bits remain (then the
 * bit-by-bit reader takes over). Of the result, the top 57 bits or more
 * are stream bits (the load starts at the position's byte). */
static bool window(const trn_chunk_iter_t *it, uint64_t *w)
{
    if (it->pos > it->nbits || it->nbits - it->pos < 64) return false;
    *w = load_be64(it->p + (it->pos >> 3)) << (it->pos & 7);
    return true;
}

/* The delta of delta, its control prefix and payload from one window when
 * they fit (every case but the raw 64-bit one). */
static int64_t next_dod(trn_chunk_iter_t *it)
{
    uint64_t w;
    if (window(it, &w) && (w >> 60) != 0xf) {
        if (!(w >> 63)) {
            it->pos += 1;
            return 0;
        }
        if (!((w >> 62) & 1)) {
            it->pos += 10;
            return sext((w << 2) >> 56, 8);
        }
        if (!((w >> 61) & 1)) {
            it->pos += 17;
            return sext((w << 3) >> 50, 14);
        }
        it->pos += 24;
        return sext((w << 4) >> 44, 20);
    }
    if (get_bits(it, 1) == 0) return 0;
    if (get_bits(it, 1) == 0) return sext(get_bits(it, 8), 8);
    if (get_bits(it, 1) == 0) return sext(get_bits(it, 14), 14);
    if (get_bits(it, 1) == 0) return sext(get_bits(it, 20), 20);
    return (int64_t)get_bits(it, 64);
}

/* The value's XOR record, from one window when control bits and payload
 * fit in its 57 sure bits. */
static void next_value(trn_chunk_iter_t *it)
{
    uint64_t w;
    if (window(it, &w)) {
        if (!(w >> 63)) {
            it->pos += 1;
            return;
        }
        if (!((w >> 62) & 1)) {
            unsigned nb = 64u - it->leading - it->trailing;
            if (nb + 2 <= 57) {
                it->v_bits ^= ((w << 2) >> (64 - nb)) << it->trailing;
                it->pos += 2 + nb;
                return;
            }
        } else {
            unsigned lead = (unsigned)((w << 2) >> 58);
            unsigned sig = (unsigned)((w << 8) >> 58) + 1;
            if (lead + sig > 64) {
                it->err = true;
                return;
            }
            if (14 + sig <= 57) {
                it->leading = (uint8_t)lead;
                it->trailing = (uint8_t)(64 - lead - sig);
                it->v_bits ^= ((w << 14) >> (64 - sig)) << it->trailing;
                it->pos += 14 + sig;
                return;
            }
        }
    }
    if (get_bits(it, 1)) {
        if (get_bits(it, 1) == 0) {
            unsigned nb = 64u - it->leading - it->trailing;
            it->v_bits ^= get_bits(it, nb) << it->trailing;
        } else {
            unsigned lead = (unsigned)get_bits(it, 6);
            unsigned sig = (unsigned)get_bits(it, 6) + 1;
            if (lead + sig > 64)
                it->err = true;
            else {
                it->leading = (uint8_t)lead;
                it->trailing = (uint8_t)(64 - lead - sig);
                it->v_bits ^= get_bits(it, sig) << it->trailing;
            }
        }
    }
}

bool trn_chunk_next(trn_chunk_iter_t *it, int64_t *t, double *v)
{
    if (it->err || it->i >= it->n) return false;
    if (it->i == 0) {
        it->t = (int64_t)get_bits(it, 64);
        it->v_bits = get_bits(it, 64);
    } else {
        int64_t dod = next_dod(it);
        it->delta = (int64_t)((uint64_t)it->delta + (uint64_t)dod);
        it->t = (int64_t)((uint64_t)it->t + (uint64_t)it->delta);
        next_value(it);
    }
    if (it->err) return false;
    it->i++;
    *t = it->t;
    *v = u2f(it->v_bits);
    return true;
}
