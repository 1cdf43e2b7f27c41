/* SPDX-License-Identifier: Apache-2.0 */
/* trine's one templating language: the subset of Go's text/template that
 * Prometheus alert annotations, LogQL line_format/label_format and
 * Alertmanager notification templates use, with Prometheus's and
 * Alertmanager's functions (humanize*, query/first/value/label, join, ...).
 *
 * Data is a small tagged value (trn_tval_t) whose storage comes from an
 * arena: nil, bool, int, float, string, list, map (keys kept sorted) and
 * callable. A value may carry a method table, looked up by `.Name` before
 * map keys, which is how Alertmanager's `.CommonLabels.SortedPairs.Values`
 * works. Parsed templates are immutable and may be executed concurrently
 * from several threads, each with its own arena and output buffer. */
#ifndef TRN_CORE_TEMPLATE_H
#define TRN_CORE_TEMPLATE_H

#include "core/arena.h"
#include "core/diag.h"
#include "core/labels.h"
#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    TRN_TV_NIL = 0, /* Go's invalid/nil interface: prints "<no value>" */
    TRN_TV_BOOL,
    TRN_TV_INT,
    TRN_TV_FLOAT,
    TRN_TV_STR,
    TRN_TV_LIST,
    TRN_TV_MAP,
    TRN_TV_FUNC, /* a callable field: `.Field arg...` calls it */
} trn_tval_kind_t;

/* Map flags. */
enum {
    TRN_TV_STRUCT = 1u << 0, /* a Go struct: an unknown field is an execution error */
    TRN_TV_STRMAP = 1u << 1, /* map[string]string: a missing key reads as "" not nil */
};

typedef struct trn_tval trn_tval_t;
typedef struct trn_tkv trn_tkv_t;
typedef struct trn_tmpl_call trn_tmpl_call_t;
typedef struct trn_tmethod trn_tmethod_t;

/* A template function, method or callable field. args are already
 * evaluated (for a pipeline stage, the previous result is the last one).
 * Writes *out and returns 0, or returns trn_tmpl_fail(c, ...). */
typedef int trn_tmpl_fn(trn_tmpl_call_t *c, const trn_tval_t *args, size_t n_args, trn_tval_t *out);

struct trn_tmethod {
    const char *name;
    trn_tmpl_fn *fn; /* the receiver is trn_tmpl_call_recv(c) */
};

/* A method table ends with a {NULL, NULL} entry. */
struct trn_tval {
    trn_tval_kind_t kind;
    unsigned flags;               /* TRN_TV_STRUCT / TRN_TV_STRMAP for maps */
    const trn_tmethod_t *methods; /* optional, static lifetime */
    const char *type_name;        /* optional Go type name for messages */
    union {
        bool b;
        int64_t i;
        double f;
        trn_str_t s;
        struct {
            trn_tval_t *v;
            size_t n, cap;
        } list;
        struct {
            trn_tkv_t *kv; /* sorted by key (trn_tval_map_seal) */
            size_t n, cap;
        } map;
        struct {
            trn_tmpl_fn *fn;
            void *ctx; /* closure, trn_tmpl_call_ctx(c) */
        } fn;
    } u;
};

struct trn_tkv {
    trn_str_t key;
    trn_tval_t val;
};

/* ---- Building values (strings are borrowed; copy into the arena what
 * does not outlive the execution). */
static inline trn_tval_t trn_tval_nil(void)
{
    trn_tval_t v = {.kind = TRN_TV_NIL};
    return v;
}
static inline trn_tval_t trn_tval_bool(bool b)
{
    trn_tval_t v = {.kind = TRN_TV_BOOL, .u.b = b};
    return v;
}
static inline trn_tval_t trn_tval_int(int64_t i)
{
    trn_tval_t v = {.kind = TRN_TV_INT, .u.i = i};
    return v;
}
static inline trn_tval_t trn_tval_float(double f)
{
    trn_tval_t v = {.kind = TRN_TV_FLOAT, .u.f = f};
    return v;
}
static inline trn_tval_t trn_tval_str(trn_str_t s)
{
    trn_tval_t v = {.kind = TRN_TV_STR, .u.s = s};
    return v;
}
static inline trn_tval_t trn_tval_cstr(const char *s)
{
    return trn_tval_str(trn_str_c(s));
}
static inline trn_tval_t trn_tval_func(trn_tmpl_fn *fn, void *ctx)
{
    trn_tval_t v = {.kind = TRN_TV_FUNC, .u.fn = {fn, ctx}};
    return v;
}
/* An empty list with room for cap items (items appended with _list_push). */
trn_tval_t trn_tval_list(trn_arena_t *a, size_t cap);
/* Appends; grows from the arena. Returns TRN_ELIMIT when the arena is spent. */
int trn_tval_list_push(trn_arena_t *a, trn_tval_t *list, trn_tval_t item);
/* An empty map (flags TRN_TV_STRUCT/TRN_TV_STRMAP) with room for cap keys. */
trn_tval_t trn_tval_map(trn_arena_t *a, size_t cap, unsigned flags);
/* Sets key (replacing an existing one once sealed, appending before). */
int trn_tval_map_put(trn_arena_t *a, trn_tval_t *map, trn_str_t key, trn_tval_t val);
/* Sorts the keys; call once after the puts, before lookups. Later keys win
 * over earlier duplicates. */
