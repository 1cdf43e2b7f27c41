/* SPDX-License-Identifier: Apache-2.0 */
/* Bump allocator over a chain of blocks. Blocks double in size up to 1 MiB;
 * an allocation larger than a block gets a block of its own. Reset to a
 * mark frees the blocks allocated after it and rewinds the one current at
 * the mark, so series-at-a-time loops run in constant memory. The budget
 * counts bytes handed out (not block slack), so it is deterministic. */
#include "core/arena.h"
#include "core/alloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct block {
    struct block *prev;
    size_t cap, used;
    _Alignas(16) unsigned char data[];
} block_t;

struct trn_arena {
    block_t *cur;
    size_t total;  /* bytes handed out */
    size_t budget; /* 0 = unlimited */
    size_t next_cap;
    bool failed;
};

trn_arena_t *trn_arena_new(size_t budget_bytes)
{
    trn_arena_t *a = trn_xcalloc(1, sizeof *a);
    a->budget = budget_bytes;
    a->next_cap = 4096;
    return a;
}

void trn_arena_free(trn_arena_t *a)
{
    if (!a) return;
    block_t *b = a->cur;
    while (b) {
        block_t *p = b->prev;
        free(b);
        b = p;
    }
    free(a);
}

void *trn_arena_alloc(trn_arena_t *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0) n = 16;
    if (a->failed) return NULL;
    if (a->budget && (n > a->budget || a->total > a->budget - n)) {
        a->failed = true;
        return NULL;
    }
    block_t *b = a->cur;
    if (!b || b->cap - b->used < n) {
        size_t cap = a->next_cap;
        if (a->next_cap < (1u << 20)) a->next_cap *= 2;
        if (cap < n) cap = n;
        block_t *nb = trn_xmalloc(sizeof *nb + cap);
        nb->prev = b;
        nb->cap = cap;
        nb->used = 0;
        a->cur = b = nb;
    }
    void *p = b->data + b->used;
    b->used += n;
    a->total += n;
    return p;
}

void *trn_arena_calloc(trn_arena_t *a, size_t k, size_t n)
{
    if (n && k > SIZE_MAX / n) {
        a->failed = true;
        return NULL;
    }
    void *p = trn_arena_alloc(a, k * n);
    if (p) memset(p, 0, k * n);
    return p;
}

char *trn_arena_strndup(trn_arena_t *a, const char *p, size_t n)
{
    char *s = trn_arena_alloc(a, n + 1);
    if (!s) return NULL;
    if (n) memcpy(s, p, n);
    s[n] = 0;
    return s;
}

char *trn_arena_printf(trn_arena_t *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return NULL;
    char *s = trn_arena_alloc(a, (size_t)n + 1);
    if (!s) return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

void *trn_arena_grow(trn_arena_t *a, void *old, size_t old_n, size_t new_n)
{
    void *p = trn_arena_alloc(a, new_n);
    if (p && old && old_n) memcpy(p, old, old_n < new_n ? old_n : new_n);
    return p;
}

trn_arena_mark_t trn_arena_mark(const trn_arena_t *a)
{
    trn_arena_mark_t m = {.block = a->cur, .used = a->cur ? a->cur->used : 0, .total = a->total};
    return m;
}

void trn_arena_reset(trn_arena_t *a, trn_arena_mark_t m)
{
    while (a->cur && a->cur != (block_t *)m.block) {
        block_t *p = a->cur->prev;
        free(a->cur);
        a->cur = p;
    }
    if (a->cur) a->cur->used = m.used;
    a->total = m.total;
}

bool trn_arena_failed(const trn_arena_t *a)
{
    return a->failed;
}

size_t trn_arena_used(const trn_arena_t *a)
{
    return a->total;
}
