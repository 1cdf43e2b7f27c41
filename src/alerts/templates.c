/* SPDX-License-Identifier: Apache-2.0 */
/* Notification templates: Alertmanager's default template names and texts
 * (slack.default.title, pagerduty.default.description, __subject, ...), the
 * config's `templates` files, and each integration's option texts, parsed
 * once per config with the shared Go text/template engine (core/template).
 *
 * Every templated option is parsed into the same set as a define named
 * after the integration ("__trn.r<receiver>.i<integration>.<key>"), so an
 * option can call the defaults and the user's own defines with
 * {{ template "..." . }}, and a syntax error is a config error at load
 * time, naming the receiver and option, rather than a failed notification.
 *
 * The data follows Alertmanager's template.Data: Receiver (regex-quoted as
 * Alertmanager does), Status, Alerts (with .Firing and .Resolved), the group,
 * common labels and annotations as KV maps with SortedPairs/Names/Values/
 * Remove, and ExternalURL. Times print the way Go prints a time.Time. The
 * default email HTML body is trine's own short layout, not Alertmanager's. */
#include "alerts/am_int.h"

#include "core/alloc.h"
#include "core/err.h"
#include "core/template.h"

#include <glob.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char default_tmpl[] =
    "{{ define \"__alertmanager\" }}Alertmanager{{ end }}\n"
    "{{ define \"__alertmanagerURL\" }}{{ .ExternalURL }}/#/alerts?receiver={{ .Receiver | "
    "urlquery }}{{ end }}\n"
    "{{ define \"__subject\" }}[{{ .Status | toUpper }}{{ if eq .Status \"firing\" }}:{{ "
    ".Alerts.Firing | len }}{{ end }}] "
    "{{ .GroupLabels.SortedPairs.Values | join \" \" }} {{ if gt (len .CommonLabels) (len "
    ".GroupLabels) }}"
    "({{ with .CommonLabels.Remove .GroupLabels.Names }}{{ .Values | join \" \" }}{{ end }}){{ end "
    "}}{{ end }}\n"
    "{{ define \"__description\" }}{{ end }}\n"
    "{{ define \"__text_alert_list\" }}{{ range . }}Labels:\n"
    "{{ range .Labels.SortedPairs }} - {{ .Name }} = {{ .Value }}\n"
    "{{ end }}Annotations:\n"
    "{{ range .Annotations.SortedPairs }} - {{ .Name }} = {{ .Value }}\n"
    "{{ end }}Source: {{ .GeneratorURL }}\n"
    "{{ end }}{{ end }}\n"
    "{{ define \"slack.default.title\" }}{{ template \"__subject\" . }}{{ end }}\n"
    "{{ define \"slack.default.username\" }}{{ template \"__alertmanager\" . }}{{ end }}\n"
    "{{ define \"slack.default.fallback\" }}{{ template \"slack.default.title\" . }} | {{ template "
    "\"slack.default.titlelink\" . }}{{ end }}\n"
    "{{ define \"slack.default.callbackid\" }}{{ end }}\n"
    "{{ define \"slack.default.pretext\" }}{{ end }}\n"
    "{{ define \"slack.default.titlelink\" }}{{ template \"__alertmanagerURL\" . }}{{ end }}\n"
    "{{ define \"slack.default.iconemoji\" }}{{ end }}\n"
    "{{ define \"slack.default.iconurl\" }}{{ end }}\n"
    "{{ define \"slack.default.text\" }}{{ end }}\n"
    "{{ define \"slack.default.footer\" }}{{ end }}\n"
    "{{ define \"pagerduty.default.description\" }}{{ template \"__subject\" . }}{{ end }}\n"
    "{{ define \"pagerduty.default.client\" }}{{ template \"__alertmanager\" . }}{{ end }}\n"
    "{{ define \"pagerduty.default.clientURL\" }}{{ template \"__alertmanagerURL\" . }}{{ end }}\n"
    "{{ define \"pagerduty.default.instances\" }}{{ template \"__text_alert_list\" . }}{{ end }}\n"
    "{{ define \"email.default.subject\" }}{{ template \"__subject\" . }}{{ end }}\n"
    "{{ define \"email.default.html\" }}<!DOCTYPE html>\n<html><head><meta charset=\"UTF-8\">"
    "<title>{{ template \"__subject\" . }}</title></head><body>\n"
    "<h2>{{ .Alerts | len }} alert{{ if gt (len .Alerts) 1 }}s{{ end }} for "
    "{{ range .GroupLabels.SortedPairs }}{{ .Name }}={{ .Value }} {{ end }}</h2>\n"
    "<p><a href=\"{{ template \"__alertmanagerURL\" . }}\">View in {{ template \"__alertmanager\" "
    ". }}</a></p>\n"
    "{{ if gt (len .Alerts.Firing) 0 }}<h3>[{{ .Alerts.Firing | len }}] Firing</h3>\n"
    "{{ range .Alerts.Firing }}<p>Labels<br>{{ range .Labels.SortedPairs }}{{ .Name }} = {{ .Value "
    "}}<br>{{ end }}"
    "{{ if gt (len .Annotations) 0 }}Annotations<br>{{ end }}{{ range .Annotations.SortedPairs "
    "}}{{ .Name }} = {{ .Value }}<br>{{ end }}"
    "<a href=\"{{ .GeneratorURL }}\">Source</a></p>\n{{ end }}{{ end }}"
    "{{ if gt (len .Alerts.Resolved) 0 }}<h3>[{{ .Alerts.Resolved | len }}] Resolved</h3>\n"
    "{{ range .Alerts.Resolved }}<p>Labels<br>{{ range .Labels.SortedPairs }}{{ .Name }} = {{ "
    ".Value }}<br>{{ end }}"
    "{{ if gt (len .Annotations) 0 }}Annotations<br>{{ end }}{{ range .Annotations.SortedPairs "
    "}}{{ .Name }} = {{ .Value }}<br>{{ end }}"
    "<a href=\"{{ .GeneratorURL }}\">Source</a></p>\n{{ end }}{{ end }}"
    "</body></html>\n{{ end }}\n";

