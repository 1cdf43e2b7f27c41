/* SPDX-License-Identifier: Apache-2.0 */
/* Parsing of Prometheus's `global` and `scrape_configs` sections into an
 * immutable, reference-counted trn_scrape_config_t. Defaults follow
 * Prometheus: global scrape_interval 1m and scrape_timeout 10s; a job
 * inherits them, except that an inherited timeout longer than the job's
 * interval is cut to the interval; an explicit timeout longer than the
 * interval is an error. metrics_path defaults to /metrics, scheme to http,
 * honor_timestamps to true, file_sd refresh_interval to 5m.
 *
 * Every map is checked against its allowed keys, so a typo is an error
 * with file:line:col instead of a silently ignored setting. Keys Prometheus
 * knows but trine does not honour (other service discoveries, OAuth2...)
 * are rejected the same way: accepting them would be a quiet lie.
 *
 * Each job also gets a fingerprint, a canonical dump of its YAML subtree
 * plus the inherited globals, which the manager compares on reload to know
 * whether a pool's settings changed. The config is shared by reference
 * between the daemon and the manager's loops (atomic count), which is how
 * apply can "take ownership of nothing" and still keep it alive. */
#include "scrape/scrape_int.h"

#include "core/alloc.h"
#include "core/err.h"
#include "core/str.h"
#include "core/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_INTERVAL_MS 60000
#define DEFAULT_TIMEOUT_MS 10000
#define DEFAULT_SD_REFRESH_MS 300000

static const char *const global_keys[] = {"scrape_interval",
                                          "scrape_timeout",
                                          "evaluation_interval",
                                          "external_labels",
                                          "query_log_file",
                                          "rule_query_offset",
                                          "scrape_protocols",
                                          "body_size_limit",
                                          "sample_limit",
                                          "label_limit",
                                          "label_name_length_limit",
                                          "label_value_length_limit",
                                          "target_limit",
                                          "keep_dropped_targets",
                                          "scrape_failure_log_file",
                                          "metric_name_validation_scheme",
                                          NULL};

static const char *const job_keys[] = {"job_name",
                                       "scrape_interval",
                                       "scrape_timeout",
                                       "metrics_path",
                                       "scheme",
                                       "params",
                                       "basic_auth",
                                       "authorization",
                                       "bearer_token",
                                       "bearer_token_file",
                                       "tls_config",
                                       "proxy_url",
                                       "follow_redirects",
                                       "enable_http2",
                                       "enable_compression",
                                       "honor_labels",
                                       "honor_timestamps",
                                       "static_configs",
                                       "file_sd_configs",
                                       "relabel_configs",
                                       "metric_relabel_configs",
                                       "sample_limit",
                                       "label_limit",
                                       "label_name_length_limit",
                                       "label_value_length_limit",
                                       "body_size_limit",
                                       NULL};

void trn__tgroup_fini(trn__tgroup_t *g)
{
    if (!g) return;
    for (size_t i = 0; i < g->n_targets; i++)
        free(g->targets[i]);
    free(g->targets);
    for (size_t i = 0; i < g->n_labels; i++) {
        free(g->names[i]);
        free(g->values[i]);
    }
    free(g->names);
    free(g->values);
    free(g->source);
    memset(g, 0, sizeof *g);
}

