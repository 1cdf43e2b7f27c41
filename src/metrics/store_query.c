/* SPDX-License-Identifier: Apache-2.0 */
/* Queriers: one read view over the head and the blocks of a time range
 * (contract: trn_querier_* in metrics/store.h).
 *
 * A querier pins the blocks overlapping its range when it is created (a
 * reference each, so compaction and retention cannot unmap them under it)
 * and registers itself in the current "generation". A block cut publishes
 * its block, bumps the generation, and waits for queriers of the previous
 * generation to close before it drops the cut samples from the head: an old
 * querier never sees the block, so it must keep seeing those samples in the
 * head (store_maint.c). Head series emptied by a cut are first unlinked
 * from the head's index, then freed only after every querier older than the
 * unlinking has closed, so the label views a querier hands out stay valid
 * until it closes.
 *
 * select gathers candidates from every source — head series through the
 * head's label index, block series through each block's index — sorts them
 * by label set and merges equal label sets into one entry whose ref lists
 * its sources. samples decodes each source and merges by time; on equal
 * timestamps the newer source wins (blocks by creation order, the head over
 * every block), which is what makes overlapping blocks from out-of-order
 * data, backfill and compaction in progress read as one series. */
#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "metrics/store_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct qref {
    uint32_t blk; /* index into q->blocks */
    uint32_t id;
} qref_t;

typedef struct qent {
    trn_hseries_t *hs; /* or NULL */
    size_t first_ref;
    uint32_t n_refs;
} qent_t;

struct trn_querier {
    trn_store_t *s;
    int64_t mint, maxt;
    unsigned gen;
    trn_block_t **blocks;
    uint64_t *block_ids;
    size_t n_blocks;
    trn_block_cache_t cache;
    qent_t *ents;
    size_t n_ents, cap_ents;
    qref_t *refs;
    size_t n_refs, cap_refs;
};

int trn_store_querier(trn_store_t *s, int64_t mint_ms, int64_t maxt_ms, trn_querier_t **out)
{
    trn_querier_t *q = trn_xcalloc(1, sizeof *q);
    q->s = s;
    q->mint = mint_ms;
    q->maxt = maxt_ms;
    pthread_mutex_lock(&s->blocks_mu);
    q->gen = s->generation;
    s->open_queriers[q->gen & 1]++;
    if (s->n_blocks) {
        q->blocks = trn_xmalloc(s->n_blocks * sizeof *q->blocks);
        q->block_ids = trn_xmalloc(s->n_blocks * sizeof *q->block_ids);
    }
    for (size_t i = 0; i < s->n_blocks; i++) {
        const trn_block_meta_t *m = trn_block_meta(s->blocks[i]);
        if (m->max_t < mint_ms || m->min_t > maxt_ms) continue;
        trn_block_ref(s->blocks[i]);
        q->blocks[q->n_blocks] = s->blocks[i];
        q->block_ids[q->n_blocks++] = s->block_ids[i];
    }
    pthread_mutex_unlock(&s->blocks_mu);
    *out = q;
    return 0;
}

void trn_querier_close(trn_querier_t *q)
{
    if (!q) return;
    trn_store_t *s = q->s;
    pthread_mutex_lock(&s->blocks_mu);
    s->open_queriers[q->gen & 1]--;
    pthread_cond_broadcast(&s->blocks_cv);
    pthread_mutex_unlock(&s->blocks_mu);
    for (size_t i = 0; i < q->n_blocks; i++)
        trn_block_unref(q->blocks[i]);
    trn_block_cache_fini(&q->cache);
    free(q->blocks);
    free(q->block_ids);
    free(q->ents);
    free(q->refs);
    free(q);
}

static void log_corrupt(const trn_querier_t *q, size_t blk, const trn_diag_t *d)
{
    trn_log(TRN_LOG_ERROR, "tsdb", "corrupt block", "file", trn_block_path(q->blocks[blk]), "error",
            d && d->code ? d->msg : "index entry out of bounds", NULL);
}

/* One candidate series from one source. */
typedef struct cand {
    trn_labels_t ls;
    trn_hseries_t *hs; /* head source, or NULL */
    uint32_t blk, id;  /* block source */
} cand_t;