/* Options that are plain values, never templates. */
static bool is_template_opt(trn_am_kind_t k, const char *key)
{
    static const char *const plain[] = {"url",
                                        "url_file",
                                        "api_url",
                                        "api_url_file",
                                        "max_alerts",
                                        "short_fields",
                                        "link_names",
                                        "routing_key_file",
                                        "service_key_file",
                                        "smarthost",
                                        "hello",
                                        "auth_username",
                                        "auth_password",
                                        "auth_password_file",
                                        "auth_secret",
                                        "auth_identity",
                                        "require_tls",
                                        NULL};
    if (k == TRN_AM_WEBHOOK) return false;
    for (const char *const *p = plain; *p; p++)
        if (!strcmp(*p, key)) return false;
    return true;
}

static int add_define(trn_tmpl_t *t, trn_arena_t *a, const char *name, const char *text,
                      const char *what, trn_diag_t *d)
{
    char *src = trn_arena_printf(a, "{{ define \"%s\" }}%s{{ end }}", name, text);
    trn_diag_t d2;
    trn_diag_init(&d2);
    if (trn_tmpl_parse_more(t, name, src, strlen(src), &d2) < 0)
        return trn_diag_set(d, TRN_EINVAL, -1, "%s: %s", what, d2.msg);
    return 0;
}

