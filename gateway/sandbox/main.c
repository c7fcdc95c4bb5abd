/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sendgate-sandbox: runs the local stand-in for Entra, Graph and ACS until
 * SIGINT or SIGTERM. Prints the SENDGATE_* lines a gateway needs (and writes
 * them to --env-file) once it listens.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "core/sg_err.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "core/sg_settings.h"
#include "sandbox/sg_sbx_app.h"
#include "sandbox/sg_sbx_settings.h"

extern char **environ;

static const char usage[] =
    "usage: sendgate-sandbox [options]\n"
    "A local stand-in for Microsoft Entra (tokens), Graph sendMail, ACS Email and Exchange\n"
    "Online SMTP submission and High Volume Email (smtp.exchange_listen, smtp.hve_listen).\n"
    "  --listen HOST:PORT   where to listen (default 127.0.0.1:8443; port 0 = any free port)\n"
    "  --state-dir DIR      CA, certificate, ACS key and messages (default "
    "./sendgate-sandbox-state)\n"
    "  --config FILE        settings file (INI: [server] [entra] [graph] [acs] [smtp] [faults] "
    "[record])\n"
    "  --set SECTION.KEY=VALUE   one setting (repeatable; wins over the file and environment)\n"
    "  --env-file FILE      write the SENDGATE_* lines for a gateway into FILE once listening\n"
    "  --log-level LEVEL    debug, info, warn, error (default info)\n"
    "  --list-settings      print every setting with its default and exit\n"
    "  --help               this text\n"
    "Settings can also come from SENDGATE_SANDBOX_<SECTION>_<KEY>. At run time:\n"
    "  GET /sandbox/stats, GET /sandbox/messages?limit=N, POST /sandbox/reset,\n"
    "  POST /sandbox/config with section.key=value lines.\n";

static uv_signal_t sigint_h, sigterm_h;
static sg_sbx *g_sbx;

static void on_stopped(void *ud) {
  uv_close((uv_handle_t *)&sigint_h, NULL);
  uv_close((uv_handle_t *)&sigterm_h, NULL);
}

static void on_signal(uv_signal_t *h, int signum) {
  if (g_sbx == NULL)
    return;
  sg_log(SG_LOG_INFO, "sandbox", "signal %d: stopping", signum);
  sg_sbx *s = g_sbx;
  g_sbx = NULL;
  sg_sbx_stop(s, on_stopped, NULL);
}

static void list_settings(void) {
  for (size_t i = 0; i < sg_sbx_settings.n; i++) {
    const sg_setting *st = &sg_sbx_settings.tbl[i];
    printf("%s.%s = %s\t# %s\n", st->section, st->key, st->def ? st->def : "", st->help);
  }
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  sg_log_set_service("sendgate-sandbox");
  const char *config = NULL, *env_file = NULL;
  const char *sets[128];
  size_t nsets = 0;
  enum { O_LISTEN = 256, O_STATE, O_CONFIG, O_SET, O_ENVF, O_LOG, O_LIST, O_HELP };
  static const struct option opts[] = {{"listen", 1, 0, O_LISTEN},
                                       {"state-dir", 1, 0, O_STATE},
                                       {"config", 1, 0, O_CONFIG},
                                       {"set", 1, 0, O_SET},
                                       {"env-file", 1, 0, O_ENVF},
                                       {"log-level", 1, 0, O_LOG},
                                       {"list-settings", 0, 0, O_LIST},
                                       {"help", 0, 0, O_HELP},
                                       {0, 0, 0, 0}};
  static char listen_kv[300], state_kv[1100];
  int o;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
    case O_LISTEN:
    case O_STATE:
      if (nsets == SG_ARRAY_LEN(sets))
        break;
      if (o == O_LISTEN) {
        snprintf(listen_kv, sizeof listen_kv, "server.listen=%s", optarg);
        sets[nsets++] = listen_kv;
      } else {
        snprintf(state_kv, sizeof state_kv, "server.state_dir=%s", optarg);
        sets[nsets++] = state_kv;
      }
      break;
    case O_CONFIG:
      config = optarg;
      break;
    case O_SET:
      if (nsets < SG_ARRAY_LEN(sets))
        sets[nsets++] = optarg;
      break;
    case O_ENVF:
      env_file = optarg;
      break;
    case O_LOG: {
      sg_log_level lvl;
      if (sg_log_parse_level(optarg, &lvl) != 0) {
        fprintf(stderr, "sendgate-sandbox: bad --log-level %s\n", optarg);
        return 2;
      }
      sg_log_set_level(lvl);
      break;
    }
    case O_LIST:
      list_settings();
      return 0;
    case O_HELP:
      fputs(usage, stdout);
      return 0;
    default:
      fprintf(stderr, "sendgate-sandbox: unknown option (see --help)\n");
      return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "sendgate-sandbox: unexpected argument %s\n", argv[optind]);
    return 2;
  }
  sg_sbx_cfg cfg;
  memset(&cfg, 0, sizeof cfg);
  char err[400];
  int rv = sg_settings_defaults(&sg_sbx_settings, &cfg, err, sizeof err);
  if (rv == 0 && config)
    rv = sg_settings_load_ini(&sg_sbx_settings, &cfg, config, NULL, NULL, err, sizeof err);
  if (rv == 0)
    rv = sg_settings_load_env(&sg_sbx_settings, &cfg, environ, err, sizeof err);
  for (size_t i = 0; rv == 0 && i < nsets; i++)
    rv = sg_settings_set_kv(&sg_sbx_settings, &cfg, sets[i], err, sizeof err);
  if (rv) {
    fprintf(stderr, "sendgate-sandbox: %s\n", err);
    sg_settings_free(&sg_sbx_settings, &cfg);
    return 2;
  }
  uv_loop_t *loop = uv_default_loop();
  rv = sg_sbx_start(&g_sbx, loop, &cfg, err, sizeof err);
  if (rv) {
    fprintf(stderr, "sendgate-sandbox: %s\n", err);
    return 1;
  }
  sg_log(SG_LOG_INFO, "sandbox", "listening on port %u", (unsigned)sg_sbx_port(g_sbx));
  sg_sbx_print_env(g_sbx, stdout);
  fflush(stdout);
  if (env_file) {
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", env_file);
    FILE *f = fopen(tmp, "w");
    if (f == NULL || (sg_sbx_print_env(g_sbx, f), fclose(f) != 0) || rename(tmp, env_file) != 0) {
      fprintf(stderr, "sendgate-sandbox: cannot write %s\n", env_file);
      return 1;
    }
  }
  uv_signal_init(loop, &sigint_h);
  uv_signal_init(loop, &sigterm_h);
  uv_signal_start(&sigint_h, on_signal, SIGINT);
  uv_signal_start(&sigterm_h, on_signal, SIGTERM);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
  return 0;
}
