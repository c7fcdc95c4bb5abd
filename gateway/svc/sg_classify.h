/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Response classification: what a Graph sendMail answer, a transport
 * failure or an Entra token answer means for the job (microsoft-apis.md
 * §1.7, §2.4, §2.6, §3.5). Decisions branch on the HTTP status and the
 * provider's error code, never on message text. Pure: headers, body and the
 * wall clock come in as arguments; hostile or huge bodies are not parsed past
 * a cap and every copied string is bounded, so nothing here can be made to
 * misbehave by a response.
 *
 * What the caller does with an outcome (the scheduler's policy, not this file):
 *  SENT          publish SENT.
 *  FAILED        publish FAILED with code/message/status/request id.
 *  RETRY         try again later: after retry_after_ms when has_retry_after,
 *                else after full-jitter backoff. |throttled| pauses the whole
 *                lane and does not count as a failed attempt; |quota_exceeded|
 *                means the mailbox's daily budget is spent (wait hours, or
 *                move the job to the delayed set).
 *  AUTH_REFRESH  invalidate the token, fetch a new one, retry once; a second
 *                401 in a row is FAILED.
 *  |ambiguous|   the body reached the provider and no definite answer came
 *                back (504, 502, reset/timeout after sending): the message may
 *                have been delivered, and Graph has no idempotency key. The
 *                configured policy decides between resending and failing.
 */
#ifndef SG_CLASSIFY_H
#define SG_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sg_http.h"
#include "svc/sg_entra.h"

typedef enum {
  SG_OUTCOME_SENT = 0, /* Graph 2xx; for token responses: a token was issued */
  SG_OUTCOME_FAILED,   /* permanent: do not retry */
  SG_OUTCOME_RETRY,    /* transient: retry later */
  SG_OUTCOME_AUTH_REFRESH,
  SG_OUTCOME_ACCEPTED, /* taken; its final fate is learnt by following it up (ACS polls) */
  SG_OUTCOME_PENDING,  /* a follow-up: not final yet, ask again after retry_after_ms */
  SG_OUTCOME_STEP      /* one step of a multi-step send is done; the next goes now */
} sg_outcome_kind;

/* The name used for token responses. */
#define SG_OUTCOME_OK SG_OUTCOME_SENT

/* Field caps, terminating NUL included; longer values are cut at a UTF-8 boundary. */
#define SG_OUTCOME_CODE_MAX 128
#define SG_OUTCOME_MESSAGE_MAX 512
#define SG_OUTCOME_REQUEST_ID_MAX 128

/* Bodies longer than this are not parsed (Graph error bodies are < 1 KB). */
#define SG_CLASSIFY_MAX_BODY (64u * 1024u)
/* Retry-After values are clamped to this (a day: longer waits are nonsense). */
#define SG_CLASSIFY_MAX_RETRY_AFTER_MS (24LL * 3600 * 1000)

typedef struct sg_outcome {
  sg_outcome_kind kind;
  int http_status;   /* 0 for transport failures */
  int transport_err; /* the error given to sg_classify_transport, else 0 */
  bool throttled;
  bool ambiguous;
  bool quota_exceeded;
  bool has_retry_after;
  int64_t retry_after_ms; /* valid when has_retry_after; already clamped */
  /* Provider error code ("ErrorInvalidRecipients", "AADSTS7000215"), or the
   * gateway's error name for transport failures; "" when none. */
  char code[SG_OUTCOME_CODE_MAX];
  char message[SG_OUTCOME_MESSAGE_MAX];       /* control characters replaced by spaces */
  char request_id[SG_OUTCOME_REQUEST_ID_MAX]; /* Graph request-id / Entra x-ms-request-id */
} sg_outcome;

/*
 * Classifies a Graph sendMail response: |status|, the response headers |h|
 * (|nh| entries) and |body| (|len| bytes), all borrowed. |now_unix_ms| is the
 * wall clock, for a Retry-After given as an HTTP-date. Fills |*out|.
 *  2xx -> SENT. 401 -> AUTH_REFRESH. 429 -> RETRY throttled. 503 -> RETRY,
 *  throttled when it carries a valid Retry-After. 504, 502 -> RETRY ambiguous.
 *  500 -> RETRY when the code is transient (or absent), else FAILED. 408, 423,
 *  509 -> RETRY. Throttling codes (ApplicationThrottled, TooManyRequests,
 *  ErrorServerBusy, ...) -> RETRY throttled whatever the status;
 *  ErrorSubmissionQuotaExceeded -> RETRY throttled quota_exceeded.
 *  Everything else (400, 403, 404, 413, other 4xx/5xx, 1xx/3xx) -> FAILED.
 * Returns 0 or one of: SG_ERR_INVAL (NULL |out|, or NULL |h|/|body| with a
 * non-zero count).
 */
int sg_classify_graph(int status, const sg_http_header *h, size_t nh, const char *body, size_t len,
                      int64_t now_unix_ms, sg_outcome *out);

/*
 * Classifies a request that got no HTTP status: |err| is the pool's error
 * (libuv, nghttp2 or SG_ERR_*), |body_was_sent| whether any of the request
 * body left for the provider. Always RETRY; ambiguous when the body was sent,
 * unless |err| is SG_ERR_REFUSED (REFUSED_STREAM or above GOAWAY's last
 * stream: never processed). code/message are the error's name and text.
 */
void sg_classify_transport(int err, bool body_was_sent, sg_outcome *out);

/*
 * Classifies an Entra token endpoint response (arguments as for
 * sg_classify_graph). 2xx with a valid token -> OK, and when |tok| is not NULL
 * the token is stored there (caller frees it with sg_entra_token_free()).
 * 2xx with an unusable body, 429 (throttled), 5xx, 408 and the transient
 * AADSTS codes 90006, 90024, 50033, 90033, 90090, 90055 (throttled) or error
 * "temporarily_unavailable" -> RETRY. Other 4xx -> FAILED, with code
 * "AADSTS<error_codes[0]>" (or the "error" value when no number came) and
 * message "<error>: <error_description>". Never AUTH_REFRESH.
 * Returns 0 or one of: SG_ERR_INVAL.
 */
int sg_classify_entra(int status, const sg_http_header *h, size_t nh, const char *body, size_t len,
                      int64_t now_unix_ms, sg_outcome *out, sg_entra_token *tok);

/* "SENT", "FAILED", "RETRY", "AUTH_REFRESH", "ACCEPTED", "PENDING", "STEP". Never NULL. */
const char *sg_outcome_kind_name(sg_outcome_kind k);

#endif