int trn__am_templates_load(trn_am_config_t *c, trn_diag_t *d)
{
    trn_diag_t d2;
    trn_diag_init(&d2);
    int rc = trn_tmpl_parse(c->arena, "default.tmpl", default_tmpl, sizeof default_tmpl - 1, NULL,
                            &c->tmpl, &d2);
    TRN_ASSERT(rc == 0); /* the built-in text is ours and must parse */
    char *dir = trn_xstrdup(c->source_path);
    char *base = dirname(dir);
    for (size_t i = 0; i < c->n_templates; i++) {
        char *pat = c->templates[i][0] == '/'
                        ? trn_arena_printf(c->arena, "%s", c->templates[i])
                        : trn_arena_printf(c->arena, "%s/%s", base, c->templates[i]);
        glob_t g;
        int grc = glob(pat, 0, NULL, &g);
        if (grc != 0 && grc != GLOB_NOMATCH) {
            globfree(&g);
            free(dir);
            return trn_diag_set(d, TRN_EINVAL, -1, "%s: invalid template glob \"%s\"",
                                c->source_path, pat);
        }
        for (size_t k = 0; grc == 0 && k < g.gl_pathc; k++) {
            FILE *f = fopen(g.gl_pathv[k], "rb");
            if (!f) {
                rc = trn_diag_set(d, TRN_EIO, -1, "%s: cannot read template file %s",
                                  c->source_path, g.gl_pathv[k]);
                break;
            }
            trn_buf_t b;
            trn_buf_init(&b);
            char chunk[8192];
            size_t got;
            while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
                trn_buf_append(&b, chunk, got);
            fclose(f);
            trn_diag_init(&d2);
            rc = trn_tmpl_parse_more(c->tmpl, g.gl_pathv[k], b.data ? b.data : "", b.len, &d2);
            trn_buf_fini(&b);
            if (rc < 0) {
                rc = trn_diag_set(d, TRN_EINVAL, -1, "%s: template file %s: %s", c->source_path,
                                  g.gl_pathv[k], d2.msg);
                break;
            }
        }
        globfree(&g);
        if (rc < 0) {
            free(dir);
            return rc;
        }
    }
    free(dir);
    for (size_t r = 0; r < c->n_receivers; r++) {
        trn_am_receiver_t *rcv = &c->receivers[r];
        for (size_t i = 0; i < rcv->n_integrations; i++) {
            trn_am_integration_t *in = &rcv->integrations[i];
            char what[300];
            for (size_t k = 0; k < in->n_opts; k++) {
                if (!is_template_opt(in->kind, in->opts[k].key)) continue;
                snprintf(what, sizeof what, "receiver \"%.100s\", %s_configs[%d].%s", rcv->name,
                         trn_am_kind_name(in->kind), in->index, in->opts[k].key);
                char *name = trn_arena_printf(c->arena, "%s%s", in->tmpl_prefix, in->opts[k].key);
                if ((rc = add_define(c->tmpl, c->arena, name, in->opts[k].value, what, d)) < 0)
                    return rc;
            }
            if (in->kind == TRN_AM_EMAIL) {
                bool has_subject = false, has_to = false, has_from = false;
                for (size_t k = 0; k < in->n_details; k++) {
                    has_subject |= !strcasecmp(in->details[k].key, "Subject");
                    has_to |= !strcasecmp(in->details[k].key, "To");
                    has_from |= !strcasecmp(in->details[k].key, "From");
                }
                size_t extra = !has_subject + !has_to + !has_from;
                if (extra) {
                    trn_am_kv_t *kv = trn_arena_calloc(c->arena, in->n_details + extra, sizeof *kv);
                    if (in->n_details) memcpy(kv, in->details, in->n_details * sizeof *kv);
                    if (!has_subject)
                        kv[in->n_details++] =
                            (trn_am_kv_t){"Subject", "{{ template \"email.default.subject\" . }}"};
                    if (!has_to)
                        kv[in->n_details++] = (trn_am_kv_t){"To", trn_am_integration_opt(in, "to")};
                    if (!has_from)
                        kv[in->n_details++] =
                            (trn_am_kv_t){"From", trn_am_integration_opt(in, "from")};
                    in->details = kv;
                }
            }
            for (size_t k = 0; k < in->n_details; k++) {
                snprintf(what, sizeof what, "receiver \"%.100s\", %s_configs[%d] %s \"%.60s\"",
                         rcv->name, trn_am_kind_name(in->kind), in->index,
                         in->kind == TRN_AM_EMAIL ? "header" : "details", in->details[k].key);
                char *name = trn_arena_printf(c->arena, "%sd%zu", in->tmpl_prefix, k);
                if ((rc = add_define(c->tmpl, c->arena, name, in->details[k].value, what, d)) < 0)
                    return rc;
            }
            for (size_t k = 0; k < in->n_fields; k++) {
                snprintf(what, sizeof what, "receiver \"%.100s\", slack_configs[%d].fields[%zu]",
                         rcv->name, in->index, k);
                char *n1 = trn_arena_printf(c->arena, "%sf%zu.t", in->tmpl_prefix, k);
                char *n2 = trn_arena_printf(c->arena, "%sf%zu.v", in->tmpl_prefix, k);
                if ((rc = add_define(c->tmpl, c->arena, n1, in->fields[k].key, what, d)) < 0 ||
                    (rc = add_define(c->tmpl, c->arena, n2, in->fields[k].value, what, d)) < 0)
                    return rc;
            }
        }
    }
    return 0;
}

