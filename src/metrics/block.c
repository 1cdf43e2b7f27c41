/* SPDX-License-Identifier: Apache-2.0 */
/* Metric block files: writer and mmap reader (docs/format/metric-block.md).
 *
 * A block is a single file so that publishing it is one rename and deleting
 * it one unlink. The writer streams sample pages to disk as series arrive
 * (in label order), keeps only the small per-series entries in memory, and
 * writes the index sections and a fixed-size footer at the end; the footer
 * locates every section and carries its CRC32C. Readers map the file, check
 * the footer and the index sections' checksums once at open, and check each
 * page's checksum (and each series' data checksum) when they first touch it,
 * so opening a large block stays cheap while every byte read is verified.
 *
 * Samples are stored per series with the byte-aligned column encoding of
 * metrics/senc.c and grouped into ~64 KiB pages compressed with zstd — the
 * second compression stage over the head's Gorilla representation. Series
 * that sort together (same metric, neighbouring label values) share pages,
 * which is where zstd finds most of its repetition.
 *
 * Every offset, count and symbol id read from the file is checked against
 * the section it points into; a failed check is TRN_ECORRUPT naming the file
 * and the byte offset, never an assertion. */
#include "metrics/block.h"
#include "core/varint.h"
#include "core/alloc.h"
#include "core/crc32c.h"
#include "core/err.h"
#include "core/fsutil.h"
#include "metrics/senc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

enum {
    SEC_PAGES,
    SEC_PAGE_INDEX,
    SEC_SYMBOLS,
    SEC_SERIES,
    SEC_SERIES_OFFSETS,
    SEC_POSTINGS,
    SEC_POSTINGS_INDEX,
    N_SECTIONS
};

#define PAGE_INDEX_ENTRY 20
#define POSTINGS_INDEX_ENTRY 12
#define MAX_PAGE_ULEN (64u << 20)

static const char *sec_names[N_SECTIONS] = {
    "pages", "page index", "symbols", "series", "series offsets", "postings", "postings index"};

/* ---- little-endian helpers ---- */

static inline void w32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void w64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint32_t r32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t r64(const uint8_t *p)
{
    return (uint64_t)r32(p) | (uint64_t)r32(p + 4) << 32;
}
static void put_u32(trn_buf_t *b, uint32_t v)
{
    uint8_t t[4];
    w32(t, v);
    trn_buf_append(b, t, 4);
}
/* ---- writer ---- */

typedef struct wseries {
    trn_labels_t ls;
    int64_t min_t, max_t;
    uint32_t n, page, off, len, crc;
} wseries_t;

typedef struct wpage {
    uint64_t off;
    uint32_t clen, ulen, crc;
} wpage_t;

struct trn_block_writer {
    char *path, *tmp;
    int fd;
    int zlevel;
    trn_arena_t *arena;
    wseries_t *ser;
    size_t n_ser, cap_ser;
    wpage_t *pages;
    size_t n_pages, cap_pages;
    trn_buf_t page;
    uint8_t *zbuf;
    size_t zcap;
    ZSTD_CCtx *cctx;
    uint64_t file_off;
    int64_t min_t, max_t;
    uint64_t n_samples;
};

int trn_block_writer_new(const char *path, int zstd_level, trn_block_writer_t **out, trn_diag_t *d)
{
    trn_block_writer_t *w = trn_xcalloc(1, sizeof *w);
    w->path = trn_xstrdup(path);
    size_t n = strlen(path) + 5;
    w->tmp = trn_xmalloc(n);
    snprintf(w->tmp, n, "%s.tmp", path);
    w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        int rc = trn_diag_set(d, TRN_EIO, -1, "create %s: %s", w->tmp, strerror(errno));
        free(w->path);
        free(w->tmp);
        free(w);
        return rc;
    }
    w->zlevel = zstd_level;
    w->arena = trn_arena_new(0);
    w->cctx = ZSTD_createCCtx();
    trn_buf_init(&w->page);
    uint8_t hdr[8] = {'T', 'R', 'N', 'B', TRN_BLOCK_VERSION, 0, 0, 0};
    if (trn_fs_write_all(w->fd, hdr, 8) < 0) {
        int rc = trn_diag_set(d, TRN_EIO, -1, "write %s: %s", w->tmp, strerror(errno));
        trn_block_writer_abort(w);
        return rc;
    }
    w->file_off = 8;
    w->min_t = INT64_MAX;
    w->max_t = INT64_MIN;
    *out = w;
    return 0;
}

