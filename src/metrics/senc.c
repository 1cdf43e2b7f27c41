/* SPDX-License-Identifier: Apache-2.0 */
/* Block-side sample encoding (docs/format/metric-block.md, "series data").
 *
 * The head's Gorilla chunks are ideal for appending and for memory, but a
 * bit stream defeats a general-purpose compressor: a value that repeats
 * across series lands at a different bit offset every time. Blocks are
 * written once and compressed with zstd afterwards, so they use byte-aligned
 * columns instead and let zstd do the entropy coding:
 *
 * - timestamps: t0, first delta, then delta-of-deltas, all zigzag varints.
 *   A regular scrape turns into a run of 0x00 bytes, which zstd stores in a
 *   few bits per sample; timestamps of series scraped together are nearly
 *   identical byte strings, which zstd matches across series in a page.
 * - values, mode 0 ("decimal"): most metric values are decimals with few
 *   digits (counters of events or bytes, gauges like 0.25 or 42.7). We find
 *   the smallest scale K (0..15) such that every value v equals m / 10^K for
 *   an integer m below 2^53, checked bit-exactly with the same expression the
 *   decoder uses. Values are then zigzag varints of m_i - m_(i-1): a counter
 *   becomes its increments, a gauge its changes. Values that cannot be
 *   represented (NaN, the stale marker, infinities, -0.0, values needing a
 *   bigger K) are listed as exceptions with their raw bits and take the
 *   previous m in the delta stream.
 * - values, mode 2 ("decimal, second order"): as mode 0, but the varints
 *   are m_i - 2 m_(i-1) + m_(i-2): a counter growing at a steady rate costs
 *   its jitter instead of its increment. The encoder computes both sizes
 *   and keeps the smaller.
 * - values, mode 1 ("xor"): when more than a quarter of the values are
 *   exceptions, each value is stored as the 8 bytes of bits(v_i) xor
 *   bits(v_(i-1)); close values share their high bytes, which zstd removes.
 *
 * The decoder checks every varint and length against the bytes left. */
#include "metrics/senc.h"
#include "core/varint.h"

#include <math.h>
#include <string.h>

#define MAX_SCALE 15

static const double p10[MAX_SCALE + 1] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                          1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

static inline uint64_t zz(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline size_t uv_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static inline uint64_t bits(double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    return u;
}

/* m with m / 10^k == v bit-exactly, if one exists below 2^53. */
static bool as_scaled(double v, int k, int64_t *m)
{
    if (!isfinite(v)) return false;
    double x = v * p10[k];
    if (!(fabs(x) < 9007199254740992.0)) return false;
    double r = nearbyint(x);
    int64_t mi = (int64_t)r;
    if (bits((double)mi / p10[k]) != bits(v)) return false;
    *m = mi;
    return true;
}

void trn_senc_encode(const trn_sample_t *s, size_t n, trn_buf_t *b)
{
    trn_varint_put(b, n);
    if (!n) return;
    trn_varint_put_signed(b, s[0].t_ms);
    int64_t prev_d = 0;
    for (size_t i = 1; i < n; i++) {
        int64_t d = (int64_t)((uint64_t)s[i].t_ms - (uint64_t)s[i - 1].t_ms);
        trn_varint_put_signed(b, i == 1 ? d : (int64_t)((uint64_t)d - (uint64_t)prev_d));
        prev_d = d;
    }
    /* Smallest scale that fits most values: the per-value minimum, maxed. */
    int k_all = 0;
    size_t n_exc = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t m;
        int k = 0;
        while (k <= MAX_SCALE && !as_scaled(s[i].v, k, &m))
            k++;
        if (k > MAX_SCALE)
            n_exc++;
        else if (k > k_all)
            k_all = k;
    }
    if (n_exc * 4 > n) goto xor_mode;
    n_exc = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t m;
        if (!as_scaled(s[i].v, k_all, &m)) n_exc++;
    }
    if (n_exc * 4 > n) goto xor_mode;
    /* Second order pays for counters with a steady rate: compare sizes. */
    size_t cost1 = 0, cost2 = 0;
    int64_t p1 = 0, d1 = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t m;
        if (!as_scaled(s[i].v, k_all, &m)) m = p1;
        int64_t d = (int64_t)((uint64_t)m - (uint64_t)p1);
        cost1 += uv_len(zz(d));
        cost2 += uv_len(zz(i ? (int64_t)((uint64_t)d - (uint64_t)d1) : d));
        d1 = d;
        p1 = m;
    }
    bool second = cost2 < cost1;
    trn_buf_putc(b, second ? 2 : 0);
    trn_buf_putc(b, (char)k_all);
    trn_varint_put(b, n_exc);
    size_t last = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t m;
        if (as_scaled(s[i].v, k_all, &m)) continue;
        trn_varint_put(b, i - last);
        last = i;
        uint64_t u = bits(s[i].v);
        uint8_t raw[8];
        for (int j = 0; j < 8; j++)
            raw[j] = (uint8_t)(u >> (8 * j));
        trn_buf_append(b, raw, 8);
    }
    int64_t prev = 0, prev_md = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t m;
        if (!as_scaled(s[i].v, k_all, &m)) m = prev;
        int64_t d = (int64_t)((uint64_t)m - (uint64_t)prev);
        trn_varint_put_signed(b, second && i ? (int64_t)((uint64_t)d - (uint64_t)prev_md) : d);
        prev_md = d;
        prev = m;
    }
    return;
