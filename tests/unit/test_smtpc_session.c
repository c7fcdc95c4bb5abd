/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for smtpc/sg_smtpc_session over real loopback sockets on one uv
 * loop: the client against the sandbox's SMTP session (sandbox/sg_sbx_smtp)
 * served through sg_tlsconn, with STARTTLS upgrading both ends in place
 * (certificates from sg_sbx_certgen, verified). Timeouts and connection
 * losses are made by the server glue here (silence, a drop after the dot, a
 * final reply withheld). Every case closes all handles and asserts
 * uv_loop_close() == 0; a guard timer aborts a case that hangs.
 */
#include "harness.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "net/sg_tls.h"
#include "net/sg_tlsconn.h"
#include "sandbox/sg_sbx_certgen.h"
#include "sandbox/sg_sbx_smtp.h"
#include "smtpc/sg_smtpc_session.h"

#define GUARD_MS 30000

typedef enum { M_NORMAL, M_SILENT, M_DROP_AFTER_DOT, M_HANG_AFTER_DOT } mode;

typedef struct fx {
  uv_loop_t loop;
  uv_tcp_t listener;
  uv_timer_t guard;
  char dir[64];
  SSL_CTX *cctx, *sctx;
  uint16_t port;
  mode mode;
  /* server */
  sg_tlsconn *sconn;
  sg_sbx_smtp *sess;
  sg_sbx_smtp_policy pol;
  sg_sbx_smtp_hooks hooks;
  bool tls_started;
  int delivered;
  sg_buf last;
  /* client */
  sg_smtpc_session *s;
  const uint8_t *msg;
  size_t msg_len;
  int to_send, sent, outcomes, closed;
  sg_outcome last_outcome, why;
  uint64_t t0, elapsed;
} fx;

static void on_guard(uv_timer_t *t) {
  (void)t;
  SG_FAIL_("test did not finish within %d ms", GUARD_MS);
}

/* ---- the server ---- */

static sg_sbx_token_status check_token(void *ud, const char *tok, size_t len) {
  (void)ud;
  return len == 4 && memcmp(tok, "good", 4) == 0 ? SG_SBX_TOKEN_OK : SG_SBX_TOKEN_UNKNOWN;
}
static bool take(void *ud, const char *mb) {
  (void)ud;
  (void)mb;
  return true;
}
static sg_sbx_fault fault(void *ud) {
  return ((fx *)ud)->mode == M_DROP_AFTER_DOT ? SG_SBX_FAULT_DROP : SG_SBX_FAULT_NONE;
}
static void deliver(void *ud, const sg_sbx_smtp_delivery *d, char id[64]) {
  fx *f = ud;
  f->delivered++;
  sg_buf_reset(&f->last);
  sg_buf_append(&f->last, d->data, d->len);
  snprintf(id, 64, "m%d", f->delivered);
}

static void srv_pump(fx *f) {
  sg_buf *out = sg_sbx_smtp_output(f->sess);
  bool drop = false, closed = sg_sbx_smtp_closed(f->sess, &drop);
  bool hold = f->mode == M_HANG_AFTER_DOT && strstr(out->data ? out->data : "", "250 2.0.0 OK <");
  if (out->len && !drop && !hold)
    sg_tlsconn_write(f->sconn, (uint8_t *)out->data, out->len);
  sg_buf_reset(out);
  if (closed) {
    sg_tlsconn_close(f->sconn, drop ? SG_ERR_CLOSED : 0);
    return;
  }
  if (sg_sbx_smtp_want_tls(f->sess)) {
    f->tls_started = true;
    ASSERT_OK(sg_tlsconn_starttls(f->sconn, f->sctx, NULL));
  }
}

static void srv_ready(sg_tlsconn *c, void *ud) {
  fx *f = ud;
  (void)c;
  if (f->tls_started)
    sg_sbx_smtp_tls_done(f->sess);
  if (f->mode != M_SILENT)
    srv_pump(f);
}

static void srv_read(sg_tlsconn *c, const uint8_t *p, size_t n, void *ud) {
  fx *f = ud;
  (void)c;
  sg_sbx_smtp_feed(f->sess, p, n);
  srv_pump(f);
}

