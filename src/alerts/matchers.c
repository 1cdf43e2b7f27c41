/* SPDX-License-Identifier: Apache-2.0 */
/* Parser and helpers for Alertmanager's matcher syntax.
 *
 * A list is split on commas that are outside double quotes (a backslash
 * escapes a quote for this purpose), after trimming one leading '{' and one
 * trailing '}'. Each piece must read `<ws> name <ws> op <ws> value <ws>`
 * where name is [a-zA-Z_:][a-zA-Z0-9_:]*, op one of =~ = != !~ (longest
 * first), and value the rest with trailing whitespace removed. A value that
 * starts with '"' must end with the matching unescaped '"'; inside, \" \\ and
 * \n are escapes and any other backslash is literal. An unquoted value may
 * not contain an unescaped '"'. These are Alertmanager 0.25's rules, kept
 * deliberately: routing configs written for it must mean the same here. */
#include "alerts/matchers.h"

#include "core/alloc.h"
#include "core/err.h"

#include <stdlib.h>
#include <string.h>

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static bool name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static bool name_char(char c)
{
    return name_start(c) || (c >= '0' && c <= '9');
}

static void push(trn_am_matchers_t *ms, const trn_matcher_t *m)
{
    if (ms->n == ms->cap) {
        ms->cap = ms->cap ? ms->cap * 2 : 4;
        ms->v = trn_xrealloc(ms->v, ms->cap * sizeof *ms->v);
    }
    ms->v[ms->n++] = *m;
}

int trn_am_matcher_parse(trn_str_t s, trn_arena_t *a, trn_matcher_t *out, trn_diag_t *d)
{
    const char *p = s.p, *end = s.p + s.len;
    int shown = (int)(s.len > 200 ? 200 : s.len);
    while (p < end && is_ws(*p))
        p++;
    const char *name = p;
    if (p == end || !name_start(*p)) goto bad;
    while (p < end && name_char(*p))
        p++;
    size_t name_len = (size_t)(p - name);
    while (p < end && is_ws(*p))
        p++;
    trn_match_type_t type;
    if (end - p >= 2 && p[0] == '=' && p[1] == '~')
        type = TRN_MATCH_RE, p += 2;
    else if (end - p >= 1 && p[0] == '=')
        type = TRN_MATCH_EQ, p += 1;
    else if (end - p >= 2 && p[0] == '!' && p[1] == '=')
        type = TRN_MATCH_NE, p += 2;
    else if (end - p >= 2 && p[0] == '!' && p[1] == '~')
        type = TRN_MATCH_NRE, p += 2;
    else
        goto bad;
    while (p < end && is_ws(*p))
        p++;
    const char *vend = end;
    while (vend > p && is_ws(vend[-1]))
        vend--;
    const char *raw = p;
    size_t raw_len = (size_t)(vend - p);
    if (!trn_utf8_valid(raw, raw_len))
        return trn_diag_set(d, TRN_EINVAL, -1, "matcher value not valid UTF-8: %.*s",
                            (int)(raw_len > 200 ? 200 : raw_len), raw);
    bool quoted = raw_len > 0 && raw[0] == '"';
    const char *v = quoted ? raw + 1 : raw;
    size_t vlen = quoted ? raw_len - 1 : raw_len;
    char *val = trn_arena_alloc(a, vlen + 1);
    if (!val) return trn_diag_set(d, TRN_ELIMIT, -1, "matcher too large for the memory budget");
    size_t k = 0;
    bool expect_quote = quoted;
    for (size_t i = 0; i < vlen; i++) {
        char c = v[i];
        if (c == '\\' && i + 1 < vlen) {
            char e = v[++i];
            if (e == 'n')
                val[k++] = '\n';
            else if (e == '"' || e == '\\')
                val[k++] = e;
            else
                val[k++] = '\\', val[k++] = e;
            continue;
        }
        if (c == '"') {
            if (!expect_quote || i + 1 < vlen)
                return trn_diag_set(d, TRN_EINVAL, -1,
                                    "matcher value contains unescaped double quote: %.*s",
                                    (int)(raw_len > 200 ? 200 : raw_len), raw);
            expect_quote = false;
            continue;
        }
        val[k++] = c;
    }
    if (expect_quote)
        return trn_diag_set(d, TRN_EINVAL, -1,
                            "matcher value contains unescaped double quote: %.*s",
                            (int)(raw_len > 200 ? 200 : raw_len), raw);
    val[k] = 0;
    char *nm = trn_arena_strndup(a, name, name_len);
    if (!nm) return trn_diag_set(d, TRN_ELIMIT, -1, "matcher too large for the memory budget");
    return trn_matcher_init(out, type, (trn_str_t){nm, name_len}, (trn_str_t){val, k}, d);
bad:
    return trn_diag_set(d, TRN_EINVAL, -1, "bad matcher format: %.*s", shown, s.p);
}

