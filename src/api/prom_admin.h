/* SPDX-License-Identifier: Apache-2.0 */
/* TSDB admin endpoints (/api/v1/admin/tsdb/...). */
#ifndef TRN_API_PROM_ADMIN_H
#define TRN_API_PROM_ADMIN_H

#include "api/api.h"

/* The routes, as rows for api/routes.c (array and length as constants). */
#define TRN_API_PROM_ADMIN_N_ROUTES 1
extern const trn_route_t trn_api_prom_admin_routes[TRN_API_PROM_ADMIN_N_ROUTES];

#endif
