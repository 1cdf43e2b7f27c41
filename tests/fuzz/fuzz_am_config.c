/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for the Alertmanager config loader (plain YAML or a wrapped
 * Secret/ConfigMap, templates included). A config that loads is then used
 * to route a fixed label set, the way the daemon would. */
#include "alerts/config.h"
#include "alerts/route.h"
#include "core/err.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    trn_am_config_t *c = NULL;
    trn_diag_t d;
    trn_diag_init(&d);
    if (trn_am_config_parse("fuzz.yml", (const char *)data, size, &c, &d) == 0) {
        trn_label_t lv[] = {{TRN_STR("alertname"), TRN_STR("x")},
                            {TRN_STR("severity"), TRN_STR("critical")}};
        trn_labels_t ls = {lv, 2};
        const trn_am_route_t *hits[16];
        size_t n = trn_am_route_match(c->route, &ls, hits, 16);
        for (size_t i = 0; i < n && i < 16; i++)
            if (!trn_am_config_receiver(c, hits[i]->receiver)) abort();
        trn_am_config_free(c);
    }
    return 0;
}
