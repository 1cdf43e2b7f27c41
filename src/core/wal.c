/* SPDX-License-Identifier: Apache-2.0 */
/* The write-ahead log (format: docs/format/wal.md).
 *
 * Writing. Records are appended to an in-memory pending buffer under a
 * mutex; trn_wal_log returns the log position just past the record. A
 * committer that finds its position not yet durable either waits for the
 * thread already doing I/O, or becomes that thread: it swaps the pending
 * buffer with an empty one, drops the mutex, write(2)s the whole batch and
 * (by mode) fdatasyncs, then wakes everyone whose position is covered. Many
 * concurrent appenders therefore share one write and one fsync — group
 * commit — without any background thread. Only the I/O thread touches the
 * file descriptor, and segment rolls happen there between batches, so a
 * record never spans two segments. A failed write or fsync makes the WAL
 * refuse all later commits (TRN_EIO): after a failed fsync the kernel may
 * have dropped the dirty pages, and acknowledging later writes would lie.
 *
 * Recovery. A segment is scanned record by record; each must have a
 * plausible length, fit in the file, and match its CRC32C (over type and
 * payload). At the first bad record we look for the next intact one by
 * sliding forward a byte at a time. If one is found, the bad span is a
 * corrupt record: reported and skipped. If none is found, the bad span is a
 * torn tail — the write the crash interrupted — and the file is cut there.
 * The resync search is capped (RESYNC_WORK_FACTOR times the file size in
 * checksummed bytes) so hostile files cannot make recovery quadratic; past
 * the cap the rest counts as a torn tail. A new process always starts a new
 * segment, so an old tail is never written after. */
#include "core/wal.h"
#include "core/alloc.h"
#include "core/crc32c.h"
#include "core/err.h"
#include "core/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RESYNC_WORK_FACTOR 16

struct trn_wal {
    char *dir;
    trn_wal_opts_t o;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int fd;
    uint32_t seg;
    uint64_t seg_bytes;
    uint8_t *buf; /* pending records */
    size_t len, cap;
    uint8_t *io_buf; /* the batch being written (owned by the I/O thread) */
    size_t io_cap;
    uint64_t logged, written, synced; /* log positions */
    bool io_busy;
    int err;
    char err_msg[256];
    int64_t last_sync_ms;
    uint64_t bytes_written, fsyncs, segments;
};

static inline uint32_t rd32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void wr32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t record_crc(uint8_t type, const uint8_t *p, size_t len)
{
    return trn_crc32c(trn_crc32c(0, &type, 1), p, len);
}

/* ---- scanning ---- */

/* Length of an intact record at off, or 0. Charges checksummed bytes to *work. */
static size_t intact_at(const uint8_t *buf, size_t len, size_t off, uint64_t *work)
{
    if (len - off < TRN_WAL_RECORD_HEADER_BYTES) return 0;
    uint32_t n = rd32le(buf + off);
    uint8_t type = buf[off + 8];
    if (type == 0 || n > TRN_WAL_RECORD_MAX || n > len - off - TRN_WAL_RECORD_HEADER_BYTES)
        return 0;
    *work += n + 1;
    if (record_crc(type, buf + off + TRN_WAL_RECORD_HEADER_BYTES, n) != rd32le(buf + off + 4))
        return 0;
    return TRN_WAL_RECORD_HEADER_BYTES + n;
}

