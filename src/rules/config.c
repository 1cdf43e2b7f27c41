/* SPDX-License-Identifier: Apache-2.0 */
/* Rule configuration: `rule_files` globs and the rule files they match,
 * plus the global and alerting settings the rule manager needs.
 *
 * A rule file is Prometheus's format (`groups: [{name, interval, limit,
 * query_offset, labels, rules}]`) or the same wrapped in a Kubernetes
 * PrometheusRule resource (`apiVersion`, `kind: PrometheusRule`,
 * `metadata`, `spec.groups`), which is how the seed ships its rules. Each
 * file is read whole, parsed into a positioned YAML tree and checked the
 * way Prometheus checks rule files: group names present and unique per
 * file, exactly one of record/alert, expr set and parsing as PromQL,
 * recording names valid metric names, no for/keep_firing_for/annotations
 * on recording rules, valid label and annotation names, templates that
 * parse. trine also rejects two rules of one group with the same name and
 * labels, which would write the same series twice.
 *
 * PromQL errors are moved from the expression's own line:col to the
 * file's: a block scalar (`expr: |`) starts on the next line at its
 * indentation. Everything parsed lives in the config's arena; the rule
 * templates carry Prometheus's prelude ($labels, $externalLabels,
 * $externalURL, $value), so their positions are those Prometheus reports. */
#include "rules/rules_int.h"

#include "core/alloc.h"
#include "core/err.h"

#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TMPL_PRELUDE                                                                               \
    "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := "               \
    ".ExternalURL}}{{$value := .Value}}"

typedef struct loader {
    trn_rules_config_t *c;
    const char *file; /* current file path */
    const char *text; /* its bytes, for block-scalar positions */
    size_t len;
    trn_diag_t *d;
} loader_t;

static char *adup(trn_arena_t *a, const char *s)
{
    return trn_arena_strndup(a, s, strlen(s));
}

static int read_file(const char *path, char **out, size_t *len, trn_diag_t *d)
{
    FILE *f = fopen(path, "rb");
    if (!f) return trn_diag_set(d, TRN_EIO, -1, "%s: %s", path, strerror(errno));
    trn_buf_t b;
    trn_buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        trn_buf_append(&b, chunk, n);
        if (b.len > (64u << 20)) {
            fclose(f);
            trn_buf_fini(&b);
            return trn_diag_set(d, TRN_ELIMIT, -1, "%s: rule file larger than 64 MiB", path);
        }
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        trn_buf_fini(&b);
        return trn_diag_set(d, TRN_EIO, -1, "%s: read error", path);
    }
    *out = trn_buf_steal(&b, len);
    if (!*out) {
        *out = trn_xstrdup("");
        *len = 0;
    }
    return 0;
}

/* Parses labels/annotations maps into a sorted set in the arena. */
static int read_kv(loader_t *L, const trn_yaml_node_t *n, const char *what, bool names_are_labels,
                   trn_labels_t *out)
{
    trn_arena_t *a = L->c->a;
    out->v = NULL;
    out->n = 0;
    if (!n || trn_yaml_is_null(n)) return 0;
    if (n->kind != TRN_YAML_MAP) return trn_yaml_error(L->d, n, "%s must be a mapping", what);
    out->v = trn_arena_calloc(a, n->n ? n->n : 1, sizeof *out->v);
    for (size_t i = 0; i < n->n; i++) {
        const trn_yaml_node_t *k = n->pairs[i].key, *v = n->pairs[i].value;
        const char *vs;
        if (k->kind != TRN_YAML_SCALAR)
            return trn_yaml_error(L->d, k, "%s keys must be strings", what);
        trn_str_t name = {k->str, k->len};
        if (!trn_label_name_valid(name))
            return trn_yaml_error(L->d, k, "invalid %s name: %s",
                                  names_are_labels ? "label" : "annotation", k->str);
        if (trn_yaml_is_null(v))
            vs = "";
        else if (trn_yaml_str(v, &vs, L->d) < 0)
            return TRN_EINVAL;
        if (!trn_utf8_valid(vs, strlen(vs)))
            return trn_yaml_error(L->d, v, "invalid %s value for %s: not UTF-8", what, k->str);
        for (size_t j = 0; j < out->n; j++)
            if (trn_str_eq(out->v[j].name, name))
                return trn_yaml_error(L->d, k, "duplicate %s name %s", what, k->str);
        /* copies: the YAML document goes away after loading */
        out->v[out->n].name = (trn_str_t){trn_arena_strndup(a, name.p, name.len), name.len};
        out->v[out->n].value = trn_str_c(adup(a, vs));
        out->n++;
    }
    trn_labels_sort(out);
    return 0;
}

