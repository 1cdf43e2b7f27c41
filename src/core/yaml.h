/* SPDX-License-Identifier: Apache-2.0 */
/* YAML documents as an immutable tree with positions (file, line, col), on
 * libyaml's parser. Config loaders walk the tree and report errors as
 * "file:line:col: what is wrong". Anchors and aliases are resolved (an
 * alias shares the anchored node). */
#ifndef TRN_CORE_YAML_H
#define TRN_CORE_YAML_H

#include "core/diag.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { TRN_YAML_SCALAR, TRN_YAML_SEQ, TRN_YAML_MAP } trn_yaml_kind_t;

typedef struct trn_yaml_node trn_yaml_node_t;
typedef struct trn_yaml_pair {
    trn_yaml_node_t *key, *value;
} trn_yaml_pair_t;

struct trn_yaml_node {
    trn_yaml_kind_t kind;
    const char *file; /* borrowed from the document */
    int line, col;    /* 1-based */
    /* scalar */
    const char *str; /* NUL-terminated */
    size_t len;
    bool plain; /* unquoted: may mean null/bool/number */
    /* seq: items; map: pairs in document order */
    trn_yaml_node_t **items;
    trn_yaml_pair_t *pairs;
    size_t n;
};

typedef struct trn_yaml_doc trn_yaml_doc_t;

/* Parses the first document of buf. file names the source in errors. */
int trn_yaml_parse(const char *file, const char *buf, size_t len, trn_yaml_doc_t **out,
                   trn_diag_t *d);
/* Reads and parses a file. */
int trn_yaml_load_file(const char *path, trn_yaml_doc_t **out, trn_diag_t *d);
void trn_yaml_free(trn_yaml_doc_t *doc);
/* Root node; NULL for an empty document. */
const trn_yaml_node_t *trn_yaml_root(const trn_yaml_doc_t *doc);

/* Value of key in a map node, or NULL. */
const trn_yaml_node_t *trn_yaml_get(const trn_yaml_node_t *map, const char *key);
/* True for a plain scalar null/~/empty. */
bool trn_yaml_is_null(const trn_yaml_node_t *n);
/* Records "file:line:col: msg" in d; returns TRN_EINVAL. */
int trn_yaml_error(trn_diag_t *d, const trn_yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Checks that n is a map whose keys are all in allowed (NULL-terminated);
 * what names the section for the message ("unknown key \"x\" in what"). */
int trn_yaml_check_map(const trn_yaml_node_t *n, const char *what, const char *const *allowed,
                       trn_diag_t *d);

/* Typed scalar readers: each checks the kind and reports position on error. */
int trn_yaml_str(const trn_yaml_node_t *n, const char **out, trn_diag_t *d);
int trn_yaml_bool(const trn_yaml_node_t *n, bool *out, trn_diag_t *d);
int trn_yaml_int(const trn_yaml_node_t *n, int64_t *out, trn_diag_t *d);
int trn_yaml_float(const trn_yaml_node_t *n, double *out, trn_diag_t *d);
/* Prometheus duration ("30s", "1h30m", "0") into ms. */
int trn_yaml_duration(const trn_yaml_node_t *n, int64_t *out_ms, trn_diag_t *d);
/* Byte size ("512MB", "1GiB", "100") into bytes. */
int trn_yaml_bytes(const trn_yaml_node_t *n, uint64_t *out, trn_diag_t *d);

#endif
