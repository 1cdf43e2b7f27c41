/* SPDX-License-Identifier: Apache-2.0 */
/* PromQL evaluation: selectors, subqueries, operators and the two entry
 * points (instant and range queries).
 *
 * Evaluation is series-at-a-time across all steps. Each node returns a step
 * matrix (eval_int.h): for a vector selector, every matching series is
 * decoded once over the union of all its step windows and then each step
 * picks the newest sample in (t - lookback, t]; for a range-vector argument
 * the series' samples are decoded once and each step's window (t - range, t]
 * is located with binary searches, so a 11,000-step query still decodes
 * every chunk once. Selectors open their own querier for exactly the time
 * range they need and push their matchers to the index. Scratch memory for
 * decoded samples is released per series with arena marks.
 *
 * Binary operators match series by their signature once per node (labels
 * are fixed per series for the whole query) and then combine per step;
 * duplicate detection (many-to-many errors) is per step, as Prometheus does
 * it. Metric names are removed late ("delayed name removal", the mode
 * Prometheus's own test suite runs in): functions mark series drop_name and
 * the names go when the result is returned; series that then collide are an
 * error if they overlap in time and are merged otherwise.
 *
 * Errors longjmp back to the entry point; the arena owns everything. */
#include "metrics/promql/eval_int.h"

#include "core/err.h"
#include "core/timefmt.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- infrastructure ----------------------------------------------------- */

_Noreturn void trn__pq_fail(pq_ev_t *ev, int code, const char *fmt, ...)
{
    char msg[TRN_DIAG_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    trn_diag_set(ev->d, code, -1, "%s", msg);
    longjmp(*ev->jb, 1);
}

static void add_anno(pq_ev_t *ev, bool warn, const pq_expr_t *e, const char *fmt, va_list ap)
{
    char msg[700];
    int n = snprintf(msg, sizeof msg, "%s: ", warn ? "PromQL warning" : "PromQL info");
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    if (e && ev->qtext) {
        int line, col;
        trn__pq_linecol(ev->qtext, ev->qlen, e->pos, &line, &col);
        size_t l = strlen(msg);
        snprintf(msg + l, sizeof msg - l, " (%d:%d)", line, col);
    }
    const char ***arr = warn ? &ev->warns : &ev->infos;
    size_t *n_arr = warn ? &ev->n_warns : &ev->n_infos;
    size_t *cap = warn ? &ev->cap_warns : &ev->cap_infos;
    for (size_t i = 0; i < *n_arr; i++)
        if (strcmp((*arr)[i], msg) == 0) return;
    if (*n_arr == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        const char **na = trn_arena_grow(ev->a, (void *)*arr, *cap * sizeof *na, nc * sizeof *na);
        if (!na) return;
        *arr = na;
        *cap = nc;
    }
    char *s = trn_arena_strndup(ev->a, msg, strlen(msg));
    if (s) (*arr)[(*n_arr)++] = s;
}

void trn__pq_warn(pq_ev_t *ev, const pq_expr_t *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_anno(ev, true, e, fmt, ap);
    va_end(ap);
}

void trn__pq_info(pq_ev_t *ev, const pq_expr_t *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_anno(ev, false, e, fmt, ap);
    va_end(ap);
}

void *trn__pq_alloc(pq_ev_t *ev, size_t n)
{
    void *p = trn_arena_alloc(ev->a, n ? n : 1);
    if (!p)
        trn__pq_fail(ev, TRN_ELIMIT,
                     "query processing would use too much memory (query byte budget exhausted)");
    return p;
}

static void *pq_calloc(pq_ev_t *ev, size_t k, size_t n)
{
    void *p = trn_arena_calloc(ev->a, k ? k : 1, n ? n : 1);
    if (!p)
        trn__pq_fail(ev, TRN_ELIMIT,
                     "query processing would use too much memory (query byte budget exhausted)");
    return p;
}

void trn__pq_check(pq_ev_t *ev)
{
    if (ev->is_canceled && ev->is_canceled(ev->cancel_ctx))
        trn__pq_fail(ev, TRN_ECANCELED, "query was canceled in expression evaluation");
    if (ev->deadline_ns && trn_mono_ns() > ev->deadline_ns)
        trn__pq_fail(ev, TRN_ETIMEOUT, "query timed out in expression evaluation");
}

void trn__pq_charge(pq_ev_t *ev, uint64_t n)
{
    ev->cur_samples += n;
    if (ev->cur_samples > ev->peak_samples) ev->peak_samples = ev->cur_samples;
    if (ev->max_samples && ev->cur_samples > ev->max_samples)
        trn__pq_fail(ev, TRN_ELIMIT,
                     "query processing would load too many samples into memory in query execution");
}

pq_series_t *trn__pq_vec_add(pq_ev_t *ev, pq_vec_t *v, trn_labels_t labels, bool drop_name)
{
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 8;
        pq_series_t *ns = trn_arena_grow(ev->a, v->s, v->cap * sizeof *ns, nc * sizeof *ns);
        if (!ns) trn__pq_fail(ev, TRN_ELIMIT, "query processing would use too much memory");
        v->s = ns;
        v->cap = nc;
    }
    pq_series_t *s = &v->s[v->n++];
    s->labels = labels;
    s->v = pq_calloc(ev, ev->n_steps, sizeof(double));
    s->ok = pq_calloc(ev, ev->n_steps, 1);
    s->ts = NULL;
    s->drop_name = drop_name;
    return s;
}

trn_labels_t trn__pq_labels_drop_name(pq_ev_t *ev, trn_labels_t ls)
{
    size_t k = 0;
    for (size_t i = 0; i < ls.n; i++)
        if (trn_str_eqc(ls.v[i].name, TRN_METRIC_NAME)) k++;
    if (!k) return ls;
    trn_labels_t r = {pq_calloc(ev, ls.n, sizeof(trn_label_t)), 0};
    for (size_t i = 0; i < ls.n; i++)
        if (!trn_str_eqc(ls.v[i].name, TRN_METRIC_NAME)) r.v[r.n++] = ls.v[i];
    return r;
}

