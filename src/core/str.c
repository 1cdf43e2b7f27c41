/* SPDX-License-Identifier: Apache-2.0 */
/* Byte buffer and float formatting. The float formatter finds the shortest
 * digits that read back as exactly the same double (and of those, the ones
 * nearest to it), then places the decimal point or writes the exponent as
 * Go does ("e+06"). The digits come from an exact integer digit generator
 * (the "free-format" method of Steele & White, 1990) on 128-bit integers,
 * which covers every normal double from about 1e-20 to 1e30, the values
 * query results are made of; anything else falls back to trying
 * %.{15,16,17}e with snprintf until strtod reads the text back unchanged,
 * about twenty times slower. */
#include "core/str.h"
#include "core/alloc.h"
#include "core/labels.h"

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
    while (cap < need)
        cap *= 2;
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
/* The exact generator. v = V/D, and the doubles next to v are (V - Mm)/D
 * and (V + Mp)/D away by twice the margins (Mm, Mp are the half-gaps, so
 * every decimal strictly inside (V-Mm, V+Mp)/D reads back as v, and one on
 * the edge does too when v's mantissa is even: strtod rounds ties to even).
 * Scale by a power of ten so that the interval's top is below 1 (k is the
 * decimal exponent of the first digit place), then emit digits of V/D
 * until the remainder is within a margin of either end: the digit string
 * so far (or it plus one in its last place) lies inside the interval, and
 * no shorter string did. When both ends are reachable, the one nearer to
 * v wins (ties to an even digit), as in Go's strconv. Writes
 * "[-]d[.ddd]" to tmp and returns the digit count, or -1 when the
 * operands would not fit in 128 bits (the caller falls back). */
typedef unsigned __int128 u128;

static int bitlen128(u128 x)
{
    uint64_t hi = (uint64_t)(x >> 64), lo = (uint64_t)x;
    if (hi) return 128 - __builtin_clzll(hi);
    return lo ? 64 - __builtin_clzll(lo) : 0;
}

/* floor(R * f / D) for R < D, f <= 10^8, D < 2^101, and R set to the
 * remainder; sh keeps D's top 62 bits. The quotient is below 10^8, so its double-precision estimate
 * is off by at most one, fixed with exact products: cheaper than the
 * library's 128-bit division. */
static uint64_t quot_small(u128 *R, u128 D, uint64_t f, int sh)
{
    u128 t = *R * f;
    /* the top bits of both (D >> sh is at least 2^61) convert to double
     * without the library's 128-bit conversion; the error is far below
     * one unit of the quotient */
    double est = (double)(uint64_t)(*R >> sh) / (double)(uint64_t)(D >> sh) * (double)f;
    uint64_t q = est < 1.0 ? 0 : (uint64_t)est;
    if (q > f) q = f;
    u128 prod = (u128)q * D;
    while (prod > t)
        q--, prod -= D;
    t -= prod;
    while (t >= D)
        q++, t -= D;
    *R = t;
    return q;
}

