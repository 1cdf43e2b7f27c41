/* SPDX-License-Identifier: Apache-2.0 */
/* TSDB admin endpoint: POST /api/v1/admin/tsdb/flush cuts the whole head
 * into a block and compacts (what the benchmark calls before it measures
 * bytes on disk; Prometheus has no such endpoint, its snapshot API is the
 * nearest). */
#ifndef TRN_API_PROM_ADMIN_H
#define TRN_API_PROM_ADMIN_H

#include "api/api.h"

#define TRN_API_PROM_ADMIN_N_ROUTES 1
extern const trn_route_t trn_api_prom_admin_routes[TRN_API_PROM_ADMIN_N_ROUTES];

#endif
