/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The validated job view: a plain C picture of one MailJob (proto/sendgate/v1/
 * mail.proto) that the job codec fills after decoding and checking the
 * protobuf. The service builders (svc/sg_graph, svc/sg_acs) read only this, so
 * no code outside the codec ever sees protobuf-c types.
 *
 * Everything is borrowed: the strings and byte ranges point into the decoded
 * message (or the codec's scratch), which the job owns and outlives every
 * reader. Strings are NUL-terminated UTF-8 and never NULL (an absent proto3
 * string is ""); byte fields (attachment content, mime) are pointer + length
 * and may hold any bytes. Arrays are pointer + count; the pointer may be NULL
 * when the count is 0. Header only: there is nothing to free here.
 */
#ifndef SG_JOB_H
#define SG_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Same values as sendgate.v1.Backend. */
typedef enum {
  SG_BACKEND_UNSPECIFIED = 0, /* the configured default backend */
  SG_BACKEND_GRAPH = 1,
  SG_BACKEND_ACS = 2,
  SG_BACKEND_SMTP = 3 /* OAuth SMTP (exchange_smtp) or High Volume Email (hve) accounts */
} sg_backend;

/* Same values as sendgate.v1.Priority; see sg_job_bulk. */
typedef enum {
  SG_PRIORITY_UNSPECIFIED = 0, /* bulk when campaign_id is set, else transactional */
  SG_PRIORITY_TRANSACTIONAL = 1,
  SG_PRIORITY_BULK = 2
} sg_priority;

/* A mailbox: |address| non-empty once validated; |name| "" when not given. */
typedef struct sg_job_addr {
  const char *address;
  const char *name;
} sg_job_addr;

typedef struct sg_job_attachment {
  const char *name;
  const char *content_type; /* "" when not given */
  const uint8_t *content;   /* raw bytes; the builders base64 them */
  size_t content_len;
  const char *content_id; /* "" when not given; for cid: references */
  bool is_inline;         /* proto field `inline` (a C keyword) */
} sg_job_attachment;

/* A custom header; Graph accepts only X- names (checked by the codec). */
typedef struct sg_job_header {
  const char *name;
  const char *value;
} sg_job_header;

/* One metadata pair, echoed in the result. */
typedef struct sg_job_kv {
  const char *key;
  const char *value;
} sg_job_kv;

typedef struct sg_job {
  const char *id; /* 1..128 printable ASCII */
  sg_backend backend;
  const char *account; /* "" = the default account */
  const char *sender;  /* Graph: mailbox UPN or object id; ACS: senderAddress */

  const sg_job_addr *to;
  size_t n_to;
  const sg_job_addr *cc;
  size_t n_cc;
  const sg_job_addr *bcc;
  size_t n_bcc;
  const sg_job_addr *reply_to;
  size_t n_reply_to;

  const char *subject;
  const char *text_body; /* "" when absent */
  const char *html_body; /* "" when absent */
  /* The bodies' lengths when known (the decoder sets them), else 0: read
   * them with sg_job_text_len and sg_job_html_len. */
  size_t text_body_len;
  size_t html_body_len;

  const sg_job_attachment *attachments;
  size_t n_attachments;
  const sg_job_header *headers;
  size_t n_headers;

  /* A complete RFC 5322 message (Graph only). When mime_len > 0 the
   * structured content fields above are empty and only |sender| applies. */
  const uint8_t *mime;
  size_t mime_len;

  bool save_to_sent_items;  /* Graph only */
  const char *reply_stream; /* "" = the default results stream */
  const char *campaign_id;
  const sg_job_kv *metadata;
  size_t n_metadata;

  uint32_t max_attempts;    /* 0 = configured default */
  int64_t deadline_unix_ms; /* 0 = configured default */
  int64_t created_unix_ms;
  sg_priority priority; /* as sent; sg_job_bulk says what it means */
} sg_job;

/* A body's length: the one the decoder kept, or counted (a job built by
 * hand may leave the lengths 0). */
static inline size_t sg_job_text_len(const sg_job *j) {
  return j->text_body_len ? j->text_body_len : strlen(j->text_body);
}
static inline size_t sg_job_html_len(const sg_job *j) {
  return j->html_body_len ? j->html_body_len : strlen(j->html_body);
}

/* Whether |j| waits behind transactional jobs: PRIORITY_BULK, or
 * PRIORITY_UNSPECIFIED with a campaign_id. */
static inline bool sg_job_bulk(const sg_job *j) {
  return j->priority == SG_PRIORITY_BULK ||
         (j->priority == SG_PRIORITY_UNSPECIFIED && j->campaign_id && j->campaign_id[0] != '\0');
}

#endif
