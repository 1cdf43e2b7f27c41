/* SPDX-License-Identifier: Apache-2.0 */
/* Alertmanager's API v2 (/api/v2/...) on the built-in alert manager. */
#ifndef TRN_API_ALERTMANAGER_H
#define TRN_API_ALERTMANAGER_H

#include "api/api.h"

/* The routes, as rows for api/routes.c (array and length as constants). */
#define TRN_API_ALERTMANAGER_N_ROUTES 9
extern const trn_route_t trn_api_alertmanager_routes[TRN_API_ALERTMANAGER_N_ROUTES];

#endif
