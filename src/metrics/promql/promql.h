/* SPDX-License-Identifier: Apache-2.0 */
/* The PromQL engine: parse an expression once, evaluate it as an instant
 * query (one timestamp) or a range query (start..end every step) against
 * the metrics store. Everything a parse or an evaluation returns lives in
 * the caller's arena; the engine never frees piecemeal. Results follow
 * Prometheus's shapes: a range query gives a matrix sorted by labels, an
 * instant query a vector, scalar, string or (for a bare range selector)
 * matrix. Parsed expressions are immutable and may be evaluated by several
 * threads at once, each with its own arena. */
#ifndef TRN_METRICS_PROMQL_PROMQL_H
#define TRN_METRICS_PROMQL_PROMQL_H

#include "core/arena.h"
#include "core/diag.h"
#include "core/json.h"
#include "core/labels.h"
#include "core/str.h"
#include "metrics/store.h"

#include <stdbool.h>
#include <stdint.h>

/* A parsed expression (opaque AST root). */
typedef struct trn_promql_expr trn_promql_expr_t;

typedef enum {
    TRN_PROMQL_NONE = 0,
    TRN_PROMQL_SCALAR = 1,
    TRN_PROMQL_VECTOR = 2, /* instant vector */
    TRN_PROMQL_MATRIX = 3, /* range vector / range query result */
    TRN_PROMQL_STRING = 4,
} trn_promql_type_t;

/* One element of an instant vector. */
typedef struct trn_promql_sample {
    trn_labels_t labels;
    int64_t t_ms;
    double v;
} trn_promql_sample_t;

/* One series of a matrix: points sorted by time. */
typedef struct trn_promql_series {
    trn_labels_t labels;
    trn_sample_t *points;
    size_t n_points;
} trn_promql_series_t;

/* An evaluation result. Every pointer is into the evaluation's arena. */
typedef struct trn_promql_value {
    trn_promql_type_t type;
    int64_t t_ms;             /* for SCALAR and STRING */
    double scalar;            /* for SCALAR */
    trn_str_t str;            /* for STRING */
    trn_promql_sample_t *vec; /* for VECTOR */
    size_t n_vec;
    trn_promql_series_t *mat; /* for MATRIX */
    size_t n_mat;
    /* Annotations as Prometheus renders them ("PromQL warning: ... (1:5)"). */
    const char **warnings;
    size_t n_warnings;
    const char **infos;
    size_t n_infos;
    uint64_t samples_total; /* samples read from storage (for stats) */
    uint64_t peak_samples;  /* largest number of samples held at once */
} trn_promql_value_t;

/* Evaluation options; zeroed fields take the defaults noted. */
typedef struct trn_promql_opts {
    int64_t lookback_delta_ms;     /* default 5m */
    int64_t timeout_ms;            /* default 2m; TRN_ETIMEOUT past it */
    uint64_t max_samples;          /* default 50,000,000; TRN_ELIMIT past it */
    int64_t subquery_step_ms;      /* default step of `[r:]` subqueries; default 1m */
    int64_t max_points_per_series; /* range queries; default 11,000 */
    /* Polled between series and steps; returns true when the client left. */
    bool (*is_canceled)(void *ctx);
    void *cancel_ctx;
} trn_promql_opts_t;

/* Parses q[0..len) into *out (allocated from a). Errors are TRN_EINVAL
 * with d carrying Prometheus's message and the position (offset, line:col). */
int trn_promql_parse(const char *q, size_t len, trn_arena_t *a, trn_promql_expr_t **out,
                     trn_diag_t *d);

/* Releases what a parsed expression holds outside its arena (compiled
 * regexes). Call before freeing the arena; NULL allowed. */
void trn_promql_expr_release(trn_promql_expr_t *e);

/* Parses a series selector (the `match[]` of the metadata APIs): a vector
 * selector such as `up{job="a"}` or `{__name__=~"x.*"}`. *keep is the
 * parsed expression (release it with trn_promql_expr_release); *ms points
 * into it. Other expressions are TRN_EINVAL. */
int trn_promql_parse_selector(const char *q, size_t len, trn_arena_t *a, trn_promql_expr_t **keep,
                              const trn_matcher_t **ms, size_t *n_ms, trn_diag_t *d);

/* Static type of a parsed expression. */
trn_promql_type_t trn_promql_expr_type(const trn_promql_expr_t *e);

/* Appends the canonical text of e (Prometheus's String() form) to out. */
void trn_promql_format(const trn_promql_expr_t *e, trn_buf_t *out);

/* Appends e as /api/v1/format_query shows it (Prometheus's Pretty(0)): the
 * canonical text, with every node longer than 100 bytes split over lines
 * indented two spaces per level. */
void trn_promql_format_pretty(const trn_promql_expr_t *e, trn_buf_t *out);

/* Writes e as one JSON value in the shape of Prometheus's
 * /api/v1/parse_query (its web UI's AST). */
void trn_promql_ast_json(const trn_promql_expr_t *e, trn_json_t *j);

/* Evaluates e at t_ms. o may be NULL (defaults). Errors: TRN_EEXEC for
 * evaluation errors (message in d, e.g. many-to-many matching), TRN_ELIMIT,
 * TRN_ETIMEOUT, TRN_ECANCELED. *out is written only on success. */
int trn_promql_eval_instant(trn_store_t *st, const trn_promql_expr_t *e, int64_t t_ms,
                            const trn_promql_opts_t *o, trn_arena_t *a, trn_promql_value_t *out,
                            trn_diag_t *d);

/* Evaluates e at start_ms, start_ms+step_ms, ... <= end_ms. The result is a
 * MATRIX (scalars become a series with no labels). e must be a scalar or
 * instant vector expression (TRN_EINVAL otherwise, as Prometheus says). */
int trn_promql_eval_range(trn_store_t *st, const trn_promql_expr_t *e, int64_t start_ms,
                          int64_t end_ms, int64_t step_ms, const trn_promql_opts_t *o,
                          trn_arena_t *a, trn_promql_value_t *out, trn_diag_t *d);

/* Name of a value type as the HTTP API spells it: "scalar", "vector",
 * "matrix", "string". */
const char *trn_promql_type_name(trn_promql_type_t t);

#endif
