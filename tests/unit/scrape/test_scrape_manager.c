/* SPDX-License-Identifier: Apache-2.0 */
/* The scrape manager end to end inside one process: a small exporter
 * thread serves exposition text on a loopback port, the manager scrapes it
 * every 100ms into an in-memory store, and the tests read the store back:
 * samples with target labels (exported_ renaming), metric relabeling, the
 * synthetic series, staleness markers for a vanished series and for every
 * series when the target fails, reload keeping a target's state, removal
 * writing staleness markers, and the targets snapshot. Polls with
 * deadlines; no fixed sleeps decide an outcome. */
#include "test.h"

#include "core/arena.h"
#include "core/labels.h"
#include "core/matcher.h"
#include "core/timefmt.h"
#include "core/yaml.h"
#include "metrics/store.h"
#include "scrape/scrape.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- a tiny exporter ---- */

typedef struct exporter {
    int fd, port;
    pthread_t thread;
    pthread_mutex_t mu;
    bool stop;
    int status;
    const char *content_type;
    char body[4096];
    char last_request[4096];
    int requests;
} exporter_t;

static void *exporter_main(void *arg)
{
    exporter_t *e = arg;
    for (;;) {
        pthread_mutex_lock(&e->mu);
        bool stop = e->stop;
        pthread_mutex_unlock(&e->mu);
        if (stop) break;
        struct pollfd p = {e->fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        int c = accept(e->fd, NULL, NULL);
        if (c < 0) continue;
        char req[4096];
        size_t n = 0;
        while (n < sizeof req - 1) {
            ssize_t r = read(c, req + n, sizeof req - 1 - n);
            if (r <= 0) break;
            n += (size_t)r;
            req[n] = 0;
            if (strstr(req, "\r\n\r\n")) break;
        }
        req[n] = 0;
        char resp[8192];
        pthread_mutex_lock(&e->mu);
        snprintf(e->last_request, sizeof e->last_request, "%s", req);
        e->requests++;
        int len = snprintf(resp, sizeof resp,
                           "HTTP/1.1 %d X\r\nContent-Type: %s\r\n"
                           "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                           e->status, e->content_type, strlen(e->body), e->body);
        pthread_mutex_unlock(&e->mu);
        ssize_t w = write(c, resp, (size_t)len);
        (void)w;
        close(c);
    }
    return NULL;
}

static void exporter_start(exporter_t *e, const char *body)
{
    memset(e, 0, sizeof *e);
    pthread_mutex_init(&e->mu, NULL);
    e->status = 200;
    e->content_type = "text/plain; version=0.0.4";
    snprintf(e->body, sizeof e->body, "%s", body);
    e->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(e->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(e->fd, 16), 0);
    socklen_t al = sizeof a;
    getsockname(e->fd, (struct sockaddr *)&a, &al);
    e->port = ntohs(a.sin_port);
    pthread_create(&e->thread, NULL, exporter_main, e);
}

static void exporter_set(exporter_t *e, int status, const char *body)
{
    pthread_mutex_lock(&e->mu);
    e->status = status;
    snprintf(e->body, sizeof e->body, "%s", body);
    int seen = e->requests;
    pthread_mutex_unlock(&e->mu);
    /* Wait until a scrape has seen the new content, so later polls see it. */
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&e->mu);
        int now = e->requests;
        pthread_mutex_unlock(&e->mu);
        if (now > seen) return;
        usleep(20000);
    }
}

static void exporter_stop(exporter_t *e)
{
    pthread_mutex_lock(&e->mu);
    e->stop = true;
    pthread_mutex_unlock(&e->mu);
    pthread_join(e->thread, NULL);
    close(e->fd);
    pthread_mutex_destroy(&e->mu);
}

/* ---- store helpers ---- */

static void find_meta(void *ctx, const trn_metric_meta_t *m)
{
    if (trn_str_eqc(m->metric, "a")) snprintf(ctx, 64, "%.*s", (int)m->type.len, m->type.p);
}

