/* SPDX-License-Identifier: Apache-2.0 */
/* Prometheus remote_write 1.0: snappy block + protobuf WriteRequest.
 *
 * Field numbers (prompb/remote.proto and types.proto):
 *   WriteRequest   { 1 repeated TimeSeries timeseries; 2 reserved;
 *                    3 repeated MetricMetadata metadata }
 *   TimeSeries     { 1 repeated Label labels; 2 repeated Sample samples;
 *                    3 repeated Exemplar exemplars; 4 repeated Histogram histograms }
 *   Label          { 1 string name; 2 string value }
 *   Sample         { 1 double value; 2 int64 timestamp }
 *   MetricMetadata { 1 MetricType type (enum); 2 string metric_family_name;
 *                    4 string help; 5 string unit }
 *
 * Decoding is allocation-light by construction. One pass over the top level
 * counts the series and metadata entries so their arrays are allocated once;
 * then every series' labels and samples are decoded into two request-wide
 * arrays (see pools_t), and label strings are views into the decompressed
 * buffer, so a request costs a few arena allocations in all, none per
 * series or sample. The common encodings of a field and of a Label take
 * inline fast paths (pb.h, decode_label). Wrong wire types for known fields are
 * errors (as in the gogo-generated Go decoder Prometheus uses); unknown
 * fields are skipped, as protobuf requires.
 *
 * Validation follows Prometheus: label names [a-zA-Z_][a-zA-Z0-9_]*, no
 * duplicates, a metric name [a-zA-Z_:][a-zA-Z0-9_:]*, UTF-8 values. Labels
 * arrive sorted from every real client; when they are not, they are sorted
 * here rather than rejected. Empty values mean "absent" and are dropped
 * after validation. A series that fails validation is dropped and counted
 * by reason; the first reason (with its byte offset) is kept so the HTTP
 * layer can answer 400 naming it while the valid series are stored. */
#include "ingest/remote_write.h"

#include "core/err.h"
#include "core/labels.h"
#include "core/pb.h"

#include <snappy-c.h>
#include <string.h>

#define DEFAULT_MAX_DECODED (256u << 20)
#define DEFAULT_MAX_LABELS 256

static const char *const drop_names[TRN_RW_DROP_N] = {
    [TRN_RW_DROP_EMPTY_LABEL_NAME] = "empty_label_name",
    [TRN_RW_DROP_INVALID_LABEL_NAME] = "invalid_label_name",
    [TRN_RW_DROP_DUPLICATE_LABEL_NAME] = "duplicate_label_name",
    [TRN_RW_DROP_MISSING_METRIC_NAME] = "missing_metric_name",
    [TRN_RW_DROP_INVALID_METRIC_NAME] = "invalid_metric_name",
    [TRN_RW_DROP_INVALID_UTF8] = "invalid_utf8",
    [TRN_RW_DROP_TOO_MANY_LABELS] = "too_many_labels",
};

const char *trn_rw_drop_name(trn_rw_drop_t r)
{
    return (unsigned)r < TRN_RW_DROP_N ? drop_names[r] : "unknown";
}

/* Values of MetricMetadata.MetricType, as Prometheus's metadata API names them. */
static const char *const meta_types[] = {"unknown",        "counter", "gauge", "histogram",
                                         "gaugehistogram", "summary", "info",  "stateset"};

int trn_rw_snappy_decode(const char *buf, size_t len, size_t max_bytes, trn_arena_t *a,
                         trn_str_t *out, trn_diag_t *d)
{
    size_t n;
    if (snappy_uncompressed_length(buf, len, &n) != SNAPPY_OK)
        return trn_diag_set(d, TRN_EINVAL, 0,
                            "snappy: invalid block header at byte offset 0 (body of %zu bytes is "
                            "not snappy block-compressed)",
                            len);
    if (n > max_bytes)
        return trn_diag_set(d, TRN_ELIMIT, 0,
                            "snappy: decompressed size %zu exceeds the limit of %zu bytes", n,
                            max_bytes);
    char *dst = trn_arena_alloc(a, n ? n : 1);
    if (!dst)
        return trn_diag_set(d, TRN_ELIMIT, -1,
                            "request needs %zu bytes decompressed, over the memory budget", n);
    size_t got = n;
    if (snappy_uncompress(buf, len, dst, &got) != SNAPPY_OK || got != n)
        return trn_diag_set(d, TRN_EINVAL, -1,
                            "snappy: corrupt block (%zu compressed bytes, %zu claimed "
                            "decompressed)",
                            len, n);
    out->p = dst;
    out->len = n;
    return 0;
}

