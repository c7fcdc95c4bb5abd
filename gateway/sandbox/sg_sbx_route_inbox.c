/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sandbox's web inbox over HTTP, and the hooks the other routes call to
 * fill it (sg_sbx_int.h). Paths (GET unless said):
 *   /inbox                              the page (sandbox/inbox/index.html)
 *   /inbox/app.js, /inbox/app.css       its script and style
 *   /inbox/api/messages?q=&mailbox=&rcpt=&since=&limit=
 *                                       the list, newest first (JSON); DELETE empties the inbox
 *   /inbox/api/messages/ID              one message in full (JSON)
 *   /inbox/messages/ID/html             its HTML, as a document of its own
 *   /inbox/messages/ID/attachments/N    attachment N, as a download
 * The page may run only its own script; a message's HTML is served with a
 * Content-Security-Policy that forbids every script and every fetch but
 * data: and cid: images, and the "sandbox" directive (no scripts, an
 * opaque origin) even when opened on its own; the page also frames it in an
 * iframe with an empty sandbox attribute. Attachments are always
 * application/octet-stream with Content-Disposition: attachment. Every
 * answer carries nosniff and no-store. No long-lived requests: the page
 * polls the list with since= (one small answer a second).
 */
#include "sandbox/sg_sbx_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/sg_clock.h"
#include "sandbox/sg_sbx_form.h"
#include "sandbox/sg_sbx_inbox_assets.h"
#include "sandbox/sg_sbx_inbox_capture.h"

/* The page: its own script, style, frames and API only. */
#define CSP_PAGE                                                                                   \
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "                \
  "connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'; "                    \
  "frame-ancestors 'none'"
/* A message's HTML: no script, no fetch, inline style and embedded images only. */
#define CSP_MESSAGE                                                                                \
  "default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'; base-uri 'none'; "           \
  "form-action 'none'; frame-ancestors 'self'; sandbox"
/* JSON and downloads: nothing at all. */
#define CSP_NONE "default-src 'none'; frame-ancestors 'none'; sandbox"

static void limits(const sg_sbx *s, sg_sbx_inbox_limits *l) {
  l->max_messages = (size_t)s->cfg.inbox_max_messages;
  l->max_bytes = (size_t)s->cfg.inbox_max_bytes;
  l->max_message_bytes = (size_t)s->cfg.inbox_max_message_bytes;
  l->max_events = (size_t)s->cfg.inbox_max_events;
}

void sg_sbx__inbox_add(sg_sbx *s, const sg_sbx_msg *m, const char *request_id, const void *body,
                       size_t len) {
  sg_sbx_inbox_limits l;
  limits(s, &l);
  if (l.max_messages == 0)
    return;
  sg_sbx_inbox_msg *im = sg_sbx_inbox_capture(m, request_id, body, len, l.max_message_bytes);
  sg_sbx_inbox_add(s->inbox, im, sg_wall_ms(), &l);
}

void sg_sbx__inbox_event(sg_sbx *s, const char *api, const char *mailbox, int status,
                         const char *code, uint64_t retry_ms) {
  sg_sbx_inbox_event ev;
  memset(&ev, 0, sizeof ev);
  ev.ts_ms = sg_wall_ms();
  snprintf(ev.api, sizeof ev.api, "%s", api);
  size_t i;
  for (i = 0; mailbox && mailbox[i] && i < sizeof ev.mailbox - 1; i++)
    ev.mailbox[i] = (char)(mailbox[i] >= 'A' && mailbox[i] <= 'Z' ? mailbox[i] + 32 : mailbox[i]);
  ev.mailbox[i] = '\0';
  ev.status = status;
  snprintf(ev.code, sizeof ev.code, "%s", code ? code : "");
  ev.retry_ms = retry_ms;
  sg_sbx_inbox_event_add(s->inbox, &ev, (size_t)s->cfg.inbox_max_events);
}

