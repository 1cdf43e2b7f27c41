/* SPDX-License-Identifier: Apache-2.0 */
/* JSON writer. The only state is, per nesting level, whether an item was
 * already written (to place commas) and whether a key awaits its value. */
#include "core/json.h"
#include "core/err.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

void trn_json_init(trn_json_t *j, trn_buf_t *out)
{
    j->b = out;
    j->depth = 0;
    j->after_key = false;
    j->has_item[0] = false;
}

static void sep(trn_json_t *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->has_item[j->depth]) trn_buf_putc(j->b, ',');
    j->has_item[j->depth] = true;
}

static void open(trn_json_t *j, char c)
{
    sep(j);
    trn_buf_putc(j->b, c);
    TRN_ASSERT(j->depth + 1 < TRN_JSON_DEPTH_MAX);
    j->has_item[++j->depth] = false;
}

static void close_(trn_json_t *j, char c)
{
    trn_buf_putc(j->b, c);
    j->depth--;
}

void trn_json_obj_begin(trn_json_t *j)
{
    open(j, '{');
}
void trn_json_obj_end(trn_json_t *j)
{
    close_(j, '}');
}
void trn_json_arr_begin(trn_json_t *j)
{
    open(j, '[');
}
void trn_json_arr_end(trn_json_t *j)
{
    close_(j, ']');
}

void trn_json_escape(trn_buf_t *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            size_t k = i;
            while (k < n && p[k] >= 0x20 && p[k] != '"' && p[k] != '\\' && p[k] < 0x80)
                k++;
            trn_buf_append(out, s + i, k - i);
            i = k;
            continue;
        }
        if (c == '"')
            trn_buf_append(out, "\\\"", 2);
        else if (c == '\\')
            trn_buf_append(out, "\\\\", 2);
        else if (c == '\n')
            trn_buf_append(out, "\\n", 2);
        else if (c == '\r')
            trn_buf_append(out, "\\r", 2);
        else if (c == '\t')
            trn_buf_append(out, "\\t", 2);
        else if (c < 0x20) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            trn_buf_append(out, e, 6);
        } else {
            /* multi-byte UTF-8: copy if valid, else U+FFFD */
            size_t k = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
            bool ok = k && i + k <= n;
            for (size_t m = 1; ok && m < k; m++)
                if ((p[i + m] & 0xc0) != 0x80) ok = false;
            if (ok) {
                trn_buf_append(out, s + i, k);
                i += k;
                continue;
            }
            trn_buf_append(out, "\xef\xbf\xbd", 3);
        }
        i++;
    }
}

void trn_json_keyn(trn_json_t *j, const char *k, size_t n)
{
    sep(j);
    trn_buf_putc(j->b, '"');
    trn_json_escape(j->b, k, n);
    trn_buf_append(j->b, "\":", 2);
    j->after_key = true;
}

void trn_json_key(trn_json_t *j, const char *k)
{
    trn_json_keyn(j, k, strlen(k));
}

void trn_json_strn(trn_json_t *j, const char *s, size_t n)
{
    sep(j);
    trn_buf_putc(j->b, '"');
    trn_json_escape(j->b, s, n);
    trn_buf_putc(j->b, '"');
}

void trn_json_str(trn_json_t *j, const char *s)
{
    trn_json_strn(j, s, strlen(s));
}

void trn_json_int(trn_json_t *j, int64_t v)
{
    sep(j);
    trn_buf_printf(j->b, "%" PRId64, v);
}

void trn_json_uint(trn_json_t *j, uint64_t v)
{
    sep(j);
    trn_buf_printf(j->b, "%" PRIu64, v);
}

void trn_json_num(trn_json_t *j, double v)
{
    if (!isfinite(v)) {
        trn_json_null(j);
        return;
    }
    sep(j);
    char t[33];
    int n = trn_fmt_float(t, v);
    trn_buf_append(j->b, t, (size_t)n);
}

void trn_json_float_str(trn_json_t *j, double v)
{
    char t[33];
    int n = trn_fmt_float(t, v);
    /* digits, '.', '-', '+', 'e', "NaN", "Inf": nothing to escape */
    sep(j);
    trn_buf_reserve(j->b, (size_t)n + 2);
    char *p = j->b->data + j->b->len;
    p[0] = '"';
    memcpy(p + 1, t, (size_t)n);
    p[n + 1] = '"';
    j->b->len += (size_t)n + 2;
    j->b->data[j->b->len] = 0;
}

void trn_json_bool(trn_json_t *j, bool v)
{
    sep(j);
    trn_buf_puts(j->b, v ? "true" : "false");
}

void trn_json_null(trn_json_t *j)
{
    sep(j);
    trn_buf_append(j->b, "null", 4);
}

void trn_json_raw(trn_json_t *j, const char *s, size_t n)
{
    sep(j);
    trn_buf_append(j->b, s, n);
}