trn_labels_t trn__pq_labels_set(pq_ev_t *ev, trn_labels_t ls, trn_str_t name, trn_str_t value)
{
    trn_labels_t r = {pq_calloc(ev, ls.n + 1, sizeof(trn_label_t)), 0};
    bool placed = false;
    for (size_t i = 0; i < ls.n; i++) {
        int c = trn_str_cmp(ls.v[i].name, name);
        if (c == 0) {
            if (value.len) r.v[r.n++] = (trn_label_t){name, value};
            placed = true;
            continue;
        }
        if (c > 0 && !placed) {
            if (value.len) r.v[r.n++] = (trn_label_t){name, value};
            placed = true;
        }
        r.v[r.n++] = ls.v[i];
    }
    if (!placed && value.len) r.v[r.n++] = (trn_label_t){name, value};
    return r;
}

void trn__pq_lmap_init(pq_ev_t *ev, pq_lmap_t *m, size_t hint)
{
    size_t cap = 16;
    while (cap < hint * 2 + 2)
        cap *= 2;
    m->cap = cap;
    m->n = 0;
    m->hashes = trn__pq_alloc(ev, cap * sizeof *m->hashes);
    m->idx = trn__pq_alloc(ev, cap * sizeof *m->idx);
    for (size_t i = 0; i < cap; i++)
        m->idx[i] = -1;
}

int32_t trn__pq_lmap_find(const pq_lmap_t *m, const pq_vec_t *vec, const trn_labels_t *ls,
                          uint64_t h)
{
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (m->idx[i] < 0) return -1;
        if (m->hashes[i] == h && trn_labels_equal(&vec->s[m->idx[i]].labels, ls)) return m->idx[i];
    }
}

void trn__pq_lmap_put(pq_ev_t *ev, pq_lmap_t *m, uint64_t h, int32_t idx)
{
    if ((m->n + 1) * 2 > m->cap) {
        pq_lmap_t nm;
        nm.cap = m->cap * 2;
        nm.n = 0;
        nm.hashes = trn__pq_alloc(ev, nm.cap * sizeof *nm.hashes);
        nm.idx = trn__pq_alloc(ev, nm.cap * sizeof *nm.idx);
        for (size_t i = 0; i < nm.cap; i++)
            nm.idx[i] = -1;
        for (size_t i = 0; i < m->cap; i++)
            if (m->idx[i] >= 0) {
                size_t j = m->hashes[i] & (nm.cap - 1);
                while (nm.idx[j] >= 0)
                    j = (j + 1) & (nm.cap - 1);
                nm.hashes[j] = m->hashes[i];
                nm.idx[j] = m->idx[i];
                nm.n++;
            }
        *m = nm;
    }
    size_t j = h & (m->cap - 1);
    while (m->idx[j] >= 0)
        j = (j + 1) & (m->cap - 1);
    m->hashes[j] = h;
    m->idx[j] = idx;
    m->n++;
}

pq_series_t *trn__pq_out_series(pq_ev_t *ev, pq_vec_t *out, pq_lmap_t *m, trn_labels_t ls,
                                bool drop_name)
{
    uint64_t h = trn_labels_hash(&ls);
    int32_t i = trn__pq_lmap_find(m, out, &ls, h);
    if (i >= 0) return &out->s[i];
    pq_series_t *s = trn__pq_vec_add(ev, out, ls, drop_name);
    trn__pq_lmap_put(ev, m, h, (int32_t)(out->n - 1));
    return s;
}

double trn__pq_quantile(double q, double *vals, size_t n)
{
    if (n == 0 || isnan(q)) return NAN;
    if (q < 0) return -INFINITY;
    if (q > 1) return INFINITY;
    /* insertion sort with NaN first, as Prometheus's Less puts NaN lowest */
    for (size_t i = 1; i < n; i++) {
        double x = vals[i];
        size_t j = i;
        while (j > 0 &&
               (isnan(x) ? !isnan(vals[j - 1]) : (!isnan(vals[j - 1]) && x < vals[j - 1]))) {
            vals[j] = vals[j - 1];
            j--;
        }
        vals[j] = x;
    }
    double rank = q * (double)(n - 1);
    double lo = fmax(0, floor(rank));
    double hi = fmin((double)n - 1, lo + 1);
    double w = rank - floor(rank);
    return vals[(size_t)lo] * (1 - w) + vals[(size_t)hi] * w;
}

/* ---- selectors ------------------------------------------------------------ */

static int64_t step_time(const pq_ev_t *ev, size_t i)
{
    return ev->start + (int64_t)i * ev->step;
}

/* The time a selector is evaluated at for step i: @ pins it, offset shifts it. */
static int64_t sel_time(const pq_ev_t *ev, const pq_expr_t *h, size_t i)
{
    int64_t t;
    switch (h->at_kind) {
    case AT_TS:
        t = h->at_ms;
        break;
    case AT_START:
        t = ev->q_start;
        break;
    case AT_END:
        t = ev->q_end;
        break;
    default:
        t = step_time(ev, i);
        break;
    }
    return t - h->offset_ms;
}

typedef struct fetched {
    trn_querier_t *q;
    trn_series_t *series;
    size_t n;
} fetched_t;

static void fetch_open(pq_ev_t *ev, const pq_expr_t *vs, int64_t mint, int64_t maxt, fetched_t *f)
{
    f->q = NULL;
    f->series = NULL;
    f->n = 0;
    if (!ev->st || maxt < mint) return;
    if (trn_store_querier(ev->st, mint, maxt, &f->q) < 0)
        trn__pq_fail(ev, TRN_EEXEC, "cannot open a querier on the metrics store");
    TRN_ASSERT(ev->qt->n < (int)(sizeof ev->qt->q / sizeof ev->qt->q[0]));
    ev->qt->q[ev->qt->n++] = f->q;
    trn_diag_t sd;
    trn_diag_init(&sd);
    int rc = trn_querier_select(f->q, vs->ms, vs->n_ms, ev->a, &f->series, &f->n, &sd);
    if (rc < 0) {
        trn__pq_fail(ev, rc == TRN_ELIMIT ? TRN_ELIMIT : TRN_EEXEC, "%s",
                     sd.msg[0] ? sd.msg : "selecting series failed");
    }
}

/* Closes a querier opened by fetch_open and forgets it. NULL allowed. */
static void close_q(pq_ev_t *ev, trn_querier_t *q)
{
    if (!q) return;
    for (int i = 0; i < ev->qt->n; i++)
        if (ev->qt->q[i] == q) {
            ev->qt->q[i] = ev->qt->q[--ev->qt->n];
            break;
        }
    trn_querier_close(q);
}

