/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The byte stream of sg_tlsconn.h over a connected socket: TLS handshake
 * through the sg_tls engine, buffered writes, reads, orderly close, and the
 * connection's lifetime. All TLS logic is in sg_tls.c; this file only moves
 * bytes and runs timers. Getting the socket (resolve, connect, accept) is
 * sg_tlsconn_tcp.c.
 *
 * Output path: sg_tlsconn_write appends plaintext to |plain|. The connection's
 * registrant with the loop's turn (sg_turn.h, rank SG_TURN_TLS), wanted only
 * while there is work, encrypts |plain| into |out| in one go and, if no write
 * is in flight, writes it: at once when the socket takes it all (nearly
 * always), else the rest by a uv_write (|out| and |inflight| swap: h2o's
 * double buffer). The turn runs right before the loop blocks for I/O, after the
 * stages that produce our output (the HTTP/2 pool), so everything queued
 * during this turn (timers, reads, write completions, the pool's flush)
 * leaves in one write before the loop sleeps.
 *
 * Close: with err 0 and a live connection, the queued output and a TLS
 * close_notify are flushed, then the write side is shut down (FIN) and we
 * read (discarding) until the peer's EOF, so closing with unread input does
 * not turn into a RST that could destroy our last bytes at the peer. The
 * flush and the linger are bounded by |handshake_timeout_ms|. Otherwise all
 * handles are closed at once. on_close runs from the last close callback, so
 * sg_tlsconn_close is safe from inside any callback: the caller's stack
 * unwinds before anything is freed; code after a user callback checks
 * |closing| and stops.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "core/sg_turn.h"
#include "net/sg_stream_write.h"
#include "net/sg_tls.h"
#include "net/sg_tlsconn_int.h"

/* One read's worth of encrypted input; libuv reads at most this much at once. */
#define READ_BUF_SIZE (64 * 1024)
/* Plaintext chunk per SSL_read: one TLS record holds at most 16 KB. */
#define PLAIN_CHUNK (16 * 1024)
/* Largest write buffer kept for reuse after a write completes (idle memory). */
#define RETAIN_CAP (256 * 1024)
/* Used when the caller passes a timeout of 0. */
#define DEFAULT_TIMEOUT_MS 10000

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void on_turn(sg_turn_reg *reg, void *ud);

/* ---- lifetime ---- */

void sg_tlsconn__maybe_finish(sg_tlsconn *c) {
  if (c->state != SG_TC_CLOSED || c->open_handles > 0 || c->gai_pending)
    return;
  if (!c->silent)
    c->cbs.on_close(c, c->close_err, c->ud);
  uv_freeaddrinfo(c->addrs);
  sg_tls_free(c->tls);
  sg_buf_free(&c->plain);
  sg_buf_free(&c->out);
  sg_buf_free(&c->inflight);
  sg_buf_free(&c->proxy_in);
  sg_free(c->proxy);
  sg_free(c->tunnel_host);
  sg_free(c->rbuf);
  sg_free(c);
}

static void on_handle_closed(uv_handle_t *h) {
  sg_tlsconn *c = h->data;
  c->open_handles--;
  sg_tlsconn__maybe_finish(c);
}

/* Closes every handle; on_close follows from the last close callback. */
void sg_tlsconn__teardown(sg_tlsconn *c) {
  if (c->state == SG_TC_CLOSED)
    return;
  c->state = SG_TC_CLOSED;
  if (c->gai_pending)
    uv_cancel((uv_req_t *)&c->gai); /* its callback still runs, maybe with a result */
  uv_close((uv_handle_t *)&c->timer, on_handle_closed);
  sg_turn_reg_remove(&c->turn);
  if (c->tcp_open) {
    c->tcp_open = false;
    c->reading = false;
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
  }
  sg_tlsconn__maybe_finish(c);
}

/*
 * Failure path: drop everything. During an orderly close the reason given to
 * sg_tlsconn_close (0) stands: the first close wins.
 */
void sg_tlsconn__fail(sg_tlsconn *c, int err) {
  if (c->state == SG_TC_CLOSED)
    return;
  if (c->state != SG_TC_CLOSING)
    c->close_err = err;
  sg_tlsconn__teardown(c);
}

static void copy_tls_detail(sg_tlsconn *c) {
  if (c->tls)
    snprintf(c->detail, sizeof c->detail, "%s", sg_tls_error_detail(c->tls));
}

/* ---- output ---- */

static void schedule(sg_tlsconn *c) {
  if (c->state != SG_TC_CLOSED)
    sg_turn_want(&c->turn);
}

static void take_tls_out(sg_tlsconn *c) {
  if (c->tls && sg_tls_take_out(c->tls, &c->out) > 0)
    schedule(c);
}

static void on_write(uv_write_t *req, int status);

/* Writes |out| (sg_stream_write.h). A write that completed at once leaves
 * its after-write step (the drain callback, the orderly close) to
 * after_write, from the turn: never from inside the caller's call. */
static void start_write(sg_tlsconn *c) {
  if (c->writing || c->out.len == 0 || !c->tcp_open || c->state < SG_TC_PROXY ||
      c->state == SG_TC_CLOSED)
    return;
  int rv = sg_stream_write((uv_stream_t *)&c->tcp, &c->write_req, on_write, &c->out, &c->inflight,
                           &c->inflight_done, RETAIN_CAP);
  if (rv < 0) {
    sg_tlsconn__fail(c, rv);
    return;
  }
  if (rv == 1) {
    c->drain_due = true;
    schedule(c);
    return;
  }
  c->writing = true;
}

/* Encrypts (or hands on) the queued plaintext; only once the handshake is done. */
static int move_plain(sg_tlsconn *c) {
  if (c->plain.len == 0 || (c->state != SG_TC_READY && c->state != SG_TC_CLOSING))
    return 0;
  if (!c->tls) {
    if (c->out.len == 0) {
      sg_buf tmp = c->out;
      c->out = c->plain;
      c->plain = tmp;
    } else {
      sg_buf_append(&c->out, c->plain.data, c->plain.len);
    }
    sg_buf_reset(&c->plain);
    return 0;
  }
  int rv = sg_tls_write(c->tls, (const uint8_t *)c->plain.data, c->plain.len);
  sg_buf_reset(&c->plain);
  take_tls_out(c);
  if (rv != 0)
    copy_tls_detail(c);
  return rv;
}

static bool all_flushed(const sg_tlsconn *c) {
  return c->plain.len == 0 && c->out.len == 0 && !c->writing;
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  sg_tlsconn *c = req->data;
  if (status == UV_ECANCELED || c->state == SG_TC_CLOSED)
    return;
  c->shutdown_done = true;
  if (status < 0 || c->peer_eof)
    sg_tlsconn__teardown(c);
  /* else: linger until the peer's EOF or the timer */
}

/* Orderly close, once everything has been written: FIN, then wait for EOF. */
static void closing_progress(sg_tlsconn *c) {
  if (c->state != SG_TC_CLOSING || !all_flushed(c) || c->shutdown_sent)
    return;
  c->shutdown_sent = true;
  c->shutdown_req.data = c;
  if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shutdown) < 0)
    sg_tlsconn__teardown(c);
}

