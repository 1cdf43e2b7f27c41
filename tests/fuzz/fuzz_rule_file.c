/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for the rule-file loader: arbitrary bytes as a rule file
 * (Prometheus format or PrometheusRule), through YAML, group and rule
 * validation, PromQL parsing and template parsing. Must never crash or
 * leak, whatever the input. */
#include "rules/rules.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    trn_diag_t d;
    trn_diag_init(&d);
    trn_rules_config_t *c = NULL;
    if (trn_rules_config_load_text("fuzz.yml", (const char *)data, size, 0, &c, &d) == 0)
        trn_rules_config_free(c);
    return 0;
}
