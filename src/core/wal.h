/* SPDX-License-Identifier: Apache-2.0 */
/* Write-ahead log: a directory of numbered segment files holding typed,
 * length-prefixed, CRC32C-checked records (docs/format/wal.md). The WAL
 * knows nothing about what records mean; each store defines its own types
 * (1..255; 0 is reserved so zeroed bytes never parse as a record).
 *
 * Writers call trn_wal_log (cheap: copies into a pending buffer and returns
 * a log position) from any thread, then trn_wal_commit to wait until that
 * position is written and, per the sync mode, fsynced. Concurrent commits
 * are grouped: one thread writes and fsyncs everything pending while the
 * others wait for it (group commit). Thread-safe. */
#ifndef TRN_CORE_WAL_H
#define TRN_CORE_WAL_H

#include "core/diag.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRN_WAL_MAGIC "TRNW"
#define TRN_WAL_VERSION 1
#define TRN_WAL_HEADER_BYTES 8        /* magic, version, 3 reserved bytes */
#define TRN_WAL_RECORD_HEADER_BYTES 9 /* u32le length, u32le crc32c, u8 type */
#define TRN_WAL_RECORD_MAX (64u << 20)
#define TRN_WAL_SEGMENT_DEFAULT (128u << 20)

typedef enum {
    TRN_WAL_SYNC_ALWAYS = 0,   /* fsync before every commit returns */
    TRN_WAL_SYNC_INTERVAL = 1, /* write on commit; fsync at most every interval */
    TRN_WAL_SYNC_NEVER = 2,    /* write(2) only */
} trn_wal_sync_t;

typedef struct trn_wal_opts {
    const char *dir;        /* created if missing */
    uint64_t segment_bytes; /* roll to a new segment past this; 0 = default */
    trn_wal_sync_t sync;
    int64_t sync_interval_ms;
} trn_wal_opts_t;

typedef struct trn_wal trn_wal_t;

/* Replay statistics; corrupt records are those skipped with valid data after
 * them, torn tails those cut at the end of a file. */
typedef struct trn_wal_replay_stats {
    uint64_t files, records, bytes, corrupt_records, torn_tails;
} trn_wal_replay_stats_t;

/* Called for each intact record in order; a non-zero return stops the
 * replay and is passed on. The payload is borrowed for the call. */
typedef int trn_wal_record_fn(void *ctx, uint8_t type, const uint8_t *p, size_t len);
/* Called for each corrupt record skipped, with the byte offset in the file. */
typedef void trn_wal_corrupt_fn(void *ctx, const char *path, uint64_t offset, const char *why);

/* Scans a segment image in memory: delivers intact records, skips corrupt
 * ones (resynchronising on the next intact record) and stops at a torn tail.
 * *valid_end receives the length of the intact prefix to keep. Never reads
 * outside [buf, buf+len). Returns 0, TRN_ECORRUPT for a bad file header or
 * unknown version (valid_end 0), or fn's code. */
int trn_wal_scan(const uint8_t *buf, size_t len, const char *path, trn_wal_record_fn *fn,
                 trn_wal_corrupt_fn *on_corrupt, void *ctx, trn_wal_replay_stats_t *st,
                 size_t *valid_end);

/* Replays one file and cuts a torn tail off it (ftruncate). A file with a
 * bad header is reported through on_corrupt and skipped. */
int trn_wal_replay_file(const char *path, trn_wal_record_fn *fn, trn_wal_corrupt_fn *on_corrupt,
                        void *ctx, trn_wal_replay_stats_t *st, trn_diag_t *d);
/* Replays every segment of dir numbered >= first_segment, in order. A
 * missing dir is an empty WAL. */
int trn_wal_replay_dir(const char *dir, uint32_t first_segment, trn_wal_record_fn *fn,
                       trn_wal_corrupt_fn *on_corrupt, void *ctx, trn_wal_replay_stats_t *st,
                       trn_diag_t *d);

/* Opens dir for writing: a new segment numbered after the last one. */
int trn_wal_open(const trn_wal_opts_t *o, trn_wal_t **out, trn_diag_t *d);
/* Commits everything, fsyncs, closes. NULL allowed. */
void trn_wal_close(trn_wal_t *w);
/* Queues one record; returns its end position for trn_wal_commit. */
uint64_t trn_wal_log(trn_wal_t *w, uint8_t type, const void *p, size_t len);
/* Waits until every record up to pos is written (and fsynced when the mode
 * says so). Returns 0 or TRN_EIO (sticky: the WAL refuses writes after). */
int trn_wal_commit(trn_wal_t *w, uint64_t pos, trn_diag_t *d);
/* Writes and fsyncs everything queued so far. */
int trn_wal_sync(trn_wal_t *w, trn_diag_t *d);
/* Commits, then continues in a new segment; returns its number (or < 0). */
int64_t trn_wal_roll(trn_wal_t *w, trn_diag_t *d);
/* Deletes segments numbered below seg (never the one being written). */
int trn_wal_remove_before(trn_wal_t *w, uint32_t seg, trn_diag_t *d);
/* Number of the segment being written. */
uint32_t trn_wal_segment(trn_wal_t *w);

typedef struct trn_wal_stats {
    uint64_t bytes_written, fsyncs, segments;
} trn_wal_stats_t;
void trn_wal_stats(trn_wal_t *w, trn_wal_stats_t *out);

/* Writes a standalone file in segment format atomically: records go to
 * path.tmp, which is fsynced and renamed to path (checkpoints). */
typedef struct trn_wal_file trn_wal_file_t;
int trn_wal_file_create(const char *path, trn_wal_file_t **out, trn_diag_t *d);
int trn_wal_file_add(trn_wal_file_t *f, uint8_t type, const void *p, size_t len, trn_diag_t *d);
/* Finishes (fsync, rename, fsync dir) and frees f, or on error removes the
 * temporary file; f is freed either way. */
int trn_wal_file_commit(trn_wal_file_t *f, trn_diag_t *d);
void trn_wal_file_abort(trn_wal_file_t *f);

/* Sorted segment numbers present in dir (heap array, caller frees). */
int trn_wal_list(const char *dir, uint32_t **out, size_t *n, trn_diag_t *d);

#endif
