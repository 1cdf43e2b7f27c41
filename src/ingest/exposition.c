/* SPDX-License-Identifier: Apache-2.0 */
/* The exposition-format pull parser: Prometheus text 0.0.4 and
 * OpenMetrics 1.0 with one code path.
 *
 * The input is walked line by line (memchr for '\n'); each line is parsed
 * with a cursor bounded by the line's end, so no read can leave the line
 * and an error's column is the cursor's distance from the line start. A
 * sample line is
 *
 *     name [ "{" name "=" "value" { "," name "=" "value" } [","] "}" ] value [ts] [# exemplar]
 *
 * and the two formats differ only in details this file switches on
 * (p->om): OpenMetrics timestamps are float seconds (converted to ms with
 * rounding, where Prometheus truncates and so turns 1.001 s into 1000 ms),
 * exemplars (" # {labels} value [ts]") are only legal there, "# EOF" ends
 * the input and must be present, type names come from a larger set, and
 * HELP also unescapes \". In the text format "# EOF" is an ordinary
 * comment. Comments other than HELP/TYPE/UNIT are skipped in both.
 *
 * Values follow Go's strconv.ParseFloat as Prometheus uses it: decimal and
 * exponent forms, Inf/Infinity/NaN in any case with an optional sign, no
 * hex floats and no '_' digit separators. Plain integers up to 15 digits
 * take a fast path that skips strtod.
 *
 * Nothing is allocated per line: the label arrays are sized once at
 * max_labels, names and values are views into the input, and only values
 * that contain escapes are copied (unescaped) into a scratch arena that is
 * rewound at every call. Labels are returned sorted, with __name__ included
 * and labels with empty values dropped (the store's contract); duplicate
 * names are an error. Errors are sticky: once trn_expo_next has failed it
 * keeps returning that error and trn_expo_line keeps naming the line. */
#include "ingest/exposition.h"

#include "core/alloc.h"
#include "core/err.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_MAX_LABELS 256

struct trn_expo_parser {
    const char *buf;
    size_t len;
    size_t pos; /* start of the next line */
    bool om;
    size_t max_labels;
    int line;          /* 1-based number of the current line */
    const char *ls;    /* start of the current line */
    trn_label_t *lab;  /* max_labels + 1 entries */
    trn_label_t *elab; /* exemplar labels, same size */
    trn_arena_t *scratch;
    trn_arena_mark_t scratch0;
    int err;   /* sticky error code, 0 if none */
    bool done; /* "# EOF" seen or input exhausted */
    trn_diag_t err_diag;
};

typedef struct cursor {
    const char *p, *end;
} cursor_t;

trn_expo_parser_t *trn_expo_parser_new(const char *buf, size_t len, trn_expo_format_t fmt,
                                       size_t max_labels)
{
    trn_expo_parser_t *p = trn_xcalloc(1, sizeof *p);
    p->buf = buf;
    p->len = len;
    p->om = fmt == TRN_EXPO_OPENMETRICS;
    p->max_labels = max_labels ? max_labels : DEFAULT_MAX_LABELS;
    p->lab = trn_xmalloc((p->max_labels + 1) * sizeof *p->lab);
    p->elab = trn_xmalloc((p->max_labels + 1) * sizeof *p->elab);
    p->scratch = trn_arena_new(0);
    p->scratch0 = trn_arena_mark(p->scratch);
    trn_diag_init(&p->err_diag);
    return p;
}

void trn_expo_parser_free(trn_expo_parser_t *p)
{
    if (!p) return;
    free(p->lab);
    free(p->elab);
    trn_arena_free(p->scratch);
    free(p);
}

trn_expo_format_t trn_expo_format_from_content_type(const char *ct)
{
    if (!ct) return TRN_EXPO_TEXT;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    static const char om[] = "application/openmetrics-text";
    if (strncasecmp(ct, om, sizeof om - 1) == 0) return TRN_EXPO_OPENMETRICS;
    return TRN_EXPO_TEXT;
}

