/* SPDX-License-Identifier: Apache-2.0 */
/* trine's own metrics: a registry of counters, gauges and histograms that
 * /metrics writes in the Prometheus text format. Metrics are created once
 * (at start) and then updated lock-free with atomics from any thread.
 * A family is a metric name + help + type; each child has a fixed label
 * string such as `handler="/api/v1/write",code="204"`. Modules that keep
 * their own numbers register a collector callback instead. */
#ifndef TRN_CORE_REGISTRY_H
#define TRN_CORE_REGISTRY_H

#include "core/str.h"

#include <stdint.h>

typedef struct trn_registry trn_registry_t;
typedef struct trn_counter trn_counter_t;
typedef struct trn_gauge trn_gauge_t;
typedef struct trn_histogram trn_histogram_t;

trn_registry_t *trn_registry_new(void);
void trn_registry_free(trn_registry_t *r);

/* Returns the child with these labels, creating family and child on first
 * use (thread-safe; the pointer stays valid for the registry's life).
 * labels is "" or `k="v",k2="v2"` (already escaped). */
trn_counter_t *trn_counter_get(trn_registry_t *r, const char *name, const char *help,
                               const char *labels);
void trn_counter_add(trn_counter_t *c, uint64_t n);
static inline void trn_counter_inc(trn_counter_t *c)
{
    trn_counter_add(c, 1);
}

trn_gauge_t *trn_gauge_get(trn_registry_t *r, const char *name, const char *help,
                           const char *labels);
void trn_gauge_set(trn_gauge_t *g, double v);
void trn_gauge_add(trn_gauge_t *g, double v);

/* Histogram with the given upper bounds (ascending, +Inf implied); bounds
 * NULL means the default latency buckets (5ms .. 60s). */
trn_histogram_t *trn_histogram_get(trn_registry_t *r, const char *name, const char *help,
                                   const char *labels, const double *bounds, size_t n_bounds);
void trn_histogram_observe(trn_histogram_t *h, double v);

/* A collector appends whole families in text format at scrape time. */
typedef void trn_collect_fn(void *ctx, trn_buf_t *out);
void trn_registry_add_collector(trn_registry_t *r, trn_collect_fn *fn, void *ctx);

/* Writes every family in Prometheus text format 0.0.4. */
void trn_registry_write(trn_registry_t *r, trn_buf_t *out);

#endif
