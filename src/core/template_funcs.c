/* SPDX-License-Identifier: Apache-2.0 */
/* The built-in template functions: Go text/template's own (and, or, not,
 * len, index, slice, print, printf, println, eq..ge, html, js, urlquery,
 * call), Prometheus's (query, first, value, label, strvalue, sortByLabel,
 * args, humanize*, match, reReplaceAll, title, toUpper, toLower,
 * safeHtml, stripPort, stripDomain, graphLink, tableLink, now,
 * externalURL, pathPrefix, parseDuration, urlQueryEscape) and the few
 * Alertmanager adds (join, trimSpace, safeUrl, urlUnescape, stringSlice).
 *
 * One sorted table maps names to functions; the parser resolves names
 * through it so an unknown function is a parse error, as in Go. Argument
 * checks mirror Go's reflection-based conversion: a string parameter
 * rejects a number ("wrong type for value; expected string; got int"),
 * comparisons reject mixed kinds ("incompatible types for comparison"),
 * and the humanize family converts numbers and numeric strings like
 * Prometheus's convertToFloat. Regular expressions are Go's RE2 syntax run
 * on PCRE2, unanchored, with Go's `$1`/`${name}` replacement rules.
 * Case mapping is ASCII-only. */
#include "core/template_int.h"

#include "core/err.h"
#include "core/timefmt.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FN(name) static int name(trn_tmpl_call_t *c, const trn_tval_t *a, size_t n, trn_tval_t *out)

static int want_n(trn_tmpl_call_t *c, size_t n, size_t want)
{
    if (n != want) return trn_tmpl_fail_argc(c, want, n, false);
    return 0;
}

static int want_str(trn_tmpl_call_t *c, const trn_tval_t *v, trn_str_t *s)
{
    *s = (trn_str_t){"", 0};
    if (v->kind != TRN_TV_STR)
        return trn_tmpl_fail(c, "wrong type for value; expected string; got %s",
                             trn__tmpl_type_name(v));
    *s = v->u.s;
    return 0;
}

static char *cstr(trn_tmpl_call_t *c, trn_str_t s)
{
    return trn_arena_strndup(trn_tmpl_call_arena(c), s.p ? s.p : "", s.len);
}

static int ret_buf(trn_tmpl_call_t *c, trn_buf_t *b, trn_tval_t *out)
{
    char *s = trn_arena_strndup(trn_tmpl_call_arena(c), b->data ? b->data : "", b->len);
    size_t len = b->len;
    trn_buf_fini(b);
    if (!s) return TRN_ELIMIT;
    *out = trn_tval_str((trn_str_t){s, len});
    return 0;
}

/* Prometheus's convertToFloat: numbers, and strings via strconv.ParseFloat. */
static int to_float(trn_tmpl_call_t *c, const trn_tval_t *v, double *f)
{
    switch (v->kind) {
    case TRN_TV_FLOAT:
        *f = v->u.f;
        return 0;
    case TRN_TV_INT:
        *f = (double)v->u.i;
        return 0;
    case TRN_TV_STR: {
        char *s = cstr(c, v->u.s);
        if (!s) return TRN_ELIMIT;
        char *end = NULL;
        errno = 0;
        double d = strtod(s, &end);
        bool ok = v->u.s.len > 0 && !isspace((unsigned char)s[0]) && end && !*end;
        /* C accepts "nan(...)" and "infinity" spellings Go rejects in part */
        if (ok && strchr(s, '(')) ok = false;
        if (!ok) return trn_tmpl_fail(c, "strconv.ParseFloat: parsing \"%s\": invalid syntax", s);
        *f = d;
        return 0;
    }
    default:
        return trn_tmpl_fail(c, "can't convert %s to float", trn__tmpl_type_name(v));
    }
}

/* ---- Go's builtins */

FN(f_and_or)
{
    (void)c;
    /* only reached when evaluated eagerly (never: the executor is lazy) */
    *out = n ? a[n - 1] : trn_tval_nil();
    return 0;
}

FN(f_not)
{
    if (want_n(c, n, 1) < 0) return TRN_EINVAL;
    *out = trn_tval_bool(!trn_tval_truth(&a[0]));
    return 0;
}

FN(f_len)
{
    if (want_n(c, n, 1) < 0) return TRN_EINVAL;
    switch (a[0].kind) {
    case TRN_TV_STR:
        *out = trn_tval_int((int64_t)a[0].u.s.len);
        return 0;
    case TRN_TV_LIST:
        *out = trn_tval_int((int64_t)a[0].u.list.n);
        return 0;
    case TRN_TV_MAP:
        if (a[0].flags & TRN_TV_STRUCT) break;
        *out = trn_tval_int((int64_t)a[0].u.map.n);
        return 0;
    case TRN_TV_NIL:
        return trn_tmpl_fail(c, "len of nil pointer");
    default:
        break;
    }
    return trn_tmpl_fail(c, "len of type %s", trn__tmpl_type_name(&a[0]));
}

