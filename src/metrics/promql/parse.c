/* SPDX-License-Identifier: Apache-2.0 */
/* PromQL lexer, parser and type checker.
 *
 * The query is first cut into tokens (one pass, the lexer only needs to know
 * whether it is inside [...] so that ':' is a subquery colon there and part
 * of a metric name elsewhere). The parser is a precedence climber over the
 * token array: primaries (literals, selectors, calls, aggregations,
 * parentheses) take postfix modifiers ([range], [range:step], offset, @),
 * then binary operators bind by Prometheus's precedence table
 *   or < and, unless < comparisons < + - < * / % atan2 < ^
 * with ^ right-associative and unary +/- binding tighter than * but looser
 * than ^ (so -2^2 is -4). Types are checked while nodes are built, with the
 * messages Prometheus's parser gives; the first error wins and carries its
 * byte offset and line:col ("1:5: parse error: ..."). A unary minus applied
 * to a number literal folds into the literal, as Prometheus does, which
 * keeps print(parse(q)) a fixed point. */
#include "metrics/promql/promql_int.h"

#include "core/err.h"
#include "core/timefmt.h"

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Deepest nesting accepted, both for the parser's recursion and for the
 * tree the evaluator later walks recursively (a long chain "a + a + ..."
 * nests to the left without recursing here). Real queries stay far below. */
#define PQ_MAX_DEPTH 512

typedef struct parser {
    const char *q;
    size_t len;
    trn_arena_t *a;
    trn_diag_t *d;
    pq_tok_t *toks;
    size_t n_toks, cap_toks, i;
    bool failed;
    int depth; /* current recursion depth of parse_expr */
    /* regexes compiled so far, so a failed parse can release them */
    trn_matcher_t **ms_all;
    size_t n_ms_all, cap_ms_all;
} parser_t;

void trn__pq_linecol(const char *q, size_t len, int32_t off, int *line, int *col)
{
    int l = 1;
    int32_t last_nl = -1;
    for (int32_t i = 0; i < off && (size_t)i < len; i++)
        if (q[i] == '\n') {
            l++;
            last_nl = i;
        }
    *line = l;
    *col = off - last_nl;
}

__attribute__((format(printf, 3, 4))) static void perr(parser_t *p, int32_t pos, const char *fmt,
                                                       ...)
{
    if (p->failed) return;
    p->failed = true;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line, col;
    trn__pq_linecol(p->q, p->len, pos, &line, &col);
    if (p->d && !p->d->code) {
        trn_diag_set(p->d, TRN_EINVAL, pos, "%d:%d: parse error: %s", line, col, msg);
        p->d->line = line;
        p->d->col = col;
    }
}

/* ---- lexer ------------------------------------------------------------- */

static bool is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static bool is_alnum(int c)
{
    return is_alpha(c) || (c >= '0' && c <= '9');
}
static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static void push_tok(parser_t *p, pq_tok_kind_t k, size_t pos, size_t end)
{
    if (p->n_toks == p->cap_toks) {
        size_t nc = p->cap_toks ? p->cap_toks * 2 : 64;
        pq_tok_t *nt = trn_arena_grow(p->a, p->toks, p->cap_toks * sizeof *nt, nc * sizeof *nt);
        if (!nt) {
            perr(p, (int32_t)pos, "query too large for the memory budget");
            return;
        }
        p->toks = nt;
        p->cap_toks = nc;
    }
    p->toks[p->n_toks++] = (pq_tok_t){.kind = k, .pos = (int32_t)pos, .end = (int32_t)end};
}

/* Scans a number per Prometheus's lexer: [.]digits with optional '.', exponent,
 * underscores between digits, or 0x hex. Returns end or 0 if not a number. */
static size_t scan_number(const char *q, size_t len, size_t i)
{
    size_t s = i;
    const char *digits = "0123456789";
    if (i + 1 < len && q[i] == '0' && (q[i + 1] == 'x' || q[i + 1] == 'X')) {
        i += 2;
        if (i < len && q[i] == '_') i++;
        digits = "0123456789abcdefABCDEF";
    }
    bool hex = digits[10] != 0;
    bool dot = false, exp = false;
    if (i < len && q[i] == '.') {
        if (hex) return 0;
        dot = true;
        i++;
    }
    while (i < len) {
        char c = q[i];
        if (c && strchr(digits, c)) {
            i++;
        } else if (c == '.' && !hex) {
            if (dot || exp) return 0;
            dot = true;
            i++;
            if (i < len && (q[i] == '_' || q[i] == '.')) return 0;
        } else if ((c == 'e' || c == 'E') && !hex) {
            if (exp) return 0;
            exp = true;
            i++;
            if (i < len && (q[i] == '+' || q[i] == '-')) i++;
            if (i >= len || !is_digit(q[i])) return 0;
        } else if (c == '_') {
            i++;
            if (i >= len || !strchr(digits, q[i]) || !q[i]) return 0;
        } else {
            break;
        }
    }
    if (i == s) return 0;
    if (i < len && is_alnum(q[i])) return 0;
    return i;
}

/* Scans a duration: (digits unit)+ with units ms s m h d w y. */
static size_t scan_duration(const char *q, size_t len, size_t i)
{
    size_t s = i;
    while (i < len && is_digit(q[i])) {
        while (i < len && is_digit(q[i]))
            i++;
        if (i >= len) return 0;
        if (q[i] == 'm' && i + 1 < len && q[i + 1] == 's')
            i += 2;
        else if (strchr("smhdwy", q[i]) && q[i])
            i++;
        else
            return 0;
    }
    if (i == s || (i < len && is_alnum(q[i]))) return 0;
    int64_t ms;
    if (trn_parse_duration((trn_str_t){q + s, i - s}, &ms) < 0) return 0;
    return i;
}

static int hexval(int c);

/* Length of the UTF-8 sequence at q[j] (0 when invalid). */
static size_t utf8_len(const char *q, size_t len, size_t j)
{
    unsigned char c = (unsigned char)q[j];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (!n || j + n > len || !trn_utf8_valid(q + j, n)) return 0;
    return n;
}

static void bad_escape_char(parser_t *p, size_t tok, size_t at, const char *fmt)
{
    size_t n = utf8_len(p->q, p->len, at);
    uint32_t cp = (unsigned char)p->q[at];
    if (n > 1) {
        cp = (unsigned char)p->q[at] & (0x7F >> n);
        for (size_t k = 1; k < n; k++)
            cp = (cp << 6) | ((unsigned char)p->q[at + k] & 0x3F);
    }
    char shown[8] = {0};
    memcpy(shown, p->q + at, n ? n : 1);
    perr(p, (int32_t)tok, fmt, (unsigned)cp, shown);
}

/* Scans a string token with Go's escape rules, reporting the errors
 * Prometheus's lexer gives. Returns the end offset or 0. */
static size_t scan_string(parser_t *p, size_t i)
{
    char quote = p->q[i];
    size_t j = i + 1, len = p->len;
    while (j < len) {
        char c = p->q[j];
        if (c == quote) return j + 1;
        if (quote == '`') {
            size_t n = utf8_len(p->q, len, j);
            if (!n) {
                perr(p, (int32_t)i, "invalid UTF-8 rune");
                return 0;
            }
            j += n;
            continue;
        }
        if (c == '\n') break;
        if (c != '\\') {
            size_t n = utf8_len(p->q, len, j);
            if (!n) {
                perr(p, (int32_t)i, "invalid UTF-8 rune");
                return 0;
            }
            j += n;
            continue;
        }
        j++;
        if (j >= len) {
            perr(p, (int32_t)i, "escape sequence not terminated");
            return 0;
        }
        char e = p->q[j];
        int digits = 0, base = 16;
        if (strchr("abfnrtv\\", e) || e == quote) {
            j++;
            continue;
        }
        if (e >= '0' && e <= '7') {
            digits = 3;
            base = 8;
        } else if (e == 'x') {
            digits = 2;
            j++;
        } else if (e == 'u') {
            digits = 4;
            j++;
        } else if (e == 'U') {
            digits = 8;
            j++;
        } else {
            bad_escape_char(p, i, j, "unknown escape sequence U+%04X '%s'");
            return 0;
        }
        for (int k = 0; k < digits; k++, j++) {
            if (j >= len) {
                perr(p, (int32_t)i, "escape sequence not terminated");
                return 0;
            }
            int v = hexval(p->q[j]);
            if (v < 0 || v >= base) {
                bad_escape_char(p, i, j, "illegal character U+%04X '%s' in escape sequence");
                return 0;
            }
        }
    }
    if (quote == '`')
        perr(p, (int32_t)i, "unterminated raw string");
    else
        perr(p, (int32_t)i, "unterminated quoted string");
    return 0;
}

