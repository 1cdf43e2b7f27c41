/* SPDX-License-Identifier: Apache-2.0 */
/* PromQL functions: the descriptor table the parser type-checks against,
 * and their evaluation over step matrices.
 *
 * Three shapes. Range-vector functions (rate, *_over_time, ...) walk each
 * input series once: its samples are decoded for the union of all step
 * windows and every step's window (end - range, end] is two binary searches
 * into them, so the work per step is the function itself. Element-wise
 * functions (abs, clamp, date functions, ...) map values in place per
 * series. Vector-wide functions (sort, histogram_quantile, absent, scalar,
 * label_replace, ...) regroup series; their groupings are computed once per
 * query because a series' labels never change between steps.
 *
 * Numerics follow Prometheus exactly where results are compared with it:
 * Neumaier-compensated sums, the direct-then-incremental mean, Welford-style
 * variance, rate extrapolation to the window edges (capped at 110% of the
 * average sample spacing, and at the counter's zero point), the classic
 * bucket interpolation of histogram_quantile with its monotonicity fix. */
#include "metrics/promql/eval_int.h"

#include "core/err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    F_ABS,
    F_ABSENT,
    F_ABSENT_OVER_TIME,
    F_ACOS,
    F_ACOSH,
    F_ASIN,
    F_ASINH,
    F_ATAN,
    F_ATANH,
    F_AVG_OVER_TIME,
    F_CEIL,
    F_CHANGES,
    F_CLAMP,
    F_CLAMP_MAX,
    F_CLAMP_MIN,
    F_COS,
    F_COSH,
    F_COUNT_OVER_TIME,
    F_DAYS_IN_MONTH,
    F_DAY_OF_MONTH,
    F_DAY_OF_WEEK,
    F_DAY_OF_YEAR,
    F_DEG,
    F_DELTA,
    F_DERIV,
    F_END,
    F_EXP,
    F_FIRST_OVER_TIME,
    F_FLOOR,
    F_HISTOGRAM_AVG,
    F_HISTOGRAM_COUNT,
    F_HISTOGRAM_SUM,
    F_HISTOGRAM_STDDEV,
    F_HISTOGRAM_STDVAR,
    F_HISTOGRAM_FRACTION,
    F_HISTOGRAM_QUANTILE,
    F_DES,
    F_HOUR,
    F_IDELTA,
    F_INCREASE,
    F_IRATE,
    F_LABEL_REPLACE,
    F_LABEL_JOIN,
    F_MAX_OF,
    F_LAST_OVER_TIME,
    F_MIN_OF,
    F_LN,
    F_LOG10,
    F_LOG2,
    F_MAD_OVER_TIME,
    F_MAX_OVER_TIME,
    F_MIN_OVER_TIME,
    F_TS_FIRST,
    F_TS_MAX,
    F_TS_MIN,
    F_TS_LAST,
    F_MINUTE,
    F_MONTH,
    F_PI,
    F_PREDICT_LINEAR,
    F_PRESENT_OVER_TIME,
    F_QUANTILE_OVER_TIME,
    F_RAD,
    F_RANGE,
    F_RATE,
    F_RESETS,
    F_ROUND,
    F_SCALAR,
    F_SGN,
    F_SIN,
    F_SINH,
    F_SORT,
    F_SORT_DESC,
    F_SORT_BY_LABEL,
    F_SORT_BY_LABEL_DESC,
    F_SQRT,
    F_START,
    F_STEP,
    F_STDDEV_OVER_TIME,
    F_STDVAR_OVER_TIME,
    F_SUM_OVER_TIME,
    F_TAN,
    F_TANH,
    F_TIME,
    F_TIMESTAMP,
    F_VECTOR,
    F_YEAR,
};

#define S TRN_PROMQL_SCALAR
#define V TRN_PROMQL_VECTOR
#define M TRN_PROMQL_MATRIX
#define STR TRN_PROMQL_STRING

