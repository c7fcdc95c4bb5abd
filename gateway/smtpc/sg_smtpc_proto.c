/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SMTP client state machine; see sg_smtpc_proto.h. One function per
 * state handles the reply that state awaits (on_greeting, on_ehlo, ...);
 * feed() parses replies and dispatches. Output is appended to |out| only.
 */
#include "smtpc/sg_smtpc_proto.h"

#include <stdio.h>
#include <string.h>

#include "core/sg_err.h"
#include "smtpc/sg_smtpc_dot.h"
#include "smtpc/sg_smtpc_reply.h"
#include "smtpc/sg_smtpc_sasl.h"

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

static bool addr_ok(const char *s, bool allow_empty) {
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

static bool has_8bit(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s >= 0x80)
      return true;
  return false;
}

int sg_smtpc_proto_new(sg_smtpc_proto **out, const sg_smtpc_opts *o) {
  *out = NULL;
  const char *helo = o->helo_name && o->helo_name[0] ? o->helo_name : "localhost";
  if (!addr_ok(helo, false))
    return SG_ERR_INVAL;
  if (o->auth != SG_SMTPC_AUTH_NONE) {
    if (o->plaintext || !o->user || !o->secret || !o->user[0] || !o->secret[0] ||
        !addr_ok(o->user, false) || strpbrk(o->secret, "\r\n"))
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

static void drop_msg(sg_smtpc_proto *p) {
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
  drop_msg(p);
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

static void finish_msg(sg_smtpc_proto *p, const sg_outcome *o) {
  if (!p->have_msg)
    return;
  p->result = *o;
  p->has_result = true;
  p->used = true;
  drop_msg(p);
}

static void close_session(sg_smtpc_proto *p, const sg_outcome *why) {
  if (p->st == S_CLOSED)
    return;
  p->st = S_CLOSED;
  p->error = *why;
  finish_msg(p, why);
}

static void send_line(sg_smtpc_proto *p, const char *s);

/* A session ended by the server's words (not by the transport): say QUIT,
 * as Postfix does, unless the connection is mid-body or mid-handshake. */
static void close_politely(sg_smtpc_proto *p, const sg_outcome *why) {
  if (p->st != S_BODY && p->st != S_TLS && p->st != S_CLOSED) {
    send_line(p, "QUIT");
    p->quit_sent = true;
  }
  close_session(p, why);
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
    close_session(p, &o);
    return;
  }
  sg_outcome o;
  sg_smtpc_classify_transport(sg_smtpc_proto_stage(p), err, &o);
  close_session(p, &o);
}

static void send_line(sg_smtpc_proto *p, const char *s) {
  sg_buf_append_str(&p->out, s);
  sg_buf_append(&p->out, "\r\n", 2);
}

static void send_quit(sg_smtpc_proto *p) {
  send_line(p, "QUIT");
  p->quit_sent = true;
  p->st = S_QUIT;
}

/* ---- messages ---- */

static void write_cmd(sg_smtpc_proto *p, const env_cmd *c) {
  switch (c->stage) {
  case SG_SMTPC_STAGE_RSET:
    send_line(p, "RSET");
    break;
  case SG_SMTPC_STAGE_MAIL:
    sg_buf_printf(&p->out, "MAIL FROM:<%s>", p->from);
    if (p->ext.size)
      sg_buf_printf(&p->out, " SIZE=%llu", (unsigned long long)p->info.wire_size);
    if (p->info.has_8bit)
      sg_buf_append_str(&p->out, " BODY=8BITMIME");
    if (p->info.header_8bit || has_8bit(p->from))
      sg_buf_append_str(&p->out, " SMTPUTF8");
    sg_buf_append(&p->out, "\r\n", 2);
    break;
  default:
    sg_buf_printf(&p->out, "RCPT TO:<%s>\r\n", p->rcpts[c->rcpt]);
    break;
  }
}

static bool needs_smtputf8(const sg_smtpc_proto *p) {
  if (p->info.header_8bit || has_8bit(p->from))
    return true;
  for (size_t i = 0; i < p->n_rcpts; i++)
    if (has_8bit(p->rcpts[i]))
      return true;
  return false;
}

/* Sends the envelope (all of it when pipelining, else the first command). */
static void begin_msg(sg_smtpc_proto *p) {
  p->started = true;
  if (p->ext.size && p->ext.size_max > 0 && p->info.wire_size > p->ext.size_max) {
    char m[160];
    snprintf(m, sizeof m, "message of %llu bytes over the server's SIZE limit %llu",
             (unsigned long long)p->info.wire_size, (unsigned long long)p->ext.size_max);
    sg_outcome o;
    sg_smtpc_classify_local(SG_OUTCOME_FAILED, "5.3.4", m, &o);
    finish_msg(p, &o);
    return;
  }
  if (needs_smtputf8(p) && !p->ext.smtputf8) {
    sg_outcome o;
    sg_smtpc_classify_local(SG_OUTCOME_FAILED, "5.6.7",
                            "the message needs SMTPUTF8 and the server does not offer it", &o);
    finish_msg(p, &o);
    return;
  }
  if (p->info.has_8bit && !p->ext.eightbitmime) {
    sg_outcome o;
    sg_smtpc_classify_local(SG_OUTCOME_FAILED, "5.6.3",
                            "the message has 8-bit data and the server does not offer 8BITMIME",
                            &o);
    finish_msg(p, &o);
    return;
  }
  p->n_cmds = (p->used ? 1 : 0) + 1 + p->n_rcpts;
  p->cmds = sg_xcalloc(p->n_cmds, sizeof *p->cmds);
  size_t k = 0;
  if (p->used)
    p->cmds[k++].stage = SG_SMTPC_STAGE_RSET;
  p->cmds[k++].stage = SG_SMTPC_STAGE_MAIL;
  for (size_t i = 0; i < p->n_rcpts; i++)
    p->cmds[k++] = (env_cmd){SG_SMTPC_STAGE_RCPT, i};
  p->st = S_ENVELOPE;
  size_t upto = p->ext.pipelining ? p->n_cmds : 1;
  for (; p->sent < upto; p->sent++)
    write_cmd(p, &p->cmds[p->sent]);
}

static void become_ready(sg_smtpc_proto *p) {
  p->st = S_READY;
  if (p->have_msg && !p->started)
    begin_msg(p);
  if (p->st == S_READY && p->quit_pending)
    send_quit(p);
}

int sg_smtpc_proto_start(sg_smtpc_proto *p, const sg_smtpc_env *env, const uint8_t *msg, size_t len,
                         char *err, size_t errcap) {
  if (p->st == S_CLOSED || p->st == S_QUIT || p->quit_pending) {
    snprintf(err, errcap, "the session is closed");
    return SG_ERR_CLOSED;
  }
  if (p->have_msg) {
    snprintf(err, errcap, "a message is in progress");
    return SG_ERR_BUSY;
  }
  if (env->n_rcpts == 0) {
    snprintf(err, errcap, "no recipient");
    return SG_ERR_INVAL;
  }
  if (env->n_rcpts > SG_SMTPC_MAX_RCPTS) {
    snprintf(err, errcap, "%zu recipients; at most %d per message", env->n_rcpts,
             SG_SMTPC_MAX_RCPTS);
    return SG_ERR_TOOBIG;
  }
  if (!addr_ok(env->from, true)) {
    snprintf(err, errcap, "sender address not usable in MAIL FROM");
    return SG_ERR_INVAL;
  }
  for (size_t i = 0; i < env->n_rcpts; i++) {
    if (!addr_ok(env->rcpts[i], false)) {
      snprintf(err, errcap, "recipient %zu not usable in RCPT TO", i + 1);
      return SG_ERR_INVAL;
    }
  }
  sg_smtpc_msg_info info;
  int rv = sg_smtpc_dot_scan(msg, len, &info);
  if (rv == SG_ERR_TOOBIG) {
    snprintf(err, errcap, "line %zu of the message is %zu octets; SMTP allows %d", info.bad_line,
             info.bad_line_len, SG_SMTPC_LINE_MAX);
    return rv;
  }
  if (rv == SG_ERR_PARSE) {
    snprintf(err, errcap, "line %zu of the message holds a NUL byte", info.bad_line);
    return rv;
  }
  if (rv != 0) {
    snprintf(err, errcap, "empty message");
    return rv;
  }
  p->info = info;
  p->from = sg_xstrdup(env->from);
  p->rcpts = sg_xcalloc(env->n_rcpts, sizeof *p->rcpts);
  for (size_t i = 0; i < env->n_rcpts; i++)
    p->rcpts[i] = sg_xstrdup(env->rcpts[i]);
  p->n_rcpts = env->n_rcpts;
  p->msg = msg;
  p->msg_len = len;
  p->have_msg = true;
  if (p->st == S_READY)
    begin_msg(p);
  return 0;
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
      send_line(p, "AUTH XOAUTH2");
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
    send_line(p, "AUTH LOGIN");
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
    send_line(p, "STARTTLS");
    p->st = S_STARTTLS;
    return;
  }
  if (p->o.auth == SG_SMTPC_AUTH_NONE) {
    become_ready(p);
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
  send_line(p, p->o.auth == SG_SMTPC_AUTH_XOAUTH2 ? "" : "*");
  p->auth_failing = true;
}

static void on_auth(sg_smtpc_proto *p, const sg_smtpc_reply *r) {
  if (r->code == 334) {
    auth_continue(p);
    return;
  }
  if (r->code == 235 && !p->auth_failing) {
    become_ready(p);
    return;
  }
  fail_reply(p, SG_SMTPC_STAGE_AUTH, r);
}

static void on_envelope(sg_smtpc_proto *p, const sg_smtpc_reply *r) {
  const env_cmd *c = &p->cmds[p->answered++];
  bool ok = c->stage == SG_SMTPC_STAGE_RCPT ? (r->code == 250 || r->code == 251) : r->code == 250;
  if (!ok && !p->env_failed) {
    p->env_failed = true;
    sg_smtpc_classify_reply(c->stage, r, false, &p->env_outcome);
    if (p->env_outcome.kind == SG_OUTCOME_SENT)
      sg_smtpc_classify_local(SG_OUTCOME_RETRY, "SmtpProtocolError", p->env_outcome.message,
                              &p->env_outcome);
    if (c->stage == SG_SMTPC_STAGE_RCPT) {
      char m[SG_OUTCOME_MESSAGE_MAX];
      snprintf(m, sizeof m, "%.440s (recipient %zu of %zu)", p->env_outcome.message, c->rcpt + 1,
               p->n_rcpts);
      snprintf(p->env_outcome.message, sizeof p->env_outcome.message, "%s", m);
    }
  }
  if (p->answered < p->sent)
    return; /* more replies of the group to come */
  if (p->env_failed) {
    sg_outcome o = p->env_outcome;
    p->st = S_READY;
    finish_msg(p, &o);
    if (r->code == 421) { /* the server is closing the session */
      close_session(p, &o);
      return;
    }
    become_ready(p);
    return;
  }
  if (p->sent < p->n_cmds) {
    write_cmd(p, &p->cmds[p->sent++]);
    return;
  }
  send_line(p, "DATA");
  p->st = S_DATA;
}

static void on_data(sg_smtpc_proto *p, const sg_smtpc_reply *r) {
  if (r->code != 354) {
    sg_outcome o;
    sg_smtpc_classify_reply(SG_SMTPC_STAGE_DATA, r, false, &o);
    if (o.kind == SG_OUTCOME_SENT)
      sg_smtpc_classify_local(SG_OUTCOME_RETRY, "SmtpProtocolError", o.message, &o);
    p->st = S_READY;
    finish_msg(p, &o);
    if (r->code == 421)
      close_session(p, &o);
    else
      become_ready(p);
    return;
  }
  sg_smtpc_dot_init(&p->dot, p->msg, p->msg_len);
  p->st = S_BODY;
}

static void on_dot(sg_smtpc_proto *p, const sg_smtpc_reply *r) {
  sg_outcome o;
  sg_smtpc_classify_reply(SG_SMTPC_STAGE_DOT, r, false, &o);
  if (sg_smtpc_reply_class(r) == 3) { /* no 3xx ends DATA: did it take the message? */
    sg_smtpc_classify_local(SG_OUTCOME_RETRY, "SmtpProtocolError", o.message, &o);
    o.ambiguous = true;
  }
  p->st = S_READY;
  finish_msg(p, &o);
  if (r->code == 421)
    close_session(p, &o);
  else
    become_ready(p);
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
    on_envelope(p, r);
    break;
  case S_DATA:
    on_data(p, r);
    break;
  case S_DOT:
    on_dot(p, r);
    break;
  case S_QUIT: {
    sg_outcome o;
    sg_smtpc_classify_local(SG_OUTCOME_SENT, "", "session closed (QUIT)", &o);
    close_session(p, &o);
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

bool sg_smtpc_proto_body_pending(const sg_smtpc_proto *p) {
  return p->st == S_BODY;
}

void sg_smtpc_proto_pump(sg_smtpc_proto *p, size_t budget) {
  if (p->st != S_BODY)
    return;
  sg_smtpc_dot_fill(&p->dot, &p->out, budget ? budget : 1);
  if (p->dot.done)
    p->st = S_DOT;
}

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
  close_session(p, &o);
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
