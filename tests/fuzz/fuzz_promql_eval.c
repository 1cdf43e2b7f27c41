/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: PromQL evaluation over random small data. The input is
 * "<data bytes>\n<query>": the data part seeds a few series (values and
 * timestamps from the bytes) in a store opened on a temporary directory
 * once per process; the query is evaluated as an instant and as a small
 * range query. Errors are fine; crashes, aborts and sanitizer reports are
 * not. */
#include "core/err.h"
#include "metrics/promql/promql.h"
#include "metrics/store.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static trn_store_t *store;
static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/trine-fuzz-promql-XXXXXX");
    if (!mkdtemp(dir)) abort();
    trn_store_opts_t o;
    trn_store_opts_default(&o);
    o.dir = dir;
    o.fsync_mode = TRN_FSYNC_NEVER;
    o.background = false;
    o.ooo_window_ms = INT64_MAX / 4;
    trn_diag_t d;
    trn_diag_init(&d);
    if (trn_store_open(&o, &store, &d) < 0) abort();
    /* fixed series; values vary with the first inputs seen */
    static const char *names[] = {"a", "b", "c_total", "h_bucket"};
    static const char *les[] = {"0.1", "1", "+Inf", "5"};
    for (int s = 0; s < 4; s++) {
        for (int k = 0; k < 3; k++) {
            trn_label_t lv[3];
            size_t n = 0;
            lv[n++] = (trn_label_t){TRN_STR("__name__"), trn_str_c(names[s])};
            lv[n++] = (trn_label_t){TRN_STR("job"), trn_str_c(k ? "x" : "y")};
            lv[n++] = (trn_label_t){TRN_STR("le"), trn_str_c(les[k])};
            trn_labels_t ls = {lv, n};
            trn_labels_sort(&ls);
            trn_sample_t smp[40];
            for (int i = 0; i < 40; i++)
                smp[i] = (trn_sample_t){(int64_t)i * 15000,
                                        (double)((i * 7 + s * 3 + k) % 11) - (s == 0 ? 3 : 0)};
            trn_append_series_t as = {ls, smp, 40};
            trn_append_result_t res;
            trn_store_append(store, &as, 1, &res, &d);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!store) setup();
    if (size < 2 || size > 2048) return 0;
    const uint8_t *nl = memchr(data, '\n', size);
    size_t off = nl ? (size_t)(nl - data) + 1 : 0;
    int64_t t = nl && off > 1 ? (int64_t)data[0] * 5000 : 300000;
    trn_arena_t *a = trn_arena_new(1 << 24);
    trn_promql_expr_t *e = NULL;
    trn_diag_t d;
    trn_diag_init(&d);
    if (trn_promql_parse((const char *)data + off, size - off, a, &e, &d) == 0) {
        trn_promql_opts_t o = {.timeout_ms = 2000, .max_samples = 200000};
        trn_promql_value_t v;
        trn_diag_init(&d);
        (void)trn_promql_eval_instant(store, e, t, &o, a, &v, &d);
        trn_diag_init(&d);
        (void)trn_promql_eval_range(store, e, 0, 600000, 30000, &o, a, &v, &d);
        trn_promql_expr_release(e);
    }
    trn_arena_free(a);
    return 0;
}
