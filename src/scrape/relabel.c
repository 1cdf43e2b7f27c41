/* SPDX-License-Identifier: Apache-2.0 */
/* Relabeling with Prometheus's semantics. Each rule reads the values of its
 * source_labels joined by the separator (default ";"), matches the fully
 * anchored regex (default "(.*)", compiled as ^(?s:regex)$ the way
 * Prometheus does) and acts: replace writes the expanded replacement
 * (default "$1") to the expanded target_label, an empty result deleting it;
 * keep/drop filter on the match; keepequal/dropequal compare the joined
 * value with target_label's value; hashmod stores md5-based bucket numbers;
 * labelmap/labeldrop/labelkeep match label *names*; lowercase/uppercase
 * store the transformed joined value.
 *
 * Replacement templates follow Go's Regexp.Expand: "$name" or "${name}"
 * where name is the longest run of letters, digits and '_'; an all-digit
 * name is a group number, anything else a named group; unknown or unset
 * groups expand to nothing, "$$" is a literal '$', and a '$' not followed by
 * a name is kept as is. So "$1x" names the group "1x" (empty), while
 * "${1}x" is group 1 followed by "x".
 *
 * The working set is a small unsorted array in the caller's arena; label
 * sets are short, so set/delete by linear scan beats any index. The result
 * is sorted once at the end. Rules are immutable after parsing; the PCRE2
 * match data is per thread (a pthread key, freed at thread exit), so one
 * list serves every scrape thread. */
#include "scrape/relabel.h"

#include "core/alloc.h"
#include "core/err.h"
#include "core/digest.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    ACT_REPLACE,
    ACT_KEEP,
    ACT_DROP,
    ACT_KEEPEQUAL,
    ACT_DROPEQUAL,
    ACT_HASHMOD,
    ACT_LABELMAP,
    ACT_LABELDROP,
    ACT_LABELKEEP,
    ACT_LOWERCASE,
    ACT_UPPERCASE,
} action_t;

static const char *const action_names[] = {
    [ACT_REPLACE] = "replace",     [ACT_KEEP] = "keep",           [ACT_DROP] = "drop",
    [ACT_KEEPEQUAL] = "keepequal", [ACT_DROPEQUAL] = "dropequal", [ACT_HASHMOD] = "hashmod",
    [ACT_LABELMAP] = "labelmap",   [ACT_LABELDROP] = "labeldrop", [ACT_LABELKEEP] = "labelkeep",
    [ACT_LOWERCASE] = "lowercase", [ACT_UPPERCASE] = "uppercase",
};

#define DEFAULT_SEPARATOR ";"
#define DEFAULT_REGEX "(.*)"
#define DEFAULT_REPLACEMENT "$1"
/* Capture pairs kept per match; groups beyond expand to nothing. */
#define OVECTOR_PAIRS 64

typedef struct rule {
    action_t action;
    char **source; /* owned */
    size_t n_source;
    char *separator, *target, *replacement, *regex; /* owned */
    uint64_t modulus;
    pcre2_code *re;
    bool target_is_template; /* target_label contains '$' */
} rule_t;

struct trn_relabel {
    rule_t *rules;
    size_t n;
};

/* Match data per thread, freed when the thread exits (scrape loops come
 * and go with their targets). */
static pthread_key_t md_key;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

static void md_free(void *p)
{
    pcre2_match_data_free(p);
}

static void md_key_init(void)
{
    pthread_key_create(&md_key, md_free);
}

/* ---- parsing ---- */

static bool name_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c >= 0x80;
}

/* Prometheus's check for target_label templates and labelmap replacements:
 * a sequence of name characters and $name / ${name} references, starting
 * with a letter, '_' or a reference. */
static bool valid_template_name(const char *s)
{
    if (!*s) return false;
    bool first = true;
    while (*s) {
        if (*s == '$') {
            s++;
            if (*s == '{') {
                s++;
                const char *b = s;
                while (*s && (isalnum((unsigned char)*s) || *s == '_'))
                    s++;
                if (s == b || *s != '}') return false;
                s++;
            } else {
                const char *b = s;
                while (*s && (isalnum((unsigned char)*s) || *s == '_'))
                    s++;
                if (s == b) return false;
            }
        } else if (isalpha((unsigned char)*s) || *s == '_' ||
                   (!first && isdigit((unsigned char)*s))) {
            s++;
        } else {
            return false;
        }
        first = false;
    }
    return true;
}

