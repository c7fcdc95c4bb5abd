/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Microsoft Graph sendMail request building: the URL path and the body of
 * POST /v1.0/users/{mailbox}/sendMail for one validated job. Pure: no I/O, no
 * allocation beyond the caller's sg_buf. The JSON and the base64 of
 * attachments are written straight into the request buffer.
 *
 * Body shapes (docs/microsoft-apis.md §1.2-§1.5):
 *  - structured jobs: application/json
 *      {"message":{"subject":..,"body":{"contentType":"html"|"text","content":..},
 *       "toRecipients":[..],"ccRecipients":[..],"bccRecipients":[..],"replyTo":[..],
 *       "internetMessageHeaders":[..],"attachments":[..]},"saveToSentItems":false}
 *    Empty arrays are left out (Graph rejects an empty internetMessageHeaders);
 *    a recipient's "name" only when non-empty; "saveToSentItems" only when
 *    false, Graph's default being true. When a job has both an HTML and a text
 *    body, the HTML one is sent (Graph's itemBody holds one content).
 *  - MIME jobs (mime_len > 0): text/plain, the body is the base64 of the MIME,
 *    unwrapped (the doc example wraps at 76 columns; both are valid base64).
 *    Graph has no way to say saveToSentItems for MIME: such messages follow
 *    the mailbox default (saved).
 * Validation (recipient counts, X- header names, sizes) is the job codec's.
 */
#ifndef SG_GRAPH_H
#define SG_GRAPH_H

#include <stddef.h>

#include <stdint.h>

#include "core/sg_mem.h"
#include "job/sg_job.h"
#include "json/sg_json_emit.h"

/*
 * Graph's cap on one request (observed 413 RequestEntityTooLarge above about
 * 4 MB, microsoft-apis.md §1.3/§1.5). Compare sg_graph_request_size() with it.
 */
#define SG_GRAPH_MAX_REQUEST_BYTES (4u * 1024u * 1024u)

#define SG_GRAPH_CONTENT_TYPE_JSON "application/json"
#define SG_GRAPH_CONTENT_TYPE_MIME "text/plain"

/*
 * Appends the sendMail request body for |job| (borrowed) to |body| and stores
 * the matching Content-Type (a static string) in |*content_type|. On success
 * exactly sg_graph_request_size(job) bytes were appended. One pass: |body|
 * grows as needed, so a caller that knows the size (or a close guess)
 * reserves it first.
 * Returns 0 or one of: SG_ERR_INVAL (a NULL argument).
 */
int sg_graph_build(const sg_job *job, sg_buf *body, const char **content_type);

/*
 * Returns the exact number of bytes sg_graph_build() would append for |job|,
 * without building anything, so oversize jobs are refused cheaply.
 */
size_t sg_graph_request_size(const sg_job *job);

/*
 * Appends the request path "/v1.0/users/{mailbox}/sendMail" to |out|, with
 * |mailbox| percent-encoded (everything except RFC 3986 unreserved characters
 * and '@'). |mailbox| is borrowed.
 * Returns 0 or one of: SG_ERR_INVAL (NULL or empty mailbox, "." or "..").
 */
int sg_graph_path(sg_buf *out, const char *mailbox);

/* Appends "/v1.0/users/{mailbox}" (encoded as sg_graph_path does) to |out|.
 * Returns 0 or one of: SG_ERR_INVAL (as sg_graph_path). */
int sg_graph_user_path(sg_buf *out, const char *mailbox);

/*
 * Emits the message resource of structured |job| (the object sendMail wraps
 * in "message", and the body of a draft), with the attachments whose |only|
 * flag is set (|only| NULL: every attachment; an array of n_attachments).
 */
void sg_graph_emit_message(sg_jemit *e, const sg_job *job, const uint8_t *only);

/* Emits one fileAttachment object (the body of POST .../attachments). */
void sg_graph_emit_attachment(sg_jemit *e, const sg_job_attachment *a);

#endif
