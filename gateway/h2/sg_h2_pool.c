/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP/2 pool: request queue, dispatch onto connections, deadlines,
 * reconnect backoff, idle closing and shutdown. Connection mechanics live in
 * sg_h2_conn.c; see sg_h2_pool.h for the contract.
 *
 * Work is coalesced per loop turn (STYLE.md §3.6): request(), stream
 * completions and GOAWAYs only set need_dispatch or mark a connection dirty;
 * the pool's registrant with the loop's turn (sg_turn.h, rank SG_TURN_H2: after
 * the admission that queues requests, before the TLS connections that write
 * them) dispatches the queue and flushes every dirty connection just before
 * the loop polls. Deadlines of all requests share one timer
 * over a list sorted by deadline (requests mostly arrive in deadline order, so
 * insertion from the tail is O(1)); no per-request handles.
 */
#include "h2/sg_h2_pool.h"

#include <stdio.h>
#include <string.h>

#include "core/sg_backoff.h"
#include "core/sg_err.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "h2/sg_h2_conn.h"
#include "h2/sg_h2_pool_int.h"

#define MAX_FREE_REQS 1024 /* as many as requests are out at once (gateway.max_requests) */
#define RUN_ROUNDS 4

void sg_h2_pool_opts_init(sg_h2_pool_opts *o) {
  memset(o, 0, sizeof *o);
  o->max_conns = 4;
  o->initial_max_streams = 100;
  o->connect_timeout_ms = 10000;
  o->idle_timeout_ms = 60000;
  o->max_queue = 10000;
  o->max_response_body = 64 * 1024;
  o->default_timeout_ms = 30000;
  o->ping_timeout_ms = 10000;
  o->max_timeouts = 3;
  o->backoff_base_ms = 100;
  o->backoff_cap_ms = 10000;
  o->max_resends = 5;
  o->stream_window = 1u << 20;
  o->conn_window = 16u << 20;
}

static void fill_defaults(sg_h2_pool_opts *o, const sg_h2_pool_opts *in) {
  sg_h2_pool_opts d;
  sg_h2_pool_opts_init(&d);
  if (!in) {
    *o = d;
    return;
  }
  *o = *in;
#define DEF(f)                                                                                     \
  if (!o->f)                                                                                       \
  o->f = d.f
  DEF(max_conns);
  DEF(initial_max_streams);
  DEF(connect_timeout_ms);
  DEF(max_queue);
  DEF(max_response_body);
  DEF(default_timeout_ms);
  DEF(ping_timeout_ms);
  DEF(max_timeouts);
  DEF(backoff_base_ms);
  DEF(backoff_cap_ms);
  DEF(stream_window);
  DEF(conn_window);
#undef DEF
  if (o->stream_window > NGHTTP2_MAX_WINDOW_SIZE)
    o->stream_window = NGHTTP2_MAX_WINDOW_SIZE;
  if (o->conn_window > NGHTTP2_MAX_WINDOW_SIZE)
    o->conn_window = NGHTTP2_MAX_WINDOW_SIZE;
}

/* ---- request objects ---- */

static sg_h2_req *req_alloc(sg_h2_pool *p) {
  sg_list *n = sg_list_pop_front(&p->free_reqs);
  if (n) {
    p->n_free--;
    return sg_container_of(n, sg_h2_req, node);
  }
  sg_h2_req *r = sg_xcalloc(1, sizeof *r);
  sg_h2_req_init(r);
  return r;
}

void sg_h2_pool__recycle_req(sg_h2_pool *p, sg_h2_req *r) {
  sg_list_remove(&r->node);
  sg_list_remove(&r->dnode);
  r->state = SG_H2_REQ_IDLE;
  r->cb = NULL;
  r->ud = NULL;
  r->body = NULL;
  r->conn = NULL;
  if (sg_list_empty(&p->deadlines) && !p->handles_closing)
    uv_timer_stop(&p->dl_timer);
  if (p->n_free >= MAX_FREE_REQS || p->handles_closing) {
    sg_h2_req_release(r);
    sg_free(r);
    return;
  }
  sg_h2_req_reset_response(r);
  sg_list_push_front(&p->free_reqs, &r->node);
  p->n_free++;
}