static int lex_all(parser_t *p)
{
    const char *q = p->q;
    size_t len = p->len, i = 0;
    int paren = 0;
    bool bracket = false, brace = false;
    while (i < len && !p->failed) {
        char c = q[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            i++;
            continue;
        }
        if (c == '#') {
            while (i < len && q[i] != '\n')
                i++;
            continue;
        }
        size_t s = i;
        if (brace && !is_alpha(c) && c != ',' && c != '=' && c != '!' && c != '}' && c != '"' &&
            c != '\'' && c != '`') {
            perr(p, (int32_t)s, "unexpected character inside braces: '%c'", c);
            return TRN_EINVAL;
        }
        if (is_digit(c) || (c == '.' && i + 1 < len && is_digit(q[i + 1]))) {
            size_t e = scan_number(q, len, i);
            if (e) {
                push_tok(p, TK_NUMBER, s, e);
                i = e;
                continue;
            }
            e = scan_duration(q, len, i);
            if (e) {
                push_tok(p, TK_DURATION, s, e);
                i = e;
                continue;
            }
            size_t j = i;
            while (j < len && (is_alnum(q[j]) || q[j] == '.'))
                j++;
            perr(p, (int32_t)s, "bad number or duration syntax: \"%.*s\"", (int)(j - s), q + s);
            break;
        }
        if (c == '"' || c == '\'' || c == '`') {
            size_t e = scan_string(p, i);
            if (!e) break;
            push_tok(p, TK_STRING, s, e);
            i = e;
            continue;
        }
        if (brace && !is_alpha(c) && c != ',' && c != '=' && c != '!' && c != '}' && c != '"' &&
            c != '\'' && c != '`') {
            perr(p, (int32_t)s, "unexpected character inside braces: '%c'", c);
            return TRN_EINVAL;
        }
        if (bracket && is_alpha(c)) {
            perr(p, (int32_t)s, "unexpected character: '%c', expected ':'", c);
            return TRN_EINVAL;
        }
        if (is_alpha(c) || (c == ':' && !bracket && !brace)) {
            size_t j = i;
            while (j < len && (is_alnum(q[j]) || (q[j] == ':' && !brace)))
                j++;
            push_tok(p, TK_IDENT, s, j);
            i = j;
            continue;
        }
        pq_tok_kind_t k;
        size_t n = 1;
        switch (c) {
        case '(':
            k = TK_LPAREN;
            paren++;
            break;
        case ')':
            k = TK_RPAREN;
            if (--paren < 0) {
                perr(p, (int32_t)s + 1, "unexpected right parenthesis ')'");
                return TRN_EINVAL;
            }
            break;
        case '{':
            if (i + 1 < len && q[i + 1] == '{') {
                perr(p, (int32_t)s, "native histogram syntax {{...}} is not supported");
                return TRN_EINVAL;
            }
            k = TK_LBRACE;
            brace = true;
            break;
        case '}':
            if (!brace) {
                perr(p, (int32_t)s, "unexpected character: '}'");
                return TRN_EINVAL;
            }
            k = TK_RBRACE;
            brace = false;
            break;
        case '[':
            if (bracket) {
                perr(p, (int32_t)s, "unexpected left bracket '['");
                return TRN_EINVAL;
            }
            k = TK_LBRACKET;
            bracket = true;
            break;
        case ']':
            if (!bracket) {
                perr(p, (int32_t)s, "unexpected right bracket ']'");
                return TRN_EINVAL;
            }
            k = TK_RBRACKET;
            bracket = false;
            break;
        case ',':
            k = TK_COMMA;
            break;
        case ':':
            k = TK_COLON;
            break;
        case '@':
            k = TK_AT;
            break;
        case '+':
            k = TK_ADD;
            break;
        case '-':
            k = TK_SUB;
            break;
        case '*':
            k = TK_MUL;
            break;
        case '/':
            k = TK_DIV;
            break;
        case '%':
            k = TK_MOD;
            break;
        case '^':
            k = TK_POW;
            break;
        case '=':
            if (i + 1 < len && q[i + 1] == '=' && !brace) {
                k = TK_EQLC;
                n = 2;
            } else if (i + 1 < len && q[i + 1] == '~') {
                if (!brace) {
                    perr(p, (int32_t)s, "unexpected character after '=': '~'");
                    return TRN_EINVAL;
                }
                k = TK_EQ_RE;
                n = 2;
            } else {
                k = TK_EQL;
            }
            break;
        case '!':
            if (i + 1 < len && q[i + 1] == '=') {
                k = TK_NEQ;
                n = 2;
            } else if (i + 1 < len && q[i + 1] == '~' && brace) {
                k = TK_NEQ_RE;
                n = 2;
            } else {
                perr(p, (int32_t)s, "unexpected character after '!': '%c'",
                     i + 1 < len ? q[i + 1] : ' ');
                return TRN_EINVAL;
            }
            break;
        case '<':
            if (i + 1 < len && q[i + 1] == '=') {
                k = TK_LTE;
                n = 2;
            } else {
                k = TK_LSS;
            }
            break;
        case '>':
            if (i + 1 < len && q[i + 1] == '=') {
                k = TK_GTE;
                n = 2;
            } else {
                k = TK_GTR;
            }
            break;
        default:
            perr(p, (int32_t)s, "unexpected character: '%c'", c);
            return TRN_EINVAL;
        }
        push_tok(p, k, s, s + n);
        i += n;
    }
    if (p->failed) return TRN_EINVAL;
    if (paren > 0) {
        perr(p, (int32_t)len, "unclosed left parenthesis");
        return TRN_EINVAL;
    }
    if (bracket) {
        perr(p, (int32_t)len, "unclosed left bracket");
        return TRN_EINVAL;
    }
    if (brace) {
        perr(p, (int32_t)len, "unexpected end of input inside braces");
        return TRN_EINVAL;
    }
    push_tok(p, TK_EOF, len, len);
    return p->failed ? TRN_EINVAL : 0;
}

