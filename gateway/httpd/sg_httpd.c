/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP server's listener and connection lifecycle: accept, protocol
 * choice (ALPN, or the HTTP/2 preface on cleartext), the per-connection timer
 * (idle, HTTP/1.1 header and linger deadlines), the once-per-loop-turn flush of
 * dirty connections, dispatch of complete requests to the handler, and the
 * public request calls (respond, reset, drop). Protocol work is in
 * sg_httpd_h1.c and sg_httpd_h2.c.
 */
#include "httpd/sg_httpd.h"

#include <string.h>

#include "core/sg_err.h"
#include "core/sg_log.h"
#include "httpd/sg_httpd_int.h"

#define DEFAULT_MAX_BODY (32u * 1024 * 1024)
#define DEFAULT_MAX_HEADER_BLOCK (64u * 1024)
/* h2o/nghttpx keep a few hundred KB queued per connection; enough to fill the
 * socket buffer between two loop turns without letting one peer pin memory. */
#define DEFAULT_HIGH_WATER (256u * 1024)

/* How long a connection that is going away may keep the peer waiting. */
#define LINGER_MS 2000

static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define H2_PREFACE_LEN 24

void sg_httpd_settings_default(sg_httpd_settings *s) {
  memset(s, 0, sizeof *s); /* every field, also those added later: no limit unless set */
  s->max_body = DEFAULT_MAX_BODY;
  s->max_header_block = DEFAULT_MAX_HEADER_BLOCK;
  s->max_concurrent_streams = 256;
  s->h1_max_pipeline = 16;
  s->idle_timeout_ms = 60000;
  s->header_timeout_ms = 10000;
  s->handshake_timeout_ms = 10000;
  s->out_high_water = DEFAULT_HIGH_WATER;
}

/* ---- connection lifecycle ---- */

static void srv_maybe_done(sg_httpd *srv) {
  if (!srv->closing || srv->handles_open > 0 || !sg_list_empty(&srv->conns))
    return;
  sg_httpd_closed_cb done = srv->done;
  void *ud = srv->ud;
  nghttp2_session_callbacks_del(srv->h2_cbs);
  nghttp2_option_del(srv->h2_opt);
  sg_free(srv);
  if (done)
    done(ud);
}

static void conn_maybe_free(sg_hd_conn *c) {
  if (!c->tc_closed || !c->timer_closed || c->busy > 0)
    return;
  sg_httpd *srv = c->srv;
  sg_list_remove(&c->link);
  if (sg_list_linked(&c->dirty_link))
    sg_list_remove(&c->dirty_link);
  if (c->h2)
    nghttp2_session_del(c->h2);
  sg_buf_free(&c->in);
  sg_free(c);
  srv->stats.conns_open--;
  srv_maybe_done(srv);
}

static void on_timer_close(uv_handle_t *h) {
  sg_hd_conn *c = h->data;
  c->timer_closed = true;
  conn_maybe_free(c);
}

/* Requests the handler holds become detached; every other one is freed. */
static void conn_release_reqs(sg_hd_conn *c) {
  sg_list *pos, *tmp;
  sg_list_foreach_safe(pos, tmp, &c->reqs) {
    sg_hd_req *r = sg_container_of(pos, sg_hd_req, link);
    if (r->state == REQ_HANDLER) {
      sg_httpd__req_unhook(r);
      sg_list_remove(&r->link);
      c->nreqs--;
      c->in_handler--;
      r->conn = NULL;
    } else {
      sg_httpd__req_free(r);
    }
  }
  c->cur = NULL;
}

static void on_tc_close(sg_tlsconn *tc, int err, void *ud) {
  sg_hd_conn *c = ud;
  sg_log(SG_LOG_DEBUG, "httpd", "conn %llu closed: %s", (unsigned long long)c->id,
         err ? sg_err_name(err) : "ok");
  c->closing = true;
  c->tc_closed = true;
  c->tc = NULL;
  conn_release_reqs(c);
  uv_close((uv_handle_t *)&c->timer, on_timer_close);
}