/* Upper bound: first index with t > x. */
static size_t ub(const trn_sample_t *p, size_t n, int64_t x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p[mid].t_ms <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static pq_vec_t eval_vsel(pq_ev_t *ev, const pq_expr_t *e, bool want_ts)
{
    pq_vec_t out = {0};
    int64_t *eff = trn__pq_alloc(ev, ev->n_steps * sizeof *eff);
    int64_t mint = INT64_MAX, maxt = INT64_MIN;
    for (size_t i = 0; i < ev->n_steps; i++) {
        eff[i] = sel_time(ev, e, i);
        if (eff[i] - ev->lookback_ms + 1 < mint) mint = eff[i] - ev->lookback_ms + 1;
        if (eff[i] > maxt) maxt = eff[i];
    }
    fetched_t f;
    fetch_open(ev, e, mint, maxt, &f);
    for (size_t si = 0; si < f.n; si++) {
        trn__pq_check(ev);
        trn_arena_mark_t m0 = trn_arena_mark(ev->a);
        double *v = pq_calloc(ev, ev->n_steps, sizeof *v);
        uint8_t *ok = pq_calloc(ev, ev->n_steps, 1);
        int64_t *ts = want_ts ? pq_calloc(ev, ev->n_steps, sizeof *ts) : NULL;
        trn_arena_mark_t m1 = trn_arena_mark(ev->scratch);
        trn_sample_t *pts = NULL;
        size_t np = 0;
        if (trn_querier_samples(f.q, &f.series[si], mint, maxt, ev->scratch, &pts, &np) < 0) {
            trn__pq_fail(ev, TRN_ELIMIT, "query processing would use too much memory");
        }
        ev->samples_read += np;
        size_t any = 0;
        for (size_t i = 0; i < ev->n_steps; i++) {
            size_t k = ub(pts, np, eff[i]);
            if (k == 0) continue;
            const trn_sample_t *s = &pts[k - 1];
            if (s->t_ms <= eff[i] - ev->lookback_ms) continue;
            if (trn_is_stale_nan(s->v)) continue;
            v[i] = s->v;
            ok[i] = 1;
            if (ts) ts[i] = s->t_ms;
            any++;
        }
        trn_arena_reset(ev->scratch, m1);
        if (!any) {
            trn_arena_reset(ev->a, m0);
            continue;
        }
        trn_labels_t ls;
        if (trn_labels_copy(ev->a, &f.series[si].labels, &ls) < 0) {
            trn__pq_fail(ev, TRN_ELIMIT, "query processing would use too much memory");
        }
        if (out.n == out.cap) {
            size_t nc = out.cap ? out.cap * 2 : 8;
            pq_series_t *ns = trn_arena_grow(ev->a, out.s, out.cap * sizeof *ns, nc * sizeof *ns);
            if (!ns) {
                trn__pq_fail(ev, TRN_ELIMIT, "query processing would use too much memory");
            }
            out.s = ns;
            out.cap = nc;
        }
        out.s[out.n++] = (pq_series_t){.labels = ls, .v = v, .ok = ok, .ts = ts};
        trn__pq_charge(ev, any);
    }
    close_q(ev, f.q);
    return out;
}

/* Range-vector argument: per-series callback over all samples. */
typedef void range_cb(pq_ev_t *ev, void *ctx, const pq_rseries_t *rs);

static void for_each_range_series(pq_ev_t *ev, const pq_expr_t *e, int64_t *ends, int64_t *range_ms,
                                  range_cb *cb, void *ctx, bool keep)
{
    while (e->kind == PQ_PAREN)
        e = e->inner;
    if (e->kind == PQ_MSEL) {
        const pq_expr_t *vs = e->inner;
        *range_ms = e->range_ms;
        int64_t mint = INT64_MAX, maxt = INT64_MIN;
        for (size_t i = 0; i < ev->n_steps; i++) {
            ends[i] = sel_time(ev, vs, i);
            if (ends[i] - e->range_ms + 1 < mint) mint = ends[i] - e->range_ms + 1;
            if (ends[i] > maxt) maxt = ends[i];
        }
        fetched_t f;
        fetch_open(ev, vs, mint, maxt, &f);
        for (size_t si = 0; si < f.n; si++) {
            trn__pq_check(ev);
            trn_arena_mark_t m = trn_arena_mark(ev->scratch);
            trn_sample_t *pts = NULL;
            size_t np = 0;
            if (trn_querier_samples(f.q, &f.series[si], mint, maxt, keep ? ev->a : ev->scratch,
                                    &pts, &np) < 0) {
                trn__pq_fail(ev, TRN_ELIMIT, "query processing would use too much memory");
            }
            ev->samples_read += np;
            size_t k = 0;
            for (size_t j = 0; j < np; j++)
                if (!trn_is_stale_nan(pts[j].v)) pts[k++] = pts[j];
            if (k) {
                pq_rseries_t rs = {.labels = f.series[si].labels, .pts = pts, .n = k};
                trn__pq_charge(ev, k);
                cb(ev, ctx, &rs);
                ev->cur_samples -= k;
            }
            if (!keep) trn_arena_reset(ev->scratch, m);
        }
        close_q(ev, f.q);
        return;
    }
    TRN_ASSERT(e->kind == PQ_SUBQ);
    *range_ms = e->range_ms;
    int64_t mine = INT64_MAX, maxe = INT64_MIN;
    for (size_t i = 0; i < ev->n_steps; i++) {
        ends[i] = sel_time(ev, e, i);
        if (ends[i] < mine) mine = ends[i];
        if (ends[i] > maxe) maxe = ends[i];
    }
    int64_t step = e->step_ms ? e->step_ms : ev->subq_step_ms;
    int64_t lo = mine - e->range_ms;
    int64_t start = step * (lo / step);
    if (start <= lo) start += step;
    pq_ev_t child = *ev;
    child.start = start;
    child.end = maxe;
    child.step = step;
    if (maxe < start) return;
    child.n_steps = (size_t)((maxe - start) / step) + 1;
    if (child.n_steps > 50000000) trn__pq_fail(ev, TRN_ELIMIT, "subquery has too many steps");
    pq_val_t in = trn__pq_eval(&child, e->inner);
    /* propagate what the child accumulated */
    ev->warns = child.warns;
    ev->n_warns = child.n_warns;
    ev->cap_warns = child.cap_warns;
    ev->infos = child.infos;
    ev->n_infos = child.n_infos;
    ev->cap_infos = child.cap_infos;
    ev->samples_read = child.samples_read;
    ev->peak_samples = child.peak_samples;
    pq_vec_t *vec = &in.vec;
    for (size_t si = 0; si < vec->n; si++) {
        trn__pq_check(ev);
        trn_arena_mark_t m = trn_arena_mark(ev->scratch);
        pq_series_t *s = &vec->s[si];
        size_t cnt = 0;
        for (size_t j = 0; j < child.n_steps; j++)
            cnt += s->ok[j];
        if (cnt) {
            trn_sample_t *pts = trn_arena_alloc(keep ? ev->a : ev->scratch, cnt * sizeof *pts);
            if (!pts) trn__pq_fail(ev, TRN_ELIMIT, "query processing would use too much memory");
            size_t k = 0;
            for (size_t j = 0; j < child.n_steps; j++)
                if (s->ok[j]) pts[k++] = (trn_sample_t){start + (int64_t)j * step, s->v[j]};
            pq_rseries_t rs = {.labels = s->labels, .pts = pts, .n = k, .drop_name = s->drop_name};
            cb(ev, ctx, &rs);
        }
        if (!keep) trn_arena_reset(ev->scratch, m);
    }
    ev->cur_samples = child.cur_samples;
}

/* Collects whole range series (for a bare range vector in an instant query). */
typedef struct collect_ctx {
    pq_rseries_t *v;
    size_t n, cap;
    int64_t lo, hi;
} collect_ctx_t;

static void collect_cb(pq_ev_t *ev, void *vctx, const pq_rseries_t *rs)
{
    collect_ctx_t *c = vctx;
    size_t a = 0, b = rs->n;
    while (a < b && rs->pts[a].t_ms <= c->lo)
        a++;
    while (b > a && rs->pts[b - 1].t_ms > c->hi)
        b--;
    if (a == b) return;
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 8;
        pq_rseries_t *nv = trn_arena_grow(ev->a, c->v, c->cap * sizeof *nv, nc * sizeof *nv);
        if (!nv) trn__pq_fail(ev, TRN_ELIMIT, "query processing would use too much memory");
        c->v = nv;
        c->cap = nc;
    }
    /* labels may be borrowed from a querier that closes soon: copy them */
    trn_labels_t ls;
    if (trn_labels_copy(ev->a, &rs->labels, &ls) < 0)
        trn__pq_fail(ev, TRN_ELIMIT, "query processing would use too much memory");
    c->v[c->n].n = b - a;
    c->v[c->n].drop_name = rs->drop_name;
    c->v[c->n].labels = ls;
    c->v[c->n].pts = (trn_sample_t *)(rs->pts + a);
    c->n++;
}

