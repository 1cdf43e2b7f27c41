/* SPDX-License-Identifier: Apache-2.0 */
/* Template parser: Go text/template source into the tree of
 * template_int.h.
 *
 * The lexer and the parser are one recursive-descent pass. Text runs
 * between "{{" and "}}" become TEXT nodes; "{{- " and " -}}" trim the
 * whitespace next to them, and comment actions ({{/ * ... * /}}, without
 * the spaces) vanish. Inside an
 * action the lexer hands out tokens on demand; each remembers whether
 * whitespace preceded it, because `$x.A` (a field of $x) and `$x .A` (two
 * operands) differ only by that space. Control structures (if / else if /
 * range / with / define / block / template / break / continue) recurse;
 * `{{else if c}}` is parsed as an else branch holding one nested if that
 * shares the outer {{end}}, which is how Go desugars it.
 *
 * Like Go, the parser rejects unknown functions and undefined variables,
 * so `trine check-config` reports them with a line before any alert fires.
 * Variable scopes follow Go: a declaration lives until the end of the
 * enclosing control structure. Nesting is capped (TMPL_MAX_DEPTH) so
 * hostile input cannot exhaust the C stack. Everything is allocated from
 * the set's arena; a spent arena surfaces as TRN_ELIMIT. */
#include "core/template_int.h"

#include "core/err.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TMPL_MAX_DEPTH 100

typedef enum {
    T_EOF,
    T_RIGHT, /* }} */
    T_IDENT,
    T_FIELD, /* .Name: s is Name */
    T_DOT,
    T_VAR, /* $name: s is "$name" */
    T_STRING,
    T_CHAR,
    T_NUMBER,
    T_PIPE,
    T_LPAREN,
    T_RPAREN,
    T_DECLARE,
    T_ASSIGN,
    T_COMMA,
} tok_kind_t;

typedef struct tok {
    tok_kind_t kind;
    int pos, end;
    bool space_before;
    bool trim_right; /* T_RIGHT was " -}}" */
    trn_str_t s;
} tok_t;

typedef struct parser {
    trn_tmpl_t *t;
    trn_arena_t *a;
    const char *name; /* template name for messages */
    const char *src;
    int len;
    int p;
    trn_diag_t *d;
    bool failed;
    bool trim_next; /* the last action ended with " -}}" */
    int depth;
    int range_depth;
    trn_str_t *vars;
    size_t n_vars, cap_vars;
    bool top_level; /* parsing the top of a source, where define is allowed */
    bool keep_top;  /* false for parse_more: top-level text is dropped */
} parser_t;

static int line_of(const parser_t *P, int pos)
{
    int line = 1;
    for (int i = 0; i < pos && i < P->len; i++)
        if (P->src[i] == '\n') line++;
    return line;
}

static int perr(parser_t *P, int pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int perr(parser_t *P, int pos, const char *fmt, ...)
{
    if (P->failed) return TRN_EINVAL;
    P->failed = true;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line = line_of(P, pos);
    int col = 1;
    for (int i = pos - 1; i >= 0 && P->src[i] != '\n'; i--)
        col++;
    trn_diag_set_at(P->d, TRN_EINVAL, line, col, "template: %s:%d: %s", P->name, line, msg);
    if (P->d) P->d->offset = pos;
    return TRN_EINVAL;
}

static void *palloc(parser_t *P, size_t n)
{
    void *p = trn_arena_calloc(P->a, 1, n);
    if (!p && !P->failed) {
        P->failed = true;
        trn_diag_set(P->d, TRN_ELIMIT, -1, "template: %s: parse memory budget exceeded", P->name);
    }
    return p;
}

static int list_push(parser_t *P, tlist_t *l, tnode_t *n)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 4;
        tnode_t **v = trn_arena_grow(P->a, l->v, l->cap * sizeof *v, nc * sizeof *v);
        if (!v) return palloc(P, SIZE_MAX / 2) ? 0 : TRN_ELIMIT;
        l->v = v;
        l->cap = nc;
    }
    l->v[l->n++] = n;
    return 0;
}

static tnode_t *node_new(parser_t *P, tnode_kind_t k, int pos)
{
    tnode_t *n = palloc(P, sizeof *n);
    if (n) {
        n->kind = k;
        n->pos = pos;
    }
    return n;
}

/* ---- variables in scope */

static int var_push(parser_t *P, trn_str_t name)
{
    if (P->n_vars == P->cap_vars) {
        size_t nc = P->cap_vars ? P->cap_vars * 2 : 8;
        trn_str_t *v = trn_arena_grow(P->a, P->vars, P->cap_vars * sizeof *v, nc * sizeof *v);
        if (!v) return palloc(P, SIZE_MAX / 2) ? 0 : TRN_ELIMIT;
        P->vars = v;
        P->cap_vars = nc;
    }
    P->vars[P->n_vars++] = name;
    return 0;
}

static bool var_known(const parser_t *P, trn_str_t name)
{
    for (size_t i = P->n_vars; i-- > 0;)
        if (trn_str_eq(P->vars[i], name)) return true;
    return false;
}

/* ---- lexer */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Decodes the UTF-8 rune at s (n bytes left); returns its length. */
static int rune_at(const char *s, int n, uint32_t *r)
{
    unsigned char c0 = (unsigned char)s[0];
    int len = c0 < 0x80 ? 1 : c0 >= 0xF0 ? 4 : c0 >= 0xE0 ? 3 : c0 >= 0xC0 ? 2 : 1;
    if (len > n) len = 1;
    if (len == 1) {
        *r = c0;
        return 1;
    }
    uint32_t v = c0 & (0x7F >> len);
    for (int i = 1; i < len; i++)
        v = (v << 6) | ((unsigned char)s[i] & 0x3F);
    *r = v;
    return len;
}