/* Moves a PromQL error position from the expression into the file. */
static int expr_error(loader_t *L, const trn_yaml_node_t *n, const trn_diag_t *pd)
{
    int line = n->line, col = n->col;
    int pl = pd->line > 0 ? pd->line : 1, pc = pd->col > 0 ? pd->col : 1;
    /* find the node's line in the text to see whether it is a block scalar */
    const char *p = L->text;
    for (int i = 1; i < n->line && p; i++) {
        p = memchr(p, '\n', (size_t)(L->text + L->len - p));
        if (p) p++;
    }
    if (p && col >= 1 && (size_t)(p - L->text) + (size_t)col - 1 < L->len &&
        (p[col - 1] == '|' || p[col - 1] == '>')) {
        /* content starts on the next line, at the block's indentation */
        const char *q = memchr(p, '\n', (size_t)(L->text + L->len - p));
        int indent = 0;
        for (int i = 0; i < pl && q; i++) {
            q++;
            indent = 0;
            while (q + indent < L->text + L->len && q[indent] == ' ')
                indent++;
            if (i + 1 < pl) q = memchr(q, '\n', (size_t)(L->text + L->len - q));
        }
        line = n->line + pl;
        col = indent + pc;
    } else {
        line = n->line + pl - 1;
        col = pl == 1 ? n->col + pc - 1 + (n->plain ? 0 : 1) : pc;
    }
    trn_diag_set_at(L->d, TRN_EINVAL, line, col, "%s:%d:%d: could not parse expression: %s",
                    L->file, line, col, pd->msg);
    return TRN_EINVAL;
}

static int parse_tmpls(loader_t *L, trn_rule_t *r, const trn_labels_t *set, trn_tmpl_t ***out,
                       const trn_yaml_node_t *node, const char *what)
{
    trn_arena_t *a = L->c->a;
    *out = trn_arena_calloc(a, set->n ? set->n : 1, sizeof **out);
    char *tname = trn_arena_printf(a, "__alert_%s", r->name);
    for (size_t i = 0; i < set->n; i++) {
        trn_buf_t b;
        trn_buf_init(&b);
        trn_buf_puts(&b, TMPL_PRELUDE);
        trn_buf_append(&b, set->v[i].value.p, set->v[i].value.len);
        trn_diag_t td;
        trn_diag_init(&td);
        int rc = trn_tmpl_parse(a, tname, b.data, b.len, NULL, &(*out)[i], &td);
        trn_buf_fini(&b);
        if (rc < 0) {
            const trn_yaml_node_t *at =
                node ? trn_yaml_get(
                           node, (char *)trn_arena_strndup(a, set->v[i].name.p, set->v[i].name.len))
                     : NULL;
            return trn_yaml_error(L->d, at ? at : node, "%s %.*s: %s", what,
                                  (int)set->v[i].name.len, set->v[i].name.p, td.msg);
        }
    }
    return 0;
}

static const char *const rule_keys[] = {"record",          "alert",  "expr",        "for",
                                        "keep_firing_for", "labels", "annotations", NULL};