static void rule_fini(rule_t *r)
{
    for (size_t i = 0; i < r->n_source; i++)
        free(r->source[i]);
    free(r->source);
    free(r->separator);
    free(r->target);
    free(r->replacement);
    free(r->regex);
    pcre2_code_free(r->re);
}

void trn_relabel_free(trn_relabel_t *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n; i++)
        rule_fini(&r->rules[i]);
    free(r->rules);
    free(r);
}

size_t trn_relabel_len(const trn_relabel_t *r)
{
    return r ? r->n : 0;
}

static int compile_regex(const trn_yaml_node_t *at, rule_t *r, trn_diag_t *d)
{
    size_t n = strlen(r->regex);
    char *pat = trn_xmalloc(n + 8);
    snprintf(pat, n + 8, "(?s:%s)", r->regex);
    int err;
    PCRE2_SIZE off;
    r->re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
                          PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_UTF, &err, &off, NULL);
    free(pat);
    if (!r->re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(err, msg, sizeof msg);
        return trn_yaml_error(d, at, "invalid regex \"%s\": %s", r->regex, (const char *)msg);
    }
    pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE);
    return 0;
}

static int read_string(const trn_yaml_node_t *n, char **out, trn_diag_t *d)
{
    const char *s;
    if (trn_yaml_str(n, &s, d) < 0) return TRN_EINVAL;
    free(*out);
    *out = trn_xstrdup(s);
    return 0;
}

static int parse_rule(const trn_yaml_node_t *m, rule_t *r, trn_diag_t *d)
{
    static const char *const keys[] = {"source_labels", "separator",   "regex",  "modulus",
                                       "target_label",  "replacement", "action", NULL};
    if (trn_yaml_check_map(m, "relabel_config", keys, d) < 0) return TRN_EINVAL;
    r->action = ACT_REPLACE;
    r->separator = trn_xstrdup(DEFAULT_SEPARATOR);
    r->regex = trn_xstrdup(DEFAULT_REGEX);
    r->replacement = trn_xstrdup(DEFAULT_REPLACEMENT);
    r->target = trn_xstrdup("");
    bool has_source = false;
    const trn_yaml_node_t *n, *regex_at = m;

    if ((n = trn_yaml_get(m, "source_labels")) && !trn_yaml_is_null(n)) {
        if (n->kind != TRN_YAML_SEQ) return trn_yaml_error(d, n, "source_labels must be a list");
        has_source = true;
        r->source = trn_xcalloc(n->n ? n->n : 1, sizeof *r->source);
        for (size_t i = 0; i < n->n; i++) {
            const char *s;
            if (trn_yaml_str(n->items[i], &s, d) < 0) return TRN_EINVAL;
            r->source[r->n_source++] = trn_xstrdup(s);
        }
    }
    if ((n = trn_yaml_get(m, "separator")) && read_string(n, &r->separator, d) < 0)
        return TRN_EINVAL;
    if ((n = trn_yaml_get(m, "regex")) && !trn_yaml_is_null(n)) {
        if (read_string(n, &r->regex, d) < 0) return TRN_EINVAL;
        regex_at = n;
    }
    if ((n = trn_yaml_get(m, "target_label")) && read_string(n, &r->target, d) < 0)
        return TRN_EINVAL;
    if ((n = trn_yaml_get(m, "replacement")) && read_string(n, &r->replacement, d) < 0)
        return TRN_EINVAL;
    if ((n = trn_yaml_get(m, "modulus"))) {
        int64_t v;
        if (trn_yaml_int(n, &v, d) < 0) return TRN_EINVAL;
        if (v < 0) return trn_yaml_error(d, n, "modulus must not be negative");
        r->modulus = (uint64_t)v;
    }
    const trn_yaml_node_t *act_at = trn_yaml_get(m, "action");
    if (act_at) {
        const char *s;
        if (trn_yaml_str(act_at, &s, d) < 0) return TRN_EINVAL;
        if (!*s) return trn_yaml_error(d, act_at, "relabel action cannot be empty");
        size_t k = 0, na = sizeof action_names / sizeof action_names[0];
        while (k < na && strcasecmp(action_names[k], s) != 0)
            k++;
        if (k == na) return trn_yaml_error(d, act_at, "unknown relabel action \"%s\"", s);
        r->action = (action_t)k;
    } else {
        act_at = m;
    }
    const char *an = action_names[r->action];
    action_t a = r->action;

    if (a == ACT_HASHMOD && r->modulus == 0)
        return trn_yaml_error(d, act_at,
                              "relabel configuration for hashmod requires non-zero modulus");
    bool needs_target = a == ACT_REPLACE || a == ACT_HASHMOD || a == ACT_LOWERCASE ||
                        a == ACT_UPPERCASE || a == ACT_KEEPEQUAL || a == ACT_DROPEQUAL;
    if (needs_target && !*r->target)
        return trn_yaml_error(
            d, act_at, "relabel configuration for %s action requires 'target_label' value", an);
    r->target_is_template = strchr(r->target, '$') != NULL;
    if (a == ACT_REPLACE && !valid_template_name(r->target))
        return trn_yaml_error(d, act_at, "\"%s\" is invalid 'target_label' for %s action",
                              r->target, an);
    if ((a == ACT_HASHMOD || a == ACT_LOWERCASE || a == ACT_UPPERCASE || a == ACT_KEEPEQUAL ||
         a == ACT_DROPEQUAL) &&
        !trn_label_name_valid(trn_str_c(r->target)))
        return trn_yaml_error(d, act_at, "\"%s\" is invalid 'target_label' for %s action",
                              r->target, an);
    if ((a == ACT_LOWERCASE || a == ACT_UPPERCASE) && strcmp(r->replacement, DEFAULT_REPLACEMENT))
        return trn_yaml_error(d, act_at, "'replacement' can not be set for %s action", an);
    if (a == ACT_LABELMAP && !valid_template_name(r->replacement))
        return trn_yaml_error(d, act_at, "\"%s\" is invalid 'replacement' for %s action",
                              r->replacement, an);
    if ((a == ACT_KEEPEQUAL || a == ACT_DROPEQUAL) &&
        (strcmp(r->regex, DEFAULT_REGEX) || r->modulus || strcmp(r->separator, DEFAULT_SEPARATOR) ||
         strcmp(r->replacement, DEFAULT_REPLACEMENT)))
        return trn_yaml_error(
            d, act_at,
            "%s action requires only 'source_labels' and `target_label`, and no other fields", an);
    if ((a == ACT_LABELDROP || a == ACT_LABELKEEP) &&
        (has_source || *r->target || r->modulus || strcmp(r->separator, DEFAULT_SEPARATOR) ||
         strcmp(r->replacement, DEFAULT_REPLACEMENT)))
        return trn_yaml_error(d, act_at, "%s action requires only 'regex', and no other fields",
                              an);
    return compile_regex(regex_at, r, d);
}

