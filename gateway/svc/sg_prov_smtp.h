/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SMTP backend's provider (svc/sg_prov_smtp.c) beyond the table: what
 * the runtime's SMTP glue (app/sg_app_smtp.c) asks of an account and a job,
 * since an SMTP attempt is a message on a session, not an HTTP request.
 * Pure: no I/O.
 */
#ifndef SG_PROV_SMTP_H
#define SG_PROV_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smtpc/sg_smtpc_proto.h"
#include "svc/sg_provider.h"

/* How long a lane waits after a 4.7.x (throttling) reply when the
 * configuration names nothing else: Exchange counts messages per minute. */
#define SG_PROV_SMTP_THROTTLE_MS 60000
/* A mailbox over its daily quota (5.2.0 SubmissionQuotaExceeded) waits a day. */
#define SG_PROV_SMTP_QUOTA_MS (24LL * 3600 * 1000)

/* The gateway's codes for jobs SMTP cannot carry. */
#define SG_PROV_SMTP_ERR_LINE "SENDGATE_LINE_TOO_LONG" /* a line over 998 octets */
/* HVE: a recipient outside the account's accepted_domains. */
#define SG_PROV_SMTP_ERR_RCPT "SENDGATE_RECIPIENT_NOT_ACCEPTED"

/* Where an account's sessions go and how they sign in. */
typedef struct sg_prov_smtp_target {
  const char *host; /* borrowed from the account state */
  uint16_t port;
  sg_smtpc_auth auth;   /* XOAUTH2 (the runtime's token) or LOGIN (HVE's password) */
  const char *user;     /* LOGIN: the HVE user; XOAUTH2: NULL (the job's sender) */
  const char *password; /* LOGIN */
} sg_prov_smtp_target;

/* The account's target (|st|: the provider's account state). */
void sg_prov_smtp_target_of(const void *st, sg_prov_smtp_target *out);

/* The message of a prepared job: its envelope (borrowed from the job and its
 * state) and the bytes of the RFC 5322 message. */
void sg_prov_smtp_message(const sg_prov_job *pj, sg_smtpc_env *env, const uint8_t **msg,
                          size_t *len);

/*
 * What an SMTP outcome (smtpc/sg_smtpc_classify.h) means for the result and
 * the lane: a SENT message's request_id is the server's final reply ("250
 * 2.0.0 OK <queue id> ..."), the result's provider_request_id;
 * throttling replies (4.7.x, 421) get a Retry-After of the account's
 * throttle pause, so the lane pauses instead of the job backing off alone;
 * a daily quota refusal pauses the mailbox for SG_PROV_SMTP_QUOTA_MS.
 */
void sg_prov_smtp_settle(const void *st, sg_outcome *o);

#endif
