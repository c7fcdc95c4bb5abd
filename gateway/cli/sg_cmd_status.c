/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sendgate status`: asks a running gateway's admin endpoint for GET /status
 * and prints one screen of it (sg_status_screen.c), or the raw document with
 * --json. --watch prints it again every few seconds on a cleared screen until
 * SIGINT or SIGTERM. The address is the configured SENDGATE_HTTP_LISTEN
 * unless --url names another gateway.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/sg_cmds.h"
#include "cli/sg_status_client.h"
#include "cli/sg_status_screen.h"
#include "core/sg_settings.h"
#include "json/sg_json.h"

/* --watch: between 0.5 s and an hour; 2 s when no interval is given. */
#define WATCH_MIN_S 0.5
#define WATCH_MAX_S 3600.0
#define WATCH_DEFAULT_S 2.0

static const char usage[] =
    "usage: sendgate status [--url URL] [--config FILE] [--watch [SECONDS]] [--json]\n"
    "Shows what a running gateway is doing: lanes with their budgets and pauses, jobs\n"
    "held by state, tokens, connections, consumer lag (GET /status on its admin listener).\n"
    "  --url URL          the gateway's admin address, http://HOST:PORT\n"
    "                     (default: SENDGATE_HTTP_LISTEN of the config, 127.0.0.1:9464)\n"
    "  --config FILE      read the gateway's config file for the address\n"
    "  --watch [SECONDS]  refresh every SECONDS (default 2, at least 0.5) until Ctrl-C\n"
    "  --json             print the raw JSON document instead of the screen\n"
    "  --lanes N          lanes the gateway lists, busiest first (default 50, at most 1000)\n"
    "Exit: 0 ok, 2 usage or the gateway could not be asked.\n";

static volatile sig_atomic_t g_stop;

static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

static int fail(const char *msg, const char *arg) {
  fprintf(stderr, "sendgate status: %s%s\n", msg, arg ? arg : "");
  return 2;
}

/* One fetch and print. Returns 0, or 2 after a message on stderr. */
static int show(const char *host, uint16_t port, const char *target, int json, int clear) {
  sg_buf body, screen;
  sg_buf_init(&body);
  sg_buf_init(&screen);
  char err[400];
  int rc = 0;
  int status = sg_status_get(host, port, target, &body, err, sizeof err);
  sg_json_doc *doc = NULL;
  if (status < 0) {
    rc = fail(err, NULL);
  } else if (status != 200) {
    fprintf(stderr, "sendgate status: http://%s:%u%s answered %d%s\n", host, (unsigned)port, target,
            status, status == 404 ? " (a gateway older than /status?)" : "");
    rc = 2;
  } else if (json) {
    fwrite(body.data, 1, body.len, stdout);
  } else if (sg_json_parse(&doc, body.data, body.len, 0, err, sizeof err) != 0 ||
             sg_status_screen(&screen, sg_json_root(doc)) != 0) {
    rc = fail("the gateway's answer is not a status document", NULL);
  } else {
    if (clear)
      fputs("\033[H\033[2J", stdout);
    fwrite(screen.data, 1, screen.len, stdout);
  }
  fflush(stdout);
  sg_json_doc_free(doc);
  sg_buf_free(&body);
  sg_buf_free(&screen);
  return rc;
}

/* Sleeps |s| seconds in short steps, returning early once a signal came. */
static void nap(double s) {
  for (double left = s; left > 0 && !g_stop; left -= 0.1) {
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}

int sg_cmd_status(int argc, char **argv, char **envp) {
  const char *url = NULL, *config = NULL;
  int json = 0;
  double watch = 0;
  unsigned long lanes = 50;
  enum { O_URL = 256, O_CONFIG, O_WATCH, O_JSON, O_LANES, O_HELP };
  static const struct option opts[] = {{"url", 1, 0, O_URL},
                                       {"config", 1, 0, O_CONFIG},
                                       {"watch", 2, 0, O_WATCH},
                                       {"json", 0, 0, O_JSON},
                                       {"lanes", 1, 0, O_LANES},
                                       {"help", 0, 0, O_HELP},
                                       {0, 0, 0, 0}};
  int o;
  optind = 1;
  opterr = 0;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
    case O_URL:
      url = optarg;
      break;
    case O_CONFIG:
      config = optarg;
      break;
    case O_WATCH: {
      const char *v = optarg;
      /* "--watch 5": take the next word when it is a number */
      if (v == NULL && optind < argc && argv[optind][0] >= '0' && argv[optind][0] <= '9')
        v = argv[optind++];
      watch = WATCH_DEFAULT_S;
      if (v) {
        char *end;
        watch = strtod(v, &end);
        if (*end != '\0' || !(watch >= WATCH_MIN_S && watch <= WATCH_MAX_S))
          return fail("--watch wants seconds from 0.5 to 3600, not ", v);
      }
      break;
    }
    case O_JSON:
      json = 1;
      break;
    case O_LANES: {
      char *end;
      lanes = strtoul(optarg, &end, 10);
      if (optarg[0] < '0' || optarg[0] > '9' || *end != '\0' || lanes > 1000)
        return fail("--lanes wants a number from 0 to 1000, not ", optarg);
      break;
    }
    case O_HELP:
      fputs(usage, stdout);
      return 0;
    default:
      return fail("unknown or incomplete option (see sendgate status --help)", NULL);
    }
  }
  if (optind < argc)
    return fail("unexpected argument ", argv[optind]);
  char err[400];
  sg_config cfg;
  if (sg_status_load_settings(&cfg, config, envp, err, sizeof err) != 0) {
    sg_settings_free(&sg_config_settings, &cfg);
    return fail(err, NULL);
  }
  char host[256];
  uint16_t port = 0;
  const char *addr = url ? url : cfg.http_listen;
  int bad = addr == NULL || addr[0] == '\0' || sg_status_parse_url(addr, host, sizeof host, &port);
  sg_settings_free(&sg_config_settings, &cfg);
  if (bad)
    return fail(url ? "--url wants http://HOST:PORT, not "
                    : "no admin address: set "
                      "SENDGATE_HTTP_LISTEN (http.listen) or give --url",
                url);
  char target[48];
  snprintf(target, sizeof target, "/status?lanes=%lu", lanes);
  if (watch == 0)
    return show(host, port, target, json, 0);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  while (!g_stop) {
    int rc = show(host, port, target, json, !json);
    if (rc != 0 && g_stop == 0)
      fprintf(stderr, "sendgate status: trying again in %.1f s\n", watch);
    nap(watch);
  }
  return 0;
}