xor_mode:
    trn_buf_putc(b, 1);
    uint64_t pv = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t u = bits(s[i].v), x = u ^ pv;
        uint8_t raw[8];
        for (int j = 0; j < 8; j++)
            raw[j] = (uint8_t)(x >> (8 * (7 - j)));
        trn_buf_append(b, raw, 8);
        pv = u;
    }
}

typedef trn_vreader_t rd_t;

int64_t trn_senc_count(const uint8_t *p, size_t len)
{
    rd_t r = {p, len, 0, false};
    uint64_t n = trn_vreader_u(&r);
    /* every sample costs at least 2 bytes (time varint + value) */
    if (r.bad || n > len) return -1;
    return (int64_t)n;
}

int64_t trn_senc_decode_range(const uint8_t *p, size_t len, int64_t mint, int64_t maxt,
                              trn_sample_t *out, size_t *first)
{
    rd_t r = {p, len, 0, false};
    uint64_t n = trn_vreader_u(&r);
    if (r.bad || n > len) return -1;
    *first = 0;
    if (!n) return 0;
    /* Timestamps first (all of them: they locate the range), then values
     * only up to the range's end, converted to doubles only inside it. */
    int64_t t = trn_vreader_s(&r), d = 0;
    out[0].t_ms = t;
    for (uint64_t i = 1; i < n && !r.bad; i++) {
        int64_t x = trn_vreader_s(&r);
        d = i == 1 ? x : (int64_t)((uint64_t)d + (uint64_t)x);
        t = (int64_t)((uint64_t)t + (uint64_t)d);
        out[i].t_ms = t;
    }
    if (r.bad || r.off >= r.len) return -1;
    size_t lo = 0, hi = (size_t)n;
    while (lo < hi && out[lo].t_ms < mint)
        lo++;
    while (hi > lo && out[hi - 1].t_ms > maxt)
        hi--;
    uint8_t mode = r.p[r.off++];
    if (mode == 1) {
        if ((r.len - r.off) / 8 < n) return -1;
        uint64_t pv = 0;
        for (size_t i = 0; i < hi; i++) {
            uint64_t x = 0;
            for (int j = 0; j < 8; j++)
                x = (x << 8) | r.p[r.off++];
            pv ^= x;
            memcpy(&out[i].v, &pv, 8);
        }
    } else {
        if ((mode != 0 && mode != 2) || r.off >= r.len) return -1;
        int k = r.p[r.off++];
        if (k > MAX_SCALE) return -1;
        uint64_t n_exc = trn_vreader_u(&r);
        if (r.bad || n_exc > n) return -1;
        size_t exc_off = r.off, idx = 0;
        /* Skip the exception list now; apply it after the deltas. */
        for (uint64_t e = 0; e < n_exc; e++) {
            uint64_t di = trn_vreader_u(&r);
            idx += di;
            if (r.bad || idx >= n || r.len - r.off < 8) return -1;
            r.off += 8;
        }
        int64_t m = 0, md = 0;
        double scale = p10[k];
        for (size_t i = 0; i < hi; i++) {
            int64_t x = trn_vreader_s(&r);
            md = (mode == 2 && i) ? (int64_t)((uint64_t)md + (uint64_t)x) : x;
            m = (int64_t)((uint64_t)m + (uint64_t)md);
            if (i >= lo) out[i].v = (double)m / scale;
        }
        if (r.bad) return -1;
        rd_t e = {p, len, exc_off, false};
        idx = 0;
        for (uint64_t x = 0; x < n_exc; x++) {
            idx += trn_vreader_u(&e);
            uint64_t u = 0;
            for (int j = 0; j < 8; j++)
                u |= (uint64_t)e.p[e.off++] << (8 * j);
            if (idx >= lo && idx < hi) memcpy(&out[idx].v, &u, 8);
        }
    }
    *first = lo;
    return (int64_t)(hi - lo);
}

int64_t trn_senc_decode(const uint8_t *p, size_t len, trn_sample_t *out)
{
    size_t first;
    return trn_senc_decode_range(p, len, INT64_MIN, INT64_MAX, out, &first);
}
