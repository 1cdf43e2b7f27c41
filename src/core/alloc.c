/* SPDX-License-Identifier: Apache-2.0 */
/* The abort-on-exhaustion allocators and the assertion handler. Both write
 * straight to stderr: when they run, the logger may be what failed. */
#include "core/alloc.h"
#include "core/err.h"

#include <execinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static _Noreturn void oom(size_t n, const char *file, int line)
{
    fprintf(stderr,
            "{\"level\":\"error\",\"component\":\"alloc\",\"msg\":\"out of memory\","
            "\"size\":%zu,\"at\":\"%s:%d\"}\n",
            n, file, line);
    abort();
}

void *trn__xmalloc(size_t n, const char *file, int line)
{
    void *p = malloc(n ? n : 1);
    if (!p) oom(n, file, line);
    return p;
}

void *trn__xcalloc(size_t k, size_t n, const char *file, int line)
{
    void *p = calloc(k ? k : 1, n ? n : 1);
    if (!p) oom(k * n, file, line);
    return p;
}

void *trn__xrealloc(void *p, size_t n, const char *file, int line)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n, file, line);
    return q;
}

char *trn__xstrndup(const char *s, size_t n, const char *file, int line)
{
    size_t len = strnlen(s, n);
    char *p = trn__xmalloc(len + 1, file, line);
    memcpy(p, s, len);
    p[len] = 0;
    return p;
}

const char *trn_strerror(int code)
{
    switch (code) {
    case TRN_OK:
        return "ok";
    case TRN_EINVAL:
        return "invalid";
    case TRN_ELIMIT:
        return "limit";
    case TRN_ENOTFOUND:
        return "not_found";
    case TRN_ECORRUPT:
        return "corrupt";
    case TRN_EIO:
        return "io";
    case TRN_ECANCELED:
        return "canceled";
    case TRN_ETIMEOUT:
        return "timeout";
    case TRN_EEXEC:
        return "execution";
    default:
        return "unknown";
    }
}

void trn_assert_fail(const char *expr, const char *file, int line)
{
    void *frames[32];
    fprintf(stderr,
            "{\"level\":\"error\",\"component\":\"assert\",\"msg\":\"assertion failed\","
            "\"expr\":\"%s\",\"at\":\"%s:%d\"}\n",
            expr, file, line);
    int n = backtrace(frames, 32);
    backtrace_symbols_fd(frames, n, STDERR_FILENO);
    abort();
}
