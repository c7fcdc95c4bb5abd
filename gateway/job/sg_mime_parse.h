/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A MIME job turned into structured content, with GMime 3: the same job
 * (id, account, sender, reply stream, metadata, deadlines: every field that
 * is not content), with the subject, bodies, attachments, reply-to and X-
 * headers taken out of its RFC 5322 message. Independent of any backend: ACS
 * sends the result as its JSON (svc/sg_prov_acs.c); Graph can use it for
 * messages above its single-request size.
 *
 * What comes out:
 *  - subject: RFC 2047 decoded to UTF-8, unfolded.
 *  - text_body / html_body: the first text/plain and text/html part that is
 *    not an attachment (in multipart/alternative, related, mixed, nested),
 *    transfer encoding undone (base64, quoted-printable, uuencode), charset
 *    converted to UTF-8.
 *  - attachments: every other leaf part, nothing dropped (a second text/plain
 *    body in a multipart/mixed is an attachment too): the file name (RFC 2231
 *    or 2047 decoded; "attachment-N.ext" when the part has none), the media
 *    type ("type/subtype"), the decoded bytes, the Content-ID without <>,
 *    and the inline flag for a part with a Content-ID that sits in a
 *    multipart/related or is referenced as cid: from the HTML body. An
 *    attached message (message/rfc822) is one attachment, "*.eml".
 *  - reply_to: the Reply-To addresses with their decoded display names.
 *  - headers: the message's X- header fields (decoded, unfolded), in order.
 *  - to / cc / bcc: the job's envelope when it has one (its to, cc and bcc
 *    together, as for Graph, job/sg_mime_envelope.h): an envelope recipient
 *    named in a To field goes to |to|, else in a Cc field to |cc|, else to
 *    |bcc|, with the display name of the field; addresses of the fields that
 *    are not in the envelope receive nothing. Without an envelope, the To,
 *    Cc and Bcc fields.
 *  - mime is NULL, mime_len 0.
 * What cannot be mapped is refused with an SG_JOBERR_* code (sg_job_codec.h):
 * MIME_MALFORMED, MIME_CHARSET, MIME_ENCODING, MIME_TOO_DEEP,
 * MIME_TOO_MANY_PARTS, MIME_HEADER_LIMIT, MIME_ENCRYPTED, MIME_SIGNED; and
 * NUL (a NUL byte in a text body), CONTROL_CHAR (in the subject, a file name
 * or an X- header), BAD_UTF8, BAD_ADDRESS (Reply-To), NO_RECIPIENTS.
 *
 * Memory: the message is parsed from the job's bytes in place (no copy);
 * part contents are read from them when decoded, so the result holds the
 * decoded bodies and attachments (at most about the MIME size) plus small
 * strings. Pure: no I/O.
 */
#ifndef SG_MIME_PARSE_H
#define SG_MIME_PARSE_H

#include <stddef.h>

#include "job/sg_job.h"
#include "job/sg_job_codec.h"

/* Bounds on what a message may hold. */
typedef struct sg_mime_limits {
  size_t max_depth;        /* nesting of multiparts and attached messages (top = 0) */
  size_t max_parts;        /* parts of every kind, attached messages' included */
  size_t max_headers;      /* header fields of one part */
  size_t max_header_bytes; /* one header field's raw value */
  size_t max_x_headers;    /* X- fields of the message kept in |headers| */
} sg_mime_limits;

#define SG_MIME_MAX_DEPTH 16
#define SG_MIME_MAX_PARTS 256
#define SG_MIME_MAX_HEADERS 1000
#define SG_MIME_MAX_HEADER_BYTES (64u * 1024u)
#define SG_MIME_MAX_X_HEADERS 50

/* Fills |l| with the SG_MIME_MAX_* defaults above. */
void sg_mime_limits_default(sg_mime_limits *l);

/* A structured view of a MIME job and the storage it owns. */
typedef struct sg_mime_job {
  sg_job job; /* the view; its non-content fields are borrowed from the MIME job */
  /* private */
  sg_job_addr *addrs;
  sg_job_attachment *atts;
  sg_job_header *hdrs;
  void **own; /* strings and contents (GLib allocations) */
  size_t n_own, cap_own;
} sg_mime_job;

/*
 * Turns |mime_job| (mime_len > 0; borrowed, and it must outlive |*out|)
 * into |*out|. |lim| NULL means the defaults. Returns 0, or SG_ERR_INVAL
 * with |err| filled (|*out| is then empty; sg_mime_job_free is harmless).
 * Free |*out| with sg_mime_job_free either way.
 */
int sg_mime_to_job(sg_mime_job *out, const sg_job *mime_job, const sg_mime_limits *lim,
                   sg_job_error *err);

/* Releases what |m| owns; |m| is empty afterwards. NULL-safe. */
void sg_mime_job_free(sg_mime_job *m);

#endif
