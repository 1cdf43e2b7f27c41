/* SPDX-License-Identifier: Apache-2.0 */
/* trine-benchgen: the benchmark's workload generator. It builds the
 * simulated fleet (fleet.c), then pushes one sample per series per interval
 * over the simulated time range [start, end) — step k of a target at
 * start + k * interval + the target's offset — as remote_write requests of a fixed number
 * of samples (rw.c), on several keep-alive connections at once (push.c), as
 * fast as the target accepts them, and prints one JSON object with what was
 * sent, accepted and rejected.
 *
 * Each sending thread owns a contiguous slice of the series (cut on group
 * boundaries so a histogram's buckets stay together) and walks it time step
 * by time step. Targets such as Prometheus only accept samples within about
 * an hour behind the newest one they have seen, so threads stay in loose
 * lockstep: none starts step t before every thread has finished step
 * t - max_skew. A request may straddle two steps, as a real remote_write
 * shard's would.
 *
 * With --out FILE the requests are written to FILE instead (each as a
 * little-endian u32 length and the snappy body), by one thread, which makes
 * the output a deterministic function of the arguments: the smoke test
 * checks that, and decodes it. */
#include "fleet.h"
#include "push.h"
#include "rw.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TWO_HOURS_MS (2 * 3600 * 1000LL)

typedef struct opts {
    const char *url, *out;
    uint32_t n_series, conns, batch, max_skew;
    int64_t range_ms, interval_ms, start_ms;
    uint64_t seed;
    int describe, progress;
} opts_t;

typedef struct shared {
    const opts_t *o;
    trn_bench_fleet_t *fleet;
    uint32_t n_steps;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint32_t *done; /* steps finished per thread, guarded by mu */
    atomic_int stop;
    FILE *out;
} shared_t;

typedef struct worker {
    shared_t *sh;
    uint32_t idx;
    uint32_t g_lo, g_hi; /* groups [g_lo, g_hi) */
    trn_bench_rw_t rw;
    trn_bench_push_t push;
    uint64_t samples_written; /* --out mode */
    int failed;
} worker_t;

static void usage(void)
{
    fputs("usage: trine-benchgen (--url URL | --out FILE | --describe) [--series N]\n"
          "         [--range DUR] [--interval DUR] [--start UNIX_MS] [--seed N]\n"
          "         [--conns N] [--batch N] [--max-skew STEPS] [--progress]\n"
          "  --url       remote_write endpoint, e.g. http://127.0.0.1:9090/api/v1/write\n"
          "  --out       write framed requests (u32le length + snappy body) to FILE\n"
          "  --describe  print the fleet (series per family, hosts, steps) as JSON\n"
          "  defaults: --series 10000 --range 2h --interval 15s --seed 1 --conns 4\n"
          "            --batch 2000 --max-skew 2 --start = a 2h boundary, range+2h ago\n",
          stderr);
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-') return -1;
    *out = v;
    return 0;
}

/* Durations: an integer and a unit among ms, s, m, h, d (e.g. 15s, 2h). */
static int parse_duration_ms(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || v <= 0) return -1;
    int64_t mul;
    if (strcmp(end, "ms") == 0)
        mul = 1;
    else if (strcmp(end, "s") == 0)
        mul = 1000;
    else if (strcmp(end, "m") == 0)
        mul = 60000;
    else if (strcmp(end, "h") == 0)
        mul = 3600000;
    else if (strcmp(end, "d") == 0)
        mul = 86400000;
    else
        return -1;
    *out = (int64_t)v * mul;
    return 0;
}

