/* SPDX-License-Identifier: Apache-2.0 */
/* MD5 (RFC 1321), only because relabeling's hashmod action is defined on
 * it: Prometheus takes the last 8 bytes of md5(value) as a big-endian
 * uint64 modulo the modulus. Not for anything security-related. */
#ifndef TRN_SCRAPE_MD5_H
#define TRN_SCRAPE_MD5_H

#include <stddef.h>
#include <stdint.h>

/* Digest of p[0..n) into out. Thread-safe, no allocation. */
void trn_md5(const void *p, size_t n, uint8_t out[16]);

#endif
