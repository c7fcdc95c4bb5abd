/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Graph sendMail request building; see sg_graph.h. One emitter walks the job
 * for both building and sizing, so the size estimate cannot drift from the
 * bytes actually written: in sizing mode every write only adds its length.
 */
#include "svc/sg_graph.h"

#include <string.h>

#include "core/sg_base64.h"
#include "core/sg_err.h"
#include "json/sg_json_write.h"

/* Writes into |b|, or only counts into |n| when |b| is NULL. */
typedef struct emit {
  sg_buf *b;
  size_t n;
} emit;


static void raw(emit *e, const char *s) {
  size_t n = strlen(s);
  if (e->b)
    sg_buf_append(e->b, s, n);
  else
    e->n += n;
}

static void str(emit *e, const char *s) {
  if (s == NULL)
    s = "";
  size_t n = strlen(s);
  if (e->b)
    sg_jw_str(e->b, s, n);
  else
    e->n += 2 + sg_jw_escaped_len(s, n);
}

static void b64(emit *e, const void *p, size_t n) {
  if (e->b)
    sg_base64_encode(e->b, p, n);
  else
    e->n += sg_base64_len(n);
}

static bool nonempty(const char *s) {
  return s != NULL && s[0] != '\0';
}

static void recipients(emit *e, const char *key, const sg_job_addr *v, size_t n) {
  if (n == 0)
    return;
  raw(e, ",\"");
  raw(e, key);
  raw(e, "\":[");
  for (size_t i = 0; i < n; i++) {
    raw(e, i ? ",{\"emailAddress\":{\"address\":" : "{\"emailAddress\":{\"address\":");
    str(e, v[i].address);
    if (nonempty(v[i].name)) {
      raw(e, ",\"name\":");
      str(e, v[i].name);
    }
    raw(e, "}}");
  }
  raw(e, "]");
}

static void headers(emit *e, const sg_job *job) {
  if (job->n_headers == 0)
    return;
  raw(e, ",\"internetMessageHeaders\":[");
  for (size_t i = 0; i < job->n_headers; i++) {
    raw(e, i ? ",{\"name\":" : "{\"name\":");
    str(e, job->headers[i].name);
    raw(e, ",\"value\":");
    str(e, job->headers[i].value);
    raw(e, "}");
  }
  raw(e, "]");
}

static void attachments(emit *e, const sg_job *job) {
  if (job->n_attachments == 0)
    return;
  raw(e, ",\"attachments\":[");
  for (size_t i = 0; i < job->n_attachments; i++) {
    const sg_job_attachment *a = &job->attachments[i];
    raw(e, i ? ",{" : "{");
    raw(e, "\"@odata.type\":\"#microsoft.graph.fileAttachment\",\"name\":");
    str(e, a->name);
    if (nonempty(a->content_type)) {
      raw(e, ",\"contentType\":");
      str(e, a->content_type);
    }
    raw(e, ",\"contentBytes\":\"");
    b64(e, a->content, a->content_len);
    raw(e, a->is_inline ? "\",\"isInline\":true" : "\",\"isInline\":false");
    if (nonempty(a->content_id)) {
      raw(e, ",\"contentId\":");
      str(e, a->content_id);
    }
    raw(e, "}");
  }
  raw(e, "]");
}

static void walk(emit *e, const sg_job *job) {
  if (job->mime_len > 0) {
    b64(e, job->mime, job->mime_len);
    return;
  }
  bool html = nonempty(job->html_body);
  raw(e, "{\"message\":{\"subject\":");
  str(e, job->subject);
  raw(e, html ? ",\"body\":{\"contentType\":\"html\",\"content\":"
              : ",\"body\":{\"contentType\":\"text\",\"content\":");
  str(e, html ? job->html_body : job->text_body);
  raw(e, "}");
  recipients(e, "toRecipients", job->to, job->n_to);
  recipients(e, "ccRecipients", job->cc, job->n_cc);
  recipients(e, "bccRecipients", job->bcc, job->n_bcc);
  recipients(e, "replyTo", job->reply_to, job->n_reply_to);
  headers(e, job);
  attachments(e, job);
  raw(e, job->save_to_sent_items ? "}}" : "},\"saveToSentItems\":false}");
}

int sg_graph_build(const sg_job *job, sg_buf *body, const char **content_type) {
  if (job == NULL || body == NULL || content_type == NULL)
    return SG_ERR_INVAL;
  emit e = {body, 0};
  sg_buf_reserve(body, sg_graph_request_size(job));
  walk(&e, job);
  *content_type = job->mime_len > 0 ? SG_GRAPH_CONTENT_TYPE_MIME : SG_GRAPH_CONTENT_TYPE_JSON;
  return 0;
}

size_t sg_graph_request_size(const sg_job *job) {
  emit e = {NULL, 0};
  if (job != NULL)
    walk(&e, job);
  return e.n;
}

int sg_graph_path(sg_buf *out, const char *mailbox) {
  static const char hex[] = "0123456789ABCDEF";
  if (out == NULL || mailbox == NULL || mailbox[0] == '\0')
    return SG_ERR_INVAL;
  /* "." and ".." are unreserved but would be dot-segments in the path. */
  if (strcmp(mailbox, ".") == 0 || strcmp(mailbox, "..") == 0)
    return SG_ERR_INVAL;
  sg_buf_append_str(out, "/v1.0/users/");
  for (const unsigned char *p = (const unsigned char *)mailbox; *p; p++) {
    unsigned char c = *p;
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~' || c == '@') {
      sg_buf_append_char(out, (char)c);
    } else {
      char enc[3] = {'%', hex[c >> 4], hex[c & 15]};
      sg_buf_append(out, enc, 3);
    }
  }
  sg_buf_append_str(out, "/sendMail");
  return 0;
}