static int load_rule_body(loader_t *L, trn_rule_group_t *g, const trn_labels_t *group_labels,
                          const trn_yaml_node_t *n, trn_rule_t *r)
{
    trn_arena_t *a = L->c->a;
    if (trn_yaml_check_map(n, "rule", rule_keys, L->d) < 0) return TRN_EINVAL;
    const trn_yaml_node_t *rec = trn_yaml_get(n, "record"), *al = trn_yaml_get(n, "alert");
    const trn_yaml_node_t *ex = trn_yaml_get(n, "expr");
    if (rec && al) return trn_yaml_error(L->d, n, "only one of 'record' and 'alert' must be set");
    if (!rec && !al) return trn_yaml_error(L->d, n, "one of 'record' or 'alert' must be set");
    if (!ex || trn_yaml_is_null(ex))
        return trn_yaml_error(L->d, n, "field 'expr' must be set in rule");
    const char *name, *expr;
    if (trn_yaml_str(rec ? rec : al, &name, L->d) < 0 || trn_yaml_str(ex, &expr, L->d) < 0)
        return TRN_EINVAL;
    r->is_alerting = al != NULL;
    r->name = adup(a, name);
    r->health = "unknown";
    if (rec && !trn_metric_name_valid(trn_str_c(name)))
        return trn_yaml_error(L->d, rec, "invalid recording rule name: %s", name);
    if (al && (!*name || !trn_utf8_valid(name, strlen(name))))
        return trn_yaml_error(L->d, al, "invalid alert name: %s", name);
    const trn_yaml_node_t *f = trn_yaml_get(n, "for"), *kf = trn_yaml_get(n, "keep_firing_for");
    const trn_yaml_node_t *an = trn_yaml_get(n, "annotations"), *lb = trn_yaml_get(n, "labels");
    if (rec) {
        if (f) return trn_yaml_error(L->d, f, "invalid field 'for' in recording rule");
        if (kf)
            return trn_yaml_error(L->d, kf, "invalid field 'keep_firing_for' in recording rule");
        if (an) return trn_yaml_error(L->d, an, "invalid field 'annotations' in recording rule");
    }
    if (f && !trn_yaml_is_null(f) && trn_yaml_duration(f, &r->for_ms, L->d) < 0) return TRN_EINVAL;
    if (kf && !trn_yaml_is_null(kf) && trn_yaml_duration(kf, &r->keep_firing_for_ms, L->d) < 0)
        return TRN_EINVAL;
    trn_diag_t pd;
    trn_diag_init(&pd);
    expr = adup(a, expr); /* the AST may borrow from its text */
    if (trn_promql_parse(expr, strlen(expr), a, &r->expr, &pd) < 0) return expr_error(L, ex, &pd);
    trn_buf_t q;
    trn_buf_init(&q);
    trn_promql_format(r->expr, &q);
    r->query = trn_arena_strndup(a, q.data ? q.data : "", q.len);
    trn_buf_fini(&q);
    trn_labels_t own;
    if (read_kv(L, lb, "labels", true, &own) < 0) return TRN_EINVAL;
    /* group labels first, the rule's own override them */
    r->labels.v = trn_arena_calloc(a, own.n + group_labels->n + 1, sizeof *r->labels.v);
    r->labels.n = 0;
    for (size_t i = 0; i < group_labels->n; i++)
        if (!trn_labels_get(
                 &own, trn_arena_strndup(a, group_labels->v[i].name.p, group_labels->v[i].name.len))
                 .p)
            r->labels.v[r->labels.n++] = group_labels->v[i];
    for (size_t i = 0; i < own.n; i++)
        r->labels.v[r->labels.n++] = own.v[i];
    trn_labels_sort(&r->labels);
    if (read_kv(L, an, "annotations", false, &r->annotations) < 0) return TRN_EINVAL;
    if (r->is_alerting) {
        if (parse_tmpls(L, r, &r->labels, &r->label_tmpl, lb, "label") < 0) return TRN_EINVAL;
        if (parse_tmpls(L, r, &r->annotations, &r->annot_tmpl, an, "annotation") < 0)
            return TRN_EINVAL;
    }
    (void)g;
    return 0;
}

/* Loads one rule; on failure nothing stays held outside the arena. */
static int load_rule(loader_t *L, trn_rule_group_t *g, const trn_labels_t *group_labels,
                     const trn_yaml_node_t *n, trn_rule_t *r)
{
    int rc = load_rule_body(L, g, group_labels, n, r);
    if (rc < 0) {
        trn_promql_expr_release(r->expr);
        r->expr = NULL;
    }
    return rc;
}

static const char *const group_keys[] = {"name",   "interval", "limit", "query_offset",
                                         "labels", "rules",    NULL};

