/* SPDX-License-Identifier: Apache-2.0 */
/* A tiny protobuf writer for tests: builds messages field by field into a
 * trn_buf_t so decoders can be fed valid and deliberately broken input. */
#ifndef TRN_TESTS_UNIT_PBENC_H
#define TRN_TESTS_UNIT_PBENC_H

#include "core/str.h"

#include <stdint.h>
#include <string.h>

static inline void pbenc_varint(trn_buf_t *b, uint64_t v)
{
    while (v >= 0x80) {
        trn_buf_putc(b, (char)(v | 0x80));
        v >>= 7;
    }
    trn_buf_putc(b, (char)v);
}
static inline void pbenc_tag(trn_buf_t *b, uint32_t num, unsigned wire)
{
    pbenc_varint(b, (uint64_t)num << 3 | wire);
}
static inline void pbenc_bytes(trn_buf_t *b, uint32_t num, const void *p, size_t n)
{
    pbenc_tag(b, num, 2);
    pbenc_varint(b, n);
    trn_buf_append(b, p, n);
}
static inline void pbenc_str(trn_buf_t *b, uint32_t num, const char *s)
{
    pbenc_bytes(b, num, s, strlen(s));
}
/* Appends inner as a length-delimited field and empties inner. */
static inline void pbenc_msg(trn_buf_t *b, uint32_t num, trn_buf_t *inner)
{
    pbenc_bytes(b, num, inner->data ? inner->data : "", inner->len);
    inner->len = 0;
}
static inline void pbenc_uint(trn_buf_t *b, uint32_t num, uint64_t v)
{
    pbenc_tag(b, num, 0);
    pbenc_varint(b, v);
}
static inline void pbenc_fixed64(trn_buf_t *b, uint32_t num, uint64_t v)
{
    pbenc_tag(b, num, 1);
    for (int i = 0; i < 8; i++)
        trn_buf_putc(b, (char)(v >> (8 * i)));
}
static inline void pbenc_double(trn_buf_t *b, uint32_t num, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    pbenc_fixed64(b, num, u);
}
static inline void pbenc_fixed32(trn_buf_t *b, uint32_t num, uint32_t v)
{
    pbenc_tag(b, num, 5);
    for (int i = 0; i < 4; i++)
        trn_buf_putc(b, (char)(v >> (8 * i)));
}

#endif