void sg_httpd__conn_close(sg_hd_conn *c, int err) {
  if (c->closing)
    return;
  c->closing = true;
  c->busy++;
  sg_tlsconn_close(c->tc, err);
  c->busy--;
  conn_maybe_free(c);
}

void sg_httpd__conn_pause(sg_hd_conn *c, bool pause) {
  if (c->closing || c->read_paused == pause)
    return;
  c->read_paused = pause;
  if (pause)
    sg_tlsconn_pause_read(c->tc);
  else
    sg_tlsconn_resume_read(c->tc);
}

/* ---- timers ---- */

static void on_timer(uv_timer_t *t);

void sg_httpd__conn_arm(sg_hd_conn *c, uint64_t deadline) {
  if (c->closing)
    return;
  uint64_t now = uv_now(c->srv->loop);
  uint64_t in = deadline > now ? deadline - now : 0;
  if (uv_is_active((uv_handle_t *)&c->timer) && uv_timer_get_due_in(&c->timer) <= in)
    return;
  uv_timer_start(&c->timer, on_timer, in, 0);
}

/* The earliest deadline that applies now. */
static uint64_t conn_next_deadline(const sg_hd_conn *c) {
  const sg_httpd_settings *s = &c->srv->set;
  uint64_t d = c->last_activity + s->idle_timeout_ms;
  if (s->max_conn_lifetime_ms && c->opened + s->max_conn_lifetime_ms < d)
    d = c->opened + s->max_conn_lifetime_ms;
  if (c->linger_until && c->linger_until < d)
    d = c->linger_until;
  if (c->proto == CONN_H1 && c->head_started && c->head_started + s->header_timeout_ms < d)
    d = c->head_started + s->header_timeout_ms;
  return d;
}

static void on_timer(uv_timer_t *t) {
  sg_hd_conn *c = t->data;
  if (c->closing)
    return;
  uint64_t now = uv_now(c->srv->loop);
  const sg_httpd_settings *s = &c->srv->set;
  if (c->linger_until) { /* closing politely: only the linger deadline counts */
    if (now >= c->linger_until)
      sg_httpd__conn_close(c, 0);
    else
      uv_timer_start(&c->timer, on_timer, c->linger_until - now, 0);
    return;
  }
  if (c->proto == CONN_H1 && c->head_started && now >= c->head_started + s->header_timeout_ms) {
    sg_log(SG_LOG_DEBUG, "httpd", "conn %llu: request header timeout", (unsigned long long)c->id);
    sg_httpd__conn_close(c, SG_ERR_TIMEOUT);
    return;
  }
  bool expired = s->max_conn_lifetime_ms && now >= c->opened + s->max_conn_lifetime_ms;
  if (expired)
    c->srv->stats.conns_expired++;
  if ((c->in_handler == 0 || expired) &&
      (expired || now >= c->last_activity + s->idle_timeout_ms)) {
    if (c->proto == CONN_H2 && c->nreqs == 0) {
      /* Polite: GOAWAY, close once it is flushed, but never wait past LINGER_MS. */
      c->linger_until = now + LINGER_MS;
      sg_httpd__h2_shutdown(c);
      sg_httpd__conn_arm(c, c->linger_until);
      return;
    }
    sg_httpd__conn_close(c, c->nreqs == 0 ? 0 : SG_ERR_TIMEOUT);
    return;
  }
  uint64_t d = conn_next_deadline(c);
  uv_timer_start(&c->timer, on_timer, d > now ? d - now : 1, 0);
}

/* ---- flushing ---- */

static void conn_flush(sg_hd_conn *c) {
  if (c->closing)
    return;
  if (c->proto == CONN_H2)
    sg_httpd__h2_flush(c);
  else if (c->proto == CONN_H1)
    sg_httpd__h1_flush(c);
}

