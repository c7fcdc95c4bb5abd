/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Graph sendMail request building; see sg_graph.h. One emitter walks the job
 * for both building and sizing, so the size estimate cannot drift from the
 * bytes actually written: in sizing mode every write only adds its length.
 */
#include "svc/sg_graph.h"

#include "job/sg_mime_envelope.h"

#include <string.h>

#include "core/sg_base64.h"
#include "core/sg_err.h"
#include "core/sg_json_write.h"
#include "json/sg_json_emit.h"

static bool nonempty(const char *s) {
  return s != NULL && s[0] != '\0';
}

static void recipients(sg_jemit *e, const char *key, const sg_job_addr *v, size_t n) {
  if (n == 0)
    return;
  sg_jemit_raw(e, ",\"");
  sg_jemit_raw(e, key);
  sg_jemit_raw(e, "\":[");
  for (size_t i = 0; i < n; i++) {
    sg_jemit_raw(e, i ? ",{\"emailAddress\":{\"address\":" : "{\"emailAddress\":{\"address\":");
    sg_jemit_str(e, v[i].address);
    if (nonempty(v[i].name)) {
      sg_jemit_raw(e, ",\"name\":");
      sg_jemit_str(e, v[i].name);
    }
    sg_jemit_raw(e, "}}");
  }
  sg_jemit_raw(e, "]");
}

static void headers(sg_jemit *e, const sg_job *job) {
  if (job->n_headers == 0)
    return;
  sg_jemit_raw(e, ",\"internetMessageHeaders\":[");
  for (size_t i = 0; i < job->n_headers; i++) {
    sg_jemit_raw(e, i ? ",{\"name\":" : "{\"name\":");
    sg_jemit_str(e, job->headers[i].name);
    sg_jemit_raw(e, ",\"value\":");
    sg_jemit_str(e, job->headers[i].value);
    sg_jemit_raw(e, "}");
  }
  sg_jemit_raw(e, "]");
}

void sg_graph_emit_attachment(sg_jemit *e, const sg_job_attachment *a) {
  sg_jemit_raw(e, "{\"@odata.type\":\"#microsoft.graph.fileAttachment\",\"name\":");
  sg_jemit_str(e, a->name);
  if (nonempty(a->content_type)) {
    sg_jemit_raw(e, ",\"contentType\":");
    sg_jemit_str(e, a->content_type);
  }
  sg_jemit_raw(e, ",\"contentBytes\":\"");
  sg_jemit_b64(e, a->content, a->content_len);
  sg_jemit_raw(e, a->is_inline ? "\",\"isInline\":true" : "\",\"isInline\":false");
  if (nonempty(a->content_id)) {
    sg_jemit_raw(e, ",\"contentId\":");
    sg_jemit_str(e, a->content_id);
  }
  sg_jemit_raw(e, "}");
}

/* The attachments whose |only| flag is set (all when |only| is NULL). */
static void attachments(sg_jemit *e, const sg_job *job, const uint8_t *only) {
  bool first = true;
  for (size_t i = 0; i < job->n_attachments; i++) {
    if (only && !only[i])
      continue;
    sg_jemit_raw(e, first ? ",\"attachments\":[" : ",");
    first = false;
    sg_graph_emit_attachment(e, &job->attachments[i]);
  }
  if (!first)
    sg_jemit_raw(e, "]");
}

/* A MIME job with recipients: its header section names exactly them. */
static void mime_for_envelope(sg_jemit *e, const sg_job *job) {
  size_t n = job->n_to + job->n_cc + job->n_bcc, k = 0;
  const char *stack[64];
  const char **r = n <= 64 ? stack : sg_xmalloc(n * sizeof *r);
  for (size_t i = 0; i < job->n_to; i++)
    r[k++] = job->to[i].address;
  for (size_t i = 0; i < job->n_cc; i++)
    r[k++] = job->cc[i].address;
  for (size_t i = 0; i < job->n_bcc; i++)
    r[k++] = job->bcc[i].address;
  sg_buf m = SG_BUF_INIT;
  sg_mime_envelope(job->mime, job->mime_len, r, n, &m);
  sg_jemit_b64(e, (const uint8_t *)m.data, m.len);
  sg_buf_free(&m);
  if (r != stack)
    sg_free(r);
}

