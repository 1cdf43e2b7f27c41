/* SPDX-License-Identifier: Apache-2.0 */
/* Prometheus status endpoints (buildinfo, config, flags, runtimeinfo, tsdb) and /api/v1/metadata.
 */
#ifndef TRN_API_PROM_STATUS_H
#define TRN_API_PROM_STATUS_H

#include "api/api.h"

/* The routes, as rows for api/routes.c (array and length as constants). */
#define TRN_API_PROM_STATUS_N_ROUTES 6
extern const trn_route_t trn_api_prom_status_routes[TRN_API_PROM_STATUS_N_ROUTES];

#endif
