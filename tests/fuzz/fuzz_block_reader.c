/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: arbitrary bytes as a metric block file. Opening must either
 * fail cleanly or yield a block whose every series, label index lookup and
 * sample read either works or reports an error — never reads out of bounds.
 * The block reader maps a file, so the input is written to a temporary file
 * first (one per process, rewritten for each input). When the input looks
 * like a block, the section, page and footer checksums are recomputed first,
 * so mutations get past them into the index and page decoders. */
#include "core/arena.h"
#include "core/crc32c.h"
#include "core/postings.h"
#include "metrics/block.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_value(void *ctx, trn_str_t v)
{
    (void)v;
    (*(size_t *)ctx)++;
    return 0;
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void fix_checksums(uint8_t *b, size_t size)
{
    if (size < 8 + TRN_BLOCK_FOOTER_BYTES) return;
    uint8_t *f = b + size - TRN_BLOCK_FOOTER_BYTES;
    uint64_t limit = size - TRN_BLOCK_FOOTER_BYTES;
    for (int i = 1; i < 7; i++) {
        uint8_t *e = f + 48 + 20 * i;
        uint64_t off = rd64(e), len = rd64(e + 8);
        if (off > limit || len > limit - off) continue;
        if (i == 1) /* page index: fix each page's crc */
            for (uint64_t k = 0; k + 20 <= len; k += 20) {
                uint8_t *pe = b + off + k;
                uint64_t po = rd64(pe);
                uint32_t cl = (uint32_t)rd64(pe + 8) & 0xffffffffu;
                if (po <= limit && cl <= limit - po) wr32(pe + 16, trn_crc32c(0, b + po, cl));
            }
        wr32(e + 16, trn_crc32c(0, b + off, len));
    }
    wr32(f + 188, trn_crc32c(0, f, 188));
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
    uint8_t *data = malloc(size ? size : 1);
    if (size) memcpy(data, in, size);
    fix_checksums(data, size);
    static char path[64];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/fuzz-block-%d.blk", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(data);
        return 0;
    }
    fwrite(data, 1, size, f);
    fclose(f);
    free(data);
    trn_block_t *b;
    if (trn_block_open(path, &b, NULL) != 0) return 0;
    trn_arena_t *a = trn_arena_new(1 << 24);
    trn_block_cache_t c = {0};
    uint32_t n = trn_block_meta(b)->n_series;
    for (uint32_t id = 0; id < n && id < 256; id++) {
        trn_labels_t ls;
        int64_t mn, mx;
        if (trn_block_series(b, id, a, &ls, &mn, &mx, NULL) != 0) continue;
        trn_sample_t *s;
        size_t ns;
        trn_block_samples(b, id, INT64_MIN, INT64_MAX, &c, a, &s, &ns, NULL);
        for (size_t k = 0; k < ls.n && k < 4; k++) {
            trn_postings_src_t src = trn_block_src(b);
            trn_ids_t ids = {0};
            src.postings(src.ctx, ls.v[k].name, ls.v[k].value, &ids);
            size_t nv = 0;
            src.each_value(src.ctx, ls.v[k].name, on_value, &nv);
            trn_ids_fini(&ids);
        }
    }
    size_t names = 0;
    trn_block_each_name(b, on_value, &names);
    trn_block_cache_fini(&c);
    trn_arena_free(a);
    trn_block_unref(b);
    return 0;
}