int trn_expo_line(const trn_expo_parser_t *p)
{
    return p->line;
}

/* Records an error at cursor position at (within the current line). */
__attribute__((format(printf, 4, 5))) static int fail(trn_expo_parser_t *p, const char *at,
                                                      int code, const char *fmt, ...)
{
    char msg[TRN_DIAG_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int col = (int)(at - p->ls) + 1;
    trn_diag_set_at(&p->err_diag, code, p->line, col, "line %d:%d: %s", p->line, col, msg);
    p->err = code;
    return code;
}

static void skip_ws(cursor_t *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
}

static bool is_name_start(char ch, bool metric)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
           (metric && ch == ':');
}

static bool is_name_char(char ch, bool metric)
{
    return is_name_start(ch, metric) || (ch >= '0' && ch <= '9');
}

/* Reads a name token; returns false (no error recorded) if none is there. */
static bool read_name(cursor_t *c, bool metric, trn_str_t *out)
{
    if (c->p >= c->end || !is_name_start(*c->p, metric)) return false;
    const char *s = c->p++;
    while (c->p < c->end && is_name_char(*c->p, metric))
        c->p++;
    out->p = s;
    out->len = (size_t)(c->p - s);
    return true;
}

/* Printable excerpt of what is at the cursor, for error messages. */
static int excerpt_len(const cursor_t *c)
{
    size_t n = (size_t)(c->end - c->p);
    return (int)(n > 24 ? 24 : n);
}

/* Unescapes in[0..n) into the scratch arena. In label values (and OM help)
 * \\, \" and \n are escapes; in text-format help only \\ and \n. Unknown
 * escapes are kept as written, as Prometheus does. */
static int unescape(trn_expo_parser_t *p, const char *in, size_t n, bool quote_escape,
                    trn_str_t *out)
{
    char *o = trn_arena_alloc(p->scratch, n ? n : 1);
    if (!o) return fail(p, in, TRN_ELIMIT, "out of scratch memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = in[i];
        if (ch == '\\' && i + 1 < n) {
            char e = in[i + 1];
            if (e == '\\' || e == 'n' || (e == '"' && quote_escape)) {
                o[k++] = e == 'n' ? '\n' : e;
                i++;
                continue;
            }
        }
        o[k++] = ch;
    }
    out->p = o;
    out->len = k;
    return 0;
}

/* True if p[0..n) is all ASCII (checked a word at a time). */
static bool is_ascii(const char *s, size_t n)
{
    uint64_t acc = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        acc |= w;
    }
    for (; i < n; i++)
        acc |= (unsigned char)s[i];
    return (acc & UINT64_C(0x8080808080808080)) == 0;
}

/* Reads a double-quoted string at the cursor (which is on the quote). */
static int read_quoted(trn_expo_parser_t *p, cursor_t *c, trn_str_t *out)
{
    const char *open = c->p++;
    bool esc = false;
    const char *s = c->p;
    while (c->p < c->end && *c->p != '"') {
        if (*c->p == '\\') {
            esc = true;
            if (c->p + 1 < c->end) c->p++;
        }
        c->p++;
    }
    if (c->p >= c->end) return fail(p, open, TRN_EINVAL, "unterminated quoted string");
    size_t n = (size_t)(c->p - s);
    c->p++; /* closing quote */
    if (!is_ascii(s, n) && !trn_utf8_valid(s, n))
        return fail(p, s, TRN_EINVAL, "invalid UTF-8 in label value");
    if (!esc) {
        out->p = s;
        out->len = n;
        return 0;
    }
    return unescape(p, s, n, true, out);
}

/* Parses "{...}" at the cursor into v[*n...]; the first label slot may be
 * taken already (the metric name). Exemplar sets may not set __name__. */
