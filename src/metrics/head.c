/* SPDX-License-Identifier: Apache-2.0 */
/* The in-memory head of the metrics store.
 *
 * Each series owns a short list of Gorilla chunks (metrics/chunk.c). The
 * last chunk is open for appends; a chunk is closed after
 * TRN_CHUNK_SAMPLES samples and its buffer trimmed. Chunks of one series
 * never overlap in time and are ordered, so reading a range is a walk.
 *
 * Out-of-order samples (older than the series' newest, within the ooo
 * window) go to a small sorted side buffer per series instead of breaking
 * the chunk stream. A sample in that buffer always wins over a chunk sample
 * with the same timestamp: a chunk only ever takes timestamps newer than
 * everything before it, so an equal timestamp in the side buffer was
 * necessarily written later. When the side buffer passes OOO_MERGE_AT
 * samples, the series is rebuilt: all samples decoded, merged, and
 * re-encoded into fresh chunks. The same rebuild drops samples when the head
 * is truncated after a block cut. Rebuilds cost O(samples of that series)
 * and are rare by construction.
 *
 * Lookup by labels goes through an open-addressing table keyed by the
 * label-set hash (collisions compared label by label); lookup by id through
 * a second table. Label strings are interned once per head and the label
 * index (core/lindex.c) maps name=value to sorted series ids. Ids only grow,
 * so index appends are O(1).
 *
 * No allocation happens per sample except the amortised doubling of a
 * chunk's buffer and of the side buffer. */
#include "metrics/head.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/intern.h"
#include "core/lindex.h"
#include "metrics/chunk.h"

#include <stdlib.h>
#include <string.h>

#define OOO_MERGE_AT 64

struct trn_hseries {
    uint64_t hash;
    uint32_t id;
    uint32_t n_chunks, cap_chunks;
    uint32_t n_ooo, cap_ooo;
    uint32_t n_labels;
    const char **lbl;     /* owned; 2 * n_labels interned strings: name, value, ... */
    trn_chunk_t *chunks;  /* last one open */
    trn_sample_t *ooo;    /* sorted by time, unique timestamps */
    int64_t min_t, max_t; /* over chunks and ooo; max_t is the chunks' newest */
    uint64_t n_samples;   /* chunk samples + ooo samples */
};

/* The hash sits in the slot so probing never touches a series it will not
 * return (each touch would be a cache miss on a large head). */
typedef struct hslot {
    uint64_t hash;
    trn_hseries_t *s;
} hslot_t;

struct trn_head {
    int64_t ooo_window_ms, new_series_window_ms;
    trn_intern_t *syms;
    trn_lindex_t *idx;
    hslot_t *by_hash; /* open addressing, cap power of two */
    size_t hash_cap;
    trn_hseries_t **by_id;
    size_t id_cap;
    size_t n_series;
    uint32_t next_id;
    uint64_t n_samples, n_chunks;
    bool has_data;
    int64_t min_t, max_t;
};

trn_head_t *trn_head_new(int64_t ooo_window_ms, int64_t new_series_window_ms)
{
    trn_head_t *h = trn_xcalloc(1, sizeof *h);
    h->ooo_window_ms = ooo_window_ms;
    h->new_series_window_ms = new_series_window_ms;
    h->syms = trn_intern_new();
    h->idx = trn_lindex_new();
    h->hash_cap = h->id_cap = 1024;
    h->by_hash = trn_xcalloc(h->hash_cap, sizeof *h->by_hash);
    h->by_id = trn_xcalloc(h->id_cap, sizeof *h->by_id);
    h->next_id = 1;
    return h;
}

static void series_free_data(trn_hseries_t *s)
{
    for (uint32_t i = 0; i < s->n_chunks; i++)
        trn_chunk_fini(&s->chunks[i]);
    free(s->chunks);
    free(s->ooo);
    s->chunks = NULL;
    s->ooo = NULL;
    s->n_chunks = s->cap_chunks = s->n_ooo = s->cap_ooo = 0;
}

void trn_head_free(trn_head_t *h)
{
    if (!h) return;
    for (size_t i = 0; i < h->id_cap; i++) {
        trn_hseries_t *s = h->by_id[i];
        if (!s) continue;
        series_free_data(s);
        free(s->lbl);
        free(s);
    }
    free(h->by_hash);
    free(h->by_id);
    trn_lindex_free(h->idx);
    trn_intern_free(h->syms);
    free(h);
}

/* ---- tables ---- */

