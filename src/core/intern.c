/* SPDX-License-Identifier: Apache-2.0 */
/* String interning with an open-addressing hash table.
 *
 * Each distinct string lives in one heap entry: a small header (hash,
 * refcount, length) followed by the bytes and a NUL. The table holds
 * pointers to entries and probes linearly; deletions use backward-shift so
 * no tombstones accumulate (the table is churned by series coming and going
 * as the head is truncated). Views handed out point at the bytes inside an
 * entry, so the header is found again by subtracting its size — callers
 * must give back exactly the view they were given.
 *
 * Load factor stays under 1/2, so lookups cost about 1.5 probes. The hash is
 * xxh3, the same the label sets use. */
#include "core/intern.h"
#include "core/alloc.h"
#include "core/err.h"

#include <stdlib.h>
#include <xxhash.h>

typedef struct entry {
    uint64_t hash;
    uint32_t refs;
    uint32_t len;
    char bytes[]; /* len bytes then NUL */
} entry_t;

struct trn_intern {
    entry_t **slots;
    size_t cap; /* power of two */
    size_t n;
    size_t bytes;
};

trn_intern_t *trn_intern_new(void)
{
    trn_intern_t *t = trn_xcalloc(1, sizeof *t);
    t->cap = 64;
    t->slots = trn_xcalloc(t->cap, sizeof *t->slots);
    return t;
}

void trn_intern_free(trn_intern_t *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->cap; i++)
        free(t->slots[i]);
    free(t->slots);
    free(t);
}

static uint64_t hash_of(trn_str_t s)
{
    return XXH3_64bits(s.len ? s.p : "", s.len);
}

static size_t find_slot(const trn_intern_t *t, trn_str_t s, uint64_t h)
{
    size_t mask = t->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        entry_t *e = t->slots[i];
        if (!e) return i;
        if (e->hash == h && e->len == s.len && (s.len == 0 || memcmp(e->bytes, s.p, s.len) == 0))
            return i;
    }
}

static void grow(trn_intern_t *t)
{
    size_t old_cap = t->cap;
    entry_t **old = t->slots;
    t->cap *= 2;
    t->slots = trn_xcalloc(t->cap, sizeof *t->slots);
    for (size_t i = 0; i < old_cap; i++) {
        entry_t *e = old[i];
        if (!e) continue;
        size_t mask = t->cap - 1, j = e->hash & mask;
        while (t->slots[j])
            j = (j + 1) & mask;
        t->slots[j] = e;
    }
    free(old);
}

trn_str_t trn_intern_get(trn_intern_t *t, trn_str_t s)
{
    TRN_ASSERT(s.len < UINT32_MAX);
    uint64_t h = hash_of(s);
    size_t i = find_slot(t, s, h);
    entry_t *e = t->slots[i];
    if (!e) {
        if ((t->n + 1) * 2 > t->cap) {
            grow(t);
            i = find_slot(t, s, h);
        }
        e = trn_xmalloc(sizeof *e + s.len + 1);
        e->hash = h;
        e->refs = 0;
        e->len = (uint32_t)s.len;
        if (s.len) memcpy(e->bytes, s.p, s.len);
        e->bytes[s.len] = 0;
        t->slots[i] = e;
        t->n++;
        t->bytes += s.len;
    }
    e->refs++;
    return (trn_str_t){e->bytes, e->len};
}

trn_str_t trn_intern_find(const trn_intern_t *t, trn_str_t s)
{
    size_t i = find_slot(t, s, hash_of(s));
    entry_t *e = t->slots[i];
    if (!e) return (trn_str_t){NULL, 0};
    return (trn_str_t){e->bytes, e->len};
}

void trn_intern_put(trn_intern_t *t, trn_str_t s)
{
    entry_t *e = (entry_t *)(void *)((char *)(uintptr_t)s.p - offsetof(entry_t, bytes));
    TRN_ASSERT(e->refs > 0);
    if (--e->refs) return;
    size_t mask = t->cap - 1, i = e->hash & mask;
    while (t->slots[i] != e)
        i = (i + 1) & mask;
    /* Backward-shift deletion: pull later members of the probe run into the
     * hole when their home slot is at or before it (cyclically). */
    size_t hole = i;
    for (size_t j = (i + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
        size_t home = t->slots[j]->hash & mask;
        bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
        if (movable) {
            t->slots[hole] = t->slots[j];
            hole = j;
        }
    }
    t->slots[hole] = NULL;
    t->n--;
    t->bytes -= e->len;
    free(e);
}

size_t trn_intern_len(const char *p)
{
    const entry_t *e = (const entry_t *)(const void *)(p - offsetof(entry_t, bytes));
    return e->len;
}

size_t trn_intern_count(const trn_intern_t *t)
{
    return t->n;
}

size_t trn_intern_bytes(const trn_intern_t *t)
{
    return t->bytes;
}