static const pq_func_t funcs[] = {
    {"abs", {V}, 1, 0, V, F_ABS},
    {"absent", {V}, 1, 0, V, F_ABSENT},
    {"absent_over_time", {M}, 1, 0, V, F_ABSENT_OVER_TIME},
    {"acos", {V}, 1, 0, V, F_ACOS},
    {"acosh", {V}, 1, 0, V, F_ACOSH},
    {"asin", {V}, 1, 0, V, F_ASIN},
    {"asinh", {V}, 1, 0, V, F_ASINH},
    {"atan", {V}, 1, 0, V, F_ATAN},
    {"atanh", {V}, 1, 0, V, F_ATANH},
    {"avg_over_time", {M}, 1, 0, V, F_AVG_OVER_TIME},
    {"ceil", {V}, 1, 0, V, F_CEIL},
    {"changes", {M}, 1, 0, V, F_CHANGES},
    {"clamp", {V, S, S}, 3, 0, V, F_CLAMP},
    {"clamp_max", {V, S}, 2, 0, V, F_CLAMP_MAX},
    {"clamp_min", {V, S}, 2, 0, V, F_CLAMP_MIN},
    {"cos", {V}, 1, 0, V, F_COS},
    {"cosh", {V}, 1, 0, V, F_COSH},
    {"count_over_time", {M}, 1, 0, V, F_COUNT_OVER_TIME},
    {"days_in_month", {V}, 1, 1, V, F_DAYS_IN_MONTH},
    {"day_of_month", {V}, 1, 1, V, F_DAY_OF_MONTH},
    {"day_of_week", {V}, 1, 1, V, F_DAY_OF_WEEK},
    {"day_of_year", {V}, 1, 1, V, F_DAY_OF_YEAR},
    {"deg", {V}, 1, 0, V, F_DEG},
    {"delta", {M}, 1, 0, V, F_DELTA},
    {"deriv", {M}, 1, 0, V, F_DERIV},
    {"double_exponential_smoothing", {M, S, S}, 3, 0, V, F_DES},
    {"end", {0}, 0, 0, S, F_END},
    {"exp", {V}, 1, 0, V, F_EXP},
    {"first_over_time", {M}, 1, 0, V, F_FIRST_OVER_TIME},
    {"floor", {V}, 1, 0, V, F_FLOOR},
    {"histogram_avg", {V}, 1, 0, V, F_HISTOGRAM_AVG},
    {"histogram_count", {V}, 1, 0, V, F_HISTOGRAM_COUNT},
    {"histogram_fraction", {S, S, V}, 3, 0, V, F_HISTOGRAM_FRACTION},
    {"histogram_quantile", {S, V}, 2, 0, V, F_HISTOGRAM_QUANTILE},
    {"histogram_stddev", {V}, 1, 0, V, F_HISTOGRAM_STDDEV},
    {"histogram_stdvar", {V}, 1, 0, V, F_HISTOGRAM_STDVAR},
    {"histogram_sum", {V}, 1, 0, V, F_HISTOGRAM_SUM},
    {"holt_winters", {M, S, S}, 3, 0, V, F_DES},
    {"hour", {V}, 1, 1, V, F_HOUR},
    {"idelta", {M}, 1, 0, V, F_IDELTA},
    {"increase", {M}, 1, 0, V, F_INCREASE},
    {"irate", {M}, 1, 0, V, F_IRATE},
    {"label_join", {V, STR, STR, STR}, 4, -1, V, F_LABEL_JOIN},
    {"label_replace", {V, STR, STR, STR, STR}, 5, 0, V, F_LABEL_REPLACE},
    {"last_over_time", {M}, 1, 0, V, F_LAST_OVER_TIME},
    {"ln", {V}, 1, 0, V, F_LN},
    {"log10", {V}, 1, 0, V, F_LOG10},
    {"log2", {V}, 1, 0, V, F_LOG2},
    {"mad_over_time", {M}, 1, 0, V, F_MAD_OVER_TIME},
    {"max_of", {S, S}, 2, 0, S, F_MAX_OF},
    {"max_over_time", {M}, 1, 0, V, F_MAX_OVER_TIME},
    {"min_of", {S, S}, 2, 0, S, F_MIN_OF},
    {"min_over_time", {M}, 1, 0, V, F_MIN_OVER_TIME},
    {"minute", {V}, 1, 1, V, F_MINUTE},
    {"month", {V}, 1, 1, V, F_MONTH},
    {"pi", {0}, 0, 0, S, F_PI},
    {"predict_linear", {M, S}, 2, 0, V, F_PREDICT_LINEAR},
    {"present_over_time", {M}, 1, 0, V, F_PRESENT_OVER_TIME},
    {"quantile_over_time", {S, M}, 2, 0, V, F_QUANTILE_OVER_TIME},
    {"rad", {V}, 1, 0, V, F_RAD},
    {"range", {0}, 0, 0, S, F_RANGE},
    {"rate", {M}, 1, 0, V, F_RATE},
    {"resets", {M}, 1, 0, V, F_RESETS},
    {"round", {V, S}, 2, 1, V, F_ROUND},
    {"scalar", {V}, 1, 0, S, F_SCALAR},
    {"sgn", {V}, 1, 0, V, F_SGN},
    {"sin", {V}, 1, 0, V, F_SIN},
    {"sinh", {V}, 1, 0, V, F_SINH},
    {"sort", {V}, 1, 0, V, F_SORT},
    {"sort_by_label", {V, STR}, 2, -1, V, F_SORT_BY_LABEL},
    {"sort_by_label_desc", {V, STR}, 2, -1, V, F_SORT_BY_LABEL_DESC},
    {"sort_desc", {V}, 1, 0, V, F_SORT_DESC},
    {"sqrt", {V}, 1, 0, V, F_SQRT},
    {"start", {0}, 0, 0, S, F_START},
    {"stddev_over_time", {M}, 1, 0, V, F_STDDEV_OVER_TIME},
    {"stdvar_over_time", {M}, 1, 0, V, F_STDVAR_OVER_TIME},
    {"step", {0}, 0, 0, S, F_STEP},
    {"sum_over_time", {M}, 1, 0, V, F_SUM_OVER_TIME},
    {"tan", {V}, 1, 0, V, F_TAN},
    {"tanh", {V}, 1, 0, V, F_TANH},
    {"time", {0}, 0, 0, S, F_TIME},
    {"timestamp", {V}, 1, 0, V, F_TIMESTAMP},
    {"ts_of_first_over_time", {M}, 1, 0, V, F_TS_FIRST},
    {"ts_of_last_over_time", {M}, 1, 0, V, F_TS_LAST},
    {"ts_of_max_over_time", {M}, 1, 0, V, F_TS_MAX},
    {"ts_of_min_over_time", {M}, 1, 0, V, F_TS_MIN},
    {"vector", {S}, 1, 0, V, F_VECTOR},
    {"year", {V}, 1, 1, V, F_YEAR},
};

#undef S
#undef V
#undef M
#undef STR

const pq_func_t *trn__pq_func_lookup(trn_str_t name)
{
    for (size_t i = 0; i < sizeof funcs / sizeof funcs[0]; i++)
        if (trn_str_eqc(name, funcs[i].name)) return &funcs[i];
    return NULL;
}

/* ---- range-vector functions ------------------------------------------------ */

typedef struct rctx {
    const pq_expr_t *call;
    const pq_expr_t *marg; /* the range-vector argument expression */
    int id;
    int64_t *ends;
    int64_t range_ms;
    double *p1, *p2; /* scalar args per step (or NULL) */
    pq_vec_t out;
    bool counter_info_done;
    /* rate/increase: whether the current series has a sample below its
     * predecessor anywhere (else no window needs the reset scan) */
    bool may_reset;
    /* absent_over_time */
    uint8_t *seen;
} rctx_t;

static size_t upper(const trn_sample_t *p, size_t n, int64_t x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t m = (lo + hi) / 2;
        if (p[m].t_ms <= x)
            lo = m + 1;
        else
            hi = m;
    }
    return lo;
}

/* may_reset false: the caller knows no sample in p is below its
 * predecessor, so the counter-reset scan would add nothing */
static bool extrapolated_rate(const trn_sample_t *p, size_t n, int64_t range_start,
                              int64_t range_end, int64_t range_ms, bool is_counter, bool is_rate,
                              bool may_reset, double *out)
{
    if (n < 2) return false;
    double result = p[n - 1].v - p[0].v;
    if (is_counter && may_reset)
        for (size_t i = 1; i < n; i++)
            if (p[i].v < p[i - 1].v) result += p[i - 1].v;
    double dur_start = (double)(p[0].t_ms - range_start) / 1000.0;
    double dur_end = (double)(range_end - p[n - 1].t_ms) / 1000.0;
    double sampled = (double)(p[n - 1].t_ms - p[0].t_ms) / 1000.0;
    double avg = sampled / (double)(n - 1);
    double thr = avg * 1.1;
    if (dur_start >= thr) dur_start = avg / 2;
    if (is_counter) {
        double dz = dur_start;
        if (result > 0 && p[0].v >= 0) dz = sampled * (p[0].v / result);
        if (dz < dur_start) dur_start = dz;
    }
    if (dur_end >= thr) dur_end = avg / 2;
    double factor = 1.0;
    if (sampled != 0) factor = (sampled + dur_start + dur_end) / sampled;
    if (is_rate) factor /= (double)range_ms / 1000.0;
    *out = result * factor;
    return true;
}

static void linreg(const trn_sample_t *p, size_t n, int64_t t0, double *slope, double *icpt)
{
    double nn = 0, sx = 0, cx = 0, sy = 0, cy = 0, sxy = 0, cxy = 0, sx2 = 0, cx2 = 0;
    double init = p[0].v;
    bool consty = true;
    for (size_t i = 0; i < n; i++) {
        if (consty && i > 0 && p[i].v != init) consty = false;
        nn += 1.0;
        double x = (double)(p[i].t_ms - t0) / 1e3;
        trn__pq_kahan_inc(x, &sx, &cx);
        trn__pq_kahan_inc(p[i].v, &sy, &cy);
        trn__pq_kahan_inc(x * p[i].v, &sxy, &cxy);
        trn__pq_kahan_inc(x * x, &sx2, &cx2);
    }
    if (consty) {
        if (isinf(init)) {
            *slope = NAN;
            *icpt = NAN;
            return;
        }
        *slope = 0;
        *icpt = init;
        return;
    }
    sx += cx;
    sy += cy;
    sxy += cxy;
    sx2 += cx2;
    double cov = sxy - sx * sy / nn;
    double var = sx2 - sx * sx / nn;
    *slope = cov / var;
    *icpt = sy / nn - *slope * sx / nn;
}

