/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Azure Communication Services Email, the gateway's side (microsoft-apis.md
 * §4, §5): the body of POST /emails:send for one validated job, its exact
 * size, the job's stable Operation-Id, the request paths, the request headers
 * (HMAC or Entra bearer), and the classification of send and poll answers.
 * Pure: no I/O, no clock (dates and "now" are arguments); the JSON and the
 * base64 of attachments are written straight into the caller's buffer.
 * sg_acs.c builds requests, sg_acs_classify.c classifies answers.
 *
 * Body (spec 2023-03-31 / 2025-09-01):
 *   {"senderAddress":..,"content":{"subject":..,"plainText":..,"html":..},
 *    "recipients":{"to":[{"address":..,"displayName":..}],"cc":[..],"bcc":[..]},
 *    "replyTo":[..],"attachments":[{"name":..,"contentType":..,
 *    "contentInBase64":..,"contentId":..}],"headers":{"X-A":"v"},
 *    "userEngagementTrackingDisabled":true}
 * plainText / html only when non-empty; empty arrays and objects are left
 * out; displayName only when non-empty; contentId only for inline parts with
 * a content id and only for api-version 2025-09-01 or later (older schemas
 * have no such member; there an inline part goes as a plain attachment). A
 * repeated header name (ASCII case-insensitive) keeps its first value, as a
 * JSON object cannot carry both. Validation (recipient counts, sizes,
 * addresses) is the job codec's (sg_job_check_backend).
 *
 * What the runtime does with an sg_acs_outcome (its policy, not this file):
 *  ACCEPTED     the service took the message (202, or 409 for a repeated
 *               Operation-Id). Poll operation_location, or the path from
 *               sg_acs_poll_path when it is empty or on another origin, after
 *               retry_after_ms when given; with polling switched off publish
 *               SENT (CONTRACT.md §2).
 *  SENT         the operation Succeeded: publish SENT.
 *  POLL_AGAIN   NotStarted/Running: poll again after retry_after_ms (always
 *               set; 1 s when the service gave none). Not a failed attempt.
 *  FAILED       publish FAILED with code, message, http_status, request_id.
 *  RETRY        as for Graph (sg_classify.h): after retry_after_ms when
 *               has_retry_after, else full-jitter backoff; |throttled| pauses
 *               the resource lane (sends) or the poll budget (polls) and does
 *               not count as a failed attempt. A resend carries the same
 *               Operation-Id, so the service deduplicates it: for ACS the
 *               |ambiguous| flag of sg_classify_transport needs no resend
 *               policy.
 *  AUTH_REFRESH 401: with Entra auth invalidate the token and retry once;
 *               with an access key nothing can be refreshed (a fresh x-ms-date
 *               is signed on every attempt): retry once, then FAILED.
 */
#ifndef SG_ACS_H
#define SG_ACS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sg_http.h"
#include "core/sg_mem.h"
#include "job/sg_job.h"
#include "svc/sg_acs_hmac.h"
#include "svc/sg_classify.h"

/* The first api-version whose attachments carry "contentId". */
#define SG_ACS_CONTENT_ID_API_VERSION "2025-09-01"
/* Scope of Entra tokens for ACS (double slash, as every Azure SDK sends it; §5.2). */
#define SG_ACS_ENTRA_SCOPE "https://communication.azure.com//.default"
/* Content type ACS requires for an attachment whose job gave none. */
#define SG_ACS_DEFAULT_ATTACHMENT_TYPE "application/octet-stream"
/* Delay before the next poll when a non-final status came without retry-after. */
#define SG_ACS_DEFAULT_POLL_MS 1000
/* A UUID in its 8-4-4-4-12 text form, with the NUL. */
#define SG_ACS_UUID_LEN 37

typedef struct sg_acs_build_opts {
  bool user_engagement_tracking_disabled; /* writes "userEngagementTrackingDisabled":true */
} sg_acs_build_opts;

/*
 * Appends the emails:send body for |job| to |body|. |api_version| decides
 * whether "contentId" may be written; |opts| may be NULL (defaults). All
 * borrowed. On success exactly sg_acs_request_size() bytes were appended.
 * Returns 0 or one of: SG_ERR_INVAL (NULL job, api_version or body).
 */
int sg_acs_build(const sg_job *job, const char *api_version, const sg_acs_build_opts *opts,
                 sg_buf *body);

/*
 * True when |content_type| (parameters after ';' ignored, ASCII
 * case-insensitive) is on ACS's attachment allow-list (microsoft-apis.md
 * §4.2: about 60 types: Office, PDF, images, audio, video, archives, text,
 * calendar, JSON, XML, HTML); ACS refuses others with 400 (sg_acs_types.c).
 */
bool sg_acs_type_allowed(const char *content_type);