static bool labels_equal(const trn_hseries_t *s, const trn_labels_t *ls)
{
    if (s->n_labels != ls->n) return false;
    for (size_t k = 0; k < ls->n; k++)
        if (!trn_str_eq(trn_intern_view(s->lbl[2 * k]), ls->v[k].name) ||
            !trn_str_eq(trn_intern_view(s->lbl[2 * k + 1]), ls->v[k].value))
            return false;
    return true;
}

static size_t hash_slot(const trn_head_t *h, const trn_labels_t *ls, uint64_t hash)
{
    size_t mask = h->hash_cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        const hslot_t *e = &h->by_hash[i];
        if (!e->s) return i;
        if (e->hash == hash && ls && labels_equal(e->s, ls)) return i;
    }
}

static size_t id_slot(const trn_head_t *h, uint32_t id)
{
    size_t mask = h->id_cap - 1;
    uint64_t x = id * UINT64_C(0x9E3779B97F4A7C15);
    for (size_t i = (size_t)(x >> 20) & mask;; i = (i + 1) & mask) {
        trn_hseries_t *s = h->by_id[i];
        if (!s || s->id == id) return i;
    }
}

static void rebuild_tables(trn_head_t *h, size_t cap)
{
    trn_hseries_t **old = h->by_id;
    size_t old_cap = h->id_cap;
    free(h->by_hash);
    h->by_hash = trn_xcalloc(cap, sizeof *h->by_hash);
    h->by_id = trn_xcalloc(cap, sizeof *h->by_id);
    h->hash_cap = h->id_cap = cap;
    for (size_t i = 0; i < old_cap; i++) {
        trn_hseries_t *s = old[i];
        if (!s) continue;
        h->by_hash[hash_slot(h, NULL, s->hash)] = (hslot_t){s->hash, s};
        h->by_id[id_slot(h, s->id)] = s;
    }
    free(old);
}

void trn_head_prefetch(const trn_head_t *h, uint64_t hash)
{
    __builtin_prefetch(&h->by_hash[hash & (h->hash_cap - 1)]);
}

void trn_hseries_prefetch_chunk(const trn_hseries_t *s)
{
    if (s->n_chunks) __builtin_prefetch(&s->chunks[s->n_chunks - 1], 1);
}

void trn_hseries_prefetch_tail(const trn_hseries_t *s)
{
    if (!s->n_chunks) return;
    const trn_chunk_t *c = &s->chunks[s->n_chunks - 1];
    if (c->buf) __builtin_prefetch(c->buf + (c->nbits >> 3), 1);
}

void trn_head_reserve_ids(trn_head_t *h, uint32_t next_id)
{
    if (next_id > h->next_id && next_id != UINT32_MAX) h->next_id = next_id;
}

trn_hseries_t *trn_head_by_id(const trn_head_t *h, uint32_t id)
{
    return h->by_id[id_slot(h, id)];
}

trn_hseries_t *trn_head_get_or_create(trn_head_t *h, const trn_labels_t *ls, uint64_t hash,
                                      uint32_t id, bool *created)
{
    *created = false;
    size_t i = hash_slot(h, ls, hash);
    trn_hseries_t *s = h->by_hash[i].s;
    if (s) {
        if (id && s->id != id) return NULL;
        return s;
    }
    if (id) {
        if (id == UINT32_MAX || trn_head_by_id(h, id)) return NULL;
    } else {
        /* Ids only wrap after 4 billion series (or a hostile checkpoint):
         * then skip 0 and any id still in use. */
        id = h->next_id;
        while (id == 0 || id == UINT32_MAX || trn_head_by_id(h, id))
            id = id == UINT32_MAX ? 1 : id + 1;
    }
    if (id >= h->next_id) h->next_id = id + 1;
    if ((h->n_series + 1) * 2 > h->hash_cap) {
        rebuild_tables(h, h->hash_cap * 2);
        i = hash_slot(h, ls, hash);
    }
    s = trn_xcalloc(1, sizeof *s);
    s->hash = hash;
    s->id = id;
    s->n_labels = (uint32_t)ls->n;
    s->lbl = trn_xmalloc((ls->n ? 2 * ls->n : 1) * sizeof *s->lbl);
    for (size_t k = 0; k < ls->n; k++) {
        trn_str_t n = trn_intern_get(h->syms, ls->v[k].name);
        trn_str_t v = trn_intern_get(h->syms, ls->v[k].value);
        s->lbl[2 * k] = n.p;
        s->lbl[2 * k + 1] = v.p;
        trn_lindex_add(h->idx, n, v, id);
    }
    if (ls->n == 0) trn_lindex_add_id(h->idx, id);
    h->by_hash[i] = (hslot_t){hash, s};
    h->by_id[id_slot(h, id)] = s;
    h->n_series++;
    *created = true;
    return s;
}

