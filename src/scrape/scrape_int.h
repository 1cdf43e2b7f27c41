/* SPDX-License-Identifier: Apache-2.0 */
/* Internals shared by the files of src/scrape/: the parsed configuration,
 * target groups as discovery produces them, and the helpers that turn a
 * group into targets. Nothing outside src/scrape/ includes this. */
#ifndef TRN_SCRAPE_SCRAPE_INT_H
#define TRN_SCRAPE_SCRAPE_INT_H

#include "scrape/relabel.h"
#include "scrape/scrape.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* A set of targets sharing labels: one static_configs entry, or one entry
 * of a file_sd file. Owns its strings. */
typedef struct trn__tgroup {
    char **targets; /* host:port strings */
    size_t n_targets;
    char **names, **values; /* group labels, as written */
    size_t n_labels;
    char *source; /* "file.json:0" or "0" for static_configs */
} trn__tgroup_t;

typedef struct trn__param {
    char *name;
    char *value; /* first value, as Prometheus uses for __param_ */
    char **values;
    size_t n_values;
} trn__param_t;

typedef struct trn__scrape_job {
    char *name;
    int64_t interval_ms, timeout_ms;
    char *metrics_path, *scheme;
    trn__param_t *params;
    size_t n_params;
    char *basic_user, *basic_pass, *basic_pass_file;
    char *auth_type, *auth_cred, *auth_cred_file; /* authorization (or bearer_token) */
    char *tls_ca, *tls_cert, *tls_key;
    bool tls_insecure;
    char *proxy_url;
    bool follow_redirects, enable_compression;
    bool honor_labels, honor_timestamps;
    uint64_t sample_limit, label_limit, label_name_length_limit, label_value_length_limit;
    uint64_t body_size_limit;
    trn__tgroup_t *static_groups;
    size_t n_static;
    char **sd_files; /* file_sd_configs' files, all configs together */
    size_t n_sd_files;
    int64_t sd_refresh_ms;
    trn_relabel_t *relabel, *metric_relabel;
    char *fingerprint; /* canonical text of the job's settings, to detect changes */
} trn__scrape_job_t;

struct trn_scrape_config {
    atomic_int refs;
    int64_t interval_ms, timeout_ms;
    char **ext_storage; /* owned strings behind external_labels */
    trn_labels_t external_labels;
    trn__scrape_job_t *jobs;
    size_t n_jobs;
};

/* Takes another reference to c. */
trn_scrape_config_t *trn__scrape_config_ref(const trn_scrape_config_t *c);

void trn__tgroup_fini(trn__tgroup_t *g);
/* Parses one group map {targets: [...], labels: {...}} from YAML. */
int trn__tgroup_from_yaml(const trn_yaml_node_t *n, const char *source, trn__tgroup_t *g,
                          trn_diag_t *d);
/* Reads a file_sd file (JSON when it ends in .json, else YAML) into groups
 * (array owned by the caller, free each with trn__tgroup_fini). */
int trn__file_sd_read(const char *path, trn__tgroup_t **out, size_t *n_out, trn_diag_t *d);
/* Expands the job's file patterns (glob in the last path element) into
 * paths, calling fn for each existing file. */
typedef void trn__path_fn(void *ctx, const char *path);
void trn__file_sd_glob(const trn__scrape_job_t *job, trn__path_fn *fn, void *ctx);

/* Target labels for one address of a group, as Prometheus builds them:
 * discovered = group labels + __address__ + job defaults (job,
 * __metrics_path__, __scheme__, __scrape_interval__, __scrape_timeout__,
 * __param_*); then relabel_configs. Returns 1 with *labels (final target
 * labels, __ labels kept for the URL), 0 when relabeling dropped it, or
 * TRN_EINVAL with d set (no __address__, bad interval label...). Arrays and
 * strings from the arena. */
int trn__target_labels(const trn__scrape_job_t *job, const trn__tgroup_t *g, size_t i,
                       trn_arena_t *a, trn_labels_t *discovered, trn_labels_t *labels,
                       trn_diag_t *d);
/* The scrape URL from final target labels ("http://host:port/metrics?a=b"),
 * in the arena. */
char *trn__target_url(const trn__scrape_job_t *job, const trn_labels_t *labels, trn_arena_t *a);
/* Interval and timeout from __scrape_interval__/__scrape_timeout__. */
int trn__target_timing(const trn_labels_t *labels, int64_t *interval_ms, int64_t *timeout_ms,
                       trn_diag_t *d);

/* The series one scrape stored: label sets (strings in the arena) and an
 * open-addressing index by label hash, so the next scrape can tell which
 * series disappeared and need a staleness marker. Owned by the target's
 * loop thread only. */
typedef struct trn__series_set {
    trn_arena_t *arena;
    trn_labels_t *labels; /* malloc'd array */
    uint64_t *hashes;
    bool *explicit_ts; /* sample carried its own timestamp: no staleness tracking */
    bool *seen;        /* as "previous": the series came again in the current scrape */
    size_t n, cap;
    uint32_t *slots; /* index + 1; 0 = empty */
    size_t n_slots;
} trn__series_set_t;

/* One scrape target and its loop thread. The immutable part is set before
 * the thread starts; the state fields are guarded by mu; the job pointer
 * (with the config reference that keeps it alive) is swapped by reloads
 * under mu and read by the loop at the start of each scrape. */
typedef struct trn__target {
    struct trn_store *store;
    trn_registry_t *reg;
    char *key;                  /* identity: labels (including __ ones) + URL */
    uint64_t hash;              /* of key; spreads the scrape offset */
    trn_arena_t *arena;         /* discovered, labels, series_labels, url */
    trn_labels_t discovered;    /* before relabeling */
    trn_labels_t labels;        /* after relabeling, __ labels kept */
    trn_labels_t series_labels; /* labels without __ prefix: added to every series */
    char *url;
    int64_t interval_ms, timeout_ms;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;                /* set by the manager; the loop exits */
    bool stale_on_stop;       /* write staleness markers when exiting */
    trn_scrape_config_t *cfg; /* reference keeping job alive */
    const trn__scrape_job_t *job;
    trn_target_health_t health;
    char last_error[512];
    int64_t last_scrape_ms;
    double last_duration_s;

    pthread_t thread;
    bool started;
    trn__series_set_t prev; /* loop thread only */
    bool has_report;        /* the report series were written at least once */
    uint64_t meta_hash;     /* of the last metadata stored, to skip unchanged updates */
} trn__target_t;

/* Creates a target for a job (takes a config reference) and starts its
 * loop. labels/discovered are copied. */
trn__target_t *trn__target_start(struct trn_store *store, trn_registry_t *reg,
                                 const trn_scrape_config_t *cfg, const trn__scrape_job_t *job,
                                 const trn_labels_t *discovered, const trn_labels_t *labels,
                                 const char *url, const char *key);
/* Points a running target at a new config's job (reload). */
void trn__target_set_job(trn__target_t *t, const trn_scrape_config_t *cfg,
                         const trn__scrape_job_t *job);
/* Stops the loop (aborting a scrape in flight), optionally writing
 * staleness markers for everything the target stored, and frees it. */
void trn__target_stop(trn__target_t *t, bool write_stale);

#endif
