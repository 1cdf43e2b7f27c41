/* SPDX-License-Identifier: Apache-2.0 */
/* `trine promql FILE.test...`: runs Prometheus's PromQL test files
 * (promql/promqltest format: load / clear / eval instant|range with expect
 * lines) against a real metrics store and this engine.
 *
 * Each file gets a fresh store in a temporary directory (fsync off, no
 * background work); `clear` reopens it empty. An instant eval is checked as
 * Prometheus's runner checks it: the query itself, then the same query with
 * "@ <eval time>" added to every selector (printed and re-parsed) at five
 * other evaluation times, then as a range query over t-1m..t+1m whose middle
 * step must agree. Results compare values with a relative tolerance of 1e-6.
 *
 * Cases over native histograms are out of scope and are skipped, each with
 * its reason: an eval whose text or expectations use `{{...}}`, or whose
 * selectors match a series that a load gave native-histogram samples (or
 * that load_with_nhcb converted). Their float samples are still loaded so
 * other cases see the same data as in Prometheus. */
#include "daemon/commands.h"
#include "metrics/promql/eval_int.h"

#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "core/timefmt.h"

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct seqval {
    double v;
    bool omitted;
} seqval_t;

typedef struct expseries {
    trn_labels_t labels;
    seqval_t *vals;
    size_t n;
    int pos; /* 1-based position for ordered checks */
} expseries_t;

typedef struct expect_line {
    int type; /* 0 ordered 1 fail 2 warn 3 no_warn 4 info 5 no_info */
    bool has_msg, has_re;
    char *text;
} expect_line_t;

typedef struct runner {
    trn_store_t *st;
    char dir[256];
    trn_arena_t *load_arena; /* labels of histogram series, across loads */
    trn_labels_t *hist;
    size_t n_hist, cap_hist;
    int passed, failed, skipped;
    const char *file;
    FILE *skipf;
} runner_t;

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static int store_reset(runner_t *r)
{
    if (r->st) {
        trn_store_close(r->st);
        r->st = NULL;
        nftw(r->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    }
    snprintf(r->dir, sizeof r->dir, "/tmp/trine-promql-XXXXXX");
    if (!mkdtemp(r->dir)) {
        fprintf(stderr, "promql: cannot create a temporary directory: %s\n", strerror(errno));
        return TRN_EIO;
    }
    trn_store_opts_t o;
    trn_store_opts_default(&o);
    o.dir = r->dir;
    o.fsync_mode = TRN_FSYNC_NEVER;
    o.background = false;
    o.retention_ms = 0;
    o.ooo_window_ms = INT64_MAX / 4;
    trn_diag_t d;
    trn_diag_init(&d);
    int rc = trn_store_open(&o, &r->st, &d);
    if (rc < 0) fprintf(stderr, "promql: cannot open the store: %s\n", d.msg);
    r->n_hist = 0;
    trn_arena_free(r->load_arena);
    r->load_arena = trn_arena_new(0);
    r->hist = NULL;
    r->cap_hist = 0;
    return rc;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = 0;
    return s;
}

static bool parse_num(const char *s, double *out)
{
    if (!*s) return false;
    char *end;
    if (!strcasecmp(s, "inf") || !strcasecmp(s, "+inf")) {
        *out = INFINITY;
        return true;
    }
    if (!strcasecmp(s, "-inf")) {
        *out = -INFINITY;
        return true;
    }
    if (!strcasecmp(s, "nan") || !strcasecmp(s, "+nan") || !strcasecmp(s, "-nan")) {
        *out = NAN;
        return true;
    }
    for (const char *c = s; *c; c++)
        if (*c == 'x' || *c == 'X' || *c == 'p' || *c == 'P' || *c == 'i' || *c == 'I' ||
            *c == 'n' || *c == 'N')
            return false;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || end == s) return false;
    *out = v;
    return true;
}