FN(f_index)
{
    if (n < 1) return trn_tmpl_fail_argc(c, 1, 0, true);
    trn_tval_t v = a[0];
    if (v.kind == TRN_TV_NIL) return trn_tmpl_fail(c, "index of untyped nil");
    for (size_t i = 1; i < n; i++) {
        const trn_tval_t *ix = &a[i];
        if (v.kind == TRN_TV_LIST || v.kind == TRN_TV_STR) {
            if (ix->kind != TRN_TV_INT)
                return trn_tmpl_fail(c, "cannot index slice/array with type %s",
                                     trn__tmpl_type_name(ix));
            size_t len = v.kind == TRN_TV_LIST ? v.u.list.n : v.u.s.len;
            if (ix->u.i < 0 || (uint64_t)ix->u.i >= len)
                return trn_tmpl_fail(c, "index out of range: %lld", (long long)ix->u.i);
            if (v.kind == TRN_TV_LIST)
                v = v.u.list.v[ix->u.i];
            else
                v = trn_tval_int((unsigned char)v.u.s.p[ix->u.i]);
        } else if (v.kind == TRN_TV_MAP && !(v.flags & TRN_TV_STRUCT)) {
            if (ix->kind != TRN_TV_STR)
                return trn_tmpl_fail(c, "value has type %s; should be string",
                                     trn__tmpl_type_name(ix));
            const trn_tval_t *e = trn_tval_map_get(&v, ix->u.s);
            v = e ? *e : ((v.flags & TRN_TV_STRMAP) ? trn_tval_str(TRN_STR("")) : trn_tval_nil());
        } else if (v.kind == TRN_TV_NIL) {
            return trn_tmpl_fail(c, "index of nil pointer");
        } else {
            return trn_tmpl_fail(c, "can't index item of type %s", trn__tmpl_type_name(&v));
        }
    }
    *out = v;
    return 0;
}

FN(f_slice)
{
    if (n < 1) return trn_tmpl_fail_argc(c, 1, 0, true);
    const trn_tval_t *v = &a[0];
    size_t len;
    if (v->kind == TRN_TV_STR)
        len = v->u.s.len;
    else if (v->kind == TRN_TV_LIST)
        len = v->u.list.n;
    else
        return trn_tmpl_fail(c, "can't slice item of type %s", trn__tmpl_type_name(v));
    if (n > 3) return trn_tmpl_fail(c, "too many slice indexes: %zu", n - 1);
    int64_t ix[2] = {0, (int64_t)len};
    for (size_t i = 1; i < n; i++) {
        if (a[i].kind != TRN_TV_INT)
            return trn_tmpl_fail(c, "cannot index slice/array with type %s",
                                 trn__tmpl_type_name(&a[i]));
        if (a[i].u.i < 0 || (uint64_t)a[i].u.i > len)
            return trn_tmpl_fail(c, "index out of range: %lld", (long long)a[i].u.i);
        ix[i - 1] = a[i].u.i;
    }
    if (ix[0] > ix[1])
        return trn_tmpl_fail(c, "invalid slice index: %lld > %lld", (long long)ix[0],
                             (long long)ix[1]);
    *out = *v;
    if (v->kind == TRN_TV_STR) {
        out->u.s = (trn_str_t){v->u.s.p + ix[0], (size_t)(ix[1] - ix[0])};
    } else {
        out->u.list.v = v->u.list.v + ix[0];
        out->u.list.n = out->u.list.cap = (size_t)(ix[1] - ix[0]);
    }
    return 0;
}

FN(f_print)
{
    trn_buf_t b;
    trn_buf_init(&b);
    trn__tmpl_sprint(a, n, false, &b);
    return ret_buf(c, &b, out);
}

FN(f_println)
{
    trn_buf_t b;
    trn_buf_init(&b);
    trn__tmpl_sprint(a, n, true, &b);
    return ret_buf(c, &b, out);
}

FN(f_printf)
{
    trn_str_t f;
    if (n < 1) return trn_tmpl_fail_argc(c, 1, 0, true);
    if (want_str(c, &a[0], &f) < 0) return TRN_EINVAL;
    trn_buf_t b;
    trn_buf_init(&b);
    trn__tmpl_sprintf(f, a + 1, n - 1, &b);
    return ret_buf(c, &b, out);
}

/* Comparison kinds, as Go's basicKind. */
static int kind_of(const trn_tval_t *v)
{
    switch (v->kind) {
    case TRN_TV_BOOL:
        return 1;
    case TRN_TV_INT:
        return 2;
    case TRN_TV_FLOAT:
        return 3;
    case TRN_TV_STR:
        return 4;
    default:
        return 0;
    }
}

