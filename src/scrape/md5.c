/* SPDX-License-Identifier: Apache-2.0 */
/* MD5 as RFC 1321 specifies it: the message is padded with 0x80, zeros and
 * its bit length (little-endian) to a multiple of 64 bytes, and each block
 * goes through four rounds of sixteen steps over four 32-bit words. The
 * per-step constants are floor(|sin(i + 1)| * 2^32), computed once at first
 * use (exact in IEEE doubles; the unit test checks the RFC's vectors). */
#include "scrape/md5.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

static uint32_t k_table[64];
static pthread_once_t k_once = PTHREAD_ONCE_INIT;

static void init_table(void)
{
    for (int i = 0; i < 64; i++) k_table[i] = (uint32_t)(fabs(sin((double)(i + 1))) * 4294967296.0);
}

static const uint8_t shifts[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};

static inline uint32_t rotl(uint32_t x, unsigned c)
{
    return (x << c) | (x >> (32 - c));
}

static void block(uint32_t h[4], const uint8_t *p)
{
    uint32_t w[16];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 |
               (uint32_t)p[4 * i + 3] << 24;
    uint32_t a = h[0], b = h[1], c = h[2], dd = h[3];
    for (int i = 0; i < 64; i++) {
        uint32_t f;
        int g, round = i / 16;
        switch (round) {
        case 0: f = (b & c) | (~b & dd); g = i; break;
        case 1: f = (dd & b) | (~dd & c); g = (5 * i + 1) % 16; break;
        case 2: f = b ^ c ^ dd; g = (3 * i + 5) % 16; break;
        default: f = c ^ (b | ~dd); g = (7 * i) % 16; break;
        }
        uint32_t tmp = dd;
        dd = c;
        c = b;
        b = b + rotl(a + f + k_table[i] + w[g], shifts[round][i % 4]);
        a = tmp;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += dd;
}

void trn_md5(const void *p, size_t n, uint8_t out[16])
{
    pthread_once(&k_once, init_table);
    uint32_t h[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};
    const uint8_t *s = p;
    size_t left = n;
    while (left >= 64) {
        block(h, s);
        s += 64;
        left -= 64;
    }
    uint8_t tail[128] = {0};
    memcpy(tail, s, left);
    tail[left] = 0x80;
    size_t tlen = left + 1 + 8 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)n * 8;
    for (int i = 0; i < 8; i++) tail[tlen - 8 + i] = (uint8_t)(bits >> (8 * i));
    block(h, tail);
    if (tlen == 128) block(h, tail + 64);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) out[4 * i + j] = (uint8_t)(h[i] >> (8 * j));
}
