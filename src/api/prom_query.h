/* SPDX-License-Identifier: Apache-2.0 */
/* Prometheus's query surface: /api/v1/query, /api/v1/query_range,
 * /api/v1/format_query, /api/v1/parse_query and /api/v1/query_exemplars
 * (GET and POST). The
 * handlers take trn_api_ctx_t as their ctx and evaluate with the PromQL
 * engine against ctx->store, honouring ctx's lookback, timeout and sample
 * limits. */
#ifndef TRN_API_PROM_QUERY_H
#define TRN_API_PROM_QUERY_H

#include "api/api.h"

#define TRN_API_PROM_QUERY_N_ROUTES 5
extern const trn_route_t trn_api_prom_query_routes[TRN_API_PROM_QUERY_N_ROUTES];

#endif
