/* SPDX-License-Identifier: Apache-2.0 */
/* The webhook integration: POSTs Alertmanager's webhook message (version
 * "4") as JSON — the template data (receiver, regex-quoted as Alertmanager
 * does; status; alerts with status, labels, annotations, times,
 * generatorURL, fingerprint; group, common labels and annotations;
 * externalURL) plus version, groupKey and truncatedAlerts. Keys appear in
 * Alertmanager's order; label maps are sorted like Go's. A firing alert's
 * endsAt is Go's zero time, as Alertmanager hides an end that has not been
 * reached. max_alerts > 0 cuts the list and reports the rest in
 * truncatedAlerts. */
#include "alerts/am_int.h"

#include "core/alloc.h"
#include "core/json.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int trn__am_send_webhook(const trn_am_integration_t *in, const trn__am_notification_t *n, char *err,
                         size_t err_len)
{
    size_t max = (size_t)strtoull(trn_am_integration_opt(in, "max_alerts"), NULL, 10);
    size_t count = max && n->n_alerts > max ? max : n->n_alerts;
    trn_buf_t b;
    trn_buf_init(&b);
    trn_json_t j;
    trn_json_init(&j, &b);
    trn_json_obj_begin(&j);
    /* Alertmanager's template data quotes the name as a regex (QuoteMeta) */
    trn_json_key(&j, "receiver");
    trn_buf_t q;
    trn_buf_init(&q);
    for (const char *p = n->receiver; *p; p++) {
        if (strchr("\\.+*?()|[]{}^$", *p)) trn_buf_putc(&q, '\\');
        trn_buf_putc(&q, *p);
    }
    trn_json_strn(&j, q.data ? q.data : "", q.len);
    trn_buf_fini(&q);
    trn_json_key(&j, "status");
    trn_json_str(&j, trn__am_group_status(n));
    trn_json_key(&j, "alerts");
    trn_json_arr_begin(&j);
    for (size_t i = 0; i < count; i++) {
        const trn__am_alert_t *a = n->alerts[i];
        bool resolved = trn__am_alert_resolved(a, n->now);
        trn_json_obj_begin(&j);
        trn_json_key(&j, "status");
        trn_json_str(&j, resolved ? "resolved" : "firing");
        trn_json_key(&j, "labels");
        trn__am_json_labels(&j, &a->labels);
        trn_json_key(&j, "annotations");
        trn__am_json_labels(&j, &a->annotations);
        trn_json_key(&j, "startsAt");
        trn__am_json_time(&j, a->starts_at);
        trn_json_key(&j, "endsAt");
        trn__am_json_time(&j, resolved ? a->ends_at : 0);
        trn_json_key(&j, "generatorURL");
        trn_json_str(&j, a->generator_url);
        trn_json_key(&j, "fingerprint");
        char fp[17];
        snprintf(fp, sizeof fp, "%016" PRIx64, a->fp);
        trn_json_str(&j, fp);
        trn_json_obj_end(&j);
    }
    trn_json_arr_end(&j);
    trn_json_key(&j, "groupLabels");
    trn__am_json_labels(&j, n->group_labels);
    size_t cap = n->n_alerts ? n->alerts[0]->labels.n + n->alerts[0]->annotations.n + 1 : 1;
    trn_labels_t common = {trn_xcalloc(cap, sizeof(trn_label_t)), 0};
    trn__am_common(n, false, &common);
    trn_json_key(&j, "commonLabels");
    trn__am_json_labels(&j, &common);
    trn__am_common(n, true, &common);
    trn_json_key(&j, "commonAnnotations");
    trn__am_json_labels(&j, &common);
    free(common.v);
    trn_json_key(&j, "externalURL");
    trn_json_str(&j, n->external_url);
    trn_json_key(&j, "version");
    trn_json_str(&j, "4");
    trn_json_key(&j, "groupKey");
    trn_json_str(&j, n->group_key);
    trn_json_key(&j, "truncatedAlerts");
    trn_json_uint(&j, n->n_alerts - count);
    trn_json_obj_end(&j);
    int rc = trn__am_http_post(&in->http, trn_am_integration_opt(in, "url"), "application/json",
                               b.data, b.len, err, err_len);
    trn_buf_fini(&b);
    return rc;
}
