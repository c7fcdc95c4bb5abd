/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for net/sg_tlsconn over real loopback sockets on one uv loop: a
 * listener on 127.0.0.1:0 accepting with sg_tlsconn_accept and a client made
 * with sg_tlsconn_connect. Certificates come from sg_sbx_certgen at test time.
 * Every case closes all handles and asserts uv_loop_close() == 0; a guard
 * timer aborts a case that does not finish in time.
 */
#include "harness.h"
#include "tls_test_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "net/sg_tls.h"
#include "net/sg_tlsconn.h"
#include "sandbox/sg_sbx_certgen.h"

#define GUARD_MS 20000
#define HS_TIMEOUT_MS 5000

/* ---- fixture ---- */

typedef struct side {
  sg_tlsconn *conn;
  int ready, closed, close_err, drains, pauses;
  size_t got;
  char alpn[16];
  char detail[256];
} side;

typedef struct fx {
  uv_loop_t loop;
  uv_tcp_t listener;
  bool listening;
  uv_timer_t guard;
  char *dir;
  SSL_CTX *cctx, *sctx;
  SSL_CTX *accept_ctx; /* ctx the server side accepts with (NULL: plain) */
  uint16_t port;
  int accepted;
  side cli, srv;
  /* echo case */
  bool echo;
  size_t echo_high_water;
  uint8_t *payload;
  size_t total;
  bool send_on_ready;
  bool srv_paused_at_ready; /* the server reads nothing until resumed by the case */
} fx;

static void on_guard(uv_timer_t *t) {
  SG_FAIL_("test did not finish within %d ms", GUARD_MS);
}

static void fx_init(fx *f) {
  memset(f, 0, sizeof *f);
  ASSERT_OK(uv_loop_init(&f->loop));
  ASSERT_OK(uv_timer_init(&f->loop, &f->guard));
  ASSERT_OK(uv_timer_start(&f->guard, on_guard, GUARD_MS, 0));
  uv_unref((uv_handle_t *)&f->guard); /* must not keep the loop alive */
  f->dir = sg_tls_test_dir_new("sg_tlsconn_test");
  ASSERT_OK(sg_sbx_certgen_write(f->dir, NULL, 0));
  char *ca = sg_tls_test_path(f->dir, "ca.pem");
  char *cert = sg_tls_test_path(f->dir, "server.pem");
  char *key = sg_tls_test_path(f->dir, "server-key.pem");
  ASSERT_OK(sg_tls_ctx_client_new(&f->cctx, ca));
  ASSERT_OK(sg_tls_ctx_server_new(&f->sctx, cert, key));
  sg_free(ca);
  sg_free(cert);
  sg_free(key);
  f->accept_ctx = f->sctx;
}

static void fx_stop_listening(fx *f) {
  if (f->listening) {
    f->listening = false;
    uv_close((uv_handle_t *)&f->listener, NULL);
  }
}

static void fx_finish(fx *f) {
  fx_stop_listening(f);
  uv_close((uv_handle_t *)&f->guard, NULL);
  ASSERT_OK(uv_run(&f->loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&f->loop));
  SSL_CTX_free(f->cctx);
  SSL_CTX_free(f->sctx);
  sg_tls_test_dir_rm(f->dir);
  sg_free(f->payload);
}

/* Server callbacks: record, optionally echo with a high-water mark. */

static void srv_ready(sg_tlsconn *c, void *ud) {
  fx *f = ud;
  f->srv.ready++;
  snprintf(f->srv.alpn, sizeof f->srv.alpn, "%s", sg_tlsconn_alpn(c));
  if (f->srv_paused_at_ready)
    sg_tlsconn_pause_read(c);
}

static void srv_read(sg_tlsconn *c, const uint8_t *p, size_t n, void *ud) {
  fx *f = ud;
  ASSERT_EQ(1, f->srv.ready);
  if (f->srv_paused_at_ready) { /* the client's one big write: every byte once, in order */
    ASSERT_LE(f->srv.got + n, f->total);
    ASSERT_MEM_EQ(f->payload + f->srv.got, p, n);
  }
  f->srv.got += n;
  if (!f->echo)
    return;
  ASSERT_OK(sg_tlsconn_write(c, p, n));
  if (sg_tlsconn_out_pending(c) > f->echo_high_water) {
    sg_tlsconn_pause_read(c);
    f->srv.pauses++;
  }
}

