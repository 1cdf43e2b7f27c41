/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP server on libmicrohttpd, thread per connection: a slow query holds
 * only its own connection's thread, and keep-alive connections cost one
 * idle thread each (fine for the tens of clients trine serves: agents,
 * Grafana, scrapers). Life of a request:
 *   1. first callback: find the route (404/405 now), check Content-Length
 *      against the route's limit (413 now, body never read);
 *   2. body callbacks: append into a buffer, 413 if it grows past the limit
 *      (chunked uploads have no Content-Length);
 *   3. last callback: decode gzip/deflate (bounded by the same limit), parse
 *      form parameters, run the handler, gzip the response when the client
 *      accepts it and it is worth it, count and time the request.
 * Per-request memory comes from one arena freed when the response is done. */
#include "net/http.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "core/timefmt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#define MAX_ROUTES 256
#define MAX_PATH_PARAMS 4
#define GZIP_MIN_BYTES 1024

typedef struct route_entry {
    trn_route_t r;
    void *ctx;
    trn_counter_t *by_code[6]; /* 1xx..5xx, index code/100; lazily per exact code below */
    trn_histogram_t *duration;
} route_entry_t;

struct trn_http_server {
    trn_http_opts_t opts;
    char *listen;
    struct MHD_Daemon *mhd;
    route_entry_t routes[MAX_ROUTES];
    size_t n_routes;
    int port;
    trn_counter_t *not_found, *too_large, *bad_encoding;
};

typedef struct param {
    const char *name, *value;
} param_t;

struct trn_http_req {
    trn_http_server_t *srv;
    struct MHD_Connection *conn;
    route_entry_t *route;
    const char *method, *path;
    trn_arena_t *arena;
    trn_buf_t body;    /* raw upload */
    trn_str_t decoded; /* body after content decoding */
    size_t limit;
    bool too_large;
    param_t *params;
    size_t n_params, cap_params;
    param_t path_params[MAX_PATH_PARAMS];
    size_t n_path_params;
    int64_t start_ns;
};

/* ---------- routing ---------- */

static bool method_ok(const char *allowed, const char *method)
{
    size_t n = strlen(method);
    const char *p = allowed;
    while (*p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, method, n) == 0) return true;
        if (!bar) break;
        p = bar + 1;
    }
    return false;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* URL-decodes [p, p+n) into the arena ('+' means space when plus is set). */
static char *url_decode(trn_arena_t *a, const char *p, size_t n, bool plus)
{
    char *out = trn_arena_alloc(a, n + 1);
    if (!out) return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '%' && i + 2 < n && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
            out[j++] = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
            i += 2;
        } else if (plus && p[i] == '+')
            out[j++] = ' ';
        else
            out[j++] = p[i];
    }
    out[j] = 0;
    return out;
}

/* Matches path against pattern; fills path params. */
static bool match_pattern(trn_http_req_t *req, const char *pattern, const char *path)
{
    req->n_path_params = 0;
    const char *pp = pattern, *sp = path;
    while (*pp && *sp) {
        if (*pp == '*') return true;
        if (*pp == ':') {
            const char *name_end = strchr(pp, '/');
            if (!name_end) name_end = pp + strlen(pp);
            const char *seg_end = strchr(sp, '/');
            if (!seg_end) seg_end = sp + strlen(sp);
            if (seg_end == sp || req->n_path_params == MAX_PATH_PARAMS) return false;
            param_t *prm = &req->path_params[req->n_path_params++];
            prm->name = trn_arena_strndup(req->arena, pp + 1, (size_t)(name_end - pp - 1));
            prm->value = url_decode(req->arena, sp, (size_t)(seg_end - sp), false);
            pp = name_end;
            sp = seg_end;
            continue;
        }
        if (*pp != *sp) return false;
        pp++;
        sp++;
    }
    if (*pp == '*') return true;
    return *pp == 0 && *sp == 0;
}

/* Finds the route; sets *method_mismatch when only the method differs. */
static route_entry_t *find_route(trn_http_req_t *req, bool *method_mismatch)
{
    *method_mismatch = false;
    for (size_t i = 0; i < req->srv->n_routes; i++) {
        route_entry_t *e = &req->srv->routes[i];
        if (!match_pattern(req, e->r.pattern, req->path)) continue;
        if (method_ok(e->r.method, req->method)) return e;
        *method_mismatch = true;
    }
    return NULL;
}

