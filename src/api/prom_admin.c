/* SPDX-License-Identifier: Apache-2.0 */
/* TSDB admin: `POST /api/v1/admin/tsdb/flush` cuts the head into a block
 * now and compacts, so the data's final on-disk form can be measured (the
 * benchmark) or shipped without waiting for the block range to fill. It is
 * trine's own endpoint, under Prometheus's admin prefix; VictoriaMetrics's
 * equivalent is /internal/force_flush. Answers 204 like Prometheus's admin
 * calls, or the error envelope. */
#include "api/prom_admin.h"
#include "metrics/store.h"

static void flush(void *ctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    (void)req;
    trn_api_ctx_t *api = ctx;
    trn_diag_t d;
    trn_diag_init(&d);
    int rc = trn_store_flush(api->store, &d);
    if (rc < 0) {
        trn_api_prom_error(resp, 500, "internal", d.msg[0] ? d.msg : "flush failed");
        return;
    }
    resp->status = 204;
}

const trn_route_t trn_api_prom_admin_routes[] = {
    {.method = "POST|PUT", .pattern = "/api/v1/admin/tsdb/flush", .fn = flush},
};
