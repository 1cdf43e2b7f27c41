/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes scrape configuration and relabeling: the input is a config YAML
 * (global + scrape_configs with relabel rules). When it parses, every
 * job's relabel_configs and metric_relabel_configs run over a fixed label
 * set, and every static target is built into target labels and a URL.
 * The first byte sets the arena budget so the limit paths run too. */
#include "core/arena.h"
#include "core/labels.h"
#include "core/yaml.h"
#include "scrape/scrape_int.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t budget = data[0] < 16 ? 0 : (size_t)data[0] * 64;
    trn_yaml_doc_t *doc = NULL;
    trn_diag_t d;
    trn_diag_init(&d);
    if (trn_yaml_parse("fuzz.yml", (const char *)data + 1, size - 1, &doc, &d) < 0) return 0;
    trn_scrape_config_t *c = NULL;
    if (trn_scrape_config_parse(trn_yaml_root(doc), &c, &d) == 0) {
        trn_label_t lv[] = {{TRN_STR("__address__"), TRN_STR("host:9100")},
                            {TRN_STR("__meta_x"), TRN_STR("a;b,c=d")},
                            {TRN_STR("__name__"), TRN_STR("http_requests_total")},
                            {TRN_STR("job"), TRN_STR("api")}};
        trn_labels_t in = {lv, sizeof lv / sizeof lv[0]};
        for (size_t j = 0; j < c->n_jobs; j++) {
            const trn__scrape_job_t *job = &c->jobs[j];
            trn_arena_t *a = trn_arena_new(budget);
            trn_labels_t out;
            trn_relabel_apply(job->relabel, &in, a, &out);
            trn_relabel_apply(job->metric_relabel, &in, a, &out);
            for (size_t g = 0; g < job->n_static; g++)
                for (size_t t = 0; t < job->static_groups[g].n_targets; t++) {
                    trn_labels_t disc, labels;
                    trn_diag_t td;
                    trn_diag_init(&td);
                    if (trn__target_labels(job, &job->static_groups[g], t, a, &disc, &labels,
                                           &td) == 1)
                        trn__target_url(job, &labels, a);
                }
            trn_arena_free(a);
        }
        trn_scrape_config_free(c);
    }
    trn_yaml_free(doc);
    return 0;
}
