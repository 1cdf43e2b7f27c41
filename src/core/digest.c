/* SPDX-License-Identifier: Apache-2.0 */
/* Digests through libcrypto's one-shot EVP_Digest. Both algorithms are
 * always present in OpenSSL 3's default provider, so failure there is an
 * installation fault, treated as an invariant. */
#include "core/digest.h"
#include "core/err.h"

#include <openssl/evp.h>

void trn_md5(const void *p, size_t n, uint8_t out[16])
{
    unsigned int len = 0;
    TRN_ASSERT(EVP_Digest(p, n, out, &len, EVP_md5(), NULL) == 1 && len == 16);
}

void trn_sha256_hex(const void *p, size_t n, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char sum[32];
    unsigned int len = 0;
    TRN_ASSERT(EVP_Digest(p, n, sum, &len, EVP_sha256(), NULL) == 1 && len == 32);
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[sum[i] >> 4];
        out[2 * i + 1] = hex[sum[i] & 15];
    }
    out[64] = 0;
}
