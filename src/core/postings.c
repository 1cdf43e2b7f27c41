/* SPDX-License-Identifier: Apache-2.0 */
/* Postings lists and matcher evaluation.
 *
 * A postings list is a sorted array of 32-bit ids. Intersection walks both
 * lists and gallops (exponential then binary search) through the longer one
 * when the sizes differ a lot, so `{__name__="x", instance="y"}` costs
 * O(small * log(large)) rather than O(large). Subtraction is a merge walk.
 *
 * Matcher evaluation reduces every matcher to a set over the index:
 * a matcher that rejects "" selects the union of the postings of the values
 * it accepts; one that accepts "" selects everything except the union of
 * the postings of the values it rejects (series without the label see "").
 * Since a series carries one value per label name, postings of different
 * values of one name are disjoint, so those unions are a concatenation and a
 * sort, never a dedup of overlapping lists. Equality and literal
 * alternations (`a|b|c`, see trn_regex_literals) are direct lookups; only
 * real regexes scan the value list. Positive sets are intersected smallest
 * first, then the negative ones are subtracted, so the universe of all ids
 * is only materialised when every matcher accepts "". */
#include "core/postings.h"
#include "core/alloc.h"
#include "core/err.h"

#include <stdlib.h>

void trn_ids_fini(trn_ids_t *ids)
{
    if (!ids) return;
    free(ids->v);
    ids->v = NULL;
    ids->n = ids->cap = 0;
}

void trn_ids_reserve(trn_ids_t *ids, size_t extra)
{
    if (ids->n + extra <= ids->cap) return;
    size_t cap = ids->cap ? ids->cap * 2 : 16;
    while (cap < ids->n + extra)
        cap *= 2;
    ids->v = trn_xrealloc(ids->v, cap * sizeof *ids->v);
    ids->cap = cap;
}

/* LSD radix sort on 32-bit keys (4 passes of 8 bits); beats qsort from a
 * few thousand ids up, which is where unions of many values land. */
static void radix_sort(uint32_t *a, size_t n)
{
    uint32_t *tmp = trn_xmalloc(n * sizeof *tmp);
    uint32_t *src = a, *dst = tmp;
    for (int shift = 0; shift < 32; shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++)
            count[((src[i] >> shift) & 0xff) + 1]++;
        if (count[1] == n && shift) continue;
        for (int i = 0; i < 256; i++)
            count[i + 1] += count[i];
        for (size_t i = 0; i < n; i++)
            dst[count[(src[i] >> shift) & 0xff]++] = src[i];
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != a) memcpy(a, src, n * sizeof *a);
    free(tmp);
}

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

void trn_ids_sort_unique(trn_ids_t *ids)
{
    if (ids->n < 2) return;
    bool sorted = true;
    for (size_t i = 1; i < ids->n && sorted; i++)
        sorted = ids->v[i - 1] < ids->v[i];
    if (sorted) return;
    if (ids->n > 2048)
        radix_sort(ids->v, ids->n);
    else
        qsort(ids->v, ids->n, sizeof *ids->v, cmp_u32);
    size_t k = 1;
    for (size_t i = 1; i < ids->n; i++)
        if (ids->v[i] != ids->v[k - 1]) ids->v[k++] = ids->v[i];
    ids->n = k;
}