/*
 * The exact number of bytes sg_acs_build() would append, computed without
 * building (so oversize jobs are refused cheaply). 0 for a NULL job or
 * api_version.
 */
size_t sg_acs_request_size(const sg_job *job, const char *api_version,
                           const sg_acs_build_opts *opts);

/*
 * True when |api_version| ("2025-09-01", "2024-07-01-preview") is dated on or
 * after SG_ACS_CONTENT_ID_API_VERSION.
 */
bool sg_acs_has_content_id(const char *api_version);

/*
 * Writes the job's Operation-Id into |out|: a name-based UUID (RFC 4122
 * version 5: SHA-1 over the sendgate namespace UUID
 * 6b1d5e0c-3a9f-4b21-8e47-d23570c419ab and the job id, as uuid5() computes it), lower
 * case. The same for every attempt of a job, in every process; different for
 * different ids. |job_id| is borrowed.
 * Returns 0 or one of: SG_ERR_INVAL (NULL argument), SG_ERR_CRYPTO.
 */
int sg_acs_operation_id(const char *job_id, char out[SG_ACS_UUID_LEN]);

/*
 * Writes a random (version 4) UUID into |out|, e.g. for
 * x-ms-client-request-id. Returns 0 or one of: SG_ERR_CRYPTO.
 */
int sg_acs_random_uuid(char out[SG_ACS_UUID_LEN]);

/*
 * Appends "{base_path}/emails:send?api-version={api_version}" to |out|.
 * |base_path| is sg_acs_conn.base_path ("" or "/path"; NULL means "").
 * Returns 0 or one of: SG_ERR_INVAL (api_version empty or not made of
 * letters, digits, '-' and '.').
 */
int sg_acs_send_path(sg_buf *out, const char *base_path, const char *api_version);

/*
 * Appends "{base_path}/emails/operations/{operation_id}?api-version=..." to
 * |out|. Returns 0 or one of: SG_ERR_INVAL (bad api_version, or an operation
 * id that is empty or not made of letters, digits, '-', '_' and '.').
 */
int sg_acs_poll_path(sg_buf *out, const char *base_path, const char *operation_id,
                     const char *api_version);

/*
 * Extracts the path and query of an Operation-Location URL when it points at
 * the same origin as |conn| (scheme and authority, ASCII case-insensitive),
 * appending them to |out| verbatim (the spec's "//emails/..." included).
 * Returns 0 or one of: SG_ERR_INVAL (another origin, not an absolute http(s)
 * URL, or CR/LF/space/control bytes in it).
 */
int sg_acs_location_path(sg_buf *out, const sg_acs_conn *conn, const char *location);

/* Request headers: at most content-type, operation-id, x-ms-client-request-id,
 * x-ms-date, x-ms-content-sha256, authorization. */
#define SG_ACS_MAX_REQ_HEADERS 6

/*
 * The headers of one ACS request and the storage they point into. Fill with
 * sg_acs_headers_fill, pass |h| and |n| to the HTTP/2 pool (which copies
 * them), then sg_acs_headers_free.
 */
typedef struct sg_acs_headers {
  sg_http_header h[SG_ACS_MAX_REQ_HEADERS];
  size_t n;
  /* storage */
  char operation_id[SG_ACS_UUID_LEN];
  char client_request_id[SG_ACS_UUID_LEN];
  char date[32];
  sg_acs_signed sig;
  sg_buf bearer; /* "Bearer <token>" */
} sg_acs_headers;

/* The arguments of sg_acs_headers_fill; all borrowed. */
typedef struct sg_acs_req {
  const char *method;         /* "POST" or "GET" */
  const char *path_and_query; /* exactly as sent (sg_acs_send_path / sg_acs_poll_path) */
  const char *authority;      /* Host / :authority exactly as sent (sg_acs_conn.authority) */
  const void *body;           /* the exact bytes sent; NULL with body_len 0 for GET */
  size_t body_len;
  const char *date;              /* x-ms-date, IMF-fixdate (sg_time_imf); needed for HMAC */
  const char *operation_id;      /* Operation-Id for sends; NULL for polls */
  const char *client_request_id; /* x-ms-client-request-id; NULL: none */
  /* Access-key auth: the decoded key (sg_acs_conn.key). Ignored when |bearer_token| is set. */
  const unsigned char *key;
  size_t key_len;
  const char *bearer_token; /* Entra token for SG_ACS_ENTRA_SCOPE; NULL: HMAC */
} sg_acs_req;

