/* SPDX-License-Identifier: Apache-2.0 */
/* The AST as JSON, in the shape Prometheus's /api/v1/parse_query returns
 * (what its web UI's tree view reads): every node an object with "type"
 * ("vectorSelector", "matrixSelector", "subquery", "call", "aggregation",
 * "binaryExpr", "unaryExpr", "parenExpr", "numberLiteral",
 * "stringLiteral") and the node's fields; durations and offsets in
 * milliseconds, @ timestamps in milliseconds or null, "startOrEnd" "start",
 * "end" or null. Duration expressions, anchored/smoothed and fill modifiers
 * do not exist in this engine and are written as null/false. */
#include "metrics/promql/promql_int.h"

#include "core/json.h"

static const char *vt_name(trn_promql_type_t t)
{
    switch (t) {
    case TRN_PROMQL_SCALAR:
        return "scalar";
    case TRN_PROMQL_VECTOR:
        return "vector";
    case TRN_PROMQL_MATRIX:
        return "matrix";
    case TRN_PROMQL_STRING:
        return "string";
    default:
        return "none";
    }
}

static void num_str(trn_json_t *j, double v)
{
    trn_buf_t b;
    trn_buf_init(&b);
    trn__pq_fmt_float_f(&b, v);
    trn_json_strn(j, b.data ? b.data : "", b.len);
    trn_buf_fini(&b);
}

static void str_list(trn_json_t *j, const trn_str_t *v, size_t n)
{
    trn_json_arr_begin(j);
    for (size_t i = 0; i < n; i++)
        trn_json_strn(j, v[i].p ? v[i].p : "", v[i].len);
    trn_json_arr_end(j);
}

static void at_fields(trn_json_t *j, const pq_expr_t *h)
{
    trn_json_key(j, "timestamp");
    if (h->at_kind == AT_TS)
        trn_json_int(j, h->at_ms);
    else
        trn_json_null(j);
    trn_json_key(j, "startOrEnd");
    if (h->at_kind == AT_START)
        trn_json_str(j, "start");
    else if (h->at_kind == AT_END)
        trn_json_str(j, "end");
    else
        trn_json_null(j);
}

static void selector_fields(trn_json_t *j, const pq_expr_t *vs)
{
    trn_json_key(j, "name");
    trn_json_strn(j, vs->name.p ? vs->name.p : "", vs->name.len);
    trn_json_key(j, "offset");
    trn_json_int(j, vs->offset_ms);
    trn_json_key(j, "offsetExpr");
    trn_json_null(j);
    trn_json_key(j, "matchers");
    trn_json_arr_begin(j);
    for (size_t i = 0; i < vs->n_ms; i++) {
        trn_json_obj_begin(j);
        trn_json_key(j, "name");
        trn_json_strn(j, vs->ms[i].name.p, vs->ms[i].name.len);
        trn_json_key(j, "value");
        trn_json_strn(j, vs->ms[i].value.p ? vs->ms[i].value.p : "", vs->ms[i].value.len);
        trn_json_key(j, "type");
        trn_json_str(j, trn_match_op(vs->ms[i].type));
        trn_json_obj_end(j);
    }
    trn_json_arr_end(j);
    at_fields(j, vs);
    trn_json_key(j, "anchored");
    trn_json_bool(j, false);
    trn_json_key(j, "smoothed");
    trn_json_bool(j, false);
}

