/* SPDX-License-Identifier: Apache-2.0 */
/* Postings set operations, the in-memory label index, and string interning,
 * each against a brute-force oracle on random data. */
#include "test.h"

#include "core/intern.h"
#include "core/lindex.h"
#include "core/postings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t random_sorted(uint32_t *out, size_t max, uint32_t range)
{
    size_t n = 0;
    for (uint32_t i = 0; i < range && n < max; i++)
        if (rand() % 3 == 0) out[n++] = i;
    return n;
}

static void test_postings_ops_match_oracle(void **state)
{
    (void)state;
    srand(11);
    for (int round = 0; round < 200; round++) {
        uint32_t a[600], b[600], out[600];
        uint32_t range = (uint32_t)(1 + rand() % 1500);
        size_t na = random_sorted(a, (size_t)(rand() % 600), range);
        size_t nb = random_sorted(b, (size_t)(round % 2 ? 5 : 600), range);
        size_t ni = trn_postings_intersect(a, na, b, nb, out), k = 0;
        for (size_t i = 0; i < na; i++)
            if (trn_postings_contains(b, nb, a[i])) {
                assert_true(k < ni);
                assert_int_equal(out[k++], a[i]);
            }
        assert_int_equal(k, ni);
        ni = trn_postings_intersect(b, nb, a, na, out);
        assert_int_equal(k, ni);
        size_t ns = trn_postings_subtract(a, na, b, nb, out);
        k = 0;
        for (size_t i = 0; i < na; i++)
            if (!trn_postings_contains(b, nb, a[i])) assert_int_equal(out[k++], a[i]);
        assert_int_equal(k, ns);
    }
}

static void test_ids_sort_unique(void **state)
{
    (void)state;
    trn_ids_t ids = {0};
    for (int i = 0; i < 10000; i++)
        trn_ids_push(&ids, (uint32_t)(rand() % 3000));
    trn_ids_sort_unique(&ids);
    for (size_t i = 1; i < ids.n; i++)
        assert_true(ids.v[i - 1] < ids.v[i]);
    trn_ids_fini(&ids);
}

static void test_intern_refcounts(void **state)
{
    (void)state;
    trn_intern_t *t = trn_intern_new();
    char name[32];
    trn_str_t kept[2000];
    for (int i = 0; i < 2000; i++) {
        snprintf(name, sizeof name, "s%d", i % 1000);
        kept[i] = trn_intern_get(t, trn_str_c(name));
    }
    assert_int_equal(trn_intern_count(t), 1000);
    assert_ptr_equal(kept[5].p, kept[1005].p);
    for (int i = 0; i < 1000; i++)
        trn_intern_put(t, kept[i]);
    assert_int_equal(trn_intern_count(t), 1000);
    for (int i = 1000; i < 2000; i += 2)
        trn_intern_put(t, kept[i]);
    assert_int_equal(trn_intern_count(t), 500);
    for (int i = 1001; i < 2000; i += 2) {
        trn_str_t f = trn_intern_find(t, kept[i]);
        assert_ptr_equal(f.p, kept[i].p);
    }
    assert_null(trn_intern_find(t, TRN_STR("s0")).p);
    trn_intern_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_postings_ops_match_oracle),
        cmocka_unit_test(test_ids_sort_unique),
        cmocka_unit_test(test_intern_refcounts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