static int read_labels(trn_expo_parser_t *p, cursor_t *c, trn_label_t *v, size_t *n)
{
    c->p++; /* '{' */
    for (;;) {
        skip_ws(c);
        if (c->p < c->end && *c->p == '}') {
            c->p++;
            return 0;
        }
        trn_label_t l;
        if (c->p < c->end && *c->p == '"')
            return fail(p, c->p, TRN_EINVAL,
                        "quoted (UTF-8) metric and label names are not supported");
        if (!read_name(c, false, &l.name)) {
            if (c->p >= c->end) return fail(p, c->p, TRN_EINVAL, "unterminated label set");
            return fail(p, c->p, TRN_EINVAL, "invalid label name, got \"%.*s\"", excerpt_len(c),
                        c->p);
        }
        skip_ws(c);
        if (c->p >= c->end || *c->p != '=')
            return fail(p, c->p, TRN_EINVAL, "expected '=' after label name \"%.*s\"",
                        (int)l.name.len, l.name.p);
        c->p++;
        skip_ws(c);
        if (c->p >= c->end || *c->p != '"')
            return fail(p, c->p, TRN_EINVAL, "expected quoted label value for \"%.*s\"",
                        (int)l.name.len, l.name.p);
        int rc = read_quoted(p, c, &l.value);
        if (rc < 0) return rc;
        if (*n >= p->max_labels)
            return fail(p, l.name.p, TRN_ELIMIT, "more than %zu labels", p->max_labels);
        v[(*n)++] = l;
        skip_ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (c->p < c->end && *c->p == '}') continue;
        if (c->p >= c->end) return fail(p, c->p, TRN_EINVAL, "unterminated label set");
        return fail(p, c->p, TRN_EINVAL, "expected ',' or '}' after label value, got \"%.*s\"",
                    excerpt_len(c), c->p);
    }
}

/* Token up to whitespace (or '{' / end). */
static trn_str_t read_token(cursor_t *c)
{
    const char *s = c->p;
    while (c->p < c->end && *c->p != ' ' && *c->p != '\t')
        c->p++;
    return (trn_str_t){s, (size_t)(c->p - s)};
}

/* Go ParseFloat subset (see the file comment). */
static bool parse_float(trn_str_t t, double *out)
{
    if (t.len == 0 || t.len > 400) return false;
    if (t.len <= 15) {
        uint64_t x = 0;
        size_t i = 0;
        for (; i < t.len && t.p[i] >= '0' && t.p[i] <= '9'; i++)
            x = x * 10 + (uint64_t)(t.p[i] - '0');
        if (i == t.len) {
            *out = (double)x;
            return true;
        }
    }
    for (size_t i = 0; i < t.len; i++) {
        char ch = t.p[i];
        if (!(isdigit((unsigned char)ch) || ch == '.' || ch == 'e' || ch == 'E' || ch == '+' ||
              ch == '-' || strchr("infatyINFATY", ch)))
            return false;
    }
    char tmp[401];
    memcpy(tmp, t.p, t.len);
    tmp[t.len] = 0;
    const char *s = tmp + (tmp[0] == '+' || tmp[0] == '-');
    if (!strcasecmp(s, "inf") || !strcasecmp(s, "infinity")) {
        *out = tmp[0] == '-' ? -INFINITY : INFINITY;
        return true;
    }
    if (!strcasecmp(s, "nan")) {
        *out = NAN;
        return true;
    }
    char *e;
    double v = strtod(tmp, &e);
    if (e != tmp + t.len || isinf(v) || isnan(v)) {
        /* Out-of-range decimal forms overflow to Inf as Go reports ErrRange. */
        return false;
    }
    *out = v;
    return true;
}

static bool parse_int64(trn_str_t t, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (t.len && (t.p[0] == '-' || t.p[0] == '+')) neg = t.p[i++] == '-';
    if (i == t.len || t.len - i > 19) return false;
    uint64_t x = 0;
    for (; i < t.len; i++) {
        if (t.p[i] < '0' || t.p[i] > '9') return false;
        x = x * 10 + (uint64_t)(t.p[i] - '0');
    }
    if (x > (uint64_t)INT64_MAX + neg) return false;
    *out = neg ? (int64_t)(0 - x) : (int64_t)x;
    return true;
}

