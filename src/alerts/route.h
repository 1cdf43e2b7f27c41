/* SPDX-License-Identifier: Apache-2.0 */
/* Routing an alert's label set through the route tree, and the grouping
 * that follows: which nodes an alert reaches, and the group labels and
 * group key it gets at each. Pure functions over a loaded config. */
#ifndef TRN_ALERTS_ROUTE_H
#define TRN_ALERTS_ROUTE_H

#include "alerts/config.h"
#include "core/labels.h"
#include "core/str.h"

#include <stddef.h>

/* Depth-first, left-to-right matching as Alertmanager's Route.Match: a node
 * whose matchers hold tries its children in order, stopping after the
 * first that matched unless that child has `continue`; a node none of whose
 * children matched is itself the result. Writes up to max nodes to out and
 * returns how many matched in total (may exceed max). */
size_t trn_am_route_match(const trn_am_route_t *root, const trn_labels_t *ls,
                          const trn_am_route_t **out, size_t max);

/* The group labels an alert gets at route r: the route's group_by labels
 * present in ls (all labels with group_by '...'). Views borrow ls and r;
 * out->v must have room for ls->n labels. Sorted by name. */
void trn_am_route_group_labels(const trn_am_route_t *r, const trn_labels_t *ls, trn_labels_t *out);

/* Appends Alertmanager's group key: route key, ":", group labels as
 * {a="x", b="y"} (Go %q quoting of values). */
void trn_am_group_key(const trn_am_route_t *r, const trn_labels_t *group_labels, trn_buf_t *out);

#endif
