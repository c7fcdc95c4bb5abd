/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sandbox's large-message route of Graph (docs/microsoft-apis.md §1.3):
 *   POST   /v1.0/users/{mb}/messages                                 draft, 201 {id}
 *   GET    /v1.0/users/{mb}/messages/{id}                            200, or 404 once sent/deleted
 *   DELETE /v1.0/users/{mb}/messages/{id}                            204
 *   POST   /v1.0/users/{mb}/messages/{id}/attachments                fileAttachment < 3 MB, 201
 *   POST   /v1.0/users/{mb}/messages/{id}/attachments/createUploadSession   201 {uploadUrl}
 *   POST   /v1.0/users/{mb}/messages/{id}/send                       202; recorded as sendMail is
 *   PUT    /up/{token}   (uploadUrl: pre-authenticated, no bearer)   200 {nextExpectedRanges}, 201
 *   DELETE /up/{token}                                               204: cancelled
 * Checks in the order of sendMail's (sg_sbx_route_graph.c): bearer, an early
 * request inside a Retry-After window, injected faults, requests in flight
 * and per window, then Mail.ReadWrite (graph.mail_readwrite: 403
 * ErrorAccessDenied without it), the upload budget in bytes per (app,
 * mailbox) (graph.upload_bytes per graph.upload_window_ms: 429 with
 * Retry-After above it), then the request itself. Ranges must come in order,
 * contiguous, without overlap (416 otherwise) and at most
 * graph.upload_max_chunk bytes (413); an expired session is 404.
 */
#include "sandbox/sg_sbx_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/sg_clock.h"
#include "core/sg_fmt.h"
#include "core/sg_json_write.h"
#include "core/sg_rand.h"
#include "json/sg_json.h"
#include "sandbox/sg_sbx_graph.h"

typedef struct {
  sg_sbx *s;
  sg_httpd_req *req;
  graph_ids ids;
  char key[300], mb[256];
  uint64_t latency;
} dctx;

static void error(dctx *c, int status, const char *code, const char *message, uint64_t retry_ms) {
  sg_sbx_stats_reject(&c->s->stats, code);
  sg_sbx__graph_error(c->s, c->req, &c->ids, status, code, message, true, retry_ms,
                      retry_ms ? c->key : NULL, c->key, c->latency);
}

static void reply(dctx *c, int status, const sg_buf *json, const char *location) {
  sg_sbx_reply r;
  sg_sbx__reply_init(&r, status);
  sg_sbx__graph_headers(&r, &c->ids);
  if (json) {
    sg_sbx__reply_header(&r, "content-type", "application/json");
    sg_sbx__reply_body(&r, json->data, json->len);
  }
  if (location)
    sg_sbx__reply_header(&r, "location", location);
  snprintf(r.inflight_key, sizeof r.inflight_key, "%s", c->key);
  sg_sbx__send(c->s, c->req, &r, c->latency);
}

/* "YYYY-MM-DDTHH:MM:SSZ" of wall clock |ms|. */
static void iso(uint64_t ms, char out[32]) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Window checks shared by every step; true when the request may go on. The
 * in-flight slot taken here is released by the reply (error() or reply()). */
static bool admit(dctx *c) {
  sg_sbx *s = c->s;
  uint64_t now = sg_sbx__now(s), wait = 0;
  if (sg_sbx_backoff_check(s->backoff, c->key, now)) {
    s->stats.retry_after_violations++;
    s->stats.throttled_graph++;
    uint64_t left = sg_sbx_backoff_until(s->backoff, c->key, now) - now;
    sg_sbx__graph_error(s, c->req, &c->ids, 429, "ApplicationThrottled",
                        "Application is over its MailboxConcurrency limit.", true, left ? left : 1,
                        c->key, NULL, c->latency);
    return false;
  }
  if (sg_sbx__graph_fault(s, c->req, &c->ids, c->key))
    return false;
  sg_sbx_inflight_acquire(s->graph_inflight, c->key);
  uint32_t inflight = sg_sbx_inflight_count(s->graph_inflight, c->key);
  s->stats.inflight_now++;
  if (inflight > s->stats.max_inflight_per_mailbox)
    s->stats.max_inflight_per_mailbox = inflight;
  if (s->cfg.graph_mailbox_concurrency && inflight > (uint64_t)s->cfg.graph_mailbox_concurrency) {
    s->stats.throttled_graph++;
    error(c, 429, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.",
          1000);
    return false;
  }
  if (sg_sbx_rate_take(s->graph_req, c->key, 1, now, &wait) != 0) {
    s->stats.throttled_graph++;
    error(c, 429, "TooManyRequests", "Please retry again later.", wait);
    return false;
  }
  return true;
}

