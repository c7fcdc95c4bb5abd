/* SPDX-License-Identifier: Apache-2.0 */
/* MailResult encoding and decoding; see sg_result.h. */
#include "job/sg_result.h"

#include <string.h>

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

/*
 * The encoding is written by hand: protobuf-c's generic packer (a size pass
 * and a pack pass over the descriptor) cost about 2,600 instructions a
 * message. The bytes are those of sendgate__v1__mail_result__pack: fields in
 * number order, proto3 defaults (0, "" and NULL) left out, int32 and enum
 * values sign-extended to ten bytes when negative, map entries as messages
 * with key 1 and value 2 (test_job_codec compares the two).
 */
static uint8_t *put_varint(uint8_t *o, uint64_t v) {
  while (v >= 0x80) {
    *o++ = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  *o++ = (uint8_t)v;
  return o;
}

static size_t varint_len(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

/* A varint field (|tag| is one byte: field numbers below 16). */
static uint8_t *put_num(uint8_t *o, uint8_t tag, uint64_t v) {
  if (v == 0)
    return o;
  *o++ = tag;
  return put_varint(o, v);
}

/* A length-delimited string field; NULL and "" are left out. */
static uint8_t *put_str(uint8_t *o, uint8_t tag, const char *s, size_t n) {
  if (n == 0)
    return o;
  *o++ = tag;
  o = put_varint(o, n);
  memcpy(o, s, n);
  return o + n;
}

static size_t slen(const char *s) {
  return s ? strlen(s) : 0;
}

/* The bytes of a string field of |n| bytes (0 when left out). */
static size_t str_size(size_t n) {
  return n ? 1 + varint_len(n) + n : 0;
}

/* int32 and enum values: negative ones as their 64-bit two's complement. */
#define I32(v) ((uint64_t)(int64_t)(int32_t)(v))

void sg_result_encode(const sg_result *r, sg_buf *out) {
  enum { JOB, CODE, MSG, PREQ, OP, CAMP, ENTRY, SENDER, NSTR };
  const char *str[NSTR] = {
      r->job_id,       r->error_code,  r->error_message,   r->provider_request_id,
      r->operation_id, r->campaign_id, r->stream_entry_id, r->sender};
  size_t len[NSTR], cap = 5 * 11; /* five varint fields of at most 10 bytes and a tag */
  for (int i = 0; i < NSTR; i++) {
    len[i] = slen(str[i]);
    cap += 1 + 5 + len[i];
  }
  for (size_t i = 0; i < r->n_metadata; i++) /* tag, length, two string fields */
    cap += 1 + 10 + 2 * 6 + slen(r->metadata[i].key) + slen(r->metadata[i].value);
  sg_buf_reserve(out, cap);
  uint8_t *o = (uint8_t *)out->data + out->len;
  o = put_str(o, 0x0a, str[JOB], len[JOB]);
  o = put_num(o, 0x10, I32(r->status));
  o = put_num(o, 0x18, I32(r->backend));
  o = put_num(o, 0x20, r->attempts);
  o = put_num(o, 0x28, I32(r->http_status));
  o = put_str(o, 0x32, str[CODE], len[CODE]);
  o = put_str(o, 0x3a, str[MSG], len[MSG]);
  o = put_str(o, 0x42, str[PREQ], len[PREQ]);
  o = put_str(o, 0x4a, str[OP], len[OP]);
  o = put_str(o, 0x52, str[CAMP], len[CAMP]);
  for (size_t i = 0; i < r->n_metadata; i++) {
    const sg_job_kv *kv = &r->metadata[i];
    size_t kl = slen(kv->key), vl = slen(kv->value);
    *o++ = 0x5a;
    o = put_varint(o, str_size(kl) + str_size(vl));
    o = put_str(o, 0x0a, kv->key, kl);
    o = put_str(o, 0x12, kv->value, vl);
  }
  o = put_num(o, 0x60, (uint64_t)r->created_unix_ms);
  o = put_num(o, 0x68, (uint64_t)r->completed_unix_ms);
  o = put_str(o, 0x72, str[ENTRY], len[ENTRY]);
  o = put_str(o, 0x7a, str[SENDER], len[SENDER]);
  out->len = (size_t)((char *)o - out->data);
  out->data[out->len] = '\0';
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