static void srv_drain(sg_tlsconn *c, void *ud) {
  fx *f = ud;
  f->srv.drains++;
  ASSERT_EQ(0, sg_tlsconn_out_pending(c));
  sg_tlsconn_resume_read(c);
}

static void srv_close(sg_tlsconn *c, int err, void *ud) {
  fx *f = ud;
  f->srv.closed++;
  f->srv.close_err = err;
  snprintf(f->srv.detail, sizeof f->srv.detail, "%s", sg_tlsconn_error_detail(c));
  f->srv.conn = NULL;
}

static const sg_tlsconn_cbs srv_cbs = {srv_ready, srv_read, srv_drain, srv_close};

static void on_connection(uv_stream_t *server, int status) {
  fx *f = server->data;
  ASSERT_OK(status);
  f->accepted++;
  ASSERT_EQ(1, f->accepted);
  ASSERT_OK(sg_tlsconn_accept(&f->srv.conn, server, f->accept_ctx, HS_TIMEOUT_MS, &srv_cbs, f));
  ASSERT_NOT_NULL(f->srv.conn);
  ASSERT(strncmp(sg_tlsconn_peer(f->srv.conn), "127.0.0.1:", 10) == 0);
}

static void fx_listen(fx *f) {
  struct sockaddr_in sa;
  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, &sa));
  ASSERT_OK(uv_tcp_init(&f->loop, &f->listener));
  f->listener.data = f;
  ASSERT_OK(uv_tcp_bind(&f->listener, (const struct sockaddr *)&sa, 0));
  ASSERT_OK(uv_listen((uv_stream_t *)&f->listener, 16, on_connection));
  struct sockaddr_storage ss;
  int len = sizeof ss;
  ASSERT_OK(uv_tcp_getsockname(&f->listener, (struct sockaddr *)&ss, &len));
  f->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
  ASSERT_NE(0, f->port);
  f->listening = true;
}

/* Client callbacks. */

static void cli_ready(sg_tlsconn *c, void *ud) {
  fx *f = ud;
  f->cli.ready++;
  snprintf(f->cli.alpn, sizeof f->cli.alpn, "%s", sg_tlsconn_alpn(c));
  if (f->send_on_ready)
    ASSERT_OK(sg_tlsconn_write(c, f->payload, f->total));
}

static void cli_read(sg_tlsconn *c, const uint8_t *p, size_t n, void *ud) {
  fx *f = ud;
  ASSERT_LE(f->cli.got + n, f->total);
  ASSERT_MEM_EQ(f->payload + f->cli.got, p, n);
  f->cli.got += n;
  if (f->cli.got == f->total) {
    sg_tlsconn_close(c, 0);
    ASSERT_EQ(SG_ERR_CLOSED, sg_tlsconn_write(c, p, 1));
    sg_tlsconn_close(c, SG_ERR_IO); /* idempotent: the first close wins */
  }
}

static void cli_drain(sg_tlsconn *c, void *ud) {
  fx *f = ud;
  f->cli.drains++;
  ASSERT_EQ(0, sg_tlsconn_out_pending(c));
  if (f->srv_paused_at_ready)
    sg_tlsconn_close(c, 0);
}

static void cli_close(sg_tlsconn *c, int err, void *ud) {
  fx *f = ud;
  f->cli.closed++;
  f->cli.close_err = err;
  snprintf(f->cli.detail, sizeof f->cli.detail, "%s", sg_tlsconn_error_detail(c));
  f->cli.conn = NULL;
  fx_stop_listening(f); /* the server side ends on the client's EOF */
}

static const sg_tlsconn_cbs cli_cbs = {cli_ready, cli_read, cli_drain, cli_close};

static void make_payload(fx *f, size_t n) {
  f->total = n;
  f->payload = sg_xmalloc(n);
  for (size_t i = 0; i < n; i++)
    f->payload[i] = (uint8_t)((i * 131u) ^ (i >> 11));
}

/* ---- cases ---- */

