/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sendgate smtpd`: the SMTP ingress. Loads the [smtp] settings (and Redis,
 * HTTP and log settings of the same file), starts the ESMTP listeners and the
 * admin endpoint (/metrics, /healthz, /readyz on SENDGATE_HTTP_LISTEN), and
 * drains on SIGTERM or SIGINT: no new sessions, messages being received or
 * handed off are answered, then exit 0.
 */
#include "cli/sg_cmds.h"

#include "cli/sg_cmd_opts.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "app/sg_admin.h"
#include "core/sg_err.h"
#include "core/sg_log.h"
#include "core/sg_metrics.h"
#include "smtp/sg_smtp_config.h"
#include "smtp/sg_smtpd.h"

static const char usage[] =
    "usage: sendgate smtpd [--config FILE] [--check]\n"
    "Receives mail over SMTP and queues each message as a job on the Redis stream\n"
    "sendgate:jobs (250 only once the job is in Redis), for `sendgate run` to send.\n"
    "  --config FILE  INI settings file ([smtp], [redis], [http], [log] sections);\n"
    "                 SENDGATE_<SECTION>_<KEY> variables override it\n"
    "  --check        validate the configuration and exit\n"
    "Listeners: SENDGATE_SMTP_LISTEN (submission, STARTTLS, AUTH required; default\n"
    "127.0.0.1:2587), SENDGATE_SMTP_LISTEN_TLS (implicit TLS), SENDGATE_SMTP_LISTEN_RELAY\n"
    "(no AUTH, SENDGATE_SMTP_RELAY_NETWORKS and SENDGATE_SMTP_RELAY_SENDERS only).\n"
    "SIGTERM/SIGINT: stop accepting, finish messages in flight (smtp.grace_ms), exit 0.\n";

static uv_signal_t sigint_h, sigterm_h;
static sg_smtpd *g_srv;
static sg_admin *g_admin;

static void on_admin_stopped(void *ud) {
  (void)ud;
  uv_close((uv_handle_t *)&sigint_h, NULL);
  uv_close((uv_handle_t *)&sigterm_h, NULL);
}

static void on_stopped(void *ud) {
  (void)ud;
  sg_log(SG_LOG_INFO, "smtpd", "stopped");
  sg_admin *a = g_admin;
  g_admin = NULL;
  sg_admin_stop(a, on_admin_stopped, NULL);
}

static void on_signal(uv_signal_t *h, int signum) {
  (void)h;
  if (g_srv == NULL)
    return;
  sg_log(SG_LOG_INFO, "smtpd", "signal %d: draining", signum);
  sg_smtpd *s = g_srv;
  g_srv = NULL;
  sg_smtpd_stop(s, on_stopped, NULL);
}

static bool ready(void *ud, char *reason, size_t cap) {
  (void)ud;
  return sg_smtpd_ready(g_srv, reason, cap);
}

int sg_cmd_smtpd(int argc, char **argv, char **envp) {
  const char *config;
  int check;
  int code = sg_cmd_config_opts(argc, argv, "smtpd", usage, &config, &check);
  if (code >= 0)
    return code;
  sg_log_set_service("sendgate-smtpd");
  sg_smtp_config cfg;
  char err[512];
  if (sg_smtp_config_load(&cfg, config, envp, err, sizeof err) != 0) {
    fprintf(stderr, "sendgate smtpd: %s\n", err);
    return 2;
  }
  sg_log_level lvl = SG_LOG_INFO;
  sg_log_parse_level(cfg.base.log_level, &lvl);
  sg_log_set_level(lvl);
  sg_log_set_show_recipients(cfg.base.log_show_recipients);
  if (check) {
    printf("configuration ok\n");
    sg_smtp_config_free(&cfg);
    return 0;
  }
  uv_loop_t *loop = uv_default_loop();
  sg_metrics *reg = sg_metrics_new();
  int rv = sg_smtpd_start(&g_srv, loop, &cfg, reg, err, sizeof err);
  if (rv == 0 && (rv = sg_admin_start(&g_admin, loop, cfg.base.http_listen, reg, ready, NULL, err,
                                      sizeof err)) != 0) {
    sg_smtpd_stop(g_srv, NULL, NULL);
    g_srv = NULL;
  }
  if (rv != 0) {
    fprintf(stderr, "sendgate smtpd: %s\n", err);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    sg_metrics_free(reg);
    sg_smtp_config_free(&cfg);
    return 1;
  }
  uv_signal_init(loop, &sigint_h);
  uv_signal_init(loop, &sigterm_h);
  uv_signal_start(&sigint_h, on_signal, SIGINT);
  uv_signal_start(&sigterm_h, on_signal, SIGTERM);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
  sg_metrics_free(reg);
  sg_smtp_config_free(&cfg);
  return 0;
}