/* ---- per-turn work ---- */

static void dispatch(sg_h2_pool *p);

/* Dispatches queued requests and flushes dirty connections (their TLS
 * connections write later in the pass); what is left stays wanted. */
static void on_turn(sg_turn_reg *reg, void *ud) {
  sg_h2_pool *p = ud;
  for (int round = 0; round < RUN_ROUNDS; round++) {
    if (p->need_dispatch) {
      p->need_dispatch = false;
      dispatch(p);
    }
    if (sg_list_empty(&p->dirty))
      break;
    sg_list batch, *n;
    sg_list_init(&batch);
    while ((n = sg_list_pop_front(&p->dirty)) != NULL)
      sg_list_push_back(&batch, n);
    /* A flush may free other connections: each one unlinks itself. */
    while ((n = sg_list_pop_front(&batch)) != NULL)
      sg_h2_conn_flush(sg_container_of(n, sg_h2_conn, dirty_node));
  }
  /* Dispatch and flushes re-want the pool; keep that only if work is left. */
  if (!p->need_dispatch && sg_list_empty(&p->dirty))
    sg_turn_unwant(reg);
  else
    sg_turn_want(reg);
}

void sg_h2_pool__schedule(sg_h2_pool *p) {
  p->need_dispatch = true;
  sg_turn_want(&p->turn); /* a no-op once the handles are closing */
}

void sg_h2_pool__mark_dirty(sg_h2_pool *p, sg_h2_conn *c) {
  if (c->state >= SG_H2_CONN_CLOSING || sg_list_linked(&c->dirty_node))
    return;
  sg_list_push_back(&p->dirty, &c->dirty_node);
  sg_turn_want(&p->turn);
}

/* ---- deadlines ---- */

static void on_deadline(uv_timer_t *t);

static void arm_deadline(sg_h2_pool *p) {
  if (sg_list_empty(&p->deadlines) || p->handles_closing)
    return;
  sg_h2_req *r = sg_container_of(p->deadlines.next, sg_h2_req, dnode);
  uint64_t now = uv_now(p->loop);
  uv_timer_start(&p->dl_timer, on_deadline, r->deadline_ms > now ? r->deadline_ms - now : 0, 0);
}

static void deadline_insert(sg_h2_pool *p, sg_h2_req *r) {
  sg_list *pos = p->deadlines.prev;
  while (pos != &p->deadlines &&
         sg_container_of(pos, sg_h2_req, dnode)->deadline_ms > r->deadline_ms)
    pos = pos->prev;
  sg_list_insert_before(pos->next, &r->dnode);
  if (p->deadlines.next == &r->dnode)
    arm_deadline(p);
}

static void call_cb(sg_h2_pool *p, sg_h2_req *r, int err, bool body_sent, const char *detail) {
  sg_h2_cb cb = r->cb;
  r->cb = NULL;
  if (err)
    p->st.failed++;
  else
    p->st.completed++;
  sg_h2_response resp;
  sg_h2_req_response(r, &resp, detail);
  if (cb)
    cb(r->ud, err, &resp, body_sent);
}

void sg_h2_pool__finish_req(sg_h2_pool *p, sg_h2_req *r, int err, bool body_sent,
                            const char *detail) {
  sg_list_remove(&r->node);
  sg_list_remove(&r->dnode);
  r->state = SG_H2_REQ_IDLE;
  call_cb(p, r, err, body_sent, detail);
  sg_h2_pool__recycle_req(p, r);
}

static void on_ping_timer(uv_timer_t *t);

static void expire(sg_h2_pool *p, sg_h2_req *r) {
  sg_list_remove(&r->dnode);
  if (r->state == SG_H2_REQ_QUEUED) {
    sg_list_remove(&r->node);
    p->n_queued--;
    sg_h2_pool__finish_req(p, r, SG_ERR_TIMEOUT, false, "timed out waiting for a stream");
  } else if (r->state == SG_H2_REQ_ACTIVE) {
    bool sent = r->headers_sent;
    sg_h2_cb cb = r->cb;
    void *ud = r->ud;
    sg_h2_conn *c = r->conn;
    sg_h2_conn_cancel_req(c, r); /* orphan: recycled when the stream closes */
    r->cb = cb;
    r->ud = ud;
    call_cb(p, r, SG_ERR_TIMEOUT, sent, "timed out waiting for the response");
    /* Is the connection still alive? A PING tells (see on_ping_timer). */
    if (sg_h2_conn_on_timeout(c, uv_now(p->loop)) && !uv_is_active((uv_handle_t *)&p->ping_timer))
      uv_timer_start(&p->ping_timer, on_ping_timer, p->o.ping_timeout_ms, 0);
  }
}

