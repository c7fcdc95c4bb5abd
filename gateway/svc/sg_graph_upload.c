/* SPDX-License-Identifier: Apache-2.0 */
/* The steps of Graph's large-message route; see sg_graph_upload.h. */
#include "svc/sg_graph_upload.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "json/sg_json.h"
#include "json/sg_json_emit.h"
#include "svc/sg_graph.h"

static size_t emitted_attachment(const sg_job_attachment *a) {
  sg_jemit e = {NULL, 0};
  sg_graph_emit_attachment(&e, a);
  return e.n;
}

static uint64_t clamp_chunk(uint64_t c) {
  if (c == 0)
    return SG_GRAPH_CHUNK_DEFAULT;
  if (c > SG_GRAPH_CHUNK_MAX)
    c = SG_GRAPH_CHUNK_MAX;
  c -= c % SG_GRAPH_CHUNK_UNIT;
  return c ? c : SG_GRAPH_CHUNK_UNIT;
}

sg_gseq_verdict sg_graph_seq_init(sg_graph_seq *q, const sg_job *job, uint64_t chunk) {
  memset(q, 0, sizeof *q);
  q->chunk = clamp_chunk(chunk);
  q->n = job->n_attachments;
  q->route = sg_xcalloc(q->n ? q->n : 1, 1);
  q->inl = sg_xcalloc(q->n ? q->n : 1, 1);
  q->step = SG_GSTEP_RECALL;
  /* The draft without attachments, then small ones in order while it stays
   * under the request cap ("attachments":[ ] and a comma each counted). */
  sg_jemit e = {NULL, 0};
  sg_graph_emit_message(&e, job, q->inl);
  size_t size = e.n + 16, cap = SG_GRAPH_MAX_REQUEST_BYTES - SG_GRAPH_DRAFT_MARGIN;
  if (size > cap)
    return SG_GSEQ_TOO_LARGE;
  for (size_t i = 0; i < q->n; i++) {
    const sg_job_attachment *a = &job->attachments[i];
    if (a->content_len >= SG_GRAPH_ATTACH_POST_MAX) {
      q->route[i] = SG_GATT_SESSION;
      continue;
    }
    size_t s = emitted_attachment(a) + 1;
    if (size + s <= cap) {
      q->route[i] = SG_GATT_INLINE;
      q->inl[i] = 1;
      size += s;
    } else {
      q->route[i] = SG_GATT_POST;
    }
  }
  return SG_GSEQ_OK;
}

void sg_graph_seq_free(sg_graph_seq *q) {
  sg_free(q->route);
  sg_free(q->inl);
  q->route = q->inl = NULL;
}

/* The first attachment step from attachment |i| on, or COMMIT. */
static void attachments_from(sg_graph_seq *q, size_t i) {
  for (; i < q->n; i++) {
    if (q->route[i] == SG_GATT_INLINE)
      continue;
    q->att = i;
    q->off = 0;
    q->step = q->route[i] == SG_GATT_POST ? SG_GSTEP_ATTACH : SG_GSTEP_SESSION;
    return;
  }
  q->step = SG_GSTEP_COMMIT;
}

void sg_graph_seq_advance(sg_graph_seq *q) {
  switch (q->step) {
  case SG_GSTEP_RECALL: /* sg_graph_seq_recall decides; without a record: */
  case SG_GSTEP_DISCARD:
    q->old_id[0] = '\0';
    q->step = SG_GSTEP_CREATE;
    return;
  case SG_GSTEP_CREATE:
    q->step = SG_GSTEP_REMEMBER;
    return;
  case SG_GSTEP_REMEMBER:
    attachments_from(q, 0);
    return;
  case SG_GSTEP_ATTACH:
  case SG_GSTEP_PUT:
    attachments_from(q, q->att + 1);
    return;
  case SG_GSTEP_SESSION:
    q->step = SG_GSTEP_PUT;
    q->off = 0;
    return;
  case SG_GSTEP_COMMIT:
    q->step = SG_GSTEP_SEND;
    return;
  case SG_GSTEP_SEND:
  case SG_GSTEP_DONE:
    q->step = SG_GSTEP_DONE;
    return;
  }
}

