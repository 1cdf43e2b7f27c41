/* SPDX-License-Identifier: Apache-2.0 */
/* Go's fmt verbs for templates (printf, print, println) and Prometheus's
 * humanize family.
 *
 * printf walks the format once: each %[flags][width][.prec]verb takes the
 * next operand and renders it as Go would, including Go's complaints
 * inline ("%!d(string=x)", "%!s(MISSING)", "%!(EXTRA int=3)") rather than
 * failing. Numbers go through C's snprintf where the two agree (%d, %e,
 * %f, %g with a precision) and through trn_fmt_float_g where Go's shortest
 * form differs (%v, %g without precision). Negative integers in %x/%o/%b
 * are sign and magnitude, as in Go. NaN and infinities print as "NaN",
 * "+Inf", "-Inf".
 *
 * The humanize functions follow Prometheus's template functions: %.4g
 * (which C and Go render alike for finite values) with SI or binary
 * prefixes, durations split into d/h/m/s, timestamps in Go's time.Time
 * String() form in UTC at millisecond precision. */
#include "core/template_int.h"

#include "core/err.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

typedef struct spec {
    bool minus, plus, sharp, space, zero;
    int width, prec; /* -1: absent */
    char verb;
} spec_t;

static void pad(trn_buf_t *out, const char *s, size_t n, const spec_t *sp, bool numeric)
{
    size_t w = sp->width > 0 ? (size_t)sp->width : 0;
    if (n >= w) {
        trn_buf_append(out, s, n);
        return;
    }
    size_t fill = w - n;
    if (sp->minus) {
        trn_buf_append(out, s, n);
        for (size_t i = 0; i < fill; i++)
            trn_buf_putc(out, ' ');
        return;
    }
    if (sp->zero && numeric) {
        size_t sign = n > 0 && (s[0] == '-' || s[0] == '+' || s[0] == ' ');
        trn_buf_append(out, s, sign);
        for (size_t i = 0; i < fill; i++)
            trn_buf_putc(out, '0');
        trn_buf_append(out, s + sign, n - sign);
        return;
    }
    for (size_t i = 0; i < fill; i++)
        trn_buf_putc(out, ' ');
    trn_buf_append(out, s, n);
}

static void bad_verb(trn_buf_t *out, char verb, const trn_tval_t *v)
{
    trn_buf_puts(out, "%!");
    trn_buf_putc(out, verb);
    trn_buf_putc(out, '(');
    if (v->kind == TRN_TV_NIL) {
        trn_buf_puts(out, "<nil>");
    } else {
        trn_buf_puts(out, trn__tmpl_type_name(v));
        trn_buf_putc(out, '=');
        trn__tmpl_print_v(v, out);
    }
    trn_buf_putc(out, ')');
}

static void fmt_float(trn_buf_t *out, double f, const spec_t *sp)
{
    char buf[400];
    int n;
    if (isnan(f) || isinf(f)) {
        const char *s = isnan(f) ? (sp->plus ? "+NaN" : (sp->space ? " NaN" : "NaN"))
                                 : (f > 0 ? "+Inf" : "-Inf");
        spec_t q = *sp;
        q.zero = false;
        pad(out, s, strlen(s), &q, false);
        return;
    }
    char verb = sp->verb;
    if (verb == 'v' && sp->prec >= 0) verb = 'g'; /* %.Nv is %.Ng */
    if ((verb == 'v' && sp->prec < 0) || ((verb == 'g' || verb == 'G') && sp->prec < 0)) {
        char tmp[40];
        trn_fmt_float_g(tmp, f);
        n = snprintf(buf, sizeof buf, "%s%s",
                     (sp->plus && f >= 0) ? "+" : (sp->space && f >= 0 ? " " : ""), tmp);
        if (verb == 'G')
            for (int i = 0; i < n; i++)
                if (buf[i] == 'e') buf[i] = 'E';
    } else {
        char cf[16];
        int k = 0;
        cf[k++] = '%';
        if (sp->plus) cf[k++] = '+';
        if (sp->space) cf[k++] = ' ';
        if (sp->sharp) cf[k++] = '#';
        cf[k++] = '.';
        cf[k++] = '*';
        cf[k++] = verb == 'F' ? 'f' : verb;
        cf[k] = 0;
        int prec = sp->prec >= 0 ? sp->prec : 6;
        if (prec > 300) prec = 300;
        n = snprintf(buf, sizeof buf, cf, prec, f);
    }
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof buf) n = (int)sizeof buf - 1;
    pad(out, buf, (size_t)n, sp, true);
}