uint32_t trn_hseries_id(const trn_hseries_t *s)
{
    return s->id;
}

size_t trn_hseries_n_labels(const trn_hseries_t *s)
{
    return s->n_labels;
}

void trn_hseries_labels(const trn_hseries_t *s, trn_label_t *out)
{
    for (uint32_t k = 0; k < s->n_labels; k++)
        out[k] = (trn_label_t){trn_intern_view(s->lbl[2 * k]), trn_intern_view(s->lbl[2 * k + 1])};
}

int trn_hseries_labels_arena(const trn_hseries_t *s, trn_arena_t *a, trn_labels_t *out)
{
    trn_label_t *v = trn_arena_alloc(a, (s->n_labels ? s->n_labels : 1) * sizeof *v);
    if (!v) return TRN_ELIMIT;
    trn_hseries_labels(s, v);
    *out = (trn_labels_t){v, s->n_labels};
    return 0;
}

bool trn_hseries_range(const trn_hseries_t *s, int64_t *min_t, int64_t *max_t)
{
    if (!s->n_samples) return false;
    *min_t = s->min_t;
    int64_t mx = s->max_t;
    if (s->n_ooo && s->ooo[s->n_ooo - 1].t_ms > mx) mx = s->ooo[s->n_ooo - 1].t_ms;
    *max_t = mx;
    return true;
}

/* ---- appending ---- */

static void note_time(trn_head_t *h, int64_t t)
{
    if (!h->has_data) {
        h->min_t = h->max_t = t;
        h->has_data = true;
    } else {
        if (t < h->min_t) h->min_t = t;
        if (t > h->max_t) h->max_t = t;
    }
}

static void close_chunk(trn_chunk_t *c)
{
    size_t n = trn_chunk_bytes(c);
    if (n && n < c->cap) {
        c->buf = trn_xrealloc(c->buf, n);
        c->cap = (uint32_t)n;
    }
}

static void chunk_append(trn_head_t *h, trn_hseries_t *s, int64_t t, double v)
{
    trn_chunk_t *c = s->n_chunks ? &s->chunks[s->n_chunks - 1] : NULL;
    if (!c || c->n >= TRN_CHUNK_SAMPLES) {
        if (c) close_chunk(c);
        if (s->n_chunks == s->cap_chunks) {
            s->cap_chunks++; /* a series holds few chunks: grow exactly */
            s->chunks = trn_xrealloc(s->chunks, s->cap_chunks * sizeof *s->chunks);
        }
        c = &s->chunks[s->n_chunks++];
        trn_chunk_init(c);
        h->n_chunks++;
    }
    trn_chunk_append(c, t, v);
}

/* Every sample of s, merged and sorted, into a heap buffer. */
static size_t collect_all(const trn_hseries_t *s, trn_sample_t **buf, size_t *cap)
{
    return trn_hseries_samples_heap(s, INT64_MIN, INT64_MAX, buf, cap);
}

/* Re-encodes s from its merged samples, keeping those at or after keep_from. */
static void series_rebuild(trn_head_t *h, trn_hseries_t *s, int64_t keep_from)
{
    trn_sample_t *buf = NULL;
    size_t cap = 0, n = collect_all(s, &buf, &cap);
    h->n_chunks -= s->n_chunks;
    h->n_samples -= s->n_samples;
    for (uint32_t i = 0; i < s->n_chunks; i++)
        trn_chunk_fini(&s->chunks[i]);
    s->n_chunks = 0;
    s->n_ooo = 0;
    s->n_samples = 0;
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (buf[i].t_ms < keep_from) continue;
        chunk_append(h, s, buf[i].t_ms, buf[i].v);
        if (first) s->min_t = buf[i].t_ms;
        first = false;
        s->max_t = buf[i].t_ms;
        s->n_samples++;
    }
    h->n_samples += s->n_samples;
    if (s->n_chunks) close_chunk(&s->chunks[s->n_chunks - 1]);
    if (s->cap_ooo > OOO_MERGE_AT * 2) {
        free(s->ooo);
        s->ooo = NULL;
        s->cap_ooo = 0;
    }
    free(buf);
}

