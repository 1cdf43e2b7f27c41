/* SPDX-License-Identifier: Apache-2.0 */
/* The benchmark's fleet: hosts that each run one HyperSDK service (its
 * metric families from the seed: hypersdk_http_requests_total,
 * hypersdk_request_duration_seconds, hypersdk_jobs_*, hypersdk_active_jobs,
 * hypersdk_export_duration_seconds, ...), the kubelet's container memory
 * series for its pod, and a node exporter. One host is 412 series; a fleet
 * of S series is S/412 hosts, the last one cut short.
 *
 * Values are shaped like real ones because storage engines are sensitive to
 * value shape: counters are integers (or centiseconds, or bytes) growing by
 * jittered increments and reset to zero when their host's service restarts
 * (a rare, per-host event, so all of a service's counters reset together);
 * gauges are bounded mean-reverting random walks in their natural unit
 * (pages of 4096 bytes, centi-load, whole jobs); histograms are classic
 * cumulative buckets fed by a log-normal latency distribution whose median
 * drifts with load, with a full-precision float _sum; request rates follow
 * a daily cycle with a per-host phase.
 *
 * Determinism: every group owns an xorshift64* stream seeded from (seed,
 * group index) and is stepped in time order by one thread, and host
 * restarts are a pure hash of (seed, host, step), so the values do not
 * depend on how groups are spread over sending threads. Values are
 * computed as integer ticks scaled by an exact ratio (ticks * mul / div) so
 * that a centisecond counter reads 1234.56, not 1234.5600000000002. */
#include "fleet.h"
#include "rw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESTART_PER_STEP (1.0 / 4000.0) /* per host and 15 s step: ~1 restart per 17 h */
#define DAY_S 86400.0

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "trine-benchgen: out of memory (%zu bytes)\n", n);
        abort();
    }
    return q;
}

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static double hash01(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t h = splitmix64(a ^ splitmix64(b ^ splitmix64(c)));
    return (double)(h >> 11) * 0x1.0p-53;
}

static double next01(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return (double)((x * 0x2545f4914f6cdd1dULL) >> 11) * 0x1.0p-53;
}

/* Rounds x up or down at random so that the expectation stays x. */
static double stoch_round(double x, uint64_t *s)
{
    return floor(x + next01(s));
}

/* ---- the catalogue ---------------------------------------------------- */

static const double k_http_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
static const double k_export_bounds[] = {1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600};
#define N_HTTP_BOUNDS (sizeof k_http_bounds / sizeof k_http_bounds[0])
#define N_EXPORT_BOUNDS (sizeof k_export_bounds / sizeof k_export_bounds[0])

static const struct endpoint {
    const char *method, *path;
    double rate;   /* requests/s on an average host */
    double median; /* latency, seconds */
} k_endpoints[] = {
    {"GET", "/health", 0.2, 0.002},
    {"GET", "/metrics", 0.0667, 0.01},
    {"GET", "/api/v1/jobs", 1.5, 0.03},
    {"POST", "/api/v1/jobs", 0.3, 0.08},
    {"GET", "/api/v1/jobs/{id}", 2.0, 0.015},
    {"DELETE", "/api/v1/jobs/{id}", 0.05, 0.05},
    {"POST", "/api/v1/export", 0.1, 0.25},
    {"GET", "/api/v1/vms", 0.8, 0.4},
    {"GET", "/api/v1/providers", 0.2, 0.01},
    {"GET", "/api/v1/schedules", 0.3, 0.02},
    {"POST", "/api/v1/schedules", 0.02, 0.06},
    {"POST", "/api/v1/webhooks", 0.05, 0.12},
};

static const struct status {
    const char *code; /* "2xx" is 200 for reads, 201 for POST */
    double share;
    int is_5xx;
} k_statuses[] = {
    {"2xx", 0.93, 0}, {"400", 0.03, 0}, {"404", 0.03, 0}, {"500", 0.007, 1}, {"503", 0.003, 1},
};

