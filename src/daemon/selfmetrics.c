/* SPDX-License-Identifier: Apache-2.0 */
/* Process and store numbers for /metrics, collected at scrape time: the
 * standard process_* families (from /proc/self) and the store's counters
 * under trine_* names. Collecting on demand keeps the hot paths free of
 * metric updates for values the store already counts. */
#include "daemon/daemon.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void family(trn_buf_t *out, const char *name, const char *type, const char *help, double v)
{
    char t[33];
    trn_fmt_float_g(t, v);
    trn_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %s\n", name, help, name, type, name, t);
}

static void collect_process(trn_buf_t *out)
{
    FILE *f = fopen("/proc/self/stat", "r");
    if (f) {
        unsigned long utime = 0, stime = 0;
        unsigned long long start = 0;
        long rss = 0;
        /* fields 14,15 utime stime; 22 starttime; 24 rss */
        int n = fscanf(f,
                       "%*d %*s %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d "
                       "%*d %*d %*d %*d %llu %*u %ld",
                       &utime, &stime, &start, &rss);
        fclose(f);
        if (n == 4) {
            double hz = (double)sysconf(_SC_CLK_TCK);
            family(out, "process_cpu_seconds_total", "counter",
                   "Total user and system CPU time spent in seconds.",
                   (double)(utime + stime) / hz);
            family(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
                   (double)rss * (double)sysconf(_SC_PAGESIZE));
            FILE *up = fopen("/proc/uptime", "r");
            double uptime = 0;
            if (up) {
                if (fscanf(up, "%lf", &uptime) != 1) uptime = 0;
                fclose(up);
            }
            struct timespec now;
            clock_gettime(CLOCK_REALTIME, &now);
            double boot = (double)now.tv_sec - uptime;
            family(out, "process_start_time_seconds", "gauge",
                   "Start time of the process since unix epoch in seconds.",
                   boot + (double)start / hz);
        }
    }
    DIR *dir = opendir("/proc/self/fd");
    if (dir) {
        int fds = 0;
        while (readdir(dir))
            fds++;
        closedir(dir);
        family(out, "process_open_fds", "gauge", "Number of open file descriptors.", fds - 2);
    }
}

static void collect(void *ctx, trn_buf_t *out)
{
    trn_daemon_t *dm = ctx;
    collect_process(out);
    if (!dm->store) return;
    trn_store_stats_t s;
    trn_store_stats(dm->store, &s);
    family(out, "trine_head_series", "gauge", "Series in the in-memory head.",
           (double)s.head_series);
    family(out, "trine_head_samples", "gauge", "Samples in the in-memory head.",
           (double)s.head_samples);
    family(out, "trine_head_chunks", "gauge", "Chunks in the in-memory head.",
           (double)s.head_chunks);
    family(out, "trine_samples_appended_total", "counter", "Samples appended to the store.",
           (double)s.samples_appended);
    family(out, "trine_samples_too_old_total", "counter",
           "Samples rejected as older than the out-of-order window.", (double)s.samples_too_old);
    family(out, "trine_wal_bytes_written_total", "counter", "Bytes written to the WAL.",
           (double)s.wal_bytes_written);
    family(out, "trine_wal_fsyncs_total", "counter", "WAL fsync calls.", (double)s.wal_fsyncs);
    family(out, "trine_wal_corrupt_records_total", "counter",
           "WAL records skipped at replay because they failed their checksum.",
           (double)s.wal_corrupt_records);
    family(out, "trine_blocks", "gauge", "Persisted blocks.", (double)s.blocks);
    family(out, "trine_block_bytes", "gauge", "Bytes in persisted blocks.", (double)s.block_bytes);
    family(out, "trine_compactions_total", "counter", "Compactions run.", (double)s.compactions);
    family(out, "trine_compactions_failed_total", "counter", "Compactions that failed.",
           (double)s.compactions_failed);
    family(out, "trine_retention_deleted_blocks_total", "counter", "Blocks deleted by retention.",
           (double)s.retention_deleted_blocks);
}

void trn_daemon_register_selfmetrics(trn_daemon_t *dm)
{
    trn_registry_add_collector(dm->registry, collect, dm);
}
