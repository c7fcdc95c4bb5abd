/* SPDX-License-Identifier: Apache-2.0 */
/* Options the long-running commands share (`sendgate run`, `sendgate smtpd`). */
#ifndef SG_CMD_OPTS_H
#define SG_CMD_OPTS_H

/*
 * Parses --config FILE, --check and --help for `sendgate |cmd|`: sets
 * *config (NULL when absent) and *check. Returns -1 to go on, or the exit
 * code: 0 after printing |usage| for --help, 2 after a one-line reason on
 * stderr for anything else.
 */
int sg_cmd_config_opts(int argc, char **argv, const char *cmd, const char *usage,
                       const char **config, int *check);

#endif