typedef struct cands {
    cand_t *v;
    size_t n, cap;
} cands_t;

static void cand_push(cands_t *c, cand_t x)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 256;
        c->v = trn_xrealloc(c->v, c->cap * sizeof *c->v);
    }
    c->v[c->n++] = x;
}

static int cmp_cand(const void *a, const void *b)
{
    return trn_labels_cmp(&((const cand_t *)a)->ls, &((const cand_t *)b)->ls);
}

/* Every source's series matching ms with samples in the querier's range,
 * sorted by labels (equal label sets adjacent). */
static int gather(trn_querier_t *q, const trn_matcher_t *ms, size_t n_ms, trn_arena_t *a,
                  cands_t *out, trn_diag_t *d)
{
    trn_ids_t ids = {0};
    pthread_rwlock_rdlock(&q->s->lock);
    int rc = trn_head_select(q->s->head, ms, n_ms, &ids);
    for (size_t i = 0; rc == 0 && i < ids.n; i++) {
        trn_hseries_t *hs = trn_head_by_id(q->s->head, ids.v[i]);
        int64_t mn, mx;
        if (!hs || !trn_hseries_range(hs, &mn, &mx) || mx < q->mint || mn > q->maxt) continue;
        cand_t c = {.hs = hs};
        if (trn_hseries_labels_arena(hs, a, &c.ls) < 0) {
            rc = trn_diag_set(d, TRN_ELIMIT, -1, "query memory budget exceeded selecting series");
            break;
        }
        cand_push(out, c);
    }
    pthread_rwlock_unlock(&q->s->lock);
    for (size_t b = 0; rc == 0 && b < q->n_blocks; b++) {
        trn_postings_src_t src = trn_block_src(q->blocks[b]);
        ids.n = 0;
        rc = trn_postings_select(&src, ms, n_ms, &ids);
        if (rc < 0) {
            log_corrupt(q, b, NULL);
            trn_diag_set(d, rc, -1, "corrupt block %s", trn_block_path(q->blocks[b]));
            break;
        }
        for (size_t i = 0; i < ids.n; i++) {
            cand_t c = {.blk = (uint32_t)b, .id = ids.v[i]};
            int64_t mn, mx;
            rc = trn_block_series(q->blocks[b], ids.v[i], a, &c.ls, &mn, &mx, d);
            if (rc < 0) {
                if (rc == TRN_ECORRUPT) log_corrupt(q, b, d);
                break;
            }
            if (mx < q->mint || mn > q->maxt) continue;
            cand_push(out, c);
        }
    }
    trn_ids_fini(&ids);
    if (rc == 0 && out->n > 1) qsort(out->v, out->n, sizeof *out->v, cmp_cand);
    return rc;
}

int trn_querier_select(trn_querier_t *q, const trn_matcher_t *ms, size_t n_ms, trn_arena_t *a,
                       trn_series_t **out, size_t *n_out, trn_diag_t *d)
{
    if (n_ms == 0) return trn_diag_set(d, TRN_EINVAL, -1, "at least one matcher is required");
    cands_t c = {0};
    int rc = gather(q, ms, n_ms, a, &c, d);
    trn_series_t *res = NULL;
    size_t n = 0;
    if (rc == 0) {
        res = trn_arena_alloc(a, (c.n ? c.n : 1) * sizeof *res);
        if (!res)
            rc = trn_diag_set(d, TRN_ELIMIT, -1, "query memory budget exceeded selecting series");
    }
    for (size_t i = 0; rc == 0 && i < c.n;) {
        size_t j = i + 1;
        while (j < c.n && trn_labels_equal(&c.v[j].ls, &c.v[i].ls))
            j++;
        if (q->n_ents == q->cap_ents) {
            q->cap_ents = q->cap_ents ? q->cap_ents * 2 : 64;
            q->ents = trn_xrealloc(q->ents, q->cap_ents * sizeof *q->ents);
        }
        qent_t *e = &q->ents[q->n_ents];
        *e = (qent_t){.first_ref = q->n_refs};
        for (size_t k = i; k < j; k++) {
            if (c.v[k].hs) {
                e->hs = c.v[k].hs;
                continue;
            }
            if (q->n_refs == q->cap_refs) {
                q->cap_refs = q->cap_refs ? q->cap_refs * 2 : 64;
                q->refs = trn_xrealloc(q->refs, q->cap_refs * sizeof *q->refs);
            }
            q->refs[q->n_refs++] = (qref_t){c.v[k].blk, c.v[k].id};
            e->n_refs++;
        }
        res[n].labels = c.v[i].ls;
        res[n].ref = q->n_ents++;
        n++;
        i = j;
    }
    free(c.v);
    if (rc < 0) return rc;
    *out = res;
    *n_out = n;
    return 0;
}