static int parse_args(int argc, char **argv, opts_t *o)
{
    *o = (opts_t){.n_series = 10000,
                  .conns = 4,
                  .batch = 2000,
                  .max_skew = 2,
                  .range_ms = TWO_HOURS_MS,
                  .interval_ms = 15000,
                  .start_ms = -1,
                  .seed = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t u;
        int bad = 0;
        if (strcmp(a, "--describe") == 0) {
            o->describe = 1;
            continue;
        }
        if (strcmp(a, "--progress") == 0) {
            o->progress = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "trine-benchgen: %s needs a value\n", a);
            return -1;
        }
        i++;
        if (strcmp(a, "--url") == 0)
            o->url = v;
        else if (strcmp(a, "--out") == 0)
            o->out = v;
        else if (strcmp(a, "--series") == 0)
            bad = parse_u64(v, &u) || u == 0 || u > 50000000 || ((o->n_series = (uint32_t)u), 0);
        else if (strcmp(a, "--conns") == 0)
            bad = parse_u64(v, &u) || u == 0 || u > 64 || ((o->conns = (uint32_t)u), 0);
        else if (strcmp(a, "--batch") == 0)
            bad = parse_u64(v, &u) || u == 0 || u > 1000000 || ((o->batch = (uint32_t)u), 0);
        else if (strcmp(a, "--max-skew") == 0)
            bad = parse_u64(v, &u) || u > 1000 || ((o->max_skew = (uint32_t)u), 0);
        else if (strcmp(a, "--seed") == 0)
            bad = parse_u64(v, &o->seed);
        else if (strcmp(a, "--start") == 0)
            bad = parse_u64(v, &u) || u > (uint64_t)INT64_MAX || ((o->start_ms = (int64_t)u), 0);
        else if (strcmp(a, "--range") == 0)
            bad = parse_duration_ms(v, &o->range_ms);
        else if (strcmp(a, "--interval") == 0)
            bad = parse_duration_ms(v, &o->interval_ms);
        else {
            fprintf(stderr, "trine-benchgen: unknown option %s\n", a);
            return -1;
        }
        if (bad) {
            fprintf(stderr, "trine-benchgen: bad value for %s: %s\n", a, v);
            return -1;
        }
    }
    if (!o->describe && !o->url == !o->out) {
        fputs("trine-benchgen: give exactly one of --url and --out\n", stderr);
        return -1;
    }
    if (o->range_ms < o->interval_ms) {
        fputs("trine-benchgen: --range is shorter than --interval\n", stderr);
        return -1;
    }
    if (o->start_ms < 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        o->start_ms = (now_ms - o->range_ms - TWO_HOURS_MS) / TWO_HOURS_MS * TWO_HOURS_MS;
    }
    if (o->out) o->conns = 1;
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int flush_batch(worker_t *w)
{
    if (w->rw.n_samples == 0) return 0;
    const char *body;
    size_t len;
    int rc = trn_bench_rw_compress(&w->rw, &body, &len);
    if (rc == 0) {
        if (w->sh->out) {
            uint8_t hdr[4] = {(uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16),
                              (uint8_t)(len >> 24)};
            if (fwrite(hdr, 1, 4, w->sh->out) != 4 || fwrite(body, 1, len, w->sh->out) != len)
                rc = -1;
            else
                w->samples_written += w->rw.n_samples;
        } else {
            rc = trn_bench_push_send(&w->push, body, len, w->rw.n_samples);
        }
    }
    trn_bench_rw_reset(&w->rw);
    return rc;
}

static void wait_turn(shared_t *sh, uint32_t step)
{
    if (step < sh->o->max_skew) return;
    pthread_mutex_lock(&sh->mu);
    for (;;) {
        uint32_t min_done = UINT32_MAX;
        for (uint32_t i = 0; i < sh->o->conns; i++)
            if (sh->done[i] < min_done) min_done = sh->done[i];
        if (min_done + sh->o->max_skew >= step || atomic_load(&sh->stop)) break;
        pthread_cond_wait(&sh->cv, &sh->mu);
    }
    pthread_mutex_unlock(&sh->mu);
}

static void mark_done(shared_t *sh, uint32_t idx, uint32_t steps)
{
    pthread_mutex_lock(&sh->mu);
    sh->done[idx] = steps;
    pthread_cond_broadcast(&sh->cv);
    pthread_mutex_unlock(&sh->mu);
}

static void *run_worker(void *arg)
{
    worker_t *w = arg;
    shared_t *sh = w->sh;
    trn_bench_fleet_t *f = sh->fleet;
    const opts_t *o = sh->o;
    for (uint32_t step = 0; step < sh->n_steps && !atomic_load(&sh->stop); step++) {
        wait_turn(sh, step);
        int64_t ts = o->start_ms + (int64_t)step * o->interval_ms;
        for (uint32_t gi = w->g_lo; gi < w->g_hi; gi++) {
            trn_bench_group_t *g = &f->groups[gi];
            trn_bench_fleet_step(f, g, step);
            int64_t t = ts + g->offset_ms;
            for (uint32_t k = 0; k < g->n; k++) {
                uint32_t s = g->first + k;
                trn_bench_rw_add(&w->rw, f->lbl + f->lbl_off[s], f->lbl_off[s + 1] - f->lbl_off[s],
                                 f->value[s], t);
                if (w->rw.n_samples >= o->batch && flush_batch(w) < 0) {
                    w->failed = 1;
                    atomic_store(&sh->stop, 1);
                    goto out;
                }
            }
        }
        mark_done(sh, w->idx, step + 1);
        if (o->progress && w->idx == 0 && (step + 1) % 20 == 0)
            fprintf(stderr, "trine-benchgen: step %u/%u\n", step + 1, sh->n_steps);
    }
    if (!atomic_load(&sh->stop) && flush_batch(w) < 0) {
        w->failed = 1;
        atomic_store(&sh->stop, 1);
    }
out:
    mark_done(sh, w->idx, sh->n_steps); /* release waiters either way */
    return NULL;
}

static void json_str(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(fp, "\\%c", c);
        else if (c < 0x20)
            fprintf(fp, "\\u%04x", c);
        else
            fputc(c, fp);
    }
    fputc('"', fp);
}