static void ooo_insert(trn_head_t *h, trn_hseries_t *s, int64_t t, double v)
{
    size_t lo = 0, hi = s->n_ooo;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->ooo[mid].t_ms < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < s->n_ooo && s->ooo[lo].t_ms == t) {
        s->ooo[lo].v = v;
        return;
    }
    if (s->n_ooo == s->cap_ooo) {
        s->cap_ooo = s->cap_ooo ? s->cap_ooo * 2 : 8;
        s->ooo = trn_xrealloc(s->ooo, s->cap_ooo * sizeof *s->ooo);
    }
    memmove(s->ooo + lo + 1, s->ooo + lo, (s->n_ooo - lo) * sizeof *s->ooo);
    s->ooo[lo] = (trn_sample_t){t, v};
    s->n_ooo++;
    s->n_samples++;
    h->n_samples++;
    if (t < s->min_t) s->min_t = t;
    if (s->n_ooo > OOO_MERGE_AT) series_rebuild(h, s, INT64_MIN);
}

trn_head_append_t trn_head_append(trn_head_t *h, trn_hseries_t *s, int64_t t, double v, bool force)
{
    if (!s->n_samples) {
        if (!force && h->has_data && t < h->max_t - h->new_series_window_ms)
            return TRN_HEAD_TOO_OLD;
        chunk_append(h, s, t, v);
        s->min_t = s->max_t = t;
        s->n_samples = 1;
        h->n_samples++;
        note_time(h, t);
        return TRN_HEAD_APPENDED;
    }
    if (t > s->max_t) {
        chunk_append(h, s, t, v);
        s->max_t = t;
        s->n_samples++;
        h->n_samples++;
        note_time(h, t);
        return TRN_HEAD_APPENDED;
    }
    if (!force && t < s->max_t - h->ooo_window_ms) return TRN_HEAD_TOO_OLD;
    ooo_insert(h, s, t, v);
    note_time(h, t);
    return TRN_HEAD_OOO;
}

/* ---- reading ---- */

/* Upper bound of the samples of s in [mint, maxt]. */
static size_t count_bound(const trn_hseries_t *s, int64_t mint, int64_t maxt)
{
    size_t n = 0;
    for (uint32_t i = 0; i < s->n_chunks; i++)
        if (s->chunks[i].max_t >= mint && s->chunks[i].min_t <= maxt) n += s->chunks[i].n;
    return n + s->n_ooo;
}

/* Decodes into out (room for count_bound samples); returns the count. */
static size_t decode_range(const trn_hseries_t *s, int64_t mint, int64_t maxt, trn_sample_t *out)
{
    size_t n = 0, o = 0;
    /* Skip ooo samples before the range. */
    while (o < s->n_ooo && s->ooo[o].t_ms < mint)
        o++;
    for (uint32_t i = 0; i < s->n_chunks; i++) {
        const trn_chunk_t *c = &s->chunks[i];
        if (c->max_t < mint || c->min_t > maxt) continue;
        trn_chunk_iter_t it;
        trn_chunk_iter_init(&it, c->buf, trn_chunk_bytes(c), c->n);
        int64_t t;
        double v;
        while (trn_chunk_next(&it, &t, &v)) {
            if (t < mint) continue;
            if (t > maxt) break;
            while (o < s->n_ooo && s->ooo[o].t_ms < t && s->ooo[o].t_ms <= maxt)
                out[n++] = s->ooo[o++];
            if (o < s->n_ooo && s->ooo[o].t_ms == t)
                out[n++] = s->ooo[o++];
            else
                out[n++] = (trn_sample_t){t, v};
        }
        TRN_ASSERT(!it.err); /* head chunks are our own encoding */
    }
    while (o < s->n_ooo && s->ooo[o].t_ms <= maxt)
        out[n++] = s->ooo[o++];
    return n;
}

int trn_hseries_samples(const trn_hseries_t *s, int64_t mint, int64_t maxt, trn_arena_t *a,
                        trn_sample_t **out, size_t *n_out)
{
    size_t bound = count_bound(s, mint, maxt);
    trn_sample_t *buf = trn_arena_alloc(a, (bound ? bound : 1) * sizeof *buf);
    if (!buf) return TRN_ELIMIT;
    *n_out = decode_range(s, mint, maxt, buf);
    *out = buf;
    return 0;
}