static const struct provider {
    const char *name;
    double jobs_rate;     /* jobs/s on an average host */
    double export_median; /* seconds */
} k_providers[] = {
    {"vsphere", 0.02, 300}, {"aws", 0.015, 240},    {"azure", 0.01, 260},
    {"gcp", 0.008, 200},    {"hyperv", 0.005, 420}, {"proxmox", 0.004, 180},
};

static const struct cpu_mode {
    const char *mode;
    double share;
} k_cpu_modes[] = {
    {"idle", 0.70},    {"iowait", 0.03}, {"irq", 0.005},   {"nice", 0.003},
    {"softirq", 0.01}, {"steal", 0.002}, {"system", 0.06}, {"user", 0.15},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_LABELS 12

typedef struct {
    const char *name[MAX_LABELS];
    const char *value[MAX_LABELS];
    int n;
} lset_t;

typedef struct {
    trn_bench_fleet_t *f;
    uint32_t limit;
    size_t lbl_cap, groups_cap;
    uint32_t host;
    int64_t offset_ms;      /* of the target whose series are being added */
    trn_bench_group_t *cur; /* group receiving series */
} builder_t;

static void lset_push(lset_t *ls, const char *name, const char *value)
{
    ls->name[ls->n] = name;
    ls->value[ls->n] = value;
    ls->n++;
}

static int is_full(const builder_t *b)
{
    return b->f->n_series >= b->limit;
}

static void count_family(trn_bench_fleet_t *f, const char *name)
{
    for (size_t i = 0; i < f->n_families; i++) {
        if (strcmp(f->family_names[i], name) == 0) {
            f->family_counts[i]++;
            return;
        }
    }
    f->family_names = xrealloc(f->family_names, (f->n_families + 1) * sizeof(char *));
    f->family_counts = xrealloc(f->family_counts, (f->n_families + 1) * sizeof(uint32_t));
    size_t len = strlen(name) + 1;
    f->family_names[f->n_families] = memcpy(xrealloc(NULL, len), name, len);
    f->family_counts[f->n_families] = 1;
    f->n_families++;
}

/* Appends one series (base labels + metric name + optional extra label) to
 * the current group, labels sorted by name as remote_write requires. */
static void add_series(builder_t *b, const lset_t *base, const char *metric, const char *xname,
                       const char *xvalue)
{
    trn_bench_fleet_t *f = b->f;
    if (is_full(b)) return;
    lset_t ls = *base;
    lset_push(&ls, "__name__", metric);
    if (xname) lset_push(&ls, xname, xvalue);
    for (int i = 1; i < ls.n; i++) { /* insertion sort: at most a dozen labels */
        for (int j = i; j > 0 && strcmp(ls.name[j - 1], ls.name[j]) > 0; j--) {
            const char *tn = ls.name[j], *tv = ls.value[j];
            ls.name[j] = ls.name[j - 1];
            ls.value[j] = ls.value[j - 1];
            ls.name[j - 1] = tn;
            ls.value[j - 1] = tv;
        }
    }
    size_t need = 0;
    for (int i = 0; i < ls.n; i++)
        need += trn_bench_rw_label_size(ls.name[i], ls.value[i]);
    size_t off = f->lbl_off[f->n_series];
    if (off + need > b->lbl_cap) {
        b->lbl_cap = (off + need) * 2;
        f->lbl = xrealloc(f->lbl, b->lbl_cap);
    }
    for (int i = 0; i < ls.n; i++)
        off += trn_bench_rw_encode_label(f->lbl + off, ls.name[i], ls.value[i]);
    f->n_series++;
    f->lbl_off[f->n_series] = off;
    b->cur->n++;
    count_family(f, metric);
}

static trn_bench_group_t *new_group(builder_t *b, trn_bench_kind_t kind, double rate)
{
    trn_bench_fleet_t *f = b->f;
    if (f->n_groups == b->groups_cap) {
        b->groups_cap = b->groups_cap ? b->groups_cap * 2 : 1024;
        f->groups = xrealloc(f->groups, b->groups_cap * sizeof *f->groups);
    }
    trn_bench_group_t *g = &f->groups[f->n_groups++];
    memset(g, 0, sizeof *g);
    g->first = f->n_series;
    g->kind = (uint8_t)kind;
    g->host = b->host;
    g->rate = rate;
    g->mul = 1;
    g->div = 1;
    g->rng = splitmix64(f->seed ^ splitmix64(f->n_groups)) | 1;
    g->phase = 2 * M_PI * hash01(f->seed, b->host, 0x9a5e);
    g->offset_ms = b->offset_ms;
    b->cur = g;
    return g;
}

/* Drops a group that received no series because the fleet is full. */
static void close_group(builder_t *b)
{
    if (b->cur && b->cur->n == 0) b->f->n_groups--;
    b->cur = NULL;
}

static void counter(builder_t *b, const lset_t *base, const char *metric, const char *xn,
                    const char *xv, double ticks_per_s, double div, int resets)
{
    trn_bench_group_t *g = new_group(b, TRN_BENCH_COUNTER, ticks_per_s);
    g->a = 0.3;
    g->div = div;
    g->resets = (uint8_t)resets;
    /* The process has been up for a while: start at up to a day's worth. */
    g->ticks = floor(ticks_per_s * DAY_S * next01(&g->rng));
    add_series(b, base, metric, xn, xv);
    close_group(b);
}

static void gauge(builder_t *b, const lset_t *base, const char *metric, const char *xn,
                  const char *xv, double target, double step, double lo, double hi, double mul,
                  double div)
{
    trn_bench_group_t *g = new_group(b, TRN_BENCH_GAUGE, 0);
    g->a = step;
    g->b = target;
    g->lo = lo;
    g->hi = hi;
    g->mul = mul;
    g->div = div;
    g->ticks = round(target + step * (2 * next01(&g->rng) - 1));
    add_series(b, base, metric, xn, xv);
    close_group(b);
}

static void constant(builder_t *b, const lset_t *base, const char *metric, const char *xn,
                     const char *xv, double v)
{
    trn_bench_group_t *g = new_group(b, TRN_BENCH_CONST, 0);
    g->ticks = v;
    add_series(b, base, metric, xn, xv);
    close_group(b);
}

static void fmt_bound(char *dst, size_t cap, double v)
{
    snprintf(dst, cap, "%.17g", v);
    /* Shortest form that round-trips, like the Go client's le labels. */
    for (int prec = 1; prec <= 17; prec++) {
        char tmp[40];
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v) {
            snprintf(dst, cap, "%s", tmp);
            return;
        }
    }
}

