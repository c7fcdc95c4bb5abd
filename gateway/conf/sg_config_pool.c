/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sender pools in the configuration:
 *
 *   [pool.newsletter]
 *   members = news1@contoso.com, news2@contoso.com, sales/news3@contoso.com
 *   weights = 2, 1, 1      ; optional, one per member (default 1 each)
 *   account = marketing    ; optional: the members' account (default the job's)
 *
 * A member is SENDER or ACCOUNT/SENDER (a Graph mailbox, or an ACS
 * senderAddress of the named ACS account, i.e. another resource). Each key can
 * also come from SENDGATE_POOL_<NAME>_<KEY> for a pool the file names (the
 * environment wins), like [account.NAME]. Checked: at least one member, at
 * most SG_POOL_MAX_MEMBERS, known accounts, weights 1..1000.
 */
#include "conf/sg_config_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "core/sg_settings.h"

#define SG_POOL_MAX_MEMBERS 1000

struct sg_config__pool_kv {
  char *members, *weights, *account;
};

#define P(f) offsetof(struct sg_config__pool_kv, f)
static const sg_setting pool_tbl[] = {
    {"", "members", SG_SET_STR, P(members), "", 0, 0, 0, NULL,
     "comma-separated SENDER or ACCOUNT/SENDER"},
    {"", "weights", SG_SET_STR, P(weights), "", 0, 0, 0, NULL, "one per member; default 1 each"},
    {"", "account", SG_SET_STR, P(account), "", 0, 0, 0, NULL, "the members' default account"},
};

static bool valid_name(const char *s) {
  if (*s == '\0' || strlen(s) > 64)
    return false;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
      return false;
  return true;
}

int sg_config__named_line(void *vp, char ***names, size_t *n, size_t size, const sg_settings *s,
                          const char *kind, const char *section, const char *name, const char *key,
                          const char *value, char *err, size_t errcap) {
  if (!valid_name(name)) {
    snprintf(err, errcap, "%s name '%s': use letters, digits, '_' or '-'", kind, name);
    return SG_ERR_CONFIG;
  }
  char *v;
  memcpy(&v, vp, sizeof v);
  size_t i;
  for (i = 0; i < *n; i++)
    if (strcmp((*names)[i], name) == 0)
      break;
  if (i == *n) {
    v = sg_xrealloc(v, (*n + 1) * size);
    memcpy(vp, &v, sizeof v);
    *names = sg_xrealloc(*names, (*n + 1) * sizeof **names);
    memset(v + i * size, 0, size);
    (*names)[i] = sg_xstrdup(name);
    (*n)++;
    int rv = sg_settings_defaults(s, v + i * size, err, errcap);
    if (rv)
      return rv;
  }
  char kerr[200];
  if (sg_settings_set(s, v + i * size, "", key, value, kerr, sizeof kerr) != 0) {
    snprintf(err, errcap, "[%s] %s", section, kerr);
    return SG_ERR_CONFIG;
  }
  return 0;
}

int sg_config__pool_line(sg_config__pool_in *in, const char *section, const char *key,
                         const char *value, char *err, size_t errcap) {
  sg_settings s = {pool_tbl, SG_ARRAY_LEN(pool_tbl), ""};
  return sg_config__named_line(&in->v, &in->names, &in->n, sizeof *in->v, &s, "pool", section,
                               section + 5, key, value, err, errcap);
}

/* The next comma-separated item of *|p| (trimmed) into |out|; false at the end. */
static bool next_item(const char **p, char *out, size_t cap) {
  const char *s = *p + strspn(*p, " \t,");
  if (*s == '\0')
    return false;
  size_t n = strcspn(s, ",");
  *p = s + n;
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
    n--;
  snprintf(out, cap, "%.*s", (int)n, s);
  return true;
}