static void print_fleet(FILE *fp, const trn_bench_fleet_t *f, const opts_t *o, uint32_t n_steps)
{
    fprintf(fp,
            "\"series\":%u,\"hosts\":%u,\"series_per_host\":%u,\"groups\":%u,"
            "\"steps\":%u,\"interval_ms\":%" PRId64 ",\"start_ms\":%" PRId64 ",\"end_ms\":%" PRId64
            ",\"samples_planned\":%" PRIu64 ",\"seed\":%" PRIu64 ",\"conns\":%u,\"batch\":%u",
            f->n_series, f->n_hosts, f->series_per_host, f->n_groups, n_steps, o->interval_ms,
            o->start_ms, o->start_ms + (int64_t)n_steps * o->interval_ms,
            (uint64_t)f->n_series * n_steps, o->seed, o->conns, o->batch);
}

int main(int argc, char **argv)
{
    opts_t o;
    if (parse_args(argc, argv, &o) < 0) {
        usage();
        return 2;
    }
    trn_bench_fleet_t fleet;
    if (trn_bench_fleet_build(&fleet, o.n_series, o.seed, o.interval_ms) < 0) return 2;
    uint32_t n_steps = (uint32_t)(o.range_ms / o.interval_ms);

    if (o.describe) {
        printf("{");
        print_fleet(stdout, &fleet, &o, n_steps);
        printf(",\"families\":{");
        for (size_t i = 0; i < fleet.n_families; i++) {
            if (i) putchar(',');
            json_str(stdout, fleet.family_names[i]);
            printf(":%u", fleet.family_counts[i]);
        }
        printf("}}\n");
        trn_bench_fleet_fini(&fleet);
        return 0;
    }

    shared_t sh = {.o = &o, .fleet = &fleet, .n_steps = n_steps};
    pthread_mutex_init(&sh.mu, NULL);
    pthread_cond_init(&sh.cv, NULL);
    sh.done = calloc(o.conns, sizeof *sh.done);
    worker_t *w = calloc(o.conns, sizeof *w);
    if (!sh.done || !w) {
        fputs("trine-benchgen: out of memory\n", stderr);
        return 1;
    }
    if (o.out) {
        sh.out = fopen(o.out, "wb");
        if (!sh.out) {
            fprintf(stderr, "trine-benchgen: %s: %s\n", o.out, strerror(errno));
            return 1;
        }
    } else {
        curl_global_init(CURL_GLOBAL_ALL);
    }
    /* Slice the groups so that each thread gets about S/conns series. */
    uint32_t gi = 0;
    for (uint32_t t = 0; t < o.conns; t++) {
        w[t].sh = &sh;
        w[t].idx = t;
        w[t].g_lo = gi;
        uint64_t until = (uint64_t)fleet.n_series * (t + 1) / o.conns;
        while (gi < fleet.n_groups && fleet.groups[gi].first < until)
            gi++;
        w[t].g_hi = t + 1 == o.conns ? fleet.n_groups : gi;
        trn_bench_rw_init(&w[t].rw);
        if (o.url && trn_bench_push_init(&w[t].push, o.url) < 0) {
            fputs("trine-benchgen: curl_easy_init failed\n", stderr);
            return 1;
        }
    }

    double t0 = now_s();
    pthread_t *tids = calloc(o.conns, sizeof *tids);
    for (uint32_t t = 0; t < o.conns; t++)
        pthread_create(&tids[t], NULL, run_worker, &w[t]);
    for (uint32_t t = 0; t < o.conns; t++)
        pthread_join(tids[t], NULL);
    double wall = now_s() - t0;

    uint64_t ok = 0, rej = 0, reqs = 0, rej_reqs = 0, retries = 0, bytes = 0;
    const char *first_error = "";
    int failed = 0;
    for (uint32_t t = 0; t < o.conns; t++) {
        ok += o.out ? w[t].samples_written : w[t].push.samples_ok;
        rej += w[t].push.samples_rejected;
        reqs += w[t].push.requests;
        rej_reqs += w[t].push.requests_rejected;
        retries += w[t].push.retries;
        bytes += w[t].push.bytes;
        if (!first_error[0] && w[t].push.first_error[0]) first_error = w[t].push.first_error;
        failed |= w[t].failed;
    }
    if (sh.out && fclose(sh.out) != 0) failed = 1;

    printf("{");
    print_fleet(stdout, &fleet, &o, n_steps);
    printf(",\"samples_ok\":%" PRIu64 ",\"samples_rejected\":%" PRIu64 ",\"requests\":%" PRIu64
           ",\"requests_rejected\":%" PRIu64 ",\"retries\":%" PRIu64 ",\"bytes_sent\":%" PRIu64
           ",\"wall_s\":%.3f,\"samples_per_s\":%.0f,\"completed\":%s,\"first_error\":",
           ok, rej, reqs, rej_reqs, retries, bytes, wall, wall > 0 ? (double)ok / wall : 0.0,
           failed ? "false" : "true");
    json_str(stdout, first_error);
    printf("}\n");

    for (uint32_t t = 0; t < o.conns; t++) {
        trn_bench_rw_fini(&w[t].rw);
        trn_bench_push_fini(&w[t].push);
    }
    if (o.url) curl_global_cleanup();
    free(tids);
    free(w);
    free(sh.done);
    trn_bench_fleet_fini(&fleet);
    return failed ? 1 : 0;
}
