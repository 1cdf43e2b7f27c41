/* SPDX-License-Identifier: Apache-2.0 */
/* YAML tree builder on libyaml's event parser. Nodes and strings live in
 * one arena per document, so freeing a document is one call. Depth and
 * node count are bounded so hostile input cannot exhaust the stack or
 * memory; anchors map to already-built nodes (aliases share them). */
#include "core/yaml.h"
#include "core/alloc.h"
#include "core/arena.h"
#include "core/err.h"
#include "core/timefmt.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_DEPTH 128
#define MAX_NODES 2000000

struct trn_yaml_doc {
    trn_arena_t *arena;
    char *file;
    trn_yaml_node_t *root;
    struct anchor {
        char *name;
        trn_yaml_node_t *node;
    } * anchors;
    size_t n_anchors, cap_anchors;
    size_t n_nodes;
};

typedef struct {
    yaml_parser_t p;
    trn_yaml_doc_t *doc;
    trn_diag_t *d;
} builder_t;

static int parser_error(builder_t *b)
{
    return trn_diag_set_at(b->d, TRN_EINVAL, (int)b->p.problem_mark.line + 1,
                           (int)b->p.problem_mark.column + 1, "%s:%zu:%zu: %s%s%s", b->doc->file,
                           b->p.problem_mark.line + 1, b->p.problem_mark.column + 1,
                           b->p.problem ? b->p.problem : "invalid YAML", b->p.context ? " " : "",
                           b->p.context ? b->p.context : "");
}

static trn_yaml_node_t *new_node(builder_t *b, trn_yaml_kind_t k, yaml_mark_t m)
{
    if (++b->doc->n_nodes > MAX_NODES) return NULL;
    trn_yaml_node_t *n = trn_arena_calloc(b->doc->arena, 1, sizeof *n);
    if (!n) return NULL;
    n->kind = k;
    n->file = b->doc->file;
    n->line = (int)m.line + 1;
    n->col = (int)m.column + 1;
    return n;
}

static void add_anchor(builder_t *b, const yaml_char_t *name, trn_yaml_node_t *n)
{
    if (!name) return;
    trn_yaml_doc_t *doc = b->doc;
    if (doc->n_anchors == doc->cap_anchors) {
        doc->cap_anchors = doc->cap_anchors ? doc->cap_anchors * 2 : 8;
        doc->anchors = trn_xrealloc(doc->anchors, doc->cap_anchors * sizeof *doc->anchors);
    }
    doc->anchors[doc->n_anchors].name =
        trn_arena_strndup(doc->arena, (const char *)name, strlen((const char *)name));
    doc->anchors[doc->n_anchors++].node = n;
}

static int build(builder_t *b, yaml_event_t *ev, int depth, trn_yaml_node_t **out);

/* Reads children until the closing event; items accumulate in a growing
 * array copied into the arena at the end. */
static int build_children(builder_t *b, trn_yaml_node_t *n, yaml_event_type_t end, int depth)
{
    trn_yaml_node_t **tmp = NULL;
    size_t cnt = 0, cap = 0;
    int rc = 0;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&b->p, &ev)) {
            rc = parser_error(b);
            goto out;
        }
        if (ev.type == end) {
            yaml_event_delete(&ev);
            break;
        }
        trn_yaml_node_t *child = NULL;
        rc = build(b, &ev, depth + 1, &child);
        yaml_event_delete(&ev);
        if (rc < 0) goto out;
        if (cnt == cap) {
            cap = cap ? cap * 2 : 8;
            tmp = trn_xrealloc(tmp, cap * sizeof *tmp);
        }
        tmp[cnt++] = child;
    }
    if (n->kind == TRN_YAML_MAP) {
        n->n = cnt / 2;
        n->pairs = trn_arena_alloc(b->doc->arena, (n->n ? n->n : 1) * sizeof *n->pairs);
        if (!n->pairs) {
            rc = trn_diag_set(b->d, TRN_ELIMIT, -1, "%s: document too large", b->doc->file);
            goto out;
        }
        for (size_t i = 0; i < n->n; i++) {
            n->pairs[i].key = tmp[2 * i];
            n->pairs[i].value = tmp[2 * i + 1];
        }
    } else {
        n->n = cnt;
        n->items = trn_arena_alloc(b->doc->arena, (cnt ? cnt : 1) * sizeof *n->items);
        if (!n->items) {
            rc = trn_diag_set(b->d, TRN_ELIMIT, -1, "%s: document too large", b->doc->file);
            goto out;
        }
        if (cnt) memcpy(n->items, tmp, cnt * sizeof *tmp);
    }
out:
    free(tmp);
    return rc;
}

