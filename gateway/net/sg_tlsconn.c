/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libuv glue for sg_tlsconn.h: resolve, connect (next address on failure),
 * TLS handshake through the sg_tls engine, buffered writes, orderly close.
 * All TLS logic is in sg_tls.c; this file only moves bytes and runs timers.
 *
 * Output path: sg_tlsconn_write appends plaintext to |plain|. The connection's
 * registrant with the loop's turn (sg_turn.h, rank SG_TURN_TLS), wanted only
 * while there is work, encrypts |plain| into |out| in one go and starts a
 * uv_write if none is in flight (|out| and |inflight| swap: h2o's double
 * buffer). The turn runs right before the loop blocks for I/O, after the
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
#include "net/sg_tlsconn.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "core/sg_turn.h"
#include "net/sg_tls.h"

/* One read's worth of encrypted input; libuv reads at most this much at once. */
#define READ_BUF_SIZE (64 * 1024)
/* Plaintext chunk per SSL_read: one TLS record holds at most 16 KB. */
#define PLAIN_CHUNK (16 * 1024)
/* Largest write buffer kept for reuse after a write completes (idle memory). */
#define RETAIN_CAP (256 * 1024)
/* Used when the caller passes a timeout of 0. */
#define DEFAULT_TIMEOUT_MS 10000

typedef enum {
  ST_RESOLVING,
  ST_CONNECTING,
  ST_HANDSHAKE,
  ST_READY,
  ST_CLOSING, /* orderly close: flushing, then lingering for the peer's EOF */
  ST_CLOSED,  /* handles closing; on_close pending */
} conn_state;

struct sg_tlsconn {
  uv_loop_t *loop;
  uv_tcp_t tcp;
  uv_timer_t timer;
  sg_turn_reg turn; /* the per-turn flush */
  uv_getaddrinfo_t gai;
  uv_connect_t connect_req;
  uv_write_t write_req;
  uv_shutdown_t shutdown_req;

  conn_state state;
  sg_tls *tls; /* NULL: plain TCP */
  sg_tlsconn_cbs cbs;
  void *ud;
  uint64_t timeout_ms;

  struct addrinfo *addrs, *next_addr;
  int last_connect_err;

  sg_buf plain;    /* application bytes not yet encrypted / handed on */
  sg_buf out;      /* bytes for the socket, filling */
  sg_buf inflight; /* bytes of the uv_write in flight */
  uint8_t *rbuf;   /* READ_BUF_SIZE, reused for every read */

  int open_handles; /* initialised handles whose close callback is pending */
  int close_err;
  bool gai_pending;
  bool tcp_open;      /* tcp initialised and not being closed */
  bool writing;       /* a uv_write is in flight */
  bool reading;       /* uv_read_start active */
  bool paused;        /* the user asked for no on_read */
  bool ready_pending; /* plain accept: on_ready from the turn */
  bool input_pending; /* resume: deliver input the engine holds */
  bool shutdown_sent; /* uv_shutdown issued (orderly close) */
  bool shutdown_done;
  bool peer_eof;
  bool silent; /* immediate failure of connect/accept: no on_close */

  char peer[64];
  char detail[256];
};

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void on_turn(sg_turn_reg *reg, void *ud);

/* ---- lifetime ---- */

static void maybe_finish(sg_tlsconn *c) {
  if (c->state != ST_CLOSED || c->open_handles > 0 || c->gai_pending)
    return;
  if (!c->silent)
    c->cbs.on_close(c, c->close_err, c->ud);
  uv_freeaddrinfo(c->addrs);
  sg_tls_free(c->tls);
  sg_buf_free(&c->plain);
  sg_buf_free(&c->out);
  sg_buf_free(&c->inflight);
  sg_free(c->rbuf);
  sg_free(c);
}

static void on_handle_closed(uv_handle_t *h) {
  sg_tlsconn *c = h->data;
  c->open_handles--;
  maybe_finish(c);
}

/* Closes every handle; on_close follows from the last close callback. */
static void teardown(sg_tlsconn *c) {
  if (c->state == ST_CLOSED)
    return;
  c->state = ST_CLOSED;
  if (c->gai_pending)
    uv_cancel((uv_req_t *)&c->gai); /* its callback still runs, maybe with a result */
  uv_close((uv_handle_t *)&c->timer, on_handle_closed);
  sg_turn_reg_remove(&c->turn);
  if (c->tcp_open) {
    c->tcp_open = false;
    c->reading = false;
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
  }
  maybe_finish(c);
}

