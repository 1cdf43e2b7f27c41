/* SPDX-License-Identifier: Apache-2.0 */
/* CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected; the checksum of
 * iSCSI, ext4 and Prometheus's WAL). crc32c("123456789") == 0xE3069283.
 * Thread-safe. */
#ifndef TRN_CORE_CRC32C_H
#define TRN_CORE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues a checksum: pass 0 to start; trn_crc32c(trn_crc32c(0, a), b)
 * equals the checksum of a followed by b. */
uint32_t trn_crc32c(uint32_t crc, const void *p, size_t n);

#endif
