/* SPDX-License-Identifier: Apache-2.0 */
/* Sending alerts to external Alertmanagers (`alerting.alertmanagers`,
 * static targets) with Alertmanager's v2 API: POST <url>/api/v2/alerts
 * with a JSON array of {labels, annotations, startsAt, endsAt,
 * generatorURL}.
 *
 * Rule evaluation must never wait on the network, so alerts are encoded
 * into a bounded queue (10,000 alerts, like Prometheus's notifier) and
 * one thread drains it, posting each batch to every target with libcurl
 * and the configured timeout. A full queue drops the oldest batches and
 * counts them; failed posts are counted per target and not retried (the
 * rule manager resends firing alerts every resend_delay anyway). */
#include "rules/rules_int.h"

#include "core/alloc.h"
#include "core/json.h"
#include "core/log.h"
#include "core/timefmt.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_MAX_ALERTS 10000

typedef struct batch {
    char *json;
    size_t len, n_alerts;
    struct batch *next;
} batch_t;

struct trn_am_sender {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    pthread_t thread;
    bool stop;
    batch_t *head, *tail;
    size_t queued;
    char **urls;
    size_t n_urls;
    int64_t timeout_ms;
    trn_registry_t *reg;
    trn_counter_t *dropped;
    trn_gauge_t *queue_len;
};

static void labels_obj(trn_json_t *j, const trn_labels_t *ls)
{
    trn_json_obj_begin(j);
    for (size_t i = 0; i < ls->n; i++) {
        trn_json_keyn(j, ls->v[i].name.p, ls->v[i].name.len);
        trn_json_strn(j, ls->v[i].value.p ? ls->v[i].value.p : "", ls->v[i].value.len);
    }
    trn_json_obj_end(j);
}

void trn__am_encode(const trn_rule_alert_t *alerts, size_t n, trn_buf_t *out)
{
    trn_json_t j;
    trn_json_init(&j, out);
    trn_json_arr_begin(&j);
    for (size_t i = 0; i < n; i++) {
        const trn_rule_alert_t *a = &alerts[i];
        char ts[40];
        trn_json_obj_begin(&j);
        trn_json_key(&j, "labels");
        labels_obj(&j, &a->labels);
        trn_json_key(&j, "annotations");
        labels_obj(&j, &a->annotations);
        if (a->starts_at_ms) {
            trn_format_rfc3339_ms(ts, a->starts_at_ms);
            trn_json_key(&j, "startsAt");
            trn_json_str(&j, ts);
        }
        if (a->ends_at_ms) {
            trn_format_rfc3339_ms(ts, a->ends_at_ms);
            trn_json_key(&j, "endsAt");
            trn_json_str(&j, ts);
        }
        trn_json_key(&j, "generatorURL");
        trn_json_str(&j, a->generator_url ? a->generator_url : "");
        trn_json_obj_end(&j);
    }
    trn_json_arr_end(&j);
}

static size_t discard(char *p, size_t sz, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return sz * n;
}

