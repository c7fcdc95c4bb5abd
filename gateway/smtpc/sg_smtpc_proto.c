/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SMTP client state machine's session part; see sg_smtpc_proto.h. One
 * function per state handles the reply that state awaits (on_greeting,
 * on_ehlo, ...); feed() parses replies and dispatches. A message's states
 * are in sg_smtpc_proto_msg.c. Output is appended to |out| only.
 */
#include "smtpc/sg_smtpc_proto.h"

#include <stdio.h>
#include <string.h>

#include "core/sg_err.h"
#include "smtpc/sg_smtpc_proto_int.h"
#include "smtpc/sg_smtpc_reply.h"
#include "smtpc/sg_smtpc_sasl.h"

bool sg_smtpc__addr_ok(const char *s, bool allow_empty) {
  size_t n = strlen(s);
  if ((n == 0 && !allow_empty) || n > SG_SMTPC_MAX_ADDR)
    return false;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= 0x20 || c == 0x7f || c == '<' || c == '>')
      return false;
  }
  return true;
}

int sg_smtpc_proto_new(sg_smtpc_proto **out, const sg_smtpc_opts *o) {
  *out = NULL;
  const char *helo = o->helo_name && o->helo_name[0] ? o->helo_name : "localhost";
  if (!sg_smtpc__addr_ok(helo, false))
    return SG_ERR_INVAL;
  if (o->auth != SG_SMTPC_AUTH_NONE) {
    if (o->plaintext || !o->user || !o->secret || !o->user[0] || !o->secret[0] ||
        !sg_smtpc__addr_ok(o->user, false) || strpbrk(o->secret, "\r\n"))
      return SG_ERR_INVAL;
  }
  sg_smtpc_proto *p = sg_xcalloc(1, sizeof *p);
  p->o = *o;
  p->helo = sg_xstrdup(helo);
  p->user = o->user ? sg_xstrdup(o->user) : NULL;
  p->secret = o->secret ? sg_xstrdup(o->secret) : NULL;
  p->o.helo_name = p->helo;
  p->o.user = p->user;
  p->o.secret = p->secret;
#define DEF(f, v) p->o.f = p->o.f ? p->o.f : (v)
  DEF(greeting_ms, SG_SMTPC_GREETING_MS);
  DEF(command_ms, SG_SMTPC_COMMAND_MS);
  DEF(data_init_ms, SG_SMTPC_DATA_INIT_MS);
  DEF(data_block_ms, SG_SMTPC_DATA_BLOCK_MS);
  DEF(data_end_ms, SG_SMTPC_DATA_END_MS);
#undef DEF
  p->st = S_CONNECT;
  *out = p;
  return 0;
}

void sg_smtpc__drop_msg(sg_smtpc_proto *p) {
  sg_free(p->from);
  for (size_t i = 0; i < p->n_rcpts; i++)
    sg_free(p->rcpts[i]);
  sg_free(p->rcpts);
  sg_free(p->cmds);
  p->from = NULL;
  p->rcpts = NULL;
  p->cmds = NULL;
  p->n_rcpts = p->n_cmds = p->sent = p->answered = 0;
  p->have_msg = p->started = p->env_failed = false;
  p->msg = NULL;
}

void sg_smtpc_proto_del(sg_smtpc_proto *p) {
  if (!p)
    return;
  sg_smtpc__drop_msg(p);
  if (p->secret) {
    sg_buf s = {p->secret, strlen(p->secret), strlen(p->secret) + 1};
    sg_smtpc_sasl_wipe(&s);
  }
  sg_free(p->helo);
  sg_free(p->user);
  sg_buf_free(&p->in);
  sg_smtpc_sasl_wipe(&p->out); /* may hold an AUTH line */
  sg_free(p);
}

sg_buf *sg_smtpc_proto_output(sg_smtpc_proto *p) {
  return &p->out;
}

/* ---- ending ---- */

void sg_smtpc__finish_msg(sg_smtpc_proto *p, const sg_outcome *o) {
  if (!p->have_msg)
    return;
  p->result = *o;
  p->has_result = true;
  p->used = true;
  sg_smtpc__drop_msg(p);
}

void sg_smtpc__close_session(sg_smtpc_proto *p, const sg_outcome *why) {
  if (p->st == S_CLOSED)
    return;
  p->st = S_CLOSED;
  p->error = *why;
  sg_smtpc__finish_msg(p, why);
}

/* A session ended by the server's words (not by the transport): say QUIT,
 * as Postfix does, unless the connection is mid-body or mid-handshake. */
