/* SPDX-License-Identifier: Apache-2.0 */
/* Credential rotation without a restart; see sg_app_reload in sg_app.h. */
#include "app/sg_app_int.h"

#include <stdio.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_log.h"

static bool same(const char *x, const char *y) {
  return strcmp(x ? x : "", y ? y : "") == 0;
}

/* What must not change without a restart; NULL when nothing did. */
static const char *restart_needed(const sg_account *o, const sg_account *n) {
  if (!same(o->name, n->name) || o->backend != n->backend)
    return "the accounts differ";
  if (!same(o->tenant_id, n->tenant_id) || !same(o->client_id, n->client_id))
    return "a tenant or client id changed";
  if (!same(o->scope, n->scope) || !same(o->login_url, n->login_url))
    return "a token scope or endpoint changed";
  if (!same(o->smtp_host, n->smtp_host) || !same(o->username, n->username))
    return "an SMTP host or user changed";
  return NULL;
}

static void swap_str(char **x, char **y) {
  char *t = *x;
  *x = *y;
  *y = t;
}

/* Moves the credential fields of |n| into |o| (|n| gets the old ones, to free). */
static void take_credentials(sg_account *o, sg_account *n) {
  swap_str(&o->client_secret, &n->client_secret);
  swap_str(&o->password, &n->password); /* hve accounts' */
  swap_str(&o->client_certificate_file, &n->client_certificate_file);
  swap_str(&o->client_certificate_password, &n->client_certificate_password);
  swap_str(&o->client_assertion_alg, &n->client_assertion_alg);
  swap_str(&o->client_assertion_file, &n->client_assertion_file);
  swap_str(&o->managed_identity, &n->managed_identity);
  swap_str(&o->identity_endpoint, &n->identity_endpoint);
  swap_str(&o->identity_header, &n->identity_header);
}

int sg_app_reload(sg_app *a, sg_config *next, char *err, size_t errcap) {
  int rv = 0;
  if (next->naccounts != a->cfg.naccounts) {
    snprintf(err, errcap, "accounts were added or removed: restart to apply");
    rv = SG_ERR_CONFIG;
  }
  for (size_t i = 0; rv == 0 && i < a->cfg.naccounts; i++) {
    const char *why = restart_needed(&a->cfg.accounts[i], &next->accounts[i]);
    if (why) {
      snprintf(err, errcap, "account %s: %s: restart to apply",
               a->cfg.accounts[i].name[0] ? a->cfg.accounts[i].name : "(default)", why);
      rv = SG_ERR_CONFIG;
    }
  }
  /* Every new credential must load before any is taken. */
  for (size_t i = 0; rv == 0 && i < a->cfg.naccounts; i++) {
    if (a->rts[i].cred == NULL)
      continue;
    sg_cred *c;
    char e[300];
    if (sg_cred_new(&c, &next->accounts[i], e, sizeof e) != 0) {
      snprintf(err, errcap, "account %s: %s",
               a->cfg.accounts[i].name[0] ? a->cfg.accounts[i].name : "(default)", e);
      rv = SG_ERR_CONFIG;
    } else {
      sg_cred_free(c);
    }
  }
  size_t n = 0;
  for (size_t i = 0; rv == 0 && i < a->cfg.naccounts; i++) {
    sg_acct_rt *rt = &a->rts[i];
    if (rt->cred == NULL)
      continue;
    take_credentials(&a->cfg.accounts[i], &next->accounts[i]);
    sg_cred *c = NULL;
    char e[300];
    if (sg_cred_new(&c, &a->cfg.accounts[i], e, sizeof e) != 0) {
      /* The files changed again in between: keep the old credential. */
      take_credentials(&a->cfg.accounts[i], &next->accounts[i]);
      sg_log_kv(SG_LOG_ERROR, "config", "credential not reloaded", "account",
                a->cfg.accounts[i].name[0] ? a->cfg.accounts[i].name : "(default)", "detail", e,
                NULL);
      continue;
    }
    sg_cred_free(rt->cred);
    rt->cred = c;
    /* The next request fetches a token with the new credential at once, so a
     * credential that does not work shows now, not at the old token's expiry.
     * Requests in flight keep theirs. */
    sg_token_invalidate(rt->token, NULL, 0);
    n++;
  }
  sg_config_free(next);
  if (rv == 0) {
    char num[24];
    snprintf(num, sizeof num, "%zu", n);
    sg_log_kv(SG_LOG_INFO, "config", "credentials reloaded", "accounts", num, "other settings",
              "take effect at the next restart", NULL);
  }
  return rv;
}
