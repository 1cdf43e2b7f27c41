/* SPDX-License-Identifier: Apache-2.0 */
/* Prometheus's rule and alert surfaces: GET /api/v1/rules and
 * GET /api/v1/alerts. The handlers take trn_api_ctx_t as their ctx and
 * read ctx->rules (no rule manager: empty lists). */
#ifndef TRN_API_PROM_RULES_H
#define TRN_API_PROM_RULES_H

#include "api/api.h"

/* The routes, as rows for api/routes.c (array and length as constants). */
#define TRN_API_PROM_RULES_N_ROUTES 2
extern const trn_route_t trn_api_prom_rules_routes[TRN_API_PROM_RULES_N_ROUTES];

#endif
