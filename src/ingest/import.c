/* SPDX-License-Identifier: Apache-2.0 */
/* Exposition import: the whole body becomes one append batch.
 *
 * Backfill dumps list a series' samples one line after another, so a line
 * whose label set equals the previous line's extends that batch entry
 * instead of starting a new one; a comparison of two short sorted arrays
 * is far cheaper than a second series lookup in the store. Samples go into
 * one growing array, and entries record where their run starts; the
 * pointers are fixed up once at the end because the array may move while
 * it grows. Label sets are copied into the arena (the parser's views only
 * live until its next call); metadata (HELP/TYPE/UNIT) is merged per
 * family, with the text format's "untyped" reported as "unknown" as
 * Prometheus's metadata API does. The first parse error rejects the whole
 * body: import is for tests and backfills, where a silent partial import
 * is worse than a clear error with its line and column. */
#include "ingest/import.h"

#include "core/err.h"

#include <string.h>

static int no_memory(trn_diag_t *d)
{
    return trn_diag_set(d, TRN_ELIMIT, -1, "import: request exceeds the memory budget");
}

static trn_str_t copy_str(trn_arena_t *a, trn_str_t s)
{
    char *p = trn_arena_strndup(a, s.len ? s.p : "", s.len);
    return (trn_str_t){p, p ? s.len : 0};
}

/* The sample's labels with extra applied, into tmp (sized n + n_extra). */
static trn_labels_t with_extra(const trn_labels_t *ls, const trn_labels_t *extra, trn_label_t *tmp)
{
    size_t n = 0;
    for (size_t i = 0; i < ls->n; i++) {
        bool overridden = false;
        for (size_t k = 0; k < extra->n && !overridden; k++)
            overridden = trn_str_eq(ls->v[i].name, extra->v[k].name);
        if (!overridden) tmp[n++] = ls->v[i];
    }
    for (size_t k = 0; k < extra->n; k++)
        tmp[n++] = extra->v[k];
    trn_labels_t out = {tmp, n};
    trn_labels_sort(&out);
    trn_labels_drop_empty(&out);
    return out;
}

static int add_meta(trn_import_batch_t *b, size_t *cap, int kind, const trn_expo_meta_t *m,
                    trn_arena_t *a, trn_diag_t *d)
{
    trn_metric_meta_t *e = NULL;
    for (size_t i = b->n_meta; i-- > 0;)
        if (trn_str_eq(b->meta[i].metric, m->metric)) {
            e = &b->meta[i];
            break;
        }
    if (!e) {
        if (b->n_meta == *cap) {
            b->meta =
                trn_arena_grow(a, b->meta, *cap * sizeof *b->meta, *cap * 2 * sizeof *b->meta);
            if (!b->meta) return no_memory(d);
            *cap *= 2;
        }
        e = &b->meta[b->n_meta++];
        *e = (trn_metric_meta_t){.metric = copy_str(a, m->metric), .type = TRN_STR("unknown")};
    }
    trn_str_t text = copy_str(a, m->text);
    if (kind == TRN_EXPO_TYPE)
        e->type = trn_str_eqc(m->text, "untyped") ? TRN_STR("unknown") : text;
    else if (kind == TRN_EXPO_HELP)
        e->help = text;
    else
        e->unit = text;
    return trn_arena_failed(a) ? no_memory(d) : 0;
}

