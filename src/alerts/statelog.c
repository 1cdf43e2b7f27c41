/* SPDX-License-Identifier: Apache-2.0 */
/* Append-only state files for silences and the notification log
 * (docs/format/alertmanager.md).
 *
 * A file is an 8-byte magic, a version byte and three reserved zero bytes,
 * then records: <u32le length><u32le CRC32C of payload><payload>. The
 * payload is one JSON object; a later record for the same key supersedes
 * an earlier one, so an update is one append and one fsync rather than a
 * rewrite. The owner compacts by writing its live records to a temporary
 * file, fsyncing it and renaming it over the old one (then fsyncing the
 * directory), so a crash leaves either the old or the new file whole.
 * Replay stops at the first record that is short or fails its CRC — a torn
 * tail from a crash mid-append — and truncates the file there, so later
 * appends never follow garbage. */
#include "alerts/am_int.h"

#include "core/alloc.h"
#include "core/crc32c.h"
#include "core/err.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HDR_LEN 12
#define VERSION 1
#define RECORD_MAX (64u << 20)

struct trn__am_statelog {
    pthread_mutex_t mu; /* guards fd and the sync state below */
    pthread_cond_t synced;
    uint64_t appended_seq,
        synced_seq; /* group commit: one fdatasync covers all appends before it */
    bool syncing;
    int fd;
    char *path;
    char magic[8];
    size_t appended; /* records appended since open/rewrite */
};

uint32_t trn__am_crc32c(uint32_t crc, const void *p, size_t n)
{
    return trn_crc32c(crc, p, n);
}

static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void trn__am_statelog_frame(trn_buf_t *out, const char *payload, size_t len)
{
    unsigned char h[8];
    put_u32(h, (uint32_t)len);
    put_u32(h + 4, trn__am_crc32c(0, payload, len));
    trn_buf_append(out, h, 8);
    trn_buf_append(out, payload, len);
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static void header(const char *magic, unsigned char h[HDR_LEN])
{
    memcpy(h, magic, 8);
    h[8] = VERSION;
    h[9] = h[10] = h[11] = 0;
}

int trn__am_statelog_open(const char *path, const char *magic, trn__am_record_fn *fn, void *ctx,
                          trn__am_statelog_t **out, trn_diag_t *d)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return trn_diag_set(d, TRN_EIO, -1, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return trn_diag_set(d, TRN_EIO, -1, "%s: %s", path, strerror(e));
    }
    unsigned char h[HDR_LEN];
    header(magic, h);
    size_t size = (size_t)st.st_size;
    char *buf = NULL;
    if (size == 0) {
        if (write_all(fd, h, HDR_LEN) < 0 || fsync(fd) < 0) {
            int e = errno;
            close(fd);
            return trn_diag_set(d, TRN_EIO, -1, "%s: %s", path, strerror(e));
        }
    } else {
        buf = trn_xmalloc(size);
        size_t got = 0;
        while (got < size) {
            ssize_t r = pread(fd, buf + got, size - got, (off_t)got);
            if (r <= 0) break;
            got += (size_t)r;
        }
        if (got < HDR_LEN || memcmp(buf, magic, 8)) {
            free(buf);
            close(fd);
            return trn_diag_set(d, TRN_ECORRUPT, 0, "%s: not a trine state file (bad magic)", path);
        }
        unsigned version = (unsigned char)buf[8];
        if (version != VERSION) {
            free(buf);
            close(fd);
            return trn_diag_set(d, TRN_ECORRUPT, 8, "%s: unsupported version %u", path, version);
        }
        size_t off = HDR_LEN;
        while (off + 8 <= got) {
            uint32_t len = get_u32((unsigned char *)buf + off);
            uint32_t crc = get_u32((unsigned char *)buf + off + 4);
            if (len > RECORD_MAX || off + 8 + len > got) break;
            if (trn__am_crc32c(0, buf + off + 8, len) != crc) break;
            fn(ctx, buf + off + 8, len);
            off += 8 + len;
        }
        if (off < got) {
            char o[32];
            snprintf(o, sizeof o, "%zu", off);
            trn_log(TRN_LOG_WARN, "alertmanager", "cut torn or corrupt tail of state file", "path",
                    path, "offset", o, NULL);
            if (ftruncate(fd, (off_t)off) < 0) {
                int e = errno;
                free(buf);
                close(fd);
                return trn_diag_set(d, TRN_EIO, -1, "%s: %s", path, strerror(e));
            }
        }
        free(buf);
    }
    if (lseek(fd, 0, SEEK_END) < 0) {
        int e = errno;
        close(fd);
        return trn_diag_set(d, TRN_EIO, -1, "%s: %s", path, strerror(e));
    }
    trn__am_statelog_t *l = trn_xcalloc(1, sizeof *l);
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->synced, NULL);
    l->fd = fd;
    l->path = trn_xstrdup(path);
    memcpy(l->magic, magic, 8);
    *out = l;
    return 0;
}

