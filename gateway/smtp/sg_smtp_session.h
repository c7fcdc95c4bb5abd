/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One ESMTP server session as a pure state machine (the nghttp2 way): the
 * glue feeds the bytes the client sent (plaintext, after TLS), runs the
 * machine, writes out the replies it produced, and acts on the events it
 * returns: start TLS, check AUTH credentials, hand a complete message off,
 * close. The machine never blocks and does no I/O; while an event is being
 * handled it processes nothing more, so pipelined commands (RFC 2920) are
 * answered strictly in order.
 *
 * Policy lives here: submission needs AUTH (after TLS) before MAIL; the relay
 * listener takes no AUTH and only senders of relay_senders; an authenticated
 * user sends only as its allow_from addresses (envelope and From:); limits on
 * recipients, commands and errors. Never an open relay.
 */
#ifndef SG_SMTP_SESSION_H
#define SG_SMTP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sg_mem.h"
#include "smtp/sg_smtp_auth.h"
#include "smtp/sg_smtp_users.h"

typedef enum {
  SG_SMTP_MODE_SUBMISSION = 0, /* STARTTLS, then AUTH, required to send */
  SG_SMTP_MODE_IMPLICIT_TLS,   /* TLS from the first byte (RFC 8314), AUTH required */
  SG_SMTP_MODE_RELAY,          /* no AUTH; client network checked by the glue */
} sg_smtp_mode;

typedef struct sg_smtp_session_opts {
  sg_smtp_mode mode;
  const char *hostname;      /* in the greeting and EHLO reply; borrowed */
  size_t max_message_bytes;  /* SIZE and the DATA cap */
  uint32_t max_rcpts;        /* per message; 0 = SG_SMTP_MAX_RCPTS */
  uint32_t max_commands;     /* per session, then 421; 0 = no cap */
  uint32_t max_errors;       /* refused commands per session, then 421; 0 = no cap */
  bool tls_available;        /* submission: a certificate is configured (STARTTLS offered) */
  const char *relay_senders; /* relay: allowed envelope senders; borrowed */
  /* The client may not use this listener (relay, outside relay_networks):
   * the greeting is 554 and every command but QUIT gets 503. */
  bool refuse;
  /* Called for each refused message or sender with a short reason label
   * (metrics); may be NULL. */
  void (*on_refused)(void *ud, const char *reason);
  void *ud;
} sg_smtp_session_opts;

typedef enum {
  SG_SMTP_EV_NONE = 0, /* needs more input */
  SG_SMTP_EV_STARTTLS, /* send the output in clear, then TLS; then sg_smtp_session_tls_started */
  SG_SMTP_EV_AUTH,     /* check sg_smtp_session_auth_creds; then sg_smtp_session_auth_done */
  SG_SMTP_EV_MESSAGE,  /* hand off sg_smtp_session_message; then sg_smtp_session_queued */
  SG_SMTP_EV_CLOSE,    /* send the output, then close the connection */
} sg_smtp_event;

/* A complete message, valid until the next call into the session. */
typedef struct sg_smtp_message {
  const char *from; /* envelope sender ("" is never handed off) */
  char *const *rcpts;
  size_t nrcpts;
  const uint8_t *data; /* the message as received, dot-stuffing removed */
  size_t len;
  const char *helo;    /* the client's EHLO/HELO argument */
  const char *user;    /* authenticated user, or NULL (relay) */
  const char *account; /* the user's account ("" = default) */
  bool tls, smtputf8, eightbit;
} sg_smtp_message;

typedef struct sg_smtp_session sg_smtp_session;

/* Makes a session; the greeting is already in its output. Never fails. */
sg_smtp_session *sg_smtp_session_new(const sg_smtp_session_opts *o);
void sg_smtp_session_free(sg_smtp_session *s);

/* Appends |n| plaintext bytes from the client (copied). */
void sg_smtp_session_feed(sg_smtp_session *s, const uint8_t *p, size_t n);

/* Bytes fed and not processed yet (the glue stops reading above a cap). */
size_t sg_smtp_session_pending_input(const sg_smtp_session *s);

/*
 * Processes buffered input until it runs out or an event needs the glue.
 * Replies are appended to the output (sg_smtp_session_output). While an
 * event other than NONE is outstanding, run returns it again and does nothing.
 */
sg_smtp_event sg_smtp_session_run(sg_smtp_session *s);

/* The replies to send; the glue takes them and resets the buffer. */
sg_buf *sg_smtp_session_output(sg_smtp_session *s);

/* True while the session reads message data (DATA timeout applies). */
bool sg_smtp_session_in_data(const sg_smtp_session *s);

/* TLS is up after SG_SMTP_EV_STARTTLS: the session starts over (RFC 3207 4.2). */
void sg_smtp_session_tls_started(sg_smtp_session *s);

/* The credentials of SG_SMTP_EV_AUTH (borrowed until auth_done). */
void sg_smtp_session_auth_creds(const sg_smtp_session *s, const char **user, const char **pass,
                                size_t *plen);

/* The outcome of the check; |user| (borrowed) is set when |res| is OK. Wipes the password. */
void sg_smtp_session_auth_done(sg_smtp_session *s, sg_smtp_auth_result res,
                               const sg_smtp_user *user);

/* The message of SG_SMTP_EV_MESSAGE. */
const sg_smtp_message *sg_smtp_session_message(const sg_smtp_session *s);

/*
 * The hand-off of the message is over: |queue_id| set means its job is in
 * the stream (250 with the id); NULL means it is not (451 4.3.0).
 */
void sg_smtp_session_queued(sg_smtp_session *s, const char *queue_id);

/* The server is draining: at the next command boundary the session says 421
 * and closes (a message being received is finished first). */
void sg_smtp_session_shutdown(sg_smtp_session *s);

/* The session is idle between commands with no input and no event pending. */
bool sg_smtp_session_idle(const sg_smtp_session *s);

#endif