void trn__am_templates_free(trn_am_config_t *c)
{
    c->tmpl = NULL; /* lives in the config arena */
}

static int exec_named(const trn_am_config_t *c, const char *name, const trn_tval_t *data,
                      trn_arena_t *a, trn_buf_t *out, trn_diag_t *d)
{
    if (!c->tmpl || !trn_tmpl_has(c->tmpl, name)) return 0;
    trn_tmpl_env_t env = {.now_ms = 0};
    return trn_tmpl_exec(c->tmpl, name, data, &env, a, out, d);
}

int trn__am_render(const trn_am_config_t *c, const trn_am_integration_t *in, const char *key,
                   const trn_tval_t *data, trn_arena_t *a, trn_buf_t *out, trn_diag_t *d)
{
    if (!is_template_opt(in->kind, key)) {
        trn_buf_puts(out, trn_am_integration_opt(in, key));
        return 0;
    }
    char name[160];
    snprintf(name, sizeof name, "%s%s", in->tmpl_prefix, key);
    return exec_named(c, name, data, a, out, d);
}

int trn__am_render_detail(const trn_am_config_t *c, const trn_am_integration_t *in, size_t i,
                          const trn_tval_t *data, trn_arena_t *a, trn_buf_t *out, trn_diag_t *d)
{
    char name[160];
    snprintf(name, sizeof name, "%sd%zu", in->tmpl_prefix, i);
    return exec_named(c, name, data, a, out, d);
}

int trn__am_render_field(const trn_am_config_t *c, const trn_am_integration_t *in, size_t i,
                         int which, const trn_tval_t *data, trn_arena_t *a, trn_buf_t *out,
                         trn_diag_t *d)
{
    char name[160];
    snprintf(name, sizeof name, "%sf%zu.%c", in->tmpl_prefix, i, which ? 'v' : 't');
    return exec_named(c, name, data, a, out, d);
}

/* ---------------------------------------------------------------- data */

/* Go's time.Time String(): "2006-01-02 15:04:05.999999999 -0700 MST" in UTC. */
static trn_tval_t go_time(trn_arena_t *a, int64_t ms)
{
    if (ms == 0) return trn_tval_cstr("0001-01-01 00:00:00 +0000 UTC");
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char b[64];
    size_t k = strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S", &tm);
    int frac = (int)(ms % 1000);
    if (frac) {
        k += (size_t)snprintf(b + k, sizeof b - k, ".%03d", frac);
        while (b[k - 1] == '0')
            k--;
    }
    snprintf(b + k, sizeof b - k, " +0000 UTC");
    return trn_tval_cstr(trn_arena_strndup(a, b, strlen(b)));
}

static int filter_status(trn_tmpl_call_t *c, const char *status, trn_tval_t *out);

static int m_firing(trn_tmpl_call_t *c, const trn_tval_t *args, size_t n, trn_tval_t *out)
{
    (void)args;
    (void)n;
    return filter_status(c, "firing", out);
}

static int m_resolved(trn_tmpl_call_t *c, const trn_tval_t *args, size_t n, trn_tval_t *out)
{
    (void)args;
    (void)n;
    return filter_status(c, "resolved", out);
}

static const trn_tmethod_t alerts_methods[] = {
    {"Firing", m_firing},
    {"Resolved", m_resolved},
    {NULL, NULL},
};

static int filter_status(trn_tmpl_call_t *c, const char *status, trn_tval_t *out)
{
    const trn_tval_t *recv = trn_tmpl_call_recv(c);
    trn_arena_t *a = trn_tmpl_call_arena(c);
    trn_tval_t l = trn_tval_list(a, recv && recv->kind == TRN_TV_LIST ? recv->u.list.n : 0);
    for (size_t i = 0; recv && recv->kind == TRN_TV_LIST && i < recv->u.list.n; i++) {
        const trn_tval_t *st = trn_tval_map_get(&recv->u.list.v[i], TRN_STR("Status"));
        if (st && st->kind == TRN_TV_STR && trn_str_eqc(st->u.s, status))
            if (trn_tval_list_push(a, &l, recv->u.list.v[i]) < 0) return TRN_ELIMIT;
    }
    l.methods = alerts_methods;
    l.type_name = "template.Alerts";
    *out = l;
    return 0;
}

