/* SPDX-License-Identifier: Apache-2.0 */
/* The ESMTP session state machine; see sg_smtp_session.h. */
#include "smtp/sg_smtp_session.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "core/sg_base64.h"
#include "core/sg_err.h"
#include "core/sg_fmt.h"
#include "smtp/sg_smtp_cmd.h"
#include "smtp/sg_smtp_data.h"
#include "smtp/sg_smtp_hdr.h"
#include "smtp/sg_smtp_policy.h"

typedef enum {
  ST_CMD,        /* waiting for a command */
  ST_DATA,       /* reading message data */
  ST_AUTH_PLAIN, /* waiting for the PLAIN response after "334 " */
  ST_AUTH_USER,  /* LOGIN: waiting for the user name */
  ST_AUTH_PASS,  /* LOGIN: waiting for the password */
} state;

/* Longest AUTH credential we take (user name or password, decoded). */
#define MAX_CRED 256

struct sg_smtp_session {
  sg_smtp_session_opts o;
  state st;
  sg_smtp_event pending; /* outstanding event, or NONE */
  sg_buf in, out;
  bool skip_line; /* an overlong line is being discarded up to its LF */
  bool closing, draining;
  uint32_t commands, errors;

  bool tls;
  char helo[SG_SMTP_MAX_DOMAIN + 1];
  bool ehlo; /* EHLO (not HELO) was used */

  /* AUTH */
  bool authed;
  char user[MAX_CRED + 1];
  char pass[MAX_CRED + 1];
  size_t plen;
  char **allow_from; /* the authenticated user's, copied */
  size_t nallow;
  char *account;

  /* The transaction. */
  bool has_from;
  char from[SG_SMTP_MAX_PATH];
  char **rcpts;
  size_t nrcpts;
  bool smtputf8, eightbit;
  sg_smtp_data data;
  sg_buf body;
  sg_smtp_message msg;
};

static void reply(sg_smtp_session *s, const char *line) {
  sg_buf_append_str(&s->out, line);
  sg_buf_append(&s->out, "\r\n", 2);
}

static void refused(sg_smtp_session *s, const char *reason) {
  if (s->o.on_refused)
    s->o.on_refused(s->o.ud, reason);
}

/* A reply to a command that failed through the client's doing. */
static void fail(sg_smtp_session *s, const char *line) {
  reply(s, line);
  s->errors++;
  if (s->o.max_errors && s->errors >= s->o.max_errors && !s->closing) {
    reply(s, "421 4.7.0 Too many errors, closing connection");
    s->closing = true;
  }
}

static void txn_reset(sg_smtp_session *s) {
  for (size_t i = 0; i < s->nrcpts; i++)
    sg_free(s->rcpts[i]);
  sg_free(s->rcpts);
  s->rcpts = NULL;
  s->nrcpts = 0;
  s->has_from = false;
  s->from[0] = '\0';
  s->smtputf8 = s->eightbit = false;
  sg_buf_free(&s->body);
  sg_buf_init(&s->body);
}

static void wipe_pass(sg_smtp_session *s) {
  OPENSSL_cleanse(s->pass, sizeof s->pass);
  s->plen = 0;
}

static void user_reset(sg_smtp_session *s) {
  for (size_t i = 0; i < s->nallow; i++)
    sg_free(s->allow_from[i]);
  sg_free(s->allow_from);
  s->allow_from = NULL;
  s->nallow = 0;
  sg_free(s->account);
  s->account = NULL;
  s->authed = false;
  s->user[0] = '\0';
  wipe_pass(s);
}

sg_smtp_session *sg_smtp_session_new(const sg_smtp_session_opts *o) {
  sg_smtp_session *s = sg_xcalloc(1, sizeof *s);
  s->o = *o;
  if (s->o.max_rcpts == 0 || s->o.max_rcpts > SG_SMTP_MAX_RCPTS)
    s->o.max_rcpts = SG_SMTP_MAX_RCPTS;
  sg_buf_init(&s->in);
  sg_buf_init(&s->out);
  sg_buf_init(&s->body);
  s->tls = o->mode == SG_SMTP_MODE_IMPLICIT_TLS;
  char line[400];
  if (o->refuse) {
    snprintf(line, sizeof line, "554 5.7.1 %.255s Access denied: relaying not allowed from here",
             o->hostname);
    refused(s, "network");
  } else {
    snprintf(line, sizeof line, "220 %.255s ESMTP sendgate", o->hostname);
  }
  reply(s, line);
  return s;
}

