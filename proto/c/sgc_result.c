/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MailResult decoding into the plain sgc_result view (its strings point into
 * the unpacked protobuf-c message it keeps), plus the names of statuses and
 * errors.
 */
#include <stdlib.h>
#include <string.h>

#include "sendgate/v1/mail.pb-c.h"
#include "sgc_int.h"

const char *sgc_strerror(int err) {
  switch (err) {
  case SGC_OK:
    return "ok";
  case SGC_ERR_ARG:
    return "invalid argument";
  case SGC_ERR_NOMEM:
    return "out of memory";
  case SGC_ERR_REDIS:
    return "Redis error";
  case SGC_ERR_TIMEOUT:
    return "no result in time";
  case SGC_ERR_DECODE:
    return "not a MailResult";
  default:
    return "unknown error";
  }
}

const char *sgc_status_name(int status) {
  static const char *const names[] = {"UNSPECIFIED", "SENT", "FAILED", "INVALID", "EXPIRED"};
  return status >= 0 && status < 5 ? names[status] : "UNSPECIFIED";
}

int sgc_result_decode(const uint8_t *data, size_t len, sgc_result **out) {
  Sendgate__V1__MailResult *m = sendgate__v1__mail_result__unpack(NULL, len, data);
  if (m == NULL)
    return SGC_ERR_DECODE;
  sgc_result *r = calloc(1, sizeof *r);
  if (r == NULL) {
    sendgate__v1__mail_result__free_unpacked(m, NULL);
    return SGC_ERR_NOMEM;
  }
  r->job_id = m->job_id;
  r->status = (sgc_status)m->status;
  r->backend = (sgc_backend)m->backend;
  r->attempts = m->attempts;
  r->http_status = m->http_status;
  r->error_code = m->error_code;
  r->error_message = m->error_message;
  r->provider_request_id = m->provider_request_id;
  r->operation_id = m->operation_id;
  r->campaign_id = m->campaign_id;
  r->created_unix_ms = m->created_unix_ms;
  r->completed_unix_ms = m->completed_unix_ms;
  r->stream_entry_id = m->stream_entry_id;
  r->sender = m->sender;
  r->priv_ = m;
  *out = r;
  return 0;
}

void sgc_result_free(sgc_result *r) {
  if (r == NULL)
    return;
  sendgate__v1__mail_result__free_unpacked(r->priv_, NULL);
  free(r);
}

size_t sgc_result_metadata_count(const sgc_result *r) {
  return ((const Sendgate__V1__MailResult *)r->priv_)->n_metadata;
}

void sgc_result_metadata_at(const sgc_result *r, size_t i, const char **key, const char **value) {
  const Sendgate__V1__MailResult *m = r->priv_;
  *key = m->metadata[i]->key;
  *value = m->metadata[i]->value;
}

const char *sgc_result_metadata(const sgc_result *r, const char *key) {
  const Sendgate__V1__MailResult *m = r->priv_;
  for (size_t i = 0; i < m->n_metadata; i++)
    if (strcmp(m->metadata[i]->key, key) == 0)
      return m->metadata[i]->value;
  return NULL;
}
