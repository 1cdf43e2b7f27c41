/* SPDX-License-Identifier: Apache-2.0 */
/* JSON-lines logger. Each line is built in a stack buffer and written with
 * one write(2), so concurrent threads never interleave inside a line. */
#include "core/log.h"
#include "core/err.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static _Atomic int min_level = TRN_LOG_INFO;
static const char *names[] = {"debug", "info", "warn", "error"};

void trn_log_set_level(trn_log_level_t lvl)
{
    min_level = (int)lvl;
}

int trn_log_parse_level(const char *s, trn_log_level_t *out)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (trn_log_level_t)i;
            return 0;
        }
    if (strcmp(s, "warning") == 0) {
        *out = TRN_LOG_WARN;
        return 0;
    }
    return TRN_EINVAL;
}

typedef struct {
    char b[4096];
    size_t n;
} line_t;

static void put(line_t *l, const char *s, size_t n)
{
    if (n > sizeof l->b - 2 - l->n) n = sizeof l->b - 2 - l->n;
    memcpy(l->b + l->n, s, n);
    l->n += n;
}

static void put_json_str(line_t *l, const char *s, size_t max)
{
    put(l, "\"", 1);
    size_t i = 0;
    for (; s[i] && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(l, esc, 2);
        } else if (c == '\n')
            put(l, "\\n", 2);
        else if (c == '\t')
            put(l, "\\t", 2);
        else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(l, esc, 6);
        } else
            put(l, (const char *)&c, 1);
    }
    if (s[i]) put(l, "...", 3);
    put(l, "\"", 1);
}

static void head(line_t *l, trn_log_level_t lvl, const char *component)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char t[64];
    size_t n = strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(t + n, sizeof t - n, ".%03ldZ", ts.tv_nsec / 1000000);
    l->n = 0;
    put(l, "{\"ts\":\"", 7);
    put(l, t, strlen(t));
    put(l, "\",\"level\":\"", 11);
    put(l, names[lvl], strlen(names[lvl]));
    put(l, "\",\"component\":", 14);
    put_json_str(l, component, 64);
}

static void finish(line_t *l)
{
    l->b[l->n++] = '}';
    l->b[l->n++] = '\n';
    ssize_t w = write(STDERR_FILENO, l->b, l->n);
    (void)w;
}

void trn_log(trn_log_level_t lvl, const char *component, const char *msg, ...)
{
    if ((int)lvl < min_level) return;
    line_t l;
    head(&l, lvl, component);
    put(&l, ",\"msg\":", 7);
    put_json_str(&l, msg, 1024);
    va_list ap;
    va_start(ap, msg);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k) break;
        const char *v = va_arg(ap, const char *);
        put(&l, ",", 1);
        put_json_str(&l, k, 64);
        put(&l, ":", 1);
        put_json_str(&l, v ? v : "", 1024);
    }
    va_end(ap);
    finish(&l);
}

void trn_logf(trn_log_level_t lvl, const char *component, const char *fmt, ...)
{
    if ((int)lvl < min_level) return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    trn_log(lvl, component, msg, NULL);
}