/* Offset of a view into the buffer the reader started on. */
static size_t off_of(const trn_pb_t *r, const char *p)
{
    return (size_t)((const uint8_t *)p - r->base);
}

static int no_memory(trn_diag_t *d)
{
    return trn_diag_set(d, TRN_ELIMIT, -1, "remote_write: request exceeds the memory budget");
}

/* Fills *l from a Label message. Absent fields stay zero-length views at
 * the message start so that offsets of errors still point somewhere useful.
 * The usual encoding (name then value, both shorter than 128 bytes) is
 * recognised in one step; anything else takes the general loop. */
static int decode_label(const trn_pb_t *parent, const trn_pb_field_t *lf, trn_label_t *l,
                        trn_diag_t *d)
{
    const uint8_t *p = (const uint8_t *)lf->bytes.p;
    size_t n = lf->bytes.len;
    if (n >= 4 && p[0] == 0x0a && p[1] < 0x80 && (size_t)p[1] + 4 <= n) {
        size_t nl = p[1];
        const uint8_t *q = p + 2 + nl;
        if (q[0] == 0x12 && q[1] < 0x80 && nl + 4 + q[1] == n) {
            l->name = (trn_str_t){(const char *)p + 2, nl};
            l->value = (trn_str_t){(const char *)q + 2, q[1]};
            return 0;
        }
    }
    trn_pb_t r = trn_pb_sub(parent, lf);
    l->name.p = l->value.p = lf->bytes.p;
    l->name.len = l->value.len = 0;
    trn_pb_field_t f;
    int rc;
    while ((rc = trn_pb_next(&r, &f, d)) > 0) {
        if (f.num == 1) {
            if (trn_pb_want(&f, TRN_PB_LEN, "Label", "name", d) < 0) return TRN_EINVAL;
            l->name = f.bytes;
        } else if (f.num == 2) {
            if (trn_pb_want(&f, TRN_PB_LEN, "Label", "value", d) < 0) return TRN_EINVAL;
            l->value = f.bytes;
        }
    }
    return rc;
}

static int decode_sample(const trn_pb_t *parent, const trn_pb_field_t *sf, trn_sample_t *s,
                         trn_diag_t *d)
{
    /* The usual encoding: value (fixed64) then timestamp (varint), nothing else. */
    const uint8_t *p = (const uint8_t *)sf->bytes.p, *e = p + sf->bytes.len;
    if (sf->bytes.len >= 11 && p[0] == 0x09 && p[9] == 0x10) {
        uint64_t x = 0;
        const uint8_t *q = p + 10;
        for (unsigned shift = 0; q < e && shift < 63; shift += 7) {
            uint8_t b = *q++;
            x |= (uint64_t)(b & 0x7f) << shift;
            if (b < 0x80) {
                if (q != e) break; /* trailing fields: take the general path */
                memcpy(&s->v, p + 1, 8);
                s->t_ms = (int64_t)x;
                return 0;
            }
        }
    }
    trn_pb_t r = trn_pb_sub(parent, sf);
    s->t_ms = 0;
    s->v = 0;
    trn_pb_field_t f;
    int rc;
    while ((rc = trn_pb_next(&r, &f, d)) > 0) {
        if (f.num == 1) {
            if (trn_pb_want(&f, TRN_PB_I64, "Sample", "value", d) < 0) return TRN_EINVAL;
            s->v = trn_pb_double(&f);
        } else if (f.num == 2) {
            if (trn_pb_want(&f, TRN_PB_VARINT, "Sample", "timestamp", d) < 0) return TRN_EINVAL;
            s->t_ms = trn_pb_int64(&f);
        }
    }
    return rc;
}

/* True if p[0..n) is all ASCII (checked a word at a time). */
static bool is_ascii(const char *p, size_t n)
{
    uint64_t acc = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        acc |= w;
    }
    for (; i < n; i++)
        acc |= (unsigned char)p[i];
    return (acc & UINT64_C(0x8080808080808080)) == 0;
}

static const char *clip_note(size_t len)
{
    return len > 64 ? "..." : "";
}

