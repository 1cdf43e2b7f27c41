/* SPDX-License-Identifier: Apache-2.0 */
/* The simulated fleet: which series exist (labels), when their samples
 * are taken (each target at its own fixed offset within the interval, as a
 * Prometheus scrape loop does), and how their values
 * evolve (counters, gauges, classic histograms, summaries), deterministic
 * from a seed. Built once; afterwards each group of series is advanced by
 * exactly one thread, step by step in order, so distinct groups may be
 * stepped concurrently. */
#ifndef TRN_BENCH_FLEET_H
#define TRN_BENCH_FLEET_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    TRN_BENCH_CONST,     /* gauge that never changes */
    TRN_BENCH_COUNTER,   /* monotonic, jittered increments, resets with its process */
    TRN_BENCH_GAUGE,     /* bounded mean-reverting random walk */
    TRN_BENCH_HISTOGRAM, /* classic: buckets (le...,+Inf), _sum, _count */
    TRN_BENCH_SUMMARY,   /* quantiles 0.5/0.9/0.99, _sum, _count */
} trn_bench_kind_t;

/* A group is the set of series one model updates together: one series for
 * counters and gauges, all buckets plus _sum and _count for a histogram. */
typedef struct trn_bench_group {
    uint32_t first;    /* index of its first series */
    uint16_t n;        /* its series (fewer than the model's when the fleet is cut) */
    uint8_t kind;      /* trn_bench_kind_t */
    uint8_t resets;    /* 1: zeroed when the host's service restarts */
    uint32_t host;     /* host index, for restarts and diurnal phase */
    uint16_t n_bounds; /* histogram: finite upper bounds in `bounds` */
    const double *bounds;
    double rate;       /* counter: ticks/s; histogram, summary: observations/s */
    double a, b;       /* counter: a = jitter; gauge: a = step, b = target;
                          histogram, summary: a = median, b = log-sigma */
    double mul, div;   /* value = ticks * mul / div (exact decimal units) */
    double lo, hi;     /* gauge bounds, in ticks */
    double phase;      /* diurnal phase, radians */
    int64_t offset_ms; /* the scraping target's fixed offset within the interval */
    uint64_t rng;      /* xorshift64* state */
    double ticks;      /* counter/gauge state; histogram/summary: observation count */
    double sum;        /* histogram/summary: running sum of observations */
} trn_bench_group_t;

typedef struct trn_bench_fleet {
    uint64_t seed;
    int64_t interval_ms;
    uint32_t n_series, n_hosts, n_groups, series_per_host;
    uint8_t *lbl;              /* encoded remote_write Label fields of every series, owned */
    size_t *lbl_off;           /* n_series + 1 offsets into lbl, owned */
    double *value;             /* current value of every series, owned */
    trn_bench_group_t *groups; /* owned */
    size_t n_families;
    char **family_names; /* metric names in first-seen order, owned */
    uint32_t *family_counts;
} trn_bench_fleet_t;

/* Builds a fleet of exactly n_series series (the last host may be partial).
 * Returns 0, or -1 if n_series is 0. Release with _fini. */
int trn_bench_fleet_build(trn_bench_fleet_t *f, uint32_t n_series, uint64_t seed,
                          int64_t interval_ms);
void trn_bench_fleet_fini(trn_bench_fleet_t *f);

/* Advances g to `step` and writes its series' values into f->value. Each
 * group must see steps 0, 1, 2, ... in order; distinct groups may be
 * stepped from different threads. */
void trn_bench_fleet_step(trn_bench_fleet_t *f, trn_bench_group_t *g, uint32_t step);

#endif