/* Identifier characters: ASCII letters, digits, '_' and non-ASCII runes
 * outside the Latin-1 symbols and the general punctuation/space blocks
 * (an approximation of Go's unicode.IsLetter that rejects U+00A0 & co). */
static bool is_alnum_(unsigned char c)
{
    return c == '_' || isalnum(c) || c >= 0x80;
}

static bool ident_rune_ok(const parser_t *P, int at, uint32_t *bad)
{
    uint32_t r;
    rune_at(P->src + at, P->len - at, &r);
    *bad = r;
    if (r < 0x80) return true;
    if (r <= 0xBF || r == 0xD7 || r == 0xF7) return false;
    if ((r >= 0x2000 && r <= 0x206F) || r == 0x3000 || r == 0xFEFF) return false;
    return true;
}

/* At P->p inside an action: whitespace possibly ending in " -}}". */
static int lex(parser_t *P, tok_t *t)
{
    const char *s = P->src;
    int start = P->p;
    while (P->p < P->len && is_space(s[P->p])) {
        if (P->p + 3 <= P->len && s[P->p + 1] == '-' && s[P->p + 2] == '}' && P->p + 3 < P->len &&
            s[P->p + 3] == '}') {
            t->kind = T_RIGHT;
            t->pos = P->p + 1;
            t->trim_right = true;
            t->space_before = true;
            P->p += 4;
            t->end = P->p;
            return 0;
        }
        P->p++;
    }
    memset(t, 0, sizeof *t);
    t->space_before = P->p > start;
    t->pos = P->p;
    if (P->p >= P->len) return perr(P, P->p, "unclosed action");
    char c = s[P->p];
    if (c == '}' && P->p + 1 < P->len && s[P->p + 1] == '}') {
        t->kind = T_RIGHT;
        P->p += 2;
    } else if (c == '|') {
        t->kind = T_PIPE;
        P->p++;
    } else if (c == '(') {
        t->kind = T_LPAREN;
        P->p++;
    } else if (c == ')') {
        t->kind = T_RPAREN;
        P->p++;
    } else if (c == ',') {
        t->kind = T_COMMA;
        P->p++;
    } else if (c == ':' && P->p + 1 < P->len && s[P->p + 1] == '=') {
        t->kind = T_DECLARE;
        P->p += 2;
    } else if (c == '=') {
        t->kind = T_ASSIGN;
        P->p++;
    } else if (c == '"' || c == '`' || c == '\'') {
        int q = P->p++;
        while (P->p < P->len && s[P->p] != c) {
            if (c != '`' && s[P->p] == '\\' && P->p + 1 < P->len)
                P->p++;
            else if (c != '`' && s[P->p] == '\n')
                break;
            P->p++;
        }
        if (P->p >= P->len || s[P->p] != c)
            return perr(P, q,
                        c == '\'' ? "unterminated character constant"
                                  : (c == '`' ? "unterminated raw quoted string"
                                              : "unterminated quoted string"));
        P->p++;
        t->kind = c == '\'' ? T_CHAR : T_STRING;
        t->s = (trn_str_t){s + q, (size_t)(P->p - q)};
    } else if (c == '$') {
        P->p++;
        while (P->p < P->len && is_alnum_((unsigned char)s[P->p]))
            P->p++;
        t->kind = T_VAR;
        t->s = (trn_str_t){s + t->pos, (size_t)(P->p - t->pos)};
    } else if (c == '.' && !(P->p + 1 < P->len && isdigit((unsigned char)s[P->p + 1]))) {
        P->p++;
        if (P->p < P->len && is_alnum_((unsigned char)s[P->p])) {
            int f = P->p;
            while (P->p < P->len && is_alnum_((unsigned char)s[P->p]))
                P->p++;
            t->kind = T_FIELD;
            t->s = (trn_str_t){s + f, (size_t)(P->p - f)};
        } else {
            t->kind = T_DOT;
        }
    } else if (isdigit((unsigned char)c) || c == '.' ||
               ((c == '+' || c == '-') && P->p + 1 < P->len &&
                (isdigit((unsigned char)s[P->p + 1]) || s[P->p + 1] == '.'))) {
        P->p++;
        while (P->p < P->len) {
            char e = s[P->p];
            if (isalnum((unsigned char)e) || e == '.' || e == '_') {
                P->p++;
            } else if ((e == '+' || e == '-') && strchr("eEpP", s[P->p - 1]) &&
                       !(s[t->pos] == '0' && P->p > t->pos + 1 &&
                         (s[t->pos + 1] == 'x' || s[t->pos + 1] == 'X') && s[P->p - 1] != 'p' &&
                         s[P->p - 1] != 'P')) {
                P->p++;
            } else {
                break;
            }
        }
        t->kind = T_NUMBER;
        t->s = (trn_str_t){s + t->pos, (size_t)(P->p - t->pos)};
    } else if (is_alnum_((unsigned char)c)) {
        uint32_t bad;
        if (!ident_rune_ok(P, P->p, &bad))
            return perr(P, P->p, "unrecognized character in action: U+%04X", bad);
        while (P->p < P->len && is_alnum_((unsigned char)s[P->p]))
            P->p++;
        t->kind = T_IDENT;
        t->s = (trn_str_t){s + t->pos, (size_t)(P->p - t->pos)};
    } else if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f) {
        return perr(P, P->p, "unexpected \"%c\" in command", c);
    } else {
        uint32_t r;
        rune_at(s + P->p, P->len - P->p, &r);
        return perr(P, P->p, "unrecognized character in action: U+%04X", r);
    }
    t->end = P->p;
    return 0;
}