/*
 * Output produced outside a read callback (a handler answering from a timer)
 * is flushed by the server's registrant with the loop's turn (sg_turn.h, rank
 * SG_TURN_HTTPD), wanted only while some connection is dirty. What it hands
 * to sg_tlsconn wants the earlier SG_TURN_TLS rank, so the pass sweeps once
 * more and the bytes reach the kernel before the loop polls.
 */
void sg_httpd__conn_dirty(sg_hd_conn *c) {
  if (c->closing || sg_list_linked(&c->dirty_link))
    return;
  sg_list_push_back(&c->srv->dirty, &c->dirty_link);
  sg_turn_want(&c->srv->flusher); /* a no-op once the server is closing */
}

static void on_flush(sg_turn_reg *reg, void *ud) {
  (void)reg;
  sg_httpd *srv = ud;
  sg_list *n;
  while ((n = sg_list_pop_front(&srv->dirty)) != NULL) {
    sg_hd_conn *c = sg_container_of(n, sg_hd_conn, dirty_link);
    c->busy++;
    conn_flush(c);
    c->busy--;
    conn_maybe_free(c);
  }
}

/* ---- tlsconn callbacks ---- */

static void detect_proto(sg_hd_conn *c, const uint8_t *p, size_t n) {
  size_t have = c->in.len;
  size_t take = n < H2_PREFACE_LEN - have ? n : H2_PREFACE_LEN - have;
  bool match = memcmp(p, h2_preface + have, take) == 0 &&
               (have == 0 || memcmp(c->in.data, h2_preface, have) == 0);
  if (match && have + take < H2_PREFACE_LEN) {
    sg_buf_append(&c->in, p, n);
    return;
  }
  sg_buf tmp = c->in;
  sg_buf_init(&c->in);
  sg_buf_append(&tmp, p, n);
  if (match) {
    if (sg_httpd__h2_start(c, (const uint8_t *)tmp.data, tmp.len) != 0)
      sg_httpd__conn_close(c, SG_ERR_H2);
  } else {
    sg_httpd__h1_start(c, (const uint8_t *)tmp.data, tmp.len);
  }
  sg_buf_free(&tmp);
}

static void on_ready(sg_tlsconn *tc, void *ud) {
  sg_hd_conn *c = ud;
  snprintf(c->peer, sizeof c->peer, "%s", sg_tlsconn_peer(tc));
  c->last_activity = uv_now(c->srv->loop);
  sg_httpd__conn_arm(c, conn_next_deadline(c));
  const char *alpn = sg_tlsconn_alpn(tc);
  c->busy++;
  if (strcmp(alpn, "h2") == 0) {
    if (sg_httpd__h2_start(c, NULL, 0) != 0)
      sg_httpd__conn_close(c, SG_ERR_H2);
  } else if (strcmp(alpn, "http/1.1") == 0) {
    sg_httpd__h1_start(c, NULL, 0);
  } else {
    c->proto = CONN_DETECT;
  }
  c->busy--;
  conn_maybe_free(c);
}

static void on_read(sg_tlsconn *tc, const uint8_t *p, size_t n, void *ud) {
  sg_hd_conn *c = ud;
  if (c->closing || n == 0)
    return;
  /* Bytes alone do not keep a connection: they reset its idle clock only
   * while a request is under way (a body arriving); otherwise requests
   * (dispatch) and answers (drain) do, and its lifetime is capped. */
  if (c->nreqs > 0)
    c->last_activity = uv_now(c->srv->loop);
  c->busy++;
  switch (c->proto) {
  case CONN_DETECT:
    detect_proto(c, p, n);
    break;
  case CONN_H1:
    sg_httpd__h1_on_read(c, p, n);
    break;
  case CONN_H2:
    sg_httpd__h2_on_read(c, p, n);
    break;
  default:
    break;
  }
  c->busy--;
  conn_maybe_free(c);
}

static void on_drain(sg_tlsconn *tc, void *ud) {
  sg_hd_conn *c = ud;
  if (c->closing)
    return;
  c->last_activity = uv_now(c->srv->loop);
  c->busy++;
  conn_flush(c);
  c->busy--;
  conn_maybe_free(c);
}

