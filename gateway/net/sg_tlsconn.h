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
 * Writes are buffered and flushed once per loop turn (one uv_write in flight,
 * a second buffer filling: h2o's double buffer). sg_tlsconn_out_pending tells
 * producers how much is queued so they can stop at a high-water mark; on_drain
 * tells them when it has all been handed to the kernel.
 *
 * Every wait has a timer: the connect + handshake must finish within
 * |handshake_timeout_ms| or the connection closes with SG_ERR_TIMEOUT.
 *
 * Lifetime: the connection is freed by the library after on_close has
 * returned. on_close is called exactly once, also when connect fails.
 * sg_tlsconn_close may be called from inside any callback.
 */
#ifndef SG_TLSCONN_H
#define SG_TLSCONN_H

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
  /* Everything written so far has been handed to the kernel. May be NULL. */
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
 * |ctx| comes from sg_tls_ctx_client_new (NULL: plain TCP). Returns 0 (the
 * outcome arrives through the callbacks) or a negative code immediately.
 */
int sg_tlsconn_connect(sg_tlsconn **out, uv_loop_t *loop, SSL_CTX *ctx,
                       const char *host, uint16_t port,
                       uint64_t handshake_timeout_ms, const sg_tlsconn_cbs *cbs,
                       void *ud);

/*
 * Accepts one connection from |server| (call from its connection callback).
 * |ctx| comes from sg_tls_ctx_server_new (NULL: plain TCP).
 */
int sg_tlsconn_accept(sg_tlsconn **out, uv_stream_t *server, SSL_CTX *ctx,
                      uint64_t handshake_timeout_ms, const sg_tlsconn_cbs *cbs,
                      void *ud);

/* Queues |n| plaintext bytes (copied). Returns 0, or SG_ERR_CLOSED once closing. */
int sg_tlsconn_write(sg_tlsconn *c, const uint8_t *p, size_t n);

/* Bytes queued but not yet handed to the kernel. */
size_t sg_tlsconn_out_pending(const sg_tlsconn *c);

/* Stops reading until resumed (receive-side backpressure). */
void sg_tlsconn_pause_read(sg_tlsconn *c);
void sg_tlsconn_resume_read(sg_tlsconn *c);

/*
 * Closes the connection: flushes what is queued when |err| is 0 (sending a TLS
 * close_notify), drops it otherwise, then calls on_close(err). Idempotent.
 */
void sg_tlsconn_close(sg_tlsconn *c, int err);

/* ALPN protocol the peers agreed on ("h2", "http/1.1"), or "" for none/plain. */
const char *sg_tlsconn_alpn(const sg_tlsconn *c);

/* Human-readable detail of the last TLS failure (verify error text), or "". */
const char *sg_tlsconn_error_detail(const sg_tlsconn *c);

/* Peer address as "ip:port" for logs. */
const char *sg_tlsconn_peer(const sg_tlsconn *c);

/* Replaces the user data pointer given at connect/accept. */
void sg_tlsconn_set_ud(sg_tlsconn *c, void *ud);

#endif
