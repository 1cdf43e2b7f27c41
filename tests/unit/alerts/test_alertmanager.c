/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the alert manager core without notifications: alert
 * merging and fingerprints, inhibition, silences (create, update rules,
 * expire), and that silences and the notification log survive a restart
 * (including a torn tail in the state file). The clock is injected. */
#include "test.h"

#include "alerts/alertmanager.h"
#include "alerts/am_int.h"
#include "core/digest.h"
#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int64_t fake_now = 1700000000000LL;
static int64_t clock_fn(void)
{
    return fake_now;
}

static const char *CFG = "route:\n  receiver: a\n  group_by: [alertname]\n"
                         "receivers: [{name: a}]\n"
                         "inhibit_rules:\n"
                         "  - source_matchers: [severity=critical]\n"
                         "    target_matchers: [severity=warning]\n"
                         "    equal: [cluster]\n";

static trn_alertmanager_t *start(const char *dir)
{
    trn_am_config_t *c = NULL;
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(trn_am_config_parse("t.yml", CFG, strlen(CFG), &c, &d), 0);
    trn_am_opts_t o = {.now_ms = clock_fn, .no_dispatch = true};
    trn_alertmanager_t *am = NULL;
    assert_int_equal(trn_alertmanager_new(c, dir, NULL, &o, &am, &d), 0);
    return am;
}

static trn_am_alert_t mk(trn_label_t *lv, size_t n, int64_t start, int64_t end)
{
    trn_am_alert_t a = {.labels = {lv, n}, .starts_at_ms = start, .ends_at_ms = end};
    trn_labels_sort(&a.labels);
    return a;
}

static void test_alertmanager_fingerprint_matches_alertmanager(void **state)
{
    (void)state;
    /* model.LabelSet{"alertname": "test"}.Fingerprint() in Alertmanager */
    trn_label_t lv[] = {{TRN_STR("alertname"), TRN_STR("test")}};
    trn_labels_t ls = {lv, 1};
    uint64_t fp = trn__am_fingerprint(&ls);
    trn_labels_t empty = {NULL, 0};
    assert_int_equal(trn__am_fingerprint(&empty), 14695981039346656037ULL);
    assert_true(fp != trn__am_fingerprint(&empty));
}

static void test_alertmanager_inhibition_and_merge(void **state)
{
    (void)state;
    trn_alertmanager_t *am = start(NULL);
    trn_label_t crit[] = {{TRN_STR("alertname"), TRN_STR("Down")},
                          {TRN_STR("severity"), TRN_STR("critical")},
                          {TRN_STR("cluster"), TRN_STR("eu")}};
    trn_label_t warn[] = {{TRN_STR("alertname"), TRN_STR("Slow")},
                          {TRN_STR("severity"), TRN_STR("warning")},
                          {TRN_STR("cluster"), TRN_STR("eu")}};
    trn_label_t warn2[] = {{TRN_STR("alertname"), TRN_STR("Slow")},
                           {TRN_STR("severity"), TRN_STR("warning")},
                           {TRN_STR("cluster"), TRN_STR("us")}};
    trn_am_alert_t in[] = {mk(crit, 3, 0, 0), mk(warn, 3, 0, 0), mk(warn2, 3, 0, 0)};
    assert_int_equal(trn_alertmanager_push(am, in, 3), 3);
    trn_arena_t *a = trn_arena_new(0);
    trn_am_alert_view_t *v;
    size_t n;
    assert_int_equal(trn_alertmanager_alerts(am, a, &v, &n), 0);
    assert_int_equal(n, 3);
    size_t suppressed = 0;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(v[i].state, "suppressed")) {
            suppressed++;
            assert_true(trn_str_eqc(trn_labels_get(&v[i].labels, "cluster"), "eu"));
            assert_int_equal(v[i].n_inhibited_by, 1);
        }
        assert_int_equal(v[i].ends_at_ms, fake_now + TRN_AM_RESOLVE_TIMEOUT_MS);
        assert_string_equal(v[i].receivers[0], "a");
    }
    assert_int_equal(suppressed, 1);

    /* resolving the source lifts the inhibition; an explicit end wins over the timeout */
    fake_now += 1000;
    in[0].ends_at_ms = fake_now;
    in[0].starts_at_ms = fake_now - 500;
    assert_int_equal(trn_alertmanager_push(am, in, 1), 1);
    fake_now += 1;
    trn_arena_free(a);
    a = trn_arena_new(0);
    assert_int_equal(trn_alertmanager_alerts(am, a, &v, &n), 0);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(v[i].state, "active");
        if (trn_str_eqc(trn_labels_get(&v[i].labels, "alertname"), "Down")) {
            assert_int_equal(v[i].ends_at_ms, fake_now - 1);
            assert_int_equal(v[i].starts_at_ms, 1700000000000LL); /* earliest start kept */
        }
    }
    trn_arena_free(a);
    trn_alertmanager_free(am);
}

