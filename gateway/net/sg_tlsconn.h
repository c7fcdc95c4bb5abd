/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A byte stream over libuv TCP, optionally wrapped in TLS (sg_tls, memory
 * BIOs). Used by the HTTP/2 client pool and by the HTTP server alike, so
 * neither touches sockets or OpenSSL directly.
 *
 * Client: sg_tlsconn_connect() resolves |host| (uv_getaddrinfo), connects,
 * runs the TLS handshake with SNI, ALPN and certificate + host name
 * verification, then calls on_ready. A certificate that does not verify ends
 * the connection with SG_ERR_TLS_VERIFY before any application byte is sent.
 * Server: sg_tlsconn_accept() takes a pending connection from a listening
 * uv_tcp_t and runs the server side of the handshake.
 * With ctx == NULL the stream is plain TCP (used for /metrics and tests).
 *
 * Writes are buffered and flushed once per loop turn, in the loop's turn pass
 * at rank SG_TURN_TLS (core/sg_turn.h), so output that earlier ranks produce
 * in the pass leaves in the same turn (one uv_write in flight, a second buffer
 * filling: h2o's double buffer). sg_tlsconn_out_pending tells
 * producers how much is queued so they can stop at a high-water mark; on_drain
 * tells them when it has all been handed to the kernel.
 *
 * Every wait has a timer: the connect + handshake must finish within
 * |handshake_timeout_ms| (0: 10 s) or the connection closes with
 * SG_ERR_TIMEOUT. The same bound applies to an orderly close (flush, then
 * linger for the peer's EOF).
 *
 * Lifetime: the connection is freed by the library after on_close has
 * returned. on_close is called exactly once, also when connect fails, and
 * never from inside sg_tlsconn_connect/accept/close themselves. When those two
 * return an error immediately, no callback follows and *out is NULL.
 * sg_tlsconn_close may be called from inside any callback; no on_read follows.
 *
 * Callbacks a peer can cause: on_ready once (never for a failed handshake),
 * and once more after sg_tlsconn_starttls;
 * on_read only after on_ready; the peer's close_notify or TCP EOF after
 * on_ready ends the connection with on_close(0), a TCP EOF during the
 * handshake with SG_ERR_EOF.
 */
#ifndef SG_TLSCONN_H
#define SG_TLSCONN_H

#include "core/sg_turn.h"

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct sg_tlsconn sg_tlsconn;

typedef struct sg_tlsconn_cbs {
  /* Handshake done (or TCP connected when plain). */
  void (*on_ready)(sg_tlsconn *c, void *ud);
  /* Plaintext bytes arrived; borrowed for the duration of the call. */
  void (*on_read)(sg_tlsconn *c, const uint8_t *p, size_t n, void *ud);
  /*
   * Everything written so far has been handed to the kernel (called after a
   * write completes and nothing is queued; only between on_ready and close).
   * May be NULL.
   */
  void (*on_drain)(sg_tlsconn *c, void *ud);
  /*
   * Final callback. |err| is 0 for an orderly close (ours or the peer's EOF),
   * else the reason (SG_ERR_TLS_VERIFY, SG_ERR_TIMEOUT, a libuv code, ...).
   */
  void (*on_close)(sg_tlsconn *c, int err, void *ud);
} sg_tlsconn_cbs;

/*
 * Opens a client connection to |host|:|port|. |host| is also the SNI name and
 * the name the certificate must match (an IP literal is matched as an IP).
 * |ctx| comes from sg_tls_ctx_client_new (NULL: plain TCP); borrowed, it must
 * outlive the connection. |host| and |cbs| are copied. Addresses are tried in
 * resolver order until one connects. on_ready, on_read and on_close are
 * required. Returns 0 (the outcome arrives through the callbacks) or one of,
 * immediately: SG_ERR_INVAL (missing argument, port 0, |ctx| not a client
 * context), SG_ERR_TLS, a libuv getaddrinfo code.
 */
int sg_tlsconn_connect(sg_tlsconn **out, uv_loop_t *loop, SSL_CTX *ctx, const char *host,
                       uint16_t port, uint64_t handshake_timeout_ms, const sg_tlsconn_cbs *cbs,
                       void *ud);

/*
 * The same through an HTTPS proxy (net/sg_proxy.h; NULL: direct, as
 * sg_tlsconn_connect): the socket goes to the proxy, an HTTP CONNECT to
 * |host|:|port| opens the tunnel (a refusal ends the connection with
 * SG_ERR_PROXY and the proxy's status line in sg_tlsconn_error_detail), and
 * the TLS handshake then runs through it with SNI and verification against
 * |host| exactly as without a proxy. |proxy| is copied. The connect timeout
 * covers the CONNECT exchange too.
 */
typedef struct sg_proxy sg_proxy;
int sg_tlsconn_connect_via(sg_tlsconn **out, uv_loop_t *loop, SSL_CTX *ctx, const char *host,
                           uint16_t port, const sg_proxy *proxy, uint64_t handshake_timeout_ms,
                           const sg_tlsconn_cbs *cbs, void *ud);

/*
 * Opens a plain (no TLS) client connection to the unix socket |path|
 * (copied), under the same deadline and callbacks as sg_tlsconn_connect.
 * Returns 0 or, immediately, SG_ERR_INVAL.
 */
int sg_tlsconn_connect_unix(sg_tlsconn **out, uv_loop_t *loop, const char *path,
                            uint64_t timeout_ms, const sg_tlsconn_cbs *cbs, void *ud);

/*
 * Moves the connection's per-turn flush to |rank| (default SG_TURN_TLS), so
 * a connection fed by a stage of a later rank (Redis commands are queued at
 * SG_TURN_REDIS) still leaves in one write per turn.
 */
void sg_tlsconn_set_flush_rank(sg_tlsconn *c, sg_turn_rank rank);

/* Encrypts and starts writing what is queued now instead of in the turn. */
void sg_tlsconn_flush(sg_tlsconn *c);

/*
 * Accepts one connection from |server| (call from its connection callback).
 * |ctx| comes from sg_tls_ctx_server_new (NULL: plain TCP); borrowed, it must
 * outlive the connection. With plain TCP, on_ready follows from the loop's
 * turn pass. Returns 0 or one of: SG_ERR_INVAL, SG_ERR_TLS, a libuv code from
 * uv_accept.
 */
int sg_tlsconn_accept(sg_tlsconn **out, uv_stream_t *server, SSL_CTX *ctx,
                      uint64_t handshake_timeout_ms, const sg_tlsconn_cbs *cbs, void *ud);

/*
 * Queues |n| plaintext bytes (copied); they leave on this loop turn. Bytes
 * written before on_ready wait for it (and are dropped if the handshake
 * fails). Returns 0, or SG_ERR_CLOSED once closing.
 */
int sg_tlsconn_write(sg_tlsconn *c, const uint8_t *p, size_t n);

/* Bytes queued but not yet handed to the kernel. */
size_t sg_tlsconn_out_pending(const sg_tlsconn *c);

/*
 * Stops on_read until resumed (receive-side backpressure); callable from
 * on_read, which then is not called again. Before on_ready it takes effect
 * once the handshake is done. Input the TLS engine already holds is delivered
 * from the loop's turn pass after resume (never from inside resume).
 */
void sg_tlsconn_pause_read(sg_tlsconn *c);
void sg_tlsconn_resume_read(sg_tlsconn *c);

/*
 * Closes the connection: flushes what is queued when |err| is 0 (sending a TLS
 * close_notify, then a FIN, then reading and discarding until the peer's EOF,
 * all within the timeout), drops it otherwise, then calls on_close(err), from
 * a later callback. Idempotent: the first call's |err| is what on_close gets,
 * even if the orderly flush later fails or times out. Before on_ready, |err|
 * 0 also closes at once.
 */
void sg_tlsconn_close(sg_tlsconn *c, int err);

/*
 * Upgrades a plain connection to TLS in place (SMTP STARTTLS, RFC 3207),
 * from on_read or on_ready of a connection made with |ctx| NULL. Bytes
 * written before the call leave first, in clear (a server's "220 ready").
 * Client: |ctx| from sg_tls_ctx_client_new2 and |host| the name to verify
 * (copied), as for sg_tlsconn_connect. Server: |ctx| from
 * sg_tls_ctx_server_new and |host| NULL. |ctx| is borrowed and must outlive
 * the connection. The handshake runs within the connection's handshake
 * timeout; on_ready is then called a second time, and what is written from
 * then on is encrypted. Input the peer sent in clear before the handshake
 * must not be trusted afterwards (the caller checks it had none).
 * Returns 0 or one of: SG_ERR_INVAL (already TLS, not ready, a context of
 * the wrong role), SG_ERR_TLS.
 */
int sg_tlsconn_starttls(sg_tlsconn *c, SSL_CTX *ctx, const char *host);

/* ALPN protocol the peers agreed on ("h2", "http/1.1"), or "" for none/plain. */
const char *sg_tlsconn_alpn(const sg_tlsconn *c);

/* Human-readable detail of the last TLS failure (verify error text), or "". */
const char *sg_tlsconn_error_detail(const sg_tlsconn *c);

/* Peer address as "ip:port" for logs. */
const char *sg_tlsconn_peer(const sg_tlsconn *c);

/* Replaces the user data pointer given at connect/accept. */
void sg_tlsconn_set_ud(sg_tlsconn *c, void *ud);

#endif
