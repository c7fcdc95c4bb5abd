/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/sg_settings: defaults, INI, environment precedence, _FILE secrets. */
#include "harness.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "core/sg_settings.h"

typedef struct {
  char *url;
  int64_t conc;
  bool flag;
  double ratio;
  char *secret;
  char *backend;
} cfg;

static const sg_setting tbl[] = {
    {"redis", "url", SG_SET_STR, offsetof(cfg, url), "redis://127.0.0.1:6379/0", 0, 0, 0, NULL, ""},
    {"graph", "mailbox_concurrency", SG_SET_INT, offsetof(cfg, conc), "4", 0, 1000, 0, NULL, ""},
    {"log", "show_recipients", SG_SET_BOOL, offsetof(cfg, flag), "false", 0, 0, 0, NULL, ""},
    {"faults", "rate_503", SG_SET_DOUBLE, offsetof(cfg, ratio), "0", 0, 0, 0, NULL, ""},
    {"graph", "client_secret", SG_SET_STR, offsetof(cfg, secret), NULL, 0, 0, SG_SET_SECRET, NULL,
     ""},
    {"gateway", "default_backend", SG_SET_STR, offsetof(cfg, backend), "graph", 0, 0, 0,
     "SENDGATE_DEFAULT_BACKEND", ""},
};
static const sg_settings S = {tbl, SG_ARRAY_LEN(tbl), "SENDGATE_"};

static void t_defaults_and_set(void) {
  cfg c = {0};
  char err[256];
  ASSERT_OK(sg_settings_defaults(&S, &c, err, sizeof err));
  ASSERT_STR_EQ("redis://127.0.0.1:6379/0", c.url);
  ASSERT_EQ(4, c.conc);
  ASSERT_STR_EQ("", c.secret);
  ASSERT_OK(sg_settings_set_kv(&S, &c, "graph.mailbox_concurrency=8", err, sizeof err));
  ASSERT_EQ(8, c.conc);
  ASSERT_EQ(SG_ERR_CONFIG,
            sg_settings_set_kv(&S, &c, "graph.mailbox_concurrency=abc", err, sizeof err));
  ASSERT(strstr(err, "graph.mailbox_concurrency") != NULL);
  ASSERT_EQ(SG_ERR_CONFIG,
            sg_settings_set_kv(&S, &c, "graph.mailbox_concurrency=5000", err, sizeof err));
  ASSERT_EQ(SG_ERR_NOTFOUND, sg_settings_set_kv(&S, &c, "graph.nope=1", err, sizeof err));
  ASSERT_OK(sg_settings_set_kv(&S, &c, "log.show_recipients=yes", err, sizeof err));
  ASSERT(c.flag);
  ASSERT_OK(sg_settings_set_kv(&S, &c, "faults.rate_503=0.05", err, sizeof err));
  ASSERT(c.ratio > 0.049 && c.ratio < 0.051);
  sg_settings_free(&S, &c);
}

static int unknown_cb(void *ud, const char *section, const char *key, const char *value, char *err,
                      size_t errcap) {
  int *count = ud;
  if (strncmp(section, "account.", 8) != 0) {
    snprintf(err, errcap, "unknown section %s", section);
    return SG_ERR_CONFIG;
  }
  (*count)++;
  return 0;
}

static void t_ini_env(void) {
  char path[] = "/tmp/sg_settings_XXXXXX";
  int fd = mkstemp(path);
  ASSERT(fd >= 0);
  const char ini[] = "[redis]\nurl = redis://10.0.0.1:7000/2\n[graph]\nmailbox_concurrency = 2\n"
                     "[account.sales]\ntenant_id = t1\nclient_id = c1\n";
  ASSERT_EQ((ssize_t)strlen(ini), write(fd, ini, strlen(ini)));
  close(fd);
  char spath[] = "/tmp/sg_secret_XXXXXX";
  fd = mkstemp(spath);
  ASSERT_EQ(7, write(fd, "s3cret\n", 7));
  close(fd);

  cfg c = {0};
  char err[256];
  int accounts = 0;
  ASSERT_OK(sg_settings_defaults(&S, &c, err, sizeof err));
  ASSERT_OK(sg_settings_load_ini(&S, &c, path, unknown_cb, &accounts, err, sizeof err));
  ASSERT_EQ(2, accounts);
  ASSERT_STR_EQ("redis://10.0.0.1:7000/2", c.url);
  ASSERT_EQ(2, c.conc);

  char fileenv[200];
  snprintf(fileenv, sizeof fileenv, "SENDGATE_GRAPH_CLIENT_SECRET_FILE=%s", spath);
  char e1[] = "SENDGATE_GRAPH_MAILBOX_CONCURRENCY=6", e2[] = "SENDGATE_DEFAULT_BACKEND=acs",
       e3[] = "OTHER=1";
  char *envp[] = {e1, e2, fileenv, e3, NULL};
  ASSERT_OK(sg_settings_load_env(&S, &c, envp, err, sizeof err));
  ASSERT_EQ(6, c.conc); /* the environment wins over the file */
  ASSERT_STR_EQ("acs", c.backend);
  ASSERT_STR_EQ("s3cret", c.secret);

  char b1[] = "SENDGATE_GRAPH_MAILBOX_CONCURRENCY=x";
  char *bad[] = {b1, NULL};
  ASSERT_EQ(SG_ERR_CONFIG, sg_settings_load_env(&S, &c, bad, err, sizeof err));

  /* An unknown section with no handler, and a syntax error, name the line. */
  ASSERT_EQ(SG_ERR_CONFIG, sg_settings_load_ini(&S, &c, path, NULL, NULL, err, sizeof err));
  ASSERT(strstr(err, ":6:") != NULL && strstr(err, "account.sales") != NULL);
  ASSERT_EQ(SG_ERR_IO,
            sg_settings_load_ini(&S, &c, "/nonexistent/x.ini", NULL, NULL, err, sizeof err));
  unlink(path);
  unlink(spath);
  sg_settings_free(&S, &c);
}

SG_TESTS({"defaults_and_set", t_defaults_and_set}, {"ini_env", t_ini_env})