int trn_am_matchers_parse(trn_str_t s, trn_arena_t *a, trn_am_matchers_t *out, trn_diag_t *d)
{
    const char *p = s.p, *end = s.p + s.len;
    if (p < end && *p == '{') p++;
    if (end > p && end[-1] == '}') end--;
    size_t start_n = out->n;
    bool in_quotes = false, escaped = false;
    const char *tok = p;
    for (const char *q = p;; q++) {
        bool last = q == end;
        if (!last) {
            char c = *q;
            if (c == ',' && !in_quotes) {
                /* fallthrough to emit */
            } else {
                if (c == '"') {
                    if (!escaped)
                        in_quotes = !in_quotes;
                    else
                        escaped = false;
                } else if (c == '\\') {
                    escaped = !escaped;
                } else {
                    escaped = false;
                }
                continue;
            }
        }
        trn_str_t t = {tok, (size_t)(q - tok)};
        if (last) {
            while (t.len && is_ws(t.p[0]))
                t.p++, t.len--;
            while (t.len && is_ws(t.p[t.len - 1]))
                t.len--;
            if (t.len == 0) break;
        }
        trn_matcher_t m;
        int rc = trn_am_matcher_parse(t, a, &m, d);
        if (rc < 0) {
            for (size_t i = start_n; i < out->n; i++)
                trn_matcher_fini(&out->v[i]);
            out->n = start_n;
            return rc;
        }
        push(out, &m);
        if (last) break;
        tok = q + 1;
    }
    return 0;
}

int trn_am_matchers_add(trn_am_matchers_t *ms, trn_arena_t *a, trn_match_type_t t, trn_str_t name,
                        trn_str_t value, trn_diag_t *d)
{
    char *n = trn_arena_strndup(a, name.p ? name.p : "", name.len);
    char *v = trn_arena_strndup(a, value.p ? value.p : "", value.len);
    if (!n || !v) return trn_diag_set(d, TRN_ELIMIT, -1, "matcher too large for the memory budget");
    trn_matcher_t m;
    int rc = trn_matcher_init(&m, t, (trn_str_t){n, name.len}, (trn_str_t){v, value.len}, d);
    if (rc < 0) return rc;
    push(ms, &m);
    return 0;
}

void trn_am_matchers_fini(trn_am_matchers_t *ms)
{
    if (!ms) return;
    for (size_t i = 0; i < ms->n; i++)
        trn_matcher_fini(&ms->v[i]);
    free(ms->v);
    ms->v = NULL;
    ms->n = ms->cap = 0;
}

bool trn_am_matchers_match(const trn_am_matchers_t *ms, const trn_labels_t *ls)
{
    for (size_t i = 0; i < ms->n; i++) {
        trn_str_t v = trn_labels_get(ls, ms->v[i].name.p);
        if (!v.p) v = TRN_STR("");
        if (!trn_matcher_matches(&ms->v[i], v)) return false;
    }
    return true;
}

static int cmp_matcher(const void *a, const void *b)
{
    const trn_matcher_t *x = a, *y = b;
    int c = trn_str_cmp(x->name, y->name);
    if (c) return c;
    c = trn_str_cmp(x->value, y->value);
    if (c) return c;
    return (int)x->type - (int)y->type;
}

void trn_am_matchers_sort(trn_am_matchers_t *ms)
{
    if (ms->n > 1) qsort(ms->v, ms->n, sizeof *ms->v, cmp_matcher);
}

void trn_am_matcher_format(const trn_matcher_t *m, trn_buf_t *out)
{
    trn_buf_append(out, m->name.p, m->name.len);
    trn_buf_puts(out, trn_match_op(m->type));
    trn_buf_putc(out, '"');
    for (size_t i = 0; i < m->value.len; i++) {
        char c = m->value.p[i];
        if (c == '\\')
            trn_buf_puts(out, "\\\\");
        else if (c == '\n')
            trn_buf_puts(out, "\\n");
        else if (c == '"')
            trn_buf_puts(out, "\\\"");
        else
            trn_buf_putc(out, c);
    }
    trn_buf_putc(out, '"');
}

void trn_am_matchers_format(const trn_am_matchers_t *ms, trn_buf_t *out)
{
    trn_buf_putc(out, '{');
    for (size_t i = 0; i < ms->n; i++) {
        if (i) trn_buf_putc(out, ',');
        trn_am_matcher_format(&ms->v[i], out);
    }
    trn_buf_putc(out, '}');
}
