/* SPDX-License-Identifier: Apache-2.0 */
/* The text /api/v1/format_query returns: Prometheus's Pretty(0) layout of a
 * parsed expression. A node whose canonical text (trn_promql_format) fits
 * in 100 bytes is written on one line after two spaces per nesting level;
 * a longer one is split:
 *   aggregation  "<op> by (<l>) (" \n [param ",\n"] expr \n ")"
 *   binary       lhs \n "<op>[ bool][ on/ignoring (..)][ group_x (..)]" \n rhs
 *   call         "<name>(" \n args joined by ",\n" \n ")"
 *   parentheses  "(" \n expr \n ")"
 * with the children one level deeper and the closing bracket and binary
 * operator at the node's own level. A subquery splits by writing its inner
 * expression pretty at the same level followed by its "[range:step]"
 * suffix (and, when short, is written without indentation, as Prometheus
 * does); a unary minus glues its sign to the child's pretty text with the
 * surrounding whitespace trimmed. Selectors and literals are never split.
 * The operator and grouping pieces are cut out of the node's own canonical
 * text (for example a binary's text is lhs " " op " " rhs), so both
 * printers agree on them by construction. */
#include "metrics/promql/promql_int.h"

#include <ctype.h>
#include <string.h>

#define MAX_LINE_BYTES 100

static void indent(trn_buf_t *out, int level)
{
    for (int i = 0; i < level; i++)
        trn_buf_puts(out, "  ");
}

/* Canonical text of e in *tmp (reset first); returns its length. */
static size_t text(const pq_expr_t *e, trn_buf_t *tmp)
{
    tmp->len = 0;
    trn_promql_format(e, tmp);
    return tmp->len;
}

static size_t text_len(const pq_expr_t *e)
{
    trn_buf_t b;
    trn_buf_init(&b);
    size_t n = text(e, &b);
    trn_buf_fini(&b);
    return n;
}

static void pretty(const pq_expr_t *e, int level, trn_buf_t *out);

/* Writes e pretty at `level` into a scratch buffer, then appends it with
 * leading and trailing whitespace removed (Go's strings.TrimSpace). */
static void pretty_trimmed(const pq_expr_t *e, int level, trn_buf_t *out)
{
    trn_buf_t b;
    trn_buf_init(&b);
    pretty(e, level, &b);
    size_t s = 0, n = b.len;
    while (s < n && isspace((unsigned char)b.data[s]))
        s++;
    while (n > s && isspace((unsigned char)b.data[n - 1]))
        n--;
    trn_buf_append(out, b.data + s, n - s);
    trn_buf_fini(&b);
}

static void pretty(const pq_expr_t *e, int level, trn_buf_t *out)
{
    trn_buf_t full;
    trn_buf_init(&full);
    size_t n = text(e, &full);
    bool split = n > MAX_LINE_BYTES;

    if (e->kind == PQ_UNARY) {
        indent(out, level);
        trn_buf_putc(out, e->op == OP_SUB ? '-' : '+');
        pretty_trimmed(e->inner, level, out);
    } else if (e->kind == PQ_SUBQ && !split) {
        trn_buf_append(out, full.data, n);
    } else if (e->kind == PQ_SUBQ) {
        pretty(e->inner, level, out);
        size_t in = text_len(e->inner);
        trn_buf_append(out, full.data + in, n - in);
    } else if (!split || (e->kind != PQ_AGG && e->kind != PQ_BINARY && e->kind != PQ_CALL &&
                          e->kind != PQ_PAREN)) {
        indent(out, level);
        trn_buf_append(out, full.data, n);
    } else if (e->kind == PQ_AGG) {
        /* full = head "(" [param ", "] inner ")" */
        size_t tail = 1 + text_len(e->inner) + 1 + (e->param ? text_len(e->param) + 2 : 0);
        indent(out, level);
        trn_buf_append(out, full.data, n - tail);
        trn_buf_puts(out, "(\n");
        if (e->param) {
            pretty(e->param, level + 1, out);
            trn_buf_puts(out, ",\n");
        }
        pretty(e->inner, level + 1, out);
        trn_buf_putc(out, '\n');
        indent(out, level);
        trn_buf_putc(out, ')');
    } else if (e->kind == PQ_BINARY) {
        /* full = lhs " " op " " rhs */
        size_t l = text_len(e->lhs), r = text_len(e->rhs);
        pretty(e->lhs, level + 1, out);
        trn_buf_putc(out, '\n');
        indent(out, level);
        trn_buf_append(out, full.data + l + 1, n - l - r - 2);
        trn_buf_putc(out, '\n');
        pretty(e->rhs, level + 1, out);
    } else if (e->kind == PQ_CALL) {
        indent(out, level);
        trn_buf_puts(out, e->func->name);
        trn_buf_puts(out, "(\n");
        for (size_t i = 0; i < e->n_args; i++) {
            if (i) trn_buf_puts(out, ",\n");
            pretty(e->args[i], level + 1, out);
        }
        trn_buf_putc(out, '\n');
        indent(out, level);
        trn_buf_putc(out, ')');
    } else { /* PQ_PAREN */
        indent(out, level);
        trn_buf_puts(out, "(\n");
        pretty(e->inner, level + 1, out);
        trn_buf_putc(out, '\n');
        indent(out, level);
        trn_buf_putc(out, ')');
    }
    trn_buf_fini(&full);
}

void trn_promql_format_pretty(const trn_promql_expr_t *e, trn_buf_t *out)
{
    if (e) pretty(e, 0, out);
}
