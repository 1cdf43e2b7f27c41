/* SPDX-License-Identifier: Apache-2.0 */
/* Silences: creation, update and expiry with Alertmanager's rules, muting
 * checks, and persistence in <state>/silences (statelog.c; one JSON record
 * per silence version, docs/format/alertmanager.md).
 *
 * Silences are few (tens to hundreds), so they live in an array scanned
 * linearly; a muting check is one pass over the active ones. Updating an
 * active silence may only extend or shorten its end; any other change (new
 * matchers, a moved start) expires it and creates a new silence with a new
 * id, as Alertmanager does, so that history stays truthful. Expired
 * silences are kept for the retention (120h) and then dropped at the next
 * compaction. */
#include "alerts/am_int.h"

#include "core/alloc.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "core/timefmt.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define RETENTION_MS (120LL * 3600 * 1000)

const char *trn_am_silence_state(const trn_am_silence_t *s, int64_t now_ms)
{
    if (now_ms < s->starts_at_ms) return "pending";
    if (s->ends_at_ms < now_ms) return "expired";
    return "active";
}

static void new_id(char out[40])
{
    unsigned char r[16];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        uint64_t t = (uint64_t)trn_now_ns() ^ (uint64_t)(uintptr_t)out;
        for (int i = 0; i < 16; i++)
            r[i] = (unsigned char)(t >> ((i % 8) * 8)) ^ (unsigned char)(i * 37);
    }
    r[6] = (r[6] & 0x0f) | 0x40;
    r[8] = (r[8] & 0x3f) | 0x80;
    snprintf(out, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
             r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
             r[14], r[15]);
}

/* Deep copy with compiled matchers; strings in one heap block. */
static trn__am_sil_t *sil_copy(const trn_am_silence_t *s, trn_diag_t *d)
{
    size_t need =
        strlen(s->created_by ? s->created_by : "") + strlen(s->comment ? s->comment : "") + 2;
    for (size_t i = 0; i < s->matchers.n; i++)
        need += s->matchers.v[i].name.len + s->matchers.v[i].value.len + 2;
    trn__am_sil_t *c = trn_xcalloc(1, sizeof *c);
    c->mem = trn_xmalloc(need);
    char *p = c->mem;
    memcpy(c->s.id, s->id, sizeof c->s.id);
    c->s.starts_at_ms = s->starts_at_ms;
    c->s.ends_at_ms = s->ends_at_ms;
    c->s.updated_at_ms = s->updated_at_ms;
#define COPY(dst, src, n)                                                                          \
    do {                                                                                           \
        memcpy(p, (src), (n));                                                                     \
        p[(n)] = 0;                                                                                \
        (dst) = p;                                                                                 \
        p += (n) + 1;                                                                              \
    } while (0)
    const char *cb = s->created_by ? s->created_by : "", *cm = s->comment ? s->comment : "";
    COPY(c->s.created_by, cb, strlen(cb));
    COPY(c->s.comment, cm, strlen(cm));
    c->s.matchers.v = trn_xcalloc(s->matchers.n ? s->matchers.n : 1, sizeof(trn_matcher_t));
    c->s.matchers.cap = s->matchers.n ? s->matchers.n : 1;
    for (size_t i = 0; i < s->matchers.n; i++) {
        const trn_matcher_t *m = &s->matchers.v[i];
        const char *n, *v;
        COPY(n, m->name.p ? m->name.p : "", m->name.len);
        COPY(v, m->value.p ? m->value.p : "", m->value.len);
        int rc = trn_matcher_init(&c->s.matchers.v[i], m->type, (trn_str_t){n, m->name.len},
                                  (trn_str_t){v, m->value.len}, d);
        if (rc < 0) {
            c->s.matchers.n = i;
            trn_am_matchers_fini(&c->s.matchers);
            free(c->mem);
            free(c);
            return NULL;
        }
        c->s.matchers.n = i + 1;
    }
#undef COPY
    return c;
}

static void sil_free(trn__am_sil_t *s)
{
    if (!s) return;
    trn_am_matchers_fini(&s->s.matchers);
    free(s->mem);
    free(s);
}

static trn__am_sil_t *find(trn_alertmanager_t *am, const char *id, size_t *idx)
{
    for (size_t i = 0; i < am->n_silences; i++)
        if (!strcmp(am->silences[i]->s.id, id)) {
            if (idx) *idx = i;
            return am->silences[i];
        }
    return NULL;
}

