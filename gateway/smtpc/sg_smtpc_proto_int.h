/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals shared by the SMTP client machine's two files: sg_smtpc_proto.c
 * (the session: greeting, EHLO, STARTTLS, AUTH, QUIT, input, inspection)
 * and sg_smtpc_proto_msg.c (one message: checks, envelope, DATA, body, the
 * final reply). Not for other modules.
 */
#ifndef SG_SMTPC_PROTO_INT_H
#define SG_SMTPC_PROTO_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/sg_mem.h"
#include "smtpc/sg_smtpc_dot.h"
#include "smtpc/sg_smtpc_proto.h"
#include "smtpc/sg_smtpc_reply.h"

typedef enum {
  S_CONNECT, /* TCP connect in progress (the glue's) */
  S_GREETING,
  S_EHLO,
  S_STARTTLS,
  S_TLS, /* the glue runs the handshake */
  S_AUTH,
  S_READY,
  S_ENVELOPE, /* replies to RSET / MAIL / RCPT */
  S_DATA,
  S_BODY,
  S_DOT,
  S_QUIT,
  S_CLOSED,
} state;

/* One command of a message's envelope. */
typedef struct {
  sg_smtpc_stage stage; /* RSET, MAIL or RCPT */
  size_t rcpt;
} env_cmd;

struct sg_smtpc_proto {
  state st;
  sg_smtpc_opts o;
  char *helo, *user, *secret;
  sg_buf in, out;
  sg_smtpc_ext ext;
  bool tls, want_tls;
  bool quit_pending;
  bool quit_sent; /* QUIT went out: the connection can be closed in order */
  /* AUTH */
  unsigned auth_step; /* 334 challenges answered */
  bool auth_failing;  /* answered an error challenge; the final reply follows */
  /* the message */
  bool have_msg, started, used; /* |used|: a message went before (RSET) */
  char *from;
  char **rcpts;
  size_t n_rcpts;
  const uint8_t *msg;
  size_t msg_len;
  sg_smtpc_msg_info info;
  env_cmd *cmds;
  size_t n_cmds, sent, answered;
  bool env_failed;
  sg_outcome env_outcome;
  sg_smtpc_dot dot;
  /* results */
  bool has_result;
  sg_outcome result;
  sg_outcome error; /* why the session ended */
};

/* Whether |s| can go between < > in a command (printable, no space, no
 * brackets, at most SG_SMTPC_MAX_ADDR octets; empty only when allowed). */
bool sg_smtpc__addr_ok(const char *s, bool allow_empty);
/* Appends |s| and CRLF to the output. */
void sg_smtpc__send_line(sg_smtpc_proto *p, const char *s);
/* The message in progress ends with |o| (result taken by the caller). */
void sg_smtpc__finish_msg(sg_smtpc_proto *p, const sg_outcome *o);
/* Frees the message's copies (envelope, commands). */
void sg_smtpc__drop_msg(sg_smtpc_proto *p);
/* The session is over with |why| (also the outcome of a message in progress). */
void sg_smtpc__close_session(sg_smtpc_proto *p, const sg_outcome *why);
/* Authenticated and idle: starts a waiting message, or QUIT when asked. */
void sg_smtpc__become_ready(sg_smtpc_proto *p);
/* Sends the envelope of the waiting message (after its server-side checks). */
void sg_smtpc__begin_msg(sg_smtpc_proto *p);
/* The replies of the message's states. */
void sg_smtpc__on_envelope(sg_smtpc_proto *p, const sg_smtpc_reply *r);
void sg_smtpc__on_data(sg_smtpc_proto *p, const sg_smtpc_reply *r);
void sg_smtpc__on_dot(sg_smtpc_proto *p, const sg_smtpc_reply *r);

#endif