int trn_wal_scan(const uint8_t *buf, size_t len, const char *path, trn_wal_record_fn *fn,
                 trn_wal_corrupt_fn *on_corrupt, void *ctx, trn_wal_replay_stats_t *st,
                 size_t *valid_end)
{
    trn_wal_replay_stats_t dummy;
    if (!st) st = &dummy;
    *valid_end = 0;
    if (len == 0) return 0; /* created, never written */
    if (len < TRN_WAL_HEADER_BYTES) {
        st->torn_tails++;
        return 0;
    }
    if (memcmp(buf, TRN_WAL_MAGIC, 4) != 0 || buf[4] != TRN_WAL_VERSION) {
        if (on_corrupt) on_corrupt(ctx, path, 0, "bad magic or unknown version");
        return TRN_ECORRUPT;
    }
    size_t off = TRN_WAL_HEADER_BYTES;
    uint64_t work = 0, budget = (uint64_t)len * RESYNC_WORK_FACTOR + 4096;
    while (off < len) {
        size_t n = intact_at(buf, len, off, &work);
        if (n) {
            st->records++;
            st->bytes += n;
            int rc = fn(ctx, buf[off + 8], buf + off + TRN_WAL_RECORD_HEADER_BYTES,
                        n - TRN_WAL_RECORD_HEADER_BYTES);
            off += n;
            if (rc) {
                *valid_end = off;
                return rc;
            }
            continue;
        }
        size_t next = off + 1;
        while (next < len && work < budget && !intact_at(buf, len, next, &work))
            next++;
        if (next >= len || work >= budget) break; /* torn tail */
        st->corrupt_records++;
        if (on_corrupt) on_corrupt(ctx, path, off, "checksum or length mismatch; record skipped");
        off = next;
    }
    if (off < len) st->torn_tails++;
    *valid_end = off < len ? off : len;
    return 0;
}

int trn_wal_replay_file(const char *path, trn_wal_record_fn *fn, trn_wal_corrupt_fn *on_corrupt,
                        void *ctx, trn_wal_replay_stats_t *st, trn_diag_t *d)
{
    int rc = 0, fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return trn_diag_set(d, TRN_EIO, -1, "open %s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) < 0) {
        rc = trn_diag_set(d, TRN_EIO, -1, "stat %s: %s", path, strerror(errno));
        close(fd);
        return rc;
    }
    size_t len = (size_t)sb.st_size;
    void *map = NULL;
    if (len) {
        map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            rc = trn_diag_set(d, TRN_EIO, -1, "mmap %s: %s", path, strerror(errno));
            close(fd);
            return rc;
        }
        madvise(map, len, MADV_SEQUENTIAL);
    }
    if (st) st->files++;
    size_t keep = 0;
    rc = trn_wal_scan(map, len, path, fn, on_corrupt, ctx, st, &keep);
    if (rc == TRN_ECORRUPT)
        rc = 0; /* bad header: reported, file skipped as a whole */
    else if (rc == 0 && keep < len) {
        if (ftruncate(fd, (off_t)keep) < 0)
            rc = trn_diag_set(d, TRN_EIO, (int64_t)keep, "cut torn tail of %s: %s", path,
                              strerror(errno));
    }
    if (map) munmap(map, len);
    close(fd);
    return rc;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int trn_wal_list(const char *dir, uint32_t **out, size_t *n_out, trn_diag_t *d)
{
    *out = NULL;
    *n_out = 0;
    DIR *dh = opendir(dir);
    if (!dh) {
        if (errno == ENOENT) return 0;
        return trn_diag_set(d, TRN_EIO, -1, "open dir %s: %s", dir, strerror(errno));
    }
    uint32_t *v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(dh))) {
        const char *s = e->d_name;
        size_t k = 0;
        while (s[k] >= '0' && s[k] <= '9')
            k++;
        if (k != 8 || s[k]) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            v = trn_xrealloc(v, cap * sizeof *v);
        }
        v[n++] = (uint32_t)strtoul(s, NULL, 10);
    }
    closedir(dh);
    if (n) qsort(v, n, sizeof *v, cmp_u32);
    *out = v;
    *n_out = n;
    return 0;
}

static void seg_path(char *out, size_t cap, const char *dir, uint32_t seg)
{
    snprintf(out, cap, "%s/%08u", dir, seg);
}

int trn_wal_replay_dir(const char *dir, uint32_t first_segment, trn_wal_record_fn *fn,
                       trn_wal_corrupt_fn *on_corrupt, void *ctx, trn_wal_replay_stats_t *st,
                       trn_diag_t *d)
{
    uint32_t *segs;
    size_t n;
    int rc = trn_wal_list(dir, &segs, &n, d);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (segs[i] < first_segment) continue;
        char path[4096];
        seg_path(path, sizeof path, dir, segs[i]);
        rc = trn_wal_replay_file(path, fn, on_corrupt, ctx, st, d);
    }
    free(segs);
    return rc;
}