static trn_store_t *mem_store(void)
{
    trn_store_opts_t o;
    trn_store_opts_default(&o);
    o.dir = NULL;
    trn_store_t *s;
    assert_int_equal(trn_store_open(&o, &s, NULL), 0);
    return s;
}

typedef struct last {
    bool found;
    double v;
    size_t n_samples;
    char labels[512];
} last_t;

/* The newest sample of the one series matching name (+ optional label). */
static last_t newest(trn_store_t *s, const char *name, const char *lname, const char *lvalue)
{
    last_t r = {0};
    trn_querier_t *q;
    int64_t now = trn_now_ms();
    assert_int_equal(trn_store_querier(s, now - 600000, now + 600000, &q), 0);
    trn_arena_t *a = trn_arena_new(0);
    trn_matcher_t m[2];
    size_t nm = 1;
    trn_matcher_init(&m[0], TRN_MATCH_EQ, TRN_STR("__name__"), trn_str_c(name), NULL);
    if (lname) trn_matcher_init(&m[nm++], TRN_MATCH_EQ, trn_str_c(lname), trn_str_c(lvalue), NULL);
    trn_series_t *ss;
    size_t n;
    if (trn_querier_select(q, m, nm, a, &ss, &n, NULL) == 0 && n >= 1) {
        trn_sample_t *smp;
        size_t ns;
        if (trn_querier_samples(q, &ss[0], now - 600000, now + 600000, a, &smp, &ns) == 0 && ns) {
            r.found = true;
            r.v = smp[ns - 1].v;
            r.n_samples = ns;
            trn_buf_t b;
            trn_buf_init(&b);
            trn_labels_format(&ss[0].labels, &b);
            snprintf(r.labels, sizeof r.labels, "%s", b.data);
            trn_buf_fini(&b);
        }
    }
    for (size_t i = 0; i < nm; i++)
        trn_matcher_fini(&m[i]);
    trn_arena_free(a);
    trn_querier_close(q);
    return r;
}

typedef enum { WANT_VALUE, WANT_STALE, WANT_ABSENT } want_t;

/* Polls until the newest sample matches (deadline 10s). */
static last_t wait_for(trn_store_t *s, const char *name, const char *ln, const char *lv, want_t w,
                       double v)
{
    last_t r = {0};
    for (int i = 0; i < 500; i++) {
        r = newest(s, name, ln, lv);
        if (w == WANT_ABSENT && !r.found) return r;
        if (w == WANT_STALE && r.found && trn_is_stale_nan(r.v)) return r;
        if (w == WANT_VALUE && r.found && !isnan(r.v) && r.v == v) return r;
        usleep(20000);
    }
    fail_msg("timed out waiting for %s (found=%d v=%g)", name, r.found, r.v);
    return r;
}

static trn_scrape_config_t *config(const char *fmt, int port)
{
    char yaml[4096];
    snprintf(yaml, sizeof yaml, fmt, port, port);
    trn_yaml_doc_t *doc;
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(trn_yaml_parse("t.yml", yaml, strlen(yaml), &doc, &d), 0);
    trn_scrape_config_t *c = NULL;
    if (trn_scrape_config_parse(trn_yaml_root(doc), &c, &d) < 0) fail_msg("%s", d.msg);
    trn_yaml_free(doc);
    return c;
}

static const char *const CFG = "scrape_configs:\n"
                               "  - job_name: test\n"
                               "    scrape_interval: 100ms\n"
                               "    scrape_timeout: 100ms\n"
                               "    authorization: {credentials: s3cret}\n"
                               "    static_configs:\n"
                               "      - targets: ['127.0.0.1:%d']\n"
                               "        labels: {env: ci}\n"
                               "    metric_relabel_configs:\n"
                               "      - source_labels: [__name__]\n"
                               "        regex: dropped_.*\n"
                               "        action: drop\n";