static void histogram(builder_t *b, const lset_t *base, const char *family, const double *bounds,
                      size_t n_bounds, double rate, double median, double sigma)
{
    trn_bench_group_t *g = new_group(b, TRN_BENCH_HISTOGRAM, rate);
    g->bounds = bounds;
    g->n_bounds = (uint16_t)n_bounds;
    g->a = median;
    g->b = sigma;
    g->resets = 1;
    char name[96], le[40];
    snprintf(name, sizeof name, "%s_bucket", family);
    for (size_t i = 0; i < n_bounds; i++) {
        fmt_bound(le, sizeof le, bounds[i]);
        add_series(b, base, name, "le", le);
    }
    add_series(b, base, name, "le", "+Inf");
    snprintf(name, sizeof name, "%s_sum", family);
    add_series(b, base, name, NULL, NULL);
    snprintf(name, sizeof name, "%s_count", family);
    add_series(b, base, name, NULL, NULL);
    close_group(b);
}

static void summary(builder_t *b, const lset_t *base, const char *family, double rate,
                    double median, double sigma)
{
    trn_bench_group_t *g = new_group(b, TRN_BENCH_SUMMARY, rate);
    g->a = median;
    g->b = sigma;
    g->resets = 1;
    char name[96];
    add_series(b, base, family, "quantile", "0.5");
    add_series(b, base, family, "quantile", "0.9");
    add_series(b, base, family, "quantile", "0.99");
    snprintf(name, sizeof name, "%s_sum", family);
    add_series(b, base, name, NULL, NULL);
    snprintf(name, sizeof name, "%s_count", family);
    add_series(b, base, name, NULL, NULL);
    close_group(b);
}

/* Label values must outlive the builder: they are copied into the encoded
 * label block by add_series, so stack buffers per host are fine. */