static void srv_close(sg_tlsconn *c, int err, void *ud) {
  fx *f = ud;
  (void)c;
  (void)err;
  f->sconn = NULL;
}

static void on_connection(uv_stream_t *server, int status) {
  fx *f = server->data;
  ASSERT_OK(status);
  ASSERT_NULL(f->sconn);
  static const sg_tlsconn_cbs cbs = {srv_ready, srv_read, NULL, srv_close};
  ASSERT_OK(sg_tlsconn_accept(&f->sconn, server, NULL, 5000, &cbs, f));
  uv_close((uv_handle_t *)&f->listener, NULL); /* one connection per case */
}

/* ---- fixture ---- */

static void fx_init(fx *f, mode m) {
  memset(f, 0, sizeof *f);
  f->mode = m;
  ASSERT_OK(uv_loop_init(&f->loop));
  ASSERT_OK(uv_timer_init(&f->loop, &f->guard));
  ASSERT_OK(uv_timer_start(&f->guard, on_guard, GUARD_MS, 0));
  uv_unref((uv_handle_t *)&f->guard);
  snprintf(f->dir, sizeof f->dir, "/tmp/sg_smtpc_session.XXXXXX");
  ASSERT_NOT_NULL(mkdtemp(f->dir));
  ASSERT_OK(sg_sbx_certgen_write(f->dir, NULL, 0));
  char ca[128], cert[128], key[128];
  snprintf(ca, sizeof ca, "%s/ca.pem", f->dir);
  snprintf(cert, sizeof cert, "%s/server.pem", f->dir);
  snprintf(key, sizeof key, "%s/server-key.pem", f->dir);
  ASSERT_OK(sg_tls_ctx_client_new2(&f->cctx, ca, SG_TLS_ALPN_NONE));
  ASSERT_OK(sg_tls_ctx_server_new(&f->sctx, cert, key));
  f->pol = (sg_sbx_smtp_policy){SG_SBX_SMTP_EXCHANGE, "", "", "", 50, 64u << 20, false, false, ""};
  f->hooks = (sg_sbx_smtp_hooks){check_token, take, fault, deliver, f};
  f->sess = sg_sbx_smtp_new(&f->pol, &f->hooks);
  ASSERT_OK(uv_tcp_init(&f->loop, &f->listener));
  f->listener.data = f;
  struct sockaddr_in a;
  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, &a));
  ASSERT_OK(uv_tcp_bind(&f->listener, (struct sockaddr *)&a, 0));
  ASSERT_OK(uv_listen((uv_stream_t *)&f->listener, 8, on_connection));
  struct sockaddr_in b;
  int blen = sizeof b;
  ASSERT_OK(uv_tcp_getsockname(&f->listener, (struct sockaddr *)&b, &blen));
  f->port = ntohs(b.sin_port);
}

static void fx_finish(fx *f) {
  ASSERT_OK(uv_run(&f->loop, UV_RUN_DEFAULT)); /* until the client's on_close closed the rest */
  uv_close((uv_handle_t *)&f->guard, NULL);
  ASSERT_OK(uv_run(&f->loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&f->loop));
  SSL_CTX_free(f->cctx);
  SSL_CTX_free(f->sctx);
  sg_sbx_smtp_free(f->sess); /* f->last stays for the case to check; it frees it */
  char cmd[200];
  snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
  ASSERT_OK(system(cmd));
}

/* ---- the client ---- */

static const char *const RCPTS[] = {"a@contoso.com", "b@fabrikam.com"};

static void send_one(fx *f);

static void on_done(sg_smtpc_session *s, const sg_outcome *o, void *ud) {
  fx *f = ud;
  (void)s;
  f->outcomes++;
  f->last_outcome = *o;
  uv_update_time(&f->loop);
  f->elapsed = uv_now(&f->loop) - f->t0;
  if (o->kind != SG_OUTCOME_SENT || f->sent >= f->to_send)
    sg_smtpc_session_quit(f->s);
}

static void send_one(fx *f) {
  sg_smtpc_env env = {"mbx@contoso.com", RCPTS, 2};
  char err[200];
  f->sent++;
  ASSERT_OK(sg_smtpc_send(f->s, &env, f->msg, f->msg_len, on_done, f, err, sizeof err));
}

