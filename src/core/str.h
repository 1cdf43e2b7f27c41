/* SPDX-License-Identifier: Apache-2.0 */
/* Borrowed string views and a growable byte buffer. */
#ifndef TRN_CORE_STR_H
#define TRN_CORE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A borrowed view: not NUL-terminated unless said so. */
typedef struct {
    const char *p;
    size_t len;
} trn_str_t;

#define TRN_STR(lit) ((trn_str_t){(lit), sizeof(lit) - 1})

/* Growable buffer owned by its user; data is kept NUL-terminated. */
typedef struct trn_buf {
    char *data;
    size_t len, cap;
} trn_buf_t;

void trn_buf_init(trn_buf_t *b);
void trn_buf_fini(trn_buf_t *b);
void trn_buf_reserve(trn_buf_t *b, size_t extra);
void trn_buf_append(trn_buf_t *b, const void *p, size_t n);
void trn_buf_printf(trn_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Takes ownership of the bytes; the buffer is left empty. */
char *trn_buf_steal(trn_buf_t *b, size_t *len);

/* Shortest text that parses back to exactly v, as Prometheus's JSON API
 * writes sample values: plain decimal, exponent form only below 1e-6 or
 * from 1e21 ("1000000", "1e-07", "1e+21"), "NaN", "+Inf", "-Inf".
 * Writes at most 32 bytes plus NUL; returns the length. */
int trn_fmt_float(char out[33], double v);
/* v in decimal ("-42"), as %lld without printf's cost: at most 20 bytes
 * plus NUL; returns the length. */
int trn_fmt_i64(char out[21], int64_t v);
/* Go's strconv.FormatFloat(v, 'g', -1, 64) as Prometheus's text format and
 * %v use it: exponent form when exp10 < -4 or >= 6 ("1e+06", "1e-05"). */
int trn_fmt_float_g(char out[33], double v);

/* Appends s quoted as Go's strconv.Quote does ("a\"b", "\n", "\x01"). */
void trn_go_quote(trn_buf_t *out, trn_str_t s);

static inline trn_str_t trn_str_c(const char *s)
{
    trn_str_t r = {s, s ? strlen(s) : 0};
    return r;
}
static inline bool trn_str_eq(trn_str_t a, trn_str_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}
static inline bool trn_str_eqc(trn_str_t a, const char *c)
{
    return trn_str_eq(a, trn_str_c(c));
}
static inline int trn_str_cmp(trn_str_t a, trn_str_t b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.p, b.p, n) : 0;
    if (c) return c;
    return a.len < b.len ? -1 : a.len > b.len;
}
static inline void trn_buf_putc(trn_buf_t *b, char c)
{
    if (b->len + 2 > b->cap) trn_buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = 0;
}
static inline void trn_buf_puts(trn_buf_t *b, const char *s)
{
    trn_buf_append(b, s, strlen(s));
}

#endif
