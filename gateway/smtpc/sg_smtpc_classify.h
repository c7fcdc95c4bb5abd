/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What an SMTP reply, or the loss of the connection, means for a message,
 * in the outcome type the job runtime already uses for Graph and ACS
 * (svc/sg_classify.h), so the SMTP backend plugs into the same policy:
 *  2xx (the final reply after the dot)    SENT.
 *  4xx                                    RETRY; 4.7.x, 421 and 451 4.7.x
 *                                         are the server throttling us:
 *                                         |throttled| (pause the lane).
 *  5xx                                    FAILED, code = the enhanced code
 *                                         ("5.7.30", "5.2.252"), else
 *                                         "SMTP<ddd>"; message = the text.
 *  5.2.0 ...SubmissionQuotaExceeded...    RETRY throttled quota_exceeded:
 *                                         the mailbox's daily recipient
 *                                         budget is spent (Exchange blocks
 *                                         it for about 24 h, apis §2.3), as
 *                                         Graph's ErrorSubmissionQuotaExceeded.
 *                                         5.2.0 is generic, so this is the one
 *                                         decision that reads the text.
 *  535 5.7.3 to AUTH XOAUTH2              AUTH_REFRESH: a bad or expired
 *                                         token (get a new one, retry once).
 *  transport failure                      RETRY; ambiguous when it happened
 *                                         after the final "." was sent and
 *                                         before its reply (the message may
 *                                         have been accepted).
 * http_status carries the SMTP reply code (0 for transport failures).
 * Pure.
 */
#ifndef SG_SMTPC_CLASSIFY_H
#define SG_SMTPC_CLASSIFY_H

#include <stdbool.h>

#include "smtpc/sg_smtpc_reply.h"
#include "svc/sg_classify.h"

/* The step of a session a reply answers (or where the connection broke). */
typedef enum sg_smtpc_stage {
  SG_SMTPC_STAGE_CONNECT = 0, /* TCP connect, TLS handshake */
  SG_SMTPC_STAGE_GREETING,
  SG_SMTPC_STAGE_EHLO,
  SG_SMTPC_STAGE_STARTTLS,
  SG_SMTPC_STAGE_AUTH,
  SG_SMTPC_STAGE_RSET,
  SG_SMTPC_STAGE_MAIL,
  SG_SMTPC_STAGE_RCPT,
  SG_SMTPC_STAGE_DATA, /* the 354 to DATA */
  SG_SMTPC_STAGE_BODY, /* sending the message */
  SG_SMTPC_STAGE_DOT,  /* the final reply after CRLF.CRLF */
  SG_SMTPC_STAGE_QUIT,
} sg_smtpc_stage;

/* "connect", "greeting", "EHLO", ... Never NULL. */
const char *sg_smtpc_stage_name(sg_smtpc_stage s);

/*
 * Classifies reply |r| (borrowed) received at |stage|; |xoauth2| says whether
 * the session authenticates with XOAUTH2. A 2xx/3xx reply at a stage other
 * than DOT is not an outcome; it gives SENT (callers only classify the final
 * reply or a refusal). Fills |*out| (message prefixed with the stage name).
 */
void sg_smtpc_classify_reply(sg_smtpc_stage stage, const sg_smtpc_reply *r, bool xoauth2,
                             sg_outcome *out);

/*
 * Classifies a failure without a reply: |err| (SG_ERR_*, libuv code) at
 * |stage|. RETRY, ambiguous when |stage| is DOT. code = the error's name.
 */
void sg_smtpc_classify_transport(sg_smtpc_stage stage, int err, sg_outcome *out);

/*
 * A refusal the client makes itself (a mechanism or extension the server
 * lacks, a protocol violation): |kind| and the static |code| and |message|.
 */
void sg_smtpc_classify_local(sg_outcome_kind kind, const char *code, const char *message,
                             sg_outcome *out);

#endif
