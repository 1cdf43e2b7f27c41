/* SPDX-License-Identifier: Apache-2.0 */
/* Wiring rule alerts into the built-in alert manager:
 *   trn_rule_manager_set_notify(rules, trn_rules_notify_alertmanager, am);
 * where am is the daemon's trn_alertmanager_t. */
#ifndef TRN_RULES_TO_ALERTMANAGER_H
#define TRN_RULES_TO_ALERTMANAGER_H

#include "rules/rules.h"

#include <stddef.h>

/* A trn_rules_notify_fn: pushes alerts into the trn_alertmanager_t am
 * (which copies them). am NULL does nothing. */
void trn_rules_notify_alertmanager(void *am, const trn_rule_alert_t *alerts, size_t n);

#endif
