/* SPDX-License-Identifier: Apache-2.0 */
/* Protobuf wire-format reader.
 *
 * A message is a sequence of (tag, value) pairs; the tag is a varint
 * holding field_number << 3 | wire_type. Values are varints (wire 0),
 * little-endian 8-byte (1) or 4-byte (5) words, or a varint length followed
 * by that many bytes (2). Groups (3, 4) are a proto2 relic no schema we
 * decode uses; they are rejected rather than skipped, which keeps the
 * reader free of nesting state.
 *
 * The reader never copies: a LEN field's payload is a view into the
 * caller's buffer, and nested messages are read by a sub-reader over that
 * view. Every length is compared with the bytes left *before* it is used,
 * so a hostile length can neither read out of bounds nor make a caller
 * allocate from it. A varint is at most 10 bytes and the tenth may only
 * carry the top bit of a 64-bit value; anything longer is an error, as in
 * the reference implementation. Offsets in errors count from the start of
 * the outermost buffer so that a client can find the bad byte. */
#include "core/pb.h"

#include "core/err.h"

#include <string.h>

void trn_pb_init(trn_pb_t *r, const void *buf, size_t len)
{
    r->base = r->p = (const uint8_t *)buf;
    r->end = r->p + len;
}

trn_pb_t trn_pb_sub(const trn_pb_t *r, const trn_pb_field_t *f)
{
    trn_pb_t s = {.p = (const uint8_t *)f->bytes.p,
                  .end = (const uint8_t *)f->bytes.p + f->bytes.len,
                  .base = r->base};
    return s;
}

const char *trn_pb_wire_name(unsigned wire)
{
    switch (wire) {
    case TRN_PB_VARINT:
        return "varint";
    case TRN_PB_I64:
        return "fixed64";
    case TRN_PB_LEN:
        return "length-delimited";
    case TRN_PB_SGROUP:
        return "start-group";
    case TRN_PB_EGROUP:
        return "end-group";
    case TRN_PB_I32:
        return "fixed32";
    default:
        return "unknown";
    }
}

/* Reads a varint at r->p; 0 on success, TRN_EINVAL if truncated or over
 * 64 bits. The one-byte case (most tags and small lengths) is inlined. */
static int read_varint(trn_pb_t *r, uint64_t *v, const char *what, trn_diag_t *d)
{
    const uint8_t *p = r->p;
    if (p < r->end && *p < 0x80) {
        *v = *p;
        r->p = p + 1;
        return 0;
    }
    uint64_t x = 0;
    for (unsigned shift = 0, i = 0; i < 10; i++, shift += 7) {
        if (p >= r->end)
            return trn_diag_set(d, TRN_EINVAL, (int64_t)(r->p - r->base),
                                "protobuf: truncated %s at byte offset %zu", what,
                                (size_t)(r->p - r->base));
        uint8_t b = *p++;
        if (i == 9 && b > 1)
            return trn_diag_set(d, TRN_EINVAL, (int64_t)(r->p - r->base),
                                "protobuf: %s overflows 64 bits at byte offset %zu", what,
                                (size_t)(r->p - r->base));
        x |= (uint64_t)(b & 0x7f) << shift;
        if (b < 0x80) {
            *v = x;
            r->p = p;
            return 0;
        }
    }
    return trn_diag_set(d, TRN_EINVAL, (int64_t)(r->p - r->base),
                        "protobuf: %s longer than 10 bytes at byte offset %zu", what,
                        (size_t)(r->p - r->base));
}

static uint64_t load_le(const uint8_t *p, unsigned n)
{
    uint64_t x = 0;
    for (unsigned i = 0; i < n; i++)
        x |= (uint64_t)p[i] << (8 * i);
    return x;
}

int trn_pb_next_slow(trn_pb_t *r, trn_pb_field_t *f, trn_diag_t *d)
{
    if (r->p >= r->end) return 0;
    size_t off = (size_t)(r->p - r->base);
    uint64_t tag;
    int rc = read_varint(r, &tag, "tag", d);
    if (rc < 0) return rc;
    uint64_t num = tag >> 3;
    unsigned wire = (unsigned)(tag & 7);
    if (num == 0 || num > 0x1fffffff)
        return trn_diag_set(d, TRN_EINVAL, (int64_t)off,
                            "protobuf: invalid field number %llu at byte offset %zu",
                            (unsigned long long)num, off);
    f->num = (uint32_t)num;
    f->wire = (trn_pb_wire_t)wire;
    f->offset = off;
    f->u = 0;
    f->bytes.p = NULL;
    f->bytes.len = 0;
    size_t left;
    switch (wire) {
    case TRN_PB_VARINT:
        return read_varint(r, &f->u, "varint", d) < 0 ? TRN_EINVAL : 1;
    case TRN_PB_I64:
    case TRN_PB_I32: {
        unsigned n = wire == TRN_PB_I64 ? 8 : 4;
        if ((size_t)(r->end - r->p) < n)
            return trn_diag_set(d, TRN_EINVAL, (int64_t)off,
                                "protobuf: truncated %s field %u at byte offset %zu",
                                trn_pb_wire_name(wire), f->num, off);
        f->u = load_le(r->p, n);
        r->p += n;
        return 1;
    }
    case TRN_PB_LEN: {
        uint64_t len;
        if (read_varint(r, &len, "length", d) < 0) return TRN_EINVAL;
        left = (size_t)(r->end - r->p);
        if (len > left)
            return trn_diag_set(d, TRN_EINVAL, (int64_t)off,
                                "protobuf: field %u at byte offset %zu claims %llu bytes, only "
                                "%zu left",
                                f->num, off, (unsigned long long)len, left);
        f->bytes.p = (const char *)r->p;
        f->bytes.len = (size_t)len;
        r->p += len;
        return 1;
    }
    default:
        return trn_diag_set(d, TRN_EINVAL, (int64_t)off,
                            "protobuf: unsupported wire type %u (%s) for field %u at byte "
                            "offset %zu",
                            wire, trn_pb_wire_name(wire), f->num, off);
    }
}

int trn_pb_want(const trn_pb_field_t *f, trn_pb_wire_t want, const char *msg_name,
                const char *field_name, trn_diag_t *d)
{
    if (f->wire == want) return 0;
    return trn_diag_set(d, TRN_EINVAL, (int64_t)f->offset,
                        "protobuf: %s.%s (field %u) has wire type %s, want %s at byte offset %zu",
                        msg_name, field_name, f->num, trn_pb_wire_name(f->wire),
                        trn_pb_wire_name(want), f->offset);
}

int trn_pb_packed_varint(trn_pb_t *r, uint64_t *v, trn_diag_t *d)
{
    if (r->p >= r->end) return 0;
    return read_varint(r, v, "packed varint", d) < 0 ? TRN_EINVAL : 1;
}
