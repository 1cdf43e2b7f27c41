/* SPDX-License-Identifier: Apache-2.0 */
/* A small u64 -> pointer hash map for the alert manager's indexes (alerts
 * by fingerprint, groups and notification-log entries by key hash).
 * Open addressing with linear probing over a power-of-two table; deletions
 * leave a tombstone so probe chains stay intact, and the table is rebuilt
 * (dropping tombstones) when live plus dead slots pass 70%. Keys are
 * already well-mixed hashes, so the low bits index directly after one
 * multiply-shift to spread structured fingerprints. */
#include "alerts/am_int.h"

#include "core/alloc.h"

#include <stdlib.h>

static char tombstone_marker;
#define TOMB ((void *)&tombstone_marker)

static size_t slot(uint64_t k, size_t cap)
{
    return (size_t)((k * 0x9E3779B97F4A7C15ULL) >> 17) & (cap - 1);
}

static void rehash(trn__am_map_t *m, size_t cap)
{
    uint64_t *ok = m->keys;
    void **ov = m->vals;
    size_t ocap = m->cap;
    m->keys = trn_xcalloc(cap, sizeof *m->keys);
    m->vals = trn_xcalloc(cap, sizeof *m->vals);
    m->cap = cap;
    m->used = m->n;
    for (size_t i = 0; i < ocap; i++) {
        if (!ov[i] || ov[i] == TOMB) continue;
        size_t j = slot(ok[i], cap);
        while (m->vals[j])
            j = (j + 1) & (cap - 1);
        m->keys[j] = ok[i];
        m->vals[j] = ov[i];
    }
    free(ok);
    free(ov);
}

void *trn__am_map_get(const trn__am_map_t *m, uint64_t k)
{
    if (!m->cap) return NULL;
    for (size_t j = slot(k, m->cap);; j = (j + 1) & (m->cap - 1)) {
        void *v = m->vals[j];
        if (!v) return NULL;
        if (v != TOMB && m->keys[j] == k) return v;
    }
}

void *trn__am_map_put(trn__am_map_t *m, uint64_t k, void *v)
{
    if ((m->used + 1) * 10 >= m->cap * 7)
        rehash(m, m->cap ? (m->n * 2 >= m->cap ? m->cap * 2 : m->cap) : 16);
    size_t tomb = (size_t)-1;
    for (size_t j = slot(k, m->cap);; j = (j + 1) & (m->cap - 1)) {
        void *cur = m->vals[j];
        if (!cur) {
            if (tomb != (size_t)-1)
                j = tomb;
            else
                m->used++;
            m->keys[j] = k;
            m->vals[j] = v;
            m->n++;
            return NULL;
        }
        if (cur == TOMB) {
            if (tomb == (size_t)-1) tomb = j;
        } else if (m->keys[j] == k) {
            m->vals[j] = v;
            return cur;
        }
    }
}

void *trn__am_map_del(trn__am_map_t *m, uint64_t k)
{
    if (!m->cap) return NULL;
    for (size_t j = slot(k, m->cap);; j = (j + 1) & (m->cap - 1)) {
        void *v = m->vals[j];
        if (!v) return NULL;
        if (v != TOMB && m->keys[j] == k) {
            m->vals[j] = TOMB;
            m->n--;
            return v;
        }
    }
}

bool trn__am_map_next(const trn__am_map_t *m, size_t *i, uint64_t *k, void **v)
{
    for (; *i < m->cap; (*i)++) {
        void *x = m->vals[*i];
        if (x && x != TOMB) {
            if (k) *k = m->keys[*i];
            *v = x;
            (*i)++;
            return true;
        }
    }
    return false;
}

void trn__am_map_fini(trn__am_map_t *m)
{
    free(m->keys);
    free(m->vals);
    *m = (trn__am_map_t){0};
}