int trn_relabel_parse(const trn_yaml_node_t *seq, trn_relabel_t **out, trn_diag_t *d)
{
    trn_relabel_t *r = trn_xcalloc(1, sizeof *r);
    if (seq && !trn_yaml_is_null(seq)) {
        if (seq->kind != TRN_YAML_SEQ) {
            trn_relabel_free(r);
            return trn_yaml_error(d, seq, "relabel configs must be a list");
        }
        r->rules = trn_xcalloc(seq->n ? seq->n : 1, sizeof *r->rules);
        for (size_t i = 0; i < seq->n; i++) {
            r->n++;
            if (parse_rule(seq->items[i], &r->rules[i], d) < 0) {
                trn_relabel_free(r);
                return TRN_EINVAL;
            }
        }
    }
    *out = r;
    return 0;
}

/* ---- applying ---- */

typedef struct builder {
    trn_arena_t *a;
    trn_label_t *v;
    size_t n, cap;
    bool failed;
} builder_t;

static trn_label_t *find(builder_t *b, trn_str_t name)
{
    for (size_t i = 0; i < b->n; i++)
        if (trn_str_eq(b->v[i].name, name)) return &b->v[i];
    return NULL;
}

static trn_str_t get(builder_t *b, trn_str_t name)
{
    trn_label_t *l = find(b, name);
    return l ? l->value : (trn_str_t){"", 0};
}

static void del(builder_t *b, trn_str_t name)
{
    trn_label_t *l = find(b, name);
    if (l) *l = b->v[--b->n];
}

static void set(builder_t *b, trn_str_t name, trn_str_t value)
{
    if (value.len == 0) {
        del(b, name);
        return;
    }
    trn_label_t *l = find(b, name);
    if (l) {
        l->value = value;
        return;
    }
    if (b->n == b->cap) {
        size_t nc = b->cap * 2 + 8;
        trn_label_t *nv = trn_arena_grow(b->a, b->v, b->cap * sizeof *b->v, nc * sizeof *b->v);
        if (!nv) {
            b->failed = true;
            return;
        }
        b->v = nv;
        b->cap = nc;
    }
    b->v[b->n++] = (trn_label_t){name, value};
}

