/* SPDX-License-Identifier: Apache-2.0 */
/* From a discovered address to a scrape target, the way Prometheus builds
 * one: the group's labels plus __address__ form the start; the job's
 * settings fill job, __scrape_interval__, __scrape_timeout__,
 * __metrics_path__, __scheme__ and __param_<name> where discovery did not
 * set them (that set is what /api/v1/targets calls discoveredLabels); then
 * relabel_configs run. A target without __address__ afterwards is an
 * error, __meta_* labels are removed, and instance defaults to the
 * address. Labels starting with "__" stay on the target (the URL needs
 * them) and are dropped only when series labels are built. */
#include "scrape/scrape_int.h"

#include "core/err.h"
#include "core/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    trn_label_t *v;
    size_t n, cap;
} lset_t;

static trn_str_t lget(const lset_t *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (trn_str_eqc(s->v[i].name, name)) return s->v[i].value;
    return (trn_str_t){NULL, 0};
}

static void lset(lset_t *s, trn_str_t name, trn_str_t value)
{
    for (size_t i = 0; i < s->n; i++)
        if (trn_str_eq(s->v[i].name, name)) {
            s->v[i].value = value;
            return;
        }
    if (s->n < s->cap) s->v[s->n++] = (trn_label_t){name, value};
}

static void set_default(lset_t *s, const char *name, const char *value)
{
    if (!lget(s, name).len) lset(s, trn_str_c(name), trn_str_c(value));
}

int trn__target_labels(const trn__scrape_job_t *job, const trn__tgroup_t *g, size_t i,
                       trn_arena_t *a, trn_labels_t *discovered, trn_labels_t *labels,
                       trn_diag_t *d)
{
    lset_t s = {.cap = g->n_labels + job->n_params + 8};
    s.v = trn_arena_alloc(a, s.cap * sizeof *s.v);
    if (!s.v) return TRN_ELIMIT;
    for (size_t k = 0; k < g->n_labels; k++)
        lset(&s, trn_str_c(g->names[k]), trn_str_c(g->values[k]));
    lset(&s, TRN_STR("__address__"), trn_str_c(g->targets[i]));
    char iv[32], to[32];
    trn_format_duration(iv, job->interval_ms);
    trn_format_duration(to, job->timeout_ms);
    set_default(&s, "job", job->name);
    set_default(&s, "__scrape_interval__", trn_arena_strndup(a, iv, strlen(iv)));
    set_default(&s, "__scrape_timeout__", trn_arena_strndup(a, to, strlen(to)));
    set_default(&s, "__metrics_path__", job->metrics_path);
    set_default(&s, "__scheme__", job->scheme);
    for (size_t k = 0; k < job->n_params; k++) {
        if (!job->params[k].value) continue;
        char *n = trn_arena_printf(a, "__param_%s", job->params[k].name);
        if (!n) return TRN_ELIMIT;
        set_default(&s, n, job->params[k].value);
    }
    trn_labels_t disc = {s.v, s.n};
    trn_labels_drop_empty(&disc);
    trn_labels_sort(&disc);
    *discovered = disc;

    trn_labels_t out;
    int rc = trn_relabel_apply(job->relabel, &disc, a, &out);
    if (rc <= 0) return rc;
    trn_str_t addr = trn_labels_get(&out, "__address__");
    if (!addr.len) return trn_diag_set(d, TRN_EINVAL, -1, "no address");
    if (memchr(addr.p, '/', addr.len))
        return trn_diag_set(d, TRN_EINVAL, -1, "\"%.*s\" is not a valid hostname", (int)addr.len,
                            addr.p);
    /* Drop __meta_*, add instance when absent. */
    trn_label_t *v = trn_arena_alloc(a, (out.n + 1) * sizeof *v);
    if (!v) return TRN_ELIMIT;
    size_t n = 0;
    bool has_instance = false;
    for (size_t k = 0; k < out.n; k++) {
        if (out.v[k].name.len >= 7 && memcmp(out.v[k].name.p, "__meta_", 7) == 0) continue;
        if (trn_str_eqc(out.v[k].name, "instance")) has_instance = true;
        v[n++] = out.v[k];
    }
    if (!has_instance) v[n++] = (trn_label_t){TRN_STR("instance"), addr};
    labels->v = v;
    labels->n = n;
    trn_labels_sort(labels);
    int64_t ivl, tmo;
    if (trn__target_timing(labels, &ivl, &tmo, d) < 0) return TRN_EINVAL;
    return trn_labels_validate(labels, d) < 0 ? TRN_EINVAL : 1;
}