static double avg_of(const trn_sample_t *p, size_t n)
{
    double sum = p[0].v, c = 0, mean = 0, count = 1;
    bool inc = false;
    for (size_t i = 1; i < n; i++) {
        count = (double)(i + 1);
        if (!inc) {
            double ns = sum, nc = c;
            trn__pq_kahan_inc(p[i].v, &ns, &nc);
            if (!isinf(ns)) {
                sum = ns;
                c = nc;
                continue;
            }
            inc = true;
            mean = sum / (count - 1);
            c /= (count - 1);
        }
        double q = (count - 1) / count;
        double m2 = q * mean, c2 = q * c;
        trn__pq_kahan_inc(p[i].v / count, &m2, &c2);
        mean = m2;
        c = c2;
    }
    if (inc) return mean + c;
    return sum / count + c / count;
}

static void fmt_g(char *out, size_t cap, double v);

/* Evaluates one range function over window p[0..n) at step i; false = no output. */
static bool range_fn(pq_ev_t *ev, rctx_t *c, size_t i, const trn_sample_t *p, size_t n, double *out)
{
    int64_t end = c->ends[i], start = end - c->range_ms;
    switch (c->id) {
    case F_RATE:
        return extrapolated_rate(p, n, start, end, c->range_ms, true, true, c->may_reset, out);
    case F_INCREASE:
        return extrapolated_rate(p, n, start, end, c->range_ms, true, false, c->may_reset, out);
    case F_DELTA:
        return extrapolated_rate(p, n, start, end, c->range_ms, false, false, false, out);
    case F_IRATE:
    case F_IDELTA: {
        if (n < 2) return false;
        const trn_sample_t *a = &p[n - 2], *b = &p[n - 1];
        int64_t dt = b->t_ms - a->t_ms;
        if (dt == 0) return false;
        double r = b->v;
        if (c->id == F_IDELTA || !(b->v < a->v)) r = b->v - a->v;
        if (c->id == F_IRATE) r /= (double)dt / 1000.0;
        *out = r;
        return true;
    }
    case F_CHANGES: {
        if (n == 0) return false;
        double ch = 0;
        for (size_t k = 1; k < n; k++)
            if (p[k].v != p[k - 1].v && !(isnan(p[k].v) && isnan(p[k - 1].v))) ch++;
        *out = ch;
        return true;
    }
    case F_RESETS: {
        if (n == 0) return false;
        double r = 0;
        for (size_t k = 1; k < n; k++)
            if (p[k].v < p[k - 1].v) r++;
        *out = r;
        return true;
    }
    case F_DERIV: {
        if (n < 2) return false;
        double s, ic;
        linreg(p, n, p[0].t_ms, &s, &ic);
        *out = s;
        return true;
    }
    case F_PREDICT_LINEAR: {
        if (n < 2) return false;
        double s, ic;
        linreg(p, n, ev->start + (int64_t)i * ev->step, &s, &ic);
        *out = s * c->p1[i] + ic;
        return true;
    }
    case F_DES: {
        if (n < 2) return false;
        double sf = c->p1[i], tf = c->p2[i];
        if (sf <= 0 || sf >= 1)
            trn__pq_fail(ev, TRN_EEXEC, "invalid smoothing factor. Expected: 0 < sf < 1, got: %f",
                         sf);
        if (tf <= 0 || tf >= 1)
            trn__pq_fail(ev, TRN_EEXEC, "invalid trend factor. Expected: 0 < tf < 1, got: %f", tf);
        double s0 = 0, s1 = p[0].v, b = p[1].v - p[0].v;
        for (size_t k = 1; k < n; k++) {
            double x = sf * p[k].v;
            if (k - 1 != 0) b = tf * (s1 - s0) + (1 - tf) * b;
            double y = (1 - sf) * (s1 + b);
            s0 = s1;
            s1 = x + y;
        }
        *out = s1;
        return true;
    }
    case F_AVG_OVER_TIME:
        if (!n) return false;
        *out = avg_of(p, n);
        return true;
    case F_SUM_OVER_TIME: {
        if (!n) return false;
        double s = 0, cc = 0;
        for (size_t k = 0; k < n; k++)
            trn__pq_kahan_inc(p[k].v, &s, &cc);
        *out = isinf(s) ? s : s + cc;
        return true;
    }
    case F_COUNT_OVER_TIME:
        if (!n) return false;
        *out = (double)n;
        return true;
    case F_MIN_OVER_TIME:
    case F_MAX_OVER_TIME:
    case F_TS_MIN:
    case F_TS_MAX: {
        if (!n) return false;
        bool mx = c->id == F_MAX_OVER_TIME || c->id == F_TS_MAX;
        bool ts = c->id == F_TS_MIN || c->id == F_TS_MAX;
        double best = p[0].v;
        int64_t bt = p[0].t_ms;
        for (size_t k = 0; k < n; k++) {
            double v = p[k].v;
            bool take;
            if (ts)
                take = mx ? (v >= best || isnan(best)) : (v <= best || isnan(best));
            else
                take = mx ? (v > best || isnan(best)) : (v < best || isnan(best));
            if (take) {
                best = v;
                bt = p[k].t_ms;
            }
        }
        *out = ts ? (double)bt / 1000.0 : best;
        return true;
    }
    case F_LAST_OVER_TIME:
        if (!n) return false;
        *out = p[n - 1].v;
        return true;
    case F_FIRST_OVER_TIME:
        if (!n) return false;
        *out = p[0].v;
        return true;
    case F_TS_FIRST:
        if (!n) return false;
        *out = (double)p[0].t_ms / 1000.0;
        return true;
    case F_TS_LAST:
        if (!n) return false;
        *out = (double)p[n - 1].t_ms / 1000.0;
        return true;
    case F_PRESENT_OVER_TIME:
        if (!n) return false;
        *out = 1;
        return true;
    case F_QUANTILE_OVER_TIME: {
        if (!n) return false;
        double q = c->p1[i];
        if (isnan(q) || q < 0 || q > 1) {
            char qb[40];
            fmt_g(qb, sizeof qb, q);
            trn__pq_warn(ev, c->marg, "quantile value should be between 0 and 1, got %s", qb);
        }
        trn_arena_mark_t m = trn_arena_mark(ev->a);
        double *vals = trn__pq_alloc(ev, n * sizeof *vals);
        for (size_t k = 0; k < n; k++)
            vals[k] = p[k].v;
        *out = trn__pq_quantile(q, vals, n);
        trn_arena_reset(ev->a, m);
        return true;
    }
    case F_MAD_OVER_TIME: {
        if (!n) return false;
        trn_arena_mark_t m = trn_arena_mark(ev->a);
        double *vals = trn__pq_alloc(ev, n * sizeof *vals);
        bool nan = false;
        for (size_t k = 0; k < n; k++) {
            vals[k] = p[k].v;
            if (isnan(vals[k])) nan = true;
        }
        if (nan) {
            *out = NAN;
        } else {
            double med = trn__pq_quantile(0.5, vals, n);
            for (size_t k = 0; k < n; k++)
                vals[k] = fabs(vals[k] - med);
            *out = trn__pq_quantile(0.5, vals, n);
        }
        trn_arena_reset(ev->a, m);
        return true;
    }
    case F_STDDEV_OVER_TIME:
    case F_STDVAR_OVER_TIME: {
        if (!n) return false;
        double count = 0, mean = 0, cm = 0, aux = 0, ca = 0;
        for (size_t k = 0; k < n; k++) {
            count++;
            double delta = p[k].v - (mean + cm);
            trn__pq_kahan_inc(delta / count, &mean, &cm);
            trn__pq_kahan_inc(delta * (p[k].v - (mean + cm)), &aux, &ca);
        }
        double var = (aux + ca) / count;
        *out = c->id == F_STDDEV_OVER_TIME ? sqrt(var) : var;
        return true;
    }
    default:
        return false;
    }
}