static void emit_host(builder_t *b, uint32_t h)
{
    trn_bench_fleet_t *f = b->f;
    b->host = h;
    char ip[32], inst_app[48], inst_node[48], inst_kubelet[48], pod[48];
    snprintf(ip, sizeof ip, "10.%u.%u.%u", h / 62500, (h / 250) % 250, h % 250 + 1);
    snprintf(inst_app, sizeof inst_app, "%s:8080", ip);
    snprintf(inst_node, sizeof inst_node, "%s:9100", ip);
    snprintf(inst_kubelet, sizeof inst_kubelet, "%s:10250", ip);
    uint64_t ph = splitmix64(f->seed ^ ((uint64_t)h << 20));
    snprintf(pod, sizeof pod, "hypersdk-%08x-%05x", (unsigned)(ph >> 32), (unsigned)(ph & 0xfffff));
    double load = 0.5 + hash01(f->seed, h, 1); /* host traffic factor */
    int bad = hash01(f->seed, h, 2) < 0.05;    /* a struggling host */

    /* Each target is scraped at its own offset within the interval, so
     * sample timestamps are not all on one grid (real scrape loops spread
     * targets the same way); query windows then rarely start exactly on a
     * sample, where engines' boundary rules differ. */
    b->offset_ms = (int64_t)(hash01(f->seed, h, 100) * (double)f->interval_ms);
    lset_t app = {0};
    lset_push(&app, "instance", inst_app);
    lset_push(&app, "job", "hypersdk");
    lset_push(&app, "namespace", "hypersdk");
    lset_push(&app, "pod", pod);

    constant(b, &app, "up", NULL, NULL, 1);
    for (size_t e = 0; e < N(k_endpoints); e++) {
        const struct endpoint *ep = &k_endpoints[e];
        lset_t ls = app;
        lset_push(&ls, "endpoint", ep->path);
        lset_push(&ls, "method", ep->method);
        for (size_t s = 0; s < N(k_statuses); s++) {
            const struct status *st = &k_statuses[s];
            const char *code = st->code;
            if (strcmp(code, "2xx") == 0) code = strcmp(ep->method, "POST") == 0 ? "201" : "200";
            double r = ep->rate * load * st->share * (bad && st->is_5xx ? 25 : 1);
            counter(b, &ls, "hypersdk_http_requests_total", "status", code, r, 1, 1);
        }
    }
    for (size_t e = 0; e < N(k_endpoints); e++) {
        const struct endpoint *ep = &k_endpoints[e];
        lset_t ls = app;
        lset_push(&ls, "endpoint", ep->path);
        lset_push(&ls, "method", ep->method);
        histogram(b, &ls, "hypersdk_request_duration_seconds", k_http_bounds, N_HTTP_BOUNDS,
                  ep->rate * load, ep->median * (bad ? 3 : 1), 0.8);
    }
    for (size_t p = 0; p < N(k_providers); p++)
        counter(b, &app, "hypersdk_jobs_completed_total", "provider", k_providers[p].name,
                k_providers[p].jobs_rate * load, 1, 1);
    for (size_t p = 0; p < N(k_providers); p++)
        counter(b, &app, "hypersdk_jobs_failed_total", "provider", k_providers[p].name,
                k_providers[p].jobs_rate * load * (bad ? 0.4 : 0.04), 1, 1);
    for (size_t p = 0; p < N(k_providers); p++)
        gauge(b, &app, "hypersdk_active_jobs", "provider", k_providers[p].name,
              round(k_providers[p].jobs_rate * load * 200), 1.6, 0, 40, 1, 1);
    for (size_t p = 0; p < N(k_providers); p++) {
        lset_t ls = app;
        lset_push(&ls, "provider", k_providers[p].name);
        counter(b, &ls, "hypersdk_exports_total", "status", "success",
                k_providers[p].jobs_rate * load * 0.96, 1, 1);
        counter(b, &ls, "hypersdk_exports_total", "status", "failure",
                k_providers[p].jobs_rate * load * 0.04, 1, 1);
    }
    for (size_t p = 0; p < N(k_providers); p++) {
        lset_t ls = app;
        lset_push(&ls, "provider", k_providers[p].name);
        histogram(b, &ls, "hypersdk_export_duration_seconds", k_export_bounds, N_EXPORT_BOUNDS,
                  k_providers[p].jobs_rate * load, k_providers[p].export_median, 0.9);
    }
    counter(b, &app, "hypersdk_database_errors_total", NULL, NULL, bad ? 0.03 : 0.001, 1, 1);
    for (size_t e = 0; e < N(k_endpoints); e++) {
        const struct endpoint *ep = &k_endpoints[e];
        if (strcmp(ep->method, "POST") != 0 || e > 6) continue; /* three upload endpoints */
        lset_t ls = app;
        lset_push(&ls, "endpoint", ep->path);
        lset_push(&ls, "method", ep->method);
        summary(b, &ls, "hypersdk_request_size_bytes", ep->rate * load, 2048, 1.2);
    }
    /* Process collector: RSS in pages, CPU in centiseconds, like /proc. */
    gauge(b, &app, "process_resident_memory_bytes", NULL, NULL, 60000, 400, 20000, 200000, 4096, 1);
    counter(b, &app, "process_cpu_seconds_total", NULL, NULL, 15 * load, 100, 1);
    gauge(b, &app, "process_open_fds", NULL, NULL, 40, 3, 10, 1024, 1, 1);
    gauge(b, &app, "go_goroutines", NULL, NULL, 80, 6, 20, 2000, 1, 1);

    b->offset_ms = (int64_t)(hash01(f->seed, h, 101) * (double)f->interval_ms);
    lset_t kub = {0};
    lset_push(&kub, "container", "hypersdk");
    lset_push(&kub, "instance", inst_kubelet);
    lset_push(&kub, "job", "kubelet");
    lset_push(&kub, "namespace", "hypersdk");
    lset_push(&kub, "pod", pod);
    gauge(b, &kub, "container_memory_usage_bytes", NULL, NULL, bad ? 121000 : 70000, 500, 10000,
          131072, 4096, 1);
    constant(b, &kub, "container_spec_memory_limit_bytes", NULL, NULL, 536870912);

    b->offset_ms = (int64_t)(hash01(f->seed, h, 102) * (double)f->interval_ms);
    lset_t node = {0};
    lset_push(&node, "instance", inst_node);
    lset_push(&node, "job", "node-exporter");
    static const char *cpus[] = {"0", "1", "2", "3"};
    for (size_t c = 0; c < N(cpus); c++) {
        lset_t ls = node;
        lset_push(&ls, "cpu", cpus[c]);
        for (size_t m = 0; m < N(k_cpu_modes); m++) {
            double share = k_cpu_modes[m].share;
            if (strcmp(k_cpu_modes[m].mode, "user") == 0) share *= load;
            counter(b, &ls, "node_cpu_seconds_total", "mode", k_cpu_modes[m].mode, 100 * share, 100,
                    0);
        }
    }
    constant(b, &node, "node_memory_MemTotal_bytes", NULL, NULL, 17179869184.0);
    gauge(b, &node, "node_memory_MemAvailable_bytes", NULL, NULL, 2097152 / load, 2000, 100000,
          4194304, 4096, 1);
    gauge(b, &node, "node_memory_MemFree_bytes", NULL, NULL, 524288, 1500, 20000, 4194304, 4096, 1);
    gauge(b, &node, "node_memory_Cached_bytes", NULL, NULL, 1310720, 800, 100000, 4194304, 4096, 1);
    gauge(b, &node, "node_memory_Buffers_bytes", NULL, NULL, 65536, 50, 1000, 1048576, 4096, 1);
    gauge(b, &node, "node_load1", NULL, NULL, 120 * load, 30, 0, 1600, 1, 100);
    gauge(b, &node, "node_load5", NULL, NULL, 120 * load, 10, 0, 1600, 1, 100);
    gauge(b, &node, "node_load15", NULL, NULL, 120 * load, 4, 0, 1600, 1, 100);
    static const struct {
        const char *device, *fstype, *mountpoint;
        double size_blocks; /* 4096-byte blocks */
    } fs[] = {{"/dev/sda1", "ext4", "/", 26214400},
              {"/dev/sdb1", "xfs", "/var/lib/hypersdk", 131072000}};
    for (size_t i = 0; i < N(fs); i++) {
        lset_t ls = node;
        lset_push(&ls, "device", fs[i].device);
        lset_push(&ls, "fstype", fs[i].fstype);
        lset_push(&ls, "mountpoint", fs[i].mountpoint);
        double avail = fs[i].size_blocks * (0.2 + 0.6 * hash01(f->seed, h, 10 + i));
        gauge(b, &ls, "node_filesystem_avail_bytes", NULL, NULL, avail, 300, 0, fs[i].size_blocks,
              4096, 1);
        constant(b, &ls, "node_filesystem_size_bytes", NULL, NULL, fs[i].size_blocks * 4096);
    }
    static const struct {
        const char *device;
        double rx, tx; /* bytes/s */
    } nics[] = {{"eth0", 2e6, 1e6}, {"lo", 5e4, 5e4}};
    for (size_t i = 0; i < N(nics); i++) {
        counter(b, &node, "node_network_receive_bytes_total", "device", nics[i].device,
                nics[i].rx * load, 1, 0);
        counter(b, &node, "node_network_transmit_bytes_total", "device", nics[i].device,
                nics[i].tx * load, 1, 0);
    }
    static const struct {
        const char *device;
        double rd, wr; /* bytes/s */
    } disks[] = {{"sda", 1e5, 5e5}, {"sdb", 3e6, 8e6}};
    for (size_t i = 0; i < N(disks); i++) {
        counter(b, &node, "node_disk_read_bytes_total", "device", disks[i].device,
                disks[i].rd * load, 1, 0);
        counter(b, &node, "node_disk_written_bytes_total", "device", disks[i].device,
                disks[i].wr * load, 1, 0);
    }
    counter(b, &node, "node_context_switches_total", NULL, NULL, 3000 * load, 1, 0);
}

