/* SPDX-License-Identifier: Apache-2.0 */
/* trine's entry point: a table of subcommands. `serve` is the default. */
#include "daemon/commands.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} command_t;

static const command_t commands[] = {
    {"serve", trn_cmd_serve, "run the daemon (default)"},
    {"check-config", trn_cmd_check_config, "validate a config file"},
    {"version", trn_cmd_version, "print version and build information"},
    {"promql", trn_cmd_promql, "run Prometheus-format PromQL test files"},
    {"routes", trn_cmd_routes, "test alert routing: routes test --alertmanager-config F k=v..."},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: trine [command] [flags]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv)
{
    if (argc >= 2 &&
        (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))) {
        usage(stdout);
        return 0;
    }
    if (argc < 2 || argv[1][0] == '-') return trn_cmd_serve(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 2, argv + 2);
    fprintf(stderr, "trine: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return 2;
}
