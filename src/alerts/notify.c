/* SPDX-License-Identifier: Apache-2.0 */
/* Delivery of one notification to one integration: the descriptor table of
 * integrations, retries with exponential backoff, and the HTTP transport
 * (libcurl) and JSON helpers the integrations share.
 *
 * A failed attempt is retried when it may succeed later — a connection
 * error, a timeout, a 5xx or a 429 — after 0.5 s, 1 s, 2 s, ... up to
 * TRN_AM_NOTIFY_ATTEMPTS attempts, as Alertmanager retries until its
 * context ends; a 4xx is final. Each attempt has a 10 s timeout so a dead
 * endpoint holds a notifier thread for a bounded time. */
#include "alerts/am_int.h"

#include "core/err.h"
#include "core/template.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define TRN_AM_NOTIFY_ATTEMPTS 4
#define TRN_AM_NOTIFY_TIMEOUT_MS 10000

static const struct {
    trn_am_kind_t kind;
    trn__am_send_fn *send;
} integrations[] = {
    {TRN_AM_WEBHOOK, trn__am_send_webhook},
    {TRN_AM_SLACK, trn__am_send_slack},
    {TRN_AM_PAGERDUTY, trn__am_send_pagerduty},
    {TRN_AM_EMAIL, trn__am_send_email},
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static pthread_key_t curl_key; /* per-thread handle, cleaned up at thread exit */

static void curl_handle_free(void *h)
{
    curl_easy_cleanup(h);
}

static void curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    pthread_key_create(&curl_key, curl_handle_free);
}

static size_t discard(char *p, size_t sz, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return sz * n;
}

int trn__am_http_post(const trn_am_http_config_t *h, const char *url, const char *content_type,
                      const char *body, size_t len, char *err, size_t err_len)
{
    pthread_once(&curl_once, curl_init);
    /* one handle per notifier thread keeps connections to receivers alive */
    CURL *c = pthread_getspecific(curl_key);
    if (c)
        curl_easy_reset(c);
    else if ((c = curl_easy_init()))
        pthread_setspecific(curl_key, c);
    if (!c) {
        snprintf(err, err_len, "cannot create an HTTP client");
        return TRN_EIO;
    }
    struct curl_slist *hdrs = NULL;
    char ct[128];
    snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
    hdrs = curl_slist_append(hdrs, ct);
    hdrs = curl_slist_append(hdrs, "User-Agent: trine-alertmanager");
    char auth[1024];
    if (h && h->bearer_token) {
        snprintf(auth, sizeof auth, "Authorization: %s %s", h->auth_type ? h->auth_type : "Bearer",
                 h->bearer_token);
        hdrs = curl_slist_append(hdrs, auth);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)TRN_AM_NOTIFY_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (h && h->basic_user) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, h->basic_user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, h->basic_password ? h->basic_password : "");
    }
    if (h && h->proxy_url) curl_easy_setopt(c, CURLOPT_PROXY, h->proxy_url);
    if (h && h->insecure_skip_verify) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (h && h->follow_redirects) curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    CURLcode cc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    if (cc != CURLE_OK) {
        snprintf(err, err_len, "%s", curl_easy_strerror(cc));
        return TRN_EIO;
    }
    if (status / 100 == 2) return 0;
    snprintf(err, err_len, "unexpected status code %ld", status);
    return status >= 500 || status == 429 ? TRN_EIO : TRN_EINVAL;
}