/* Expands one value token; returns false on syntax it does not know. */
static bool expand_token(const char *tok, seqval_t **v, size_t *n, size_t *cap, bool *hist)
{
#define PUSH(val, om)                                                                              \
    do {                                                                                           \
        if (*n == *cap) {                                                                          \
            *cap = *cap ? *cap * 2 : 16;                                                           \
            *v = realloc(*v, *cap * sizeof **v);                                                   \
        }                                                                                          \
        (*v)[(*n)++] = (seqval_t){(val), (om)};                                                    \
    } while (0)
    if (strstr(tok, "{{")) {
        *hist = true;
        /* count repetitions to keep positions aligned */
        const char *x = strstr(tok, "}}x");
        long reps = 0;
        if (x) reps = strtol(x + 3, NULL, 10);
        for (long i = 0; i <= reps; i++)
            PUSH(0, true);
        return true;
    }
    if (!strcmp(tok, "_")) {
        PUSH(0, true);
        return true;
    }
    if (!strncmp(tok, "_x", 2)) {
        long k = strtol(tok + 2, NULL, 10);
        for (long i = 0; i < k; i++)
            PUSH(0, true);
        return true;
    }
    if (!strcmp(tok, "stale")) {
        union {
            uint64_t u;
            double d;
        } s = {.u = TRN_STALE_NAN_BITS};
        PUSH(s.d, false);
        return true;
    }
    char buf[128];
    size_t tl = strlen(tok);
    if (tl >= sizeof buf) return false;
    memcpy(buf, tok, tl + 1);
    char *xp = strrchr(buf, 'x');
    long reps = -1;
    if (xp && xp != buf) {
        char *e;
        reps = strtol(xp + 1, &e, 10);
        if (*e || xp[1] == 0) return false;
        *xp = 0;
    }
    /* a, a+b or a-b (the sign after the first char splits) */
    double a, b = 0;
    char *split = NULL;
    for (char *c = buf + 1; *c; c++)
        if ((*c == '+' || *c == '-') && c[-1] != 'e' && c[-1] != 'E') {
            split = c;
            break;
        }
    if (split) {
        char sign = *split;
        *split = 0;
        if (!parse_num(buf, &a) || !parse_num(split + 1, &b)) return false;
        if (sign == '-') b = -b;
    } else {
        if (!parse_num(buf, &a)) return false;
    }
    if (reps < 0) {
        PUSH(a, false);
        return true;
    }
    for (long i = 0; i <= reps; i++) {
        PUSH(a, false);
        a += b;
    }
    return true;
#undef PUSH
}

/* Parses "metric{labels} values..." into labels and values. */
static bool parse_series_line(const char *line, trn_arena_t *a, trn_labels_t *ls, seqval_t **vals,
                              size_t *n, bool *hist)
{
    trn_diag_t d;
    trn_diag_init(&d);
    int used = trn__pq_parse_metric(line, strlen(line), a, ls, &d);
    if (used < 0) return false;
    *vals = NULL;
    *n = 0;
    size_t cap = 0;
    *hist = false;
    const char *p = line + used;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p) break;
        const char *s = p;
        if (p[0] == '{' && p[1] == '{') {
            const char *e = strstr(p, "}}");
            if (!e) return false;
            p = e + 2;
            while (*p && *p != ' ' && *p != '\t') {
                if (p[0] == '{' && p[1] == '{') {
                    e = strstr(p, "}}");
                    if (!e) return false;
                    p = e + 2;
                } else {
                    p++;
                }
            }
        } else {
            while (*p && *p != ' ' && *p != '\t')
                p++;
        }
        char tok[4096];
        size_t l = (size_t)(p - s) < sizeof tok - 1 ? (size_t)(p - s) : sizeof tok - 1;
        memcpy(tok, s, l);
        tok[l] = 0;
        if (!expand_token(tok, vals, n, &cap, hist)) return false;
    }
    return true;
}

static void add_hist(runner_t *r, const trn_labels_t *ls)
{
    if (r->n_hist == r->cap_hist) {
        size_t nc = r->cap_hist ? r->cap_hist * 2 : 16;
        r->hist = trn_arena_grow(r->load_arena, r->hist, r->cap_hist * sizeof *r->hist,
                                 nc * sizeof *r->hist);
        r->cap_hist = nc;
    }
    trn_labels_copy(r->load_arena, ls, &r->hist[r->n_hist++]);
}

static int do_load(runner_t *r, char **lines, size_t nl, size_t *i, bool nhcb)
{
    char *cmd = lines[*i];
    char *durs = trim(cmd + (nhcb ? strlen("load_with_nhcb") : strlen("load")));
    int64_t gap;
    if (trn_parse_duration(trn_str_c(durs), &gap) < 0) {
        fprintf(stderr, "%s:%zu: invalid load step %s\n", r->file, *i + 1, durs);
        return -1;
    }
    trn_arena_t *a = trn_arena_new(0);
    while (*i + 1 < nl && lines[*i + 1][0]) {
        (*i)++;
        trn_labels_t ls;
        seqval_t *vals;
        size_t n;
        bool hist;
        if (!parse_series_line(lines[*i], a, &ls, &vals, &n, &hist)) {
            fprintf(stderr, "%s:%zu: cannot parse series line\n", r->file, *i + 1);
            free(vals);
            continue;
        }
        if (hist) add_hist(r, &ls);
        if (nhcb) {
            trn_str_t name = trn_labels_get(&ls, TRN_METRIC_NAME);
            static const char *const sfx[] = {"_bucket", "_count", "_sum"};
            for (int k = 0; k < 3 && name.p; k++) {
                size_t sl = strlen(sfx[k]);
                if (name.len > sl && !memcmp(name.p + name.len - sl, sfx[k], sl)) {
                    trn_labels_t b = {trn_arena_calloc(a, ls.n, sizeof(trn_label_t)), 0};
                    for (size_t j = 0; j < ls.n; j++) {
                        if (trn_str_eqc(ls.v[j].name, "le")) continue;
                        b.v[b.n] = ls.v[j];
                        if (trn_str_eqc(ls.v[j].name, TRN_METRIC_NAME)) b.v[b.n].value.len -= sl;
                        b.n++;
                    }
                    add_hist(r, &b);
                }
            }
        }
        trn_sample_t *smp = calloc(n ? n : 1, sizeof *smp);
        size_t k = 0;
        for (size_t j = 0; j < n; j++)
            if (!vals[j].omitted) smp[k++] = (trn_sample_t){(int64_t)j * gap, vals[j].v};
        free(vals);
        if (k) {
            trn_append_series_t as = {.labels = ls, .samples = smp, .n_samples = k};
            trn_append_result_t res;
            trn_diag_t d;
            trn_diag_init(&d);
            if (trn_store_append(r->st, &as, 1, &res, &d) < 0)
                fprintf(stderr, "%s:%zu: append failed: %s\n", r->file, *i + 1, d.msg);
        }
        free(smp);
    }
    trn_arena_free(a);
    return 0;
}