/* Merges y into x by time; y wins equal timestamps. */
static int merge(trn_arena_t *a, trn_sample_t **x, size_t *nx, trn_sample_t *y, size_t ny)
{
    if (!ny) return 0;
    if (!*nx) {
        *x = y;
        *nx = ny;
        return 0;
    }
    trn_sample_t *r = trn_arena_alloc(a, (*nx + ny) * sizeof *r);
    if (!r) return TRN_ELIMIT;
    size_t i = 0, j = 0, k = 0;
    while (i < *nx || j < ny) {
        if (j == ny || (i < *nx && (*x)[i].t_ms < y[j].t_ms))
            r[k++] = (*x)[i++];
        else {
            if (i < *nx && (*x)[i].t_ms == y[j].t_ms) i++;
            r[k++] = y[j++];
        }
    }
    *x = r;
    *nx = k;
    return 0;
}

int trn_querier_samples(trn_querier_t *q, const trn_series_t *s, int64_t mint_ms, int64_t maxt_ms,
                        trn_arena_t *a, trn_sample_t **out, size_t *n_out)
{
    if (s->ref >= q->n_ents) return TRN_EINVAL;
    if (mint_ms < q->mint) mint_ms = q->mint;
    if (maxt_ms > q->maxt) maxt_ms = q->maxt;
    *out = NULL;
    *n_out = 0;
    if (mint_ms > maxt_ms) return 0;
    const qent_t *e = &q->ents[s->ref];
    trn_sample_t *acc = NULL;
    size_t n_acc = 0;
    /* Blocks oldest first (creation order), so newer ones win on merge. */
    size_t n_ord = e->n_refs;
    qref_t *order = trn_arena_alloc(a, (n_ord ? n_ord : 1) * sizeof *order);
    if (!order) return TRN_ELIMIT;
    if (n_ord) memcpy(order, q->refs + e->first_ref, n_ord * sizeof *order);
    for (size_t i = 1; i < n_ord; i++)
        for (size_t k = i; k > 0 && q->block_ids[order[k - 1].blk] > q->block_ids[order[k].blk];
             k--) {
            qref_t t = order[k];
            order[k] = order[k - 1];
            order[k - 1] = t;
        }
    for (size_t i = 0; i < n_ord; i++) {
        trn_sample_t *part;
        size_t n;
        trn_diag_t d;
        trn_diag_init(&d);
        int rc = trn_block_samples(q->blocks[order[i].blk], order[i].id, mint_ms, maxt_ms,
                                   &q->cache, a, &part, &n, &d);
        if (rc == TRN_ECORRUPT) log_corrupt(q, order[i].blk, &d);
        if (rc < 0) return rc;
        if (merge(a, &acc, &n_acc, part, n) < 0) return TRN_ELIMIT;
    }
    if (e->hs) {
        trn_sample_t *part;
        size_t n;
        pthread_rwlock_rdlock(&q->s->lock);
        int rc = trn_hseries_samples(e->hs, mint_ms, maxt_ms, a, &part, &n);
        pthread_rwlock_unlock(&q->s->lock);
        if (rc < 0) return rc;
        if (merge(a, &acc, &n_acc, part, n) < 0) return TRN_ELIMIT;
    }
    *out = acc;
    *n_out = n_acc;
    return 0;
}

/* A growing array of string views in the arena, sorted and deduplicated at
 * the end. */
typedef struct strset {
    trn_arena_t *a;
    trn_str_t *v;
    size_t n, cap;
} strset_t;

static int cmp_str(const void *a, const void *b)
{
    return trn_str_cmp(*(const trn_str_t *)a, *(const trn_str_t *)b);
}