static int load_group(loader_t *L, const trn_yaml_node_t *n, trn_rule_group_t *g)
{
    trn_arena_t *a = L->c->a;
    if (trn_yaml_check_map(n, "rule group", group_keys, L->d) < 0) return TRN_EINVAL;
    const trn_yaml_node_t *nm = trn_yaml_get(n, "name");
    const char *name;
    if (!nm || trn_yaml_is_null(nm)) return trn_yaml_error(L->d, n, "Groupname must not be empty");
    if (trn_yaml_str(nm, &name, L->d) < 0) return TRN_EINVAL;
    if (!*name) return trn_yaml_error(L->d, nm, "Groupname must not be empty");
    g->name = adup(a, name);
    g->file = adup(a, L->file);
    g->interval_ms = L->c->eval_interval_ms;
    g->query_offset_ms = L->c->query_offset_ms;
    const trn_yaml_node_t *iv = trn_yaml_get(n, "interval");
    if (iv && !trn_yaml_is_null(iv)) {
        if (trn_yaml_duration(iv, &g->interval_ms, L->d) < 0) return TRN_EINVAL;
        if (g->interval_ms <= 0) return trn_yaml_error(L->d, iv, "group interval must be positive");
    }
    const trn_yaml_node_t *qo = trn_yaml_get(n, "query_offset");
    if (qo && !trn_yaml_is_null(qo) && trn_yaml_duration(qo, &g->query_offset_ms, L->d) < 0)
        return TRN_EINVAL;
    const trn_yaml_node_t *li = trn_yaml_get(n, "limit");
    if (li && !trn_yaml_is_null(li)) {
        if (trn_yaml_int(li, &g->limit, L->d) < 0) return TRN_EINVAL;
        if (g->limit < 0) return trn_yaml_error(L->d, li, "limit must not be negative");
    }
    trn_labels_t glabels;
    if (read_kv(L, trn_yaml_get(n, "labels"), "labels", true, &glabels) < 0) return TRN_EINVAL;
    const trn_yaml_node_t *rules = trn_yaml_get(n, "rules");
    if (rules && !trn_yaml_is_null(rules) && rules->kind != TRN_YAML_SEQ)
        return trn_yaml_error(L->d, rules, "rules must be a list");
    size_t nr = rules && rules->kind == TRN_YAML_SEQ ? rules->n : 0;
    g->rules = trn_arena_calloc(a, nr ? nr : 1, sizeof *g->rules);
    for (size_t i = 0; i < nr; i++) {
        if (load_rule(L, g, &glabels, rules->items[i], &g->rules[i]) < 0) return TRN_EINVAL;
        g->n_rules++;
        for (size_t j = 0; j < i; j++) {
            trn_rule_t *o = &g->rules[j];
            if (o->is_alerting == g->rules[i].is_alerting &&
                strcmp(o->name, g->rules[i].name) == 0 &&
                trn_labels_equal(&o->labels, &g->rules[i].labels))
                return trn_yaml_error(
                    L->d, rules->items[i],
                    "duplicate rule in group \"%s\": %s \"%s\" with the same labels as rule %zu",
                    g->name, o->is_alerting ? "alert" : "record", o->name, j + 1);
        }
    }
    /* the group key (file and name) spreads groups over the interval */
    trn_label_t kl[2] = {{TRN_STR("file"), trn_str_c(g->file)},
                         {TRN_STR("name"), trn_str_c(g->name)}};
    trn_labels_t key = {kl, 2};
    g->hash = trn_labels_hash(&key);
    return 0;
}

