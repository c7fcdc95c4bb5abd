/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP server's connection limits, seen from plain TCP clients on the
 * same loop: a connection over max_conns is closed at accept; a connection
 * is closed at max_conn_lifetime_ms however busy it is; and bytes that make
 * no request do not reset the idle clock (a trickle cannot keep one open).
 */
#include "harness.h"

#include <uv.h>

#include "core/sg_mem.h"
#include "httpd/sg_httpd.h"

typedef struct client {
  uv_tcp_t tcp;
  uv_connect_t conn;
  uv_timer_t tick;
  bool connected, eof, closed;
  uint64_t eof_at;
  const char *drip; /* bytes written one per tick */
  size_t dripped;
  char wbuf[64];
} client;

static uv_loop_t loop;
static sg_httpd *srv;
static uint16_t port;

static void handler(sg_httpd_req *req, void *ud) {
  (void)ud;
  ASSERT_OK(sg_httpd_respond(req, 204, NULL, 0, NULL, 0));
}

static void start(const sg_httpd_settings *s) {
  ASSERT_OK(uv_loop_init(&loop));
  ASSERT_OK(sg_httpd_new(&srv, &loop, "127.0.0.1", 0, NULL, s, handler, NULL));
  port = sg_httpd_port(srv);
}

static void on_alloc(uv_handle_t *h, size_t n, uv_buf_t *b) {
  (void)h;
  static char buf[4096];
  (void)n;
  *b = uv_buf_init(buf, sizeof buf);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  (void)b;
  client *c = s->data;
  if (n < 0 && !c->eof) {
    c->eof = true;
    c->eof_at = uv_now(&loop);
  }
}

static void on_written(uv_write_t *w, int status) {
  (void)status;
  sg_free(w);
}

static void send_byte(client *c, char ch) {
  uv_write_t *w = sg_xmalloc(sizeof *w);
  c->wbuf[c->dripped % sizeof c->wbuf] = ch;
  uv_buf_t b = uv_buf_init(&c->wbuf[c->dripped % sizeof c->wbuf], 1);
  if (uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0)
    sg_free(w);
}

static void on_tick(uv_timer_t *t) {
  client *c = t->data;
  if (!c->connected || c->eof)
    return;
  char ch = c->drip[c->dripped % strlen(c->drip)];
  send_byte(c, ch);
  c->dripped++;
}

