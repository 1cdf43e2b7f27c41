/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for the exposition parser and import batching. The first
 * input byte picks the format (bit 7), the label limit and the import
 * arena budget; the rest is the exposition text. */
#include "ingest/exposition.h"
#include "ingest/import.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t ctl = data[0];
    trn_expo_format_t fmt = (ctl & 0x80) ? TRN_EXPO_OPENMETRICS : TRN_EXPO_TEXT;
    size_t max_labels = 1 + (ctl & 0x0f);
    const char *in = (const char *)data + 1;
    size_t len = size - 1;

    trn_expo_parser_t *p = trn_expo_parser_new(in, len, fmt, max_labels);
    trn_expo_sample_t s;
    trn_expo_meta_t m;
    trn_diag_t d;
    trn_diag_init(&d);
    volatile uint64_t sink = 0;
    int rc;
    while ((rc = trn_expo_next(p, &s, &m, &d)) > 0) {
        if (rc == TRN_EXPO_SAMPLE) {
            for (size_t i = 0; i < s.labels.n; i++)
                sink += s.labels.v[i].name.len +
                        (s.labels.v[i].value.len ? (unsigned char)s.labels.v[i].value.p[0] : 0);
            for (size_t i = 0; i < s.exemplar_labels.n; i++)
                sink += s.exemplar_labels.v[i].value.len;
        } else {
            sink += m.metric.len + m.text.len;
        }
    }
    trn_expo_parser_free(p);

    size_t budget = (ctl & 0x70) ? (size_t)((ctl >> 4) & 7) * 8192 : 0;
    trn_arena_t *a = trn_arena_new(budget);
    trn_import_batch_t b;
    trn_diag_init(&d);
    if (trn_import_parse(in, len, fmt, 0, NULL, max_labels, a, &b, &d) == 0) {
        trn_import_batch_t o, r;
        if (trn_import_split(&b, 1000, a, &o, &r, &d) == 0) sink += o.n_samples + r.n_samples;
    }
    trn_arena_free(a);
    (void)sink;
    return 0;
}