static void fmt_int_base(trn_buf_t *out, int64_t i, const spec_t *sp)
{
    char digits[80];
    uint64_t u = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
    int n = 0;
    char v = sp->verb;
    if (v == 'd' || v == 'v') {
        n = snprintf(digits, sizeof digits, "%" PRIu64, u);
    } else if (v == 'x' || v == 'X') {
        n = snprintf(digits, sizeof digits, v == 'x' ? "%" PRIx64 : "%" PRIX64, u);
    } else if (v == 'o' || v == 'O') {
        n = snprintf(digits, sizeof digits, "%" PRIo64, u);
    } else if (v == 'b') {
        char tmp[65];
        int k = 0;
        do {
            tmp[k++] = (char)('0' + (u & 1));
            u >>= 1;
        } while (u);
        for (int j = 0; j < k; j++)
            digits[j] = tmp[k - 1 - j];
        n = k;
    }
    char buf[100];
    int m = 0;
    if (i < 0)
        buf[m++] = '-';
    else if (sp->plus)
        buf[m++] = '+';
    else if (sp->space)
        buf[m++] = ' ';
    if (sp->sharp && (v == 'x' || v == 'X')) {
        buf[m++] = '0';
        buf[m++] = v;
    } else if (v == 'O' || (sp->sharp && v == 'o')) {
        buf[m++] = '0';
        if (v == 'O') buf[m++] = 'o';
    } else if (sp->sharp && v == 'b') {
        buf[m++] = '0';
        buf[m++] = 'b';
    }
    for (int j = n; sp->prec >= 0 && j < sp->prec && m < 90; j++)
        buf[m++] = '0';
    memcpy(buf + m, digits, (size_t)n);
    m += n;
    spec_t q = *sp;
    if (sp->prec >= 0) q.zero = false;
    pad(out, buf, (size_t)m, &q, true);
}

