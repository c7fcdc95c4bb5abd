/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SMTP client session as a pure state machine (nghttp2's "no I/O"
 * shape): bytes from the server go in with sg_smtpc_proto_feed, bytes for
 * the server come out of sg_smtpc_proto_output, and what happened is read
 * from the machine (a message's outcome, "start TLS now", "closed"). The
 * libuv glue is sg_smtpc_session.c; tests and the fuzzer drive this file
 * with scripted server bytes.
 *
 * A session: greeting 220, EHLO, STARTTLS and EHLO again (always, unless the
 * session is made |plaintext|, which only a session without AUTH may be),
 * AUTH (XOAUTH2 one-line or two-step, PLAIN, LOGIN; only ever over TLS),
 * then any number of messages: [RSET] MAIL FROM (SIZE=, BODY=8BITMIME,
 * SMTPUTF8 as the message needs and the server offers), RCPT TO for each
 * recipient, DATA, the dot-stuffed body, the final reply; QUIT at the end.
 * With PIPELINING, RSET, MAIL and the RCPTs leave in one write (RFC 2920);
 * DATA waits for their replies, because a 354 cannot be taken back.
 *
 * Recipients are all or nothing: one refused RCPT (4xx or 5xx) fails the
 * message with that reply and nothing is sent (DATA is never issued), so a
 * retry never sends twice to the recipients that were accepted.
 *
 * Every wait has a bound: sg_smtpc_proto_wait_ms says how long the current
 * wait may last (RFC 5321 4.5.3.2 timeouts, configurable); the glue runs the
 * timer and calls sg_smtpc_proto_fail(SG_ERR_TIMEOUT). Input is bounded by
 * SG_SMTPC_IN_MAX, output by the body chunks the glue asks for.
 */
#ifndef SG_SMTPC_PROTO_H
#define SG_SMTPC_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sg_mem.h"
#include "smtpc/sg_smtpc_classify.h"
#include "smtpc/sg_smtpc_ehlo.h"
#include "svc/sg_classify.h"

/* Unparsed server input kept at most: a pipelined group's replies (1000
 * RCPTs at about 40 bytes each) fit well. */
#define SG_SMTPC_IN_MAX (64u * 1024u)
/* Recipients of one message: Exchange's highest configurable limit. */
#define SG_SMTPC_MAX_RCPTS 1000
/* RFC 5321 4.5.3.1.3: a path is at most 256 octets with its brackets. */
#define SG_SMTPC_MAX_ADDR 254

/* RFC 5321 4.5.3.2 timeouts, in ms: the defaults of sg_smtpc_opts. */
#define SG_SMTPC_GREETING_MS (5 * 60 * 1000)
#define SG_SMTPC_COMMAND_MS (5 * 60 * 1000)
#define SG_SMTPC_DATA_INIT_MS (2 * 60 * 1000)
#define SG_SMTPC_DATA_BLOCK_MS (3 * 60 * 1000)
#define SG_SMTPC_DATA_END_MS (10 * 60 * 1000)

typedef enum sg_smtpc_auth {
  SG_SMTPC_AUTH_NONE = 0,
  SG_SMTPC_AUTH_XOAUTH2, /* Exchange Online (SMTP.SendAsApp), HVE with OAuth */
  SG_SMTPC_AUTH_PLAIN,   /* HVE accounts' own passwords */
  SG_SMTPC_AUTH_LOGIN,
} sg_smtpc_auth;

typedef struct sg_smtpc_opts {
  const char *helo_name; /* EHLO argument; NULL or "": "localhost" */
  sg_smtpc_auth auth;
  const char *user;      /* XOAUTH2: the mailbox (user=); PLAIN/LOGIN: the user name */
  const char *secret;    /* XOAUTH2: the access token; PLAIN/LOGIN: the password */
  bool xoauth2_two_step; /* "AUTH XOAUTH2", then the response after the 334 */
  bool plaintext;        /* no STARTTLS (test servers only); refused with AUTH */
  /* Timeouts in ms; 0: the SG_SMTPC_*_MS defaults. */
  uint64_t greeting_ms, command_ms, data_init_ms, data_block_ms, data_end_ms;
  /* An idle session (ready, no message) says QUIT after this long; 0: never
   * (the owner closes it). Servers drop idle clients after a few minutes. */
  uint64_t idle_ms;
} sg_smtpc_opts;

/* A message's envelope; everything borrowed for the call to start. */
typedef struct sg_smtpc_env {
  const char *from; /* reverse-path; "" for the null sender <> */
  const char *const *rcpts;
  size_t n_rcpts;
} sg_smtpc_env;

typedef struct sg_smtpc_proto sg_smtpc_proto;

/*
 * Makes a session in the state "connecting" (then "waiting for the
 * greeting", after sg_smtpc_proto_connected or the first bytes). |o| is copied
 * (strings too; the secret is wiped when freed). Returns 0 or one of:
 * SG_ERR_INVAL (AUTH with |plaintext|, AUTH without user or secret, a user
 * or helo name with control characters or spaces).
 */
int sg_smtpc_proto_new(sg_smtpc_proto **out, const sg_smtpc_opts *o);
void sg_smtpc_proto_del(sg_smtpc_proto *p);

/* The TCP connection is up (before: failures are at stage CONNECT). */
void sg_smtpc_proto_connected(sg_smtpc_proto *p);

/* Takes bytes the server sent (copied as far as needed). */
void sg_smtpc_proto_feed(sg_smtpc_proto *p, const uint8_t *b, size_t n);

/*
 * Bytes to send to the server now. The caller takes them (copies and
 * resets the buffer) after every call into the machine.
 */
sg_buf *sg_smtpc_proto_output(sg_smtpc_proto *p);

/*
 * Starts one message: |env| and |msg| (|len| bytes, a complete RFC 5322
 * message; borrowed until its outcome is taken). Before the session is
 * ready it waits for it. The message is checked first (sg_smtpc_dot_scan,
 * addresses); a refusal writes a one-line reason into |err|.
 * Returns 0 or one of: SG_ERR_BUSY (a message is in progress),
 * SG_ERR_CLOSED (the session is over), SG_ERR_TOOBIG (a line over 998
 * octets; more than SG_SMTPC_MAX_RCPTS recipients), SG_ERR_PARSE (a NUL
 * byte), SG_ERR_INVAL (no recipient, an empty message, an address that
 * cannot go in a command).
 */
int sg_smtpc_proto_start(sg_smtpc_proto *p, const sg_smtpc_env *env, const uint8_t *msg, size_t len,
                         char *err, size_t errcap);

/* Whether the body is being sent and more of it can be produced. */
bool sg_smtpc_proto_body_pending(const sg_smtpc_proto *p);

/* Appends up to about |budget| bytes of the body to the output. */
void sg_smtpc_proto_pump(sg_smtpc_proto *p, size_t budget);

/* True once after STARTTLS got its 220: start the TLS handshake now. */
bool sg_smtpc_proto_want_tls(sg_smtpc_proto *p);

/* The TLS handshake after STARTTLS completed: EHLO follows. */
void sg_smtpc_proto_tls_done(sg_smtpc_proto *p);

/*
 * The connection failed (|err|: a timeout, EOF, TLS or socket error): the
 * message in progress gets its outcome (ambiguous after the final dot) and
 * the session is over.
 */
void sg_smtpc_proto_fail(sg_smtpc_proto *p, int err);

/* Ends the session politely: QUIT when idle, else once the message ends;
 * before the session is ready, at once (closed, no QUIT). */
void sg_smtpc_proto_quit(sg_smtpc_proto *p);

/* True once per message, when its outcome is known; fills |*out|. */
bool sg_smtpc_proto_take_result(sg_smtpc_proto *p, sg_outcome *out);

/* Ready for a message: authenticated, nothing in progress. */
bool sg_smtpc_proto_idle(const sg_smtpc_proto *p);

/* The session is over: close the connection (after writing the output). */
bool sg_smtpc_proto_closed(const sg_smtpc_proto *p);

/* Whether QUIT was sent: close in order (flush, wait for the server's
 * close); otherwise drop the connection. */
bool sg_smtpc_proto_quit_sent(const sg_smtpc_proto *p);

/* Why the session ended (kind SENT after an orderly QUIT); valid when closed. */
const sg_outcome *sg_smtpc_proto_error(const sg_smtpc_proto *p);

/* How long the current wait may last in ms; 0 when nothing is awaited. An
 * idle session gives opts.idle_ms: when that runs out, the glue calls
 * sg_smtpc_proto_quit rather than sg_smtpc_proto_fail. */
uint64_t sg_smtpc_proto_wait_ms(const sg_smtpc_proto *p);

/* The step the session is at. */
sg_smtpc_stage sg_smtpc_proto_stage(const sg_smtpc_proto *p);

/* The extensions of the last EHLO reply. */
const sg_smtpc_ext *sg_smtpc_proto_ext(const sg_smtpc_proto *p);

/* Whether TLS is active (STARTTLS done). */
bool sg_smtpc_proto_tls_active(const sg_smtpc_proto *p);

#endif