static int load_text(trn_rules_config_t *c, const char *file, const char *text, size_t len,
                     trn_diag_t *d)
{
    loader_t L = {.c = c, .file = file, .text = text, .len = len, .d = d};
    trn_yaml_doc_t *doc = NULL;
    int rc = trn_yaml_parse(file, text, len, &doc, d);
    if (rc < 0) return rc;
    const trn_yaml_node_t *root = trn_yaml_root(doc), *groups = NULL;
    rc = 0;
    if (root && root->kind != TRN_YAML_MAP) {
        rc = trn_yaml_error(d, root, "rule file must be a mapping");
        goto out;
    }
    if (root && (trn_yaml_get(root, "kind") || trn_yaml_get(root, "apiVersion") ||
                 trn_yaml_get(root, "spec"))) {
        static const char *const res_keys[] = {"apiVersion", "kind", "metadata", "spec", NULL};
        static const char *const spec_keys[] = {"groups", NULL};
        const char *kind = "";
        const trn_yaml_node_t *k = trn_yaml_get(root, "kind"), *spec = trn_yaml_get(root, "spec");
        if ((rc = trn_yaml_check_map(root, "PrometheusRule", res_keys, d)) < 0) goto out;
        if (k && (rc = trn_yaml_str(k, &kind, d)) < 0) goto out;
        if (strcmp(kind, "PrometheusRule") != 0) {
            rc = trn_yaml_error(d, k ? k : root, "unsupported kind \"%s\" (want PrometheusRule)",
                                kind);
            goto out;
        }
        if (spec && !trn_yaml_is_null(spec)) {
            if ((rc = trn_yaml_check_map(spec, "PrometheusRule spec", spec_keys, d)) < 0) goto out;
            groups = trn_yaml_get(spec, "groups");
        }
    } else if (root) {
        static const char *const file_keys[] = {"groups", NULL};
        if ((rc = trn_yaml_check_map(root, "rule file", file_keys, d)) < 0) goto out;
        groups = trn_yaml_get(root, "groups");
    }
    if (groups && !trn_yaml_is_null(groups) && groups->kind != TRN_YAML_SEQ) {
        rc = trn_yaml_error(d, groups, "groups must be a list");
        goto out;
    }
    size_t ng = groups && groups->kind == TRN_YAML_SEQ ? groups->n : 0;
    size_t first = c->n_groups;
    if (ng) {
        trn_rule_group_t *gs = trn_arena_calloc(c->a, c->n_groups + ng, sizeof *gs);
        if (c->n_groups) memcpy(gs, c->groups, c->n_groups * sizeof *gs);
        c->groups = gs;
    }
    for (size_t i = 0; i < ng; i++) {
        trn_rule_group_t *g = &c->groups[c->n_groups];
        if ((rc = load_group(&L, groups->items[i], g)) < 0) {
            for (size_t k = 0; k < g->n_rules; k++)
                trn_promql_expr_release(g->rules[k].expr);
            goto out;
        }
        /* counted before the check, so a failure releases its rules too */
        c->n_groups++;
        for (size_t j = first; j + 1 < c->n_groups; j++)
            if (strcmp(c->groups[j].name, g->name) == 0) {
                rc = trn_yaml_error(d, groups->items[i],
                                    "groupname: \"%s\" is repeated in the same file", g->name);
                goto out;
            }
    }
out:
    trn_yaml_free(doc);
    return rc;
}

static int load_file(trn_rules_config_t *c, const char *path, trn_diag_t *d)
{
    char *text;
    size_t len;
    int rc = read_file(path, &text, &len, d);
    if (rc < 0) return rc;
    rc = load_text(c, trn_arena_strndup(c->a, path, strlen(path)), text, len, d);
    free(text);
    return rc;
}

static trn_rules_config_t *config_new(void)
{
    trn_rules_config_t *c = trn_xcalloc(1, sizeof *c);
    c->a = trn_arena_new(0);
    c->eval_interval_ms = 60000;
    c->am_timeout_ms = 10000;
    return c;
}

void trn_rules_config_free(trn_rules_config_t *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n_groups; i++)
        for (size_t j = 0; j < c->groups[i].n_rules; j++) {
            trn__rule_state_free(&c->groups[i].rules[j]);
            trn_promql_expr_release(c->groups[i].rules[j].expr);
        }
    trn_arena_free(c->a);
    free(c);
}

size_t trn_rules_config_n_groups(const trn_rules_config_t *c)
{
    return c ? c->n_groups : 0;
}

size_t trn_rules_config_n_rules(const trn_rules_config_t *c)
{
    size_t n = 0;
    for (size_t i = 0; c && i < c->n_groups; i++)
        n += c->groups[i].n_rules;
    return n;
}

