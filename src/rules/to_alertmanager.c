/* SPDX-License-Identifier: Apache-2.0 */
/* The bridge from rule evaluation to trine's built-in alert manager: a
 * trn_rules_notify_fn that hands the alerts to trn_alertmanager_push.
 * The two alert shapes carry the same fields (labels, annotations,
 * start, end, generator URL); this copies them field by field so neither
 * module depends on the other's struct layout. */
#include "rules/to_alertmanager.h"

#include "alerts/alertmanager.h"
#include "core/alloc.h"

#include <stdlib.h>

void trn_rules_notify_alertmanager(void *am, const trn_rule_alert_t *alerts, size_t n)
{
    if (!am || !n) return;
    trn_am_alert_t *v = trn_xcalloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        v[i].labels = alerts[i].labels;
        v[i].annotations = alerts[i].annotations;
        v[i].starts_at_ms = alerts[i].starts_at_ms;
        v[i].ends_at_ms = alerts[i].ends_at_ms;
        v[i].generator_url = alerts[i].generator_url;
    }
    trn_alertmanager_push(am, v, n);
    free(v);
}