/* Connections whose PING went unanswered for ping_timeout_ms are dead. */
static void on_ping_timer(uv_timer_t *t) {
  sg_h2_pool *p = t->data;
  uint64_t now = uv_now(p->loop), next = 0;
  sg_list *n, *tmp;
  sg_list_foreach_safe(n, tmp, &p->conns) {
    uint64_t due =
        sg_h2_conn_check_ping(sg_container_of(n, sg_h2_conn, node), now, p->o.ping_timeout_ms);
    if (due && (next == 0 || due < next))
      next = due;
  }
  if (next)
    uv_timer_start(&p->ping_timer, on_ping_timer, next > now ? next - now : 1, 0);
}

static void on_deadline(uv_timer_t *t) {
  sg_h2_pool *p = t->data;
  uint64_t now = uv_now(p->loop);
  while (!sg_list_empty(&p->deadlines)) {
    sg_h2_req *r = sg_container_of(p->deadlines.next, sg_h2_req, dnode);
    if (r->deadline_ms > now)
      break;
    expire(p, r);
  }
  arm_deadline(p);
}

/* ---- dispatch and connecting ---- */

static void on_backoff(uv_timer_t *t) {
  sg_h2_pool__schedule(t->data);
}

static void maybe_connect(sg_h2_pool *p) {
  for (;;) {
    unsigned live = 0, connecting = 0, total = 0;
    sg_list *n;
    sg_list_foreach(n, &p->conns) {
      sg_h2_conn *c = sg_container_of(n, sg_h2_conn, node);
      total++;
      if (c->state == SG_H2_CONN_CONNECTING)
        connecting++;
      if (c->state <= SG_H2_CONN_READY)
        live++;
    }
    if (live >= p->o.max_conns || total >= 2 * p->o.max_conns)
      return;
    /* Connections on their way will take this many; open more only beyond. */
    if ((uint64_t)p->n_queued <= (uint64_t)connecting * p->o.initial_max_streams)
      return;
    uint64_t now = uv_now(p->loop);
    if (now < p->backoff_until) {
      if (!uv_is_active((uv_handle_t *)&p->bo_timer))
        uv_timer_start(&p->bo_timer, on_backoff, p->backoff_until - now, 0);
      return;
    }
    sg_h2_conn *c;
    int rv = sg_h2_conn_open(p, &c);
    if (rv != 0) {
      p->st.connect_failures++;
      p->backoff_until = now + sg_backoff_next(&p->backoff);
      snprintf(p->last_detail, sizeof p->last_detail, "%s", sg_strerror(rv));
      sg_log(SG_LOG_WARN, "h2", "connect to %s:%u failed: %s", p->host, (unsigned)p->port,
             sg_strerror(rv));
    }
  }
}

static sg_h2_conn *pick_conn(sg_h2_pool *p) {
  sg_list *n;
  sg_list_foreach(n, &p->conns) {
    sg_h2_conn *c = sg_container_of(n, sg_h2_conn, node);
    if (sg_h2_conn_has_capacity(c))
      return c; /* first fit: spare connections go idle and get closed */
  }
  return NULL;
}

static void dispatch(sg_h2_pool *p) {
  /* pick_conn rescans after every request: a result callback below may
   * close connections. There are only a handful. */
  while (!p->closing && !sg_list_empty(&p->queue)) {
    sg_h2_conn *c = pick_conn(p);
    if (!c)
      break;
    sg_h2_req *r = sg_container_of(sg_list_pop_front(&p->queue), sg_h2_req, node);
    p->n_queued--;
    int rv = sg_h2_conn_submit(c, r);
    if (rv == SG_ERR_AGAIN) { /* |c| ran out of stream ids and is draining now */
      sg_list_push_front(&p->queue, &r->node);
      p->n_queued++;
    } else if (rv != 0) {
      sg_h2_pool__finish_req(p, r, rv, false, "request rejected by the HTTP/2 layer");
    }
  }
  if (!p->closing && !sg_list_empty(&p->queue))
    maybe_connect(p);
}

