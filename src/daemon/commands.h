/* SPDX-License-Identifier: Apache-2.0 */
/* The subcommands main() dispatches to. Each takes the arguments after its
 * name and returns the process exit code. */
#ifndef TRN_DAEMON_COMMANDS_H
#define TRN_DAEMON_COMMANDS_H

int trn_cmd_serve(int argc, char **argv);
int trn_cmd_check_config(int argc, char **argv);
int trn_cmd_version(int argc, char **argv);
/* Implemented by metrics/promql (the test-file runner). */
int trn_cmd_promql(int argc, char **argv);
/* Implemented by alerts (`trine routes test`, amtool's routing test). */
int trn_cmd_routes(int argc, char **argv);

#endif
