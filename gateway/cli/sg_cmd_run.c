/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sendgate run`: loads the configuration, starts the runtime, and stops it
 * gracefully on SIGTERM or SIGINT (exit 0). `--check` only validates the
 * configuration and prints the accounts it found (no secrets).
 */
#include "cli/sg_cmds.h"

#include "cli/sg_cmd_opts.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "app/sg_admin.h"
#include "app/sg_app.h"
#include "conf/sg_config.h"
#include "core/sg_err.h"
#include "core/sg_log.h"
#include "redis/sg_rd_url.h"

static const char usage[] =
    "usage: sendgate run [--config FILE] [--check]\n"
    "Runs the gateway: jobs from the Redis stream sendgate:jobs are sent through\n"
    "Microsoft Graph sendMail or ACS Email; every job gets a result.\n"
    "  --config FILE  INI settings file; SENDGATE_<SECTION>_<KEY> variables override it\n"
    "  --check        validate the configuration, print the accounts, exit\n"
    "SIGTERM/SIGINT: stop fetching, let requests in flight finish (gateway.grace_ms), exit 0.\n"
    "SIGHUP: read the configuration again and take its credentials (secrets, certificates);\n"
    "        a configuration that does not load, or changes more, is refused and logged.\n";

static uv_signal_t sigint_h, sigterm_h, sighup_h;
static sg_app *g_app;
static const char *g_config; /* --config, for SIGHUP */

extern char **environ;

static void on_stopped(void *ud) {
  uv_close((uv_handle_t *)&sigint_h, NULL);
  uv_close((uv_handle_t *)&sigterm_h, NULL);
  uv_close((uv_handle_t *)&sighup_h, NULL);
}

/* SIGHUP: the configuration again, from the same file and the environment. */
static void on_hup(uv_signal_t *h, int signum) {
  (void)h;
  (void)signum;
  if (g_app == NULL)
    return;
  sg_config next;
  char err[512];
  if (sg_config_load(&next, g_config, environ, err, sizeof err) != 0 ||
      sg_app_reload(g_app, &next, err, sizeof err) != 0)
    sg_log_kv(SG_LOG_ERROR, "config", "SIGHUP: reload refused, the running configuration stays",
              "detail", err, NULL);
}

static void on_signal(uv_signal_t *h, int signum) {
  if (g_app == NULL)
    return;
  sg_log(SG_LOG_INFO, "gateway", "signal %d: stopping", signum);
  sg_app *a = g_app;
  g_app = NULL;
  sg_app_stop(a, on_stopped, NULL);
}

static void print_accounts(const sg_config *cfg) {
  printf("configuration ok: default backend %s, redis %s consumer %s\n", cfg->default_backend,
         strchr(cfg->redis_url, '@') ? "(with password)" : cfg->redis_url, cfg->consumer);
  for (size_t i = 0; i < cfg->naccounts; i++) {
    const sg_account *a = &cfg->accounts[i];
    if (a->backend == SG_BACKEND_GRAPH)
      printf("account %-12s graph tenant=%s client=%s graph=%s login=%s\n",
             a->name[0] ? a->name : "(default)", a->tenant_id, a->client_id, a->graph_url,
             a->login_url);
    else if (a->backend == SG_BACKEND_SMTP)
      printf("account %-12s %s smtp=%s %s\n", a->name, a->hve ? "hve" : "exchange_smtp",
             a->smtp_host, a->hve && a->username[0] ? "password" : "xoauth2");
    else
      printf("account %-12s acs %s\n", a->name[0] ? a->name : "(default)",
             a->connection_string[0] ? "access key" : "entra token");
  }
}

/* --check: the addresses the gateway would only refuse when it starts. */
static int check_addresses(const sg_config *cfg, char *err, size_t errcap) {
  sg_rd_url url;
  char host[64];
  uint16_t port;
  if (sg_rd_url_parse(cfg->redis_url, &url) != 0) {
    snprintf(err, errcap,
             "SENDGATE_REDIS_URL (redis.url): not a redis[s]://[[user]:password@]"
             "host:port/db URL");
    return -1;
  }
  if (cfg->http_listen[0] && sg_admin_parse_listen(cfg->http_listen, host, sizeof host, &port)) {
    snprintf(err, errcap, "SENDGATE_HTTP_LISTEN (http.listen) \"%.80s\": expected IP:PORT",
             cfg->http_listen);
    return -1;
  }
  return 0;
}

int sg_cmd_run(int argc, char **argv, char **envp) {
  const char *config;
  int check;
  int code = sg_cmd_config_opts(argc, argv, "run", usage, &config, &check);
  if (code >= 0)
    return code;
  sg_config cfg;
  char err[512];
  int rv = sg_config_load(&cfg, config, envp, err, sizeof err);
  if (rv) {
    fprintf(stderr, "sendgate run: %s\n", err);
    return 2;
  }
  sg_log_level lvl = SG_LOG_INFO;
  sg_log_parse_level(cfg.log_level, &lvl);
  sg_log_set_level(lvl);
  sg_log_set_show_recipients(cfg.log_show_recipients);
  if (check && check_addresses(&cfg, err, sizeof err) != 0) {
    fprintf(stderr, "sendgate run: %s\n", err);
    sg_config_free(&cfg);
    return 2;
  }
  if (check) {
    print_accounts(&cfg);
    sg_config_free(&cfg);
    return 0;
  }
  uv_loop_t *loop = uv_default_loop();
  rv = sg_app_start(&g_app, loop, &cfg, err, sizeof err);
  if (rv) {
    fprintf(stderr, "sendgate run: %s\n", err);
    return 1;
  }
  g_config = config;
  uv_signal_init(loop, &sigint_h);
  uv_signal_init(loop, &sigterm_h);
  uv_signal_init(loop, &sighup_h);
  uv_signal_start(&sigint_h, on_signal, SIGINT);
  uv_signal_start(&sigterm_h, on_signal, SIGTERM);
  uv_signal_start(&sighup_h, on_hup, SIGHUP);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
  return 0;
}
