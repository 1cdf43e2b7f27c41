/* SPDX-License-Identifier: Apache-2.0 */
/* POST /api/v1/admin/tsdb/flush: trn_store_flush, then 204 No Content (the
 * status Prometheus's admin endpoints answer with when there is nothing to
 * return). A failure is the Prometheus error envelope with the store's
 * message. */
#include "api/prom_admin.h"
#include "core/diag.h"
#include "metrics/store.h"

static void flush(void *ctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    (void)req;
    trn_api_ctx_t *api = ctx;
    trn_diag_t d;
    trn_diag_init(&d);
    int rc = trn_store_flush(api->store, &d);
    if (rc < 0) {
        trn_api_prom_error_code(resp, rc, d.msg);
        return;
    }
    resp->status = 204;
}

const trn_route_t trn_api_prom_admin_routes[] = {
    {.method = "POST", .pattern = "/api/v1/admin/tsdb/flush", .fn = flush},
};