static int peek(parser_t *P, tok_t *t)
{
    int save = P->p;
    int rc = lex(P, t);
    P->p = save;
    return rc;
}

/* ---- literals */

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static void put_utf8(char *o, size_t *n, uint32_t r)
{
    if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) r = 0xFFFD;
    if (r < 0x80) {
        o[(*n)++] = (char)r;
    } else if (r < 0x800) {
        o[(*n)++] = (char)(0xC0 | (r >> 6));
        o[(*n)++] = (char)(0x80 | (r & 0x3F));
    } else if (r < 0x10000) {
        o[(*n)++] = (char)(0xE0 | (r >> 12));
        o[(*n)++] = (char)(0x80 | ((r >> 6) & 0x3F));
        o[(*n)++] = (char)(0x80 | (r & 0x3F));
    } else {
        o[(*n)++] = (char)(0xF0 | (r >> 18));
        o[(*n)++] = (char)(0x80 | ((r >> 12) & 0x3F));
        o[(*n)++] = (char)(0x80 | ((r >> 6) & 0x3F));
        o[(*n)++] = (char)(0x80 | (r & 0x3F));
    }
}

/* Go's strconv.Unquote for "...", `...` and '.' (the last into *rune). */
static int unquote(parser_t *P, const tok_t *t, trn_str_t *out, int64_t *rune)
{
    const char *s = t->s.p + 1;
    size_t n = t->s.len - 2;
    char q = t->s.p[0];
    if (q == '`') {
        *out = (trn_str_t){s, n};
        return 0;
    }
    char *o = palloc(P, n + 4);
    if (!o) return TRN_ELIMIT;
    size_t k = 0;
    int64_t last = -1;
    int count = 0;
    for (size_t i = 0; i < n;) {
        count++;
        if (s[i] != '\\') {
            last = (unsigned char)s[i];
            if (q == '\'' && (unsigned char)s[i] >= 0x80) {
                /* decode one UTF-8 rune for a char constant */
                unsigned char c0 = (unsigned char)s[i];
                int len = c0 >= 0xF0 ? 4 : c0 >= 0xE0 ? 3 : 2;
                uint32_t r = c0 & (0x3F >> (len - 1));
                for (int j = 1; j < len && i + (size_t)j < n; j++)
                    r = (r << 6) | ((unsigned char)s[i + (size_t)j] & 0x3F);
                last = r;
                memcpy(o + k, s + i, (size_t)len <= n - i ? (size_t)len : n - i);
                k += (size_t)len <= n - i ? (size_t)len : n - i;
                i += (size_t)len;
                continue;
            }
            o[k++] = s[i++];
            continue;
        }
        if (i + 1 >= n) return perr(P, t->pos, "invalid syntax");
        char e = s[i + 1];
        i += 2;
        uint32_t r = 0;
        int digits = 0, base = 16;
        switch (e) {
        case 'a':
            r = 7;
            break;
        case 'b':
            r = 8;
            break;
        case 'f':
            r = 12;
            break;
        case 'n':
            r = 10;
            break;
        case 'r':
            r = 13;
            break;
        case 't':
            r = 9;
            break;
        case 'v':
            r = 11;
            break;
        case '\\':
            r = '\\';
            break;
        case '"':
        case '\'':
            if (e != q) return perr(P, t->pos, "invalid syntax");
            r = (uint32_t)e;
            break;
        case 'x':
            digits = 2;
            break;
        case 'u':
            digits = 4;
            break;
        case 'U':
            digits = 8;
            break;
        default:
            if (e >= '0' && e <= '7') {
                digits = 3;
                base = 8;
                i--;
                break;
            }
            return perr(P, t->pos, "invalid syntax");
        }
        if (digits) {
            if (i + (size_t)digits > n) return perr(P, t->pos, "invalid syntax");
            for (int j = 0; j < digits; j++) {
                int h = hexval(s[i + (size_t)j]);
                if (h < 0 || h >= base) return perr(P, t->pos, "invalid syntax");
                r = r * (uint32_t)base + (uint32_t)h;
            }
            i += (size_t)digits;
            if ((e == 'x' || base == 8) && r > 255) return perr(P, t->pos, "invalid syntax");
            if (e == 'x' || base == 8) {
                o[k++] = (char)r; /* a raw byte, as Go */
                last = r;
                continue;
            }
        }
        last = r;
        put_utf8(o, &k, r);
    }
    if (q == '\'') {
        if (count != 1)
            return perr(P, t->pos, "malformed character constant: %.*s", (int)t->s.len, t->s.p);
        *rune = last;
        return 0;
    }
    o[k] = 0;
    *out = (trn_str_t){o, k};
    return 0;
}

