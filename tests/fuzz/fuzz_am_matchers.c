/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for Alertmanager matcher parsing (route `matchers`, silences,
 * the API's `filter`). The first byte sets the arena budget so the limit
 * path runs too; the rest is the matcher list. Parsed matchers are formatted
 * back, re-parsed (which must succeed: the formatter quotes what it writes)
 * and applied to a small label set. */
#include "alerts/matchers.h"
#include "core/err.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t budget = data[0] & 0x80 ? (size_t)(data[0] & 0x7f) * 64 : 0;
    trn_arena_t *a = trn_arena_new(budget);
    trn_am_matchers_t ms = {0};
    trn_diag_t d;
    trn_diag_init(&d);
    trn_str_t in = {(const char *)data + 1, size - 1};
    if (trn_am_matchers_parse(in, a, &ms, &d) == 0) {
        trn_label_t lv[] = {{TRN_STR("alertname"), TRN_STR("x")},
                            {TRN_STR("severity"), TRN_STR("critical")}};
        trn_labels_t ls = {lv, 2};
        volatile bool m = trn_am_matchers_match(&ms, &ls);
        (void)m;
        trn_buf_t b;
        trn_buf_init(&b);
        trn_am_matchers_format(&ms, &b);
        trn_arena_t *a2 = trn_arena_new(0);
        trn_am_matchers_t again = {0};
        trn_diag_init(&d);
        if (trn_am_matchers_parse((trn_str_t){b.data, b.len}, a2, &again, &d) < 0 ||
            again.n != ms.n)
            abort();
        trn_am_matchers_fini(&again);
        trn_arena_free(a2);
        trn_buf_fini(&b);
    }
    trn_am_matchers_fini(&ms);
    trn_arena_free(a);
    return 0;
}
