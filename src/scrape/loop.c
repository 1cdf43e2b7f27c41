/* SPDX-License-Identifier: Apache-2.0 */
/* One target's scrape loop. A thread per target sleeps until its slot in
 * the interval — the first scrape lands at (hash of the target) modulo the
 * interval past an interval boundary, so targets spread over the interval
 * the way Prometheus spreads them instead of all firing at once — then
 * fetches the URL with libcurl (Prometheus's Accept header for OpenMetrics
 * and text, gzip, auth, timeout), parses the body with the shared
 * exposition parser, and stores in one batch:
 *
 *   - every sample, its labels merged with the target's (on a clash the
 *     scraped label is renamed exported_<name>, or with honor_labels the
 *     scraped one wins), then metric_relabel_configs; the sample's own
 *     timestamp when honor_timestamps allows it, else the scrape time;
 *   - a staleness marker (Prometheus's special NaN) for every series the
 *     previous scrape had and this one lacks — all of them when the scrape
 *     failed;
 *   - the synthetic series up, scrape_duration_seconds,
 *     scrape_samples_scraped, scrape_samples_post_metric_relabeling and
 *     scrape_series_added, with the target's labels.
 *
 * sample_limit and the label limits fail the whole scrape (nothing of it
 * is stored), as in Prometheus. When the target is stopped (it left
 * discovery, its job was removed, or the daemon shuts down) the loop
 * writes staleness markers for its series and its synthetic series.
 *
 * Memory: each scrape's series live in a fresh arena (trn__series_set_t)
 * that becomes "previous" after the append; the older one is freed. The
 * per-sample label merging and relabeling use a scratch arena reset after
 * every sample, so a scrape costs one copy of each label set. */
#include "scrape/scrape_int.h"

#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "core/version.h"
#include "ingest/exposition.h"
#include "metrics/store.h"

#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ACCEPT_HEADER                                                                              \
    "Accept: application/openmetrics-text;version=1.0.0,application/openmetrics-text;"             \
    "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
#define USER_AGENT "trine/" TRN_VERSION
#define APPEND_BATCH 4096
#define MAX_SCRAPED_LABELS 256

/* ---- series sets ---- */

static void set_init(trn__series_set_t *s)
{
    memset(s, 0, sizeof *s);
    s->arena = trn_arena_new(0);
}

static void set_fini(trn__series_set_t *s)
{
    trn_arena_free(s->arena);
    free(s->labels);
    free(s->hashes);
    free(s->explicit_ts);
    free(s->seen);
    free(s->slots);
    memset(s, 0, sizeof *s);
}

static void set_rehash(trn__series_set_t *s, size_t n_slots)
{
    free(s->slots);
    s->n_slots = n_slots;
    s->slots = trn_xcalloc(n_slots, sizeof *s->slots);
    for (size_t i = 0; i < s->n; i++) {
        size_t k = s->hashes[i] & (n_slots - 1);
        while (s->slots[k])
            k = (k + 1) & (n_slots - 1);
        s->slots[k] = (uint32_t)(i + 1);
    }
}

/* Index of ls in s, or -1. */
static long set_find(const trn__series_set_t *s, const trn_labels_t *ls, uint64_t h)
{
    if (!s->n_slots) return -1;
    for (size_t k = h & (s->n_slots - 1); s->slots[k]; k = (k + 1) & (s->n_slots - 1)) {
        uint32_t i = s->slots[k] - 1;
        if (s->hashes[i] == h && trn_labels_equal(&s->labels[i], ls)) return (long)i;
    }
    return -1;
}

/* Adds a copy of ls; returns its index, or -1 when it was already there. */
static long set_add(trn__series_set_t *s, const trn_labels_t *ls, uint64_t h)
{
    if (set_find(s, ls, h) >= 0) return -1;
    if (s->n == s->cap) {
        s->cap = s->cap * 2 + 64;
        s->labels = trn_xrealloc(s->labels, s->cap * sizeof *s->labels);
        s->hashes = trn_xrealloc(s->hashes, s->cap * sizeof *s->hashes);
        s->explicit_ts = trn_xrealloc(s->explicit_ts, s->cap * sizeof *s->explicit_ts);
        s->seen = trn_xrealloc(s->seen, s->cap * sizeof *s->seen);
    }
    if ((s->n + 1) * 2 > s->n_slots) {
        set_rehash(s, s->n_slots ? s->n_slots * 2 : 128);
    }
    if (trn_labels_copy(s->arena, ls, &s->labels[s->n]) < 0) return -1;
    s->hashes[s->n] = h;
    s->explicit_ts[s->n] = false;
    s->seen[s->n] = false;
    size_t k = h & (s->n_slots - 1);
    while (s->slots[k])
        k = (k + 1) & (s->n_slots - 1);
    s->slots[k] = (uint32_t)(s->n + 1);
    return (long)s->n++;
}

