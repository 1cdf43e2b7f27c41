/* SPDX-License-Identifier: Apache-2.0 */
/* Matchers and anchored regexes on PCRE2. Patterns are compiled with
 * ANCHORED|ENDANCHORED (Prometheus anchors both ends), DOTALL (Prometheus
 * 3 lets '.' match newlines) and UTF, then JIT-compiled when possible.
 * Match data is per thread so matching allocates nothing. A pattern that is
 * only literals joined by '|' is also kept as a list of literals, so the
 * label index can answer it with set lookups instead of scanning values. */
#include "core/matcher.h"
#include "core/alloc.h"
#include "core/err.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdlib.h>

struct trn_regex {
    pcre2_code *code;
    char *pattern;   /* owned copy; literal views point into it */
    trn_str_t *alts; /* literal alternatives, or NULL */
    size_t n_alts;
};

/* Per-thread match data, freed when the thread exits (HTTP connection
 * threads come and go), found through a pthread key. */
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

static pcre2_match_data *thread_md(void)
{
    pthread_once(&md_once, md_key_init);
    pcre2_match_data *md = pthread_getspecific(md_key);
    if (!md) {
        md = pcre2_match_data_create(1, NULL);
        pthread_setspecific(md_key, md);
    }
    return md;
}

static bool is_literal_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == ':' || c == '/' || c == ' ' || c == ',' || c == '=' || c == '@' ||
           c == '%' || c == '#' || c == '!' || c == '<' || c == '>' || c == '\'' || c == '"' ||
           c == '~' || c == '&' || c == ';' || (unsigned char)c >= 0x80;
}

static void find_literals(trn_regex_t *re, size_t len)
{
    size_t n = 1;
    for (size_t i = 0; i < len; i++) {
        if (re->pattern[i] == '|')
            n++;
        else if (!is_literal_char(re->pattern[i]))
            return;
    }
    re->alts = trn_xcalloc(n, sizeof *re->alts);
    size_t start = 0, k = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || re->pattern[i] == '|') {
            re->alts[k++] = (trn_str_t){re->pattern + start, i - start};
            start = i + 1;
        }
    }
    re->n_alts = n;
}

int trn_regex_new(trn_str_t pattern, trn_regex_t **out, trn_diag_t *d)
{
    int err;
    PCRE2_SIZE off;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)(pattern.len ? pattern.p : ""), pattern.len,
                                     PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_DOTALL | PCRE2_UTF,
                                     &err, &off, NULL);
    if (!code) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(err, msg, sizeof msg);
        return trn_diag_set(
            d, TRN_EINVAL, (int64_t)off, "invalid regular expression \"%.*s\": %s at offset %zu",
            (int)(pattern.len > 200 ? 200 : pattern.len), pattern.p, (char *)msg, (size_t)off);
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    trn_regex_t *re = trn_xcalloc(1, sizeof *re);
    re->code = code;
    re->pattern = trn_xstrndup(pattern.len ? pattern.p : "", pattern.len);
    find_literals(re, pattern.len);
    *out = re;
    return 0;
}

void trn_regex_free(trn_regex_t *re)
{
    if (!re) return;
    pcre2_code_free(re->code);
    free(re->pattern);
    free(re->alts);
    free(re);
}

bool trn_regex_match(const trn_regex_t *re, trn_str_t s)
{
    if (re->alts) {
        for (size_t i = 0; i < re->n_alts; i++)
            if (trn_str_eq(re->alts[i], s)) return true;
        return false;
    }
    int rc = pcre2_match(re->code, (PCRE2_SPTR)(s.len ? s.p : ""), s.len, 0, 0, thread_md(), NULL);
    return rc >= 0;
}

size_t trn_regex_literals(const trn_regex_t *re, const trn_str_t **alts)
{
    if (!re->alts) return 0;
    *alts = re->alts;
    return re->n_alts;
}

int trn_matcher_init(trn_matcher_t *m, trn_match_type_t type, trn_str_t name, trn_str_t value,
                     trn_diag_t *d)
{
    m->type = type;
    m->name = name;
    m->value = value;
    m->re = NULL;
    if (type == TRN_MATCH_RE || type == TRN_MATCH_NRE) return trn_regex_new(value, &m->re, d);
    return 0;
}

void trn_matcher_fini(trn_matcher_t *m)
{
    if (!m) return;
    trn_regex_free(m->re);
    m->re = NULL;
}

bool trn_matcher_matches(const trn_matcher_t *m, trn_str_t v)
{
    switch (m->type) {
    case TRN_MATCH_EQ:
        return trn_str_eq(m->value, v);
    case TRN_MATCH_NE:
        return !trn_str_eq(m->value, v);
    case TRN_MATCH_RE:
        return trn_regex_match(m->re, v);
    case TRN_MATCH_NRE:
        return !trn_regex_match(m->re, v);
    }
    return false;
}

bool trn_matcher_matches_labels(const trn_matcher_t *m, const trn_labels_t *ls)
{
    for (size_t i = 0; i < ls->n; i++)
        if (trn_str_eq(ls->v[i].name, m->name)) return trn_matcher_matches(m, ls->v[i].value);
    return trn_matcher_matches(m, (trn_str_t){"", 0});
}

bool trn_matcher_matches_empty(const trn_matcher_t *m)
{
    return trn_matcher_matches(m, (trn_str_t){"", 0});
}

const char *trn_match_op(trn_match_type_t t)
{
    static const char *ops[] = {"=", "!=", "=~", "!~"};
    return ops[t];
}