/* A timestamp token: int ms (text) or float seconds (OpenMetrics). */
static int parse_ts(trn_expo_parser_t *p, trn_str_t t, int64_t *ms)
{
    if (!p->om) {
        if (!parse_int64(t, ms))
            return fail(p, t.p, TRN_EINVAL, "invalid timestamp \"%.*s\" (want integer ms)",
                        (int)(t.len > 40 ? 40 : t.len), t.p);
        return 0;
    }
    double s;
    if (!parse_float(t, &s) || isnan(s) || isinf(s) || fabs(s) > 9.2e15)
        return fail(p, t.p, TRN_EINVAL, "invalid timestamp \"%.*s\" (want seconds)",
                    (int)(t.len > 40 ? 40 : t.len), t.p);
    *ms = (int64_t)llround(s * 1000.0);
    return 0;
}

/* Sorts labels by name and rejects duplicates; drops empty values. */
static int finish_labels(trn_expo_parser_t *p, trn_labels_t *ls)
{
    /* Exposition labels usually come sorted already; check before sorting,
     * letting distinct first bytes decide without a memcmp call. */
    for (size_t i = 1; i < ls->n; i++) {
        const trn_str_t *x = &ls->v[i - 1].name, *y = &ls->v[i].name;
        bool in_order = x->p[0] != y->p[0] ? (unsigned char)x->p[0] < (unsigned char)y->p[0]
                                           : trn_str_cmp(*x, *y) <= 0;
        if (!in_order) {
            trn_labels_sort(ls);
            break;
        }
    }
    for (size_t i = 1; i < ls->n; i++)
        if (trn_str_eq(ls->v[i - 1].name, ls->v[i].name))
            return fail(p, ls->v[i].name.p, TRN_EINVAL, "duplicate label name \"%.*s\"",
                        (int)ls->v[i].name.len, ls->v[i].name.p);
    trn_labels_drop_empty(ls);
    return 0;
}

static int parse_sample(trn_expo_parser_t *p, cursor_t *c, trn_expo_sample_t *s)
{
    size_t n = 0;
    trn_str_t name = {0};
    if (c->p < c->end && *c->p != '{') {
        if (*c->p == '"')
            return fail(p, c->p, TRN_EINVAL,
                        "quoted (UTF-8) metric and label names are not supported");
        if (!read_name(c, true, &name))
            return fail(p, c->p, TRN_EINVAL, "invalid metric name, got \"%.*s\"", excerpt_len(c),
                        c->p);
        p->lab[n++] = (trn_label_t){TRN_STR(TRN_METRIC_NAME), name};
    }
    skip_ws(c);
    if (c->p < c->end && *c->p == '{') {
        int rc = read_labels(p, c, p->lab, &n);
        if (rc < 0) return rc;
    }
    trn_labels_t ls = {p->lab, n};
    int rc = finish_labels(p, &ls);
    if (rc < 0) return rc;
    trn_str_t mn = trn_labels_get(&ls, TRN_METRIC_NAME);
    if (!mn.p) return fail(p, p->ls, TRN_EINVAL, "sample without a metric name");
    if (!name.p && !trn_metric_name_valid(mn))
        return fail(p, mn.p, TRN_EINVAL, "invalid metric name \"%.*s\"",
                    (int)(mn.len > 64 ? 64 : mn.len), mn.p);

    skip_ws(c);
    if (c->p >= c->end) return fail(p, c->p, TRN_EINVAL, "expected a value after the series");
    trn_str_t vt = read_token(c);
    if (!parse_float(vt, &s->value))
        return fail(p, vt.p, TRN_EINVAL, "invalid value \"%.*s\"", (int)(vt.len > 40 ? 40 : vt.len),
                    vt.p);
    s->labels = ls;
    s->has_timestamp = false;
    s->t_ms = 0;
    s->has_exemplar = false;
    s->exemplar_labels = (trn_labels_t){p->elab, 0};
    s->exemplar_value = 0;
    s->exemplar_has_ts = false;
    s->exemplar_t_ms = 0;

    skip_ws(c);
    if (c->p < c->end && *c->p != '#') {
        trn_str_t tt = read_token(c);
        if ((rc = parse_ts(p, tt, &s->t_ms)) < 0) return rc;
        s->has_timestamp = true;
        skip_ws(c);
    }
    if (c->p >= c->end) return 0;
    if (*c->p != '#' || !p->om)
        return fail(p, c->p, TRN_EINVAL, "unexpected \"%.*s\" after the sample", excerpt_len(c),
                    c->p);

    /* OpenMetrics exemplar: "# {labels} value [timestamp]". */
    c->p++;
    skip_ws(c);
    if (c->p >= c->end || *c->p != '{')
        return fail(p, c->p, TRN_EINVAL, "expected '{' to start exemplar labels");
    size_t en = 0;
    if ((rc = read_labels(p, c, p->elab, &en)) < 0) return rc;
    trn_labels_t els = {p->elab, en};
    if ((rc = finish_labels(p, &els)) < 0) return rc;
    skip_ws(c);
    trn_str_t ev = read_token(c);
    if (!parse_float(ev, &s->exemplar_value))
        return fail(p, ev.p, TRN_EINVAL, "invalid exemplar value \"%.*s\"",
                    (int)(ev.len > 40 ? 40 : ev.len), ev.p);
    skip_ws(c);
    if (c->p < c->end) {
        trn_str_t et = read_token(c);
        if ((rc = parse_ts(p, et, &s->exemplar_t_ms)) < 0) return rc;
        s->exemplar_has_ts = true;
        skip_ws(c);
        if (c->p < c->end)
            return fail(p, c->p, TRN_EINVAL, "unexpected \"%.*s\" after the exemplar",
                        excerpt_len(c), c->p);
    }
    s->has_exemplar = true;
    s->exemplar_labels = els;
    return 0;
}

