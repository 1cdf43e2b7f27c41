/* SPDX-License-Identifier: Apache-2.0 */
/* In-memory label index: label name -> value -> sorted postings of ids.
 * Name and value strings are borrowed and must outlive their use in the
 * index (callers pass interned strings). Not thread-safe: the owner
 * serialises writers against readers. trn_lindex_src exposes it to
 * trn_postings_select. */
#ifndef TRN_CORE_LINDEX_H
#define TRN_CORE_LINDEX_H

#include "core/postings.h"
#include "core/str.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct trn_lindex trn_lindex_t;

trn_lindex_t *trn_lindex_new(void);
void trn_lindex_free(trn_lindex_t *x);
/* Adds id under name=value and to the all-ids list. Ids added in ascending
 * order are appended in O(1); others are inserted in place. */
void trn_lindex_add(trn_lindex_t *x, trn_str_t name, trn_str_t value, uint32_t id);
/* Marks id as a member of the index even if it has no labels. */
void trn_lindex_add_id(trn_lindex_t *x, uint32_t id);
/* Removes every id for which keep(ctx, id) is false; empty values and names
 * vanish. One pass over the whole index (use after a batch of deletions). */
typedef bool trn_keep_fn(void *ctx, uint32_t id);
void trn_lindex_retain(trn_lindex_t *x, trn_keep_fn *keep, void *ctx);
/* Number of ids, label names, and (name, value) pairs. */
size_t trn_lindex_n_ids(const trn_lindex_t *x);
size_t trn_lindex_n_pairs(const trn_lindex_t *x);
/* Sorted postings of name=value (borrowed until the next write), or n=0. */
const uint32_t *trn_lindex_get(const trn_lindex_t *x, trn_str_t name, trn_str_t value, size_t *n);
/* Calls fn for every label name (any order). */
int trn_lindex_each_name(const trn_lindex_t *x, trn_value_fn *fn, void *ctx);
/* A postings source over this index (valid while x is unchanged). */
trn_postings_src_t trn_lindex_src(trn_lindex_t *x);

#endif