/* ---- HTTP ---- */

typedef struct fetch {
    trn__target_t *t;
    trn_buf_t body;
    uint64_t limit;
    bool over_limit;
    char content_type[160];
} fetch_t;

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    fetch_t *f = ctx;
    size_t len = size * n;
    if (f->limit && f->body.len + len > f->limit) {
        f->over_limit = true;
        return 0;
    }
    trn_buf_append(&f->body, p, len);
    return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    fetch_t *f = ctx;
    size_t len = size * n;
    if (len > 13 && strncasecmp(p, "content-type:", 13) == 0) {
        const char *v = p + 13;
        size_t vl = len - 13;
        while (vl && (*v == ' ' || *v == '\t'))
            v++, vl--;
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
            vl--;
        if (vl >= sizeof f->content_type) vl = sizeof f->content_type - 1;
        memcpy(f->content_type, v, vl);
        f->content_type[vl] = 0;
    }
    return len;
}

static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    trn__target_t *t = ctx;
    pthread_mutex_lock(&t->mu);
    bool stop = t->stop;
    pthread_mutex_unlock(&t->mu);
    return stop ? 1 : 0;
}

static const char *status_text(long code)
{
    switch (code) {
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "";
    }
}

/* Reads a credentials file, without trailing whitespace. */
static char *read_secret(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "unable to read %s: %s", path, strerror(errno));
        return NULL;
    }
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        n--;
    return trn_xstrndup(buf, n);
}

/* Fetches the target; returns 0 with the body in f, or -1 with err set. */
static int fetch(CURL *h, trn__target_t *t, const trn__scrape_job_t *job, fetch_t *f, char *err,
                 size_t errlen)
{
    char cerr[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdrs = NULL;
    char *secret = NULL, *auth_hdr = NULL;
    int rc = -1;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, t->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)t->timeout_ms);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, f);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, t);
    curl_easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, job->enable_compression ? "gzip" : "identity");
    if (job->follow_redirects) {
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
    }
    if (job->proxy_url) curl_easy_setopt(h, CURLOPT_PROXY, job->proxy_url);
    if (job->tls_ca) curl_easy_setopt(h, CURLOPT_CAINFO, job->tls_ca);
    if (job->tls_cert) curl_easy_setopt(h, CURLOPT_SSLCERT, job->tls_cert);
    if (job->tls_key) curl_easy_setopt(h, CURLOPT_SSLKEY, job->tls_key);
    if (job->tls_insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    f->limit = job->body_size_limit;
    hdrs = curl_slist_append(hdrs, ACCEPT_HEADER);
    char tmo[96];
    snprintf(tmo, sizeof tmo, "X-Prometheus-Scrape-Timeout-Seconds: %g", t->timeout_ms / 1000.0);
    hdrs = curl_slist_append(hdrs, tmo);
    if (job->basic_user) {
        const char *pass = job->basic_pass ? job->basic_pass : "";
        if (job->basic_pass_file) {
            if (!(secret = read_secret(job->basic_pass_file, err, errlen))) goto out;
            pass = secret;
        }
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, job->basic_user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, pass);
    } else if (job->auth_type || job->auth_cred || job->auth_cred_file) {
        const char *cred = job->auth_cred ? job->auth_cred : "";
        if (job->auth_cred_file) {
            if (!(secret = read_secret(job->auth_cred_file, err, errlen))) goto out;
            cred = secret;
        }
        size_t n = strlen(cred) + 64 + (job->auth_type ? strlen(job->auth_type) : 6);
        auth_hdr = trn_xmalloc(n);
        snprintf(auth_hdr, n, "Authorization: %s %s", job->auth_type ? job->auth_type : "Bearer",
                 cred);
        hdrs = curl_slist_append(hdrs, auth_hdr);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    CURLcode cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        if (f->over_limit)
            snprintf(err, errlen, "body size limit exceeded");
        else if (cc == CURLE_ABORTED_BY_CALLBACK)
            snprintf(err, errlen, "scrape canceled");
        else if (cc == CURLE_OPERATION_TIMEDOUT)
            snprintf(err, errlen, "Get \"%s\": context deadline exceeded", t->url);
        else
            snprintf(err, errlen, "Get \"%s\": %s", t->url,
                     cerr[0] ? cerr : curl_easy_strerror(cc));
        goto out;
    }
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    if (code != 200) {
        const char *txt = status_text(code);
        snprintf(err, errlen, "server returned HTTP status %ld%s%s", code, *txt ? " " : "", txt);
        goto out;
    }
    rc = 0;
