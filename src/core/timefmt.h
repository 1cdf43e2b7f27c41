/* SPDX-License-Identifier: Apache-2.0 */
/* Durations and timestamps as Prometheus's APIs and configs spell them. */
#ifndef TRN_CORE_TIMEFMT_H
#define TRN_CORE_TIMEFMT_H

#include "core/diag.h"
#include "core/str.h"

#include <stdint.h>

/* Prometheus duration: one or more <int><unit> with units y w d h m s ms in
 * that order ("1h30m", "90s", "100ms"); "0" alone is allowed. Into ms. */
int trn_parse_duration(trn_str_t s, int64_t *out_ms);
/* Formats ms as Prometheus does ("1h30m", "5m", "100ms", "0s"). Returns length. */
int trn_format_duration(char out[32], int64_t ms);
/* API time: RFC3339 (with optional fraction and zone) or Unix seconds with
 * an optional fraction. Into ms. */
int trn_parse_time(trn_str_t s, int64_t *out_ms);
/* API duration: Prometheus duration or float seconds ("15", "0.5", "1m"). */
int trn_parse_step(trn_str_t s, int64_t *out_ms);
/* Current wall-clock time in ms / ns. */
int64_t trn_now_ms(void);
int64_t trn_now_ns(void);
/* Monotonic clock in ns, for durations. */
int64_t trn_mono_ns(void);
/* RFC3339 with milliseconds in UTC ("2024-01-02T03:04:05.678Z"). */
int trn_format_rfc3339_ms(char out[40], int64_t ms);

#endif
