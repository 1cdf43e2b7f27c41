/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for the remote_write decoder. The first input byte picks
 * the arena budget (so limit paths run) and whether the rest is a snappy
 * body or a raw WriteRequest; every decoded series is then walked so that
 * out-of-bounds views would be caught by ASan. */
#include "ingest/remote_write.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t ctl = data[0];
    size_t budget = (ctl & 0x7f) == 0 ? 0 : (size_t)(ctl & 0x7f) * 4096;
    trn_arena_t *a = trn_arena_new(budget);
    trn_rw_limits_t lim = {.max_decoded_bytes = 1u << 20, .max_labels = 1 + (ctl & 0x1f)};
    trn_rw_result_t res;
    trn_diag_t d;
    trn_diag_init(&d);
    const char *in = (const char *)data + 1;
    int rc = (ctl & 0x80) ? trn_rw_decode_snappy(in, size - 1, &lim, a, &res, &d)
                          : trn_rw_decode(in, size - 1, &lim, a, &res, &d);
    if (rc == 0) {
        volatile uint64_t sink = 0;
        for (size_t i = 0; i < res.n_series; i++) {
            const trn_append_series_t *s = &res.series[i];
            for (size_t k = 0; k < s->labels.n; k++)
                for (size_t j = 0; j < s->labels.v[k].value.len; j++)
                    sink += (unsigned char)s->labels.v[k].value.p[j] +
                            (unsigned char)s->labels.v[k].name.p[0];
            for (size_t k = 0; k < s->n_samples; k++)
                sink += (uint64_t)s->samples[k].t_ms;
        }
        for (size_t i = 0; i < res.n_meta; i++)
            sink += res.meta[i].help.len + res.meta[i].metric.p[0];
        (void)sink;
    }
    trn_arena_free(a);
    return 0;
}