static int parse_pool(const sg_config *cfg, const char *name, const struct sg_config__pool_kv *kv,
                      sg_pool *out, char *err, size_t errcap) {
  out->name = sg_xstrdup(name);
  out->account = sg_xstrdup(kv->account);
  if (kv->account[0] && sg_config_account(cfg, SG_BACKEND_GRAPH, kv->account) == NULL) {
    snprintf(err, errcap, "[pool.%s] account '%s' is not configured", name, kv->account);
    return SG_ERR_CONFIG;
  }
  char item[512];
  for (const char *p = kv->members; next_item(&p, item, sizeof item);) {
    if (out->nmembers == SG_POOL_MAX_MEMBERS) {
      snprintf(err, errcap, "[pool.%s] more than %d members", name, SG_POOL_MAX_MEMBERS);
      return SG_ERR_CONFIG;
    }
    out->members = sg_xrealloc(out->members, (out->nmembers + 1) * sizeof *out->members);
    sg_pool_member *m = &out->members[out->nmembers++];
    char *slash = strchr(item, '/');
    m->account = sg_xstrdup(slash ? item : "");
    if (slash)
      m->account[slash - item] = '\0';
    m->sender = sg_xstrdup(slash ? slash + 1 : item);
    m->weight = 1;
    if (m->sender[0] == '\0' || (slash && m->account[0] == '\0')) {
      snprintf(err, errcap, "[pool.%s] member '%s': expected SENDER or ACCOUNT/SENDER", name, item);
      return SG_ERR_CONFIG;
    }
    if (m->account[0] && sg_config_account(cfg, SG_BACKEND_GRAPH, m->account) == NULL) {
      snprintf(err, errcap, "[pool.%s] member '%s': account '%s' is not configured", name, item,
               m->account);
      return SG_ERR_CONFIG;
    }
  }
  if (out->nmembers == 0) {
    snprintf(err, errcap, "[pool.%s] has no members", name);
    return SG_ERR_CONFIG;
  }
  size_t k = 0;
  for (const char *p = kv->weights; next_item(&p, item, sizeof item); k++) {
    char *end;
    long w = strtol(item, &end, 10);
    if (k >= out->nmembers || *end != '\0' || w < 1 || w > 1000) {
      snprintf(err, errcap, "[pool.%s] weights: one number 1..1000 per member", name);
      return SG_ERR_CONFIG;
    }
    out->members[k].weight = (uint32_t)w;
  }
  if (k != 0 && k != out->nmembers) {
    snprintf(err, errcap, "[pool.%s] weights: one number 1..1000 per member", name);
    return SG_ERR_CONFIG;
  }
  return 0;
}

int sg_config__pools_finish(sg_config *cfg, sg_config__pool_in *in, char *const *envp, char *err,
                            size_t errcap) {
  if (in->n == 0)
    return 0;
  cfg->pools = sg_xcalloc(in->n, sizeof *cfg->pools);
  for (size_t i = 0; i < in->n; i++) {
    char prefix[100];
    snprintf(prefix, sizeof prefix, "SENDGATE_POOL_%s_", in->names[i]);
    for (char *p = prefix; *p; p++)
      *p = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    sg_settings s = {pool_tbl, SG_ARRAY_LEN(pool_tbl), prefix};
    int rv = sg_settings_load_env(&s, &in->v[i], envp, err, errcap);
    cfg->npools++;
    if (rv == 0)
      rv = parse_pool(cfg, in->names[i], &in->v[i], &cfg->pools[i], err, errcap);
    if (rv)
      return rv;
  }
  return 0;
}

void sg_config__pool_in_free(sg_config__pool_in *in) {
  sg_settings s = {pool_tbl, SG_ARRAY_LEN(pool_tbl), ""};
  for (size_t i = 0; i < in->n; i++) {
    sg_settings_free(&s, &in->v[i]);
    sg_free(in->names[i]);
  }
  sg_free(in->v);
  sg_free(in->names);
  memset(in, 0, sizeof *in);
}

void sg_config__pools_free(sg_config *cfg) {
  for (size_t i = 0; i < cfg->npools; i++) {
    sg_pool *p = &cfg->pools[i];
    for (size_t k = 0; k < p->nmembers; k++) {
      sg_free(p->members[k].account);
      sg_free(p->members[k].sender);
    }
    sg_free(p->members);
    sg_free(p->name);
    sg_free(p->account);
  }
  sg_free(cfg->pools);
  cfg->pools = NULL;
  cfg->npools = 0;
}

const sg_pool *sg_config_pool(const sg_config *cfg, const char *name) {
  for (size_t i = 0; i < cfg->npools; i++)
    if (strcmp(cfg->pools[i].name, name) == 0)
      return &cfg->pools[i];
  return NULL;
}