static void sil_json(const trn_am_silence_t *s, trn_buf_t *out)
{
    trn_json_t j;
    trn_json_init(&j, out);
    trn_json_obj_begin(&j);
    trn_json_key(&j, "id");
    trn_json_str(&j, s->id);
    trn_json_key(&j, "matchers");
    trn_json_arr_begin(&j);
    for (size_t i = 0; i < s->matchers.n; i++) {
        const trn_matcher_t *m = &s->matchers.v[i];
        trn_json_obj_begin(&j);
        trn_json_key(&j, "name");
        trn_json_strn(&j, m->name.p, m->name.len);
        trn_json_key(&j, "value");
        trn_json_strn(&j, m->value.p, m->value.len);
        trn_json_key(&j, "isRegex");
        trn_json_bool(&j, m->type == TRN_MATCH_RE || m->type == TRN_MATCH_NRE);
        trn_json_key(&j, "isEqual");
        trn_json_bool(&j, m->type == TRN_MATCH_EQ || m->type == TRN_MATCH_RE);
        trn_json_obj_end(&j);
    }
    trn_json_arr_end(&j);
    trn_json_key(&j, "startsAt");
    trn_json_int(&j, s->starts_at_ms);
    trn_json_key(&j, "endsAt");
    trn_json_int(&j, s->ends_at_ms);
    trn_json_key(&j, "updatedAt");
    trn_json_int(&j, s->updated_at_ms);
    trn_json_key(&j, "createdBy");
    trn_json_str(&j, s->created_by);
    trn_json_key(&j, "comment");
    trn_json_str(&j, s->comment);
    trn_json_obj_end(&j);
}

static void persist_one(trn_alertmanager_t *am, const trn_am_silence_t *s)
{
    if (!am->sil_log) return;
    trn_buf_t b;
    trn_buf_init(&b);
    sil_json(s, &b);
    trn__am_statelog_append(am->sil_log, b.data, b.len, true);
    trn_buf_fini(&b);
}

static void compact(trn_alertmanager_t *am, int64_t now)
{
    size_t k = 0;
    for (size_t i = 0; i < am->n_silences; i++) {
        if (am->silences[i]->s.ends_at_ms + RETENTION_MS < now)
            sil_free(am->silences[i]);
        else
            am->silences[k++] = am->silences[i];
    }
    am->n_silences = k;
    if (!am->sil_log) return;
    trn_buf_t recs, one;
    trn_buf_init(&recs);
    trn_buf_init(&one);
    for (size_t i = 0; i < am->n_silences; i++) {
        one.len = 0;
        sil_json(&am->silences[i]->s, &one);
        trn__am_statelog_frame(&recs, one.data, one.len);
    }
    trn__am_statelog_rewrite(am->sil_log, &recs);
    trn_buf_fini(&recs);
    trn_buf_fini(&one);
}

static void add(trn_alertmanager_t *am, trn__am_sil_t *s)
{
    size_t idx;
    trn__am_sil_t *old = find(am, s->s.id, &idx);
    if (old) {
        sil_free(old);
        am->silences[idx] = s;
        return;
    }
    if (am->n_silences == am->cap_silences) {
        am->cap_silences = am->cap_silences ? am->cap_silences * 2 : 16;
        am->silences = trn_xrealloc(am->silences, am->cap_silences * sizeof *am->silences);
    }
    am->silences[am->n_silences++] = s;
}

/* Replay of one persisted record. */
static void on_record(void *ctx, const char *payload, size_t len)
{
    trn_alertmanager_t *am = ctx;
    json_error_t err;
    json_t *o = json_loadb(payload, len, 0, &err);
    if (!o) return;
    trn_am_silence_t s = {0};
    trn_arena_t *a = trn_arena_new(0);
    const char *id = json_string_value(json_object_get(o, "id"));
    json_t *ms = json_object_get(o, "matchers");
    if (id && strlen(id) < sizeof s.id && json_is_array(ms)) {
        snprintf(s.id, sizeof s.id, "%s", id);
        s.starts_at_ms = json_integer_value(json_object_get(o, "startsAt"));
        s.ends_at_ms = json_integer_value(json_object_get(o, "endsAt"));
        s.updated_at_ms = json_integer_value(json_object_get(o, "updatedAt"));
        s.created_by = json_string_value(json_object_get(o, "createdBy"));
        s.comment = json_string_value(json_object_get(o, "comment"));
        bool ok = true;
        size_t i;
        json_t *m;
        json_array_foreach(ms, i, m)
        {
            const char *n = json_string_value(json_object_get(m, "name"));
            const char *v = json_string_value(json_object_get(m, "value"));
            bool re = json_is_true(json_object_get(m, "isRegex"));
            bool eq = !json_is_false(json_object_get(m, "isEqual"));
            if (!n || !v ||
                trn_am_matchers_add(&s.matchers, a,
                                    re ? (eq ? TRN_MATCH_RE : TRN_MATCH_NRE)
                                       : (eq ? TRN_MATCH_EQ : TRN_MATCH_NE),
                                    trn_str_c(n), trn_str_c(v), NULL) < 0)
                ok = false;
        }
        if (ok) {
            trn__am_sil_t *c = sil_copy(&s, NULL);
            if (c) add(am, c);
        }
    }
    trn_am_matchers_fini(&s.matchers);
    trn_arena_free(a);
    json_decref(o);
}

