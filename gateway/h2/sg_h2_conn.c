/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One HTTP/2 client connection: sg_tlsconn transport + nghttp2 client session
 * (see sg_h2_conn.h for the state machine and the re-entrancy rule).
 */
#include "h2/sg_h2_conn.h"

#include <stdio.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"

static void on_ready(sg_tlsconn *tc, void *ud);
static void on_read(sg_tlsconn *tc, const uint8_t *p, size_t n, void *ud);
static void on_drain(sg_tlsconn *tc, void *ud);
static void on_close(sg_tlsconn *tc, int err, void *ud);
static sg_ng_ssize read_body_cb(nghttp2_session *s, int32_t sid, uint8_t *buf, size_t len,
                                uint32_t *flags, nghttp2_data_source *src, void *ud);

static const sg_tlsconn_cbs tls_cbs = {on_ready, on_read, on_drain, on_close};

const char *sg_h2_conn_state_name(sg_h2_conn_state st) {
  switch (st) {
  case SG_H2_CONN_CONNECTING:
    return "CONNECTING";
  case SG_H2_CONN_READY:
    return "READY";
  case SG_H2_CONN_DRAINING:
    return "DRAINING";
  case SG_H2_CONN_CLOSING:
    return "CLOSING";
  case SG_H2_CONN_CLOSED:
    return "CLOSED";
  }
  return "?";
}

void sg_h2_conn_set_state(sg_h2_conn *c, sg_h2_conn_state st) {
  if (c->state == st)
    return;
  sg_log(SG_LOG_DEBUG, "h2", "conn %u %s:%u %s -> %s (streams %u)", c->id, c->pool->host,
         (unsigned)c->pool->port, sg_h2_conn_state_name(c->state), sg_h2_conn_state_name(st),
         c->n_reqs);
  c->state = st;
}

static void conn_finalize(sg_h2_conn *c);

/* Runs what callbacks deferred, once the outermost frame unwinds. */
static void conn_leave(sg_h2_conn *c) {
  if (--c->busy > 0)
    return;
  if (c->closed) {
    conn_finalize(c);
    return;
  }
  if (c->pending_close) {
    c->pending_close = false;
    sg_tlsconn_close(c->tc, c->close_err); /* may finalize |c| right away */
  }
}

void sg_h2_conn_close(sg_h2_conn *c, int err) {
  if (c->state >= SG_H2_CONN_CLOSING)
    return;
  sg_h2_conn_set_state(c, SG_H2_CONN_CLOSING);
  c->close_err = err;
  sg_list_remove(&c->dirty_node);
  if (c->busy) {
    c->pending_close = true;
    return;
  }
  sg_tlsconn_close(c->tc, err);
}

int sg_h2_conn_open(sg_h2_pool *p, sg_h2_conn **out) {
  sg_h2_conn *c = sg_xcalloc(1, sizeof *c);
  sg_list_node_init(&c->node);
  sg_list_node_init(&c->dirty_node);
  sg_list_init(&c->reqs);
  c->pool = p;
  c->id = ++p->next_conn_id;
  c->state = SG_H2_CONN_CONNECTING;
  c->goaway_last_id = INT32_MAX;
  sg_list_push_back(&p->conns, &c->node);
  c->busy = 1;
  int rv = sg_tlsconn_connect_via(&c->tc, p->loop, p->ssl, p->host, p->port, p->o.proxy,
                                  p->o.connect_timeout_ms, &tls_cbs, c);
  if (rv != 0) {
    sg_list_remove(&c->node);
    sg_free(c);
    return rv;
  }
  sg_log(SG_LOG_DEBUG, "h2", "conn %u connecting to %s:%u", c->id, p->host, (unsigned)p->port);
  *out = c;
  conn_leave(c);
  return 0;
}

