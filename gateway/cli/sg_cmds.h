/* SPDX-License-Identifier: Apache-2.0 */
/* The sendgate subcommands; each returns the process exit code. */
#ifndef SG_CMDS_H
#define SG_CMDS_H

int sg_cmd_run(int argc, char **argv, char **envp);
int sg_cmd_send(int argc, char **argv, char **envp);
int sg_cmd_smtpd(int argc, char **argv, char **envp);
/* `sendgate smtp-user`: edits the SMTP users file (sg_cmd_smtp_user.c). */
int sg_cmd_smtp_user(int argc, char **argv, char **envp);
int sg_cmd_smtp_send(int argc, char **argv, char **envp);
/* `sendgate sendmail`, also run when the binary is called as "sendmail"
 * (sg_cmd_sendmail.c); exit codes from sysexits.h. */
int sg_cmd_sendmail(int argc, char **argv, char **envp);
/* `sendgate status`: a running gateway's GET /status, as one screen (sg_cmd_status.c). */
int sg_cmd_status(int argc, char **argv, char **envp);
/* `sendgate explain JOB_ID`: where one job is (sg_cmd_explain.c). */
int sg_cmd_explain(int argc, char **argv, char **envp);

#endif
