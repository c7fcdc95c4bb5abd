/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the settings layer (core/sg_settings.c: inih, the
 * environment, "section.key=value") as the gateway's configuration uses it
 * (conf/sg_config.c: accounts, senders, validation).
 *
 * Input: an INI file, optionally followed by a NUL and environment lines
 * ("NAME=value", one a line; names with _FILE are dropped, so the target
 * never reads the machine's files). The file is handed over as an in-memory
 * file (memfd), the way sg_config_load reads a path.
 * Checked: a failed load explains itself in one non-empty line; loading the
 * same input twice gives the same outcome and the same accounts; every
 * account has a name and a backend, every sender an address in lower case;
 * each account can be found again by backend and name; every INI line given to
 * sg_settings_set_kv as "section.key=value" yields 0, SG_ERR_NOTFOUND or
 * SG_ERR_CONFIG with a reason.
 */
#include <ctype.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf/sg_config.h"
#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "core/sg_settings.h"
#include "fuzz_common.h"

#define MAX_ENV 16

static void check_err(int rv, const char *err) {
  if (rv == 0)
    return;
  CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
}

static int load(const char *path, char *const *envp, sg_config *cfg, char *err, size_t cap) {
  err[0] = '\0';
  int rv = sg_config_load(cfg, path, envp, err, cap);
  CHECK(rv == 0 || rv == SG_ERR_CONFIG || rv == SG_ERR_IO);
  check_err(rv, err);
  return rv;
}

static void check_config(const sg_config *c) {
  for (size_t i = 0; i < c->naccounts; i++) {
    const sg_account *a = &c->accounts[i];
    CHECK(a->name != NULL);
    CHECK(a->backend == SG_BACKEND_GRAPH || a->backend == SG_BACKEND_ACS ||
          a->backend == SG_BACKEND_SMTP);
    CHECK(sg_config_account(c, a->backend, a->name) != NULL);
  }
  for (size_t i = 0; i < c->nsenders; i++) {
    const sg_sender_limits *s = &c->senders[i];
    CHECK(s->address != NULL && s->account != NULL);
    for (const char *p = s->address; *p; p++)
      CHECK(!isupper((unsigned char)*p));
  }
}

static void check_same(const sg_config *a, const sg_config *b) {
  CHECK(a->naccounts == b->naccounts && a->nsenders == b->nsenders);
  for (size_t i = 0; i < a->naccounts; i++) {
    CHECK(strcmp(a->accounts[i].name, b->accounts[i].name) == 0);
    CHECK(a->accounts[i].backend == b->accounts[i].backend);
    CHECK(memcmp(&a->accounts[i].limits, &b->accounts[i].limits, sizeof(sg_limits)) == 0);
  }
}

/* Every "key = value" line under a [section] header, as "section.key=value". */
static void set_each_line(const char *ini) {
  sg_config cfg;
  memset(&cfg, 0, sizeof cfg);
  char err[256];
  if (sg_settings_defaults(&sg_config_settings, &cfg, err, sizeof err) != 0)
    return;
  sg_buf section = SG_BUF_INIT, kv = SG_BUF_INIT;
  sg_buf_append_str(&section, "");
  const char *p = ini;
  while (*p) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    if (n > 2 && p[0] == '[' && p[n - 1] == ']') {
      sg_buf_reset(&section);
      sg_buf_append(&section, p + 1, n - 2);
      sg_buf_append_char(&section, '\0');
    } else if (n > 0 && memchr(p, '=', n)) {
      sg_buf_reset(&kv);
      if (section.data[0])
        sg_buf_printf(&kv, "%s.", section.data);
      sg_buf_append(&kv, p, n);
      sg_buf_append_char(&kv, '\0');
      err[0] = '\0';
      int rv = sg_settings_set_kv(&sg_config_settings, &cfg, kv.data, err, sizeof err);
      CHECK(rv == 0 || rv == SG_ERR_NOTFOUND || rv == SG_ERR_CONFIG);
      if (rv == SG_ERR_CONFIG)
        CHECK(err[0] != '\0');
    }
    p += n + (nl != NULL);
  }
  sg_buf_free(&section);
  sg_buf_free(&kv);
  sg_settings_free(&sg_config_settings, &cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *nul = memchr(data, '\0', size);
  size_t ini_len = nul ? (size_t)(nul - (const char *)data) : size;
  char *ini = sg_xstrndup((const char *)data, ini_len);

  /* Environment lines after the NUL. */
  char *envtext = nul ? sg_xstrndup(nul + 1, size - ini_len - 1) : sg_xstrdup("");
  char *envp[MAX_ENV + 1];
  size_t nenv = 0;
  char *save = NULL;
  for (char *line = strtok_r(envtext, "\n", &save); line && nenv < MAX_ENV;
       line = strtok_r(NULL, "\n", &save)) {
    if (strchr(line, '=') && !strstr(line, "_FILE"))
      envp[nenv++] = line;
  }
  envp[nenv] = NULL;

  int fd = memfd_create("fuzz_settings.ini", 0);
  CHECK(fd >= 0);
  CHECK(write(fd, ini, ini_len) == (ssize_t)ini_len);
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);

  char err1[256], err2[256];
  sg_config a, b;
  int rv1 = load(path, envp, &a, err1, sizeof err1);
  int rv2 = load(path, envp, &b, err2, sizeof err2);
  CHECK(rv1 == rv2);
  if (rv1 == 0) {
    check_config(&a);
    check_same(&a, &b);
    sg_config_free(&a);
    sg_config_free(&b);
  } else {
    CHECK(strcmp(err1, err2) == 0);
  }
  if (sg_fuzz_verbose())
    fprintf(stderr, "settings: %d %s\n", rv1, rv1 ? err1 : "");
  close(fd);

  set_each_line(ini);
  sg_free(envtext);
  sg_free(ini);
  return 0;
}
