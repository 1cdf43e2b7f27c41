/* SPDX-License-Identifier: Apache-2.0 */
/* Template executor: walks the tree of template_int.h over trn_tval_t
 * data, with Go text/template's semantics.
 *
 * Dot starts as the data and changes inside range and with; `$` is the
 * data (or, in a called template, the argument). Variables live on one
 * stack; control structures remember its height and cut back to it on the
 * way out, which gives Go's scoping without a scope object per block.
 * A command whose first word is a function calls it with the other words
 * and, in a pipeline, the previous stage's value as the last argument; a
 * field chain applies those arguments to its last field (a method or a
 * callable field); anything else with arguments is an error. Field lookup
 * tries the value's method table first, then map keys: a missing key reads
 * as nil (printed "<no value>", Prometheus's missingkey=zero), as "" for a
 * string map (labels), and is an error on a struct.
 *
 * Errors read like Go's ("template: NAME:LINE:COL: executing \"NAME\" at
 * <SRC>: MSG", column 0-based as Go prints it) and fill the diag's
 * position. Budgets: output bytes, evaluation steps (so `range` over a
 * huge integer terminates), call depth for {{template}} recursion, and
 * the scratch arena. */
#include "core/template_int.h"

#include "core/err.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define TMPL_MAX_CALL_DEPTH 100

typedef struct xvar {
    trn_str_t name;
    trn_tval_t val;
} xvar_t;

typedef enum { CTL_NONE, CTL_BREAK, CTL_CONTINUE } ctl_t;

typedef struct exec {
    const trn_tmpl_t *t;
    const trn_tmpl_env_t *env;
    trn_arena_t *a;
    trn_buf_t *out;
    size_t out_start, out_limit;
    trn_diag_t *d;
    uint64_t steps, max_steps;
    int depth;
    xvar_t *vars;
    size_t n_vars, cap_vars;
    size_t vbase;      /* first variable visible in the current template */
    const tdef_t *def; /* template being executed, for messages */
    ctl_t ctl;
    bool failed;
} exec_t;

struct trn_tmpl_call {
    exec_t *x;
    trn_str_t name;
    int pos, end;   /* the command, which "error calling" messages quote */
    int fpos, fend; /* the function's name, which argument-count messages quote */
    const trn_tval_t *recv;
    void *ctx;
};

/* ---- errors */

static int verr_at(exec_t *x, int code, int pos, const char *at, int at_len, const char *fmt,
                   va_list ap);

static int verr(exec_t *x, int code, int pos, int end, const char *fmt, va_list ap)
{
    const char *src = x->def ? x->def->src : NULL;
    int n = end - pos;
    if (n < 0 || !src) n = 0;
    if (n > 80) n = 80;
    return verr_at(x, code, pos, src ? src + pos : "", n, fmt, ap);
}

/* at/at_len: the text shown in <...> (Go prints the node there). */
static int verr_at(exec_t *x, int code, int pos, const char *at, int at_len, const char *fmt,
                   va_list ap)
{
    if (x->failed) return x->d && x->d->code ? x->d->code : code;
    x->failed = true;
    char msg[TRN_DIAG_MSG_MAX];
    vsnprintf(msg, sizeof msg, fmt, ap);
    const char *src = x->def ? x->def->src : NULL;
    int line = 1, col0 = 0;
    if (src) {
        for (int i = 0; i < pos && src[i]; i++) {
            if (src[i] == '\n') {
                line++;
                col0 = 0;
            } else {
                col0++;
            }
        }
    }
    const char *pname = x->def && x->def->src_name ? x->def->src_name : x->t->name;
    int dn = x->def ? (int)x->def->name.len : 0;
    const char *dp = x->def ? x->def->name.p : "";
    trn_diag_set_at(x->d, code, line, col0 + 1,
                    "template: %s:%d:%d: executing \"%.*s\" at <%.*s>: %s", pname, line, col0, dn,
                    dp, at_len, at, msg);
    if (x->d) x->d->offset = pos;
    return code;
}

