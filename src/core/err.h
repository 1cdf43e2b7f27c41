/* SPDX-License-Identifier: Apache-2.0 */
/* Status codes shared by every module, and the always-on assertion. */
#ifndef TRN_CORE_ERR_H
#define TRN_CORE_ERR_H

enum {
    TRN_OK = 0,
    TRN_EINVAL = -1,    /* bad client input */
    TRN_ELIMIT = -2,    /* a configured limit or budget was hit */
    TRN_ENOTFOUND = -3, /* the thing asked for does not exist */
    TRN_ECORRUPT = -4,  /* on-disk data failed a check */
    TRN_EIO = -5,       /* the OS refused (errno folded into the diag) */
    TRN_ECANCELED = -6, /* the caller went away */
    TRN_ETIMEOUT = -7,  /* a deadline passed */
    TRN_EEXEC = -8,     /* a valid request failed while running */
};

/* Short name of a status code ("invalid", "limit", ...). Never NULL. */
const char *trn_strerror(int code);

/* Invariant check, always compiled in: prints file:line and aborts.
 * Only for our own invariants, never for input. */
#define TRN_ASSERT(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) trn_assert_fail(#cond, __FILE__, __LINE__);                                   \
    } while (0)
#ifdef TRN_DEBUG
#define TRN_DEBUG_ASSERT(cond) TRN_ASSERT(cond)
#else
#define TRN_DEBUG_ASSERT(cond) ((void)0)
#endif

_Noreturn void trn_assert_fail(const char *expr, const char *file, int line);

#endif
