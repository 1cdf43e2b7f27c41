/* SPDX-License-Identifier: Apache-2.0 */
/* Route tree matching and group keys.
 *
 * Matching is a recursive walk that appends results into a caller array,
 * counting past its end so callers can detect truncation; a tree is at most
 * a few hundred nodes, so the recursion depth is the config's nesting depth
 * and needs no explicit stack. The group key reproduces Alertmanager's
 * string (route key, then the group label set as Go prints a
 * model.LabelSet) because it names aggregation groups in the API and in the
 * persisted notification log, and users correlate the two. */
#include "alerts/route.h"

#include <stdio.h>

static size_t walk(const trn_am_route_t *r, const trn_labels_t *ls, const trn_am_route_t **out,
                   size_t max, size_t n)
{
    if (!trn_am_matchers_match(&r->matchers, ls)) return n;
    size_t start = n;
    for (size_t i = 0; i < r->n_routes; i++) {
        size_t before = n;
        n = walk(r->routes[i], ls, out, max, n);
        if (n != before && !r->routes[i]->is_continue) break;
    }
    if (n == start) {
        if (n < max) out[n] = r;
        n++;
    }
    return n;
}

size_t trn_am_route_match(const trn_am_route_t *root, const trn_labels_t *ls,
                          const trn_am_route_t **out, size_t max)
{
    return walk(root, ls, out, max, 0);
}

void trn_am_route_group_labels(const trn_am_route_t *r, const trn_labels_t *ls, trn_labels_t *out)
{
    out->n = 0;
    for (size_t i = 0; i < ls->n; i++) {
        if (ls->v[i].value.len == 0) continue;
        bool keep = r->group_by_all;
        for (size_t j = 0; j < r->n_group_by && !keep; j++)
            keep = trn_str_eqc(ls->v[i].name, r->group_by[j]);
        if (keep) out->v[out->n++] = ls->v[i];
    }
}

void trn_am_group_key(const trn_am_route_t *r, const trn_labels_t *group_labels, trn_buf_t *out)
{
    trn_buf_puts(out, r->key);
    trn_buf_puts(out, ":{");
    for (size_t i = 0; i < group_labels->n; i++) {
        if (i) trn_buf_puts(out, ", ");
        trn_buf_append(out, group_labels->v[i].name.p, group_labels->v[i].name.len);
        trn_buf_putc(out, '=');
        trn_go_quote(out, group_labels->v[i].value);
    }
    trn_buf_putc(out, '}');
}
