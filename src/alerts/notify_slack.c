/* SPDX-License-Identifier: Apache-2.0 */
/* The Slack integration: an incoming-webhook message with one attachment
 * whose title, text, fields, colour and the rest are rendered from the
 * configured (or Alertmanager's default) templates. Keys, their order and
 * which ones are omitted when empty follow Alertmanager's Slack notifier;
 * the title is cut to 1024 characters as Slack requires. */
#include "alerts/am_int.h"

#include "core/err.h"
#include "core/json.h"

#include <stdio.h>
#include <string.h>

#define TITLE_MAX_RUNES 1024

static void opt_str(trn_json_t *j, const char *key, const char *v)
{
    if (!*v) return;
    trn_json_key(j, key);
    trn_json_str(j, v);
}

/* Cuts s to max UTF-8 characters, marking the cut with an ellipsis. */
static void put_truncated(trn_json_t *j, const char *s, size_t max)
{
    size_t runes = 0, i = 0;
    for (; s[i]; i++) {
        if (((unsigned char)s[i] & 0xc0) != 0x80) {
            if (runes == max) break;
            runes++;
        }
    }
    if (!s[i]) {
        trn_json_str(j, s);
        return;
    }
    /* keep max-1 characters and the ellipsis */
    size_t k = 0, r = 0;
    for (; s[k]; k++)
        if (((unsigned char)s[k] & 0xc0) != 0x80 && ++r == max) break;
    trn_buf_t b;
    trn_buf_init(&b);
    trn_buf_append(&b, s, k);
    trn_buf_puts(&b, "\xe2\x80\xa6");
    trn_json_strn(j, b.data, b.len);
    trn_buf_fini(&b);
}

int trn__am_send_slack(const trn_am_integration_t *in, const trn__am_notification_t *n, char *err,
                       size_t err_len)
{
    trn__am_tctx_t t;
    int rc = trn__am_tctx_init(&t, in, n);
    trn_buf_t b;
    trn_buf_init(&b);
    trn_json_t j;
    trn_json_init(&j, &b);
    trn_json_obj_begin(&j);
    opt_str(&j, "channel", trn__am_tx(&t, "channel"));
    opt_str(&j, "username", trn__am_tx(&t, "username"));
    opt_str(&j, "icon_emoji", trn__am_tx(&t, "icon_emoji"));
    opt_str(&j, "icon_url", trn__am_tx(&t, "icon_url"));
    if (!strcmp(trn_am_integration_opt(in, "link_names"), "true")) {
        trn_json_key(&j, "link_names");
        trn_json_bool(&j, true);
    }
    trn_json_key(&j, "attachments");
    trn_json_arr_begin(&j);
    trn_json_obj_begin(&j);
    const char *title = trn__am_tx(&t, "title");
    if (*title) {
        trn_json_key(&j, "title");
        put_truncated(&j, title, TITLE_MAX_RUNES);
    }
    opt_str(&j, "title_link", trn__am_tx(&t, "title_link"));
    opt_str(&j, "pretext", trn__am_tx(&t, "pretext"));
    trn_json_key(&j, "text");
    trn_json_str(&j, trn__am_tx(&t, "text"));
    trn_json_key(&j, "fallback");
    trn_json_str(&j, trn__am_tx(&t, "fallback"));
    opt_str(&j, "callback_id", trn__am_tx(&t, "callback_id"));
    if (in->n_fields) {
        bool short_default = !strcmp(trn_am_integration_opt(in, "short_fields"), "true");
        trn_json_key(&j, "fields");
        trn_json_arr_begin(&j);
        for (size_t i = 0; i < in->n_fields; i++) {
            trn_json_obj_begin(&j);
            trn_json_key(&j, "title");
            trn_json_str(&j, trn__am_tx_field(&t, i, 0));
            trn_json_key(&j, "value");
            trn_json_str(&j, trn__am_tx_field(&t, i, 1));
            trn_json_key(&j, "short");
            trn_json_bool(&j, in->fields_short[i] || short_default);
            trn_json_obj_end(&j);
        }
        trn_json_arr_end(&j);
    }
    opt_str(&j, "image_url", trn__am_tx(&t, "image_url"));
    opt_str(&j, "thumb_url", trn__am_tx(&t, "thumb_url"));
    opt_str(&j, "footer", trn__am_tx(&t, "footer"));
    opt_str(&j, "color", trn__am_tx(&t, "color"));
    trn_json_key(&j, "mrkdwn_in");
    trn_json_arr_begin(&j);
    trn_json_str(&j, "fallback");
    trn_json_str(&j, "pretext");
    trn_json_str(&j, "text");
    trn_json_arr_end(&j);
    trn_json_obj_end(&j);
    trn_json_arr_end(&j);
    trn_json_obj_end(&j);
    if (rc == 0 && t.d.code) rc = t.d.code;
    if (rc < 0) {
        snprintf(err, err_len, "template: %s", t.d.msg);
        rc = TRN_EINVAL;
    } else {
        rc = trn__am_http_post(&in->http, trn_am_integration_opt(in, "api_url"), "application/json",
                               b.data, b.len, err, err_len);
    }
    trn_buf_fini(&b);
    trn__am_tctx_fini(&t);
    return rc;
}