static void run_echo(bool tls) {
  fx f;
  fx_init(&f);
  fx_listen(&f);
  if (!tls)
    f.accept_ctx = NULL;
  f.echo = true;
  /* Low enough that the server must pause with records still in its engine. */
  f.echo_high_water = 32 * 1024;
  f.send_on_ready = true;
  make_payload(&f, 3 * 1024 * 1024 + 123);
  ASSERT_OK(sg_tlsconn_connect(&f.cli.conn, &f.loop, tls ? f.cctx : NULL, "localhost", f.port,
                               HS_TIMEOUT_MS, &cli_cbs, &f));
  ASSERT_OK(uv_run(&f.loop, UV_RUN_DEFAULT));
  ASSERT_EQ(1, f.cli.ready);
  ASSERT_EQ(1, f.srv.ready);
  ASSERT_EQ(1, f.cli.closed);
  ASSERT_EQ(1, f.srv.closed);
  ASSERT_EQ(0, f.cli.close_err);
  ASSERT_EQ(0, f.srv.close_err);
  ASSERT_EQ(f.total, f.cli.got);
  ASSERT_EQ(f.total, f.srv.got);
  ASSERT_GE(f.cli.drains, 1);
  ASSERT_GE(f.srv.pauses, 1);
  ASSERT_STR_EQ(tls ? "h2" : "", f.cli.alpn);
  ASSERT_STR_EQ(tls ? "h2" : "", f.srv.alpn);
  fx_finish(&f);
}

static void t_echo_tls(void) {
  run_echo(true);
}

static void t_echo_plain(void) {
  run_echo(false);
}

static void t_wrong_host(void) {
  fx f;
  fx_init(&f);
  /* The server presents a leaf for another name, signed by the trusted CA. */
  char *ca = sg_tls_test_path(f.dir, "ca.pem"), *cakey = sg_tls_test_path(f.dir, "ca-key.pem");
  char *cert = sg_tls_test_path(f.dir, "wrong.pem"),
       *key = sg_tls_test_path(f.dir, "wrong-key.pem");
  const char *names[] = {"wrong.test"};
  ASSERT_OK(sg_sbx_certgen_leaf(ca, cakey, names, 1, cert, key));
  SSL_CTX *wrong = NULL;
  ASSERT_OK(sg_tls_ctx_server_new(&wrong, cert, key));
  f.accept_ctx = wrong;
  fx_listen(&f);
  make_payload(&f, 1000);
  ASSERT_OK(sg_tlsconn_connect(&f.cli.conn, &f.loop, f.cctx, "localhost", f.port, HS_TIMEOUT_MS,
                               &cli_cbs, &f));
  /* Queued before the handshake: must never reach the server. */
  ASSERT_OK(sg_tlsconn_write(f.cli.conn, f.payload, f.total));
  ASSERT_EQ(f.total, sg_tlsconn_out_pending(f.cli.conn));
  ASSERT_OK(uv_run(&f.loop, UV_RUN_DEFAULT));
  ASSERT_EQ(0, f.cli.ready);
  ASSERT_EQ(1, f.cli.closed);
  ASSERT_EQ(SG_ERR_TLS_VERIFY, f.cli.close_err);
  ASSERT(strstr(f.cli.detail, "hostname mismatch") != NULL);
  ASSERT_EQ(1, f.accepted);
  ASSERT_EQ(0, f.srv.ready);
  ASSERT_EQ(0, f.srv.got);
  ASSERT_EQ(1, f.srv.closed);
  ASSERT_NE(0, f.srv.close_err);
  fx_finish(&f);
  SSL_CTX_free(wrong);
  sg_free(ca);
  sg_free(cakey);
  sg_free(cert);
  sg_free(key);
}

static void t_ip_literal(void) {
  fx f;
  fx_init(&f);
  fx_listen(&f);
  make_payload(&f, 10);
  f.echo = true;
  f.echo_high_water = 1 << 20;
  ASSERT_OK(sg_tlsconn_connect(&f.cli.conn, &f.loop, f.cctx, "127.0.0.1", f.port, HS_TIMEOUT_MS,
                               &cli_cbs, &f));
  /* Written before the handshake: held until on_ready, then sent. */
  ASSERT_OK(sg_tlsconn_write(f.cli.conn, f.payload, f.total));
  ASSERT_OK(uv_run(&f.loop, UV_RUN_DEFAULT));
  ASSERT_EQ(1, f.cli.ready);
  ASSERT_EQ(0, f.cli.close_err);
  ASSERT_EQ(f.total, f.cli.got);
  fx_finish(&f);
}