int trn__tgroup_from_yaml(const trn_yaml_node_t *n, const char *source, trn__tgroup_t *g,
                          trn_diag_t *d)
{
    static const char *const keys[] = {"targets", "labels", NULL};
    memset(g, 0, sizeof *g);
    g->source = trn_xstrdup(source);
    if (trn_yaml_check_map(n, "target group", keys, d) < 0) return TRN_EINVAL;
    const trn_yaml_node_t *t = trn_yaml_get(n, "targets"), *l = trn_yaml_get(n, "labels");
    if (t && !trn_yaml_is_null(t)) {
        if (t->kind != TRN_YAML_SEQ) return trn_yaml_error(d, t, "targets must be a list");
        g->targets = trn_xcalloc(t->n ? t->n : 1, sizeof *g->targets);
        for (size_t i = 0; i < t->n; i++) {
            const char *s;
            if (trn_yaml_str(t->items[i], &s, d) < 0) return TRN_EINVAL;
            if (!*s) return trn_yaml_error(d, t->items[i], "target must not be empty");
            g->targets[g->n_targets++] = trn_xstrdup(s);
        }
    }
    if (l && !trn_yaml_is_null(l)) {
        if (l->kind != TRN_YAML_MAP) return trn_yaml_error(d, l, "labels must be a mapping");
        g->names = trn_xcalloc(l->n ? l->n : 1, sizeof *g->names);
        g->values = trn_xcalloc(l->n ? l->n : 1, sizeof *g->values);
        for (size_t i = 0; i < l->n; i++) {
            const trn_yaml_node_t *k = l->pairs[i].key, *v = l->pairs[i].value;
            const char *ks, *vs;
            if (trn_yaml_str(k, &ks, d) < 0) return TRN_EINVAL;
            if (!trn_label_name_valid(trn_str_c(ks)))
                return trn_yaml_error(d, k, "\"%s\" is not a valid label name", ks);
            if (trn_yaml_is_null(v))
                vs = "";
            else if (trn_yaml_str(v, &vs, d) < 0)
                return TRN_EINVAL;
            if (!trn_utf8_valid(vs, strlen(vs)))
                return trn_yaml_error(d, v, "label value is not valid UTF-8");
            g->names[g->n_labels] = trn_xstrdup(ks);
            g->values[g->n_labels++] = trn_xstrdup(vs);
        }
    }
    return 0;
}

static void job_fini(trn__scrape_job_t *j)
{
    free(j->name);
    free(j->metrics_path);
    free(j->scheme);
    for (size_t i = 0; i < j->n_params; i++) {
        free(j->params[i].name);
        for (size_t k = 0; k < j->params[i].n_values; k++)
            free(j->params[i].values[k]);
        free(j->params[i].values);
    }
    free(j->params);
    free(j->basic_user);
    free(j->basic_pass);
    free(j->basic_pass_file);
    free(j->auth_type);
    free(j->auth_cred);
    free(j->auth_cred_file);
    free(j->tls_ca);
    free(j->tls_cert);
    free(j->tls_key);
    free(j->proxy_url);
    for (size_t i = 0; i < j->n_static; i++)
        trn__tgroup_fini(&j->static_groups[i]);
    free(j->static_groups);
    for (size_t i = 0; i < j->n_sd_files; i++)
        free(j->sd_files[i]);
    free(j->sd_files);
    trn_relabel_free(j->relabel);
    trn_relabel_free(j->metric_relabel);
    free(j->fingerprint);
}

static void config_destroy(trn_scrape_config_t *c)
{
    for (size_t i = 0; i < c->n_jobs; i++)
        job_fini(&c->jobs[i]);
    free(c->jobs);
    for (size_t i = 0; i < c->external_labels.n * 2; i++)
        free(c->ext_storage[i]);
    free(c->ext_storage);
    free(c->external_labels.v);
    free(c);
}

void trn_scrape_config_free(trn_scrape_config_t *c)
{
    if (c && atomic_fetch_sub(&c->refs, 1) == 1) config_destroy(c);
}

trn_scrape_config_t *trn__scrape_config_ref(const trn_scrape_config_t *c)
{
    trn_scrape_config_t *m = (trn_scrape_config_t *)c;
    atomic_fetch_add(&m->refs, 1);
    return m;
}

size_t trn_scrape_config_jobs(const trn_scrape_config_t *c)
{
    return c ? c->n_jobs : 0;
}

const trn_labels_t *trn_scrape_config_external_labels(const trn_scrape_config_t *c)
{
    return &c->external_labels;
}

