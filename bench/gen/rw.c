/* SPDX-License-Identifier: Apache-2.0 */
/* Protobuf encoding of remote_write 1.0 requests, by hand: the schema is
 * four tiny messages, so a generated codec would be more code than this.
 * Field numbers (prometheus/prompb): WriteRequest.timeseries = 1;
 * TimeSeries.labels = 1, TimeSeries.samples = 2; Label.name = 1,
 * Label.value = 2; Sample.value = 1 (double, fixed64), Sample.timestamp = 2
 * (int64 varint, milliseconds). Lengths are varints.
 *
 * Labels never change for a series, so the generator encodes each series'
 * Label fields once at start and this file only copies them; per sample the
 * work is one memcpy, ~20 bytes of framing, and a share of one snappy call
 * per request. That keeps the generator cheap next to the server it feeds:
 * the benchmark measures the server's CPU, but on a 2-core machine the
 * generator's CPU is stolen from it. */
#include "rw.h"

#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) {
        fprintf(stderr, "trine-benchgen: out of memory (%zu bytes)\n", n);
        abort();
    }
    return q;
}

static size_t varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static uint8_t *put_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

void trn_bench_rw_init(trn_bench_rw_t *rw)
{
    memset(rw, 0, sizeof *rw);
}

void trn_bench_rw_fini(trn_bench_rw_t *rw)
{
    free(rw->buf);
    free(rw->z);
    memset(rw, 0, sizeof *rw);
}

void trn_bench_rw_reset(trn_bench_rw_t *rw)
{
    rw->len = 0;
    rw->n_samples = 0;
}

void trn_bench_rw_add(trn_bench_rw_t *rw, const uint8_t *labels, size_t labels_len, double value,
                      int64_t ts_ms)
{
    /* Sample: 0x09 <8 bytes LE double> 0x10 <varint ts>. */
    size_t sample_len = 1 + 8 + 1 + varint_size((uint64_t)ts_ms);
    size_t ts_len = labels_len + 1 + varint_size(sample_len) + sample_len;
    size_t need = 1 + varint_size(ts_len) + ts_len;
    if (rw->len + need > rw->cap) {
        rw->cap = (rw->len + need) * 2 + 4096;
        rw->buf = xrealloc(rw->buf, rw->cap);
    }
    uint8_t *p = rw->buf + rw->len;
    *p++ = 0x0a; /* WriteRequest.timeseries, length-delimited */
    p = put_varint(p, ts_len);
    memcpy(p, labels, labels_len);
    p += labels_len;
    *p++ = 0x12; /* TimeSeries.samples */
    p = put_varint(p, sample_len);
    *p++ = 0x09; /* Sample.value, fixed64 */
    uint64_t bits;
    memcpy(&bits, &value, 8);
    for (int i = 0; i < 8; i++)
        *p++ = (uint8_t)(bits >> (8 * i));
    *p++ = 0x10; /* Sample.timestamp, varint */
    p = put_varint(p, (uint64_t)ts_ms);
    rw->len = (size_t)(p - rw->buf);
    rw->n_samples++;
}

int trn_bench_rw_compress(trn_bench_rw_t *rw, const char **out, size_t *out_len)
{
    size_t need = snappy_max_compressed_length(rw->len);
    if (need > rw->z_cap) {
        rw->z_cap = need;
        rw->z = xrealloc(rw->z, need);
    }
    size_t zlen = rw->z_cap;
    if (snappy_compress((const char *)rw->buf, rw->len, rw->z, &zlen) != SNAPPY_OK) return -1;
    *out = rw->z;
    *out_len = zlen;
    return 0;
}

size_t trn_bench_rw_label_size(const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    size_t body = 1 + varint_size(nl) + nl + 1 + varint_size(vl) + vl;
    return 1 + varint_size(body) + body;
}

size_t trn_bench_rw_encode_label(uint8_t *dst, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    size_t body = 1 + varint_size(nl) + nl + 1 + varint_size(vl) + vl;
    uint8_t *p = dst;
    *p++ = 0x0a; /* TimeSeries.labels */
    p = put_varint(p, body);
    *p++ = 0x0a; /* Label.name */
    p = put_varint(p, nl);
    memcpy(p, name, nl);
    p += nl;
    *p++ = 0x12; /* Label.value */
    p = put_varint(p, vl);
    memcpy(p, value, vl);
    p += vl;
    return (size_t)(p - dst);
}
