/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The libuv glue of the SMTP client; see sg_smtpc_session.h. It moves bytes
 * between the connection and the machine, runs the timer, starts TLS when
 * the machine asks, and hands outcomes to the callers. All protocol
 * decisions are sg_smtpc_proto's. After every event, settle() brings the
 * connection, the timer and the callbacks in line with the machine.
 */
#include "smtpc/sg_smtpc_session.h"

#include <stdio.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "net/sg_tlsconn.h"

#define DEFAULT_CONNECT_MS 30000

struct sg_smtpc_session {
  uv_loop_t *loop;
  SSL_CTX *ctx;
  char *host;
  sg_tlsconn *conn;
  uv_timer_t timer;
  uv_timer_t kick; /* 0 ms: callbacks for what an API call caused */
  sg_smtpc_proto *p;
  sg_smtpc_session_cbs cbs;
  void *ud;
  sg_smtpc_done_cb done;
  void *done_ud;
  int pending_closes; /* the connection and the two timers */
  bool settling, again;
  bool was_idle;
  bool conn_closing;
  bool close_reported;
  sg_outcome why;
};

static void settle(sg_smtpc_session *s);

static void maybe_free(sg_smtpc_session *s) {
  if (s->pending_closes > 0)
    return;
  if (!s->close_reported) {
    s->close_reported = true;
    s->cbs.on_close(s, &s->why, s->ud);
  }
  sg_smtpc_proto_del(s->p);
  sg_free(s->host);
  sg_free(s);
}

static void on_timer_closed(uv_handle_t *h) {
  sg_smtpc_session *s = h->data;
  s->pending_closes--;
  maybe_free(s);
}

/* Delivers the outcome of the message in progress, if the machine has one. */
static void deliver_results(sg_smtpc_session *s) {
  sg_outcome o;
  while (sg_smtpc_proto_take_result(s->p, &o)) {
    sg_smtpc_done_cb cb = s->done;
    void *ud = s->done_ud;
    s->done = NULL;
    s->done_ud = NULL;
    if (cb)
      cb(s, &o, ud);
  }
}

static void on_timer(uv_timer_t *t) {
  sg_smtpc_session *s = t->data;
  if (sg_smtpc_proto_idle(s->p))
    sg_smtpc_proto_quit(s->p); /* idle too long: leave politely */
  else
    sg_smtpc_proto_fail(s->p, SG_ERR_TIMEOUT);
  settle(s);
}

/* Hands the machine's output to the connection; the body as far as the
 * high-water mark allows. */
static void move_output(sg_smtpc_session *s) {
  sg_buf *out = sg_smtpc_proto_output(s->p);
  for (;;) {
    if (out->len > 0 && s->conn && !s->conn_closing) {
      sg_tlsconn_write(s->conn, (const uint8_t *)out->data, out->len);
      memset(out->data, 0, out->len); /* AUTH lines do not linger */
    }
    sg_buf_reset(out);
    if (!sg_smtpc_proto_body_pending(s->p) || !s->conn || s->conn_closing ||
        sg_tlsconn_out_pending(s->conn) >= SG_SMTPC_SESSION_HIGH_WATER)
      return;
    sg_smtpc_proto_pump(s->p, SG_SMTPC_SESSION_CHUNK);
  }
}

static void arm_timer(sg_smtpc_session *s) {
  if (s->conn_closing)
    return;
  uint64_t ms = sg_smtpc_proto_wait_ms(s->p);
  if (ms == 0) {
    uv_timer_stop(&s->timer);
    return;
  }
  uv_update_time(s->loop);
  uv_timer_start(&s->timer, on_timer, ms, 0);
}

static void close_timers(sg_smtpc_session *s) {
  s->conn_closing = true;
  s->why = *sg_smtpc_proto_error(s->p);
  uv_timer_stop(&s->timer);
  uv_close((uv_handle_t *)&s->timer, on_timer_closed);
  uv_close((uv_handle_t *)&s->kick, on_timer_closed);
}

static void start_close(sg_smtpc_session *s, int err) {
  if (s->conn_closing)
    return;
  close_timers(s);
  if (s->conn)
    sg_tlsconn_close(s->conn, err);
}

static void settle_once(sg_smtpc_session *s) {
  if (sg_smtpc_proto_want_tls(s->p) && s->conn) {
    int rv = sg_tlsconn_starttls(s->conn, s->ctx, s->host);
    if (rv != 0)
      sg_smtpc_proto_fail(s->p, rv);
  }
  move_output(s);
  deliver_results(s);
  move_output(s); /* what a done callback started */
  if (sg_smtpc_proto_closed(s->p)) {
    const sg_outcome *e = sg_smtpc_proto_error(s->p);
    /* Orderly after QUIT (flush, close_notify, FIN, the server's EOF);
     * dropped otherwise (a broken transport, a protocol violation mid-body). */
    start_close(s, sg_smtpc_proto_quit_sent(s->p)
                       ? 0
                       : (e->transport_err ? e->transport_err : SG_ERR_CLOSED));
    return;
  }
  arm_timer(s);
  bool idle = sg_smtpc_proto_idle(s->p);
  if (idle && !s->was_idle) {
    s->was_idle = true;
    if (s->cbs.on_ready)
      s->cbs.on_ready(s, s->ud);
  } else if (!idle) {
    s->was_idle = false;
  }
}

