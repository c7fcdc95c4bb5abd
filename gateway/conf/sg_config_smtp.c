/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SMTP accounts in the configuration (CONTRACT.md §7): `type = exchange_smtp`
 * sends with XOAUTH2 and the Entra token of the account's app (tenant_id,
 * client_id and a secret, certificate or assertion file, or a managed
 * identity; scope https://outlook.office365.com/.default); `type = hve`
 * sends as a High Volume Email account with `username` and its password
 * (SENDGATE_ACCOUNT_<NAME>_PASSWORD or its _FILE), or like exchange_smtp
 * when no username is set. Both take `smtp_host = HOST:PORT`; HVE takes
 * `accepted_domains`. Limits not set on the account come from [exchange_smtp]
 * (the sg_limits defaults) or, for HVE, from [hve].
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conf/sg_config_int.h"
#include "core/sg_mem.h"
#include "smtpc/sg_smtpc_account.h"

bool sg_config__smtp_type(const char *type, bool *hve) {
  *hve = strcasecmp(type, "hve") == 0;
  return *hve || strcasecmp(type, "exchange_smtp") == 0;
}

const char *sg_config__smtp_account(const sg_config *cfg, sg_account *a) {
  char host[300];
  uint16_t port;
  sg_smtpc_account_type type = a->hve ? SG_SMTPC_ACCOUNT_HVE : SG_SMTPC_ACCOUNT_EXCHANGE;
  if (sg_smtpc_account_parse_host(a->smtp_host, type, host, sizeof host, &port) != 0)
    return "smtp_host: expected HOST:PORT";
  char hp[320];
  snprintf(hp, sizeof hp, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, (unsigned)port);
  sg_config__set_str(&a->smtp_host, hp);
  bool oauth = !a->hve || a->username[0] == '\0';
  if (a->hve && !oauth && a->password[0] == '\0')
    return "an hve account with a username needs its password (SENDGATE_ACCOUNT_<NAME>_PASSWORD "
           "or _PASSWORD_FILE)";
  if (a->hve && !oauth &&
      sg_config__credentials(a->client_secret, a->client_certificate_file, a->client_assertion_file,
                             a->managed_identity))
    return "an hve account signs in with username and password or with an app, not both";
  if (!a->hve && a->username[0])
    return "an exchange_smtp account signs in with its app (XOAUTH2), not a username";
  if (oauth && !a->managed_identity[0] &&
      !(a->tenant_id[0] && a->client_id[0] &&
        sg_config__credentials(a->client_secret, a->client_certificate_file,
                               a->client_assertion_file, NULL)))
    return a->hve ? "an hve account needs username and password, or tenant_id, client_id and "
                    "client_secret (or client_certificate_file, or client_assertion_file)"
                  : "an exchange_smtp account needs tenant_id, client_id and client_secret (or "
                    "client_certificate_file, or client_assertion_file), or managed_identity";
  if (a->hve && a->accepted_domains[0] == '\0')
    return "an hve account needs accepted_domains (HVE sends inside the tenant only)";
  if (a->hve) {
    if (a->limits.smtp_messages_per_minute < 0)
      a->limits.smtp_messages_per_minute = cfg->hve_messages_per_minute;
    if (a->limits.smtp_recipients_per_day < 0)
      a->limits.smtp_recipients_per_day = cfg->hve_recipients_per_day;
    if (a->limits.smtp_sessions < 0)
      a->limits.smtp_sessions = cfg->hve_sessions;
  }
  return NULL;
}