bool sg_h2_conn_has_capacity(const sg_h2_conn *c) {
  if (c->state != SG_H2_CONN_READY || !c->ng || !nghttp2_session_check_request_allowed(c->ng))
    return false;
  uint32_t max =
      nghttp2_session_get_remote_settings(c->ng, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
  uint32_t own = c->pool->o.max_streams_per_conn;
  if (own && own < max)
    max = own;
  return c->n_reqs < max;
}

static void on_ready(sg_tlsconn *tc, void *ud) {
  sg_h2_conn *c = ud;
  sg_h2_pool *p = c->pool;
  if (c->state != SG_H2_CONN_CONNECTING)
    return;
  if (p->ssl && strcmp(sg_tlsconn_alpn(tc), "h2") != 0) {
    snprintf(c->detail, sizeof c->detail, "ALPN selected \"%s\"", sg_tlsconn_alpn(tc));
    sg_h2_conn_close(c, SG_ERR_ALPN);
    return;
  }
  int rv = nghttp2_session_client_new3(&c->ng, p->ngcbs, c, p->ngopt, &p->mem.mem);
  if (rv != 0) {
    c->ng = NULL;
    sg_h2_conn_close(c, SG_ERR_H2);
    return;
  }
  nghttp2_settings_entry iv[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, p->o.stream_window},
      /* RFC 9113 counts 32 bytes of overhead per field. */
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
       SG_H2_MAX_RESP_HEADER_BYTES + 32 * SG_H2_MAX_RESP_HEADERS},
  };
  rv = nghttp2_submit_settings(c->ng, NGHTTP2_FLAG_NONE, iv, SG_ARRAY_LEN(iv));
  if (rv == 0 && p->o.conn_window > NGHTTP2_INITIAL_CONNECTION_WINDOW_SIZE)
    rv = nghttp2_session_set_local_window_size(c->ng, NGHTTP2_FLAG_NONE, 0,
                                               (int32_t)p->o.conn_window);
  if (rv != 0) {
    sg_h2_conn_close(c, SG_ERR_H2);
    return;
  }
  /* Nothing is flushed here: the preface and SETTINGS leave with the first
   * request (or once the server's SETTINGS need an ACK). */
  c->ever_ready = true;
  c->idle_since_ms = uv_now(p->loop);
  sg_h2_conn_set_state(c, SG_H2_CONN_READY);
  sg_h2_pool__conn_ready(p, c);
}

/* Closes or winds down |c| when nghttp2 or the drain condition says so. */
static void conn_check_finish(sg_h2_conn *c) {
  if (c->state >= SG_H2_CONN_CLOSING || !c->ng)
    return;
  bool wr = nghttp2_session_want_write(c->ng) != 0;
  bool rd = nghttp2_session_want_read(c->ng) != 0;
  if (c->state == SG_H2_CONN_DRAINING && c->n_reqs == 0) {
    if (!c->preface_sent) {
      sg_h2_conn_close(c, 0);
    } else if (!c->goaway_sent && !c->goaway_received) {
      nghttp2_session_terminate_session(c->ng, NGHTTP2_NO_ERROR);
      c->goaway_sent = true;
      sg_h2_pool__mark_dirty(c->pool, c);
    } else if (!wr) {
      sg_h2_conn_close(c, 0);
    }
    return;
  }
  if (!rd && !wr)
    sg_h2_conn_close(c, c->n_reqs ? SG_ERR_H2 : 0);
}

/* Flush body; the caller holds busy. */
static void conn_flush_inner(sg_h2_conn *c) {
  if (c->state >= SG_H2_CONN_CLOSING || !c->ng || !c->tc)
    return;
  while (sg_tlsconn_out_pending(c->tc) < SG_H2_OUT_HIGH_WATER) {
    const uint8_t *data = NULL;
    sg_ng_ssize n = sg_ng_mem_send(c->ng, &data);
    if (n < 0) {
      sg_log(SG_LOG_WARN, "h2", "conn %u: nghttp2 send failed: %s", c->id,
             nghttp2_strerror((int)n));
      sg_h2_conn_close(c, SG_ERR_H2);
      return;
    }
    if (n == 0)
      break;
    c->preface_sent = true;
    if (sg_tlsconn_write(c->tc, data, (size_t)n) != 0) {
      sg_h2_conn_close(c, SG_ERR_CLOSED);
      return;
    }
    if (c->state >= SG_H2_CONN_CLOSING)
      return;
  }
  conn_check_finish(c);
}

/* Runs in the pool's turn callback: what it hands to the TLS connection is
 * encrypted and written later in the same pass (SG_TURN_TLS comes after
 * SG_TURN_H2). */
void sg_h2_conn_flush(sg_h2_conn *c) {
  c->busy++;
  conn_flush_inner(c);
  conn_leave(c);
}

static void on_read(sg_tlsconn *tc, const uint8_t *p, size_t n, void *ud) {
  (void)tc;
  sg_h2_conn *c = ud;
  if (!c->ng || c->state >= SG_H2_CONN_CLOSING)
    return;
  c->busy++;
  sg_ng_ssize rv = sg_ng_mem_recv(c->ng, p, n);
  if (rv < 0) {
    sg_log(SG_LOG_WARN, "h2", "conn %u: nghttp2 receive failed: %s", c->id,
           nghttp2_strerror((int)rv));
    snprintf(c->detail, sizeof c->detail, "%s", nghttp2_strerror((int)rv));
    sg_h2_conn_close(c, SG_ERR_H2);
  } else {
    conn_flush_inner(c); /* ACKs, WINDOW_UPDATEs, requests submitted by callbacks */
  }
  conn_leave(c);
}