static void walk(sg_jemit *e, const sg_job *job) {
  if (job->mime_len > 0) {
    if (job->n_to + job->n_cc + job->n_bcc > 0)
      mime_for_envelope(e, job);
    else
      sg_jemit_b64(e, job->mime, job->mime_len);
    return;
  }
  sg_jemit_raw(e, "{\"message\":");
  sg_graph_emit_message(e, job, NULL);
  sg_jemit_raw(e, job->save_to_sent_items ? "}" : ",\"saveToSentItems\":false}");
}

void sg_graph_emit_message(sg_jemit *e, const sg_job *job, const uint8_t *only) {
  bool html = nonempty(job->html_body);
  sg_jemit_raw(e, "{\"subject\":");
  sg_jemit_str(e, job->subject);
  sg_jemit_raw(e, html ? ",\"body\":{\"contentType\":\"html\",\"content\":"
                       : ",\"body\":{\"contentType\":\"text\",\"content\":");
  if (html)
    sg_jemit_strn(e, job->html_body, sg_job_html_len(job));
  else
    sg_jemit_strn(e, job->text_body, sg_job_text_len(job));
  sg_jemit_raw(e, "}");
  recipients(e, "toRecipients", job->to, job->n_to);
  recipients(e, "ccRecipients", job->cc, job->n_cc);
  recipients(e, "bccRecipients", job->bcc, job->n_bcc);
  recipients(e, "replyTo", job->reply_to, job->n_reply_to);
  headers(e, job);
  attachments(e, job, only);
  sg_jemit_raw(e, "}");
}

int sg_graph_build(const sg_job *job, sg_buf *body, const char **content_type) {
  if (job == NULL || body == NULL || content_type == NULL)
    return SG_ERR_INVAL;
  sg_jemit e = {body, 0};
  walk(&e, job);
  *content_type = job->mime_len > 0 ? SG_GRAPH_CONTENT_TYPE_MIME : SG_GRAPH_CONTENT_TYPE_JSON;
  return 0;
}

size_t sg_graph_request_size(const sg_job *job) {
  sg_jemit e = {NULL, 0};
  if (job != NULL)
    walk(&e, job);
  return e.n;
}

/* Bytes a mailbox keeps as they are in the path, one bit each: A-Z a-z 0-9
 * - . _ ~ (unreserved) and @; every other byte is percent-encoded. */
static const uint32_t k_path_plain[8] = {
    0,
    (1u << ('-' - 32)) | (1u << ('.' - 32)) | (0x3FFu << ('0' - 32)), /* 0x20..0x3f */
    (1u << ('@' - 64)) | (0x3FFFFFFu << ('A' - 64)) | (1u << ('_' - 64)),
    (0x3FFFFFFu << ('a' - 96)) | (1u << ('~' - 96)),
    0,
    0,
    0,
    0};

int sg_graph_user_path(sg_buf *out, const char *mailbox) {
  static const char hex[] = "0123456789ABCDEF";
  if (out == NULL || mailbox == NULL || mailbox[0] == '\0')
    return SG_ERR_INVAL;
  /* "." and ".." are unreserved but would be dot-segments in the path. */
  if (strcmp(mailbox, ".") == 0 || strcmp(mailbox, "..") == 0)
    return SG_ERR_INVAL;
  size_t n = strlen(mailbox);
  sg_buf_append(out, "/v1.0/users/", 12);
  sg_buf_reserve(out, 3 * n + 9); /* every byte encoded, then /sendMail */
  char *o = out->data + out->len;
  for (const unsigned char *p = (const unsigned char *)mailbox; *p; p++) {
    unsigned char c = *p;
    if (k_path_plain[c >> 5] >> (c & 31) & 1u) {
      *o++ = (char)c;
    } else {
      *o++ = '%';
      *o++ = hex[c >> 4];
      *o++ = hex[c & 15];
    }
  }
  out->len = (size_t)(o - out->data);
  return 0;
}

int sg_graph_path(sg_buf *out, const char *mailbox) {
  int rv = sg_graph_user_path(out, mailbox);
  if (rv == 0)
    sg_buf_append(out, "/sendMail", 9);
  return rv;
}
