/* SPDX-License-Identifier: Apache-2.0 */
/* Health, readiness, /metrics and /-/reload. */
#ifndef TRN_API_HEALTH_H
#define TRN_API_HEALTH_H

#include "api/api.h"

/* The routes, as rows for api/routes.c (array and length as constants). */
#define TRN_API_HEALTH_N_ROUTES 6
extern const trn_route_t trn_api_health_routes[TRN_API_HEALTH_N_ROUTES];

#endif
