/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Job codec: protobuf bytes -> a validated sg_job view, and back (for
 * `sendgate send`, the load generator and tests). The only place besides
 * sg_result that touches protobuf-c.
 *
 * Validation happens in two steps: sg_job_decode checks what holds for every
 * backend (id, sender, recipients, addresses, UTF-8, CR/LF, headers, MIME vs
 * structured content); sg_job_check_backend then checks the chosen backend's
 * own rules (Graph: 500 recipients, the 4 MB request cap; ACS: 50 recipients,
 * subject and body required, 10 MB, structured content only: a MIME job is
 * turned into structured content first, job/sg_mime_parse.h). Every refusal carries one of the
 * SG_JOBERR_* codes below, which go into MailResult.error_code unchanged.
 */
#ifndef SG_JOB_CODEC_H
#define SG_JOB_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sg_mem.h"
#include "job/sg_job.h"

/* The gateway's own error codes (MailResult.error_code) for INVALID results. */
#define SG_JOBERR_UNDECODABLE "SENDGATE_UNDECODABLE"
#define SG_JOBERR_NO_JOB_FIELD "SENDGATE_NO_JOB_FIELD"
#define SG_JOBERR_BAD_ID "SENDGATE_BAD_ID"
#define SG_JOBERR_BAD_UTF8 "SENDGATE_BAD_UTF8"
#define SG_JOBERR_BAD_BACKEND "SENDGATE_BAD_BACKEND"
#define SG_JOBERR_BAD_PRIORITY "SENDGATE_BAD_PRIORITY"
#define SG_JOBERR_NO_SENDER "SENDGATE_NO_SENDER"
#define SG_JOBERR_NO_RECIPIENTS "SENDGATE_NO_RECIPIENTS"
#define SG_JOBERR_TOO_MANY_RECIPIENTS "SENDGATE_TOO_MANY_RECIPIENTS"
#define SG_JOBERR_BAD_ADDRESS "SENDGATE_BAD_ADDRESS"
#define SG_JOBERR_MIME_AND_CONTENT "SENDGATE_MIME_AND_CONTENT"
#define SG_JOBERR_MIME_UNSUPPORTED "SENDGATE_MIME_UNSUPPORTED"
#define SG_JOBERR_BAD_HEADER "SENDGATE_BAD_HEADER"
#define SG_JOBERR_TOO_MANY_HEADERS "SENDGATE_TOO_MANY_HEADERS"
#define SG_JOBERR_CRLF "SENDGATE_CRLF"
/* A control character other than CR/LF (tab aside) in an address, name, subject, header value
 * or attachment field. */
#define SG_JOBERR_CONTROL_CHAR "SENDGATE_CONTROL_CHAR"
/* A NUL byte inside a text field: it could not be sent as the producer wrote it. */
#define SG_JOBERR_NUL "SENDGATE_NUL"
#define SG_JOBERR_BAD_ATTACHMENT "SENDGATE_BAD_ATTACHMENT"
#define SG_JOBERR_NO_SUBJECT "SENDGATE_NO_SUBJECT"
#define SG_JOBERR_NO_CONTENT "SENDGATE_NO_CONTENT"
#define SG_JOBERR_TOO_LARGE "SENDGATE_TOO_LARGE"
#define SG_JOBERR_UNKNOWN_ACCOUNT "SENDGATE_UNKNOWN_ACCOUNT"
#define SG_JOBERR_UNKNOWN_POOL "SENDGATE_UNKNOWN_POOL"
#define SG_JOBERR_ACCOUNT_BACKEND "SENDGATE_ACCOUNT_BACKEND"
/* The sender is not in its account's allowed_senders. */
#define SG_JOBERR_SENDER_NOT_ALLOWED "SENDGATE_SENDER_NOT_ALLOWED"
/* The reply_stream is outside gateway.reply_stream_prefix (or names a stream of the gateway's). */
#define SG_JOBERR_REPLY_STREAM "SENDGATE_REPLY_STREAM_NOT_ALLOWED"

/* A MIME job that cannot be turned into structured content (job/sg_mime_parse.h). */
/* Not a parsable message, or one the parser would read differently from other software
 * (a multipart without boundary, conflicting Content-* fields, an invalid header name). */
#define SG_JOBERR_MIME_MALFORMED "SENDGATE_MIME_MALFORMED"
/* A text part in a charset that is unknown, or whose bytes are not valid in it; 8-bit text
 * declared as (or defaulting to) US-ASCII that is not UTF-8 either. */
#define SG_JOBERR_MIME_CHARSET "SENDGATE_MIME_CHARSET"
/* A Content-Transfer-Encoding that is not known (7bit, 8bit, binary, base64, quoted-printable,
 * x-uuencode). */