int trn__am_notify(const trn_am_integration_t *in, const trn__am_notification_t *n, char *err,
                   size_t err_len)
{
    trn__am_send_fn *send = NULL;
    for (size_t i = 0; i < sizeof integrations / sizeof integrations[0]; i++)
        if (integrations[i].kind == in->kind) send = integrations[i].send;
    if (!send) {
        snprintf(err, err_len, "integration %s is not available in this build",
                 trn_am_kind_name(in->kind));
        return TRN_EINVAL;
    }
    int rc = 0;
    long backoff_ms = 500;
    for (int attempt = 1; attempt <= TRN_AM_NOTIFY_ATTEMPTS; attempt++) {
        rc = send(in, n, err, err_len);
        if (rc != TRN_EIO || attempt == TRN_AM_NOTIFY_ATTEMPTS) break;
        struct timespec ts = {backoff_ms / 1000, (backoff_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        backoff_ms *= 2;
    }
    return rc;
}

void trn__am_json_time(trn_json_t *j, int64_t ms)
{
    if (ms == 0) {
        trn_json_str(j, "0001-01-01T00:00:00Z");
        return;
    }
    time_t t = (time_t)(ms / 1000);
    int frac = (int)(ms % 1000);
    if (frac < 0) frac += 1000, t--;
    struct tm tm;
    gmtime_r(&t, &tm);
    char buf[48];
    size_t k = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    if (frac) {
        k += (size_t)snprintf(buf + k, sizeof buf - k, ".%03d", frac);
        while (buf[k - 1] == '0')
            k--;
    }
    buf[k++] = 'Z';
    buf[k] = 0;
    trn_json_str(j, buf);
}

const char *trn__am_group_status(const trn__am_notification_t *n)
{
    for (size_t i = 0; i < n->n_alerts; i++)
        if (!trn__am_alert_resolved(n->alerts[i], n->now)) return "firing";
    return "resolved";
}

void trn__am_common(const trn__am_notification_t *n, bool ann, trn_labels_t *out)
{
    out->n = 0;
    if (n->n_alerts == 0) return;
    const trn_labels_t *first = ann ? &n->alerts[0]->annotations : &n->alerts[0]->labels;
    for (size_t i = 0; i < first->n; i++) {
        bool all = true;
        for (size_t k = 1; k < n->n_alerts && all; k++) {
            const trn_labels_t *o = ann ? &n->alerts[k]->annotations : &n->alerts[k]->labels;
            trn_str_t v = trn_labels_get(o, first->v[i].name.p);
            all = v.p && trn_str_eq(v, first->v[i].value);
        }
        if (all) out->v[out->n++] = first->v[i];
    }
}

void trn__am_json_labels(trn_json_t *j, const trn_labels_t *ls)
{
    trn_json_obj_begin(j);
    for (size_t i = 0; i < ls->n; i++) {
        trn_json_keyn(j, ls->v[i].name.p, ls->v[i].name.len);
        trn_json_strn(j, ls->v[i].value.p, ls->v[i].value.len);
    }
    trn_json_obj_end(j);
}

int trn__am_tctx_init(trn__am_tctx_t *t, const trn_am_integration_t *in,
                      const trn__am_notification_t *n)
{
    *t = (trn__am_tctx_t){.a = trn_arena_new(16u << 20), .c = n->cfg->c, .in = in};
    trn_diag_init(&t->d);
    t->data = trn_arena_calloc(t->a, 1, sizeof *t->data);
    if (!t->data || trn__am_tmpl_data(n, t->a, t->data) < 0)
        return trn_diag_set(&t->d, TRN_ELIMIT, -1, "template data too large");
    return 0;
}

void trn__am_tctx_fini(trn__am_tctx_t *t)
{
    trn_arena_free(t->a);
}

static const char *finish(trn__am_tctx_t *t, trn_buf_t *b, int rc)
{
    const char *s = rc < 0 ? "" : trn_arena_strndup(t->a, b->data ? b->data : "", b->len);
    trn_buf_fini(b);
    return s ? s : "";
}

const char *trn__am_tx(trn__am_tctx_t *t, const char *key)
{
    trn_buf_t b;
    trn_buf_init(&b);
    return finish(t, &b, trn__am_render(t->c, t->in, key, t->data, t->a, &b, &t->d));
}

const char *trn__am_tx_detail(trn__am_tctx_t *t, size_t i)
{
    trn_buf_t b;
    trn_buf_init(&b);
    return finish(t, &b, trn__am_render_detail(t->c, t->in, i, t->data, t->a, &b, &t->d));
}

const char *trn__am_tx_field(trn__am_tctx_t *t, size_t i, int which)
{
    trn_buf_t b;
    trn_buf_init(&b);
    return finish(t, &b, trn__am_render_field(t->c, t->in, i, which, t->data, t->a, &b, &t->d));
}