/* Canonical text of a YAML subtree: kinds, keys and scalars, no positions. */
static void dump_yaml(const trn_yaml_node_t *n, trn_buf_t *b)
{
    if (!n) {
        trn_buf_puts(b, "~");
        return;
    }
    switch (n->kind) {
    case TRN_YAML_SCALAR:
        trn_buf_printf(b, "%zu:", n->len);
        trn_buf_append(b, n->str, n->len);
        break;
    case TRN_YAML_SEQ:
        trn_buf_putc(b, '[');
        for (size_t i = 0; i < n->n; i++)
            dump_yaml(n->items[i], b);
        trn_buf_putc(b, ']');
        break;
    case TRN_YAML_MAP:
        trn_buf_putc(b, '{');
        for (size_t i = 0; i < n->n; i++) {
            dump_yaml(n->pairs[i].key, b);
            dump_yaml(n->pairs[i].value, b);
        }
        trn_buf_putc(b, '}');
        break;
    }
}

static int opt_str(const trn_yaml_node_t *map, const char *key, char **out, trn_diag_t *d)
{
    const trn_yaml_node_t *n = trn_yaml_get(map, key);
    if (!n || trn_yaml_is_null(n)) return 0;
    const char *s;
    if (trn_yaml_str(n, &s, d) < 0) return TRN_EINVAL;
    free(*out);
    *out = trn_xstrdup(s);
    return 0;
}

static int opt_bool(const trn_yaml_node_t *map, const char *key, bool *out, trn_diag_t *d)
{
    const trn_yaml_node_t *n = trn_yaml_get(map, key);
    if (!n || trn_yaml_is_null(n)) return 0;
    return trn_yaml_bool(n, out, d);
}

static int opt_uint(const trn_yaml_node_t *map, const char *key, uint64_t *out, trn_diag_t *d)
{
    const trn_yaml_node_t *n = trn_yaml_get(map, key);
    if (!n || trn_yaml_is_null(n)) return 0;
    int64_t v;
    if (trn_yaml_int(n, &v, d) < 0) return TRN_EINVAL;
    if (v < 0) return trn_yaml_error(d, n, "%s must not be negative", key);
    *out = (uint64_t)v;
    return 0;
}

static int opt_duration(const trn_yaml_node_t *map, const char *key, int64_t *out, trn_diag_t *d)
{
    const trn_yaml_node_t *n = trn_yaml_get(map, key);
    if (!n || trn_yaml_is_null(n)) return 0;
    return trn_yaml_duration(n, out, d);
}