static trn_am_silence_t sil(trn_arena_t *a, const char *matchers, int64_t start, int64_t end)
{
    trn_am_silence_t s = {
        .starts_at_ms = start, .ends_at_ms = end, .created_by = "me", .comment = "c"};
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(trn_am_matchers_parse(trn_str_c(matchers), a, &s.matchers, &d), 0);
    return s;
}

static void test_alertmanager_silences_rules(void **state)
{
    (void)state;
    trn_alertmanager_t *am = start(NULL);
    trn_arena_t *a = trn_arena_new(0);
    trn_diag_t d;
    trn_diag_init(&d);
    char id[40], id2[40];
    trn_am_silence_t s = sil(a, "alertname=Slow", fake_now, fake_now + 3600000);
    assert_int_equal(trn_alertmanager_silence_set(am, &s, id, &d), 0);
    assert_int_equal(strlen(id), 36);

    trn_label_t warn[] = {{TRN_STR("alertname"), TRN_STR("Slow")}};
    trn_am_alert_t in = mk(warn, 1, 0, 0);
    trn_alertmanager_push(am, &in, 1);
    trn_am_alert_view_t *v;
    size_t n;
    assert_int_equal(trn_alertmanager_alerts(am, a, &v, &n), 0);
    assert_int_equal(v[0].n_silenced_by, 1);
    assert_string_equal(v[0].silenced_by[0], id);

    /* extending the end keeps the id; changing matchers makes a new one */
    memcpy(s.id, id, sizeof s.id);
    s.ends_at_ms += 1000;
    assert_int_equal(trn_alertmanager_silence_set(am, &s, id2, &d), 0);
    assert_string_equal(id, id2);
    trn_am_silence_t s2 = sil(a, "alertname=~\"Slow|Fast\"", fake_now, fake_now + 1000);
    memcpy(s2.id, id, sizeof s2.id);
    assert_int_equal(trn_alertmanager_silence_set(am, &s2, id2, &d), 0);
    assert_string_not_equal(id, id2);
    trn_am_silence_t *all;
    assert_int_equal(trn_alertmanager_silences(am, NULL, a, &all, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(trn_alertmanager_silence_expire(am, id2, &d), 0);
    fake_now += 1;
    trn_diag_init(&d);
    assert_int_equal(trn_alertmanager_silence_expire(am, id2, &d), TRN_EINVAL);
    assert_non_null(strstr(d.msg, "already expired"));
    trn_diag_init(&d);
    assert_int_equal(trn_alertmanager_silence_expire(am, "nope", &d), TRN_ENOTFOUND);

    /* validation */
    trn_am_silence_t bad = sil(a, "x=~\".*\"", fake_now, fake_now + 1000);
    trn_diag_init(&d);
    assert_int_equal(trn_alertmanager_silence_set(am, &bad, id2, &d), TRN_EINVAL);
    assert_non_null(strstr(d.msg, "must not match the empty string"));
    trn_am_matchers_fini(&bad.matchers);
    bad = sil(a, "x=y", fake_now, fake_now - 1000);
    trn_diag_init(&d);
    assert_int_equal(trn_alertmanager_silence_set(am, &bad, id2, &d), TRN_EINVAL);
    trn_am_matchers_fini(&bad.matchers);
    trn_am_matchers_fini(&s.matchers);
    trn_am_matchers_fini(&s2.matchers);
    trn_arena_free(a);
    trn_alertmanager_free(am);
}

static void test_alertmanager_state_survives_restart(void **state)
{
    (void)state;
    char dir[] = "/tmp/trn-am-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    trn_alertmanager_t *am = start(dir);
    trn_arena_t *a = trn_arena_new(0);
    trn_diag_t d;
    trn_diag_init(&d);
    char id[40];
    trn_am_silence_t s = sil(a, "team=\"db\", severity=~\"crit.*\"", fake_now, fake_now + 3600000);
    assert_int_equal(trn_alertmanager_silence_set(am, &s, id, &d), 0);
    trn_am_matchers_fini(&s.matchers);
    pthread_mutex_lock(&am->mu);
    uint64_t f[] = {1, 2}, r[] = {3};
    trn__am_nflog_log(am,
                      "{}:{a=\"b\"}\x1f"
                      "a\x1fwebhook\x1f"
                      "0",
                      fake_now, 3600000, f, 2, r, 1);
    pthread_mutex_unlock(&am->mu);
    trn_alertmanager_free(am);

    /* a torn tail (half a record) is cut, the rest survives */
    char path[256];
    snprintf(path, sizeof path, "%s/alertmanager/silences", dir);
    FILE *fp = fopen(path, "ab");
    assert_non_null(fp);
    fwrite("\x40\x00\x00\x00\x01\x02", 1, 6, fp);
    fclose(fp);

    am = start(dir);
    trn_am_silence_t *all;
    size_t n;
    assert_int_equal(trn_alertmanager_silences(am, NULL, a, &all, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(all[0].id, id);
    assert_int_equal(all[0].matchers.n, 2);
    assert_string_equal(all[0].created_by, "me");
    pthread_mutex_lock(&am->mu);
    const trn__am_nfe_t *e = trn__am_nflog_get(am, "{}:{a=\"b\"}\x1f"
                                                   "a\x1fwebhook\x1f"
                                                   "0");
    assert_non_null(e);
    assert_int_equal(e->n_firing, 2);
    assert_int_equal(e->resolved[0], 3);
    assert_int_equal(e->ts, fake_now);
    pthread_mutex_unlock(&am->mu);
    trn_alertmanager_free(am);
    trn_arena_free(a);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_alertmanager_format_doc_example(void **state)
{
    (void)state;
    /* docs/format/alertmanager.md, "Worked example" */
    static const char hex[] =
        "54524e414d4e464c0100000038000000873909c87b226b6579223a226b222c227473223a312c2265787069"
        "726573223a322c22666972696e67223a5b5d2c227265736f6c766564223a5b5d7d";
    char dir[] = "/tmp/trn-am-doc-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[300];
    snprintf(path, sizeof path, "%s/alertmanager", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/alertmanager/nflog", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (size_t i = 0; i + 1 < sizeof hex; i += 2) {
        unsigned v;
        sscanf(hex + i, "%2x", &v);
        fputc((int)v, f);
    }
    fclose(f);
    int64_t saved = fake_now;
    fake_now = 1; /* the entry expires at ms 2: keep it through the open-time compaction */
    trn_alertmanager_t *am = start(dir);
    pthread_mutex_lock(&am->mu);
    const trn__am_nfe_t *e = trn__am_nflog_get(am, "k");
    assert_non_null(e);
    assert_int_equal(e->ts, 1);
    assert_int_equal(e->expires, 2);
    assert_int_equal(e->n_firing + e->n_resolved, 0);
    pthread_mutex_unlock(&am->mu);
    trn_alertmanager_free(am);
    fake_now = saved;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_alertmanager_sha256_and_templates(void **state)
{
    (void)state;
    char h[65];
    trn_sha256_hex("abc", 3, h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    trn_sha256_hex("", 0, h);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

    static const char cfg[] = "global: {slack_api_url: 'http://s'}\n"
                              "route: {receiver: r, group_by: [alertname]}\n"
                              "receivers: [{name: r, slack_configs: [{channel: '#c'}]}]\n";
    trn_am_config_t *c = NULL;
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(trn_am_config_parse("t.yml", cfg, strlen(cfg), &c, &d), 0);
    trn_label_t l1[] = {{TRN_STR("alertname"), TRN_STR("Down")}, {TRN_STR("job"), TRN_STR("api")}};
    trn_am_alert_t in = mk(l1, 2, 0, 0);
    trn__am_alert_t *a = trn__am_alert_new(&in, 1000, 300000);
    trn__am_alert_t *alerts[] = {a};
    trn_label_t gv[] = {{TRN_STR("alertname"), TRN_STR("Down")}};
    trn_labels_t gl = {gv, 1};
    trn__am_cfg_t wrap = {.refs = 1, .c = c};
    trn__am_notification_t n = {.receiver = "r",
                                .group_key = "{}:{alertname=\"Down\"}",
                                .group_labels = &gl,
                                .alerts = alerts,
                                .n_alerts = 1,
                                .now = 2000,
                                .external_url = "http://am",
                                .cfg = &wrap};
    trn__am_tctx_t t;
    assert_int_equal(trn__am_tctx_init(&t, &c->receivers[0].integrations[0], &n), 0);
    assert_string_equal(trn__am_tx(&t, "title"), "[FIRING:1] Down (api)");
    assert_string_equal(trn__am_tx(&t, "title_link"), "http://am/#/alerts?receiver=r");
    assert_string_equal(trn__am_tx(&t, "username"), "Alertmanager");
    assert_string_equal(trn__am_tx(&t, "color"), "danger");
    assert_string_equal(trn__am_tx(&t, "channel"), "#c");
    assert_int_equal(t.d.code, 0);
    trn__am_tctx_fini(&t);
    trn__am_alert_unref(a);
    trn_am_config_free(c);
}

static void test_alertmanager_dedup_rules(void **state)
{
    (void)state;
    uint64_t f12[] = {1, 2}, f1[] = {1}, f3[] = {3}, r2[] = {2};
    trn__am_nfe_t e = {.ts = 1000, .firing = f12, .n_firing = 2, .resolved = NULL, .n_resolved = 0};
    const int64_t hour = 3600000;
    /* never notified: only if something fires */
    assert_true(trn__am_needs_update(NULL, f1, 1, NULL, 0, false, hour, 2000));
    assert_false(trn__am_needs_update(NULL, NULL, 0, r2, 1, true, hour, 2000));
    /* same or fewer firing alerts inside repeat_interval: nothing */
    assert_false(trn__am_needs_update(&e, f12, 2, NULL, 0, false, hour, 2000));
    assert_false(trn__am_needs_update(&e, f1, 1, r2, 1, false, hour, 2000));
    /* ... unless resolved ones must be told */
    assert_true(trn__am_needs_update(&e, f1, 1, r2, 1, true, hour, 2000));
    /* a new firing alert */
    assert_true(trn__am_needs_update(&e, f3, 1, NULL, 0, false, hour, 2000));
    /* everything resolved after a firing notice: always (clears the log) */
    assert_true(trn__am_needs_update(&e, NULL, 0, f12, 2, false, hour, 2000));
    /* repeat interval passed */
    assert_true(trn__am_needs_update(&e, f12, 2, NULL, 0, false, hour, 1000 + hour + 1));
    /* nothing firing before nor now */
    trn__am_nfe_t quiet = {.ts = 1000};
    assert_false(trn__am_needs_update(&quiet, NULL, 0, r2, 1, true, hour, 2000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alertmanager_fingerprint_matches_alertmanager),
        cmocka_unit_test(test_alertmanager_inhibition_and_merge),
        cmocka_unit_test(test_alertmanager_silences_rules),
        cmocka_unit_test(test_alertmanager_state_survives_restart),
        cmocka_unit_test(test_alertmanager_format_doc_example),
        cmocka_unit_test(test_alertmanager_sha256_and_templates),
        cmocka_unit_test(test_alertmanager_dedup_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
