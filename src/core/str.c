/* SPDX-License-Identifier: Apache-2.0 */
/* Byte buffer and float formatting. The float formatter tries increasing
 * precision until the text round-trips, which yields the shortest exact
 * representation, then rewrites the exponent as Go does ("e+06"). */
#include "core/str.h"
#include "core/alloc.h"

#include <float.h>
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

/* Shortest round-tripping digits of v in %e form: mantissa (trailing zeros
 * removed) in tmp, returns the digit count, exp10 out. A double's shortest
 * form has at most 17 digits, and when it has k <= 15 the 15-digit rounding
 * is those k digits followed by zeros (the representation error is below
 * half a unit of the 15th digit), so at most three tries are needed. */
static int shortest_e(char tmp[40], double v, int *exp10)
{
    int prec;
    /* Subnormals carry fewer bits, so their shortest form may be shorter
     * than the 15-digit rounding shows: search from one digit there. */
    for (prec = fabs(v) < DBL_MIN ? 1 : 15; prec < 17; prec++) {
        snprintf(tmp, 40, "%.*e", prec - 1, v);
        if (strtod(tmp, NULL) == v) break;
    }
    if (prec == 17) snprintf(tmp, 40, "%.16e", v);
    char *e = strchr(tmp, 'e');
    *exp10 = atoi(e + 1);
    *e = 0;
    /* strip trailing zeros of the mantissa ("1.50000" -> "1.5", "2.000" -> "2") */
    char *dot = strchr(tmp, '.');
    if (dot) {
        char *end = e - 1;
        while (end > dot && *end == '0') *end-- = 0;
        if (end == dot) *end = 0;
    }
    int digits = 0;
    for (const char *p = tmp; *p; p++)
        if (*p >= '0' && *p <= '9') digits++;
    return digits;
}

/* Integers below 2^53 print exactly as themselves; the common case for
 * counters, so it skips the digit search. */
static int fmt_integer(char out[33], double v)
{
    return snprintf(out, 33, "%lld", (long long)v);
}

static bool is_small_integer(double v)
{
    /* range first: converting a larger double to long long is undefined */
    return fabs(v) < 9007199254740992.0 && v == (double)(long long)v;
}

/* Writes the shortest digits (mant, as "-d.ddd") in exponent form or in
 * plain decimal form, placing the point by exp10 and padding with zeros
 * (never printing digits beyond the shortest form, as Go does). */
static int fmt_with(char out[33], double v, bool use_exp, int prec, int exp10, char *mant)
{
    (void)v;
    (void)prec;
    if (use_exp) return snprintf(out, 33, "%se%c%02d", mant, exp10 < 0 ? '-' : '+', abs(exp10));
    char digits[24];
    int nd = 0;
    bool neg = mant[0] == '-';
    for (const char *p = mant; *p && nd < 23; p++)
        if (*p >= '0' && *p <= '9') digits[nd++] = *p;
    int n = 0;
    if (neg) out[n++] = '-';
    if (exp10 < 0) {
        out[n++] = '0';
        out[n++] = '.';
        for (int i = 0; i < -exp10 - 1 && n < 31; i++) out[n++] = '0';
        for (int i = 0; i < nd && n < 32; i++) out[n++] = digits[i];
    } else {
        for (int i = 0; i <= exp10 && n < 32; i++) out[n++] = i < nd ? digits[i] : '0';
        if (nd > exp10 + 1) {
            out[n++] = '.';
            for (int i = exp10 + 1; i < nd && n < 32; i++) out[n++] = digits[i];
        }
    }
    out[n] = 0;
    return n;
}

int trn_fmt_float(char out[33], double v)
{
    if (isnan(v)) return snprintf(out, 33, "NaN");
    if (isinf(v)) return snprintf(out, 33, v > 0 ? "+Inf" : "-Inf");
    if (v == 0) return snprintf(out, 33, signbit(v) ? "-0" : "0");
    if (is_small_integer(v)) return fmt_integer(out, v); /* below 1e21: never exponent form */
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
    if (is_small_integer(v) && fabs(v) < 1e6) return fmt_integer(out, v);
    char tmp[40];
    int exp10, prec = shortest_e(tmp, v, &exp10);
    return fmt_with(out, v, exp10 < -4 || exp10 >= 6, prec, exp10, tmp);
}
