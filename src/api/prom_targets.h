/* SPDX-License-Identifier: Apache-2.0 */
/* Prometheus's target discovery surface: GET /api/v1/targets. The handler
 * takes trn_api_ctx_t as its ctx and reads ctx->scrape (no scrape manager:
 * empty lists). */
#ifndef TRN_API_PROM_TARGETS_H
#define TRN_API_PROM_TARGETS_H

#include "api/api.h"

/* The routes, as rows for api/routes.c (array and length as constants). */
#define TRN_API_PROM_TARGETS_N_ROUTES 1
extern const trn_route_t trn_api_prom_targets_routes[TRN_API_PROM_TARGETS_N_ROUTES];

#endif
