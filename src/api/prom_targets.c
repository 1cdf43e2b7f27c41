/* SPDX-License-Identifier: Apache-2.0 */
/* GET /api/v1/targets in Prometheus's shape: activeTargets (discovered
 * labels, labels, scrapePool, scrapeUrl, globalUrl, lastError, lastScrape
 * in RFC3339, lastScrapeDuration in seconds, health, scrapeInterval,
 * scrapeTimeout), droppedTargets (discovered labels, scrapePool) and
 * droppedTargetCounts for every pool. `state` (active, dropped, any) filters the
 * lists — a filtered-out list is still present, empty, as Prometheus
 * documents — and `scrapePool` limits them to one job. globalUrl is the
 * scrape URL with a loopback host replaced by this machine's hostname. */
#include "api/prom_targets.h"
#include "core/json.h"
#include "core/timefmt.h"
#include "scrape/scrape.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static void labels_obj(trn_json_t *j, const trn_labels_t *ls)
{
    trn_json_obj_begin(j);
    for (size_t i = 0; i < ls->n; i++) {
        trn_json_keyn(j, ls->v[i].name.p, ls->v[i].name.len);
        trn_json_strn(j, ls->v[i].value.p ? ls->v[i].value.p : "", ls->v[i].value.len);
    }
    trn_json_obj_end(j);
}

/* The URL with "localhost", 127.x.y.z or [::1] replaced by the hostname. */
static void global_url(const char *url, trn_buf_t *out)
{
    const char *host = strstr(url, "://");
    if (!host) {
        trn_buf_puts(out, url);
        return;
    }
    host += 3;
    size_t hl = strcspn(host, "/?#");
    const char *colon = host[0] == '[' ? strchr(host, ']') : memchr(host, ':', hl);
    size_t name_len = colon ? (size_t)(colon - host) + (host[0] == '[' ? 1 : 0) : hl;
    bool loop = (name_len == 9 && strncasecmp(host, "localhost", 9) == 0) ||
                (name_len >= 4 && strncmp(host, "127.", 4) == 0) ||
                (name_len == 5 && strncmp(host, "[::1]", 5) == 0);
    char hn[256];
    if (!loop || gethostname(hn, sizeof hn) != 0) {
        trn_buf_puts(out, url);
        return;
    }
    hn[sizeof hn - 1] = 0;
    trn_buf_append(out, url, (size_t)(host - url));
    trn_buf_puts(out, hn);
    trn_buf_puts(out, host + name_len);
}

static const char *health_name(trn_target_health_t h)
{
    return h == TRN_TARGET_UP ? "up" : h == TRN_TARGET_DOWN ? "down" : "unknown";
}

static void targets(void *ctx, trn_http_req_t *req, trn_http_resp_t *resp)
{
    trn_api_ctx_t *api = ctx;
    const char *state = trn_http_param(req, "state");
    const char *pool = trn_http_param(req, "scrapePool");
    bool any = !state || !*state || strcasecmp(state, "any") == 0;
    bool show_active = any || strcasecmp(state, "active") == 0;
    bool show_dropped = any || strcasecmp(state, "dropped") == 0;
    trn_target_info_t *act = NULL, *drop = NULL;
    trn_scrape_pool_info_t *pools = NULL;
    size_t na = 0, nd = 0, np = 0;
    if (api->scrape) {
        int rc =
            trn_scrape_manager_targets(api->scrape, trn_http_arena(req), &act, &na, &drop, &nd);
        if (rc == 0) rc = trn_scrape_manager_pools(api->scrape, trn_http_arena(req), &pools, &np);
        if (rc < 0) {
            trn_api_prom_error_code(resp, rc, "too many targets for the request's memory budget");
            return;
        }
    }
    trn_json_t j;
    trn_api_prom_success(&j, resp);
    trn_json_obj_begin(&j);

    trn_json_key(&j, "activeTargets");
    trn_json_arr_begin(&j);
    for (size_t i = 0; show_active && i < na; i++) {
        const trn_target_info_t *t = &act[i];
        if (pool && *pool && strcmp(pool, t->pool) != 0) continue;
        trn_json_obj_begin(&j);
        trn_json_key(&j, "discoveredLabels");
        labels_obj(&j, &t->discovered);
        trn_json_key(&j, "labels");
        labels_obj(&j, &t->labels);
        trn_json_key(&j, "scrapePool");
        trn_json_str(&j, t->pool);
        trn_json_key(&j, "scrapeUrl");
        trn_json_str(&j, t->url);
        trn_buf_t g;
        trn_buf_init(&g);
        global_url(t->url, &g);
        trn_json_key(&j, "globalUrl");
        trn_json_strn(&j, g.data ? g.data : "", g.len);
        trn_buf_fini(&g);
        trn_json_key(&j, "lastError");
        trn_json_str(&j, t->last_error);
        char ts[40];
        if (t->last_scrape_ms)
            trn_format_rfc3339_ms(ts, t->last_scrape_ms);
        else
            snprintf(ts, sizeof ts, "0001-01-01T00:00:00Z");
        trn_json_key(&j, "lastScrape");
        trn_json_str(&j, ts);
        trn_json_key(&j, "lastScrapeDuration");
        trn_json_num(&j, t->last_duration_s);
        trn_json_key(&j, "health");
        trn_json_str(&j, health_name(t->health));
        char dur[32];
        trn_format_duration(dur, t->interval_ms);
        trn_json_key(&j, "scrapeInterval");
        trn_json_str(&j, dur);
        trn_format_duration(dur, t->timeout_ms);
        trn_json_key(&j, "scrapeTimeout");
        trn_json_str(&j, dur);
        trn_json_obj_end(&j);
    }
    trn_json_arr_end(&j);

    trn_json_key(&j, "droppedTargets");
    trn_json_arr_begin(&j);
    for (size_t i = 0; show_dropped && i < nd; i++) {
        if (pool && *pool && strcmp(pool, drop[i].pool) != 0) continue;
        trn_json_obj_begin(&j);
        trn_json_key(&j, "discoveredLabels");
        labels_obj(&j, &drop[i].discovered);
        trn_json_key(&j, "scrapePool");
        trn_json_str(&j, drop[i].pool);
        trn_json_obj_end(&j);
    }
    trn_json_arr_end(&j);

    /* Dropped counts for every pool, zero included. */
    trn_json_key(&j, "droppedTargetCounts");
    trn_json_obj_begin(&j);
    for (size_t i = 0; i < np; i++) {
        if (pool && *pool && strcmp(pool, pools[i].name) != 0) continue;
        trn_json_key(&j, pools[i].name);
        trn_json_uint(&j, pools[i].n_dropped);
    }
    trn_json_obj_end(&j);

    trn_json_obj_end(&j);
    trn_json_obj_end(&j);
}

const trn_route_t trn_api_prom_targets_routes[TRN_API_PROM_TARGETS_N_ROUTES] = {
    {.method = "GET|POST", .pattern = "/api/v1/targets", .fn = targets},
};
