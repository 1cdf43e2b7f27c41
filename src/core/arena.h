/* SPDX-License-Identifier: Apache-2.0 */
/* Per-request / per-query bump allocator with a byte budget. Nothing is
 * freed one by one: the whole arena goes at once, or back to a mark.
 * When the budget is spent, trn_arena_alloc returns NULL and the arena
 * remembers TRN_ELIMIT in its sticky error (check trn_arena_failed). */
#ifndef TRN_CORE_ARENA_H
#define TRN_CORE_ARENA_H

#include <stdbool.h>
#include <stddef.h>

typedef struct trn_arena trn_arena_t;

typedef struct trn_arena_mark {
    void *block; /* opaque: the block current at the mark */
    size_t used; /* bytes used in that block */
    size_t total;
} trn_arena_mark_t;

/* New arena; budget_bytes 0 means unlimited. */
trn_arena_t *trn_arena_new(size_t budget_bytes);
/* Frees every block. NULL allowed. */
void trn_arena_free(trn_arena_t *a);
/* n bytes aligned to 16, or NULL once the budget is spent (sticky). */
void *trn_arena_alloc(trn_arena_t *a, size_t n);
/* Zeroed allocation; NULL on budget as above. */
void *trn_arena_calloc(trn_arena_t *a, size_t k, size_t n);
/* Copy of [p, p+n) plus a NUL byte. */
char *trn_arena_strndup(trn_arena_t *a, const char *p, size_t n);
/* printf into the arena. */
char *trn_arena_printf(trn_arena_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Grows an array allocated from this arena (copies; the old space is not reused). */
void *trn_arena_grow(trn_arena_t *a, void *old, size_t old_n, size_t new_n);
trn_arena_mark_t trn_arena_mark(const trn_arena_t *a);
/* Frees everything allocated after m. */
void trn_arena_reset(trn_arena_t *a, trn_arena_mark_t m);
/* True once an allocation failed for budget. */
bool trn_arena_failed(const trn_arena_t *a);
/* Bytes handed out so far (what the budget is charged with). */
size_t trn_arena_used(const trn_arena_t *a);

#endif
