/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/2 pool against a small in-process nghttp2 server over plain TCP (h2c,
 * same loop) that misbehaves on purpose: REFUSED_STREAM resets, GOAWAY with
 * streams above last_stream_id, requests never answered. Checks transparent
 * resends, their counting and limit, in-flight deadlines and cancel.
 */
#include "harness.h"
#include "h2_test_util.h"

#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include <nghttp2/nghttp2.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "h2/sg_h2_pool.h"

static sg_h2_request get(const char *path, uint64_t timeout_ms) {
  sg_h2_request r = {.method = "GET", .path = path, .timeout_ms = timeout_ms};
  return r;
}

/* ----------------------------------------- in-process h2c fault server */

typedef enum { FS_NORMAL, FS_REFUSE, FS_GOAWAY, FS_SILENT } fs_mode;

typedef struct fsrv {
  uv_tcp_t tcp;
  fs_mode mode;
  int refuse_left;
  int requests;
  int conns;
  int live;
  uint16_t port;
  struct fconn *all[16];
  bool mute; /* writes nothing at all: a dead peer (no PING answers either) */
} fsrv;

typedef struct fconn {
  uv_tcp_t tcp;
  fsrv *s;
  nghttp2_session *ng;
  int index; /* 1 for the first connection */
  int seen;
  bool closing;
} fconn;

static void fc_closed(uv_handle_t *h) {
  fconn *c = h->data;
  c->s->live--;
  for (size_t i = 0; i < SG_ARRAY_LEN(c->s->all); i++)
    if (c->s->all[i] == c)
      c->s->all[i] = NULL;
  nghttp2_session_del(c->ng);
  free(c);
}

static void fc_close(fconn *c) {
  if (!c->closing) {
    c->closing = true;
    uv_close((uv_handle_t *)&c->tcp, fc_closed);
  }
}

static void fc_wrote(uv_write_t *w, int status) {
  (void)status;
  free(w);
}

static void fc_flush(fconn *c) {
  for (;;) {
    const uint8_t *data;
    ssize_t n = nghttp2_session_mem_send(c->ng, &data);
    if (n <= 0)
      break;
    uv_write_t *w = malloc(sizeof *w + (size_t)n);
    memcpy(w + 1, data, (size_t)n);
    uv_buf_t b = uv_buf_init((char *)(w + 1), (unsigned)n);
    if (c->closing || c->s->mute || uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, fc_wrote) != 0)
      free(w);
  }
  if (!nghttp2_session_want_read(c->ng) && !nghttp2_session_want_write(c->ng))
    fc_close(c);
}

static ssize_t fs_body(nghttp2_session *s, int32_t sid, uint8_t *buf, size_t len, uint32_t *fl,
                       nghttp2_data_source *src, void *ud) {
  (void)s, (void)sid, (void)len, (void)src, (void)ud;
  memcpy(buf, "ok", 2);
  *fl |= NGHTTP2_DATA_FLAG_EOF;
  return 2;
}

static void fs_respond(fconn *c, int32_t sid) {
  nghttp2_nv nv[] = {{(uint8_t *)":status", (uint8_t *)"200", 7, 3, 0}};
  nghttp2_data_provider prd = {.read_callback = fs_body};
  nghttp2_submit_response(c->ng, sid, nv, 1, &prd);
}

static int fs_on_frame(nghttp2_session *s, const nghttp2_frame *f, void *ud) {
  fconn *c = ud;
  if ((f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA) ||
      !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
    return 0;
  int32_t sid = f->hd.stream_id;
  c->s->requests++;
  c->seen++;
  switch (c->s->mode) {
  case FS_REFUSE:
    if (c->s->refuse_left > 0) {
      c->s->refuse_left--;
      nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, sid, NGHTTP2_REFUSED_STREAM);
      return 0;
    }
    break;
  case FS_GOAWAY:
    /* First connection: answer streams 1 and 3, then GOAWAY(last=3) once the
     * fourth request is in; 5 and 7 are never processed. */
    if (c->index == 1) {
      if (sid <= 3)
        break;
      if (c->seen == 4)
        nghttp2_submit_goaway(s, NGHTTP2_FLAG_NONE, 3, NGHTTP2_NO_ERROR, NULL, 0);
      return 0;
    }
    break;
  case FS_SILENT:
    return 0;
  case FS_NORMAL:
    break;
  }
  fs_respond(c, sid);
  return 0;
}

static void fc_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b) {
  (void)h;
  b->base = malloc(sz);
  b->len = sz;
}

static void fc_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b) {
  fconn *c = st->data;
  if (n < 0) {
    fc_close(c);
  } else if (n > 0 && !c->closing) {
    if (nghttp2_session_mem_recv(c->ng, (const uint8_t *)b->base, (size_t)n) < 0)
      fc_close(c);
    else
      fc_flush(c);
  }
  free(b->base);
}