/*
 * Failure path: drop everything. During an orderly close the reason given to
 * sg_tlsconn_close (0) stands: the first close wins.
 */
static void fail(sg_tlsconn *c, int err) {
  if (c->state == ST_CLOSED)
    return;
  if (c->state != ST_CLOSING)
    c->close_err = err;
  teardown(c);
}

static void copy_tls_detail(sg_tlsconn *c) {
  if (c->tls)
    snprintf(c->detail, sizeof c->detail, "%s", sg_tls_error_detail(c->tls));
}

/* ---- output ---- */

static void schedule(sg_tlsconn *c) {
  if (c->state != ST_CLOSED)
    sg_turn_want(&c->turn);
}

static void take_tls_out(sg_tlsconn *c) {
  if (c->tls && sg_tls_take_out(c->tls, &c->out) > 0)
    schedule(c);
}

static void on_write(uv_write_t *req, int status);

static void start_write(sg_tlsconn *c) {
  if (c->writing || c->out.len == 0 || !c->tcp_open || c->state < ST_HANDSHAKE ||
      c->state == ST_CLOSED)
    return;
  sg_buf tmp = c->inflight;
  c->inflight = c->out;
  c->out = tmp;
  sg_buf_reset(&c->out);
  uv_buf_t b = uv_buf_init(c->inflight.data, (unsigned int)c->inflight.len);
  int rv = uv_write(&c->write_req, (uv_stream_t *)&c->tcp, &b, 1, on_write);
  if (rv < 0) {
    fail(c, rv);
    return;
  }
  c->writing = true;
}

/* Encrypts (or hands on) the queued plaintext; only once the handshake is done. */
static int move_plain(sg_tlsconn *c) {
  if (c->plain.len == 0 || (c->state != ST_READY && c->state != ST_CLOSING))
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
  if (status == UV_ECANCELED || c->state == ST_CLOSED)
    return;
  c->shutdown_done = true;
  if (status < 0 || c->peer_eof)
    teardown(c);
  /* else: linger until the peer's EOF or the timer */
}

/* Orderly close, once everything has been written: FIN, then wait for EOF. */
static void closing_progress(sg_tlsconn *c) {
  if (c->state != ST_CLOSING || !all_flushed(c) || c->shutdown_sent)
    return;
  c->shutdown_sent = true;
  c->shutdown_req.data = c;
  if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shutdown) < 0)
    teardown(c);
}

static void on_write(uv_write_t *req, int status) {
  sg_tlsconn *c = req->data;
  c->writing = false;
  if (c->inflight.cap > RETAIN_CAP)
    sg_buf_free(&c->inflight); /* a burst's memory is not kept for the connection's life */
  else
    sg_buf_reset(&c->inflight);
  if (status == UV_ECANCELED || c->state == ST_CLOSED)
    return;
  if (status < 0) {
    fail(c, status);
    return;
  }
  start_write(c);
  if (c->state == ST_CLOSING) {
    closing_progress(c);
  } else if (c->state == ST_READY && all_flushed(c) && c->cbs.on_drain) {
    c->cbs.on_drain(c, c->ud);
  }
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
  while (c->state == ST_READY && !c->paused) {
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
      fail(c, rv);
      return;
    }
    c->cbs.on_read(c, chunk, n, c->ud);
  }
}

static void become_ready(sg_tlsconn *c) {
  c->state = ST_READY;
  uv_timer_stop(&c->timer);
  c->cbs.on_ready(c, c->ud);
  if (c->state != ST_READY)
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
    fail(c, rv);
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
    fail(c, rv);
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
    teardown(c);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  sg_tlsconn *c = s->data;
  if (nread == 0 || c->state == ST_CLOSED)
    return;
  if (c->state == ST_CLOSING) {
    linger_read(c, nread);
    return;
  }
  if (nread < 0) {
    read_stop(c);
    if (nread == UV_EOF && c->state == ST_READY) {
      c->peer_eof = true;
      sg_tlsconn_close(c, 0); /* the peer's EOF is an orderly close */
    } else {
      fail(c, nread == UV_EOF ? SG_ERR_EOF : (int)nread);
    }
    return;
  }
  if (!c->tls) {
    c->cbs.on_read(c, c->rbuf, (size_t)nread, c->ud);
    return;
  }
  int rv = sg_tls_feed(c->tls, c->rbuf, (size_t)nread);
  if (rv != 0) {
    fail(c, rv);
  } else if (c->state == ST_HANDSHAKE) {
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
    fail(c, rv);
    return;
  }
  start_write(c);
  closing_progress(c);
}

