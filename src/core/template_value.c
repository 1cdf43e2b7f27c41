/* SPDX-License-Identifier: Apache-2.0 */
/* Template values: building them (lists, sorted maps, label sets as
 * Alertmanager's KV with its methods, query samples), Go's truthiness, and
 * printing them the way text/template and fmt's %v do.
 *
 * Maps keep their keys in an array that is sorted once (trn_tval_map_seal)
 * and then searched by bisection; range walks it in key order, which is
 * Go's order for map iteration in templates. Printing follows fmt: floats
 * in the shortest form with Go's %v exponent rule, nil at the top level as
 * "<no value>" (text/template) and nested as "<nil>" (fmt), lists as
 * "[a b]", maps as "map[k:v]", structs as "{v1 v2}". */
#include "core/template_int.h"

#include "core/err.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

trn_tval_t trn_tval_list(trn_arena_t *a, size_t cap)
{
    trn_tval_t v = {.kind = TRN_TV_LIST};
    if (cap) {
        v.u.list.v = trn_arena_alloc(a, cap * sizeof *v.u.list.v);
        if (v.u.list.v) v.u.list.cap = cap;
    }
    return v;
}

int trn_tval_list_push(trn_arena_t *a, trn_tval_t *list, trn_tval_t item)
{
    if (list->u.list.n == list->u.list.cap) {
        size_t nc = list->u.list.cap ? list->u.list.cap * 2 : 4;
        trn_tval_t *g =
            trn_arena_grow(a, list->u.list.v, list->u.list.n * sizeof *g, nc * sizeof *g);
        if (!g) return TRN_ELIMIT;
        list->u.list.v = g;
        list->u.list.cap = nc;
    }
    list->u.list.v[list->u.list.n++] = item;
    return 0;
}

trn_tval_t trn_tval_map(trn_arena_t *a, size_t cap, unsigned flags)
{
    trn_tval_t v = {.kind = TRN_TV_MAP, .flags = flags};
    if (cap) {
        v.u.map.kv = trn_arena_alloc(a, cap * sizeof *v.u.map.kv);
        if (v.u.map.kv) v.u.map.cap = cap;
    }
    return v;
}

int trn_tval_map_put(trn_arena_t *a, trn_tval_t *map, trn_str_t key, trn_tval_t val)
{
    if (map->u.map.n == map->u.map.cap) {
        size_t nc = map->u.map.cap ? map->u.map.cap * 2 : 4;
        trn_tkv_t *g = trn_arena_grow(a, map->u.map.kv, map->u.map.cap * sizeof *g, nc * sizeof *g);
        if (!g) return TRN_ELIMIT;
        map->u.map.kv = g;
        map->u.map.cap = nc;
    }
    map->u.map.kv[map->u.map.n++] = (trn_tkv_t){key, val};
    return 0;
}

static int kv_cmp(const void *pa, const void *pb)
{
    const trn_tkv_t *a = pa, *b = pb;
    int c = trn_str_cmp(a->key, b->key);
    if (c) return c;
    return a < b ? -1 : a > b; /* stable: keeps insertion order among duplicates */
}

void trn_tval_map_seal(trn_tval_t *map)
{
    size_t n = map->u.map.n;
    if (n < 2) return;
    qsort(map->u.map.kv, n, sizeof *map->u.map.kv, kv_cmp);
    /* drop earlier duplicates: the later put wins */
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && trn_str_eq(map->u.map.kv[i].key, map->u.map.kv[i + 1].key)) continue;
        map->u.map.kv[w++] = map->u.map.kv[i];
    }
    map->u.map.n = w;
}

const trn_tval_t *trn_tval_map_get(const trn_tval_t *map, trn_str_t key)
{
    if (map->kind != TRN_TV_MAP) return NULL;
    size_t lo = 0, hi = map->u.map.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = trn_str_cmp(map->u.map.kv[mid].key, key);
        if (c == 0) return &map->u.map.kv[mid].val;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ---- Alertmanager's KV and Pairs methods */

static int kv_names_values(trn_tmpl_call_t *c, bool names, trn_tval_t *out)
{
    const trn_tval_t *r = trn_tmpl_call_recv(c);
    trn_arena_t *a = trn_tmpl_call_arena(c);
    trn_tval_t l = trn_tval_list(a, r->u.map.n);
    /* Alertmanager's KV.Names/Values follow SortedPairs: alertname first */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < r->u.map.n; i++) {
            const trn_tkv_t *kv = &r->u.map.kv[i];
            if ((pass == 0) != trn_str_eqc(kv->key, "alertname")) continue;
            trn_tval_t item = names ? trn_tval_str(kv->key) : kv->val;
            if (trn_tval_list_push(a, &l, item) < 0) return TRN_ELIMIT;
        }
    }
    *out = l;
    return 0;
}

static int m_names(trn_tmpl_call_t *c, const trn_tval_t *args, size_t n, trn_tval_t *out)
{
    (void)args;
    if (n) return trn_tmpl_fail_argc(c, 0, n, false);
    return kv_names_values(c, true, out);
}

