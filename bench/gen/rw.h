/* SPDX-License-Identifier: Apache-2.0 */
/* Remote-write 1.0 request builder for the benchmark generator: appends
 * TimeSeries messages (pre-encoded labels + one sample) to a WriteRequest
 * body and snappy-compresses it (block format, as the protocol requires).
 * One builder per sending thread; not thread-safe. */
#ifndef TRN_BENCH_RW_H
#define TRN_BENCH_RW_H

#include <stddef.h>
#include <stdint.h>

typedef struct trn_bench_rw {
    uint8_t *buf; /* WriteRequest protobuf, owned */
    size_t len, cap;
    char *z; /* snappy output, owned */
    size_t z_cap;
    uint32_t n_samples; /* samples in the current body */
} trn_bench_rw_t;

/* Starts with empty buffers; _fini releases them (accepts a zeroed struct). */
void trn_bench_rw_init(trn_bench_rw_t *rw);
void trn_bench_rw_fini(trn_bench_rw_t *rw);

/* Empties the body, keeping the buffers. */
void trn_bench_rw_reset(trn_bench_rw_t *rw);

/* Appends one TimeSeries { labels; Sample{value, ts_ms} }. `labels` is a
 * block of encoded Label fields from trn_bench_rw_encode_label (borrowed). */
void trn_bench_rw_add(trn_bench_rw_t *rw, const uint8_t *labels, size_t labels_len, double value,
                      int64_t ts_ms);

/* Snappy-compresses the body; *out stays valid until the next call on rw.
 * Returns 0, or -1 if snappy fails (it does not for valid sizes). */
int trn_bench_rw_compress(trn_bench_rw_t *rw, const char **out, size_t *out_len);

/* Encodes Label{name, value} as a TimeSeries.labels field into dst, which
 * must hold trn_bench_rw_label_size(...) bytes; returns bytes written. */
size_t trn_bench_rw_encode_label(uint8_t *dst, const char *name, const char *value);
size_t trn_bench_rw_label_size(const char *name, const char *value);

#endif
