/* SPDX-License-Identifier: Apache-2.0 */
/* One keep-alive HTTP connection that POSTs remote_write bodies and keeps
 * the tallies the benchmark reports. One per sending thread. */
#ifndef TRN_BENCH_PUSH_H
#define TRN_BENCH_PUSH_H

#include <stddef.h>
#include <stdint.h>

typedef struct trn_bench_push {
    void *curl; /* CURL easy handle, owned */
    void *hdrs; /* struct curl_slist, owned */
    char resp[512];
    size_t resp_len;
    uint64_t requests, bytes, samples_ok, samples_rejected, requests_rejected, retries;
    char first_error[320]; /* status and body of the first rejected request */
} trn_bench_push_t;

/* Opens a handle for `url` (borrowed, must outlive p). Returns 0 or -1.
 * Call curl_global_init once before the first _init. */
int trn_bench_push_init(trn_bench_push_t *p, const char *url);
void trn_bench_push_fini(trn_bench_push_t *p);

/* Sends one compressed body carrying n_samples samples. 2xx counts the
 * samples as accepted; 4xx other than 429 as rejected (the server refused
 * the data; retrying would not help). Transport errors, 429 and 5xx are
 * retried with backoff for up to ~30 s. Returns 0 when the server answered
 * (accepted or rejected), -1 when it never did. */
int trn_bench_push_send(trn_bench_push_t *p, const char *body, size_t len, uint32_t n_samples);

#endif