static int eq2(trn_tmpl_call_t *c, const trn_tval_t *x, const trn_tval_t *y, bool *res)
{
    int kx = kind_of(x), ky = kind_of(y);
    if (kx != ky) {
        if (x->kind != TRN_TV_NIL && y->kind != TRN_TV_NIL)
            return trn_tmpl_fail(c, "incompatible types for comparison");
        *res = x->kind == y->kind;
        return 0;
    }
    switch (kx) {
    case 1:
        *res = x->u.b == y->u.b;
        return 0;
    case 2:
        *res = x->u.i == y->u.i;
        return 0;
    case 3:
        *res = x->u.f == y->u.f;
        return 0;
    case 4:
        *res = trn_str_eq(x->u.s, y->u.s);
        return 0;
    default:
        if (x->kind == TRN_TV_NIL && y->kind == TRN_TV_NIL) {
            *res = true;
            return 0;
        }
        return trn_tmpl_fail(c, "non-comparable type %s: %s", trn__tmpl_type_name(x),
                             trn__tmpl_type_name(y));
    }
}

FN(f_eq)
{
    if (n < 2) return trn_tmpl_fail(c, "missing argument for comparison");
    for (size_t i = 1; i < n; i++) {
        bool r;
        if (eq2(c, &a[0], &a[i], &r) < 0) return TRN_EINVAL;
        if (r) {
            *out = trn_tval_bool(true);
            return 0;
        }
    }
    *out = trn_tval_bool(false);
    return 0;
}

FN(f_ne)
{
    if (want_n(c, n, 2) < 0) return TRN_EINVAL;
    bool r;
    if (eq2(c, &a[0], &a[1], &r) < 0) return TRN_EINVAL;
    *out = trn_tval_bool(!r);
    return 0;
}

static int less(trn_tmpl_call_t *c, const trn_tval_t *x, const trn_tval_t *y, bool *res)
{
    int kx = kind_of(x), ky = kind_of(y);
    if (kx == 0 || kx == 1 || ky == 0 || ky == 1)
        return trn_tmpl_fail(c, "invalid type for comparison");
    if (kx != ky) return trn_tmpl_fail(c, "incompatible types for comparison");
    if (kx == 2)
        *res = x->u.i < y->u.i;
    else if (kx == 3)
        *res = x->u.f < y->u.f;
    else
        *res = trn_str_cmp(x->u.s, y->u.s) < 0;
    return 0;
}

static int cmp_fn(trn_tmpl_call_t *c, const trn_tval_t *a, size_t n, trn_tval_t *out, int op)
{
    if (want_n(c, n, 2) < 0) return TRN_EINVAL;
    bool lt = false, eq = false;
    if (less(c, &a[0], &a[1], &lt) < 0) return TRN_EINVAL;
    if (op == 1 || op == 2) {
        if (eq2(c, &a[0], &a[1], &eq) < 0) return TRN_EINVAL;
    }
    bool r = op == 0 ? lt : op == 1 ? (lt || eq) : op == 2 ? !(lt || eq) : !lt;
    *out = trn_tval_bool(r);
    return 0;
}

FN(f_lt)
{
    return cmp_fn(c, a, n, out, 0);
}
FN(f_le)
{
    return cmp_fn(c, a, n, out, 1);
}
FN(f_gt)
{
    return cmp_fn(c, a, n, out, 2);
}
FN(f_ge)
{
    return cmp_fn(c, a, n, out, 3);
}

FN(f_html)
{
    trn_buf_t s, b;
    trn_buf_init(&s);
    trn_buf_init(&b);
    trn__tmpl_sprint(a, n, false, &s);
    for (size_t i = 0; i < s.len; i++) {
        char ch = s.data[i];
        switch (ch) {
        case '"':
            trn_buf_puts(&b, "&#34;");
            break;
        case '\'':
            trn_buf_puts(&b, "&#39;");
            break;
        case '&':
            trn_buf_puts(&b, "&amp;");
            break;
        case '<':
            trn_buf_puts(&b, "&lt;");
            break;
        case '>':
            trn_buf_puts(&b, "&gt;");
            break;
        case 0:
            trn_buf_puts(&b, "\xEF\xBF\xBD");
            break;
        default:
            trn_buf_putc(&b, ch);
        }
    }
    trn_buf_fini(&s);
    return ret_buf(c, &b, out);
}

FN(f_js)
{
    trn_buf_t s, b;
    trn_buf_init(&s);
    trn_buf_init(&b);
    trn__tmpl_sprint(a, n, false, &s);
    for (size_t i = 0; i < s.len; i++) {
        unsigned char ch = (unsigned char)s.data[i];
        switch (ch) {
        case '\\':
            trn_buf_puts(&b, "\\\\");
            break;
        case '\'':
            trn_buf_puts(&b, "\\'");
            break;
        case '"':
            trn_buf_puts(&b, "\\\"");
            break;
        case '<':
            trn_buf_puts(&b, "\\u003C");
            break;
        case '>':
            trn_buf_puts(&b, "\\u003E");
            break;
        case '&':
            trn_buf_puts(&b, "\\u0026");
            break;
        case '=':
            trn_buf_puts(&b, "\\u003D");
            break;
        default:
            if (ch < 0x20)
                trn_buf_printf(&b, "\\u%04X", ch);
            else
                trn_buf_putc(&b, (char)ch);
        }
    }
    trn_buf_fini(&s);
    return ret_buf(c, &b, out);
}