static void fail_queued(sg_h2_pool *p, int err, const char *detail) {
  /* Take the current queue first: callbacks may queue new requests. */
  sg_list batch, *n;
  sg_list_init(&batch);
  while ((n = sg_list_pop_front(&p->queue)) != NULL) {
    p->n_queued--;
    sg_list_push_back(&batch, n);
  }
  while ((n = sg_list_pop_front(&batch)) != NULL)
    sg_h2_pool__finish_req(p, sg_container_of(n, sg_h2_req, node), err, false, detail);
}

static void on_idle_timer(uv_timer_t *t) {
  sg_h2_pool *p = t->data;
  uint64_t now = uv_now(p->loop);
  sg_list *n;
  sg_list_foreach(n, &p->conns) {
    sg_h2_conn_check_idle(sg_container_of(n, sg_h2_conn, node), now, p->o.idle_timeout_ms);
  }
}

void sg_h2_pool__conn_ready(sg_h2_pool *p, sg_h2_conn *c) {
  (void)c;
  p->st.connects++;
  sg_backoff_reset(&p->backoff);
  p->backoff_until = 0;
  if (p->o.idle_timeout_ms && !uv_is_active((uv_handle_t *)&p->idle_timer)) {
    uint64_t every = p->o.idle_timeout_ms / 4;
    if (every < 20)
      every = 20;
    uv_timer_start(&p->idle_timer, on_idle_timer, every, every);
  }
  sg_h2_pool__schedule(p);
}

void sg_h2_pool__requeue(sg_h2_pool *p, sg_h2_req *r) {
  sg_list_remove(&r->node);
  if (p->closing) {
    sg_h2_pool__finish_req(p, r, SG_ERR_SHUTDOWN, false, NULL);
    return;
  }
  if (r->resends >= p->o.max_resends) {
    sg_h2_pool__finish_req(p, r, SG_ERR_REFUSED, false, "refused by the server too many times");
    return;
  }
  r->resends++;
  p->st.requests_resent++;
  r->state = SG_H2_REQ_QUEUED;
  r->headers_sent = false;
  sg_h2_req_reset_response(r);
  sg_list_push_front(&p->queue, &r->node);
  p->n_queued++;
  sg_h2_pool__schedule(p);
}

static void maybe_finish_close(sg_h2_pool *p);

void sg_h2_pool__conn_gone(sg_h2_pool *p, sg_h2_conn *c, int reason, const char *detail) {
  bool failed = !c->ever_ready || (reason != 0 && c->streams_done == 0);
  if (!c->ever_ready) {
    if (reason == 0)
      reason = SG_ERR_CLOSED;
    p->st.connect_failures++;
    bool extra = detail && detail[0] && strcmp(detail, sg_strerror(reason)) != 0;
    snprintf(p->last_detail, sizeof p->last_detail, "%s%s%s", sg_strerror(reason),
             extra ? ": " : "", extra ? detail : "");
    sg_log(p->closing ? SG_LOG_DEBUG : SG_LOG_WARN, "h2", "conn %u to %s:%u failed: %s", c->id,
           p->host, (unsigned)p->port, p->last_detail);
  } else if (reason != 0 && !p->closing) {
    sg_log(SG_LOG_INFO, "h2", "conn %u to %s:%u lost: %s", c->id, p->host, (unsigned)p->port,
           detail && detail[0] ? detail : sg_strerror(reason));
  }
  if (failed && !p->closing) {
    p->backoff_until = uv_now(p->loop) + sg_backoff_next(&p->backoff);
  }
  /* A certificate or protocol mismatch will not heal by waiting. */
  if (!c->ever_ready && (reason == SG_ERR_TLS_VERIFY || reason == SG_ERR_ALPN))
    fail_queued(p, reason, p->last_detail);
  if (sg_list_empty(&p->conns))
    uv_timer_stop(&p->idle_timer);
  if (p->closing)
    maybe_finish_close(p);
  else
    sg_h2_pool__schedule(p);
}

