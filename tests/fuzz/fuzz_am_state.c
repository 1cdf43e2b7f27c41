/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for the alert manager's state files (silences and
 * notification log, docs/format/alertmanager.md): the input becomes the
 * two files of a fresh state directory — the first byte says where to split
 * it — and the manager opens them (replay, torn-tail cut, compaction) and is
 * freed. Valid headers are prefixed half of the time so the record parser is
 * reached, not only the magic check. */
#include "alerts/alertmanager.h"
#include "alerts/config.h"
#include "core/err.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put(const char *path, const char *magic, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return;
    if (magic) {
        fwrite(magic, 1, 8, f);
        fwrite("\x01\x00\x00\x00", 1, 4, f);
    }
    fwrite(p, 1, n, f);
    fclose(f);
}

static char dir[64];

static void cleanup(void)
{
    static const char *const names[] = {"silences", "silences.tmp", "nflog", "nflog.tmp"};
    char p[128];
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/alertmanager/%s", dir, names[i]);
        unlink(p);
    }
    snprintf(p, sizeof p, "%s/alertmanager", dir);
    rmdir(p);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    if (!dir[0]) {
        /* tmpfs when available: every open fsyncs */
        snprintf(dir, sizeof dir, "%s/trn-fuzz-am-%d",
                 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (int)getpid());
        mkdir(dir, 0755);
        char sub[96];
        snprintf(sub, sizeof sub, "%s/alertmanager", dir);
        mkdir(sub, 0755);
        atexit(cleanup);
    }
    size_t split = size > 1 ? (size_t)data[0] * (size - 1) / 255 : 0;
    bool hdr = data[0] & 1;
    char p1[128], p2[128];
    snprintf(p1, sizeof p1, "%s/alertmanager/silences", dir);
    snprintf(p2, sizeof p2, "%s/alertmanager/nflog", dir);
    put(p1, hdr ? "TRNAMSIL" : NULL, data + 1, split);
    put(p2, hdr ? "TRNAMNFL" : NULL, data + 1 + split, size - 1 - split);

    static const char cfg[] = "route: {receiver: a}\nreceivers: [{name: a}]\n";
    trn_am_config_t *c = NULL;
    trn_diag_t d;
    trn_diag_init(&d);
    if (trn_am_config_parse("fuzz.yml", cfg, sizeof cfg - 1, &c, &d) < 0) abort();
    trn_am_opts_t o = {.no_dispatch = true};
    trn_alertmanager_t *am = NULL;
    if (trn_alertmanager_new(c, dir, NULL, &o, &am, &d) == 0) {
        trn_arena_t *a = trn_arena_new(0);
        trn_am_silence_t *s;
        size_t n;
        trn_alertmanager_silences(am, NULL, a, &s, &n);
        trn_arena_free(a);
        trn_alertmanager_free(am);
    } else {
        trn_am_config_free(c);
    }
    return 0;
}