/* ---- binary operators ------------------------------------------------------ */

static double scalar_op(pq_binop_t op, double l, double r, bool *keep)
{
    *keep = true;
    switch (op) {
    case OP_ADD:
        return l + r;
    case OP_SUB:
        return l - r;
    case OP_MUL:
        return l * r;
    case OP_DIV:
        return l / r;
    case OP_POW:
        return pow(l, r);
    case OP_MOD:
        return fmod(l, r);
    case OP_ATAN2:
        return atan2(l, r);
    case OP_EQLC:
        *keep = l == r;
        return l;
    case OP_NEQ:
        *keep = l != r;
        return l;
    case OP_GTR:
        *keep = l > r;
        return l;
    case OP_LSS:
        *keep = l < r;
        return l;
    case OP_GTE:
        *keep = l >= r;
        return l;
    case OP_LTE:
        *keep = l <= r;
        return l;
    default:
        return NAN;
    }
}

static bool is_arith(pq_binop_t op)
{
    return op == OP_ADD || op == OP_SUB || op == OP_MUL || op == OP_DIV || op == OP_POW ||
           op == OP_MOD || op == OP_ATAN2;
}

static pq_vec_t vec_scalar(pq_ev_t *ev, const pq_expr_t *e, pq_vec_t *vec, const double *sc,
                           bool swap)
{
    pq_vec_t out = {0};
    bool cmp = trn__pq_binop_is_comparison(e->op);
    for (size_t si = 0; si < vec->n; si++) {
        pq_series_t *in = &vec->s[si];
        bool dn = in->drop_name || is_arith(e->op) || e->return_bool;
        pq_series_t *o = NULL;
        for (size_t i = 0; i < ev->n_steps; i++) {
            if (!in->ok[i]) continue;
            double l = in->v[i], r = sc[i];
            if (swap) {
                double t = l;
                l = r;
                r = t;
            }
            bool keep;
            double v = scalar_op(e->op, l, r, &keep);
            if (cmp && swap) v = r;
            if (e->return_bool) {
                v = keep ? 1.0 : 0.0;
                keep = true;
            }
            if (!keep) continue;
            if (!o) o = trn__pq_vec_add(ev, &out, in->labels, dn);
            o->v[i] = v;
            o->ok[i] = 1;
        }
    }
    return out;
}

static bool str_in(const trn_str_t *v, size_t n, trn_str_t s)
{
    for (size_t i = 0; i < n; i++)
        if (trn_str_eq(v[i], s)) return true;
    return false;
}

/* Signature of a series for matching: on(labels) keeps those, ignoring drops
 * them and __name__. Returned as a label set (borrowing strings). */
static trn_labels_t match_sig(pq_ev_t *ev, const pq_expr_t *e, const trn_labels_t *ls)
{
    trn_labels_t r = {pq_calloc(ev, ls->n ? ls->n : 1, sizeof(trn_label_t)), 0};
    for (size_t i = 0; i < ls->n; i++) {
        bool in = str_in(e->match_labels, e->n_match_labels, ls->v[i].name);
        if (e->on) {
            if (in) r.v[r.n++] = ls->v[i];
        } else {
            if (!in && !trn_str_eqc(ls->v[i].name, TRN_METRIC_NAME)) r.v[r.n++] = ls->v[i];
        }
    }
    return r;
}