static int xerr(exec_t *x, int pos, int end, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int xerr(exec_t *x, int pos, int end, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = verr(x, TRN_EINVAL, pos, end, fmt, ap);
    va_end(ap);
    return rc;
}

static int xerr_at(exec_t *x, int pos, const char *at, int at_len, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int xerr_at(exec_t *x, int pos, const char *at, int at_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = verr_at(x, TRN_EINVAL, pos, at, at_len, fmt, ap);
    va_end(ap);
    return rc;
}

static int xlimit(exec_t *x, int pos, const char *what)
{
    if (x->failed) return TRN_ELIMIT;
    x->failed = true;
    trn_diag_set(x->d, TRN_ELIMIT, pos, "template: %s: %s limit exceeded", x->t->name, what);
    return TRN_ELIMIT;
}

static int step(exec_t *x, int pos)
{
    if (++x->steps > x->max_steps) return xlimit(x, pos, "evaluation step");
    if (trn_arena_failed(x->a)) return xlimit(x, pos, "memory");
    return 0;
}

/* ---- calls (the API functions see trn_tmpl_call_t) */

trn_arena_t *trn_tmpl_call_arena(trn_tmpl_call_t *c)
{
    return c->x->a;
}

const trn_tval_t *trn_tmpl_call_recv(trn_tmpl_call_t *c)
{
    return c->recv;
}

void *trn_tmpl_call_ctx(trn_tmpl_call_t *c)
{
    return c->ctx;
}

const trn_tmpl_env_t *trn__tmpl_call_env(trn_tmpl_call_t *c)
{
    return c->x->env;
}

int trn_tmpl_fail_argc(trn_tmpl_call_t *c, size_t want, size_t got, bool at_least)
{
    return xerr(c->x, c->fpos, c->fend, "wrong number of args for %.*s: want %s%zu got %zu",
                (int)c->name.len, c->name.p, at_least ? "at least " : "", want, got);
}

int trn_tmpl_fail(trn_tmpl_call_t *c, const char *fmt, ...)
{
    char msg[TRN_DIAG_MSG_MAX - 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return xerr(c->x, c->pos, c->end, "error calling %.*s: %s", (int)c->name.len, c->name.p, msg);
}

static int call_at(exec_t *x, trn_tmpl_fn *fn, trn_str_t name, int pos, int end, int fpos, int fend,
                   const trn_tval_t *recv, void *ctx, const trn_tval_t *args, size_t n,
                   trn_tval_t *out);

static int call(exec_t *x, trn_tmpl_fn *fn, trn_str_t name, int pos, int end,
                const trn_tval_t *recv, void *ctx, const trn_tval_t *args, size_t n,
                trn_tval_t *out)
{
    return call_at(x, fn, name, pos, end, pos, end, recv, ctx, args, n, out);
}

static int call_at(exec_t *x, trn_tmpl_fn *fn, trn_str_t name, int pos, int end, int fpos, int fend,
                   const trn_tval_t *recv, void *ctx, const trn_tval_t *args, size_t n,
                   trn_tval_t *out)
{
    trn_tmpl_call_t c = {.x = x,
                         .name = name,
                         .pos = pos,
                         .end = end,
                         .fpos = fpos,
                         .fend = fend,
                         .recv = recv,
                         .ctx = ctx};
    *out = trn_tval_nil();
    int rc = fn(&c, args, n, out);
    if (rc < 0) {
        if (!x->failed) {
            if (rc == TRN_ELIMIT) return xlimit(x, pos, "memory");
            return xerr(x, pos, end, "error calling %.*s: failed", (int)name.len, name.p);
        }
        return rc;
    }
    if (trn_arena_failed(x->a)) return xlimit(x, pos, "memory");
    return 0;
}

/* ---- variables */

static int var_push(exec_t *x, trn_str_t name, trn_tval_t v)
{
    if (x->n_vars == x->cap_vars) {
        size_t nc = x->cap_vars ? x->cap_vars * 2 : 16;
        xvar_t *g = trn_arena_grow(x->a, x->vars, x->cap_vars * sizeof *g, nc * sizeof *g);
        if (!g) return xlimit(x, 0, "memory");
        x->vars = g;
        x->cap_vars = nc;
    }
    x->vars[x->n_vars++] = (xvar_t){name, v};
    return 0;
}

static xvar_t *var_find(exec_t *x, trn_str_t name)
{
    for (size_t i = x->n_vars; i-- > x->vbase;)
        if (trn_str_eq(x->vars[i].name, name)) return &x->vars[i];
    return NULL;
}

/* ---- evaluation */

static int eval_pipeline(exec_t *x, const tpipe_t *p, const trn_tval_t *dot, bool decl,
                         trn_tval_t *out);

static int eval_field(exec_t *x, const targ_t *at, const trn_tval_t *recv, trn_str_t name,
                      const trn_tval_t *args, size_t n, bool has_args, trn_tval_t *out)
{
    if (step(x, at->pos) < 0) return TRN_ELIMIT;
    if (recv->methods) {
        for (const trn_tmethod_t *m = recv->methods; m->name; m++)
            if (trn_str_eqc(name, m->name))
                return call(x, m->fn, name, at->pos, at->end, recv, NULL, args, n, out);
    }
    if (recv->kind == TRN_TV_MAP) {
        const trn_tval_t *v = trn_tval_map_get(recv, name);
        if (v && v->kind == TRN_TV_FUNC)
            return call(x, v->u.fn.fn, name, at->pos, at->end, recv, v->u.fn.ctx, args, n, out);
        if (has_args)
            return xerr(x, at->pos, at->end, "%.*s is not a method but has arguments",
                        (int)name.len, name.p);
        if (v) {
            *out = *v;
            return 0;
        }
        if (recv->flags & TRN_TV_STRUCT)
            return xerr(x, at->pos, at->end, "can't evaluate field %.*s in type %s", (int)name.len,
                        name.p, trn__tmpl_type_name(recv));
        *out = (recv->flags & TRN_TV_STRMAP) ? trn_tval_str(TRN_STR("")) : trn_tval_nil();
        return 0;
    }
    if (recv->kind == TRN_TV_NIL) {
        *out = trn_tval_nil();
        return 0;
    }
    return xerr(x, at->pos, at->end, "can't evaluate field %.*s in type %s", (int)name.len, name.p,
                trn__tmpl_type_name(recv));
}

/* Applies at's field chain to v; args go to the last field. */
static int eval_chain(exec_t *x, const targ_t *at, trn_tval_t v, const trn_tval_t *args, size_t n,
                      bool has_args, trn_tval_t *out)
{
    for (size_t i = 0; i < at->n_fields; i++) {
        bool last = i + 1 == at->n_fields;
        trn_tval_t next;
        int rc = eval_field(x, at, &v, at->fields[i], last ? args : NULL, last ? n : 0,
                            last && has_args, &next);
        if (rc < 0) return rc;
        v = next;
    }
    *out = v;
    return 0;
}

static int eval_arg(exec_t *x, const targ_t *at, const trn_tval_t *dot, trn_tval_t *out);

/* pos/end: the command's source range, which errors quote. */
static int eval_function(exec_t *x, const targ_t *fa, const targ_t *args, size_t n,
                         const trn_tval_t *final, const trn_tval_t *dot, int pos, int end,
                         trn_tval_t *out)
{
    size_t total = n + (final ? 1 : 0);
    if (fa->is_and_or) {
        /* and/or evaluate lazily and return an argument, as Go 1.18+ */
        if (total == 0)
            return xerr(x, fa->pos, fa->end, "wrong number of args for %.*s: want at least 1 got 0",
                        (int)fa->s.len, fa->s.p);
        trn_tval_t v = trn_tval_nil();
        for (size_t i = 0; i < total; i++) {
            if (i < n) {
                int rc = eval_arg(x, &args[i], dot, &v);
                if (rc < 0) return rc;
            } else {
                v = *final;
            }
            bool t = trn_tval_truth(&v);
            if (fa->is_or ? t : !t) break;
        }
        *out = v;
        return 0;
    }
    trn_tval_t *vals = total ? trn_arena_alloc(x->a, total * sizeof *vals) : NULL;
    if (total && !vals) return xlimit(x, fa->pos, "memory");
    for (size_t i = 0; i < n; i++) {
        int rc = eval_arg(x, &args[i], dot, &vals[i]);
        if (rc < 0) return rc;
    }
    if (final) vals[n] = *final;
    return call_at(x, fa->fn, fa->s, pos, end, fa->pos, fa->end, NULL, x->env->user_ctx, vals,
                   total, out);
}

static int eval_arg(exec_t *x, const targ_t *at, const trn_tval_t *dot, trn_tval_t *out)
{
    if (step(x, at->pos) < 0) return TRN_ELIMIT;
    switch (at->kind) {
    case TA_DOT:
        *out = *dot;
        return 0;
    case TA_NIL:
        *out = trn_tval_nil();
        return 0;
    case TA_BOOL:
        *out = trn_tval_bool(at->b);
        return 0;
    case TA_INT:
        *out = trn_tval_int(at->i);
        return 0;
    case TA_FLOAT:
        *out = trn_tval_float(at->f);
        return 0;
    case TA_STR:
        *out = trn_tval_str(at->s);
        return 0;
    case TA_FIELD:
        return eval_chain(x, at, *dot, NULL, 0, false, out);
    case TA_VAR: {
        xvar_t *v = var_find(x, at->s);
        if (!v)
            return xerr(x, at->pos, at->end, "undefined variable: %.*s", (int)at->s.len, at->s.p);
        return eval_chain(x, at, v->val, NULL, 0, false, out);
    }
    case TA_FUNC:
        return eval_function(x, at, NULL, 0, NULL, dot, at->pos, at->end, out);
    case TA_PIPE: {
        trn_tval_t v;
        int rc = eval_pipeline(x, at->pipe, dot, false, &v);
        if (rc < 0) return rc;
        return eval_chain(x, at, v, NULL, 0, false, out);
    }
    }
    return xerr(x, at->pos, at->end, "can't handle operand");
}

static int eval_command(exec_t *x, const tcmd_t *cmd, const trn_tval_t *dot,
                        const trn_tval_t *final, trn_tval_t *out)
{
    const targ_t *first = &cmd->args[0];
    size_t n = cmd->n - 1;
    if (first->kind == TA_NIL) return xerr(x, first->pos, first->end, "nil is not a command");
    const targ_t *rest = cmd->args + 1;
    if (first->kind == TA_FUNC)
        return eval_function(x, first, rest, n, final, dot, cmd->pos, cmd->end, out);
    bool has_args = n > 0 || final;
    bool chain = first->n_fields > 0;
    if (has_args && !chain) {
        return xerr(x, first->pos, first->end, "can't give argument to non-function %.*s",
                    first->end - first->pos, x->def && x->def->src ? x->def->src + first->pos : "");
    }
    trn_tval_t base;
    int rc;
    switch (first->kind) {
    case TA_FIELD:
        base = *dot;
        break;
    case TA_VAR: {
        xvar_t *v = var_find(x, first->s);
        if (!v)
            return xerr(x, first->pos, first->end, "undefined variable: %.*s", (int)first->s.len,
                        first->s.p);
        base = v->val;
        break;
    }
    case TA_PIPE:
        rc = eval_pipeline(x, first->pipe, dot, false, &base);
        if (rc < 0) return rc;
        break;
    default:
        return eval_arg(x, first, dot, out);
    }
    if (!chain) {
        *out = base;
        return 0;
    }
    size_t total = n + (final ? 1 : 0);
    trn_tval_t *vals = total ? trn_arena_alloc(x->a, total * sizeof *vals) : NULL;
    if (total && !vals) return xlimit(x, first->pos, "memory");
    for (size_t i = 0; i < n; i++) {
        rc = eval_arg(x, &rest[i], dot, &vals[i]);
        if (rc < 0) return rc;
    }
    if (final) vals[n] = *final;
    return eval_chain(x, first, base, vals, total, has_args, out);
}

static int eval_pipeline(exec_t *x, const tpipe_t *p, const trn_tval_t *dot, bool decl,
                         trn_tval_t *out)
{
    trn_tval_t v = trn_tval_nil();
    for (size_t i = 0; i < p->n; i++) {
        trn_tval_t nv;
        int rc = eval_command(x, &p->cmds[i], dot, i ? &v : NULL, &nv);
        if (rc < 0) return rc;
        v = nv;
    }
    if (decl) {
        for (int i = 0; i < p->n_vars; i++) {
            if (p->is_assign) {
                xvar_t *xv = var_find(x, p->vars[i]);
                if (!xv)
                    return xerr(x, p->pos, p->end, "undefined variable: %.*s", (int)p->vars[i].len,
                                p->vars[i].p);
                xv->val = v;
            } else if (var_push(x, p->vars[i], v) < 0) {
                return TRN_ELIMIT;
            }
        }
    }
    *out = v;
    return 0;
}

static int walk_list(exec_t *x, const tlist_t *l, const trn_tval_t *dot);

static int emit(exec_t *x, const trn_tval_t *v, int pos)
{
    trn_tval_print(v, x->out);
    if (x->out->len - x->out_start > x->out_limit) return xlimit(x, pos, "output size");
    return 0;
}

static int range_iter(exec_t *x, const tnode_t *n, trn_tval_t key, const trn_tval_t *elem)
{
    size_t mark = x->n_vars;
    const tpipe_t *p = n->pipe;
    if (p->n_vars > 0) {
        trn_tval_t v1 = p->n_vars == 2 ? key : *elem;
        for (int i = 0; i < p->n_vars; i++) {
            trn_tval_t v = i == 0 ? v1 : *elem;
            if (p->is_assign) {
                xvar_t *xv = var_find(x, p->vars[i]);
                if (xv) xv->val = v;
            } else if (var_push(x, p->vars[i], v) < 0) {
                return TRN_ELIMIT;
            }
        }
    }
    int rc = walk_list(x, n->list, elem);
    x->n_vars = mark;
    return rc;
}

static int walk_range(exec_t *x, const tnode_t *n, const trn_tval_t *dot)
{
    trn_tval_t v;
    int rc = eval_pipeline(x, n->pipe, dot, false, &v);
    if (rc < 0) return rc;
    size_t count = 0;
    switch (v.kind) {
    case TRN_TV_LIST:
        for (size_t i = 0; i < v.u.list.n; i++, count++) {
            rc = range_iter(x, n, trn_tval_int((int64_t)i), &v.u.list.v[i]);
            if (rc < 0) return rc;
            if (x->ctl == CTL_BREAK) break;
            x->ctl = CTL_NONE;
        }
        break;
    case TRN_TV_MAP:
        for (size_t i = 0; i < v.u.map.n; i++, count++) {
            rc = range_iter(x, n, trn_tval_str(v.u.map.kv[i].key), &v.u.map.kv[i].val);
            if (rc < 0) return rc;
            if (x->ctl == CTL_BREAK) break;
            x->ctl = CTL_NONE;
        }
        break;
    case TRN_TV_INT:
        for (int64_t i = 0; i < v.u.i; i++, count++) {
            trn_tval_t e = trn_tval_int(i);
            rc = range_iter(x, n, e, &e);
            if (rc < 0) return rc;
            if (x->ctl == CTL_BREAK) break;
            x->ctl = CTL_NONE;
        }
        break;
    case TRN_TV_NIL:
        break;
    default: {
        trn_buf_t b; /* Go prints the value itself */
        trn_buf_init(&b);
        trn__tmpl_print_v(&v, &b);
        rc = xerr(x, n->pipe->pos, n->pipe->end, "range can't iterate over %.200s",
                  b.data ? b.data : "");
        trn_buf_fini(&b);
        return rc;
    }
    }
    x->ctl = CTL_NONE;
    if (count == 0 && n->else_list) return walk_list(x, n->else_list, dot);
    return 0;
}

static int walk_node(exec_t *x, const tnode_t *n, const trn_tval_t *dot)
{
    if (step(x, n->pos) < 0) return TRN_ELIMIT;
    switch (n->kind) {
    case TN_TEXT:
        trn_buf_append(x->out, n->text.p, n->text.len);
        if (x->out->len - x->out_start > x->out_limit) return xlimit(x, n->pos, "output size");
        return 0;
    case TN_ACTION: {
        trn_tval_t v;
        int rc = eval_pipeline(x, n->pipe, dot, true, &v);
        if (rc < 0) return rc;
        if (n->pipe->n_vars == 0) return emit(x, &v, n->pos);
        return 0;
    }
    case TN_IF:
    case TN_WITH: {
        size_t mark = x->n_vars;
        trn_tval_t v;
        int rc = eval_pipeline(x, n->pipe, dot, true, &v);
        if (rc < 0) return rc;
        if (trn_tval_truth(&v))
            rc = walk_list(x, n->list, n->kind == TN_WITH ? &v : dot);
        else if (n->else_list)
            rc = walk_list(x, n->else_list, dot);
        x->n_vars = mark;
        return rc;
    }
    case TN_RANGE: {
        size_t mark = x->n_vars;
        int rc = walk_range(x, n, dot);
        x->n_vars = mark;
        return rc;
    }
    case TN_TEMPLATE: {
        const tdef_t *def = trn__tmpl_find(x->t, n->text);
        if (!def) {
            char at[160];
            int al = snprintf(at, sizeof at, "{{template \"%.*s\"}}",
                              (int)(n->text.len > 100 ? 100 : n->text.len), n->text.p);
            return xerr_at(x, n->pos, at, al < (int)sizeof at ? al : (int)sizeof at - 1,
                           "template \"%.*s\" not defined", (int)n->text.len, n->text.p);
        }
        trn_tval_t arg = trn_tval_nil();
        if (n->pipe) {
            int rc = eval_pipeline(x, n->pipe, dot, false, &arg);
            if (rc < 0) return rc;
        }
        if (++x->depth > TMPL_MAX_CALL_DEPTH) return xlimit(x, n->pos, "template call depth");
        /* the callee sees only its own $, not the caller's variables */
        size_t mark = x->n_vars, saved_base = x->vbase;
        const tdef_t *saved = x->def;
        x->vbase = x->n_vars;
        if (var_push(x, TRN_STR("$"), arg) < 0) return TRN_ELIMIT;
        x->def = def;
        int rc = walk_list(x, def->root, &arg);
        x->def = saved;
        x->vbase = saved_base;
        x->n_vars = mark;
        x->depth--;
        return rc;
    }
    case TN_BREAK:
        x->ctl = CTL_BREAK;
        return 0;
    case TN_CONTINUE:
        x->ctl = CTL_CONTINUE;
        return 0;
    }
    return 0;
}

static int walk_list(exec_t *x, const tlist_t *l, const trn_tval_t *dot)
{
    for (size_t i = 0; i < l->n; i++) {
        int rc = walk_node(x, l->v[i], dot);
        if (rc < 0) return rc;
        if (x->ctl != CTL_NONE) return 0;
    }
    return 0;
}

int trn_tmpl_exec(const trn_tmpl_t *t, const char *name, const trn_tval_t *data,
                  const trn_tmpl_env_t *env, trn_arena_t *a, trn_buf_t *out, trn_diag_t *d)
{
    static const trn_tmpl_env_t no_env;
    const char *nm = name ? name : t->name;
    const tdef_t *def = trn__tmpl_find(t, trn_str_c(nm));
    if (!def)
        return trn_diag_set(d, TRN_EINVAL, -1,
                            "template: no template \"%s\" associated with template \"%s\"", nm,
                            t->name);
    trn_tval_t nil = trn_tval_nil();
    if (!data) data = &nil;
    exec_t x = {.t = t,
                .env = env ? env : &no_env,
                .a = a,
                .out = out,
                .out_start = out->len,
                .d = d,
                .def = def};
    x.out_limit = x.env->max_output_bytes ? x.env->max_output_bytes : (size_t)1 << 20;
    x.max_steps = x.env->max_steps ? x.env->max_steps : 10000000;
    if (var_push(&x, TRN_STR("$"), *data) < 0) return TRN_ELIMIT;
    return walk_list(&x, def->root, data);
}

int trn_tmpl_expand(const char *name, const char *text, const trn_tval_t *data,
                    const trn_tmpl_env_t *env, trn_buf_t *out, trn_diag_t *d)
{
    trn_arena_t *a = trn_arena_new(64u << 20);
    trn_tmpl_t *t;
    int rc = trn_tmpl_parse(a, name, text, strlen(text), NULL, &t, d);
    if (rc == 0) rc = trn_tmpl_exec(t, NULL, data, env, a, out, d);
    trn_arena_free(a);
    return rc;
}
