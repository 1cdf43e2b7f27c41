/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP handlers for Prometheus-format writes.
 *
 * /api/v1/write takes remote_write 1.0: a snappy block of a protobuf
 * WriteRequest (Content-Encoding: snappy, Content-Type:
 * application/x-protobuf). The route has TRN_ROUTE_RAW_BODY, so the snappy
 * step happens here, followed by the zero-copy decoder and exactly one
 * trn_store_append for the whole request. Answers follow Prometheus: 204
 * when everything was stored; 400 with a plain-text message for bodies
 * that cannot be decoded (nothing stored); and 400 naming what was dropped
 * and why when only part of the request could be stored (series with
 * invalid labels, samples too old for the head), so that senders do not
 * retry data that can never be accepted. Remote write 2.0 bodies and other
 * encodings get 415.
 *
 * /api/v1/import/prometheus takes exposition text (or OpenMetrics, by
 * Content-Type) like VictoriaMetrics's endpoint of the same name: samples
 * without a timestamp get the time of the request (or the `timestamp`
 * parameter, Unix seconds or RFC3339), `extra_label=name=value` adds or
 * overrides labels, and samples older than the head go to
 * trn_store_backfill while the rest are appended. The first malformed line
 * rejects the body with its line:col.
 *
 * Every rejection is counted in trine_ingest_rejected_total{protocol,
 * reason} (samples where they are known; an undecodable body counts once),
 * and stored samples in trine_ingest_samples_total{protocol}. */
#include "api/prom_write.h"

#include "core/err.h"
#include "core/timefmt.h"
#include "ingest/exposition.h"
#include "ingest/import.h"
#include "ingest/remote_write.h"
#include "metrics/store.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define RW_MAX_BODY_BYTES (64u << 20)     /* compressed remote_write body */
#define RW_MAX_DECODED_BYTES (256u << 20) /* decompressed WriteRequest */
#define IMPORT_MAX_BODY_BYTES (256u << 20)
/* Samples older than this behind the head's newest go to backfill; it is
 * the store's default out-of-order window. */
#define IMPORT_BACKFILL_MARGIN_MS (3600 * INT64_C(1000))

static const char rejected_help[] =
    "Rejected ingest data by protocol and reason: samples where known, else one per request.";
static const char samples_help[] = "Samples stored by ingest protocol.";

static void count_rejected(trn_api_ctx_t *ctx, const char *protocol, const char *reason, uint64_t n)
{
    if (!ctx->registry || !n) return;
    char labels[160];
    snprintf(labels, sizeof labels, "protocol=\"%s\",reason=\"%s\"", protocol, reason);
    trn_counter_add(
        trn_counter_get(ctx->registry, "trine_ingest_rejected_total", rejected_help, labels), n);
}

static void count_samples(trn_api_ctx_t *ctx, const char *protocol, uint64_t n)
{
    if (!ctx->registry) return;
    char labels[64];
    snprintf(labels, sizeof labels, "protocol=\"%s\"", protocol);
    trn_counter_add(
        trn_counter_get(ctx->registry, "trine_ingest_samples_total", samples_help, labels), n);
}