static int shortest_exact(char out[21], double v, int *exp10)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    int bexp = (int)((bits >> 52) & 0x7ff);
    uint64_t frac = bits & ((UINT64_C(1) << 52) - 1);
    if (bexp == 0 || bexp == 0x7ff) return -1; /* subnormal, Inf, NaN */
    uint64_t m = frac | (UINT64_C(1) << 52);
    int e = bexp - 1075; /* v = m * 2^e */
    if (e < -118 || e > 60) return -1;

    /* V, Mp, Mm, D as 4m, 2, 2 (or 1 below a power of two), 4, shifted
     * by e on the side of its sign. */
    u128 V = (u128)m << 2, Mp = 2, Mm = 2, D = 4;
    if (frac == 0 && bexp > 1) V <<= 1, Mp <<= 1, D <<= 1; /* Mm stays half of Mp */
    if (e >= 0) {
        V <<= e, Mp <<= e, Mm <<= e;
    } else {
        D <<= -e;
    }
    bool inclusive = (m & 1) == 0;

    /* k: the smallest power of ten above the interval's top. v is in
     * [2^b, 2^(b+1)) with b = e + 52, so log10(v) is about b * log10(2)
     * (1233 / 4096); off by at most one either way, which the exact
     * comparisons below fix. */
    int b = e + 52;
    int k = ((b + 1) * 1233 + 4096 * 400) / 4096 - 400;
    static const uint64_t p10[20] = {1ULL,
                                     10ULL,
                                     100ULL,
                                     1000ULL,
                                     10000ULL,
                                     100000ULL,
                                     1000000ULL,
                                     10000000ULL,
                                     100000000ULL,
                                     1000000000ULL,
                                     10000000000ULL,
                                     100000000000ULL,
                                     1000000000000ULL,
                                     10000000000000ULL,
                                     100000000000000ULL,
                                     1000000000000000ULL,
                                     10000000000000000ULL,
                                     100000000000000000ULL,
                                     1000000000000000000ULL,
                                     10000000000000000000ULL};
    if (k > 38 || k < -38) return -1;
    /* scale by 10^|k| (at most two factors of up to 10^19); 10^a has at
     * most a * log2(10) + 1 bits, so the product's bits are bounded by the
     * sum, checked against 123 (10 * 2^123 and V + Mp still fit) */
    int a = k < 0 ? -k : k;
    u128 scale = a > 19 ? (u128)p10[19] * p10[a - 19] : (u128)p10[a];
    const u128 lim = (u128)1 << 123;
    int scale_bits = (a * 3322 + 999) / 1000 + 1;
    if (k >= 0) {
        if (bitlen128(D) + scale_bits > 123) return -1;
        D *= scale;
    } else {
        if (bitlen128(V) + scale_bits > 123) return -1;
        V *= scale, Mp *= scale, Mm *= scale;
    }
    if (D > lim || V > lim) return -1;
    /* top reaches 1 (a digit would carry into the place above): one place
     * up; top at or below 0.1 (the first digit would be 0): one down */
    while (inclusive ? V + Mp >= D : V + Mp > D) {
        if (D > lim / 10) return -1;
        D *= 10, k++;
    }
    while (inclusive ? (V + Mp) * 10 < D : (V + Mp) * 10 <= D) {
        if (V > lim / 10) return -1;
        V *= 10, Mp *= 10, Mm *= 10, k--;
    }

    /* N: the digits so far as an integer, n of them. */
    uint64_t N = 0;
    int n = 0;
    /* The first 15 digits in two divisions: a double's shortest form that
     * has at most 15 digits is also its 15-digit rounding (the rounding
     * interval is narrower than half a unit in the 15th place), and the
     * stop conditions below, once met at some place, stay met at every
     * later one, so checking them first at place 15 finds the same digits
     * the one-by-one loop would (up to trailing zeros, stripped below). */
    bool jumped = false;
    if (bitlen128(D) <= 100) {
        int dbits0 = bitlen128(D);
        int sh0 = dbits0 > 62 ? dbits0 - 62 : 0;
        uint64_t q1 = quot_small(&V, D, p10[8], sh0);
        uint64_t q2 = quot_small(&V, D, p10[7], sh0);
        N = q1 * p10[7] + q2;
        Mp *= p10[15], Mm *= p10[15];
        n = 15;
        jumped = true;
    }
    /* D >> sh keeps D's top 60 bits, so 10 D >> sh fits in 64 */
    int dbits = bitlen128(D);
    int sh = dbits > 60 ? dbits - 60 : 0;
    double inv_dtop = 1.0 / (double)(uint64_t)(D >> sh);
    for (;;) {
        if (!jumped) {
            V *= 10, Mp *= 10, Mm *= 10;
            /* V < 10 D: the quotient of the top 60 bits of each in double
             * precision is within one of the true digit; cheaper than a
             * 128-bit division, and corrected exactly */
            int d = (int)((double)(uint64_t)(V >> sh) * inv_dtop);
            if (d > 9) d = 9;
            u128 q = (u128)(unsigned)d * D;
            while (q > V)
                d--, q -= D;
            V -= q;
            while (V >= D)
                d++, V -= D;
            N = N * 10 + (uint64_t)d;
            n++;
        }
        jumped = false;
        bool low = inclusive ? V <= Mm : V < Mm;
        bool high = inclusive ? V + Mp >= D : V + Mp > D;
        if (!low && !high) {
            if (n >= 17) return -1; /* cannot happen; stay safe */
            continue;
        }
        if (low && high) {
            u128 twice = V * 2;
            if (twice > D || (twice == D && (N & 1))) N++;
        } else if (high) {
            N++;
        }
        break;
    }
    if (N == 0 || N >= p10[n]) return -1; /* cannot happen with k as chosen */
    (void)v;
    char digits[21];
    int nd = trn_fmt_i64(digits, (int64_t)N);
    /* a leading zero place (v just below a power of ten whose top is not)
     * shifts the exponent */
    k -= n - nd;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    memcpy(out, digits, (size_t)nd);
    out[nd] = 0;
    *exp10 = k - 1;
    return nd;
}