static void on_turn(sg_turn_reg *reg, void *ud) {
  (void)reg;
  sg_tlsconn *c = ud;
  if (c->ready_pending) {
    c->ready_pending = false;
    become_ready(c);
  }
  if (c->input_pending && c->state == ST_READY && !c->paused) {
    c->input_pending = false;
    process_input(c);
  }
  if (c->state == ST_CLOSED)
    return;
  flush_out(c);
}

static void on_timer(uv_timer_t *t) {
  sg_tlsconn *c = t->data;
  if (c->state == ST_CLOSING)
    teardown(c); /* flush or linger took too long; the close stays orderly (0) */
  else
    fail(c, SG_ERR_TIMEOUT);
}

/* ---- connect ---- */

static void set_peer(sg_tlsconn *c, const struct sockaddr *sa) {
  char ip[INET6_ADDRSTRLEN] = "?";
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    uv_ip4_name(in, ip, sizeof ip);
    snprintf(c->peer, sizeof c->peer, "%s:%u", ip, (unsigned)ntohs(in->sin_port));
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    uv_ip6_name(in6, ip, sizeof ip);
    snprintf(c->peer, sizeof c->peer, "[%s]:%u", ip, (unsigned)ntohs(in6->sin6_port));
  }
}

static void try_next(sg_tlsconn *c);

static void on_tcp_retry_closed(uv_handle_t *h) {
  sg_tlsconn *c = h->data;
  c->open_handles--;
  if (c->state == ST_CLOSED)
    maybe_finish(c);
  else
    try_next(c);
}

/* Gives up on the current address: close its socket, then try the next. */
static void retry_next(sg_tlsconn *c, int err) {
  c->last_connect_err = err;
  c->tcp_open = false;
  uv_close((uv_handle_t *)&c->tcp, on_tcp_retry_closed);
}