/* url.QueryEscape: unreserved bytes stay, space becomes '+'. */
static void query_escape(trn_str_t s, trn_buf_t *b, bool path)
{
    for (size_t i = 0; i < s.len; i++) {
        unsigned char ch = (unsigned char)s.p[i];
        if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~')
            trn_buf_putc(b, (char)ch);
        else if (ch == ' ' && !path)
            trn_buf_putc(b, '+');
        else
            trn_buf_printf(b, "%%%02X", ch);
    }
}

FN(f_urlquery)
{
    trn_buf_t s, b;
    trn_buf_init(&s);
    trn_buf_init(&b);
    trn__tmpl_sprint(a, n, false, &s);
    query_escape((trn_str_t){s.data ? s.data : "", s.len}, &b, false);
    trn_buf_fini(&s);
    return ret_buf(c, &b, out);
}

FN(f_url_query_escape)
{
    trn_str_t s;
    if (want_n(c, n, 1) < 0 || want_str(c, &a[0], &s) < 0) return TRN_EINVAL;
    trn_buf_t b;
    trn_buf_init(&b);
    query_escape(s, &b, false);
    return ret_buf(c, &b, out);
}

FN(f_call)
{
    if (n < 1) return trn_tmpl_fail_argc(c, 1, 0, true);
    if (a[0].kind != TRN_TV_FUNC)
        return trn_tmpl_fail(c, "non-function of type %s", trn__tmpl_type_name(&a[0]));
    return a[0].u.fn.fn(c, a + 1, n - 1, out);
}

/* ---- Prometheus: queries */

FN(f_query)
{
    trn_str_t q;
    if (want_n(c, n, 1) < 0 || want_str(c, &a[0], &q) < 0) return TRN_EINVAL;
    const trn_tmpl_env_t *env = trn__tmpl_call_env(c);
    if (!env->query) return trn_tmpl_fail(c, "no query engine");
    trn_diag_t d;
    trn_diag_init(&d);
    trn_tval_t l = trn_tval_list(trn_tmpl_call_arena(c), 0);
    int rc = env->query(env->query_ctx, q, env->now_ms, trn_tmpl_call_arena(c), &l, &d);
    if (rc < 0) return trn_tmpl_fail(c, "%s", d.msg[0] ? d.msg : trn_strerror(rc));
    l.type_name = "template.queryResult";
    *out = l;
    return 0;
}

static int want_sample(trn_tmpl_call_t *c, const trn_tval_t *v)
{
    if (v->kind != TRN_TV_MAP || !trn_tval_map_get(v, TRN_STR("Labels")))
        return trn_tmpl_fail(c, "wrong type for value; expected *template.sample; got %s",
                             trn__tmpl_type_name(v));
    return 0;
}

FN(f_first)
{
    if (want_n(c, n, 1) < 0) return TRN_EINVAL;
    if (a[0].kind != TRN_TV_LIST)
        return trn_tmpl_fail(c, "wrong type for value; expected template.queryResult; got %s",
                             trn__tmpl_type_name(&a[0]));
    if (a[0].u.list.n == 0) return trn_tmpl_fail(c, "first() called on vector with no elements");
    *out = a[0].u.list.v[0];
    return 0;
}

FN(f_label)
{
    trn_str_t name;
    if (want_n(c, n, 2) < 0 || want_str(c, &a[0], &name) < 0 || want_sample(c, &a[1]) < 0)
        return TRN_EINVAL;
    const trn_tval_t *v = trn_tval_map_get(trn_tval_map_get(&a[1], TRN_STR("Labels")), name);
    *out = v ? *v : trn_tval_str(TRN_STR(""));
    return 0;
}

FN(f_value)
{
    if (want_n(c, n, 1) < 0 || want_sample(c, &a[0]) < 0) return TRN_EINVAL;
    const trn_tval_t *v = trn_tval_map_get(&a[0], TRN_STR("Value"));
    *out = v ? *v : trn_tval_nil();
    return 0;
}

FN(f_strvalue)
{
    if (want_n(c, n, 1) < 0 || want_sample(c, &a[0]) < 0) return TRN_EINVAL;
    const trn_tval_t *v =
        trn_tval_map_get(trn_tval_map_get(&a[0], TRN_STR("Labels")), TRN_STR("__value__"));
    *out = v ? *v : trn_tval_str(TRN_STR(""));
    return 0;
}

static trn_str_t label_of(const trn_tval_t *s, trn_str_t name)
{
    const trn_tval_t *l = trn_tval_map_get(s, TRN_STR("Labels"));
    const trn_tval_t *v = l ? trn_tval_map_get(l, name) : NULL;
    return v && v->kind == TRN_TV_STR ? v->u.s : TRN_STR("");
}

