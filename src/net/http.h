/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP/1.1 server every API is served by (on libmicrohttpd), and the
 * router. A handler gets a parsed request — decompressed body, query and
 * form parameters merged, path parameters, a per-request arena — and fills
 * a response; the server adds gzip, keep-alive, limits and metrics.
 * Handlers run on the server's worker threads, several at once. */
#ifndef TRN_NET_HTTP_H
#define TRN_NET_HTTP_H

#include "core/arena.h"
#include "core/diag.h"
#include "core/registry.h"
#include "core/str.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct trn_http_server trn_http_server_t;
typedef struct trn_http_req trn_http_req_t;

typedef struct trn_http_resp {
    int status;               /* default 200 */
    const char *content_type; /* static or arena string; default application/json */
    trn_buf_t body;           /* owned by the server; handlers append */
    const char *headers[16];  /* extra "Name: value" pairs, arena/static strings */
    size_t n_headers;
} trn_http_resp_t;

typedef void trn_http_handler_fn(void *ctx, trn_http_req_t *req, trn_http_resp_t *resp);

/* Route flags. */
enum {
    TRN_ROUTE_RAW_BODY = 1 << 0, /* do not decode Content-Encoding (handler does) */
    TRN_ROUTE_NO_GZIP = 1 << 1,  /* never gzip the response */
};

typedef struct trn_route {
    const char *method;  /* "GET", "POST", "DELETE", or "GET|POST" */
    const char *pattern; /* "/api/v1/label/:name/values"; a trailing "*" matches the rest */
    trn_http_handler_fn *fn;
    unsigned flags;
    size_t max_body_bytes; /* 0 = the server limit; a route may only lower it */
} trn_route_t;

typedef struct trn_http_opts {
    const char *listen;       /* "127.0.0.1:9090" */
    size_t max_body_bytes;    /* default request limit (413 above it) */
    unsigned threads;         /* worker threads */
    trn_registry_t *registry; /* for request metrics; borrowed */
} trn_http_opts_t;

/* Creates a server (not yet listening). */
trn_http_server_t *trn_http_server_new(const trn_http_opts_t *o);
/* Registers routes; ctx is passed to their handlers. Call before start. */
void trn_http_add_routes(trn_http_server_t *s, const trn_route_t *routes, size_t n, void *ctx);
/* Binds and starts serving. Errors name the address. */
int trn_http_server_start(trn_http_server_t *s, trn_diag_t *d);
/* The port actually bound (useful with port 0). */
int trn_http_server_port(const trn_http_server_t *s);
/* Stops accepting, waits for in-flight requests, frees. NULL allowed. */
void trn_http_server_free(trn_http_server_t *s);

/* --- request accessors (valid during the handler) --- */
const char *trn_http_method(const trn_http_req_t *r);
const char *trn_http_path(const trn_http_req_t *r);
/* The request body after Content-Encoding decoding (unless RAW_BODY). */
trn_str_t trn_http_body(const trn_http_req_t *r);
/* Header value or NULL (case-insensitive name). */
const char *trn_http_header(const trn_http_req_t *r, const char *name);
/* First value of a query or form parameter, or NULL. Form (POST
 * application/x-www-form-urlencoded) and query string are merged. */
const char *trn_http_param(const trn_http_req_t *r, const char *name);
/* All values of a repeated parameter (e.g. "match[]"); returns the count. */
size_t trn_http_params(const trn_http_req_t *r, const char *name, const char ***out);
/* Value of a ":name" path segment, or NULL; URL-decoded. */
const char *trn_http_path_param(const trn_http_req_t *r, const char *name);
/* The request's arena: freed when the response has been sent. */
trn_arena_t *trn_http_arena(trn_http_req_t *r);
/* Registry of the server (for handler-specific counters). */
trn_registry_t *trn_http_registry(trn_http_req_t *r);
/* True once the client has closed its end of the connection, so long
 * handlers (queries) can stop work nobody waits for. One poll(2); callers
 * throttle it. */
bool trn_http_client_gone(const trn_http_req_t *r);

/* --- response helpers --- */
/* Sets status and a plain-text body "msg\n". */
void trn_http_error_text(trn_http_resp_t *resp, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Maps a TRN_E* code to an HTTP status (400, 404, 413, 422, 429, 503, 500). */
int trn_http_status_for(int code);
/* Adds a response header (copied into the request arena). */
void trn_http_set_header(trn_http_req_t *r, trn_http_resp_t *resp, const char *name,
                         const char *value);

#endif
