/* SPDX-License-Identifier: Apache-2.0 */
/* Metrics WAL record payloads (docs/format/metrics-wal-records.md).
 *
 * Varints are the usual little-endian base-128 encoding (7 bits per byte,
 * high bit = more); signed values are zigzag-mapped first. A SAMPLES
 * payload stores timestamps relative to one base time so a batch from one
 * scrape costs one or two bytes per timestamp; values are the raw 8 bytes
 * (little-endian IEEE 754 bits), which keeps NaN payloads such as the stale
 * marker exact and the decoder trivial. Records are decoded from untrusted
 * disk bytes: every read is bounds-checked, and a failure names the offset. */
#include "metrics/walrec.h"
#include "core/varint.h"
#include "core/err.h"

#include <string.h>

void trn_walrec_put_series(trn_buf_t *b, uint32_t id, const trn_labels_t *ls)
{
    trn_varint_put(b, id);
    trn_varint_put(b, ls->n);
    for (size_t i = 0; i < ls->n; i++) {
        trn_varint_put(b, ls->v[i].name.len);
        trn_buf_append(b, ls->v[i].name.p, ls->v[i].name.len);
        trn_varint_put(b, ls->v[i].value.len);
        trn_buf_append(b, ls->v[i].value.p, ls->v[i].value.len);
    }
}

void trn_walrec_samples_begin(trn_buf_t *b, int64_t base_t)
{
    trn_varint_put_signed(b, base_t);
}

void trn_walrec_put_sample(trn_buf_t *b, int64_t base_t, uint32_t id, int64_t t, double v)
{
    /* At most 5 + 10 + 8 bytes; encode in place to stay off the slow path. */
    trn_buf_reserve(b, 24);
    uint8_t *p = (uint8_t *)b->data + b->len, *start = p;
    uint64_t x = id;
    while (x >= 0x80) {
        *p++ = (uint8_t)(x | 0x80);
        x >>= 7;
    }
    *p++ = (uint8_t)x;
    int64_t dt = (int64_t)((uint64_t)t - (uint64_t)base_t);
    x = ((uint64_t)dt << 1) ^ (uint64_t)(dt >> 63);
    while (x >= 0x80) {
        *p++ = (uint8_t)(x | 0x80);
        x >>= 7;
    }
    *p++ = (uint8_t)x;
    uint64_t bits;
    memcpy(&bits, &v, 8);
    for (int i = 0; i < 8; i++)
        *p++ = (uint8_t)(bits >> (8 * i));
    b->len += (size_t)(p - start);
    b->data[b->len] = 0;
}

void trn_walrec_put_checkpoint(trn_buf_t *b, int64_t min_valid_t, uint32_t first_segment,
                               uint32_t next_id)
{
    trn_varint_put_signed(b, min_valid_t);
    trn_varint_put(b, first_segment);
    trn_varint_put(b, next_id);
}

typedef trn_vreader_t rd_t;

static trn_str_t get_bytes(rd_t *r)
{
    uint64_t n = trn_vreader_u(r);
    if (r->bad || n > r->len - r->off) {
        r->bad = true;
        return (trn_str_t){"", 0};
    }
    trn_str_t s = {(const char *)r->p + r->off, (size_t)n};
    r->off += (size_t)n;
    return s;
}

int trn_walrec_decode_series(const uint8_t *p, size_t len, trn_walrec_series_fn *fn, void *ctx,
                             trn_diag_t *d)
{
    rd_t r = {p, len, 0, false};
    trn_label_t lv[TRN_WALREC_MAX_LABELS];
    while (r.off < r.len) {
        size_t at = r.off;
        uint64_t id = trn_vreader_u(&r), n = trn_vreader_u(&r);
        if (r.bad || id == 0 || id > UINT32_MAX || n > TRN_WALREC_MAX_LABELS)
            return trn_diag_set(d, TRN_ECORRUPT, (int64_t)at, "bad series entry header");
        for (uint64_t i = 0; i < n; i++) {
            lv[i].name = get_bytes(&r);
            lv[i].value = get_bytes(&r);
        }
        if (r.bad) return trn_diag_set(d, TRN_ECORRUPT, (int64_t)at, "truncated series entry");
        trn_labels_t ls = {lv, (size_t)n};
        int rc = fn(ctx, (uint32_t)id, &ls);
        if (rc) return rc;
    }
    return 0;
}

int trn_walrec_decode_samples(const uint8_t *p, size_t len, trn_walrec_sample_fn *fn, void *ctx,
                              trn_diag_t *d)
{
    rd_t r = {p, len, 0, false};
    int64_t base = trn_vreader_s(&r);
    if (r.bad) return trn_diag_set(d, TRN_ECORRUPT, 0, "truncated samples header");
    while (r.off < r.len) {
        size_t at = r.off;
        uint64_t id = trn_vreader_u(&r);
        int64_t dt = trn_vreader_s(&r);
        if (r.bad || id > UINT32_MAX || r.len - r.off < 8)
            return trn_diag_set(d, TRN_ECORRUPT, (int64_t)at, "truncated sample entry");
        uint64_t bits = 0;
        for (int i = 0; i < 8; i++)
            bits |= (uint64_t)r.p[r.off + (size_t)i] << (8 * i);
        r.off += 8;
        double v;
        memcpy(&v, &bits, 8);
        int rc = fn(ctx, (uint32_t)id, (int64_t)((uint64_t)base + (uint64_t)dt), v);
        if (rc) return rc;
    }
    return 0;
}

int trn_walrec_decode_checkpoint(const uint8_t *p, size_t len, int64_t *min_valid_t,
                                 uint32_t *first_segment, uint32_t *next_id, trn_diag_t *d)
{
    rd_t r = {p, len, 0, false};
    int64_t t = trn_vreader_s(&r);
    uint64_t seg = trn_vreader_u(&r), nid = trn_vreader_u(&r);
    if (r.bad || seg > UINT32_MAX || nid > UINT32_MAX)
        return trn_diag_set(d, TRN_ECORRUPT, (int64_t)r.off, "bad checkpoint record");
    *min_valid_t = t;
    *first_segment = (uint32_t)seg;
    *next_id = (uint32_t)nid;
    return 0;
}
