/* SPDX-License-Identifier: Apache-2.0 */
/* Duration and timestamp parsing/formatting with Prometheus's rules:
 * duration units must appear in descending order, each at most once; API
 * times are RFC3339 or (fractional) Unix seconds. */
#include "core/timefmt.h"
#include "core/err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const struct {
    const char *u;
    int64_t ms;
} units[] = {
    {"y", 365LL * 24 * 3600 * 1000},
    {"w", 7LL * 24 * 3600 * 1000},
    {"d", 24LL * 3600 * 1000},
    {"h", 3600LL * 1000},
    {"m", 60LL * 1000},
    {"s", 1000},
    {"ms", 1},
};
#define N_UNITS (sizeof units / sizeof units[0])

int trn_parse_duration(trn_str_t s, int64_t *out_ms)
{
    if (s.len == 1 && s.p[0] == '0') {
        *out_ms = 0;
        return 0;
    }
    if (s.len == 0) return TRN_EINVAL;
    size_t i = 0;
    int last_unit = -1;
    int64_t total = 0;
    while (i < s.len) {
        if (s.p[i] < '0' || s.p[i] > '9') return TRN_EINVAL;
        int64_t n = 0;
        while (i < s.len && s.p[i] >= '0' && s.p[i] <= '9') {
            if (n > (INT64_MAX - 9) / 10) return TRN_EINVAL;
            n = n * 10 + (s.p[i++] - '0');
        }
        size_t ustart = i;
        while (i < s.len && s.p[i] >= 'a' && s.p[i] <= 'z')
            i++;
        size_t ulen = i - ustart;
        int u = -1;
        for (size_t k = 0; k < N_UNITS; k++)
            if (strlen(units[k].u) == ulen && memcmp(units[k].u, s.p + ustart, ulen) == 0)
                u = (int)k;
        if (u < 0 || u <= last_unit) return TRN_EINVAL;
        last_unit = u;
        if (n > INT64_MAX / units[u].ms || total > INT64_MAX - n * units[u].ms) return TRN_EINVAL;
        total += n * units[u].ms;
    }
    *out_ms = total;
    return 0;
}

int trn_format_duration(char out[32], int64_t ms)
{
    if (ms == 0) return snprintf(out, 32, "0s");
    int n = 0;
    const char *sign = "";
    if (ms < 0) {
        sign = "-";
        ms = -ms;
    }
    n += snprintf(out + n, 32 - (size_t)n, "%s", sign);
    for (size_t k = 0; k < N_UNITS; k++) {
        int64_t q = ms / units[k].ms;
        /* Prometheus prints weeks/years only when they divide exactly. */
        if ((k == 0 || k == 1) && ms % units[k].ms != 0) continue;
        if (q > 0) {
            n += snprintf(out + n, 32 - (size_t)n, "%lld%s", (long long)q, units[k].u);
            ms -= q * units[k].ms;
        }
    }
    return n;
}

static int parse_float_seconds(trn_str_t s, double *out)
{
    char buf[64];
    if (s.len == 0 || s.len >= sizeof buf) return TRN_EINVAL;
    memcpy(buf, s.p, s.len);
    buf[s.len] = 0;
    char *end;
    double v = strtod(buf, &end);
    if (*end != 0 || end == buf) return TRN_EINVAL;
    *out = v;
    return 0;
}

static int digits(const char *p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return TRN_EINVAL;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 0;
}

static int parse_rfc3339(trn_str_t s, int64_t *out_ms)
{
    /* YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM) */
    const char *p = s.p;
    size_t n = s.len;
    if (n < 20 || p[4] != '-' || p[7] != '-' || (p[10] != 'T' && p[10] != 't' && p[10] != ' ') ||
        p[13] != ':' || p[16] != ':')
        return TRN_EINVAL;
    int Y, M, D, h, m, sec;
    if (digits(p, 4, &Y) || digits(p + 5, 2, &M) || digits(p + 8, 2, &D) || digits(p + 11, 2, &h) ||
        digits(p + 14, 2, &m) || digits(p + 17, 2, &sec))
        return TRN_EINVAL;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60) return TRN_EINVAL;
    size_t i = 19;
    int64_t frac_ms = 0;
    if (i < n && p[i] == '.') {
        i++;
        int scale = 100, nd = 0;
        while (i < n && p[i] >= '0' && p[i] <= '9') {
            frac_ms += (p[i] - '0') * scale;
            scale /= 10;
            i++;
            nd++;
        }
        if (nd == 0) return TRN_EINVAL;
    }
    int64_t off_s = 0;
    if (i < n && (p[i] == 'Z' || p[i] == 'z'))
        i++;
    else if (i + 6 == n && (p[i] == '+' || p[i] == '-') && p[i + 3] == ':') {
        int oh, om;
        if (digits(p + i + 1, 2, &oh) || digits(p + i + 4, 2, &om)) return TRN_EINVAL;
        off_s = (oh * 3600 + om * 60) * (p[i] == '-' ? -1 : 1);
        i += 6;
    } else
        return TRN_EINVAL;
    if (i != n) return TRN_EINVAL;
    struct tm tm = {.tm_year = Y - 1900,
                    .tm_mon = M - 1,
                    .tm_mday = D,
                    .tm_hour = h,
                    .tm_min = m,
                    .tm_sec = sec};
    int64_t t = (int64_t)timegm(&tm);
    *out_ms = (t - off_s) * 1000 + frac_ms;
    return 0;
}

int trn_parse_time(trn_str_t s, int64_t *out_ms)
{
    double v;
    if (parse_float_seconds(s, &v) == 0) {
        if (!isfinite(v) || fabs(v) > 9.2e15) return TRN_EINVAL;
        *out_ms = (int64_t)llround(v * 1000.0);
        return 0;
    }
    return parse_rfc3339(s, out_ms);
}

int trn_parse_step(trn_str_t s, int64_t *out_ms)
{
    double v;
    if (parse_float_seconds(s, &v) == 0) {
        if (!isfinite(v) || fabs(v) > 9.2e15) return TRN_EINVAL;
        *out_ms = (int64_t)llround(v * 1000.0);
        return 0;
    }
    return trn_parse_duration(s, out_ms);
}

int64_t trn_now_ms(void)
{
    return trn_now_ns() / 1000000;
}

int64_t trn_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t trn_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int trn_format_rfc3339_ms(char out[40], int64_t ms)
{
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    int64_t frac = ms - (int64_t)t * 1000;
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    return (int)n + snprintf(out + n, 40 - n, ".%03lldZ", (long long)frac);
}