int trn__am_statelog_append(trn__am_statelog_t *l, const char *payload, size_t len, bool sync)
{
    trn_buf_t b;
    trn_buf_init(&b);
    trn__am_statelog_frame(&b, payload, len);
    pthread_mutex_lock(&l->mu);
    int rc = write_all(l->fd, b.data, b.len);
    if (rc == 0) l->appended_seq++;
    pthread_mutex_unlock(&l->mu);
    trn_buf_fini(&b);
    if (rc == 0 && sync) rc = trn__am_statelog_sync(l);
    if (rc < 0) {
        trn_log(TRN_LOG_ERROR, "alertmanager", "cannot append to state file", "path", l->path,
                "error", strerror(errno), NULL);
        return TRN_EIO;
    }
    l->appended++;
    return 0;
}

int trn__am_statelog_rewrite(trn__am_statelog_t *l, const trn_buf_t *recs)
{
    size_t plen = strlen(l->path);
    char *tmp = trn_xmalloc(plen + 8);
    memcpy(tmp, l->path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    unsigned char h[HDR_LEN];
    header(l->magic, h);
    int rc = fd < 0 ? -1 : 0;
    if (rc == 0) rc = write_all(fd, h, HDR_LEN);
    if (rc == 0 && recs->len) rc = write_all(fd, recs->data, recs->len);
    if (rc == 0) rc = fsync(fd);
    if (rc == 0) rc = rename(tmp, l->path);
    if (rc < 0) {
        trn_log(TRN_LOG_ERROR, "alertmanager", "cannot rewrite state file", "path", l->path,
                "error", strerror(errno), NULL);
        if (fd >= 0) close(fd);
        unlink(tmp);
        free(tmp);
        return TRN_EIO;
    }
    char *dir = trn_xstrdup(l->path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    free(dir);
    free(tmp);
    pthread_mutex_lock(&l->mu);
    while (l->syncing)
        pthread_cond_wait(&l->synced, &l->mu);
    close(l->fd);
    /* the new file is ours now (fsynced whole); reopen for appends */
    l->fd = open(l->path, O_RDWR | O_APPEND | O_CLOEXEC);
    l->synced_seq = l->appended_seq;
    pthread_mutex_unlock(&l->mu);
    close(fd);
    l->appended = 0;
    return l->fd < 0 ? TRN_EIO : 0;
}

/* Group commit: a caller whose append is not yet durable either runs the
 * fdatasync itself or waits for the one in progress and re-checks, so N
 * concurrent notifiers pay for about one flush instead of N in a row. */
int trn__am_statelog_sync(trn__am_statelog_t *l)
{
    int rc = 0;
    pthread_mutex_lock(&l->mu);
    uint64_t target = l->appended_seq;
    while (l->synced_seq < target && rc == 0) {
        if (l->syncing) {
            pthread_cond_wait(&l->synced, &l->mu);
            continue;
        }
        l->syncing = true;
        uint64_t upto = l->appended_seq;
        int fd = l->fd;
        pthread_mutex_unlock(&l->mu);
        rc = fd >= 0 ? fdatasync(fd) : -1;
        pthread_mutex_lock(&l->mu);
        l->syncing = false;
        if (rc == 0 && upto > l->synced_seq) l->synced_seq = upto;
        pthread_cond_broadcast(&l->synced);
    }
    pthread_mutex_unlock(&l->mu);
    return rc < 0 ? TRN_EIO : 0;
}

size_t trn__am_statelog_appended(const trn__am_statelog_t *l)
{
    return l->appended;
}

void trn__am_statelog_close(trn__am_statelog_t *l)
{
    if (!l) return;
    if (l->fd >= 0) close(l->fd);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->synced);
    free(l->path);
    free(l);
}