/* Assigns every series of both sides a signature ordinal. */
static void sig_ordinals(pq_ev_t *ev, const pq_expr_t *e, pq_vec_t *l, pq_vec_t *r, int32_t **lo,
                         int32_t **ro, size_t *n_sigs, trn_labels_t **sigs)
{
    size_t tot = l->n + r->n;
    pq_vec_t sv = {0};
    sv.s = pq_calloc(ev, tot ? tot : 1, sizeof(pq_series_t));
    sv.cap = tot;
    pq_lmap_t m;
    trn__pq_lmap_init(ev, &m, tot);
    *lo = pq_calloc(ev, l->n ? l->n : 1, sizeof(int32_t));
    *ro = pq_calloc(ev, r->n ? r->n : 1, sizeof(int32_t));
    for (int side = 0; side < 2; side++) {
        pq_vec_t *v = side ? r : l;
        int32_t *o = side ? *ro : *lo;
        for (size_t i = 0; i < v->n; i++) {
            trn_labels_t sig = match_sig(ev, e, &v->s[i].labels);
            uint64_t h = trn_labels_hash(&sig);
            int32_t k = trn__pq_lmap_find(&m, &sv, &sig, h);
            if (k < 0) {
                k = (int32_t)sv.n;
                sv.s[sv.n++].labels = sig;
                trn__pq_lmap_put(ev, &m, h, k);
            }
            o[i] = k;
        }
    }
    *n_sigs = sv.n;
    *sigs = pq_calloc(ev, sv.n ? sv.n : 1, sizeof(trn_labels_t));
    for (size_t i = 0; i < sv.n; i++)
        (*sigs)[i] = sv.s[i].labels;
}

static void fmt_labels(const trn_labels_t *ls, char *out, size_t cap)
{
    trn_buf_t b;
    trn_buf_init(&b);
    trn_labels_format(ls, &b);
    snprintf(out, cap, "%s", b.data ? b.data : "{}");
    trn_buf_fini(&b);
}

static trn_labels_t result_labels(pq_ev_t *ev, const pq_expr_t *e, const trn_labels_t *l,
                                  const trn_labels_t *r)
{
    trn_labels_t ls = *l;
    if (is_arith(e->op)) ls = trn__pq_labels_drop_name(ev, ls);
    if (e->card == CARD_ONE_TO_ONE) {
        trn_labels_t k = {pq_calloc(ev, ls.n ? ls.n : 1, sizeof(trn_label_t)), 0};
        for (size_t i = 0; i < ls.n; i++) {
            bool in = str_in(e->match_labels, e->n_match_labels, ls.v[i].name);
            if (e->on ? in : !in) k.v[k.n++] = ls.v[i];
        }
        ls = k;
    }
    for (size_t i = 0; i < e->n_include; i++) {
        trn_str_t v = {0};
        for (size_t j = 0; j < r->n; j++)
            if (trn_str_eq(r->v[j].name, e->include[i])) v = r->v[j].value;
        ls = trn__pq_labels_set(ev, ls, e->include[i], v);
    }
    return ls;
}