static bool valid_type(const trn_expo_parser_t *p, trn_str_t t)
{
    static const char *const text_types[] = {"counter", "gauge", "histogram", "summary", "untyped"};
    static const char *const om_types[] = {"counter", "gauge", "histogram", "gaugehistogram",
                                           "summary", "info",  "stateset",  "unknown"};
    const char *const *v = p->om ? om_types : text_types;
    size_t n = p->om ? 8 : 5;
    for (size_t i = 0; i < n; i++)
        if (trn_str_eqc(t, v[i])) return true;
    return false;
}

/* "# ..." lines. Returns an entry kind, -100 for "skip this comment", or an
 * error. c is just past the '#'. */
static int parse_comment(trn_expo_parser_t *p, cursor_t *c, trn_expo_meta_t *m)
{
    if (c->p >= c->end || (*c->p != ' ' && *c->p != '\t')) return -100;
    skip_ws(c);
    trn_str_t kw = {c->p, 0};
    while (c->p < c->end && *c->p != ' ' && *c->p != '\t')
        c->p++;
    kw.len = (size_t)(c->p - kw.p);
    int kind;
    if (trn_str_eqc(kw, "HELP"))
        kind = TRN_EXPO_HELP;
    else if (trn_str_eqc(kw, "TYPE"))
        kind = TRN_EXPO_TYPE;
    else if (p->om && trn_str_eqc(kw, "UNIT"))
        kind = TRN_EXPO_UNIT;
    else if (p->om && trn_str_eqc(kw, "EOF")) {
        skip_ws(c);
        if (c->p < c->end) return fail(p, c->p, TRN_EINVAL, "unexpected text after # EOF");
        return TRN_EXPO_EOF;
    } else
        return -100;
    if (c->p >= c->end) {
        /* "# HELP" alone is a comment in the text format, an error in OpenMetrics. */
        if (!p->om) return -100;
        return fail(p, c->p, TRN_EINVAL, "expected metric name after %.*s", (int)kw.len, kw.p);
    }
    skip_ws(c);
    trn_str_t name;
    if (!read_name(c, true, &name))
        return fail(p, c->p, TRN_EINVAL, "expected metric name after %.*s, got \"%.*s\"",
                    (int)kw.len, kw.p, excerpt_len(c), c->p);
    if (c->p < c->end && *c->p != ' ' && *c->p != '\t')
        return fail(p, c->p, TRN_EINVAL, "invalid character in metric name");
    if (c->p < c->end) c->p++; /* one separator; the rest belongs to the text */
    if (!p->om || kind != TRN_EXPO_HELP) skip_ws(c);
    trn_str_t text = {c->p, (size_t)(c->end - c->p)};
    if (kind != TRN_EXPO_HELP) {
        while (text.len && (text.p[text.len - 1] == ' ' || text.p[text.len - 1] == '\t'))
            text.len--;
    }
    m->metric = name;
    if (kind == TRN_EXPO_TYPE) {
        if (!valid_type(p, text))
            return fail(p, text.p, TRN_EINVAL, "invalid metric type \"%.*s\"",
                        (int)(text.len > 40 ? 40 : text.len), text.p);
        m->text = text;
    } else if (kind == TRN_EXPO_HELP) {
        if (!trn_utf8_valid(text.p, text.len))
            return fail(p, text.p, TRN_EINVAL, "help text is not valid UTF-8");
        int rc = memchr(text.p, '\\', text.len) ? unescape(p, text.p, text.len, p->om, &m->text)
                                                : (m->text = text, 0);
        if (rc < 0) return rc;
    } else {
        if (text.len && !(name.len > text.len + 1 &&
                          memcmp(name.p + name.len - text.len, text.p, text.len) == 0 &&
                          name.p[name.len - text.len - 1] == '_'))
            return fail(p, text.p, TRN_EINVAL, "unit \"%.*s\" is not a suffix of metric \"%.*s\"",
                        (int)(text.len > 40 ? 40 : text.len), text.p, (int)name.len, name.p);
        m->text = text;
    }
    return kind;
}