/* ---------- parameters ---------- */

static void add_param(trn_http_req_t *req, const char *name, const char *value)
{
    if (req->n_params == req->cap_params) {
        size_t cap = req->cap_params ? req->cap_params * 2 : 16;
        param_t *np =
            trn_arena_grow(req->arena, req->params, req->n_params * sizeof *np, cap * sizeof *np);
        if (!np) return;
        req->params = np;
        req->cap_params = cap;
    }
    req->params[req->n_params++] = (param_t){name, value};
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    trn_http_req_t *req = cls;
    add_param(req, trn_arena_strndup(req->arena, key, strlen(key)),
              value ? trn_arena_strndup(req->arena, value, strlen(value)) : "");
    return MHD_YES;
}

static void parse_form(trn_http_req_t *req, trn_str_t body)
{
    const char *p = body.p, *end = body.p + body.len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        if (!amp) amp = end;
        const char *eq = memchr(p, '=', (size_t)(amp - p));
        if (amp > p) {
            const char *kend = eq ? eq : amp;
            char *k = url_decode(req->arena, p, (size_t)(kend - p), true);
            char *v = eq ? url_decode(req->arena, eq + 1, (size_t)(amp - eq - 1), true) : "";
            if (k && v) add_param(req, k, v);
        }
        p = amp + 1;
    }
}

/* ---------- compression ---------- */

/* Inflates gzip or zlib/deflate data, refusing output above limit. */
static int inflate_body(trn_http_req_t *req, bool gzip, trn_diag_t *d)
{
    z_stream zs = {0};
    if (inflateInit2(&zs, gzip ? 16 + MAX_WBITS : MAX_WBITS) != Z_OK)
        return trn_diag_set(d, TRN_EINVAL, -1, "cannot initialise decompression");
    trn_buf_t out;
    trn_buf_init(&out);
    zs.next_in = (Bytef *)req->body.data;
    zs.avail_in = (uInt)req->body.len;
    int rc = 0;
    for (;;) {
        trn_buf_reserve(&out, 65536);
        zs.next_out = (Bytef *)out.data + out.len;
        zs.avail_out = (uInt)(out.cap - out.len - 1);
        int zr = inflate(&zs, Z_NO_FLUSH);
        out.len = out.cap - 1 - zs.avail_out;
        if (out.len > req->limit) {
            rc = trn_diag_set(d, TRN_ELIMIT, -1,
                              "decompressed request body exceeds the limit of %zu bytes",
                              req->limit);
            break;
        }
        if (zr == Z_STREAM_END) break;
        if (zr != Z_OK) {
            rc = trn_diag_set(d, TRN_EINVAL, (int64_t)zs.total_in,
                              "invalid %s body at compressed byte %lu: %s",
                              gzip ? "gzip" : "deflate", zs.total_in, zs.msg ? zs.msg : "corrupt");
            break;
        }
        if (zs.avail_in == 0 && zs.avail_out != 0) {
            rc = trn_diag_set(d, TRN_EINVAL, (int64_t)zs.total_in, "truncated %s body",
                              gzip ? "gzip" : "deflate");
            break;
        }
    }
    inflateEnd(&zs);
    if (rc == 0) {
        char *copy = trn_arena_alloc(req->arena, out.len + 1);
        if (!copy)
            rc = trn_diag_set(d, TRN_ELIMIT, -1, "request too large");
        else {
            memcpy(copy, out.data ? out.data : "", out.len);
            copy[out.len] = 0;
            req->decoded = (trn_str_t){copy, out.len};
        }
    }
    trn_buf_fini(&out);
    return rc;
}