static void post(trn_am_sender_t *s, const char *url, const batch_t *b, int64_t timeout_ms)
{
    CURL *c = curl_easy_init();
    if (!c) return;
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, b->json);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)b->len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    char lbl[512];
    snprintf(lbl, sizeof lbl, "alertmanager=\"%.400s\"", url);
    if (rc != CURLE_OK || code / 100 != 2) {
        if (s->reg)
            trn_counter_inc(trn_counter_get(s->reg, "trine_notifications_errors_total",
                                            "Total number of sent alerts affected by errors.",
                                            lbl));
        trn_log(TRN_LOG_WARN, "notifier", "sending alerts failed", "alertmanager", url, "err",
                rc != CURLE_OK ? curl_easy_strerror(rc) : "non-2xx response", (const char *)NULL);
    } else if (s->reg) {
        trn_counter_add(trn_counter_get(s->reg, "trine_notifications_sent_total",
                                        "Total number of alerts sent.", lbl),
                        b->n_alerts);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

static void *sender_main(void *arg)
{
    trn_am_sender_t *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->stop && !s->head)
            pthread_cond_wait(&s->cond, &s->mu);
        if (s->stop) break;
        batch_t *b = s->head;
        s->head = b->next;
        if (!s->head) s->tail = NULL;
        s->queued -= b->n_alerts;
        if (s->queue_len) trn_gauge_set(s->queue_len, (double)s->queued);
        size_t n = s->n_urls;
        char **urls = trn_xcalloc(n ? n : 1, sizeof *urls);
        for (size_t i = 0; i < n; i++)
            urls[i] = trn_xstrdup(s->urls[i]);
        int64_t timeout = s->timeout_ms;
        pthread_mutex_unlock(&s->mu);
        for (size_t i = 0; i < n; i++) {
            post(s, urls[i], b, timeout);
            free(urls[i]);
        }
        free(urls);
        free(b->json);
        free(b);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

trn_am_sender_t *trn__am_sender_new(trn_registry_t *reg)
{
    trn_am_sender_t *s = trn_xcalloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cond, NULL);
    s->reg = reg;
    s->timeout_ms = 10000;
    if (reg) {
        s->dropped = trn_counter_get(
            reg, "trine_notifications_dropped_total",
            "Total number of alerts dropped due to errors when sending to Alertmanager.", "");
        s->queue_len = trn_gauge_get(reg, "trine_notifications_queue_length",
                                     "The number of alert notifications in the queue.", "");
    }
    if (pthread_create(&s->thread, NULL, sender_main, s) != 0) {
        trn_log(TRN_LOG_ERROR, "notifier", "cannot start the notifier thread", (const char *)NULL);
        s->stop = true;
    }
    return s;
}

void trn__am_sender_set_targets(trn_am_sender_t *s, const am_target_t *t, size_t n,
                                int64_t timeout_ms)
{
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n_urls; i++)
        free(s->urls[i]);
    free(s->urls);
    s->urls = trn_xcalloc(n ? n : 1, sizeof *s->urls);
    for (size_t i = 0; i < n; i++)
        s->urls[i] = trn_xstrdup(t[i].url);
    s->n_urls = n;
    s->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
    pthread_mutex_unlock(&s->mu);
}

void trn__am_sender_push(trn_am_sender_t *s, const trn_rule_alert_t *alerts, size_t n)
{
    if (!n) return;
    trn_buf_t b;
    trn_buf_init(&b);
    trn__am_encode(alerts, n, &b);
    batch_t *bt = trn_xcalloc(1, sizeof *bt);
    bt->json = trn_buf_steal(&b, &bt->len);
    bt->n_alerts = n;
    pthread_mutex_lock(&s->mu);
    if (s->n_urls == 0 || s->stop) {
        pthread_mutex_unlock(&s->mu);
        free(bt->json);
        free(bt);
        return;
    }
    while (s->head && s->queued + n > QUEUE_MAX_ALERTS) {
        batch_t *old = s->head;
        s->head = old->next;
        if (!s->head) s->tail = NULL;
        s->queued -= old->n_alerts;
        if (s->dropped) trn_counter_add(s->dropped, old->n_alerts);
        free(old->json);
        free(old);
    }
    if (s->tail)
        s->tail->next = bt;
    else
        s->head = bt;
    s->tail = bt;
    s->queued += n;
    if (s->queue_len) trn_gauge_set(s->queue_len, (double)s->queued);
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->mu);
}

void trn__am_sender_free(trn_am_sender_t *s)
{
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    bool had_thread = !s->stop;
    s->stop = true;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
    if (had_thread) pthread_join(s->thread, NULL);
    while (s->head) {
        batch_t *b = s->head;
        s->head = b->next;
        free(b->json);
        free(b);
    }
    for (size_t i = 0; i < s->n_urls; i++)
        free(s->urls[i]);
    free(s->urls);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cond);
    free(s);
}