/* ---- eval ---------------------------------------------------------------- */

typedef struct evalcase {
    char *expr;
    bool is_range;
    int64_t start, end, step;
    bool fail, ordered, warn_flag, info_flag;
    char *fail_msg, *fail_re;
    expect_line_t ex[16];
    size_t n_ex;
    bool expect_scalar;
    double scalar;
    expseries_t *series;
    size_t n_series, cap_series;
    bool expect_string;
    char *string;
    bool range_vector;
    bool exclude_range;
    bool uses_hist_syntax;
    int line;
} evalcase_t;

static bool regex_search(const char *re, const char *s)
{
    trn_buf_t b;
    trn_buf_init(&b);
    trn_buf_puts(&b, ".*(?:");
    trn_buf_puts(&b, re);
    trn_buf_puts(&b, ").*");
    trn_regex_t *rx;
    trn_diag_t d;
    trn_diag_init(&d);
    bool ok = false;
    if (trn_regex_new((trn_str_t){b.data, b.len}, &rx, &d) == 0) {
        ok = trn_regex_match(rx, trn_str_c(s));
        trn_regex_free(rx);
    }
    trn_buf_fini(&b);
    return ok;
}

static bool expect_match(const expect_line_t *x, const char *s)
{
    if (x->has_msg) return strcmp(x->text, s) == 0;
    if (x->has_re) return regex_search(x->text, s);
    return true;
}

static bool almost_eq(double a, double b)
{
    if (isnan(a) && isnan(b)) return true;
    if (a == b) return true;
    double abs_sum = fabs(a) + fabs(b), diff = fabs(a - b);
    const double mn = 2.2250738585072014e-308;
    if (a == 0 || b == 0 || abs_sum < mn) return diff < 1e-6 * mn;
    return diff / fmin(abs_sum, 1.7976931348623157e308) < 1e-6;
}

static void fmt_ls(const trn_labels_t *ls, char *out, size_t cap)
{
    trn_buf_t b;
    trn_buf_init(&b);
    trn_labels_format(ls, &b);
    snprintf(out, cap, "%s", b.data ? b.data : "{}");
    trn_buf_fini(&b);
}

static const expseries_t *find_exp(const evalcase_t *c, const trn_labels_t *ls)
{
    for (size_t i = 0; i < c->n_series; i++)
        if (trn_labels_equal(&c->series[i].labels, ls)) return &c->series[i];
    return NULL;
}

static bool check_annos(const evalcase_t *c, const trn_promql_value_t *v, char *err, size_t cap)
{
    if (c->warn_flag && !v->n_warnings) {
        snprintf(err, cap, "expected warnings but got none");
        return false;
    }
    if (c->info_flag && !v->n_infos) {
        snprintf(err, cap, "expected info annotations but got none");
        return false;
    }
    for (int kind = 0; kind < 2; kind++) {
        int want = kind ? 4 : 2, no = kind ? 5 : 3;
        const char **arr = kind ? v->infos : v->warnings;
        size_t n = kind ? v->n_infos : v->n_warnings;
        bool any = false;
        for (size_t k = 0; k < c->n_ex; k++) {
            if (c->ex[k].type == no && n) {
                snprintf(err, cap, "unexpected %s annotation: %s", kind ? "info" : "warn", arr[0]);
                return false;
            }
            if (c->ex[k].type != want) continue;
            any = true;
            bool found = false;
            for (size_t j = 0; j < n; j++)
                if (expect_match(&c->ex[k], arr[j])) found = true;
            if (!found) {
                snprintf(err, cap, "expected %s annotation matching \"%s\", got %zu: %s",
                         kind ? "info" : "warn", c->ex[k].text ? c->ex[k].text : "<any>", n,
                         n ? arr[0] : "");
                return false;
            }
        }
        if (any)
            for (size_t j = 0; j < n; j++) {
                bool found = false;
                for (size_t k = 0; k < c->n_ex; k++)
                    if (c->ex[k].type == want && expect_match(&c->ex[k], arr[j])) found = true;
                if (!found) {
                    snprintf(err, cap, "unexpected %s annotation %s", kind ? "info" : "warn",
                             arr[j]);
                    return false;
                }
            }
    }
    return true;
}

