/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Delivery status notifications (RFC 3464) for messages smtpd accepted that
 * the gateway then could not send: whether a result calls for one, the
 * notification itself (multipart/report; report-type=delivery-status: a
 * human-readable part, a message/delivery-status part, the original header
 * section as text/rfc822-headers), and the MailJob that sends it back
 * through the gateway to the envelope sender. Everything comes from the
 * result (its metadata is the job's, see smtp/sg_smtp_job.h) and the
 * caller's clock. Text copied from the message or the provider goes into
 * header fields only with control characters removed and long lines folded,
 * so neither can add a field or a MIME part. Pure; the Redis side is
 * smtp/sg_smtpd_dsn.c.
 */
#ifndef SG_SMTP_DSN_H
#define SG_SMTP_DSN_H

#include <stdint.h>

#include "core/sg_mem.h"
#include "job/sg_result.h"

/* The job id of the notification for job |job_id|: the gateway's
 * idempotency ledger drops a second notification for the same job. */
#define SG_SMTP_DSN_ID_PREFIX "dsn-"

/* What the notification is built from. */
typedef struct sg_smtp_dsn_in {
  const sg_result *result;   /* a FAILED, EXPIRED or INVALID result of an smtpd job */
  const char *bounce_sender; /* the mailbox the notification comes from */
  const char *reporting_mta; /* this server's name (smtp.hostname) */
  int64_t now_ms;            /* wall clock, for Date: */
} sg_smtp_dsn_in;

/*
 * Decides whether result |r| gets a notification when |bounce_sender| sends
 * them (NULL or "" = notifications are off). Returns NULL when it does, or
 * a short reason why not (for logs): "off", "not smtpd's", "sent", "status",
 * "no sender", "null sender", "notification" (a notification's own result,
 * or a message that is one itself).
 */
const char *sg_smtp_dsn_skip(const sg_result *r, const char *bounce_sender);

/* The RFC 3463 status code for |r|: 4.4.7 for EXPIRED, a specific 5.x.x for
 * a few INVALID reasons, otherwise 5.0.0 (static string). */
const char *sg_smtp_dsn_status(const sg_result *r);

/* The value of metadata |key| in |r|, or NULL. */
const char *sg_smtp_dsn_meta(const sg_result *r, const char *key);

/*
 * Appends the notification for |in| (an RFC 5322 message with CRLF line
 * ends) to |out|: From: |bounce_sender|, To: the envelope sender, Subject:
 * "Undelivered Mail Returned to Sender", Auto-Submitted: auto-replied, and
 * the three parts. Call only when sg_smtp_dsn_skip said NULL.
 */
void sg_smtp_dsn_build(sg_buf *out, const sg_smtp_dsn_in *in);

/*
 * Appends the serialized MailJob that sends the notification to |out|: id
 * SG_SMTP_DSN_ID_PREFIX + the failed job's id, sender |bounce_sender|, `to`
 * the envelope sender (a MIME job's recipients are its envelope), `mime`
 * the notification, metadata smtp_dsn=1. The default account and backend.
 */
void sg_smtp_dsn_job(sg_buf *out, const sg_smtp_dsn_in *in);

#endif