/* ---- string literals ------------------------------------------------------ */

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static void put_utf8(trn_buf_t *b, uint32_t cp)
{
    char o[4];
    size_t n;
    if (cp < 0x80) {
        o[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        o[0] = (char)(0xF0 | (cp >> 18));
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    trn_buf_append(b, o, n);
}

int trn__pq_unquote(const char *p, size_t len, trn_arena_t *a, trn_str_t *out, trn_diag_t *d)
{
    if (len < 2) return trn_diag_set(d, TRN_EINVAL, 0, "invalid string literal");
    char quote = p[0];
    if (quote != '"' && quote != '\'' && quote != '`')
        return trn_diag_set(d, TRN_EINVAL, 0, "invalid string literal");
    size_t i = 1;
    if (quote == '`') {
        while (i < len && p[i] != '`')
            i++;
        if (i >= len) return trn_diag_set(d, TRN_EINVAL, 0, "unterminated raw string");
        char *s = trn_arena_strndup(a, p + 1, i - 1);
        if (!s) return TRN_ELIMIT;
        *out = (trn_str_t){s, i - 1};
        return (int)(i + 1);
    }
    trn_buf_t b;
    trn_buf_init(&b);
    int rc = TRN_EINVAL;
    while (i < len && p[i] != quote) {
        char c = p[i];
        if (c == '\n') break;
        if (c != '\\') {
            trn_buf_putc(&b, c);
            i++;
            continue;
        }
        if (i + 1 >= len) break;
        char e = p[i + 1];
        i += 2;
        switch (e) {
        case 'a':
            trn_buf_putc(&b, '\a');
            break;
        case 'b':
            trn_buf_putc(&b, '\b');
            break;
        case 'f':
            trn_buf_putc(&b, '\f');
            break;
        case 'n':
            trn_buf_putc(&b, '\n');
            break;
        case 'r':
            trn_buf_putc(&b, '\r');
            break;
        case 't':
            trn_buf_putc(&b, '\t');
            break;
        case 'v':
            trn_buf_putc(&b, '\v');
            break;
        case '\\':
            trn_buf_putc(&b, '\\');
            break;
        case '\'':
        case '"':
            if (e != quote) {
                trn_diag_set(d, TRN_EINVAL, (int64_t)i - 2, "invalid syntax");
                goto out;
            }
            trn_buf_putc(&b, e);
            break;
        case 'x': {
            int h1 = i < len ? hexval(p[i]) : -1, h2 = i + 1 < len ? hexval(p[i + 1]) : -1;
            if (h1 < 0 || h2 < 0) {
                trn_diag_set(d, TRN_EINVAL, (int64_t)i - 2, "invalid syntax");
                goto out;
            }
            trn_buf_putc(&b, (char)(h1 * 16 + h2));
            i += 2;
            break;
        }
        case 'u':
        case 'U': {
            int n = e == 'u' ? 4 : 8;
            uint32_t cp = 0;
            for (int k = 0; k < n; k++) {
                int h = i + (size_t)k < len ? hexval(p[i + (size_t)k]) : -1;
                if (h < 0) {
                    trn_diag_set(d, TRN_EINVAL, (int64_t)i - 2, "invalid syntax");
                    goto out;
                }
                cp = cp * 16 + (uint32_t)h;
            }
            if (cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000)) {
                trn_diag_set(d, TRN_EINVAL, (int64_t)i - 2, "invalid syntax");
                goto out;
            }
            i += (size_t)n;
            put_utf8(&b, cp);
            break;
        }
        default:
            if (e >= '0' && e <= '7') {
                int v = e - '0';
                for (int k = 0; k < 2; k++) {
                    if (i >= len || p[i] < '0' || p[i] > '7') {
                        trn_diag_set(d, TRN_EINVAL, (int64_t)i, "invalid syntax");
                        goto out;
                    }
                    v = v * 8 + (p[i++] - '0');
                }
                if (v > 255) {
                    trn_diag_set(d, TRN_EINVAL, (int64_t)i, "invalid syntax");
                    goto out;
                }
                trn_buf_putc(&b, (char)v);
                break;
            }
            trn_diag_set(d, TRN_EINVAL, (int64_t)i - 2, "invalid syntax");
            goto out;
        }
    }
    if (i >= len || p[i] != quote) {
        trn_diag_set(d, TRN_EINVAL, (int64_t)i, "unterminated quoted string");
        goto out;
    }
    {
        char *s = trn_arena_strndup(a, b.data ? b.data : "", b.len);
        if (!s) {
            rc = TRN_ELIMIT;
            goto out;
        }
        *out = (trn_str_t){s, b.len};
        rc = (int)(i + 1);
    }
out:
    trn_buf_fini(&b);
    return rc;
}

/* ---- parser helpers --------------------------------------------------------- */

static pq_tok_t *cur(parser_t *p)
{
    return &p->toks[p->i];
}
static pq_tok_t *peekn(parser_t *p, size_t n)
{
    size_t k = p->i + n;
    return &p->toks[k < p->n_toks ? k : p->n_toks - 1];
}
static trn_str_t tok_text(parser_t *p, const pq_tok_t *t)
{
    return (trn_str_t){p->q + t->pos, (size_t)(t->end - t->pos)};
}
static bool tok_is_kw(parser_t *p, const pq_tok_t *t, const char *kw)
{
    size_t n = strlen(kw);
    return t->kind == TK_IDENT && (size_t)(t->end - t->pos) == n &&
           strncasecmp(p->q + t->pos, kw, n) == 0;
}
static void advance(parser_t *p)
{
    if (p->i + 1 < p->n_toks) p->i++;
}

static const char *tok_kind_desc(pq_tok_kind_t k)
{
    switch (k) {
    case TK_EOF:
        return "end of input";
    case TK_IDENT:
        return "identifier";
    case TK_NUMBER:
        return "number";
    case TK_DURATION:
        return "duration";
    case TK_STRING:
        return "string";
    case TK_LPAREN:
        return "\"(\"";
    case TK_RPAREN:
        return "\")\"";
    case TK_LBRACE:
        return "\"{\"";
    case TK_RBRACE:
        return "\"}\"";
    case TK_LBRACKET:
        return "\"[\"";
    case TK_RBRACKET:
        return "\"]\"";
    case TK_COMMA:
        return "\",\"";
    case TK_COLON:
        return "\":\"";
    case TK_AT:
        return "\"@\"";
    default:
        return "operator";
    }
}

static int agg_lookup(parser_t *p, const pq_tok_t *t);
static bool is_reserved_kw(parser_t *p, const pq_tok_t *t);

/* Describes the current token the way Prometheus's parser does in
 * "unexpected ..." messages: <by>, <op:+>, <aggr:sum>, identifier "x",
 * number "1", "(". */
static void describe_tok(parser_t *p, const pq_tok_t *t, char *what, size_t cap)
{
    trn_str_t txt = tok_text(p, t);
    bool op_word = tok_is_kw(p, t, "and") || tok_is_kw(p, t, "or") || tok_is_kw(p, t, "unless") ||
                   tok_is_kw(p, t, "atan2");
    if (t->kind == TK_EOF) {
        snprintf(what, cap, "end of input");
    } else if (t->kind == TK_IDENT && op_word) {
        snprintf(what, cap, "<op:%.*s>", (int)txt.len, txt.p);
    } else if (t->kind == TK_IDENT &&
               (is_reserved_kw(p, t) || tok_is_kw(p, t, "start") || tok_is_kw(p, t, "end"))) {
        snprintf(what, cap, "<%.*s>", (int)txt.len, txt.p);
    } else if (t->kind == TK_IDENT && agg_lookup(p, t) >= 0) {
        snprintf(what, cap, "<aggr:%.*s>", (int)txt.len, txt.p);
    } else if (t->kind == TK_IDENT) {
        snprintf(what, cap, "%s \"%.*s\"",
                 memchr(txt.p, ':', txt.len) ? "metric identifier" : "identifier",
                 (int)(txt.len > 100 ? 100 : txt.len), txt.p);
    } else if (t->kind == TK_NUMBER || t->kind == TK_DURATION || t->kind == TK_STRING) {
        trn_buf_t b;
        trn_buf_init(&b);
        trn_go_quote(&b, (trn_str_t){txt.p, txt.len > 10 ? 10 : txt.len});
        snprintf(what, cap, "%s %s%s", tok_kind_desc(t->kind), b.data, txt.len > 10 ? "..." : "");
        trn_buf_fini(&b);
    } else if (t->kind >= TK_ADD && t->kind != TK_EQL) {
        snprintf(what, cap, "<op:%.*s>", (int)txt.len, txt.p);
    } else if (t->kind == TK_AT) {
        snprintf(what, cap, "<op:@>");
    } else {
        snprintf(what, cap, "\"%.*s\"", (int)txt.len, txt.p);
    }
}

static void unexpected(parser_t *p, const char *ctx, const char *expected)
{
    pq_tok_t *t = cur(p);
    char what[200];
    describe_tok(p, t, what, sizeof what);
    if (ctx && expected)
        perr(p, t->pos, "unexpected %s in %s, expected %s", what, ctx, expected);
    else if (ctx)
        perr(p, t->pos, "unexpected %s in %s", what, ctx);
    else if (expected)
        perr(p, t->pos, "unexpected %s, expected %s", what, expected);
    else
        perr(p, t->pos, "unexpected %s", what);
}

static bool expect(parser_t *p, pq_tok_kind_t k, const char *ctx, const char *expected)
{
    if (cur(p)->kind != k) {
        unexpected(p, ctx, expected);
        return false;
    }
    advance(p);
    return true;
}

static pq_expr_t *new_node(parser_t *p, pq_kind_t k, int32_t pos, int32_t end)
{
    pq_expr_t *e = trn_arena_calloc(p->a, 1, sizeof *e);
    if (!e) {
        perr(p, pos, "query too large for the memory budget");
        return NULL;
    }
    e->kind = k;
    e->pos = pos;
    e->end = end;
    e->depth = 1;
    return e;
}

const char *trn__pq_type_desc(trn_promql_type_t t)
{
    switch (t) {
    case TRN_PROMQL_SCALAR:
        return "scalar";
    case TRN_PROMQL_VECTOR:
        return "instant vector";
    case TRN_PROMQL_MATRIX:
        return "range vector";
    case TRN_PROMQL_STRING:
        return "string";
    default:
        return "none";
    }
}

const char *trn_promql_type_name(trn_promql_type_t t)
{
    switch (t) {
    case TRN_PROMQL_SCALAR:
        return "scalar";
    case TRN_PROMQL_VECTOR:
        return "vector";
    case TRN_PROMQL_MATRIX:
        return "matrix";
    case TRN_PROMQL_STRING:
        return "string";
    default:
        return "none";
    }
}

static const char *const binop_names[] = {
    "+", "-", "*", "/", "%", "^", "==", "!=", ">", "<", ">=", "<=", "and", "or", "unless", "atan2"};
const char *trn__pq_binop_str(pq_binop_t op)
{
    return binop_names[op];
}
bool trn__pq_binop_is_comparison(pq_binop_t op)
{
    return op >= OP_EQLC && op <= OP_LTE;
}
bool trn__pq_binop_is_set(pq_binop_t op)
{
    return op == OP_AND || op == OP_OR || op == OP_UNLESS;
}

static const char *const agg_names[AGG__N] = {
    "sum",    "avg",  "count",   "min",          "max",      "group",  "stddev",
    "stdvar", "topk", "bottomk", "count_values", "quantile", "limitk", "limit_ratio"};
const char *trn__pq_aggop_str(pq_aggop_t op)
{
    return agg_names[op];
}

static int agg_lookup(parser_t *p, const pq_tok_t *t)
{
    for (int i = 0; i < AGG__N; i++)
        if (tok_is_kw(p, t, agg_names[i])) return i;
    return -1;
}

static bool is_reserved_kw(parser_t *p, const pq_tok_t *t)
{
    static const char *const kws[] = {"and",        "or",          "unless", "atan2",
                                      "by",         "without",     "on",     "ignoring",
                                      "group_left", "group_right", "offset", "bool"};
    for (size_t i = 0; i < sizeof kws / sizeof kws[0]; i++)
        if (tok_is_kw(p, t, kws[i])) return true;
    return false;
}

/* ---- parse: expressions ------------------------------------------------------ */

static pq_expr_t *parse_expr(parser_t *p, int min_prec);
static pq_expr_t *parse_expr_inner(parser_t *p, int min_prec);
static int node_depth(const pq_expr_t *e);

static int binop_of(parser_t *p, const pq_tok_t *t, pq_binop_t *op)
{
    switch (t->kind) {
    case TK_ADD:
        *op = OP_ADD;
        return 1;
    case TK_SUB:
        *op = OP_SUB;
        return 1;
    case TK_MUL:
        *op = OP_MUL;
        return 1;
    case TK_DIV:
        *op = OP_DIV;
        return 1;
    case TK_MOD:
        *op = OP_MOD;
        return 1;
    case TK_POW:
        *op = OP_POW;
        return 1;
    case TK_EQLC:
        *op = OP_EQLC;
        return 1;
    case TK_NEQ:
        *op = OP_NEQ;
        return 1;
    case TK_GTR:
        *op = OP_GTR;
        return 1;
    case TK_LSS:
        *op = OP_LSS;
        return 1;
    case TK_GTE:
        *op = OP_GTE;
        return 1;
    case TK_LTE:
        *op = OP_LTE;
        return 1;
    case TK_IDENT:
        if (tok_is_kw(p, t, "and")) {
            *op = OP_AND;
            return 1;
        }
        if (tok_is_kw(p, t, "or")) {
            *op = OP_OR;
            return 1;
        }
        if (tok_is_kw(p, t, "unless")) {
            *op = OP_UNLESS;
            return 1;
        }
        if (tok_is_kw(p, t, "atan2")) {
            *op = OP_ATAN2;
            return 1;
        }
        return 0;
    default:
        return 0;
    }
}

static int prec_of(pq_binop_t op)
{
    switch (op) {
    case OP_OR:
        return 1;
    case OP_AND:
    case OP_UNLESS:
        return 2;
    case OP_EQLC:
    case OP_NEQ:
    case OP_GTR:
    case OP_LSS:
    case OP_GTE:
    case OP_LTE:
        return 3;
    case OP_ADD:
    case OP_SUB:
        return 4;
    case OP_MUL:
    case OP_DIV:
    case OP_MOD:
    case OP_ATAN2:
        return 5;
    case OP_POW:
        return 6;
    }
    return 0;
}

/* Label list "(a, b, "c")" for by/without/on/ignoring/group_x. */
static bool parse_label_list(parser_t *p, trn_str_t **out, size_t *n_out, const char *ctx)
{
    if (!expect(p, TK_LPAREN, ctx, "\"(\"")) return false;
    size_t cap = 0, n = 0;
    trn_str_t *v = NULL;
    while (cur(p)->kind != TK_RPAREN) {
        pq_tok_t *t = cur(p);
        trn_str_t name;
        if (t->kind == TK_IDENT) {
            name = tok_text(p, t);
            if (memchr(name.p, ':', name.len)) {
                unexpected(p, ctx, "label");
                return false;
            }
        } else if (t->kind == TK_STRING) {
            if (trn__pq_unquote(p->q + t->pos, (size_t)(t->end - t->pos), p->a, &name, NULL) < 0) {
                perr(p, t->pos, "error unquoting string");
                return false;
            }
        } else {
            unexpected(p, ctx, "label");
            return false;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 4;
            trn_str_t *nv = trn_arena_grow(p->a, v, cap * sizeof *v, nc * sizeof *v);
            if (!nv) {
                perr(p, t->pos, "query too large for the memory budget");
                return false;
            }
            v = nv;
            cap = nc;
        }
        v[n++] = name;
        advance(p);
        if (cur(p)->kind == TK_COMMA)
            advance(p);
        else if (cur(p)->kind != TK_RPAREN) {
            unexpected(p, ctx, "\",\" or \")\"");
            return false;
        }
    }
    advance(p);
    *out = v;
    *n_out = n;
    return true;
}

static bool add_matcher(parser_t *p, pq_expr_t *vs, trn_match_type_t ty, trn_str_t name,
                        trn_str_t val, int32_t pos, size_t *cap)
{
    if (vs->n_ms == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        trn_matcher_t *nm = trn_arena_grow(p->a, vs->ms, *cap * sizeof *nm, nc * sizeof *nm);
        if (!nm) {
            perr(p, pos, "query too large for the memory budget");
            return false;
        }
        vs->ms = nm;
        *cap = nc;
    }
    trn_diag_t md;
    trn_diag_init(&md);
    if (trn_matcher_init(&vs->ms[vs->n_ms], ty, name, val, &md) < 0) {
        perr(p, pos, "%s", md.msg);
        return false;
    }
    vs->n_ms++;
    return true;
}

/* Tracks matchers with regexes so they can be released on failure. Since the
 * matcher array can still be regrown while parsing one selector, this is
 * done once per finished selector. */
static void track_selector(parser_t *p, pq_expr_t *vs)
{
    for (size_t i = 0; i < vs->n_ms; i++) {
        if (!vs->ms[i].re) continue;
        if (p->n_ms_all == p->cap_ms_all) {
            size_t nc = p->cap_ms_all ? p->cap_ms_all * 2 : 8;
            trn_matcher_t **n =
                trn_arena_grow(p->a, p->ms_all, p->cap_ms_all * sizeof *n, nc * sizeof *n);
            if (!n) {
                /* the parse fails: release this selector's regexes now, since
                 * they cannot be tracked for release_all */
                perr(p, vs->pos, "query too large for the memory budget");
                for (size_t k = 0; k < vs->n_ms; k++)
                    trn_matcher_fini(&vs->ms[k]);
                vs->n_ms = 0;
                return;
            }
            p->ms_all = n;
            p->cap_ms_all = nc;
        }
        p->ms_all[p->n_ms_all++] = &vs->ms[i];
    }
}

static void release_selector_matchers(pq_expr_t *vs)
{
    for (size_t i = 0; i < vs->n_ms; i++)
        trn_matcher_fini(&vs->ms[i]);
}

/* metric_name? { matchers } */
static pq_expr_t *parse_selector(parser_t *p, const pq_tok_t *name_tok)
{
    int32_t pos = name_tok ? name_tok->pos : cur(p)->pos;
    pq_expr_t *vs = new_node(p, PQ_VSEL, pos, pos);
    if (!vs) return NULL;
    vs->type = TRN_PROMQL_VECTOR;
    size_t cap = 0;
    if (name_tok) {
        vs->name = tok_text(p, name_tok);
        vs->end = name_tok->end;
        if (!add_matcher(p, vs, TRN_MATCH_EQ, TRN_STR(TRN_METRIC_NAME), vs->name, pos, &cap))
            goto fail;
    }
    bool name_in_braces = false;
    if (cur(p)->kind == TK_LBRACE) {
        advance(p);
        while (cur(p)->kind != TK_RBRACE) {
            pq_tok_t *t = cur(p);
            trn_str_t lname;
            if (t->kind == TK_IDENT) {
                lname = tok_text(p, t);
            } else if (t->kind == TK_STRING) {
                if (trn__pq_unquote(p->q + t->pos, (size_t)(t->end - t->pos), p->a, &lname, NULL) <
                    0) {
                    perr(p, t->pos, "error unquoting string");
                    goto fail;
                }
                /* {"metric.name"} alone: a quoted metric name */
                pq_tok_kind_t nk = peekn(p, 1)->kind;
                if (nk == TK_COMMA || nk == TK_RBRACE) {
                    if (vs->name.len || name_in_braces) {
                        perr(p, t->pos, "metric name must not be set twice: \"%.*s\" or \"%.*s\"",
                             (int)vs->name.len, vs->name.p, (int)lname.len, lname.p);
                        goto fail;
                    }
                    name_in_braces = true;
                    if (!add_matcher(p, vs, TRN_MATCH_EQ, TRN_STR(TRN_METRIC_NAME), lname, t->pos,
                                     &cap))
                        goto fail;
                    advance(p);
                    if (cur(p)->kind == TK_COMMA) advance(p);
                    continue;
                }
            } else {
                unexpected(p, "label matching", "identifier or \"}\"");
                goto fail;
            }
            advance(p);
            trn_match_type_t ty;
            switch (cur(p)->kind) {
            case TK_EQL:
                ty = TRN_MATCH_EQ;
                break;
            case TK_NEQ:
                ty = TRN_MATCH_NE;
                break;
            case TK_EQ_RE:
                ty = TRN_MATCH_RE;
                break;
            case TK_NEQ_RE:
                ty = TRN_MATCH_NRE;
                break;
            default:
                unexpected(p, "label matching", "label matching operator");
                goto fail;
            }
            advance(p);
            pq_tok_t *vt = cur(p);
            if (vt->kind != TK_STRING) {
                unexpected(p, "label matching", "string");
                goto fail;
            }
            trn_str_t val;
            if (trn__pq_unquote(p->q + vt->pos, (size_t)(vt->end - vt->pos), p->a, &val, NULL) <
                0) {
                perr(p, vt->pos, "error unquoting string %.*s", (int)(vt->end - vt->pos),
                     p->q + vt->pos);
                goto fail;
            }
            if (!add_matcher(p, vs, ty, lname, val, t->pos, &cap)) goto fail;
            advance(p);
            if (cur(p)->kind == TK_COMMA)
                advance(p);
            else if (cur(p)->kind != TK_RBRACE) {
                unexpected(p, "label matching", "\",\" or \"}\"");
                goto fail;
            }
        }
        vs->end = cur(p)->end;
        advance(p);
    }
    /* metric name set twice: foo{__name__="bar"} */
    if (vs->name.len) {
        for (size_t i = 1; i < vs->n_ms; i++)
            if (trn_str_eqc(vs->ms[i].name, TRN_METRIC_NAME)) {
                perr(p, vs->pos, "metric name must not be set twice: \"%.*s\" or \"%.*s\"",
                     (int)vs->name.len, vs->name.p, (int)vs->ms[i].value.len, vs->ms[i].value.p);
                goto fail;
            }
    }
    bool nonempty = false;
    for (size_t i = 0; i < vs->n_ms; i++)
        if (!trn_matcher_matches_empty(&vs->ms[i])) nonempty = true;
    if (!nonempty) {
        perr(p, vs->pos, "vector selector must contain at least one non-empty matcher");
        goto fail;
    }
    track_selector(p, vs);
    return vs;
fail:
    release_selector_matchers(vs);
    vs->n_ms = 0;
    return NULL;
}

static bool parse_duration_tok(parser_t *p, int64_t *ms, const char *ctx)
{
    pq_tok_t *t = cur(p);
    if (t->kind == TK_SUB && (peekn(p, 1)->kind == TK_NUMBER || peekn(p, 1)->kind == TK_DURATION) &&
        strcmp(ctx, "offset") != 0) {
        perr(p, t->pos, "duration must be greater than 0");
        return false;
    }
    if (t->kind == TK_DURATION) {
        if (trn_parse_duration(tok_text(p, t), ms) < 0) {
            perr(p, t->pos, "invalid duration");
            return false;
        }
        advance(p);
        return true;
    }
    if (t->kind == TK_NUMBER) {
        /* a plain number of seconds */
        char buf[64];
        size_t n = (size_t)(t->end - t->pos);
        if (n >= sizeof buf) n = sizeof buf - 1;
        memcpy(buf, p->q + t->pos, n);
        buf[n] = 0;
        double v = strtod(buf, NULL);
        if (!isfinite(v) || fabs(v) >= 9223372036.854775807) { /* time.Duration in ns */
            perr(p, t->pos, "duration out of range");
            return false;
        }
        *ms = (int64_t)llround(v * 1000.0);
        advance(p);
        return true;
    }
    unexpected(p, ctx, "number, duration, step(), or range()");
    return false;
}

static bool is_selector_like(const pq_expr_t *e)
{
    return e->kind == PQ_VSEL || e->kind == PQ_MSEL || e->kind == PQ_SUBQ;
}

/* The node that holds offset/@ for e (the vector selector of a matrix selector). */
static pq_expr_t *modifier_holder(pq_expr_t *e)
{
    if (e->kind == PQ_MSEL) return e->inner;
    return e;
}

/* Unwraps parentheses (Prometheus applies offset/@ through them? No: only to
 * selectors and subqueries, so parentheses make it an error). */
static pq_expr_t *parse_postfix(parser_t *p, pq_expr_t *e)
{
    while (e && !p->failed) {
        pq_tok_t *t = cur(p);
        if (t->kind == TK_LBRACKET) {
            int32_t lb = t->pos;
            advance(p);
            int64_t range;
            if (!parse_duration_tok(p, &range, "subquery or range selector")) return NULL;
            if (cur(p)->kind == TK_COLON) {
                advance(p);
                int64_t step = 0;
                if (cur(p)->kind != TK_RBRACKET) {
                    if (!parse_duration_tok(p, &step, "subquery")) return NULL;
                }
                int32_t end = cur(p)->end;
                if (!expect(p, TK_RBRACKET, "subquery", "\"]\"")) return NULL;
                if (e->type != TRN_PROMQL_VECTOR) {
                    perr(p, e->pos, "subquery is only allowed on instant vector, got %s instead",
                         trn_promql_type_name(e->type));
                    return NULL;
                }
                pq_expr_t *sq = new_node(p, PQ_SUBQ, e->pos, end);
                if (!sq) return NULL;
                sq->type = TRN_PROMQL_MATRIX;
                sq->inner = e;
                sq->depth = e->depth + 1;
                sq->range_ms = range;
                sq->step_ms = step;
                if (range <= 0) {
                    perr(p, lb, "duration must be greater than 0");
                    return NULL;
                }
                if (step < 0) {
                    perr(p, lb, "step must be greater than 0");
                    return NULL;
                }
                e = sq;
                continue;
            }
            int32_t end = cur(p)->end;
            if (!expect(p, TK_RBRACKET, "range selector", "\"]\"")) return NULL;
            if (e->kind != PQ_VSEL) {
                perr(p, lb, "ranges only allowed for vector selectors");
                return NULL;
            }
            if (e->offset_ms != 0) {
                perr(p, lb, "no offset modifiers allowed before range");
                return NULL;
            }
            if (e->at_kind != AT_NONE) {
                perr(p, lb, "no @ modifiers allowed before range");
                return NULL;
            }
            if (range <= 0) {
                perr(p, lb, "duration must be greater than 0");
                return NULL;
            }
            pq_expr_t *ms = new_node(p, PQ_MSEL, e->pos, end);
            if (!ms) return NULL;
            ms->type = TRN_PROMQL_MATRIX;
            ms->inner = e;
            ms->depth = e->depth + 1;
            ms->range_ms = range;
            e = ms;
            continue;
        }
        if (tok_is_kw(p, t, "offset")) {
            if (!is_selector_like(e)) {
                perr(p, e->pos,
                     "offset modifier must be preceded by an instant vector selector or range "
                     "vector selector or a subquery");
                return NULL;
            }
            advance(p);
            int sign = 1;
            if (cur(p)->kind == TK_SUB) {
                sign = -1;
                advance(p);
            } else if (cur(p)->kind == TK_ADD) {
                advance(p);
            }
            int64_t off;
            if (!parse_duration_tok(p, &off, "offset")) return NULL;
            pq_expr_t *h = modifier_holder(e);
            if (h->offset_ms != 0) {
                perr(p, e->pos, "offset may not be set multiple times");
                return NULL;
            }
            h->offset_ms = sign * off;
            e->end = p->toks[p->i - 1].end;
            continue;
        }
        if (t->kind == TK_AT) {
            if (!is_selector_like(e)) {
                perr(p, e->pos,
                     "@ modifier must be preceded by an instant vector selector or range vector "
                     "selector or a subquery");
                return NULL;
            }
            advance(p);
            pq_expr_t *h = modifier_holder(e);
            if (h->at_kind != AT_NONE) {
                perr(p, e->pos, "@ <timestamp> may not be set multiple times");
                return NULL;
            }
            pq_tok_t *a = cur(p);
            if (tok_is_kw(p, a, "start") || tok_is_kw(p, a, "end")) {
                bool st = tok_is_kw(p, a, "start");
                advance(p);
                if (!expect(p, TK_LPAREN, "@", "\"(\"")) return NULL;
                if (!expect(p, TK_RPAREN, "@", "\")\"")) return NULL;
                h->at_kind = st ? AT_START : AT_END;
            } else {
                int sign = 1;
                if (cur(p)->kind == TK_SUB) {
                    sign = -1;
                    advance(p);
                } else if (cur(p)->kind == TK_ADD) {
                    advance(p);
                }
                pq_tok_t *nt = cur(p);
                if (nt->kind == TK_IDENT && (tok_is_kw(p, nt, "inf") || tok_is_kw(p, nt, "nan"))) {
                    bool nan = tok_is_kw(p, nt, "nan");
                    perr(p, e->pos, "timestamp out of bounds for @ modifier: %s",
                         nan        ? "NaN"
                         : sign < 0 ? "-Inf"
                                    : "+Inf");
                    return NULL;
                }
                if (nt->kind != TK_NUMBER && nt->kind != TK_DURATION) {
                    unexpected(p, "@", "timestamp");
                    return NULL;
                }
                double v;
                if (nt->kind == TK_DURATION) {
                    int64_t ms;
                    trn_parse_duration(tok_text(p, nt), &ms);
                    v = (double)ms / 1000.0;
                } else {
                    char buf[80];
                    size_t n = (size_t)(nt->end - nt->pos);
                    if (n >= sizeof buf) n = sizeof buf - 1;
                    size_t k = 0;
                    for (size_t j = 0; j < n; j++)
                        if (p->q[nt->pos + (int32_t)j] != '_')
                            buf[k++] = p->q[nt->pos + (int32_t)j];
                    buf[k] = 0;
                    v = strtod(buf, NULL);
                }
                v *= sign;
                if (!isfinite(v) || fabs(v) * 1000.0 > 9.2e18) {
                    perr(p, e->pos, "timestamp out of bounds for @ modifier: %f", v);
                    return NULL;
                }
                advance(p);
                h->at_kind = AT_TS;
                h->at_ms = (int64_t)llround(v * 1000.0);
            }
            e->end = p->toks[p->i - 1].end;
            continue;
        }
        break;
    }
    return e;
}

static double parse_number_text(trn_str_t s)
{
    char stack[128];
    char *buf = s.len < sizeof stack ? stack : malloc(s.len + 1);
    if (!buf) return NAN;
    size_t k = 0;
    for (size_t j = 0; j < s.len; j++)
        if (s.p[j] != '_') buf[k++] = s.p[j];
    buf[k] = 0;
    double v;
    if (k > 2 && buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X'))
        v = (double)strtoull(buf + 2, NULL, 16);
    else
        v = strtod(buf, NULL);
    if (buf != stack) free(buf);
    return v;
}

static pq_expr_t *parse_call(parser_t *p, const pq_tok_t *name)
{
    trn_str_t fname = tok_text(p, name);
    const pq_func_t *f = trn__pq_func_lookup(fname);
    if (!f) {
        perr(p, name->pos, "unknown function with name \"%.*s\"", (int)fname.len, fname.p);
        return NULL;
    }
    pq_expr_t *c = new_node(p, PQ_CALL, name->pos, name->end);
    if (!c) return NULL;
    c->func = f;
    c->type = f->ret;
    advance(p); /* '(' */
    size_t cap = 0;
    while (cur(p)->kind != TK_RPAREN) {
        pq_expr_t *arg = parse_expr(p, 0);
        if (!arg) return NULL;
        if (c->n_args == cap) {
            size_t nc = cap ? cap * 2 : 4;
            pq_expr_t **na = trn_arena_grow(p->a, c->args, cap * sizeof *na, nc * sizeof *na);
            if (!na) {
                perr(p, arg->pos, "query too large for the memory budget");
                return NULL;
            }
            c->args = na;
            cap = nc;
        }
        c->args[c->n_args++] = arg;
        if (arg->depth + 1 > c->depth) c->depth = arg->depth + 1;
        if (cur(p)->kind == TK_COMMA) {
            advance(p);
            if (cur(p)->kind == TK_RPAREN) {
                unexpected(p, "function call", "expression");
                return NULL;
            }
        } else if (cur(p)->kind != TK_RPAREN) {
            unexpected(p, "function call", "\",\" or \")\"");
            return NULL;
        }
    }
    c->end = cur(p)->end;
    advance(p);
    /* argument checks */
    int na = (int)c->n_args;
    if (f->variadic == 0) {
        if (na != f->n_args) {
            perr(p, c->pos, "expected %d argument(s) in call to \"%s\", got %d", f->n_args, f->name,
                 na);
            return NULL;
        }
    } else {
        int min = f->n_args - 1;
        if (na < min) {
            perr(p, c->pos, "expected at least %d argument(s) in call to \"%s\", got %d", min,
                 f->name, na);
            return NULL;
        }
        if (f->variadic > 0 && na > min + f->variadic) {
            perr(p, c->pos, "expected at most %d argument(s) in call to \"%s\", got %d",
                 min + f->variadic, f->name, na);
            return NULL;
        }
    }
    for (int i = 0; i < na; i++) {
        trn_promql_type_t want = f->args[i < f->n_args ? i : f->n_args - 1];
        pq_expr_t *arg = c->args[i];
        if (arg->type != want) {
            perr(p, arg->pos, "expected type %s in call to function \"%s\", got %s",
                 trn__pq_type_desc(want), f->name, trn__pq_type_desc(arg->type));
            return NULL;
        }
    }
    return c;
}

static pq_expr_t *parse_aggregation(parser_t *p, int op, const pq_tok_t *name)
{
    pq_expr_t *ag = new_node(p, PQ_AGG, name->pos, name->end);
    if (!ag) return NULL;
    ag->agg = (pq_aggop_t)op;
    ag->type = TRN_PROMQL_VECTOR;
    advance(p);
    bool have_grouping = false;
    if (tok_is_kw(p, cur(p), "by") || tok_is_kw(p, cur(p), "without")) {
        ag->without = tok_is_kw(p, cur(p), "without");
        advance(p);
        if (!parse_label_list(p, &ag->grouping, &ag->n_grouping, "grouping opts")) return NULL;
        have_grouping = true;
    }
    if (cur(p)->kind != TK_LPAREN) {
        unexpected(p, "aggregation", "\"(\"");
        return NULL;
    }
    advance(p);
    pq_expr_t *args[2] = {NULL, NULL};
    int n = 0;
    while (cur(p)->kind != TK_RPAREN) {
        pq_expr_t *e = parse_expr(p, 0);
        if (!e) return NULL;
        if (n >= 2) {
            perr(p, ag->pos,
                 "wrong number of arguments for aggregate expression provided, expected %d, got %d",
                 (op == AGG_TOPK || op == AGG_BOTTOMK || op == AGG_QUANTILE ||
                  op == AGG_COUNT_VALUES || op == AGG_LIMITK || op == AGG_LIMIT_RATIO)
                     ? 2
                     : 1,
                 n + 1);
            return NULL;
        }
        args[n++] = e;
        if (cur(p)->kind == TK_COMMA) {
            advance(p);
        } else if (cur(p)->kind != TK_RPAREN) {
            unexpected(p, "aggregation", "\",\" or \")\"");
            return NULL;
        }
    }
    ag->end = cur(p)->end;
    advance(p);
    if (!have_grouping && (tok_is_kw(p, cur(p), "by") || tok_is_kw(p, cur(p), "without"))) {
        ag->without = tok_is_kw(p, cur(p), "without");
        advance(p);
        ag->end = cur(p)->end;
        if (!parse_label_list(p, &ag->grouping, &ag->n_grouping, "grouping opts")) return NULL;
        ag->end = p->toks[p->i - 1].end;
    }
    bool with_param = op == AGG_TOPK || op == AGG_BOTTOMK || op == AGG_QUANTILE ||
                      op == AGG_COUNT_VALUES || op == AGG_LIMITK || op == AGG_LIMIT_RATIO;
    if (n == 0) {
        perr(p, ag->pos, "no arguments for aggregate expression provided");
        return NULL;
    }
    if (n != (with_param ? 2 : 1)) {
        perr(p, ag->pos,
             "wrong number of arguments for aggregate expression provided, expected %d, got %d",
             with_param ? 2 : 1, n);
        return NULL;
    }
    if (with_param) {
        ag->param = args[0];
        ag->inner = args[1];
        trn_promql_type_t want = op == AGG_COUNT_VALUES ? TRN_PROMQL_STRING : TRN_PROMQL_SCALAR;
        if (ag->param->type != want) {
            perr(p, ag->param->pos, "expected type %s in aggregation parameter, got %s",
                 trn__pq_type_desc(want), trn__pq_type_desc(ag->param->type));
            return NULL;
        }
    } else {
        ag->inner = args[0];
    }
    ag->depth = 1 + (node_depth(ag->inner) > node_depth(ag->param) ? node_depth(ag->inner)
                                                                   : node_depth(ag->param));
    if (ag->inner->type != TRN_PROMQL_VECTOR) {
        perr(p, ag->inner->pos, "expected type instant vector in aggregation expression, got %s",
             trn__pq_type_desc(ag->inner->type));
        return NULL;
    }
    return ag;
}

static pq_expr_t *parse_primary(parser_t *p)
{
    pq_tok_t *t = cur(p);
    switch (t->kind) {
    case TK_NUMBER: {
        pq_expr_t *e = new_node(p, PQ_NUMBER, t->pos, t->end);
        if (!e) return NULL;
        e->type = TRN_PROMQL_SCALAR;
        e->num = parse_number_text(tok_text(p, t));
        if (isinf(e->num)) {
            trn_str_t txt = tok_text(p, t);
            perr(p, t->pos,
                 "error parsing number: strconv.ParseFloat: parsing \"%.*s\": value out of range",
                 (int)(txt.len > 300 ? 300 : txt.len), txt.p);
            return NULL;
        }
        advance(p);
        return e;
    }
    case TK_DURATION: {
        pq_expr_t *e = new_node(p, PQ_NUMBER, t->pos, t->end);
        if (!e) return NULL;
        int64_t ms;
        trn_parse_duration(tok_text(p, t), &ms);
        e->type = TRN_PROMQL_SCALAR;
        e->num = (double)ms / 1000.0;
        e->is_duration = true;
        advance(p);
        return e;
    }
    case TK_STRING: {
        pq_expr_t *e = new_node(p, PQ_STRING, t->pos, t->end);
        if (!e) return NULL;
        e->type = TRN_PROMQL_STRING;
        trn_diag_t sd;
        trn_diag_init(&sd);
        if (trn__pq_unquote(p->q + t->pos, (size_t)(t->end - t->pos), p->a, &e->str, &sd) < 0) {
            perr(p, t->pos, "error unquoting string %.*s: %s", (int)(t->end - t->pos),
                 p->q + t->pos, sd.msg);
            return NULL;
        }
        advance(p);
        return e;
    }
    case TK_LPAREN: {
        int32_t pos = t->pos;
        advance(p);
        pq_expr_t *in = parse_expr(p, 0);
        if (!in) return NULL;
        int32_t end = cur(p)->end;
        if (!expect(p, TK_RPAREN, "paren expression", "\")\"")) return NULL;
        pq_expr_t *e = new_node(p, PQ_PAREN, pos, end);
        if (!e) return NULL;
        e->inner = in;
        e->type = in->type;
        e->depth = in->depth + 1;
        return e;
    }
    case TK_LBRACE:
        return parse_selector(p, NULL);
    case TK_IDENT: {
        pq_tok_t *nt = peekn(p, 1);
        int agg = agg_lookup(p, t);
        if (agg >= 0 &&
            (nt->kind == TK_LPAREN || tok_is_kw(p, nt, "by") || tok_is_kw(p, nt, "without")))
            return parse_aggregation(p, agg, t);
        trn_str_t txt = tok_text(p, t);
        if ((txt.len == 3 && strncasecmp(txt.p, "inf", 3) == 0) ||
            (txt.len == 3 && strncasecmp(txt.p, "nan", 3) == 0)) {
            pq_expr_t *e = new_node(p, PQ_NUMBER, t->pos, t->end);
            if (!e) return NULL;
            e->type = TRN_PROMQL_SCALAR;
            e->num = (txt.p[0] == 'i' || txt.p[0] == 'I') ? INFINITY : NAN;
            advance(p);
            return e;
        }
        if (is_reserved_kw(p, t)) {
            unexpected(p, NULL, NULL);
            return NULL;
        }
        if (nt->kind == TK_LPAREN && !memchr(txt.p, ':', txt.len)) {
            advance(p);
            return parse_call(p, t);
        }
        pq_tok_t name = *t;
        advance(p);
        return parse_selector(p, &name);
    }
    default:
        unexpected(p, NULL, NULL);
        return NULL;
    }
}

static pq_expr_t *parse_unary(parser_t *p)
{
    pq_tok_t *t = cur(p);
    if (t->kind == TK_SUB || t->kind == TK_ADD) {
        int32_t pos = t->pos;
        bool neg = t->kind == TK_SUB;
        advance(p);
        pq_expr_t *in = parse_expr(p, prec_of(OP_POW));
        if (!in) return NULL;
        if (in->kind == PQ_NUMBER) {
            if (neg) in->num = -in->num;
            in->pos = pos;
            return in;
        }
        if (in->type != TRN_PROMQL_SCALAR && in->type != TRN_PROMQL_VECTOR) {
            perr(p, pos,
                 "unary expression only allowed on expressions of type scalar or instant vector, "
                 "got \"%s\"",
                 trn__pq_type_desc(in->type));
            return NULL;
        }
        pq_expr_t *e = new_node(p, PQ_UNARY, pos, in->end);
        if (!e) return NULL;
        e->op = neg ? OP_SUB : OP_ADD;
        e->inner = in;
        e->depth = in->depth + 1;
        e->type = in->type;
        return e;
    }
    pq_expr_t *e = parse_primary(p);
    if (!e) return NULL;
    return parse_postfix(p, e);
}

static bool label_in(const trn_str_t *v, size_t n, trn_str_t s)
{
    for (size_t i = 0; i < n; i++)
        if (trn_str_eq(v[i], s)) return true;
    return false;
}

static int node_depth(const pq_expr_t *e)
{
    return e ? e->depth : 0;
}

static pq_expr_t *parse_expr(parser_t *p, int min_prec)
{
    if (++p->depth > PQ_MAX_DEPTH) {
        perr(p, cur(p)->pos, "expression nesting too deep (more than %d levels)", PQ_MAX_DEPTH);
        p->depth--;
        return NULL;
    }
    pq_expr_t *r = parse_expr_inner(p, min_prec);
    p->depth--;
    if (r && r->depth > PQ_MAX_DEPTH) {
        perr(p, r->pos, "expression nesting too deep (more than %d levels)", PQ_MAX_DEPTH);
        return NULL;
    }
    return r;
}

static pq_expr_t *parse_expr_inner(parser_t *p, int min_prec)
{
    pq_expr_t *lhs = parse_unary(p);
    while (lhs && !p->failed) {
        pq_binop_t op;
        pq_tok_t *t = cur(p);
        if (!binop_of(p, t, &op)) break;
        int prec = prec_of(op);
        if (prec < min_prec) break;
        int32_t op_pos = t->pos;
        advance(p);
        pq_expr_t *b = new_node(p, PQ_BINARY, lhs->pos, lhs->end);
        if (!b) return NULL;
        b->op = op;
        b->lhs = lhs;
        bool matching_given = false;
        if (tok_is_kw(p, cur(p), "bool")) {
            b->return_bool = true;
            advance(p);
        }
        if (tok_is_kw(p, cur(p), "on") || tok_is_kw(p, cur(p), "ignoring")) {
            b->on = tok_is_kw(p, cur(p), "on");
            advance(p);
            if (!parse_label_list(p, &b->match_labels, &b->n_match_labels, "grouping opts"))
                return NULL;
            matching_given = true;
            if (tok_is_kw(p, cur(p), "group_left") || tok_is_kw(p, cur(p), "group_right")) {
                b->card = tok_is_kw(p, cur(p), "group_left") ? CARD_MANY_TO_ONE : CARD_ONE_TO_MANY;
                advance(p);
                if (cur(p)->kind == TK_LPAREN) {
                    if (!parse_label_list(p, &b->include, &b->n_include, "grouping opts"))
                        return NULL;
                }
            }
        } else if (tok_is_kw(p, cur(p), "group_left") || tok_is_kw(p, cur(p), "group_right")) {
            unexpected(p, NULL, NULL);
            return NULL;
        }
        pq_expr_t *rhs = parse_expr(p, op == OP_POW ? prec : prec + 1);
        if (!rhs) return NULL;
        b->rhs = rhs;
        b->end = rhs->end;
        b->depth = 1 + (lhs->depth > rhs->depth ? lhs->depth : rhs->depth);
        if (b->depth > PQ_MAX_DEPTH) {
            perr(p, b->pos, "expression nesting too deep (more than %d levels)", PQ_MAX_DEPTH);
            return NULL;
        }
        /* type checks */
        bool cmp = trn__pq_binop_is_comparison(op), set = trn__pq_binop_is_set(op);
        if (b->return_bool && !cmp) {
            perr(p, op_pos, "bool modifier can only be used on comparison operators");
            return NULL;
        }
        if (lhs->type != TRN_PROMQL_SCALAR && lhs->type != TRN_PROMQL_VECTOR) {
            perr(p, lhs->pos,
                 "binary expression must contain only scalar and instant vector types");
            return NULL;
        }
        if (rhs->type != TRN_PROMQL_SCALAR && rhs->type != TRN_PROMQL_VECTOR) {
            perr(p, rhs->pos,
                 "binary expression must contain only scalar and instant vector types");
            return NULL;
        }
        if (cmp && lhs->type == TRN_PROMQL_SCALAR && rhs->type == TRN_PROMQL_SCALAR &&
            !b->return_bool) {
            perr(p, op_pos, "comparisons between scalars must use BOOL modifier");
            return NULL;
        }
        bool both_vec = lhs->type == TRN_PROMQL_VECTOR && rhs->type == TRN_PROMQL_VECTOR;
        if (!both_vec && matching_given) {
            perr(p, b->pos, "vector matching only allowed between instant vectors");
            return NULL;
        }
        if (set && !both_vec) {
            perr(p, b->pos, "set operator \"%s\" not allowed in binary scalar expression",
                 trn__pq_binop_str(op));
            return NULL;
        }
        if (both_vec) {
            b->has_matching = true;
            if (set) {
                if (b->card == CARD_MANY_TO_ONE || b->card == CARD_ONE_TO_MANY) {
                    perr(p, b->pos, "no grouping allowed for \"%s\" operation",
                         trn__pq_binop_str(op));
                    return NULL;
                }
                b->card = CARD_MANY_TO_MANY;
            }
            if (b->on)
                for (size_t i = 0; i < b->n_include; i++)
                    if (label_in(b->match_labels, b->n_match_labels, b->include[i])) {
                        perr(p, op_pos,
                             "label \"%.*s\" must not occur in ON and GROUP clause at once",
                             (int)b->include[i].len, b->include[i].p);
                        return NULL;
                    }
        }
        b->type = both_vec || lhs->type == TRN_PROMQL_VECTOR || rhs->type == TRN_PROMQL_VECTOR
                      ? TRN_PROMQL_VECTOR
                      : TRN_PROMQL_SCALAR;
        lhs = b;
    }
    return lhs;
}

static void release_all(parser_t *p)
{
    for (size_t i = 0; i < p->n_ms_all; i++)
        trn_matcher_fini(p->ms_all[i]);
}

int trn_promql_parse(const char *q, size_t len, trn_arena_t *a, trn_promql_expr_t **out,
                     trn_diag_t *d)
{
    parser_t p = {.q = q, .len = len, .a = a, .d = d};
    if (lex_all(&p) < 0) goto fail;
    if (p.n_toks == 1) {
        perr(&p, 0, "no expression found in input");
        goto fail;
    }
    pq_expr_t *e = parse_expr(&p, 0);
    if (!e) goto fail;
    if (cur(&p)->kind != TK_EOF) {
        unexpected(&p, NULL, NULL);
        goto fail;
    }
    e->src = trn_arena_strndup(a, q, len);
    e->src_len = e->src ? len : 0;
    *out = e;
    return 0;
fail:
    if (!p.failed) perr(&p, 0, "invalid expression");
    release_all(&p);
    return trn_arena_failed(a) ? TRN_ELIMIT : TRN_EINVAL;
}

static void release_rec(pq_expr_t *e)
{
    if (!e) return;
    switch (e->kind) {
    case PQ_VSEL:
        release_selector_matchers(e);
        e->n_ms = 0;
        break;
    case PQ_CALL:
        for (size_t i = 0; i < e->n_args; i++)
            release_rec(e->args[i]);
        break;
    case PQ_BINARY:
        release_rec(e->lhs);
        release_rec(e->rhs);
        break;
    case PQ_AGG:
        release_rec(e->param);
        release_rec(e->inner);
        break;
    default:
        release_rec(e->inner);
        break;
    }
}

void trn_promql_expr_release(trn_promql_expr_t *e)
{
    release_rec(e);
}

trn_promql_type_t trn_promql_expr_type(const trn_promql_expr_t *e)
{
    return e ? e->type : TRN_PROMQL_NONE;
}

/* ---- series descriptions (test files) ---------------------------------------- */

int trn__pq_parse_metric(const char *q, size_t len, trn_arena_t *a, trn_labels_t *out,
                         trn_diag_t *d)
{
    size_t i = 0;
    trn_label_t *v = NULL;
    size_t n = 0, cap = 0;
    trn_str_t name = {0};
    while (i < len && (q[i] == ' ' || q[i] == '\t'))
        i++;
    size_t s = i;
    while (i < len && (is_alnum(q[i]) || q[i] == ':'))
        i++;
    if (i > s) name = (trn_str_t){q + s, i - s};
    if (i < len && q[i] == '{') {
        i++;
        for (;;) {
            while (i < len && (q[i] == ' ' || q[i] == '\t'))
                i++;
            if (i < len && q[i] == '}') {
                i++;
                break;
            }
            trn_str_t ln;
            if (i < len && (q[i] == '"' || q[i] == '\'')) {
                int r = trn__pq_unquote(q + i, len - i, a, &ln, d);
                if (r < 0) return r;
                i += (size_t)r;
            } else {
                size_t ls = i;
                while (i < len && is_alnum(q[i]))
                    i++;
                if (i == ls) return trn_diag_set(d, TRN_EINVAL, (int64_t)i, "bad label name");
                ln = (trn_str_t){q + ls, i - ls};
            }
            while (i < len && (q[i] == ' ' || q[i] == '\t'))
                i++;
            trn_str_t lv;
            if (i < len && q[i] == '=') {
                i++;
                while (i < len && (q[i] == ' ' || q[i] == '\t'))
                    i++;
                int r = trn__pq_unquote(q + i, len - i, a, &lv, d);
                if (r < 0) return r;
                i += (size_t)r;
            } else {
                /* bare quoted metric name */
                name = ln;
                goto next;
            }
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 8;
                trn_label_t *nv = trn_arena_grow(a, v, cap * sizeof *nv, nc * sizeof *nv);
                if (!nv) return TRN_ELIMIT;
                v = nv;
                cap = nc;
            }
            v[n++] = (trn_label_t){ln, lv};
        next:
            while (i < len && (q[i] == ' ' || q[i] == '\t'))
                i++;
            if (i < len && q[i] == ',') {
                i++;
                continue;
            }
            if (i < len && q[i] == '}') {
                i++;
                break;
            }
            return trn_diag_set(d, TRN_EINVAL, (int64_t)i, "expected , or } in series description");
        }
    }
    if (name.len) {
        trn_label_t *nv = trn_arena_grow(a, v, cap * sizeof *nv, (n + 1) * sizeof *nv);
        if (!nv) return TRN_ELIMIT;
        v = nv;
        v[n++] = (trn_label_t){TRN_STR(TRN_METRIC_NAME), name};
    }
    out->v = v;
    out->n = n;
    trn_labels_sort(out);
    trn_labels_drop_empty(out);
    return (int)i;
}