static void close_politely(sg_smtpc_proto *p, const sg_outcome *why) {
  if (p->st != S_BODY && p->st != S_TLS && p->st != S_CLOSED) {
    sg_smtpc__send_line(p, "QUIT");
    p->quit_sent = true;
  }
  sg_smtpc__close_session(p, why);
}

static void fail_reply(sg_smtpc_proto *p, sg_smtpc_stage stage, const sg_smtpc_reply *r) {
  sg_outcome o;
  sg_smtpc_classify_reply(stage, r, p->o.auth == SG_SMTPC_AUTH_XOAUTH2, &o);
  if (o.kind == SG_OUTCOME_SENT) /* a 2xx/3xx where another was due: protocol */
    sg_smtpc_classify_local(SG_OUTCOME_RETRY, "SmtpProtocolError", o.message, &o);
  close_politely(p, &o);
}

static void fail_local(sg_smtpc_proto *p, sg_outcome_kind k, const char *code, const char *msg) {
  sg_outcome o;
  sg_smtpc_classify_local(k, code, msg, &o);
  close_politely(p, &o);
}

void sg_smtpc_proto_fail(sg_smtpc_proto *p, int err) {
  if (p->st == S_CLOSED)
    return;
  if (p->st == S_QUIT) { /* the server closed after our QUIT: fine */
    sg_outcome o;
    sg_smtpc_classify_local(SG_OUTCOME_SENT, "", "session closed", &o);
    sg_smtpc__close_session(p, &o);
    return;
  }
  sg_outcome o;
  sg_smtpc_classify_transport(sg_smtpc_proto_stage(p), err, &o);
  sg_smtpc__close_session(p, &o);
}

void sg_smtpc__send_line(sg_smtpc_proto *p, const char *s) {
  sg_buf_append_str(&p->out, s);
  sg_buf_append(&p->out, "\r\n", 2);
}

static void send_quit(sg_smtpc_proto *p) {
  sg_smtpc__send_line(p, "QUIT");
  p->quit_sent = true;
  p->st = S_QUIT;
}

/* ---- messages ---- */

void sg_smtpc__become_ready(sg_smtpc_proto *p) {
  p->st = S_READY;
  if (p->have_msg && !p->started)
    sg_smtpc__begin_msg(p);
  if (p->st == S_READY && p->quit_pending)
    send_quit(p);
}

/* ---- the state handlers: one reply each ---- */

static void send_ehlo(sg_smtpc_proto *p) {
  sg_buf_printf(&p->out, "EHLO %s\r\n", p->helo);
  p->st = S_EHLO;
}

static void on_greeting(sg_smtpc_proto *p, const sg_smtpc_reply *r) {
  if (r->code != 220) {
    fail_reply(p, SG_SMTPC_STAGE_GREETING, r);
    return;
  }
  send_ehlo(p);
}

static unsigned mech_bit(sg_smtpc_auth a) {
  switch (a) {
  case SG_SMTPC_AUTH_XOAUTH2:
    return SG_SMTPC_MECH_XOAUTH2;
  case SG_SMTPC_AUTH_PLAIN:
    return SG_SMTPC_MECH_PLAIN;
  case SG_SMTPC_AUTH_LOGIN:
    return SG_SMTPC_MECH_LOGIN;
  default:
    return 0;
  }
}

static void send_auth(sg_smtpc_proto *p) {
  p->st = S_AUTH;
  p->auth_step = 0;
  p->auth_failing = false;
  switch (p->o.auth) {
  case SG_SMTPC_AUTH_XOAUTH2:
    if (p->o.xoauth2_two_step) {
      sg_smtpc__send_line(p, "AUTH XOAUTH2");
    } else {
      sg_buf_append_str(&p->out, "AUTH XOAUTH2 ");
      sg_smtpc_sasl_xoauth2(&p->out, p->user, p->secret);
      sg_buf_append(&p->out, "\r\n", 2);
    }
    break;
  case SG_SMTPC_AUTH_PLAIN:
    sg_buf_append_str(&p->out, "AUTH PLAIN ");
    sg_smtpc_sasl_plain(&p->out, p->user, p->secret);
    sg_buf_append(&p->out, "\r\n", 2);
    break;
  default:
    sg_smtpc__send_line(p, "AUTH LOGIN");
    break;
  }
}

