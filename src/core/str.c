/* SPDX-License-Identifier: Apache-2.0 */
/* Byte buffer and float formatting. The float formatter tries increasing
 * precision until the text round-trips, which yields the shortest exact
 * representation, then rewrites the exponent as Go does ("e+06"). */
#include "core/str.h"
#include "core/alloc.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void trn_buf_init(trn_buf_t *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
}

void trn_buf_fini(trn_buf_t *b)
{
    free(b->data);
    trn_buf_init(b);
}

void trn_buf_reserve(trn_buf_t *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) cap *= 2;
    b->data = trn_xrealloc(b->data, cap);
    b->cap = cap;
}

void trn_buf_append(trn_buf_t *b, const void *p, size_t n)
{
    trn_buf_reserve(b, n);
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
}

void trn_buf_printf(trn_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) {
        trn_buf_append(b, tmp, (size_t)n);
        return;
    }
    trn_buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *trn_buf_steal(trn_buf_t *b, size_t *len)
{
    if (!b->data) trn_buf_reserve(b, 0);
    char *p = b->data;
    if (len) *len = b->len;
    trn_buf_init(b);
    return p;
}

/* Shortest round-tripping digits of v in %e form: mantissa digits and exp10. */
static int shortest_e(char tmp[40], double v, int *exp10)
{
    int prec;
    for (prec = 1; prec < 17; prec++) {
        snprintf(tmp, 40, "%.*e", prec - 1, v);
        if (strtod(tmp, NULL) == v) break;
    }
    snprintf(tmp, 40, "%.*e", prec - 1, v);
    char *e = strchr(tmp, 'e');
    *exp10 = atoi(e + 1);
    *e = 0;
    return prec;
}

static int fmt_with(char out[33], double v, bool use_exp, int prec, int exp10, char *mant)
{
    if (use_exp) return snprintf(out, 33, "%se%c%02d", mant, exp10 < 0 ? '-' : '+', abs(exp10));
    int decimals = prec - 1 - exp10;
    if (decimals < 0) decimals = 0;
    return snprintf(out, 33, "%.*f", decimals, v);
}

int trn_fmt_float(char out[33], double v)
{
    if (isnan(v)) return snprintf(out, 33, "NaN");
    if (isinf(v)) return snprintf(out, 33, v > 0 ? "+Inf" : "-Inf");
    if (v == 0) return snprintf(out, 33, signbit(v) ? "-0" : "0");
    char tmp[40];
    int exp10, prec = shortest_e(tmp, v, &exp10);
    double a = fabs(v);
    return fmt_with(out, v, a < 1e-6 || a >= 1e21, prec, exp10, tmp);
}

int trn_fmt_float_g(char out[33], double v)
{
    if (isnan(v)) return snprintf(out, 33, "NaN");
    if (isinf(v)) return snprintf(out, 33, v > 0 ? "+Inf" : "-Inf");
    if (v == 0) return snprintf(out, 33, signbit(v) ? "-0" : "0");
    char tmp[40];
    int exp10, prec = shortest_e(tmp, v, &exp10);
    return fmt_with(out, v, exp10 < -4 || exp10 >= 6, prec, exp10, tmp);
}
