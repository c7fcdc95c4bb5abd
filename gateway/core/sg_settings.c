/* SPDX-License-Identifier: Apache-2.0 */
/* Table-driven settings from INI, environment and key=value text; see sg_settings.h. */
#include "core/sg_settings.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"

static const sg_setting *find(const sg_settings *s, const char *section, const char *key) {
  for (size_t i = 0; i < s->n; i++)
    if (strcasecmp(s->tbl[i].section, section) == 0 && strcasecmp(s->tbl[i].key, key) == 0)
      return &s->tbl[i];
  return NULL;
}

static bool parse_bool(const char *v, bool *out) {
  static const char *yes[] = {"1", "true", "yes", "on"};
  static const char *no[] = {"0", "false", "no", "off"};
  for (size_t i = 0; i < 4; i++) {
    if (strcasecmp(v, yes[i]) == 0) {
      *out = true;
      return true;
    }
    if (strcasecmp(v, no[i]) == 0) {
      *out = false;
      return true;
    }
  }
  return false;
}

static void full_name(const sg_setting *st, char *out, size_t cap) {
  if (st->section[0])
    snprintf(out, cap, "%s.%s", st->section, st->key);
  else
    snprintf(out, cap, "%s", st->key);
}

/* Errors name the setting both ways, "gateway.ledger_slots (SENDGATE_GATEWAY_LEDGER_SLOTS)",
 * so the operator finds it in the file or the environment. */
static int apply(const sg_settings *s, const sg_setting *st, void *obj, const char *value,
                 char *err, size_t errcap) {
  char *field = (char *)obj + st->offset;
  char name[300], env[160];
  full_name(st, name, 128);
  sg_settings_env_name(s, st, env, sizeof env);
  size_t nl = strlen(name);
  snprintf(name + nl, sizeof name - nl, " (%s)", env);
  switch (st->type) {
  case SG_SET_STR: {
    char **p = (char **)(void *)field;
    sg_free(*p);
    *p = sg_xstrdup(value ? value : "");
    return 0;
  }
  case SG_SET_INT: {
    const char *v = value ? value : "0";
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    while (end && isspace((unsigned char)*end))
      end++;
    if (errno || end == v || *end != '\0') {
      snprintf(err, errcap, "%s: '%s' is not a whole number", name, v);
      return SG_ERR_CONFIG;
    }
    if (st->min != st->max && (x < st->min || x > st->max)) {
      snprintf(err, errcap, "%s: %lld is out of range [%lld, %lld]", name, x, (long long)st->min,
               (long long)st->max);
      return SG_ERR_CONFIG;
    }
    int64_t *p = (int64_t *)(void *)field;
    *p = x;
    return 0;
  }
  case SG_SET_BOOL: {
    bool b;
    if (!parse_bool(value ? value : "false", &b)) {
      snprintf(err, errcap, "%s: '%s' is not a boolean (true/false)", name, value);
      return SG_ERR_CONFIG;
    }
    *(bool *)(void *)field = b;
    return 0;
  }
  case SG_SET_DOUBLE: {
    const char *v = value ? value : "0";
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end != '\0') {
      snprintf(err, errcap, "%s: '%s' is not a number", name, v);
      return SG_ERR_CONFIG;
    }
    *(double *)(void *)field = d;
    return 0;
  }
  }
  return SG_ERR_CONFIG;
}

int sg_settings_defaults(const sg_settings *s, void *obj, char *err, size_t errcap) {
  for (size_t i = 0; i < s->n; i++) {
    int rv = apply(s, &s->tbl[i], obj, s->tbl[i].def, err, errcap);
    if (rv)
      return rv;
  }
  return 0;
}

int sg_settings_set(const sg_settings *s, void *obj, const char *section, const char *key,
                    const char *value, char *err, size_t errcap) {
  const sg_setting *st = find(s, section ? section : "", key);
  if (st == NULL) {
    if (section && section[0])
      snprintf(err, errcap, "unknown setting %s.%s", section, key);
    else
      snprintf(err, errcap, "unknown setting %s", key);
    return SG_ERR_NOTFOUND;
  }
  return apply(s, st, obj, value, err, errcap);
}

int sg_settings_set_kv(const sg_settings *s, void *obj, const char *kv, char *err, size_t errcap) {
  const char *eq = strchr(kv, '=');
  if (eq == NULL) {
    snprintf(err, errcap, "'%s' is not of the form section.key=value", kv);
    return SG_ERR_CONFIG;
  }
  char name[128];
  size_t nl = (size_t)(eq - kv);
  if (nl == 0 || nl >= sizeof name) {
    snprintf(err, errcap, "'%s' is not of the form section.key=value", kv);
    return SG_ERR_CONFIG;
  }
  memcpy(name, kv, nl);
  name[nl] = '\0';
  char *dot = strrchr(name, '.');
  if (dot) {
    *dot = '\0';
    return sg_settings_set(s, obj, name, dot + 1, eq + 1, err, errcap);
  }
  return sg_settings_set(s, obj, "", name, eq + 1, err, errcap);
}