static bool starts_with_ci(const char *s, const char *prefix)
{
    return s && strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* HTTP status for a decode error: a body over a size or memory limit is
 * 413 Payload Too Large; everything else as the HTTP layer maps it. */
static int status_for(int code)
{
    return code == TRN_ELIMIT ? 413 : trn_http_status_for(code);
}

/* A reason name for a decode error: invalid input or a limit. */
static const char *reason_for(int code, const char *invalid)
{
    return code == TRN_ELIMIT ? "too_large" : invalid;
}

static void handle_write(void *vctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    static const char proto[] = "remote_write";
    trn_api_ctx_t *ctx = vctx;
    const char *enc = trn_http_header(req, "Content-Encoding");
    const char *ct = trn_http_header(req, "Content-Type");
    if (enc && *enc && strcasecmp(enc, "snappy") != 0) {
        count_rejected(ctx, proto, "unsupported_media_type", 1);
        trn_http_error_text(resp, 415,
                            "unsupported Content-Encoding \"%.40s\": remote_write bodies must be "
                            "snappy block-compressed",
                            enc);
        return;
    }
    if (ct && *ct && (!starts_with_ci(ct, "application/x-protobuf") || strstr(ct, "v2.Request"))) {
        count_rejected(ctx, proto, "unsupported_media_type", 1);
        trn_http_error_text(resp, 415,
                            "unsupported Content-Type \"%.80s\": only remote_write 1.0 "
                            "(application/x-protobuf, prometheus.WriteRequest) is accepted",
                            ct);
        return;
    }

    trn_arena_t *a = trn_http_arena(req);
    trn_str_t body = trn_http_body(req);
    trn_rw_limits_t lim = {.max_decoded_bytes = RW_MAX_DECODED_BYTES};
    trn_diag_t d;
    trn_diag_init(&d);
    trn_str_t raw;
    int rc = trn_rw_snappy_decode(body.p, body.len, lim.max_decoded_bytes, a, &raw, &d);
    if (rc < 0) {
        count_rejected(ctx, proto, reason_for(rc, "bad_snappy"), 1);
        trn_http_error_text(resp, status_for(rc), "%s", d.msg);
        return;
    }
    trn_rw_result_t res;
    rc = trn_rw_decode(raw.p, raw.len, &lim, a, &res, &d);
    if (rc < 0) {
        count_rejected(ctx, proto, reason_for(rc, "bad_protobuf"), 1);
        trn_http_error_text(resp, status_for(rc), "%s", d.msg);
        return;
    }

    for (size_t i = 0; i < res.n_meta; i++)
        trn_store_set_metadata(ctx->store, &res.meta[i]);
    trn_append_result_t ar = {0};
    if (res.n_series) {
        rc = trn_store_append(ctx->store, res.series, res.n_series, &ar, &d);
        if (rc < 0) {
            count_rejected(ctx, proto, "store_error", res.n_samples);
            trn_http_error_text(resp,
                                trn_http_status_for(rc) == 400 ? 500 : trn_http_status_for(rc),
                                "storing samples failed: %s", d.msg);
            return;
        }
    }
    count_samples(ctx, proto, ar.accepted);
    for (int r = 0; r < TRN_RW_DROP_N; r++)
        count_rejected(ctx, proto, trn_rw_drop_name((trn_rw_drop_t)r), res.dropped[r]);
    count_rejected(ctx, proto, "too_old", ar.too_old);
    count_rejected(ctx, proto, "exemplar_unsupported", res.exemplars_skipped);
    count_rejected(ctx, proto, "native_histogram_unsupported", res.histograms_skipped);

    if (res.dropped_series == 0 && ar.too_old == 0) {
        resp->status = 204;
        return;
    }
    char msg[TRN_DIAG_MSG_MAX + 256];
    int n = 0;
    if (res.dropped_series)
        n = snprintf(msg, sizeof msg,
                     "dropped %llu of %llu series (%llu samples) with invalid labels; first: %s",
                     (unsigned long long)res.dropped_series,
                     (unsigned long long)(res.dropped_series + res.n_series),
                     (unsigned long long)res.dropped_samples, res.drop.msg);
    if (ar.too_old)
        snprintf(msg + n, sizeof msg - (size_t)n,
                 "%sout of bounds: dropped %llu of %llu samples older than the head accepts",
                 n ? "; " : "", (unsigned long long)ar.too_old, (unsigned long long)res.n_samples);
    trn_http_error_text(resp, 400, "%s", msg);
}

/* extra_label=name=value parameters, validated, into *out (arena). */
static int extra_labels(trn_http_req_t *req, trn_arena_t *a, trn_labels_t *out, trn_diag_t *d)
{
    const char **vals = NULL;
    size_t n = trn_http_params(req, "extra_label", &vals);
    out->n = 0;
    out->v = trn_arena_alloc(a, (n ? n : 1) * sizeof *out->v);
    if (!out->v) return trn_diag_set(d, TRN_ELIMIT, -1, "import: out of memory budget");
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(vals[i], '=');
        trn_str_t name = {vals[i], eq ? (size_t)(eq - vals[i]) : strlen(vals[i])};
        if (!eq || !(trn_label_name_valid(name) || trn_str_eqc(name, TRN_METRIC_NAME)))
            return trn_diag_set(d, TRN_EINVAL, -1,
                                "invalid extra_label \"%.80s\": want name=value with a valid "
                                "label name",
                                vals[i]);
        trn_str_t value = trn_str_c(eq + 1);
        if (trn_str_eqc(name, TRN_METRIC_NAME) && value.len && !trn_metric_name_valid(value))
            return trn_diag_set(d, TRN_EINVAL, -1, "invalid metric name in extra_label \"%.80s\"",
                                vals[i]);
        if (!trn_utf8_valid(value.p, value.len))
            return trn_diag_set(d, TRN_EINVAL, -1, "extra_label value is not valid UTF-8");
        out->v[out->n++] = (trn_label_t){name, value};
    }
    return 0;
}

