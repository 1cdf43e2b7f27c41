/* SPDX-License-Identifier: Apache-2.0 */
/* The route table each API surface file exports; routes.c lists them. */
#ifndef TRN_API_ROUTES_INT_H
#define TRN_API_ROUTES_INT_H

#include "api/api.h"

extern const trn_route_table_t trn_api_health_routes;
extern const trn_route_table_t trn_api_prom_status_routes;
extern const trn_route_table_t trn_api_prom_series_routes;
extern const trn_route_table_t trn_api_prom_write_routes;
extern const trn_route_table_t trn_api_prom_targets_routes;

#endif