static void fmt_g(char *out, size_t cap, double v)
{
    if (isnan(v))
        snprintf(out, cap, "NaN");
    else if (isinf(v))
        snprintf(out, cap, v > 0 ? "+Inf" : "-Inf");
    else {
        char b[33];
        trn_fmt_float_g(b, v);
        snprintf(out, cap, "%s", b);
    }
}

static void range_series_cb(pq_ev_t *ev, void *vctx, const pq_rseries_t *rs)
{
    rctx_t *c = vctx;
    pq_series_t *o = NULL;
    if (c->id == F_ABSENT_OVER_TIME) {
        for (size_t i = 0; i < ev->n_steps; i++) {
            size_t a = upper(rs->pts, rs->n, c->ends[i] - c->range_ms);
            size_t b = upper(rs->pts, rs->n, c->ends[i]);
            if (b > a) c->seen[i] = 1;
        }
        return;
    }
    if (c->id == F_RATE || c->id == F_INCREASE) {
        /* one pass over the series instead of one per overlapping window */
        c->may_reset = false;
        for (size_t i = 1; i < rs->n && !c->may_reset; i++)
            if (rs->pts[i].v < rs->pts[i - 1].v) c->may_reset = true;
    }
    /* quantile_over_time warns once per series even without samples in a window */
    bool dn = rs->drop_name || (c->id != F_LAST_OVER_TIME && c->id != F_FIRST_OVER_TIME);
    bool any = false;
    size_t a = 0, b = 0;
    for (size_t i = 0; i < ev->n_steps; i++) {
        if ((i & 255) == 255) trn__pq_check(ev); /* long windows: stay cancellable */
        /* the window (end - range, end] as [a, b): when the ends do not go
         * back (every range query without @), both bounds only move
         * forward, so walk them instead of searching again */
        int64_t lo = c->ends[i] - c->range_ms, hi = c->ends[i];
        if (i == 0 || c->ends[i] < c->ends[i - 1]) {
            a = upper(rs->pts, rs->n, lo);
            b = upper(rs->pts, rs->n, hi);
        } else {
            while (a < rs->n && rs->pts[a].t_ms <= lo)
                a++;
            while (b < rs->n && rs->pts[b].t_ms <= hi)
                b++;
        }
        double v;
        if (!range_fn(ev, c, i, rs->pts + a, b - a, &v)) continue;
        if (!o) {
            trn_labels_t ls;
            if (trn_labels_copy(ev->a, &rs->labels, &ls) < 0)
                trn__pq_fail(ev, TRN_ELIMIT, "query processing would use too much memory");
            o = trn__pq_vec_add(ev, &c->out, ls, dn);
        }
        o->v[i] = v;
        o->ok[i] = 1;
        any = true;
    }
    if (any && (c->id == F_RATE || c->id == F_INCREASE)) {
        trn_str_t name = trn_labels_get(&rs->labels, TRN_METRIC_NAME);
        if (name.p && name.len) {
            static const char *const sfx[] = {"_total", "_sum", "_count", "_bucket"};
            bool okname = false;
            for (int k = 0; k < 4; k++) {
                size_t l = strlen(sfx[k]);
                if (name.len >= l && memcmp(name.p + name.len - l, sfx[k], l) == 0) okname = true;
            }
            if (!okname)
                trn__pq_info(ev, c->marg,
                             "metric might not be a counter, name does not end in "
                             "_total/_sum/_count/_bucket: \"%.*s\"",
                             (int)name.len, name.p);
        }
    }
}

static double *scalar_arg(pq_ev_t *ev, const pq_expr_t *e)
{
    pq_val_t v = trn__pq_eval(ev, e);
    return v.scalar;
}

static const pq_expr_t *unparen(const pq_expr_t *e)
{
    while (e->kind == PQ_PAREN)
        e = e->inner;
    return e;
}

/* Labels of absent()/absent_over_time()'s output: the first equality
 * matcher of each name sets that label; any later matcher on a name removes
 * it again (so {a="x", a!="y"} yields no label a); the metric name never. */
static trn_labels_t absent_labels(pq_ev_t *ev, const pq_expr_t *vs)
{
    trn_labels_t ls = {trn__pq_alloc(ev, (vs->n_ms ? vs->n_ms : 1) * sizeof(trn_label_t)), 0};
    bool *has = trn__pq_alloc(ev, (vs->n_ms ? vs->n_ms : 1) * sizeof *has);
    for (size_t k = 0; k < vs->n_ms; k++) {
        const trn_matcher_t *m = &vs->ms[k];
        has[k] = false;
        if (trn_str_eqc(m->name, TRN_METRIC_NAME)) continue;
        bool seen_eq = false;
        for (size_t j = 0; j < k; j++)
            if (has[j] && trn_str_eq(vs->ms[j].name, m->name)) seen_eq = true;
        size_t w = 0;
        for (size_t j = 0; j < ls.n; j++)
            if (!trn_str_eq(ls.v[j].name, m->name)) ls.v[w++] = ls.v[j];
        ls.n = w;
        if (m->type == TRN_MATCH_EQ && !seen_eq) {
            ls.v[ls.n++] = (trn_label_t){m->name, m->value};
            has[k] = true;
        }
    }
    trn_labels_sort(&ls);
    trn_labels_drop_empty(&ls);
    return ls;
}

static pq_vec_t eval_range_call(pq_ev_t *ev, const pq_expr_t *e)
{
    rctx_t c;
    memset(&c, 0, sizeof c);
    c.call = e;
    c.id = e->func->id;
    size_t mi = 0;
    for (size_t k = 0; k < e->n_args; k++)
        if (e->args[k]->type == TRN_PROMQL_MATRIX) mi = k;
    c.marg = e->args[mi];
    size_t si = 0;
    for (size_t k = 0; k < e->n_args; k++) {
        if (k == mi) continue;
        double *s = scalar_arg(ev, e->args[k]);
        if (si++ == 0)
            c.p1 = s;
        else
            c.p2 = s;
    }
    c.ends = trn__pq_alloc(ev, ev->n_steps * sizeof *c.ends);
    if (c.id == F_ABSENT_OVER_TIME) {
        c.seen = trn_arena_calloc(ev->a, ev->n_steps ? ev->n_steps : 1, 1);
        if (!c.seen) trn__pq_fail(ev, TRN_ELIMIT, "query processing would use too much memory");
    }
    trn__pq_range_foreach(ev, c.marg, c.ends, &c.range_ms, range_series_cb, &c);
    if (c.id == F_ABSENT_OVER_TIME) {
        pq_vec_t out = {0};
        const pq_expr_t *a = unparen(c.marg);
        trn_labels_t ls = {NULL, 0};
        if (a->kind == PQ_MSEL) {
            const pq_expr_t *vs = a->inner;
            ls = absent_labels(ev, vs);
        }
        pq_series_t *o = NULL;
        for (size_t i = 0; i < ev->n_steps; i++) {
            if (c.seen[i]) continue;
            if (!o) o = trn__pq_vec_add(ev, &out, ls, false);
            o->v[i] = 1;
            o->ok[i] = 1;
        }
        return out;
    }
    return c.out;
}