static void on_ehlo(sg_smtpc_proto *p, const sg_smtpc_reply *r) {
  if (r->code != 250) {
    fail_reply(p, SG_SMTPC_STAGE_EHLO, r);
    return;
  }
  sg_smtpc_ehlo_parse(r, &p->ext);
  if (!p->tls && !p->o.plaintext) {
    if (!p->ext.starttls) {
      fail_local(p, SG_OUTCOME_FAILED, "StartTlsNotOffered",
                 "EHLO: the server does not offer STARTTLS; nothing is sent in clear");
      return;
    }
    sg_smtpc__send_line(p, "STARTTLS");
    p->st = S_STARTTLS;
    return;
  }
  if (p->o.auth == SG_SMTPC_AUTH_NONE) {
    sg_smtpc__become_ready(p);
    return;
  }
  if ((p->ext.mechs & mech_bit(p->o.auth)) == 0) {
    fail_local(p, SG_OUTCOME_FAILED, "AuthMechanismNotOffered",
               "EHLO: the server does not offer the configured AUTH mechanism");
    return;
  }
  send_auth(p);
}

static void on_starttls(sg_smtpc_proto *p, const sg_smtpc_reply *r) {
  if (r->code != 220) {
    fail_reply(p, SG_SMTPC_STAGE_STARTTLS, r);
    return;
  }
  if (p->in.len > 0) { /* bytes after the 220 would be read as if from TLS */
    fail_local(p, SG_OUTCOME_RETRY, "SmtpProtocolError",
               "STARTTLS: the server sent data after its 220 (command injection?)");
    return;
  }
  p->st = S_TLS;
  p->want_tls = true;
}

/* A 334 challenge: the next step of the mechanism, or the error exchange. */
static void auth_continue(sg_smtpc_proto *p) {
  unsigned step = p->auth_step++;
  if (p->auth_failing) { /* only one error challenge is answered */
    fail_local(p, SG_OUTCOME_FAILED, "SmtpProtocolError", "AUTH: challenge after cancel");
    return;
  }
  if (p->o.auth == SG_SMTPC_AUTH_XOAUTH2 && p->o.xoauth2_two_step && step == 0) {
    sg_smtpc_sasl_xoauth2(&p->out, p->user, p->secret);
    sg_buf_append(&p->out, "\r\n", 2);
    return;
  }
  if (p->o.auth == SG_SMTPC_AUTH_LOGIN && step < 2) {
    sg_smtpc_sasl_login_step(&p->out, step == 0 ? p->user : p->secret);
    sg_buf_append(&p->out, "\r\n", 2);
    return;
  }
  /* XOAUTH2's error challenge (base64 JSON): an empty response gets the
   * final reply; other mechanisms: "*" cancels (RFC 4954 4). */
  sg_smtpc__send_line(p, p->o.auth == SG_SMTPC_AUTH_XOAUTH2 ? "" : "*");
  p->auth_failing = true;
}

static void on_auth(sg_smtpc_proto *p, const sg_smtpc_reply *r) {
  if (r->code == 334) {
    auth_continue(p);
    return;
  }
  if (r->code == 235 && !p->auth_failing) {
    sg_smtpc__become_ready(p);
    return;
  }
  fail_reply(p, SG_SMTPC_STAGE_AUTH, r);
}

static void on_unexpected(sg_smtpc_proto *p, const sg_smtpc_reply *r) {
  /* A reply nobody asked for: a 421 on an idle session, or a server that
   * does not follow the protocol. Either way the session is over. */
  sg_smtpc_stage st = sg_smtpc_proto_stage(p);
  if (r->code == 421 || sg_smtpc_reply_class(r) >= 4) {
    fail_reply(p, st, r);
    return;
  }
  fail_local(p, SG_OUTCOME_RETRY, "SmtpProtocolError", "unexpected reply from the server");
}

static void on_reply(sg_smtpc_proto *p, const sg_smtpc_reply *r) {
  switch (p->st) {
  case S_GREETING:
    on_greeting(p, r);
    break;
  case S_EHLO:
    on_ehlo(p, r);
    break;
  case S_STARTTLS:
    on_starttls(p, r);
    break;
  case S_AUTH:
    on_auth(p, r);
    break;
  case S_ENVELOPE:
    sg_smtpc__on_envelope(p, r);
    break;
  case S_DATA:
    sg_smtpc__on_data(p, r);
    break;
  case S_DOT:
    sg_smtpc__on_dot(p, r);
    break;
  case S_QUIT: {
    sg_outcome o;
    sg_smtpc_classify_local(SG_OUTCOME_SENT, "", "session closed (QUIT)", &o);
    sg_smtpc__close_session(p, &o);
    break;
  }
  default: /* S_TLS, S_READY, S_BODY */
    on_unexpected(p, r);
    break;
  }
}

void sg_smtpc_proto_connected(sg_smtpc_proto *p) {
  if (p->st == S_CONNECT)
    p->st = S_GREETING;
}