/* Validates a series' labels (sorting them first if needed); on failure
 * records the first drop reason in res->drop and returns the reason, else -1. */
static int check_labels(const trn_pb_t *r, trn_labels_t *ls, size_t max_labels,
                        trn_rw_result_t *res)
{
    trn_diag_t *d = &res->drop;
    bool sorted = true;
    for (size_t i = 1; i < ls->n && sorted; i++) {
        const trn_str_t *x = &ls->v[i - 1].name, *y = &ls->v[i].name;
        /* Distinct first bytes decide most comparisons without a call. */
        if (x->len && y->len && x->p[0] != y->p[0])
            sorted = (unsigned char)x->p[0] < (unsigned char)y->p[0];
        else
            sorted = trn_str_cmp(*x, *y) <= 0;
    }
    if (!sorted) trn_labels_sort(ls);
    if (ls->n > max_labels) {
        trn_diag_set(d, TRN_EINVAL, (int64_t)off_of(r, ls->v[0].name.p),
                     "series with %zu labels exceeds the limit of %zu labels (byte offset %zu)",
                     ls->n, max_labels, off_of(r, ls->v[0].name.p));
        return TRN_RW_DROP_TOO_MANY_LABELS;
    }
    bool has_name = false;
    for (size_t i = 0; i < ls->n; i++) {
        const trn_label_t *l = &ls->v[i];
        size_t off = off_of(r, l->name.p);
        if (l->name.len == 0) {
            trn_diag_set(d, TRN_EINVAL, (int64_t)off, "empty label name at byte offset %zu", off);
            return TRN_RW_DROP_EMPTY_LABEL_NAME;
        }
        if (!trn_label_name_valid(l->name)) {
            trn_diag_set(
                d, TRN_EINVAL, (int64_t)off, "invalid label name \"%.*s%s\" at byte offset %zu",
                (int)(l->name.len > 64 ? 64 : l->name.len), l->name.p, clip_note(l->name.len), off);
            return TRN_RW_DROP_INVALID_LABEL_NAME;
        }
        if (i > 0 && trn_str_eq(ls->v[i - 1].name, l->name)) {
            trn_diag_set(
                d, TRN_EINVAL, (int64_t)off, "duplicate label name \"%.*s%s\" at byte offset %zu",
                (int)(l->name.len > 64 ? 64 : l->name.len), l->name.p, clip_note(l->name.len), off);
            return TRN_RW_DROP_DUPLICATE_LABEL_NAME;
        }
        size_t voff = off_of(r, l->value.p);
        if (!is_ascii(l->value.p, l->value.len) && !trn_utf8_valid(l->value.p, l->value.len)) {
            trn_diag_set(d, TRN_EINVAL, (int64_t)voff,
                         "label \"%.*s\" has an invalid UTF-8 value at byte offset %zu",
                         (int)(l->name.len > 64 ? 64 : l->name.len), l->name.p, voff);
            return TRN_RW_DROP_INVALID_UTF8;
        }
        if (l->name.len == 8 && memcmp(l->name.p, TRN_METRIC_NAME, 8) == 0 && l->value.len) {
            has_name = true;
            if (!trn_metric_name_valid(l->value)) {
                trn_diag_set(d, TRN_EINVAL, (int64_t)voff,
                             "invalid metric name \"%.*s%s\" at byte offset %zu",
                             (int)(l->value.len > 64 ? 64 : l->value.len), l->value.p,
                             clip_note(l->value.len), voff);
                return TRN_RW_DROP_INVALID_METRIC_NAME;
            }
        }
    }
    if (!has_name) {
        size_t off = ls->n ? off_of(r, ls->v[0].name.p) : trn_pb_offset(r);
        trn_diag_set(d, TRN_EINVAL, (int64_t)off,
                     "series without a metric name (__name__) at byte offset %zu", off);
        return TRN_RW_DROP_MISSING_METRIC_NAME;
    }
    trn_labels_drop_empty(ls);
    return -1;
}

/* Request-wide arrays that every series' labels and samples are decoded
 * into, so that a series costs no allocation of its own. They grow by
 * doubling (rarely: they start at a size estimated from the body), which
 * may move them, so series record offsets and the pointers are set once
 * at the end. A dropped series gives its space back. */
