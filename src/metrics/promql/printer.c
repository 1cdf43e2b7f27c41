/* SPDX-License-Identifier: Apache-2.0 */
/* Canonical text of a PromQL AST, as Prometheus's String() methods write it:
 * selectors with their matchers sorted (the metric name written in front),
 * "sum by (a) (x)", "a + on (b) group_left (c) b", durations in
 * Prometheus's unit form, @ timestamps with three decimals, numbers in Go's
 * shortest 'f' form and strings Go-quoted. The output parses back to the
 * same tree, which the unit tests check (parse → print → parse). pretty.c
 * lays it out for /api/v1/format_query; the test runner uses it to re-run
 * instant queries with an @ modifier added to every selector. */
#include "metrics/promql/promql_int.h"

#include "core/timefmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void trn__pq_fmt_float_f(trn_buf_t *out, double v)
{
    if (isnan(v)) {
        trn_buf_puts(out, "NaN");
        return;
    }
    if (isinf(v)) {
        trn_buf_puts(out, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    /* shortest round-tripping digits, then laid out without exponent */
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
        if (strtod(tmp, NULL) == v) break;
    }
    /* tmp = [-]d.ddddde[+-]XX */
    const char *s = tmp;
    bool neg = *s == '-';
    if (neg) s++;
    char digits[24];
    size_t nd = 0;
    const char *e = strchr(s, 'e');
    for (const char *c = s; c < e; c++)
        if (*c != '.') digits[nd++] = *c;
    int exp10 = atoi(e + 1);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    if (neg) trn_buf_putc(out, '-');
    int point = exp10 + 1; /* digits before the decimal point */
    if (point <= 0) {
        trn_buf_puts(out, "0.");
        for (int i = 0; i < -point; i++)
            trn_buf_putc(out, '0');
        trn_buf_append(out, digits, nd);
    } else if ((size_t)point >= nd) {
        trn_buf_append(out, digits, nd);
        for (size_t i = nd; i < (size_t)point; i++)
            trn_buf_putc(out, '0');
    } else {
        trn_buf_append(out, digits, (size_t)point);
        trn_buf_putc(out, '.');
        trn_buf_append(out, digits + point, nd - (size_t)point);
    }
}

static void put_dur(trn_buf_t *out, int64_t ms)
{
    char b[32];
    if (ms < 0) {
        trn_buf_putc(out, '-');
        ms = -ms;
    }
    trn_format_duration(b, ms);
    trn_buf_puts(out, b);
}

static void put_label_name(trn_buf_t *out, trn_str_t s)
{
    if (trn_label_name_valid(s))
        trn_buf_append(out, s.p, s.len);
    else
        trn_go_quote(out, s);
}

static void put_labels(trn_buf_t *out, const trn_str_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i) trn_buf_puts(out, ", ");
        put_label_name(out, v[i]);
    }
}

static void put_at(trn_buf_t *out, const pq_expr_t *h)
{
    switch (h->at_kind) {
    case AT_TS: {
        int64_t ms = h->at_ms;
        trn_buf_puts(out, " @ ");
        if (ms < 0) {
            trn_buf_putc(out, '-');
            ms = -ms;
        }
        trn_buf_printf(out, "%lld.%03lld", (long long)(ms / 1000), (long long)(ms % 1000));
        break;
    }
    case AT_START:
        trn_buf_puts(out, " @ start()");
        break;
    case AT_END:
        trn_buf_puts(out, " @ end()");
        break;
    default:
        break;
    }
}