static int parse_number(parser_t *P, const tok_t *t, targ_t *arg)
{
    char buf[80];
    size_t k = 0;
    bool is_float = false, hex = false;
    if (t->s.len >= sizeof buf)
        return perr(P, t->pos, "illegal number syntax: \"%.*s\"", (int)t->s.len, t->s.p);
    for (size_t i = 0; i < t->s.len; i++) {
        char c = t->s.p[i];
        if (c == '_') continue;
        buf[k++] = c;
    }
    buf[k] = 0;
    const char *b = buf + (buf[0] == '+' || buf[0] == '-');
    hex = b[0] == '0' && (b[1] == 'x' || b[1] == 'X');
    if (hex)
        is_float = strpbrk(b, ".pP") != NULL;
    else
        is_float = strpbrk(b, ".eE") != NULL;
    char *end = NULL;
    errno = 0;
    if (!is_float) {
        int base = 10;
        const char *digits = b;
        if (hex) {
            base = 16;
            digits = b + 2;
        } else if (b[0] == '0' && (b[1] == 'o' || b[1] == 'O')) {
            base = 8;
            digits = b + 2;
        } else if (b[0] == '0' && (b[1] == 'b' || b[1] == 'B')) {
            base = 2;
            digits = b + 2;
        } else if (b[0] == '0' && b[1]) {
            base = 8;
            digits = b + 1;
        }
        if (*digits) {
            unsigned long long u = strtoull(digits, &end, base);
            if (end && !*end && errno == 0 &&
                u <= (unsigned long long)INT64_MAX + (buf[0] == '-')) {
                arg->kind = TA_INT;
                arg->i = buf[0] == '-' ? (int64_t)(0 - u) : (int64_t)u;
                return 0;
            }
            if (end && !*end && errno == ERANGE) {
                /* too large for an int: Go keeps it as a float constant */
                arg->kind = TA_FLOAT;
                arg->f = strtod(buf, NULL);
                return 0;
            }
        }
        return perr(P, t->pos, "illegal number syntax: \"%.*s\"", (int)t->s.len, t->s.p);
    }
    double f = strtod(buf, &end);
    if (!end || *end || !isfinite(f))
        return perr(P, t->pos, "illegal number syntax: \"%.*s\"", (int)t->s.len, t->s.p);
    arg->kind = TA_FLOAT;
    arg->f = f;
    return 0;
}

/* ---- pipelines */

static int parse_pipeline(parser_t *P, tok_kind_t end, bool allow_decl, bool is_range,
                          tpipe_t **out, tok_t *end_tok);

/* Consumes the field tokens that follow without a space; `first` makes
 * the next token part of the chain even after a space (a .Field operand). */
static int field_chain(parser_t *P, targ_t *arg, bool first)
{
    tok_t t;
    size_t cap = 0;
    trn_str_t *f = (trn_str_t *)arg->fields;
    for (;; first = false) {
        if (peek(P, &t) < 0) return TRN_EINVAL;
        if (t.kind != T_FIELD || (t.space_before && !first)) break;
        lex(P, &t);
        if (arg->n_fields == cap) {
            size_t nc = cap ? cap * 2 : 2;
            trn_str_t *g = trn_arena_grow(P->a, f, cap * sizeof *f, nc * sizeof *f);
            if (!g) return palloc(P, SIZE_MAX / 2) ? 0 : TRN_ELIMIT;
            f = g;
            cap = nc;
        }
        f[arg->n_fields++] = t.s;
        arg->end = t.end;
    }
    arg->fields = f;
    return 0;
}

static bool is_keyword(trn_str_t s)
{
    static const char *const kw[] = {"if",       "else",  "end",   "range",    "with", "define",
                                     "template", "block", "break", "continue", NULL};
    for (int i = 0; kw[i]; i++)
        if (trn_str_eqc(s, kw[i])) return true;
    return false;
}

static trn_tmpl_fn *lookup_func(const parser_t *P, trn_str_t name)
{
    if (P->t->extra)
        for (const trn_tmpl_func_t *f = P->t->extra; f->name; f++)
            if (trn_str_eqc(name, f->name)) return f->fn;
    return trn__tmpl_builtin(name);
}

/* One operand; returns 1 if the next token does not start an operand. */
static int parse_operand(parser_t *P, targ_t *arg)
{
    tok_t t;
    if (peek(P, &t) < 0) return TRN_EINVAL;
    memset(arg, 0, sizeof *arg);
    arg->pos = t.pos;
    arg->end = t.end;
    switch (t.kind) {
    case T_FIELD:
        arg->kind = TA_FIELD;
        return field_chain(P, arg, true);
    case T_DOT:
        lex(P, &t);
        arg->kind = TA_DOT;
        if (peek(P, &t) < 0) return TRN_EINVAL;
        if (t.kind == T_FIELD && !t.space_before) return perr(P, t.pos, "unexpected . after term");
        return 0;
    case T_VAR:
        lex(P, &t);
        if (!var_known(P, t.s))
            return perr(P, t.pos, "undefined variable \"%.*s\"", (int)t.s.len, t.s.p);
        arg->kind = TA_VAR;
        arg->s = t.s;
        return field_chain(P, arg, false);
    case T_IDENT:
        lex(P, &t);
        if (trn_str_eqc(t.s, "true") || trn_str_eqc(t.s, "false")) {
            arg->kind = TA_BOOL;
            arg->b = trn_str_eqc(t.s, "true");
        } else if (trn_str_eqc(t.s, "nil")) {
            arg->kind = TA_NIL;
        } else if (is_keyword(t.s)) {
            return perr(P, t.pos, "unexpected <%.*s> in command", (int)t.s.len, t.s.p);
        } else {
            arg->kind = TA_FUNC;
            arg->s = t.s;
            arg->fn = lookup_func(P, t.s);
            if (!arg->fn)
                return perr(P, t.pos, "function \"%.*s\" not defined", (int)t.s.len, t.s.p);
            arg->is_and_or = trn_str_eqc(t.s, "and") || trn_str_eqc(t.s, "or");
            arg->is_or = trn_str_eqc(t.s, "or");
        }
        break;
    case T_STRING:
        lex(P, &t);
        arg->kind = TA_STR;
        if (unquote(P, &t, &arg->s, NULL) < 0) return TRN_EINVAL;
        break;
    case T_CHAR:
        lex(P, &t);
        arg->kind = TA_INT;
        if (unquote(P, &t, NULL, &arg->i) < 0) return TRN_EINVAL;
        break;
    case T_NUMBER:
        lex(P, &t);
        if (parse_number(P, &t, arg) < 0) return TRN_EINVAL;
        break;
    case T_LPAREN: {
        lex(P, &t);
        if (++P->depth > TMPL_MAX_DEPTH) return perr(P, t.pos, "max nesting depth exceeded");
        tok_t close;
        if (parse_pipeline(P, T_RPAREN, false, false, &arg->pipe, &close) < 0) return TRN_EINVAL;
        P->depth--;
        arg->kind = TA_PIPE;
        arg->end = close.end;
        return field_chain(P, arg, false);
    }
    default:
        return 1;
    }
    if (peek(P, &t) < 0) return TRN_EINVAL;
    if (t.kind == T_FIELD && !t.space_before) return perr(P, t.pos, "unexpected . after term");
    return 0;
}