void trn_block_writer_abort(trn_block_writer_t *w)
{
    if (!w) return;
    if (w->fd >= 0) {
        close(w->fd);
        unlink(w->tmp);
    }
    trn_arena_free(w->arena);
    ZSTD_freeCCtx(w->cctx);
    trn_buf_fini(&w->page);
    free(w->zbuf);
    free(w->ser);
    free(w->pages);
    free(w->path);
    free(w->tmp);
    free(w);
}

static int flush_page(trn_block_writer_t *w, trn_diag_t *d)
{
    if (!w->page.len) return 0;
    size_t bound = ZSTD_compressBound(w->page.len);
    if (bound > w->zcap) {
        w->zbuf = trn_xrealloc(w->zbuf, bound);
        w->zcap = bound;
    }
    size_t c = ZSTD_compressCCtx(w->cctx, w->zbuf, w->zcap, w->page.data, w->page.len, w->zlevel);
    if (ZSTD_isError(c))
        return trn_diag_set(d, TRN_EIO, -1, "compress page of %s: %s", w->tmp,
                            ZSTD_getErrorName(c));
    if (trn_fs_write_all(w->fd, w->zbuf, c) < 0)
        return trn_diag_set(d, TRN_EIO, -1, "write %s: %s", w->tmp, strerror(errno));
    if (w->n_pages == w->cap_pages) {
        w->cap_pages = w->cap_pages ? w->cap_pages * 2 : 64;
        w->pages = trn_xrealloc(w->pages, w->cap_pages * sizeof *w->pages);
    }
    w->pages[w->n_pages++] =
        (wpage_t){w->file_off, (uint32_t)c, (uint32_t)w->page.len, trn_crc32c(0, w->zbuf, c)};
    w->file_off += c;
    w->page.len = 0;
    return 0;
}

int trn_block_writer_add(trn_block_writer_t *w, const trn_labels_t *ls, const trn_sample_t *s,
                         size_t n, trn_diag_t *d)
{
    if (!n) return 0;
    if (w->n_ser && trn_labels_cmp(&w->ser[w->n_ser - 1].ls, ls) >= 0)
        return trn_diag_set(d, TRN_EINVAL, -1, "block series out of label order");
    if (w->n_ser >= UINT32_MAX - 1 || n > UINT32_MAX)
        return trn_diag_set(d, TRN_ELIMIT, -1, "block too large");
    if (w->n_ser == w->cap_ser) {
        w->cap_ser = w->cap_ser ? w->cap_ser * 2 : 1024;
        w->ser = trn_xrealloc(w->ser, w->cap_ser * sizeof *w->ser);
    }
    wseries_t *e = &w->ser[w->n_ser];
    if (trn_labels_copy(w->arena, ls, &e->ls) < 0)
        return trn_diag_set(d, TRN_ELIMIT, -1, "out of memory copying labels");
    size_t off = w->page.len;
    trn_senc_encode(s, n, &w->page);
    e->min_t = s[0].t_ms;
    e->max_t = s[n - 1].t_ms;
    e->n = (uint32_t)n;
    e->page = (uint32_t)w->n_pages;
    e->off = (uint32_t)off;
    e->len = (uint32_t)(w->page.len - off);
    e->crc = trn_crc32c(0, w->page.data + off, e->len);
    w->n_ser++;
    if (e->min_t < w->min_t) w->min_t = e->min_t;
    if (e->max_t > w->max_t) w->max_t = e->max_t;
    w->n_samples += n;
    if (w->page.len >= TRN_BLOCK_PAGE_BYTES) return flush_page(w, d);
    return 0;
}

static int cmp_strp(const void *a, const void *b)
{
    return trn_str_cmp(*(const trn_str_t *)a, *(const trn_str_t *)b);
}

static uint32_t sym_id(const trn_str_t *syms, size_t n, trn_str_t s)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (trn_str_cmp(syms[mid], s) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    TRN_ASSERT(lo < n && trn_str_eq(syms[lo], s));
    return (uint32_t)lo;
}

typedef struct triple {
    uint32_t name, value, series;
} triple_t;

