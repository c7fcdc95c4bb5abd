/* SPDX-License-Identifier: Apache-2.0 */
/* MailResult encoding and decoding; see sg_result.h. */
#include "job/sg_result.h"

#include "core/sg_err.h"
#include "job/sg_proto.h"

struct sg_result_msg {
  Sendgate__V1__MailResult *pb;
  sg_result view;
  sg_job_kv *meta;
};

const char *sg_status_name(sg_status s) {
  switch (s) {
  case SG_STATUS_SENT:
    return "SENT";
  case SG_STATUS_FAILED:
    return "FAILED";
  case SG_STATUS_INVALID:
    return "INVALID";
  case SG_STATUS_EXPIRED:
    return "EXPIRED";
  default:
    return "UNSPECIFIED";
  }
}

#define S(x) ((char *)((x) ? (x) : ""))

void sg_result_encode(const sg_result *r, sg_buf *out) {
  Sendgate__V1__MailResult pb = SENDGATE__V1__MAIL_RESULT__INIT;
  pb.job_id = S(r->job_id);
  pb.status = (Sendgate__V1__Status)r->status;
  pb.backend = (Sendgate__V1__Backend)r->backend;
  pb.attempts = r->attempts;
  pb.http_status = r->http_status;
  pb.error_code = S(r->error_code);
  pb.error_message = S(r->error_message);
  pb.provider_request_id = S(r->provider_request_id);
  pb.operation_id = S(r->operation_id);
  pb.campaign_id = S(r->campaign_id);
  pb.created_unix_ms = r->created_unix_ms;
  pb.completed_unix_ms = r->completed_unix_ms;
  pb.stream_entry_id = S(r->stream_entry_id);
  pb.sender = S(r->sender);
  /* Metadata entries live on the stack for small maps, the heap otherwise. */
  Sendgate__V1__MailResult__MetadataEntry small[8], *ents = small;
  Sendgate__V1__MailResult__MetadataEntry *psmall[8], **ptrs = psmall;
  if (r->n_metadata > 8) {
    ents = sg_xcalloc(r->n_metadata, sizeof *ents);
    ptrs = sg_xcalloc(r->n_metadata, sizeof *ptrs);
  }
  for (size_t i = 0; i < r->n_metadata; i++) {
    sendgate__v1__mail_result__metadata_entry__init(&ents[i]);
    ents[i].key = S(r->metadata[i].key);
    ents[i].value = S(r->metadata[i].value);
    ptrs[i] = &ents[i];
  }
  pb.n_metadata = r->n_metadata;
  pb.metadata = r->n_metadata ? ptrs : NULL;
  size_t n = sendgate__v1__mail_result__get_packed_size(&pb);
  sg_buf_reserve(out, n);
  sendgate__v1__mail_result__pack(&pb, (uint8_t *)out->data + out->len);
  out->len += n;
  out->data[out->len] = '\0';
  if (ents != small) {
    sg_free(ents);
    sg_free(ptrs);
  }
}

int sg_result_decode(const uint8_t *data, size_t len, sg_result_msg **out) {
  Sendgate__V1__MailResult *pb = sendgate__v1__mail_result__unpack(NULL, len, data);
  if (pb == NULL)
    return SG_ERR_PARSE;
  sg_result_msg *m = sg_xcalloc(1, sizeof *m);
  m->pb = pb;
  sg_result *r = &m->view;
  r->job_id = pb->job_id;
  r->status = (sg_status)pb->status;
  r->backend = (sg_backend)pb->backend;
  r->attempts = pb->attempts;
  r->http_status = pb->http_status;
  r->error_code = pb->error_code;
  r->error_message = pb->error_message;
  r->provider_request_id = pb->provider_request_id;
  r->operation_id = pb->operation_id;
  r->campaign_id = pb->campaign_id;
  r->created_unix_ms = pb->created_unix_ms;
  r->completed_unix_ms = pb->completed_unix_ms;
  r->stream_entry_id = pb->stream_entry_id;
  r->sender = pb->sender;
  if (pb->n_metadata) {
    m->meta = sg_xcalloc(pb->n_metadata, sizeof *m->meta);
    for (size_t i = 0; i < pb->n_metadata; i++)
      m->meta[i] = (sg_job_kv){pb->metadata[i]->key, pb->metadata[i]->value};
  }
  r->metadata = m->meta;
  r->n_metadata = pb->n_metadata;
  *out = m;
  return 0;
}

const sg_result *sg_result_msg_view(const sg_result_msg *m) {
  return &m->view;
}

void sg_result_msg_free(sg_result_msg *m) {
  if (m == NULL)
    return;
  sendgate__v1__mail_result__free_unpacked(m->pb, NULL);
  sg_free(m->meta);
  sg_free(m);
}