int trn_import_parse(const char *buf, size_t len, trn_expo_format_t fmt, int64_t now_ms,
                     const trn_labels_t *extra, size_t max_labels, trn_arena_t *a,
                     trn_import_batch_t *out, trn_diag_t *d)
{
    int rc = 0;
    trn_expo_parser_t *p = trn_expo_parser_new(buf, len, fmt, max_labels);
    trn_import_batch_t b = {0};
    size_t cap_s = 64, cap_v = 256, cap_m = 8, n_v = 0;
    size_t n_extra = extra ? extra->n : 0;
    b.series = trn_arena_alloc(a, cap_s * sizeof *b.series);
    size_t *first = trn_arena_alloc(a, cap_s * sizeof *first);
    trn_sample_t *smp = trn_arena_alloc(a, cap_v * sizeof *smp);
    b.meta = trn_arena_alloc(a, cap_m * sizeof *b.meta);
    trn_label_t *tmp =
        trn_arena_alloc(a, ((max_labels ? max_labels : 256) + 1 + n_extra) * sizeof *tmp);
    if (!b.series || !first || !smp || !b.meta || !tmp) {
        rc = no_memory(d);
        goto out;
    }
    for (;;) {
        trn_expo_sample_t s;
        trn_expo_meta_t m;
        rc = trn_expo_next(p, &s, &m, d);
        if (rc < 0) goto out;
        if (rc == TRN_EXPO_EOF) break;
        if (rc != TRN_EXPO_SAMPLE) {
            if ((rc = add_meta(&b, &cap_m, rc, &m, a, d)) < 0) goto out;
            continue;
        }
        if (s.has_exemplar) b.exemplars_skipped++;
        trn_labels_t ls = n_extra ? with_extra(&s.labels, extra, tmp) : s.labels;
        if (n_v == cap_v) {
            smp = trn_arena_grow(a, smp, cap_v * sizeof *smp, cap_v * 2 * sizeof *smp);
            if (!smp) {
                rc = no_memory(d);
                goto out;
            }
            cap_v *= 2;
        }
        smp[n_v++] = (trn_sample_t){s.has_timestamp ? s.t_ms : now_ms, s.value};
        b.n_samples++;
        if (b.n_series && trn_labels_equal(&b.series[b.n_series - 1].labels, &ls)) {
            b.series[b.n_series - 1].n_samples++;
            continue;
        }
        if (b.n_series == cap_s) {
            b.series =
                trn_arena_grow(a, b.series, cap_s * sizeof *b.series, cap_s * 2 * sizeof *b.series);
            first = trn_arena_grow(a, first, cap_s * sizeof *first, cap_s * 2 * sizeof *first);
            if (!b.series || !first) {
                rc = no_memory(d);
                goto out;
            }
            cap_s *= 2;
        }
        trn_append_series_t *e = &b.series[b.n_series];
        if (trn_labels_copy(a, &ls, &e->labels) < 0) {
            rc = no_memory(d);
            goto out;
        }
        e->n_samples = 1;
        e->samples = NULL;
        first[b.n_series++] = n_v - 1;
    }
    for (size_t i = 0; i < b.n_series; i++)
        b.series[i].samples = smp + first[i];
    *out = b;
    rc = 0;
out:
    trn_expo_parser_free(p);
    return rc;
}

int trn_import_split(const trn_import_batch_t *b, int64_t cutoff_ms, trn_arena_t *a,
                     trn_import_batch_t *old, trn_import_batch_t *recent, trn_diag_t *d)
{
    trn_import_batch_t o = {0}, r = {0};
    size_t n = b->n_series ? b->n_series : 1, nv = b->n_samples ? b->n_samples : 1;
    o.series = trn_arena_alloc(a, n * sizeof *o.series);
    r.series = trn_arena_alloc(a, n * sizeof *r.series);
    trn_sample_t *os = trn_arena_alloc(a, nv * sizeof *os);
    trn_sample_t *rs = trn_arena_alloc(a, nv * sizeof *rs);
    if (!o.series || !r.series || !os || !rs) return no_memory(d);
    for (size_t i = 0; i < b->n_series; i++) {
        const trn_append_series_t *s = &b->series[i];
        trn_append_series_t *oe = &o.series[o.n_series], *re = &r.series[r.n_series];
        *oe = (trn_append_series_t){.labels = s->labels, .samples = os};
        *re = (trn_append_series_t){.labels = s->labels, .samples = rs};
        for (size_t k = 0; k < s->n_samples; k++) {
            if (s->samples[k].t_ms < cutoff_ms)
                os[oe->n_samples++] = s->samples[k];
            else
                rs[re->n_samples++] = s->samples[k];
        }
        os += oe->n_samples;
        rs += re->n_samples;
        o.n_samples += oe->n_samples;
        r.n_samples += re->n_samples;
        o.n_series += oe->n_samples > 0;
        r.n_series += re->n_samples > 0;
    }
    *old = o;
    *recent = r;
    return 0;
}
