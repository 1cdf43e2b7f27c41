/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for exposition import: batching of consecutive lines of one
 * series, default timestamps, extra labels, metadata merging, the
 * backfill split, and errors carrying line:col. */
#include "test.h"

#include "core/err.h"
#include "ingest/import.h"

#include <string.h>

static void test_import_groups_and_defaults(void **state)
{
    (void)state;
    static const char body[] = "# HELP up Whether the target is up.\n"
                               "# TYPE up gauge\n"
                               "up{job=\"a\"} 1 1000\n"
                               "up{job=\"a\"} 0 2000\n"
                               "up{job=\"b\"} 1\n"
                               "# TYPE old untyped\n"
                               "old 5 10\n";
    trn_arena_t *a = trn_arena_new(0);
    trn_import_batch_t b;
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(
        trn_import_parse(body, sizeof body - 1, TRN_EXPO_TEXT, 99999, NULL, 0, a, &b, &d), 0);
    assert_int_equal(b.n_series, 3);
    assert_int_equal(b.n_samples, 4);
    assert_int_equal(b.series[0].n_samples, 2);
    assert_true(b.series[0].samples[1].t_ms == 2000 && b.series[0].samples[1].v == 0);
    assert_int_equal(b.series[1].samples[0].t_ms, 99999);
    assert_true(trn_str_eqc(trn_labels_get(&b.series[1].labels, "job"), "b"));
    assert_int_equal(b.n_meta, 2);
    assert_true(trn_str_eqc(b.meta[0].metric, "up"));
    assert_true(trn_str_eqc(b.meta[0].type, "gauge"));
    assert_true(trn_str_eqc(b.meta[0].help, "Whether the target is up."));
    assert_true(trn_str_eqc(b.meta[1].type, "unknown"));

    trn_import_batch_t old, recent;
    assert_int_equal(trn_import_split(&b, 1500, a, &old, &recent, &d), 0);
    assert_int_equal(old.n_series, 2); /* up{job="a"}@1000 and old@10 */
    assert_int_equal(old.n_samples, 2);
    assert_int_equal(recent.n_series, 2);
    assert_int_equal(recent.n_samples, 2);
    assert_int_equal(recent.series[0].samples[0].t_ms, 2000);
    trn_arena_free(a);
}

static void test_import_extra_labels(void **state)
{
    (void)state;
    static const char body[] = "m{job=\"x\",keep=\"1\",gone=\"y\"} 1 1\nm{job=\"z\"} 2 2\n";
    trn_label_t ev[] = {{TRN_STR("job"), TRN_STR("forced")},
                        {TRN_STR("gone"), TRN_STR("")},
                        {TRN_STR("added"), TRN_STR("v")}};
    trn_labels_t extra = {ev, 3};
    trn_arena_t *a = trn_arena_new(0);
    trn_import_batch_t b;
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(
        trn_import_parse(body, sizeof body - 1, TRN_EXPO_TEXT, 0, &extra, 0, a, &b, &d), 0);
    assert_int_equal(b.n_series, 2);
    trn_buf_t out;
    trn_buf_init(&out);
    trn_labels_format(&b.series[0].labels, &out);
    assert_string_equal(out.data, "{__name__=\"m\", added=\"v\", job=\"forced\", keep=\"1\"}");
    trn_buf_fini(&out);
    trn_arena_free(a);
}

static void test_import_errors_name_line_and_col(void **state)
{
    (void)state;
    static const char body[] = "a 1\nb 2\nc{x=\"1\" 3\n";
    trn_arena_t *a = trn_arena_new(0);
    trn_import_batch_t b;
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(trn_import_parse(body, sizeof body - 1, TRN_EXPO_TEXT, 0, NULL, 0, a, &b, &d),
                     TRN_EINVAL);
    assert_int_equal(d.line, 3);
    assert_int_equal(d.col, 9);
    assert_non_null(strstr(d.msg, "line 3:9:"));
    trn_arena_free(a);
}

static void test_import_many_series_grow(void **state)
{
    (void)state;
    trn_buf_t body;
    trn_buf_init(&body);
    for (int i = 0; i < 5000; i++)
        trn_buf_printf(&body, "m{i=\"%d\"} %d %d\n", i / 2, i, i);
    trn_arena_t *a = trn_arena_new(0);
    trn_import_batch_t b;
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(trn_import_parse(body.data, body.len, TRN_EXPO_TEXT, 0, NULL, 0, a, &b, &d),
                     0);
    assert_int_equal(b.n_series, 2500);
    assert_int_equal(b.n_samples, 5000);
    assert_true(b.series[2499].samples[1].v == 4999);
    trn_arena_free(a);
    /* A small budget is a limit, not a crash. */
    a = trn_arena_new(8192);
    trn_diag_init(&d);
    assert_int_equal(trn_import_parse(body.data, body.len, TRN_EXPO_TEXT, 0, NULL, 0, a, &b, &d),
                     TRN_ELIMIT);
    trn_arena_free(a);
    trn_buf_fini(&body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_groups_and_defaults),
        cmocka_unit_test(test_import_extra_labels),
        cmocka_unit_test(test_import_errors_name_line_and_col),
        cmocka_unit_test(test_import_many_series_grow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
