/* SPDX-License-Identifier: Apache-2.0 */
/* The list of every API surface's route table, in registration order. The
 * daemon registers each with the shared trn_api_ctx_t. Adding a surface is
 * one include and one row here. */
#include "api/alertmanager.h"
#include "api/api.h"
#include "api/health.h"
#include "api/prom_admin.h"
#include "api/prom_admin.h"
#include "api/prom_query.h"
#include "api/prom_rules.h"
#include "api/prom_series.h"
#include "api/prom_status.h"
#include "api/prom_targets.h"
#include "api/prom_write.h"

const trn_route_table_t trn_api_tables[] = {
    {trn_api_health_routes, TRN_API_HEALTH_N_ROUTES},
    {trn_api_prom_status_routes, TRN_API_PROM_STATUS_N_ROUTES},
    {trn_api_prom_series_routes, TRN_API_PROM_SERIES_N_ROUTES},
    {trn_api_prom_admin_routes, TRN_API_PROM_ADMIN_N_ROUTES},
    {trn_api_prom_write_routes, TRN_API_PROM_WRITE_N_ROUTES},
    {trn_api_prom_targets_routes, TRN_API_PROM_TARGETS_N_ROUTES},
    {trn_api_prom_query_routes, TRN_API_PROM_QUERY_N_ROUTES},
    {trn_api_prom_rules_routes, TRN_API_PROM_RULES_N_ROUTES},
    {trn_api_alertmanager_routes, TRN_API_ALERTMANAGER_N_ROUTES},
    {trn_api_prom_admin_routes, TRN_API_PROM_ADMIN_N_ROUTES},
};
const size_t trn_api_n_tables = sizeof trn_api_tables / sizeof trn_api_tables[0];
