/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One Redis connection with a life of its own: non-blocking connect (host
 * names resolved with uv_getaddrinfo, never in the loop thread) under a
 * connect timer, over plain TCP (redis://), TLS (rediss://: certificate and
 * host name verified, net/sg_tlsconn) or a unix socket, then AUTH (if a
 * password is set) and SELECT (if db != 0), or a PING, before it reports UP.
 * hiredis is only the RESP parser (a redisReader building its replies in an
 * arena, sg_rd_replies); commands are written by sg_resp and leave in one
 * write per loop turn (the turn pass, rank SG_TURN_REDIS_WRITE). Each command has a deadline;
 * replies arrive in order, so one timer watches the earliest deadline of the FIFO. On a timeout, an
 * I/O error or an oversized reply the connection is dropped, every pending command's callback
 * fails, and it reconnects with full-jitter exponential backoff (capped). It does not queue
 * commands while down: callers decide what to keep (sg_rd_stream keeps its completions).
 *
 * Single-threaded: all calls and callbacks happen on the loop thread.
 */
#ifndef SG_RD_CLIENT_H
#define SG_RD_CLIENT_H

#include "redis/sg_rd_url.h"

#include <hiredis/hiredis.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct sg_rd_client sg_rd_client;

/*
 * Reply callback. |status| is 0 with a non-error |reply|; SG_ERR_REDIS with
 * the error reply (-ERR ..., type REDIS_REPLY_ERROR); or another negative
 * code (SG_ERR_TIMEOUT, SG_ERR_CLOSED, SG_ERR_TOOBIG, SG_ERR_SHUTDOWN) with
 * |reply| NULL when the command's connection went away. The reply is
 * BORROWED: it is freed when the callback returns, so copy what you keep.
 * The callback may issue commands, reset or close the client.
 */
typedef void (*sg_rd_reply_cb)(sg_rd_client *c, int status, const redisReply *reply, void *ud);
/* Fires when the client is closed and all its handles are gone; |c| is freed right after. */
typedef void (*sg_rd_client_done_cb)(sg_rd_client *c, void *ud);

typedef struct sg_rd_client_cbs {
  /* The connection is established, authenticated and on its db. Optional. */
  void (*on_up)(sg_rd_client *c, void *ud);
  /* An UP connection was lost (|reason| as for reply callbacks); pending
   * commands have already been failed. A reconnect is scheduled. Optional.
   * Not called by sg_rd_client_close. */
  void (*on_down)(sg_rd_client *c, int reason, void *ud);
  void *ud;
} sg_rd_client_cbs;

typedef struct sg_rd_client_opts {
  const char *name;            /* for logs ("cmd", "read"); copied; default "redis" */
  uint32_t connect_timeout_ms; /* resolve + connect + AUTH/SELECT; default 3000 */
  uint32_t backoff_base_ms;    /* first reconnect delay ceiling; default 100 */
  uint32_t backoff_max_ms;     /* cap of the delay ceiling; default 5000 */
  size_t max_reply_bytes;      /* cap on buffered unparsed reply bytes; default 64 MiB */
  /* Cap on the string bytes of one parsed reply (sg_rd_replies_set_cap); over
   * it the connection drops with SG_ERR_TOOBIG. 0: none (each value is still
   * bounded by max_reply_bytes, the reply is not). */
  size_t max_reply_total;
  /* rediss:// only: extra trust anchors (PEM, copied; NULL or "": the
   * system store alone), unless |tls_ctx| is given. */
  const char *tls_ca_file;
  /* rediss:// only: a client context of net/sg_tls.h made with
   * SG_TLS_ALPN_NONE (borrowed; it must outlive the client). NULL: the
   * client makes its own from |tls_ca_file|. */
  SSL_CTX *tls_ctx;
  /* Log at debug level only: the owner reports failures itself (the
   * command-line tools, through sg_rd_client_last_error). */
  bool quiet;
} sg_rd_client_opts;

typedef struct sg_rd_client_stats {
  uint64_t connects; /* times it reached UP */
  uint64_t failures; /* connect failures and dropped connections */
  uint64_t timeouts; /* command or connect timeouts */
  uint64_t commands; /* commands queued to Redis */
} sg_rd_client_stats;

/*
 * Creates a client on |loop| for |url| (copied). |opts| may be NULL
 * (defaults); |cbs| is copied and may be NULL. Nothing happens until
 * sg_rd_client_start. Free it with sg_rd_client_close.
 *
 * Returns 0 or one of: SG_ERR_INVAL, SG_ERR_CONFIG (rediss:// and the CA
 * file unreadable), SG_ERR_TLS, or a libuv code from uv_timer_init.
 */
