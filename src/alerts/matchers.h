/* SPDX-License-Identifier: Apache-2.0 */
/* Alertmanager's matcher syntax: `name="value"`, `name!=value`,
 * `name=~"a|b"`, `name!~re`, and comma-separated lists of them optionally in
 * braces (`{a="b", c!="d"}`), as used by route `matchers`, inhibit rules,
 * amtool and the API's `filter` parameter. Parsing follows Alertmanager
 * 0.25's tolerant rules (quotes optional, OpenMetrics escapes). */
#ifndef TRN_ALERTS_MATCHERS_H
#define TRN_ALERTS_MATCHERS_H

#include "core/arena.h"
#include "core/diag.h"
#include "core/labels.h"
#include "core/matcher.h"
#include "core/str.h"

#include <stdbool.h>

/* A list of matchers, all of which must hold. The array is owned by the
 * list (heap); names and values are borrowed from an arena given at parse
 * time; compiled regexes are owned (freed by trn_am_matchers_fini). */
typedef struct trn_am_matchers {
    trn_matcher_t *v;
    size_t n, cap;
} trn_am_matchers_t;

/* Parses one matcher; name and value are copied into a. */
int trn_am_matcher_parse(trn_str_t s, trn_arena_t *a, trn_matcher_t *out, trn_diag_t *d);
/* Parses a comma-separated list (optional braces) and appends to out. On
 * error out keeps what it had before. */
int trn_am_matchers_parse(trn_str_t s, trn_arena_t *a, trn_am_matchers_t *out, trn_diag_t *d);
/* Appends a matcher built from parts (name and value copied into a). */
int trn_am_matchers_add(trn_am_matchers_t *ms, trn_arena_t *a, trn_match_type_t t, trn_str_t name,
                        trn_str_t value, trn_diag_t *d);
/* Frees the regexes and the array. NULL allowed. */
void trn_am_matchers_fini(trn_am_matchers_t *ms);
/* True if every matcher holds on ls (an absent label reads as ""). */
bool trn_am_matchers_match(const trn_am_matchers_t *ms, const trn_labels_t *ls);
/* Sorts as Alertmanager does: by name, then value, then type. */
void trn_am_matchers_sort(trn_am_matchers_t *ms);
/* Appends `name="value"` (value quoted and escaped like Alertmanager's
 * Matcher.String). */
void trn_am_matcher_format(const trn_matcher_t *m, trn_buf_t *out);
/* Appends `{m1,m2}` as Alertmanager's Matchers.String does. */
void trn_am_matchers_format(const trn_am_matchers_t *ms, trn_buf_t *out);

#endif
