/* SPDX-License-Identifier: Apache-2.0 */
/* SMTP account defaults, smtp_host and HVE's recipient rules; see sg_smtpc_account.h. */
#include "smtpc/sg_smtpc_account.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/sg_err.h"

const char *sg_smtpc_account_default_host(sg_smtpc_account_type type) {
  return type == SG_SMTPC_ACCOUNT_HVE ? SG_SMTPC_HVE_HOST : SG_SMTPC_EXCHANGE_HOST;
}

int sg_smtpc_account_parse_host(const char *s, sg_smtpc_account_type type, char *host, size_t cap,
                                uint16_t *port) {
  if (!s || !s[0])
    s = sg_smtpc_account_default_host(type);
  const char *h = s, *he, *ps = NULL;
  if (*s == '[') {
    h = s + 1;
    he = strchr(h, ']');
    if (!he || (he[1] && he[1] != ':'))
      return SG_ERR_INVAL;
    ps = he[1] ? he + 2 : NULL;
  } else {
    const char *c = strchr(s, ':');
    if (c && strchr(c + 1, ':'))
      return SG_ERR_INVAL; /* an IPv6 literal needs its brackets */
    he = c ? c : s + strlen(s);
    ps = c ? c + 1 : NULL;
  }
  size_t hl = (size_t)(he - h);
  if (hl == 0 || hl >= cap)
    return SG_ERR_INVAL;
  for (size_t i = 0; i < hl; i++)
    if ((unsigned char)h[i] <= 0x20 || (unsigned char)h[i] == 0x7f)
      return SG_ERR_INVAL;
  long p = SG_SMTPC_SUBMISSION_PORT;
  if (ps) {
    char *end;
    p = strtol(ps, &end, 10);
    if (!*ps || *end || p < 1 || p > 65535)
      return SG_ERR_INVAL;
  }
  memcpy(host, h, hl);
  host[hl] = '\0';
  *port = (uint16_t)p;
  return 0;
}

/* Whether |domain| (|n| bytes) is one of the comma-separated |list|. */
static bool domain_in(const char *list, const char *domain, size_t n) {
  const char *p = list;
  while (p && *p) {
    p += strspn(p, " ,");
    size_t l = strcspn(p, ",");
    size_t t = l;
    while (t > 0 && p[t - 1] == ' ')
      t--;
    if (t == n && n > 0 && strncasecmp(p, domain, n) == 0)
      return true;
    p += l;
  }
  return false;
}

int sg_smtpc_account_hve_check(const char *const *rcpts, size_t n, const char *accepted_domains,
                               char *err, size_t errcap) {
  if (n > SG_SMTPC_HVE_MAX_RCPTS) {
    snprintf(err, errcap, "%zu recipients; High Volume Email takes at most %d per message", n,
             SG_SMTPC_HVE_MAX_RCPTS);
    return SG_ERR_TOOBIG;
  }
  for (size_t i = 0; i < n; i++) {
    const char *at = strrchr(rcpts[i], '@');
    if (!at || !domain_in(accepted_domains, at + 1, strlen(at + 1))) {
      snprintf(err, errcap,
               "recipient %.254s is outside the account's accepted domains (High Volume Email "
               "sends to internal recipients only)",
               rcpts[i]);
      return SG_ERR_INVAL;
    }
  }
  return 0;
}