int trn_bench_fleet_build(trn_bench_fleet_t *f, uint32_t n_series, uint64_t seed,
                          int64_t interval_ms)
{
    memset(f, 0, sizeof *f);
    if (n_series == 0) return -1;
    f->seed = seed;
    f->interval_ms = interval_ms;
    f->lbl_off = xrealloc(NULL, ((size_t)n_series + 1) * sizeof *f->lbl_off);
    f->lbl_off[0] = 0;
    builder_t b = {.f = f, .limit = n_series};
    uint32_t h = 0;
    while (!is_full(&b)) {
        emit_host(&b, h++);
        if (h == 1) f->series_per_host = f->n_series;
    }
    f->n_hosts = h;
    f->value = xrealloc(NULL, (size_t)n_series * sizeof *f->value);
    memset(f->value, 0, (size_t)n_series * sizeof *f->value);
    return 0;
}

void trn_bench_fleet_fini(trn_bench_fleet_t *f)
{
    free(f->lbl);
    free(f->lbl_off);
    free(f->value);
    free(f->groups);
    for (size_t i = 0; i < f->n_families; i++)
        free(f->family_names[i]);
    free(f->family_names);
    free(f->family_counts);
    memset(f, 0, sizeof *f);
}

/* ---- the models -------------------------------------------------------- */