static void test_scrape_manager_lifecycle(void **state)
{
    (void)state;
    exporter_t e;
    exporter_start(&e, "# TYPE a counter\na_total{job=\"inner\"} 5\nb 2\ndropped_x 1\n");
    trn_store_t *s = mem_store();
    trn_registry_t *reg = trn_registry_new();
    trn_scrape_manager_t *m = trn_scrape_manager_new(s, reg);
    trn_scrape_config_t *c = config(CFG, e.port);
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(trn_scrape_manager_apply(m, c, &d), 0);

    /* Samples arrive with the target's labels; the clash is renamed. */
    last_t r = wait_for(s, "a_total", NULL, NULL, WANT_VALUE, 5);
    char want[256];
    snprintf(
        want, sizeof want,
        "{__name__=\"a_total\", env=\"ci\", exported_job=\"inner\", instance=\"127.0.0.1:%d\", "
        "job=\"test\"}",
        e.port);
    assert_string_equal(r.labels, want);
    wait_for(s, "up", NULL, NULL, WANT_VALUE, 1);
    wait_for(s, "scrape_samples_scraped", NULL, NULL, WANT_VALUE, 3);
    wait_for(s, "scrape_samples_post_metric_relabeling", NULL, NULL, WANT_VALUE, 2);
    assert_true(newest(s, "scrape_duration_seconds", NULL, NULL).found);
    assert_false(newest(s, "dropped_x", NULL, NULL).found);
    char type[64] = "";
    trn_store_each_metadata(s, find_meta, type);
    assert_string_equal(type, "counter");
    pthread_mutex_lock(&e.mu);
    assert_non_null(strstr(e.last_request, "Authorization: Bearer s3cret"));
    assert_non_null(strstr(e.last_request, "Accept: application/openmetrics-text;version=1.0.0"));
    assert_non_null(strstr(e.last_request, "X-Prometheus-Scrape-Timeout-Seconds: 0.1"));
    pthread_mutex_unlock(&e.mu);

    /* The targets snapshot. */
    trn_arena_t *a = trn_arena_new(0);
    trn_target_info_t *act, *drop;
    size_t na, nd;
    assert_int_equal(trn_scrape_manager_targets(m, a, &act, &na, &drop, &nd), 0);
    assert_int_equal(na, 1);
    assert_int_equal(nd, 0);
    assert_string_equal(act[0].pool, "test");
    trn_scrape_pool_info_t *pools;
    size_t np;
    assert_int_equal(trn_scrape_manager_pools(m, a, &pools, &np), 0);
    assert_int_equal(np, 1);
    assert_string_equal(pools[0].name, "test");
    assert_int_equal(pools[0].n_active, 1);
    assert_int_equal(act[0].health, TRN_TARGET_UP);
    assert_string_equal(act[0].last_error, "");
    assert_int_equal(act[0].interval_ms, 100);
    snprintf(want, sizeof want, "http://127.0.0.1:%d/metrics", e.port);
    assert_string_equal(act[0].url, want);
    assert_true(trn_str_eqc(trn_labels_get(&act[0].discovered, "__scheme__"), "http"));
    assert_false(trn_labels_get(&act[0].labels, "__address__").p != NULL);
    trn_arena_free(a);

    /* A series that disappears gets a staleness marker. */
    exporter_set(&e, 200, "# TYPE a counter\na_total{job=\"inner\"} 6\n");
    wait_for(s, "b", NULL, NULL, WANT_STALE, 0);
    wait_for(s, "a_total", NULL, NULL, WANT_VALUE, 6);

    /* A reload with the same target keeps it running (same state). */
    trn_scrape_config_t *c2 = config(CFG, e.port);
    assert_int_equal(trn_scrape_manager_apply(m, c2, &d), 0);
    a = trn_arena_new(0);
    assert_int_equal(trn_scrape_manager_targets(m, a, &act, &na, NULL, NULL), 0);
    assert_int_equal(na, 1);
    assert_int_equal(act[0].health, TRN_TARGET_UP);
    trn_arena_free(a);

    /* A failing target: up 0, every series stale, the error recorded. */
    exporter_set(&e, 500, "");
    wait_for(s, "up", NULL, NULL, WANT_VALUE, 0);
    wait_for(s, "a_total", NULL, NULL, WANT_STALE, 0);
    a = trn_arena_new(0);
    assert_int_equal(trn_scrape_manager_targets(m, a, &act, &na, NULL, NULL), 0);
    assert_int_equal(act[0].health, TRN_TARGET_DOWN);
    assert_string_equal(act[0].last_error, "server returned HTTP status 500 Internal Server Error");
    trn_arena_free(a);

    /* Removing the job: the synthetic series go stale too. */
    exporter_set(&e, 200, "c 1\n");
    wait_for(s, "c", NULL, NULL, WANT_VALUE, 1);
    trn_scrape_config_t *empty = config("scrape_configs: []\n", 0);
    assert_int_equal(trn_scrape_manager_apply(m, empty, &d), 0);
    wait_for(s, "up", NULL, NULL, WANT_STALE, 0);
    wait_for(s, "c", NULL, NULL, WANT_STALE, 0);

    trn_scrape_manager_free(m);
    trn_scrape_config_free(c);
    trn_scrape_config_free(c2);
    trn_scrape_config_free(empty);
    exporter_stop(&e);
    trn_registry_free(reg);
    trn_store_close(s);
}

