/* SPDX-License-Identifier: Apache-2.0 */
/* file_sd_configs: target groups read from JSON or YAML files, in
 * Prometheus's format — a list of {"targets": [...], "labels": {...}}.
 * A .json file is read with jansson, anything else (.yml/.yaml) with the
 * YAML tree, so errors keep their line and column. File patterns may hold
 * a glob in the last path element. Each group gets the label
 * __meta_filepath with the file's path, as Prometheus adds it. Watching
 * for changes is the manager's job (it polls the files' stat data). */
#include "scrape/scrape_int.h"

#include "core/alloc.h"
#include "core/err.h"

#include <errno.h>
#include <glob.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FILE_SD_MAX_BYTES (64u << 20)

static void add_label(trn__tgroup_t *g, const char *name, const char *value)
{
    g->names = trn_xrealloc(g->names, (g->n_labels + 1) * sizeof *g->names);
    g->values = trn_xrealloc(g->values, (g->n_labels + 1) * sizeof *g->values);
    g->names[g->n_labels] = trn_xstrdup(name);
    g->values[g->n_labels++] = trn_xstrdup(value);
}

static int group_from_json(json_t *o, const char *path, size_t idx, trn__tgroup_t *g, trn_diag_t *d)
{
    char src[4096 + 32];
    snprintf(src, sizeof src, "%s:%zu", path, idx);
    memset(g, 0, sizeof *g);
    g->source = trn_xstrdup(src);
    if (!json_is_object(o))
        return trn_diag_set(d, TRN_EINVAL, -1, "%s: group %zu is not an object", path, idx);
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        if (strcmp(key, "targets") && strcmp(key, "labels"))
            return trn_diag_set(d, TRN_EINVAL, -1, "%s: unknown key \"%s\" in target group %zu",
                                path, key, idx);
    }
    json_t *t = json_object_get(o, "targets"), *l = json_object_get(o, "labels");
    if (t && !json_is_null(t)) {
        if (!json_is_array(t))
            return trn_diag_set(d, TRN_EINVAL, -1, "%s: targets must be a list", path);
        g->targets = trn_xcalloc(json_array_size(t) + 1, sizeof *g->targets);
        size_t i;
        json_t *e;
        json_array_foreach(t, i, e)
        {
            if (!json_is_string(e) || !*json_string_value(e))
                return trn_diag_set(d, TRN_EINVAL, -1,
                                    "%s: target %zu of group %zu is not a "
                                    "non-empty string",
                                    path, i, idx);
            g->targets[g->n_targets++] = trn_xstrdup(json_string_value(e));
        }
    }
    if (l && !json_is_null(l)) {
        if (!json_is_object(l))
            return trn_diag_set(d, TRN_EINVAL, -1, "%s: labels must be an object", path);
        json_object_foreach(l, key, v)
        {
            if (!trn_label_name_valid(trn_str_c(key)))
                return trn_diag_set(d, TRN_EINVAL, -1, "%s: \"%s\" is not a valid label name", path,
                                    key);
            if (!json_is_string(v))
                return trn_diag_set(d, TRN_EINVAL, -1, "%s: label \"%s\" must be a string", path,
                                    key);
            add_label(g, key, json_string_value(v));
        }
    }
    return 0;
}

static int read_whole(const char *path, char **out, size_t *n_out, trn_diag_t *d)
{
    FILE *f = fopen(path, "rb");
    if (!f) return trn_diag_set(d, TRN_EIO, -1, "%s: %s", path, strerror(errno));
    trn_buf_t b;
    trn_buf_init(&b);
    char chunk[16384];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + n > FILE_SD_MAX_BYTES) {
            fclose(f);
            trn_buf_fini(&b);
            return trn_diag_set(d, TRN_ELIMIT, -1, "%s: larger than %u bytes", path,
                                FILE_SD_MAX_BYTES);
        }
        trn_buf_append(&b, chunk, n);
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        trn_buf_fini(&b);
        return trn_diag_set(d, TRN_EIO, -1, "%s: read error", path);
    }
    if (!b.data) trn_buf_append(&b, "", 0);
    *out = trn_buf_steal(&b, n_out);
    return 0;
}

int trn__file_sd_read(const char *path, trn__tgroup_t **out, size_t *n_out, trn_diag_t *d)
{
    char *buf = NULL;
    size_t len = 0, n = 0;
    trn__tgroup_t *gs = NULL;
    trn_yaml_doc_t *doc = NULL;
    json_t *root = NULL;
    int rc = read_whole(path, &buf, &len, d);
    if (rc < 0) return rc;
    size_t plen = strlen(path);
    if (plen > 5 && strcmp(path + plen - 5, ".json") == 0) {
        json_error_t je;
        root = json_loadb(buf, len, 0, &je);
        if (!root) {
            rc = trn_diag_set_at(d, TRN_EINVAL, je.line, je.column, "%s:%d:%d: %s", path, je.line,
                                 je.column, je.text);
            goto fail;
        }
        if (!json_is_array(root)) {
            rc = trn_diag_set(d, TRN_EINVAL, -1, "%s: expected a list of target groups", path);
            goto fail;
        }
        gs = trn_xcalloc(json_array_size(root) + 1, sizeof *gs);
        size_t i;
        json_t *e;
        json_array_foreach(root, i, e)
        {
            n++;
            if ((rc = group_from_json(e, path, i, &gs[i], d)) < 0) goto fail;
        }
    } else {
        if ((rc = trn_yaml_parse(path, buf, len, &doc, d)) < 0) goto fail;
        const trn_yaml_node_t *r = trn_yaml_root(doc);
        if (r && !trn_yaml_is_null(r)) {
            if (r->kind != TRN_YAML_SEQ) {
                rc = trn_yaml_error(d, r, "expected a list of target groups");
                goto fail;
            }
            gs = trn_xcalloc(r->n + 1, sizeof *gs);
            for (size_t i = 0; i < r->n; i++) {
                char src[4096 + 32];
                snprintf(src, sizeof src, "%s:%zu", path, i);
                n++;
                if ((rc = trn__tgroup_from_yaml(r->items[i], src, &gs[i], d)) < 0) goto fail;
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        add_label(&gs[i], "__meta_filepath", path);
    json_decref(root);
    trn_yaml_free(doc);
    free(buf);
    *out = gs;
    *n_out = n;
    return 0;
fail:
    for (size_t i = 0; i < n; i++)
        trn__tgroup_fini(&gs[i]);
    free(gs);
    json_decref(root);
    trn_yaml_free(doc);
    free(buf);
    return rc < 0 ? rc : TRN_EINVAL;
}

void trn__file_sd_glob(const trn__scrape_job_t *job, trn__path_fn *fn, void *ctx)
{
    for (size_t i = 0; i < job->n_sd_files; i++) {
        glob_t g;
        if (glob(job->sd_files[i], 0, NULL, &g) == 0) {
            for (size_t k = 0; k < g.gl_pathc; k++)
                fn(ctx, g.gl_pathv[k]);
        }
        globfree(&g);
    }
}