static void on_ready(sg_smtpc_session *s, void *ud) {
  fx *f = ud;
  ASSERT(sg_smtpc_session_idle(s));
  if (f->sent < f->to_send && f->outcomes == f->sent)
    send_one(f);
}

static void on_close(sg_smtpc_session *s, const sg_outcome *why, void *ud) {
  fx *f = ud;
  (void)s;
  f->closed++;
  f->why = *why;
  f->s = NULL;
  /* The case is over: the server side goes too. */
  if (!uv_is_closing((uv_handle_t *)&f->listener))
    uv_close((uv_handle_t *)&f->listener, NULL);
  if (f->sconn)
    sg_tlsconn_close(f->sconn, 0);
}

static void run(fx *f, const char *token, const sg_smtpc_opts *extra, uint16_t port) {
  sg_smtpc_opts o;
  if (extra) {
    o = *extra;
  } else {
    memset(&o, 0, sizeof o);
  }
  o.auth = SG_SMTPC_AUTH_XOAUTH2;
  o.user = "mbx@contoso.com";
  o.secret = token;
  static const sg_smtpc_session_cbs cbs = {on_ready, on_close};
  uv_update_time(&f->loop);
  f->t0 = uv_now(&f->loop);
  ASSERT_OK(sg_smtpc_session_new(&f->s, &f->loop, f->cctx, "localhost", port ? port : f->port, &o,
                                 5000, &cbs, f));
  fx_finish(f);
  ASSERT_EQ(1, f->closed);
  fprintf(stderr, "   outcomes %d, closed: %s %s %s\n", f->outcomes,
          sg_outcome_kind_name(f->why.kind), f->why.code, f->why.message);
}

/* The message as the server must store it: CRLF line ends. */
static char *crlf(const char *in, size_t n, size_t *out_len) {
  sg_buf b = SG_BUF_INIT;
  for (size_t i = 0; i < n; i++) {
    if (in[i] == '\n')
      sg_buf_append_char(&b, '\r');
    sg_buf_append_char(&b, in[i]);
  }
  if (n == 0 || in[n - 1] != '\n')
    sg_buf_append(&b, "\r\n", 2);
  return sg_buf_steal(&b, out_len);
}

static void t_starttls_xoauth2_large(void) {
  fx f;
  fx_init(&f, M_NORMAL);
  /* About 3 MB with dot lines: streamed in chunks under the high-water mark. */
  sg_buf m = SG_BUF_INIT;
  sg_buf_append_str(&m, "From: mbx@contoso.com\nSubject: big\n\n");
  for (int i = 0; i < 60000; i++)
    sg_buf_append_str(&m, i % 7 ? "0123456789 0123456789 0123456789 0123456789 abc\n" : ".x\n");
  f.msg = (const uint8_t *)m.data;
  f.msg_len = m.len;
  f.to_send = 2;
  run(&f, "good", NULL, 0);
  ASSERT_EQ(2, f.outcomes);
  ASSERT_EQ(SG_OUTCOME_SENT, f.last_outcome.kind);
  ASSERT_EQ(2, f.delivered);
  size_t wl;
  char *want = crlf(m.data, m.len, &wl);
  ASSERT_EQ(wl, f.last.len);
  ASSERT_MEM_EQ(want, f.last.data, wl);
  ASSERT_EQ(SG_OUTCOME_SENT, f.why.kind); /* an orderly QUIT */
  ASSERT(f.tls_started);
  sg_free(want);
  sg_buf_free(&m);
  sg_buf_free(&f.last);
}

/* The one-line message of the tests below, to be sent |to_send| times. */
static void small_msg(fx *f, int to_send) {
  f->msg = (const uint8_t *)"Subject: x\r\n\r\nx\r\n";
  f->msg_len = strlen((const char *)f->msg);
  f->to_send = to_send;
}