/* After a write completed: the orderly close goes on, or the user hears
 * that everything queued has left (on_drain). */
static void after_write(sg_tlsconn *c) {
  c->drain_due = false;
  if (c->state == SG_TC_CLOSING) {
    closing_progress(c);
  } else if (c->state == SG_TC_READY && all_flushed(c) && c->cbs.on_drain) {
    c->cbs.on_drain(c, c->ud);
  }
}

static void on_write(uv_write_t *req, int status) {
  sg_tlsconn *c = req->data;
  c->writing = false;
  c->inflight_done = 0;
  if (c->inflight.cap > RETAIN_CAP)
    sg_buf_free(&c->inflight); /* a burst's memory is not kept for the connection's life */
  else
    sg_buf_reset(&c->inflight);
  if (status == UV_ECANCELED || c->state == SG_TC_CLOSED)
    return;
  if (status < 0) {
    sg_tlsconn__fail(c, status);
    return;
  }
  start_write(c);
  after_write(c);
}

/* ---- input ---- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  sg_tlsconn *c = h->data;
  *buf = uv_buf_init((char *)c->rbuf, READ_BUF_SIZE);
}

static int read_start(sg_tlsconn *c) {
  if (c->reading || !c->tcp_open)
    return 0;
  int rv = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
  if (rv == 0)
    c->reading = true;
  return rv;
}

static void read_stop(sg_tlsconn *c) {
  if (c->reading) {
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
  }
}

/*
 * Delivers the plaintext the engine can produce from the input fed so far.
 * Bounded by that input (at most one READ_BUF_SIZE read plus a partial record);
 * stops as soon as the user pauses or closes from on_read.
 */