/* The upload budget: |bytes| of request body against (app, mailbox). */
static bool budget(dctx *c, size_t bytes) {
  uint64_t wait = 0;
  if (bytes && sg_sbx_rate_take(c->s->graph_upload, c->key, bytes, sg_sbx__now(c->s), &wait)) {
    c->s->stats.throttled_upload++;
    c->s->stats.throttled_graph++;
    error(c, 429, "ApplicationThrottled",
          "Application is over its upload limit for this mailbox (bytes per 5 minutes).",
          wait ? wait : 1000);
    return false;
  }
  return true;
}

static bool readwrite(dctx *c) {
  if (c->s->cfg.graph_mail_readwrite)
    return true;
  error(c, 403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.", 0);
  return false;
}

/* Validates a message resource the way sendMail validates its "message". */
static int validate(const char *json, size_t len, const char *mailbox, sg_sbx_msg *m,
                    sg_sbx_verdict *v) {
  sg_buf w = SG_BUF_INIT;
  sg_buf_append_str(&w, "{\"message\":");
  sg_buf_append(&w, json, len);
  sg_buf_append_char(&w, '}');
  sg_sbx_graph_limits lim;
  sg_sbx_graph_limits_default(&lim);
  lim.max_body = w.len + 1;
  int rv = sg_sbx_graph_validate("application/json", w.data, w.len, mailbox, &lim, m, v);
  sg_buf_free(&w);
  return rv;
}

static void create_draft(dctx *c, const char *mailbox) {
  sg_sbx *s = c->s;
  sg_httpd_req *req = c->req;
  if ((int64_t)req->body_len > s->cfg.graph_max_request_bytes) {
    error(c, 413, "RequestEntityTooLarge", "The request is larger than Graph accepts.", 0);
    return;
  }
  sg_sbx_msg m;
  sg_sbx_verdict v;
  if (validate((const char *)req->body, req->body_len, mailbox, &m, &v)) {
    error(c, v.status, v.code, v.message, 0);
    sg_sbx_msg_free(&m);
    return;
  }
  sg_sbx_msg_free(&m);
  sg_sbx_draft *dr = sg_sbx_drafts_create(&s->drafts, c->key, mailbox, (const char *)req->body,
                                          req->body_len, sg_rand_next(&s->id_rng));
  s->stats.drafts_created++;
  sg_buf b = SG_BUF_INIT;
  sg_buf_append_str(&b, "{\"@odata.context\":\"https://graph.microsoft.com/v1.0/$metadata#users('");
  sg_buf_append_str(&b, c->mb);
  sg_buf_append_str(&b, "')/messages/$entity\",\"id\":");
  sg_jw_cstr(&b, dr->id);
  sg_buf_append_str(&b, ",\"isDraft\":true}");
  reply(c, 201, &b, NULL);
  sg_buf_free(&b);
}

static void add_attachment(dctx *c, sg_sbx_draft *dr) {
  sg_sbx *s = c->s;
  sg_httpd_req *req = c->req;
  /* One fileAttachment: validated as the attachments of a message are. */
  sg_buf w = SG_BUF_INIT;
  sg_buf_append_str(&w,
                    "{\"toRecipients\":[{\"emailAddress\":{\"address\":\"x@sandbox.example\"}}],"
                    "\"attachments\":[");
  sg_buf_append(&w, req->body, req->body_len);
  sg_buf_append_str(&w, "]}");
  sg_sbx_msg m;
  sg_sbx_verdict v;
  int rv = validate(w.data, w.len, dr->mailbox, &m, &v);
  sg_buf_free(&w);
  if (rv == 0 && (m.n_atts != 1 || (int64_t)m.atts[0].size >= s->cfg.graph_attachment_post_max)) {
    sg_sbx_verdict_set(&v, m.n_atts == 1 ? 413 : 400,
                       m.n_atts == 1 ? "ErrorAttachmentSizeShouldNotBeLessThanMinimumSize"
                                     : "ErrorInvalidRequest",
                       m.n_atts == 1 ? "Attachments of 3 MB or more need an upload session."
                                     : "One fileAttachment is expected.");
    rv = -1;
  }
  if (rv) {
    error(c, v.status, v.code, v.message, 0);
    sg_sbx_msg_free(&m);
    return;
  }
  const sg_sbx_att *a = &m.atts[0];
  sg_sbx_draft_add_att(dr, a->name, a->content_type, a->content_id, a->is_inline, a->size,
                       a->sha256);
  s->stats.attachments_added++;
  sg_buf b = SG_BUF_INIT;
  sg_buf_printf(&b, "{\"@odata.type\":\"#microsoft.graph.fileAttachment\",\"id\":\"att%zu\",",
                dr->n_atts);
  sg_buf_append_str(&b, "\"name\":");
  sg_jw_cstr(&b, a->name);
  sg_buf_printf(&b, ",\"size\":%zu}", a->size);
  sg_sbx_msg_free(&m);
  reply(c, 201, &b, NULL);
  sg_buf_free(&b);
}

static void create_session(dctx *c, sg_sbx_draft *dr) {
  sg_sbx *s = c->s;
  sg_httpd_req *req = c->req;
  sg_json_doc *doc = NULL;
  const sg_json *item = NULL;
  if (sg_json_parse(&doc, (const char *)req->body, req->body_len, 0, NULL, 0) == 0)
    item = sg_json_get(sg_json_root(doc), "AttachmentItem");
  const char *type = sg_json_str(sg_json_get(item, "attachmentType"));
  const char *name = sg_json_str(sg_json_get(item, "name"));
  const char *ctype = sg_json_str(sg_json_get(item, "contentType"));
  const char *cid = sg_json_str(sg_json_get(item, "contentId"));
  const sg_json *inl = sg_json_get(item, "isInline");
  int64_t size = -1;
  if (!sg_json_int(sg_json_get(item, "size"), &size))
    size = -1;
  if (item == NULL || (type && strcmp(type, "file") != 0) || name == NULL || name[0] == '\0' ||
      size <= 0) {
    error(c, 400, "ErrorInvalidRequest",
          "AttachmentItem needs attachmentType file, a name and a size.", 0);
  } else if (size > s->cfg.graph_attachment_max) {
    error(c, 413, "ErrorAttachmentSizeShouldNotBeMoreThanMaximumSize",
          "The attachment is larger than an upload session takes (150 MB).", 0);
  } else {
    uint64_t ttl = (uint64_t)s->cfg.graph_upload_ttl_ms, now = sg_wall_ms();
    sg_sbx_upload *u = sg_sbx_upload_create(&s->drafts, dr, name, ctype, cid, sg_json_true(inl),
                                            (uint64_t)size, now + ttl, sg_rand_next(&s->id_rng));
    s->stats.uploads_created++;
    char exp[32];
    iso(now + ttl, exp);
    sg_buf b = SG_BUF_INIT;
    sg_buf_printf(&b,
                  "{\"@odata.context\":\"https://graph.microsoft.com/v1.0/"
                  "$metadata#microsoft.graph.uploadSession\",\"uploadUrl\":\"https://%s:%u/up/%s\","
                  "\"expirationDateTime\":\"%s\",\"nextExpectedRanges\":[\"0-\"]}",
                  s->cfg.public_host, (unsigned)s->port, u->token, exp);
    reply(c, 201, &b, NULL);
    sg_buf_free(&b);
  }
  sg_json_doc_free(doc);
}

/* The draft goes: recorded exactly like an accepted sendMail message. */
static void send_draft(dctx *c, sg_sbx_draft *dr) {
  sg_sbx *s = c->s;
  sg_sbx_msg m;
  sg_sbx_verdict v;
  if (validate(dr->json.data, dr->json.len, dr->mailbox, &m, &v)) {
    error(c, v.status, v.code, v.message, 0);
    sg_sbx_msg_free(&m);
    return;
  }
  /* The key covers the message and every attachment's digest: the same job
   * sent twice has the same key and counts as a duplicate. */
  sg_buf k = SG_BUF_INIT;
  sg_buf_append(&k, dr->json.data, dr->json.len);
  for (size_t i = 0; i < m.n_atts; i++)
    sg_buf_append_str(&k, m.atts[i].sha256);
  for (size_t i = 0; i < dr->n_atts; i++) {
    const sg_sbx_datt *a = &dr->atts[i];
    sg_sbx_att *x = sg_sbx_msg_add_att(&m, a->name, a->content_type, a->content_id, a->is_inline,
                                       (size_t)a->size);
    snprintf(x->sha256, sizeof x->sha256, "%s", a->sha256);
    sg_buf_append_str(&k, a->sha256);
  }
  sg_sbx_msg_set_key(&m, k.data, k.len);
  sg_buf_free(&k);
  s->stats.graph_accepted++;
  s->stats.drafts_sent++;
  sg_sbx__record(s, &m, c->ids.request_id, NULL);
  sg_sbx__inbox_add(s, &m, c->ids.request_id, dr->json.data, dr->json.len);
  sg_sbx_msg_free(&m);
  sg_sbx_drafts_remove(&s->drafts, dr);
  /* faults.delay_202_*: the draft is sent, its answer comes late (lost to a
   * client that times out first), as for sendMail. */
  if (s->cfg.fault_delay_202_rate > 0 && sg_rand01(&s->rng) < s->cfg.fault_delay_202_rate) {
    s->stats.fault_delay_202++;
    c->latency += (uint64_t)s->cfg.fault_delay_202_ms;
  }
  reply(c, 202, NULL, NULL);
}

static void get_draft(dctx *c, const sg_sbx_draft *dr) {
  sg_buf b = SG_BUF_INIT;
  sg_buf_append_str(&b, "{\"id\":");
  sg_jw_cstr(&b, dr->id);
  sg_buf_printf(&b, ",\"isDraft\":true,\"hasAttachments\":%s}", dr->n_atts ? "true" : "false");
  reply(c, 200, &b, NULL);
  sg_buf_free(&b);
}

void sg_sbx__route_draft(sg_sbx *s, sg_httpd_req *req, const char *mailbox, const char *rest) {
  dctx c = {.s = s, .req = req, .latency = (uint64_t)s->cfg.fault_latency_ms};
  sg_sbx__graph_ids_init(s, req, &c.ids);
  sg_sbx_token_info info;
  if (!sg_sbx__graph_auth(s, req, &c.ids, &info))
    return;
  sg_sbx__graph_key(info.client_id, mailbox, c.key, sizeof c.key, c.mb, sizeof c.mb);
  const char *m = req->method;
  bool post = strcmp(m, "POST") == 0;
  /* rest: "" | "/{id}" | "/{id}/attachments" | "/{id}/attachments/createUploadSession" |
   * "/{id}/send" */
  char id[SG_SBX_DRAFT_ID_MAX] = "";
  const char *tail = "";
  if (rest[0] == '/') {
    const char *e = strchr(rest + 1, '/');
    size_t n = e ? (size_t)(e - rest - 1) : strlen(rest + 1);
    if (n == 0 || n >= sizeof id) {
      sg_sbx__graph_error(s, req, &c.ids, 404, "ErrorItemNotFound",
                          "The specified object was not found in the store.", true, 0, NULL, NULL,
                          c.latency);
      return;
    }
    memcpy(id, rest + 1, n);
    id[n] = '\0';
    tail = e ? e : "";
  } else if (rest[0] != '\0') {
    sg_sbx__graph_error(s, req, &c.ids, 404, "NotFound", "No such resource.", false, 0, NULL, NULL,
                        c.latency);
    return;
  }
  if (!admit(&c))
    return;
  if (!readwrite(&c))
    return;
  if (id[0] == '\0') {
    if (!post) {
      error(&c, 405, "ErrorInvalidRequest", "Only POST creates a draft here.", 0);
      return;
    }
    if (budget(&c, req->body_len))
      create_draft(&c, mailbox);
    return;
  }
  sg_sbx_draft *dr = sg_sbx_drafts_find(&s->drafts, c.mb, id);
  if (dr == NULL) {
    error(&c, 404, "ErrorItemNotFound", "The specified object was not found in the store.", 0);
    return;
  }
  if (tail[0] == '\0' && strcmp(m, "GET") == 0) {
    get_draft(&c, dr);
  } else if (tail[0] == '\0' && strcmp(m, "DELETE") == 0) {
    sg_sbx_drafts_remove(&s->drafts, dr);
    s->stats.drafts_deleted++;
    reply(&c, 204, NULL, NULL);
  } else if (post && strcmp(tail, "/attachments") == 0) {
    if (budget(&c, req->body_len))
      add_attachment(&c, dr);
  } else if (post && strcmp(tail, "/attachments/createUploadSession") == 0) {
    create_session(&c, dr);
  } else if (post && strcmp(tail, "/send") == 0) {
    send_draft(&c, dr);
  } else {
    error(&c, 405, "ErrorInvalidRequest", "The method or path is not supported on a message.", 0);
  }
}

/* ---- the upload URL ---- */

static void range_refused(dctx *c, sg_sbx_range_verdict v, const sg_sbx_upload *u) {
  char msg[200];
  switch (v) {
  case SG_SBX_RANGE_OUT_OF_ORDER:
    snprintf(msg, sizeof msg,
             "The range does not start at the next expected byte %" PRIu64
             " (ranges go in order, without gaps or overlap).",
             u->next);
    error(c, 416, "InvalidRange", msg, 0);
    return;
  case SG_SBX_RANGE_TOO_LARGE:
    error(c, 413, "RequestEntityTooLarge", "The range is larger than one upload chunk may be.", 0);
    return;
  case SG_SBX_RANGE_BAD_TOTAL:
    error(c, 400, "InvalidRange", "The total in Content-Range differs from the session's size.", 0);
    return;
  default:
    error(c, 400, "InvalidRange",
          "Content-Range must be bytes a-b/total and match the length of the body.", 0);
    return;
  }
}

void sg_sbx__route_upload(sg_sbx *s, sg_httpd_req *req, const char *token) {
  dctx c = {.s = s, .req = req, .latency = (uint64_t)s->cfg.fault_latency_ms};
  sg_sbx__graph_ids_init(s, req, &c.ids);
  uint64_t now = sg_wall_ms();
  sg_sbx_upload *u = sg_sbx_upload_find(&s->drafts, token, now);
  if (u == NULL) {
    sg_sbx_stats_reject(&s->stats, "ErrorItemNotFound");
    sg_sbx__graph_error(s, req, &c.ids, 404, "ErrorItemNotFound",
                        "The upload session was not found or has expired.", true, 0, NULL, NULL,
                        c.latency);
    return;
  }
  /* u->app is the limiter key of the draft's creator, "graph|<app>|<mailbox>" */
  snprintf(c.key, sizeof c.key, "%s", u->app);
  snprintf(c.mb, sizeof c.mb, "%s", u->mailbox);
  if (strcmp(req->method, "DELETE") == 0) {
    sg_sbx_upload_remove(&s->drafts, u);
    sg_sbx_reply r;
    sg_sbx__reply_init(&r, 204);
    sg_sbx__graph_headers(&r, &c.ids);
    sg_sbx__send(s, req, &r, c.latency);
    return;
  }
  if (strcmp(req->method, "PUT") != 0) {
    sg_sbx__graph_error(s, req, &c.ids, 405, "ErrorInvalidRequest", "PUT or DELETE.", false, 0,
                        NULL, NULL, c.latency);
    return;
  }
  if (!admit(&c))
    return;
  char range[128];
  const char *h = sg_sbx__header(req, "content-range", range, sizeof range);
  sg_sbx_range_verdict v =
      sg_sbx_upload_check(u, h, req->body_len, (uint64_t)s->cfg.graph_upload_max_chunk);
  if (v != SG_SBX_RANGE_OK) {
    range_refused(&c, v, u);
    return;
  }
  if (!budget(&c, req->body_len))
    return;
  s->stats.upload_ranges++;
  s->stats.upload_bytes += req->body_len;
  uint64_t ttl = (uint64_t)s->cfg.graph_upload_ttl_ms;
  char draft_id[SG_SBX_DRAFT_ID_MAX];
  snprintf(draft_id, sizeof draft_id, "%s", u->draft_id);
  if (sg_sbx_upload_put(&s->drafts, u, req->body, req->body_len, now + ttl)) {
    s->stats.uploads_completed++;
    char loc[600];
    snprintf(loc, sizeof loc, "https://%s:%u/v1.0/users('%s')/messages('%s')/attachments",
             s->cfg.public_host, (unsigned)s->port, c.mb, draft_id);
    reply(&c, 201, NULL, loc);
    return;
  }
  char exp[32];
  iso(now + ttl, exp);
  sg_buf b = SG_BUF_INIT;
  sg_buf_printf(&b, "{\"expirationDateTime\":\"%s\",\"nextExpectedRanges\":[\"%" PRIu64 "\"]}", exp,
                u->next);
  reply(&c, 200, &b, NULL);
  sg_buf_free(&b);
}
