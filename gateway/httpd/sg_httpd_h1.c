/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/1.1 connections of the server: reading requests with sg_h1_parse
 * (keep-alive, Content-Length and chunked bodies, a bounded number of
 * pipelined requests), writing responses strictly in request order, and the
 * server's own answers (400, 431, 413). Responses are written up to the
 * high-water mark and continued when the output drains.
 */
#include <stdio.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_log.h"
#include "httpd/sg_httpd_int.h"

/* A 413'd upload is read and thrown away for at most this many bytes before
 * the connection is closed anyway (the linger timer bounds the time). */
#define DISCARD_MAX (64u * 1024 * 1024)

static bool has_body(const sg_hd_req *r, int status) {
  return !r->is_head && status != 204 && status != 304;
}

static void serialize(sg_hd_req *r, int status, const sg_http_header *h, size_t nh,
                      const void *body, size_t len, bool close) {
  sg_buf *b = &r->resp;
  sg_buf_reset(b);
  size_t need = 128 + len;
  for (size_t i = 0; i < nh; i++)
    need += h[i].name_len + h[i].value_len + 4;
  sg_buf_reserve(b, need);
  sg_buf_printf(b, "HTTP/1.1 %d %s\r\n", status, sg_h1_reason(status));
  for (size_t i = 0; i < nh; i++) {
    if (sg_httpd__hop_header(&h[i]))
      continue;
    size_t at = b->len;
    sg_buf_append(b, h[i].name, h[i].name_len);
    for (size_t k = at; k < b->len; k++)
      if (b->data[k] >= 'A' && b->data[k] <= 'Z')
        b->data[k] = (char)(b->data[k] - 'A' + 'a');
    sg_buf_append(b, ": ", 2);
    sg_buf_append(b, h[i].value, h[i].value_len);
    sg_buf_append(b, "\r\n", 2);
  }
  if (status != 204 && status != 304)
    sg_buf_printf(b, "content-length: %zu\r\n", len);
  if (close)
    sg_buf_append_str(b, "connection: close\r\n");
  else if (r->minor == 0)
    sg_buf_append_str(b, "connection: keep-alive\r\n");
  sg_buf_append(b, "\r\n", 2);
  if (len && has_body(r, status))
    sg_buf_append(b, body, len);
  r->resp_off = 0;
  r->keep_alive = !close;
}

/* The server answers by itself and stops reading requests. */
static void fail(sg_hd_conn *c, int status) {
  sg_hd_req *r = c->cur;
  c->cur = NULL;
  if (r == NULL) {
    r = sg_httpd__req_new(c);
    r->minor = 1;
  }
  r->state = REQ_RESPONDING;
  static const sg_http_header ct = {"content-type", 12, "text/plain", 10};
  const char *reason = sg_h1_reason(status);
  serialize(r, status, &ct, 1, reason, strlen(reason), true);
  c->h1 = H1_STOPPED;
  c->head_started = 0;
  c->srv->stats.bad_requests++;
  sg_log(SG_LOG_DEBUG, "httpd", "conn %llu: answered %d", (unsigned long long)c->id, status);
}

static void too_big(sg_hd_conn *c, sg_hd_req *r) {
  c->cur = NULL;
  r->too_big = true;
  r->state = REQ_RESPONDING;
  static const sg_http_header ct = {"content-type", 12, "application/json", 16};
  serialize(r, 413, &ct, 1, sg_hd_json_413, strlen(sg_hd_json_413), true);
  c->h1 = H1_DISCARD;
  c->srv->stats.too_big++;
}

static sg_hd_req *new_req(sg_hd_conn *c, const sg_h1_head *h) {
  sg_hd_req *r = sg_httpd__req_new(c);
  r->pub.protocol = 1;
  r->pub.stream_id = ++c->h1_seq;
  r->off_method = sg_httpd__req_str(r, h->method, h->method_len);
  r->off_path = sg_httpd__req_str(r, h->target, h->target_len);
  if (h->host)
    r->off_host = sg_httpd__req_str(r, h->host, h->host_len);
  r->off_scheme = c->tls ? sg_httpd__req_str(r, "https", 5) : sg_httpd__req_str(r, "http", 4);
  for (size_t i = 0; i < h->nheaders; i++)
    sg_httpd__req_add_header(r, h->headers[i].name, h->headers[i].name_len, h->headers[i].value,
                             h->headers[i].value_len);
  r->keep_alive = h->keep_alive;
  r->minor = h->minor;
  c->cur = r;
  return r;
}

static void complete(sg_hd_conn *c) {
  sg_hd_req *r = c->cur;
  c->cur = NULL;
  sg_httpd__req_ready(r);
  c->h1 = r->keep_alive ? H1_HEAD : H1_STOPPED;
}