static void on_connect(uv_connect_t *r, int status) {
  client *c = r->data;
  ASSERT_EQ(0, status);
  c->connected = true;
  c->tcp.data = c;
  uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void client_open(client *c, const char *drip, uint64_t every_ms) {
  memset(c, 0, sizeof *c);
  c->drip = drip;
  uv_tcp_init(&loop, &c->tcp);
  struct sockaddr_in a;
  uv_ip4_addr("127.0.0.1", port, &a);
  c->conn.data = c;
  ASSERT_OK(uv_tcp_connect(&c->conn, &c->tcp, (const struct sockaddr *)&a, on_connect));
  uv_timer_init(&loop, &c->tick);
  c->tick.data = c;
  if (drip)
    uv_timer_start(&c->tick, on_tick, every_ms, every_ms);
}

static void on_closed(uv_handle_t *h) {
  ((client *)h->data)->closed = true;
}

static void client_close(client *c) {
  c->tcp.data = c;
  uv_close((uv_handle_t *)&c->tick, NULL);
  uv_close((uv_handle_t *)&c->tcp, on_closed);
}

/* Runs the loop for |ms| (bounded: it has timers). */
static void run_for(uint64_t ms) {
  uv_update_time(&loop);
  uint64_t end = uv_now(&loop) + ms;
  while (uv_now(&loop) < end)
    uv_run(&loop, UV_RUN_NOWAIT), uv_sleep(1), uv_update_time(&loop);
}

static bool srv_closed;
static void on_srv_closed(void *ud) {
  (void)ud;
  srv_closed = true;
}

static void stop(void) {
  srv_closed = false;
  sg_httpd_close(srv, on_srv_closed);
  uv_update_time(&loop);
  uint64_t end = uv_now(&loop) + 5000;
  while (!srv_closed && uv_now(&loop) < end)
    uv_run(&loop, UV_RUN_NOWAIT), uv_sleep(1), uv_update_time(&loop);
  ASSERT(srv_closed);
  uv_run(&loop, UV_RUN_NOWAIT);
  ASSERT_OK(uv_loop_close(&loop));
}

/* Whatever the caller's struct held before, the defaults set every field:
 * the sandbox's settings live on the stack, and a lifetime or connection cap
 * left over from there closed its connections with requests in flight (the
 * gateway then sent them again). */
static void t_defaults_complete(void) {
  sg_httpd_settings s;
  memset(&s, 0xA5, sizeof s);
  sg_httpd_settings_default(&s);
  ASSERT_EQ(0u, s.max_conns);
  ASSERT_EQ(0u, s.max_conn_lifetime_ms);
  ASSERT_EQ(60000u, s.idle_timeout_ms);
}

static void t_max_conns(void) {
  sg_httpd_settings s;
  sg_httpd_settings_default(&s);
  s.max_conns = 2;
  start(&s);
  client c[3];
  client_open(&c[0], NULL, 0);
  client_open(&c[1], NULL, 0);
  sg_httpd_stats st;
  for (int i = 0; i < 500; i++) { /* both accepted (bounded: 5 s) */
    run_for(10);
    sg_httpd_get_stats(srv, &st);
    if (st.conns_open == 2)
      break;
  }
  ASSERT_EQ(2, st.conns_open);
  client_open(&c[2], NULL, 0);
  for (int i = 0; i < 500 && !c[2].eof; i++)
    run_for(10);
  ASSERT(!c[0].eof && !c[1].eof);
  ASSERT(c[2].eof); /* closed at accept */
  sg_httpd_get_stats(srv, &st);
  ASSERT_EQ(1, st.conns_refused);
  ASSERT_EQ(2, st.conns_open);
  for (int i = 0; i < 3; i++)
    client_close(&c[i]);
  run_for(50);
  stop();
}

/* A client that keeps asking (a request every 50 ms) is still cut at its lifetime. */
static void t_lifetime(void) {
  sg_httpd_settings s;
  sg_httpd_settings_default(&s);
  s.max_conn_lifetime_ms = 400;
  start(&s);
  client c;
  client_open(&c, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n", 2);
  uv_update_time(&loop);
  uint64_t t0 = uv_now(&loop);
  run_for(1500);
  ASSERT(c.eof);
  ASSERT(c.eof_at - t0 >= 350 && c.eof_at - t0 < 1200);
  sg_httpd_stats st;
  sg_httpd_get_stats(srv, &st);
  ASSERT_GE(st.requests_total, 3);
  ASSERT_GE(st.conns_expired, 1);
  client_close(&c);
  run_for(50);
  stop();
}

/* Bytes of a request that never completes do not reset the idle clock. */
static void t_trickle_is_idle(void) {
  sg_httpd_settings s;
  sg_httpd_settings_default(&s);
  s.idle_timeout_ms = 300;
  s.header_timeout_ms = 60000;
  start(&s);
  client c;
  client_open(&c, "GET /slow HTTP/1.1\r\nX-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 50);
  uv_update_time(&loop);
  uint64_t t0 = uv_now(&loop);
  run_for(1500);
  ASSERT(c.dripped >= 4); /* it was still sending */
  ASSERT(c.eof);
  ASSERT(c.eof_at - t0 < 1000);
  client_close(&c);
  run_for(50);
  stop();
}

SG_TESTS({"defaults_complete", t_defaults_complete}, {"max_conns", t_max_conns},
         {"lifetime", t_lifetime}, {"trickle_is_idle", t_trickle_is_idle})