static int parse_global(trn_rules_config_t *c, const trn_yaml_node_t *g, trn_diag_t *d)
{
    if (!g || trn_yaml_is_null(g)) return 0;
    if (g->kind != TRN_YAML_MAP) return trn_yaml_error(d, g, "global must be a mapping");
    const trn_yaml_node_t *ei = trn_yaml_get(g, "evaluation_interval");
    if (ei && !trn_yaml_is_null(ei)) {
        if (trn_yaml_duration(ei, &c->eval_interval_ms, d) < 0) return TRN_EINVAL;
        if (c->eval_interval_ms <= 0)
            return trn_yaml_error(d, ei, "evaluation_interval must be positive");
    }
    const trn_yaml_node_t *qo = trn_yaml_get(g, "rule_query_offset");
    if (qo && !trn_yaml_is_null(qo) && trn_yaml_duration(qo, &c->query_offset_ms, d) < 0)
        return TRN_EINVAL;
    const trn_yaml_node_t *el = trn_yaml_get(g, "external_labels");
    loader_t L = {.c = c, .file = "", .d = d};
    return read_kv(&L, el, "external_labels", true, &c->external_labels);
}

static int parse_alerting(trn_rules_config_t *c, const trn_yaml_node_t *al, trn_diag_t *d)
{
    if (!al || trn_yaml_is_null(al)) return 0;
    static const char *const keys[] = {"alertmanagers", "alert_relabel_configs", NULL};
    if (trn_yaml_check_map(al, "alerting", keys, d) < 0) return TRN_EINVAL;
    const trn_yaml_node_t *rl = trn_yaml_get(al, "alert_relabel_configs");
    if (rl && !trn_yaml_is_null(rl) && !(rl->kind == TRN_YAML_SEQ && rl->n == 0))
        return trn_yaml_error(d, rl, "alert_relabel_configs is not supported by trine");
    const trn_yaml_node_t *ams = trn_yaml_get(al, "alertmanagers");
    if (!ams || trn_yaml_is_null(ams)) return 0;
    if (ams->kind != TRN_YAML_SEQ) return trn_yaml_error(d, ams, "alertmanagers must be a list");
    static const char *const am_keys[] = {"static_configs", "scheme",      "path_prefix",
                                          "timeout",        "api_version", "follow_redirects",
                                          "enable_http2",   NULL};
    static const char *const sc_keys[] = {"targets", "labels", NULL};
    for (size_t i = 0; i < ams->n; i++) {
        const trn_yaml_node_t *am = ams->items[i];
        if (trn_yaml_check_map(am, "alertmanager config", am_keys, d) < 0) return TRN_EINVAL;
        const char *scheme = "http", *prefix = "", *api = "v2";
        const trn_yaml_node_t *x;
        if ((x = trn_yaml_get(am, "scheme")) && trn_yaml_str(x, &scheme, d) < 0) return TRN_EINVAL;
        if ((x = trn_yaml_get(am, "path_prefix")) && trn_yaml_str(x, &prefix, d) < 0)
            return TRN_EINVAL;
        if ((x = trn_yaml_get(am, "api_version")) && trn_yaml_str(x, &api, d) < 0)
            return TRN_EINVAL;
        if (strcmp(api, "v2") != 0)
            return trn_yaml_error(d, x, "api_version %s is not supported (only v2)", api);
        if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
            return trn_yaml_error(d, trn_yaml_get(am, "scheme"), "scheme must be http or https");
        if ((x = trn_yaml_get(am, "timeout")) && trn_yaml_duration(x, &c->am_timeout_ms, d) < 0)
            return TRN_EINVAL;
        const trn_yaml_node_t *scs = trn_yaml_get(am, "static_configs");
        if (!scs || trn_yaml_is_null(scs)) continue;
        if (scs->kind != TRN_YAML_SEQ)
            return trn_yaml_error(d, scs, "static_configs must be a list");
        for (size_t j = 0; j < scs->n; j++) {
            if (trn_yaml_check_map(scs->items[j], "static_config", sc_keys, d) < 0)
                return TRN_EINVAL;
            const trn_yaml_node_t *ts = trn_yaml_get(scs->items[j], "targets");
            if (!ts || trn_yaml_is_null(ts)) continue;
            if (ts->kind != TRN_YAML_SEQ) return trn_yaml_error(d, ts, "targets must be a list");
            am_target_t *nt = trn_arena_calloc(c->a, c->n_ams + ts->n, sizeof *nt);
            if (c->n_ams) memcpy(nt, c->ams, c->n_ams * sizeof *nt);
            c->ams = nt;
            for (size_t k = 0; k < ts->n; k++) {
                const char *t;
                if (trn_yaml_str(ts->items[k], &t, d) < 0) return TRN_EINVAL;
                const char *sep = (*prefix && prefix[0] != '/') ? "/" : "";
                size_t pl = strlen(prefix);
                while (pl > 0 && prefix[pl - 1] == '/')
                    pl--;
                c->ams[c->n_ams++].url = trn_arena_printf(c->a, "%s://%s%s%.*s/api/v2/alerts",
                                                          scheme, t, sep, (int)pl, prefix);
            }
        }
    }
    return 0;
}

