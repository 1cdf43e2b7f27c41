/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for the template engine: the first input byte picks the
 * arena budget (so the limit paths run too), the rest is template text,
 * parsed and then executed against alert-shaped data with a small step
 * and output budget. Any crash, leak or sanitizer report is a bug. */
#include "core/template.h"

#include <stddef.h>
#include <stdint.h>

static int no_query(void *ctx, trn_str_t expr, int64_t t_ms, trn_arena_t *a, trn_tval_t *out,
                    trn_diag_t *d)
{
    (void)ctx;
    (void)expr;
    (void)t_ms;
    (void)d;
    trn_label_t lb[] = {{TRN_STR("__name__"), TRN_STR("up")}, {TRN_STR("job"), TRN_STR("x")}};
    trn_labels_t ls = {lb, 2};
    trn_tval_t s;
    if (trn_tmpl_sample(a, &ls, 1, &s) < 0) return -2;
    return trn_tval_list_push(a, out, s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t budget = data[0] < 16 ? (size_t)(data[0] + 1) * 512 : (size_t)16 << 20;
    trn_arena_t *a = trn_arena_new(budget);
    trn_diag_t d;
    trn_diag_init(&d);
    trn_tmpl_t *t;
    if (trn_tmpl_parse(a, "fuzz", (const char *)data + 1, size - 1, NULL, &t, &d) == 0) {
        trn_label_t lb[] = {{TRN_STR("alertname"), TRN_STR("A")}, {TRN_STR("pod"), TRN_STR("p-0")}};
        trn_labels_t ls = {lb, 2};
        trn_tval_t labels;
        trn_tval_t m = trn_tval_map(a, 4, TRN_TV_STRUCT);
        if (trn_tval_from_labels(a, &ls, &labels) == 0) {
            trn_tval_map_put(a, &m, TRN_STR("Labels"), labels);
            trn_tval_map_put(a, &m, TRN_STR("Value"), trn_tval_float(0.25));
            trn_tval_map_put(a, &m, TRN_STR("Items"), trn_tval_list(a, 0));
            trn_tval_map_seal(&m);
        }
        trn_tmpl_env_t env = {
            .query = no_query, .now_ms = 1000, .max_output_bytes = 1 << 16, .max_steps = 20000};
        trn_buf_t out;
        trn_buf_init(&out);
        trn_tmpl_exec(t, NULL, &m, &env, a, &out, &d);
        trn_buf_fini(&out);
    }
    trn_arena_free(a);
    return 0;
}
