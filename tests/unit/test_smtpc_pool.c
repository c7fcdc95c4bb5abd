/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for smtpc/sg_smtpc_pool's bookkeeping over a real loopback
 * socket on one uv loop: a session whose connection has failed, but whose
 * close has not finished, is never given the next message of its group (the
 * message goes on a new session and fails with the real transport error,
 * not "the session is closed"). The pure chooser is tested in test_prov_smtp.
 * A guard timer aborts a case that hangs; every case closes the pool and
 * asserts uv_loop_close() == 0.
 */
#include "harness.h"

#include <uv.h>

#include "core/sg_err.h"
#include "net/sg_tls.h"
#include "smtpc/sg_smtpc_pool.h"

#define GUARD_MS 20000

typedef struct fx {
  uv_loop_t loop;
  uv_timer_t guard, later;
  sg_smtpc_pool *pool;
  SSL_CTX *ctx;
  uint16_t port;
  int outcomes, refused, resend_failures;
  char resend_err[256];
  bool resend_in_callback; /* the second message from the first one's callback */
  bool pool_closed;
} fx;

static const char MSG[] = "Subject: x\r\n\r\nx\r\n";
static const char *const RCPTS[] = {"a@example.com"};

static void on_guard(uv_timer_t *t) {
  (void)t;
  SG_FAIL_("test did not finish within %d ms", GUARD_MS);
}

/* A loopback port nobody listens on: bound, then closed. */
static uint16_t dead_port(uv_loop_t *loop) {
  uv_tcp_t s;
  ASSERT_OK(uv_tcp_init(loop, &s));
  struct sockaddr_in a;
  ASSERT_OK(uv_ip4_addr("127.0.0.1", 0, &a));
  ASSERT_OK(uv_tcp_bind(&s, (const struct sockaddr *)&a, 0));
  struct sockaddr_in got;
  int len = sizeof got;
  ASSERT_OK(uv_tcp_getsockname(&s, (struct sockaddr *)&got, &len));
  uv_close((uv_handle_t *)&s, NULL);
  uv_run(loop, UV_RUN_NOWAIT);
  return ntohs(got.sin_port);
}

static void send_one(fx *f);

static void on_later(uv_timer_t *t) {
  send_one(t->data);
}

static void on_done(const sg_outcome *o, void *ud) {
  fx *f = ud;
  f->outcomes++;
  ASSERT_EQ(SG_OUTCOME_RETRY, o->kind);
  ASSERT(!o->ambiguous);
  if (strncmp(o->message, "connect: ", 9) == 0)
    f->refused++;
  if (f->outcomes == 1) {
    if (f->resend_in_callback)
      send_one(f);
    else
      uv_timer_start(&f->later, on_later, 0, 0);
  }
}

static void send_one(fx *f) {
  sg_smtpc_pool_dest d = {.key = "acct|mailbox@example.com",
                          .host = "127.0.0.1",
                          .port = f->port,
                          .auth = SG_SMTPC_AUTH_XOAUTH2,
                          .user = "mailbox@example.com",
                          .secret = "token",
                          .max_sessions = 2};
  sg_smtpc_env env = {"mailbox@example.com", RCPTS, 1};
  sg_smtpc_pool_msg *m;
  int rv = sg_smtpc_pool_send(f->pool, &d, &env, (const uint8_t *)MSG, sizeof MSG - 1, on_done, f,
                              &m, f->resend_err, sizeof f->resend_err);
  if (rv != 0)
    f->resend_failures++;
}

static void on_pool_closed(void *ud) {
  ((fx *)ud)->pool_closed = true;
}

static void run(bool in_callback) {
  fx f;
  memset(&f, 0, sizeof f);
  ASSERT_OK(uv_loop_init(&f.loop));
  ASSERT_OK(uv_timer_init(&f.loop, &f.guard));
  ASSERT_OK(uv_timer_init(&f.loop, &f.later));
  f.later.data = &f;
  uv_timer_start(&f.guard, on_guard, GUARD_MS, 0);
  uv_unref((uv_handle_t *)&f.guard);
  f.port = dead_port(&f.loop);
  f.resend_in_callback = in_callback;
  ASSERT_OK(sg_tls_ctx_client_new2(&f.ctx, NULL, SG_TLS_ALPN_NONE));
  sg_smtpc_pool_cfg cfg = {.tls_ctx = f.ctx, .connect_timeout_ms = 5000, .reply_timeout_ms = 5000};
  sg_smtpc_pool_new(&f.pool, &f.loop, &cfg);
  send_one(&f);
  ASSERT_EQ(0, f.resend_failures);
  for (int i = 0; i < 1000 && f.outcomes < 2; i++)
    uv_run(&f.loop, UV_RUN_ONCE);
  /* Both messages failed on their own refused connection; the second was
   * not handed to the first's dead session. */
  ASSERT_STR_EQ("", f.resend_err);
  ASSERT_EQ(0, f.resend_failures);
  ASSERT_EQ(2, f.outcomes);
  ASSERT_EQ(2, f.refused);
  ASSERT_EQ(2, sg_smtpc_pool_opened(f.pool));
  sg_smtpc_pool_close(f.pool, on_pool_closed, &f);
  for (int i = 0; i < 1000 && !f.pool_closed; i++)
    uv_run(&f.loop, UV_RUN_ONCE);
  ASSERT(f.pool_closed);
  uv_close((uv_handle_t *)&f.guard, NULL);
  uv_close((uv_handle_t *)&f.later, NULL);
  uv_run(&f.loop, UV_RUN_DEFAULT);
  ASSERT_OK(uv_loop_close(&f.loop));
  SSL_CTX_free(f.ctx);
}

/* The second message is sent from the first one's done callback, while the
 * failed session is still being torn down. */
static void t_resend_from_callback(void) {
  run(true);
}

/* The second message is sent on the next loop turn. */
static void t_resend_next_turn(void) {
  run(false);
}

SG_TESTS({"resend_from_callback", t_resend_from_callback}, {"resend_next_turn", t_resend_next_turn})