static int cmp_triple(const void *a, const void *b)
{
    const triple_t *x = a, *y = b;
    if (x->name != y->name) return x->name < y->name ? -1 : 1;
    if (x->value != y->value) return x->value < y->value ? -1 : 1;
    return (x->series > y->series) - (x->series < y->series);
}

static int write_section(trn_block_writer_t *w, const trn_buf_t *b, uint8_t *entry, trn_diag_t *d)
{
    w64(entry, w->file_off);
    w64(entry + 8, b->len);
    w32(entry + 16, trn_crc32c(0, b->data, b->len));
    if (b->len && trn_fs_write_all(w->fd, b->data, b->len) < 0)
        return trn_diag_set(d, TRN_EIO, -1, "write %s: %s", w->tmp, strerror(errno));
    w->file_off += b->len;
    return 0;
}

int trn_block_writer_finish(trn_block_writer_t *w, uint32_t level, trn_block_meta_t *meta,
                            trn_diag_t *d)
{
    int rc = 0;
    trn_str_t *syms = NULL;
    triple_t *tr = NULL;
    trn_buf_t sec[N_SECTIONS];
    for (int i = 0; i < N_SECTIONS; i++)
        trn_buf_init(&sec[i]);
    if (!w->n_ser) {
        rc = TRN_ENOTFOUND;
        goto fail;
    }
    rc = flush_page(w, d);
    if (rc < 0) goto fail;
    /* Symbols: every distinct name and value, sorted. */
    size_t n_sym = 0, cap_sym = 0, n_tr = 0;
    for (size_t i = 0; i < w->n_ser; i++)
        cap_sym += 2 * w->ser[i].ls.n;
    syms = trn_xmalloc((cap_sym ? cap_sym : 1) * sizeof *syms);
    for (size_t i = 0; i < w->n_ser; i++)
        for (size_t k = 0; k < w->ser[i].ls.n; k++) {
            syms[n_sym++] = w->ser[i].ls.v[k].name;
            syms[n_sym++] = w->ser[i].ls.v[k].value;
        }
    qsort(syms, n_sym, sizeof *syms, cmp_strp);
    size_t u = 0;
    for (size_t i = 0; i < n_sym; i++)
        if (u == 0 || !trn_str_eq(syms[u - 1], syms[i])) syms[u++] = syms[i];
    n_sym = u;
    trn_buf_t *sb = &sec[SEC_SYMBOLS];
    put_u32(sb, (uint32_t)n_sym);
    size_t str_base = 4 + 4 * n_sym;
    trn_buf_reserve(sb, 4 * n_sym);
    sb->len += 4 * n_sym;
    for (size_t i = 0; i < n_sym; i++) {
        w32((uint8_t *)sb->data + 4 + 4 * i, (uint32_t)sb->len);
        trn_varint_put(sb, syms[i].len);
        trn_buf_append(sb, syms[i].p, syms[i].len);
    }
    (void)str_base;
    /* Series entries and their offsets; postings triples on the way. */
    tr = trn_xmalloc((cap_sym / 2 + 1) * sizeof *tr);
    for (size_t i = 0; i < w->n_ser; i++) {
        const wseries_t *e = &w->ser[i];
        put_u32(&sec[SEC_SERIES_OFFSETS], (uint32_t)sec[SEC_SERIES].len);
        trn_buf_t *b = &sec[SEC_SERIES];
        trn_varint_put(b, e->ls.n);
        for (size_t k = 0; k < e->ls.n; k++) {
            uint32_t nm = sym_id(syms, n_sym, e->ls.v[k].name);
            uint32_t vl = sym_id(syms, n_sym, e->ls.v[k].value);
            trn_varint_put(b, nm);
            trn_varint_put(b, vl);
            tr[n_tr++] = (triple_t){nm, vl, (uint32_t)i};
        }
        trn_varint_put_signed(b, e->min_t);
        trn_varint_put(b, (uint64_t)(e->max_t - e->min_t));
        trn_varint_put(b, e->n);
        trn_varint_put(b, e->page);
        trn_varint_put(b, e->off);
        trn_varint_put(b, e->len);
        put_u32(b, e->crc);
    }
    qsort(tr, n_tr, sizeof *tr, cmp_triple);
    for (size_t i = 0; i < n_tr;) {
        size_t j = i;
        while (j < n_tr && tr[j].name == tr[i].name && tr[j].value == tr[i].value)
            j++;
        put_u32(&sec[SEC_POSTINGS_INDEX], tr[i].name);
        put_u32(&sec[SEC_POSTINGS_INDEX], tr[i].value);
        put_u32(&sec[SEC_POSTINGS_INDEX], (uint32_t)sec[SEC_POSTINGS].len);
        trn_varint_put(&sec[SEC_POSTINGS], j - i);
        uint32_t prev = 0;
        for (size_t k = i; k < j; k++) {
            trn_varint_put(&sec[SEC_POSTINGS], tr[k].series - prev);
            prev = tr[k].series;
        }
        i = j;
    }
    for (size_t i = 0; i < w->n_pages; i++) {
        uint8_t e[PAGE_INDEX_ENTRY];
        w64(e, w->pages[i].off);
        w32(e + 8, w->pages[i].clen);
        w32(e + 12, w->pages[i].ulen);
        w32(e + 16, w->pages[i].crc);
        trn_buf_append(&sec[SEC_PAGE_INDEX], e, sizeof e);
    }
    for (int i = 0; i < N_SECTIONS; i++)
        if (sec[i].len > UINT32_MAX) {
            rc = trn_diag_set(d, TRN_ELIMIT, -1, "block section %s too large", sec_names[i]);
            goto fail;
        }
    uint8_t footer[TRN_BLOCK_FOOTER_BYTES] = {'T', 'R', 'N', 'B', TRN_BLOCK_VERSION, 0, 0, 0};
    /* pages section: from byte 8 to the first index section */
    w64(footer + 48, 8);
    w64(footer + 56, w->file_off - 8);
    {
        /* The pages' CRC is per page (page index); the section CRC field is 0. */
        w32(footer + 64, 0);
    }
    for (int i = 1; i < N_SECTIONS; i++) {
        rc = write_section(w, &sec[i], footer + 48 + 20 * i, d);
        if (rc < 0) goto fail;
    }
    w64(footer + 8, (uint64_t)w->min_t);
    w64(footer + 16, (uint64_t)w->max_t);
    w32(footer + 24, (uint32_t)w->n_ser);
    w32(footer + 28, (uint32_t)w->n_pages);
    w64(footer + 32, w->n_samples);
    w32(footer + 40, level);
    w32(footer + 44, 0);
    w32(footer + 188, trn_crc32c(0, footer, 188));
    if (trn_fs_write_all(w->fd, footer, sizeof footer) < 0 || fsync(w->fd) < 0) {
        rc = trn_diag_set(d, TRN_EIO, -1, "write %s: %s", w->tmp, strerror(errno));
        goto fail;
    }
    w->file_off += sizeof footer;
    close(w->fd);
    w->fd = -1;
    if (rename(w->tmp, w->path) < 0) {
        rc = trn_diag_set(d, TRN_EIO, -1, "rename %s: %s", w->tmp, strerror(errno));
        unlink(w->tmp);
        goto fail;
    }
    char *slash = strrchr(w->path, '/');
    if (slash) {
        *slash = 0;
        trn_fs_fsync_dir(w->path);
        *slash = '/';
    }
    if (meta)
        *meta = (trn_block_meta_t){.min_t = w->min_t,
                                   .max_t = w->max_t,
                                   .n_samples = w->n_samples,
                                   .n_series = (uint32_t)w->n_ser,
                                   .n_pages = (uint32_t)w->n_pages,
                                   .level = level,
                                   .bytes = w->file_off};
fail:
    for (int i = 0; i < N_SECTIONS; i++)
        trn_buf_fini(&sec[i]);
    free(syms);
    free(tr);
    trn_block_writer_abort(w);
    return rc;
}

