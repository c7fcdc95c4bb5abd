/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TLS engine: OpenSSL 3 over two in-memory BIOs, with no sockets and no event
 * loop. Encrypted bytes from the network go in with sg_tls_feed(); encrypted
 * bytes for the network come out of sg_tls_take_out(), which the caller must
 * call after EVERY other sg_tls_* call (TLS 1.3 emits records while reading:
 * tickets, key updates, alerts). Plaintext goes through sg_tls_read/_write.
 * The libuv glue is net/sg_tlsconn.c; unit tests pair a client and a server in
 * memory.
 *
 * Verification cannot be switched off: a client context always verifies the
 * peer chain against the system store (plus an optional extra CA file) and the
 * host name or IP address given to sg_tls_new(). Only contexts made by the
 * functions below are accepted by sg_tls_new().
 */
#ifndef SG_TLS_H
#define SG_TLS_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sg_mem.h"

typedef struct sg_tls sg_tls;

/* sg_tls_ctx_client_new2 flags. */
enum {
  /*
   * Offer "h2,http/1.1" and accept either (or no ALPN at all) instead of
   * offering "h2" alone and failing with SG_ERR_ALPN when it is not selected.
   */
  SG_TLS_ALPN_ALLOW_HTTP11 = 1u << 0,
  /*
   * Offer no ALPN and require none: for protocols that do not use it (SMTP
   * after STARTTLS, Redis). Verification is unchanged.
   */
  SG_TLS_ALPN_NONE = 1u << 1,
};

/*
 * Makes a client context: TLS >= 1.2, the system default trust store plus the
 * PEM certificates in |extra_ca_file| (NULL or "" for none), peer verification
 * always on, ALPN offering only "h2"; a handshake where the server does not
 * select "h2" fails with SG_ERR_ALPN. Free with SSL_CTX_free().
 * Returns 0 or one of: SG_ERR_CONFIG (|extra_ca_file| unreadable or holds no
 * certificate), SG_ERR_TLS.
 */
int sg_tls_ctx_client_new(SSL_CTX **out, const char *extra_ca_file);

/* As sg_tls_ctx_client_new, with SG_TLS_ALPN_* |flags|. */
int sg_tls_ctx_client_new2(SSL_CTX **out, const char *extra_ca_file, unsigned flags);

/*
 * Makes a server context from a PEM chain (leaf first) and its PEM private key.
 * ALPN: prefers "h2", then "http/1.1"; a client offering no ALPN gets none
 * (the caller then speaks HTTP/1.1). No client certificates are requested.
 * Free with SSL_CTX_free(). Returns 0 or one of: SG_ERR_CONFIG (files unreadable,
 * or key does not match the certificate), SG_ERR_TLS.
 */
int sg_tls_ctx_server_new(SSL_CTX **out, const char *cert_chain_file, const char *key_file);

/*
 * Makes a TLS session on |ctx| (borrowed; it must outlive the session).
 * |host| NULL makes a server session (ctx must be a server context). Otherwise
 * (client context) |host| is the name the certificate must match; it is sent as
 * SNI unless it is an IPv4/IPv6 literal, which is matched against IP SANs.
 * Returns 0 or one of: SG_ERR_INVAL (ctx not made here, or host missing/present
 * for the wrong role), SG_ERR_TLS.
 */
int sg_tls_new(sg_tls **out, SSL_CTX *ctx, const char *host);

/* Frees |t| (NULL is fine). */
void sg_tls_free(sg_tls *t);

/* Appends |n| encrypted bytes from the network (copied; the caller bounds
 * what it feeds before reading). Returns 0. */
int sg_tls_feed(sg_tls *t, const uint8_t *p, size_t n);

/*
 * Drives the handshake with the input fed so far. Returns 0 once it is done
 * (also on later calls), or one of: SG_ERR_AGAIN (needs more input; take the
 * output first), SG_ERR_TLS_VERIFY (peer certificate or name did not verify;
 * see sg_tls_error_detail), SG_ERR_ALPN (client context requiring "h2" and the
 * server chose otherwise), SG_ERR_TLS (any other failure, detail likewise).
 */
int sg_tls_handshake(sg_tls *t);

/* Whether the handshake has completed successfully. */
bool sg_tls_handshake_done(const sg_tls *t);

/*
 * Reads up to |cap| plaintext bytes into |buf|; sets *nread (> 0 on success).
 * Returns 0 or one of: SG_ERR_AGAIN (no complete record buffered), SG_ERR_EOF
 * (peer sent close_notify), SG_ERR_INVAL (handshake not done), SG_ERR_TLS.
 */
int sg_tls_read(sg_tls *t, uint8_t *buf, size_t cap, size_t *nread);

/*
 * Encrypts all |n| bytes of |p| (memory BIOs never block, so nothing is left
 * over). Returns 0 or one of: SG_ERR_INVAL (handshake not done), SG_ERR_CLOSED
 * (after sg_tls_shutdown or the peer's close_notify), SG_ERR_TLS.
 */
int sg_tls_write(sg_tls *t, const uint8_t *p, size_t n);

/*
 * Queues a close_notify alert (no-op before the handshake completes or when
 * already sent). Returns 0 or SG_ERR_TLS.
 */
int sg_tls_shutdown(sg_tls *t);

/* Encrypted bytes waiting to be taken. */
size_t sg_tls_out_pending(const sg_tls *t);

/* Moves all pending encrypted bytes to the end of |dst| (an empty |dst| gets
 * the engine's buffer, swapped, not copied); returns how many. */
size_t sg_tls_take_out(sg_tls *t, sg_buf *dst);

/* ALPN protocol selected ("h2", "http/1.1"), or "" for none. Valid until free. */
const char *sg_tls_alpn(const sg_tls *t);

/*
 * Human-readable detail of the last failure ("certificate verify failed:
 * hostname mismatch", an OpenSSL reason, ...), or "". Valid until the next call.
 */
const char *sg_tls_error_detail(const sg_tls *t);

#endif