static int m_values(trn_tmpl_call_t *c, const trn_tval_t *args, size_t n, trn_tval_t *out)
{
    (void)args;
    if (n) return trn_tmpl_fail_argc(c, 0, n, false);
    return kv_names_values(c, false, out);
}

static int pairs_names_values(trn_tmpl_call_t *c, bool names, trn_tval_t *out);

static int p_names(trn_tmpl_call_t *c, const trn_tval_t *args, size_t n, trn_tval_t *out)
{
    (void)args;
    if (n) return trn_tmpl_fail_argc(c, 0, n, false);
    return pairs_names_values(c, true, out);
}

static int p_values(trn_tmpl_call_t *c, const trn_tval_t *args, size_t n, trn_tval_t *out)
{
    (void)args;
    if (n) return trn_tmpl_fail_argc(c, 0, n, false);
    return pairs_names_values(c, false, out);
}

/* Pairs is a list of {Name, Value} structs in label order. */
static const trn_tmethod_t pairs_methods[] = {
    {"Names", p_names},
    {"Values", p_values},
    {NULL, NULL},
};

static int m_sorted_pairs(trn_tmpl_call_t *c, const trn_tval_t *args, size_t n, trn_tval_t *out)
{
    (void)args;
    if (n) return trn_tmpl_fail_argc(c, 0, n, false);
    const trn_tval_t *r = trn_tmpl_call_recv(c);
    trn_arena_t *a = trn_tmpl_call_arena(c);
    /* Alertmanager sorts by name, but puts alertname first */
    trn_tval_t l = trn_tval_list(a, r->u.map.n);
    const trn_tval_t *an = trn_tval_map_get(r, TRN_STR("alertname"));
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < r->u.map.n; i++) {
            bool is_an = trn_str_eqc(r->u.map.kv[i].key, "alertname");
            if ((pass == 0) != is_an || (pass == 0 && !an)) continue;
            trn_tval_t p = trn_tval_map(a, 2, TRN_TV_STRUCT);
            p.type_name = "template.Pair";
            if (trn_tval_map_put(a, &p, TRN_STR("Name"), trn_tval_str(r->u.map.kv[i].key)) < 0 ||
                trn_tval_map_put(a, &p, TRN_STR("Value"), r->u.map.kv[i].val) < 0)
                return TRN_ELIMIT;
            trn_tval_map_seal(&p);
            if (trn_tval_list_push(a, &l, p) < 0) return TRN_ELIMIT;
        }
    }
    l.methods = pairs_methods;
    l.type_name = "template.Pairs";
    *out = l;
    return 0;
}

static int m_remove(trn_tmpl_call_t *c, const trn_tval_t *args, size_t n, trn_tval_t *out);

static const trn_tmethod_t kv_methods[] = {
    {"SortedPairs", m_sorted_pairs},
    {"Names", m_names},
    {"Values", m_values},
    {"Remove", m_remove},
    {NULL, NULL},
};

static int m_remove(trn_tmpl_call_t *c, const trn_tval_t *args, size_t n, trn_tval_t *out)
{
    if (n != 1 || args[0].kind != TRN_TV_LIST)
        return trn_tmpl_fail(c, "Remove wants one list of names");
    const trn_tval_t *r = trn_tmpl_call_recv(c);
    trn_arena_t *a = trn_tmpl_call_arena(c);
    trn_tval_t m = trn_tval_map(a, r->u.map.n, r->flags);
    for (size_t i = 0; i < r->u.map.n; i++) {
        bool drop = false;
        for (size_t j = 0; j < args[0].u.list.n; j++) {
            const trn_tval_t *k = &args[0].u.list.v[j];
            if (k->kind == TRN_TV_STR && trn_str_eq(k->u.s, r->u.map.kv[i].key)) drop = true;
        }
        if (!drop && trn_tval_map_put(a, &m, r->u.map.kv[i].key, r->u.map.kv[i].val) < 0)
            return TRN_ELIMIT;
    }
    m.methods = kv_methods;
    m.type_name = r->type_name;
    *out = m;
    return 0;
}

/* Pairs' Names/Values work on a list of {Name, Value} structs. */
static int pairs_names_values(trn_tmpl_call_t *c, bool names, trn_tval_t *out)
{
    const trn_tval_t *r = trn_tmpl_call_recv(c);
    trn_arena_t *a = trn_tmpl_call_arena(c);
    trn_tval_t l = trn_tval_list(a, r->u.list.n);
    for (size_t i = 0; i < r->u.list.n; i++) {
        const trn_tval_t *f =
            trn_tval_map_get(&r->u.list.v[i], names ? TRN_STR("Name") : TRN_STR("Value"));
        if (trn_tval_list_push(a, &l, f ? *f : trn_tval_nil()) < 0) return TRN_ELIMIT;
    }
    *out = l;
    return 0;
}