void sg_smtp_session_free(sg_smtp_session *s) {
  if (s == NULL)
    return;
  txn_reset(s);
  user_reset(s);
  sg_buf_free(&s->in);
  sg_buf_free(&s->out);
  sg_buf_free(&s->body);
  sg_free(s);
}

void sg_smtp_session_feed(sg_smtp_session *s, const uint8_t *p, size_t n) {
  sg_buf_append(&s->in, p, n);
}

size_t sg_smtp_session_pending_input(const sg_smtp_session *s) {
  return s->in.len;
}

sg_buf *sg_smtp_session_output(sg_smtp_session *s) {
  return &s->out;
}

bool sg_smtp_session_in_data(const sg_smtp_session *s) {
  return s->st == ST_DATA;
}

bool sg_smtp_session_idle(const sg_smtp_session *s) {
  return s->st == ST_CMD && s->pending == SG_SMTP_EV_NONE && s->in.len == 0;
}

void sg_smtp_session_shutdown(sg_smtp_session *s) {
  s->draining = true;
}

/* ---- EHLO, STARTTLS, AUTH ---- */

static bool auth_offered(const sg_smtp_session *s) {
  return s->o.mode != SG_SMTP_MODE_RELAY && s->tls;
}

static void on_hello(sg_smtp_session *s, const sg_smtp_cmd *c) {
  txn_reset(s);
  sg_fmt_copy(s->helo, sizeof s->helo, c->arg);
  s->ehlo = c->verb == SG_SMTP_CMD_EHLO;
  char line[600];
  if (!s->ehlo) {
    snprintf(line, sizeof line, "250 %.255s", s->o.hostname);
    reply(s, line);
    return;
  }
  const char *ext[8];
  size_t n = 0;
  char size[40];
  snprintf(size, sizeof size, "SIZE %zu", s->o.max_message_bytes);
  ext[n++] = "PIPELINING";
  ext[n++] = size;
  ext[n++] = "8BITMIME";
  ext[n++] = "SMTPUTF8";
  ext[n++] = "ENHANCEDSTATUSCODES";
  if (s->o.mode == SG_SMTP_MODE_SUBMISSION && !s->tls && s->o.tls_available)
    ext[n++] = "STARTTLS";
  if (auth_offered(s))
    ext[n++] = "AUTH PLAIN LOGIN";
  snprintf(line, sizeof line, "250-%.255s Hello %.255s", s->o.hostname, c->arg);
  reply(s, line);
  for (size_t i = 0; i < n; i++) {
    snprintf(line, sizeof line, "250%c%s", i + 1 == n ? ' ' : '-', ext[i]);
    reply(s, line);
  }
}

static void on_starttls(sg_smtp_session *s) {
  if (s->o.mode != SG_SMTP_MODE_SUBMISSION || !s->o.tls_available) {
    fail(s, "502 5.5.1 STARTTLS not available");
    return;
  }
  if (s->tls) {
    fail(s, "503 5.5.1 TLS already active");
    return;
  }
  reply(s, "220 2.0.0 Ready to start TLS");
  /* RFC 3207 4.2 and CVE-2011-0411: whatever the client pipelined behind
   * STARTTLS was sent in clear and is discarded, never run inside TLS. */
  sg_buf_reset(&s->in);
  s->pending = SG_SMTP_EV_STARTTLS;
}

void sg_smtp_session_tls_started(sg_smtp_session *s) {
  s->tls = true;
  s->pending = SG_SMTP_EV_NONE;
  s->helo[0] = '\0';
  s->ehlo = false;
  txn_reset(s);
  user_reset(s);
}

