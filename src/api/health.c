/* SPDX-License-Identifier: Apache-2.0 */
/* Health, readiness, trine's own /metrics, and /-/reload. The HTTP server
 * starts only once the store is open, so every request that reaches these
 * handlers sees a ready daemon. */
#include "api/api.h"
#include "api/health.h"
#include "core/diag.h"

static void text(trn_http_resp_t *resp, int status, const char *s)
{
    resp->status = status;
    resp->content_type = "text/plain; charset=utf-8";
    trn_buf_puts(&resp->body, s);
}

static void healthy(void *ctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    (void)ctx;
    (void)req;
    text(resp, 200, "trine is Healthy.\n");
}

static void ready(void *ctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    (void)ctx;
    (void)req;
    text(resp, 200, "trine is Ready.\n");
}

static void metrics(void *ctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    (void)req;
    trn_api_ctx_t *api = ctx;
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    trn_registry_write(api->registry, &resp->body);
}

static void do_reload(void *ctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    (void)req;
    trn_api_ctx_t *api = ctx;
    trn_diag_t d;
    trn_diag_init(&d);
    if (!api->reload || api->reload(api->daemon, &d) < 0) {
        trn_http_error_text(resp, 500, "failed to reload config: %s", d.msg);
        return;
    }
    text(resp, 200, "");
}

const trn_route_t trn_api_health_routes[] = {
    {.method = "GET|HEAD", .pattern = "/healthy", .fn = healthy},
    {.method = "GET|HEAD", .pattern = "/-/healthy", .fn = healthy},
    {.method = "GET|HEAD", .pattern = "/ready", .fn = ready},
    {.method = "GET|HEAD", .pattern = "/-/ready", .fn = ready},
    {.method = "GET", .pattern = "/metrics", .fn = metrics},
    {.method = "POST|PUT", .pattern = "/-/reload", .fn = do_reload},
};
