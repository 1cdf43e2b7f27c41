/* SPDX-License-Identifier: Apache-2.0 */
/* PromQL aggregation operators over step matrices.
 *
 * Groups are computed once per query from each input series' labels (by:
 * keep the listed labels; without: drop them and the metric name), then
 * every step folds the present members of each group. The numerics match
 * Prometheus: sums are Neumaier-compensated, avg sums directly and switches
 * to an incremental mean only when the sum would overflow, stddev/stdvar use
 * Welford's update. topk/bottomk keep a binary heap with the same sift
 * rules as Go's container/heap so that ties pick the same series, and an
 * instant query returns them in the heap's sorted order; limitk keeps the
 * first k members in input order. count_values builds its output series on
 * the fly, one per distinct value string. */
#include "metrics/promql/eval_int.h"

#include "core/err.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static bool in_list(const trn_str_t *v, size_t n, trn_str_t s)
{
    for (size_t i = 0; i < n; i++)
        if (trn_str_eq(v[i], s)) return true;
    return false;
}

static trn_labels_t group_labels(pq_ev_t *ev, const pq_expr_t *e, const trn_labels_t *ls,
                                 const trn_str_t *extra)
{
    trn_labels_t r = {trn__pq_alloc(ev, (ls->n ? ls->n : 1) * sizeof(trn_label_t)), 0};
    for (size_t i = 0; i < ls->n; i++) {
        trn_str_t n = ls->v[i].name;
        bool listed = in_list(e->grouping, e->n_grouping, n) || (extra && trn_str_eq(*extra, n));
        if (e->without) {
            if (!listed && !trn_str_eqc(n, TRN_METRIC_NAME)) r.v[r.n++] = ls->v[i];
        } else if (listed) {
            r.v[r.n++] = ls->v[i];
        }
    }
    return r;
}

typedef struct hent {
    double f;
    int32_t idx;
} hent_t;

typedef bool less_fn(const hent_t *a, const hent_t *b);

static bool less_min(const hent_t *a, const hent_t *b)
{
    if (isnan(a->f)) return true;
    return a->f < b->f;
}
static bool less_max(const hent_t *a, const hent_t *b)
{
    if (isnan(a->f)) return true;
    return a->f > b->f;
}

static void h_up(hent_t *h, size_t j, less_fn *less)
{
    while (j > 0) {
        size_t i = (j - 1) / 2;
        if (i == j || !less(&h[j], &h[i])) break;
        hent_t t = h[i];
        h[i] = h[j];
        h[j] = t;
        j = i;
    }
}

static bool h_down(hent_t *h, size_t i0, size_t n, less_fn *less)
{
    size_t i = i0;
    for (;;) {
        size_t j1 = 2 * i + 1;
        if (j1 >= n) break;
        size_t j = j1;
        size_t j2 = j1 + 1;
        if (j2 < n && less(&h[j2], &h[j1])) j = j2;
        if (!less(&h[j], &h[i])) break;
        hent_t t = h[i];
        h[i] = h[j];
        h[j] = t;
        i = j;
    }
    return i > i0;
}

/* Go's sort.Sort(sort.Reverse(h)): insertion sort for small inputs keeps the
 * same order of ties; larger inputs only need a correct order. */
static void sort_reverse(hent_t *h, size_t n, less_fn *less)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && less(&h[j - 1], &h[j]); j--) {
            hent_t t = h[j];
            h[j] = h[j - 1];
            h[j - 1] = t;
        }
}

static double *param_scalars(pq_ev_t *ev, const pq_expr_t *e)
{
    pq_val_t p = trn__pq_eval(ev, e->param);
    return p.scalar;
}