static pq_vec_t vec_vec(pq_ev_t *ev, const pq_expr_t *e, pq_vec_t *lv, pq_vec_t *rv)
{
    pq_vec_t out = {0};
    int32_t *lo, *ro;
    size_t n_sigs;
    trn_labels_t *sigs;
    sig_ordinals(ev, e, lv, rv, &lo, &ro, &n_sigs, &sigs);
    size_t ns = ev->n_steps;

    if (e->op == OP_AND || e->op == OP_UNLESS || e->op == OP_OR) {
        /* per step: which signatures are present on the other side */
        uint8_t *rpres = pq_calloc(ev, n_sigs ? n_sigs : 1, 1);
        uint8_t *lpres = pq_calloc(ev, n_sigs ? n_sigs : 1, 1);
        pq_series_t **lo_out = pq_calloc(ev, lv->n ? lv->n : 1, sizeof(pq_series_t *));
        pq_series_t **ro_out = pq_calloc(ev, rv->n ? rv->n : 1, sizeof(pq_series_t *));
        for (size_t i = 0; i < ns; i++) {
            memset(rpres, 0, n_sigs);
            memset(lpres, 0, n_sigs);
            size_t nl = 0, nr = 0;
            for (size_t j = 0; j < rv->n; j++)
                if (rv->s[j].ok[i]) {
                    rpres[ro[j]] = 1;
                    nr++;
                }
            for (size_t j = 0; j < lv->n; j++)
                if (lv->s[j].ok[i]) {
                    lpres[lo[j]] = 1;
                    nl++;
                }
            for (size_t j = 0; j < lv->n; j++) {
                if (!lv->s[j].ok[i]) continue;
                bool keep = e->op == OP_OR || (e->op == OP_AND ? rpres[lo[j]] : !rpres[lo[j]]);
                if (e->op == OP_AND && nr == 0) keep = false;
                if (!keep) continue;
                if (!lo_out[j])
                    lo_out[j] = trn__pq_vec_add(ev, &out, lv->s[j].labels, lv->s[j].drop_name);
                lo_out[j]->v[i] = lv->s[j].v[i];
                lo_out[j]->ok[i] = 1;
            }
            if (e->op == OP_OR)
                for (size_t j = 0; j < rv->n; j++) {
                    if (!rv->s[j].ok[i]) continue;
                    if (nl && lpres[ro[j]]) continue;
                    if (!ro_out[j])
                        ro_out[j] = trn__pq_vec_add(ev, &out, rv->s[j].labels, rv->s[j].drop_name);
                    ro_out[j]->v[i] = rv->s[j].v[i];
                    ro_out[j]->ok[i] = 1;
                }
        }
        return out;
    }

    /* arithmetic and comparisons */
    pq_vec_t *L = lv, *R = rv;
    int32_t *LO = lo, *RO = ro;
    if (e->card == CARD_ONE_TO_MANY) {
        L = rv;
        R = lv;
        LO = ro;
        RO = lo;
    }
    int32_t *rsel = pq_calloc(ev, n_sigs ? n_sigs : 1, sizeof(int32_t));
    uint8_t *matched = pq_calloc(ev, n_sigs ? n_sigs : 1, 1);
    pq_lmap_t omap;
    trn__pq_lmap_init(ev, &omap, L->n);
    /* per output series: the last step it was written at, to catch duplicates */
    size_t lastcap = 0;
    int64_t *last = NULL;
    /* result labels per left series, recomputed when its right partner changes */
    trn_labels_t **pair_ls = pq_calloc(ev, L->n ? L->n : 1, sizeof(trn_labels_t *));
    int32_t *pair_r = pq_calloc(ev, L->n ? L->n : 1, sizeof(int32_t));
    for (size_t j = 0; j < L->n; j++)
        pair_r[j] = -1;
    for (size_t i = 0; i < ns; i++) {
        trn__pq_check(ev);
        for (size_t k = 0; k < n_sigs; k++)
            rsel[k] = -1;
        memset(matched, 0, n_sigs);
        for (size_t j = 0; j < R->n; j++) {
            if (!R->s[j].ok[i]) continue;
            int32_t sg = RO[j];
            if (rsel[sg] >= 0) {
                char a[300], b[300], g[300];
                fmt_labels(&R->s[j].labels, a, sizeof a);
                fmt_labels(&R->s[rsel[sg]].labels, b, sizeof b);
                trn_labels_t mg = sigs[sg];
                if (!e->on) {
                    /* Prometheus prints the labels of the match group as the
                     * series' labels minus the ignored ones */
                    mg = match_sig(ev, e, &R->s[j].labels);
                }
                fmt_labels(&mg, g, sizeof g);
                const char *d1 = a, *d2 = b;
                if (strcmp(d1, d2) > 0) {
                    d1 = b;
                    d2 = a;
                }
                trn__pq_fail(ev, TRN_EEXEC,
                             "found duplicate series for the match group %s on the %s hand-side of "
                             "the operation: [%s, %s];many-to-many matching not allowed: matching "
                             "labels must be unique on one side",
                             g, e->card == CARD_ONE_TO_MANY ? "left" : "right", d1, d2);
            }
            rsel[sg] = (int32_t)j;
        }
        for (size_t j = 0; j < L->n; j++) {
            if (!L->s[j].ok[i]) continue;
            int32_t sg = LO[j];
            int32_t rj = rsel[sg];
            if (rj < 0) continue;
            if (e->card == CARD_ONE_TO_ONE) {
                if (matched[sg])
                    trn__pq_fail(
                        ev, TRN_EEXEC,
                        "multiple matches for labels: many-to-one matching must be explicit "
                        "(group_left/group_right)");
                matched[sg] = 1;
            }
            double l = L->s[j].v[i], r = R->s[rj].v[i];
            if (e->card == CARD_ONE_TO_MANY) {
                double t = l;
                l = r;
                r = t;
            }
            bool keep;
            double v = scalar_op(e->op, l, r, &keep);
            if (e->return_bool) {
                v = keep ? 1.0 : 0.0;
            }
            /* labels of this pair */
            if (pair_r[j] != rj || !pair_ls[j]) {
                pair_ls[j] = trn__pq_alloc(ev, sizeof(trn_labels_t));
                *pair_ls[j] = result_labels(ev, e, &L->s[j].labels, &R->s[rj].labels);
                pair_r[j] = rj;
            }
            pq_series_t *o = trn__pq_out_series(ev, &out, &omap, *pair_ls[j],
                                                e->return_bool || L->s[j].drop_name);
            size_t oi = (size_t)(o - out.s);
            if (out.n > lastcap) {
                size_t nc = lastcap ? lastcap * 2 : 16;
                while (nc < out.n)
                    nc *= 2;
                int64_t *nl = pq_calloc(ev, nc, sizeof *nl);
                if (last) memcpy(nl, last, lastcap * sizeof *nl);
                for (size_t q = lastcap; q < nc; q++)
                    nl[q] = -1;
                last = nl;
                lastcap = nc;
            }
            if (e->card != CARD_ONE_TO_ONE && last[oi] == (int64_t)i)
                trn__pq_fail(
                    ev, TRN_EEXEC,
                    "multiple matches for labels: grouping labels must ensure unique matches");
            last[oi] = (int64_t)i;
            if (!keep && !e->return_bool) continue;
            o->v[i] = v;
            o->ok[i] = 1;
        }
    }
    /* drop output series that never got a value (comparisons filtered them) */
    size_t k = 0;
    for (size_t j = 0; j < out.n; j++) {
        bool any = false;
        for (size_t i = 0; i < ns && !any; i++)
            any = out.s[j].ok[i];
        if (any) out.s[k++] = out.s[j];
    }
    out.n = k;
    return out;
}

static pq_val_t eval_binary(pq_ev_t *ev, const pq_expr_t *e)
{
    pq_val_t l = trn__pq_eval(ev, e->lhs);
    pq_val_t r = trn__pq_eval(ev, e->rhs);
    pq_val_t res = {0};
    if (l.type == TRN_PROMQL_SCALAR && r.type == TRN_PROMQL_SCALAR) {
        res.type = TRN_PROMQL_SCALAR;
        res.scalar = trn__pq_alloc(ev, ev->n_steps * sizeof(double));
        for (size_t i = 0; i < ev->n_steps; i++) {
            bool keep;
            double v = scalar_op(e->op, l.scalar[i], r.scalar[i], &keep);
            if (trn__pq_binop_is_comparison(e->op)) v = keep ? 1.0 : 0.0;
            res.scalar[i] = v;
        }
        return res;
    }
    res.type = TRN_PROMQL_VECTOR;
    if (l.type == TRN_PROMQL_VECTOR && r.type == TRN_PROMQL_SCALAR)
        res.vec = vec_scalar(ev, e, &l.vec, r.scalar, false);
    else if (l.type == TRN_PROMQL_SCALAR && r.type == TRN_PROMQL_VECTOR)
        res.vec = vec_scalar(ev, e, &r.vec, l.scalar, true);
    else
        res.vec = vec_vec(ev, e, &l.vec, &r.vec);
    return res;
}

/* ---- dispatch ------------------------------------------------------------------ */

void trn__pq_range_foreach(pq_ev_t *ev, const pq_expr_t *e, int64_t *ends, int64_t *range_ms,
                           void (*cb)(pq_ev_t *, void *, const pq_rseries_t *), void *ctx)
{
    for_each_range_series(ev, e, ends, range_ms, cb, ctx, false);
}

pq_vec_t trn__pq_eval_vsel_ts(pq_ev_t *ev, const pq_expr_t *e)
{
    return eval_vsel(ev, e, true);
}