FN(f_sort_by_label)
{
    trn_str_t name;
    if (want_n(c, n, 2) < 0 || want_str(c, &a[0], &name) < 0) return TRN_EINVAL;
    if (a[1].kind != TRN_TV_LIST)
        return trn_tmpl_fail(c, "wrong type for value; expected template.queryResult; got %s",
                             trn__tmpl_type_name(&a[1]));
    size_t k = a[1].u.list.n;
    trn_tval_t l = trn_tval_list(trn_tmpl_call_arena(c), k);
    if (k && !l.u.list.v) return TRN_ELIMIT;
    memcpy(l.u.list.v, a[1].u.list.v, k * sizeof *l.u.list.v);
    l.u.list.n = k;
    /* insertion sort: stable, and query results are small */
    for (size_t i = 1; i < k; i++) {
        trn_tval_t x = l.u.list.v[i];
        trn_str_t xs = label_of(&x, name);
        size_t j = i;
        while (j > 0 && trn_str_cmp(label_of(&l.u.list.v[j - 1], name), xs) > 0) {
            l.u.list.v[j] = l.u.list.v[j - 1];
            j--;
        }
        l.u.list.v[j] = x;
    }
    l.type_name = a[1].type_name;
    *out = l;
    return 0;
}

FN(f_args)
{
    trn_arena_t *ar = trn_tmpl_call_arena(c);
    trn_tval_t m = trn_tval_map(ar, n, 0);
    for (size_t i = 0; i < n; i++) {
        char *k = trn_arena_printf(ar, "arg%zu", i);
        if (!k || trn_tval_map_put(ar, &m, trn_str_c(k), a[i]) < 0) return TRN_ELIMIT;
    }
    trn_tval_map_seal(&m);
    *out = m;
    return 0;
}

/* ---- Prometheus: numbers */

typedef void humanize_fn(double v, trn_buf_t *out);

static int humanize_common(trn_tmpl_call_t *c, const trn_tval_t *a, size_t n, trn_tval_t *out,
                           humanize_fn *h)
{
    double v;
    if (want_n(c, n, 1) < 0) return TRN_EINVAL;
    int rc = to_float(c, &a[0], &v);
    if (rc < 0) return rc;
    trn_buf_t b;
    trn_buf_init(&b);
    h(v, &b);
    return ret_buf(c, &b, out);
}

FN(f_humanize)
{
    return humanize_common(c, a, n, out, trn_humanize);
}
FN(f_humanize1024)
{
    return humanize_common(c, a, n, out, trn_humanize1024);
}
FN(f_humanize_duration)
{
    return humanize_common(c, a, n, out, trn_humanize_duration);
}
FN(f_humanize_percentage)
{
    return humanize_common(c, a, n, out, trn_humanize_percentage);
}

FN(f_humanize_timestamp)
{
    double v;
    if (want_n(c, n, 1) < 0) return TRN_EINVAL;
    int rc = to_float(c, &a[0], &v);
    if (rc < 0) return rc;
    trn_buf_t b;
    trn_buf_init(&b);
    if (trn_humanize_timestamp(v, &b) < 0) {
        trn_buf_fini(&b);
        char num[40];
        trn_fmt_float_g(num, v);
        return trn_tmpl_fail(
            c, "%s cannot be represented as a nanoseconds timestamp since it overflows int64", num);
    }
    return ret_buf(c, &b, out);
}

FN(f_now)
{
    if (want_n(c, n, 0) < 0) return TRN_EINVAL;
    (void)a;
    *out = trn_tval_float((double)trn__tmpl_call_env(c)->now_ms / 1000.0);
    return 0;
}

FN(f_parse_duration)
{
    trn_str_t s;
    if (want_n(c, n, 1) < 0 || want_str(c, &a[0], &s) < 0) return TRN_EINVAL;
    bool neg = s.len > 0 && s.p[0] == '-';
    trn_str_t body = neg ? (trn_str_t){s.p + 1, s.len - 1} : s;
    int64_t ms;
    if (trn_parse_duration(body, &ms) < 0)
        return trn_tmpl_fail(c, "not a valid duration string: \"%.*s\"", (int)s.len, s.p);
    *out = trn_tval_float((double)(neg ? -ms : ms) / 1000.0);
    return 0;
}

/* ---- strings */

static int map_bytes(trn_tmpl_call_t *c, const trn_tval_t *a, size_t n, trn_tval_t *out, int mode)
{
    trn_str_t s;
    if (want_n(c, n, 1) < 0 || want_str(c, &a[0], &s) < 0) return TRN_EINVAL;
    char *o = trn_arena_alloc(trn_tmpl_call_arena(c), s.len + 1);
    if (!o) return TRN_ELIMIT;
    bool start = true;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char ch = (unsigned char)s.p[i];
        if (mode == 0)
            o[i] = (char)toupper(ch);
        else if (mode == 1)
            o[i] = (char)tolower(ch);
        else {
            o[i] = (char)(start && ch < 0x80 ? toupper(ch) : ch);
            start = !(isalnum(ch) || ch == '\'' || ch >= 0x80 || ch == '_');
        }
    }
    o[s.len] = 0;
    *out = trn_tval_str((trn_str_t){o, s.len});
    return 0;
}