static void t_refused(void) {
  fx f;
  fx_init(&f);
  fx_listen(&f); /* learn a free port, then close it */
  fx_stop_listening(&f);
  ASSERT_OK(uv_run(&f.loop, UV_RUN_DEFAULT));
  ASSERT_OK(sg_tlsconn_connect(&f.cli.conn, &f.loop, f.cctx, "127.0.0.1", f.port, HS_TIMEOUT_MS,
                               &cli_cbs, &f));
  ASSERT_OK(uv_run(&f.loop, UV_RUN_DEFAULT));
  ASSERT_EQ(0, f.cli.ready);
  ASSERT_EQ(1, f.cli.closed);
  ASSERT_EQ(UV_ECONNREFUSED, f.cli.close_err);
  fx_finish(&f);
}

static void t_handshake_timeout(void) {
  fx f;
  fx_init(&f);
  f.accept_ctx = NULL; /* plain TCP: reads the ClientHello and says nothing */
  fx_listen(&f);
  uv_update_time(&f.loop);
  uint64_t t0 = uv_now(&f.loop);
  ASSERT_OK(
      sg_tlsconn_connect(&f.cli.conn, &f.loop, f.cctx, "127.0.0.1", f.port, 200, &cli_cbs, &f));
  ASSERT_OK(uv_run(&f.loop, UV_RUN_DEFAULT));
  ASSERT_GE(uv_now(&f.loop) - t0, 200);
  ASSERT_EQ(0, f.cli.ready);
  ASSERT_EQ(1, f.cli.closed);
  ASSERT_EQ(SG_ERR_TIMEOUT, f.cli.close_err);
  ASSERT_EQ(1, f.srv.ready);
  ASSERT_GT(f.srv.got, 0); /* the ClientHello */
  ASSERT_EQ(1, f.srv.closed);
  ASSERT_EQ(0, f.srv.close_err); /* the client's EOF */
  fx_finish(&f);
}

static void t_bad_args(void) {
  fx f;
  fx_init(&f);
  sg_tlsconn *c = (sg_tlsconn *)&f; /* must be reset to NULL */
  ASSERT_EQ(SG_ERR_INVAL,
            sg_tlsconn_connect(&c, &f.loop, f.cctx, "localhost", 0, 100, &cli_cbs, &f));
  ASSERT_NULL(c);
  ASSERT_EQ(SG_ERR_INVAL, sg_tlsconn_connect(&c, &f.loop, f.cctx, "", 443, 100, &cli_cbs, &f));
  /* A server context cannot make a client (it would verify nothing). */
  ASSERT_EQ(SG_ERR_INVAL,
            sg_tlsconn_connect(&c, &f.loop, f.sctx, "localhost", 443, 100, &cli_cbs, &f));
  ASSERT_NULL(c);
  fx_finish(&f);
}

/* Close from on_ready, before anything is read; on_close exactly once, err 0. */
static void ready_then_close(sg_tlsconn *c, void *ud) {
  fx *f = ud;
  f->cli.ready++;
  ASSERT_OK(sg_tlsconn_write(c, (const uint8_t *)"bye", 3));
  sg_tlsconn_close(c, 0);
  sg_tlsconn_close(c, 0);
}

static void t_close_in_ready(void) {
  fx f;
  fx_init(&f);
  fx_listen(&f);
  f.total = 3;
  static const sg_tlsconn_cbs cbs = {ready_then_close, cli_read, cli_drain, cli_close};
  ASSERT_OK(sg_tlsconn_connect(&f.cli.conn, &f.loop, f.cctx, "localhost", f.port, HS_TIMEOUT_MS,
                               &cbs, &f));
  ASSERT_OK(uv_run(&f.loop, UV_RUN_DEFAULT));
  ASSERT_EQ(1, f.cli.ready);
  ASSERT_EQ(1, f.cli.closed);
  ASSERT_EQ(0, f.cli.close_err);
  ASSERT_EQ(3, f.srv.got); /* the orderly close flushed "bye" first */
  ASSERT_EQ(1, f.srv.closed);
  ASSERT_EQ(0, f.srv.close_err);
  fx_finish(&f);
}

