/* SPDX-License-Identifier: Apache-2.0 */
/* `trine routes test`: the receivers an alert with the given labels
 * reaches, printed exactly as `amtool config routes test` prints them (the
 * receiver names of the matching route nodes in tree order, joined by
 * commas, one line). Labels are given as name=value arguments and parsed
 * with Alertmanager's matcher syntax, so quoting works the same way; only
 * the = operator is accepted. --verify.receivers=LIST makes the exit code
 * say whether the result equals LIST, as amtool's flag does. */
#include "alerts/config.h"
#include "alerts/matchers.h"
#include "alerts/route.h"
#include "daemon/commands.h"

#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: trine routes test --alertmanager-config FILE [--verify.receivers=LIST] "
               "[label=value ...]\n");
}

static int cmp_label(const void *a, const void *b)
{
    return trn_str_cmp(((const trn_label_t *)a)->name, ((const trn_label_t *)b)->name);
}

int trn_cmd_routes(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "test")) {
        usage(stderr);
        return 2;
    }
    const char *file = NULL, *verify = NULL;
    int rc = 1;
    trn_am_config_t *cfg = NULL;
    trn_arena_t *a = trn_arena_new(0);
    trn_labels_t ls = {trn_arena_calloc(a, (size_t)argc + 1, sizeof(trn_label_t)), 0};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--alertmanager-config") || !strcmp(arg, "--config.file")) {
            if (++i >= argc) {
                usage(stderr);
                rc = 2;
                goto out;
            }
            file = argv[i];
        } else if (!strncmp(arg, "--alertmanager-config=", 22)) {
            file = arg + 22;
        } else if (!strncmp(arg, "--config.file=", 14)) {
            file = arg + 14;
        } else if (!strncmp(arg, "--verify.receivers=", 19)) {
            verify = arg + 19;
        } else if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            usage(stdout);
            rc = 0;
            goto out;
        } else if (!strncmp(arg, "--", 2)) {
            fprintf(stderr, "trine routes test: unknown flag %s\n", arg);
            rc = 2;
            goto out;
        } else {
            trn_diag_t d;
            trn_diag_init(&d);
            trn_matcher_t m;
            if (trn_am_matcher_parse(trn_str_c(arg), a, &m, &d) < 0) {
                fprintf(stderr, "trine routes test: Failed to parse labels: %s\n", d.msg);
                goto out;
            }
            trn_matcher_fini(&m);
            if (m.type != TRN_MATCH_EQ) {
                fprintf(stderr, "trine routes test: Failed to parse labels: labels must be "
                                "specified as key=value pairs\n");
                goto out;
            }
            size_t j = 0;
            while (j < ls.n && !trn_str_eq(ls.v[j].name, m.name))
                j++;
            ls.v[j] = (trn_label_t){m.name, m.value};
            if (j == ls.n) ls.n++;
        }
    }
    if (!file) {
        usage(stderr);
        rc = 2;
        goto out;
    }
    trn_diag_t d;
    trn_diag_init(&d);
    if (trn_alertmanager_config_load(file, &cfg, &d) < 0) {
        fprintf(stderr, "trine routes test: %s\n", d.msg);
        goto out;
    }
    qsort(ls.v, ls.n, sizeof *ls.v, cmp_label);
    const trn_am_route_t **hits = calloc(cfg->n_routes + 1, sizeof *hits);
    size_t n = trn_am_route_match(cfg->route, &ls, hits, cfg->n_routes + 1);
    trn_buf_t line;
    trn_buf_init(&line);
    for (size_t i = 0; i < n; i++) {
        if (i) trn_buf_putc(&line, ',');
        trn_buf_puts(&line, hits[i]->receiver);
    }
    free(hits);
    printf("%s\n", line.data ? line.data : "");
    rc = 0;
    if (verify && strcmp(verify, line.data ? line.data : "")) {
        printf("WARNING: Expected receivers did not match resolved receivers.\n");
        rc = 1;
    }
    trn_buf_fini(&line);
out:
    trn_am_config_free(cfg);
    trn_arena_free(a);
    return rc;
}
