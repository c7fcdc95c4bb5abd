/* SPDX-License-Identifier: Apache-2.0 */
/* sendgate: command-line entry point; dispatches to the subcommands. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "cli/sg_cmd_dlq.h"
#include "cli/sg_cmds.h"
#include "core/sg_log.h"

extern char **environ;

static const char usage[] =
    "usage: sendgate <command> [options]\n"
    "  run     run the gateway (Redis stream -> Graph / ACS -> results)\n"
    "  send    queue one message from the command line, optionally wait for its result\n"
    "  dlq     list dead letters or put them back on the jobs stream\n"
    "  smtpd      receive mail over SMTP (submission, relay) and queue it as jobs\n"
    "  smtp-user  add, list, delete SMTP users or change their passwords\n"
    "  smtp-send  send one message over SMTP (XOAUTH2, PLAIN, LOGIN): check a tenant\n"
    "  sendmail   sendmail-compatible: queue the message on standard input\n"
    "  status     what a running gateway is doing: lanes, pauses, jobs, tokens, lag\n"
    "  explain    where one job is: queued, pending, delayed, in flight, sent, done\n"
    "  version print the version\n"
    "`sendgate <command> --help` describes each command.\n";

/* Every command holds secrets (client secrets, tokens, Redis passwords) and
 * mail: no core dump may carry them, and no other process of the same user
 * may read this one's memory or environment. */
static void no_core_dumps(void) {
  struct rlimit none = {0, 0};
  setrlimit(RLIMIT_CORE, &none);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int main(int argc, char **argv) {
  no_core_dumps();
  signal(SIGPIPE, SIG_IGN);
  sg_log_set_service("sendgate");
  /* Installed as /usr/sbin/sendmail (a link to sendgate): cron, PHP mail(),
   * mailx call it with sendmail's own arguments. */
  const char *base = strrchr(argv[0], '/');
  base = base ? base + 1 : argv[0];
  if (strcmp(base, "sendmail") == 0)
    return sg_cmd_sendmail(argc, argv, environ);
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "run") == 0)
    return sg_cmd_run(argc - 1, argv + 1, environ);
  if (strcmp(cmd, "send") == 0)
    return sg_cmd_send(argc - 1, argv + 1, environ);
  if (strcmp(cmd, "smtpd") == 0)
    return sg_cmd_smtpd(argc - 1, argv + 1, environ);
  if (strcmp(cmd, "dlq") == 0)
    return sg_cmd_dlq(argc - 1, argv + 1, environ);
  if (strcmp(cmd, "smtp-user") == 0)
    return sg_cmd_smtp_user(argc - 1, argv + 1, environ);
  if (strcmp(cmd, "smtp-send") == 0)
    return sg_cmd_smtp_send(argc - 1, argv + 1, environ);
  if (strcmp(cmd, "sendmail") == 0)
    return sg_cmd_sendmail(argc - 1, argv + 1, environ);
  if (strcmp(cmd, "status") == 0)
    return sg_cmd_status(argc - 1, argv + 1, environ);
  if (strcmp(cmd, "explain") == 0)
    return sg_cmd_explain(argc - 1, argv + 1, environ);
  if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
    printf("sendgate %s\n", SG_VERSION);
    return 0;
  }
  fprintf(stderr, "sendgate: unknown command '%s' (see sendgate --help)\n", cmd);
  return 2;
}
