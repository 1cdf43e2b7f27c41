/* SPDX-License-Identifier: Apache-2.0 */
/* label_replace's regex step: match a fully anchored pattern against one
 * label value and expand the replacement template with Go's Regexp.Expand
 * rules ($1, ${1}, $name, ${name}, $$; an unknown name or index expands to
 * nothing; "$1x" names group "1x", so it is empty too). core/matcher.h only
 * answers match/no-match, so this file compiles the pattern itself with
 * PCRE2 (same options as core: anchored both ends, DOTALL, UTF) to get the
 * capture offsets. The compiled pattern is per call; label_replace is rare
 * and its argument is a constant, so caching is not worth the state. */
#include "metrics/promql/eval_int.h"

#include "core/err.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <string.h>

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

int trn__pq_regex_expand(const char *re, size_t re_len, trn_str_t src, trn_str_t repl,
                         trn_arena_t *a, trn_str_t *out, bool *matched)
{
    int err;
    PCRE2_SIZE off;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)(re_len ? re : ""), re_len,
                                     PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_DOTALL | PCRE2_UTF |
                                         PCRE2_MATCH_INVALID_UTF,
                                     &err, &off, NULL);
    if (!code) return TRN_EINVAL;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
    int rc = pcre2_match(code, (PCRE2_SPTR)(src.len ? src.p : ""), src.len, 0, 0, md, NULL);
    *matched = rc > 0;
    int ret = 0;
    if (rc <= 0) goto done;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    uint32_t ngroups = pcre2_get_ovector_count(md);
    trn_buf_t b;
    trn_buf_init(&b);
    for (size_t i = 0; i < repl.len; i++) {
        char c = repl.p[i];
        if (c != '$' || i + 1 >= repl.len) {
            trn_buf_putc(&b, c);
            continue;
        }
        if (repl.p[i + 1] == '$') {
            trn_buf_putc(&b, '$');
            i++;
            continue;
        }
        size_t ns, ne, next;
        if (repl.p[i + 1] == '{') {
            ns = i + 2;
            ne = ns;
            while (ne < repl.len && name_char(repl.p[ne]))
                ne++;
            if (ne >= repl.len || repl.p[ne] != '}' || ne == ns) {
                trn_buf_putc(&b, '$');
                continue;
            }
            next = ne + 1;
        } else {
            ns = i + 1;
            ne = ns;
            while (ne < repl.len && name_char(repl.p[ne]))
                ne++;
            if (ne == ns) {
                trn_buf_putc(&b, '$');
                continue;
            }
            next = ne;
        }
        /* numeric name: group index; else named group */
        bool num = true;
        long idx = 0;
        for (size_t k = ns; k < ne; k++) {
            if (repl.p[k] < '0' || repl.p[k] > '9') {
                num = false;
                break;
            }
            idx = idx * 10 + (repl.p[k] - '0');
            if (idx > 100000) idx = 100000;
        }
        long g = -1;
        if (num) {
            g = idx;
        } else {
            char nm[128];
            size_t l = ne - ns < sizeof nm - 1 ? ne - ns : sizeof nm - 1;
            memcpy(nm, repl.p + ns, l);
            nm[l] = 0;
            int n = pcre2_substring_number_from_name(code, (PCRE2_SPTR)nm);
            if (n > 0) g = n;
        }
        if (g >= 0 && (uint32_t)g < ngroups && (int)g < rc && ov[2 * g] != PCRE2_UNSET)
            trn_buf_append(&b, src.p + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
        i = next - 1;
    }
    char *s = trn_arena_strndup(a, b.data ? b.data : "", b.len);
    if (!s) {
        ret = TRN_ELIMIT;
    } else {
        *out = (trn_str_t){s, b.len};
    }
    trn_buf_fini(&b);
done:
    pcre2_match_data_free(md);
    pcre2_code_free(code);
    return ret;
}
