/* SPDX-License-Identifier: Apache-2.0 */
/* The evaluator's internal data model, shared by eval.c (nodes, selectors,
 * binary operators), funcs.c (functions) and agg.c (aggregations).
 *
 * Every instant-vector node evaluates to a "step matrix": a list of series,
 * each with its label set fixed for the whole query and one value slot per
 * evaluation step (plus a presence byte). A range query thus evaluates each
 * node once across all steps, series by series, and an instant query is
 * the one-step case. Errors unwind with longjmp to the query's entry point:
 * everything lives in the query arena, so there is nothing to free on the
 * way out except the querier, which the entry point owns. */
#ifndef TRN_METRICS_PROMQL_EVAL_INT_H
#define TRN_METRICS_PROMQL_EVAL_INT_H

#include "metrics/promql/promql_int.h"

#include <setjmp.h>

typedef struct pq_series {
    trn_labels_t labels;
    double *v;      /* n_steps values */
    uint8_t *ok;    /* n_steps presence flags */
    int64_t *ts;    /* sample timestamps per step (timestamp() over a selector), or NULL */
    bool drop_name; /* __name__ goes at the end of evaluation (delayed name removal) */
} pq_series_t;

typedef struct pq_vec {
    pq_series_t *s;
    size_t n, cap;
} pq_vec_t;

/* One series of a range vector: samples sorted by time, stale markers removed. */
typedef struct pq_rseries {
    trn_labels_t labels;
    trn_sample_t *pts;
    size_t n;
    bool drop_name;
} pq_rseries_t;

/* Queriers open right now, so an error unwinding with longjmp can close them. */
typedef struct pq_qtrack {
    trn_querier_t *q[16];
    int n;
} pq_qtrack_t;

typedef struct pq_ev {
    trn_store_t *st;
    trn_arena_t *a;
    trn_arena_t *scratch; /* decoded samples of the series being processed; reset per series */
    const char *qtext;    /* for annotation positions; may be NULL */
    size_t qlen;
    int64_t start, end, step; /* this evaluator's steps */
    size_t n_steps;
    int64_t q_start, q_end; /* the top-level query's, for @ start()/end() and start() */
    int64_t q_step;
    int64_t lookback_ms;
    int64_t subq_step_ms;
    uint64_t max_samples;
    uint64_t cur_samples;
    uint64_t peak_samples;
    uint64_t samples_read;
    int64_t deadline_ns;
    bool (*is_canceled)(void *ctx);
    void *cancel_ctx;
    trn_diag_t *d;
    jmp_buf *jb;
    pq_qtrack_t *qt; /* shared with subquery evaluators */
    /* annotations */
    const char **warns;
    size_t n_warns, cap_warns;
    const char **infos;
    size_t n_infos, cap_infos;
} pq_ev_t;

/* Aborts evaluation with code and a message (never returns). */
_Noreturn void trn__pq_fail(pq_ev_t *ev, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Adds a warning / info, rendered with the position of e. Duplicates are dropped. */
void trn__pq_warn(pq_ev_t *ev, const pq_expr_t *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void trn__pq_info(pq_ev_t *ev, const pq_expr_t *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Arena allocation that fails the query on budget exhaustion. */
void *trn__pq_alloc(pq_ev_t *ev, size_t n);
/* Polls the deadline and cancellation. */
void trn__pq_check(pq_ev_t *ev);
/* Charges n samples held in memory against max_samples. */
void trn__pq_charge(pq_ev_t *ev, uint64_t n);

/* New series appended to v (value arrays zeroed, nothing present). */
pq_series_t *trn__pq_vec_add(pq_ev_t *ev, pq_vec_t *v, trn_labels_t labels, bool drop_name);

/* Evaluates an expression of any type. */
typedef struct pq_val {
    trn_promql_type_t type;
    double *scalar;   /* SCALAR: one value per step */
    trn_str_t str;    /* STRING */
    pq_vec_t vec;     /* VECTOR */
    pq_rseries_t *rs; /* MATRIX (range vector at the top of an instant query) */
    size_t n_rs;
} pq_val_t;

pq_val_t trn__pq_eval(pq_ev_t *ev, const pq_expr_t *e);
/* Calls cb for every series of a range-vector expression (matrix selector or
 * subquery, parentheses allowed) with all its samples between the earliest
 * window start and the latest window end; the per-step window ends (ms,
 * inclusive; windows are (end - range, end]) go to ends[n_steps] and the
 * range to *range_ms. The series' samples are scratch: valid during cb only. */
void trn__pq_range_foreach(pq_ev_t *ev, const pq_expr_t *e, int64_t *ends, int64_t *range_ms,
                           void (*cb)(pq_ev_t *, void *, const pq_rseries_t *), void *ctx);
/* A vector selector evaluated with sample timestamps kept (for timestamp()). */
pq_vec_t trn__pq_eval_vsel_ts(pq_ev_t *ev, const pq_expr_t *e);

/* Functions (funcs.c) and aggregations (agg.c). */
pq_val_t trn__pq_eval_call(pq_ev_t *ev, const pq_expr_t *e);
pq_vec_t trn__pq_eval_agg(pq_ev_t *ev, const pq_expr_t *e);

/* Label helpers */
trn_labels_t trn__pq_labels_drop_name(pq_ev_t *ev, trn_labels_t ls);
/* Copy of ls with name set to value (value.len 0 removes it). */
trn_labels_t trn__pq_labels_set(pq_ev_t *ev, trn_labels_t ls, trn_str_t name, trn_str_t value);

/* Label-set → index map used to collect output series. */
typedef struct pq_lmap {
    uint64_t *hashes;
    int32_t *idx; /* -1 empty */
    size_t cap, n;
} pq_lmap_t;
void trn__pq_lmap_init(pq_ev_t *ev, pq_lmap_t *m, size_t hint);
/* Index of labels in vec via the map, or -1. */
int32_t trn__pq_lmap_find(const pq_lmap_t *m, const pq_vec_t *vec, const trn_labels_t *ls,
                          uint64_t h);
void trn__pq_lmap_put(pq_ev_t *ev, pq_lmap_t *m, uint64_t h, int32_t idx);

/* Finds or creates the output series for ls in out (via map). */
pq_series_t *trn__pq_out_series(pq_ev_t *ev, pq_vec_t *out, pq_lmap_t *m, trn_labels_t ls,
                                bool drop_name);

/* Neumaier-compensated summation step, as Prometheus's kahansum.Inc. */
static inline void trn__pq_kahan_inc(double inc, double *sum, double *c)
{
    double t = *sum + inc;
    if (__builtin_isinf(t))
        *c = 0;
    else if (__builtin_fabs(*sum) >= __builtin_fabs(inc))
        *c += (*sum - t) + inc;
    else
        *c += (inc - t) + *sum;
    *sum = t;
}

/* label_replace's matching and $1 / ${name} expansion (Go's Regexp.Expand
 * rules) on the fully anchored pattern re. Returns 0 or TRN_EINVAL for a bad
 * pattern; *matched false leaves *out untouched. */
int trn__pq_regex_expand(const char *re, size_t re_len, trn_str_t src, trn_str_t repl,
                         trn_arena_t *a, trn_str_t *out, bool *matched);

/* quantile over values (sorted in place), Prometheus's definition. */
double trn__pq_quantile(double q, double *vals, size_t n);

#endif