static bool gzip_response(trn_buf_t *in, trn_buf_t *out)
{
    z_stream zs = {0};
    if (deflateInit2(&zs, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return false;
    trn_buf_init(out);
    trn_buf_reserve(out, deflateBound(&zs, (uLong)in->len) + 16);
    zs.next_in = (Bytef *)in->data;
    zs.avail_in = (uInt)in->len;
    zs.next_out = (Bytef *)out->data;
    zs.avail_out = (uInt)(out->cap - 1);
    int zr = deflate(&zs, Z_FINISH);
    out->len = zs.total_out;
    deflateEnd(&zs);
    if (zr != Z_STREAM_END) {
        trn_buf_fini(out);
        return false;
    }
    return true;
}

static bool accepts_gzip(struct MHD_Connection *c)
{
    const char *ae = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding");
    return ae && strstr(ae, "gzip");
}

/* ---------- metrics ---------- */

static void count_request(trn_http_req_t *req, const char *handler, int status)
{
    trn_registry_t *reg = req->srv->opts.registry;
    if (!reg) return;
    char labels[300];
    snprintf(labels, sizeof labels, "handler=\"%s\",code=\"%d\"", handler, status);
    trn_counter_inc(trn_counter_get(reg, "trine_http_requests_total",
                                    "HTTP requests by handler and status code.", labels));
    if (req->route && req->route->duration)
        trn_histogram_observe(req->route->duration, (double)(trn_mono_ns() - req->start_ns) / 1e9);
}

/* ---------- sending ---------- */

static enum MHD_Result send_resp(trn_http_req_t *req, trn_http_resp_t *resp)
{
    trn_buf_t *body = &resp->body;
    trn_buf_t gz;
    bool use_gz = false;
    bool no_gzip = req->route && (req->route->r.flags & TRN_ROUTE_NO_GZIP);
    if (!no_gzip && body->len >= GZIP_MIN_BYTES && accepts_gzip(req->conn))
        use_gz = gzip_response(body, &gz);
    size_t len;
    char *data;
    if (use_gz) {
        data = trn_buf_steal(&gz, &len);
        trn_buf_fini(body);
    } else
        data = trn_buf_steal(body, &len);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type",
                            resp->content_type ? resp->content_type : "application/json");
    if (use_gz) MHD_add_response_header(r, "Content-Encoding", "gzip");
    for (size_t i = 0; i < resp->n_headers; i++) {
        const char *h = resp->headers[i];
        const char *colon = strchr(h, ':');
        if (!colon) continue;
        char name[128];
        size_t nl = (size_t)(colon - h);
        if (nl >= sizeof name) continue;
        memcpy(name, h, nl);
        name[nl] = 0;
        const char *v = colon + 1;
        while (*v == ' ')
            v++;
        MHD_add_response_header(r, name, v);
    }
    enum MHD_Result ret = MHD_queue_response(req->conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    count_request(req, req->route ? req->route->r.pattern : "other", resp->status);
    return ret;
}

static enum MHD_Result send_error(trn_http_req_t *req, int status, const char *fmt, ...)
{
    trn_http_resp_t resp = {.status = status, .content_type = "text/plain; charset=utf-8"};
    trn_buf_init(&resp.body);
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    trn_buf_puts(&resp.body, msg);
    trn_buf_putc(&resp.body, '\n');
    return send_resp(req, &resp);
}

/* ---------- MHD callbacks ---------- */

static trn_http_req_t *req_new(trn_http_server_t *s, struct MHD_Connection *c, const char *url,
                               const char *method)
{
    trn_http_req_t *req = trn_xcalloc(1, sizeof *req);
    req->srv = s;
    req->conn = c;
    req->arena = trn_arena_new(0);
    req->method = trn_arena_strndup(req->arena, method, strlen(method));
    req->path = trn_arena_strndup(req->arena, url, strlen(url));
    req->limit = s->opts.max_body_bytes;
    req->start_ns = trn_mono_ns();
    trn_buf_init(&req->body);
    return req;
}

static void req_free(trn_http_req_t *req)
{
    if (!req) return;
    trn_buf_fini(&req->body);
    trn_arena_free(req->arena);
    free(req);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    req_free(*con_cls);
    *con_cls = NULL;
}

static enum MHD_Result run_handler(trn_http_req_t *req)
{
    route_entry_t *e = req->route;
    trn_diag_t d;
    trn_diag_init(&d);
    const char *ce = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Content-Encoding");
    req->decoded = (trn_str_t){req->body.data ? req->body.data : "", req->body.len};
    if (!(e->r.flags & TRN_ROUTE_RAW_BODY) && ce && req->body.len > 0) {
        int rc = 0;
        if (!strcasecmp(ce, "gzip") || !strcasecmp(ce, "x-gzip"))
            rc = inflate_body(req, true, &d);
        else if (!strcasecmp(ce, "deflate"))
            rc = inflate_body(req, false, &d);
        else if (strcasecmp(ce, "identity") != 0) {
            if (req->srv->bad_encoding) trn_counter_inc(req->srv->bad_encoding);
            return send_error(req, 415, "unsupported Content-Encoding \"%.60s\"", ce);
        }
        if (rc < 0) {
            if (req->srv->bad_encoding) trn_counter_inc(req->srv->bad_encoding);
            return send_error(req, rc == TRN_ELIMIT ? 413 : 400, "%s", d.msg);
        }
    }
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, collect_arg, req);
    const char *ct = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Content-Type");
    if (ct && !strncasecmp(ct, "application/x-www-form-urlencoded", 33) &&
        !(e->r.flags & TRN_ROUTE_RAW_BODY))
        parse_form(req, req->decoded);
    trn_http_resp_t resp = {.status = 200};
    trn_buf_init(&resp.body);
    e->r.fn(e->ctx, req, &resp);
    return send_resp(req, &resp);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    trn_http_server_t *s = cls;
    trn_http_req_t *req = *con_cls;
    if (!req) {
        req = req_new(s, c, url, method);
        *con_cls = req;
        bool mismatch;
        req->route = find_route(req, &mismatch);
        if (!req->route) {
            if (s->not_found) trn_counter_inc(s->not_found);
            if (mismatch) return send_error(req, 405, "method %s not allowed for %s", method, url);
            return send_error(req, 404, "404 page not found: %s", url);
        }
        if (req->route->r.max_body_bytes && req->route->r.max_body_bytes < req->limit)
            req->limit = req->route->r.max_body_bytes;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > req->limit) {
            if (s->too_large) trn_counter_inc(s->too_large);
            return send_error(req, 413, "request body of %s bytes exceeds the limit of %zu bytes",
                              cl, req->limit);
        }
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (!req->too_large && req->body.len + *upload_size > req->limit) req->too_large = true;
        if (!req->too_large) trn_buf_append(&req->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (req->too_large) {
        if (s->too_large) trn_counter_inc(s->too_large);
        return send_error(req, 413, "request body exceeds the limit of %zu bytes", req->limit);
    }
    return run_handler(req);
}

/* ---------- server ---------- */

trn_http_server_t *trn_http_server_new(const trn_http_opts_t *o)
{
    trn_http_server_t *s = trn_xcalloc(1, sizeof *s);
    s->opts = *o;
    s->listen = trn_xstrdup(o->listen ? o->listen : "127.0.0.1:9090");
    s->opts.listen = s->listen;
    if (!s->opts.max_body_bytes) s->opts.max_body_bytes = 64u << 20;
    if (o->registry) {
        s->not_found = trn_counter_get(o->registry, "trine_http_unrouted_requests_total",
                                       "Requests that matched no route.", "");
        s->too_large =
            trn_counter_get(o->registry, "trine_http_rejected_requests_total",
                            "Requests rejected by the HTTP layer.", "reason=\"too_large\"");
        s->bad_encoding =
            trn_counter_get(o->registry, "trine_http_rejected_requests_total",
                            "Requests rejected by the HTTP layer.", "reason=\"bad_encoding\"");
    }
    return s;
}

void trn_http_add_routes(trn_http_server_t *s, const trn_route_t *routes, size_t n, void *ctx)
{
    for (size_t i = 0; i < n; i++) {
        TRN_ASSERT(s->n_routes < MAX_ROUTES);
        route_entry_t *e = &s->routes[s->n_routes++];
        e->r = routes[i];
        e->ctx = ctx;
        if (s->opts.registry) {
            char labels[256];
            snprintf(labels, sizeof labels, "handler=\"%s\"", routes[i].pattern);
            e->duration = trn_histogram_get(s->opts.registry, "trine_http_request_duration_seconds",
                                            "HTTP request latency by handler.", labels, NULL, 0);
        }
    }
}

static int parse_listen(const char *listen, struct sockaddr_in *sa, trn_diag_t *d)
{
    const char *colon = strrchr(listen, ':');
    if (!colon) return trn_diag_set(d, TRN_EINVAL, -1, "listen address \"%s\" has no port", listen);
    char host[256];
    size_t hl = (size_t)(colon - listen);
    if (hl >= sizeof host) return trn_diag_set(d, TRN_EINVAL, -1, "listen address too long");
    memcpy(host, listen, hl);
    host[hl] = 0;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535)
        return trn_diag_set(d, TRN_EINVAL, -1, "listen address \"%s\": bad port", listen);
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (hl == 0 || !strcmp(host, "0.0.0.0"))
        sa->sin_addr.s_addr = htonl(INADDR_ANY);
    else if (!strcmp(host, "localhost"))
        sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return trn_diag_set(d, TRN_EINVAL, -1, "listen address \"%s\": not an IPv4 address",
                            listen);
    return 0;
}

int trn_http_server_start(trn_http_server_t *s, trn_diag_t *d)
{
    struct sockaddr_in sa;
    int rc = parse_listen(s->listen, &sa, d);
    if (rc < 0) return rc;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    s->mhd = MHD_start_daemon(
        flags, ntohs(sa.sin_port), NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)300, MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_END);
    if (!s->mhd)
        return trn_diag_set(d, TRN_EIO, -1, "cannot listen on %s: %s", s->listen, strerror(errno));
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : ntohs(sa.sin_port);
    return 0;
}

