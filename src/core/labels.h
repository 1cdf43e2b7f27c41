/* SPDX-License-Identifier: Apache-2.0 */
/* Label sets: arrays of name/value views kept sorted by name. A label set
 * borrows its strings; who owns them is the caller's business (the head
 * keeps them interned, a decoder points into the request buffer). */
#ifndef TRN_CORE_LABELS_H
#define TRN_CORE_LABELS_H

#include "core/arena.h"
#include "core/diag.h"
#include "core/str.h"

#include <stdbool.h>
#include <stdint.h>

#define TRN_METRIC_NAME "__name__"

typedef struct trn_label {
    trn_str_t name, value;
} trn_label_t;

typedef struct trn_labels {
    trn_label_t *v;
    size_t n;
} trn_labels_t;

/* Sorts by name (stable for equal names, so duplicates stay detectable). */
void trn_labels_sort(trn_labels_t *ls);
/* Lexicographic compare of two sorted sets, as Prometheus orders series. */
int trn_labels_cmp(const trn_labels_t *a, const trn_labels_t *b);
bool trn_labels_equal(const trn_labels_t *a, const trn_labels_t *b);
/* 64-bit hash of a sorted set (xxh3 over name\xff value\xff ...). */
uint64_t trn_labels_hash(const trn_labels_t *ls);
/* Value of name, or NULL-view (p == NULL) when absent. */
trn_str_t trn_labels_get(const trn_labels_t *ls, const char *name);
/* Validates a sorted set: non-empty names matching [a-zA-Z_][a-zA-Z0-9_]*,
 * no duplicate names, UTF-8 values; empty values are legal but the label
 * is then considered absent (callers drop it via trn_labels_drop_empty). */
int trn_labels_validate(const trn_labels_t *ls, trn_diag_t *d);
/* Removes labels whose value is empty, in place. */
void trn_labels_drop_empty(trn_labels_t *ls);
/* Deep copy into the arena (array and strings). */
int trn_labels_copy(trn_arena_t *a, const trn_labels_t *src, trn_labels_t *dst);
/* Appends {k="v", ...} in Prometheus's text form, with escaping. */
void trn_labels_format(const trn_labels_t *ls, trn_buf_t *out);

/* True if s is a valid label name ([a-zA-Z_][a-zA-Z0-9_]*). */
bool trn_label_name_valid(trn_str_t s);
/* True if s is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*). */
bool trn_metric_name_valid(trn_str_t s);
/* True if s is valid UTF-8. */
bool trn_utf8_valid(const char *p, size_t n);

#endif
