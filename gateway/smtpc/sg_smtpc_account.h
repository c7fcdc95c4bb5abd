/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What an SMTP sending account implies before any connection (CONTRACT.md
 * §7): the host of each account type (`type = exchange_smtp`: XOAUTH2 to
 * smtp.office365.com:587; `type = hve`: smtp-hve.office365.com:587), the
 * `smtp_host = HOST:PORT` setting, and High Volume Email's rules on
 * recipients (only the tenant's `accepted_domains`, at most 50 a message),
 * which make a job INVALID before it is sent. Pure; for the runtime's
 * provider entry and the configuration.
 */
#ifndef SG_SMTPC_ACCOUNT_H
#define SG_SMTPC_ACCOUNT_H

#include <stddef.h>
#include <stdint.h>

typedef enum sg_smtpc_account_type {
  SG_SMTPC_ACCOUNT_EXCHANGE = 0, /* exchange_smtp */
  SG_SMTPC_ACCOUNT_HVE = 1,      /* hve */
} sg_smtpc_account_type;

/* microsoft-apis.md 6.1 and 6.5. */
#define SG_SMTPC_EXCHANGE_HOST "smtp.office365.com"
#define SG_SMTPC_HVE_HOST "smtp-hve.office365.com"
#define SG_SMTPC_SUBMISSION_PORT 587
/* HVE: at most 50 recipients (To + Cc + Bcc) per message. */
#define SG_SMTPC_HVE_MAX_RCPTS 50
/* The scope of the Entra token for XOAUTH2 (Exchange and HVE). */
#define SG_SMTPC_TOKEN_SCOPE "https://outlook.office365.com/.default"

/* The default host of |type| ("smtp.office365.com", ...). */
const char *sg_smtpc_account_default_host(sg_smtpc_account_type type);

/*
 * Parses `HOST[:PORT]` (`[v6]:PORT` for IPv6 literals; no port: 587) into
 * |host| (|cap| bytes) and |port|. An empty |s| gives |type|'s default.
 * Returns 0 or SG_ERR_INVAL (empty host, bad or zero port, too long, a
 * space or control character).
 */
int sg_smtpc_account_parse_host(const char *s, sg_smtpc_account_type type, char *host, size_t cap,
                                uint16_t *port);

/*
 * HVE's recipient rules for the |n| addresses in |rcpts| against the
 * comma-separated |accepted_domains| (ASCII case-insensitive; empty = all
 * refused). Returns 0, or with a one-line reason in |err|: SG_ERR_TOOBIG
 * (over SG_SMTPC_HVE_MAX_RCPTS), SG_ERR_INVAL (a recipient outside the
 * domains: the first one is named).
 */
int sg_smtpc_account_hve_check(const char *const *rcpts, size_t n, const char *accepted_domains,
                               char *err, size_t errcap);

#endif