static void on_drain(sg_tlsconn *tc, void *ud) {
  (void)tc;
  sg_h2_conn *c = ud;
  if (c->ng && c->state < SG_H2_CONN_CLOSING && nghttp2_session_want_write(c->ng))
    sg_h2_pool__mark_dirty(c->pool, c);
}

static void on_close(sg_tlsconn *tc, int err, void *ud) {
  sg_h2_conn *c = ud;
  if (!c->detail[0] && tc) {
    const char *d = sg_tlsconn_error_detail(tc);
    if (d && d[0])
      snprintf(c->detail, sizeof c->detail, "%s", d);
  }
  if (err != 0 && (c->close_err == 0 || c->state < SG_H2_CONN_CLOSING))
    c->close_err = err;
  c->tc = NULL;
  c->closed = true;
  if (c->busy == 0)
    conn_finalize(c);
}

/* Detaches |r| from |c| (stream over). */
static void conn_detach(sg_h2_conn *c, sg_h2_req *r) {
  sg_list_remove(&r->node);
  r->conn = NULL;
  c->n_reqs--;
  c->streams_done++;
  if (c->pool->n_queued)
    sg_h2_pool__schedule(c->pool); /* a stream slot is free */
  if (c->n_reqs == 0) {
    c->idle_since_ms = uv_now(c->pool->loop);
    if (c->state == SG_H2_CONN_DRAINING)
      sg_h2_pool__mark_dirty(c->pool, c);
  }
}

static bool never_processed(const sg_h2_conn *c, const sg_h2_req *r) {
  return !r->headers_sent || (c->goaway_received && r->stream_id > c->goaway_last_id);
}

static void conn_finalize(sg_h2_conn *c) {
  sg_h2_pool *p = c->pool;
  c->busy++; /* result callbacks below must not re-enter finalize */
  sg_h2_conn_set_state(c, SG_H2_CONN_CLOSED);
  sg_list_remove(&c->node);
  sg_list_remove(&c->dirty_node);
  int reason = c->close_err;
  const char *detail = c->detail[0] ? c->detail : (reason ? sg_strerror(reason) : "");
  sg_list *n;
  while ((n = sg_list_pop_front(&c->reqs)) != NULL) {
    sg_h2_req *r = sg_container_of(n, sg_h2_req, node);
    r->conn = NULL;
    c->n_reqs--;
    if (r->state == SG_H2_REQ_ORPHAN)
      sg_h2_pool__recycle_req(p, r);
    else if (r->resp_complete)
      sg_h2_pool__finish_req(p, r, 0, true, NULL);
    else if (never_processed(c, r))
      sg_h2_pool__requeue(p, r);
    else
      sg_h2_pool__finish_req(p, r, p->closing ? SG_ERR_SHUTDOWN : SG_ERR_CLOSED, true, detail);
  }
  if (c->ng) {
    nghttp2_session_del(c->ng);
    c->ng = NULL;
  }
  sg_h2_pool__conn_gone(p, c, reason, detail);
  sg_free(c);
}

int sg_h2_conn_submit(sg_h2_conn *c, sg_h2_req *r) {
  sg_ng_data_provider prd, *pp = NULL;
  if (r->body_len > 0) {
    memset(&prd, 0, sizeof prd);
    prd.source.ptr = r;
    prd.read_callback = read_body_cb;
    pp = &prd;
  }
  sg_h2_req_reset_response(r);
  r->headers_sent = false;
  r->body_off = 0;
  int32_t sid = sg_ng_submit_request(c->ng, NULL, sg_h2_req_nv(r), r->n_nv, pp, r);
  if (sid < 0) {
    if (sid == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE) {
      sg_h2_conn_set_state(c, SG_H2_CONN_DRAINING);
      sg_h2_pool__mark_dirty(c->pool, c);
      return SG_ERR_AGAIN;
    }
    return sid == NGHTTP2_ERR_INVALID_ARGUMENT ? SG_ERR_INVAL : SG_ERR_H2;
  }
  r->conn = c;
  r->stream_id = sid;
  r->state = SG_H2_REQ_ACTIVE;
  r->attempts++;
  sg_list_push_back(&c->reqs, &r->node);
  c->n_reqs++;
  if (c->n_reqs > c->pool->st.max_streams_seen)
    c->pool->st.max_streams_seen = c->n_reqs;
  sg_h2_pool__mark_dirty(c->pool, c);
  return 0;
}