out:
    curl_slist_free_all(hdrs);
    free(secret);
    free(auth_hdr);
    return rc;
}

/* ---- building series ---- */

typedef struct batch {
    trn_append_series_t *v;
    trn_sample_t *samples;
    size_t n, cap;
} batch_t;

static void batch_add(batch_t *b, const trn_labels_t *ls, int64_t t_ms, double v)
{
    if (b->n == b->cap) {
        b->cap = b->cap * 2 + 256;
        b->v = trn_xrealloc(b->v, b->cap * sizeof *b->v);
        b->samples = trn_xrealloc(b->samples, b->cap * sizeof *b->samples);
    }
    b->samples[b->n] = (trn_sample_t){t_ms, v};
    b->v[b->n] = (trn_append_series_t){*ls, NULL, 1};
    b->n++;
}

/* Appends the batch in chunks; returns 0 or the store's error (d set). */
static int batch_flush(batch_t *b, struct trn_store *store, trn_append_result_t *total,
                       trn_diag_t *d)
{
    for (size_t i = 0; i < b->n; i++)
        b->v[i].samples = &b->samples[i];
    for (size_t off = 0; off < b->n; off += APPEND_BATCH) {
        size_t n = b->n - off < APPEND_BATCH ? b->n - off : APPEND_BATCH;
        trn_append_result_t res = {0};
        int rc = trn_store_append(store, b->v + off, n, &res, d);
        if (rc < 0) return rc;
        total->accepted += res.accepted;
        total->too_old += res.too_old;
        total->series_created += res.series_created;
    }
    b->n = 0;
    return 0;
}

static double stale_nan(void)
{
    union {
        uint64_t u;
        double d;
    } x = {.u = TRN_STALE_NAN_BITS};
    return x.d;
}

/* Merges scraped labels with the target's labels into a sorted set in the
 * scratch arena (Prometheus's honor_labels rules). */
static int merge_labels(const trn__target_t *t, const trn__scrape_job_t *job,
                        const trn_labels_t *scraped, trn_arena_t *a, trn_labels_t *out)
{
    const trn_labels_t *tl = &t->series_labels;
    size_t cap = scraped->n * 2 + tl->n + 1;
    trn_label_t *v = trn_arena_alloc(a, cap * sizeof *v);
    if (!v) return TRN_ELIMIT;
    size_t n = 0;
    for (size_t i = 0; i < scraped->n; i++)
        v[n++] = scraped->v[i];
    for (size_t i = 0; i < tl->n; i++) {
        size_t k = 0;
        while (k < n && !trn_str_eq(v[k].name, tl->v[i].name))
            k++;
        if (k == n) {
            v[n++] = tl->v[i];
            continue;
        }
        if (job->honor_labels) continue; /* the scraped value wins */
        /* Rename the scraped label to exported_<name> (repeating the prefix
         * while that name is taken too), then set the target's value. */
        trn_str_t name = tl->v[i].name;
        char *nn = NULL;
        for (int depth = 1;; depth++) {
            size_t len = name.len + 9 * (size_t)depth;
            nn = trn_arena_alloc(a, len + 1);
            if (!nn) return TRN_ELIMIT;
            for (int r = 0; r < depth; r++)
                memcpy(nn + 9 * r, "exported_", 9);
            memcpy(nn + 9 * depth, name.p, name.len);
            nn[len] = 0;
            size_t j = 0;
            while (j < n && !trn_str_eq(v[j].name, (trn_str_t){nn, len}))
                j++;
            if (j == n) break;
        }
        v[n++] = (trn_label_t){trn_str_c(nn), v[k].value};
        v[k].value = tl->v[i].value;
    }
    out->v = v;
    out->n = n;
    trn_labels_sort(out);
    trn_labels_drop_empty(out);
    return 0;
}