int trn__am_silences_open(trn_alertmanager_t *am, trn_diag_t *d)
{
    if (!am->state_dir) return 0;
    size_t n = strlen(am->state_dir) + 16;
    char *p = trn_xmalloc(n);
    snprintf(p, n, "%s/silences", am->state_dir);
    int rc = trn__am_statelog_open(p, "TRNAMSIL", on_record, am, &am->sil_log, d);
    free(p);
    if (rc < 0) return rc;
    compact(am, trn__am_now(am));
    return 0;
}

void trn__am_silences_free(trn_alertmanager_t *am)
{
    for (size_t i = 0; i < am->n_silences; i++)
        sil_free(am->silences[i]);
    free(am->silences);
    am->silences = NULL;
    am->n_silences = am->cap_silences = 0;
    trn__am_statelog_close(am->sil_log);
    am->sil_log = NULL;
}

size_t trn__am_silenced_by(trn_alertmanager_t *am, const trn_labels_t *ls, int64_t now,
                           const char **ids, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < am->n_silences; i++) {
        const trn_am_silence_t *s = &am->silences[i]->s;
        if (now < s->starts_at_ms || s->ends_at_ms < now) continue;
        if (!trn_am_matchers_match(&s->matchers, ls)) continue;
        if (n < max) ids[n] = s->id;
        n++;
        if (!ids) break;
    }
    return n;
}

static int validate(const trn_am_silence_t *s, int64_t now, trn_diag_t *d)
{
    if (s->matchers.n == 0) return trn_diag_set(d, TRN_EINVAL, -1, "at least one matcher required");
    bool all_empty = true;
    for (size_t i = 0; i < s->matchers.n; i++) {
        const trn_matcher_t *m = &s->matchers.v[i];
        if (!trn_label_name_valid(m->name))
            return trn_diag_set(
                d, TRN_EINVAL, -1, "invalid label matcher %zu: invalid label name \"%.*s\"", i,
                (int)(m->name.len > 100 ? 100 : m->name.len), m->name.p ? m->name.p : "");
        if (!trn_matcher_matches(m, TRN_STR(""))) all_empty = false;
    }
    if (all_empty)
        return trn_diag_set(d, TRN_EINVAL, -1,
                            "at least one matcher must not match the empty string");
    if (s->starts_at_ms == 0)
        return trn_diag_set(d, TRN_EINVAL, -1, "invalid zero start timestamp");
    if (s->ends_at_ms == 0) return trn_diag_set(d, TRN_EINVAL, -1, "invalid zero end timestamp");
    if (s->ends_at_ms < s->starts_at_ms)
        return trn_diag_set(d, TRN_EINVAL, -1, "end time must not be before start time");
    if (s->ends_at_ms < now)
        return trn_diag_set(d, TRN_EINVAL, -1, "end time can't be in the past");
    return 0;
}

static bool same_matchers(const trn_am_matchers_t *a, const trn_am_matchers_t *b)
{
    if (a->n != b->n) return false;
    for (size_t i = 0; i < a->n; i++)
        if (a->v[i].type != b->v[i].type || !trn_str_eq(a->v[i].name, b->v[i].name) ||
            !trn_str_eq(a->v[i].value, b->v[i].value))
            return false;
    return true;
}

static void expire_locked(trn_alertmanager_t *am, trn__am_sil_t *s, int64_t now)
{
    if (now < s->s.starts_at_ms) s->s.starts_at_ms = now;
    s->s.ends_at_ms = now;
    s->s.updated_at_ms = now;
    persist_one(am, &s->s);
}