/* ---- reader ---- */

typedef struct section {
    uint64_t off, len;
} section_t;

struct trn_block {
    char *path;
    uint8_t *map;
    size_t size;
    atomic_int refs;
    atomic_bool deleted;
    trn_block_meta_t meta;
    section_t sec[N_SECTIONS];
    uint32_t n_syms;
    size_t n_pairs;
};

static int corrupt(const trn_block_t *b, uint64_t off, trn_diag_t *d, const char *what)
{
    return trn_diag_set(d, TRN_ECORRUPT, (int64_t)off, "corrupt block %s at offset %llu: %s",
                        b->path, (unsigned long long)off, what);
}

int trn_block_open(const char *path, trn_block_t **out, trn_diag_t *d)
{
    int rc = 0;
    trn_block_t *b = trn_xcalloc(1, sizeof *b);
    b->path = trn_xstrdup(path);
    atomic_init(&b->refs, 1);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = trn_diag_set(d, TRN_EIO, -1, "open %s: %s", path, strerror(errno));
        goto fail;
    }
    struct stat sb;
    if (fstat(fd, &sb) < 0) {
        rc = trn_diag_set(d, TRN_EIO, -1, "stat %s: %s", path, strerror(errno));
        goto fail;
    }
    b->size = (size_t)sb.st_size;
    if (b->size < 8 + TRN_BLOCK_FOOTER_BYTES) {
        rc = corrupt(b, 0, d, "file too short");
        goto fail;
    }
    b->map = mmap(NULL, b->size, PROT_READ, MAP_SHARED, fd, 0);
    if (b->map == MAP_FAILED) {
        b->map = NULL;
        rc = trn_diag_set(d, TRN_EIO, -1, "mmap %s: %s", path, strerror(errno));
        goto fail;
    }
    close(fd);
    fd = -1;
    const uint8_t *f = b->map + b->size - TRN_BLOCK_FOOTER_BYTES;
    uint64_t foff = b->size - TRN_BLOCK_FOOTER_BYTES;
    if (memcmp(b->map, TRN_BLOCK_MAGIC, 4) || b->map[4] != TRN_BLOCK_VERSION) {
        rc = corrupt(b, 0, d, "bad magic or unknown version in header");
        goto fail;
    }
    if (memcmp(f, TRN_BLOCK_MAGIC, 4) || f[4] != TRN_BLOCK_VERSION) {
        rc = corrupt(b, foff, d, "bad magic or unknown version in footer");
        goto fail;
    }
    if (trn_crc32c(0, f, 188) != r32(f + 188)) {
        rc = corrupt(b, foff + 188, d, "footer checksum mismatch");
        goto fail;
    }
    b->meta = (trn_block_meta_t){.min_t = (int64_t)r64(f + 8),
                                 .max_t = (int64_t)r64(f + 16),
                                 .n_series = r32(f + 24),
                                 .n_pages = r32(f + 28),
                                 .n_samples = r64(f + 32),
                                 .level = r32(f + 40),
                                 .bytes = b->size};
    for (int i = 0; i < N_SECTIONS; i++) {
        const uint8_t *e = f + 48 + 20 * i;
        section_t s = {r64(e), r64(e + 8)};
        if (s.off < 8 || s.off > foff || s.len > foff - s.off) {
            rc = corrupt(b, foff + 48 + 20 * (uint64_t)i, d, "section out of bounds");
            goto fail;
        }
        if (i != SEC_PAGES && trn_crc32c(0, b->map + s.off, s.len) != r32(e + 16)) {
            char why[64];
            snprintf(why, sizeof why, "%s section checksum mismatch", sec_names[i]);
            rc = corrupt(b, s.off, d, why);
            goto fail;
        }
        b->sec[i] = s;
    }
    if (b->sec[SEC_PAGE_INDEX].len != (uint64_t)b->meta.n_pages * PAGE_INDEX_ENTRY ||
        b->sec[SEC_SERIES_OFFSETS].len != (uint64_t)b->meta.n_series * 4 ||
        b->sec[SEC_POSTINGS_INDEX].len % POSTINGS_INDEX_ENTRY || b->sec[SEC_SYMBOLS].len < 4) {
        rc = corrupt(b, foff, d, "section sizes disagree with the footer");
        goto fail;
    }
    b->n_syms = r32(b->map + b->sec[SEC_SYMBOLS].off);
    if ((uint64_t)b->n_syms * 4 + 4 > b->sec[SEC_SYMBOLS].len) {
        rc = corrupt(b, b->sec[SEC_SYMBOLS].off, d, "symbol count exceeds section");
        goto fail;
    }
    b->n_pairs = b->sec[SEC_POSTINGS_INDEX].len / POSTINGS_INDEX_ENTRY;
    *out = b;
    return 0;
