/* SPDX-License-Identifier: Apache-2.0 */
/* Series selectors as the metadata APIs take them (`match[]`): a PromQL
 * instant vector selector, parsed by the PromQL parser so the syntax and
 * its errors are exactly the query language's, then reduced to its
 * matchers. Anything else (a range selector, a function call) is refused
 * the way Prometheus refuses it. */
#include "metrics/promql/promql.h"
#include "metrics/promql/promql_int.h"
#include "core/err.h"

int trn_promql_parse_selector(const char *q, size_t len, trn_arena_t *a, trn_promql_expr_t **keep,
                              const trn_matcher_t **ms, size_t *n_ms, trn_diag_t *d)
{
    trn_promql_expr_t *e = NULL;
    int rc = trn_promql_parse(q, len, a, &e, d);
    if (rc < 0) return rc;
    const trn_promql_expr_t *sel = e;
    while (sel->kind == PQ_PAREN)
        sel = sel->inner;
    if (sel->kind != PQ_VSEL) {
        trn_promql_expr_release(e);
        return trn_diag_set(d, TRN_EINVAL, 0, "1:1: parse error: expected a series selector");
    }
    *keep = e;
    *ms = sel->ms;
    *n_ms = sel->n_ms;
    return 0;
}