void sg_smtpc_proto_feed(sg_smtpc_proto *p, const uint8_t *b, size_t n) {
  if (p->st == S_CLOSED || n == 0)
    return;
  sg_smtpc_proto_connected(p); /* bytes from the server: it is connected */
  if (p->st == S_TLS) {        /* plaintext after the 220: never read as TLS data */
    fail_local(p, SG_OUTCOME_RETRY, "SmtpProtocolError", "STARTTLS: data before the handshake");
    return;
  }
  if (p->in.len + n > SG_SMTPC_IN_MAX) {
    fail_local(p, SG_OUTCOME_RETRY, "SmtpProtocolError", "server input over the bound");
    return;
  }
  sg_buf_append(&p->in, b, n);
  sg_smtpc_reply r;
  while (p->st != S_CLOSED && p->st != S_TLS && p->in.len > 0) {
    size_t used = 0;
    int rv = sg_smtpc_reply_parse(p->in.data, p->in.len, &r, &used);
    if (rv == SG_ERR_AGAIN)
      return;
    if (rv != 0) {
      fail_local(p, SG_OUTCOME_RETRY, "SmtpProtocolError", "malformed reply from the server");
      return;
    }
    sg_buf_consume(&p->in, used);
    on_reply(p, &r);
  }
}

/* ---- body, TLS, QUIT ---- */

bool sg_smtpc_proto_want_tls(sg_smtpc_proto *p) {
  bool w = p->want_tls;
  p->want_tls = false;
  return w;
}

void sg_smtpc_proto_tls_done(sg_smtpc_proto *p) {
  if (p->st != S_TLS)
    return;
  p->tls = true;
  memset(&p->ext, 0, sizeof p->ext); /* what was said in clear is forgotten */
  send_ehlo(p);
}

void sg_smtpc_proto_quit(sg_smtpc_proto *p) {
  if (p->st == S_CLOSED || p->st == S_QUIT)
    return;
  if (p->st == S_READY) {
    send_quit(p);
    return;
  }
  if (p->st >= S_ENVELOPE) {
    p->quit_pending = true;
    return;
  }
  sg_outcome o;
  sg_smtpc_classify_transport(sg_smtpc_proto_stage(p), SG_ERR_SHUTDOWN, &o);
  sg_smtpc__close_session(p, &o);
}

/* ---- inspection ---- */

bool sg_smtpc_proto_take_result(sg_smtpc_proto *p, sg_outcome *out) {
  if (!p->has_result)
    return false;
  p->has_result = false;
  *out = p->result;
  return true;
}

bool sg_smtpc_proto_idle(const sg_smtpc_proto *p) {
  return p->st == S_READY && !p->have_msg;
}

bool sg_smtpc_proto_closed(const sg_smtpc_proto *p) {
  return p->st == S_CLOSED;
}

bool sg_smtpc_proto_quit_sent(const sg_smtpc_proto *p) {
  return p->quit_sent;
}

const sg_outcome *sg_smtpc_proto_error(const sg_smtpc_proto *p) {
  return &p->error;
}

uint64_t sg_smtpc_proto_wait_ms(const sg_smtpc_proto *p) {
  switch (p->st) {
  case S_CONNECT: /* the connect has its own bound too (sg_tlsconn) */
  case S_GREETING:
    return p->o.greeting_ms;
  case S_DATA:
    return p->o.data_init_ms;
  case S_BODY:
    return p->o.data_block_ms;
  case S_DOT:
    return p->o.data_end_ms;
  case S_READY:
    return p->have_msg ? p->o.command_ms : p->o.idle_ms;
  case S_CLOSED:
    return 0;
  default:
    return p->o.command_ms;
  }
}

sg_smtpc_stage sg_smtpc_proto_stage(const sg_smtpc_proto *p) {
  switch (p->st) {
  case S_GREETING:
    return SG_SMTPC_STAGE_GREETING;
  case S_EHLO:
    return SG_SMTPC_STAGE_EHLO;
  case S_STARTTLS:
  case S_TLS:
    return SG_SMTPC_STAGE_STARTTLS;
  case S_AUTH:
    return SG_SMTPC_STAGE_AUTH;
  case S_ENVELOPE:
    return p->answered < p->n_cmds ? p->cmds[p->answered].stage : SG_SMTPC_STAGE_MAIL;
  case S_DATA:
    return SG_SMTPC_STAGE_DATA;
  case S_BODY:
    return SG_SMTPC_STAGE_BODY;
  case S_DOT:
    return SG_SMTPC_STAGE_DOT;
  case S_QUIT:
    return SG_SMTPC_STAGE_QUIT;
  default:
    return SG_SMTPC_STAGE_CONNECT;
  }
}

const sg_smtpc_ext *sg_smtpc_proto_ext(const sg_smtpc_proto *p) {
  return &p->ext;
}

bool sg_smtpc_proto_tls_active(const sg_smtpc_proto *p) {
  return p->tls;
}