static int host_restarts(const trn_bench_fleet_t *f, uint32_t host, uint32_t step)
{
    return step > 0 && hash01(f->seed ^ 0x7e57a47ULL, host, step) < RESTART_PER_STEP;
}

/* Load of the day: 0.7 .. 1.3 with the host's phase. */
static double diurnal(const trn_bench_fleet_t *f, const trn_bench_group_t *g, uint32_t step)
{
    double t = (double)step * (double)f->interval_ms / 1000.0;
    return 1.0 + 0.3 * sin(2 * M_PI * t / DAY_S + g->phase);
}

static double lognormal_cdf(double x, double median, double sigma)
{
    if (x <= 0) return 0;
    return 0.5 * erfc(-(log(x) - log(median)) / (sigma * M_SQRT2));
}

static void step_observations(trn_bench_fleet_t *f, trn_bench_group_t *g, uint32_t step,
                              double *n_out, double *median_out)
{
    double dt = (double)f->interval_ms / 1000.0;
    double load = diurnal(f, g, step);
    double n = stoch_round(g->rate * load * dt * (1 + 0.3 * (2 * next01(&g->rng) - 1)), &g->rng);
    /* Latency grows a little with load. */
    *median_out = g->a * (0.8 + 0.4 * (load - 0.7) / 0.6);
    *n_out = n;
}

