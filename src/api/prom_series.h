/* SPDX-License-Identifier: Apache-2.0 */
/* Prometheus series metadata: /api/v1/series, /api/v1/labels, /api/v1/label/<name>/values. */
#ifndef TRN_API_PROM_SERIES_H
#define TRN_API_PROM_SERIES_H

#include "api/api.h"

/* The routes, as rows for api/routes.c (array and length as constants). */
#define TRN_API_PROM_SERIES_N_ROUTES 3
extern const trn_route_t trn_api_prom_series_routes[TRN_API_PROM_SERIES_N_ROUTES];

#endif
