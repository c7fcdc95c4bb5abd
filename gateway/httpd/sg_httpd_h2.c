/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/2 connections of the server: an nghttp2 server session driven with
 * mem_recv/mem_send over sg_tlsconn. The nghttp2 callbacks only collect
 * request state (headers, a body capped at max_body) and queue complete
 * requests; the handler runs after mem_recv has returned, and output is pulled
 * from nghttp2 only while the transport holds less than the high-water mark.
 * Oversized bodies are answered 413 by the server itself.
 */
#include <stdio.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_log.h"
#include "httpd/sg_httpd_int.h"

/* Large receive windows so that multi-MB bodies flow without waiting for
 * WINDOW_UPDATE round trips; nghttp2 sends the updates as data is consumed.
 * Memory stays bounded because each stream's body is capped at max_body. */
#define STREAM_WINDOW (16 * 1024 * 1024)
#define CONN_WINDOW (64 * 1024 * 1024)
/* Response headers that fit without a heap array (plus :status and length). */
#define NV_STACK 32

static sg_hd_req *stream_req(nghttp2_session *s, int32_t id) {
  return nghttp2_session_get_stream_user_data(s, id);
}

static ssize_t read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t length,
                         uint32_t *flags, nghttp2_data_source *src, void *ud) {
  sg_hd_req *r = src->ptr;
  size_t n = r->resp.len - r->resp_off;
  if (n > length)
    n = length;
  memcpy(buf, r->resp.data + r->resp_off, n);
  r->resp_off += n;
  if (r->resp_off == r->resp.len)
    *flags |= NGHTTP2_DATA_FLAG_EOF;
  return (ssize_t)n;
}

static nghttp2_nv make_nv(const char *name, size_t nlen, const char *value, size_t vlen) {
  nghttp2_nv nv = {(uint8_t *)name, (uint8_t *)value, nlen, vlen, NGHTTP2_NV_FLAG_NONE};
  return nv;
}

/* Submits the response; on failure |r| is freed. */
static int submit(sg_hd_conn *c, sg_hd_req *r, int status, const sg_http_header *h, size_t nh,
                  const void *body, size_t len) {
  nghttp2_nv stack[NV_STACK + 2];
  nghttp2_nv *nva = nh <= NV_STACK ? stack : sg_xmalloc((nh + 2) * sizeof *nva);
  char st[8], cl[24];
  snprintf(st, sizeof st, "%d", status);
  size_t n = 0;
  nva[n++] = make_nv(":status", 7, st, strlen(st));
  for (size_t i = 0; i < nh; i++)
    if (!sg_httpd__hop_header(&h[i]))
      nva[n++] = make_nv(h[i].name, h[i].name_len, h[i].value, h[i].value_len);
  if (status != 204 && status != 304) {
    snprintf(cl, sizeof cl, "%zu", len);
    nva[n++] = make_nv("content-length", 14, cl, strlen(cl));
  }
  bool with_body = len > 0 && !r->is_head && status != 204 && status != 304;
  nghttp2_data_provider prd;
  if (with_body) {
    sg_buf_reset(&r->resp);
    sg_buf_append(&r->resp, body, len);
    r->resp_off = 0;
    prd.source.ptr = r;
    prd.read_callback = read_body;
  }
  int rv = nghttp2_submit_response(c->h2, r->pub.stream_id, nva, n, with_body ? &prd : NULL);
  if (nva != stack)
    sg_free(nva);
  if (rv != 0) {
    sg_httpd__req_free(r);
    return SG_ERR_CLOSED;
  }
  if (r->goaway)
    sg_httpd__h2_shutdown(c);
  return 0;
}

static void answer_413(sg_hd_conn *c, sg_hd_req *r) {
  if (r->too_big)
    return;
  r->too_big = true;
  r->state = REQ_RESPONDING;
  if (sg_list_linked(&r->ready_link))
    sg_list_remove(&r->ready_link);
  sg_buf_free(&r->body);
  c->srv->stats.too_big++;
  static const sg_http_header ct = {"content-type", 12, "application/json", 16};
  submit(c, r, 413, &ct, 1, sg_hd_json_413, strlen(sg_hd_json_413));
}