static pcre2_match_data *match_data(void)
{
    pthread_once(&md_once, md_key_init);
    pcre2_match_data *md = pthread_getspecific(md_key);
    if (!md) {
        md = pcre2_match_data_create(OVECTOR_PAIRS, NULL);
        TRN_ASSERT(md != NULL); /* NULL only when out of memory, which aborts everywhere */
        pthread_setspecific(md_key, md);
    }
    return md;
}

/* Matches s against the rule's regex; returns the group count usable in
 * the ovector (>= 1) or 0 when it does not match. */
static int match(const rule_t *r, trn_str_t s, PCRE2_SIZE **ov)
{
    pcre2_match_data *md = match_data();
    int rc = pcre2_match(r->re, (PCRE2_SPTR)(s.len ? s.p : ""), s.len, 0, 0, md, NULL);
    if (rc < 0) return 0;
    if (rc == 0) rc = OVECTOR_PAIRS; /* more groups than slots: all slots are filled */
    *ov = pcre2_get_ovector_pointer(md);
    return rc;
}

/* Group number of a named group, or -1. */
static int group_by_name(const rule_t *r, const char *name, size_t len)
{
    uint32_t count, esize;
    PCRE2_SPTR table;
    pcre2_pattern_info(r->re, PCRE2_INFO_NAMECOUNT, &count);
    if (!count) return -1;
    pcre2_pattern_info(r->re, PCRE2_INFO_NAMEENTRYSIZE, &esize);
    pcre2_pattern_info(r->re, PCRE2_INFO_NAMETABLE, &table);
    for (uint32_t i = 0; i < count; i++) {
        PCRE2_SPTR e = table + (size_t)i * esize;
        const char *n = (const char *)e + 2;
        if (strlen(n) == len && memcmp(n, name, len) == 0) return (e[0] << 8) | e[1];
    }
    return -1;
}

/* Go's Regexp.Expand of tmpl over subject s with the match in ov/ngroups,
 * into the arena. Returns false when the arena budget ran out. */
static bool expand(const rule_t *r, const char *tmpl, trn_str_t s, const PCRE2_SIZE *ov,
                   int ngroups, trn_arena_t *a, trn_str_t *out)
{
    if (!strchr(tmpl, '$')) {
        *out = trn_str_c(tmpl);
        return true;
    }
    trn_buf_t b;
    trn_buf_init(&b);
    const char *p = tmpl;
    while (*p) {
        const char *dollar = strchr(p, '$');
        if (!dollar) {
            trn_buf_puts(&b, p);
            break;
        }
        trn_buf_append(&b, p, (size_t)(dollar - p));
        p = dollar + 1;
        if (*p == '$') {
            trn_buf_putc(&b, '$');
            p++;
            continue;
        }
        bool brace = *p == '{';
        const char *nm = brace ? p + 1 : p, *e = nm;
        while (*e && name_char((unsigned char)*e))
            e++;
        if (e == nm || (brace && *e != '}')) {
            trn_buf_putc(&b, '$'); /* malformed: the '$' stays literal */
            continue;
        }
        size_t len = (size_t)(e - nm);
        p = brace ? e + 1 : e;
        long num = 0;
        for (size_t i = 0; i < len && num >= 0; i++) {
            if (!isdigit((unsigned char)nm[i]) || num >= 100000000)
                num = -1;
            else
                num = num * 10 + (nm[i] - '0');
        }
        if (len > 1 && nm[0] == '0') num = -1;
        if (num < 0) num = group_by_name(r, nm, len);
        if (num >= 0 && num < ngroups && ov[2 * num] != PCRE2_UNSET)
            trn_buf_append(&b, s.p + ov[2 * num], ov[2 * num + 1] - ov[2 * num]);
    }
    char *copy = trn_arena_strndup(a, b.data ? b.data : "", b.len);
    size_t n = b.len;
    trn_buf_fini(&b);
    if (!copy) return false;
    *out = (trn_str_t){copy, n};
    return true;
}

/* The source values joined by the separator. */
static bool join_sources(const rule_t *r, builder_t *b, trn_str_t *out)
{
    if (r->n_source == 1) {
        *out = get(b, trn_str_c(r->source[0]));
        return true;
    }
    size_t sep = strlen(r->separator), total = 0;
    for (size_t i = 0; i < r->n_source; i++)
        total += get(b, trn_str_c(r->source[i])).len + (i ? sep : 0);
    char *buf = trn_arena_alloc(b->a, total + 1);
    if (!buf) return false;
    size_t o = 0;
    for (size_t i = 0; i < r->n_source; i++) {
        if (i) {
            memcpy(buf + o, r->separator, sep);
            o += sep;
        }
        trn_str_t v = get(b, trn_str_c(r->source[i]));
        if (v.len) memcpy(buf + o, v.p, v.len);
        o += v.len;
    }
    buf[o] = 0;
    *out = (trn_str_t){buf, o};
    return true;
}