void sg_sbx__inbox_event_req(sg_sbx *s, const sg_httpd_req *req, int status, const char *code,
                             uint64_t retry_ms) {
  static const char users[] = "/v1.0/users/";
  const char *p = req->path;
  if (strncmp(p, users, sizeof users - 1) == 0) {
    const char *mb = p + sizeof users - 1;
    size_t n = strcspn(mb, "/?");
    sg_buf dec = SG_BUF_INIT;
    if (sg_sbx_form_decode(&dec, mb, n) == 0 && dec.len && memchr(dec.data, '\0', dec.len) == NULL)
      sg_sbx__inbox_event(s, "graph", dec.data, status, code, retry_ms);
    sg_buf_free(&dec);
  } else if (strncmp(p, "/emails", 7) == 0 || strncmp(p, "//emails", 8) == 0) {
    sg_sbx__inbox_event(s, "acs", "", status, code, retry_ms); /* ACS limits the resource */
  }
}

/* ---- answers ---- */

static void respond(sg_sbx *s, sg_httpd_req *req, int status, const char *ctype, const char *csp,
                    const void *body, size_t len, const char *disposition) {
  sg_sbx_reply r;
  sg_sbx__reply_init(&r, status);
  sg_sbx__reply_header(&r, "content-type", ctype);
  sg_sbx__reply_header(&r, "content-security-policy", csp);
  sg_sbx__reply_header(&r, "x-content-type-options", "nosniff");
  sg_sbx__reply_header(&r, "referrer-policy", "no-referrer");
  sg_sbx__reply_header(&r, "cache-control", "no-store");
  sg_sbx__reply_header(&r, "cross-origin-resource-policy", "same-origin");
  if (disposition)
    sg_sbx__reply_header(&r, "content-disposition", disposition);
  sg_sbx__reply_body(&r, body, len);
  sg_sbx__send(s, req, &r, 0);
}

static void json(sg_sbx *s, sg_httpd_req *req, int status, const sg_buf *b) {
  respond(s, req, status, "application/json; charset=utf-8", CSP_NONE, b->data, b->len, NULL);
}

static void error(sg_sbx *s, sg_httpd_req *req, int status, const char *message) {
  sg_buf b = SG_BUF_INIT;
  sg_buf_printf(&b, "{\"error\":\"%s\"}", message); /* static messages, nothing to escape */
  json(s, req, status, &b);
  sg_buf_free(&b);
}

static void asset(sg_sbx *s, sg_httpd_req *req, const char *name) {
  for (size_t i = 0; i < sg_sbx_inbox_n_assets; i++) {
    const sg_sbx_inbox_asset *a = &sg_sbx_inbox_assets[i];
    if (strcmp(a->name, name) == 0) {
      respond(s, req, 200, a->content_type, CSP_PAGE, a->data, a->len, NULL);
      return;
    }
  }
  error(s, req, 404, "no such file");
}

/* Query parameter |name|, percent-decoded, into |out| ("" when absent or bad). */
static const char *param(const char *path, const char *name, char *out, size_t cap) {
  char raw[512];
  out[0] = '\0';
  if (sg_sbx__query(path, name, raw, sizeof raw) == NULL)
    return out;
  sg_buf b = SG_BUF_INIT;
  if (sg_sbx_form_decode(&b, raw, strlen(raw)) == 0 && b.len < cap &&
      memchr(b.data ? b.data : "", '\0', b.len) == NULL && b.len)
    memcpy(out, b.data, b.len + 1);
  sg_buf_free(&b);
  return out;
}

static void list(sg_sbx *s, sg_httpd_req *req) {
  char q[256], mb[256], rcpt[256], since[32], lim[32];
  sg_sbx_inbox_filter f = {param(req->path, "q", q, sizeof q),
                           param(req->path, "mailbox", mb, sizeof mb),
                           param(req->path, "rcpt", rcpt, sizeof rcpt),
                           strtoull(param(req->path, "since", since, sizeof since), NULL, 10),
                           (size_t)strtoull(param(req->path, "limit", lim, sizeof lim), NULL, 10)};
  sg_buf b = SG_BUF_INIT;
  sg_sbx_inbox_list_json(s->inbox, &f, &b);
  json(s, req, 200, &b);
  sg_buf_free(&b);
}