int trn__target_timing(const trn_labels_t *labels, int64_t *interval_ms, int64_t *timeout_ms,
                       trn_diag_t *d)
{
    trn_str_t iv = trn_labels_get(labels, "__scrape_interval__");
    trn_str_t to = trn_labels_get(labels, "__scrape_timeout__");
    if (trn_parse_duration(iv, interval_ms) < 0 || *interval_ms <= 0)
        return trn_diag_set(d, TRN_EINVAL, -1, "error parsing scrape interval \"%.*s\"",
                            (int)iv.len, iv.p ? iv.p : "");
    if (trn_parse_duration(to, timeout_ms) < 0 || *timeout_ms <= 0)
        return trn_diag_set(d, TRN_EINVAL, -1, "error parsing scrape timeout \"%.*s\"", (int)to.len,
                            to.p ? to.p : "");
    if (*timeout_ms > *interval_ms)
        return trn_diag_set(d, TRN_EINVAL, -1,
                            "scrape timeout cannot be greater than scrape interval (\"%.*s\" > "
                            "\"%.*s\")",
                            (int)to.len, to.p, (int)iv.len, iv.p);
    return 0;
}

/* Go's url.QueryEscape: unreserved bytes stay, space becomes '+', the rest %XX. */
static void query_escape(trn_buf_t *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~')
            trn_buf_putc(b, (char)c);
        else if (c == ' ')
            trn_buf_putc(b, '+');
        else
            trn_buf_printf(b, "%%%02X", c);
    }
}

typedef struct {
    trn_str_t key;
    const char *const *values; /* config values, or NULL */
    size_t n_values;
    trn_str_t first; /* overrides values[0] when set (from __param_) */
} qparam_t;

static int qparam_cmp(const void *x, const void *y)
{
    return trn_str_cmp(((const qparam_t *)x)->key, ((const qparam_t *)y)->key);
}

char *trn__target_url(const trn__scrape_job_t *job, const trn_labels_t *labels, trn_arena_t *a)
{
    size_t cap = job->n_params + labels->n, n = 0;
    qparam_t *q = trn_arena_calloc(a, cap ? cap : 1, sizeof *q);
    if (!q) return NULL;
    for (size_t i = 0; i < job->n_params; i++)
        q[n++] = (qparam_t){trn_str_c(job->params[i].name),
                            (const char *const *)job->params[i].values,
                            job->params[i].n_values,
                            {NULL, 0}};
    for (size_t i = 0; i < labels->n; i++) {
        trn_str_t name = labels->v[i].name;
        if (name.len <= 8 || memcmp(name.p, "__param_", 8) != 0) continue;
        trn_str_t key = {name.p + 8, name.len - 8};
        size_t k = 0;
        while (k < n && !trn_str_eq(q[k].key, key))
            k++;
        if (k == n) q[n++] = (qparam_t){key, NULL, 0, {NULL, 0}};
        q[k].first = labels->v[i].value;
    }
    qsort(q, n, sizeof *q, qparam_cmp);
    trn_buf_t b;
    trn_buf_init(&b);
    trn_str_t scheme = trn_labels_get(labels, "__scheme__");
    trn_str_t addr = trn_labels_get(labels, "__address__");
    trn_str_t path = trn_labels_get(labels, "__metrics_path__");
    trn_buf_append(&b, scheme.p ? scheme.p : "http", scheme.p ? scheme.len : 4);
    trn_buf_puts(&b, "://");
    if (addr.len) trn_buf_append(&b, addr.p, addr.len);
    if (!path.len || path.p[0] != '/') trn_buf_putc(&b, '/');
    if (path.len) trn_buf_append(&b, path.p, path.len);
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        size_t nv = q[i].n_values ? q[i].n_values : 1;
        for (size_t k = 0; k < nv; k++) {
            trn_str_t v = k == 0 && q[i].first.p ? q[i].first
                          : k < q[i].n_values    ? trn_str_c(q[i].values[k])
                                                 : (trn_str_t){"", 0};
            trn_buf_putc(&b, first ? '?' : '&');
            first = false;
            query_escape(&b, q[i].key.p, q[i].key.len);
            trn_buf_putc(&b, '=');
            query_escape(&b, v.p, v.len);
        }
    }
    char *s = trn_arena_strndup(a, b.data, b.len);
    trn_buf_fini(&b);
    return s;
}