static const sg_tlsconn_cbs conn_cbs = {on_ready, on_read, on_drain, on_tc_close};

static void free_handle(uv_handle_t *h) {
  sg_free(h);
}

static void on_connection(uv_stream_t *server, int status) {
  sg_httpd *srv = server->data;
  if (status < 0 || srv->closing) {
    sg_log(SG_LOG_WARN, "httpd", "accept: %s", sg_strerror(status));
    return;
  }
  if (srv->set.max_conns && srv->stats.conns_open >= srv->set.max_conns) {
    /* Taken off the backlog and closed at once, so it does not wait there. */
    uv_tcp_t *t = sg_xmalloc(sizeof *t);
    uv_tcp_init(srv->loop, t);
    if (uv_accept(server, (uv_stream_t *)t) == 0)
      srv->stats.conns_refused++;
    uv_close((uv_handle_t *)t, free_handle);
    return;
  }
  sg_hd_conn *c = sg_xcalloc(1, sizeof *c);
  c->srv = srv;
  c->id = ++srv->next_conn_id;
  c->opened = uv_now(srv->loop);
  c->tls = srv->ssl_ctx != NULL;
  c->proto = CONN_HANDSHAKE;
  sg_list_init(&c->reqs);
  sg_list_init(&c->ready);
  sg_list_node_init(&c->dirty_link);
  snprintf(c->peer, sizeof c->peer, "?");
  int rv =
      sg_tlsconn_accept(&c->tc, server, srv->ssl_ctx, srv->set.handshake_timeout_ms, &conn_cbs, c);
  if (rv != 0) {
    sg_log(SG_LOG_WARN, "httpd", "accept: %s", sg_strerror(rv));
    sg_free(c);
    return;
  }
  uv_timer_init(srv->loop, &c->timer);
  c->timer.data = c;
  sg_list_push_back(&srv->conns, &c->link);
  srv->stats.conns_open++;
  srv->stats.conns_total++;
}

/* ---- server ---- */

static void on_srv_handle_close(uv_handle_t *h) {
  sg_httpd *srv = h->data;
  srv->handles_open--;
  srv_maybe_done(srv);
}

int sg_httpd_new(sg_httpd **out, uv_loop_t *loop, const char *host, uint16_t port, SSL_CTX *ssl_ctx,
                 const sg_httpd_settings *settings, sg_httpd_handler on_request, void *ud) {
  struct sockaddr_storage ss;
  if (uv_ip4_addr(host, port, (struct sockaddr_in *)&ss) != 0 &&
      uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss) != 0)
    return SG_ERR_INVAL;
  sg_httpd *srv = sg_xcalloc(1, sizeof *srv);
  srv->loop = loop;
  srv->ssl_ctx = ssl_ctx;
  if (settings)
    srv->set = *settings;
  else
    sg_httpd_settings_default(&srv->set);
  srv->on_request = on_request;
  srv->ud = ud;
  sg_list_init(&srv->conns);
  sg_list_init(&srv->dirty);
  int rv = sg_httpd__h2_callbacks(srv);
  if (rv != 0) {
    sg_free(srv);
    return rv;
  }
  uv_tcp_init(loop, &srv->listener);
  srv->listener.data = srv;
  sg_turn_reg_init(&srv->flusher, loop, SG_TURN_HTTPD, on_flush, srv);
  srv->handles_open = 1;
  rv = uv_tcp_bind(&srv->listener, (const struct sockaddr *)&ss, 0);
  if (rv == 0)
    rv = uv_listen((uv_stream_t *)&srv->listener, 1024, on_connection);
  if (rv == 0) {
    struct sockaddr_storage bound;
    int len = sizeof bound;
    rv = uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&bound, &len);
    if (rv == 0)
      srv->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                    : ((struct sockaddr_in *)&bound)->sin_port);
  }
  if (rv != 0) {
    sg_httpd_close(srv, NULL); /* frees srv from the close callbacks */
    return rv;
  }
  *out = srv;
  return 0;
}