typedef struct pools {
    trn_label_t *lab;
    size_t n_lab, cap_lab;
    trn_sample_t *smp;
    size_t n_smp, cap_smp;
    size_t *lab_off, *smp_off; /* per output series */
} pools_t;

static bool grow(trn_arena_t *a, void **arr, size_t *cap, size_t elem)
{
    void *n = trn_arena_grow(a, *arr, *cap * elem, *cap * 2 * elem);
    if (!n) return false;
    *arr = n;
    *cap *= 2;
    return true;
}

/* Decodes one TimeSeries as output series number idx; returns 1 if it is
 * to be appended, 0 if skipped (no samples, or dropped), or an error. */
static int decode_series(const trn_pb_t *top, const trn_pb_field_t *tf, const trn_rw_limits_t *lim,
                         trn_arena_t *a, pools_t *pl, size_t idx, trn_append_series_t *out,
                         trn_rw_result_t *res, trn_diag_t *d)
{
    size_t lab0 = pl->n_lab, smp0 = pl->n_smp;
    trn_pb_t r = trn_pb_sub(top, tf);
    trn_pb_field_t f;
    int rc;
    while ((rc = trn_pb_next(&r, &f, d)) > 0) {
        switch (f.num) {
        case 1:
            if (trn_pb_want(&f, TRN_PB_LEN, "TimeSeries", "labels", d) < 0) return TRN_EINVAL;
            if (pl->n_lab == pl->cap_lab &&
                !grow(a, (void **)&pl->lab, &pl->cap_lab, sizeof *pl->lab))
                return no_memory(d);
            if (decode_label(&r, &f, &pl->lab[pl->n_lab++], d) < 0) return TRN_EINVAL;
            break;
        case 2:
            if (trn_pb_want(&f, TRN_PB_LEN, "TimeSeries", "samples", d) < 0) return TRN_EINVAL;
            if (pl->n_smp == pl->cap_smp &&
                !grow(a, (void **)&pl->smp, &pl->cap_smp, sizeof *pl->smp))
                return no_memory(d);
            if (decode_sample(&r, &f, &pl->smp[pl->n_smp++], d) < 0) return TRN_EINVAL;
            break;
        case 3:
            if (trn_pb_want(&f, TRN_PB_LEN, "TimeSeries", "exemplars", d) < 0) return TRN_EINVAL;
            res->exemplars_skipped++;
            break;
        case 4:
            if (trn_pb_want(&f, TRN_PB_LEN, "TimeSeries", "histograms", d) < 0) return TRN_EINVAL;
            res->histograms_skipped++;
            break;
        default:
            break;
        }
    }
    if (rc < 0) return rc;

    size_t n_samples = pl->n_smp - smp0;
    trn_labels_t ls = {.v = pl->lab + lab0, .n = pl->n_lab - lab0};
    int why = check_labels(&r, &ls, lim->max_labels, res);
    if (why >= 0 || n_samples == 0) {
        if (why >= 0) {
            res->dropped_series++;
            res->dropped_samples += n_samples;
            res->dropped[why] += n_samples;
        }
        pl->n_lab = lab0;
        pl->n_smp = smp0;
        return 0;
    }
    pl->n_lab = lab0 + ls.n; /* empty-valued labels were dropped */
    pl->lab_off[idx] = lab0;
    pl->smp_off[idx] = smp0;
    out->labels.n = ls.n;
    out->n_samples = n_samples;
    res->n_samples += n_samples;
    return 1;
}

static int decode_meta(const trn_pb_t *top, const trn_pb_field_t *mf, trn_metric_meta_t *m,
                       trn_diag_t *d)
{
    trn_pb_t r = trn_pb_sub(top, mf);
    memset(m, 0, sizeof *m);
    m->type = TRN_STR("unknown");
    trn_pb_field_t f;
    int rc;
    while ((rc = trn_pb_next(&r, &f, d)) > 0) {
        switch (f.num) {
        case 1:
            if (trn_pb_want(&f, TRN_PB_VARINT, "MetricMetadata", "type", d) < 0) return TRN_EINVAL;
            /* Unknown enum values read as "unknown", as proto3 open enums allow. */
            m->type = trn_str_c(f.u < sizeof meta_types / sizeof meta_types[0] ? meta_types[f.u]
                                                                               : "unknown");
            break;
        case 2:
            if (trn_pb_want(&f, TRN_PB_LEN, "MetricMetadata", "metric_family_name", d) < 0)
                return TRN_EINVAL;
            m->metric = f.bytes;
            break;
        case 4:
            if (trn_pb_want(&f, TRN_PB_LEN, "MetricMetadata", "help", d) < 0) return TRN_EINVAL;
            m->help = f.bytes;
            break;
        case 5:
            if (trn_pb_want(&f, TRN_PB_LEN, "MetricMetadata", "unit", d) < 0) return TRN_EINVAL;
            m->unit = f.bytes;
            break;
        default:
            break;
        }
    }
    return rc;
}