/* ---- nghttp2 callbacks: collect state only, never call mem_send/mem_recv ---- */

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *f, void *ud) {
  sg_hd_conn *c = ud;
  if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
    return 0;
  sg_hd_req *r = sg_httpd__req_new(c);
  r->pub.protocol = 2;
  r->pub.stream_id = f->hd.stream_id;
  r->minor = 1;
  nghttp2_session_set_stream_user_data(s, f->hd.stream_id, r);
  return 0;
}

static bool name_is(const uint8_t *name, size_t len, const char *lit) {
  return len == strlen(lit) && memcmp(name, lit, len) == 0;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
                     const uint8_t *value, size_t vlen, uint8_t flags, void *ud) {
  sg_hd_conn *c = ud;
  if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
    return 0; /* trailers are accepted and ignored */
  sg_hd_req *r = stream_req(s, f->hd.stream_id);
  if (r == NULL || r->state != REQ_RECEIVING)
    return 0;
  /* RFC 9113 6.5.2 counts 32 bytes of overhead per field. */
  r->hdr_bytes += nlen + vlen + 32;
  if (r->hdr_bytes > c->srv->set.max_header_block)
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* resets the stream */
  const char *v = (const char *)value;
  if (nlen > 0 && name[0] == ':') {
    if (name_is(name, nlen, ":method"))
      r->off_method = sg_httpd__req_str(r, v, vlen);
    else if (name_is(name, nlen, ":path"))
      r->off_path = sg_httpd__req_str(r, v, vlen);
    else if (name_is(name, nlen, ":authority"))
      r->off_authority = sg_httpd__req_str(r, v, vlen);
    else if (name_is(name, nlen, ":scheme"))
      r->off_scheme = sg_httpd__req_str(r, v, vlen);
    return 0;
  }
  if (name_is(name, nlen, "content-length")) {
    uint64_t x = 0;
    for (size_t i = 0; i < vlen && i < 19; i++)
      x = x * 10 + (uint64_t)(v[i] - '0'); /* nghttp2 has checked the syntax */
    r->declared_len = x;
  }
  uint32_t voff = sg_httpd__req_add_header(r, (const char *)name, nlen, v, vlen);
  if (name_is(name, nlen, "host"))
    r->off_host = voff;
  return 0;
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *ud) {
  sg_hd_conn *c = ud;
  if (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA)
    return 0;
  sg_hd_req *r = stream_req(s, f->hd.stream_id);
  if (r == NULL)
    return 0;
  if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST &&
      r->declared_len != UINT64_MAX && r->declared_len > c->srv->set.max_body)
    answer_413(c, r);
  if (f->hd.flags & NGHTTP2_FLAG_END_STREAM) {
    r->end_stream = true;
    if (r->state == REQ_RECEIVING)
      sg_httpd__req_ready(r);
  }
  return 0;
}

static int on_data_chunk(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data,
                         size_t len, void *ud) {
  sg_hd_conn *c = ud;
  sg_hd_req *r = stream_req(s, id);
  if (r && r->too_big) {
    /* Answered 413 already. A client that keeps uploading for more than a
     * whole window after that is told to stop (RFC 9113 8.1); stopping it at
     * once would make some clients (curl 7.88) drop the 413 they had not read. */
    r->discarded += len;
    if (r->discarded > STREAM_WINDOW && !r->rst_sent) {
      r->rst_sent = true;
      nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, id, NGHTTP2_NO_ERROR);
    }
    return 0;
  }
  if (r == NULL || r->state != REQ_RECEIVING)
    return 0; /* discarded; nghttp2 still credits the window */
  if (r->body.len + len > c->srv->set.max_body) {
    answer_413(c, r);
    return 0;
  }
  sg_buf_append(&r->body, data, len);
  return 0;
}

static int on_stream_close(nghttp2_session *s, int32_t id, uint32_t code, void *ud) {
  sg_hd_req *r = stream_req(s, id);
  if (r == NULL)
    return 0;
  if (r->state == REQ_HANDLER) {
    r->stream_closed = true; /* the handler's respond/reset will just free it */
    return 0;
  }
  sg_httpd__req_free(r);
  return 0;
}