/*
 * Fills |out| with the headers for |req|: content-type: application/json
 * (when there is a body), operation-id, x-ms-client-request-id (when given),
 * then either x-ms-date, x-ms-content-sha256 and the HMAC-SHA256
 * authorization signed over the exact body, path and authority, or
 * "authorization: Bearer <token>". |out| owns copies of everything the
 * headers point to. Free it with sg_acs_headers_free even on failure.
 * Returns 0 or one of: SG_ERR_INVAL (missing method, path or authority; no
 * date or key for HMAC; an id longer than a UUID; CR/LF in the token),
 * SG_ERR_CRYPTO.
 */
int sg_acs_headers_fill(sg_acs_headers *out, const sg_acs_req *req);
/* Releases what sg_acs_headers_fill allocated. NULL-safe. */
void sg_acs_headers_free(sg_acs_headers *hs);

/* --- Classification (sg_acs_classify.c) --- */

typedef enum {
  SG_ACS_ACCEPTED = 0, /* send: accepted; poll it (or SENT when polling is off) */
  SG_ACS_SENT,         /* poll: Succeeded */
  SG_ACS_POLL_AGAIN,   /* poll: NotStarted or Running */
  SG_ACS_FAILED,       /* permanent */
  SG_ACS_RETRY,        /* transient: send (or poll) again later */
  SG_ACS_AUTH_REFRESH  /* 401 */
} sg_acs_kind;

/* Caps, NUL included. Longer operation ids are dropped (they go into paths),
 * longer locations too (a cut URL is a wrong URL). */
#define SG_ACS_OPERATION_ID_MAX 72
#define SG_ACS_LOCATION_MAX 1024
#define SG_ACS_STATUS_MAX 16

/*
 * The outcome of one ACS answer. |base| has the fields the runtime already
 * knows from Graph (http_status, throttled, has_retry_after/retry_after_ms,
 * code, message, request_id = x-ms-request-id), and base.kind is |kind|
 * folded onto sg_outcome_kind: ACCEPTED -> ACCEPTED, POLL_AGAIN -> PENDING
 * (with a retry_after, not throttled), the rest alike, so the runtime's one
 * state machine (app/sg_attempt.h) acts on base alone.
 */
typedef struct sg_acs_outcome {
  sg_acs_kind kind;
  sg_outcome base;
  /* From the body "id", else the operation-id header; "" when neither is a
   * valid id (the runtime then uses the one it sent). */
  char operation_id[SG_ACS_OPERATION_ID_MAX];
  char operation_location[SG_ACS_LOCATION_MAX]; /* verbatim; "" when absent */
  char status[SG_ACS_STATUS_MAX];               /* body "status" as given, "" when none */
} sg_acs_outcome;

/* Bodies longer than this are not parsed (ACS answers are < 1 KB). */
#define SG_ACS_CLASSIFY_MAX_BODY (64u * 1024u)

/*
 * Classifies an emails:send answer: |status|, the response headers |h| (|nh|
 * entries), |body| (|len| bytes), all borrowed; |now_unix_ms| is the wall
 * clock for a Retry-After given as an HTTP-date. Fills |*out|.
 *  2xx -> ACCEPTED (FAILED when the body already says Failed or Canceled),
 *  409 -> ACCEPTED (the Operation-Id was seen before), 401 -> AUTH_REFRESH,
 *  429 -> RETRY throttled, 503 -> RETRY (throttled with a Retry-After), other
 *  5xx and 408 -> RETRY, other statuses -> FAILED. code is the
 *  x-ms-error-code header or the body's error.code; message error.message.
 * Returns 0 or one of: SG_ERR_INVAL (NULL |out|, or NULL |h|/|body| with a
 * non-zero count).
 */
int sg_classify_acs_send(int status, const sg_http_header *h, size_t nh, const char *body,
                         size_t len, int64_t now_unix_ms, sg_acs_outcome *out);

/*
 * Classifies a GET /emails/operations/{id} answer (arguments as above).
 *  200 with status Succeeded -> SENT; Failed or Canceled -> FAILED with the
 *  body's error.code/message (code "Canceled" or "EmailSendFailed" when the
 *  body has none); NotStarted or Running -> POLL_AGAIN after Retry-After
 *  (SG_ACS_DEFAULT_POLL_MS when absent); any other 2xx body -> RETRY.
 *  429 -> RETRY throttled, 401 -> AUTH_REFRESH, 404 -> FAILED, 5xx and 408
 *  -> RETRY, other statuses -> FAILED.
 * Returns 0 or one of: SG_ERR_INVAL.
 */
int sg_classify_acs_poll(int status, const sg_http_header *h, size_t nh, const char *body,
                         size_t len, int64_t now_unix_ms, sg_acs_outcome *out);

/* "ACCEPTED", "SENT", "POLL_AGAIN", "FAILED", "RETRY", "AUTH_REFRESH". Never NULL. */
const char *sg_acs_kind_name(sg_acs_kind k);

#endif
