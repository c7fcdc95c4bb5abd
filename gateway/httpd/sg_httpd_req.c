/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The server's request object: creation, string storage (one buffer per
 * request holding every string the handler sees), the header array built at
 * dispatch, and release. Protocol-independent; no I/O.
 */
#include <string.h>
#include <strings.h>

#include "core/sg_mem.h"
#include "httpd/sg_httpd_int.h"

const char sg_hd_json_413[] =
    "{\"error\":{\"code\":\"RequestEntityTooLarge\",\"message\":\"request body too large\"}}";

static const char empty[] = "";

sg_hd_req *sg_httpd__req_new(sg_hd_conn *c) {
  sg_hd_req *r = sg_xcalloc(1, sizeof *r);
  r->conn = c;
  r->state = REQ_RECEIVING;
  r->off_method = r->off_path = r->off_authority = r->off_scheme = r->off_host = SG_HD_NOSTR;
  r->declared_len = UINT64_MAX;
  sg_list_node_init(&r->ready_link);
  sg_list_push_back(&c->reqs, &r->link);
  c->nreqs++;
  r->pub.conn_id = c->id;
  r->pub.peer = empty;
  return r;
}

void sg_httpd__req_unhook(sg_hd_req *r) {
  sg_hd_conn *c = r->conn;
  if (c && c->h2 && r->pub.protocol == 2 && nghttp2_session_find_stream(c->h2, r->pub.stream_id))
    nghttp2_session_set_stream_user_data(c->h2, r->pub.stream_id, NULL);
}

void sg_httpd__req_free(sg_hd_req *r) {
  sg_hd_conn *c = r->conn;
  if (c) {
    sg_httpd__req_unhook(r);
    sg_list_remove(&r->link);
    if (sg_list_linked(&r->ready_link))
      sg_list_remove(&r->ready_link);
    c->nreqs--;
    if (r->state == REQ_HANDLER)
      c->in_handler--;
  }
  sg_buf_free(&r->strs);
  sg_buf_free(&r->hoffs);
  sg_buf_free(&r->body);
  sg_buf_free(&r->resp);
  sg_free(r->hdrs);
  sg_free(r);
}

uint32_t sg_httpd__req_str(sg_hd_req *r, const char *s, size_t n) {
  uint32_t off = (uint32_t)r->strs.len;
  sg_buf_append(&r->strs, s, n);
  sg_buf_append_char(&r->strs, '\0');
  return off;
}

uint32_t sg_httpd__req_add_header(sg_hd_req *r, const char *name, size_t nlen, const char *value,
                                  size_t vlen) {
  sg_hd_hoff h;
  h.name = sg_httpd__req_str(r, name, nlen);
  h.name_len = (uint32_t)nlen;
  h.value = sg_httpd__req_str(r, value, vlen);
  h.value_len = (uint32_t)vlen;
  sg_buf_append(&r->hoffs, &h, sizeof h);
  return h.value;
}

static const char *str_at(const sg_hd_req *r, uint32_t off) {
  return off == SG_HD_NOSTR ? empty : r->strs.data + off;
}

void sg_httpd__req_finalize(sg_hd_req *r) {
  uint32_t peer = SG_HD_NOSTR;
  if (r->conn)
    peer = sg_httpd__req_str(r, r->conn->peer, strlen(r->conn->peer));
  /* No more appends to strs after this point: the pointers below stay valid. */
  r->pub.method = str_at(r, r->off_method);
  r->pub.path = str_at(r, r->off_path);
  r->pub.authority = str_at(r, r->off_authority != SG_HD_NOSTR ? r->off_authority : r->off_host);
  r->pub.scheme = str_at(r, r->off_scheme);
  r->pub.peer = str_at(r, peer);
  size_t n = r->hoffs.len / sizeof(sg_hd_hoff);
  if (n > r->hdrs_cap) {
    r->hdrs = sg_xrealloc(r->hdrs, n * sizeof *r->hdrs);
    r->hdrs_cap = n;
  }
  const sg_hd_hoff *ho = (const sg_hd_hoff *)(const void *)r->hoffs.data;
  for (size_t i = 0; i < n; i++) {
    r->hdrs[i].name = r->strs.data + ho[i].name;
    r->hdrs[i].name_len = ho[i].name_len;
    r->hdrs[i].value = r->strs.data + ho[i].value;
    r->hdrs[i].value_len = ho[i].value_len;
  }
  r->pub.headers = r->hdrs;
  r->pub.nheaders = n;
  r->pub.body = (const uint8_t *)(r->body.data ? r->body.data : empty);
  r->pub.body_len = r->body.len;
  r->is_head = strcmp(r->pub.method, "HEAD") == 0;
}

void sg_httpd__req_ready(sg_hd_req *r) {
  r->state = REQ_READY;
  sg_list_push_back(&r->conn->ready, &r->ready_link);
}

static bool is_token(const char *s, size_t n) {
  if (n == 0)
    return false;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
    if (!ok)
      return false;
  }
  return true;
}

bool sg_httpd__header_ok(const sg_http_header *h) {
  if (!is_token(h->name, h->name_len))
    return false;
  for (size_t i = 0; i < h->value_len; i++) {
    char c = h->value[i];
    if (c == '\r' || c == '\n' || c == '\0')
      return false;
  }
  return true;
}

bool sg_httpd__hop_header(const sg_http_header *h) {
  static const char *const names[] = {"content-length", "connection", "transfer-encoding",
                                      "keep-alive",     "upgrade",    "proxy-connection"};
  for (size_t i = 0; i < SG_ARRAY_LEN(names); i++)
    if (h->name_len == strlen(names[i]) && strncasecmp(h->name, names[i], h->name_len) == 0)
      return true;
  return false;
}