static void test_scrape_manager_file_sd_and_dropped(void **state)
{
    (void)state;
    exporter_t e;
    exporter_start(&e, "x 1\n");
    char path[128];
    snprintf(path, sizeof path, "/tmp/trn_scrape_sd_%d.json", (int)getpid());
    FILE *f = fopen(path, "w");
    fprintf(f, "[{\"targets\": [\"127.0.0.1:%d\", \"skip:1\"], \"labels\": {\"team\": \"a\"}}]",
            e.port);
    fclose(f);
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "scrape_configs:\n"
             "  - job_name: sd\n"
             "    scrape_interval: 100ms\n"
             "    file_sd_configs: [{files: ['%s']}]\n"
             "    relabel_configs:\n"
             "      - {source_labels: [__address__], regex: 'skip:.*', action: drop}\n",
             path);
    trn_store_t *s = mem_store();
    trn_registry_t *reg = trn_registry_new();
    trn_scrape_manager_t *m = trn_scrape_manager_new(s, reg);
    trn_scrape_config_t *c = config(yaml, 0);
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(trn_scrape_manager_apply(m, c, &d), 0);
    last_t r = wait_for(s, "x", "team", "a", WANT_VALUE, 1);
    assert_non_null(strstr(r.labels, "job=\"sd\""));
    trn_arena_t *a = trn_arena_new(0);
    trn_target_info_t *act, *drop;
    size_t na, nd;
    assert_int_equal(trn_scrape_manager_targets(m, a, &act, &na, &drop, &nd), 0);
    assert_int_equal(na, 1);
    assert_int_equal(nd, 1);
    assert_true(trn_str_eqc(trn_labels_get(&drop[0].discovered, "__address__"), "skip:1"));
    assert_true(trn_str_eqc(trn_labels_get(&drop[0].discovered, "__meta_filepath"), path));
    trn_arena_free(a);

    /* The file changes: the team label changes, so the old series go stale. */
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    f = fopen(tmp, "w");
    fprintf(f, "[{\"targets\": [\"127.0.0.1:%d\"], \"labels\": {\"team\": \"b\"}}]", e.port);
    fclose(f);
    rename(tmp, path);
    wait_for(s, "x", "team", "b", WANT_VALUE, 1);
    wait_for(s, "x", "team", "a", WANT_STALE, 0);

    trn_scrape_manager_free(m);
    trn_scrape_config_free(c);
    unlink(path);
    exporter_stop(&e);
    trn_registry_free(reg);
    trn_store_close(s);
}

