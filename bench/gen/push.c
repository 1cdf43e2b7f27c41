/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP sender for the benchmark generator, on libcurl's easy interface:
 * one handle per thread reuses its connection across requests, as a real
 * remote_write client's shards do. Headers are those of remote_write 1.0
 * (Content-Encoding: snappy, Content-Type: application/x-protobuf,
 * X-Prometheus-Remote-Write-Version: 0.1.0).
 *
 * Retry policy follows what Prometheus' queue manager does with the same
 * answers: 5xx and 429 are retried with doubling backoff, other 4xx are
 * dropped as permanent errors. A drop is never silent here: it is counted
 * and the first one's status and body are kept for the report. */
#include "push.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define RETRY_BUDGET_MS 30000

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    trn_bench_push_t *p = ud;
    size_t n = size * nmemb;
    size_t room = sizeof p->resp - 1 - p->resp_len;
    size_t take = n < room ? n : room;
    memcpy(p->resp + p->resp_len, data, take);
    p->resp_len += take;
    p->resp[p->resp_len] = '\0';
    return n;
}

int trn_bench_push_init(trn_bench_push_t *p, const char *url)
{
    memset(p, 0, sizeof *p);
    CURL *c = curl_easy_init();
    if (!c) return -1;
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, "Content-Type: application/x-protobuf");
    h = curl_slist_append(h, "Content-Encoding: snappy");
    h = curl_slist_append(h, "X-Prometheus-Remote-Write-Version: 0.1.0");
    h = curl_slist_append(h, "User-Agent: trine-benchgen");
    h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, p);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    p->curl = c;
    p->hdrs = h;
    return 0;
}

void trn_bench_push_fini(trn_bench_push_t *p)
{
    if (p->curl) curl_easy_cleanup(p->curl);
    if (p->hdrs) curl_slist_free_all(p->hdrs);
    p->curl = NULL;
    p->hdrs = NULL;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int trn_bench_push_send(trn_bench_push_t *p, const char *body, size_t len, uint32_t n_samples)
{
    CURL *c = p->curl;
    long backoff_ms = 50, waited_ms = 0;
    for (;;) {
        p->resp_len = 0;
        p->resp[0] = '\0';
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        CURLcode rc = curl_easy_perform(c);
        long status = 0;
        if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        p->requests++;
        p->bytes += len;
        if (rc == CURLE_OK && status >= 200 && status < 300) {
            p->samples_ok += n_samples;
            return 0;
        }
        if (rc == CURLE_OK && status >= 400 && status < 500 && status != 429) {
            p->samples_rejected += n_samples;
            p->requests_rejected++;
            if (!p->first_error[0])
                snprintf(p->first_error, sizeof p->first_error, "HTTP %ld: %.280s", status,
                         p->resp);
            return 0;
        }
        if (waited_ms >= RETRY_BUDGET_MS) {
            if (!p->first_error[0]) {
                if (rc != CURLE_OK)
                    snprintf(p->first_error, sizeof p->first_error, "transport: %s",
                             curl_easy_strerror(rc));
                else
                    snprintf(p->first_error, sizeof p->first_error, "HTTP %ld: %.280s", status,
                             p->resp);
            }
            p->samples_rejected += n_samples;
            p->requests_rejected++;
            return -1;
        }
        p->retries++;
        sleep_ms(backoff_ms);
        waited_ms += backoff_ms;
        backoff_ms = backoff_ms * 2 > 2000 ? 2000 : backoff_ms * 2;
    }
}