/* First index i >= lo with a[i] >= x, galloping from lo. */
static size_t gallop(const uint32_t *a, size_t lo, size_t n, uint32_t x)
{
    size_t step = 1, hi = lo;
    while (hi < n && a[hi] < x) {
        lo = hi + 1;
        hi += step;
        step *= 2;
    }
    if (hi > n) hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

size_t trn_postings_intersect(const uint32_t *a, size_t na, const uint32_t *b, size_t nb,
                              uint32_t *out)
{
    size_t i = 0, j = 0, k = 0;
    if (na * 16 < nb) {
        for (; i < na && j < nb; i++) {
            j = gallop(b, j, nb, a[i]);
            if (j < nb && b[j] == a[i]) out[k++] = a[i];
        }
        return k;
    }
    if (nb * 16 < na) {
        for (; j < nb && i < na; j++) {
            i = gallop(a, i, na, b[j]);
            if (i < na && a[i] == b[j]) out[k++] = b[j];
        }
        return k;
    }
    while (i < na && j < nb) {
        if (a[i] < b[j])
            i++;
        else if (a[i] > b[j])
            j++;
        else {
            out[k++] = a[i];
            i++;
            j++;
        }
    }
    return k;
}

size_t trn_postings_subtract(const uint32_t *a, size_t na, const uint32_t *b, size_t nb,
                             uint32_t *out)
{
    size_t i = 0, j = 0, k = 0;
    while (i < na) {
        if (j < nb && b[j] < a[i]) {
            j = gallop(b, j, nb, a[i]);
            continue;
        }
        if (j < nb && b[j] == a[i]) {
            i++;
            j++;
            continue;
        }
        out[k++] = a[i++];
    }
    return k;
}

bool trn_postings_contains(const uint32_t *a, size_t n, uint32_t id)
{
    size_t i = gallop(a, 0, n, id);
    return i < n && a[i] == id;
}

/* One matcher reduced to a set: ids, and whether the set is the complement
 * ("everything except ids"). */
typedef struct mset {
    trn_ids_t ids;
    bool negated;
} mset_t;

typedef struct scan_ctx {
    const trn_postings_src_t *src;
    const trn_matcher_t *m;
    bool want; /* collect values where matches() == want */
    trn_ids_t *out;
} scan_ctx_t;

static int scan_value(void *ctx, trn_str_t value)
{
    scan_ctx_t *c = ctx;
    if (trn_matcher_matches(c->m, value) != c->want) return 0;
    return c->src->postings(c->src->ctx, c->m->name, value, c->out);
}

static int lookup_values(const trn_postings_src_t *src, trn_str_t name, const trn_str_t *vals,
                         size_t n, trn_ids_t *out)
{
    for (size_t i = 0; i < n; i++) {
        if (vals[i].len == 0) continue; /* "" has no postings: it means "absent" */
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = trn_str_eq(vals[i], vals[j]);
        if (dup) continue;
        int rc = src->postings(src->ctx, name, vals[i], out);
        if (rc < 0) return rc;
    }
    return 0;
}

static int matcher_set(const trn_postings_src_t *src, const trn_matcher_t *m, mset_t *s)
{
    bool empty_ok = trn_matcher_matches_empty(m);
    s->negated = empty_ok;
    const trn_str_t *alts = NULL;
    size_t n_alts = 0;
    if (m->type == TRN_MATCH_RE || m->type == TRN_MATCH_NRE)
        n_alts = trn_regex_literals(m->re, &alts);
    int rc;
    switch (m->type) {
    case TRN_MATCH_EQ:
        /* l="v": the postings of v. l="": complement of every value's postings. */
        if (!empty_ok) return src->postings(src->ctx, m->name, m->value, &s->ids);
        break;
    case TRN_MATCH_NE:
        /* l!="v": complement of v's postings. l!="": union of all values. */
        if (empty_ok) return src->postings(src->ctx, m->name, m->value, &s->ids);
        break;
    case TRN_MATCH_RE:
        if (n_alts && !empty_ok) {
            rc = lookup_values(src, m->name, alts, n_alts, &s->ids);
            if (rc == 0) trn_ids_sort_unique(&s->ids);
            return rc;
        }
        break;
    case TRN_MATCH_NRE:
        if (n_alts && empty_ok) {
            rc = lookup_values(src, m->name, alts, n_alts, &s->ids);
            if (rc == 0) trn_ids_sort_unique(&s->ids);
            return rc;
        }
        break;
    }
    scan_ctx_t c = {.src = src, .m = m, .want = !empty_ok, .out = &s->ids};
    rc = src->each_value(src->ctx, m->name, scan_value, &c);
    if (rc == 0) trn_ids_sort_unique(&s->ids);
    return rc;
}

int trn_postings_select(const trn_postings_src_t *src, const trn_matcher_t *ms, size_t n_ms,
                        trn_ids_t *out)
{
    int rc = 0;
    mset_t *sets = n_ms ? trn_xcalloc(n_ms, sizeof *sets) : NULL;
    out->n = 0;
    for (size_t i = 0; i < n_ms; i++) {
        rc = matcher_set(src, &ms[i], &sets[i]);
        if (rc < 0) goto out;
    }
    /* Start from the smallest positive set, or from everything. */
    size_t best = n_ms;
    for (size_t i = 0; i < n_ms; i++)
        if (!sets[i].negated && (best == n_ms || sets[i].ids.n < sets[best].ids.n)) best = i;
    if (best == n_ms) {
        rc = src->all(src->ctx, out);
        if (rc < 0) goto out;
    } else {
        if (sets[best].ids.n) {
            trn_ids_reserve(out, sets[best].ids.n);
            memcpy(out->v, sets[best].ids.v, sets[best].ids.n * sizeof *out->v);
        }
        out->n = sets[best].ids.n;
    }
    for (size_t i = 0; i < n_ms && out->n; i++) {
        if (i == best) continue;
        if (sets[i].negated)
            out->n = trn_postings_subtract(out->v, out->n, sets[i].ids.v, sets[i].ids.n, out->v);
        else
            out->n = trn_postings_intersect(out->v, out->n, sets[i].ids.v, sets[i].ids.n, out->v);
    }
out:
    for (size_t i = 0; i < n_ms; i++)
        trn_ids_fini(&sets[i].ids);
    free(sets);
    return rc;
}
