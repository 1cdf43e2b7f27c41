/* SPDX-License-Identifier: Apache-2.0 */
/* Rule runtime state that outlives one evaluation: label sets copied to
 * the heap (one block holding the array and the strings, so an alert or a
 * remembered series is one allocation), and the open-addressing set of
 * series a rule wrote last time, which the next evaluation compares with
 * to write staleness markers for the ones that disappeared.
 *
 * The set uses linear probing on the label hash with the table kept at
 * most half full; lookups compare the full label sets, so hash collisions
 * cost a comparison, never a wrong answer. It is rebuilt from scratch each
 * evaluation (the rule's new output becomes the next "previous"). */
#include "rules/rules_int.h"

#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

trn_labels_t trn__labels_heap_dup(const trn_labels_t *src)
{
    size_t bytes = src->n * sizeof(trn_label_t);
    for (size_t i = 0; i < src->n; i++)
        bytes += src->v[i].name.len + src->v[i].value.len + 2;
    trn_labels_t out = {NULL, src->n};
    if (src->n == 0) return out;
    char *blk = trn_xmalloc(bytes);
    out.v = (trn_label_t *)blk;
    char *p = blk + src->n * sizeof(trn_label_t);
    for (size_t i = 0; i < src->n; i++) {
        const trn_label_t *l = &src->v[i];
        memcpy(p, l->name.p, l->name.len);
        p[l->name.len] = 0;
        out.v[i].name = (trn_str_t){p, l->name.len};
        p += l->name.len + 1;
        if (l->value.len) memcpy(p, l->value.p, l->value.len);
        p[l->value.len] = 0;
        out.v[i].value = (trn_str_t){p, l->value.len};
        p += l->value.len + 1;
    }
    return out;
}

void trn__labels_heap_free(trn_labels_t *ls)
{
    free(ls->v);
    ls->v = NULL;
    ls->n = 0;
}

void trn__hlabels_set(hlabels_t *h, const trn_labels_t *src)
{
    h->ls = trn__labels_heap_dup(src);
    h->hash = trn_labels_hash(src);
}

void trn__hlabels_fini(hlabels_t *h)
{
    trn__labels_heap_free(&h->ls);
}

static size_t slot_of(const series_set_t *s, const trn_labels_t *ls, uint64_t hash, bool *found)
{
    size_t mask = s->cap - 1, i = (size_t)hash & mask;
    for (;;) {
        hlabels_t *e = &s->v[i];
        if (e->hash == 0) {
            *found = false;
            return i;
        }
        if (e->hash == hash && !e->moved && trn_labels_equal(&e->ls, ls)) {
            *found = true;
            return i;
        }
        i = (i + 1) & mask;
    }
}

bool trn__series_set_has(const series_set_t *s, const trn_labels_t *ls, uint64_t hash)
{
    if (!s->cap) return false;
    bool found;
    slot_of(s, ls, hash | 1, &found);
    return found;
}

static void series_set_insert(series_set_t *s, const trn_labels_t *ls, uint64_t hash,
                              series_set_t *prev);

void trn__series_set_add(series_set_t *s, const trn_labels_t *ls, uint64_t hash)
{
    series_set_insert(s, ls, hash, NULL);
}

void trn__series_set_add_from(series_set_t *s, const trn_labels_t *ls, uint64_t hash,
                              series_set_t *prev)
{
    series_set_insert(s, ls, hash, prev);
}

static void series_set_insert(series_set_t *s, const trn_labels_t *ls, uint64_t hash,
                              series_set_t *prev)
{
    hash |= 1; /* 0 marks an empty slot */
    if ((s->n + 1) * 2 > s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 16;
        hlabels_t *old = s->v;
        size_t old_cap = s->cap;
        s->v = trn_xcalloc(nc, sizeof *s->v);
        s->cap = nc;
        for (size_t i = 0; i < old_cap; i++) {
            if (old[i].hash == 0) continue;
            bool f;
            size_t k = slot_of(s, &old[i].ls, old[i].hash, &f);
            s->v[k] = old[i];
        }
        free(old);
    }
    bool found;
    size_t k = slot_of(s, ls, hash, &found);
    if (found) return;
    s->v[k].hash = hash;
    s->v[k].moved = false;
    s->n++;
    if (prev && prev->cap) {
        bool in_prev;
        size_t j = slot_of(prev, ls, hash, &in_prev);
        if (in_prev && !prev->v[j].moved) {
            s->v[k].ls = prev->v[j].ls;
            prev->v[j].moved = true;
            return;
        }
    }
    s->v[k].ls = trn__labels_heap_dup(ls);
}

void trn__series_set_free(series_set_t *s)
{
    for (size_t i = 0; i < s->cap; i++)
        if (s->v[i].hash && !s->v[i].moved) trn__labels_heap_free(&s->v[i].ls);
    free(s->v);
    memset(s, 0, sizeof *s);
}

void trn__alert_fini(alert_t *a)
{
    trn__hlabels_fini(&a->labels);
    trn__labels_heap_free(&a->annotations);
}

void trn__rule_state_free(trn_rule_t *r)
{
    for (size_t i = 0; i < r->n_alerts; i++)
        trn__alert_fini(&r->alerts[i]);
    free(r->alerts);
    r->alerts = NULL;
    r->n_alerts = r->cap_alerts = 0;
    trn__series_set_free(&r->prev);
}