/* Applies one rule; returns 1 keep, 0 drop, TRN_ELIMIT. */
static int apply_rule(const rule_t *r, builder_t *b)
{
    trn_str_t val;
    if (!join_sources(r, b, &val)) return TRN_ELIMIT;
    PCRE2_SIZE *ov = NULL;
    int ng;
    switch (r->action) {
    case ACT_KEEP:
        return match(r, val, &ov) ? 1 : 0;
    case ACT_DROP:
        return match(r, val, &ov) ? 0 : 1;
    case ACT_KEEPEQUAL:
        return trn_str_eq(get(b, trn_str_c(r->target)), val) ? 1 : 0;
    case ACT_DROPEQUAL:
        return trn_str_eq(get(b, trn_str_c(r->target)), val) ? 0 : 1;
    case ACT_REPLACE: {
        if (!(ng = match(r, val, &ov))) return 1;
        trn_str_t target, res;
        if (!expand(r, r->target, val, ov, ng, b->a, &target)) return TRN_ELIMIT;
        if (!trn_label_name_valid(target)) return 1;
        if (!expand(r, r->replacement, val, ov, ng, b->a, &res)) return TRN_ELIMIT;
        set(b, target, res);
        break;
    }
    case ACT_LOWERCASE:
    case ACT_UPPERCASE: {
        char *s = trn_arena_strndup(b->a, val.p ? val.p : "", val.len);
        if (!s) return TRN_ELIMIT;
        for (size_t i = 0; i < val.len; i++)
            s[i] = (char)(r->action == ACT_LOWERCASE ? tolower((unsigned char)s[i])
                                                     : toupper((unsigned char)s[i]));
        set(b, trn_str_c(r->target), (trn_str_t){s, val.len});
        break;
    }
    case ACT_HASHMOD: {
        uint8_t sum[16];
        trn_md5(val.p ? val.p : "", val.len, sum);
        uint64_t h = 0;
        for (int i = 8; i < 16; i++)
            h = h << 8 | sum[i];
        char *s = trn_arena_printf(b->a, "%llu", (unsigned long long)(h % r->modulus));
        if (!s) return TRN_ELIMIT;
        set(b, trn_str_c(r->target), trn_str_c(s));
        break;
    }
    case ACT_LABELMAP: {
        size_t n = b->n;
        trn_label_t *snap = trn_arena_alloc(b->a, (n ? n : 1) * sizeof *snap);
        if (!snap) return TRN_ELIMIT;
        if (n) memcpy(snap, b->v, n * sizeof *snap);
        for (size_t i = 0; i < n; i++) {
            if (!(ng = match(r, snap[i].name, &ov))) continue;
            trn_str_t res;
            if (!expand(r, r->replacement, snap[i].name, ov, ng, b->a, &res)) return TRN_ELIMIT;
            if (trn_label_name_valid(res)) set(b, res, snap[i].value);
        }
        break;
    }
    case ACT_LABELDROP:
    case ACT_LABELKEEP:
        for (size_t i = 0; i < b->n;) {
            bool m = match(r, b->v[i].name, &ov) != 0;
            if (m == (r->action == ACT_LABELDROP))
                b->v[i] = b->v[--b->n];
            else
                i++;
        }
        break;
    }
    return b->failed ? TRN_ELIMIT : 1;
}

int trn_relabel_apply(const trn_relabel_t *r, const trn_labels_t *in, trn_arena_t *a,
                      trn_labels_t *out)
{
    builder_t b = {.a = a, .cap = in->n + 4};
    b.v = trn_arena_alloc(a, b.cap * sizeof *b.v);
    if (!b.v) return TRN_ELIMIT;
    for (size_t i = 0; i < in->n; i++)
        if (in->v[i].value.len) b.v[b.n++] = in->v[i];
    for (size_t i = 0; r && i < r->n; i++) {
        int rc = apply_rule(&r->rules[i], &b);
        if (rc <= 0) return rc;
    }
    out->v = b.v;
    out->n = b.n;
    trn_labels_sort(out);
    return 1;
}