int trn_alertmanager_silence_set(trn_alertmanager_t *am, const trn_am_silence_t *in,
                                 char out_id[40], trn_diag_t *d)
{
    int64_t now = trn__am_now(am);
    trn_am_silence_t s = *in;
    int rc = validate(&s, now, d);
    if (rc < 0) return rc;
    if (s.starts_at_ms < now) s.starts_at_ms = now;
    s.updated_at_ms = now;
    pthread_mutex_lock(&am->mu);
    trn__am_sil_t *prev = in->id[0] ? find(am, in->id, NULL) : NULL;
    if (in->id[0] && !prev) {
        pthread_mutex_unlock(&am->mu);
        return trn_diag_set(d, TRN_ENOTFOUND, -1, "silence %s not found", in->id);
    }
    bool in_place = false;
    if (prev) {
        const char *st = trn_am_silence_state(&prev->s, now);
        in_place = same_matchers(&prev->s.matchers, &in->matchers) && strcmp(st, "expired");
        if (in_place && !strcmp(st, "active") && in->starts_at_ms != prev->s.starts_at_ms &&
            in->starts_at_ms > now)
            in_place = false;
        if (in_place && !strcmp(st, "active")) s.starts_at_ms = prev->s.starts_at_ms;
        if (!in_place && strcmp(st, "expired")) expire_locked(am, prev, now);
    }
    if (!in_place) new_id(s.id);
    trn__am_sil_t *c = sil_copy(&s, d);
    if (!c) {
        pthread_mutex_unlock(&am->mu);
        return TRN_EINVAL;
    }
    add(am, c);
    persist_one(am, &c->s);
    if (am->sil_log && trn__am_statelog_appended(am->sil_log) > 2 * am->n_silences + 64)
        compact(am, now);
    memcpy(out_id, c->s.id, 40);
    pthread_cond_signal(&am->cond);
    pthread_mutex_unlock(&am->mu);
    return 0;
}

int trn_alertmanager_silence_expire(trn_alertmanager_t *am, const char *id, trn_diag_t *d)
{
    int64_t now = trn__am_now(am);
    pthread_mutex_lock(&am->mu);
    trn__am_sil_t *s = find(am, id, NULL);
    int rc = 0;
    if (!s)
        rc = trn_diag_set(d, TRN_ENOTFOUND, -1, "silence %s not found", id);
    else if (!strcmp(trn_am_silence_state(&s->s, now), "expired"))
        rc = trn_diag_set(d, TRN_EINVAL, -1, "silence %s already expired", id);
    else
        expire_locked(am, s, now);
    pthread_mutex_unlock(&am->mu);
    return rc;
}

static void copy_view(trn_arena_t *a, const trn_am_silence_t *src, trn_am_silence_t *dst)
{
    *dst = *src;
    dst->created_by = trn_arena_strndup(a, src->created_by, strlen(src->created_by));
    dst->comment = trn_arena_strndup(a, src->comment, strlen(src->comment));
    dst->matchers.v =
        trn_arena_calloc(a, src->matchers.n ? src->matchers.n : 1, sizeof(trn_matcher_t));
    dst->matchers.cap = dst->matchers.n = src->matchers.n;
    for (size_t i = 0; i < src->matchers.n; i++) {
        const trn_matcher_t *m = &src->matchers.v[i];
        dst->matchers.v[i] = (trn_matcher_t){
            .type = m->type,
            .name = {trn_arena_strndup(a, m->name.p, m->name.len), m->name.len},
            .value = {trn_arena_strndup(a, m->value.p, m->value.len), m->value.len},
        };
    }
}

int trn_alertmanager_silences(trn_alertmanager_t *am, const char *id, trn_arena_t *a,
                              trn_am_silence_t **out, size_t *n)
{
    pthread_mutex_lock(&am->mu);
    int rc = 0;
    if (id) {
        trn__am_sil_t *s = find(am, id, NULL);
        if (!s)
            rc = TRN_ENOTFOUND;
        else {
            *out = trn_arena_calloc(a, 1, sizeof **out);
            copy_view(a, &s->s, *out);
            *n = 1;
        }
    } else {
        *out = trn_arena_calloc(a, am->n_silences ? am->n_silences : 1, sizeof **out);
        for (size_t i = 0; i < am->n_silences; i++)
            copy_view(a, &am->silences[i]->s, &(*out)[i]);
        *n = am->n_silences;
    }
    pthread_mutex_unlock(&am->mu);
    return rc;
}