static void strset_finish(strset_t *ss)
{
    if (ss->n < 2) return;
    qsort(ss->v, ss->n, sizeof *ss->v, cmp_str);
    size_t k = 1;
    for (size_t i = 1; i < ss->n; i++)
        if (!trn_str_eq(ss->v[i], ss->v[k - 1])) ss->v[k++] = ss->v[i];
    ss->n = k;
}

static int strset_add(void *ctx, trn_str_t v)
{
    strset_t *ss = ctx;
    if (ss->n == ss->cap) {
        /* Deduplicate before growing: many series share few values. */
        if (ss->n >= 4096) {
            strset_finish(ss);
            if (ss->n * 2 <= ss->cap) goto add;
        }
        size_t cap = ss->cap ? ss->cap * 2 : 32;
        trn_str_t *nv = trn_arena_grow(ss->a, ss->v, ss->n * sizeof *nv, cap * sizeof *nv);
        if (!nv) return TRN_ELIMIT;
        ss->v = nv;
        ss->cap = cap;
    }
add:
    ss->v[ss->n++] = v;
    return 0;
}

static int collect(trn_querier_t *q, const trn_matcher_t *ms, size_t n_ms, const trn_str_t *name,
                   trn_arena_t *a, strset_t *ss)
{
    cands_t c = {0};
    int rc = gather(q, ms, n_ms, a, &c, NULL);
    for (size_t i = 0; rc == 0 && i < c.n; i++) {
        const trn_labels_t *ls = &c.v[i].ls;
        for (size_t k = 0; k < ls->n && rc == 0; k++) {
            if (!name)
                rc = strset_add(ss, ls->v[k].name);
            else if (trn_str_eq(ls->v[k].name, *name))
                rc = strset_add(ss, ls->v[k].value);
        }
    }
    free(c.v);
    return rc;
}

/* Whether the head holds samples inside the querier's range. Listings
 * without matchers answer from the index (fast), so like Prometheus they
 * are as precise as the head's and blocks' time ranges, not per series. */
static bool head_overlaps(trn_querier_t *q)
{
    trn_head_stats_t hs;
    trn_head_stats(q->s->head, &hs);
    return hs.series > 0 && hs.min_t <= q->maxt && hs.max_t >= q->mint;
}

int trn_querier_label_names(trn_querier_t *q, const trn_matcher_t *ms, size_t n_ms, trn_arena_t *a,
                            trn_str_t **out, size_t *n_out)
{
    strset_t ss = {.a = a};
    int rc = 0;
    if (n_ms)
        rc = collect(q, ms, n_ms, NULL, a, &ss);
    else {
        pthread_rwlock_rdlock(&q->s->lock);
        if (head_overlaps(q)) rc = trn_head_each_name(q->s->head, strset_add, &ss);
        pthread_rwlock_unlock(&q->s->lock);
        for (size_t b = 0; rc == 0 && b < q->n_blocks; b++)
            rc = trn_block_each_name(q->blocks[b], strset_add, &ss);
    }
    if (rc < 0) return rc;
    strset_finish(&ss);
    *out = ss.v;
    *n_out = ss.n;
    return 0;
}

int trn_querier_label_values(trn_querier_t *q, trn_str_t name, const trn_matcher_t *ms, size_t n_ms,
                             trn_arena_t *a, trn_str_t **out, size_t *n_out)
{
    strset_t ss = {.a = a};
    int rc = 0;
    if (n_ms)
        rc = collect(q, ms, n_ms, &name, a, &ss);
    else {
        pthread_rwlock_rdlock(&q->s->lock);
        if (head_overlaps(q)) rc = trn_head_each_value(q->s->head, name, strset_add, &ss);
        pthread_rwlock_unlock(&q->s->lock);
        for (size_t b = 0; rc == 0 && b < q->n_blocks; b++) {
            trn_postings_src_t src = trn_block_src(q->blocks[b]);
            rc = src.each_value(src.ctx, name, strset_add, &ss);
        }
    }
    if (rc < 0) return rc;
    strset_finish(&ss);
    *out = ss.v;
    *n_out = ss.n;
    return 0;
}