/* ---- element-wise and vector functions ------------------------------------------- */

static double sgn(double v)
{
    return v < 0 ? -1 : v > 0 ? 1 : v;
}

static struct tm utc_of(double secs)
{
    time_t t = (time_t)(int64_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    return tm;
}

static double date_fn(int id, double secs)
{
    if (isnan(secs) || isinf(secs) || fabs(secs) > 6e16) return NAN;
    struct tm tm = utc_of(secs);
    switch (id) {
    case F_DAYS_IN_MONTH: {
        static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int y = tm.tm_year + 1900;
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        return tm.tm_mon == 1 && leap ? 29 : dm[tm.tm_mon];
    }
    case F_DAY_OF_MONTH:
        return tm.tm_mday;
    case F_DAY_OF_WEEK:
        return tm.tm_wday;
    case F_DAY_OF_YEAR:
        return tm.tm_yday + 1;
    case F_HOUR:
        return tm.tm_hour;
    case F_MINUTE:
        return tm.tm_min;
    case F_MONTH:
        return tm.tm_mon + 1;
    case F_YEAR:
        return tm.tm_year + 1900;
    default:
        return NAN;
    }
}

static double elem_fn(int id, double v, double a, double b)
{
    switch (id) {
    case F_ABS:
        return fabs(v);
    case F_CEIL:
        return ceil(v);
    case F_FLOOR:
        return floor(v);
    case F_EXP:
        return exp(v);
    case F_SQRT:
        return sqrt(v);
    case F_LN:
        return log(v);
    case F_LOG2:
        return log2(v);
    case F_LOG10:
        return log10(v);
    case F_SIN:
        return sin(v);
    case F_COS:
        return cos(v);
    case F_TAN:
        return tan(v);
    case F_ASIN:
        return asin(v);
    case F_ACOS:
        return acos(v);
    case F_ATAN:
        return atan(v);
    case F_SINH:
        return sinh(v);
    case F_COSH:
        return cosh(v);
    case F_TANH:
        return tanh(v);
    case F_ASINH:
        return asinh(v);
    case F_ACOSH:
        return acosh(v);
    case F_ATANH:
        return atanh(v);
    case F_DEG:
        return v * 180 / M_PI;
    case F_RAD:
        return v * M_PI / 180;
    case F_SGN:
        return sgn(v);
    case F_CLAMP:
        return fmax(a, fmin(b, v));
    case F_CLAMP_MAX:
        return fmax(-INFINITY, fmin(a, v));
    case F_CLAMP_MIN:
        return fmax(a, fmin(INFINITY, v));
    case F_ROUND: {
        double inv = 1.0 / a;
        return floor(v * inv + 0.5) / inv;
    }
    default:
        return date_fn(id, v);
    }
}

typedef struct sort_item {
    pq_series_t s;
    double v;
} sort_item_t;

/* Go's strings compare bytewise; sort_by_label uses natural ordering of
 * label values in newer Prometheus versions. */
static int natural_cmp(trn_str_t a, trn_str_t b)
{
    size_t i = 0, j = 0;
    while (i < a.len && j < b.len) {
        unsigned char ca = (unsigned char)a.p[i], cb = (unsigned char)b.p[j];
        if (ca >= '0' && ca <= '9' && cb >= '0' && cb <= '9') {
            size_t si = i, sj = j;
            while (si < a.len && a.p[si] == '0')
                si++;
            while (sj < b.len && b.p[sj] == '0')
                sj++;
            size_t ei = si, ej = sj;
            while (ei < a.len && a.p[ei] >= '0' && a.p[ei] <= '9')
                ei++;
            while (ej < b.len && b.p[ej] >= '0' && b.p[ej] <= '9')
                ej++;
            size_t la = ei - si, lb = ej - sj;
            if (la != lb) return la < lb ? -1 : 1;
            int c = memcmp(a.p + si, b.p + sj, la);
            if (c) return c < 0 ? -1 : 1;
            size_t za = si - i, zb = sj - j;
            if (za != zb) return za < zb ? -1 : 1;
            i = ei;
            j = ej;
            continue;
        }
        if (ca != cb) return ca < cb ? -1 : 1;
        i++;
        j++;
    }
    if (i < a.len) return 1;
    if (j < b.len) return -1;
    return 0;
}

static int by_label_cmp(const pq_series_t *x, const pq_series_t *y, const trn_str_t *names,
                        size_t n_names)
{
    for (size_t k = 0; k < n_names; k++) {
        trn_str_t a = {0}, b = {0};
        for (size_t j = 0; j < x->labels.n; j++)
            if (trn_str_eq(x->labels.v[j].name, names[k])) a = x->labels.v[j].value;
        for (size_t j = 0; j < y->labels.n; j++)
            if (trn_str_eq(y->labels.v[j].name, names[k])) b = y->labels.v[j].value;
        int c = natural_cmp(a, b);
        if (c) return c;
    }
    return trn_labels_cmp(&x->labels, &y->labels);
}

static trn_str_t strarg(const pq_expr_t *e)
{
    while (e->kind == PQ_PAREN)
        e = e->inner;
    return e->str;
}

static pq_vec_t eval_label_replace(pq_ev_t *ev, const pq_expr_t *e, pq_vec_t in)
{
    trn_str_t dst = strarg(e->args[1]), repl = strarg(e->args[2]), src = strarg(e->args[3]),
              re = strarg(e->args[4]);
    trn_buf_t pat;
    trn_buf_init(&pat);
    trn_buf_puts(&pat, "(?s:");
    trn_buf_append(&pat, re.p, re.len);
    trn_buf_puts(&pat, ")");
    trn_regex_t *rx = NULL;
    trn_diag_t rd;
    trn_diag_init(&rd);
    int rc = trn_regex_new((trn_str_t){pat.data, pat.len}, &rx, &rd);
    trn_buf_fini(&pat);
    if (rc < 0)
        trn__pq_fail(ev, TRN_EEXEC, "invalid regular expression in label_replace(): %.*s",
                     (int)re.len, re.p);
    if (!dst.len || !trn_utf8_valid(dst.p, dst.len)) {
        trn_regex_free(rx);
        trn__pq_fail(ev, TRN_EEXEC, "invalid destination label name in label_replace(): %.*s",
                     (int)dst.len, dst.p);
    }
    /* Capture groups are expanded through a second, capturing compile: core's
     * matcher only answers yes/no, so the expansion is done with PCRE2 here. */
    for (size_t si = 0; si < in.n; si++) {
        pq_series_t *s = &in.s[si];
        trn_str_t sv = {0};
        for (size_t j = 0; j < s->labels.n; j++)
            if (trn_str_eq(s->labels.v[j].name, src)) sv = s->labels.v[j].value;
        if (!sv.p) sv = (trn_str_t){"", 0};
        trn_str_t res;
        bool matched = false;
        if (trn__pq_regex_expand(re.p, re.len, sv, repl, ev->a, &res, &matched) < 0) {
            trn_regex_free(rx);
            trn__pq_fail(ev, TRN_EEXEC, "invalid regular expression in label_replace(): %.*s",
                         (int)re.len, re.p);
        }
        if (!matched) continue;
        s->labels = trn__pq_labels_set(ev, s->labels, dst, res);
        if (trn_str_eqc(dst, TRN_METRIC_NAME)) s->drop_name = false;
    }
    trn_regex_free(rx);
    return in;
}

static pq_vec_t merge_same(pq_ev_t *ev, pq_vec_t in)
{
    pq_vec_t out = {0};
    pq_lmap_t m;
    trn__pq_lmap_init(ev, &m, in.n);
    for (size_t i = 0; i < in.n; i++) {
        pq_series_t *s = &in.s[i];
        uint64_t h = trn_labels_hash(&s->labels);
        int32_t k = trn__pq_lmap_find(&m, &out, &s->labels, h);
        if (k < 0) {
            if (out.n == out.cap) {
                size_t nc = out.cap ? out.cap * 2 : 8;
                pq_series_t *ns =
                    trn_arena_grow(ev->a, out.s, out.cap * sizeof *ns, nc * sizeof *ns);
                if (!ns) trn__pq_fail(ev, TRN_ELIMIT, "query processing would use too much memory");
                out.s = ns;
                out.cap = nc;
            }
            out.s[out.n] = *s;
            trn__pq_lmap_put(ev, &m, h, (int32_t)out.n++);
            continue;
        }
        pq_series_t *d = &out.s[k];
        for (size_t j = 0; j < ev->n_steps; j++) {
            if (!s->ok[j]) continue;
            if (d->ok[j])
                trn__pq_fail(ev, TRN_EEXEC, "vector cannot contain metrics with the same labelset");
            d->ok[j] = 1;
            d->v[j] = s->v[j];
        }
    }
    return out;
}

static pq_vec_t eval_label_join(pq_ev_t *ev, const pq_expr_t *e, pq_vec_t in)
{
    trn_str_t dst = strarg(e->args[1]), sep = strarg(e->args[2]);
    for (size_t k = 3; k < e->n_args; k++) {
        trn_str_t s = strarg(e->args[k]);
        if (!s.len || !trn_utf8_valid(s.p, s.len))
            trn__pq_fail(ev, TRN_EEXEC, "invalid source label name in label_join(): %.*s",
                         (int)s.len, s.p);
    }
    if (!dst.len || !trn_utf8_valid(dst.p, dst.len))
        trn__pq_fail(ev, TRN_EEXEC, "invalid destination label name in label_join(): %.*s",
                     (int)dst.len, dst.p);
    for (size_t si = 0; si < in.n; si++) {
        pq_series_t *s = &in.s[si];
        size_t total = 0;
        for (size_t k = 3; k < e->n_args; k++) {
            trn_str_t v = {0};
            for (size_t j = 0; j < s->labels.n; j++)
                if (trn_str_eq(s->labels.v[j].name, strarg(e->args[k]))) v = s->labels.v[j].value;
            total += v.len + sep.len;
        }
        char *buf = trn__pq_alloc(ev, total + 1);
        size_t w = 0;
        for (size_t k = 3; k < e->n_args; k++) {
            if (k > 3) {
                memcpy(buf + w, sep.p, sep.len);
                w += sep.len;
            }
            for (size_t j = 0; j < s->labels.n; j++)
                if (trn_str_eq(s->labels.v[j].name, strarg(e->args[k]))) {
                    memcpy(buf + w, s->labels.v[j].value.p, s->labels.v[j].value.len);
                    w += s->labels.v[j].value.len;
                }
        }
        s->labels = trn__pq_labels_set(ev, s->labels, dst, (trn_str_t){buf, w});
        if (trn_str_eqc(dst, TRN_METRIC_NAME)) s->drop_name = false;
    }
    return in;
}

/* histogram_quantile over classic buckets. */
typedef struct bucket {
    double ub, count;
} bucket_t;

static bool almost_equal(double a, double b, double eps)
{
    if (isnan(a) && isnan(b)) return true;
    if (a == b) return true;
    double abs_sum = fabs(a) + fabs(b);
    double diff = fabs(a - b);
    const double min_normal = 2.2250738585072014e-308;
    if (a == 0 || b == 0 || abs_sum < min_normal) return diff < eps * min_normal;
    return diff / fmin(abs_sum, 1.7976931348623157e308) < eps;
}

static double bucket_quantile(double q, bucket_t *b, size_t n, bool *forced)
{
    *forced = false;
    if (isnan(q)) return NAN;
    if (q < 0) return -INFINITY;
    if (q > 1) return INFINITY;
    for (size_t i = 1; i < n; i++) { /* insertion sort by upper bound */
        bucket_t x = b[i];
        size_t j = i;
        while (j > 0 && b[j - 1].ub > x.ub) {
            b[j] = b[j - 1];
            j--;
        }
        b[j] = x;
    }
    if (!isinf(b[n - 1].ub) || b[n - 1].ub < 0) return NAN;
    /* coalesce equal bounds */
    size_t k = 0;
    for (size_t i = 1; i < n; i++) {
        if (b[i].ub == b[k].ub)
            b[k].count += b[i].count;
        else
            b[++k] = b[i];
    }
    n = k + 1;
    double prev = b[0].count;
    for (size_t i = 1; i < n; i++) {
        double cur = b[i].count;
        if (cur == prev) continue;
        if (almost_equal(prev, cur, 1e-12)) {
            b[i].count = prev;
            continue;
        }
        if (cur < prev) {
            b[i].count = prev;
            *forced = true;
            continue;
        }
        prev = cur;
    }
    if (n < 2) return NAN;
    double obs = b[n - 1].count;
    if (obs == 0) return NAN;
    double rank = q * obs;
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t m = (lo + hi) / 2;
        if (b[m].count >= rank)
            hi = m;
        else
            lo = m + 1;
    }
    size_t bi = lo;
    if (bi == n - 1) return b[n - 2].ub;
    if (bi == 0 && b[0].ub <= 0) return b[0].ub;
    double bstart = 0, bend = b[bi].ub, count = b[bi].count;
    if (bi > 0) {
        bstart = b[bi - 1].ub;
        count -= b[bi - 1].count;
        rank -= b[bi - 1].count;
    }
    return bstart + (bend - bstart) * (rank / count);
}

