/* SPDX-License-Identifier: Apache-2.0 */
/* Interned strings: one stored copy per distinct byte string, with a
 * reference count. Stores keep label names and values here so a million
 * series sharing `job="node"` hold one copy of each string, and two interned
 * strings are equal exactly when their pointers are. Not thread-safe: the
 * owner (a head, a block writer) serialises access. */
#ifndef TRN_CORE_INTERN_H
#define TRN_CORE_INTERN_H

#include "core/str.h"

#include <stddef.h>
#include <stdint.h>

typedef struct trn_intern trn_intern_t;

trn_intern_t *trn_intern_new(void);
/* Frees the table and every string in it. NULL allowed. */
void trn_intern_free(trn_intern_t *t);
/* Returns the stored copy of s (NUL-terminated, stable until its last ref
 * goes), taking one reference. Copies s on first sight. */
trn_str_t trn_intern_get(trn_intern_t *t, trn_str_t s);
/* Returns the stored copy if s is present, else a NULL view; no ref taken. */
trn_str_t trn_intern_find(const trn_intern_t *t, trn_str_t s);
/* Drops one reference taken by trn_intern_get; frees the string at zero.
 * s must be the view trn_intern_get returned. */
void trn_intern_put(trn_intern_t *t, trn_str_t s);
/* Length of an interned string, from the pointer trn_intern_get returned
 * (lets owners keep 8-byte pointers instead of 16-byte views). */
size_t trn_intern_len(const char *p);
/* The view of an interned string from its pointer. */
static inline trn_str_t trn_intern_view(const char *p)
{
    return (trn_str_t){p, trn_intern_len(p)};
}
/* Distinct strings and their total bytes (for stats). */
size_t trn_intern_count(const trn_intern_t *t);
size_t trn_intern_bytes(const trn_intern_t *t);

#endif