size_t trn_hseries_samples_heap(const trn_hseries_t *s, int64_t mint, int64_t maxt,
                                trn_sample_t **buf, size_t *cap)
{
    size_t bound = count_bound(s, mint, maxt);
    if (bound > *cap) {
        *buf = trn_xrealloc(*buf, bound * sizeof **buf);
        *cap = bound;
    }
    return decode_range(s, mint, maxt, *buf);
}

int trn_head_select(trn_head_t *h, const trn_matcher_t *ms, size_t n_ms, trn_ids_t *out)
{
    trn_postings_src_t src = trn_lindex_src(h->idx);
    return trn_postings_select(&src, ms, n_ms, out);
}

int trn_head_each_value(trn_head_t *h, trn_str_t name, trn_value_fn *fn, void *ctx)
{
    trn_postings_src_t src = trn_lindex_src(h->idx);
    return src.each_value(src.ctx, name, fn, ctx);
}

int trn_head_each_name(trn_head_t *h, trn_value_fn *fn, void *ctx)
{
    return trn_lindex_each_name(h->idx, fn, ctx);
}

size_t trn_head_postings_len(trn_head_t *h, trn_str_t name, trn_str_t value)
{
    size_t n;
    trn_lindex_get(h->idx, name, value, &n);
    return n;
}

/* ---- truncation ---- */

static bool keep_live(void *ctx, uint32_t id)
{
    trn_hseries_t *s = trn_head_by_id(ctx, id);
    return s != NULL;
}

static void recompute_range(trn_head_t *h)
{
    h->has_data = false;
    for (size_t i = 0; i < h->id_cap; i++) {
        trn_hseries_t *s = h->by_id[i];
        int64_t mn, mx;
        if (!s || !trn_hseries_range(s, &mn, &mx)) continue;
        note_time(h, mn);
        note_time(h, mx);
    }
}

void trn_head_truncate(trn_head_t *h, int64_t t)
{
    for (size_t i = 0; i < h->id_cap; i++) {
        trn_hseries_t *s = h->by_id[i];
        if (!s || !s->n_samples || s->min_t >= t) continue;
        series_rebuild(h, s, t);
        if (!s->n_samples) series_free_data(s);
    }
    recompute_range(h);
}

trn_hseries_t **trn_head_unlink_empty(trn_head_t *h, size_t *n_out)
{
    trn_hseries_t **dead = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < h->id_cap; i++) {
        trn_hseries_t *s = h->by_id[i];
        if (!s || s->n_samples) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            dead = trn_xrealloc(dead, cap * sizeof *dead);
        }
        dead[n++] = s;
        h->by_id[i] = NULL;
    }
    if (n) {
        h->n_series -= n;
        /* Both tables lost members: rebuild them without holes (shrinking
         * when mostly empty), then filter the index. */
        size_t tcap = 1024;
        while (h->n_series * 2 > tcap)
            tcap *= 2;
        if (tcap * 4 > h->id_cap) tcap = h->id_cap;
        rebuild_tables(h, tcap);
        trn_lindex_retain(h->idx, keep_live, h);
    }
    *n_out = n;
    return dead;
}

void trn_head_release(trn_head_t *h, trn_hseries_t **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        trn_hseries_t *s = v[i];
        for (size_t k = 0; k < 2 * (size_t)s->n_labels; k++)
            trn_intern_put(h->syms, trn_intern_view(s->lbl[k]));
        free(s->lbl);
        series_free_data(s);
        free(s);
    }
}

static int cmp_series_id(const void *a, const void *b)
{
    uint32_t x = (*(trn_hseries_t *const *)a)->id, y = (*(trn_hseries_t *const *)b)->id;
    return (x > y) - (x < y);
}

void trn_head_each_series(trn_head_t *h, trn_hseries_fn *fn, void *ctx)
{
    trn_hseries_t **all = trn_xmalloc((h->n_series ? h->n_series : 1) * sizeof *all);
    size_t n = 0;
    for (size_t i = 0; i < h->id_cap; i++)
        if (h->by_id[i]) all[n++] = h->by_id[i];
    qsort(all, n, sizeof *all, cmp_series_id);
    for (size_t i = 0; i < n; i++)
        fn(ctx, all[i]);
    free(all);
}

void trn_head_stats(const trn_head_t *h, trn_head_stats_t *out)
{
    *out = (trn_head_stats_t){.series = h->n_series,
                              .samples = h->n_samples,
                              .chunks = h->n_chunks,
                              .min_t = h->has_data ? h->min_t : 0,
                              .max_t = h->has_data ? h->max_t : 0,
                              .next_id = h->next_id};
}