static int parse_auth(const trn_yaml_node_t *jn, trn__scrape_job_t *j, trn_diag_t *d)
{
    const trn_yaml_node_t *ba = trn_yaml_get(jn, "basic_auth");
    const trn_yaml_node_t *az = trn_yaml_get(jn, "authorization");
    const trn_yaml_node_t *bt = trn_yaml_get(jn, "bearer_token");
    const trn_yaml_node_t *btf = trn_yaml_get(jn, "bearer_token_file");
    int n_auth =
        (ba && !trn_yaml_is_null(ba)) + (az && !trn_yaml_is_null(az)) + (bt || btf ? 1 : 0);
    if (n_auth > 1)
        return trn_yaml_error(d, jn,
                              "at most one of basic_auth, authorization, bearer_token & "
                              "bearer_token_file must be configured");
    if (bt && btf)
        return trn_yaml_error(d, btf,
                              "at most one of bearer_token & bearer_token_file must be "
                              "configured");
    if (ba && !trn_yaml_is_null(ba)) {
        static const char *const keys[] = {"username", "password", "password_file", "username_file",
                                           NULL};
        if (trn_yaml_check_map(ba, "basic_auth", keys, d) < 0) return TRN_EINVAL;
        if (trn_yaml_get(ba, "username_file"))
            return trn_yaml_error(d, trn_yaml_get(ba, "username_file"),
                                  "username_file is not supported; use username");
        if (opt_str(ba, "username", &j->basic_user, d) < 0 ||
            opt_str(ba, "password", &j->basic_pass, d) < 0 ||
            opt_str(ba, "password_file", &j->basic_pass_file, d) < 0)
            return TRN_EINVAL;
        if (j->basic_pass && j->basic_pass_file)
            return trn_yaml_error(d, ba,
                                  "at most one of basic_auth password & password_file "
                                  "must be configured");
        if (!j->basic_user) j->basic_user = trn_xstrdup("");
    }
    if (az && !trn_yaml_is_null(az)) {
        static const char *const keys[] = {"type", "credentials", "credentials_file", NULL};
        if (trn_yaml_check_map(az, "authorization", keys, d) < 0) return TRN_EINVAL;
        if (opt_str(az, "type", &j->auth_type, d) < 0 ||
            opt_str(az, "credentials", &j->auth_cred, d) < 0 ||
            opt_str(az, "credentials_file", &j->auth_cred_file, d) < 0)
            return TRN_EINVAL;
        if (j->auth_cred && j->auth_cred_file)
            return trn_yaml_error(d, az,
                                  "at most one of authorization credentials & "
                                  "credentials_file must be configured");
        if (j->auth_type && strcasecmp(j->auth_type, "basic") == 0)
            return trn_yaml_error(d, az,
                                  "authorization type cannot be set to \"basic\", use "
                                  "\"basic_auth\" instead");
    }
    if (opt_str(jn, "bearer_token", &j->auth_cred, d) < 0 ||
        opt_str(jn, "bearer_token_file", &j->auth_cred_file, d) < 0)
        return TRN_EINVAL;
    if ((j->auth_cred || j->auth_cred_file) && !j->auth_type) j->auth_type = trn_xstrdup("Bearer");
    return 0;
}

static int parse_tls(const trn_yaml_node_t *jn, trn__scrape_job_t *j, trn_diag_t *d)
{
    const trn_yaml_node_t *t = trn_yaml_get(jn, "tls_config");
    if (!t || trn_yaml_is_null(t)) return 0;
    static const char *const keys[] = {"ca_file", "cert_file", "key_file", "insecure_skip_verify",
                                       NULL};
    if (trn_yaml_check_map(t, "tls_config", keys, d) < 0) return TRN_EINVAL;
    if (opt_str(t, "ca_file", &j->tls_ca, d) < 0 || opt_str(t, "cert_file", &j->tls_cert, d) < 0 ||
        opt_str(t, "key_file", &j->tls_key, d) < 0 ||
        opt_bool(t, "insecure_skip_verify", &j->tls_insecure, d) < 0)
        return TRN_EINVAL;
    if (!j->tls_cert != !j->tls_key)
        return trn_yaml_error(d, t, "exactly one of key_file or cert_file is set in tls_config");
    return 0;
}

static int parse_params(const trn_yaml_node_t *jn, trn__scrape_job_t *j, trn_diag_t *d)
{
    const trn_yaml_node_t *p = trn_yaml_get(jn, "params");
    if (!p || trn_yaml_is_null(p)) return 0;
    if (p->kind != TRN_YAML_MAP) return trn_yaml_error(d, p, "params must be a mapping");
    j->params = trn_xcalloc(p->n ? p->n : 1, sizeof *j->params);
    for (size_t i = 0; i < p->n; i++) {
        trn__param_t *pp = &j->params[j->n_params++];
        const char *k;
        if (trn_yaml_str(p->pairs[i].key, &k, d) < 0) return TRN_EINVAL;
        pp->name = trn_xstrdup(k);
        const trn_yaml_node_t *v = p->pairs[i].value;
        if (v->kind != TRN_YAML_SEQ)
            return trn_yaml_error(d, v, "params values must be a list of strings");
        pp->values = trn_xcalloc(v->n ? v->n : 1, sizeof *pp->values);
        for (size_t k2 = 0; k2 < v->n; k2++) {
            const char *s;
            if (trn_yaml_str(v->items[k2], &s, d) < 0) return TRN_EINVAL;
            pp->values[pp->n_values++] = trn_xstrdup(s);
        }
        pp->value = pp->n_values ? pp->values[0] : NULL;
    }
    return 0;
}