FN(f_to_upper)
{
    return map_bytes(c, a, n, out, 0);
}
FN(f_to_lower)
{
    return map_bytes(c, a, n, out, 1);
}
FN(f_title)
{
    return map_bytes(c, a, n, out, 2);
}

FN(f_identity_str)
{
    trn_str_t s;
    if (want_n(c, n, 1) < 0 || want_str(c, &a[0], &s) < 0) return TRN_EINVAL;
    *out = trn_tval_str(s);
    return 0;
}

FN(f_trim_space)
{
    trn_str_t s;
    if (want_n(c, n, 1) < 0 || want_str(c, &a[0], &s) < 0) return TRN_EINVAL;
    while (s.len && isspace((unsigned char)s.p[0])) {
        s.p++;
        s.len--;
    }
    while (s.len && isspace((unsigned char)s.p[s.len - 1]))
        s.len--;
    *out = trn_tval_str(s);
    return 0;
}

FN(f_url_unescape)
{
    trn_str_t s;
    if (want_n(c, n, 1) < 0 || want_str(c, &a[0], &s) < 0) return TRN_EINVAL;
    trn_buf_t b;
    trn_buf_init(&b);
    for (size_t i = 0; i < s.len; i++) {
        if (s.p[i] == '%') {
            if (i + 2 >= s.len || !isxdigit((unsigned char)s.p[i + 1]) ||
                !isxdigit((unsigned char)s.p[i + 2])) {
                trn_buf_fini(&b);
                return trn_tmpl_fail(c, "invalid URL escape \"%.*s\"",
                                     (int)(s.len - i < 3 ? s.len - i : 3), s.p + i);
            }
            char hx[3] = {s.p[i + 1], s.p[i + 2], 0};
            trn_buf_putc(&b, (char)strtol(hx, NULL, 16));
            i += 2;
        } else if (s.p[i] == '+') {
            trn_buf_putc(&b, ' ');
        } else {
            trn_buf_putc(&b, s.p[i]);
        }
    }
    return ret_buf(c, &b, out);
}

FN(f_join)
{
    trn_str_t sep;
    if (want_n(c, n, 2) < 0 || want_str(c, &a[0], &sep) < 0) return TRN_EINVAL;
    if (a[1].kind != TRN_TV_LIST)
        return trn_tmpl_fail(c, "wrong type for value; expected []string; got %s",
                             trn__tmpl_type_name(&a[1]));
    trn_buf_t b;
    trn_buf_init(&b);
    for (size_t i = 0; i < a[1].u.list.n; i++) {
        const trn_tval_t *e = &a[1].u.list.v[i];
        if (e->kind != TRN_TV_STR) {
            trn_buf_fini(&b);
            return trn_tmpl_fail(c, "wrong type for value; expected string; got %s",
                                 trn__tmpl_type_name(e));
        }
        if (i) trn_buf_append(&b, sep.p, sep.len);
        trn_buf_append(&b, e->u.s.p, e->u.s.len);
    }
    return ret_buf(c, &b, out);
}

FN(f_string_slice)
{
    trn_tval_t l = trn_tval_list(trn_tmpl_call_arena(c), n);
    for (size_t i = 0; i < n; i++) {
        if (a[i].kind != TRN_TV_STR)
            return trn_tmpl_fail(c, "wrong type for value; expected string; got %s",
                                 trn__tmpl_type_name(&a[i]));
        if (trn_tval_list_push(trn_tmpl_call_arena(c), &l, a[i]) < 0) return TRN_ELIMIT;
    }
    *out = l;
    return 0;
}

/* net.SplitHostPort, enough for stripPort/stripDomain. */
static bool split_host_port(trn_str_t hp, trn_str_t *host, trn_str_t *port)
{
    const char *colon = NULL;
    for (size_t i = hp.len; i-- > 0;)
        if (hp.p[i] == ':') {
            colon = hp.p + i;
            break;
        }
    if (!colon) return false;
    trn_str_t h = {hp.p, (size_t)(colon - hp.p)};
    *port = (trn_str_t){colon + 1, hp.len - h.len - 1};
    if (h.len && h.p[0] == '[') {
        const char *close = memchr(h.p, ']', h.len);
        if (!close || close != h.p + h.len - 1) return false;
        *host = (trn_str_t){h.p + 1, h.len - 2};
        return true;
    }
    if (memchr(h.p, ':', h.len) || memchr(h.p, ']', h.len) || memchr(port->p, ']', port->len))
        return false;
    *host = h;
    return true;
}