static int parse_command(parser_t *P, tcmd_t *cmd)
{
    size_t cap = 0;
    memset(cmd, 0, sizeof *cmd);
    tok_t t;
    if (peek(P, &t) < 0) return TRN_EINVAL;
    cmd->pos = t.pos;
    for (;;) {
        targ_t arg;
        int rc = parse_operand(P, &arg);
        if (rc < 0) return rc;
        if (rc == 1) break;
        if (cmd->n == cap) {
            size_t nc = cap ? cap * 2 : 4;
            targ_t *g = trn_arena_grow(P->a, cmd->args, cap * sizeof *g, nc * sizeof *g);
            if (!g) return palloc(P, SIZE_MAX / 2) ? 0 : TRN_ELIMIT;
            cmd->args = g;
            cap = nc;
        }
        cmd->args[cmd->n++] = arg;
        cmd->end = arg.end;
    }
    if (peek(P, &t) < 0) return TRN_EINVAL;
    if (cmd->n == 0) {
        if (t.kind == T_PIPE || t.kind == T_RIGHT || t.kind == T_RPAREN)
            return perr(P, t.pos, "missing value for command");
        return perr(P, t.pos, "unexpected \"%.*s\" in operand",
                    t.end - t.pos > 0 ? t.end - t.pos : 1, P->src + t.pos);
    }
    return 0;
}

static int parse_pipeline(parser_t *P, tok_kind_t end, bool allow_decl, bool is_range,
                          tpipe_t **out, tok_t *end_tok)
{
    tpipe_t *pp = palloc(P, sizeof *pp);
    if (!pp) return TRN_ELIMIT;
    tok_t t;
    if (peek(P, &t) < 0) return TRN_EINVAL;
    pp->pos = t.pos;
    if (allow_decl && t.kind == T_VAR) {
        int save = P->p;
        tok_t v1, op;
        lex(P, &v1);
        if (peek(P, &op) < 0) return TRN_EINVAL;
        if (op.kind == T_COMMA && is_range) {
            lex(P, &op);
            tok_t v2;
            if (lex(P, &v2) < 0) return TRN_EINVAL;
            if (v2.kind != T_VAR) return perr(P, v2.pos, "range can only initialize variables");
            if (lex(P, &op) < 0) return TRN_EINVAL;
            if (op.kind != T_DECLARE && op.kind != T_ASSIGN)
                return perr(P, op.pos, "expected := or = in range");
            pp->vars[0] = v1.s;
            pp->vars[1] = v2.s;
            pp->n_vars = 2;
            pp->is_assign = op.kind == T_ASSIGN;
        } else if (op.kind == T_DECLARE || op.kind == T_ASSIGN) {
            lex(P, &op);
            pp->vars[0] = v1.s;
            pp->n_vars = 1;
            pp->is_assign = op.kind == T_ASSIGN;
        } else {
            P->p = save;
        }
        for (int i = 0; i < pp->n_vars; i++) {
            if (pp->is_assign) {
                if (!var_known(P, pp->vars[i]))
                    return perr(P, v1.pos, "undefined variable \"%.*s\"", (int)pp->vars[i].len,
                                pp->vars[i].p);
            } else if (var_push(P, pp->vars[i]) < 0) {
                return TRN_ELIMIT;
            }
        }
    }
    size_t cap = 0;
    for (;;) {
        tcmd_t cmd;
        if (parse_command(P, &cmd) < 0) return TRN_EINVAL;
        if (pp->n == cap) {
            size_t nc = cap ? cap * 2 : 2;
            tcmd_t *g = trn_arena_grow(P->a, pp->cmds, cap * sizeof *g, nc * sizeof *g);
            if (!g) return palloc(P, SIZE_MAX / 2) ? 0 : TRN_ELIMIT;
            pp->cmds = g;
            cap = nc;
        }
        pp->cmds[pp->n++] = cmd;
        if (lex(P, &t) < 0) return TRN_EINVAL;
        if (t.kind == T_PIPE) continue;
        if (t.kind == end) break;
        if (t.kind == T_RIGHT) return perr(P, t.pos, "unclosed left paren");
        if (t.kind == T_RPAREN) return perr(P, t.pos, "unexpected right paren");
        return perr(P, t.pos, "unexpected \"%.*s\" in command", t.end - t.pos, P->src + t.pos);
    }
    for (size_t i = 1; i < pp->n; i++) {
        targ_kind_t k = pp->cmds[i].args[0].kind;
        if (k != TA_FUNC && k != TA_FIELD && k != TA_VAR && k != TA_PIPE)
            return perr(P, pp->cmds[i].pos, "non executable command in pipeline stage %zu", i + 1);
    }
    pp->end = pp->cmds[pp->n - 1].end; /* the pipeline's text, without the closing token */
    *end_tok = t;
    *out = pp;
    return 0;
}