static void process_input(sg_tlsconn *c) {
  uint8_t chunk[PLAIN_CHUNK];
  while (c->state == SG_TC_READY && !c->paused) {
    size_t n = 0;
    int rv = sg_tls_read(c->tls, chunk, sizeof chunk, &n);
    take_tls_out(c);
    if (rv == SG_ERR_AGAIN)
      return;
    if (rv == SG_ERR_EOF) { /* close_notify: answer in kind and finish */
      sg_tlsconn_close(c, 0);
      return;
    }
    if (rv != 0) {
      copy_tls_detail(c);
      sg_tlsconn__fail(c, rv);
      return;
    }
    c->cbs.on_read(c, chunk, n, c->ud);
  }
}

static void become_ready(sg_tlsconn *c) {
  c->state = SG_TC_READY;
  uv_timer_stop(&c->timer);
  c->cbs.on_ready(c, c->ud);
  if (c->state != SG_TC_READY)
    return; /* closed from on_ready */
  if (c->plain.len > 0)
    schedule(c);
  if (c->paused) {
    read_stop(c);
    c->input_pending = c->tls != NULL;
    return;
  }
  int rv = read_start(c);
  if (rv != 0) {
    sg_tlsconn__fail(c, rv);
    return;
  }
  if (c->tls)
    process_input(c); /* application data may have come with the last flight */
}

static void drive_handshake(sg_tlsconn *c) {
  int rv = sg_tls_handshake(c->tls);
  take_tls_out(c);
  if (rv == SG_ERR_AGAIN)
    return;
  if (rv != 0) {
    copy_tls_detail(c);
    /* Best effort: let the peer see our alert instead of a bare EOF. */
    if (!c->writing && c->out.len > 0 && c->tcp_open) {
      uv_buf_t b = uv_buf_init(c->out.data, (unsigned int)c->out.len);
      (void)uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    }
    sg_tlsconn__fail(c, rv);
    return;
  }
  become_ready(c);
}

/* Input after sg_tlsconn_close(c, 0): discarded until the peer's EOF. */
static void linger_read(sg_tlsconn *c, ssize_t nread) {
  if (nread >= 0)
    return;
  c->peer_eof = true;
  read_stop(c);
  if (nread != UV_EOF || c->shutdown_done)
    sg_tlsconn__teardown(c);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  sg_tlsconn *c = s->data;
  if (nread == 0 || c->state == SG_TC_CLOSED)
    return;
  if (c->state == SG_TC_CLOSING) {
    linger_read(c, nread);
    return;
  }
  if (nread < 0) {
    read_stop(c);
    if (nread == UV_EOF && c->state == SG_TC_READY) {
      c->peer_eof = true;
      sg_tlsconn_close(c, 0); /* the peer's EOF is an orderly close */
    } else {
      sg_tlsconn__fail(c, nread == UV_EOF ? SG_ERR_EOF : (int)nread);
    }
    return;
  }
  if (c->state == SG_TC_PROXY) {
    sg_tlsconn__proxy_read(c, c->rbuf, (size_t)nread);
    return;
  }
  if (!c->tls) {
    c->cbs.on_read(c, c->rbuf, (size_t)nread, c->ud);
    return;
  }
  int rv = sg_tls_feed(c->tls, c->rbuf, (size_t)nread);
  if (rv != 0) {
    sg_tlsconn__fail(c, rv);
  } else if (c->state == SG_TC_HANDSHAKE) {
    drive_handshake(c);
  } else {
    process_input(c);
  }
}