static bool printable_id(const char *s, size_t n) {
  if (n == 0)
    return false;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f || s[i] == '/')
      return false;
  return true;
}

void sg_graph_seq_recall(sg_graph_seq *q, const char *v, size_t len) {
  q->step = SG_GSTEP_CREATE;
  if (v == NULL || len < 3 || v[1] != ' ' || len - 2 >= SG_GRAPH_ID_MAX ||
      !printable_id(v + 2, len - 2))
    return; /* none (or not ours): a fresh draft */
  if (v[0] == 'd') {
    memcpy(q->old_id, v + 2, len - 2);
    q->old_id[len - 2] = '\0';
    q->step = SG_GSTEP_DISCARD;
  } else if (v[0] == 's') {
    memcpy(q->draft_id, v + 2, len - 2);
    q->draft_id[len - 2] = '\0';
    q->step = SG_GSTEP_SEND;
    q->send_maybe = true;
  }
}

size_t sg_graph_seq_record(const sg_graph_seq *q, char *out, size_t cap) {
  int n = snprintf(out, cap, "%c %s", q->step == SG_GSTEP_COMMIT ? 's' : 'd', q->draft_id);
  return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

void sg_graph_seq_range(const sg_graph_seq *q, const sg_job *job, uint64_t *first, uint64_t *last) {
  uint64_t size = job->attachments[q->att].content_len;
  uint64_t end = q->off + q->chunk < size ? q->off + q->chunk : size;
  *first = q->off;
  *last = end ? end - 1 : 0;
}

bool sg_graph_seq_put_done(sg_graph_seq *q, const sg_job *job, int status, uint64_t next) {
  uint64_t first, last, size = job->attachments[q->att].content_len;
  sg_graph_seq_range(q, job, &first, &last);
  if (status == 201) {
    if (last + 1 != size)
      return false; /* complete before its last byte: not what we sent */
    sg_graph_seq_advance(q);
    return true;
  }
  /* 200: the next byte Graph expects; anything from the range's start to
   * its end (a partial take) is fine, a jump backwards or past it is not. */
  if (next <= first || next > last + 1 || next >= size)
    return false;
  q->off = next;
  return true;
}

void sg_graph_seq_restart(sg_graph_seq *q) {
  q->restarts++;
  q->upload_url[0] = '\0';
  q->send_maybe = false;
  q->off = 0;
  if (q->draft_id[0]) {
    memcpy(q->old_id, q->draft_id, sizeof q->old_id);
    q->draft_id[0] = '\0';
    q->step = SG_GSTEP_DISCARD;
  } else {
    q->step = SG_GSTEP_CREATE;
  }
}

uint64_t sg_graph_seq_bytes(const sg_graph_seq *q, const sg_job *job) {
  switch (q->step) {
  case SG_GSTEP_CREATE: {
    sg_jemit e = {NULL, 0};
    sg_graph_emit_message(&e, job, q->inl);
    return e.n;
  }
  case SG_GSTEP_ATTACH:
    return emitted_attachment(&job->attachments[q->att]);
  case SG_GSTEP_PUT: {
    uint64_t a, b;
    sg_graph_seq_range(q, job, &a, &b);
    return b - a + 1;
  }
  case SG_GSTEP_SESSION:
    return 256 + strlen(job->attachments[q->att].name);
  default:
    return 0; /* no body, or not a Graph request (the record) */
  }
}

void sg_graph_seq_draft_json(const sg_graph_seq *q, const sg_job *job, sg_buf *out) {
  sg_jemit e = {out, 0};
  sg_graph_emit_message(&e, job, q->inl);
}

void sg_graph_seq_session_json(const sg_graph_seq *q, const sg_job *job, sg_buf *out) {
  const sg_job_attachment *a = &job->attachments[q->att];
  sg_jemit e = {out, 0};
  sg_jemit_raw(&e, "{\"AttachmentItem\":{\"attachmentType\":\"file\",\"name\":");
  sg_jemit_str(&e, a->name);
  sg_buf_printf(out, ",\"size\":%zu", a->content_len);
  if (a->content_type[0]) {
    sg_jemit_raw(&e, ",\"contentType\":");
    sg_jemit_str(&e, a->content_type);
  }
  sg_jemit_raw(&e, a->is_inline ? ",\"isInline\":true" : ",\"isInline\":false");
  if (a->content_id[0]) {
    sg_jemit_raw(&e, ",\"contentId\":");
    sg_jemit_str(&e, a->content_id);
  }
  sg_jemit_raw(&e, "}}");
}

/* The string member |key| of the JSON object in |body|, or NULL (|*doc| to free). */
static const char *member(const char *body, size_t len, const char *key, sg_json_doc **doc) {
  *doc = NULL;
  if (body == NULL || len == 0 || sg_json_parse(doc, body, len, 0, NULL, 0) != 0)
    return NULL;
  return sg_json_str(sg_json_get(sg_json_root(*doc), key));
}

int sg_graph_parse_id(const char *body, size_t len, char *out, size_t cap) {
  sg_json_doc *doc;
  const char *id = member(body, len, "id", &doc);
  size_t n = id ? strlen(id) : 0;
  int rv = -1;
  if (id && n < cap && n < SG_GRAPH_ID_MAX && printable_id(id, n)) {
    memcpy(out, id, n + 1);
    rv = 0;
  }
  sg_json_doc_free(doc);
  return rv;
}

int sg_graph_parse_upload_url(const char *body, size_t len, char *out, size_t cap) {
  sg_json_doc *doc;
  const char *url = member(body, len, "uploadUrl", &doc);
  size_t n = url ? strlen(url) : 0;
  char origin[600];
  const char *path;
  int rv = -1;
  if (url && n < cap && strncmp(url, "https://", 8) == 0 &&
      sg_graph_url_split(url, origin, sizeof origin, &path) == 0) {
    bool clean = true;
    for (size_t i = 0; i < n; i++)
      if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
        clean = false;
    if (clean) {
      memcpy(out, url, n + 1);
      rv = 0;
    }
  }
  sg_json_doc_free(doc);
  return rv;
}

int sg_graph_parse_next(const char *body, size_t len, uint64_t *next) {
  sg_json_doc *doc = NULL;
  if (body == NULL || len == 0 || sg_json_parse(&doc, body, len, 0, NULL, 0) != 0)
    return -1;
  const sg_json *r = sg_json_get(sg_json_root(doc), "nextExpectedRanges");
  const char *s = r && r->type == SG_JSON_ARRAY ? sg_json_str(r->child) : NULL;
  int rv = -1;
  if (s && isdigit((unsigned char)s[0])) {
    uint64_t v = 0;
    bool ok = true;
    for (; isdigit((unsigned char)*s); s++) {
      if (v > (UINT64_MAX - 9) / 10)
        ok = false;
      v = v * 10 + (uint64_t)(*s - '0');
    }
    if (ok && (*s == '\0' || *s == '-')) {
      *next = v;
      rv = 0;
    }
  }
  sg_json_doc_free(doc);
  return rv;
}

int sg_graph_url_split(const char *url, char *origin, size_t ocap, const char **path) {
  if (strncmp(url, "https://", 8) != 0)
    return -1;
  const char *h = url + 8, *p = strchr(h, '/');
  if (p == NULL || p == h || (size_t)(p - url) >= ocap)
    return -1;
  for (const char *c = h; c < p; c++)
    if (*c == '@' || *c == '?' || *c == '#')
      return -1; /* no user info, nothing but host[:port] */
  memcpy(origin, url, (size_t)(p - url));
  origin[p - url] = '\0';
  *path = p;
  return 0;
}

uint64_t sg_graph_job_bytes(const sg_job *job) {
  uint64_t n = strlen(job->subject) + sg_job_text_len(job) + sg_job_html_len(job);
  for (size_t i = 0; i < job->n_attachments; i++)
    n += job->attachments[i].content_len;
  return n + job->mime_len;
}

const char *sg_gstep_name(sg_gstep s) {
  static const char *const names[] = {"RECALL",  "DISCARD", "CREATE", "REMEMBER", "ATTACH",
                                      "SESSION", "PUT",     "COMMIT", "SEND",     "DONE"};
  return (unsigned)s < sizeof names / sizeof *names ? names[s] : "UNKNOWN";
}