static int check_label_limits(const trn__scrape_job_t *job, const trn_labels_t *ls, char *err,
                              size_t errlen)
{
    if (job->label_limit && ls->n > job->label_limit) {
        snprintf(err, errlen,
                 "label_limit exceeded (metric: %.*s, number of labels: %zu, limit: "
                 "%llu)",
                 (int)trn_labels_get(ls, TRN_METRIC_NAME).len,
                 trn_labels_get(ls, TRN_METRIC_NAME).p, ls->n,
                 (unsigned long long)job->label_limit);
        return -1;
    }
    for (size_t i = 0; i < ls->n; i++) {
        if (job->label_name_length_limit && ls->v[i].name.len > job->label_name_length_limit) {
            snprintf(err, errlen,
                     "label_name_length_limit exceeded (label name: %.*s, limit: %llu)",
                     (int)ls->v[i].name.len, ls->v[i].name.p,
                     (unsigned long long)job->label_name_length_limit);
            return -1;
        }
        if (job->label_value_length_limit && ls->v[i].value.len > job->label_value_length_limit) {
            snprintf(err, errlen,
                     "label_value_length_limit exceeded (label name: %.*s, limit: %llu)",
                     (int)ls->v[i].name.len, ls->v[i].name.p,
                     (unsigned long long)job->label_value_length_limit);
            return -1;
        }
    }
    return 0;
}

/* Metadata (# TYPE, # HELP, # UNIT) of one scrape, per family, stored in
 * the store when it differs from the previous scrape's. */
typedef struct meta_acc {
    trn_arena_t *a;
    trn_metric_meta_t *v;
    size_t n, cap;
    uint64_t hash;
} meta_acc_t;

static void meta_add(meta_acc_t *ma, int kind, const trn_expo_meta_t *m)
{
    if (!ma->n || !trn_str_eq(ma->v[ma->n - 1].metric, m->metric)) {
        if (ma->n == ma->cap) {
            ma->cap = ma->cap * 2 + 32;
            ma->v = trn_xrealloc(ma->v, ma->cap * sizeof *ma->v);
        }
        char *name = trn_arena_strndup(ma->a, m->metric.p ? m->metric.p : "", m->metric.len);
        if (!name) return;
        ma->v[ma->n++] = (trn_metric_meta_t){.metric = {name, m->metric.len}};
    }
    char *text = trn_arena_strndup(ma->a, m->text.p ? m->text.p : "", m->text.len);
    if (!text) return;
    trn_str_t v = {text, m->text.len};
    trn_metric_meta_t *e = &ma->v[ma->n - 1];
    if (kind == TRN_EXPO_TYPE) e->type = v;
    if (kind == TRN_EXPO_HELP) e->help = v;
    if (kind == TRN_EXPO_UNIT) e->unit = v;
    /* FNV-1a over kind, family and text: cheap change detection. */
    uint64_t h = ma->hash ? ma->hash : 1469598103934665603ULL;
    h = (h ^ (uint64_t)kind) * 1099511628211ULL;
    for (size_t i = 0; i < m->metric.len; i++)
        h = (h ^ (uint8_t)m->metric.p[i]) * 1099511628211ULL;
    for (size_t i = 0; i < m->text.len; i++)
        h = (h ^ (uint8_t)m->text.p[i]) * 1099511628211ULL;
    ma->hash = h;
}

typedef struct counts {
    uint64_t scraped, post_relabel, added;
} counts_t;