static bool compare(const evalcase_t *c, const trn_promql_value_t *v, int64_t start, int64_t end,
                    int64_t step, bool matrix_expected, char *err, size_t cap)
{
    char lb[400];
    switch (v->type) {
    case TRN_PROMQL_SCALAR:
        if (!c->expect_scalar) {
            snprintf(err, cap, "expected vector or matrix result, but got scalar");
            return false;
        }
        if (!almost_eq(c->scalar, v->scalar)) {
            snprintf(err, cap, "expected scalar %g but got %g", c->scalar, v->scalar);
            return false;
        }
        return true;
    case TRN_PROMQL_STRING:
        if (!c->string || strlen(c->string) != v->str.len ||
            memcmp(c->string, v->str.p, v->str.len)) {
            snprintf(err, cap, "expected string \"%s\" but got \"%.*s\"",
                     c->string ? c->string : "", (int)v->str.len, v->str.p);
            return false;
        }
        return true;
    case TRN_PROMQL_VECTOR: {
        if (c->expect_scalar) {
            snprintf(err, cap, "expected scalar result, but got vector");
            return false;
        }
        for (size_t i = 0; i < v->n_vec; i++) {
            const expseries_t *x = find_exp(c, &v->vec[i].labels);
            fmt_ls(&v->vec[i].labels, lb, sizeof lb);
            if (!x) {
                snprintf(err, cap, "unexpected metric %s in result, has value %g", lb, v->vec[i].v);
                return false;
            }
            if (c->ordered && x->pos != (int)i + 1) {
                snprintf(err, cap, "expected metric %s at position %d but was at %zu", lb, x->pos,
                         i + 1);
                return false;
            }
            if (!x->n || !almost_eq(x->vals[0].v, v->vec[i].v)) {
                snprintf(err, cap, "expected %g for %s but got %g", x->n ? x->vals[0].v : NAN, lb,
                         v->vec[i].v);
                return false;
            }
            for (size_t j = 0; j < i; j++)
                if (trn_labels_equal(&v->vec[j].labels, &v->vec[i].labels)) {
                    snprintf(err, cap, "duplicate metric %s in result", lb);
                    return false;
                }
        }
        for (size_t k = 0; k < c->n_series; k++) {
            bool seen = false;
            for (size_t i = 0; i < v->n_vec && !seen; i++)
                seen = trn_labels_equal(&v->vec[i].labels, &c->series[k].labels);
            if (!seen) {
                fmt_ls(&c->series[k].labels, lb, sizeof lb);
                snprintf(err, cap, "expected metric %s not found", lb);
                return false;
            }
        }
        return true;
    }
    case TRN_PROMQL_MATRIX: {
        (void)matrix_expected;
        if (c->ordered) {
            snprintf(err, cap, "expected ordered result, but query returned a matrix");
            return false;
        }
        if (c->expect_scalar) {
            snprintf(err, cap, "expected scalar result, but got matrix");
            return false;
        }
        for (size_t i = 0; i + 1 < v->n_mat; i++)
            if (trn_labels_cmp(&v->mat[i].labels, &v->mat[i + 1].labels) > 0) {
                snprintf(err, cap, "matrix results should always be sorted by labels");
                return false;
            }
        for (size_t i = 0; i < v->n_mat; i++) {
            const trn_promql_series_t *s = &v->mat[i];
            fmt_ls(&s->labels, lb, sizeof lb);
            const expseries_t *x = find_exp(c, &s->labels);
            if (!x) {
                snprintf(err, cap, "unexpected metric %s in result (%zu points)", lb, s->n_points);
                return false;
            }
            size_t k = 0;
            for (size_t j = 0; j < x->n; j++) {
                int64_t t = start + (int64_t)j * step;
                if (t > end) {
                    snprintf(err, cap,
                             "expected %zu points for %s, but query time range cannot return this "
                             "many points",
                             x->n, lb);
                    return false;
                }
                if (x->vals[j].omitted) continue;
                if (k >= s->n_points) {
                    snprintf(err, cap, "expected more float points for %s than the %zu returned",
                             lb, s->n_points);
                    return false;
                }
                if (s->points[k].t_ms != t) {
                    snprintf(err, cap,
                             "expected float value at index %zu for %s to have timestamp %lld, but "
                             "it had timestamp %lld",
                             k, lb, (long long)t, (long long)s->points[k].t_ms);
                    return false;
                }
                if (!almost_eq(x->vals[j].v, s->points[k].v)) {
                    snprintf(
                        err, cap,
                        "expected float value at index %zu (t=%lld) for %s to be %g, but got %g", k,
                        (long long)t, lb, x->vals[j].v, s->points[k].v);
                    return false;
                }
                k++;
            }
            if (k != s->n_points) {
                snprintf(err, cap, "expected %zu float points for %s, but got %zu", k, lb,
                         s->n_points);
                return false;
            }
        }
        for (size_t k = 0; k < c->n_series; k++) {
            bool seen = false;
            for (size_t i = 0; i < v->n_mat && !seen; i++)
                seen = trn_labels_equal(&v->mat[i].labels, &c->series[k].labels);
            if (!seen) {
                fmt_ls(&c->series[k].labels, lb, sizeof lb);
                snprintf(err, cap, "expected metric %s not found", lb);
                return false;
            }
        }
        return true;
    }
    default:
        snprintf(err, cap, "no result");
        return false;
    }
}