static bool is_ip(trn_str_t h)
{
    if (memchr(h.p, ':', h.len)) return true;
    int dots = 0;
    for (size_t i = 0; i < h.len; i++) {
        if (h.p[i] == '.')
            dots++;
        else if (!isdigit((unsigned char)h.p[i]))
            return false;
    }
    return dots == 3;
}

FN(f_strip_port)
{
    trn_str_t s, host, port;
    if (want_n(c, n, 1) < 0 || want_str(c, &a[0], &s) < 0) return TRN_EINVAL;
    *out = trn_tval_str(split_host_port(s, &host, &port) ? host : s);
    return 0;
}

FN(f_strip_domain)
{
    trn_str_t s, host, port = {NULL, 0};
    if (want_n(c, n, 1) < 0 || want_str(c, &a[0], &s) < 0) return TRN_EINVAL;
    bool has_port = split_host_port(s, &host, &port);
    if (!has_port) {
        host = s;
        port = (trn_str_t){NULL, 0};
    }
    if (is_ip(host)) {
        *out = trn_tval_str(s);
        return 0;
    }
    const char *dot = memchr(host.p, '.', host.len);
    if (dot) host.len = (size_t)(dot - host.p);
    if (!port.len) {
        *out = trn_tval_str(host);
        return 0;
    }
    char *r = trn_arena_printf(trn_tmpl_call_arena(c), "%.*s:%.*s", (int)host.len, host.p,
                               (int)port.len, port.p);
    if (!r) return TRN_ELIMIT;
    *out = trn_tval_str(trn_str_c(r));
    return 0;
}

static int link(trn_tmpl_call_t *c, const trn_tval_t *a, size_t n, trn_tval_t *out, int tab)
{
    trn_str_t s;
    if (want_n(c, n, 1) < 0 || want_str(c, &a[0], &s) < 0) return TRN_EINVAL;
    trn_buf_t b;
    trn_buf_init(&b);
    trn_buf_puts(&b, "/graph?g0.expr=");
    query_escape(s, &b, false);
    trn_buf_printf(&b, "&g0.tab=%d", tab);
    return ret_buf(c, &b, out);
}

FN(f_graph_link)
{
    return link(c, a, n, out, 0);
}
FN(f_table_link)
{
    return link(c, a, n, out, 1);
}

FN(f_external_url)
{
    (void)a;
    if (want_n(c, n, 0) < 0) return TRN_EINVAL;
    const char *u = trn__tmpl_call_env(c)->external_url;
    *out = trn_tval_cstr(u ? u : "");
    return 0;
}

FN(f_path_prefix)
{
    (void)a;
    if (want_n(c, n, 0) < 0) return TRN_EINVAL;
    const char *u = trn__tmpl_call_env(c)->external_url;
    trn_str_t s = trn_str_c(u ? u : "");
    const char *p = strstr(s.p, "://");
    if (p) {
        const char *slash = strchr(p + 3, '/');
        s = slash ? trn_str_c(slash) : TRN_STR("");
    }
    *out = trn_tval_str(s);
    return 0;
}

/* ---- regular expressions */

static pcre2_code *re_compile(trn_tmpl_call_t *c, trn_str_t pat)
{
    int err;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)(pat.len ? pat.p : ""), pat.len,
                                   PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &err, &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(err, msg, sizeof msg);
        trn_tmpl_fail(c, "error parsing regexp: %s at offset %zu: `%.*s`", (char *)msg, (size_t)off,
                      (int)(pat.len > 200 ? 200 : pat.len), pat.p);
    }
    return re;
}

FN(f_match)
{
    trn_str_t pat, s;
    if (want_n(c, n, 2) < 0 || want_str(c, &a[0], &pat) < 0 || want_str(c, &a[1], &s) < 0)
        return TRN_EINVAL;
    pcre2_code *re = re_compile(c, pat);
    if (!re) return TRN_EINVAL;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int rc = pcre2_match(re, (PCRE2_SPTR)(s.len ? s.p : ""), s.len, 0, 0, md, NULL);
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    *out = trn_tval_bool(rc >= 0);
    return 0;
}

/* Go's Regexp.Expand: $name / ${name}, name = longest run of [A-Za-z0-9_];
 * a number selects a group, a name a named group; unknown -> empty; $$ -> $. */