/*
 * A write larger than the socket takes while the peer reads nothing: the
 * socket takes what fits at once, the rest waits in flight. Once the peer
 * reads, every byte arrives once and in order, and on_drain comes once,
 * after the last byte has left.
 */
static void run_backpressure(bool tls) {
  fx f;
  fx_init(&f);
  fx_listen(&f);
  if (!tls)
    f.accept_ctx = NULL;
  f.srv_paused_at_ready = true;
  f.send_on_ready = true;
  make_payload(&f, 24 * 1024 * 1024 + 77); /* above loopback's send and receive buffers */
  ASSERT_OK(sg_tlsconn_connect(&f.cli.conn, &f.loop, tls ? f.cctx : NULL, "localhost", f.port,
                               HS_TIMEOUT_MS, &cli_cbs, &f));
  /* Until the client has handed the socket what it takes: then part of the
   * payload is stuck in flight, as long as the server does not read. */
  bool stuck = false;
  for (int i = 0; i < 100000 && !stuck; i++) {
    if (uv_run(&f.loop, UV_RUN_ONCE) == 0)
      break;
    size_t left = f.cli.conn && f.srv.conn ? sg_tlsconn_out_pending(f.cli.conn) : 0;
    stuck = f.cli.ready == 1 && f.srv.ready == 1 && left > 0 && left < f.total;
  }
  ASSERT(stuck);
  ASSERT_EQ(0, f.cli.drains);
  ASSERT_EQ(0, f.srv.got);
  sg_tlsconn_resume_read(f.srv.conn);
  ASSERT_OK(uv_run(&f.loop, UV_RUN_DEFAULT));
  ASSERT_EQ(f.total, f.srv.got);
  ASSERT_EQ(1, f.cli.drains);
  ASSERT_EQ(1, f.cli.closed);
  ASSERT_EQ(0, f.cli.close_err);
  ASSERT_EQ(1, f.srv.closed);
  ASSERT_EQ(0, f.srv.close_err);
  fx_finish(&f);
}

static void t_backpressure_tls(void) {
  run_backpressure(true);
}

static void t_backpressure_plain(void) {
  run_backpressure(false);
}

/* Closing while the name is resolving or the TCP connect is pending. */
static void t_close_early(void) {
  for (int round = 0; round < 2; round++) {
    fx f;
    fx_init(&f);
    fx_listen(&f);
    int err = round == 0 ? SG_ERR_SHUTDOWN : 0;
    ASSERT_OK(sg_tlsconn_connect(&f.cli.conn, &f.loop, f.cctx, "localhost", f.port, HS_TIMEOUT_MS,
                                 &cli_cbs, &f));
    sg_tlsconn_close(f.cli.conn, err);
    ASSERT_EQ(0, f.cli.closed); /* never from inside close */
    ASSERT_EQ(SG_ERR_CLOSED, sg_tlsconn_write(f.cli.conn, (const uint8_t *)"x", 1));
    ASSERT_OK(uv_run(&f.loop, UV_RUN_DEFAULT));
    ASSERT_EQ(0, f.cli.ready);
    ASSERT_EQ(1, f.cli.closed);
    ASSERT_EQ(err, f.cli.close_err);
    ASSERT_EQ(0, f.srv.ready);
    fx_finish(&f);
  }
}

SG_TESTS({"echo_tls", t_echo_tls}, {"echo_plain", t_echo_plain}, {"wrong_host", t_wrong_host},
         {"ip_literal", t_ip_literal}, {"refused", t_refused},
         {"handshake_timeout", t_handshake_timeout}, {"bad_args", t_bad_args},
         {"close_in_ready", t_close_in_ready}, {"close_early", t_close_early},
         {"backpressure_tls", t_backpressure_tls}, {"backpressure_plain", t_backpressure_plain})
