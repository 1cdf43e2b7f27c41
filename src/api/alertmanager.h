/* SPDX-License-Identifier: Apache-2.0 */
/* Alertmanager API v2 surface (/api/v2/alerts, alerts/groups, silences,
 * silence/{id}, status, receivers) on the built-in alert manager. Handlers
 * take trn_api_ctx_t as their ctx and use ctx->alerts; with no alert
 * manager configured they answer 404. */
#ifndef TRN_API_ALERTMANAGER_H
#define TRN_API_ALERTMANAGER_H

#include "api/api.h"

/* The routes, as rows for api/routes.c. */
#define TRN_API_ALERTMANAGER_N_ROUTES 9
extern const trn_route_t trn_api_alertmanager_routes[TRN_API_ALERTMANAGER_N_ROUTES];

#endif