#define SG_JOBERR_MIME_ENCODING "SENDGATE_MIME_ENCODING"
/* Parts nested deeper than the limit (multiparts and attached messages). */
#define SG_JOBERR_MIME_TOO_DEEP "SENDGATE_MIME_TOO_DEEP"
/* More parts than the limit. */
#define SG_JOBERR_MIME_TOO_MANY_PARTS "SENDGATE_MIME_TOO_MANY_PARTS"
/* A part with more header fields than the limit, or a field longer than it. */
#define SG_JOBERR_MIME_HEADER_LIMIT "SENDGATE_MIME_HEADER_LIMIT"
/* S/MIME or PGP encrypted content: it cannot be taken apart and put together again. */
#define SG_JOBERR_MIME_ENCRYPTED "SENDGATE_MIME_ENCRYPTED"
/* S/MIME or PGP signed content: taken apart, the signature would no longer verify. */
#define SG_JOBERR_MIME_SIGNED "SENDGATE_MIME_SIGNED"
/* ACS: an attachment's content type is not one ACS accepts (svc/sg_acs.h). */
#define SG_JOBERR_ATTACHMENT_TYPE "SENDGATE_ATTACHMENT_TYPE"
/* ACS: inline parts (Content-ID) need an api-version with attachment contentId. */
#define SG_JOBERR_INLINE_UNSUPPORTED "SENDGATE_INLINE_UNSUPPORTED"

/* Limits the codec applies. */
#define SG_JOB_ID_MAX 128
#define SG_JOB_MAX_HEADERS 5
#define SG_GRAPH_MAX_RECIPIENTS 500
#define SG_GRAPH_MAX_REQUEST (4u * 1024u * 1024u)
#define SG_ACS_MAX_RECIPIENTS 50
#define SG_ACS_MAX_REQUEST (10u * 1024u * 1024u)

typedef struct sg_job_error {
  const char *code; /* one of SG_JOBERR_* */
  char message[240];
} sg_job_error;

/* A decoded job: owns the protobuf message and the arrays of the view. */
typedef struct sg_job_msg sg_job_msg;

/*
 * Decodes and validates |len| bytes. Returns:
 *   0               valid; |*out| holds the job.
 *   SG_ERR_INVAL    decoded but invalid; |*out| is still set (so the result can
 *                   echo the id, reply stream and metadata) and |err| says why.
 *   SG_ERR_PARSE    not a MailJob at all; |*out| is NULL; |err| is filled.
 */
int sg_job_decode(const uint8_t *data, size_t len, sg_job_msg **out, sg_job_error *err);

/* The view; valid until sg_job_msg_free. */
const sg_job *sg_job_msg_view(const sg_job_msg *m);
void sg_job_msg_free(sg_job_msg *m);

/*
 * A bounded stack of the blocks decoded jobs lived in, kept for the next
 * decodes: a gateway decodes thousands of jobs a second, each into one block
 * of a few KB (past malloc's per-thread cache, so a malloc and a free that
 * walk its bins). Blocks are sized in whole KiB so that jobs of about the
 * same size fit each other's. At most |max_bytes| are kept, none larger than
 * |max_block|. Not thread-safe: one per event loop. Every message decoded
 * with a cache must be freed before the cache.
 */
typedef struct sg_job_msg_cache sg_job_msg_cache;
sg_job_msg_cache *sg_job_msg_cache_new(size_t max_bytes, size_t max_block);
void sg_job_msg_cache_free(sg_job_msg_cache *c);
/* Blocks kept, their bytes, and how many decodes took one. */
typedef struct sg_job_msg_cache_stats {
  size_t blocks, bytes;
  uint64_t reused;
} sg_job_msg_cache_stats;
void sg_job_msg_cache_get_stats(const sg_job_msg_cache *c, sg_job_msg_cache_stats *out);

/* sg_job_decode with the message's first block taken from |c| when one
 * there is large enough; sg_job_msg_free gives it back. |c| may be NULL. */
int sg_job_decode_cached(sg_job_msg_cache *c, const uint8_t *data, size_t len, sg_job_msg **out,
                         sg_job_error *err);

/*
 * Checks the rules of |backend| (GRAPH or ACS; the caller resolves
 * UNSPECIFIED). |request_size| is the size the provider request would have
 * (the service builders compute it). Returns 0 or SG_ERR_INVAL with |err|.
 */
int sg_job_check_backend(const sg_job *job, sg_backend backend, size_t request_size,
                         sg_job_error *err);

/* True when |name| is a custom header name the codec accepts: X- and a token
 * (no blank, control character or colon), 3 to 128 bytes. */
bool sg_job_header_name_ok(const char *name);

/* Serializes |job| as a MailJob into |out| (appended). */
void sg_job_encode(const sg_job *job, sg_buf *out);

#endif