static bool parse_le(trn_str_t s, double *out)
{
    if (!s.p || !s.len || s.len > 60) return false;
    char buf[64];
    memcpy(buf, s.p, s.len);
    buf[s.len] = 0;
    char *end;
    const char *p = buf;
    if (!strcmp(p, "+Inf") || !strcmp(p, "Inf") || !strcmp(p, "inf") || !strcmp(p, "+inf")) {
        *out = INFINITY;
        return true;
    }
    if (!strcmp(p, "-Inf") || !strcmp(p, "-inf")) {
        *out = -INFINITY;
        return true;
    }
    if (!strcasecmp(p, "nan")) {
        *out = NAN;
        return true;
    }
    double v = strtod(p, &end);
    if (*end || end == p) return false;
    for (const char *c = p; *c; c++)
        if ((*c == 'x' || *c == 'X' || *c == 'p' || *c == 'P' || *c == 'n' || *c == 'N' ||
             *c == 'i' || *c == 'I')) {
            if (*c != 'x' && *c != 'X') return false;
        }
    *out = v;
    return true;
}

static pq_vec_t eval_histogram_quantile(pq_ev_t *ev, const pq_expr_t *e, const double *q,
                                        pq_vec_t in)
{
    pq_vec_t out = {0};
    /* group: series labels without le */
    int32_t *grp = trn__pq_alloc(ev, (in.n ? in.n : 1) * sizeof *grp);
    double *ubs = trn__pq_alloc(ev, (in.n ? in.n : 1) * sizeof *ubs);
    pq_lmap_t m;
    trn__pq_lmap_init(ev, &m, in.n);
    for (size_t si = 0; si < in.n; si++) {
        pq_series_t *s = &in.s[si];
        trn_str_t le = trn_labels_get(&s->labels, "le");
        if (!parse_le(le, &ubs[si]) || isnan(ubs[si])) {
            trn_str_t name = trn_labels_get(&s->labels, TRN_METRIC_NAME);
            bool any = false;
            for (size_t i = 0; i < ev->n_steps; i++)
                any |= s->ok[i];
            if (any) {
                if (name.len)
                    trn__pq_warn(ev, e->args[1],
                                 "bucket label \"le\" is missing or has a malformed value of "
                                 "\"%.*s\" for metric name \"%.*s\"",
                                 (int)le.len, le.p ? le.p : "", (int)name.len, name.p);
                else
                    trn__pq_warn(
                        ev, e->args[1],
                        "bucket label \"le\" is missing or has a malformed value of \"%.*s\"",
                        (int)le.len, le.p ? le.p : "");
            }
            grp[si] = -1;
            continue;
        }
        trn_labels_t ls = trn__pq_labels_set(ev, s->labels, TRN_STR("le"), (trn_str_t){0});
        pq_series_t *o = trn__pq_out_series(ev, &out, &m, ls, true);
        grp[si] = (int32_t)(o - out.s);
    }
    bucket_t *bk = trn__pq_alloc(ev, (in.n ? in.n : 1) * sizeof *bk);
    size_t ng = out.n;
    size_t *cnt = trn__pq_alloc(ev, (ng ? ng : 1) * sizeof *cnt);
    size_t *off = trn__pq_alloc(ev, (ng ? ng : 1) * sizeof *off);
    for (size_t i = 0; i < ev->n_steps; i++) {
        if (isnan(q[i]) || q[i] < 0 || q[i] > 1) {
            char b[40];
            fmt_g(b, sizeof b, q[i]);
            trn__pq_warn(ev, e->args[0], "quantile value should be between 0 and 1, got %s", b);
        }
        memset(cnt, 0, ng * sizeof *cnt);
        for (size_t si = 0; si < in.n; si++)
            if (grp[si] >= 0 && in.s[si].ok[i]) cnt[grp[si]]++;
        size_t o = 0;
        for (size_t g = 0; g < ng; g++) {
            off[g] = o;
            o += cnt[g];
            cnt[g] = 0;
        }
        for (size_t si = 0; si < in.n; si++)
            if (grp[si] >= 0 && in.s[si].ok[i]) {
                size_t g = (size_t)grp[si];
                bk[off[g] + cnt[g]++] = (bucket_t){ubs[si], in.s[si].v[i]};
            }
        for (size_t g = 0; g < ng; g++) {
            if (!cnt[g]) continue;
            bool forced;
            double r = bucket_quantile(q[i], bk + off[g], cnt[g], &forced);
            if (forced) {
                trn_str_t name = trn_labels_get(&out.s[g].labels, TRN_METRIC_NAME);
                if (name.len)
                    trn__pq_info(
                        ev, e->args[1],
                        "input to histogram_quantile needed to be fixed for monotonicity (see "
                        "https://prometheus.io/docs/prometheus/latest/querying/functions/"
                        "#histogram_quantile) for metric name \"%.*s\"",
                        (int)name.len, name.p);
                else
                    trn__pq_info(
                        ev, e->args[1],
                        "input to histogram_quantile needed to be fixed for monotonicity (see "
                        "https://prometheus.io/docs/prometheus/latest/querying/functions/"
                        "#histogram_quantile)");
            }
            out.s[g].v[i] = r;
            out.s[g].ok[i] = 1;
        }
    }
    size_t k = 0;
    for (size_t g = 0; g < out.n; g++) {
        bool any = false;
        for (size_t i = 0; i < ev->n_steps && !any; i++)
            any = out.s[g].ok[i];
        if (any) out.s[k++] = out.s[g];
    }
    out.n = k;
    return out;
}