static bool sd_path_ok(const char *p)
{
    size_t n = strlen(p);
    const char *base = strrchr(p, '/');
    base = base ? base + 1 : p;
    /* Only the last path element may hold a glob. */
    if (strpbrk(p, "*?[") && strpbrk(p, "*?[") < base) return false;
    return (n > 5 && !strcmp(p + n - 5, ".json")) || (n > 4 && !strcmp(p + n - 4, ".yml")) ||
           (n > 5 && !strcmp(p + n - 5, ".yaml"));
}

static int parse_sd(const trn_yaml_node_t *jn, trn__scrape_job_t *j, trn_diag_t *d)
{
    const trn_yaml_node_t *sc = trn_yaml_get(jn, "static_configs");
    if (sc && !trn_yaml_is_null(sc)) {
        if (sc->kind != TRN_YAML_SEQ) return trn_yaml_error(d, sc, "static_configs must be a list");
        j->static_groups = trn_xcalloc(sc->n ? sc->n : 1, sizeof *j->static_groups);
        for (size_t i = 0; i < sc->n; i++) {
            char src[32];
            snprintf(src, sizeof src, "%zu", i);
            j->n_static++;
            if (trn__tgroup_from_yaml(sc->items[i], src, &j->static_groups[i], d) < 0)
                return TRN_EINVAL;
        }
    }
    const trn_yaml_node_t *fs = trn_yaml_get(jn, "file_sd_configs");
    if (fs && !trn_yaml_is_null(fs)) {
        if (fs->kind != TRN_YAML_SEQ)
            return trn_yaml_error(d, fs, "file_sd_configs must be a list");
        j->sd_refresh_ms = DEFAULT_SD_REFRESH_MS;
        size_t cap = 0;
        for (size_t i = 0; i < fs->n; i++) {
            static const char *const keys[] = {"files", "refresh_interval", NULL};
            const trn_yaml_node_t *c = fs->items[i];
            if (trn_yaml_check_map(c, "file_sd_config", keys, d) < 0) return TRN_EINVAL;
            int64_t refresh = DEFAULT_SD_REFRESH_MS;
            if (opt_duration(c, "refresh_interval", &refresh, d) < 0) return TRN_EINVAL;
            if (refresh < j->sd_refresh_ms || i == 0) j->sd_refresh_ms = refresh;
            const trn_yaml_node_t *f = trn_yaml_get(c, "files");
            if (!f || f->kind != TRN_YAML_SEQ || f->n == 0)
                return trn_yaml_error(d, f ? f : c,
                                      "file service discovery config must contain "
                                      "at least one path name");
            for (size_t k = 0; k < f->n; k++) {
                const char *s;
                if (trn_yaml_str(f->items[k], &s, d) < 0) return TRN_EINVAL;
                if (!sd_path_ok(s))
                    return trn_yaml_error(d, f->items[k],
                                          "path name \"%s\" is not valid for file discovery", s);
                if (j->n_sd_files == cap) {
                    cap = cap * 2 + 4;
                    j->sd_files = trn_xrealloc(j->sd_files, cap * sizeof *j->sd_files);
                }
                j->sd_files[j->n_sd_files++] = trn_xstrdup(s);
            }
        }
    }
    return 0;
}