int sg_rd_client_new(uv_loop_t *loop, const sg_rd_url *url, const sg_rd_client_opts *opts,
                     const sg_rd_client_cbs *cbs, sg_rd_client **out);

/* Starts connecting (no-op unless freshly created). */
void sg_rd_client_start(sg_rd_client *c);

/* True while the connection is UP (commands accepted). */
bool sg_rd_client_is_up(const sg_rd_client *c);

/*
 * Sends one command: |argc| arguments |argv| with byte lengths |lens| (both
 * borrowed; copied before return; binary-safe). |timeout_ms| > 0 bounds the
 * wait for its reply (measured from now; since replies come in order it also
 * covers the commands before it). |cb| (may be NULL: reply ignored) is called
 * exactly once with |ud|, never from inside this call.
 *
 * Returns 0 or one of: SG_ERR_CLOSED (not UP; cb will not be called),
 * SG_ERR_SHUTDOWN (closing), SG_ERR_INVAL, SG_ERR_REDIS (hiredis refused).
 */
int sg_rd_client_cmd(sg_rd_client *c, int argc, const char **argv, const size_t *lens,
                     uint32_t timeout_ms, sg_rd_reply_cb cb, void *ud);

/*
 * sg_rd_client_cmd for one command already written in RESP (an array of bulk
 * strings, see sg_resp.h): |resp| (|len| bytes, borrowed, copied before
 * return) must hold exactly one command, or replies and callbacks go out of
 * step. Returns as sg_rd_client_cmd; SG_ERR_INVAL unless it starts with '*'.
 */
int sg_rd_client_cmd_resp(sg_rd_client *c, const char *resp, size_t len, uint32_t timeout_ms,
                          sg_rd_reply_cb cb, void *ud);

/*
 * |n| commands written in RESP one after another in |resp| (borrowed, copied
 * before return), sent as one write with one pending record: |cb| is called
 * once per reply, |n| times in all, in order (each error reply with
 * SG_ERR_REDIS; when the connection goes, the calls still due come with its
 * status and a NULL reply). |timeout_ms| bounds the wait for the last reply.
 * Returns as sg_rd_client_cmd_resp (and SG_ERR_INVAL for |n| 0 or no |cb|);
 * on an error |cb| is never called.
 */
int sg_rd_client_pipeline_resp(sg_rd_client *c, const char *resp, size_t len, uint32_t n,
                               uint32_t timeout_ms, sg_rd_reply_cb cb, void *ud);

/*
 * A transaction: |txn| (|len| bytes, borrowed, copied before return) holds
 * SG_RESP_MULTI, |n| commands in RESP and SG_RESP_EXEC, sent as one write
 * with one pending record. |cb| is called once: with EXEC's reply (an array
 * with one reply per command; an error such as EXECABORT when a command was
 * refused while queued, in which case none ran), or with the connection's
 * status and a NULL reply when it went first; the +QUEUED replies are not
 * passed on. Returns as sg_rd_client_pipeline_resp (SG_ERR_INVAL also when
 * |txn| is not framed so); nothing was sent on an error, and |cb| is not
 * called.
 */
int sg_rd_client_multi(sg_rd_client *c, const char *txn, size_t len, uint32_t n,
                       uint32_t timeout_ms, sg_rd_reply_cb cb, void *ud);

/*
 * Writes the commands queued so far now instead of later in the loop's turn
 * pass. Not needed for commands queued before or during
 * the pass by a stage of an earlier rank: they leave before the loop polls.
 */
void sg_rd_client_flush(sg_rd_client *c);

/*
 * Drops the connection as if it had failed with |reason| (pending commands
 * fail with it, on_down fires if it was UP) and reconnects after backoff.
 * Used to abandon a half-written transaction. No-op unless connecting or UP.
 */
void sg_rd_client_reset(sg_rd_client *c, int reason);

/*
 * Closes |c|. With |drain| and an UP connection, commands already sent get
 * their replies first (each still bounded by its timeout); new commands are
 * refused. Otherwise pending commands fail with SG_ERR_SHUTDOWN at once.
 * |done| (may be NULL) fires once everything is released; |c| is then freed.
 */
void sg_rd_client_close(sg_rd_client *c, bool drain, sg_rd_client_done_cb done, void *ud);

/* Counters (copied out). */
void sg_rd_client_get_stats(const sg_rd_client *c, sg_rd_client_stats *out);

/* Number of commands sent and not yet answered. */
size_t sg_rd_client_pending(const sg_rd_client *c);

/* Why the last connection failed or was refused ("certificate verify
 * failed: ...", "WRONGPASS ...", "ECONNREFUSED"), or "". Never NULL. */
const char *sg_rd_client_last_error(const sg_rd_client *c);

#endif