static bool check_fail(const evalcase_t *c, const char *msg, char *err, size_t cap)
{
    if (c->fail_msg && strcmp(c->fail_msg, msg)) {
        snprintf(err, cap, "expected error \"%s\", got: %s", c->fail_msg, msg);
        return false;
    }
    if (c->fail_re && !regex_search(c->fail_re, msg)) {
        snprintf(err, cap, "expected error matching \"%s\", got: %s", c->fail_re, msg);
        return false;
    }
    for (size_t k = 0; k < c->n_ex; k++)
        if (c->ex[k].type == 1 && !expect_match(&c->ex[k], msg)) {
            snprintf(err, cap, "expected error matching \"%s\", got: %s", c->ex[k].text, msg);
            return false;
        }
    return true;
}

/* Sets @ t on every selector not under a subquery that already has one. */
static bool add_at(pq_expr_t *e, int64_t t, bool under_at_subq)
{
    bool unsafe = false;
    if (!e) return false;
    switch (e->kind) {
    case PQ_VSEL:
        if (!under_at_subq && e->at_kind == AT_NONE) {
            e->at_kind = AT_TS;
            e->at_ms = t;
        }
        break;
    case PQ_MSEL:
        unsafe |= add_at(e->inner, t, under_at_subq);
        break;
    case PQ_SUBQ: {
        if (!under_at_subq && e->at_kind == AT_NONE) {
            e->at_kind = AT_TS;
            e->at_ms = t;
        }
        unsafe |= add_at(e->inner, t, under_at_subq || e->at_kind != AT_NONE);
        break;
    }
    case PQ_CALL: {
        static const char *const bad[] = {
            "days_in_month", "day_of_month", "day_of_week", "day_of_year", "end",
            "hour",          "minute",       "month",       "year",        "predict_linear",
            "range",         "start",        "step",        "time",        "timestamp"};
        for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
            if (!strcmp(e->func->name, bad[k])) unsafe = true;
        for (size_t k = 0; k < e->n_args; k++)
            unsafe |= add_at(e->args[k], t, under_at_subq);
        break;
    }
    case PQ_AGG:
        unsafe |= add_at(e->param, t, under_at_subq);
        unsafe |= add_at(e->inner, t, under_at_subq);
        break;
    case PQ_BINARY:
        unsafe |= add_at(e->lhs, t, under_at_subq);
        unsafe |= add_at(e->rhs, t, under_at_subq);
        break;
    default:
        unsafe |= add_at(e->inner, t, under_at_subq);
        break;
    }
    return unsafe;
}

static bool sel_matches_hist(runner_t *r, const pq_expr_t *e)
{
    if (!e) return false;
    switch (e->kind) {
    case PQ_VSEL:
        for (size_t h = 0; h < r->n_hist; h++) {
            bool all = true;
            for (size_t k = 0; k < e->n_ms && all; k++)
                all = trn_matcher_matches_labels(&e->ms[k], &r->hist[h]);
            if (all) return true;
        }
        return false;
    case PQ_CALL:
        for (size_t k = 0; k < e->n_args; k++)
            if (sel_matches_hist(r, e->args[k])) return true;
        return false;
    case PQ_AGG:
        return sel_matches_hist(r, e->param) || sel_matches_hist(r, e->inner);
    case PQ_BINARY:
        return sel_matches_hist(r, e->lhs) || sel_matches_hist(r, e->rhs);
    default:
        return sel_matches_hist(r, e->inner);
    }
}