static int parse_job(const trn_yaml_node_t *jn, const trn_scrape_config_t *c, trn__scrape_job_t *j,
                     trn_diag_t *d)
{
    if (trn_yaml_check_map(jn, "scrape_config", job_keys, d) < 0) return TRN_EINVAL;
    if (opt_str(jn, "job_name", &j->name, d) < 0) return TRN_EINVAL;
    if (!j->name || !*j->name) return trn_yaml_error(d, jn, "job_name is empty");
    j->interval_ms = c->interval_ms;
    j->timeout_ms = 0;
    j->honor_timestamps = true;
    j->follow_redirects = true;
    j->enable_compression = true;
    if (opt_duration(jn, "scrape_interval", &j->interval_ms, d) < 0 ||
        opt_duration(jn, "scrape_timeout", &j->timeout_ms, d) < 0)
        return TRN_EINVAL;
    if (j->interval_ms <= 0)
        return trn_yaml_error(d, trn_yaml_get(jn, "scrape_interval"),
                              "scrape_interval must be greater than 0");
    if (j->timeout_ms == 0)
        j->timeout_ms = c->timeout_ms > j->interval_ms ? j->interval_ms : c->timeout_ms;
    else if (j->timeout_ms > j->interval_ms)
        return trn_yaml_error(d, trn_yaml_get(jn, "scrape_timeout"),
                              "scrape timeout greater than scrape interval for scrape config "
                              "with job name \"%s\"",
                              j->name);
    j->metrics_path = trn_xstrdup("/metrics");
    j->scheme = trn_xstrdup("http");
    if (opt_str(jn, "metrics_path", &j->metrics_path, d) < 0 ||
        opt_str(jn, "scheme", &j->scheme, d) < 0 || opt_str(jn, "proxy_url", &j->proxy_url, d) < 0)
        return TRN_EINVAL;
    if (strcmp(j->scheme, "http") && strcmp(j->scheme, "https"))
        return trn_yaml_error(d, trn_yaml_get(jn, "scheme"),
                              "unknown scheme \"%s\" (want http or https)", j->scheme);
    bool http2 = true;
    if (opt_bool(jn, "honor_labels", &j->honor_labels, d) < 0 ||
        opt_bool(jn, "honor_timestamps", &j->honor_timestamps, d) < 0 ||
        opt_bool(jn, "follow_redirects", &j->follow_redirects, d) < 0 ||
        opt_bool(jn, "enable_compression", &j->enable_compression, d) < 0 ||
        opt_bool(jn, "enable_http2", &http2, d) < 0)
        return TRN_EINVAL;
    if (opt_uint(jn, "sample_limit", &j->sample_limit, d) < 0 ||
        opt_uint(jn, "label_limit", &j->label_limit, d) < 0 ||
        opt_uint(jn, "label_name_length_limit", &j->label_name_length_limit, d) < 0 ||
        opt_uint(jn, "label_value_length_limit", &j->label_value_length_limit, d) < 0)
        return TRN_EINVAL;
    const trn_yaml_node_t *bsl = trn_yaml_get(jn, "body_size_limit");
    if (bsl && !trn_yaml_is_null(bsl) && trn_yaml_bytes(bsl, &j->body_size_limit, d) < 0)
        return TRN_EINVAL;
    if (parse_params(jn, j, d) < 0 || parse_auth(jn, j, d) < 0 || parse_tls(jn, j, d) < 0 ||
        parse_sd(jn, j, d) < 0)
        return TRN_EINVAL;
    if (trn_relabel_parse(trn_yaml_get(jn, "relabel_configs"), &j->relabel, d) < 0 ||
        trn_relabel_parse(trn_yaml_get(jn, "metric_relabel_configs"), &j->metric_relabel, d) < 0)
        return TRN_EINVAL;
    trn_buf_t fp;
    trn_buf_init(&fp);
    trn_buf_printf(&fp, "%lld/%lld/", (long long)c->interval_ms, (long long)c->timeout_ms);
    dump_yaml(jn, &fp);
    j->fingerprint = trn_buf_steal(&fp, NULL);
    return 0;
}