/* Re-entrant calls (a callback sending the next message) loop here once
 * the outer call unwinds, so callbacks never nest. */
static void settle(sg_smtpc_session *s) {
  if (s->settling) {
    s->again = true;
    return;
  }
  s->settling = true;
  do {
    s->again = false;
    settle_once(s);
  } while (s->again && !s->conn_closing);
  s->settling = false;
}

/* ---- connection callbacks ---- */

static void on_conn_ready(sg_tlsconn *c, void *ud) {
  sg_smtpc_session *s = ud;
  (void)c;
  if (sg_smtpc_proto_stage(s->p) == SG_SMTPC_STAGE_STARTTLS)
    sg_smtpc_proto_tls_done(s->p);
  else
    sg_smtpc_proto_connected(s->p);
  settle(s);
}

static void on_conn_read(sg_tlsconn *c, const uint8_t *p, size_t n, void *ud) {
  sg_smtpc_session *s = ud;
  (void)c;
  sg_smtpc_proto_feed(s->p, p, n);
  settle(s);
}

static void on_conn_drain(sg_tlsconn *c, void *ud) {
  sg_smtpc_session *s = ud;
  (void)c;
  if (sg_smtpc_proto_body_pending(s->p))
    settle(s); /* progress: more body, and the data-block timer starts again */
}

static void on_conn_close(sg_tlsconn *c, int err, void *ud) {
  sg_smtpc_session *s = ud;
  (void)c;
  s->conn = NULL;
  if (!sg_smtpc_proto_closed(s->p))
    sg_smtpc_proto_fail(s->p, err ? err : SG_ERR_EOF);
  deliver_results(s);
  if (!s->conn_closing)
    close_timers(s);
  s->pending_closes--;
  maybe_free(s);
}

/* ---- API ---- */

static void on_kick(uv_timer_t *t) {
  settle(t->data);
}

/* After an API call: output leaves now; callbacks come from the loop. */
static void after_call(sg_smtpc_session *s) {
  move_output(s);
  if (!s->settling)
    arm_timer(s);
  uv_timer_start(&s->kick, on_kick, 0, 0);
}

int sg_smtpc_session_new(sg_smtpc_session **out, uv_loop_t *loop, SSL_CTX *tls_ctx,
                         const char *host, uint16_t port, const sg_smtpc_opts *opts,
                         uint64_t connect_timeout_ms, const sg_smtpc_session_cbs *cbs, void *ud) {
  *out = NULL;
  if (!host || !host[0] || !cbs || !cbs->on_close || (!tls_ctx && !opts->plaintext))
    return SG_ERR_INVAL;
  sg_smtpc_proto *p;
  int rv = sg_smtpc_proto_new(&p, opts);
  if (rv != 0)
    return rv;
  sg_smtpc_session *s = sg_xcalloc(1, sizeof *s);
  s->loop = loop;
  s->ctx = tls_ctx;
  s->host = sg_xstrdup(host);
  s->p = p;
  s->cbs = *cbs;
  s->ud = ud;
  static const sg_tlsconn_cbs ccbs = {on_conn_ready, on_conn_read, on_conn_drain, on_conn_close};
  rv = sg_tlsconn_connect(&s->conn, loop, NULL, host, port,
                          connect_timeout_ms ? connect_timeout_ms : DEFAULT_CONNECT_MS, &ccbs, s);
  if (rv != 0) {
    sg_smtpc_proto_del(p);
    sg_free(s->host);
    sg_free(s);
    return rv;
  }
  uv_timer_init(loop, &s->timer);
  uv_timer_init(loop, &s->kick);
  s->timer.data = s;
  s->kick.data = s;
  s->pending_closes = 3;
  arm_timer(s); /* the greeting's wait starts with the connect */
  *out = s;
  return 0;
}

int sg_smtpc_send(sg_smtpc_session *s, const sg_smtpc_env *env, const uint8_t *msg, size_t len,
                  sg_smtpc_done_cb done, void *done_ud, char *err, size_t errcap) {
  if (s->conn_closing) {
    snprintf(err, errcap, "the session is closed");
    return SG_ERR_CLOSED;
  }
  int rv = sg_smtpc_proto_start(s->p, env, msg, len, err, errcap);
  if (rv != 0)
    return rv;
  s->done = done;
  s->done_ud = done_ud;
  s->was_idle = false;
  after_call(s);
  return 0;
}

bool sg_smtpc_session_idle(const sg_smtpc_session *s) {
  return !s->conn_closing && sg_smtpc_proto_idle(s->p);
}

bool sg_smtpc_session_closing(const sg_smtpc_session *s) {
  /* The machine closes first (a failed connect delivers its outcome from
   * on_conn_close, before the timers close): either means no more messages. */
  return s->conn_closing || sg_smtpc_proto_closed(s->p);
}

void sg_smtpc_session_quit(sg_smtpc_session *s) {
  if (s->conn_closing)
    return;
  sg_smtpc_proto_quit(s->p);
  after_call(s);
}

void sg_smtpc_session_close(sg_smtpc_session *s) {
  if (s->conn_closing)
    return;
  sg_smtpc_proto_fail(s->p, SG_ERR_SHUTDOWN);
  after_call(s);
}

const sg_smtpc_ext *sg_smtpc_session_ext(const sg_smtpc_session *s) {
  return sg_smtpc_proto_ext(s->p);
}
