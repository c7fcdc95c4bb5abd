/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MailResult: the gateway's answer for one job, published to the job's reply
 * stream. sg_result is a plain view (borrowed strings); encode writes the
 * protobuf bytes; decode (for `sendgate send --wait`, the load generator and
 * tests) gives an owned copy.
 */
#ifndef SG_RESULT_H
#define SG_RESULT_H

#include <stddef.h>
#include <stdint.h>

#include "core/sg_mem.h"
#include "job/sg_job.h"

/* Same values as sendgate.v1.Status. */
typedef enum {
  SG_STATUS_UNSPECIFIED = 0,
  SG_STATUS_SENT = 1,
  SG_STATUS_FAILED = 2,
  SG_STATUS_INVALID = 3,
  SG_STATUS_EXPIRED = 4
} sg_status;

typedef struct sg_result {
  const char *job_id;
  sg_status status;
  sg_backend backend;
  uint32_t attempts;
  int32_t http_status;
  const char *error_code;
  const char *error_message;
  const char *provider_request_id;
  const char *operation_id;
  const char *campaign_id;
  const sg_job_kv *metadata;
  size_t n_metadata;
  int64_t created_unix_ms;
  int64_t completed_unix_ms;
  const char *stream_entry_id;
  const char *sender; /* the mailbox or address that sent it (a pool's member) */
} sg_result;

/* "SENT", "FAILED", "INVALID", "EXPIRED" or "UNSPECIFIED". */
const char *sg_status_name(sg_status s);

/* Appends the protobuf encoding of |r| to |out|. NULL strings encode as "". */
void sg_result_encode(const sg_result *r, sg_buf *out);

/* A decoded result; the view's strings live as long as it. */
typedef struct sg_result_msg sg_result_msg;

/* Returns 0 or SG_ERR_PARSE. */
int sg_result_decode(const uint8_t *data, size_t len, sg_result_msg **out);
const sg_result *sg_result_msg_view(const sg_result_msg *m);
void sg_result_msg_free(sg_result_msg *m);

#endif
