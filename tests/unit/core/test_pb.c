/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the protobuf wire reader: every wire type, zigzag, nested
 * messages, and the bounds checks (truncation, huge lengths, overlong
 * varints, field number 0, groups). */
#include "test.h"

#include "core/err.h"
#include "core/pb.h"
#include "pbenc.h"

#include <math.h>
#include <string.h>

static void test_pb_reads_every_wire_type(void **state)
{
    (void)state;
    trn_buf_t b, inner;
    trn_buf_init(&b);
    trn_buf_init(&inner);
    pbenc_uint(&b, 1, 150);
    pbenc_double(&b, 2, 2.5);
    pbenc_str(&b, 3, "hello");
    pbenc_fixed32(&b, 4, 0x40490fdbu); /* 3.1415927f */
    pbenc_uint(&b, 5, (uint64_t)(int64_t)-1);
    pbenc_uint(&b, 536870911, 7); /* the largest field number */
    pbenc_uint(&inner, 1, 42);
    pbenc_msg(&b, 6, &inner);
    char big[300];
    memset(big, 'x', sizeof big);
    pbenc_bytes(&b, 7, big, 200); /* two-byte length */
    pbenc_bytes(&b, 8, big, 300); /* two-byte length, too */
    pbenc_bytes(&b, 20, big, 1);  /* two-byte tag */

    trn_pb_t r;
    trn_pb_init(&r, b.data, b.len);
    trn_pb_field_t f;
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(trn_pb_next(&r, &f, &d), 1);
    assert_int_equal(f.num, 1);
    assert_int_equal(f.wire, TRN_PB_VARINT);
    assert_int_equal(f.u, 150);
    assert_int_equal(f.offset, 0);
    assert_int_equal(trn_pb_next(&r, &f, &d), 1);
    assert_true(trn_pb_double(&f) == 2.5);
    assert_int_equal(trn_pb_next(&r, &f, &d), 1);
    assert_int_equal(f.wire, TRN_PB_LEN);
    assert_int_equal(f.bytes.len, 5);
    assert_memory_equal(f.bytes.p, "hello", 5);
    assert_int_equal(trn_pb_next(&r, &f, &d), 1);
    assert_true(fabsf(trn_pb_float(&f) - 3.1415927f) < 1e-6f);
    assert_int_equal(trn_pb_next(&r, &f, &d), 1);
    assert_int_equal(trn_pb_int64(&f), -1);
    assert_int_equal(trn_pb_next(&r, &f, &d), 1);
    assert_int_equal(f.num, 536870911);
    assert_int_equal(trn_pb_next(&r, &f, &d), 1);
    trn_pb_t sub = trn_pb_sub(&r, &f);
    trn_pb_field_t g;
    assert_int_equal(trn_pb_next(&sub, &g, &d), 1);
    assert_int_equal(g.u, 42);
    assert_int_equal(g.offset, f.offset + 2); /* offsets count from the outer buffer */
    assert_int_equal(trn_pb_next(&sub, &g, &d), 0);
    assert_int_equal(trn_pb_next(&r, &f, &d), 1);
    assert_int_equal(f.num, 7);
    assert_int_equal(f.bytes.len, 200);
    assert_int_equal(trn_pb_next(&r, &f, &d), 1);
    assert_int_equal(f.bytes.len, 300);
    assert_int_equal(trn_pb_next(&r, &f, &d), 1);
    assert_int_equal(f.num, 20);
    assert_int_equal(f.bytes.len, 1);
    assert_int_equal(trn_pb_next(&r, &f, &d), 0);
    assert_int_equal(d.code, 0);
    trn_buf_fini(&b);
    trn_buf_fini(&inner);
}

static void test_pb_zigzag(void **state)
{
    (void)state;
    trn_pb_field_t f = {.u = 0};
    assert_int_equal(trn_pb_sint64(&f), 0);
    f.u = 1;
    assert_int_equal(trn_pb_sint64(&f), -1);
    f.u = 2;
    assert_int_equal(trn_pb_sint64(&f), 1);
    f.u = 3;
    assert_int_equal(trn_pb_sint32(&f), -2);
    f.u = UINT64_MAX;
    assert_true(trn_pb_sint64(&f) == INT64_MIN);
    f.u = 0xfffffffeu;
    assert_int_equal(trn_pb_sint32(&f), INT32_MAX);
}

static void test_pb_packed_varints(void **state)
{
    (void)state;
    const char msg[] = {0x0a, 0x04, 0x01, (char)0x96, 0x01, 0x02};
    trn_pb_t r;
    trn_pb_init(&r, msg, sizeof msg);
    trn_pb_field_t f;
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(trn_pb_next(&r, &f, &d), 1);
    trn_pb_t p = trn_pb_sub(&r, &f);
    uint64_t v, want[] = {1, 150, 2};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(trn_pb_packed_varint(&p, &v, &d), 1);
        assert_int_equal(v, want[i]);
    }
    assert_int_equal(trn_pb_packed_varint(&p, &v, &d), 0);
}

static void test_pb_rejects_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t len;
        int64_t offset;
        const char *msg;
    } cases[] = {
        {"\x08", 1, 1, "truncated varint"},
        {"\x08\x80", 2, 1, "truncated varint"},
        {"\x80", 1, 0, "truncated tag"},
        {"\x0a\x05hi", 4, 0, "claims 5 bytes, only 2 left"},
        {"\x0a\xff\xff\xff\xff\x0f", 6, 0, "claims 4294967295 bytes"},
        {"\x0a\x80\x01"
         "abc",
         6, 0, "claims 128 bytes, only 3 left"},
        {"\x09\x01\x02", 3, 0, "truncated fixed64"},
        {"\x0d\x01", 2, 0, "truncated fixed32"},
        {"\x00\x01", 2, 0, "invalid field number 0"},
        {"\x0b", 1, 0, "wire type 3 (start-group)"},
        {"\x0e", 1, 0, "wire type 6"},
        {"\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 11, 1, "overflows 64 bits"},
        {"\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11, -2, NULL}, /* max uint64: valid */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        trn_pb_t r;
        trn_pb_init(&r, cases[i].in, cases[i].len);
        trn_pb_field_t f;
        trn_diag_t d;
        trn_diag_init(&d);
        int rc;
        while ((rc = trn_pb_next(&r, &f, &d)) > 0) {
        }
        if (!cases[i].msg) {
            assert_int_equal(rc, 0);
            assert_true(f.u == UINT64_MAX);
            continue;
        }
        assert_int_equal(rc, TRN_EINVAL);
        if (!strstr(d.msg, cases[i].msg)) fail_msg("case %zu: got \"%s\"", i, d.msg);
        assert_int_equal(d.offset, cases[i].offset);
    }
}

static void test_pb_want_names_the_field(void **state)
{
    (void)state;
    trn_pb_field_t f = {.num = 2, .wire = TRN_PB_LEN, .offset = 7};
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(trn_pb_want(&f, TRN_PB_VARINT, "Sample", "timestamp", &d), TRN_EINVAL);
    assert_non_null(strstr(d.msg, "Sample.timestamp (field 2) has wire type length-delimited, "
                                  "want varint at byte offset 7"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pb_reads_every_wire_type),
        cmocka_unit_test(test_pb_zigzag),
        cmocka_unit_test(test_pb_packed_varints),
        cmocka_unit_test(test_pb_rejects_malformed),
        cmocka_unit_test(test_pb_want_names_the_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