static char *quote_meta(trn_arena_t *a, const char *s)
{
    size_t n = strlen(s);
    char *o = trn_arena_alloc(a, 2 * n + 1);
    if (!o) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (strchr("\\.+*?()|[]{}^$", s[i])) o[k++] = '\\';
        o[k++] = s[i];
    }
    o[k] = 0;
    return o;
}

int trn__am_tmpl_data(const trn__am_notification_t *n, trn_arena_t *a, trn_tval_t *out)
{
    trn_tval_t alerts = trn_tval_list(a, n->n_alerts);
    for (size_t i = 0; i < n->n_alerts; i++) {
        const trn__am_alert_t *al = n->alerts[i];
        bool resolved = trn__am_alert_resolved(al, n->now);
        trn_tval_t m = trn_tval_map(a, 7, TRN_TV_STRUCT), ls, an;
        m.type_name = "template.Alert";
        if (trn_tval_from_labels(a, &al->labels, &ls) < 0 ||
            trn_tval_from_labels(a, &al->annotations, &an) < 0)
            return TRN_ELIMIT;
        char *fp = trn_arena_printf(a, "%016" PRIx64, al->fp);
        if (!fp ||
            trn_tval_map_put(a, &m, TRN_STR("Status"),
                             trn_tval_cstr(resolved ? "resolved" : "firing")) < 0 ||
            trn_tval_map_put(a, &m, TRN_STR("Labels"), ls) < 0 ||
            trn_tval_map_put(a, &m, TRN_STR("Annotations"), an) < 0 ||
            trn_tval_map_put(a, &m, TRN_STR("StartsAt"), go_time(a, al->starts_at)) < 0 ||
            trn_tval_map_put(a, &m, TRN_STR("EndsAt"), go_time(a, resolved ? al->ends_at : 0)) <
                0 ||
            trn_tval_map_put(a, &m, TRN_STR("GeneratorURL"), trn_tval_cstr(al->generator_url)) <
                0 ||
            trn_tval_map_put(a, &m, TRN_STR("Fingerprint"), trn_tval_cstr(fp)) < 0)
            return TRN_ELIMIT;
        trn_tval_map_seal(&m);
        if (trn_tval_list_push(a, &alerts, m) < 0) return TRN_ELIMIT;
    }
    alerts.methods = alerts_methods;
    alerts.type_name = "template.Alerts";
    size_t cap = n->n_alerts ? n->alerts[0]->labels.n + n->alerts[0]->annotations.n + 1 : 1;
    trn_labels_t common = {trn_arena_calloc(a, cap, sizeof(trn_label_t)), 0};
    if (!common.v) return TRN_ELIMIT;
    trn_tval_t gl, cl, ca;
    if (trn_tval_from_labels(a, n->group_labels, &gl) < 0) return TRN_ELIMIT;
    trn__am_common(n, false, &common);
    if (trn_tval_from_labels(a, &common, &cl) < 0) return TRN_ELIMIT;
    trn__am_common(n, true, &common);
    if (trn_tval_from_labels(a, &common, &ca) < 0) return TRN_ELIMIT;
    char *rq = quote_meta(a, n->receiver);
    trn_tval_t d = trn_tval_map(a, 7, TRN_TV_STRUCT);
    d.type_name = "template.Data";
    if (!rq || trn_tval_map_put(a, &d, TRN_STR("Receiver"), trn_tval_cstr(rq)) < 0 ||
        trn_tval_map_put(a, &d, TRN_STR("Status"), trn_tval_cstr(trn__am_group_status(n))) < 0 ||
        trn_tval_map_put(a, &d, TRN_STR("Alerts"), alerts) < 0 ||
        trn_tval_map_put(a, &d, TRN_STR("GroupLabels"), gl) < 0 ||
        trn_tval_map_put(a, &d, TRN_STR("CommonLabels"), cl) < 0 ||
        trn_tval_map_put(a, &d, TRN_STR("CommonAnnotations"), ca) < 0 ||
        trn_tval_map_put(a, &d, TRN_STR("ExternalURL"), trn_tval_cstr(n->external_url)) < 0)
        return TRN_ELIMIT;
    trn_tval_map_seal(&d);
    *out = d;
    return 0;
}
