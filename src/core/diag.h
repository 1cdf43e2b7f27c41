/* SPDX-License-Identifier: Apache-2.0 */
/* Error detail for anything that can reject user input: a code, a message
 * in a fixed buffer, and where (byte offset, line:col). The first error
 * wins; later calls do not overwrite it. */
#ifndef TRN_CORE_DIAG_H
#define TRN_CORE_DIAG_H

#include <stdint.h>

#define TRN_DIAG_MSG_MAX 512

typedef struct trn_diag {
    int code;       /* 0 while no error was recorded */
    int64_t offset; /* byte offset into the input, -1 if unknown */
    int line, col;  /* 1-based; 0 if unknown */
    char msg[TRN_DIAG_MSG_MAX];
} trn_diag_t;

/* Clears d (NULL allowed). */
void trn_diag_init(trn_diag_t *d);
/* Records an error unless one is already recorded; returns code so callers
 * can `return trn_diag_set(...)`. d may be NULL. */
int trn_diag_set(trn_diag_t *d, int code, int64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Same, with a line and column. */
int trn_diag_set_at(trn_diag_t *d, int code, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
