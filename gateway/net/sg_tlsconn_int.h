/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals shared by sg_tlsconn.c (the byte stream: TLS, buffered writes,
 * reads, close, lifetime) and sg_tlsconn_tcp.c (getting the socket: resolve,
 * connect, accept). Not for other modules.
 */
#ifndef SG_TLSCONN_INT_H
#define SG_TLSCONN_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "core/sg_mem.h"
#include "core/sg_turn.h"
#include "net/sg_proxy.h"
#include "net/sg_tls.h"
#include "net/sg_tlsconn.h"

typedef enum sg_tlsconn_state {
  SG_TC_RESOLVING,
  SG_TC_CONNECTING,
  SG_TC_PROXY, /* CONNECT sent to the proxy; waiting for its answer */
  SG_TC_HANDSHAKE,
  SG_TC_READY,
  SG_TC_CLOSING, /* orderly close: flushing, then lingering for the peer's EOF */
  SG_TC_CLOSED,  /* handles closing; on_close pending */
} sg_tlsconn_state;

struct sg_tlsconn {
  uv_loop_t *loop;
  union { /* tcp_open covers both; casts to uv_stream_t / uv_handle_t work for either */
    uv_tcp_t tcp;
    uv_pipe_t pipe; /* sg_tlsconn_connect_unix */
  };
  uv_timer_t timer;
  sg_turn_reg turn; /* the per-turn flush */
  uv_getaddrinfo_t gai;
  uv_connect_t connect_req;
  uv_write_t write_req;
  uv_shutdown_t shutdown_req;

  sg_tlsconn_state state;
  sg_tls *tls; /* NULL: plain TCP */
  sg_tlsconn_cbs cbs;
  void *ud;
  uint64_t timeout_ms;

  struct addrinfo *addrs, *next_addr;
  int last_connect_err;

  sg_buf plain;         /* application bytes not yet encrypted / handed on */
  sg_buf out;           /* bytes for the socket, filling */
  sg_buf inflight;      /* bytes of the uv_write in flight */
  size_t inflight_done; /* of them, taken by the socket before the uv_write */
  uint8_t *rbuf;        /* READ_BUF_SIZE, reused for every read */

  int open_handles; /* initialised handles whose close callback is pending */
  int close_err;
  bool gai_pending;
  bool tcp_open;      /* tcp initialised and not being closed */
  bool writing;       /* a uv_write is in flight */
  bool drain_due;     /* a write completed in start_write: after_write from the turn */
  bool reading;       /* uv_read_start active */
  bool paused;        /* the user asked for no on_read */
  bool ready_pending; /* plain accept: on_ready from the turn */
  bool input_pending; /* resume: deliver input the engine holds */
  bool shutdown_sent; /* uv_shutdown issued (orderly close) */
  bool shutdown_done;
  bool peer_eof;
  bool silent; /* immediate failure of connect/accept: no on_close */

  char peer[160];
  char detail[256];

  /* through an HTTPS proxy (sg_tlsconn_tcp.c resolves and connects to it) */
  sg_proxy *proxy;   /* NULL: direct */
  char *tunnel_host; /* the host:port CONNECT asks for */
  uint16_t tunnel_port;
  sg_buf proxy_in; /* the proxy's answer so far */
};

/* An unstarted connection (no handles yet): callbacks, user data, timeout. */
sg_tlsconn *sg_tlsconn__new(uv_loop_t *loop, uint64_t timeout_ms, const sg_tlsconn_cbs *cbs,
                            void *ud);
/* The timer, the turn registrant and the read buffer (counted in open_handles). */
void sg_tlsconn__init_handles(sg_tlsconn *c);
/* Starts the connect/handshake deadline (timeout_ms from now). */
void sg_tlsconn__arm_timer(sg_tlsconn *c);
/* The TCP connection is up: through a proxy the CONNECT exchange first; then
 * ready when plain, else the TLS handshake starts. */
void sg_tlsconn__connected(sg_tlsconn *c);
/* The tunnel is up (or there is none): ready when plain, else the handshake. */
void sg_tlsconn__tunnel_up(sg_tlsconn *c);
/* Queues raw bytes for the socket (no TLS) and starts writing them. */
void sg_tlsconn__write_raw(sg_tlsconn *c, const void *p, size_t n);
/* Starts reading the socket. Returns 0 or a libuv code. */
int sg_tlsconn__read_start(sg_tlsconn *c);
/* sg_tlsconn_proxy.c: sends CONNECT; then bytes read in SG_TC_PROXY go to proxy_read. */
void sg_tlsconn__proxy_start(sg_tlsconn *c);
void sg_tlsconn__proxy_read(sg_tlsconn *c, const uint8_t *p, size_t n);
/* An accepted socket: reading for the handshake, or on_ready from the turn
 * when plain. Returns 0 or a libuv code from uv_read_start. */
int sg_tlsconn__accepted(sg_tlsconn *c);
/* Frees the connection (calling on_close unless silent) once it is closed
 * and nothing is pending. */
void sg_tlsconn__maybe_finish(sg_tlsconn *c);
/* Closes every handle; on_close follows from the last close callback. */
void sg_tlsconn__teardown(sg_tlsconn *c);
/* Failure path: drops everything; during an orderly close |err| is ignored. */
void sg_tlsconn__fail(sg_tlsconn *c, int err);

#endif