static void fs_on_conn(uv_stream_t *srv, int status) {
  ASSERT_OK(status);
  fsrv *s = srv->data;
  fconn *c = calloc(1, sizeof *c);
  c->s = s;
  c->index = ++s->conns;
  s->live++;
  for (size_t i = 0; i < SG_ARRAY_LEN(s->all); i++)
    if (!s->all[i]) {
      s->all[i] = c;
      break;
    }
  uv_tcp_init(srv->loop, &c->tcp);
  c->tcp.data = c;
  ASSERT_OK(uv_accept(srv, (uv_stream_t *)&c->tcp));
  nghttp2_session_callbacks *cbs;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, fs_on_frame);
  nghttp2_session_server_new(&c->ng, cbs, c);
  nghttp2_session_callbacks_del(cbs);
  nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100}};
  nghttp2_submit_settings(c->ng, NGHTTP2_FLAG_NONE, iv, 1);
  uv_read_start((uv_stream_t *)&c->tcp, fc_alloc, fc_read);
  fc_flush(c);
}

static void fsrv_start(fsrv *s, uv_loop_t *loop, fs_mode mode) {
  signal(SIGPIPE, SIG_IGN);
  memset(s, 0, sizeof *s);
  s->mode = mode;
  uv_tcp_init(loop, &s->tcp);
  s->tcp.data = s;
  struct sockaddr_in a;
  uv_ip4_addr("127.0.0.1", 0, &a);
  ASSERT_OK(uv_tcp_bind(&s->tcp, (const struct sockaddr *)&a, 0));
  ASSERT_OK(uv_listen((uv_stream_t *)&s->tcp, 64, fs_on_conn));
  int len = sizeof a;
  ASSERT_OK(uv_tcp_getsockname(&s->tcp, (struct sockaddr *)&a, &len));
  s->port = ntohs(a.sin_port);
}

/* Stops the fault server (after the pool is closed) and closes the loop. */
static void fsrv_stop(fsrv *s, uv_loop_t *loop) {
  uv_close((uv_handle_t *)&s->tcp, NULL);
  for (size_t i = 0; i < SG_ARRAY_LEN(s->all); i++)
    if (s->all[i])
      fc_close(s->all[i]);
  uv_run(loop, UV_RUN_DEFAULT);
  ASSERT_EQ(0, s->live);
  ASSERT_OK(uv_loop_close(loop));
}

static void close_pool(uv_loop_t *loop, sg_h2_pool *p) {
  int closed = 0;
  sg_h2_pool_close(p, on_pool_closed, &closed);
  run_until(loop, &closed, 1, 5000);
}

static void t_refused_resend(void) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  fsrv s;
  fsrv_start(&s, &loop, FS_REFUSE);
  s.refuse_left = 3;
  sg_h2_pool *p;
  ASSERT_OK(sg_h2_pool_new(&p, &loop, NULL, "127.0.0.1", s.port, NULL));
  result res[5];
  memset(res, 0, sizeof res);
  g_done = 0;
  for (int i = 0; i < 5; i++) {
    sg_h2_request rq = {.method = "POST", .path = "/send", .body = "{}", .body_len = 2};
    ASSERT_OK(sg_h2_pool_request(p, &rq, on_result, &res[i], NULL));
  }
  run_until(&loop, &g_done, 5, 5000);
  unsigned attempts = 0;
  for (int i = 0; i < 5; i++) {
    ASSERT_EQ(0, res[i].err);
    ASSERT_EQ(200, res[i].status);
    ASSERT_STR_EQ("ok", res[i].body);
    attempts += res[i].attempts;
  }
  ASSERT_EQ(8, attempts);
  ASSERT_EQ(3, sg_h2_pool_requests_resent(p));
  ASSERT_EQ(8, s.requests);
  /* Refused over and over: gives up after max_resends (5) with SG_ERR_REFUSED. */
  s.refuse_left = 1000;
  result r = {0};
  sg_h2_request rq = get("/x", 5000);
  ASSERT_OK(sg_h2_pool_request(p, &rq, on_result, &r, NULL));
  run_until(&loop, &r.done, 1, 5000);
  ASSERT_EQ(SG_ERR_REFUSED, r.err);
  ASSERT(!r.sent);
  ASSERT_EQ(6, r.attempts);
  close_pool(&loop, p);
  fsrv_stop(&s, &loop);
}

static void t_goaway_requeue(void) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  fsrv s;
  fsrv_start(&s, &loop, FS_GOAWAY);
  sg_h2_pool_opts o;
  sg_h2_pool_opts_init(&o);
  o.max_conns = 1;
  sg_h2_pool *p;
  ASSERT_OK(sg_h2_pool_new(&p, &loop, NULL, "127.0.0.1", s.port, &o));
  result res[4];
  memset(res, 0, sizeof res);
  g_done = 0;
  for (int i = 0; i < 4; i++) {
    sg_h2_request rq = get("/g", 5000);
    ASSERT_OK(sg_h2_pool_request(p, &rq, on_result, &res[i], NULL));
  }
  run_until(&loop, &g_done, 4, 5000);
  for (int i = 0; i < 4; i++) {
    ASSERT_EQ(0, res[i].err);
    ASSERT_EQ(200, res[i].status);
    ASSERT_EQ(i < 2 ? 1 : 2, res[i].attempts);
  }
  ASSERT_EQ(2, sg_h2_pool_requests_resent(p));
  ASSERT_EQ(2, s.conns);
  sg_h2_pool_stats st;
  sg_h2_pool_get_stats(p, &st);
  ASSERT_EQ(2, st.connects);
  close_pool(&loop, p);
  fsrv_stop(&s, &loop);
}

