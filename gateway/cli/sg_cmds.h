/* SPDX-License-Identifier: Apache-2.0 */
/* The sendgate subcommands; each returns the process exit code. */
#ifndef SG_CMDS_H
#define SG_CMDS_H

int sg_cmd_run(int argc, char **argv, char **envp);
int sg_cmd_send(int argc, char **argv, char **envp);
int sg_cmd_smtpd(int argc, char **argv, char **envp);

#endif
