/* SPDX-License-Identifier: Apache-2.0 */
/* Message digests that wire formats define (not for security): MD5 for
 * relabeling's hashmod (Prometheus takes the last 8 bytes of md5(value)),
 * SHA-256 for PagerDuty dedup keys (Alertmanager hashes the group key).
 * On OpenSSL's libcrypto. Thread-safe, no allocation visible to callers. */
#ifndef TRN_CORE_DIGEST_H
#define TRN_CORE_DIGEST_H

#include <stddef.h>
#include <stdint.h>

/* MD5 of p[0..n) into out. */
void trn_md5(const void *p, size_t n, uint8_t out[16]);
/* SHA-256 of p[0..n) as 64 lowercase hex digits plus NUL. */
void trn_sha256_hex(const void *p, size_t n, char out[65]);

#endif