static int build(builder_t *b, yaml_event_t *ev, int depth, trn_yaml_node_t **out)
{
    if (depth > MAX_DEPTH)
        return trn_diag_set_at(b->d, TRN_EINVAL, (int)ev->start_mark.line + 1,
                               (int)ev->start_mark.column + 1, "%s:%zu:%zu: nesting too deep",
                               b->doc->file, ev->start_mark.line + 1, ev->start_mark.column + 1);
    trn_yaml_node_t *n = NULL;
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        n = new_node(b, TRN_YAML_SCALAR, ev->start_mark);
        if (!n) break;
        n->str = trn_arena_strndup(b->doc->arena, (const char *)ev->data.scalar.value,
                                   ev->data.scalar.length);
        n->len = ev->data.scalar.length;
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        if (!n->str)
            n = NULL;
        else
            add_anchor(b, ev->data.scalar.anchor, n);
        break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        bool is_map = ev->type == YAML_MAPPING_START_EVENT;
        n = new_node(b, is_map ? TRN_YAML_MAP : TRN_YAML_SEQ, ev->start_mark);
        if (!n) break;
        add_anchor(b, is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor, n);
        int rc =
            build_children(b, n, is_map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT, depth);
        if (rc < 0) return rc;
        break;
    }
    case YAML_ALIAS_EVENT:
        for (size_t i = b->doc->n_anchors; i-- > 0;)
            if (strcmp(b->doc->anchors[i].name, (const char *)ev->data.alias.anchor) == 0) {
                *out = b->doc->anchors[i].node;
                return 0;
            }
        return trn_diag_set_at(b->d, TRN_EINVAL, (int)ev->start_mark.line + 1,
                               (int)ev->start_mark.column + 1, "%s:%zu:%zu: unknown alias *%s",
                               b->doc->file, ev->start_mark.line + 1, ev->start_mark.column + 1,
                               (const char *)ev->data.alias.anchor);
    default:
        return trn_diag_set(b->d, TRN_EINVAL, -1, "%s: unexpected YAML event", b->doc->file);
    }
    if (!n) return trn_diag_set(b->d, TRN_ELIMIT, -1, "%s: document too large", b->doc->file);
    *out = n;
    return 0;
}

int trn_yaml_parse(const char *file, const char *buf, size_t len, trn_yaml_doc_t **out,
                   trn_diag_t *d)
{
    builder_t b = {.d = d};
    b.doc = trn_xcalloc(1, sizeof *b.doc);
    b.doc->arena = trn_arena_new(0);
    b.doc->file = trn_xstrdup(file ? file : "<input>");
    yaml_parser_initialize(&b.p);
    yaml_parser_set_input_string(&b.p, (const unsigned char *)buf, len);
    int rc = 0;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&b.p, &ev)) {
            rc = parser_error(&b);
            break;
        }
        yaml_event_type_t t = ev.type;
        if (t == YAML_STREAM_END_EVENT || t == YAML_DOCUMENT_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (t == YAML_SCALAR_EVENT || t == YAML_SEQUENCE_START_EVENT ||
            t == YAML_MAPPING_START_EVENT || t == YAML_ALIAS_EVENT) {
            rc = build(&b, &ev, 0, &b.doc->root);
            yaml_event_delete(&ev);
            if (rc < 0) break;
            continue;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&b.p);
    if (rc < 0) {
        trn_yaml_free(b.doc);
        return rc;
    }
    *out = b.doc;
    return 0;
}

int trn_yaml_load_file(const char *path, trn_yaml_doc_t **out, trn_diag_t *d)
{
    FILE *f = fopen(path, "rb");
    if (!f) return trn_diag_set(d, TRN_EIO, -1, "%s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            if (cap > (64u << 20)) {
                free(buf);
                fclose(f);
                return trn_diag_set(d, TRN_ELIMIT, -1, "%s: file larger than 64 MiB", path);
            }
            buf = trn_xrealloc(buf, cap);
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        len += r;
        if (r == 0) break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return trn_diag_set(d, TRN_EIO, -1, "%s: read error", path);
    }
    int rc = trn_yaml_parse(path, buf, len, out, d);
    free(buf);
    return rc;
}

void trn_yaml_free(trn_yaml_doc_t *doc)
{
    if (!doc) return;
    trn_arena_free(doc->arena);
    free(doc->anchors);
    free(doc->file);
    free(doc);
}

const trn_yaml_node_t *trn_yaml_root(const trn_yaml_doc_t *doc)
{
    return doc->root;
}

const trn_yaml_node_t *trn_yaml_get(const trn_yaml_node_t *map, const char *key)
{
    if (!map || map->kind != TRN_YAML_MAP) return NULL;
    for (size_t i = 0; i < map->n; i++) {
        const trn_yaml_node_t *k = map->pairs[i].key;
        if (k->kind == TRN_YAML_SCALAR && strcmp(k->str, key) == 0) return map->pairs[i].value;
    }
    return NULL;
}

bool trn_yaml_is_null(const trn_yaml_node_t *n)
{
    return !n || (n->kind == TRN_YAML_SCALAR && n->plain &&
                  (n->len == 0 || strcmp(n->str, "~") == 0 || strcmp(n->str, "null") == 0 ||
                   strcmp(n->str, "Null") == 0 || strcmp(n->str, "NULL") == 0));
}