void sg_h2_conn_cancel_req(sg_h2_conn *c, sg_h2_req *r) {
  r->state = SG_H2_REQ_ORPHAN;
  r->cb = NULL;
  if (c->state >= SG_H2_CONN_CLOSING || !c->ng)
    return; /* finalize recycles it */
  nghttp2_submit_rst_stream(c->ng, NGHTTP2_FLAG_NONE, r->stream_id, NGHTTP2_CANCEL);
  sg_h2_pool__mark_dirty(c->pool, c);
}

void sg_h2_conn_check_idle(sg_h2_conn *c, uint64_t now_ms, uint64_t idle_ms) {
  if (c->state != SG_H2_CONN_READY || c->n_reqs != 0 || now_ms - c->idle_since_ms < idle_ms)
    return;
  sg_log(SG_LOG_DEBUG, "h2", "conn %u idle for %llu ms, closing", c->id,
         (unsigned long long)(now_ms - c->idle_since_ms));
  sg_h2_conn_set_state(c, SG_H2_CONN_DRAINING);
  sg_h2_pool__mark_dirty(c->pool, c);
}

bool sg_h2_conn_on_timeout(sg_h2_conn *c, uint64_t now_ms) {
  if (c->state != SG_H2_CONN_READY && c->state != SG_H2_CONN_DRAINING)
    return false;
  if (++c->timeouts >= c->pool->o.max_timeouts && c->pool->o.max_timeouts > 0) {
    snprintf(c->detail, sizeof c->detail,
             "%u requests timed out in a row without a frame from the server", c->timeouts);
    sg_log(SG_LOG_WARN, "h2", "conn %u: %s; closing it", c->id, c->detail);
    sg_h2_conn_close(c, SG_ERR_TIMEOUT);
    return false;
  }
  if (c->ping_sent_ms == 0 && c->ng && nghttp2_submit_ping(c->ng, NGHTTP2_FLAG_NONE, NULL) == 0) {
    c->ping_sent_ms = now_ms ? now_ms : 1;
    sg_h2_pool__mark_dirty(c->pool, c);
  }
  return c->ping_sent_ms != 0;
}

uint64_t sg_h2_conn_check_ping(sg_h2_conn *c, uint64_t now_ms, uint64_t timeout_ms) {
  if (c->ping_sent_ms == 0 || c->state >= SG_H2_CONN_CLOSING)
    return 0;
  if (now_ms < c->ping_sent_ms + timeout_ms)
    return c->ping_sent_ms + timeout_ms;
  snprintf(c->detail, sizeof c->detail, "no answer to a PING within %llu ms: connection dead",
           (unsigned long long)timeout_ms);
  sg_log(SG_LOG_WARN, "h2", "conn %u: %s; closing it", c->id, c->detail);
  c->ping_sent_ms = 0;
  sg_h2_conn_close(c, SG_ERR_TIMEOUT);
  return 0;
}

/* ---- nghttp2 callbacks: record, never close or delete (see header) ---- */

static sg_h2_req *stream_req(nghttp2_session *s, sg_h2_conn *c, int32_t sid) {
  sg_h2_req *r = nghttp2_session_get_stream_user_data(s, sid);
  if (!r || r->conn != c || r->stream_id != sid)
    return NULL;
  return r;
}

static sg_ng_ssize read_body_cb(nghttp2_session *s, int32_t sid, uint8_t *buf, size_t len,
                                uint32_t *flags, nghttp2_data_source *src, void *ud) {
  (void)s;
  (void)sid;
  (void)buf;
  (void)ud;
  sg_h2_req *r = src->ptr;
  if (r->state != SG_H2_REQ_ACTIVE)
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* cancelled: the body is gone */
  size_t left = r->body_len - r->body_off;
  size_t n = left < len ? left : len;
  *flags |= NGHTTP2_DATA_FLAG_NO_COPY;
  if (n == left)
    *flags |= NGHTTP2_DATA_FLAG_EOF;
  return (sg_ng_ssize)n;
}

static int send_data_cb(nghttp2_session *s, nghttp2_frame *frame, const uint8_t *framehd,
                        size_t length, nghttp2_data_source *src, void *ud) {
  (void)s;
  sg_h2_conn *c = ud;
  sg_h2_req *r = src->ptr;
  static const uint8_t zeros[256];
  if (!c->tc || sg_tlsconn_write(c->tc, framehd, 9) != 0)
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  size_t pad = frame->data.padlen;
  if (pad > 0) {
    uint8_t b = (uint8_t)(pad - 1);
    sg_tlsconn_write(c->tc, &b, 1);
  }
  sg_tlsconn_write(c->tc, r->body + r->body_off, length);
  r->body_off += length;
  if (pad > 1)
    sg_tlsconn_write(c->tc, zeros, pad - 1);
  return 0;
}