uint16_t sg_httpd_port(const sg_httpd *srv) {
  return srv->port;
}

void sg_httpd_get_stats(const sg_httpd *srv, sg_httpd_stats *out) {
  *out = srv->stats;
}

void sg_httpd_close(sg_httpd *srv, sg_httpd_closed_cb done) {
  if (srv->closing)
    return;
  srv->closing = true;
  srv->done = done;
  uv_close((uv_handle_t *)&srv->listener, on_srv_handle_close);
  sg_turn_reg_remove(&srv->flusher);
  sg_list *pos, *tmp;
  sg_list_foreach_safe(pos, tmp, &srv->conns) {
    sg_hd_conn *c = sg_container_of(pos, sg_hd_conn, link);
    sg_httpd__conn_close(c, SG_ERR_SHUTDOWN);
  }
}

/* ---- dispatch and the request API ---- */

void sg_httpd__conn_dispatch(sg_hd_conn *c) {
  sg_httpd *srv = c->srv;
  sg_list *n;
  c->busy++;
  while (!c->closing && (n = sg_list_pop_front(&c->ready)) != NULL) {
    sg_hd_req *r = sg_container_of(n, sg_hd_req, ready_link);
    sg_httpd__req_finalize(r);
    r->state = REQ_HANDLER;
    c->in_handler++;
    c->last_activity = uv_now(srv->loop);
    srv->stats.requests_total++;
    srv->on_request(&r->pub, srv->ud);
  }
  c->busy--;
}

static sg_hd_req *req_of(sg_httpd_req *pub) {
  return (sg_hd_req *)(void *)pub;
}

/* Moves |r| out of the handler's hands; false when it can only be freed. */
static bool req_take_back(sg_hd_req *r) {
  sg_hd_conn *c = r->conn;
  if (c == NULL || c->closing || r->stream_closed) {
    sg_httpd__req_free(r);
    return false;
  }
  r->state = REQ_RESPONDING;
  c->in_handler--;
  return true;
}

int sg_httpd_respond(sg_httpd_req *pub, int status, const sg_http_header *headers, size_t nheaders,
                     const void *body, size_t len) {
  sg_hd_req *r = req_of(pub);
  if (!req_take_back(r))
    return SG_ERR_CLOSED;
  sg_hd_conn *c = r->conn;
  int rv;
  if (c->proto == CONN_H2)
    rv = sg_httpd__h2_respond(r, status, headers, nheaders, body, len);
  else
    rv = sg_httpd__h1_respond(r, status, headers, nheaders, body, len);
  sg_httpd__conn_dirty(c);
  return rv;
}

void sg_httpd_reset(sg_httpd_req *pub, uint32_t h2_error_code) {
  sg_hd_req *r = req_of(pub);
  if (!req_take_back(r))
    return;
  sg_hd_conn *c = r->conn;
  if (c->proto == CONN_H2) {
    sg_httpd__h2_reset(r, h2_error_code);
    sg_httpd__conn_dirty(c);
  } else {
    sg_httpd__req_free(r);
    sg_httpd__conn_close(c, SG_ERR_RESET);
  }
}

void sg_httpd_drop(sg_httpd_req *pub) {
  sg_hd_req *r = req_of(pub);
  sg_hd_conn *c = r->conn;
  sg_httpd__req_free(r);
  if (c)
    sg_httpd__conn_close(c, SG_ERR_CLOSED);
}

void sg_httpd_goaway_after(sg_httpd_req *pub) {
  req_of(pub)->goaway = true;
}

bool sg_httpd_req_alive(const sg_httpd_req *pub) {
  const sg_hd_req *r = (const sg_hd_req *)(const void *)pub;
  return r->conn != NULL && !r->conn->closing && !r->stream_closed;
}

void sg_httpd__conn_linger(sg_hd_conn *c) {
  if (c->closing || c->linger_until)
    return;
  c->linger_until = uv_now(c->srv->loop) + LINGER_MS;
  sg_httpd__conn_arm(c, c->linger_until);
}