static void expand(pcre2_code *re, trn_str_t tpl, trn_str_t subj, const PCRE2_SIZE *ov, int ngroups,
                   trn_buf_t *b)
{
    for (size_t i = 0; i < tpl.len; i++) {
        char ch = tpl.p[i];
        if (ch != '$' || i + 1 >= tpl.len) {
            trn_buf_putc(b, ch);
            continue;
        }
        if (tpl.p[i + 1] == '$') {
            trn_buf_putc(b, '$');
            i++;
            continue;
        }
        size_t j = i + 1, ns, ne;
        bool brace = tpl.p[j] == '{';
        if (brace) j++;
        ns = j;
        while (j < tpl.len && (isalnum((unsigned char)tpl.p[j]) || tpl.p[j] == '_'))
            j++;
        ne = j;
        if (ne == ns || (brace && (j >= tpl.len || tpl.p[j] != '}'))) {
            trn_buf_putc(b, ch); /* not a valid reference: literal '$' */
            continue;
        }
        i = brace ? j : j - 1;
        trn_str_t name = {tpl.p + ns, ne - ns};
        int g = -1;
        bool numeric = true;
        for (size_t k = 0; k < name.len; k++)
            if (!isdigit((unsigned char)name.p[k])) numeric = false;
        if (numeric) {
            if (name.len < 6) g = atoi(name.p);
        } else {
            char nm[128];
            if (name.len < sizeof nm) {
                memcpy(nm, name.p, name.len);
                nm[name.len] = 0;
                g = pcre2_substring_number_from_name(re, (PCRE2_SPTR)nm);
            }
        }
        if (g >= 0 && g < ngroups && ov[2 * g] != PCRE2_UNSET)
            trn_buf_append(b, subj.p + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
    }
}

FN(f_re_replace_all)
{
    trn_str_t pat, repl, s;
    if (want_n(c, n, 3) < 0 || want_str(c, &a[0], &pat) < 0 || want_str(c, &a[1], &repl) < 0 ||
        want_str(c, &a[2], &s) < 0)
        return TRN_EINVAL;
    pcre2_code *re = re_compile(c, pat);
    if (!re) return TRN_EINVAL;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    trn_buf_t b;
    trn_buf_init(&b);
    size_t pos = 0, copied = 0;
    bool have_prev = false;
    size_t prev_end = 0;
    const char *subj = s.len ? s.p : "";
    while (pos <= s.len) {
        int rc = pcre2_match(re, (PCRE2_SPTR)subj, s.len, pos, 0, md, NULL);
        if (rc < 0) break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t ms = ov[0], me = ov[1];
        if (ms == me && have_prev && ms == prev_end) {
            /* an empty match right after a match is skipped (Go) */
            if (pos >= s.len) break;
            pos++;
            while (pos < s.len && ((unsigned char)subj[pos] & 0xC0) == 0x80)
                pos++;
            continue;
        }
        trn_buf_append(&b, subj + copied, ms - copied);
        expand(re, repl, (trn_str_t){subj, s.len}, ov, rc, &b);
        copied = me;
        have_prev = true;
        prev_end = me;
        if (me > ms) {
            pos = me;
        } else {
            if (me >= s.len) break;
            pos = me + 1;
            while (pos < s.len && ((unsigned char)subj[pos] & 0xC0) == 0x80)
                pos++;
        }
    }
    trn_buf_append(&b, subj + copied, s.len - copied);
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return ret_buf(c, &b, out);
}

/* ---- the table (sorted by name for bisection) */

typedef struct builtin {
    const char *name;
    trn_tmpl_fn *fn;
} builtin_t;

static const builtin_t builtins[] = {
    {"and", f_and_or},
    {"args", f_args},
    {"call", f_call},
    {"eq", f_eq},
    {"externalURL", f_external_url},
    {"first", f_first},
    {"ge", f_ge},
    {"graphLink", f_graph_link},
    {"gt", f_gt},
    {"html", f_html},
    {"humanize", f_humanize},
    {"humanize1024", f_humanize1024},
    {"humanizeDuration", f_humanize_duration},
    {"humanizePercentage", f_humanize_percentage},
    {"humanizeTimestamp", f_humanize_timestamp},
    {"index", f_index},
    {"join", f_join},
    {"js", f_js},
    {"label", f_label},
    {"le", f_le},
    {"len", f_len},
    {"lt", f_lt},
    {"match", f_match},
    {"ne", f_ne},
    {"not", f_not},
    {"now", f_now},
    {"or", f_and_or},
    {"parseDuration", f_parse_duration},
    {"pathPrefix", f_path_prefix},
    {"print", f_print},
    {"printf", f_printf},
    {"println", f_println},
    {"query", f_query},
    {"reReplaceAll", f_re_replace_all},
    {"safeHtml", f_identity_str},
    {"safeUrl", f_identity_str},
    {"slice", f_slice},
    {"sortByLabel", f_sort_by_label},
    {"stringSlice", f_string_slice},
    {"stripDomain", f_strip_domain},
    {"stripPort", f_strip_port},
    {"strvalue", f_strvalue},
    {"tableLink", f_table_link},
    {"title", f_title},
    {"toLower", f_to_lower},
    {"toUpper", f_to_upper},
    {"trimSpace", f_trim_space},
    {"urlQueryEscape", f_url_query_escape},
    {"urlUnescape", f_url_unescape},
    {"urlquery", f_urlquery},
    {"value", f_value},
};

trn_tmpl_fn *trn__tmpl_builtin(trn_str_t name)
{
    size_t lo = 0, hi = sizeof builtins / sizeof builtins[0];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = trn_str_cmp(trn_str_c(builtins[mid].name), name);
        if (c == 0) return builtins[mid].fn;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}
