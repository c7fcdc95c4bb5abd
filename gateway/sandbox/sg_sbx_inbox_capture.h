/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The inbox's copy of an accepted message: what a route's validator
 * recorded (sg_sbx_msg.h, no content) plus the content read again from the
 * request: Graph's JSON (message.body, attachments' contentBytes) or its
 * base64 MIME, ACS's JSON (content.plainText / html, contentInBase64), or
 * the RFC 5322 message an SMTP host took (parsed with GMime through
 * job/sg_mime_parse.h). Header fields are the message's own for MIME and
 * SMTP, and for JSON the ones the provider would write (From, To, Cc,
 * Reply-To, Subject) followed by the custom ones. A message GMime cannot
 * read shows its raw text. Pure: no I/O.
 */
#ifndef SG_SBX_INBOX_CAPTURE_H
#define SG_SBX_INBOX_CAPTURE_H

#include <stddef.h>

#include "sandbox/sg_sbx_inbox.h"
#include "sandbox/sg_sbx_msg.h"

/* Header fields kept per message, and bytes kept of one field's value. */
#define SG_SBX_INBOX_MAX_HEADERS 100
#define SG_SBX_INBOX_MAX_HEADER_VALUE 2048

/*
 * A new inbox message (not yet stored) for |m| (borrowed; m->api says which
 * kind of |len| bytes |body| is: "graph" JSON or, with m->mime, base64
 * MIME; "acs" JSON; "smtp"/"smtp-hve" the message itself). |request_id| is
 * the answer's id (may be NULL). Content is kept in order (text, HTML,
 * attachments) while it fits in |max_bytes|; what does not is dropped and
 * content_cut set.
 */
sg_sbx_inbox_msg *sg_sbx_inbox_capture(const sg_sbx_msg *m, const char *request_id,
                                       const void *body, size_t len, size_t max_bytes);

#endif
