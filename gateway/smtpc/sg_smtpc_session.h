/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An SMTP client session on libuv: the pure machine of sg_smtpc_proto over
 * a net/sg_tlsconn connection that starts as plain TCP and is upgraded in
 * place by STARTTLS (certificate and host name verified, as every TLS
 * connection of sendgate is). One session sends many messages, one at a
 * time (RSET between them); the runtime keeps a pool of sessions per
 * (account, mailbox) and gives each one message at a time.
 *
 *   sg_smtpc_session_new(&s, loop, tls_ctx, "smtp.office365.com", 587,
 *                        &opts, &cbs, ud);        connects, EHLO, STARTTLS, AUTH
 *   sg_smtpc_send(s, &env, msg, len, done, ud, err, cap);     done(outcome) later
 *   ... on_ready (idle again): the next message ...
 *   sg_smtpc_session_quit(s);                     QUIT, then on_close
 *
 * Timers: the TCP connect and each TLS handshake are bounded by
 * |connect_timeout_ms| (sg_tlsconn); every wait for a reply by the machine's
 * RFC 5321 timeouts (sg_smtpc_opts); sending the body by data_block_ms of
 * no write progress; an idle session says QUIT after opts.idle_ms (when set).
 * Buffers: input by SG_SMTPC_IN_MAX, output by
 * SG_SMTPC_SESSION_HIGH_WATER plus one body chunk.
 *
 * Callbacks run from the loop, never from inside the functions below. done
 * and on_ready may call sg_smtpc_send, quit or close. on_close is the last
 * callback; the session is freed after it returns. A message in progress
 * when the connection fails gets its done first (RETRY, ambiguous when the
 * final dot had been sent).
 */
#ifndef SG_SMTPC_SESSION_H
#define SG_SMTPC_SESSION_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "smtpc/sg_smtpc_proto.h"
#include "svc/sg_classify.h"

/* Body bytes queued in the connection before we stop producing more (the
 * rest waits for on_drain): a few TCP windows. */
#define SG_SMTPC_SESSION_HIGH_WATER (256u * 1024u)
/* Body bytes produced per step. */
#define SG_SMTPC_SESSION_CHUNK (64u * 1024u)

typedef struct sg_smtpc_session sg_smtpc_session;

/* A message's outcome (borrowed for the call). */
typedef void (*sg_smtpc_done_cb)(sg_smtpc_session *s, const sg_outcome *o, void *ud);

typedef struct sg_smtpc_session_cbs {
  /* The session is idle (authenticated, nothing in progress): it can take a
   * message. Called when it first gets there and after each message. May be
   * NULL. */
  void (*on_ready)(sg_smtpc_session *s, void *ud);
  /* Final: why the session ended (kind SENT after an orderly QUIT). */
  void (*on_close)(sg_smtpc_session *s, const sg_outcome *why, void *ud);
} sg_smtpc_session_cbs;

/*
 * Opens a session to |host|:|port| (|host| is also the name the certificate
 * must match). |tls_ctx| comes from sg_tls_ctx_client_new2(...,
 * SG_TLS_ALPN_NONE) (borrowed; it must outlive the session); NULL only with
 * opts->plaintext. |opts| and |host| are copied. |connect_timeout_ms| 0:
 * 30 s. Returns 0 or one of, immediately (no callback follows): SG_ERR_INVAL
 * (see sg_smtpc_proto_new; no ctx without plaintext), the errors of
 * sg_tlsconn_connect.
 */
int sg_smtpc_session_new(sg_smtpc_session **out, uv_loop_t *loop, SSL_CTX *tls_ctx,
                         const char *host, uint16_t port, const sg_smtpc_opts *opts,
                         uint64_t connect_timeout_ms, const sg_smtpc_session_cbs *cbs, void *ud);

/*
 * Sends one message; |done| gets its outcome. |env| is copied, |msg| is
 * borrowed until |done| is called. May be called before the session is
 * ready (it waits). Returns 0 or, with a reason in |err| and no callback:
 * the errors of sg_smtpc_proto_start (SG_ERR_BUSY, SG_ERR_CLOSED,
 * SG_ERR_TOOBIG, SG_ERR_PARSE, SG_ERR_INVAL).
 */
int sg_smtpc_send(sg_smtpc_session *s, const sg_smtpc_env *env, const uint8_t *msg, size_t len,
                  sg_smtpc_done_cb done, void *done_ud, char *err, size_t errcap);

/* Whether the session can take a message now. */
bool sg_smtpc_session_idle(const sg_smtpc_session *s);

/* Whether the session is closing or closed (its on_close is still to come;
 * also inside the done callback of a message whose connection failed): it
 * takes no message any more. */
bool sg_smtpc_session_closing(const sg_smtpc_session *s);

/* Ends politely: QUIT once the message in progress (if any) is done. */
void sg_smtpc_session_quit(sg_smtpc_session *s);

/* Drops the connection now (a message in progress gets RETRY, SG_ERR_SHUTDOWN). */
void sg_smtpc_session_close(sg_smtpc_session *s);

/* The extensions the server announced after STARTTLS. */
const sg_smtpc_ext *sg_smtpc_session_ext(const sg_smtpc_session *s);

#endif