static void node(trn_json_t *j, const pq_expr_t *e)
{
    if (!e) {
        trn_json_null(j);
        return;
    }
    trn_json_obj_begin(j);
    trn_json_key(j, "type");
    switch (e->kind) {
    case PQ_NUMBER:
        trn_json_str(j, "numberLiteral");
        trn_json_key(j, "val");
        num_str(j, e->num);
        break;
    case PQ_STRING:
        trn_json_str(j, "stringLiteral");
        trn_json_key(j, "val");
        trn_json_strn(j, e->str.p ? e->str.p : "", e->str.len);
        break;
    case PQ_PAREN:
        trn_json_str(j, "parenExpr");
        trn_json_key(j, "expr");
        node(j, e->inner);
        break;
    case PQ_UNARY:
        trn_json_str(j, "unaryExpr");
        trn_json_key(j, "op");
        trn_json_str(j, e->op == OP_SUB ? "-" : "+");
        trn_json_key(j, "expr");
        node(j, e->inner);
        break;
    case PQ_VSEL:
        trn_json_str(j, "vectorSelector");
        selector_fields(j, e);
        break;
    case PQ_MSEL:
        trn_json_str(j, "matrixSelector");
        trn_json_key(j, "range");
        trn_json_int(j, e->range_ms);
        trn_json_key(j, "rangeExpr");
        trn_json_null(j);
        selector_fields(j, e->inner);
        break;
    case PQ_SUBQ:
        trn_json_str(j, "subquery");
        trn_json_key(j, "expr");
        node(j, e->inner);
        trn_json_key(j, "range");
        trn_json_int(j, e->range_ms);
        trn_json_key(j, "rangeExpr");
        trn_json_null(j);
        trn_json_key(j, "offset");
        trn_json_int(j, e->offset_ms);
        trn_json_key(j, "offsetExpr");
        trn_json_null(j);
        trn_json_key(j, "step");
        trn_json_int(j, e->step_ms);
        trn_json_key(j, "stepExpr");
        trn_json_null(j);
        at_fields(j, e);
        break;
    case PQ_CALL:
        trn_json_str(j, "call");
        trn_json_key(j, "func");
        trn_json_obj_begin(j);
        trn_json_key(j, "name");
        trn_json_str(j, e->func->name);
        trn_json_key(j, "argTypes");
        trn_json_arr_begin(j);
        for (int i = 0; i < e->func->n_args; i++)
            trn_json_str(j, vt_name(e->func->args[i]));
        trn_json_arr_end(j);
        trn_json_key(j, "variadic");
        trn_json_int(j, e->func->variadic);
        trn_json_key(j, "returnType");
        trn_json_str(j, vt_name(e->func->ret));
        trn_json_obj_end(j);
        trn_json_key(j, "args");
        trn_json_arr_begin(j);
        for (size_t i = 0; i < e->n_args; i++)
            node(j, e->args[i]);
        trn_json_arr_end(j);
        break;
    case PQ_AGG:
        trn_json_str(j, "aggregation");
        trn_json_key(j, "op");
        trn_json_str(j, trn__pq_aggop_str(e->agg));
        trn_json_key(j, "expr");
        node(j, e->inner);
        trn_json_key(j, "param");
        node(j, e->param);
        trn_json_key(j, "grouping");
        str_list(j, e->grouping, e->n_grouping);
        trn_json_key(j, "without");
        trn_json_bool(j, e->without);
        break;
    case PQ_BINARY: {
        static const char *const cards[] = {"one-to-one", "many-to-one", "one-to-many",
                                            "many-to-many"};
        trn_json_str(j, "binaryExpr");
        trn_json_key(j, "op");
        trn_json_str(j, trn__pq_binop_str(e->op));
        trn_json_key(j, "lhs");
        node(j, e->lhs);
        trn_json_key(j, "rhs");
        node(j, e->rhs);
        trn_json_key(j, "matching");
        if (e->has_matching) {
            trn_json_obj_begin(j);
            trn_json_key(j, "card");
            trn_json_str(j, cards[e->card]);
            trn_json_key(j, "labels");
            str_list(j, e->match_labels, e->n_match_labels);
            trn_json_key(j, "on");
            trn_json_bool(j, e->on);
            trn_json_key(j, "include");
            str_list(j, e->include, e->n_include);
            trn_json_key(j, "fillValues");
            trn_json_obj_begin(j);
            trn_json_key(j, "lhs");
            trn_json_null(j);
            trn_json_key(j, "rhs");
            trn_json_null(j);
            trn_json_obj_end(j);
            trn_json_obj_end(j);
        } else {
            trn_json_null(j);
        }
        trn_json_key(j, "bool");
        trn_json_bool(j, e->return_bool);
        break;
    }
    }
    trn_json_obj_end(j);
}

void trn_promql_ast_json(const trn_promql_expr_t *e, trn_json_t *j)
{
    node(j, e);
}