/* ---- lists and control structures */

typedef enum { END_EOF, END_END, END_ELSE } list_end_t;

static int parse_list(parser_t *P, tlist_t *l, list_end_t *how, int *how_pos);

static int expect_right(parser_t *P, const char *ctx)
{
    tok_t t;
    if (lex(P, &t) < 0) return TRN_EINVAL;
    if (t.kind != T_RIGHT)
        return perr(P, t.pos, "unexpected \"%.*s\" in %s", t.end - t.pos, P->src + t.pos, ctx);
    P->trim_next = t.trim_right;
    return 0;
}

static int parse_control(parser_t *P, tnode_kind_t kind, int pos, tnode_t **out)
{
    size_t vmark = P->n_vars;
    tnode_t *n = node_new(P, kind, pos);
    if (!n) return TRN_ELIMIT;
    if (++P->depth > TMPL_MAX_DEPTH) return perr(P, pos, "max nesting depth exceeded");
    tok_t t;
    if (peek(P, &t) < 0) return TRN_EINVAL;
    if (t.kind == T_RIGHT)
        return perr(P, t.pos, "missing value for %s",
                    kind == TN_IF      ? "if"
                    : kind == TN_RANGE ? "range"
                                       : "with");
    if (parse_pipeline(P, T_RIGHT, true, kind == TN_RANGE, &n->pipe, &t) < 0) return TRN_EINVAL;
    P->trim_next = t.trim_right;
    n->list = palloc(P, sizeof *n->list);
    if (!n->list) return TRN_ELIMIT;
    if (kind == TN_RANGE) P->range_depth++;
    list_end_t how;
    int how_pos;
    if (parse_list(P, n->list, &how, &how_pos) < 0) return TRN_EINVAL;
    if (kind == TN_RANGE) P->range_depth--;
    const char *kname = kind == TN_IF ? "if" : kind == TN_RANGE ? "range" : "with";
    if (how == END_EOF) return perr(P, P->len, "unexpected EOF");
    if (how == END_ELSE) {
        n->else_list = palloc(P, sizeof *n->else_list);
        if (!n->else_list) return TRN_ELIMIT;
        tok_t nt;
        if (peek(P, &nt) < 0) return TRN_EINVAL;
        if (nt.kind == T_IDENT && (kind == TN_IF || kind == TN_WITH) &&
            trn_str_eqc(nt.s, kind == TN_IF ? "if" : "with")) {
            /* {{else if}} / {{else with}}: a nested control sharing our {{end}} */
            lex(P, &nt);
            tnode_t *inner;
            P->n_vars = vmark;
            if (parse_control(P, kind, nt.pos, &inner) < 0) return TRN_EINVAL;
            if (list_push(P, n->else_list, inner) < 0) return TRN_ELIMIT;
        } else {
            if (expect_right(P, kname) < 0) return TRN_EINVAL;
            if (parse_list(P, n->else_list, &how, &how_pos) < 0) return TRN_EINVAL;
            if (how == END_EOF) return perr(P, P->len, "unexpected EOF");
            if (how == END_ELSE) return perr(P, how_pos, "expected end; found {{else}}");
        }
    }
    P->depth--;
    P->n_vars = vmark;
    *out = n;
    return 0;
}

/* Go's IsEmptyTree: nothing but whitespace text. */
static bool empty_tree(const tlist_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        if (l->v[i]->kind != TN_TEXT) return false;
        for (size_t k = 0; k < l->v[i]->text.len; k++)
            if (!is_space(l->v[i]->text.p[k])) return false;
    }
    return true;
}

/* Registers a definition the way Go's parser does: an empty body never
 * replaces a non-empty one, two non-empty bodies of one name in the same
 * text are an error, and a later text may redefine a name. */
static int add_def(parser_t *P, trn_str_t name, tlist_t *root, int pos)
{
    trn_tmpl_t *t = P->t;
    for (size_t i = 0; i < t->n_defs; i++) {
        tdef_t *o = &t->defs[i];
        if (!trn_str_eq(o->name, name)) continue;
        if (empty_tree(root) && !empty_tree(o->root)) return 0;
        if (o->src == P->src && !empty_tree(o->root))
            return perr(P, pos, "template: multiple definition of template \"%.*s\"", (int)name.len,
                        name.p);
        o->root = root;
        o->src = P->src;
        o->src_name = P->name;
        return 0;
    }
    if (t->n_defs == t->cap_defs) {
        size_t nc = t->cap_defs ? t->cap_defs * 2 : 4;
        tdef_t *g = trn_arena_grow(P->a, t->defs, t->cap_defs * sizeof *g, nc * sizeof *g);
        if (!g) return palloc(P, SIZE_MAX / 2) ? 0 : TRN_ELIMIT;
        t->defs = g;
        t->cap_defs = nc;
    }
    t->defs[t->n_defs++] = (tdef_t){.name = name, .root = root, .src = P->src, .src_name = P->name};
    return 0;
}