static void step_histogram(trn_bench_fleet_t *f, trn_bench_group_t *g, uint32_t step)
{
    double *v = f->value + g->first;
    uint32_t nb = g->n_bounds;
    double n, median;
    step_observations(f, g, step, &n, &median);
    /* Bucket k (cumulative) holds observations <= bounds[k]; split the new
     * observations by the distribution's mass per bucket, rounding each
     * share at random, and let +Inf and _count be the sum of the splits so
     * the buckets stay exactly cumulative. */
    double prev_cdf = 0, cum = 0, sum = 0, prev_bound = 0;
    for (uint32_t k = 0; k <= nb; k++) {
        double cdf = k < nb ? lognormal_cdf(g->bounds[k], median, g->b) : 1.0;
        double inc = stoch_round(n * (cdf - prev_cdf), &g->rng);
        double mid = k < nb ? (k == 0 ? g->bounds[0] / 2 : (prev_bound + g->bounds[k]) / 2)
                            : prev_bound * 1.5;
        sum += inc * mid * (0.8 + 0.4 * next01(&g->rng));
        cum += inc;
        if (k < g->n) v[k] += cum; /* the bucket values are the cumulative counts */
        prev_cdf = cdf;
        if (k < nb) prev_bound = g->bounds[k];
    }
    g->ticks += cum;
    g->sum += sum;
    if (nb + 1u < g->n) v[nb + 1] = g->sum;
    if (nb + 2u < g->n) v[nb + 2] = g->ticks;
}

static void step_summary(trn_bench_fleet_t *f, trn_bench_group_t *g, uint32_t step)
{
    static const double z[3] = {0.0, 1.2815515655446004, 2.3263478740408408};
    double *v = f->value + g->first;
    double n, median;
    step_observations(f, g, step, &n, &median);
    for (uint32_t q = 0; q < 3 && q < g->n; q++)
        v[q] = round(median * exp(g->b * z[q]) * (0.85 + 0.3 * next01(&g->rng)));
    double mean = median * exp(g->b * g->b / 2);
    g->sum += round(n * mean * (0.9 + 0.2 * next01(&g->rng)));
    g->ticks += n;
    if (3 < g->n) v[3] = g->sum;
    if (4 < g->n) v[4] = g->ticks;
}

void trn_bench_fleet_step(trn_bench_fleet_t *f, trn_bench_group_t *g, uint32_t step)
{
    double *v = f->value + g->first;
    if (g->resets && host_restarts(f, g->host, step)) {
        g->ticks = 0;
        g->sum = 0;
        for (uint32_t i = 0; i < g->n; i++)
            v[i] = 0;
    }
    switch ((trn_bench_kind_t)g->kind) {
    case TRN_BENCH_CONST:
        v[0] = g->ticks;
        break;
    case TRN_BENCH_COUNTER: {
        double dt = (double)f->interval_ms / 1000.0;
        double x = g->rate * diurnal(f, g, step) * dt * (1 + g->a * (2 * next01(&g->rng) - 1));
        g->ticks += stoch_round(x, &g->rng);
        v[0] = g->ticks * g->mul / g->div;
        break;
    }
    case TRN_BENCH_GAUGE: {
        double t = g->ticks + (g->b - g->ticks) * 0.05 + g->a * (2 * next01(&g->rng) - 1);
        t = round(t);
        if (t < g->lo) t = g->lo;
        if (t > g->hi) t = g->hi;
        g->ticks = t;
        v[0] = t * g->mul / g->div;
        break;
    }
    case TRN_BENCH_HISTOGRAM:
        step_histogram(f, g, step);
        break;
    case TRN_BENCH_SUMMARY:
        step_summary(f, g, step);
        break;
    }
}