static void test_scrape_manager_honor_and_limits(void **state)
{
    (void)state;
    char body[256];
    snprintf(body, sizeof body, "m{job=\"inner\"} 1\nts_metric 5 %lld\n",
             (long long)(trn_now_ms() - 1000));
    exporter_t e;
    exporter_start(&e, body);
    trn_store_t *s = mem_store();
    trn_registry_t *reg = trn_registry_new();
    trn_scrape_manager_t *m = trn_scrape_manager_new(s, reg);
    trn_scrape_config_t *c = config("scrape_configs:\n"
                                    "  - job_name: honor\n"
                                    "    scrape_interval: 100ms\n"
                                    "    honor_labels: true\n"
                                    "    sample_limit: 3\n"
                                    "    static_configs: [{targets: ['127.0.0.1:%d']}]\n",
                                    e.port);
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(trn_scrape_manager_apply(m, c, &d), 0);
    /* honor_labels: the scraped job wins, no exported_job. */
    last_t r = wait_for(s, "m", NULL, NULL, WANT_VALUE, 1);
    assert_non_null(strstr(r.labels, "job=\"inner\""));
    assert_null(strstr(r.labels, "exported_job"));
    wait_for(s, "ts_metric", NULL, NULL, WANT_VALUE, 5);
    /* A series with its own timestamp gets no staleness marker. */
    exporter_set(&e, 200, "m{job=\"inner\"} 2\n");
    wait_for(s, "m", NULL, NULL, WANT_VALUE, 2);
    r = newest(s, "ts_metric", NULL, NULL);
    assert_true(r.found && r.v == 5);
    /* A series with a duplicate label name fails the scrape. */
    exporter_set(&e, 200, "m{job=\"inner\"} 3\ndup{a=\"1\",a=\"2\"} 1\n");
    wait_for(s, "up", "job", "honor", WANT_VALUE, 0);
    assert_false(newest(s, "dup", NULL, NULL).found);
    exporter_set(&e, 200, "m{job=\"inner\"} 4\n");
    wait_for(s, "up", "job", "honor", WANT_VALUE, 1);
    /* Over sample_limit: the scrape fails as a whole. */
    exporter_set(&e, 200, "a 1\nb 2\nc 3\nd 4\n");
    wait_for(s, "up", "job", "honor", WANT_VALUE, 0);
    assert_false(newest(s, "d", NULL, NULL).found);
    trn_arena_t *a = trn_arena_new(0);
    trn_target_info_t *act;
    size_t na;
    assert_int_equal(trn_scrape_manager_targets(m, a, &act, &na, NULL, NULL), 0);
    assert_string_equal(act[0].last_error, "sample limit exceeded");
    trn_arena_free(a);
    trn_scrape_manager_free(m);
    trn_scrape_config_free(c);
    exporter_stop(&e);
    trn_registry_free(reg);
    trn_store_close(s);
}

static void test_scrape_manager_openmetrics(void **state)
{
    (void)state;
    exporter_t e;
    exporter_start(&e, "");
    char body[512];
    snprintf(body, sizeof body,
             "# TYPE jobs counter\n# HELP jobs Jobs done.\njobs_total 7 %.3f\n"
             "jobs_created 1\n# EOF\n",
             (double)(trn_now_ms() - 2000) / 1000.0);
    pthread_mutex_lock(&e.mu);
    e.content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    snprintf(e.body, sizeof e.body, "%s", body);
    pthread_mutex_unlock(&e.mu);
    trn_store_t *s = mem_store();
    trn_registry_t *reg = trn_registry_new();
    trn_scrape_manager_t *m = trn_scrape_manager_new(s, reg);
    trn_scrape_config_t *c = config("scrape_configs:\n"
                                    "  - job_name: om\n"
                                    "    scrape_interval: 100ms\n"
                                    "    static_configs: [{targets: ['127.0.0.1:%d']}]\n",
                                    e.port);
    trn_diag_t d;
    trn_diag_init(&d);
    assert_int_equal(trn_scrape_manager_apply(m, c, &d), 0);
    wait_for(s, "jobs_total", "job", "om", WANT_VALUE, 7);
    wait_for(s, "up", "job", "om", WANT_VALUE, 1);
    trn_scrape_manager_free(m);
    trn_scrape_config_free(c);
    exporter_stop(&e);
    trn_registry_free(reg);
    trn_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scrape_manager_lifecycle),
        cmocka_unit_test(test_scrape_manager_file_sd_and_dropped),
        cmocka_unit_test(test_scrape_manager_honor_and_limits),
        cmocka_unit_test(test_scrape_manager_openmetrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