static int before_frame_send_cb(nghttp2_session *s, const nghttp2_frame *frame, void *ud) {
  /* Marked before the bytes are handed out: conservative for body_sent. */
  if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
    sg_h2_req *r = stream_req(s, ud, frame->hd.stream_id);
    if (r)
      r->headers_sent = true;
  }
  return 0;
}

static int on_header_cb(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name,
                        size_t nlen, const uint8_t *value, size_t vlen, uint8_t flags, void *ud) {
  (void)flags;
  if (frame->hd.type != NGHTTP2_HEADERS)
    return 0;
  sg_h2_req *r = stream_req(s, ud, frame->hd.stream_id);
  if (!r || r->state != SG_H2_REQ_ACTIVE)
    return 0;
  int rv = sg_h2_req_on_header(r, name, nlen, value, vlen);
  if (rv != 0) {
    r->fail_err = rv == SG_ERR_TOOBIG ? SG_ERR_TOOBIG : SG_ERR_H2;
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* resets the stream */
  }
  return 0;
}

static int on_data_chunk_cb(nghttp2_session *s, uint8_t flags, int32_t sid, const uint8_t *data,
                            size_t len, void *ud) {
  (void)flags;
  sg_h2_conn *c = ud;
  sg_h2_req *r = stream_req(s, c, sid);
  if (r && r->state == SG_H2_REQ_ACTIVE)
    sg_h2_req_on_data(r, data, len, c->pool->o.max_response_body);
  return 0;
}

static int on_frame_recv_cb(nghttp2_session *s, const nghttp2_frame *frame, void *ud) {
  sg_h2_conn *c = ud;
  /* Any frame proves the server alive (a busy one may answer the PING late). */
  c->timeouts = 0;
  c->ping_sent_ms = 0;
  switch (frame->hd.type) {
  case NGHTTP2_HEADERS:
  case NGHTTP2_DATA:
    if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) {
      sg_h2_req *r = stream_req(s, c, frame->hd.stream_id);
      if (r && r->status >= 200)
        r->resp_complete = true;
    }
    break;
  case NGHTTP2_SETTINGS:
    if (!(frame->hd.flags & NGHTTP2_FLAG_ACK))
      sg_h2_pool__schedule(c->pool); /* the stream limit may have changed */
    break;
  case NGHTTP2_GOAWAY:
    c->goaway_received = true;
    c->goaway_last_id = frame->goaway.last_stream_id;
    sg_log(SG_LOG_INFO, "h2", "conn %u: GOAWAY %s, last stream %d, %u streams open", c->id,
           nghttp2_http2_strerror(frame->goaway.error_code), (int)frame->goaway.last_stream_id,
           c->n_reqs);
    if (c->state == SG_H2_CONN_READY)
      sg_h2_conn_set_state(c, SG_H2_CONN_DRAINING);
    sg_h2_pool__schedule(c->pool);
    break;
  default:
    break;
  }
  return 0;
}

static int on_stream_close_cb(nghttp2_session *s, int32_t sid, uint32_t error_code, void *ud) {
  sg_h2_conn *c = ud;
  sg_h2_pool *p = c->pool;
  sg_h2_req *r = stream_req(s, c, sid);
  if (!r)
    return 0;
  conn_detach(c, r);
  if (r->state == SG_H2_REQ_ORPHAN) {
    sg_h2_pool__recycle_req(p, r);
  } else if (r->resp_complete) {
    sg_h2_pool__finish_req(p, r, 0, true, NULL);
  } else if (error_code == NGHTTP2_REFUSED_STREAM || never_processed(c, r)) {
    sg_h2_pool__requeue(p, r);
  } else if (r->fail_err) {
    sg_h2_pool__finish_req(p, r, r->fail_err, true, "invalid or oversized response headers");
  } else {
    sg_h2_pool__finish_req(p, r, SG_ERR_RESET, true, nghttp2_http2_strerror(error_code));
  }
  return 0;
}

void sg_h2_conn_setup_callbacks(nghttp2_session_callbacks *cbs) {
  nghttp2_session_callbacks_set_on_header_callback(cbs, on_header_cb);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk_cb);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv_cb);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close_cb);
  nghttp2_session_callbacks_set_before_frame_send_callback(cbs, before_frame_send_cb);
  sg_ng_callbacks_set_send_data(cbs, send_data_cb);
}