int trn_rw_decode(const char *pb, size_t len, const trn_rw_limits_t *lim, trn_arena_t *a,
                  trn_rw_result_t *out, trn_diag_t *d)
{
    trn_rw_limits_t l = lim ? *lim : (trn_rw_limits_t){0};
    if (!l.max_labels) l.max_labels = DEFAULT_MAX_LABELS;
    trn_rw_result_t res;
    memset(&res, 0, sizeof res);
    trn_diag_init(&res.drop);

    /* Pass 1: count the repeated top-level fields. */
    size_t n_ts = 0, n_meta = 0;
    trn_pb_t r;
    trn_pb_init(&r, pb, len);
    trn_pb_field_t f;
    int rc;
    while ((rc = trn_pb_next(&r, &f, d)) > 0) {
        if (f.num == 1) {
            if (trn_pb_want(&f, TRN_PB_LEN, "WriteRequest", "timeseries", d) < 0) return TRN_EINVAL;
            n_ts++;
        } else if (f.num == 3) {
            if (trn_pb_want(&f, TRN_PB_LEN, "WriteRequest", "metadata", d) < 0) return TRN_EINVAL;
            n_meta++;
        }
    }
    if (rc < 0) return rc;
    res.series = trn_arena_alloc(a, (n_ts ? n_ts : 1) * sizeof *res.series);
    res.meta = trn_arena_alloc(a, (n_meta ? n_meta : 1) * sizeof *res.meta);
    /* A label takes at least 2 bytes on the wire, typically ~20. */
    pools_t pl = {.cap_lab = len / 16 + 16, .cap_smp = n_ts + 16};
    pl.lab = trn_arena_alloc(a, pl.cap_lab * sizeof *pl.lab);
    pl.smp = trn_arena_alloc(a, pl.cap_smp * sizeof *pl.smp);
    pl.lab_off = trn_arena_alloc(a, (n_ts ? n_ts : 1) * sizeof *pl.lab_off);
    pl.smp_off = trn_arena_alloc(a, (n_ts ? n_ts : 1) * sizeof *pl.smp_off);
    if (!res.series || !res.meta || !pl.lab || !pl.smp || !pl.lab_off || !pl.smp_off)
        return no_memory(d);

    /* Pass 2: decode. */
    trn_pb_init(&r, pb, len);
    while ((rc = trn_pb_next(&r, &f, d)) > 0) {
        if (f.num == 1) {
            rc =
                decode_series(&r, &f, &l, a, &pl, res.n_series, &res.series[res.n_series], &res, d);
            if (rc < 0) return rc;
            res.n_series += (size_t)rc;
        } else if (f.num == 3) {
            rc = decode_meta(&r, &f, &res.meta[res.n_meta], d);
            if (rc < 0) return rc;
            /* An entry without a family name names nothing; it is ignored. */
            if (res.meta[res.n_meta].metric.len) res.n_meta++;
        }
    }
    if (rc < 0) return rc;
    for (size_t i = 0; i < res.n_series; i++) {
        res.series[i].labels.v = pl.lab + pl.lab_off[i];
        res.series[i].samples = pl.smp + pl.smp_off[i];
    }
    *out = res;
    return 0;
}

int trn_rw_decode_snappy(const char *body, size_t len, const trn_rw_limits_t *lim, trn_arena_t *a,
                         trn_rw_result_t *out, trn_diag_t *d)
{
    size_t max = lim && lim->max_decoded_bytes ? lim->max_decoded_bytes : DEFAULT_MAX_DECODED;
    trn_str_t raw;
    int rc = trn_rw_snappy_decode(body, len, max, a, &raw, d);
    if (rc < 0) return rc;
    return trn_rw_decode(raw.p, raw.len, lim, a, out, d);
}