int trn_http_server_port(const trn_http_server_t *s)
{
    return s->port;
}

void trn_http_server_free(trn_http_server_t *s)
{
    if (!s) return;
    if (s->mhd) {
        MHD_quiesce_daemon(s->mhd);
        MHD_stop_daemon(s->mhd);
    }
    free(s->listen);
    free(s);
}

/* ---------- accessors ---------- */

const char *trn_http_method(const trn_http_req_t *r)
{
    return r->method;
}
const char *trn_http_path(const trn_http_req_t *r)
{
    return r->path;
}
trn_str_t trn_http_body(const trn_http_req_t *r)
{
    return r->decoded;
}
const char *trn_http_header(const trn_http_req_t *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *trn_http_param(const trn_http_req_t *r, const char *name)
{
    for (size_t i = 0; i < r->n_params; i++)
        if (!strcmp(r->params[i].name, name)) return r->params[i].value;
    return NULL;
}

size_t trn_http_params(const trn_http_req_t *r, const char *name, const char ***out)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_params; i++)
        if (!strcmp(r->params[i].name, name)) n++;
    if (!n) {
        *out = NULL;
        return 0;
    }
    const char **v = trn_arena_alloc(r->arena, n * sizeof *v);
    if (!v) {
        *out = NULL;
        return 0;
    }
    size_t k = 0;
    for (size_t i = 0; i < r->n_params; i++)
        if (!strcmp(r->params[i].name, name)) v[k++] = r->params[i].value;
    *out = v;
    return n;
}

