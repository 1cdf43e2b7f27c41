/* SPDX-License-Identifier: Apache-2.0 */
/* Prometheus write surfaces: POST /api/v1/write (remote_write 1.0) and
 * POST /api/v1/import/prometheus (text exposition with timestamps).
 * Handlers take trn_api_ctx_t as their ctx and write to ctx->store. */
#ifndef TRN_API_PROM_WRITE_H
#define TRN_API_PROM_WRITE_H

#include "api/api.h"

/* The routes, as rows for api/routes.c (a static initializer there needs
 * the array and its length as constants, hence the macro). */
#define TRN_API_PROM_WRITE_N_ROUTES 2
extern const trn_route_t trn_api_prom_write_routes[TRN_API_PROM_WRITE_N_ROUTES];

#endif