/* ---- public API ---- */

int sg_h2_pool_new(sg_h2_pool **out, uv_loop_t *loop, SSL_CTX *ssl_ctx, const char *host,
                   uint16_t port, const sg_h2_pool_opts *opts) {
  if (!out || !loop || !host || !host[0] || port == 0)
    return SG_ERR_INVAL;
  sg_h2_pool *p = sg_xcalloc(1, sizeof *p);
  p->loop = loop;
  p->ssl = ssl_ctx;
  p->host = sg_xstrdup(host);
  p->port = port;
  p->scheme = ssl_ctx ? "https" : "http";
  fill_defaults(&p->o, opts);
  if (opts && opts->proxy) {
    p->proxy = *opts->proxy;
    p->o.proxy = &p->proxy;
  } else {
    p->o.proxy = NULL;
  }
  sg_buf a = SG_BUF_INIT;
  bool v6 = strchr(host, ':') != NULL;
  sg_buf_printf(&a, "%s%s%s", v6 ? "[" : "", host, v6 ? "]" : "");
  if (port != (ssl_ctx ? 443 : 80))
    sg_buf_printf(&a, ":%u", (unsigned)port);
  p->authority = sg_buf_steal(&a, NULL);
  sg_list_init(&p->conns);
  sg_list_init(&p->dirty);
  sg_list_init(&p->queue);
  sg_list_init(&p->deadlines);
  sg_list_init(&p->free_reqs);
  sg_h2_mem_init(&p->mem);
  if (nghttp2_session_callbacks_new(&p->ngcbs) != 0 || nghttp2_option_new(&p->ngopt) != 0)
    abort(); /* only NOMEM: our OOM policy */
  sg_h2_conn_setup_callbacks(p->ngcbs);
  nghttp2_option_set_peer_max_concurrent_streams(p->ngopt, p->o.initial_max_streams);
  sg_turn_reg_init(&p->turn, loop, SG_TURN_H2, on_turn, p);
  uv_timer_init(loop, &p->dl_timer);
  uv_timer_init(loop, &p->bo_timer);
  uv_timer_init(loop, &p->idle_timer);
  uv_timer_init(loop, &p->ping_timer);
  p->dl_timer.data = p->bo_timer.data = p->idle_timer.data = p->ping_timer.data = p;
  p->open_handles = 4;
  sg_backoff_init(&p->backoff, p->o.backoff_base_ms, p->o.backoff_cap_ms,
                  uv_hrtime() ^ (uint64_t)(uintptr_t)p);
  sg_backoff_set_jitter(&p->backoff, SG_BACKOFF_EQUAL);
  *out = p;
  return 0;
}

int sg_h2_pool_request(sg_h2_pool *p, const sg_h2_request *in, sg_h2_cb cb, void *ud,
                       sg_h2_req **handle) {
  if (handle)
    *handle = NULL;
  if (p->closing)
    return SG_ERR_SHUTDOWN;
  if (!in || !cb)
    return SG_ERR_INVAL;
  if (p->n_queued >= p->o.max_queue)
    return SG_ERR_BUSY;
  sg_h2_req *r = req_alloc(p);
  int rv = sg_h2_req_build(r, in, p->scheme, p->authority);
  if (rv != 0) {
    sg_h2_pool__recycle_req(p, r);
    return rv;
  }
  r->cb = cb;
  r->ud = ud;
  r->attempts = 0;
  r->resends = 0;
  r->headers_sent = false;
  r->stream_id = 0;
  sg_h2_req_reset_response(r);
  uv_update_time(p->loop); /* the caller may have been busy since the loop last woke */
  r->deadline_ms = uv_now(p->loop) + (in->timeout_ms ? in->timeout_ms : p->o.default_timeout_ms);
  r->state = SG_H2_REQ_QUEUED;
  sg_list_push_back(&p->queue, &r->node);
  p->n_queued++;
  deadline_insert(p, r);
  sg_h2_pool__schedule(p);
  if (handle)
    *handle = r;
  return 0;
}