/* PLAIN: [authzid] NUL authcid NUL passwd (RFC 4616). */
static void auth_plain_response(sg_smtp_session *s, const char *b64) {
  sg_buf dec;
  sg_buf_init(&dec);
  size_t n = strlen(b64);
  if (strcmp(b64, "=") == 0)
    n = 0;
  if (sg_base64_decode(&dec, b64, n, false) != 0) {
    fail(s, "501 5.5.2 Cannot decode the response");
  } else {
    const char *p = dec.data ? dec.data : "";
    const char *nul1 = memchr(p, '\0', dec.len);
    const char *nul2 = nul1 ? memchr(nul1 + 1, '\0', dec.len - (size_t)(nul1 + 1 - p)) : NULL;
    size_t zl = nul1 ? (size_t)(nul1 - p) : 0;
    size_t ul = nul2 ? (size_t)(nul2 - nul1 - 1) : 0;
    size_t pl = nul2 ? dec.len - (size_t)(nul2 + 1 - p) : 0;
    if (nul2 == NULL || ul == 0 || ul > MAX_CRED || pl > MAX_CRED ||
        memchr(nul2 + 1, '\0', pl) != NULL) {
      fail(s, "501 5.5.2 Malformed PLAIN response");
    } else if (zl > 0 && (zl != ul || memcmp(p, nul1 + 1, ul) != 0)) {
      /* Acting as another identity (authzid) is not offered. */
      fail(s, "535 5.7.8 Authentication credentials invalid");
    } else {
      memcpy(s->user, nul1 + 1, ul);
      s->user[ul] = '\0';
      memcpy(s->pass, nul2 + 1, pl);
      s->pass[pl] = '\0';
      s->plen = pl;
      s->pending = SG_SMTP_EV_AUTH;
    }
  }
  OPENSSL_cleanse(dec.data, dec.cap);
  sg_buf_free(&dec);
}

/* LOGIN: one base64 line, the user name or the password. */
static void auth_login_response(sg_smtp_session *s, const char *b64, bool is_user) {
  sg_buf dec;
  sg_buf_init(&dec);
  size_t n = strcmp(b64, "=") == 0 ? 0 : strlen(b64);
  int rv = sg_base64_decode(&dec, b64, n, false);
  if (rv != 0 || dec.len > MAX_CRED || (dec.len && memchr(dec.data, '\0', dec.len))) {
    fail(s, "501 5.5.2 Cannot decode the response");
  } else if (is_user) {
    if (dec.len == 0) {
      fail(s, "501 5.5.2 Empty user name");
    } else {
      memcpy(s->user, dec.data, dec.len);
      s->user[dec.len] = '\0';
      reply(s, "334 UGFzc3dvcmQ6"); /* "Password:" */
      s->st = ST_AUTH_PASS;
    }
  } else {
    memcpy(s->pass, dec.data ? dec.data : "", dec.len);
    s->pass[dec.len] = '\0';
    s->plen = dec.len;
    s->pending = SG_SMTP_EV_AUTH;
  }
  OPENSSL_cleanse(dec.data, dec.cap);
  sg_buf_free(&dec);
}

static void on_auth_line(sg_smtp_session *s, const char *line) {
  state st = s->st;
  s->st = ST_CMD;
  if (strcmp(line, "*") == 0) { /* RFC 4954 4: the client cancels */
    fail(s, "501 5.0.0 Authentication cancelled");
    return;
  }
  if (st == ST_AUTH_PLAIN)
    auth_plain_response(s, line);
  else
    auth_login_response(s, line, st == ST_AUTH_USER);
}

static void on_auth(sg_smtp_session *s, const sg_smtp_cmd *c) {
  if (s->o.mode == SG_SMTP_MODE_RELAY) {
    fail(s, "503 5.5.1 AUTH not available on this service");
    return;
  }
  if (!s->tls) {
    refused(s, "auth_without_tls");
    fail(s, "530 5.7.0 Must issue a STARTTLS command first");
    return;
  }
  if (s->helo[0] == '\0') {
    fail(s, "503 5.5.1 Send EHLO first");
    return;
  }
  if (s->authed) {
    fail(s, "503 5.5.1 Already authenticated");
    return;
  }
  if (s->has_from) {
    fail(s, "503 5.5.1 AUTH not allowed during a mail transaction");
    return;
  }
  if (strcmp(c->arg, "PLAIN") == 0) {
    if (c->has_initial) {
      auth_plain_response(s, c->initial);
    } else {
      reply(s, "334 ");
      s->st = ST_AUTH_PLAIN;
    }
  } else if (strcmp(c->arg, "LOGIN") == 0) {
    if (c->has_initial) {
      s->st = ST_AUTH_USER;
      on_auth_line(s, c->initial);
    } else {
      reply(s, "334 VXNlcm5hbWU6"); /* "Username:" */
      s->st = ST_AUTH_USER;
    }
  } else {
    fail(s, "504 5.5.4 Unrecognized authentication type");
  }
}

