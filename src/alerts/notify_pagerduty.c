/* SPDX-License-Identifier: Apache-2.0 */
/* The PagerDuty integration: Events API v2 (routing_key: event_action,
 * dedup_key, payload with summary, source, severity and custom_details) or
 * the v1 generic API (service_key: event_type, incident_key, description,
 * details). The dedup / incident key is the hex SHA-256 of the group key,
 * so one incident tracks one alert group across trigger and resolve, as with
 * Alertmanager. A v1 config without its own url posts to PagerDuty's v1
 * endpoint (Alertmanager always does; trine honours an explicit url). */
#include "alerts/am_int.h"

#include "core/digest.h"
#include "core/err.h"
#include "core/json.h"

#include <stdio.h>
#include <string.h>

#define V1_URL "https://events.pagerduty.com/generic/2010-04-15/create_event.json"
#define V2_DEFAULT_URL "https://events.pagerduty.com/v2/enqueue"
#define SUMMARY_MAX 1024

static void details(trn_json_t *j, trn__am_tctx_t *t, const trn_am_integration_t *in)
{
    trn_json_obj_begin(j);
    /* Go marshals map keys sorted */
    size_t order[64], n = in->n_details < 64 ? in->n_details : 64;
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    for (size_t i = 1; i < n; i++)
        for (size_t k = i;
             k > 0 && strcmp(in->details[order[k - 1]].key, in->details[order[k]].key) > 0; k--) {
            size_t x = order[k];
            order[k] = order[k - 1];
            order[k - 1] = x;
        }
    for (size_t i = 0; i < n; i++) {
        trn_json_key(j, in->details[order[i]].key);
        trn_json_str(j, trn__am_tx_detail(t, order[i]));
    }
    trn_json_obj_end(j);
}

static void cut(char *s, size_t max_runes)
{
    size_t r = 0;
    for (size_t i = 0; s[i]; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80 && r++ == max_runes) {
            s[i] = 0;
            return;
        }
}

int trn__am_send_pagerduty(const trn_am_integration_t *in, const trn__am_notification_t *n,
                           char *err, size_t err_len)
{
    trn__am_tctx_t t;
    int rc = trn__am_tctx_init(&t, in, n);
    bool resolve = !strcmp(trn__am_group_status(n), "resolved");
    char hash[65];
    trn_sha256_hex(n->group_key, strlen(n->group_key), hash);
    const char *service_key = trn__am_tx(&t, "service_key");
    bool v1 = *service_key != 0;
    trn_buf_t b;
    trn_buf_init(&b);
    trn_json_t j;
    trn_json_init(&j, &b);
    char *desc = (char *)trn__am_tx(&t, "description");
    cut(desc, SUMMARY_MAX);
    const char *url = trn_am_integration_opt(in, "url");
    trn_json_obj_begin(&j);
    if (v1) {
        if (!strcmp(url, V2_DEFAULT_URL)) url = V1_URL;
        trn_json_key(&j, "service_key");
        trn_json_str(&j, service_key);
        trn_json_key(&j, "incident_key");
        trn_json_str(&j, hash);
        trn_json_key(&j, "event_type");
        trn_json_str(&j, resolve ? "resolve" : "trigger");
        if (*desc) {
            trn_json_key(&j, "description");
            trn_json_str(&j, desc);
        }
        trn_json_key(&j, "event_action");
        trn_json_str(&j, "");
        trn_json_key(&j, "payload");
        trn_json_null(&j);
        if (!resolve) {
            const char *client = trn__am_tx(&t, "client"),
                       *client_url = trn__am_tx(&t, "client_url");
            if (*client) trn_json_key(&j, "client"), trn_json_str(&j, client);
            if (*client_url) trn_json_key(&j, "client_url"), trn_json_str(&j, client_url);
        }
        if (in->n_details) {
            trn_json_key(&j, "details");
            details(&j, &t, in);
        }
    } else {
        const char *routing_key = trn__am_tx(&t, "routing_key");
        trn_json_key(&j, "routing_key");
        trn_json_str(&j, routing_key);
        trn_json_key(&j, "dedup_key");
        trn_json_str(&j, hash);
        trn_json_key(&j, "event_action");
        trn_json_str(&j, resolve ? "resolve" : "trigger");
        trn_json_key(&j, "payload");
        trn_json_obj_begin(&j);
        trn_json_key(&j, "summary");
        trn_json_str(&j, desc);
        trn_json_key(&j, "source");
        trn_json_str(&j, trn__am_tx(&t, "source"));
        const char *sev = trn__am_tx(&t, "severity");
        trn_json_key(&j, "severity");
        trn_json_str(&j, *sev ? sev : "error");
        const char *cls = trn__am_tx(&t, "class"), *comp = trn__am_tx(&t, "component"),
                   *grp = trn__am_tx(&t, "group");
        if (*cls) trn_json_key(&j, "class"), trn_json_str(&j, cls);
        if (*comp) trn_json_key(&j, "component"), trn_json_str(&j, comp);
        if (*grp) trn_json_key(&j, "group"), trn_json_str(&j, grp);
        if (in->n_details) {
            trn_json_key(&j, "custom_details");
            details(&j, &t, in);
        }
        trn_json_obj_end(&j);
        const char *client = trn__am_tx(&t, "client"), *client_url = trn__am_tx(&t, "client_url");
        if (*client) trn_json_key(&j, "client"), trn_json_str(&j, client);
        if (*client_url) trn_json_key(&j, "client_url"), trn_json_str(&j, client_url);
        if (rc == 0 && !*routing_key) {
            snprintf(err, err_len, "routing key cannot be empty");
            rc = TRN_EINVAL;
        }
    }
    trn_json_obj_end(&j);
    trn_buf_putc(&b, '\n');
    if (rc == 0 && t.d.code) {
        snprintf(err, err_len, "template: %s", t.d.msg);
        rc = TRN_EINVAL;
    } else if (rc == TRN_ELIMIT) {
        snprintf(err, err_len, "%s", t.d.msg);
    }
    if (rc == 0)
        rc = trn__am_http_post(&in->http, url, "application/json", b.data, b.len, err, err_len);
    trn_buf_fini(&b);
    trn__am_tctx_fini(&t);
    return rc;
}