int sg_httpd__h2_callbacks(sg_httpd *srv) {
  nghttp2_session_callbacks *cb;
  int rv = nghttp2_session_callbacks_new(&cb);
  if (rv != 0)
    return rv;
  nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
  nghttp2_option *opt;
  rv = nghttp2_option_new(&opt);
  if (rv != 0) {
    nghttp2_session_callbacks_del(cb);
    return rv;
  }
  srv->h2_cbs = cb;
  srv->h2_opt = opt;
  return 0;
}

/* ---- connection glue ---- */

int sg_httpd__h2_start(sg_hd_conn *c, const uint8_t *p, size_t n) {
  const sg_httpd_settings *set = &c->srv->set;
  c->proto = CONN_H2;
  int rv = nghttp2_session_server_new2(&c->h2, c->srv->h2_cbs, c, c->srv->h2_opt);
  if (rv != 0)
    return rv;
  nghttp2_settings_entry iv[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, set->max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, (uint32_t)set->max_header_block},
  };
  rv = nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, iv, SG_ARRAY_LEN(iv));
  if (rv == 0)
    rv = nghttp2_session_set_local_window_size(c->h2, NGHTTP2_FLAG_NONE, 0, CONN_WINDOW);
  if (rv != 0)
    return rv;
  if (n)
    sg_httpd__h2_on_read(c, p, n);
  else
    sg_httpd__h2_flush(c);
  return 0;
}

void sg_httpd__h2_on_read(sg_hd_conn *c, const uint8_t *p, size_t n) {
  ssize_t rv = nghttp2_session_mem_recv(c->h2, p, n);
  if (rv < 0) {
    sg_log(SG_LOG_DEBUG, "httpd", "conn %llu: h2 input: %s", (unsigned long long)c->id,
           nghttp2_strerror((int)rv));
    sg_httpd__conn_close(c, (int)rv);
    return;
  }
  sg_httpd__conn_dispatch(c);
  sg_httpd__h2_flush(c);
}

void sg_httpd__h2_flush(sg_hd_conn *c) {
  size_t hw = c->srv->set.out_high_water;
  while (!c->closing && sg_tlsconn_out_pending(c->tc) < hw) {
    const uint8_t *data;
    ssize_t n = nghttp2_session_mem_send(c->h2, &data);
    if (n < 0) {
      sg_httpd__conn_close(c, (int)n);
      return;
    }
    if (n == 0)
      break;
    if (sg_tlsconn_write(c->tc, data, (size_t)n) != 0)
      return;
  }
  if (!c->closing && !nghttp2_session_want_read(c->h2) && !nghttp2_session_want_write(c->h2))
    sg_httpd__conn_close(c, 0);
}

int sg_httpd__h2_respond(sg_hd_req *r, int status, const sg_http_header *h, size_t nh,
                         const void *body, size_t len) {
  bool ok = status >= 200 && status <= 599;
  for (size_t i = 0; ok && i < nh; i++)
    ok = sg_httpd__header_ok(&h[i]);
  if (!ok) {
    sg_httpd__h2_reset(r, NGHTTP2_INTERNAL_ERROR);
    return SG_ERR_INVAL;
  }
  return submit(r->conn, r, status, h, nh, body, len);
}

void sg_httpd__h2_reset(sg_hd_req *r, uint32_t code) {
  sg_hd_conn *c = r->conn;
  /* The request is freed when nghttp2 closes the stream. */
  if (nghttp2_submit_rst_stream(c->h2, NGHTTP2_FLAG_NONE, r->pub.stream_id, code) != 0)
    sg_httpd__req_free(r);
}

void sg_httpd__h2_shutdown(sg_hd_conn *c) {
  if (c->closing || c->h2 == NULL)
    return;
  nghttp2_submit_goaway(c->h2, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(c->h2),
                        NGHTTP2_NO_ERROR, NULL, 0);
  sg_httpd__conn_dirty(c);
}
