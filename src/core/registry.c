/* SPDX-License-Identifier: Apache-2.0 */
/* Self-metrics registry. Families and children are created under a mutex
 * (rare: at start or first use of a label combination) and never freed
 * before the registry; updates are atomic adds, so hot paths take no lock.
 * Gauges keep their double as bits in an atomic u64 and add with CAS. */
#include "core/registry.h"
#include "core/alloc.h"

#include <math.h>
#include <stdio.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef enum { K_COUNTER, K_GAUGE, K_HISTOGRAM } kind_t;

struct trn_counter {
    _Atomic uint64_t v;
};
struct trn_gauge {
    _Atomic uint64_t bits;
};
struct trn_histogram {
    double *bounds;
    size_t n_bounds;
    _Atomic uint64_t *counts; /* n_bounds + 1 (last is +Inf) */
    _Atomic uint64_t sum_bits;
    _Atomic uint64_t count;
};

typedef struct child {
    struct child *next;
    char *labels;
    union {
        struct trn_counter c;
        struct trn_gauge g;
        struct trn_histogram h;
    } u;
} child_t;

typedef struct family {
    struct family *next;
    char *name, *help;
    kind_t kind;
    child_t *children, **tail;
} family_t;

typedef struct collector {
    struct collector *next;
    trn_collect_fn *fn;
    void *ctx;
} collector_t;

struct trn_registry {
    pthread_mutex_t mu;
    family_t *families, **tail;
    collector_t *collectors, **ctail;
};