pq_val_t trn__pq_eval(pq_ev_t *ev, const pq_expr_t *e)
{
    pq_val_t v = {0};
    v.type = e->type;
    trn__pq_check(ev);
    switch (e->kind) {
    case PQ_NUMBER:
        v.scalar = trn__pq_alloc(ev, ev->n_steps * sizeof(double));
        for (size_t i = 0; i < ev->n_steps; i++)
            v.scalar[i] = e->num;
        return v;
    case PQ_STRING:
        v.str = e->str;
        return v;
    case PQ_PAREN:
        return trn__pq_eval(ev, e->inner);
    case PQ_VSEL:
        v.vec = eval_vsel(ev, e, false);
        return v;
    case PQ_MSEL:
    case PQ_SUBQ: {
        /* a bare range vector: only valid as an instant query's result */
        int64_t *ends = trn__pq_alloc(ev, ev->n_steps * sizeof *ends);
        int64_t range;
        collect_ctx_t c = {0};
        c.lo = INT64_MIN;
        c.hi = INT64_MAX;
        for_each_range_series(ev, e, ends, &range, collect_cb, &c, true);
        /* only the window of the (single) step is the result */
        if (ev->n_steps) {
            for (size_t i = 0; i < c.n; i++) {
                pq_rseries_t *r = &c.v[i];
                size_t a0 = 0, b0 = r->n;
                while (a0 < b0 && r->pts[a0].t_ms <= ends[0] - range)
                    a0++;
                while (b0 > a0 && r->pts[b0 - 1].t_ms > ends[0])
                    b0--;
                r->pts += a0;
                r->n = b0 - a0;
            }
            size_t k = 0;
            for (size_t i = 0; i < c.n; i++)
                if (c.v[i].n) c.v[k++] = c.v[i];
            c.n = k;
        }
        v.rs = c.v;
        v.n_rs = c.n;
        return v;
    }
    case PQ_UNARY: {
        pq_val_t in = trn__pq_eval(ev, e->inner);
        if (e->op == OP_ADD) return in;
        if (in.type == TRN_PROMQL_SCALAR) {
            for (size_t i = 0; i < ev->n_steps; i++)
                in.scalar[i] = -in.scalar[i];
            return in;
        }
        for (size_t si = 0; si < in.vec.n; si++) {
            pq_series_t *s = &in.vec.s[si];
            for (size_t i = 0; i < ev->n_steps; i++)
                s->v[i] = -s->v[i];
            s->drop_name = true;
        }
        return in;
    }
    case PQ_BINARY:
        return eval_binary(ev, e);
    case PQ_CALL:
        return trn__pq_eval_call(ev, e);
    case PQ_AGG:
        v.vec = trn__pq_eval_agg(ev, e);
        return v;
    }
    return v;
}

/* ---- entry points ---------------------------------------------------------------- */

static void opts_apply(pq_ev_t *ev, const trn_promql_opts_t *o)
{
    ev->lookback_ms = o && o->lookback_delta_ms > 0 ? o->lookback_delta_ms : 5 * 60 * 1000;
    ev->subq_step_ms = o && o->subquery_step_ms > 0 ? o->subquery_step_ms : 60 * 1000;
    ev->max_samples = o && o->max_samples ? o->max_samples : 50000000;
    int64_t timeout = o && o->timeout_ms > 0 ? o->timeout_ms : 2 * 60 * 1000;
    ev->deadline_ns = trn_mono_ns() + timeout * 1000000;
    if (o) {
        ev->is_canceled = o->is_canceled;
        ev->cancel_ctx = o->cancel_ctx;
    }
}

static int cmp_series_labels(const void *a, const void *b)
{
    const pq_series_t *x = a, *y = b;
    return trn_labels_cmp(&x->labels, &y->labels);
}

/* Drops names marked for removal; merges series that now collide, failing
 * when they overlap in time. */
static void cleanup_names(pq_ev_t *ev, pq_vec_t *v)
{
    for (size_t i = 0; i < v->n; i++)
        if (v->s[i].drop_name) v->s[i].labels = trn__pq_labels_drop_name(ev, v->s[i].labels);
    if (v->n < 2) return;
    pq_vec_t out = {0};
    pq_lmap_t m;
    trn__pq_lmap_init(ev, &m, v->n);
    for (size_t i = 0; i < v->n; i++) {
        pq_series_t *s = &v->s[i];
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
            trn__pq_lmap_put(ev, &m, h, (int32_t)out.n);
            out.n++;
            continue;
        }
        pq_series_t *d = &out.s[k];
        for (size_t j = 0; j < ev->n_steps; j++) {
            if (!s->ok[j]) continue;
            if (d->ok[j])
                trn__pq_fail(ev, TRN_EEXEC, "vector cannot contain metrics with the same labelset");
            d->ok[j] = 1;
            d->v[j] = s->v[j];
            if (s->ts && d->ts) d->ts[j] = s->ts[j];
        }
    }
    *v = out;
}

static int run(trn_store_t *st, const trn_promql_expr_t *e, int64_t start, int64_t end,
               int64_t step, bool is_range, const trn_promql_opts_t *o, trn_arena_t *a,
               trn_promql_value_t *out, trn_diag_t *d, const char *qtext, size_t qlen);

int trn_promql_eval_instant(trn_store_t *st, const trn_promql_expr_t *e, int64_t t_ms,
                            const trn_promql_opts_t *o, trn_arena_t *a, trn_promql_value_t *out,
                            trn_diag_t *d)
{
    return run(st, e, t_ms, t_ms, 1000, false, o, a, out, d, NULL, 0);
}

int trn_promql_eval_range(trn_store_t *st, const trn_promql_expr_t *e, int64_t start_ms,
                          int64_t end_ms, int64_t step_ms, const trn_promql_opts_t *o,
                          trn_arena_t *a, trn_promql_value_t *out, trn_diag_t *d)
{
    if (e->type != TRN_PROMQL_SCALAR && e->type != TRN_PROMQL_VECTOR)
        return trn_diag_set(
            d, TRN_EINVAL, -1,
            "invalid expression type \"%s\" for range query, must be Scalar or instant Vector",
            trn__pq_type_desc(e->type));
    if (step_ms <= 0)
        return trn_diag_set(d, TRN_EINVAL, -1,
                            "zero or negative query resolution step widths are not accepted. Try a "
                            "positive integer");
    if (end_ms < start_ms)
        return trn_diag_set(d, TRN_EINVAL, -1, "end timestamp must not be before start time");
    return run(st, e, start_ms, end_ms, step_ms, true, o, a, out, d, NULL, 0);
}

