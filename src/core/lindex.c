/* SPDX-License-Identifier: Apache-2.0 */
/* The in-memory label index behind a head.
 *
 * Two levels of open-addressing hash tables keyed by string content: names,
 * and per name its values, each value owning a sorted id array. Ids arrive
 * mostly in ascending order (heads hand out ids from a counter), so adding
 * is an append; an out-of-order id is inserted with memmove. Deletions are
 * batched through trn_lindex_retain, which filters every list in one pass —
 * a head drops series in bulk when it is truncated, and per-id removal from
 * a list like `__name__="up"` would be quadratic.
 *
 * Tables double at load 1/2 and are rebuilt without tombstones by retain, so
 * probes stay short. The all-ids list backs matchers that accept "". */
#include "core/lindex.h"
#include "core/alloc.h"
#include "core/err.h"

#include <stdlib.h>
#include <xxhash.h>

typedef struct vent {
    trn_str_t value; /* borrowed */
    uint64_t hash;
    trn_ids_t ids;
} vent_t;

typedef struct nent {
    trn_str_t name; /* borrowed */
    uint64_t hash;
    vent_t *slots; /* value.p == NULL marks a free slot */
    size_t cap, n;
} nent_t;

struct trn_lindex {
    nent_t *slots;
    size_t cap, n;
    trn_ids_t all;
    size_t n_pairs;
};

static uint64_t hstr(trn_str_t s)
{
    return XXH3_64bits(s.len ? s.p : "", s.len);
}

trn_lindex_t *trn_lindex_new(void)
{
    trn_lindex_t *x = trn_xcalloc(1, sizeof *x);
    x->cap = 16;
    x->slots = trn_xcalloc(x->cap, sizeof *x->slots);
    return x;
}

static void free_name(nent_t *ne)
{
    for (size_t j = 0; j < ne->cap; j++)
        if (ne->slots[j].value.p) trn_ids_fini(&ne->slots[j].ids);
    free(ne->slots);
}

void trn_lindex_free(trn_lindex_t *x)
{
    if (!x) return;
    for (size_t i = 0; i < x->cap; i++)
        if (x->slots[i].name.p) free_name(&x->slots[i]);
    free(x->slots);
    trn_ids_fini(&x->all);
    free(x);
}

static nent_t *find_name(const trn_lindex_t *x, trn_str_t name, uint64_t h)
{
    size_t mask = x->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        nent_t *e = &x->slots[i];
        if (!e->name.p) return e;
        if (e->hash == h && trn_str_eq(e->name, name)) return e;
    }
}

static vent_t *find_value(const nent_t *ne, trn_str_t v, uint64_t h)
{
    size_t mask = ne->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        vent_t *e = &ne->slots[i];
        if (!e->value.p) return e;
        if (e->hash == h && trn_str_eq(e->value, v)) return e;
    }
}

static void rehash_names(trn_lindex_t *x, size_t cap)
{
    nent_t *old = x->slots;
    size_t old_cap = x->cap;
    x->slots = trn_xcalloc(cap, sizeof *x->slots);
    x->cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].name.p) *find_name(x, old[i].name, old[i].hash) = old[i];
    free(old);
}

static void rehash_values(nent_t *ne, size_t cap)
{
    vent_t *old = ne->slots;
    size_t old_cap = ne->cap;
    ne->slots = trn_xcalloc(cap, sizeof *ne->slots);
    ne->cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].value.p) *find_value(ne, old[i].value, old[i].hash) = old[i];
    free(old);
}

static void ids_insert(trn_ids_t *ids, uint32_t id)
{
    if (ids->n == 0 || ids->v[ids->n - 1] < id) {
        trn_ids_push(ids, id);
        return;
    }
    size_t lo = 0, hi = ids->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ids->v[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < ids->n && ids->v[lo] == id) return;
    trn_ids_reserve(ids, 1);
    memmove(ids->v + lo + 1, ids->v + lo, (ids->n - lo) * sizeof *ids->v);
    ids->v[lo] = id;
    ids->n++;
}

void trn_lindex_add_id(trn_lindex_t *x, uint32_t id)
{
    ids_insert(&x->all, id);
}

