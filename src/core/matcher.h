/* SPDX-License-Identifier: Apache-2.0 */
/* Label matchers (=, !=, =~, !~) as Prometheus defines them: regexes are
 * fully anchored, and a matcher on an absent label sees the empty string.
 * Regexes use PCRE2 compiled with options close to Go's RE2 (UTF, no
 * backreference-dependent features are needed by valid RE2 patterns). */
#ifndef TRN_CORE_MATCHER_H
#define TRN_CORE_MATCHER_H

#include "core/arena.h"
#include "core/diag.h"
#include "core/labels.h"
#include "core/str.h"

#include <stdbool.h>

typedef enum {
    TRN_MATCH_EQ = 0,
    TRN_MATCH_NE = 1,
    TRN_MATCH_RE = 2,
    TRN_MATCH_NRE = 3,
} trn_match_type_t;

typedef struct trn_regex trn_regex_t;

typedef struct trn_matcher {
    trn_match_type_t type;
    trn_str_t name, value; /* borrowed */
    trn_regex_t *re;       /* owned; compiled for RE/NRE by trn_matcher_init */
} trn_matcher_t;

/* Fills m; compiles the regex for =~ and !~. Errors name the bad pattern. */
int trn_matcher_init(trn_matcher_t *m, trn_match_type_t type, trn_str_t name, trn_str_t value,
                     trn_diag_t *d);
void trn_matcher_fini(trn_matcher_t *m);
/* Does value v satisfy m? (absent label: pass the empty string) */
bool trn_matcher_matches(const trn_matcher_t *m, trn_str_t v);
/* Does the label set satisfy m? */
bool trn_matcher_matches_labels(const trn_matcher_t *m, const trn_labels_t *ls);
/* True if m accepts the empty string (so it also selects series without the label). */
bool trn_matcher_matches_empty(const trn_matcher_t *m);
/* Operator text: "=", "!=", "=~", "!~". */
const char *trn_match_op(trn_match_type_t t);

/* Anchored regex; compile errors are reported with the pattern offset. */
int trn_regex_new(trn_str_t pattern, trn_regex_t **out, trn_diag_t *d);
void trn_regex_free(trn_regex_t *re);
bool trn_regex_match(const trn_regex_t *re, trn_str_t s);
/* If the pattern is a plain literal or an alternation of literals (a|b|c),
 * returns the count and sets *alts (borrowed, valid while re lives); else 0.
 * Lets the index turn such regexes into set lookups. */
size_t trn_regex_literals(const trn_regex_t *re, const trn_str_t **alts);

#endif