static pq_vec_t agg_k(pq_ev_t *ev, const pq_expr_t *e, pq_vec_t *in, int32_t *grp, size_t ng)
{
    size_t ns = ev->n_steps;
    double *k = param_scalars(ev, e);
    bool any_nan = false;
    double mx = -INFINITY, mn = INFINITY;
    for (size_t i = 0; i < ns; i++) {
        if (isnan(k[i])) any_nan = true;
        if (k[i] > mx) mx = k[i];
        if (k[i] < mn) mn = k[i];
    }
    pq_vec_t out = {0};
    if (e->agg == AGG_LIMIT_RATIO) {
        if (mx == 0 && mn == 0 && !any_nan) return out;
        if (any_nan) trn__pq_fail(ev, TRN_EEXEC, "Ratio value is NaN");
        if (mx > 1.0) {
            char b[40];
            snprintf(b, sizeof b, "%g", mx);
            trn__pq_warn(ev, e->param,
                         "ratio value should be between -1 and 1, got %s, capping to 1", b);
        }
        if (mn < -1.0) {
            char b[40];
            snprintf(b, sizeof b, "%g", mn);
            trn__pq_warn(ev, e->param,
                         "ratio value should be between -1 and 1, got %s, capping to -1", b);
        }
    } else {
        if (any_nan) trn__pq_fail(ev, TRN_EEXEC, "Parameter value is NaN");
        if (mx < 1) return out;
        if (mn <= -9.223372036854775808e18)
            trn__pq_fail(ev, TRN_EEXEC, "Scalar value %g underflows int64", mn);
        if (mx >= 9.223372036854775807e18)
            trn__pq_fail(ev, TRN_EEXEC, "Scalar value %g overflows int64", mx);
    }
    pq_series_t **map = trn__pq_alloc(ev, (in->n ? in->n : 1) * sizeof *map);
    memset(map, 0, (in->n ? in->n : 1) * sizeof *map);
    hent_t *heap = trn__pq_alloc(ev, (in->n ? in->n : 1) * sizeof *heap);
    size_t *hn = trn__pq_alloc(ev, (ng ? ng : 1) * sizeof *hn);
    size_t *hoff = trn__pq_alloc(ev, (ng ? ng : 1) * sizeof *hoff);
    size_t *gsize = trn__pq_alloc(ev, (ng ? ng : 1) * sizeof *gsize);
    memset(gsize, 0, (ng ? ng : 1) * sizeof *gsize);
    for (size_t s = 0; s < in->n; s++)
        gsize[grp[s]]++;
    size_t o = 0;
    for (size_t g = 0; g < ng; g++) {
        hoff[g] = o;
        o += gsize[g];
    }
    less_fn *less = e->agg == AGG_BOTTOMK ? less_max : less_min;
    for (size_t i = 0; i < ns; i++) {
        trn__pq_check(ev);
        memset(hn, 0, (ng ? ng : 1) * sizeof *hn);
        int64_t kk = 0;
        double r = 0;
        if (e->agg == AGG_LIMIT_RATIO) {
            r = k[i] < -1 ? -1 : k[i] > 1 ? 1 : k[i];
            if (r == 0) continue;
        } else {
            kk = (int64_t)k[i];
            if (kk > (int64_t)in->n) kk = (int64_t)in->n;
            if (kk < 1) continue;
        }
        for (size_t s = 0; s < in->n; s++) {
            if (!in->s[s].ok[i]) continue;
            size_t g = (size_t)grp[s];
            hent_t *h = heap + hoff[g];
            hent_t ent = {in->s[s].v[i], (int32_t)s};
            switch (e->agg) {
            case AGG_TOPK:
            case AGG_BOTTOMK:
                if ((int64_t)hn[g] < kk) {
                    h[hn[g]++] = ent;
                    h_up(h, hn[g] - 1, less);
                } else {
                    bool repl = e->agg == AGG_TOPK
                                    ? (h[0].f < ent.f || (isnan(h[0].f) && !isnan(ent.f)))
                                    : (h[0].f > ent.f || (isnan(h[0].f) && !isnan(ent.f)));
                    if (repl) {
                        h[0] = ent;
                        if (kk > 1 && !h_down(h, 0, hn[g], less)) h_up(h, 0, less);
                    }
                }
                break;
            case AGG_LIMITK:
                if ((int64_t)hn[g] < kk) h[hn[g]++] = ent;
                break;
            default: { /* limit_ratio: deterministic per-series sampling by label hash */
                uint64_t hh = trn_labels_hash(&in->s[s].labels);
                double off = (double)hh / 18446744073709551615.0;
                bool take = (r >= 0 && off < r) || (r < 0 && off >= 1.0 + r);
                if (take) h[hn[g]++] = ent;
                break;
            }
            }
        }
        for (size_t g = 0; g < ng; g++) {
            hent_t *h = heap + hoff[g];
            if ((e->agg == AGG_TOPK || e->agg == AGG_BOTTOMK) && hn[g] > 1)
                sort_reverse(h, hn[g], less);
            for (size_t j = 0; j < hn[g]; j++) {
                int32_t s = h[j].idx;
                pq_series_t *os = ns == 1 ? NULL : map[s];
                if (!os) {
                    os = trn__pq_vec_add(ev, &out, in->s[s].labels, in->s[s].drop_name);
                    map[s] = os;
                }
                os->v[i] = in->s[s].v[i];
                os->ok[i] = 1;
            }
        }
    }
    return out;
}