static void put_rune(trn_buf_t *out, int64_t r)
{
    char b[4];
    size_t n;
    if (r < 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) r = 0xFFFD;
    if (r < 0x80) {
        b[0] = (char)r;
        n = 1;
    } else if (r < 0x800) {
        b[0] = (char)(0xC0 | (r >> 6));
        b[1] = (char)(0x80 | (r & 0x3F));
        n = 2;
    } else if (r < 0x10000) {
        b[0] = (char)(0xE0 | (r >> 12));
        b[1] = (char)(0x80 | ((r >> 6) & 0x3F));
        b[2] = (char)(0x80 | (r & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | (r >> 18));
        b[1] = (char)(0x80 | ((r >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((r >> 6) & 0x3F));
        b[3] = (char)(0x80 | (r & 0x3F));
        n = 4;
    }
    trn_buf_append(out, b, n);
}

static void fmt_one(trn_buf_t *out, const spec_t *sp, const trn_tval_t *v)
{
    char verb = sp->verb;
    trn_buf_t tmp;
    if (verb == 0) { /* strchr below would match the terminator */
        bad_verb(out, verb, v);
        return;
    }
    switch (v->kind) {
    case TRN_TV_BOOL:
        if (verb == 'v' || verb == 't') {
            const char *s = v->u.b ? "true" : "false";
            pad(out, s, strlen(s), sp, false);
        } else {
            bad_verb(out, verb, v);
        }
        return;
    case TRN_TV_INT:
        switch (verb) {
        case 'v':
        case 'd':
        case 'x':
        case 'X':
        case 'o':
        case 'O':
        case 'b':
            fmt_int_base(out, v->u.i, sp);
            return;
        case 'c': {
            trn_buf_t r;
            trn_buf_init(&r);
            put_rune(&r, v->u.i);
            spec_t q = *sp;
            q.zero = false;
            pad(out, r.data, r.len, &q, false);
            trn_buf_fini(&r);
            return;
        }
        case 'q':
            trn_buf_putc(out, '\'');
            put_rune(out, v->u.i);
            trn_buf_putc(out, '\'');
            return;
        case 'U':
            trn_buf_printf(out, "U+%04" PRIX64, (uint64_t)v->u.i);
            return;
        case 'e':
        case 'E':
        case 'f':
        case 'F':
        case 'g':
        case 'G':
            bad_verb(out, verb, v);
            return;
        default:
            bad_verb(out, verb, v);
            return;
        }
    case TRN_TV_FLOAT:
        if (strchr("veEfFgG", verb)) {
            fmt_float(out, v->u.f, sp);
        } else if ((verb == 'x' || verb == 'X') && isfinite(v->u.f)) {
            /* Go's hex float: C's %a with a two-digit exponent */
            char h[64], g[72];
            snprintf(h, sizeof h, verb == 'x' ? "%a" : "%A", v->u.f);
            char *p = strchr(h, verb == 'x' ? 'p' : 'P');
            if (p && (p[1] == '+' || p[1] == '-') && p[2] && !p[3])
                snprintf(g, sizeof g, "%.*s0%s", (int)(p - h + 2), h, p + 2);
            else
                snprintf(g, sizeof g, "%s", h);
            pad(out, g, strlen(g), sp, true);
        } else {
            bad_verb(out, verb, v);
        }
        return;
    case TRN_TV_STR:
        if (verb == 'v' || verb == 's') {
            size_t n = v->u.s.len;
            if (sp->prec >= 0) {
                /* precision counts runes */
                size_t k = 0;
                int r = 0;
                while (k < n && r < sp->prec) {
                    k++;
                    while (k < n && ((unsigned char)v->u.s.p[k] & 0xC0) == 0x80)
                        k++;
                    r++;
                }
                n = k;
            }
            pad(out, v->u.s.p, n, sp, false);
        } else if (verb == 'q') {
            trn_buf_init(&tmp);
            trn_go_quote(&tmp, v->u.s);
            pad(out, tmp.data, tmp.len, sp, false);
            trn_buf_fini(&tmp);
        } else if (verb == 'x' || verb == 'X') {
            trn_buf_init(&tmp);
            for (size_t i = 0; i < v->u.s.len; i++) {
                if (i && sp->space) trn_buf_putc(&tmp, ' '); /* "% x" spaces the bytes */
                trn_buf_printf(&tmp, verb == 'x' ? "%02x" : "%02X", (unsigned char)v->u.s.p[i]);
            }
            pad(out, tmp.data ? tmp.data : "", tmp.len, sp, false);
            trn_buf_fini(&tmp);
        } else {
            bad_verb(out, verb, v);
        }
        return;
    case TRN_TV_NIL:
        if (verb == 'v')
            pad(out, "<nil>", 5, sp, false);
        else
            bad_verb(out, verb, v);
        return;
    case TRN_TV_LIST:
        if (verb == 'v' || verb == 's' || verb == 'd' || verb == 'q' || strchr("eEfFgGx", verb)) {
            /* fmt applies the verb to each element */
            trn_buf_putc(out, '[');
            for (size_t i = 0; i < v->u.list.n; i++) {
                if (i) trn_buf_putc(out, ' ');
                fmt_one(out, sp, &v->u.list.v[i]);
            }
            trn_buf_putc(out, ']');
        } else {
            bad_verb(out, verb, v);
        }
        return;
    case TRN_TV_MAP:
    case TRN_TV_FUNC:
        if (verb == 'v' || verb == 's') {
            trn_buf_init(&tmp);
            trn__tmpl_print_v(v, &tmp);
            pad(out, tmp.data ? tmp.data : "", tmp.len, sp, false);
            trn_buf_fini(&tmp);
        } else {
            bad_verb(out, verb, v);
        }
        return;
    }
}

void trn__tmpl_sprintf(trn_str_t f, const trn_tval_t *args, size_t n, trn_buf_t *out)
{
    size_t argi = 0;
    for (size_t i = 0; i < f.len;) {
        const char *pct = memchr(f.p + i, '%', f.len - i);
        size_t stop = pct ? (size_t)(pct - f.p) : f.len;
        trn_buf_append(out, f.p + i, stop - i);
        if (!pct) break;
        i = stop + 1;
        spec_t sp = {.width = -1, .prec = -1};
        for (; i < f.len; i++) {
            char c = f.p[i];
            if (c == '-')
                sp.minus = true;
            else if (c == '+')
                sp.plus = true;
            else if (c == '#')
                sp.sharp = true;
            else if (c == ' ')
                sp.space = true;
            else if (c == '0')
                sp.zero = !sp.minus;
            else
                break;
        }
        if (i < f.len && f.p[i] == '*') {
            i++;
            if (argi < n && args[argi].kind == TRN_TV_INT) {
                int64_t w = args[argi++].u.i;
                if (w < 0) {
                    sp.minus = true;
                    w = -w;
                }
                sp.width = w > 1000000 ? 1000000 : (int)w;
            } else {
                trn_buf_puts(out, "%!(BADWIDTH)");
                if (argi < n) argi++;
            }
        } else {
            while (i < f.len && f.p[i] >= '0' && f.p[i] <= '9') {
                sp.width = (sp.width < 0 ? 0 : sp.width) * 10 + (f.p[i] - '0');
                if (sp.width > 1000000) sp.width = 1000000;
                i++;
            }
        }
        if (i < f.len && f.p[i] == '.') {
            i++;
            sp.prec = 0;
            if (i < f.len && f.p[i] == '*') {
                i++;
                if (argi < n && args[argi].kind == TRN_TV_INT && args[argi].u.i >= 0) {
                    int64_t p = args[argi++].u.i;
                    sp.prec = p > 1000000 ? 1000000 : (int)p;
                } else {
                    trn_buf_puts(out, "%!(BADPREC)");
                    if (argi < n) argi++;
                    sp.prec = -1;
                }
            } else {
                while (i < f.len && f.p[i] >= '0' && f.p[i] <= '9') {
                    sp.prec = sp.prec * 10 + (f.p[i] - '0');
                    if (sp.prec > 1000000) sp.prec = 1000000;
                    i++;
                }
            }
        }
        if (i >= f.len) {
            trn_buf_puts(out, "%!(NOVERB)");
            break;
        }
        sp.verb = f.p[i++];
        if (sp.verb == '%') {
            trn_buf_putc(out, '%');
            continue;
        }
        if (argi >= n) {
            trn_buf_puts(out, "%!");
            trn_buf_putc(out, sp.verb);
            trn_buf_puts(out, "(MISSING)");
            continue;
        }
        fmt_one(out, &sp, &args[argi++]);
    }
    if (argi < n) {
        trn_buf_puts(out, "%!(EXTRA ");
        for (size_t k = argi; k < n; k++) {
            if (k > argi) trn_buf_puts(out, ", ");
            if (args[k].kind == TRN_TV_NIL) {
                trn_buf_puts(out, "<nil>");
                continue;
            }
            trn_buf_puts(out, trn__tmpl_type_name(&args[k]));
            trn_buf_putc(out, '=');
            trn__tmpl_print_v(&args[k], out);
        }
        trn_buf_putc(out, ')');
    }
}

void trn__tmpl_sprint(const trn_tval_t *args, size_t n, bool ln, trn_buf_t *out)
{
    for (size_t i = 0; i < n; i++) {
        bool is_str = args[i].kind == TRN_TV_STR;
        if (i > 0 && (ln || (!is_str && args[i - 1].kind != TRN_TV_STR))) trn_buf_putc(out, ' ');
        trn__tmpl_print_v(&args[i], out);
    }
    if (ln) trn_buf_putc(out, '\n');
}

/* ---- humanize */

static void g4(trn_buf_t *out, double v, const char *suffix)
{
    if (isnan(v)) {
        trn_buf_puts(out, "NaN");
    } else if (isinf(v)) {
        trn_buf_puts(out, v > 0 ? "+Inf" : "-Inf");
    } else {
        trn_buf_printf(out, "%.4g", v);
    }
    trn_buf_puts(out, suffix);
}

void trn_humanize(double v, trn_buf_t *out)
{
    if (v == 0 || isnan(v) || isinf(v)) {
        g4(out, v, "");
        return;
    }
    static const char *const big[] = {"k", "M", "G", "T", "P", "E", "Z", "Y"};
    static const char *const small[] = {"m", "u", "n", "p", "f", "a", "z", "y"};
    const char *prefix = "";
    if (fabs(v) >= 1) {
        for (int i = 0; i < 8 && fabs(v) >= 1000; i++) {
            prefix = big[i];
            v /= 1000;
        }
    } else {
        for (int i = 0; i < 8 && fabs(v) < 1; i++) {
            prefix = small[i];
            v *= 1000;
        }
    }
    g4(out, v, prefix);
}

void trn_humanize1024(double v, trn_buf_t *out)
{
    if (fabs(v) <= 1 || isnan(v) || isinf(v)) {
        g4(out, v, "");
        return;
    }
    static const char *const pre[] = {"ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"};
    const char *prefix = "";
    for (int i = 0; i < 8 && fabs(v) >= 1024; i++) {
        prefix = pre[i];
        v /= 1024;
    }
    g4(out, v, prefix);
}

void trn_humanize_duration(double v, trn_buf_t *out)
{
    if (isnan(v) || isinf(v)) {
        g4(out, v, "");
        return;
    }
    if (v == 0) {
        g4(out, v, "s");
        return;
    }
    if (fabs(v) >= 1) {
        const char *sign = "";
        if (v < 0) {
            sign = "-";
            v = -v;
        }
        /* Go's int64() of an out-of-range float is INT64_MIN on amd64, which
         * Prometheus then prints as it is; do the same instead of invoking C's
         * undefined conversion */
        int64_t d = v >= 9223372036854775808.0 ? INT64_MIN : (int64_t)v;
        int64_t s = d % 60, m = (d / 60) % 60, h = (d / 3600) % 24, days = d / 86400;
        if (days)
            trn_buf_printf(out, "%s%" PRId64 "d %" PRId64 "h %" PRId64 "m %" PRId64 "s", sign, days,
                           h, m, s);
        else if (h)
            trn_buf_printf(out, "%s%" PRId64 "h %" PRId64 "m %" PRId64 "s", sign, h, m, s);
        else if (m)
            trn_buf_printf(out, "%s%" PRId64 "m %" PRId64 "s", sign, m, s);
        else
            trn_buf_printf(out, "%s%.4gs", sign, v);
        return;
    }
    static const char *const small[] = {"m", "u", "n", "p", "f", "a", "z", "y"};
    const char *prefix = "";
    for (int i = 0; i < 8 && fabs(v) < 1; i++) {
        prefix = small[i];
        v *= 1000;
    }
    trn_buf_printf(out, "%.4g%ss", v, prefix);
}

void trn_humanize_percentage(double v, trn_buf_t *out)
{
    g4(out, v * 100, "%");
}

int trn_humanize_timestamp(double v, trn_buf_t *out)
{
    if (isnan(v) || isinf(v)) {
        g4(out, v, "");
        return 0;
    }
    double ns = v * 1e9;
    if (v >= 9223372036854775807.0 || v <= -9223372036854775808.0 || ns >= 9223372036854775807.0 ||
        ns <= -9223372036854775808.0)
        return TRN_EINVAL;
    int64_t ms = (int64_t)ns / 1000000; /* model.Time: milliseconds, truncated */
    int64_t sec = ms / 1000, frac = ms % 1000;
    if (frac < 0) {
        frac += 1000;
        sec--;
    }
    time_t tt = (time_t)sec;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) return TRN_EINVAL;
    trn_buf_printf(out, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                   tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (frac) {
        char f[8];
        snprintf(f, sizeof f, ".%03" PRId64, frac);
        size_t n = strlen(f);
        while (n > 1 && f[n - 1] == '0')
            n--;
        trn_buf_append(out, f, n);
    }
    trn_buf_puts(out, " +0000 UTC");
    return 0;
}