static int parse_global(const trn_yaml_node_t *g, trn_scrape_config_t *c, trn_diag_t *d)
{
    if (!g || trn_yaml_is_null(g)) return 0;
    if (trn_yaml_check_map(g, "global", global_keys, d) < 0) return TRN_EINVAL;
    if (opt_duration(g, "scrape_interval", &c->interval_ms, d) < 0) return TRN_EINVAL;
    bool has_timeout = trn_yaml_get(g, "scrape_timeout") != NULL;
    if (opt_duration(g, "scrape_timeout", &c->timeout_ms, d) < 0) return TRN_EINVAL;
    if (c->interval_ms <= 0)
        return trn_yaml_error(d, trn_yaml_get(g, "scrape_interval"),
                              "scrape_interval must be greater than 0");
    if (c->timeout_ms > c->interval_ms) {
        if (has_timeout)
            return trn_yaml_error(d, trn_yaml_get(g, "scrape_timeout"),
                                  "global scrape timeout greater than scrape interval");
        c->timeout_ms = c->interval_ms;
    }
    const trn_yaml_node_t *el = trn_yaml_get(g, "external_labels");
    if (el && !trn_yaml_is_null(el)) {
        if (el->kind != TRN_YAML_MAP)
            return trn_yaml_error(d, el, "external_labels must be a mapping");
        c->ext_storage = trn_xcalloc(el->n * 2 + 1, sizeof *c->ext_storage);
        c->external_labels.v = trn_xcalloc(el->n + 1, sizeof *c->external_labels.v);
        for (size_t i = 0; i < el->n; i++) {
            const char *k, *v;
            if (trn_yaml_str(el->pairs[i].key, &k, d) < 0 ||
                trn_yaml_str(el->pairs[i].value, &v, d) < 0)
                return TRN_EINVAL;
            if (!trn_label_name_valid(trn_str_c(k)))
                return trn_yaml_error(d, el->pairs[i].key, "\"%s\" is not a valid label name", k);
            if (!*v) continue;
            size_t n = c->external_labels.n++;
            c->ext_storage[2 * n] = trn_xstrdup(k);
            c->ext_storage[2 * n + 1] = trn_xstrdup(v);
            c->external_labels.v[n] = (trn_label_t){trn_str_c(c->ext_storage[2 * n]),
                                                    trn_str_c(c->ext_storage[2 * n + 1])};
        }
        trn_labels_sort(&c->external_labels);
    }
    return 0;
}

int trn_scrape_config_parse(const trn_yaml_node_t *root, trn_scrape_config_t **out, trn_diag_t *d)
{
    trn_scrape_config_t *c = trn_xcalloc(1, sizeof *c);
    atomic_init(&c->refs, 1);
    c->interval_ms = DEFAULT_INTERVAL_MS;
    c->timeout_ms = DEFAULT_TIMEOUT_MS;
    if (root && !trn_yaml_is_null(root) && root->kind != TRN_YAML_MAP) {
        trn_yaml_error(d, root, "config must be a mapping");
        goto fail;
    }
    if (parse_global(trn_yaml_get(root, "global"), c, d) < 0) goto fail;
    const trn_yaml_node_t *sc = trn_yaml_get(root, "scrape_configs");
    if (sc && !trn_yaml_is_null(sc)) {
        if (sc->kind != TRN_YAML_SEQ) {
            trn_yaml_error(d, sc, "scrape_configs must be a list");
            goto fail;
        }
        c->jobs = trn_xcalloc(sc->n ? sc->n : 1, sizeof *c->jobs);
        for (size_t i = 0; i < sc->n; i++) {
            c->n_jobs++;
            if (parse_job(sc->items[i], c, &c->jobs[i], d) < 0) goto fail;
            for (size_t k = 0; k < i; k++)
                if (strcmp(c->jobs[k].name, c->jobs[i].name) == 0) {
                    trn_yaml_error(d, sc->items[i],
                                   "found multiple scrape configs with job name \"%s\"",
                                   c->jobs[i].name);
                    goto fail;
                }
        }
    }
    *out = c;
    return 0;
fail:
    config_destroy(c);
    return TRN_EINVAL;
}
