/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: arbitrary bytes as a metrics WAL segment. The segment scanner
 * must never read outside the input, and every record it delivers goes
 * through the metrics record decoders into a real head, as replay does. */
#include "core/labels.h"
#include "core/wal.h"
#include "metrics/head.h"
#include "metrics/walrec.h"

#include <stddef.h>
#include <stdlib.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_series(void *ctx, uint32_t id, const trn_labels_t *ls)
{
    bool created;
    trn_head_get_or_create(ctx, ls, trn_labels_hash(ls), id, &created);
    return 0;
}

static int on_sample(void *ctx, uint32_t id, int64_t t, double v)
{
    trn_hseries_t *s = trn_head_by_id(ctx, id);
    if (s) trn_head_append(ctx, s, t, v, true);
    return 0;
}

static int on_record(void *ctx, uint8_t type, const uint8_t *p, size_t len)
{
    if (type == TRN_WALREC_SERIES)
        trn_walrec_decode_series(p, len, on_series, ctx, NULL);
    else if (type == TRN_WALREC_SAMPLES)
        trn_walrec_decode_samples(p, len, on_sample, ctx, NULL);
    else if (type == TRN_WALREC_CHECKPOINT) {
        int64_t t;
        uint32_t seg, next;
        trn_walrec_decode_checkpoint(p, len, &t, &seg, &next, NULL);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    trn_head_t *h = trn_head_new(3600000, 7200000);
    size_t keep;
    trn_wal_scan(data, size, "fuzz", on_record, NULL, h, NULL, &keep);
    if (keep > size) __builtin_trap();
    trn_head_truncate(h, 0);
    size_t n_dead;
    trn_hseries_t **dead = trn_head_unlink_empty(h, &n_dead);
    trn_head_release(h, dead, n_dead);
    free(dead);
    trn_head_free(h);
    return 0;
}