/* ---- the per-turn flush ---- */

/* Encrypts the queued plaintext and starts writing it (and the close, when closing). */
static void flush_out(sg_tlsconn *c) {
  int rv = move_plain(c);
  if (rv != 0) {
    sg_tlsconn__fail(c, rv);
    return;
  }
  start_write(c);
  closing_progress(c);
}

void sg_tlsconn_flush(sg_tlsconn *c) {
  if (c->state != SG_TC_READY && c->state != SG_TC_CLOSING)
    return;
  flush_out(c); /* a want of the turn stays: it finds nothing left, or input to deliver */
}

void sg_tlsconn_set_flush_rank(sg_tlsconn *c, sg_turn_rank rank) {
  if (c->state != SG_TC_CLOSED)
    sg_turn_reg_set_rank(&c->turn, rank);
}

static void on_turn(sg_turn_reg *reg, void *ud) {
  (void)reg;
  sg_tlsconn *c = ud;
  if (c->ready_pending) {
    c->ready_pending = false;
    become_ready(c);
  }
  if (c->input_pending && c->state == SG_TC_READY && !c->paused) {
    c->input_pending = false;
    process_input(c);
  }
  if (c->state == SG_TC_CLOSED)
    return;
  flush_out(c);
  if (!c->drain_due || c->state == SG_TC_CLOSED)
    return;
  after_write(c);
  /* The want start_write made for this is served: keep one only for new work
   * (on_drain may have queued some, or written and completed again). */
  if (c->state != SG_TC_CLOSED && c->plain.len == 0 && !c->drain_due && !c->input_pending &&
      !c->ready_pending)
    sg_turn_unwant(&c->turn);
}

static void on_timer(uv_timer_t *t) {
  sg_tlsconn *c = t->data;
  if (c->state == SG_TC_CLOSING)
    sg_tlsconn__teardown(c); /* flush or linger took too long; the close stays orderly (0) */
  else
    sg_tlsconn__fail(c, SG_ERR_TIMEOUT);
}

/* ---- construction (for sg_tlsconn_tcp.c) ---- */

sg_tlsconn *sg_tlsconn__new(uv_loop_t *loop, uint64_t timeout_ms, const sg_tlsconn_cbs *cbs,
                            void *ud) {
  sg_tlsconn *c = sg_xcalloc(1, sizeof *c);
  c->loop = loop;
  c->cbs = *cbs;
  c->ud = ud;
  c->timeout_ms = timeout_ms ? timeout_ms : DEFAULT_TIMEOUT_MS;
  c->write_req.data = c;
  c->gai.data = c;
  return c;
}

void sg_tlsconn__init_handles(sg_tlsconn *c) {
  uv_timer_init(c->loop, &c->timer);
  sg_turn_reg_init(&c->turn, c->loop, SG_TURN_TLS, on_turn, c);
  c->timer.data = c;
  c->open_handles += 1;
  c->rbuf = sg_xmalloc(READ_BUF_SIZE);
}

void sg_tlsconn__arm_timer(sg_tlsconn *c) {
  /* The loop's cached time may be stale (the caller may have been busy). */
  uv_update_time(c->loop);
  uv_timer_start(&c->timer, on_timer, c->timeout_ms, 0);
}

void sg_tlsconn__connected(sg_tlsconn *c) {
  if (c->proxy) {
    sg_tlsconn__proxy_start(c);
    return;
  }
  sg_tlsconn__tunnel_up(c);
}

void sg_tlsconn__write_raw(sg_tlsconn *c, const void *p, size_t n) {
  sg_buf_append(&c->out, p, n);
  start_write(c);
}

int sg_tlsconn__read_start(sg_tlsconn *c) {
  return read_start(c);
}