static int parse_define(parser_t *P, int pos, bool is_block, tnode_t **call)
{
    tok_t t;
    if (lex(P, &t) < 0) return TRN_EINVAL;
    if (t.kind != T_STRING)
        return perr(P, t.pos, "unexpected \"%.*s\" in %s clause", t.end - t.pos, P->src + t.pos,
                    is_block ? "block" : "define");
    trn_str_t name;
    if (unquote(P, &t, &name, NULL) < 0) return TRN_EINVAL;
    tnode_t *tn = NULL;
    size_t vmark = P->n_vars;
    if (is_block) {
        tn = node_new(P, TN_TEMPLATE, pos);
        if (!tn) return TRN_ELIMIT;
        tn->text = name;
        tok_t e;
        if (peek(P, &e) < 0) return TRN_EINVAL;
        if (e.kind != T_RIGHT) {
            if (parse_pipeline(P, T_RIGHT, false, false, &tn->pipe, &e) < 0) return TRN_EINVAL;
            P->trim_next = e.trim_right;
        } else if (expect_right(P, "block clause") < 0) {
            return TRN_EINVAL;
        }
    } else if (expect_right(P, "define clause") < 0) {
        return TRN_EINVAL;
    }
    /* a definition sees only $ */
    trn_str_t *saved = P->vars;
    size_t saved_n = P->n_vars, saved_cap = P->cap_vars;
    int saved_range = P->range_depth;
    bool saved_top = P->top_level;
    P->vars = NULL;
    P->n_vars = P->cap_vars = 0;
    P->range_depth = 0;
    P->top_level = false;
    if (var_push(P, TRN_STR("$")) < 0) return TRN_ELIMIT;
    tlist_t *root = palloc(P, sizeof *root);
    if (!root) return TRN_ELIMIT;
    list_end_t how;
    int how_pos;
    if (++P->depth > TMPL_MAX_DEPTH) return perr(P, pos, "max nesting depth exceeded");
    if (parse_list(P, root, &how, &how_pos) < 0) return TRN_EINVAL;
    P->depth--;
    if (how == END_EOF) return perr(P, P->len, "unexpected EOF");
    if (how == END_ELSE) return perr(P, how_pos, "unexpected {{else}}");
    P->vars = saved;
    P->n_vars = saved_n;
    P->cap_vars = saved_cap;
    P->range_depth = saved_range;
    P->top_level = saved_top;
    (void)vmark;
    int arc = add_def(P, name, root, pos);
    if (arc < 0) return arc;
    *call = tn;
    return 0;
}

static int parse_action(parser_t *P, tlist_t *l, int open_pos, list_end_t *how, int *how_pos)
{
    tok_t t;
    if (peek(P, &t) < 0) return TRN_EINVAL;
    if (t.kind == T_IDENT && is_keyword(t.s)) {
        lex(P, &t);
        trn_str_t k = t.s;
        tnode_t *n = NULL;
        if (trn_str_eqc(k, "end") || trn_str_eqc(k, "else")) {
            bool is_end = trn_str_eqc(k, "end");
            if (P->depth == 0) return perr(P, t.pos, "unexpected {{%s}}", is_end ? "end" : "else");
            if (is_end && expect_right(P, "end") < 0) return TRN_EINVAL;
            *how = is_end ? END_END : END_ELSE;
            *how_pos = open_pos;
            return 1;
        }
        if (trn_str_eqc(k, "if") || trn_str_eqc(k, "range") || trn_str_eqc(k, "with")) {
            tnode_kind_t kind = trn_str_eqc(k, "if")      ? TN_IF
                                : trn_str_eqc(k, "range") ? TN_RANGE
                                                          : TN_WITH;
            if (parse_control(P, kind, open_pos, &n) < 0) return TRN_EINVAL;
        } else if (trn_str_eqc(k, "define") || trn_str_eqc(k, "block")) {
            bool is_block = trn_str_eqc(k, "block");
            if (!P->top_level && !is_block) return perr(P, t.pos, "unexpected <define> in command");
            if (parse_define(P, open_pos, is_block, &n) < 0) return TRN_EINVAL;
            if (!n) return 0;
        } else if (trn_str_eqc(k, "template")) {
            tok_t nm;
            if (lex(P, &nm) < 0) return TRN_EINVAL;
            if (nm.kind != T_STRING)
                return perr(P, nm.pos, "unexpected \"%.*s\" in template clause", nm.end - nm.pos,
                            P->src + nm.pos);
            n = node_new(P, TN_TEMPLATE, nm.pos);
            if (!n) return TRN_ELIMIT;
            if (unquote(P, &nm, &n->text, NULL) < 0) return TRN_EINVAL;
            tok_t e;
            if (peek(P, &e) < 0) return TRN_EINVAL;
            if (e.kind == T_RIGHT) {
                if (expect_right(P, "template clause") < 0) return TRN_EINVAL;
            } else {
                if (parse_pipeline(P, T_RIGHT, false, false, &n->pipe, &e) < 0) return TRN_EINVAL;
                P->trim_next = e.trim_right;
            }
        } else { /* break, continue */
            bool is_break = trn_str_eqc(k, "break");
            if (P->range_depth == 0)
                return perr(P, t.pos, "{{%s}} outside {{range}}", is_break ? "break" : "continue");
            if (expect_right(P, is_break ? "{{break}}" : "{{continue}}") < 0) return TRN_EINVAL;
            n = node_new(P, is_break ? TN_BREAK : TN_CONTINUE, open_pos);
            if (!n) return TRN_ELIMIT;
        }
        return list_push(P, l, n);
    }
    tnode_t *n = node_new(P, TN_ACTION, open_pos);
    if (!n) return TRN_ELIMIT;
    tok_t e;
    if (parse_pipeline(P, T_RIGHT, true, false, &n->pipe, &e) < 0) return TRN_EINVAL;
    P->trim_next = e.trim_right;
    return list_push(P, l, n);
}