int trn_tval_from_labels(trn_arena_t *a, const trn_labels_t *ls, trn_tval_t *out)
{
    trn_tval_t m = trn_tval_map(a, ls->n, TRN_TV_STRMAP);
    for (size_t i = 0; i < ls->n; i++)
        if (trn_tval_map_put(a, &m, ls->v[i].name, trn_tval_str(ls->v[i].value)) < 0)
            return TRN_ELIMIT;
    trn_tval_map_seal(&m);
    m.methods = kv_methods;
    m.type_name = "template.KV";
    *out = m;
    return 0;
}

int trn_tmpl_sample(trn_arena_t *a, const trn_labels_t *ls, double v, trn_tval_t *out)
{
    trn_tval_t labels = trn_tval_map(a, ls->n, TRN_TV_STRMAP);
    for (size_t i = 0; i < ls->n; i++)
        if (trn_tval_map_put(a, &labels, ls->v[i].name, trn_tval_str(ls->v[i].value)) < 0)
            return TRN_ELIMIT;
    trn_tval_map_seal(&labels);
    trn_tval_t s = trn_tval_map(a, 2, TRN_TV_STRUCT);
    s.type_name = "*template.sample";
    if (trn_tval_map_put(a, &s, TRN_STR("Labels"), labels) < 0 ||
        trn_tval_map_put(a, &s, TRN_STR("Value"), trn_tval_float(v)) < 0)
        return TRN_ELIMIT;
    trn_tval_map_seal(&s);
    *out = s;
    return 0;
}

/* ---- truth, type names, printing */

bool trn_tval_truth(const trn_tval_t *v)
{
    switch (v->kind) {
    case TRN_TV_NIL:
        return false;
    case TRN_TV_BOOL:
        return v->u.b;
    case TRN_TV_INT:
        return v->u.i != 0;
    case TRN_TV_FLOAT:
        return v->u.f != 0;
    case TRN_TV_STR:
        return v->u.s.len > 0;
    case TRN_TV_LIST:
        return v->u.list.n > 0;
    case TRN_TV_MAP:
        return (v->flags & TRN_TV_STRUCT) || v->u.map.n > 0;
    case TRN_TV_FUNC:
        return true;
    }
    return false;
}

const char *trn__tmpl_type_name(const trn_tval_t *v)
{
    if (v->type_name) return v->type_name;
    switch (v->kind) {
    case TRN_TV_NIL:
        return "<nil>";
    case TRN_TV_BOOL:
        return "bool";
    case TRN_TV_INT:
        return "int";
    case TRN_TV_FLOAT:
        return "float64";
    case TRN_TV_STR:
        return "string";
    case TRN_TV_LIST:
        return "[]interface {}";
    case TRN_TV_MAP:
        if (v->flags & TRN_TV_STRUCT) return "struct";
        return (v->flags & TRN_TV_STRMAP) ? "map[string]string" : "map[string]interface {}";
    case TRN_TV_FUNC:
        return "func";
    }
    return "?";
}

static void print_v(const trn_tval_t *v, trn_buf_t *out, bool top)
{
    char num[40];
    switch (v->kind) {
    case TRN_TV_NIL:
        trn_buf_puts(out, top ? "<no value>" : "<nil>");
        return;
    case TRN_TV_BOOL:
        trn_buf_puts(out, v->u.b ? "true" : "false");
        return;
    case TRN_TV_INT:
        snprintf(num, sizeof num, "%" PRId64, v->u.i);
        trn_buf_puts(out, num);
        return;
    case TRN_TV_FLOAT:
        trn_fmt_float_g(num, v->u.f);
        trn_buf_puts(out, num);
        return;
    case TRN_TV_STR:
        trn_buf_append(out, v->u.s.p, v->u.s.len);
        return;
    case TRN_TV_LIST:
        trn_buf_putc(out, '[');
        for (size_t i = 0; i < v->u.list.n; i++) {
            if (i) trn_buf_putc(out, ' ');
            print_v(&v->u.list.v[i], out, false);
        }
        trn_buf_putc(out, ']');
        return;
    case TRN_TV_MAP:
        if (v->flags & TRN_TV_STRUCT) {
            trn_buf_putc(out, '{');
            for (size_t i = 0; i < v->u.map.n; i++) {
                if (i) trn_buf_putc(out, ' ');
                print_v(&v->u.map.kv[i].val, out, false);
            }
            trn_buf_putc(out, '}');
            return;
        }
        trn_buf_puts(out, "map[");
        for (size_t i = 0; i < v->u.map.n; i++) {
            if (i) trn_buf_putc(out, ' ');
            trn_buf_append(out, v->u.map.kv[i].key.p, v->u.map.kv[i].key.len);
            trn_buf_putc(out, ':');
            print_v(&v->u.map.kv[i].val, out, false);
        }
        trn_buf_putc(out, ']');
        return;
    case TRN_TV_FUNC:
        trn_buf_puts(out, "<func>");
        return;
    }
}

void trn_tval_print(const trn_tval_t *v, trn_buf_t *out)
{
    print_v(v, out, true);
}

void trn__tmpl_print_v(const trn_tval_t *v, trn_buf_t *out)
{
    print_v(v, out, false);
}
