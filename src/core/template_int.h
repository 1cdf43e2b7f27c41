/* SPDX-License-Identifier: Apache-2.0 */
/* Internals shared by template_parse.c, template_exec.c and
 * template_funcs.c: the syntax tree and the built-in function table.
 * Nothing outside src/core/template*.c includes this. */
#ifndef TRN_CORE_TEMPLATE_INT_H
#define TRN_CORE_TEMPLATE_INT_H

#include "core/template.h"

/* Operand kinds. */
typedef enum {
    TA_DOT,
    TA_NIL,
    TA_BOOL,
    TA_INT,
    TA_FLOAT,
    TA_STR,
    TA_FIELD, /* .A.B applied to dot */
    TA_VAR,   /* $x.A.B */
    TA_FUNC,  /* identifier naming a function */
    TA_PIPE,  /* (pipeline).A.B */
} targ_kind_t;

typedef struct tpipe tpipe_t;

typedef struct targ {
    targ_kind_t kind;
    int pos, end; /* byte range in the source */
    bool b;
    int64_t i;
    double f;
    trn_str_t s;             /* string constant, variable or function name */
    const trn_str_t *fields; /* trailing field chain */
    size_t n_fields;
    tpipe_t *pipe;
    trn_tmpl_fn *fn; /* TA_FUNC, resolved at parse time */
    bool is_and_or;  /* and/or: arguments evaluated lazily */
    bool is_or;
} targ_t;

typedef struct tcmd {
    targ_t *args;
    size_t n;
    int pos, end;
} tcmd_t;

struct tpipe {
    trn_str_t vars[2];
    int n_vars;
    bool is_assign; /* `=` instead of `:=` */
    tcmd_t *cmds;
    size_t n;
    int pos, end;
};

typedef enum {
    TN_TEXT,
    TN_ACTION,
    TN_IF,
    TN_RANGE,
    TN_WITH,
    TN_TEMPLATE,
    TN_BREAK,
    TN_CONTINUE,
} tnode_kind_t;

typedef struct tnode tnode_t;
typedef struct tlist {
    tnode_t **v;
    size_t n, cap;
} tlist_t;

struct tnode {
    tnode_kind_t kind;
    int pos;
    trn_str_t text; /* TN_TEXT; TN_TEMPLATE: the called name */
    tpipe_t *pipe;  /* action, if/range/with condition, template argument */
    tlist_t *list, *else_list;
};

typedef struct tdef {
    trn_str_t name;
    tlist_t *root;
    const char *src; /* the source text this define came from */
    const char *src_name;
} tdef_t;

struct trn_tmpl {
    trn_arena_t *a;
    const char *name; /* main template */
    const trn_tmpl_func_t *extra;
    tdef_t *defs;
    size_t n_defs, cap_defs;
};

/* Built-in function lookup (template_funcs.c); NULL when unknown. */
trn_tmpl_fn *trn__tmpl_builtin(trn_str_t name);
/* Finds a define by name. */
const tdef_t *trn__tmpl_find(const trn_tmpl_t *t, trn_str_t name);
/* The env of a call (for query/now/externalURL). */
const trn_tmpl_env_t *trn__tmpl_call_env(trn_tmpl_call_t *c);
/* Go's fmt.Sprintf over template values (printf); bad verbs and missing
 * operands render as Go renders them ("%!d(string=x)", "%!s(MISSING)"). */
void trn__tmpl_sprintf(trn_str_t fmt, const trn_tval_t *args, size_t n, trn_buf_t *out);
/* Go's fmt.Sprint / Sprintln. */
void trn__tmpl_sprint(const trn_tval_t *args, size_t n, bool ln, trn_buf_t *out);
/* fmt's %v of an operand (nested nil as "<nil>"). */
void trn__tmpl_print_v(const trn_tval_t *v, trn_buf_t *out);
/* Go type name for messages ("string", "float64", "map[string]string"). */
const char *trn__tmpl_type_name(const trn_tval_t *v);

#endif