static void t_bad_token(void) {
  fx f;
  fx_init(&f, M_NORMAL);
  small_msg(&f, 1);
  run(&f, "bad", NULL, 0);
  ASSERT_EQ(0, f.outcomes); /* never became ready: no message was started */
  ASSERT_EQ(SG_OUTCOME_AUTH_REFRESH, f.why.kind);
  ASSERT_STR_EQ("5.7.3", f.why.code);
}

static void t_untrusted_certificate(void) {
  fx f;
  fx_init(&f, M_NORMAL);
  SSL_CTX_free(f.cctx);
  ASSERT_OK(sg_tls_ctx_client_new2(&f.cctx, NULL, SG_TLS_ALPN_NONE)); /* system store only */
  small_msg(&f, 1);
  run(&f, "good", NULL, 0);
  ASSERT_EQ(SG_OUTCOME_RETRY, f.why.kind);
  ASSERT_STR_EQ("SG_ERR_TLS_VERIFY", f.why.code);
  ASSERT_EQ(0, f.delivered);
}

static void t_greeting_timeout(void) {
  fx f;
  fx_init(&f, M_SILENT);
  small_msg(&f, 0);
  sg_smtpc_opts o = {.greeting_ms = 300};
  run(&f, "good", &o, 0);
  ASSERT_EQ(SG_OUTCOME_RETRY, f.why.kind);
  ASSERT_STR_EQ("SG_ERR_TIMEOUT", f.why.code);
  ASSERT(strstr(f.why.message, "greeting") != NULL);
  uv_update_time(&f.loop);
}

static void t_drop_after_dot(void) {
  fx f;
  fx_init(&f, M_DROP_AFTER_DOT);
  small_msg(&f, 1);
  run(&f, "good", NULL, 0);
  ASSERT_EQ(1, f.outcomes);
  ASSERT_EQ(SG_OUTCOME_RETRY, f.last_outcome.kind);
  ASSERT(f.last_outcome.ambiguous);
  ASSERT_EQ(0, f.delivered);
}

static void t_data_end_timeout(void) {
  fx f;
  fx_init(&f, M_HANG_AFTER_DOT);
  small_msg(&f, 1);
  sg_smtpc_opts o = {.data_end_ms = 400};
  run(&f, "good", &o, 0);
  ASSERT_EQ(1, f.outcomes);
  ASSERT_EQ(SG_OUTCOME_RETRY, f.last_outcome.kind);
  ASSERT(f.last_outcome.ambiguous);
  ASSERT_STR_EQ("SG_ERR_TIMEOUT", f.last_outcome.code);
  ASSERT_EQ(1, f.delivered); /* the server had it: exactly the ambiguous case */
  ASSERT_GE(f.elapsed, 400);
  sg_buf_free(&f.last);
}

/* An idle session leaves by itself after idle_ms: QUIT, then an orderly close. */
static void t_idle_quit(void) {
  fx f;
  fx_init(&f, M_NORMAL);
  small_msg(&f, 0);
  sg_smtpc_opts o = {.idle_ms = 300};
  run(&f, "good", &o, 0);
  ASSERT_EQ(0, f.outcomes);
  ASSERT_EQ(SG_OUTCOME_SENT, f.why.kind);
  ASSERT(strstr(f.why.message, "QUIT") != NULL);
}

static void t_connection_refused(void) {
  fx f;
  fx_init(&f, M_NORMAL);
  /* A port nobody listens on: our own listener's, once closed. */
  uint16_t port = f.port;
  uv_close((uv_handle_t *)&f.listener, NULL);
  uv_run(&f.loop, UV_RUN_NOWAIT);
  small_msg(&f, 1);
  run(&f, "good", NULL, port);
  ASSERT_EQ(SG_OUTCOME_RETRY, f.why.kind);
  ASSERT(!f.why.ambiguous);
  ASSERT(strncmp(f.why.message, "connect: ", 9) == 0);
}

SG_TESTS({"starttls_xoauth2_large", t_starttls_xoauth2_large}, {"bad_token", t_bad_token},
         {"untrusted_certificate", t_untrusted_certificate},
         {"greeting_timeout", t_greeting_timeout}, {"drop_after_dot", t_drop_after_dot},
         {"data_end_timeout", t_data_end_timeout}, {"idle_quit", t_idle_quit},
         {"connection_refused", t_connection_refused})