static void on_connect(uv_connect_t *req, int status) {
  sg_tlsconn *c = req->data;
  if (status == UV_ECANCELED || c->state == ST_CLOSED)
    return;
  if (status < 0) {
    retry_next(c, status);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  if (!c->tls) {
    become_ready(c);
    return;
  }
  c->state = ST_HANDSHAKE;
  int rv = read_start(c);
  if (rv != 0) {
    fail(c, rv);
    return;
  }
  drive_handshake(c); /* queues the ClientHello */
}

static void try_next(sg_tlsconn *c) {
  struct addrinfo *ai = c->next_addr;
  while (ai && ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
    ai = ai->ai_next;
  if (!ai) {
    fail(c, c->last_connect_err ? c->last_connect_err : UV_EAI_NONAME);
    return;
  }
  c->next_addr = ai->ai_next;
  uv_tcp_init(c->loop, &c->tcp);
  c->tcp.data = c;
  c->tcp_open = true;
  c->open_handles++;
  set_peer(c, ai->ai_addr);
  c->connect_req.data = c;
  int rv = uv_tcp_connect(&c->connect_req, &c->tcp, ai->ai_addr, on_connect);
  if (rv != 0)
    retry_next(c, rv);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  sg_tlsconn *c = req->data;
  c->gai_pending = false;
  c->addrs = res; /* freed with the connection */
  if (c->state == ST_CLOSED) {
    maybe_finish(c);
    return;
  }
  if (status < 0) {
    fail(c, status);
    return;
  }
  c->state = ST_CONNECTING;
  c->next_addr = res;
  try_next(c);
}

/* ---- construction ---- */

static sg_tlsconn *conn_new(uv_loop_t *loop, uint64_t timeout_ms, const sg_tlsconn_cbs *cbs,
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

static void init_handles(sg_tlsconn *c) {
  uv_timer_init(c->loop, &c->timer);
  sg_turn_reg_init(&c->turn, c->loop, SG_TURN_TLS, on_turn, c);
  c->timer.data = c;
  c->open_handles += 1;
  c->rbuf = sg_xmalloc(READ_BUF_SIZE);
}

static bool cbs_ok(const sg_tlsconn_cbs *cbs) {
  return cbs && cbs->on_ready && cbs->on_read && cbs->on_close;
}

int sg_tlsconn_connect(sg_tlsconn **out, uv_loop_t *loop, SSL_CTX *ctx, const char *host,
                       uint16_t port, uint64_t handshake_timeout_ms, const sg_tlsconn_cbs *cbs,
                       void *ud) {
  *out = NULL;
  if (!loop || !host || !host[0] || port == 0 || !cbs_ok(cbs))
    return SG_ERR_INVAL;
  sg_tlsconn *c = conn_new(loop, handshake_timeout_ms, cbs, ud);
  int rv = ctx ? sg_tls_new(&c->tls, ctx, host) : 0;
  if (rv == 0) {
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%u", (unsigned)port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    rv = uv_getaddrinfo(loop, &c->gai, on_resolved, host, portstr, &hints);
  }
  if (rv != 0) { /* no handle initialised yet: free right here */
    sg_tls_free(c->tls);
    sg_free(c);
    return rv;
  }
  c->gai_pending = true;
  c->state = ST_RESOLVING;
  snprintf(c->peer, sizeof c->peer, "%s:%u", host, (unsigned)port);
  init_handles(c);
  /* The loop's cached time may be stale (the caller may have been busy). */
  uv_update_time(loop);
  uv_timer_start(&c->timer, on_timer, c->timeout_ms, 0);
  *out = c;
  return 0;
}

int sg_tlsconn_accept(sg_tlsconn **out, uv_stream_t *server, SSL_CTX *ctx,
                      uint64_t handshake_timeout_ms, const sg_tlsconn_cbs *cbs, void *ud) {
  *out = NULL;
  if (!server || !cbs_ok(cbs))
    return SG_ERR_INVAL;
  sg_tlsconn *c = conn_new(server->loop, handshake_timeout_ms, cbs, ud);
  int rv = ctx ? sg_tls_new(&c->tls, ctx, NULL) : 0;
  if (rv != 0) {
    sg_free(c);
    return rv;
  }
  init_handles(c);
  uv_tcp_init(c->loop, &c->tcp);
  c->tcp.data = c;
  c->tcp_open = true;
  c->open_handles++;
  c->state = ST_HANDSHAKE;
  rv = uv_accept(server, (uv_stream_t *)&c->tcp);
  if (rv == 0) {
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0)
      set_peer(c, (struct sockaddr *)&ss);
    uv_tcp_nodelay(&c->tcp, 1);
    if (c->tls) {
      rv = read_start(c);
    } else {
      /* on_ready must not run before the caller has *out: defer to the turn. */
      c->ready_pending = true;
      schedule(c);
    }
  }
  if (rv != 0) { /* handles exist: free them asynchronously, without on_close */
    c->silent = true;
    teardown(c);
    return rv;
  }
  uv_update_time(c->loop);
  uv_timer_start(&c->timer, on_timer, c->timeout_ms, 0);
  *out = c;
  return 0;
}

/* ---- the rest of the public API ---- */

int sg_tlsconn_write(sg_tlsconn *c, const uint8_t *p, size_t n) {
  if (c->state == ST_CLOSING || c->state == ST_CLOSED)
    return SG_ERR_CLOSED;
  if (n == 0)
    return 0;
  sg_buf_append(&c->plain, p, n);
  if (c->state == ST_READY)
    schedule(c);
  return 0;
}

size_t sg_tlsconn_out_pending(const sg_tlsconn *c) {
  return c->plain.len + c->out.len + c->inflight.len;
}

void sg_tlsconn_pause_read(sg_tlsconn *c) {
  c->paused = true;
  if (c->state == ST_READY)
    read_stop(c);
}

void sg_tlsconn_resume_read(sg_tlsconn *c) {
  if (!c->paused)
    return;
  c->paused = false;
  if (c->state != ST_READY)
    return;
  int rv = read_start(c);
  if (rv != 0) {
    fail(c, rv);
    return;
  }
  if (c->tls) { /* records already decrypted-able stay in the engine: next turn */
    c->input_pending = true;
    schedule(c);
  }
}

void sg_tlsconn_close(sg_tlsconn *c, int err) {
  if (c->state == ST_CLOSING || c->state == ST_CLOSED)
    return;
  if (err != 0 || c->state != ST_READY) {
    c->close_err = err;
    teardown(c);
    return;
  }
  c->state = ST_CLOSING;
  c->close_err = 0;
  c->input_pending = false;
  int rv = move_plain(c);
  if (rv == 0 && c->tls) {
    rv = sg_tls_shutdown(c->tls); /* close_notify */
    take_tls_out(c);
  }
  if (rv != 0) {
    teardown(c);
    return;
  }
  uv_timer_start(&c->timer, on_timer, c->timeout_ms, 0);
  if (!c->peer_eof && read_start(c) != 0) {
    teardown(c);
    return;
  }
  start_write(c);
  closing_progress(c);
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
