/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A received SMTP message as a MailJob (proto/sendgate/v1/mail.proto): `mime`
 * is the message with a Received: trace field (RFC 5321 4.4) put in front,
 * `to` the envelope recipients (RCPT TO; the gateway sends the MIME to
 * exactly those), `sender` the envelope sender (MAIL FROM), `account` the
 * authenticated user's, `reply_stream` unset (the default results stream).
 * Its metadata (echoed in the MailResult) holds what a delivery status
 * notification needs (smtp/sg_smtp_dsn.h): the envelope, the original header
 * section, kept small. Pure: the caller passes the id and the time.
 */
#ifndef SG_SMTP_JOB_H
#define SG_SMTP_JOB_H

#include <stdint.h>

#include "core/sg_mem.h"
#include "smtp/sg_smtp_session.h"

/* Metadata keys of an smtpd job (all values valid UTF-8, no NUL). */
#define SG_SMTP_META_CLIENT "smtp_client" /* client IP */
#define SG_SMTP_META_USER "smtp_user"     /* authenticated user (absent: relay) */
#define SG_SMTP_META_FROM "smtp_from"     /* envelope sender (MAIL FROM) */
/* Envelope recipients, one per line (LF-separated); only those that fit in
 * SG_SMTP_META_RCPTS_MAX bytes. */
#define SG_SMTP_META_RCPTS "smtp_rcpts"
#define SG_SMTP_META_NRCPTS "smtp_rcpt_count" /* all envelope recipients, decimal */
/* The message's header section (the Received: field included), cut at a
 * field boundary to SG_SMTP_META_HEADERS_MAX bytes; bytes that are not
 * UTF-8, and control characters other than HT, CR and LF, become '?'. */
#define SG_SMTP_META_HEADERS "smtp_headers"
/* "1": the message is itself a notification (Auto-Submitted: auto-replied or
 * a delivery-status report): it never gets one back. */
#define SG_SMTP_META_AUTO "smtp_auto"
/* "1" on a delivery status notification's own job. */
#define SG_SMTP_META_DSN "smtp_dsn"
/* On a notification's job: the id of the job it reports on. */
#define SG_SMTP_META_DSN_OF "smtp_dsn_of"

/* Caps that keep a job's (and its result's) metadata small. */
#define SG_SMTP_META_RCPTS_MAX 2048
#define SG_SMTP_META_HEADERS_MAX 2048

/* Length of the job ids sg_smtp_job_new_id writes, without the NUL. */
#define SG_SMTP_JOB_ID_LEN 29

/* Writes a fresh random job id ("smtp-" + 24 hex digits) into |out|. */
void sg_smtp_job_new_id(char out[SG_SMTP_JOB_ID_LEN + 1]);

/*
 * Appends the Received: field for |m| to |out|: the client's EHLO name and
 * IP |client_ip|, this server |host|, the protocol (ESMTP, ESMTPS, ESMTPA,
 * ESMTPSA per RFC 3848), the queue id |id| and the date |unix_s|. No
 * recipient is named in it (a Bcc recipient would show).
 */
void sg_smtp_job_received(sg_buf *out, const sg_smtp_message *m, const char *client_ip,
                          const char *host, const char *id, int64_t unix_s);

/* Appends the serialized MailJob for |m| (see above) to |out|. */
void sg_smtp_job_build(sg_buf *out, const sg_smtp_message *m, const char *id, const char *client_ip,
                       const char *host, int64_t now_ms);

#endif