static int run_one(runner_t *r, const evalcase_t *c, const char *expr, int64_t t0, int64_t t1,
                   int64_t step, bool is_range, bool main_query, char *err, size_t cap)
{
    trn_arena_t *a = trn_arena_new(0);
    trn_diag_t d;
    trn_diag_init(&d);
    trn_promql_expr_t *e = NULL;
    int ok = 0;
    trn_promql_opts_t o = {
        .lookback_delta_ms = 5 * 60 * 1000, .subquery_step_ms = 60 * 1000, .timeout_ms = 100000};
    int rc = trn_promql_parse(expr, strlen(expr), a, &e, &d);
    if (rc == 0) {
        trn_promql_value_t v;
        rc = trn__pq_eval_text(r->st, e, t0, t1, step, is_range, &o, a, &v, &d, expr, strlen(expr));
        if (rc == 0) {
            if (c->fail) {
                snprintf(err, cap, "expected error evaluating query %s but got none", expr);
                ok = -1;
            } else if (!check_annos(c, &v, err, cap)) {
                ok = -1;
            } else if (!compare(c, &v, c->range_vector ? c->start : t0,
                                c->range_vector ? c->end : t1, c->range_vector ? c->step : step,
                                false, err, cap)) {
                ok = -1;
            } else if (!is_range && main_query && !c->exclude_range && !strstr(expr, "start()") &&
                       !strstr(expr, "end()") && !strstr(expr, "range()") &&
                       !strstr(expr, "step()") && v.type != TRN_PROMQL_STRING) {
                /* range mode check at the middle step */
                trn_promql_value_t rv;
                trn_diag_t d2;
                trn_diag_init(&d2);
                int rc2 = trn__pq_eval_text(r->st, e, t0 - 60000, t0 + 60000, 60000, true, &o, a,
                                            &rv, &d2, expr, strlen(expr));
                if (rc2 < 0) {
                    snprintf(err, cap, "error evaluating query %s in range mode: %s", expr, d2.msg);
                    ok = -1;
                } else if (!c->ordered) {
                    trn_promql_value_t iv;
                    memset(&iv, 0, sizeof iv);
                    iv.type = v.type == TRN_PROMQL_SCALAR ? TRN_PROMQL_SCALAR : TRN_PROMQL_VECTOR;
                    iv.vec = trn_arena_calloc(a, rv.n_mat + 1, sizeof *iv.vec);
                    for (size_t i = 0; i < rv.n_mat; i++)
                        for (size_t j = 0; j < rv.mat[i].n_points; j++)
                            if (rv.mat[i].points[j].t_ms == t0) {
                                iv.vec[iv.n_vec++] = (trn_promql_sample_t){rv.mat[i].labels, t0,
                                                                           rv.mat[i].points[j].v};
                                break;
                            }
                    if (iv.type == TRN_PROMQL_SCALAR) iv.scalar = iv.n_vec ? iv.vec[0].v : NAN;
                    if (!compare(c, &iv, t0, t0, 60000, false, err, cap)) {
                        size_t l = strlen(err);
                        snprintf(err + l, cap - l, " (range mode)");
                        ok = -1;
                    }
                }
            }
        } else if (c->fail) {
            if (!check_fail(c, d.msg, err, cap)) ok = -1;
        } else {
            snprintf(err, cap, "error evaluating query %s: %s", expr, d.msg);
            ok = -1;
        }
        trn_promql_expr_release(e);
    } else if (c->fail) {
        if (!check_fail(c, d.msg, err, cap)) ok = -1;
    } else {
        snprintf(err, cap, "error parsing %s: %s", expr, d.msg);
        ok = -1;
    }
    trn_arena_free(a);
    return ok;
}

static int run_eval(runner_t *r, evalcase_t *c, char *err, size_t cap, const char **skip)
{
    *skip = NULL;
    if (c->uses_hist_syntax || strstr(c->expr, "{{")) {
        *skip = "uses native histogram syntax {{...}}";
        return 0;
    }
    trn_arena_t *a = trn_arena_new(0);
    trn_diag_t d;
    trn_diag_init(&d);
    trn_promql_expr_t *e = NULL;
    if (trn_promql_parse(c->expr, strlen(c->expr), a, &e, &d) == 0) {
        bool h = sel_matches_hist(r, e);
        trn_promql_expr_release(e);
        if (h) {
            trn_arena_free(a);
            *skip = "selects series loaded with native histogram samples";
            return 0;
        }
    }
    trn_arena_free(a);
    if (c->is_range) return run_one(r, c, c->expr, c->start, c->end, c->step, true, true, err, cap);
    if (c->range_vector) return run_one(r, c, c->expr, c->end, c->end, 1000, false, true, err, cap);
    if (run_one(r, c, c->expr, c->start, c->start, 1000, false, true, err, cap) < 0) return -1;
    if (c->fail) return 0;
    /* @ variants */
    a = trn_arena_new(0);
    trn_diag_init(&d);
    int ret = 0;
    if (trn_promql_parse(c->expr, strlen(c->expr), a, &e, &d) == 0) {
        bool unsafe = add_at(e, c->start, false);
        if (!unsafe) {
            trn_buf_t b;
            trn_buf_init(&b);
            trn_promql_format(e, &b);
            int64_t ts = c->start;
            int64_t times[5] = {-10 * ts, 0, ts / 5, ts, 10 * ts};
            size_t nt = 5;
            if (ts == 0) {
                times[0] = -1000;
                times[1] = 0;
                times[2] = 1000;
                nt = 3;
            }
            for (size_t k = 0; k < nt && ret == 0; k++) {
                if (run_one(r, c, b.data, times[k], times[k], 1000, false, true, err, cap) < 0) {
                    size_t l = strlen(err);
                    snprintf(err + l, cap - l, " [@ variant at %lld]", (long long)times[k]);
                    ret = -1;
                }
            }
            trn_buf_fini(&b);
        }
        trn_promql_expr_release(e);
    }
    trn_arena_free(a);
    return ret;
}