void sg_smtp_session_auth_creds(const sg_smtp_session *s, const char **user, const char **pass,
                                size_t *plen) {
  *user = s->user;
  *pass = s->pass;
  *plen = s->plen;
}

void sg_smtp_session_auth_done(sg_smtp_session *s, sg_smtp_auth_result res,
                               const sg_smtp_user *user) {
  wipe_pass(s);
  s->pending = SG_SMTP_EV_NONE;
  if (res == SG_SMTP_AUTH_OK && user) {
    s->authed = true;
    s->nallow = user->nallow;
    s->allow_from = sg_xcalloc(user->nallow ? user->nallow : 1, sizeof *s->allow_from);
    for (size_t i = 0; i < user->nallow; i++)
      s->allow_from[i] = sg_xstrdup(user->allow_from[i]);
    s->account = sg_xstrdup(user->account ? user->account : "");
    reply(s, "235 2.7.0 Authentication successful");
    return;
  }
  s->user[0] = '\0';
  refused(s, "auth_failed");
  if (res == SG_SMTP_AUTH_BAD)
    fail(s, "535 5.7.8 Authentication credentials invalid");
  else if (res == SG_SMTP_AUTH_LOCKED)
    fail(s, "454 4.7.0 Too many failed authentications; try again later");
  else
    reply(s, "454 4.7.0 Temporary authentication failure");
}

/* The authenticated user may use |addr| (its allow_from, as sg_smtp_users does). */
static bool may_send_as(const sg_smtp_session *s, const char *addr) {
  sg_smtp_user u = {.name = (char *)s->user,
                    .hash = (char *)"",
                    .allow_from = s->allow_from,
                    .nallow = s->nallow,
                    .account = s->account};
  return sg_smtp_user_may_send_as(&u, addr);
}

/* ---- the mail transaction ---- */

static void on_mail(sg_smtp_session *s, const sg_smtp_cmd *c) {
  if (s->helo[0] == '\0') {
    fail(s, "503 5.5.1 Send EHLO first");
    return;
  }
  if (s->has_from) {
    fail(s, "503 5.5.1 Nested MAIL command");
    return;
  }
  if (s->o.mode != SG_SMTP_MODE_RELAY && !s->authed) {
    refused(s, "auth_required");
    fail(s, "530 5.7.0 Authentication required");
    return;
  }
  if (c->has_size && c->size > s->o.max_message_bytes) {
    refused(s, "too_big");
    fail(s, "552 5.3.4 Message size exceeds fixed maximum message size");
    return;
  }
  if (s->o.mode == SG_SMTP_MODE_RELAY) {
    if (!sg_smtp_addr_in_list(s->o.relay_senders, c->arg)) {
      refused(s, "relay_sender");
      fail(s, "550 5.7.1 Sender address not allowed to relay here");
      return;
    }
  } else if (c->arg[0] == '\0' || !may_send_as(s, c->arg)) {
    refused(s, "sender_not_allowed");
    fail(s, "550 5.7.60 Client does not have permissions to send as this sender");
    return;
  }
  s->has_from = true;
  sg_fmt_copy(s->from, sizeof s->from, c->arg);
  s->smtputf8 = c->smtputf8;
  s->eightbit = c->body == SG_SMTP_BODY_8BITMIME;
  reply(s, "250 2.1.0 Ok");
}

