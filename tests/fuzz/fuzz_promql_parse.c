/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the PromQL parser and printer. Any input must either parse
 * (and then print, and the printed text must parse again to an expression
 * of the same type) or fail with a diag; never crash. (Text identity is not
 * required: like Prometheus's printer, "+Inf ^ x" re-parses with a unary
 * plus.) The first byte sets a small arena
 * budget now and then so the budget-exhaustion paths run too. */
#include "core/err.h"
#include "metrics/promql/promql.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 4096) return 0;
    size_t budget = (data[0] & 0x80) ? (size_t)(data[0] & 0x7f) * 64 : 0;
    trn_arena_t *a = trn_arena_new(budget);
    trn_promql_expr_t *e = NULL;
    trn_diag_t d;
    trn_diag_init(&d);
    if (trn_promql_parse((const char *)data + 1, size - 1, a, &e, &d) == 0) {
        trn_buf_t b1, b2;
        trn_buf_init(&b1);
        trn_buf_init(&b2);
        trn_promql_format(e, &b1);
        trn_promql_expr_t *e2 = NULL;
        trn_arena_t *a2 = trn_arena_new(0);
        trn_diag_init(&d);
        if (trn_promql_parse(b1.data ? b1.data : "", b1.len, a2, &e2, &d) == 0) {
            if (trn_promql_expr_type(e2) != trn_promql_expr_type(e)) abort();
            trn_promql_format(e2, &b2);
            trn_promql_expr_release(e2);
        } else {
            abort(); /* printed text must parse */
        }
        trn_arena_free(a2);
        trn_buf_fini(&b1);
        trn_buf_fini(&b2);
        trn_promql_expr_release(e);
    }
    trn_arena_free(a);
    return 0;
}
