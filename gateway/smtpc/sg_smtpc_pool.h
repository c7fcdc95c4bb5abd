/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A pool of SMTP client sessions (sg_smtpc_session.h), grouped by a key
 * (the runtime uses the lane's: one group per account and mailbox). A
 * message goes on an idle session of its group, else on one still
 * connecting that signs in with the same credential, else on a new one;
 * sessions are reused for many messages (RSET between them) and say QUIT
 * when idle for cfg.idle_ms. How many sessions a group may have is the
 * caller's to enforce (the lane's in-flight cap is the session cap: at most
 * that many messages are out, so at most that many sessions are busy);
 * sessions above |max_sessions| are closed when they become idle, e.g.
 * after a new token made new ones.
 *
 *   sg_smtpc_pool_new(&p, loop, &cfg);
 *   sg_smtpc_pool_send(p, &dest, &env, msg, len, done, ud, &m, err, cap);
 *     ... done(outcome, ud) later, from the loop; or sg_smtpc_pool_cancel(p, m)
 *   sg_smtpc_pool_close(p, closed, ud);   QUIT everywhere, then closed(ud); frees
 *
 * The choice of a session is the pure sg_smtpc_pool_choose (unit-tested);
 * the rest is bookkeeping around sg_smtpc_session.
 */
#ifndef SG_SMTPC_POOL_H
#define SG_SMTPC_POOL_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "smtpc/sg_smtpc_session.h"

/* Group buckets (groups are chained; any number of groups). */
#define SG_SMTPC_POOL_BUCKETS 256
/* Group keys at most, NUL included (longer keys are cut). */
#define SG_SMTPC_POOL_KEY_MAX 400

/* What the chooser sees of a session. */
typedef struct sg_smtpc_pool_view {
  bool ready;   /* signed in and idle: can take a message now */
  bool busy;    /* has a message */
  bool closing; /* QUIT sent or failing: takes nothing */
  uint64_t cred;
} sg_smtpc_pool_view;

/*
 * Which of the |n| sessions of a group takes a message signed in with
 * credential |cred| (a hash of the token or password): a ready one first
 * (any credential: it has signed in already), else one still connecting,
 * not busy, with the same credential. Returns its index, or -1: open a new
 * session. Pure.
 */
int sg_smtpc_pool_choose(const sg_smtpc_pool_view *v, size_t n, uint64_t cred);

/* Whether a session that just became idle in a group of |live| sessions
 * (closing ones not counted) should say QUIT under cap |max_sessions| (0:
 * none). Pure. */
bool sg_smtpc_pool_surplus(size_t live, uint32_t max_sessions);

/* A 64-bit hash of a credential (FNV-1a), for sg_smtpc_pool_view.cred. */
uint64_t sg_smtpc_pool_cred(const char *secret);

typedef struct sg_smtpc_pool_cfg {
  SSL_CTX *tls_ctx; /* borrowed; from sg_tls_ctx_client_new2(..., SG_TLS_ALPN_NONE) */
  uint64_t connect_timeout_ms;
  uint64_t reply_timeout_ms; /* every wait for a reply; 0: RFC 5321's (minutes) */
  uint64_t idle_ms;          /* an idle session says QUIT after this long (0: 30 s) */
  const char *helo_name;     /* NULL: "localhost" */
} sg_smtpc_pool_cfg;

/* Where a message goes and how its session signs in; all borrowed for the call. */
typedef struct sg_smtpc_pool_dest {
  const char *key; /* the group */
  const char *host;
  uint16_t port;
  sg_smtpc_auth auth;
  const char *user;   /* XOAUTH2: the mailbox; PLAIN/LOGIN: the user name */
  const char *secret; /* the token or the password */
  uint32_t max_sessions;
} sg_smtpc_pool_dest;

typedef struct sg_smtpc_pool sg_smtpc_pool;
/* A message in progress (the session carrying it). */
typedef struct sg_smtpc_pool_sess sg_smtpc_pool_msg;

typedef void (*sg_smtpc_pool_done_cb)(const sg_outcome *o, void *ud);

void sg_smtpc_pool_new(sg_smtpc_pool **out, uv_loop_t *loop, const sg_smtpc_pool_cfg *cfg);

/*
 * Sends one message (|env| copied, |msg| borrowed until |done|); |*m| is
 * its handle until |done| runs. Returns 0, or with a reason in |err| and no
 * callback: the errors of sg_smtpc_session_new and sg_smtpc_send
 * (SG_ERR_TOOBIG, SG_ERR_PARSE, SG_ERR_INVAL for a message SMTP cannot
 * carry), SG_ERR_SHUTDOWN when closing.
 */
int sg_smtpc_pool_send(sg_smtpc_pool *p, const sg_smtpc_pool_dest *d, const sg_smtpc_env *env,
                       const uint8_t *msg, size_t len, sg_smtpc_pool_done_cb done, void *ud,
                       sg_smtpc_pool_msg **m, char *err, size_t errcap);

/* Forgets the message's callback and drops its session (the message may or
 * may not have gone). */
void sg_smtpc_pool_cancel(sg_smtpc_pool *p, sg_smtpc_pool_msg *m);

/* Sessions open or opening. */
size_t sg_smtpc_pool_sessions(const sg_smtpc_pool *p);
/* Sessions opened since the pool was made. */
uint64_t sg_smtpc_pool_opened(const sg_smtpc_pool *p);

/* QUIT on every session (messages in progress finish first); |closed| runs
 * once all are gone (at once when there are none); the pool is freed then. */
void sg_smtpc_pool_close(sg_smtpc_pool *p, void (*closed)(void *ud), void *ud);

#endif