void trn_tval_map_seal(trn_tval_t *map);
/* Looks a key up in a sealed map; NULL when absent. */
const trn_tval_t *trn_tval_map_get(const trn_tval_t *map, trn_str_t key);
/* A label set as Alertmanager's KV (map[string]string with the methods
 * SortedPairs, Names, Values, Remove). Strings borrowed. */
int trn_tval_from_labels(trn_arena_t *a, const trn_labels_t *ls, trn_tval_t *out);
/* Go's truthiness: false, 0, nil, empty string/list/map are false. */
bool trn_tval_truth(const trn_tval_t *v);
/* Appends v as text/template prints it ({{ v }}): floats as Go's %v,
 * nil as "<no value>", lists "[a b]", maps "map[k:v]". */
void trn_tval_print(const trn_tval_t *v, trn_buf_t *out);

/* ---- Function calls (for trn_tmpl_fn implementations). */
trn_arena_t *trn_tmpl_call_arena(trn_tmpl_call_t *c);
/* Receiver of a method call, or NULL for a plain function. */
const trn_tval_t *trn_tmpl_call_recv(trn_tmpl_call_t *c);
/* Closure of a callable field, or the env's user ctx for a function. */
void *trn_tmpl_call_ctx(trn_tmpl_call_t *c);
/* Records "wrong number of args for NAME: want [at least ]W got G" at the
 * function's position, as Go does; returns TRN_EINVAL. */
int trn_tmpl_fail_argc(trn_tmpl_call_t *c, size_t want, size_t got, bool at_least);
/* Records "error calling NAME: msg" at the call's position; returns TRN_EINVAL. */
int trn_tmpl_fail(trn_tmpl_call_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Extra functions a caller adds to the built-in set (known at parse time,
 * as Go checks function names when parsing). A table ends with {NULL}. */
typedef struct trn_tmpl_func {
    const char *name;
    trn_tmpl_fn *fn;
} trn_tmpl_func_t;

/* The `query` function's callback: evaluates PromQL expr at t_ms and
 * returns an instant vector as a list of samples built with
 * trn_tmpl_sample (maps with Labels and Value). Errors go to d. */
typedef int trn_tmpl_query_fn(void *ctx, trn_str_t expr, int64_t t_ms, trn_arena_t *a,
                              trn_tval_t *out_list, trn_diag_t *d);
/* One query result sample (struct {Labels, Value}) in the arena. */
int trn_tmpl_sample(trn_arena_t *a, const trn_labels_t *ls, double v, trn_tval_t *out);

/* Execution environment; every field optional. */
typedef struct trn_tmpl_env {
    trn_tmpl_query_fn *query; /* NULL: `query` fails with "no query engine" */
    void *query_ctx;
    int64_t now_ms;           /* `now` and the query time */
    const char *external_url; /* `externalURL`, `pathPrefix` */
    void *user_ctx;           /* trn_tmpl_call_ctx for the extra functions */
    size_t max_output_bytes;  /* 0: 1 MiB */
    uint64_t max_steps;       /* evaluation steps before TRN_ELIMIT; 0: 1e7 */
} trn_tmpl_env_t;

/* A parsed template set: the main template plus its {{define}}s. */
typedef struct trn_tmpl trn_tmpl_t;

/* Parses text as template `name`; the set and its nodes live in a (which
 * must outlive it); text is copied. extra may be NULL. Errors carry Go's
 * message shape ("template: NAME:LINE: ...") and line/col/offset. */
int trn_tmpl_parse(trn_arena_t *a, const char *name, const char *text, size_t len,
                   const trn_tmpl_func_t *extra, trn_tmpl_t **out, trn_diag_t *d);
/* Parses more text into an existing set (Alertmanager template files):
 * its defines are added; its top-level text is ignored. */
int trn_tmpl_parse_more(trn_tmpl_t *t, const char *name, const char *text, size_t len,
                        trn_diag_t *d);
/* True if the set has a template of that name. */
bool trn_tmpl_has(const trn_tmpl_t *t, const char *name);
/* Executes template name (NULL: the main one) with dot = data, appending
 * to out. Scratch values come from a. Errors: TRN_EINVAL for execution
 * errors ("template: NAME:LINE:COL: executing ..."), TRN_ELIMIT for
 * output, step or arena budgets. out may hold partial output on error.
 * Thread-safe for distinct a/out. */
int trn_tmpl_exec(const trn_tmpl_t *t, const char *name, const trn_tval_t *data,
                  const trn_tmpl_env_t *env, trn_arena_t *a, trn_buf_t *out, trn_diag_t *d);
/* Convenience: parse and execute one text with a fresh arena (tests, check-config). */
int trn_tmpl_expand(const char *name, const char *text, const trn_tval_t *data,
                    const trn_tmpl_env_t *env, trn_buf_t *out, trn_diag_t *d);

/* Prometheus's humanize family, exposed for other formatters. Each appends
 * to out exactly as Prometheus's template functions do. */
void trn_humanize(double v, trn_buf_t *out);
void trn_humanize1024(double v, trn_buf_t *out);
void trn_humanize_duration(double v, trn_buf_t *out);
void trn_humanize_percentage(double v, trn_buf_t *out);
/* Returns TRN_EINVAL when v does not fit an int64 nanosecond timestamp. */
int trn_humanize_timestamp(double v, trn_buf_t *out);

#endif
