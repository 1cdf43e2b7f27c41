/* SPDX-License-Identifier: Apache-2.0 */
/* Postings: sorted lists of series (or stream) ids, the set operations on
 * them, and matcher evaluation over any label index. A store exposes its
 * index through trn_postings_src_t (the head's in-memory index, a block's
 * mmap'd index) and trn_postings_select turns a list of =, !=, =~, !~
 * matchers into the sorted ids of the series that satisfy all of them. */
#ifndef TRN_CORE_POSTINGS_H
#define TRN_CORE_POSTINGS_H

#include "core/matcher.h"
#include "core/str.h"

#include <stddef.h>
#include <stdint.h>

/* A growable id list owned by its user (heap; never per-sample). */
typedef struct trn_ids {
    uint32_t *v;
    size_t n, cap;
} trn_ids_t;

void trn_ids_fini(trn_ids_t *ids);
void trn_ids_reserve(trn_ids_t *ids, size_t extra);
static inline void trn_ids_push(trn_ids_t *ids, uint32_t id);
/* Sorts ascending and removes duplicates. */
void trn_ids_sort_unique(trn_ids_t *ids);

/* Set operations on sorted, duplicate-free lists. out may alias a (never b);
 * it must have room for na ids. Return the result length. */
size_t trn_postings_intersect(const uint32_t *a, size_t na, const uint32_t *b, size_t nb,
                              uint32_t *out);
size_t trn_postings_subtract(const uint32_t *a, size_t na, const uint32_t *b, size_t nb,
                             uint32_t *out);
/* True if id is in the sorted list (binary search). */
bool trn_postings_contains(const uint32_t *a, size_t n, uint32_t id);

/* A label index seen through callbacks. Every callback appends to the
 * caller's list and returns 0 or a negative TRN_E* (e.g. TRN_ECORRUPT from a
 * block); the index stays borrowed for the call. */
typedef int trn_value_fn(void *ctx, trn_str_t value);
typedef struct trn_postings_src {
    void *ctx;
    /* Appends the sorted ids of series with name=value (nothing if absent). */
    int (*postings)(void *ctx, trn_str_t name, trn_str_t value, trn_ids_t *out);
    /* Calls fn for every value the label name takes (any order); stops early
     * when fn returns non-zero and passes that code on. */
    int (*each_value)(void *ctx, trn_str_t name, trn_value_fn *fn, void *fn_ctx);
    /* Appends the sorted ids of every series. */
    int (*all)(void *ctx, trn_ids_t *out);
} trn_postings_src_t;

/* Sorted ids of the series matching every matcher (Prometheus semantics: a
 * matcher that accepts "" also selects series without the label). An empty
 * matcher list selects every series. Regexes that are alternations of
 * literals are answered by lookups, not by scanning values. Returns 0 or the
 * source's error; out is replaced. */
int trn_postings_select(const trn_postings_src_t *src, const trn_matcher_t *ms, size_t n_ms,
                        trn_ids_t *out);

static inline void trn_ids_push(trn_ids_t *ids, uint32_t id)
{
    if (ids->n == ids->cap) trn_ids_reserve(ids, 1);
    ids->v[ids->n++] = id;
}

#endif
