/* SPDX-License-Identifier: Apache-2.0 */
/* The Prometheus API envelope: {"status":"success","data":...} and
 * {"status":"error","errorType":...,"error":...}, with the status codes
 * Prometheus uses for each error type. */
#include "api/api.h"
#include "core/err.h"
#include "core/json.h"

void trn_api_prom_success(trn_json_t *j, trn_http_resp_t *resp)
{
    trn_json_init(j, &resp->body);
    trn_json_obj_begin(j);
    trn_json_key(j, "status");
    trn_json_str(j, "success");
    trn_json_key(j, "data");
}

void trn_api_prom_error(trn_http_resp_t *resp, int http_status, const char *error_type,
                        const char *msg)
{
    resp->status = http_status;
    resp->content_type = "application/json";
    resp->body.len = 0;
    trn_json_t j;
    trn_json_init(&j, &resp->body);
    trn_json_obj_begin(&j);
    trn_json_key(&j, "status");
    trn_json_str(&j, "error");
    trn_json_key(&j, "errorType");
    trn_json_str(&j, error_type);
    trn_json_key(&j, "error");
    trn_json_str(&j, msg);
    trn_json_obj_end(&j);
}

void trn_api_prom_error_code(trn_http_resp_t *resp, int code, const char *msg)
{
    switch (code) {
    case TRN_EINVAL:
        trn_api_prom_error(resp, 400, "bad_data", msg);
        break;
    case TRN_ENOTFOUND:
        trn_api_prom_error(resp, 404, "not_found", msg);
        break;
    case TRN_ETIMEOUT:
        trn_api_prom_error(resp, 503, "timeout", msg);
        break;
    case TRN_ECANCELED:
        trn_api_prom_error(resp, 503, "canceled", msg);
        break;
    case TRN_ELIMIT:
    case TRN_EEXEC:
        trn_api_prom_error(resp, 422, "execution", msg);
        break;
    default:
        trn_api_prom_error(resp, 500, "internal", msg);
        break;
    }
}