static int parse_time(const char *s, int64_t *out)
{
    if (!strcmp(s, "0")) {
        *out = 0;
        return 0;
    }
    return trn_parse_duration(trn_str_c(s), out);
}

static int do_eval(runner_t *r, char **lines, size_t nl, size_t *i, trn_arena_t *fa)
{
    char *cmd = lines[*i];
    evalcase_t c;
    memset(&c, 0, sizeof c);
    c.line = (int)*i + 1;
    char *sp = strpbrk(cmd, " \t");
    if (!sp) return -1;
    size_t kwlen = (size_t)(sp - cmd);
    char kw[32];
    snprintf(kw, sizeof kw, "%.*s", (int)kwlen, cmd);
    if (!strcmp(kw, "eval_fail"))
        c.fail = true;
    else if (!strcmp(kw, "eval_ordered"))
        c.ordered = true;
    else if (!strcmp(kw, "eval_warn"))
        c.warn_flag = true;
    else if (!strcmp(kw, "eval_info"))
        c.info_flag = true;
    char *rest = trim(sp);
    if (!strncmp(rest, "instant", 7)) {
        rest = trim(rest + 7);
        if (!strncmp(rest, "at ", 3)) {
            rest = trim(rest + 3);
            char *e = strpbrk(rest, " \t");
            if (!e) return -1;
            *e = 0;
            if (parse_time(rest, &c.start) < 0) return -1;
            rest = trim(e + 1);
        }
        c.end = c.start;
        c.expr = rest;
    } else if (!strncmp(rest, "range", 5)) {
        c.is_range = true;
        char from[64], to[64], step[64];
        int used = 0;
        if (sscanf(rest, "range from %63s to %63s step %63s %n", from, to, step, &used) < 3)
            return -1;
        if (parse_time(from, &c.start) < 0 || parse_time(to, &c.end) < 0 ||
            parse_time(step, &c.step) < 0)
            return -1;
        c.expr = trim(rest + used);
    } else {
        return -1;
    }
    int j = 1;
    while (*i + 1 < nl && lines[*i + 1][0]) {
        (*i)++;
        char *l = lines[*i];
        if (strstr(l, "{{")) c.uses_hist_syntax = true;
        if (c.fail && !strncmp(l, "expected_fail_message", 21)) {
            c.fail_msg = trim(l + 21);
            break;
        }
        if (c.fail && !strncmp(l, "expected_fail_regexp", 20)) {
            c.fail_re = trim(l + 20);
            break;
        }
        if (!strncmp(l, "expect range vector", 19)) {
            char from[64], to[64], step[64];
            if (sscanf(l, "expect range vector from %63s to %63s step %63s", from, to, step) == 3) {
                parse_time(from, &c.start);
                parse_time(to, &c.end);
                parse_time(step, &c.step);
                c.range_vector = true;
                c.exclude_range = true;
                /* the eval time is the end */
            }
            continue;
        }
        if (!strncmp(l, "expect string", 13)) {
            char *s = trim(l + 13);
            trn_str_t out;
            if (trn__pq_unquote(s, strlen(s), fa, &out, NULL) > 0) c.string = (char *)out.p;
            c.expect_string = true;
            c.exclude_range = true;
            continue;
        }
        char first[32];
        sscanf(l, "%31s", first);
        if (!strcmp(first, "expect")) {
            if (c.n_ex >= 16) continue;
            expect_line_t *x = &c.ex[c.n_ex];
            char *p = trim(l + 6);
            static const char *const types[] = {"ordered", "fail", "warn",
                                                "no_warn", "info", "no_info"};
            int ty = -1;
            for (int k = 5; k >= 0; k--) {
                size_t tl = strlen(types[k]);
                if (!strncmp(p, types[k], tl) && (p[tl] == 0 || p[tl] == ' ' || p[tl] == '\t')) {
                    ty = k;
                    p = trim(p + tl);
                    break;
                }
            }
            if (ty < 0) continue;
            x->type = ty;
            if (!strncmp(p, "msg:", 4)) {
                x->has_msg = true;
                x->text = trim(p + 4);
            } else if (!strncmp(p, "regex:", 6)) {
                x->has_re = true;
                x->text = trim(p + 6);
            }
            if (ty == 0) c.ordered = true;
            if (ty == 1) c.fail = true;
            c.n_ex++;
            j--;
            j++;
            continue;
        }
        double num;
        if (parse_num(l, &num) || (l[0] == '0' && (l[1] == 'x' || l[1] == 'X'))) {
            if (l[0] == '0' && (l[1] == 'x' || l[1] == 'X')) num = (double)strtoll(l, NULL, 16);
            c.expect_scalar = true;
            c.scalar = num;
            break;
        }
        trn_labels_t ls;
        seqval_t *vals;
        size_t n;
        bool hist;
        if (!parse_series_line(l, fa, &ls, &vals, &n, &hist)) {
            free(vals);
            fprintf(stderr, "%s:%zu: cannot parse expected series\n", r->file, *i + 1);
            continue;
        }
        if (hist) c.uses_hist_syntax = true;
        if (c.n_series == c.cap_series) {
            c.cap_series = c.cap_series ? c.cap_series * 2 : 8;
            c.series = realloc(c.series, c.cap_series * sizeof *c.series);
        }
        seqval_t *kept = trn_arena_alloc(fa, (n ? n : 1) * sizeof *kept);
        if (n) memcpy(kept, vals, n * sizeof *kept);
        free(vals);
        c.series[c.n_series++] = (expseries_t){ls, kept, n, j};
        j++;
    }
    char err[1200];
    err[0] = 0;
    const char *skip = NULL;
    int rc = run_eval(r, &c, err, sizeof err, &skip);
    if (skip) {
        r->skipped++;
        fprintf(r->skipf, "  skip %s:%d: %s -- %s\n", r->file, c.line, c.expr, skip);
    } else if (rc < 0) {
        r->failed++;
        printf("  FAIL %s:%d: %s\n    %s\n", r->file, c.line, c.expr, err);
    } else {
        r->passed++;
    }
    free(c.series);
    return 0;
}