/* The shortest digits of |v| ("15" for -0.0015, no sign, point or
 * trailing zeros) into out, the decimal exponent of the first one in
 * *exp10; returns the digit count. */
static int shortest_digits(char out[21], double v, int *exp10)
{
    int fast = shortest_exact(out, v, exp10);
    if (fast > 0) return fast;
    char tmp[40];
    int prec;
    /* Subnormals carry fewer bits, so their shortest form may be shorter
     * than the 15-digit rounding shows: search from one digit there. */
    for (prec = fabs(v) < DBL_MIN ? 1 : 15; prec < 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, fabs(v));
        if (strtod(tmp, NULL) == fabs(v)) break;
    }
    if (prec == 17) snprintf(tmp, sizeof tmp, "%.16e", fabs(v));
    char *e = strchr(tmp, 'e');
    *exp10 = atoi(e + 1);
    int nd = 0;
    for (const char *p = tmp; p < e && nd < 20; p++)
        if (*p >= '0' && *p <= '9') out[nd++] = *p;
    while (nd > 1 && out[nd - 1] == '0')
        nd--;
    out[nd] = 0;
    return nd;
}

/* Integers below 2^53 print exactly as themselves; the common case for
 * counters, so it skips the digit search. */
static int fmt_integer(char out[33], double v)
{
    return trn_fmt_i64(out, (int64_t)v);
}

int trn_fmt_i64(char out[21], int64_t v)
{
    /* two digits per division, written backwards into the end of tmp */
    static const char pairs[201] =
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
        "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
        "8081828384858687888990919293949596979899";
    char tmp[20];
    char *p = tmp + sizeof tmp;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    while (u >= 100) {
        unsigned r = (unsigned)(u % 100);
        u /= 100;
        p -= 2;
        memcpy(p, pairs + 2 * r, 2);
    }
    if (u >= 10) {
        p -= 2;
        memcpy(p, pairs + 2 * u, 2);
    } else {
        *--p = (char)('0' + u);
    }
    int len = 0;
    if (v < 0) out[len++] = '-';
    size_t n = (size_t)(tmp + sizeof tmp - p);
    memcpy(out + len, p, n);
    len += (int)n;
    out[len] = 0;
    return len;
}

static bool is_small_integer(double v)
{
    /* range first: converting a larger double to long long is undefined */
    return fabs(v) < 9007199254740992.0 && v == (double)(long long)v;
}

/* Writes the shortest digits (mant, as "-d.ddd") in exponent form or in
 * plain decimal form, placing the point by exp10 and padding with zeros
 * (never printing digits beyond the shortest form, as Go does). */