void trn_lindex_add(trn_lindex_t *x, trn_str_t name, trn_str_t value, uint32_t id)
{
    TRN_ASSERT(name.p && value.p);
    uint64_t hn = hstr(name);
    nent_t *ne = find_name(x, name, hn);
    if (!ne->name.p) {
        if ((x->n + 1) * 2 > x->cap) {
            rehash_names(x, x->cap * 2);
            ne = find_name(x, name, hn);
        }
        ne->name = name;
        ne->hash = hn;
        ne->cap = 8;
        ne->n = 0;
        ne->slots = trn_xcalloc(ne->cap, sizeof *ne->slots);
        x->n++;
    }
    uint64_t hv = hstr(value);
    vent_t *ve = find_value(ne, value, hv);
    if (!ve->value.p) {
        if ((ne->n + 1) * 2 > ne->cap) {
            rehash_values(ne, ne->cap * 2);
            ve = find_value(ne, value, hv);
        }
        ve->value = value;
        ve->hash = hv;
        ve->ids = (trn_ids_t){0};
        ne->n++;
        x->n_pairs++;
    }
    ids_insert(&ve->ids, id);
    ids_insert(&x->all, id);
}

static void filter(trn_ids_t *ids, trn_keep_fn *keep, void *ctx)
{
    size_t k = 0;
    for (size_t i = 0; i < ids->n; i++)
        if (keep(ctx, ids->v[i])) ids->v[k++] = ids->v[i];
    ids->n = k;
}

void trn_lindex_retain(trn_lindex_t *x, trn_keep_fn *keep, void *ctx)
{
    filter(&x->all, keep, ctx);
    x->n_pairs = 0;
    size_t live_names = 0;
    for (size_t i = 0; i < x->cap; i++) {
        nent_t *ne = &x->slots[i];
        if (!ne->name.p) continue;
        size_t live = 0;
        for (size_t j = 0; j < ne->cap; j++) {
            vent_t *ve = &ne->slots[j];
            if (!ve->value.p) continue;
            filter(&ve->ids, keep, ctx);
            if (ve->ids.n == 0) {
                trn_ids_fini(&ve->ids);
                ve->value.p = NULL;
            } else
                live++;
        }
        if (live == 0) {
            free_name(ne);
            ne->name.p = NULL;
            continue;
        }
        ne->n = live;
        x->n_pairs += live;
        live_names++;
        size_t cap = 8;
        while (live * 2 > cap)
            cap *= 2;
        rehash_values(ne, cap < ne->cap ? cap : ne->cap);
    }
    x->n = live_names;
    size_t cap = 16;
    while (live_names * 2 > cap)
        cap *= 2;
    rehash_names(x, cap < x->cap ? cap : x->cap);
}

size_t trn_lindex_n_ids(const trn_lindex_t *x)
{
    return x->all.n;
}

size_t trn_lindex_n_pairs(const trn_lindex_t *x)
{
    return x->n_pairs;
}

const uint32_t *trn_lindex_get(const trn_lindex_t *x, trn_str_t name, trn_str_t value, size_t *n)
{
    *n = 0;
    nent_t *ne = find_name(x, name, hstr(name));
    if (!ne->name.p) return NULL;
    vent_t *ve = find_value(ne, value, hstr(value));
    if (!ve->value.p) return NULL;
    *n = ve->ids.n;
    return ve->ids.v;
}

int trn_lindex_each_name(const trn_lindex_t *x, trn_value_fn *fn, void *ctx)
{
    for (size_t i = 0; i < x->cap; i++) {
        if (!x->slots[i].name.p) continue;
        int rc = fn(ctx, x->slots[i].name);
        if (rc) return rc;
    }
    return 0;
}

static int src_postings(void *ctx, trn_str_t name, trn_str_t value, trn_ids_t *out)
{
    size_t n;
    const uint32_t *ids = trn_lindex_get(ctx, name, value, &n);
    if (!n) return 0;
    trn_ids_reserve(out, n);
    memcpy(out->v + out->n, ids, n * sizeof *ids);
    out->n += n;
    return 0;
}

static int src_each_value(void *ctx, trn_str_t name, trn_value_fn *fn, void *fn_ctx)
{
    trn_lindex_t *x = ctx;
    nent_t *ne = find_name(x, name, hstr(name));
    if (!ne->name.p) return 0;
    for (size_t j = 0; j < ne->cap; j++) {
        if (!ne->slots[j].value.p) continue;
        int rc = fn(fn_ctx, ne->slots[j].value);
        if (rc) return rc;
    }
    return 0;
}

static int src_all(void *ctx, trn_ids_t *out)
{
    trn_lindex_t *x = ctx;
    if (!x->all.n) return 0;
    trn_ids_reserve(out, x->all.n);
    memcpy(out->v + out->n, x->all.v, x->all.n * sizeof *out->v);
    out->n += x->all.n;
    return 0;
}

trn_postings_src_t trn_lindex_src(trn_lindex_t *x)
{
    return (trn_postings_src_t){
        .ctx = x, .postings = src_postings, .each_value = src_each_value, .all = src_all};
}