static void put_offset(trn_buf_t *out, int64_t off)
{
    if (off == 0) return;
    trn_buf_puts(out, " offset ");
    put_dur(out, off);
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void put_selector_body(trn_buf_t *out, const pq_expr_t *vs)
{
    trn_buf_append(out, vs->name.p ? vs->name.p : "", vs->name.len);
    size_t n = 0;
    char **strs = calloc(vs->n_ms ? vs->n_ms : 1, sizeof *strs);
    for (size_t i = 0; i < vs->n_ms; i++) {
        const trn_matcher_t *m = &vs->ms[i];
        if (vs->name.len && m->type == TRN_MATCH_EQ && trn_str_eqc(m->name, TRN_METRIC_NAME) &&
            trn_str_eq(m->value, vs->name))
            continue;
        trn_buf_t b;
        trn_buf_init(&b);
        put_label_name(&b, m->name);
        trn_buf_puts(&b, trn_match_op(m->type));
        trn_go_quote(&b, m->value);
        size_t l;
        strs[n++] = trn_buf_steal(&b, &l);
    }
    if (n) {
        qsort(strs, n, sizeof *strs, cmp_cstr);
        trn_buf_putc(out, '{');
        for (size_t i = 0; i < n; i++) {
            if (i) trn_buf_putc(out, ',');
            trn_buf_puts(out, strs[i]);
            free(strs[i]);
        }
        trn_buf_putc(out, '}');
    }
    free(strs);
}

static void print_rec(const pq_expr_t *e, trn_buf_t *out)
{
    switch (e->kind) {
    case PQ_NUMBER:
        if (e->is_duration && isfinite(e->num)) {
            put_dur(out, (int64_t)llround(e->num * 1000.0));
        } else {
            trn__pq_fmt_float_f(out, e->num);
        }
        break;
    case PQ_STRING:
        trn_go_quote(out, e->str);
        break;
    case PQ_VSEL:
        put_selector_body(out, e);
        put_at(out, e);
        put_offset(out, e->offset_ms);
        break;
    case PQ_MSEL:
        put_selector_body(out, e->inner);
        trn_buf_putc(out, '[');
        put_dur(out, e->range_ms);
        trn_buf_putc(out, ']');
        put_at(out, e->inner);
        put_offset(out, e->inner->offset_ms);
        break;
    case PQ_SUBQ:
        print_rec(e->inner, out);
        trn_buf_putc(out, '[');
        put_dur(out, e->range_ms);
        trn_buf_putc(out, ':');
        if (e->step_ms) put_dur(out, e->step_ms);
        trn_buf_putc(out, ']');
        put_at(out, e);
        put_offset(out, e->offset_ms);
        break;
    case PQ_CALL:
        trn_buf_puts(out, e->func->name);
        trn_buf_putc(out, '(');
        for (size_t i = 0; i < e->n_args; i++) {
            if (i) trn_buf_puts(out, ", ");
            print_rec(e->args[i], out);
        }
        trn_buf_putc(out, ')');
        break;
    case PQ_AGG:
        trn_buf_puts(out, trn__pq_aggop_str(e->agg));
        if (e->without) {
            trn_buf_puts(out, " without (");
            put_labels(out, e->grouping, e->n_grouping);
            trn_buf_puts(out, ") ");
        } else if (e->n_grouping) {
            trn_buf_puts(out, " by (");
            put_labels(out, e->grouping, e->n_grouping);
            trn_buf_puts(out, ") ");
        }
        trn_buf_putc(out, '(');
        if (e->param) {
            print_rec(e->param, out);
            trn_buf_puts(out, ", ");
        }
        print_rec(e->inner, out);
        trn_buf_putc(out, ')');
        break;
    case PQ_BINARY:
        print_rec(e->lhs, out);
        trn_buf_putc(out, ' ');
        trn_buf_puts(out, trn__pq_binop_str(e->op));
        if (e->return_bool) trn_buf_puts(out, " bool");
        if (e->has_matching) {
            bool grp = e->card == CARD_MANY_TO_ONE || e->card == CARD_ONE_TO_MANY;
            if (e->n_match_labels || e->on || grp) {
                trn_buf_puts(out, e->on ? " on (" : " ignoring (");
                put_labels(out, e->match_labels, e->n_match_labels);
                trn_buf_putc(out, ')');
            }
            if (grp) {
                trn_buf_puts(out, e->card == CARD_MANY_TO_ONE ? " group_left (" : " group_right (");
                put_labels(out, e->include, e->n_include);
                trn_buf_putc(out, ')');
            }
        }
        trn_buf_putc(out, ' ');
        print_rec(e->rhs, out);
        break;
    case PQ_UNARY:
        trn_buf_putc(out, e->op == OP_SUB ? '-' : '+');
        print_rec(e->inner, out);
        break;
    case PQ_PAREN:
        trn_buf_putc(out, '(');
        print_rec(e->inner, out);
        trn_buf_putc(out, ')');
        break;
    }
}

void trn_promql_format(const trn_promql_expr_t *e, trn_buf_t *out)
{
    if (e) print_rec(e, out);
}