static int parse_list(parser_t *P, tlist_t *l, list_end_t *how, int *how_pos)
{
    const char *s = P->src;
    for (;;) {
        if (P->failed) return TRN_EINVAL;
        const char *open =
            P->p < P->len ? memmem(s + P->p, (size_t)(P->len - P->p), "{{", 2) : NULL;
        int tstart = P->p, tend = open ? (int)(open - s) : P->len;
        bool trim_left = open && tend + 3 < P->len + 1 && tend + 2 < P->len && s[tend + 2] == '-' &&
                         tend + 3 < P->len && is_space(s[tend + 3]);
        if (P->trim_next)
            while (tstart < tend && is_space(s[tstart]))
                tstart++;
        P->trim_next = false;
        int tlen = tend - tstart;
        if (trim_left)
            while (tlen > 0 && is_space(s[tstart + tlen - 1]))
                tlen--;
        if (tlen > 0 && (P->keep_top || !P->top_level)) {
            tnode_t *n = node_new(P, TN_TEXT, tstart);
            if (!n) return TRN_ELIMIT;
            n->text = (trn_str_t){s + tstart, (size_t)tlen};
            if (list_push(P, l, n) < 0) return TRN_ELIMIT;
        }
        if (!open) {
            *how = END_EOF;
            *how_pos = P->len;
            return 0;
        }
        int open_pos = tend;
        P->p = tend + 2 + (trim_left ? 2 : 0);
        /* a comment action, with optional trim markers */
        if (P->p + 1 < P->len && s[P->p] == '/' && s[P->p + 1] == '*') {
            const char *close = memmem(s + P->p + 2, (size_t)(P->len - P->p - 2), "*/", 2);
            if (!close) return perr(P, open_pos, "unclosed comment");
            P->p = (int)(close - s) + 2;
            if (P->p + 3 < P->len + 1 && P->p + 3 <= P->len && s[P->p] == ' ' &&
                s[P->p + 1] == '-' && P->p + 4 <= P->len && s[P->p + 2] == '}' &&
                s[P->p + 3] == '}') {
                P->trim_next = true;
                P->p += 4;
            } else if (P->p + 2 <= P->len && s[P->p] == '}' && s[P->p + 1] == '}') {
                P->p += 2;
            } else {
                return perr(P, open_pos, "comment ends before closing delimiter");
            }
            continue;
        }
        tok_t first;
        if (peek(P, &first) < 0) return TRN_EINVAL;
        if (first.kind == T_RIGHT) return perr(P, first.pos, "missing value for command");
        int rc = parse_action(P, l, open_pos, how, how_pos);
        if (rc < 0) return rc;
        if (rc == 1) return 0;
    }
}

static int parse_source(trn_tmpl_t *t, const char *name, const char *text, size_t len,
                        bool keep_top, tlist_t **root, const char **src_out, trn_diag_t *d)
{
    if (len > INT32_MAX / 2)
        return trn_diag_set(d, TRN_ELIMIT, -1, "template: %s: text too large", name);
    char *src = trn_arena_strndup(t->a, text, len);
    char *nm = trn_arena_strndup(t->a, name, strlen(name));
    if (!src || !nm)
        return trn_diag_set(d, TRN_ELIMIT, -1, "template: %s: parse memory budget exceeded", name);
    parser_t P = {.t = t,
                  .a = t->a,
                  .name = nm,
                  .src = src,
                  .len = (int)len,
                  .d = d,
                  .top_level = true,
                  .keep_top = keep_top};
    if (var_push(&P, TRN_STR("$")) < 0) return TRN_ELIMIT;
    tlist_t *l = palloc(&P, sizeof *l);
    if (!l) return TRN_ELIMIT;
    list_end_t how;
    int how_pos;
    if (parse_list(&P, l, &how, &how_pos) < 0 || P.failed)
        return d && d->code ? d->code : TRN_EINVAL;
    if (root) *root = l;
    if (src_out) *src_out = src;
    (void)how;
    return 0;
}

int trn_tmpl_parse(trn_arena_t *a, const char *name, const char *text, size_t len,
                   const trn_tmpl_func_t *extra, trn_tmpl_t **out, trn_diag_t *d)
{
    trn_tmpl_t *t = trn_arena_calloc(a, 1, sizeof *t);
    if (!t)
        return trn_diag_set(d, TRN_ELIMIT, -1, "template: %s: parse memory budget exceeded", name);
    t->a = a;
    t->extra = extra;
    t->name = trn_arena_strndup(a, name, strlen(name));
    if (!t->name)
        return trn_diag_set(d, TRN_ELIMIT, -1, "template: %s: parse memory budget exceeded", name);
    tlist_t *root;
    const char *src;
    int rc = parse_source(t, name, text, len, true, &root, &src, d);
    if (rc < 0) return rc;
    /* the main body is registered after the parse: a {{define}} of the
     * main name wins only when the body is empty, as in Go */
    trn_str_t nm = trn_str_c(t->name);
    parser_t P = {.t = t, .a = a, .name = t->name, .src = src, .len = (int)len, .d = d};
    if (add_def(&P, nm, root, 0) < 0) return d && d->code ? d->code : TRN_EINVAL;
    *out = t;
    return 0;
}

int trn_tmpl_parse_more(trn_tmpl_t *t, const char *name, const char *text, size_t len,
                        trn_diag_t *d)
{
    return parse_source(t, name, text, len, false, NULL, NULL, d);
}

const tdef_t *trn__tmpl_find(const trn_tmpl_t *t, trn_str_t name)
{
    for (size_t i = 0; i < t->n_defs; i++)
        if (trn_str_eq(t->defs[i].name, name)) return &t->defs[i];
    return NULL;
}

bool trn_tmpl_has(const trn_tmpl_t *t, const char *name)
{
    return trn__tmpl_find(t, trn_str_c(name)) != NULL;
}