static pq_vec_t agg_count_values(pq_ev_t *ev, const pq_expr_t *e, pq_vec_t *in)
{
    const pq_expr_t *pe = e->param;
    while (pe->kind == PQ_PAREN)
        pe = pe->inner;
    trn_str_t lname = pe->str;
    if (!lname.len || !trn_utf8_valid(lname.p, lname.len)) {
        trn_buf_t b;
        trn_buf_init(&b);
        trn_go_quote(&b, lname);
        char msg[300];
        snprintf(msg, sizeof msg, "invalid label name %s", b.data);
        trn_buf_fini(&b);
        trn__pq_fail(ev, TRN_EEXEC, "%s", msg);
    }
    pq_vec_t out = {0};
    pq_lmap_t m;
    trn__pq_lmap_init(ev, &m, in->n);
    for (size_t i = 0; i < ev->n_steps; i++) {
        trn__pq_check(ev);
        for (size_t s = 0; s < in->n; s++) {
            if (!in->s[s].ok[i]) continue;
            trn_buf_t b;
            trn_buf_init(&b);
            trn__pq_fmt_float_f(&b, in->s[s].v[i]);
            char *val = trn__pq_alloc(ev, b.len + 1);
            memcpy(val, b.data, b.len + 1);
            trn_str_t vs = {val, b.len};
            trn_buf_fini(&b);
            trn_labels_t ls = trn__pq_labels_set(ev, in->s[s].labels, lname, vs);
            trn_labels_t gl = group_labels(ev, e, &ls, e->without ? NULL : &lname);
            pq_series_t *o = trn__pq_out_series(ev, &out, &m, gl, false);
            if (!o->ok[i]) {
                o->ok[i] = 1;
                o->v[i] = 0;
            }
            o->v[i] += 1;
        }
    }
    return out;
}

typedef struct gstate {
    double value, mean, kc, count;
    bool seen, inc_mean;
    double *heap;
    size_t hn;
} gstate_t;

