/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Renders a structured job (job/sg_job.h) as an RFC 5322 / MIME message for
 * the SMTP backend: From (the sender), To, Cc, Reply-To, Subject, Date,
 * Message-ID, MIME-Version and the job's X- headers; non-ASCII display names
 * and unstructured values as RFC 2047 encoded-words (UTF-8, B); bodies in
 * quoted-printable (text, html) or base64 (attachments); multipart/
 * alternative for text + html, multipart/related for inline parts with a
 * Content-ID, multipart/mixed for attachments; attachment names with RFC
 * 2231 (continuations when long). Every line is at most 78 octets except a
 * header value that cannot be folded (an address over 78; never over 998).
 * Bcc never appears in the headers (it is only in the envelope).
 *
 * Deterministic: Message-ID and MIME boundaries derive from the job id
 * (SHA-256), so a retried job renders byte for byte the same, and receivers
 * that deduplicate on Message-ID see one message. Boundaries ("=_sg...")
 * cannot occur in quoted-printable or base64 text.
 *
 * Why our own code and not GMime (the project's MIME parser): rendering is a
 * small, closed set of shapes whose exact bytes we want to control (line
 * limits, deterministic boundaries, no allocation per header object, no
 * GObject in the send path); the tests check the output with an independent
 * parser, Python's email package. Pure: no I/O, no clock (the date is an
 * argument).
 */
#ifndef SG_MIME_RENDER_H
#define SG_MIME_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "core/sg_mem.h"
#include "job/sg_job.h"

typedef struct sg_mime_render_opts {
  int64_t date_unix_ms; /* the Date: header */
  /* Right-hand side of the Message-ID; NULL or "": the sender's domain. */
  const char *msgid_domain;
} sg_mime_render_opts;

/*
 * Appends the message for |job| (borrowed) to |out|. Returns 0 or, with a
 * one-line reason in |err|: SG_ERR_INVAL (a MIME job, which goes as it is;
 * no sender; a header name that is not an X- field name; a control
 * character in a header value, a name or an address; a content type that is
 * not type/subtype; an inline part without a Content-ID is treated as an
 * attachment, not an error).
 */
int sg_mime_render(const sg_job *job, const sg_mime_render_opts *o, sg_buf *out, char *err,
                   size_t errcap);

#endif