/* Returns false when processing must wait (more input, or a full pipeline). */
static bool on_head(sg_hd_conn *c) {
  const sg_httpd_settings *s = &c->srv->set;
  if (c->in.len == 0)
    return false;
  if (c->nreqs >= s->h1_max_pipeline) {
    sg_httpd__conn_pause(c, true);
    return false;
  }
  if (!c->head_started) {
    c->head_started = uv_now(c->srv->loop);
    sg_httpd__conn_arm(c, c->head_started + s->header_timeout_ms);
  }
  sg_h1_head h;
  size_t hl;
  int rv = sg_h1_parse_head(c->in.data, c->in.len, s->max_header_block, &c->scan, &h, &hl);
  if (rv == SG_ERR_AGAIN)
    return false;
  if (rv != 0) {
    fail(c, rv == SG_ERR_TOOBIG ? 431 : 400);
    return true;
  }
  sg_hd_req *r = new_req(c, &h);
  sg_buf_consume(&c->in, hl);
  sg_h1_head_reset(&c->scan);
  c->head_started = 0;
  if (h.has_length && h.content_length > s->max_body) {
    too_big(c, r);
    return true;
  }
  bool body = h.chunked || (h.has_length && h.content_length > 0);
  if (body && h.expect_continue && c->reqs.next == &r->link) {
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    sg_tlsconn_write(c->tc, (const uint8_t *)cont, sizeof cont - 1);
  }
  if (h.chunked) {
    c->h1 = H1_BODY_CHUNKED;
    sg_h1_chunked_init(&c->ck);
  } else if (body) {
    c->h1 = H1_BODY_LENGTH;
    c->body_left = h.content_length;
    sg_buf_reserve(&r->body, (size_t)h.content_length);
  } else {
    complete(c);
  }
  return true;
}

static void process(sg_hd_conn *c) {
  const sg_httpd_settings *s = &c->srv->set;
  bool more = true;
  while (more && !c->closing) {
    switch (c->h1) {
    case H1_HEAD:
      more = on_head(c);
      break;
    case H1_BODY_LENGTH: {
      size_t take = c->in.len < c->body_left ? c->in.len : (size_t)c->body_left;
      sg_buf_append(&c->cur->body, c->in.data, take);
      sg_buf_consume(&c->in, take);
      c->body_left -= take;
      more = c->body_left == 0;
      if (more)
        complete(c);
      break;
    }
    case H1_BODY_CHUNKED: {
      size_t used = 0;
      int rv = sg_h1_chunked_feed(&c->ck, c->in.data, c->in.len, &used, &c->cur->body, s->max_body);
      sg_buf_consume(&c->in, used);
      if (rv == 1)
        complete(c);
      else if (rv == SG_ERR_TOOBIG)
        too_big(c, c->cur);
      else if (rv < 0)
        fail(c, 400);
      more = rv != 0;
      break;
    }
    default: /* STOPPED, DISCARD */
      c->discarded += c->in.len;
      sg_buf_reset(&c->in);
      more = false;
      break;
    }
  }
}

void sg_httpd__h1_start(sg_hd_conn *c, const uint8_t *p, size_t n) {
  c->proto = CONN_H1;
  c->h1 = H1_HEAD;
  if (n)
    sg_httpd__h1_on_read(c, p, n);
}

void sg_httpd__h1_on_read(sg_hd_conn *c, const uint8_t *p, size_t n) {
  if (c->h1 == H1_STOPPED || c->h1 == H1_DISCARD) {
    c->discarded += n;
    if (c->discarded > DISCARD_MAX)
      sg_httpd__conn_close(c, 0);
    return;
  }
  sg_buf_append(&c->in, p, n);
  process(c);
  sg_httpd__conn_dispatch(c);
  sg_httpd__h1_flush(c);
}

/* Writes finished responses in order; returns true if at least one completed. */
static bool write_responses(sg_hd_conn *c) {
  size_t hw = c->srv->set.out_high_water;
  bool done_any = false;
  sg_list *n;
  while (!c->closing && (n = sg_list_front(&c->reqs)) != NULL) {
    sg_hd_req *r = sg_container_of(n, sg_hd_req, link);
    if (r->state != REQ_RESPONDING)
      break;
    while (r->resp_off < r->resp.len) {
      size_t pending = sg_tlsconn_out_pending(c->tc);
      if (pending >= hw)
        return done_any; /* continue from on_drain */
      size_t chunk = r->resp.len - r->resp_off;
      if (chunk > hw - pending)
        chunk = hw - pending;
      if (sg_tlsconn_write(c->tc, (const uint8_t *)r->resp.data + r->resp_off, chunk) != 0)
        return done_any;
      r->resp_off += chunk;
    }
    bool close = !r->keep_alive, lingers = r->too_big && c->h1 == H1_DISCARD;
    sg_httpd__req_free(r);
    done_any = true;
    if (close) {
      /* After its own 413 the connection reads on a while (discarding) so
       * that the client gets to read it. Any other closing response ends the
       * connection here: what was pipelined after it is dropped, a 413
       * already queued behind it included. */
      if (lingers)
        sg_httpd__conn_linger(c);
      else
        sg_httpd__conn_close(c, 0);
      return done_any;
    }
  }
  return done_any;
}

void sg_httpd__h1_flush(sg_hd_conn *c) {
  /* Bounded: each round needs a completed response, and those are finite. */
  while (!c->closing && write_responses(c)) {
    if (c->closing || c->h1 != H1_HEAD)
      break;
    if (c->nreqs < c->srv->set.h1_max_pipeline)
      sg_httpd__conn_pause(c, false);
    process(c); /* pipelined requests waiting in c->in */
    sg_httpd__conn_dispatch(c);
  }
}

int sg_httpd__h1_respond(sg_hd_req *r, int status, const sg_http_header *h, size_t nh,
                         const void *body, size_t len) {
  sg_hd_conn *c = r->conn;
  bool ok = status >= 200 && status <= 599;
  for (size_t i = 0; ok && i < nh; i++)
    ok = sg_httpd__header_ok(&h[i]);
  if (!ok) {
    sg_httpd__req_free(r);
    sg_httpd__conn_close(c, SG_ERR_INVAL);
    return SG_ERR_INVAL;
  }
  bool close = !r->keep_alive || r->goaway;
  if (r->goaway && c->h1 != H1_DISCARD)
    c->h1 = H1_STOPPED;
  serialize(r, status, h, nh, body, len, close);
  return 0;
}
