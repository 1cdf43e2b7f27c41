/* SPDX-License-Identifier: Apache-2.0 */
/* First-error-wins diagnostics. Messages are cut to the buffer, never
 * allocated, so recording an error cannot itself fail. */
#include "core/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void trn_diag_init(trn_diag_t *d)
{
    if (!d) return;
    d->code = 0;
    d->offset = -1;
    d->line = d->col = 0;
    d->msg[0] = 0;
}

static int vset(trn_diag_t *d, int code, int64_t offset, int line, int col, const char *fmt,
                va_list ap)
{
    if (!d || d->code != 0) return code;
    d->code = code;
    d->offset = offset;
    d->line = line;
    d->col = col;
    vsnprintf(d->msg, sizeof d->msg, fmt, ap);
    return code;
}

int trn_diag_set(trn_diag_t *d, int code, int64_t offset, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vset(d, code, offset, 0, 0, fmt, ap);
    va_end(ap);
    return rc;
}

int trn_diag_set_at(trn_diag_t *d, int code, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vset(d, code, -1, line, col, fmt, ap);
    va_end(ap);
    return rc;
}