int trn_yaml_error(trn_diag_t *d, const trn_yaml_node_t *n, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!n) return trn_diag_set(d, TRN_EINVAL, -1, "%s", msg);
    return trn_diag_set_at(d, TRN_EINVAL, n->line, n->col, "%s:%d:%d: %s", n->file, n->line, n->col,
                           msg);
}

int trn_yaml_check_map(const trn_yaml_node_t *n, const char *what, const char *const *allowed,
                       trn_diag_t *d)
{
    if (!n || n->kind != TRN_YAML_MAP) return trn_yaml_error(d, n, "%s must be a mapping", what);
    for (size_t i = 0; i < n->n; i++) {
        const trn_yaml_node_t *k = n->pairs[i].key;
        if (k->kind != TRN_YAML_SCALAR)
            return trn_yaml_error(d, k, "%s: keys must be strings", what);
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, k->str) == 0;
        if (!ok) return trn_yaml_error(d, k, "unknown key \"%s\" in %s", k->str, what);
        for (size_t j = 0; j < i; j++)
            if (strcmp(n->pairs[j].key->str, k->str) == 0)
                return trn_yaml_error(d, k, "key \"%s\" already set in %s", k->str, what);
    }
    return 0;
}

int trn_yaml_str(const trn_yaml_node_t *n, const char **out, trn_diag_t *d)
{
    if (!n || n->kind != TRN_YAML_SCALAR) return trn_yaml_error(d, n, "expected a string");
    *out = n->str;
    return 0;
}

int trn_yaml_bool(const trn_yaml_node_t *n, bool *out, trn_diag_t *d)
{
    if (n && n->kind == TRN_YAML_SCALAR) {
        if (!strcmp(n->str, "true") || !strcmp(n->str, "True") || !strcmp(n->str, "TRUE")) {
            *out = true;
            return 0;
        }
        if (!strcmp(n->str, "false") || !strcmp(n->str, "False") || !strcmp(n->str, "FALSE")) {
            *out = false;
            return 0;
        }
    }
    return trn_yaml_error(d, n, "expected true or false, got \"%s\"",
                          n && n->kind == TRN_YAML_SCALAR ? n->str : "(not a scalar)");
}

int trn_yaml_int(const trn_yaml_node_t *n, int64_t *out, trn_diag_t *d)
{
    if (n && n->kind == TRN_YAML_SCALAR && n->len > 0) {
        char *end;
        errno = 0;
        long long v = strtoll(n->str, &end, 10);
        if (*end == 0 && errno == 0) {
            *out = v;
            return 0;
        }
    }
    return trn_yaml_error(d, n, "expected an integer, got \"%s\"",
                          n && n->kind == TRN_YAML_SCALAR ? n->str : "(not a scalar)");
}

int trn_yaml_float(const trn_yaml_node_t *n, double *out, trn_diag_t *d)
{
    if (n && n->kind == TRN_YAML_SCALAR && n->len > 0) {
        char *end;
        double v = strtod(n->str, &end);
        if (*end == 0) {
            *out = v;
            return 0;
        }
    }
    return trn_yaml_error(d, n, "expected a number, got \"%s\"",
                          n && n->kind == TRN_YAML_SCALAR ? n->str : "(not a scalar)");
}

int trn_yaml_duration(const trn_yaml_node_t *n, int64_t *out_ms, trn_diag_t *d)
{
    if (n && n->kind == TRN_YAML_SCALAR &&
        trn_parse_duration((trn_str_t){n->str, n->len}, out_ms) == 0)
        return 0;
    return trn_yaml_error(d, n, "not a valid duration string: \"%s\"",
                          n && n->kind == TRN_YAML_SCALAR ? n->str : "(not a scalar)");
}

int trn_yaml_bytes(const trn_yaml_node_t *n, uint64_t *out, trn_diag_t *d)
{
    if (n && n->kind == TRN_YAML_SCALAR && n->len > 0) {
        char *end;
        double v = strtod(n->str, &end);
        static const struct {
            const char *s;
            double m;
        } u[] = {{"", 1},
                 {"B", 1},
                 {"KB", 1e3},
                 {"MB", 1e6},
                 {"GB", 1e9},
                 {"TB", 1e12},
                 {"KiB", 1024.},
                 {"MiB", 1048576.},
                 {"GiB", 1073741824.},
                 {"TiB", 1099511627776.}};
        for (size_t i = 0; end != n->str && v >= 0 && i < sizeof u / sizeof u[0]; i++)
            if (strcmp(end, u[i].s) == 0) {
                *out = (uint64_t)llround(v * u[i].m);
                return 0;
            }
    }
    return trn_yaml_error(d, n, "not a valid byte size: \"%s\"",
                          n && n->kind == TRN_YAML_SCALAR ? n->str : "(not a scalar)");
}