static int fmt_with(char out[33], bool neg, bool use_exp, const char *digits, int nd, int exp10)
{
    int n = 0;
    if (neg) out[n++] = '-';
    if (use_exp) {
        out[n++] = digits[0];
        if (nd > 1) {
            out[n++] = '.';
            memcpy(out + n, digits + 1, (size_t)nd - 1);
            n += nd - 1;
        }
        out[n++] = 'e';
        out[n++] = exp10 < 0 ? '-' : '+';
        int x = abs(exp10);
        if (x >= 100) out[n++] = (char)('0' + x / 100);
        out[n++] = (char)('0' + x / 10 % 10);
        out[n++] = (char)('0' + x % 10);
    } else if (exp10 < 0) {
        /* used only from 1e-6 (fmt_float) or 1e-4 (fmt_float_g) up: at
         * most 5 zeros after the point, then at most 17 digits */
        out[n++] = '0';
        out[n++] = '.';
        for (int i = 0; i < -exp10 - 1 && n < 31; i++)
            out[n++] = '0';
        for (int i = 0; i < nd && n < 32; i++)
            out[n++] = digits[i];
    } else if (nd > exp10 + 1) {
        memcpy(out + n, digits, (size_t)exp10 + 1);
        n += exp10 + 1;
        out[n++] = '.';
        memcpy(out + n, digits + exp10 + 1, (size_t)(nd - exp10 - 1));
        n += nd - exp10 - 1;
    } else {
        /* below 1e21 here: at most 21 places */
        for (int i = 0; i <= exp10 && n < 32; i++)
            out[n++] = i < nd ? digits[i] : '0';
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
    char digits[21];
    int exp10, nd = shortest_digits(digits, v, &exp10);
    double a = fabs(v);
    return fmt_with(out, v < 0, a < 1e-6 || a >= 1e21, digits, nd, exp10);
}

int trn_fmt_float_g(char out[33], double v)
{
    if (isnan(v)) return snprintf(out, 33, "NaN");
    if (isinf(v)) return snprintf(out, 33, v > 0 ? "+Inf" : "-Inf");
    if (v == 0) return snprintf(out, 33, signbit(v) ? "-0" : "0");
    if (is_small_integer(v) && fabs(v) < 1e6) return fmt_integer(out, v);
    char digits[21];
    int exp10, nd = shortest_digits(digits, v, &exp10);
    return fmt_with(out, v < 0, exp10 < -4 || exp10 >= 6, digits, nd, exp10);
}

/* Go's strconv.Quote: the short escapes Go uses (\a \b \f \n \r \t \v,
 * quote, backslash), \xNN for other control bytes and invalid UTF-8, valid
 * UTF-8 kept as is. Shared by PromQL's printer, templates' %q and amtool-style
 * route output. */
void trn_go_quote(trn_buf_t *out, trn_str_t s)
{
    trn_buf_putc(out, '"');
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.p[i];
        switch (c) {
        case '"':
            trn_buf_puts(out, "\\\"");
            break;
        case '\\':
            trn_buf_puts(out, "\\\\");
            break;
        case '\n':
            trn_buf_puts(out, "\\n");
            break;
        case '\r':
            trn_buf_puts(out, "\\r");
            break;
        case '\t':
            trn_buf_puts(out, "\\t");
            break;
        case '\a':
            trn_buf_puts(out, "\\a");
            break;
        case '\b':
            trn_buf_puts(out, "\\b");
            break;
        case '\f':
            trn_buf_puts(out, "\\f");
            break;
        case '\v':
            trn_buf_puts(out, "\\v");
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                trn_buf_printf(out, "\\x%02x", c);
            } else if (c >= 0x80 && !trn_utf8_valid(s.p + i, 1)) {
                /* multi-byte sequence: copy it whole if valid, else escape */
                size_t n = (c >= 0xF0) ? 4 : (c >= 0xE0) ? 3 : (c >= 0xC0) ? 2 : 1;
                if (n > 1 && i + n <= s.len && trn_utf8_valid(s.p + i, n)) {
                    trn_buf_append(out, s.p + i, n);
                    i += n - 1;
                } else {
                    trn_buf_printf(out, "\\x%02x", c);
                }
            } else {
                trn_buf_putc(out, (char)c);
            }
        }
    }
    trn_buf_putc(out, '"');
}