static void t_inflight_timeout_cancel(void) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  fsrv s;
  fsrv_start(&s, &loop, FS_SILENT);
  sg_h2_pool_opts o;
  sg_h2_pool_opts_init(&o);
  o.idle_timeout_ms = 100;
  sg_h2_pool *p;
  ASSERT_OK(sg_h2_pool_new(&p, &loop, NULL, "127.0.0.1", s.port, &o));
  result a = {0}, b = {0};
  sg_h2_req *hb;
  sg_h2_request rq = {
      .method = "POST", .path = "/slow", .body = "x", .body_len = 1, .timeout_ms = 200};
  ASSERT_OK(sg_h2_pool_request(p, &rq, on_result, &a, NULL));
  rq.timeout_ms = 10000;
  ASSERT_OK(sg_h2_pool_request(p, &rq, on_result, &b, &hb));
  run_until(&loop, &s.requests, 2, 5000); /* both reached the server */
  sg_h2_pool_cancel(p, hb);
  run_until(&loop, &a.done, 1, 5000);
  ASSERT_EQ(SG_ERR_TIMEOUT, a.err);
  ASSERT(a.sent); /* ambiguous: the server has it */
  ASSERT_EQ(0, b.done);
  /* Both streams get reset; the idle connection is then closed (GOAWAY). */
  uv_timer_t tick;
  uv_timer_init(&loop, &tick);
  uv_timer_start(&tick, on_tick, 5, 5);
  for (int i = 0; i < 400 && (sg_h2_pool_streams_in_flight(p) || sg_h2_pool_conns_open(p)); i++)
    uv_run(&loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&tick, NULL);
  ASSERT_EQ(0, sg_h2_pool_streams_in_flight(p));
  ASSERT_EQ(0, sg_h2_pool_conns_open(p));
  ASSERT_EQ(0, b.done);
  close_pool(&loop, p);
  fsrv_stop(&s, &loop);
}

/* A request times out: the pool sends a PING on its connection. A dead peer
 * (answers nothing) gets the connection closed after ping_timeout_ms, and the
 * other request on it fails then instead of at its own, much later deadline;
 * a live one (answers PINGs, not requests) keeps its connection. */
static void dead_or_alive(bool dead) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  fsrv s;
  fsrv_start(&s, &loop, FS_SILENT);
  s.mute = dead;
  sg_h2_pool_opts o;
  sg_h2_pool_opts_init(&o);
  o.ping_timeout_ms = 200;
  sg_h2_pool *p;
  ASSERT_OK(sg_h2_pool_new(&p, &loop, NULL, "127.0.0.1", s.port, &o));
  result a = {0}, b = {0};
  sg_h2_request rq = {
      .method = "POST", .path = "/slow", .body = "x", .body_len = 1, .timeout_ms = 200};
  ASSERT_OK(sg_h2_pool_request(p, &rq, on_result, &a, NULL));
  rq.timeout_ms = 20000;
  sg_h2_req *hb;
  ASSERT_OK(sg_h2_pool_request(p, &rq, on_result, &b, &hb));
  run_until(&loop, &s.requests, 2, 5000);
  run_until(&loop, &a.done, 1, 5000);
  ASSERT_EQ(SG_ERR_TIMEOUT, a.err);
  uv_timer_t tick; /* in scope until the loop has closed it */
  uv_timer_init(&loop, &tick);
  if (dead) {
    run_until(&loop, &b.done, 1, 3000); /* well before its 20 s */
    ASSERT(b.err != 0);
    ASSERT(b.sent);
    ASSERT_EQ(0, sg_h2_pool_conns_open(p));
  } else {
    uv_timer_start(&tick, on_tick, 5, 5);
    for (int i = 0; i < 200; i++) /* about a second: the PING is answered */
      uv_run(&loop, UV_RUN_ONCE);
    ASSERT_EQ(0, b.done);
    ASSERT_EQ(1, sg_h2_pool_conns_open(p));
    sg_h2_pool_cancel(p, hb);
  }
  uv_close((uv_handle_t *)&tick, NULL);
  close_pool(&loop, p);
  fsrv_stop(&s, &loop);
}

static void t_dead_connection(void) {
  dead_or_alive(true);
  dead_or_alive(false);
}

SG_TESTS({"refused_resend", t_refused_resend}, {"goaway_requeue", t_goaway_requeue},
         {"inflight_timeout_cancel", t_inflight_timeout_cancel},
         {"dead_connection", t_dead_connection})
