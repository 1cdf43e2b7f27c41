/* SPDX-License-Identifier: Apache-2.0 */
/* Every API surface's route table, registered in this order. Adding a
 * surface = one file exporting a table + one line here and in routes_int.h. */
#include "api/routes_int.h"

const trn_route_table_t *const trn_api_tables[] = {
    &trn_api_health_routes,
    &trn_api_prom_status_routes,
    &trn_api_prom_series_routes,
    &trn_api_prom_write_routes,
    &trn_api_prom_targets_routes,
};
const size_t trn_api_n_tables = sizeof trn_api_tables / sizeof trn_api_tables[0];
