/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sandbox's SMTP stand-in, one server session as a pure machine (bytes
 * in, bytes out, no socket): Exchange Online's client submission host
 * (smtp.office365.com:587) or the High Volume Email host
 * (smtp-hve.office365.com:587), as microsoft-apis.md 6 describes them.
 *  - STARTTLS (RFC 3207); AUTH only after it (530 5.7.0 before).
 *  - AUTH XOAUTH2, one-line or two-step: the token must be one the sandbox's
 *    Entra issued for https://outlook.office365.com/.default and not expired;
 *    a bad one gets Google's and Microsoft's error challenge (334 + base64
 *    JSON), then 535 5.7.3 after the client's empty line (smtp.expire_tokens
 *    makes the next N tokens count as expired, for token refresh tests).
 *  - AUTH PLAIN/LOGIN: Exchange answers the configured Basic refusal
 *    (550 5.7.30 or 535 5.7.139) after the exchange completes; HVE checks
 *    its account's user name and password (535 5.7.3 when wrong).
 *  - MAIL needs AUTH (530 5.7.57); the authenticated mailbox sends at most
 *    messages_per_minute (450 4.7.0 above); Exchange refuses a MAIL FROM
 *    other than the mailbox at the end of DATA (554 5.2.252 SendAsDenied);
 *    configured mailboxes are over their daily quota (554 5.2.0
 *    ...SubmissionQuotaExceededException).
 *  - HVE: recipients outside the accepted domains are refused as Exchange
 *    refuses relaying (550 5.7.54), at most hve_max_rcpts per message
 *    (452 4.5.3 beyond).
 *  - A bare CR or LF in DATA: 550 5.6.11 (Exchange's answer since 2024);
 *    only CRLF "." CRLF ends the data.
 *  - Faults (the sandbox's [faults] shares) at the end of DATA: 451 4.3.0,
 *    421 and close, a dropped connection before (not recorded) or after
 *    (recorded: the ambiguous case) taking the message.
 * What the session needs from the sandbox (tokens, limits, faults, the
 * record) comes through sg_sbx_smtp_hooks, so tests drive it alone.
 */
#ifndef SG_SBX_SMTP_H
#define SG_SBX_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sg_mem.h"
#include "sandbox/sg_sbx_faults.h"
#include "sandbox/sg_sbx_tokens.h"

/* RFC 4954 4: an AUTH line may be 12288 octets; other commands 512. */
#define SG_SBX_SMTP_AUTH_LINE_MAX 12288
/* Recipients kept per message at most (Exchange's highest limit). */
#define SG_SBX_SMTP_MAX_RCPTS 1000

typedef enum { SG_SBX_SMTP_EXCHANGE = 0, SG_SBX_SMTP_HVE = 1 } sg_sbx_smtp_role;

typedef struct sg_sbx_smtp_policy {
  sg_sbx_smtp_role role;
  const char *hve_user, *hve_password; /* HVE's Basic account */
  const char *accepted_domains;        /* HVE: comma-separated */
  uint32_t hve_max_rcpts;              /* 0: no limit */
  uint64_t max_message_bytes;          /* SIZE; bigger messages get 552 5.3.4 */
  bool basic_5_7_139;                  /* Exchange: Basic gets 535 5.7.139, not 550 5.7.30 */
  bool auth_disabled;                  /* Exchange: every AUTH gets 535 5.7.139 */
  const char *quota_mailboxes;         /* comma-separated: over their daily quota */
} sg_sbx_smtp_policy;

/* A message the session took. Borrowed for the call. */
typedef struct sg_sbx_smtp_delivery {
  sg_sbx_smtp_role role;
  const char *mailbox; /* the authenticated user */
  const char *from;    /* MAIL FROM ("" for <>) */
  const char *const *rcpts;
  size_t n_rcpts;
  const char *mail_params; /* MAIL's parameters as sent ("SIZE=.. BODY=8BITMIME") */
  const uint8_t *data;     /* the message, dots removed, CRLF line ends */
  size_t len;
} sg_sbx_smtp_delivery;

typedef struct sg_sbx_smtp_hooks {
  /* Checks an XOAUTH2 bearer token (OUTLOOK audience). */
  sg_sbx_token_status (*check_token)(void *ud, const char *token, size_t len);
  /* One message for |mailbox| in the minute window: false when over. */
  bool (*take_message)(void *ud, const char *mailbox);
  /* The fault for this message's end of DATA. */
  sg_sbx_fault (*pick_fault)(void *ud);
  /* Records an accepted message; writes its queue id (NUL-terminated) into |id|. */
  void (*deliver)(void *ud, const sg_sbx_smtp_delivery *d, char id[64]);
  void *ud;
} sg_sbx_smtp_hooks;

typedef struct sg_sbx_smtp sg_sbx_smtp;

/* A session that has just accepted a connection; the greeting is in the
 * output. |pol| and |hooks| are borrowed and must outlive it. */
sg_sbx_smtp *sg_sbx_smtp_new(const sg_sbx_smtp_policy *pol, const sg_sbx_smtp_hooks *hooks);
void sg_sbx_smtp_free(sg_sbx_smtp *s);

/* Takes client bytes; replies are appended to the output. */
void sg_sbx_smtp_feed(sg_sbx_smtp *s, const uint8_t *p, size_t n);

/* Bytes to send (the caller takes them and resets the buffer). */
sg_buf *sg_sbx_smtp_output(sg_sbx_smtp *s);

/* True once after "220" to STARTTLS: write the output in clear, then start
 * the server side of TLS; call sg_sbx_smtp_tls_done when it is up. */
bool sg_sbx_smtp_want_tls(sg_sbx_smtp *s);
void sg_sbx_smtp_tls_done(sg_sbx_smtp *s);

/* The session is over: write the output (when |drop| is false), then close. */
bool sg_sbx_smtp_closed(const sg_sbx_smtp *s, bool *drop);

#endif