trn_registry_t *trn_registry_new(void)
{
    trn_registry_t *r = trn_xcalloc(1, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    r->tail = &r->families;
    r->ctail = &r->collectors;
    return r;
}

void trn_registry_free(trn_registry_t *r)
{
    if (!r) return;
    for (family_t *f = r->families; f;) {
        family_t *fn = f->next;
        for (child_t *c = f->children; c;) {
            child_t *cn = c->next;
            if (f->kind == K_HISTOGRAM) {
                free(c->u.h.bounds);
                free((void *)c->u.h.counts);
            }
            free(c->labels);
            free(c);
            c = cn;
        }
        free(f->name);
        free(f->help);
        free(f);
        f = fn;
    }
    for (collector_t *c = r->collectors; c;) {
        collector_t *n = c->next;
        free(c);
        c = n;
    }
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static child_t *get_child(trn_registry_t *r, const char *name, const char *help, kind_t kind,
                          const char *labels, bool *created)
{
    family_t *f = r->families;
    while (f && strcmp(f->name, name) != 0)
        f = f->next;
    if (!f) {
        f = trn_xcalloc(1, sizeof *f);
        f->name = trn_xstrdup(name);
        f->help = trn_xstrdup(help ? help : "");
        f->kind = kind;
        f->tail = &f->children;
        *r->tail = f;
        r->tail = &f->next;
    }
    for (child_t *c = f->children; c; c = c->next)
        if (strcmp(c->labels, labels ? labels : "") == 0) return c;
    child_t *c = trn_xcalloc(1, sizeof *c);
    c->labels = trn_xstrdup(labels ? labels : "");
    *f->tail = c;
    f->tail = &c->next;
    *created = true;
    return c;
}

trn_counter_t *trn_counter_get(trn_registry_t *r, const char *name, const char *help,
                               const char *labels)
{
    bool created = false;
    pthread_mutex_lock(&r->mu);
    child_t *c = get_child(r, name, help, K_COUNTER, labels, &created);
    pthread_mutex_unlock(&r->mu);
    return &c->u.c;
}

void trn_counter_add(trn_counter_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(&c->v, n, memory_order_relaxed);
}

static uint64_t dbits(double v)
{
    union {
        double d;
        uint64_t u;
    } x = {.d = v};
    return x.u;
}
static double bitsd(uint64_t u)
{
    union {
        double d;
        uint64_t u;
    } x = {.u = u};
    return x.d;
}

trn_gauge_t *trn_gauge_get(trn_registry_t *r, const char *name, const char *help,
                           const char *labels)
{
    bool created = false;
    pthread_mutex_lock(&r->mu);
    child_t *c = get_child(r, name, help, K_GAUGE, labels, &created);
    pthread_mutex_unlock(&r->mu);
    return &c->u.g;
}

void trn_gauge_set(trn_gauge_t *g, double v)
{
    atomic_store_explicit(&g->bits, dbits(v), memory_order_relaxed);
}

static void add_bits(_Atomic uint64_t *bits, double v)
{
    uint64_t old = atomic_load_explicit(bits, memory_order_relaxed);
    while (!atomic_compare_exchange_weak(bits, &old, dbits(bitsd(old) + v))) {
    }
}

void trn_gauge_add(trn_gauge_t *g, double v)
{
    add_bits(&g->bits, v);
}

static const double default_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                        1,     2.5,  5,     10,   30,  60};

trn_histogram_t *trn_histogram_get(trn_registry_t *r, const char *name, const char *help,
                                   const char *labels, const double *bounds, size_t n_bounds)
{
    if (!bounds) {
        bounds = default_bounds;
        n_bounds = sizeof default_bounds / sizeof default_bounds[0];
    }
    bool created = false;
    pthread_mutex_lock(&r->mu);
    child_t *c = get_child(r, name, help, K_HISTOGRAM, labels, &created);
    if (created) {
        c->u.h.bounds = trn_xmalloc(n_bounds * sizeof(double));
        memcpy(c->u.h.bounds, bounds, n_bounds * sizeof(double));
        c->u.h.n_bounds = n_bounds;
        c->u.h.counts = trn_xcalloc(n_bounds + 1, sizeof(uint64_t));
    }
    pthread_mutex_unlock(&r->mu);
    return &c->u.h;
}

void trn_histogram_observe(trn_histogram_t *h, double v)
{
    size_t i = 0;
    while (i < h->n_bounds && v > h->bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
    add_bits(&h->sum_bits, v);
}

void trn_registry_add_collector(trn_registry_t *r, trn_collect_fn *fn, void *ctx)
{
    collector_t *c = trn_xcalloc(1, sizeof *c);
    c->fn = fn;
    c->ctx = ctx;
    pthread_mutex_lock(&r->mu);
    *r->ctail = c;
    r->ctail = &c->next;
    pthread_mutex_unlock(&r->mu);
}

static void write_name_labels(trn_buf_t *out, const char *name, const char *suffix,
                              const char *labels, const char *extra)
{
    trn_buf_puts(out, name);
    trn_buf_puts(out, suffix);
    bool has = labels[0] || extra;
    if (!has) return;
    trn_buf_putc(out, '{');
    trn_buf_puts(out, labels);
    if (extra) {
        if (labels[0]) trn_buf_putc(out, ',');
        trn_buf_puts(out, extra);
    }
    trn_buf_putc(out, '}');
}

static void write_value(trn_buf_t *out, double v)
{
    char t[33];
    int n = trn_fmt_float(t, v);
    trn_buf_putc(out, ' ');
    trn_buf_append(out, t, (size_t)n);
    trn_buf_putc(out, '\n');
}

void trn_registry_write(trn_registry_t *r, trn_buf_t *out)
{
    static const char *types[] = {"counter", "gauge", "histogram"};
    pthread_mutex_lock(&r->mu);
    for (family_t *f = r->families; f; f = f->next) {
        trn_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
                       types[f->kind]);
        for (child_t *c = f->children; c; c = c->next) {
            if (f->kind == K_COUNTER) {
                write_name_labels(out, f->name, "", c->labels, NULL);
                trn_buf_printf(out, " %llu\n", (unsigned long long)atomic_load(&c->u.c.v));
            } else if (f->kind == K_GAUGE) {
                write_name_labels(out, f->name, "", c->labels, NULL);
                write_value(out, bitsd(atomic_load(&c->u.g.bits)));
            } else {
                uint64_t cum = 0;
                for (size_t i = 0; i <= c->u.h.n_bounds; i++) {
                    cum += atomic_load(&c->u.h.counts[i]);
                    char le[48] = "le=\"+Inf\"";
                    if (i < c->u.h.n_bounds) {
                        char t[33];
                        trn_fmt_float(t, c->u.h.bounds[i]);
                        snprintf(le, sizeof le, "le=\"%s\"", t);
                    }
                    write_name_labels(out, f->name, "_bucket", c->labels, le);
                    trn_buf_printf(out, " %llu\n", (unsigned long long)cum);
                }
                write_name_labels(out, f->name, "_sum", c->labels, NULL);
                write_value(out, bitsd(atomic_load(&c->u.h.sum_bits)));
                write_name_labels(out, f->name, "_count", c->labels, NULL);
                trn_buf_printf(out, " %llu\n", (unsigned long long)atomic_load(&c->u.h.count));
            }
        }
    }
    for (collector_t *c = r->collectors; c; c = c->next)
        c->fn(c->ctx, out);
    pthread_mutex_unlock(&r->mu);
}
