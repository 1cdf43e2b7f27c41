/* SPDX-License-Identifier: Apache-2.0 */
/* trine-benchflush: brings a stopped trine's metrics store to its final
 * on-disk form for the benchmark's bytes-per-sample figure. It opens
 * <data>/metrics with trine's own store (which replays the WAL into the
 * head), cuts the head into blocks and compacts (trn_store_flush, the same
 * call as the store's maintenance when the head spans its block range),
 * closes, and prints the store's statistics as one JSON object.
 *
 * Why a separate tool: the daemon has no flush endpoint and its graceful
 * stop leaves recent data in the WAL, so the data dir after a stop measures
 * the WAL's encoding, not the block format that holds data for the rest of
 * its retention. The peers get the equivalent treatment: Prometheus writes
 * its head as a block (admin snapshot), VictoriaMetrics force-merges. The
 * driver reports both sizes. */
#include "core/diag.h"
#include "metrics/store.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fputs("usage: trine-benchflush DATA_DIR   (trine's --data dir, daemon stopped)\n", stderr);
        return 2;
    }
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s/metrics", argv[1]) >= (int)sizeof dir) {
        fputs("trine-benchflush: path too long\n", stderr);
        return 2;
    }
    trn_store_opts_t o;
    trn_store_opts_default(&o);
    o.dir = dir;
    o.background = false;
    trn_diag_t d;
    trn_diag_init(&d);
    trn_store_t *s = NULL;
    int rc = trn_store_open(&o, &s, &d);
    if (rc == 0) rc = trn_store_flush(s, &d);
    if (rc < 0) {
        fprintf(stderr, "trine-benchflush: %s: %s\n", dir, d.msg);
        trn_store_close(s);
        return 1;
    }
    trn_store_stats_t st;
    trn_store_stats(s, &st);
    trn_store_close(s);
    printf("{\"blocks\":%" PRIu64 ",\"block_bytes\":%" PRIu64 ",\"head_series\":%" PRIu64
           ",\"head_samples\":%" PRIu64 ",\"compactions\":%" PRIu64 "}\n",
           st.blocks, st.block_bytes, st.head_series, st.head_samples, st.compactions);
    return 0;
}