pq_vec_t trn__pq_eval_agg(pq_ev_t *ev, const pq_expr_t *e)
{
    size_t ns = ev->n_steps;
    double *q = NULL;
    if (e->agg == AGG_QUANTILE) q = param_scalars(ev, e);
    pq_vec_t in = trn__pq_eval(ev, e->inner).vec;
    if (e->agg == AGG_COUNT_VALUES) return agg_count_values(ev, e, &in);

    /* groups */
    pq_vec_t out = {0};
    pq_lmap_t m;
    trn__pq_lmap_init(ev, &m, in.n);
    int32_t *grp = trn__pq_alloc(ev, (in.n ? in.n : 1) * sizeof *grp);
    bool kind_k = e->agg == AGG_TOPK || e->agg == AGG_BOTTOMK || e->agg == AGG_LIMITK ||
                  e->agg == AGG_LIMIT_RATIO;
    for (size_t s = 0; s < in.n; s++) {
        trn_labels_t gl = group_labels(ev, e, &in.s[s].labels, NULL);
        pq_series_t *o = trn__pq_out_series(ev, &out, &m, gl, false);
        grp[s] = (int32_t)(o - out.s);
    }
    size_t ng = out.n;
    if (kind_k) return agg_k(ev, e, &in, grp, ng);

    if (e->agg == AGG_QUANTILE) {
        bool nan = false;
        double mx = -INFINITY, mn = INFINITY;
        for (size_t i = 0; i < ns; i++) {
            if (isnan(q[i])) nan = true;
            if (q[i] > mx) mx = q[i];
            if (q[i] < mn) mn = q[i];
        }
        if (nan) trn__pq_warn(ev, e->param, "quantile value should be between 0 and 1, got NaN");
        char b[40];
        if (mx > 1) {
            snprintf(b, sizeof b, "%g", mx);
            if (isinf(mx)) snprintf(b, sizeof b, "+Inf");
            trn__pq_warn(ev, e->param, "quantile value should be between 0 and 1, got %s", b);
        }
        if (mn < 0) {
            snprintf(b, sizeof b, "%g", mn);
            if (isinf(mn)) snprintf(b, sizeof b, "-Inf");
            trn__pq_warn(ev, e->param, "quantile value should be between 0 and 1, got %s", b);
        }
    }
    gstate_t *st = trn__pq_alloc(ev, (ng ? ng : 1) * sizeof *st);
    double *qbuf = NULL;
    size_t *qoff = NULL;
    if (e->agg == AGG_QUANTILE) {
        qbuf = trn__pq_alloc(ev, (in.n ? in.n : 1) * sizeof *qbuf);
        qoff = trn__pq_alloc(ev, (ng ? ng : 1) * sizeof *qoff);
        size_t *cnt = trn__pq_alloc(ev, (ng ? ng : 1) * sizeof *cnt);
        memset(cnt, 0, (ng ? ng : 1) * sizeof *cnt);
        for (size_t s = 0; s < in.n; s++)
            cnt[grp[s]]++;
        size_t o = 0;
        for (size_t g = 0; g < ng; g++) {
            qoff[g] = o;
            o += cnt[g];
        }
    }
    for (size_t i = 0; i < ns; i++) {
        trn__pq_check(ev);
        memset(st, 0, (ng ? ng : 1) * sizeof *st);
        for (size_t s = 0; s < in.n; s++) {
            if (!in.s[s].ok[i]) continue;
            double f = in.s[s].v[i];
            gstate_t *g = &st[grp[s]];
            if (in.s[s].drop_name) out.s[grp[s]].drop_name = true;
            if (!g->seen) {
                g->seen = true;
                g->value = f;
                g->mean = f;
                g->count = 1;
                g->kc = 0;
                switch (e->agg) {
                case AGG_STDDEV:
                case AGG_STDVAR:
                    g->value = (isnan(f) || isinf(f)) ? NAN : 0;
                    break;
                case AGG_GROUP:
                    g->value = 1;
                    break;
                case AGG_QUANTILE:
                    g->heap = qbuf + qoff[grp[s]];
                    g->heap[0] = f;
                    g->hn = 1;
                    break;
                default:
                    break;
                }
                continue;
            }
            switch (e->agg) {
            case AGG_SUM:
                trn__pq_kahan_inc(f, &g->value, &g->kc);
                break;
            case AGG_AVG:
                g->count++;
                if (!g->inc_mean) {
                    double nv = g->value, nc = g->kc;
                    trn__pq_kahan_inc(f, &nv, &nc);
                    if (!isinf(nv)) {
                        g->value = nv;
                        g->kc = nc;
                        break;
                    }
                    g->inc_mean = true;
                    g->mean = g->value / (g->count - 1);
                    g->kc /= g->count - 1;
                }
                {
                    double qq = (g->count - 1) / g->count;
                    double m2 = qq * g->mean, c2 = qq * g->kc;
                    trn__pq_kahan_inc(f / g->count, &m2, &c2);
                    g->mean = m2;
                    g->kc = c2;
                }
                break;
            case AGG_MAX:
                if (g->value < f || isnan(g->value)) g->value = f;
                break;
            case AGG_MIN:
                if (g->value > f || isnan(g->value)) g->value = f;
                break;
            case AGG_COUNT:
                g->count++;
                break;
            case AGG_GROUP:
                break;
            case AGG_STDDEV:
            case AGG_STDVAR: {
                g->count++;
                double delta = f - g->mean;
                g->mean += delta / g->count;
                g->value += delta * (f - g->mean);
                break;
            }
            case AGG_QUANTILE:
                g->heap[g->hn++] = f;
                break;
            default:
                break;
            }
        }
        for (size_t gi = 0; gi < ng; gi++) {
            gstate_t *g = &st[gi];
            if (!g->seen) continue;
            double v = g->value;
            switch (e->agg) {
            case AGG_AVG:
                v = g->inc_mean ? g->mean + g->kc : g->value / g->count + g->kc / g->count;
                break;
            case AGG_COUNT:
                v = g->count;
                break;
            case AGG_STDVAR:
                v = g->value / g->count;
                break;
            case AGG_STDDEV:
                v = sqrt(g->value / g->count);
                break;
            case AGG_QUANTILE:
                v = trn__pq_quantile(q[i], g->heap, g->hn);
                break;
            case AGG_SUM:
                v = g->value + g->kc;
                break;
            default:
                break;
            }
            out.s[gi].v[i] = v;
            out.s[gi].ok[i] = 1;
        }
    }
    size_t k = 0;
    for (size_t g = 0; g < out.n; g++) {
        bool any = false;
        for (size_t i = 0; i < ns && !any; i++)
            any = out.s[g].ok[i];
        if (any) out.s[k++] = out.s[g];
    }
    out.n = k;
    return out;
}
