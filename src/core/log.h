/* SPDX-License-Identifier: Apache-2.0 */
/* trine's own log: one JSON object per line on stderr, with ts, level,
 * component, msg, then key/value fields — the shape the seed's Promtail
 * pipeline parses. Thread-safe (one write(2) per line). */
#ifndef TRN_CORE_LOG_H
#define TRN_CORE_LOG_H

typedef enum {
    TRN_LOG_DEBUG = 0,
    TRN_LOG_INFO = 1,
    TRN_LOG_WARN = 2,
    TRN_LOG_ERROR = 3,
} trn_log_level_t;

/* Sets the minimum level printed (default INFO). */
void trn_log_set_level(trn_log_level_t lvl);
/* Parses "debug"/"info"/"warn"/"error"; returns 0 or TRN_EINVAL. */
int trn_log_parse_level(const char *s, trn_log_level_t *out);
/* Logs msg with fields given as alternating key, value C strings ending in
 * NULL: trn_log(TRN_LOG_INFO, "wal", "replayed", "segments", "3", NULL).
 * Values are escaped and cut to 1024 bytes. */
void trn_log(trn_log_level_t lvl, const char *component, const char *msg, ...)
    __attribute__((sentinel));
/* printf-style message, no fields. */
void trn_logf(trn_log_level_t lvl, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