/* Parses the body into cur and the batch. Returns 0, or -1 with err. */
static int parse_body(trn__target_t *t, const trn__scrape_job_t *job, const fetch_t *f, int64_t ts,
                      trn__series_set_t *cur, batch_t *b, counts_t *c, meta_acc_t *ma, char *err,
                      size_t errlen)
{
    trn_expo_format_t fmt =
        trn_expo_format_from_content_type(f->content_type[0] ? f->content_type : NULL);
    trn_expo_parser_t *p =
        trn_expo_parser_new(f->body.data ? f->body.data : "", f->body.len, fmt, MAX_SCRAPED_LABELS);
    trn_arena_t *scratch = trn_arena_new(0);
    trn_arena_mark_t mark = trn_arena_mark(scratch);
    int rc = 0;
    for (;;) {
        trn_expo_sample_t s;
        trn_expo_meta_t meta;
        trn_diag_t d;
        trn_diag_init(&d);
        int e = trn_expo_next(p, &s, &meta, &d);
        if (e < 0) {
            snprintf(err, errlen, "%s", d.msg[0] ? d.msg : "invalid exposition body");
            rc = -1;
            break;
        }
        if (e == TRN_EXPO_EOF) break;
        if (e != TRN_EXPO_SAMPLE) {
            meta_add(ma, e, &meta);
            continue;
        }
        c->scraped++;
        trn_arena_reset(scratch, mark);
        trn_labels_t merged, final;
        if (merge_labels(t, job, &s.labels, scratch, &merged) < 0) {
            snprintf(err, errlen, "out of memory building labels");
            rc = -1;
            break;
        }
        int keep = trn_relabel_len(job->metric_relabel)
                       ? trn_relabel_apply(job->metric_relabel, &merged, scratch, &final)
                       : (final = merged, 1);
        if (keep < 0) {
            snprintf(err, errlen, "out of memory relabeling");
            rc = -1;
            break;
        }
        if (keep == 0 || final.n == 0) continue;
        if (!trn_labels_get(&final, TRN_METRIC_NAME).len) continue;
        /* The parser validated the scraped labels and the target's are
         * valid; relabeling output is checked again before the store sees
         * it. As Prometheus: one invalid series fails the scrape. */
        trn_diag_t vd;
        trn_diag_init(&vd);
        if (trn_relabel_len(job->metric_relabel) && trn_labels_validate(&final, &vd) < 0) {
            snprintf(err, errlen, "invalid metric name or label names: %.400s", vd.msg);
            rc = -1;
            break;
        }
        if (check_label_limits(job, &final, err, errlen) < 0) {
            rc = -1;
            break;
        }
        c->post_relabel++;
        if (job->sample_limit && c->post_relabel > job->sample_limit) {
            snprintf(err, errlen, "sample limit exceeded");
            rc = -1;
            break;
        }
        uint64_t h = trn_labels_hash(&final);
        long idx = set_add(cur, &final, h);
        if (idx < 0) continue; /* duplicate series in one scrape: first one wins */
        long pi = set_find(&t->prev, &final, h);
        if (pi < 0)
            c->added++;
        else
            t->prev.seen[pi] = true;
        bool own_ts = job->honor_timestamps && s.has_timestamp;
        int64_t sts = own_ts ? s.t_ms : ts;
        /* As Prometheus: series exposed with their own timestamps get no
         * staleness markers (their time is not the scrape's). */
        cur->explicit_ts[idx] = own_ts;
        batch_add(b, &cur->labels[idx], sts, s.value);
    }
    trn_arena_free(scratch);
    trn_expo_parser_free(p);
    return rc;
}

/* Appends one synthetic series sample (name + the target's labels). */
static void report_add(trn__target_t *t, trn_arena_t *a, batch_t *b, const char *name, int64_t ts,
                       double v)
{
    trn_labels_t ls = {trn_arena_alloc(a, (t->series_labels.n + 1) * sizeof(trn_label_t)), 0};
    if (!ls.v) return;
    ls.v[ls.n++] = (trn_label_t){TRN_STR(TRN_METRIC_NAME), trn_str_c(name)};
    for (size_t i = 0; i < t->series_labels.n; i++)
        ls.v[ls.n++] = t->series_labels.v[i];
    trn_labels_sort(&ls);
    batch_add(b, &ls, ts, v);
}

static const char *const report_names[] = {
    "up", "scrape_duration_seconds", "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling", "scrape_series_added"};

/* A label value escaped for the text format (\\, \", \n), cut to fit. */
static void escape_label_value(const char *v, char *out, size_t cap)
{
    size_t o = 0;
    for (; *v && o + 3 < cap; v++) {
        if (*v == '\\' || *v == '"') {
            out[o++] = '\\';
            out[o++] = *v;
        } else if (*v == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = *v;
        }
    }
    out[o] = 0;
}

