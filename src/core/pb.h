/* SPDX-License-Identifier: Apache-2.0 */
/* A zero-copy reader for the protobuf wire format: it walks the fields of a
 * message in a borrowed buffer and hands out scalars and views of
 * length-delimited payloads, checking every length against the bytes left.
 * It knows nothing of schemas: decoders (remote_write, OTLP, Loki push)
 * switch on field numbers and check wire types with trn_pb_want. Offsets in
 * errors are relative to the start of the outermost buffer. */
#ifndef TRN_CORE_PB_H
#define TRN_CORE_PB_H

#include "core/diag.h"
#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The inline fast path loads fixed64 values with memcpy. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "pb.h assumes a little-endian host");

/* Wire types (the low three bits of a tag). Groups (3, 4) are rejected. */
typedef enum {
    TRN_PB_VARINT = 0,
    TRN_PB_I64 = 1,
    TRN_PB_LEN = 2,
    TRN_PB_SGROUP = 3,
    TRN_PB_EGROUP = 4,
    TRN_PB_I32 = 5,
} trn_pb_wire_t;

/* A reader over one message: [p, end) left to read; base is the start of
 * the outermost buffer (for offsets in errors). */
typedef struct trn_pb {
    const uint8_t *p, *end;
    const uint8_t *base;
} trn_pb_t;

/* One field as read from the wire. */
typedef struct trn_pb_field {
    uint32_t num;       /* field number, 1 .. 2^29-1 */
    trn_pb_wire_t wire; /* wire type */
    uint64_t u;         /* VARINT value, or the raw bits of I64 / I32 */
    trn_str_t bytes;    /* LEN payload (a view into the buffer) */
    size_t offset;      /* byte offset of the tag from base */
} trn_pb_field_t;

/* Starts reading buf[0..len) (borrowed) as a message. */
void trn_pb_init(trn_pb_t *r, const void *buf, size_t len);
/* A reader over the payload of LEN field f read from r (same base). */
trn_pb_t trn_pb_sub(const trn_pb_t *r, const trn_pb_field_t *f);
/* Reads the next field into *f: returns 1, 0 at the end of the message, or
 * TRN_EINVAL (d names the offset and problem: truncated varint, length past
 * the end, field number 0, group or unknown wire type). Inline fast path
 * at the bottom of this header; trn_pb_next_slow does the general case. */
static inline int trn_pb_next(trn_pb_t *r, trn_pb_field_t *f, trn_diag_t *d);
int trn_pb_next_slow(trn_pb_t *r, trn_pb_field_t *f, trn_diag_t *d);
/* Checks f has wire type want; TRN_EINVAL naming message and field if not. */
int trn_pb_want(const trn_pb_field_t *f, trn_pb_wire_t want, const char *msg_name,
                const char *field_name, trn_diag_t *d);
/* Reads one varint of a packed repeated field from r (a trn_pb_sub of the
 * field): 1 with *v set, 0 at the end, TRN_EINVAL if truncated. */
int trn_pb_packed_varint(trn_pb_t *r, uint64_t *v, trn_diag_t *d);
/* Byte offset of the read position from base. */
static inline size_t trn_pb_offset(const trn_pb_t *r)
{
    return (size_t)(r->p - r->base);
}
/* Name of a wire type ("varint", "fixed64", "length-delimited", ...). */
const char *trn_pb_wire_name(unsigned wire);

/* Scalar conversions of a field's value. */
static inline int64_t trn_pb_int64(const trn_pb_field_t *f)
{
    return (int64_t)f->u;
}
static inline int64_t trn_pb_sint64(const trn_pb_field_t *f)
{
    return (int64_t)(f->u >> 1) ^ -(int64_t)(f->u & 1);
}
static inline int32_t trn_pb_sint32(const trn_pb_field_t *f)
{
    uint32_t u = (uint32_t)f->u;
    return (int32_t)(u >> 1) ^ -(int32_t)(u & 1);
}
static inline double trn_pb_double(const trn_pb_field_t *f)
{
    union {
        uint64_t u;
        double d;
    } x = {.u = f->u};
    return x.d;
}
static inline float trn_pb_float(const trn_pb_field_t *f)
{
    union {
        uint32_t u;
        float x;
    } x = {.u = (uint32_t)f->u};
    return x.x;
}
static inline bool trn_pb_bool(const trn_pb_field_t *f)
{
    return f->u != 0;
}

/* The common shapes in one step: a one-byte tag (field 1..15) followed by
 * a one-byte varint, a one- or two-byte length, or a fixed64. Everything else, and every
 * error, goes through trn_pb_next_slow. */
static inline int trn_pb_next(trn_pb_t *r, trn_pb_field_t *f, trn_diag_t *d)
{
    const uint8_t *p = r->p;
    if (p >= r->end) return 0;
    size_t left = (size_t)(r->end - p);
    uint8_t tag = p[0];
    if (tag >= 8 && tag < 0x80 && left >= 2) {
        unsigned wire = tag & 7;
        if (wire == TRN_PB_LEN && p[1] < 0x80 && (size_t)p[1] <= left - 2) {
            f->num = tag >> 3;
            f->wire = TRN_PB_LEN;
            f->u = 0;
            f->offset = (size_t)(p - r->base);
            f->bytes.p = (const char *)p + 2;
            f->bytes.len = p[1];
            r->p = p + 2 + p[1];
            return 1;
        }
        if (wire == TRN_PB_LEN && p[1] >= 0x80 && left >= 3 && p[2] < 0x80) {
            size_t n = (size_t)(p[1] & 0x7f) | (size_t)p[2] << 7;
            if (n <= left - 3) {
                f->num = tag >> 3;
                f->wire = TRN_PB_LEN;
                f->u = 0;
                f->offset = (size_t)(p - r->base);
                f->bytes.p = (const char *)p + 3;
                f->bytes.len = n;
                r->p = p + 3 + n;
                return 1;
            }
        }
        if (wire == TRN_PB_VARINT && p[1] < 0x80) {
            f->num = tag >> 3;
            f->wire = TRN_PB_VARINT;
            f->u = p[1];
            f->offset = (size_t)(p - r->base);
            f->bytes.p = NULL;
            f->bytes.len = 0;
            r->p = p + 2;
            return 1;
        }
        if (wire == TRN_PB_I64 && left >= 9) {
            uint64_t x;
            memcpy(&x, p + 1, 8); /* little-endian hosts only (x86-64, arm64) */
            f->num = tag >> 3;
            f->wire = TRN_PB_I64;
            f->u = x;
            f->offset = (size_t)(p - r->base);
            f->bytes.p = NULL;
            f->bytes.len = 0;
            r->p = p + 9;
            return 1;
        }
    }
    return trn_pb_next_slow(r, f, d);
}

#endif