int trn_rules_config_parse(const trn_yaml_node_t *root, const char *base_dir,
                           trn_rules_config_t **out, trn_diag_t *d)
{
    trn_rules_config_t *c = config_new();
    int rc = 0;
    if (root && root->kind == TRN_YAML_MAP) {
        if ((rc = parse_global(c, trn_yaml_get(root, "global"), d)) < 0) goto fail;
        if ((rc = parse_alerting(c, trn_yaml_get(root, "alerting"), d)) < 0) goto fail;
        const trn_yaml_node_t *rf = trn_yaml_get(root, "rule_files");
        if (rf && !trn_yaml_is_null(rf)) {
            if (rf->kind != TRN_YAML_SEQ) {
                rc = trn_yaml_error(d, rf, "rule_files must be a list");
                goto fail;
            }
            for (size_t i = 0; i < rf->n; i++) {
                const char *pat;
                if ((rc = trn_yaml_str(rf->items[i], &pat, d)) < 0) goto fail;
                char *full = pat[0] == '/' || !base_dir || !*base_dir
                                 ? trn_xstrdup(pat)
                                 : trn_arena_printf(c->a, "%s/%s", base_dir, pat);
                glob_t gl;
                int grc = glob(full, 0, NULL, &gl);
                if (pat[0] == '/' || !base_dir || !*base_dir) free(full);
                if (grc == GLOB_NOMATCH) continue; /* Prometheus: a glob may match nothing */
                if (grc != 0) {
                    rc = trn_yaml_error(d, rf->items[i], "bad rule_files pattern %s", pat);
                    goto fail;
                }
                for (size_t k = 0; k < gl.gl_pathc; k++) {
                    struct stat st;
                    if (stat(gl.gl_pathv[k], &st) == 0 && S_ISDIR(st.st_mode)) continue;
                    if ((rc = load_file(c, gl.gl_pathv[k], d)) < 0) {
                        globfree(&gl);
                        goto fail;
                    }
                }
                globfree(&gl);
            }
        }
    }
    *out = c;
    return 0;
fail:
    trn_rules_config_free(c);
    return rc;
}

int trn_rules_text_check(const char *name, const char *text, size_t len, trn_diag_t *d)
{
    trn_rules_config_t *c = config_new();
    int rc = load_text(c, trn_arena_strndup(c->a, name, strlen(name)), text, len, d);
    trn_rules_config_free(c);
    return rc;
}

int trn_rules_file_check(const char *path, trn_diag_t *d)
{
    trn_rules_config_t *c = config_new();
    int rc = load_file(c, path, d);
    trn_rules_config_free(c);
    return rc;
}

int trn_rules_config_load_text(const char *name, const char *text, size_t len,
                               int64_t eval_interval_ms, trn_rules_config_t **out, trn_diag_t *d)
{
    trn_rules_config_t *c = config_new();
    if (eval_interval_ms > 0) c->eval_interval_ms = eval_interval_ms;
    int rc = load_text(c, trn_arena_strndup(c->a, name, strlen(name)), text, len, d);
    if (rc < 0) {
        trn_rules_config_free(c);
        return rc;
    }
    *out = c;
    return 0;
}