/* One scrape: fetch, parse, store. */
static void scrape_once(trn__target_t *t, CURL *h, batch_t *b)
{
    pthread_mutex_lock(&t->mu);
    trn_scrape_config_t *cfg = trn__scrape_config_ref(t->cfg);
    const trn__scrape_job_t *job = t->job;
    pthread_mutex_unlock(&t->mu);

    int64_t ts = trn_now_ms(), t0 = trn_mono_ns();
    char err[512] = "";
    fetch_t f = {.t = t};
    trn_buf_init(&f.body);
    trn__series_set_t cur;
    set_init(&cur);
    counts_t c = {0};
    b->n = 0;
    meta_acc_t ma = {.a = cur.arena};
    int rc = fetch(h, t, job, &f, err, sizeof err);
    if (rc == 0) rc = parse_body(t, job, &f, ts, &cur, b, &c, &ma, err, sizeof err);
    if (rc == 0 && ma.hash != t->meta_hash) {
        for (size_t i = 0; i < ma.n; i++)
            trn_store_set_metadata(t->store, &ma.v[i]);
        t->meta_hash = ma.hash;
    }
    free(ma.v);
    if (rc < 0) {
        /* A failed scrape stores none of its samples. */
        b->n = 0;
        set_fini(&cur);
        set_init(&cur);
        c.post_relabel = 0;
        c.added = 0;
    }
    double dur = (double)(trn_mono_ns() - t0) / 1e9;
    double stale = stale_nan();
    /* Series of the previous scrape not seen in this one (all of them when
     * this scrape failed) get a staleness marker. */
    if (rc < 0 && t->prev.n) memset(t->prev.seen, 0, t->prev.n * sizeof *t->prev.seen);
    for (size_t i = 0; i < t->prev.n; i++)
        if (!t->prev.explicit_ts[i] && !t->prev.seen[i])
            batch_add(b, &t->prev.labels[i], ts, stale);
    trn_arena_t *ra = trn_arena_new(0);
    double vals[5] = {rc == 0 ? 1 : 0, dur, (double)c.scraped, (double)c.post_relabel,
                      (double)c.added};
    for (int i = 0; i < 5; i++)
        report_add(t, ra, b, report_names[i], ts, vals[i]);
    trn_append_result_t res = {0};
    trn_diag_t d;
    trn_diag_init(&d);
    if (batch_flush(b, t->store, &res, &d) < 0) {
        trn_log(TRN_LOG_ERROR, "scrape", "storing scraped samples failed", "target", t->url, "err",
                d.msg, NULL);
    }
    trn_arena_free(ra);
    set_fini(&t->prev);
    t->prev = cur;
    t->has_report = true;

    char jn[300], jl[600];
    escape_label_value(job->name, jn, sizeof jn);
    snprintf(jl, sizeof jl, "job=\"%s\",result=\"%s\"", jn, rc == 0 ? "success" : "failure");
    trn_counter_inc(trn_counter_get(t->reg, "trine_scrapes_total",
                                    "Scrapes by job and result (success or failure).", jl));
    snprintf(jl, sizeof jl, "job=\"%s\"", jn);
    trn_histogram_observe(trn_histogram_get(t->reg, "trine_scrape_duration_seconds",
                                            "Duration of scrapes by job.", jl, NULL, 0),
                          dur);
    pthread_mutex_lock(&t->mu);
    bool was_up = t->health == TRN_TARGET_UP;
    t->health = rc == 0 ? TRN_TARGET_UP : TRN_TARGET_DOWN;
    snprintf(t->last_error, sizeof t->last_error, "%s", rc == 0 ? "" : err);
    t->last_scrape_ms = ts;
    t->last_duration_s = dur;
    bool stopping = t->stop;
    pthread_mutex_unlock(&t->mu);
    if (rc < 0 && (was_up || !t->has_report) && !stopping)
        trn_log(TRN_LOG_WARN, "scrape", "scrape failed", "job", job->name, "target", t->url, "err",
                err, NULL);
    trn_buf_fini(&f.body);
    trn_scrape_config_free(cfg);
}

/* Staleness markers for everything this target stored. */
static void write_end_staleness(trn__target_t *t, batch_t *b)
{
    int64_t ts = trn_now_ms();
    double stale = stale_nan();
    b->n = 0;
    for (size_t i = 0; i < t->prev.n; i++)
        if (!t->prev.explicit_ts[i]) batch_add(b, &t->prev.labels[i], ts, stale);
    trn_arena_t *ra = trn_arena_new(0);
    if (t->has_report)
        for (int i = 0; i < 5; i++)
            report_add(t, ra, b, report_names[i], ts, stale);
    trn_append_result_t res = {0};
    trn_diag_t d;
    trn_diag_init(&d);
    if (b->n && batch_flush(b, t->store, &res, &d) < 0)
        trn_log(TRN_LOG_ERROR, "scrape", "writing staleness markers failed", "target", t->url,
                "err", d.msg, NULL);
    trn_arena_free(ra);
}

