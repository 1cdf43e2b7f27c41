/* SPDX-License-Identifier: Apache-2.0 */
/* Prometheus relabeling: an ordered list of relabel_config rules (replace,
 * keep, drop, keepequal, dropequal, hashmod, labelmap, labeldrop,
 * labelkeep, lowercase, uppercase) parsed from YAML and applied to a label
 * set. Used for scrape targets (relabel_configs), scraped samples
 * (metric_relabel_configs) and, later, remote_write and alerting.
 * A parsed list is immutable and may be applied from many threads at once. */
#ifndef TRN_SCRAPE_RELABEL_H
#define TRN_SCRAPE_RELABEL_H

#include "core/arena.h"
#include "core/diag.h"
#include "core/labels.h"
#include "core/yaml.h"

#include <stddef.h>

typedef struct trn_relabel trn_relabel_t;

/* Parses a YAML sequence of relabel_config maps (NULL or null node: an
 * empty list). Errors carry file:line:col; unknown keys and invalid
 * combinations (e.g. hashmod without modulus) are errors as in Prometheus.
 * Returns 0 and an owned list in *out. */
int trn_relabel_parse(const trn_yaml_node_t *seq, trn_relabel_t **out, trn_diag_t *d);
void trn_relabel_free(trn_relabel_t *r);
/* Number of rules (0 for NULL). */
size_t trn_relabel_len(const trn_relabel_t *r);

/* Applies the rules in order to the sorted set in. On keep, writes the
 * result (sorted, without empty values) to *out — array and any new strings
 * from the arena; unchanged strings stay borrowed from in — and returns 1.
 * Returns 0 when a rule dropped the set, TRN_ELIMIT when the arena budget
 * ran out. r NULL keeps the set as is (still copied into a new array). */
int trn_relabel_apply(const trn_relabel_t *r, const trn_labels_t *in, trn_arena_t *a,
                      trn_labels_t *out);

#endif