typedef struct {
  const sg_settings *s;
  void *obj;
  sg_settings_unknown_cb unknown;
  void *ud;
  char *err;
  size_t errcap;
  int rv;
} ini_ctx;

static int on_ini(void *user, const char *section, const char *key, const char *value) {
  ini_ctx *c = user;
  if (c->rv)
    return 0;
  const sg_setting *st = find(c->s, section, key);
  if (st)
    c->rv = apply(c->s, st, c->obj, value, c->err, c->errcap);
  else if (c->unknown)
    c->rv = c->unknown(c->ud, section, key, value, c->err, c->errcap);
  else {
    snprintf(c->err, c->errcap, "unknown setting %s%s%s", section, section[0] ? "." : "", key);
    c->rv = SG_ERR_CONFIG;
  }
  return c->rv == 0;
}

int sg_settings_load_ini(const sg_settings *s, void *obj, const char *path,
                         sg_settings_unknown_cb unknown, void *ud, char *err, size_t errcap) {
  char detail[256] = "";
  ini_ctx c = {s, obj, unknown, ud, detail, sizeof detail, 0};
  int line = ini_parse(path, on_ini, &c);
  if (line == -1) {
    snprintf(err, errcap, "%s: cannot open: %s", path, strerror(errno));
    return SG_ERR_IO;
  }
  if (line != 0) {
    snprintf(err, errcap, "%s:%d: %s", path, line, detail[0] ? detail : "syntax error");
    return c.rv ? c.rv : SG_ERR_CONFIG;
  }
  return 0;
}

void sg_settings_env_name(const sg_settings *s, const sg_setting *st, char *out, size_t cap) {
  if (st->env) {
    snprintf(out, cap, "%s", st->env);
    return;
  }
  if (st->section[0])
    snprintf(out, cap, "%s%s_%s", s->env_prefix, st->section, st->key);
  else
    snprintf(out, cap, "%s%s", s->env_prefix, st->key);
  for (char *p = out; *p; p++)
    *p = (*p == '.' || *p == '-') ? '_' : (char)toupper((unsigned char)*p);
}

const char *sg_settings_env(char *const *envp, const char *name) {
  size_t n = strlen(name);
  for (; envp && *envp; envp++)
    if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
      return *envp + n + 1;
  return NULL;
}

int sg_settings_read_file(const char *path, char **out, size_t max) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return SG_ERR_IO;
  sg_buf b = SG_BUF_INIT;
  char tmp[4096];
  size_t n;
  while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) {
    if (b.len + n > max) {
      fclose(f);
      sg_buf_free(&b);
      return SG_ERR_TOOBIG;
    }
    sg_buf_append(&b, tmp, n);
  }
  fclose(f);
  if (b.len && b.data[b.len - 1] == '\n')
    b.data[--b.len] = '\0';
  if (b.len && b.data[b.len - 1] == '\r')
    b.data[--b.len] = '\0';
  if (b.data == NULL)
    sg_buf_append(&b, "", 0);
  *out = sg_buf_steal(&b, NULL);
  return 0;
}

int sg_settings_load_env(const sg_settings *s, void *obj, char *const *envp, char *err,
                         size_t errcap) {
  for (size_t i = 0; i < s->n; i++) {
    const sg_setting *st = &s->tbl[i];
    char name[160];
    sg_settings_env_name(s, st, name, sizeof name);
    const char *v = sg_settings_env(envp, name);
    if (v) {
      int rv = apply(s, st, obj, v, err, errcap);
      if (rv)
        return rv;
      continue;
    }
    if (st->flags & SG_SET_SECRET) {
      char fname[170];
      snprintf(fname, sizeof fname, "%s_FILE", name);
      const char *path = sg_settings_env(envp, fname);
      if (path) {
        char *secret = NULL;
        int rv = sg_settings_read_file(path, &secret, 64 * 1024);
        if (rv) {
          snprintf(err, errcap, "%s: cannot read %s", fname, path);
          return SG_ERR_CONFIG;
        }
        rv = apply(s, st, obj, secret, err, errcap);
        sg_free(secret);
        if (rv)
          return rv;
      }
    }
  }
  return 0;
}

void sg_settings_free(const sg_settings *s, void *obj) {
  for (size_t i = 0; i < s->n; i++) {
    if (s->tbl[i].type == SG_SET_STR) {
      char **p = (char **)(void *)((char *)obj + s->tbl[i].offset);
      sg_free(*p);
      *p = NULL;
    }
  }
}