/* Variant used by the test runner and the HTTP API to get annotation
 * positions: the original query text is passed along. */
int trn__pq_eval_text(trn_store_t *st, const trn_promql_expr_t *e, int64_t start, int64_t end,
                      int64_t step, bool is_range, const trn_promql_opts_t *o, trn_arena_t *a,
                      trn_promql_value_t *out, trn_diag_t *d, const char *q, size_t qlen)
{
    return run(st, e, start, end, step, is_range, o, a, out, d, q, qlen);
}

static int run(trn_store_t *st, const trn_promql_expr_t *e, int64_t start, int64_t end,
               int64_t step, bool is_range, const trn_promql_opts_t *o, trn_arena_t *a,
               trn_promql_value_t *out, trn_diag_t *d, const char *qtext, size_t qlen)
{
    jmp_buf jb;
    pq_ev_t ev_s;
    memset(&ev_s, 0, sizeof ev_s);
    pq_ev_t *volatile ev = &ev_s;
    ev->st = st;
    ev->a = a;
    ev->qtext = qtext ? qtext : e->src;
    ev->qlen = qtext ? qlen : e->src_len;
    ev->start = start;
    ev->end = end;
    ev->step = step;
    ev->q_start = start;
    ev->q_end = end;
    ev->q_step = is_range ? step : 0;
    ev->d = d;
    ev->jb = &jb;
    opts_apply(ev, o);
    int64_t max_points = o && o->max_points_per_series > 0 ? o->max_points_per_series : 11000;
    if (step <= 0)
        return trn_diag_set(d, TRN_EINVAL, -1,
                            "zero or negative query resolution step widths are not accepted. Try a "
                            "positive integer");
    ev->n_steps = (size_t)((end - start) / step) + 1;
    if (is_range && (int64_t)ev->n_steps > max_points)
        return trn_diag_set(d, TRN_EINVAL, -1,
                            "exceeded maximum resolution of %lld,%03lld points per timeseries. Try "
                            "decreasing the query resolution (?step=XX)",
                            (long long)(max_points / 1000), (long long)(max_points % 1000));
    trn_arena_t *volatile scratch = trn_arena_new(0);
    ev->scratch = scratch;
    pq_qtrack_t qt = {.n = 0};
    ev->qt = &qt;
    if (setjmp(jb)) {
        for (int i = 0; i < qt.n; i++)
            trn_querier_close(qt.q[i]);
        trn_arena_free(scratch);
        if (!d || !d->code) trn_diag_set(d, TRN_EEXEC, -1, "evaluation failed");
        return d ? d->code : TRN_EEXEC;
    }
    pq_val_t v = trn__pq_eval(ev, e);
    trn_promql_value_t r;
    memset(&r, 0, sizeof r);
    if (v.type == TRN_PROMQL_VECTOR) cleanup_names(ev, &v.vec);
    if (v.type == TRN_PROMQL_MATRIX) {
        for (size_t i = 0; i < v.n_rs; i++)
            if (v.rs[i].drop_name) v.rs[i].labels = trn__pq_labels_drop_name(ev, v.rs[i].labels);
    }
    if (!is_range) {
        r.type = v.type;
        r.t_ms = start;
        switch (v.type) {
        case TRN_PROMQL_SCALAR:
            r.scalar = v.scalar[0];
            break;
        case TRN_PROMQL_STRING:
            r.str = v.str;
            break;
        case TRN_PROMQL_VECTOR: {
            r.vec = trn__pq_alloc(ev, (v.vec.n ? v.vec.n : 1) * sizeof *r.vec);
            for (size_t i = 0; i < v.vec.n; i++) {
                if (!v.vec.s[i].ok[0]) continue;
                r.vec[r.n_vec++] = (trn_promql_sample_t){v.vec.s[i].labels, start, v.vec.s[i].v[0]};
            }
            break;
        }
        case TRN_PROMQL_MATRIX: {
            r.mat = trn__pq_alloc(ev, (v.n_rs ? v.n_rs : 1) * sizeof *r.mat);
            for (size_t i = 0; i < v.n_rs; i++)
                r.mat[r.n_mat++] = (trn_promql_series_t){v.rs[i].labels, v.rs[i].pts, v.rs[i].n};
            break;
        }
        default:
            break;
        }
    } else {
        r.type = TRN_PROMQL_MATRIX;
        r.t_ms = start;
        if (v.type == TRN_PROMQL_SCALAR) {
            r.mat = trn__pq_alloc(ev, sizeof *r.mat);
            trn_sample_t *pts = trn__pq_alloc(ev, ev->n_steps * sizeof *pts);
            for (size_t i = 0; i < ev->n_steps; i++)
                pts[i] = (trn_sample_t){step_time(ev, i), v.scalar[i]};
            r.mat[0] = (trn_promql_series_t){{NULL, 0}, pts, ev->n_steps};
            r.n_mat = 1;
        } else {
            if (v.vec.n > 1) qsort(v.vec.s, v.vec.n, sizeof *v.vec.s, cmp_series_labels);
            r.mat = trn__pq_alloc(ev, (v.vec.n ? v.vec.n : 1) * sizeof *r.mat);
            for (size_t si = 0; si < v.vec.n; si++) {
                pq_series_t *s = &v.vec.s[si];
                size_t cnt = 0;
                for (size_t i = 0; i < ev->n_steps; i++)
                    cnt += s->ok[i];
                if (!cnt) continue;
                trn_sample_t *pts = trn__pq_alloc(ev, cnt * sizeof *pts);
                size_t k = 0;
                for (size_t i = 0; i < ev->n_steps; i++)
                    if (s->ok[i]) pts[k++] = (trn_sample_t){step_time(ev, i), s->v[i]};
                r.mat[r.n_mat++] = (trn_promql_series_t){s->labels, pts, cnt};
            }
        }
    }
    r.warnings = ev->warns;
    r.n_warnings = ev->n_warns;
    r.infos = ev->infos;
    r.n_infos = ev->n_infos;
    r.samples_total = ev->samples_read;
    r.peak_samples = ev->peak_samples;
    trn_arena_free(scratch);
    *out = r;
    return 0;
}