/* A decimal id at |p| ending at '/' or the end; |*rest| after it. 0 when bad. */
static uint64_t parse_id(const char *p, const char **rest) {
  uint64_t id = 0;
  const char *q = p;
  while (*q >= '0' && *q <= '9' && q - p < 19)
    id = id * 10 + (uint64_t)(*q++ - '0');
  *rest = q;
  return q == p || (*q && *q != '/') ? 0 : id;
}

/* /inbox/messages/ID/{html,attachments/N} */
static void content(sg_sbx *s, sg_httpd_req *req, const char *p) {
  const char *rest;
  const sg_sbx_inbox_msg *m = sg_sbx_inbox_get(s->inbox, parse_id(p, &rest));
  if (m == NULL) {
    error(s, req, 404, "no such message (the inbox keeps the most recent ones)");
    return;
  }
  if (strcmp(rest, "/html") == 0) {
    respond(s, req, 200, "text/html; charset=utf-8", CSP_MESSAGE, m->html, strlen(m->html), NULL);
    return;
  }
  const char *n = NULL;
  uint64_t idx = strncmp(rest, "/attachments/", 13) == 0 ? parse_id(rest + 13, &n) + 1 : 0;
  if (idx == 0 || *n || idx > m->n_atts || m->atts[idx - 1].data == NULL) {
    error(s, req, 404, "no such attachment");
    return;
  }
  const sg_sbx_inbox_att *a = &m->atts[idx - 1];
  char fname[128], disp[200];
  sg_sbx_inbox_file_name(fname, sizeof fname, a->name, (size_t)(idx - 1));
  snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", fname);
  respond(s, req, 200, "application/octet-stream", CSP_NONE, a->data, a->size, disp);
}

void sg_sbx__route_inbox(sg_sbx *s, sg_httpd_req *req) {
  char path[256];
  size_t plen = strcspn(req->path, "?");
  if (plen >= sizeof path) {
    error(s, req, 404, "not found");
    return;
  }
  memcpy(path, req->path, plen);
  path[plen] = '\0';
  bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
  static const char api[] = "/inbox/api/messages/", msgs[] = "/inbox/messages/";
  if (strcmp(path, "/inbox/api/messages") == 0 && strcmp(req->method, "DELETE") == 0) {
    sg_sbx_inbox_clear(s->inbox);
    sg_buf b = SG_BUF_INIT;
    sg_buf_append_str(&b, "{\"emptied\":true}");
    json(s, req, 200, &b);
    sg_buf_free(&b);
  } else if (!get) {
    error(s, req, 405, "method not allowed");
  } else if (strcmp(path, "/inbox") == 0 || strcmp(path, "/inbox/") == 0) {
    asset(s, req, "index.html");
  } else if (strcmp(path, "/inbox/app.js") == 0 || strcmp(path, "/inbox/app.css") == 0) {
    asset(s, req, path + 7);
  } else if (strcmp(path, "/inbox/api/messages") == 0) {
    list(s, req);
  } else if (strncmp(path, api, sizeof api - 1) == 0) {
    const char *rest;
    const sg_sbx_inbox_msg *m = sg_sbx_inbox_get(s->inbox, parse_id(path + sizeof api - 1, &rest));
    if (m == NULL || *rest) {
      error(s, req, 404, "no such message (the inbox keeps the most recent ones)");
      return;
    }
    sg_buf b = SG_BUF_INIT;
    sg_sbx_inbox_msg_json(s->inbox, m, &b);
    json(s, req, 200, &b);
    sg_buf_free(&b);
  } else if (strncmp(path, msgs, sizeof msgs - 1) == 0) {
    content(s, req, path + sizeof msgs - 1);
  } else {
    error(s, req, 404, "not found");
  }
}