pq_val_t trn__pq_eval_call(pq_ev_t *ev, const pq_expr_t *e)
{
    pq_val_t r = {0};
    r.type = e->type;
    int id = e->func->id;
    size_t ns = ev->n_steps;
    for (size_t k = 0; k < e->n_args; k++)
        if (e->args[k]->type == TRN_PROMQL_MATRIX) {
            r.vec = eval_range_call(ev, e);
            return r;
        }
    switch (id) {
    case F_TIME:
    case F_PI:
    case F_START:
    case F_END:
    case F_STEP:
    case F_RANGE:
    case F_MIN_OF:
    case F_MAX_OF:
    case F_SCALAR: {
        r.scalar = trn__pq_alloc(ev, ns * sizeof(double));
        double *a = NULL, *b = NULL;
        pq_vec_t in = {0};
        if (id == F_MIN_OF || id == F_MAX_OF) {
            a = scalar_arg(ev, e->args[0]);
            b = scalar_arg(ev, e->args[1]);
        }
        if (id == F_SCALAR) in = trn__pq_eval(ev, e->args[0]).vec;
        for (size_t i = 0; i < ns; i++) {
            double v = 0;
            switch (id) {
            case F_TIME:
                v = (double)(ev->start + (int64_t)i * ev->step) / 1000.0;
                break;
            case F_PI:
                v = M_PI;
                break;
            case F_START:
                v = (double)ev->q_start / 1000.0;
                break;
            case F_END:
                v = (double)ev->q_end / 1000.0;
                break;
            case F_STEP:
                v = (double)ev->q_step / 1000.0;
                break;
            case F_RANGE:
                v = (double)(ev->q_end - ev->q_start) / 1000.0;
                break;
            case F_MIN_OF:
                v = fmin(a[i], b[i]);
                if (isnan(a[i]) || isnan(b[i])) v = NAN;
                break;
            case F_MAX_OF:
                v = fmax(a[i], b[i]);
                if (isnan(a[i]) || isnan(b[i])) v = NAN;
                break;
            case F_SCALAR: {
                size_t found = 0;
                for (size_t si = 0; si < in.n; si++)
                    if (in.s[si].ok[i]) {
                        found++;
                        v = in.s[si].v[i];
                    }
                if (found != 1) v = NAN;
                break;
            }
            }
            r.scalar[i] = v;
        }
        return r;
    }
    case F_VECTOR: {
        double *a = scalar_arg(ev, e->args[0]);
        pq_series_t *o = trn__pq_vec_add(ev, &r.vec, (trn_labels_t){NULL, 0}, false);
        for (size_t i = 0; i < ns; i++) {
            o->v[i] = a[i];
            o->ok[i] = 1;
        }
        return r;
    }
    case F_DAYS_IN_MONTH:
    case F_DAY_OF_MONTH:
    case F_DAY_OF_WEEK:
    case F_DAY_OF_YEAR:
    case F_HOUR:
    case F_MINUTE:
    case F_MONTH:
    case F_YEAR:
        if (e->n_args == 0) {
            pq_series_t *o = trn__pq_vec_add(ev, &r.vec, (trn_labels_t){NULL, 0}, false);
            for (size_t i = 0; i < ns; i++) {
                int64_t t = ev->start + (int64_t)i * ev->step;
                o->v[i] = date_fn(id, (double)(t / 1000));
                o->ok[i] = 1;
            }
            return r;
        }
        break;
    default:
        break;
    }

    if (id == F_TIMESTAMP) {
        const pq_expr_t *a = unparen(e->args[0]);
        if (a->kind == PQ_VSEL) {
            pq_vec_t in = trn__pq_eval_vsel_ts(ev, a);
            for (size_t si = 0; si < in.n; si++) {
                pq_series_t *s = &in.s[si];
                for (size_t i = 0; i < ns; i++)
                    if (s->ok[i]) s->v[i] = (double)s->ts[i] / 1000.0;
                s->drop_name = true;
                s->ts = NULL;
            }
            r.vec = in;
            return r;
        }
        pq_vec_t in = trn__pq_eval(ev, e->args[0]).vec;
        for (size_t si = 0; si < in.n; si++) {
            pq_series_t *s = &in.s[si];
            for (size_t i = 0; i < ns; i++)
                if (s->ok[i]) s->v[i] = (double)(ev->start + (int64_t)i * ev->step) / 1000.0;
            s->drop_name = true;
        }
        r.vec = in;
        return r;
    }
    if (id == F_HISTOGRAM_QUANTILE) {
        double *q = scalar_arg(ev, e->args[0]);
        pq_vec_t in = trn__pq_eval(ev, e->args[1]).vec;
        r.vec = eval_histogram_quantile(ev, e, q, in);
        return r;
    }
    if (id == F_HISTOGRAM_FRACTION) {
        (void)scalar_arg(ev, e->args[0]);
        (void)scalar_arg(ev, e->args[1]);
        (void)trn__pq_eval(ev, e->args[2]);
        return r; /* float samples are not histograms: empty */
    }
    if (id == F_HISTOGRAM_AVG || id == F_HISTOGRAM_COUNT || id == F_HISTOGRAM_SUM ||
        id == F_HISTOGRAM_STDDEV || id == F_HISTOGRAM_STDVAR) {
        (void)trn__pq_eval(ev, e->args[0]);
        return r;
    }

    pq_vec_t in = trn__pq_eval(ev, e->args[0]).vec;
    switch (id) {
    case F_ABSENT: {
        pq_series_t *o = NULL;
        const pq_expr_t *a = unparen(e->args[0]);
        trn_labels_t ls = {NULL, 0};
        if (a->kind == PQ_VSEL) {
            ls = absent_labels(ev, a);
        }
        for (size_t i = 0; i < ns; i++) {
            bool any = false;
            for (size_t si = 0; si < in.n && !any; si++)
                any = in.s[si].ok[i];
            if (any) continue;
            if (!o) o = trn__pq_vec_add(ev, &r.vec, ls, false);
            o->v[i] = 1;
            o->ok[i] = 1;
        }
        return r;
    }
    case F_LABEL_REPLACE:
        r.vec = merge_same(ev, eval_label_replace(ev, e, in));
        return r;
    case F_LABEL_JOIN:
        r.vec = merge_same(ev, eval_label_join(ev, e, in));
        return r;
    case F_SORT:
    case F_SORT_DESC:
    case F_SORT_BY_LABEL:
    case F_SORT_BY_LABEL_DESC: {
        if (ev->q_start != ev->q_end || ns > 1)
            trn__pq_warn(
                ev, e,
                "sort is ineffective for range queries since results are always ordered by labels");
        if (ns == 1) {
            /* instant: order by the (single) step's value / labels; insertion
             * sort keeps Go's order for equal keys on small inputs */
            size_t n_names = e->n_args - 1;
            trn_str_t *names = trn__pq_alloc(ev, (n_names ? n_names : 1) * sizeof *names);
            for (size_t k = 1; k < e->n_args; k++)
                names[k - 1] = strarg(e->args[k]);
            for (size_t a = 1; a < in.n; a++) {
                pq_series_t x = in.s[a];
                size_t b = a;
                while (b > 0) {
                    pq_series_t *y = &in.s[b - 1];
                    /* Go's sort.Reverse over Prometheus's value heaps: NaN sorts last */
                    bool less;
                    switch (id) {
                    case F_SORT:
                        less = isnan(y->v[0]) || y->v[0] > x.v[0];
                        break;
                    case F_SORT_DESC:
                        less = isnan(y->v[0]) || y->v[0] < x.v[0];
                        break;
                    case F_SORT_BY_LABEL:
                        less = by_label_cmp(&x, y, names, n_names) < 0;
                        break;
                    default:
                        less = by_label_cmp(&x, y, names, n_names) > 0;
                        break;
                    }
                    if (!less) break;
                    in.s[b] = in.s[b - 1];
                    b--;
                }
                in.s[b] = x;
            }
        }
        r.vec = in;
        return r;
    }
    default:
        break;
    }
    /* element-wise */
    double *a = NULL, *b = NULL;
    if (id == F_CLAMP) {
        a = scalar_arg(ev, e->args[1]);
        b = scalar_arg(ev, e->args[2]);
    } else if (id == F_CLAMP_MAX || id == F_CLAMP_MIN) {
        a = scalar_arg(ev, e->args[1]);
    } else if (id == F_ROUND) {
        if (e->n_args > 1) {
            a = scalar_arg(ev, e->args[1]);
        } else {
            a = trn__pq_alloc(ev, ns * sizeof *a);
            for (size_t i = 0; i < ns; i++)
                a[i] = 1;
        }
    }
    pq_vec_t out = {0};
    for (size_t si = 0; si < in.n; si++) {
        pq_series_t *s = &in.s[si];
        bool any = false;
        for (size_t i = 0; i < ns; i++) {
            if (!s->ok[i]) continue;
            if (id == F_CLAMP && b[i] < a[i]) {
                s->ok[i] = 0;
                continue;
            }
            s->v[i] = elem_fn(id, s->v[i], a ? a[i] : 0, b ? b[i] : 0);
            any = true;
        }
        s->drop_name = true;
        if (any) {
            if (out.n == out.cap) {
                size_t nc = out.cap ? out.cap * 2 : 8;
                pq_series_t *nsr =
                    trn_arena_grow(ev->a, out.s, out.cap * sizeof *nsr, nc * sizeof *nsr);
                if (!nsr)
                    trn__pq_fail(ev, TRN_ELIMIT, "query processing would use too much memory");
                out.s = nsr;
                out.cap = nc;
            }
            out.s[out.n++] = *s;
        }
    }
    r.vec = out;
    return r;
}