static void on_rcpt(sg_smtp_session *s, const sg_smtp_cmd *c) {
  if (!s->has_from) {
    fail(s, "503 5.5.1 Need MAIL command");
    return;
  }
  if (s->nrcpts >= s->o.max_rcpts) {
    refused(s, "too_many_recipients");
    reply(s, "452 4.5.3 Too many recipients");
    return;
  }
  if (sg_smtp_has_8bit(c->arg) && !s->smtputf8) {
    fail(s, "553 5.6.7 Non-ASCII recipient address needs SMTPUTF8");
    return;
  }
  for (size_t i = 0; i < s->nrcpts; i++)
    if (strcmp(s->rcpts[i], c->arg) == 0) {
      reply(s, "250 2.1.5 Ok"); /* a duplicate gets one copy */
      return;
    }
  s->rcpts = sg_xrealloc(s->rcpts, (s->nrcpts + 1) * sizeof *s->rcpts);
  s->rcpts[s->nrcpts++] = sg_xstrdup(c->arg);
  reply(s, "250 2.1.5 Ok");
}

static void on_data(sg_smtp_session *s) {
  if (!s->has_from) {
    fail(s, "503 5.5.1 Need MAIL command");
    return;
  }
  if (s->nrcpts == 0) {
    fail(s, "554 5.5.1 No valid recipients");
    return;
  }
  sg_smtp_data_init(&s->data, s->o.max_message_bytes);
  sg_buf_reset(&s->body);
  s->st = ST_DATA;
  reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

/* The From: field names only addresses the authenticated user may use. */
static const char *check_from_header(sg_smtp_session *s) {
  if (!s->authed)
    return NULL;
  sg_buf addrs;
  sg_buf_init(&addrs);
  int n = sg_smtp_hdr_from((const uint8_t *)s->body.data, s->body.len, &addrs);
  const char *bad = NULL;
  if (n < 0) {
    bad = "550 5.6.0 Malformed or repeated From: header field";
  } else {
    const char *a = addrs.data;
    for (int i = 0; i < n; i++, a += strlen(a) + 1)
      if (!may_send_as(s, a)) {
        bad = "550 5.7.60 Client does not have permissions to send as the From: address";
        break;
      }
  }
  sg_buf_free(&addrs);
  return bad;
}

static void end_of_data(sg_smtp_session *s) {
  s->st = ST_CMD;
  unsigned f = s->data.flags;
  const char *bad = NULL, *why = NULL;
  if (f & (SG_SMTP_DATA_BARE_LF | SG_SMTP_DATA_BARE_CR)) {
    bad = "550 5.6.11 Bare CR or LF in message data is not accepted; end lines with CRLF";
    why = "bare_cr_lf";
  } else if (f & SG_SMTP_DATA_TOO_BIG) {
    bad = "552 5.3.4 Message size exceeds fixed maximum message size";
    why = "too_big";
  } else if (f & SG_SMTP_DATA_LONG_LINE) {
    bad = "550 5.6.0 Message line longer than 998 octets";
    why = "long_line";
  } else if ((bad = check_from_header(s)) != NULL) {
    why = "from_not_allowed";
  }
  if (bad) {
    refused(s, why);
    fail(s, bad);
    txn_reset(s);
    return;
  }
  s->msg = (sg_smtp_message){.from = s->from,
                             .rcpts = s->rcpts,
                             .nrcpts = s->nrcpts,
                             .data = (const uint8_t *)s->body.data,
                             .len = s->body.len,
                             .helo = s->helo,
                             .user = s->authed ? s->user : NULL,
                             .account = s->account ? s->account : "",
                             .tls = s->tls,
                             .smtputf8 = s->smtputf8,
                             .eightbit = s->eightbit};
  s->pending = SG_SMTP_EV_MESSAGE;
}

const sg_smtp_message *sg_smtp_session_message(const sg_smtp_session *s) {
  return &s->msg;
}

void sg_smtp_session_queued(sg_smtp_session *s, const char *queue_id) {
  s->pending = SG_SMTP_EV_NONE;
  char line[300];
  if (queue_id) {
    snprintf(line, sizeof line, "250 2.0.0 Ok: queued as %.200s", queue_id);
    reply(s, line);
  } else {
    reply(s, "451 4.3.0 Message not queued: temporary failure, try again later");
  }
  txn_reset(s);
}

/* ---- dispatch ---- */

static void on_command(sg_smtp_session *s, const char *line, size_t n) {
  s->commands++;
  if (s->o.max_commands && s->commands > s->o.max_commands) {
    reply(s, "421 4.7.0 Too many commands, closing connection");
    s->closing = true;
    return;
  }
  sg_smtp_cmd c;
  const char *err;
  if (sg_smtp_cmd_parse(line, n, &c, &err) != 0) {
    fail(s, err);
    return;
  }
  if (s->o.refuse && c.verb != SG_SMTP_CMD_QUIT) {
    fail(s, "503 5.7.1 Access denied");
    return;
  }
  switch (c.verb) {
  case SG_SMTP_CMD_EHLO:
  case SG_SMTP_CMD_HELO:
    on_hello(s, &c);
    break;
  case SG_SMTP_CMD_MAIL:
    on_mail(s, &c);
    break;
  case SG_SMTP_CMD_RCPT:
    on_rcpt(s, &c);
    break;
  case SG_SMTP_CMD_DATA:
    on_data(s);
    break;
  case SG_SMTP_CMD_RSET:
    txn_reset(s);
    reply(s, "250 2.0.0 Ok");
    break;
  case SG_SMTP_CMD_NOOP:
    reply(s, "250 2.0.0 Ok");
    break;
  case SG_SMTP_CMD_QUIT:
    reply(s, "221 2.0.0 Bye");
    s->closing = true;
    break;
  case SG_SMTP_CMD_STARTTLS:
    on_starttls(s);
    break;
  case SG_SMTP_CMD_AUTH:
    on_auth(s, &c);
    break;
  case SG_SMTP_CMD_VRFY:
    reply(s, "252 2.5.0 Cannot VRFY user, but will accept message for it");
    break;
  case SG_SMTP_CMD_HELP:
    reply(s, "214 2.0.0 See RFC 5321; commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT "
             "STARTTLS AUTH VRFY HELP");
    break;
  }
}

/* Reads message data from the input; returns true when the end was reached. */
static bool read_data(sg_smtp_session *s) {
  bool done = false;
  size_t used =
      sg_smtp_data_feed(&s->data, (const uint8_t *)s->in.data, s->in.len, &s->body, &done);
  sg_buf_consume(&s->in, used);
  if (done)
    end_of_data(s);
  return done;
}

sg_smtp_event sg_smtp_session_run(sg_smtp_session *s) {
  while (s->pending == SG_SMTP_EV_NONE) {
    if (s->closing) {
      sg_buf_reset(&s->in);
      return SG_SMTP_EV_CLOSE;
    }
    if (s->st == ST_DATA) {
      if (!read_data(s))
        return SG_SMTP_EV_NONE;
      continue;
    }
    const char *lf = s->in.len ? memchr(s->in.data, '\n', s->in.len) : NULL;
    if (lf == NULL) {
      if (s->in.len >= SG_SMTP_MAX_LINE) {
        /* Overlong: answer once, then drop everything up to the next LF. */
        if (!s->skip_line)
          fail(s, "500 5.5.6 Line too long");
        s->skip_line = true;
        sg_buf_reset(&s->in);
      } else if (s->draining && s->st == ST_CMD) {
        reply(s, "421 4.3.2 Service shutting down, closing connection");
        s->closing = true;
        continue;
      }
      return SG_SMTP_EV_NONE;
    }
    size_t len = (size_t)(lf - s->in.data);
    size_t n = len > 0 && s->in.data[len - 1] == '\r' ? len - 1 : len;
    char line[SG_SMTP_MAX_LINE + 1];
    bool skip = s->skip_line || n >= SG_SMTP_MAX_LINE;
    if (!skip) {
      memcpy(line, s->in.data, n);
      line[n] = '\0';
    }
    sg_buf_consume(&s->in, len + 1);
    if (skip) {
      if (!s->skip_line)
        fail(s, "500 5.5.6 Line too long");
      s->skip_line = false;
      continue;
    }
    if (s->st == ST_CMD)
      on_command(s, line, n);
    else
      on_auth_line(s, line);
    OPENSSL_cleanse(line, n);
  }
  return s->pending;
}