void sg_h2_pool_cancel(sg_h2_pool *p, sg_h2_req *r) {
  if (!r)
    return;
  if (r->state == SG_H2_REQ_QUEUED) {
    sg_list_remove(&r->node);
    p->n_queued--;
    sg_h2_pool__recycle_req(p, r);
  } else if (r->state == SG_H2_REQ_ACTIVE) {
    sg_list_remove(&r->dnode);
    sg_h2_conn_cancel_req(r->conn, r);
  }
}

static void on_handle_closed(uv_handle_t *h) {
  sg_h2_pool *p = h->data;
  if (--p->open_handles > 0)
    return;
  if (p->done_cb)
    p->done_cb(p->done_ud);
  sg_list *n;
  while ((n = sg_list_pop_front(&p->free_reqs)) != NULL) {
    sg_h2_req *r = sg_container_of(n, sg_h2_req, node);
    sg_h2_req_release(r);
    sg_free(r);
  }
  nghttp2_session_callbacks_del(p->ngcbs);
  nghttp2_option_del(p->ngopt);
  sg_h2_mem_free(&p->mem); /* every session is deleted by now */
  sg_free(p->authority);
  sg_free(p->host);
  sg_free(p);
}

static void maybe_finish_close(sg_h2_pool *p) {
  if (!p->closing || p->handles_closing || !sg_list_empty(&p->conns))
    return;
  p->handles_closing = true;
  sg_turn_reg_remove(&p->turn);
  uv_close((uv_handle_t *)&p->dl_timer, on_handle_closed);
  uv_close((uv_handle_t *)&p->bo_timer, on_handle_closed);
  uv_close((uv_handle_t *)&p->idle_timer, on_handle_closed);
  uv_close((uv_handle_t *)&p->ping_timer, on_handle_closed);
}

void sg_h2_pool_close(sg_h2_pool *p, void (*done_cb)(void *ud), void *ud) {
  if (p->closing)
    return;
  p->closing = true;
  p->done_cb = done_cb;
  p->done_ud = ud;
  sg_log(SG_LOG_DEBUG, "h2", "pool %s:%u closing", p->host, (unsigned)p->port);
  fail_queued(p, SG_ERR_SHUTDOWN, "pool closing");
  uv_timer_stop(&p->dl_timer);
  uv_timer_stop(&p->bo_timer);
  uv_timer_stop(&p->idle_timer);
  /* Closing may free a connection at once; restart the walk after each. */
  for (;;) {
    sg_h2_conn *victim = NULL;
    sg_list *n;
    sg_list_foreach(n, &p->conns) {
      sg_h2_conn *c = sg_container_of(n, sg_h2_conn, node);
      if (c->state < SG_H2_CONN_CLOSING) {
        victim = c;
        break;
      }
    }
    if (!victim)
      break;
    sg_h2_conn_close(victim, victim->n_reqs ? SG_ERR_SHUTDOWN : 0);
  }
  maybe_finish_close(p);
}

void sg_h2_pool_get_stats(const sg_h2_pool *p, sg_h2_pool_stats *out) {
  *out = p->st;
  out->conns_open = 0;
  out->conns_connecting = 0;
  out->streams_in_flight = 0;
  out->queued = p->n_queued;
  const sg_list *n;
  for (n = p->conns.next; n != &p->conns; n = n->next) {
    const sg_h2_conn *c = sg_container_of(n, sg_h2_conn, node);
    if (c->state == SG_H2_CONN_CONNECTING)
      out->conns_connecting++;
    else if (c->state == SG_H2_CONN_READY || c->state == SG_H2_CONN_DRAINING)
      out->conns_open++;
    out->streams_in_flight += c->n_reqs;
  }
}

unsigned sg_h2_pool_conns_open(const sg_h2_pool *p) {
  sg_h2_pool_stats s;
  sg_h2_pool_get_stats(p, &s);
  return s.conns_open;
}

size_t sg_h2_pool_streams_in_flight(const sg_h2_pool *p) {
  sg_h2_pool_stats s;
  sg_h2_pool_get_stats(p, &s);
  return s.streams_in_flight;
}

uint64_t sg_h2_pool_requests_resent(const sg_h2_pool *p) {
  return p->st.requests_resent;
}

const char *sg_h2_pool_last_error_detail(const sg_h2_pool *p) {
  return p->last_detail;
}