fail:
    if (fd >= 0) close(fd);
    if (b->map) munmap(b->map, b->size);
    free(b->path);
    free(b);
    return rc;
}

void trn_block_ref(trn_block_t *b)
{
    atomic_fetch_add(&b->refs, 1);
}

void trn_block_unref(trn_block_t *b)
{
    if (!b || atomic_fetch_sub(&b->refs, 1) != 1) return;
    munmap(b->map, b->size);
    if (atomic_load(&b->deleted)) unlink(b->path);
    free(b->path);
    free(b);
}

void trn_block_mark_deleted(trn_block_t *b)
{
    atomic_store(&b->deleted, true);
}

const trn_block_meta_t *trn_block_meta(const trn_block_t *b)
{
    return &b->meta;
}

const char *trn_block_path(const trn_block_t *b)
{
    return b->path;
}

/* Bounds-checked readers over one section. */
typedef trn_vreader_t rd_t;

static inline const uint8_t *sec_ptr(const trn_block_t *b, int s)
{
    return b->map + b->sec[s].off;
}

/* Symbol id -> string view into the mapping. */
static bool symbol(const trn_block_t *b, uint64_t id, trn_str_t *out)
{
    if (id >= b->n_syms) return false;
    const uint8_t *base = sec_ptr(b, SEC_SYMBOLS);
    size_t len = b->sec[SEC_SYMBOLS].len;
    uint32_t off = r32(base + 4 + 4 * id);
    rd_t r = {base, len, off, false};
    if (off >= len) return false;
    uint64_t n = trn_vreader_u(&r);
    if (r.bad || n > len - r.off) return false;
    *out = (trn_str_t){(const char *)base + r.off, (size_t)n};
    return true;
}

