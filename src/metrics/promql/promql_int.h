/* SPDX-License-Identifier: Apache-2.0 */
/* Internals shared by the PromQL engine's files: the AST, the lexer's
 * tokens, the function table, and the evaluator's entry points used by
 * the test-file runner. Nothing outside src/metrics/promql/ includes this. */
#ifndef TRN_METRICS_PROMQL_PROMQL_INT_H
#define TRN_METRICS_PROMQL_PROMQL_INT_H

#include "core/arena.h"
#include "core/diag.h"
#include "core/labels.h"
#include "core/matcher.h"
#include "core/str.h"
#include "metrics/promql/promql.h"

#include <stdbool.h>
#include <stdint.h>

/* ---- tokens ---------------------------------------------------------- */

typedef enum {
    TK_EOF = 0,
    TK_IDENT,  /* identifiers, metric names (may contain ':'), keywords */
    TK_NUMBER, /* numeric literal incl. Inf/NaN */
    TK_DURATION,
    TK_STRING,
    TK_LPAREN,
    TK_RPAREN,
    TK_LBRACE,
    TK_RBRACE,
    TK_LBRACKET,
    TK_RBRACKET,
    TK_COMMA,
    TK_COLON,
    TK_AT,
    /* operators, in this order so that op kinds below map 1:1 */
    TK_ADD,
    TK_SUB,
    TK_MUL,
    TK_DIV,
    TK_MOD,
    TK_POW,
    TK_EQLC,
    TK_NEQ,
    TK_GTR,
    TK_LSS,
    TK_GTE,
    TK_LTE,
    TK_EQL,   /* '=' (matchers only) */
    TK_EQ_RE, /* '=~' */
    TK_NEQ_RE /* '!~' */
} pq_tok_kind_t;

typedef struct pq_tok {
    pq_tok_kind_t kind;
    int32_t pos, end; /* byte offsets into the query */
} pq_tok_t;

/* ---- AST -------------------------------------------------------------- */

typedef enum {
    PQ_NUMBER,
    PQ_STRING,
    PQ_VSEL, /* instant vector selector */
    PQ_MSEL, /* range vector selector: sel = the vector selector */
    PQ_SUBQ, /* subquery: inner[range:step] */
    PQ_CALL,
    PQ_AGG,
    PQ_BINARY,
    PQ_UNARY,
    PQ_PAREN,
} pq_kind_t;

/* Binary operators (also used by the evaluator). */
typedef enum {
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_DIV,
    OP_MOD,
    OP_POW,
    OP_EQLC,
    OP_NEQ,
    OP_GTR,
    OP_LSS,
    OP_GTE,
    OP_LTE,
    OP_AND,
    OP_OR,
    OP_UNLESS,
    OP_ATAN2,
} pq_binop_t;

typedef enum {
    AGG_SUM,
    AGG_AVG,
    AGG_COUNT,
    AGG_MIN,
    AGG_MAX,
    AGG_GROUP,
    AGG_STDDEV,
    AGG_STDVAR,
    AGG_TOPK,
    AGG_BOTTOMK,
    AGG_COUNT_VALUES,
    AGG_QUANTILE,
    AGG_LIMITK,
    AGG_LIMIT_RATIO,
    AGG__N
} pq_aggop_t;

typedef enum { CARD_ONE_TO_ONE, CARD_MANY_TO_ONE, CARD_ONE_TO_MANY, CARD_MANY_TO_MANY } pq_card_t;

typedef enum { AT_NONE = 0, AT_TS, AT_START, AT_END } pq_at_t;

struct pq_func;
typedef struct trn_promql_expr pq_expr_t;

struct trn_promql_expr {
    pq_kind_t kind;
    trn_promql_type_t type;
    int32_t pos, end; /* byte range in the query text */
    int depth;        /* height of this subtree (1 for a leaf) */

    double num;       /* PQ_NUMBER */
    bool is_duration; /* PQ_NUMBER written as a duration ("5m") */
    trn_str_t str;    /* PQ_STRING: unescaped value */

    /* PQ_VSEL */
    trn_str_t name;    /* metric name written before '{', may be empty */
    trn_matcher_t *ms; /* all matchers incl. __name__ */
    size_t n_ms;
    /* PQ_VSEL and PQ_SUBQ: modifiers */
    int64_t offset_ms;
    pq_at_t at_kind;
    int64_t at_ms;
    /* PQ_MSEL, PQ_SUBQ */
    int64_t range_ms;
    int64_t step_ms; /* PQ_SUBQ: 0 = default */

    /* PQ_CALL */
    const struct pq_func *func;
    pq_expr_t **args;
    size_t n_args;

    /* PQ_AGG */
    pq_aggop_t agg;
    pq_expr_t *param; /* topk k, quantile q, count_values label, ... */
    trn_str_t *grouping;
    size_t n_grouping;
    bool without;

    /* PQ_BINARY */
    pq_binop_t op;
    pq_expr_t *lhs, *rhs;
    bool return_bool;
    bool has_matching; /* a VectorMatching exists (both sides vectors) */
    pq_card_t card;
    bool on;
    trn_str_t *match_labels;
    size_t n_match_labels;
    trn_str_t *include;
    size_t n_include;

    /* PQ_UNARY (op OP_ADD/OP_SUB), PQ_PAREN, PQ_MSEL (the selector), PQ_SUBQ, PQ_AGG */
    pq_expr_t *inner;

    /* root only: the query text (arena copy), for annotation positions */
    const char *src;
    size_t src_len;
};

/* ---- functions ---------------------------------------------------------- */

struct pq_eval;
typedef struct pq_func {
    const char *name;
    trn_promql_type_t args[5];
    int n_args;
    int variadic; /* 0 none, >0 that many optional extra args of the last type, -1 unbounded */
    trn_promql_type_t ret;
    int id; /* evaluator's switch key */
} pq_func_t;

/* Function by name, or NULL. */
const pq_func_t *trn__pq_func_lookup(trn_str_t name);

/* Name of a value type as Prometheus's messages spell it ("instant vector"). */
const char *trn__pq_type_desc(trn_promql_type_t t);
const char *trn__pq_binop_str(pq_binop_t op);
const char *trn__pq_aggop_str(pq_aggop_t op);
bool trn__pq_binop_is_comparison(pq_binop_t op);
bool trn__pq_binop_is_set(pq_binop_t op);

/* Formats a float the way Go's strconv.FormatFloat(v, 'f', -1, 64) does. */
void trn__pq_fmt_float_f(trn_buf_t *out, double v);

/* 1-based line:col of byte offset off in q. */
void trn__pq_linecol(const char *q, size_t len, int32_t off, int *line, int *col);

/* Parses a series description as the test format writes them
 * ("metric{a=\"b\"}" or "{a=\"b\"}") into a sorted label set. Returns the
 * bytes consumed or a negative code. */
int trn__pq_parse_metric(const char *p, size_t len, trn_arena_t *a, trn_labels_t *out,
                         trn_diag_t *d);

/* Unquotes a Go string literal (", ' or `) at p; returns bytes consumed. */
int trn__pq_unquote(const char *p, size_t len, trn_arena_t *a, trn_str_t *out, trn_diag_t *d);

/* Evaluation with the query text known, so annotations carry positions
 * (what trn_promql_eval_instant/range do, plus the text). */
int trn__pq_eval_text(trn_store_t *st, const trn_promql_expr_t *e, int64_t start, int64_t end,
                      int64_t step, bool is_range, const trn_promql_opts_t *o, trn_arena_t *a,
                      trn_promql_value_t *out, trn_diag_t *d, const char *q, size_t qlen);

#endif