static void handle_import(void *vctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    static const char proto[] = "prometheus_import";
    trn_api_ctx_t *ctx = vctx;
    trn_arena_t *a = trn_http_arena(req);
    trn_diag_t d;
    trn_diag_init(&d);
    trn_labels_t extra;
    int rc = extra_labels(req, a, &extra, &d);
    if (rc < 0) {
        count_rejected(ctx, proto, "bad_parameter", 1);
        trn_http_error_text(resp, status_for(rc), "%s", d.msg);
        return;
    }
    trn_str_t body = trn_http_body(req);
    trn_expo_format_t fmt = trn_expo_format_from_content_type(trn_http_header(req, "Content-Type"));
    int64_t now = trn_now_ms(), default_ts = now;
    const char *tsp = trn_http_param(req, "timestamp");
    if (tsp && *tsp && trn_parse_time(trn_str_c(tsp), &default_ts) < 0) {
        count_rejected(ctx, proto, "bad_parameter", 1);
        trn_http_error_text(resp, 400, "invalid timestamp \"%.60s\": want Unix seconds or RFC3339",
                            tsp);
        return;
    }
    trn_import_batch_t b;
    rc = trn_import_parse(body.p, body.len, fmt, default_ts, &extra, 0, a, &b, &d);
    if (rc < 0) {
        count_rejected(ctx, proto, reason_for(rc, "bad_exposition"), 1);
        trn_http_error_text(resp, status_for(rc), "%s", d.msg);
        return;
    }
    for (size_t i = 0; i < b.n_meta; i++)
        trn_store_set_metadata(ctx->store, &b.meta[i]);

    /* Older than the head (or, with an empty head, than an hour ago): backfill. */
    trn_store_stats_t st;
    trn_store_stats(ctx->store, &st);
    int64_t newest = st.head_samples ? st.head_max_t_ms : now;
    int64_t cutoff = newest - IMPORT_BACKFILL_MARGIN_MS;
    if (st.head_samples && st.head_min_t_ms < cutoff) cutoff = st.head_min_t_ms;
    trn_import_batch_t old, recent;
    if ((rc = trn_import_split(&b, cutoff, a, &old, &recent, &d)) < 0) {
        count_rejected(ctx, proto, "too_large", 1);
        trn_http_error_text(resp, status_for(rc), "%s", d.msg);
        return;
    }
    trn_append_result_t r1 = {0}, r2 = {0};
    if (old.n_series) rc = trn_store_backfill(ctx->store, old.series, old.n_series, &r1, &d);
    if (rc == 0 && recent.n_series)
        rc = trn_store_append(ctx->store, recent.series, recent.n_series, &r2, &d);
    count_samples(ctx, proto, r1.accepted + r2.accepted);
    count_rejected(ctx, proto, "exemplar_unsupported", b.exemplars_skipped);
    if (rc < 0) {
        count_rejected(ctx, proto, "store_error", b.n_samples - r1.accepted - r2.accepted);
        trn_http_error_text(resp, 500, "storing samples failed: %s", d.msg);
        return;
    }
    uint64_t too_old = r1.too_old + r2.too_old;
    if (too_old) {
        count_rejected(ctx, proto, "too_old", too_old);
        trn_http_error_text(resp, 400,
                            "out of bounds: dropped %llu of %llu samples older than the store "
                            "accepts",
                            (unsigned long long)too_old, (unsigned long long)b.n_samples);
        return;
    }
    resp->status = 204;
}

const trn_route_t trn_api_prom_write_routes[] = {
    {.method = "POST",
     .pattern = "/api/v1/write",
     .fn = handle_write,
     .flags = TRN_ROUTE_RAW_BODY | TRN_ROUTE_NO_GZIP,
     .max_body_bytes = RW_MAX_BODY_BYTES},
    {.method = "POST",
     .pattern = "/api/v1/import/prometheus",
     .fn = handle_import,
     .flags = TRN_ROUTE_NO_GZIP,
     .max_body_bytes = IMPORT_MAX_BODY_BYTES},
};
