/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One message of the SMTP client machine (see sg_smtpc_proto.h): the checks
 * before anything is sent, the envelope (pipelined when offered), DATA, the
 * dot-stuffed body and the final reply. The session around it is
 * sg_smtpc_proto.c.
 */
#include <stdio.h>
#include <string.h>

#include "core/sg_err.h"
#include "smtpc/sg_smtpc_proto_int.h"

static bool has_8bit(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s >= 0x80)
      return true;
  return false;
}

static void write_cmd(sg_smtpc_proto *p, const env_cmd *c) {
  switch (c->stage) {
  case SG_SMTPC_STAGE_RSET:
    sg_smtpc__send_line(p, "RSET");
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
void sg_smtpc__begin_msg(sg_smtpc_proto *p) {
  p->started = true;
  if (p->ext.size && p->ext.size_max > 0 && p->info.wire_size > p->ext.size_max) {
    char m[160];
    snprintf(m, sizeof m, "message of %llu bytes over the server's SIZE limit %llu",
             (unsigned long long)p->info.wire_size, (unsigned long long)p->ext.size_max);
    sg_outcome o;
    sg_smtpc_classify_local(SG_OUTCOME_FAILED, "5.3.4", m, &o);
    sg_smtpc__finish_msg(p, &o);
    return;
  }
  if (needs_smtputf8(p) && !p->ext.smtputf8) {
    sg_outcome o;
    sg_smtpc_classify_local(SG_OUTCOME_FAILED, "5.6.7",
                            "the message needs SMTPUTF8 and the server does not offer it", &o);
    sg_smtpc__finish_msg(p, &o);
    return;
  }
  if (p->info.has_8bit && !p->ext.eightbitmime) {
    sg_outcome o;
    sg_smtpc_classify_local(SG_OUTCOME_FAILED, "5.6.3",
                            "the message has 8-bit data and the server does not offer 8BITMIME",
                            &o);
    sg_smtpc__finish_msg(p, &o);
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
  if (!sg_smtpc__addr_ok(env->from, true)) {
    snprintf(err, errcap, "sender address not usable in MAIL FROM");
    return SG_ERR_INVAL;
  }
  for (size_t i = 0; i < env->n_rcpts; i++) {
    if (!sg_smtpc__addr_ok(env->rcpts[i], false)) {
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
    sg_smtpc__begin_msg(p);
  return 0;
}

void sg_smtpc__on_envelope(sg_smtpc_proto *p, const sg_smtpc_reply *r) {
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
    sg_smtpc__finish_msg(p, &o);
    if (r->code == 421) { /* the server is closing the session */
      sg_smtpc__close_session(p, &o);
      return;
    }
    sg_smtpc__become_ready(p);
    return;
  }
  if (p->sent < p->n_cmds) {
    write_cmd(p, &p->cmds[p->sent++]);
    return;
  }
  sg_smtpc__send_line(p, "DATA");
  p->st = S_DATA;
}

void sg_smtpc__on_data(sg_smtpc_proto *p, const sg_smtpc_reply *r) {
  if (r->code != 354) {
    sg_outcome o;
    sg_smtpc_classify_reply(SG_SMTPC_STAGE_DATA, r, false, &o);
    if (o.kind == SG_OUTCOME_SENT)
      sg_smtpc_classify_local(SG_OUTCOME_RETRY, "SmtpProtocolError", o.message, &o);
    p->st = S_READY;
    sg_smtpc__finish_msg(p, &o);
    if (r->code == 421)
      sg_smtpc__close_session(p, &o);
    else
      sg_smtpc__become_ready(p);
    return;
  }
  sg_smtpc_dot_init(&p->dot, p->msg, p->msg_len);
  p->st = S_BODY;
}

void sg_smtpc__on_dot(sg_smtpc_proto *p, const sg_smtpc_reply *r) {
  sg_outcome o;
  sg_smtpc_classify_reply(SG_SMTPC_STAGE_DOT, r, false, &o);
  if (sg_smtpc_reply_class(r) == 3) { /* no 3xx ends DATA: did it take the message? */
    sg_smtpc_classify_local(SG_OUTCOME_RETRY, "SmtpProtocolError", o.message, &o);
    o.ambiguous = true;
  }
  p->st = S_READY;
  sg_smtpc__finish_msg(p, &o);
  if (r->code == 421)
    sg_smtpc__close_session(p, &o);
  else
    sg_smtpc__become_ready(p);
}

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