static int run_file(runner_t *r, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "promql: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    char **lines = NULL;
    size_t nl = 0, cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    while (getline(&line, &lcap, f) >= 0) {
        char *t = trim(line);
        if (t[0] == '#') t[0] = 0;
        if (nl == cap) {
            cap = cap ? cap * 2 : 256;
            lines = trn_xrealloc(lines, cap * sizeof *lines);
        }
        lines[nl++] = trn_xstrdup(t);
    }
    free(line);
    fclose(f);
    const char *base = strrchr(path, '/');
    r->file = base ? base + 1 : path;
    int p0 = r->passed, f0 = r->failed, s0 = r->skipped;
    store_reset(r);
    trn_arena_t *fa = trn_arena_new(0);
    for (size_t i = 0; i < nl; i++) {
        char *l = lines[i];
        if (!l[0]) continue;
        if (!strncasecmp(l, "clear", 5)) {
            store_reset(r);
        } else if (!strncmp(l, "load_with_nhcb", 14)) {
            do_load(r, lines, nl, &i, true);
        } else if (!strncmp(l, "load", 4)) {
            do_load(r, lines, nl, &i, false);
        } else if (!strncmp(l, "eval", 4)) {
            if (do_eval(r, lines, nl, &i, fa) < 0) {
                r->failed++;
                printf("  FAIL %s:%zu: cannot parse eval command\n", r->file, i + 1);
            }
        } else {
            printf("  FAIL %s:%zu: unknown command %s\n", r->file, i + 1, l);
            r->failed++;
        }
    }
    trn_arena_free(fa);
    for (size_t i = 0; i < nl; i++)
        free(lines[i]);
    free(lines);
    printf("%s: %d passed, %d failed, %d skipped\n", r->file, r->passed - p0, r->failed - f0,
           r->skipped - s0);
    fflush(stdout);
    return 0;
}

int trn_cmd_promql(int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "usage: trine promql FILE.test...\n");
        return 2;
    }
    runner_t r;
    memset(&r, 0, sizeof r);
    trn_log_set_level(TRN_LOG_WARN); /* one store per file: its open/replay notes are noise here */
    r.skipf = tmpfile();
    if (!r.skipf) r.skipf = stderr;
    for (int i = 0; i < argc; i++)
        if (run_file(&r, argv[i]) < 0) {
            printf("  FAIL %s: cannot read the file\n", argv[i]);
            r.failed++;
        }
    if (r.st) {
        trn_store_close(r.st);
        nftw(r.dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    }
    trn_arena_free(r.load_arena);
    if (r.skipf != stderr) {
        printf("skipped cases (%d):\n", r.skipped);
        rewind(r.skipf);
        char buf[4096];
        while (fgets(buf, sizeof buf, r.skipf))
            fputs(buf, stdout);
        fclose(r.skipf);
    }
    printf("promql: %d passed, %d failed\n", r.passed, r.failed);
    return r.failed ? 1 : 0;
}