/* Symbol id of s, or -1 if absent, -2 if the table is corrupt. */
static int64_t find_symbol(const trn_block_t *b, trn_str_t s)
{
    size_t lo = 0, hi = b->n_syms;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        trn_str_t m;
        if (!symbol(b, mid, &m)) return -2;
        int c = trn_str_cmp(m, s);
        if (c == 0) return (int64_t)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static inline void pair_at(const trn_block_t *b, size_t i, uint32_t *name, uint32_t *value,
                           uint32_t *off)
{
    const uint8_t *e = sec_ptr(b, SEC_POSTINGS_INDEX) + i * POSTINGS_INDEX_ENTRY;
    *name = r32(e);
    *value = r32(e + 4);
    *off = r32(e + 8);
}

/* First pair index with (name, value) >= the key. */
static size_t pair_lower(const trn_block_t *b, uint32_t name, uint32_t value)
{
    size_t lo = 0, hi = b->n_pairs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t n, v, o;
        pair_at(b, mid, &n, &v, &o);
        if (n < name || (n == name && v < value))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int read_postings(const trn_block_t *b, uint32_t off, trn_ids_t *out)
{
    rd_t r = {sec_ptr(b, SEC_POSTINGS), b->sec[SEC_POSTINGS].len, off, false};
    if (off >= r.len) return TRN_ECORRUPT;
    uint64_t n = trn_vreader_u(&r);
    if (r.bad || n > b->meta.n_series || n > r.len - r.off) return TRN_ECORRUPT;
    trn_ids_reserve(out, (size_t)n);
    uint64_t id = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t delta = trn_vreader_u(&r);
        if (r.bad || (i > 0 && delta == 0)) return TRN_ECORRUPT;
        id += delta;
        if (id >= b->meta.n_series) return TRN_ECORRUPT;
        out->v[out->n++] = (uint32_t)id;
    }
    return 0;
}

static int src_postings(void *ctx, trn_str_t name, trn_str_t value, trn_ids_t *out)
{
    trn_block_t *b = ctx;
    int64_t ns = find_symbol(b, name), vs = find_symbol(b, value);
    if (ns == -2 || vs == -2) return TRN_ECORRUPT;
    if (ns < 0 || vs < 0) return 0;
    size_t i = pair_lower(b, (uint32_t)ns, (uint32_t)vs);
    if (i >= b->n_pairs) return 0;
    uint32_t n, v, off;
    pair_at(b, i, &n, &v, &off);
    if (n != ns || v != vs) return 0;
    return read_postings(b, off, out);
}

static int src_each_value(void *ctx, trn_str_t name, trn_value_fn *fn, void *fn_ctx)
{
    trn_block_t *b = ctx;
    int64_t ns = find_symbol(b, name);
    if (ns == -2) return TRN_ECORRUPT;
    if (ns < 0) return 0;
    for (size_t i = pair_lower(b, (uint32_t)ns, 0); i < b->n_pairs; i++) {
        uint32_t n, v, off;
        pair_at(b, i, &n, &v, &off);
        if (n != ns) break;
        trn_str_t s;
        if (!symbol(b, v, &s)) return TRN_ECORRUPT;
        int rc = fn(fn_ctx, s);
        if (rc) return rc;
    }
    return 0;
}

static int src_all(void *ctx, trn_ids_t *out)
{
    trn_block_t *b = ctx;
    trn_ids_reserve(out, b->meta.n_series);
    for (uint32_t i = 0; i < b->meta.n_series; i++)
        out->v[out->n++] = i;
    return 0;
}

trn_postings_src_t trn_block_src(trn_block_t *b)
{
    return (trn_postings_src_t){
        .ctx = b, .postings = src_postings, .each_value = src_each_value, .all = src_all};
}

int trn_block_each_name(trn_block_t *b, trn_value_fn *fn, void *ctx)
{
    uint32_t last = UINT32_MAX;
    for (size_t i = 0; i < b->n_pairs; i++) {
        uint32_t n, v, off;
        pair_at(b, i, &n, &v, &off);
        if (n == last) continue;
        last = n;
        trn_str_t s;
        if (!symbol(b, n, &s)) return TRN_ECORRUPT;
        int rc = fn(ctx, s);
        if (rc) return rc;
    }
    return 0;
}

typedef struct sentry {
    int64_t min_t, max_t;
    uint64_t n, page, off, len;
    uint32_t crc;
} sentry_t;

/* Parses series id's entry; labels into the arena when a is non-NULL. */
static int series_entry(trn_block_t *b, uint32_t id, trn_arena_t *a, trn_labels_t *ls, sentry_t *e,
                        trn_diag_t *d)
{
    if (id >= b->meta.n_series) return trn_diag_set(d, TRN_EINVAL, -1, "no such series");
    uint32_t off = r32(sec_ptr(b, SEC_SERIES_OFFSETS) + 4 * (size_t)id);
    rd_t r = {sec_ptr(b, SEC_SERIES), b->sec[SEC_SERIES].len, off, false};
    uint64_t at = b->sec[SEC_SERIES].off + off;
    if (off >= r.len) return corrupt(b, at, d, "series offset out of bounds");
    uint64_t n = trn_vreader_u(&r);
    if (r.bad || n > (r.len - r.off) / 2) return corrupt(b, at, d, "bad label count");
    if (a) {
        ls->v = trn_arena_alloc(a, (n ? n : 1) * sizeof *ls->v);
        if (!ls->v) return trn_diag_set(d, TRN_ELIMIT, -1, "query memory budget exceeded");
        ls->n = (size_t)n;
    }
    for (uint64_t k = 0; k < n; k++) {
        uint64_t ns = trn_vreader_u(&r), vs = trn_vreader_u(&r);
        trn_str_t sn, sv;
        if (r.bad || !symbol(b, ns, &sn) || !symbol(b, vs, &sv))
            return corrupt(b, at, d, "bad label symbol");
        if (a) ls->v[k] = (trn_label_t){sn, sv};
    }
    e->min_t = trn_vreader_s(&r);
    uint64_t span = trn_vreader_u(&r);
    e->max_t = (int64_t)((uint64_t)e->min_t + span);
    e->n = trn_vreader_u(&r);
    e->page = trn_vreader_u(&r);
    e->off = trn_vreader_u(&r);
    e->len = trn_vreader_u(&r);
    if (r.bad || r.len - r.off < 4 || e->page >= b->meta.n_pages)
        return corrupt(b, at, d, "truncated series entry");
    e->crc = r32(r.p + r.off);
    return 0;
}

int trn_block_series(trn_block_t *b, uint32_t id, trn_arena_t *a, trn_labels_t *ls, int64_t *min_t,
                     int64_t *max_t, trn_diag_t *d)
{
    sentry_t e;
    int rc = series_entry(b, id, a, ls, &e, d);
    if (rc < 0) return rc;
    *min_t = e.min_t;
    *max_t = e.max_t;
    return 0;
}

void trn_block_cache_fini(trn_block_cache_t *c)
{
    if (!c) return;
    free(c->buf);
    memset(c, 0, sizeof *c);
}

static int load_page(trn_block_t *b, uint64_t page, trn_block_cache_t *c, trn_diag_t *d)
{
    if (c->b == b && c->page == page && c->buf) return 0;
    const uint8_t *e = sec_ptr(b, SEC_PAGE_INDEX) + page * PAGE_INDEX_ENTRY;
    uint64_t off = r64(e);
    uint32_t clen = r32(e + 8), ulen = r32(e + 12), crc = r32(e + 16);
    const section_t *ps = &b->sec[SEC_PAGES];
    if (off < ps->off || off > ps->off + ps->len || clen > ps->off + ps->len - off || ulen == 0 ||
        ulen > MAX_PAGE_ULEN) /* writers never write empty pages */
        return corrupt(b, b->sec[SEC_PAGE_INDEX].off + page * PAGE_INDEX_ENTRY, d,
                       "page out of bounds");
    if (trn_crc32c(0, b->map + off, clen) != crc)
        return corrupt(b, off, d, "page checksum mismatch");
    if (ulen > c->cap) {
        c->buf = trn_xrealloc(c->buf, ulen ? ulen : 1);
        c->cap = ulen;
    }
    c->b = NULL;
    size_t got = ZSTD_decompress(c->buf, ulen, b->map + off, clen);
    if (ZSTD_isError(got) || got != ulen) return corrupt(b, off, d, "page does not decompress");
    c->b = b;
    c->page = (uint32_t)page;
    c->len = ulen;
    return 0;
}

/* Decodes series id's samples into buf (grown by grow(ctx, n)). */
static int series_samples(trn_block_t *b, uint32_t id, trn_block_cache_t *c, sentry_t *e,
                          const uint8_t **blob, trn_diag_t *d)
{
    int rc = series_entry(b, id, NULL, NULL, e, d);
    if (rc < 0) return rc;
    rc = load_page(b, e->page, c, d);
    if (rc < 0) return rc;
    if (e->off > c->len || e->len > c->len - e->off)
        return corrupt(b, b->sec[SEC_SERIES].off, d, "series data out of page bounds");
    *blob = c->buf + e->off;
    if (trn_crc32c(0, *blob, e->len) != e->crc)
        return corrupt(b, b->sec[SEC_SERIES].off, d, "series data checksum mismatch");
    int64_t n = trn_senc_count(*blob, e->len);
    if (n < 0 || (uint64_t)n != e->n)
        return corrupt(b, b->sec[SEC_SERIES].off, d, "series sample count mismatch");
    return 0;
}

int trn_block_samples(trn_block_t *b, uint32_t id, int64_t mint, int64_t maxt, trn_block_cache_t *c,
                      trn_arena_t *a, trn_sample_t **out, size_t *n_out, trn_diag_t *d)
{
    sentry_t e;
    const uint8_t *blob;
    int rc = series_samples(b, id, c, &e, &blob, d);
    if (rc < 0) return rc;
    trn_sample_t *s = trn_arena_alloc(a, (e.n ? e.n : 1) * sizeof *s);
    if (!s) return trn_diag_set(d, TRN_ELIMIT, -1, "query memory budget exceeded");
    size_t first;
    int64_t n = trn_senc_decode_range(blob, e.len, mint, maxt, s, &first);
    if (n < 0) return corrupt(b, b->sec[SEC_SERIES].off, d, "series data does not decode");
    *out = s + first;
    *n_out = (size_t)n;
    return 0;
}

int trn_block_samples_heap(trn_block_t *b, uint32_t id, trn_block_cache_t *c, trn_sample_t **buf,
                           size_t *cap, size_t *n, trn_diag_t *d)
{
    sentry_t e;
    const uint8_t *blob;
    int rc = series_samples(b, id, c, &e, &blob, d);
    if (rc < 0) return rc;
    if (e.n > *cap) {
        *buf = trn_xrealloc(*buf, e.n * sizeof **buf);
        *cap = e.n;
    }
    if (trn_senc_decode(blob, e.len, *buf) < 0)
        return corrupt(b, b->sec[SEC_SERIES].off, d, "series data does not decode");
    *n = e.n;
    return 0;
}
