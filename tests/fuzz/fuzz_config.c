/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the YAML tree builder and the main config loader: any bytes must
 * give a config or a diag, never a crash or a leak. */
#include "daemon/config.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    trn_diag_t d;
    trn_diag_init(&d);
    trn_config_t *c = NULL;
    if (trn_config_parse("fuzz.yaml", (const char *)data, size, &c, &d) == 0) trn_config_free(c);
    return 0;
}