/* ---- writing ---- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Creates segment seg with its header; returns the fd or -1 (errno set). */
static int create_segment(const char *dir, uint32_t seg)
{
    char path[4096];
    seg_path(path, sizeof path, dir, seg);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    uint8_t hdr[TRN_WAL_HEADER_BYTES] = {'T', 'R', 'N', 'W', TRN_WAL_VERSION, 0, 0, 0};
    if (trn_fs_write_all(fd, hdr, sizeof hdr) < 0 || trn_fs_fsync_dir(dir) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int trn_wal_open(const trn_wal_opts_t *o, trn_wal_t **out, trn_diag_t *d)
{
    if (trn_fs_mkdir_p(o->dir) < 0)
        return trn_diag_set(d, TRN_EIO, -1, "create %s: %s", o->dir, strerror(errno));
    uint32_t *segs;
    size_t n;
    int rc = trn_wal_list(o->dir, &segs, &n, d);
    if (rc < 0) return rc;
    uint32_t seg = n ? segs[n - 1] + 1 : 1;
    free(segs);
    int fd = create_segment(o->dir, seg);
    if (fd < 0)
        return trn_diag_set(d, TRN_EIO, -1, "create segment in %s: %s", o->dir, strerror(errno));
    trn_wal_t *w = trn_xcalloc(1, sizeof *w);
    w->dir = trn_xstrdup(o->dir);
    w->o = *o;
    w->o.dir = w->dir;
    if (!w->o.segment_bytes) w->o.segment_bytes = TRN_WAL_SEGMENT_DEFAULT;
    w->fd = fd;
    w->seg = seg;
    w->seg_bytes = TRN_WAL_HEADER_BYTES;
    w->segments = 1;
    w->last_sync_ms = now_ms();
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    *out = w;
    return 0;
}

uint64_t trn_wal_log(trn_wal_t *w, uint8_t type, const void *p, size_t len)
{
    TRN_ASSERT(type != 0 && len <= TRN_WAL_RECORD_MAX);
    uint8_t hdr[TRN_WAL_RECORD_HEADER_BYTES];
    wr32le(hdr, (uint32_t)len);
    wr32le(hdr + 4, record_crc(type, p, len));
    hdr[8] = type;
    pthread_mutex_lock(&w->mu);
    size_t need = w->len + sizeof hdr + len;
    if (need > w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 65536;
        while (cap < need)
            cap *= 2;
        w->buf = trn_xrealloc(w->buf, cap);
        w->cap = cap;
    }
    memcpy(w->buf + w->len, hdr, sizeof hdr);
    if (len) memcpy(w->buf + w->len + sizeof hdr, p, len);
    w->len = need;
    w->logged += sizeof hdr + len;
    uint64_t pos = w->logged;
    pthread_mutex_unlock(&w->mu);
    return pos;
}

/* With mu held and io_busy claimed by us: rolls to a new segment. Drops
 * and retakes mu around the I/O. */
static int roll_locked(trn_wal_t *w)
{
    int fd = w->fd;
    uint32_t seg = w->seg + 1;
    pthread_mutex_unlock(&w->mu);
    int rc = 0;
    if (w->o.sync != TRN_WAL_SYNC_NEVER && fdatasync(fd) < 0) rc = -1;
    int nfd = rc == 0 ? create_segment(w->dir, seg) : -1;
    int e = errno;
    pthread_mutex_lock(&w->mu);
    if (nfd < 0) {
        w->err = TRN_EIO;
        snprintf(w->err_msg, sizeof w->err_msg, "roll to segment %08u in %s: %s", seg, w->dir,
                 strerror(e));
        return TRN_EIO;
    }
    close(fd);
    w->fd = nfd;
    w->seg = seg;
    w->seg_bytes = TRN_WAL_HEADER_BYTES;
    w->segments++;
    return 0;
}

/* The I/O step: with mu held and io_busy claimed, writes the pending batch
 * and syncs if force_sync or the mode asks. */
static void do_io_locked(trn_wal_t *w, bool force_sync)
{
    if (w->len && w->seg_bytes + w->len > w->o.segment_bytes &&
        w->seg_bytes > TRN_WAL_HEADER_BYTES) {
        if (roll_locked(w) < 0) return;
    }
    uint8_t *batch = w->buf;
    size_t n = w->len, batch_cap = w->cap;
    uint64_t upto = w->logged;
    w->buf = w->io_buf;
    w->cap = w->io_cap;
    w->len = 0;
    int fd = w->fd;
    int64_t t = now_ms();
    bool sync =
        force_sync || w->o.sync == TRN_WAL_SYNC_ALWAYS ||
        (w->o.sync == TRN_WAL_SYNC_INTERVAL && t - w->last_sync_ms >= w->o.sync_interval_ms);
    if (upto == w->synced) sync = false;
    pthread_mutex_unlock(&w->mu);
    int rc = n ? trn_fs_write_all(fd, batch, n) : 0;
    int e = errno;
    bool synced = false;
    if (rc == 0 && sync) {
        rc = fdatasync(fd);
        e = errno;
        synced = rc == 0;
    }
    pthread_mutex_lock(&w->mu);
    w->io_buf = batch;
    w->io_cap = batch_cap;
    if (rc < 0) {
        w->err = TRN_EIO;
        snprintf(w->err_msg, sizeof w->err_msg, "write segment %08u in %s: %s", w->seg, w->dir,
                 strerror(e));
        return;
    }
    w->bytes_written += n;
    w->seg_bytes += n;
    w->written = upto;
    if (synced) {
        w->synced = upto;
        w->fsyncs++;
        w->last_sync_ms = t;
    }
}

static int wait_for(trn_wal_t *w, uint64_t pos, bool need_sync, trn_diag_t *d)
{
    pthread_mutex_lock(&w->mu);
    for (;;) {
        if (w->err) break;
        bool sync = need_sync || w->o.sync == TRN_WAL_SYNC_ALWAYS;
        if (w->written >= pos && (!sync || w->synced >= pos)) break;
        if (w->io_busy) {
            pthread_cond_wait(&w->cv, &w->mu);
            continue;
        }
        w->io_busy = true;
        do_io_locked(w, need_sync);
        w->io_busy = false;
        pthread_cond_broadcast(&w->cv);
    }
    int rc = w->err;
    if (rc) trn_diag_set(d, rc, -1, "%s", w->err_msg);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int trn_wal_commit(trn_wal_t *w, uint64_t pos, trn_diag_t *d)
{
    return wait_for(w, pos, false, d);
}

int trn_wal_sync(trn_wal_t *w, trn_diag_t *d)
{
    pthread_mutex_lock(&w->mu);
    uint64_t pos = w->logged;
    pthread_mutex_unlock(&w->mu);
    return wait_for(w, pos, true, d);
}

int64_t trn_wal_roll(trn_wal_t *w, trn_diag_t *d)
{
    int rc = trn_wal_sync(w, d);
    if (rc < 0) return rc;
    pthread_mutex_lock(&w->mu);
    while (w->io_busy)
        pthread_cond_wait(&w->cv, &w->mu);
    w->io_busy = true;
    /* Anything logged meanwhile goes to the old segment first. */
    do_io_locked(w, true);
    if (!w->err) roll_locked(w);
    w->io_busy = false;
    pthread_cond_broadcast(&w->cv);
    int64_t res = w->err ? w->err : (int64_t)w->seg;
    if (w->err) trn_diag_set(d, w->err, -1, "%s", w->err_msg);
    pthread_mutex_unlock(&w->mu);
    return res;
}

int trn_wal_remove_before(trn_wal_t *w, uint32_t seg, trn_diag_t *d)
{
    uint32_t *segs;
    size_t n;
    int rc = trn_wal_list(w->dir, &segs, &n, d);
    uint32_t cur = trn_wal_segment(w);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (segs[i] >= seg || segs[i] >= cur) break;
        char path[4096];
        seg_path(path, sizeof path, w->dir, segs[i]);
        if (unlink(path) < 0 && errno != ENOENT)
            rc = trn_diag_set(d, TRN_EIO, -1, "remove %s: %s", path, strerror(errno));
    }
    free(segs);
    return rc;
}

uint32_t trn_wal_segment(trn_wal_t *w)
{
    pthread_mutex_lock(&w->mu);
    uint32_t s = w->seg;
    pthread_mutex_unlock(&w->mu);
    return s;
}

void trn_wal_stats(trn_wal_t *w, trn_wal_stats_t *out)
{
    pthread_mutex_lock(&w->mu);
    *out = (trn_wal_stats_t){w->bytes_written, w->fsyncs, w->segments};
    pthread_mutex_unlock(&w->mu);
}

void trn_wal_close(trn_wal_t *w)
{
    if (!w) return;
    trn_wal_sync(w, NULL);
    close(w->fd);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w->buf);
    free(w->io_buf);
    free(w->dir);
    free(w);
}

/* ---- standalone files (checkpoints) ---- */

struct trn_wal_file {
    char *path, *tmp;
    int fd;
    uint8_t *buf;
    size_t len, cap;
};

int trn_wal_file_create(const char *path, trn_wal_file_t **out, trn_diag_t *d)
{
    trn_wal_file_t *f = trn_xcalloc(1, sizeof *f);
    f->path = trn_xstrdup(path);
    size_t n = strlen(path) + 5;
    f->tmp = trn_xmalloc(n);
    snprintf(f->tmp, n, "%s.tmp", path);
    f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (f->fd < 0) {
        int rc = trn_diag_set(d, TRN_EIO, -1, "create %s: %s", f->tmp, strerror(errno));
        free(f->path);
        free(f->tmp);
        free(f);
        return rc;
    }
    uint8_t hdr[TRN_WAL_HEADER_BYTES] = {'T', 'R', 'N', 'W', TRN_WAL_VERSION, 0, 0, 0};
    f->buf = trn_xmalloc(1 << 16);
    f->cap = 1 << 16;
    memcpy(f->buf, hdr, sizeof hdr);
    f->len = sizeof hdr;
    *out = f;
    return 0;
}

static int file_flush(trn_wal_file_t *f, trn_diag_t *d)
{
    if (f->len && trn_fs_write_all(f->fd, f->buf, f->len) < 0)
        return trn_diag_set(d, TRN_EIO, -1, "write %s: %s", f->tmp, strerror(errno));
    f->len = 0;
    return 0;
}

int trn_wal_file_add(trn_wal_file_t *f, uint8_t type, const void *p, size_t len, trn_diag_t *d)
{
    TRN_ASSERT(type != 0 && len <= TRN_WAL_RECORD_MAX);
    size_t need = TRN_WAL_RECORD_HEADER_BYTES + len;
    if (f->len + need > f->cap) {
        int rc = file_flush(f, d);
        if (rc < 0) return rc;
        if (need > f->cap) {
            f->buf = trn_xrealloc(f->buf, need);
            f->cap = need;
        }
    }
    uint8_t *h = f->buf + f->len;
    wr32le(h, (uint32_t)len);
    wr32le(h + 4, record_crc(type, p, len));
    h[8] = type;
    if (len) memcpy(h + TRN_WAL_RECORD_HEADER_BYTES, p, len);
    f->len += need;
    return 0;
}

void trn_wal_file_abort(trn_wal_file_t *f)
{
    if (!f) return;
    if (f->fd >= 0) close(f->fd);
    unlink(f->tmp);
    free(f->buf);
    free(f->path);
    free(f->tmp);
    free(f);
}

int trn_wal_file_commit(trn_wal_file_t *f, trn_diag_t *d)
{
    int rc = file_flush(f, d);
    if (rc == 0 && fsync(f->fd) < 0)
        rc = trn_diag_set(d, TRN_EIO, -1, "fsync %s: %s", f->tmp, strerror(errno));
    if (rc == 0 && rename(f->tmp, f->path) < 0)
        rc = trn_diag_set(d, TRN_EIO, -1, "rename %s: %s", f->tmp, strerror(errno));
    if (rc < 0) {
        trn_wal_file_abort(f);
        return rc;
    }
    close(f->fd);
    f->fd = -1;
    char *slash = strrchr(f->path, '/');
    if (slash) {
        *slash = 0;
        trn_fs_fsync_dir(f->path);
    }
    free(f->buf);
    free(f->path);
    free(f->tmp);
    free(f);
    return 0;
}