const char *trn_http_path_param(const trn_http_req_t *r, const char *name)
{
    for (size_t i = 0; i < r->n_path_params; i++)
        if (!strcmp(r->path_params[i].name, name)) return r->path_params[i].value;
    return NULL;
}

trn_arena_t *trn_http_arena(trn_http_req_t *r)
{
    return r->arena;
}

trn_registry_t *trn_http_registry(trn_http_req_t *r)
{
    return r->srv->opts.registry;
}

bool trn_http_client_gone(const trn_http_req_t *r)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci) return false;
    struct pollfd pfd = {.fd = ci->connect_fd, .events = POLLIN | POLLRDHUP};
    if (poll(&pfd, 1, 0) <= 0) return false;
    if (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) return true;
    /* readable: either a pipelined next request (still here) or EOF */
    char c;
    return recv(ci->connect_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

void trn_http_error_text(trn_http_resp_t *resp, int status, const char *fmt, ...)
{
    resp->status = status;
    resp->content_type = "text/plain; charset=utf-8";
    resp->body.len = 0;
    if (resp->body.data) resp->body.data[0] = 0;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    trn_buf_puts(&resp->body, msg);
    trn_buf_putc(&resp->body, '\n');
}

int trn_http_status_for(int code)
{
    switch (code) {
    case 0:
        return 200;
    case TRN_EINVAL:
        return 400;
    case TRN_ENOTFOUND:
        return 404;
    case TRN_ELIMIT:
        return 422;
    case TRN_ETIMEOUT:
        return 503;
    case TRN_ECANCELED:
        return 503;
    case TRN_EEXEC:
        return 422;
    default:
        return 500;
    }
}

void trn_http_set_header(trn_http_req_t *r, trn_http_resp_t *resp, const char *name,
                         const char *value)
{
    if (resp->n_headers >= sizeof resp->headers / sizeof resp->headers[0]) return;
    resp->headers[resp->n_headers++] = trn_arena_printf(r->arena, "%s: %s", name, value);
}