void sg_tlsconn__tunnel_up(sg_tlsconn *c) {
  if (!c->tls) {
    become_ready(c);
    return;
  }
  c->state = SG_TC_HANDSHAKE;
  int rv = read_start(c);
  if (rv != 0) {
    sg_tlsconn__fail(c, rv);
    return;
  }
  drive_handshake(c); /* queues the ClientHello */
}

int sg_tlsconn__accepted(sg_tlsconn *c) {
  if (c->tls)
    return read_start(c);
  /* on_ready must not run before the caller has *out: defer to the turn. */
  c->ready_pending = true;
  schedule(c);
  return 0;
}

/* ---- the rest of the public API ---- */

int sg_tlsconn_write(sg_tlsconn *c, const uint8_t *p, size_t n) {
  if (c->state == SG_TC_CLOSING || c->state == SG_TC_CLOSED)
    return SG_ERR_CLOSED;
  if (n == 0)
    return 0;
  sg_buf_append(&c->plain, p, n);
  if (c->state == SG_TC_READY)
    schedule(c);
  return 0;
}

size_t sg_tlsconn_out_pending(const sg_tlsconn *c) {
  return c->plain.len + c->out.len + c->inflight.len - c->inflight_done;
}

void sg_tlsconn_pause_read(sg_tlsconn *c) {
  c->paused = true;
  if (c->state == SG_TC_READY)
    read_stop(c);
}

void sg_tlsconn_resume_read(sg_tlsconn *c) {
  if (!c->paused)
    return;
  c->paused = false;
  if (c->state != SG_TC_READY)
    return;
  int rv = read_start(c);
  if (rv != 0) {
    sg_tlsconn__fail(c, rv);
    return;
  }
  if (c->tls) { /* records already decrypted-able stay in the engine: next turn */
    c->input_pending = true;
    schedule(c);
  }
}

void sg_tlsconn_close(sg_tlsconn *c, int err) {
  if (c->state == SG_TC_CLOSING || c->state == SG_TC_CLOSED)
    return;
  if (err != 0 || c->state != SG_TC_READY) {
    c->close_err = err;
    sg_tlsconn__teardown(c);
    return;
  }
  c->state = SG_TC_CLOSING;
  c->close_err = 0;
  c->input_pending = false;
  int rv = move_plain(c);
  if (rv == 0 && c->tls) {
    rv = sg_tls_shutdown(c->tls); /* close_notify */
    take_tls_out(c);
  }
  if (rv != 0) {
    sg_tlsconn__teardown(c);
    return;
  }
  uv_timer_start(&c->timer, on_timer, c->timeout_ms, 0);
  if (!c->peer_eof && read_start(c) != 0) {
    sg_tlsconn__teardown(c);
    return;
  }
  start_write(c);
  closing_progress(c);
}

int sg_tlsconn_starttls(sg_tlsconn *c, SSL_CTX *ctx, const char *host) {
  if (c->tls || c->state != SG_TC_READY)
    return SG_ERR_INVAL;
  int rv = sg_tls_new(&c->tls, ctx, host);
  if (rv != 0)
    return rv;
  /* What was written before goes first, in clear (a server's "220 ready"). */
  if (c->plain.len > 0) {
    sg_buf_append(&c->out, c->plain.data, c->plain.len);
    sg_buf_reset(&c->plain);
  }
  c->state = SG_TC_HANDSHAKE;
  sg_tlsconn__arm_timer(c);
  if (host)
    drive_handshake(c); /* queues the ClientHello; a failure closes the connection */
  start_write(c);
  if (c->out.len > 0)
    schedule(c);
  return 0;
}

const char *sg_tlsconn_alpn(const sg_tlsconn *c) {
  return c->tls ? sg_tls_alpn(c->tls) : "";
}

const char *sg_tlsconn_error_detail(const sg_tlsconn *c) {
  return c->detail;
}

const char *sg_tlsconn_peer(const sg_tlsconn *c) {
  return c->peer;
}

void sg_tlsconn_set_ud(sg_tlsconn *c, void *ud) {
  c->ud = ud;
}