static void abs_time(struct timespec *ts, int64_t ms)
{
    ts->tv_sec = ms / 1000;
    ts->tv_nsec = (long)(ms % 1000) * 1000000L;
}

static void *loop_main(void *arg)
{
    trn__target_t *t = arg;
    CURL *h = curl_easy_init();
    batch_t b = {0};
    int64_t iv = t->interval_ms;
    int64_t now = trn_now_ms();
    int64_t next = now - now % iv + (int64_t)(t->hash % (uint64_t)iv);
    if (next < now) next += iv;
    pthread_mutex_lock(&t->mu);
    for (;;) {
        while (!t->stop && trn_now_ms() < next) {
            struct timespec until;
            abs_time(&until, next);
            pthread_cond_timedwait(&t->cv, &t->mu, &until);
        }
        if (t->stop) break;
        pthread_mutex_unlock(&t->mu);
        if (h) {
            scrape_once(t, h, &b);
        }
        now = trn_now_ms();
        next += iv;
        if (next <= now) next += ((now - next) / iv + 1) * iv; /* overran: skip missed slots */
        pthread_mutex_lock(&t->mu);
    }
    bool stale = t->stale_on_stop;
    pthread_mutex_unlock(&t->mu);
    if (stale) write_end_staleness(t, &b);
    free(b.v);
    free(b.samples);
    if (h) curl_easy_cleanup(h);
    return NULL;
}

/* ---- lifecycle ---- */

trn__target_t *trn__target_start(struct trn_store *store, trn_registry_t *reg,
                                 const trn_scrape_config_t *cfg, const trn__scrape_job_t *job,
                                 const trn_labels_t *discovered, const trn_labels_t *labels,
                                 const char *url, const char *key)
{
    trn__target_t *t = trn_xcalloc(1, sizeof *t);
    t->store = store;
    t->reg = reg;
    t->arena = trn_arena_new(0);
    t->key = trn_xstrdup(key);
    t->url = trn_xstrdup(url);
    trn_labels_copy(t->arena, discovered, &t->discovered);
    trn_labels_copy(t->arena, labels, &t->labels);
    t->series_labels.v = trn_arena_alloc(t->arena, (labels->n + 1) * sizeof(trn_label_t));
    for (size_t i = 0; i < t->labels.n; i++) {
        trn_str_t n = t->labels.v[i].name;
        if (n.len >= 2 && n.p[0] == '_' && n.p[1] == '_') continue;
        t->series_labels.v[t->series_labels.n++] = t->labels.v[i];
    }
    trn_diag_t d;
    trn_diag_init(&d);
    if (trn__target_timing(&t->labels, &t->interval_ms, &t->timeout_ms, &d) < 0) {
        t->interval_ms = job->interval_ms;
        t->timeout_ms = job->timeout_ms;
    }
    uint64_t h = 1469598103934665603ULL; /* FNV-1a over the key */
    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    t->hash = h;
    pthread_mutex_init(&t->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_cond_init(&t->cv, &ca);
    pthread_condattr_destroy(&ca);
    t->cfg = trn__scrape_config_ref(cfg);
    t->job = job;
    set_init(&t->prev);
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, 512 * 1024);
    t->started = pthread_create(&t->thread, &at, loop_main, t) == 0;
    pthread_attr_destroy(&at);
    if (!t->started)
        trn_log(TRN_LOG_ERROR, "scrape", "cannot start scrape thread", "target", url, NULL);
    return t;
}

void trn__target_set_job(trn__target_t *t, const trn_scrape_config_t *cfg,
                         const trn__scrape_job_t *job)
{
    trn_scrape_config_t *ref = trn__scrape_config_ref(cfg), *old;
    pthread_mutex_lock(&t->mu);
    old = t->cfg;
    t->cfg = ref;
    t->job = job;
    pthread_mutex_unlock(&t->mu);
    trn_scrape_config_free(old);
}

void trn__target_stop(trn__target_t *t, bool write_stale)
{
    if (!t) return;
    pthread_mutex_lock(&t->mu);
    t->stop = true;
    t->stale_on_stop = write_stale;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
    if (t->started) pthread_join(t->thread, NULL);
    set_fini(&t->prev);
    trn_scrape_config_free(t->cfg);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
    trn_arena_free(t->arena);
    free(t->key);
    free(t->url);
    free(t);
}