int trn_expo_next(trn_expo_parser_t *p, trn_expo_sample_t *s, trn_expo_meta_t *m, trn_diag_t *d)
{
    if (p->err) {
        if (d && d->code == 0) *d = p->err_diag;
        return p->err;
    }
    trn_arena_reset(p->scratch, p->scratch0);
    while (!p->done) {
        if (p->pos >= p->len) {
            p->done = true;
            if (p->om) {
                /* Point just past the data: the start of a new line after a
                 * final newline, or the end of an unterminated last line. */
                if (p->len == 0 || p->buf[p->len - 1] == '\n') {
                    p->line++;
                    p->ls = p->buf + p->len;
                }
                fail(p, p->buf + p->len, TRN_EINVAL, "data does not end with # EOF");
                if (d && d->code == 0) *d = p->err_diag;
                return p->err;
            }
            break;
        }
        const char *ls = p->buf + p->pos;
        const char *nl = memchr(ls, '\n', p->len - p->pos);
        const char *le = nl ? nl : p->buf + p->len;
        p->pos = nl ? (size_t)(nl - p->buf) + 1 : p->len;
        p->line++;
        p->ls = ls;
        if (le > ls && le[-1] == '\r') le--;
        cursor_t c = {ls, le};
        skip_ws(&c);
        if (c.p >= c.end) continue; /* blank lines are tolerated in both formats */
        int rc;
        if (*c.p == '#') {
            c.p++;
            rc = parse_comment(p, &c, m);
            if (rc == -100) continue;
            if (rc == TRN_EXPO_EOF) {
                p->done = true;
                /* Anything but one trailing newline after "# EOF" is an error. */
                if (p->pos < p->len) {
                    p->line++;
                    p->ls = p->buf + p->pos;
                    rc = fail(p, p->ls, TRN_EINVAL, "unexpected data after # EOF");
                }
            }
        } else {
            rc = parse_sample(p, &c, s);
            if (rc == 0) rc = TRN_EXPO_SAMPLE;
        }
        if (rc < 0 && d && d->code == 0) *d = p->err_diag;
        return rc;
    }
    return TRN_EXPO_EOF;
}
