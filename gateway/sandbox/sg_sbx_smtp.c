/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SMTP stand-in's server session; see sg_sbx_smtp.h. Input is cut into
 * lines; a command line is handled by one function per verb, a DATA line
 * is unstuffed into the message. Command syntax (MAIL/RCPT paths and
 * parameters) is the smtpd's parser, smtp/sg_smtp_cmd.h.
 */
#include "sandbox/sg_sbx_smtp.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/sg_base64.h"
#include "smtp/sg_smtp_cmd.h"

#define HOSTNAME "sandbox.outlook.test"
/* The XOAUTH2 error challenge, base64 of Google's and Microsoft's JSON. */
#define XOAUTH2_ERR_JSON                                                                           \
  "{\"status\":\"401\",\"schemes\":\"bearer\",\"scope\":\"https://outlook.office365.com/\"}"

typedef enum {
  A_NONE,    /* no AUTH exchange in progress */
  A_XOAUTH2, /* waiting for the XOAUTH2 response (two-step) */
  A_XOAUTH2_ERR /* the error challenge was sent; any line gets 535 */,
  A_PLAIN, /* waiting for the PLAIN response */
  A_LOGIN_USER,
  A_LOGIN_PASS,
} auth_state;

struct sg_sbx_smtp {
  const sg_sbx_smtp_policy *pol;
  const sg_sbx_smtp_hooks *h;
  sg_buf in, out;
  bool tls, want_tls, closed, drop, ehlo;
  auth_state auth;
  char *login_user;
  char *mailbox; /* authenticated as */
  /* transaction */
  bool in_mail, in_data, data_too_big;
  bool bare; /* a bare CR or LF in the data: refused as Exchange does */
  char *from;
  char *params;
  char **rcpts;
  size_t n_rcpts;
  sg_buf data;
};

static void reply(sg_sbx_smtp *s, const char *line) {
  sg_buf_append_str(&s->out, line);
  sg_buf_append(&s->out, "\r\n", 2);
}

static void reset_tx(sg_sbx_smtp *s) {
  for (size_t i = 0; i < s->n_rcpts; i++)
    sg_free(s->rcpts[i]);
  sg_free(s->rcpts);
  sg_free(s->from);
  sg_free(s->params);
  s->rcpts = NULL;
  s->from = s->params = NULL;
  s->n_rcpts = 0;
  s->in_mail = s->in_data = s->data_too_big = s->bare = false;
  sg_buf_reset(&s->data);
}

sg_sbx_smtp *sg_sbx_smtp_new(const sg_sbx_smtp_policy *pol, const sg_sbx_smtp_hooks *hooks) {
  sg_sbx_smtp *s = sg_xcalloc(1, sizeof *s);
  s->pol = pol;
  s->h = hooks;
  reply(s, "220 " HOSTNAME " Microsoft ESMTP MAIL Service ready");
  return s;
}

void sg_sbx_smtp_free(sg_sbx_smtp *s) {
  if (!s)
    return;
  reset_tx(s);
  sg_free(s->login_user);
  sg_free(s->mailbox);
  sg_buf_free(&s->in);
  sg_buf_free(&s->out);
  sg_buf_free(&s->data);
  sg_free(s);
}

sg_buf *sg_sbx_smtp_output(sg_sbx_smtp *s) {
  return &s->out;
}

bool sg_sbx_smtp_want_tls(sg_sbx_smtp *s) {
  bool w = s->want_tls;
  s->want_tls = false;
  return w;
}

void sg_sbx_smtp_tls_done(sg_sbx_smtp *s) {
  s->tls = true;
  s->ehlo = false; /* RFC 3207 4.2: the client starts again with EHLO */
}

bool sg_sbx_smtp_closed(const sg_sbx_smtp *s, bool *drop) {
  *drop = s->drop;
  return s->closed;
}

/* Whether |item| is in the comma-separated |list| (ASCII case-insensitive). */
static bool in_list(const char *list, const char *item) {
  size_t n = strlen(item);
  const char *p = list ? list : "";
  while (*p) {
    while (*p == ' ' || *p == ',')
      p++;
    const char *e = p;
    while (*e && *e != ',')
      e++;
    const char *t = e;
    while (t > p && t[-1] == ' ')
      t--;
    if ((size_t)(t - p) == n && n > 0 && strncasecmp(p, item, n) == 0)
      return true;
    p = e;
  }
  return false;
}

/* ---- AUTH ---- */

static void auth_ok(sg_sbx_smtp *s, const char *user) {
  sg_free(s->mailbox);
  s->mailbox = sg_xstrdup(user);
  s->auth = A_NONE;
  reply(s, "235 2.7.0 Authentication successful");
}

static void auth_fail(sg_sbx_smtp *s) {
  s->auth = A_NONE;
  reply(s, "535 5.7.3 Authentication unsuccessful [" HOSTNAME "]");
}

static void auth_disabled(sg_sbx_smtp *s) {
  s->auth = A_NONE;
  reply(s, "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for "
           "the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.");
}

/* A user name and password (PLAIN, LOGIN): Basic. */
static void basic_check(sg_sbx_smtp *s, const char *user, const char *pw) {
  if (s->pol->role == SG_SBX_SMTP_EXCHANGE) {
    s->auth = A_NONE;
    if (s->pol->auth_disabled || s->pol->basic_5_7_139)
      auth_disabled(s);
    else
      reply(s, "550 5.7.30 Basic authentication is not supported for Client Submission.");
    return;
  }
  if (s->pol->hve_user && strcasecmp(user, s->pol->hve_user) == 0 && s->pol->hve_password &&
      strcmp(pw, s->pol->hve_password) == 0)
    auth_ok(s, user);
  else
    auth_fail(s);
}

static bool b64_decode_line(const char *p, size_t n, sg_buf *out) {
  sg_buf_reset(out);
  return n > 0 && sg_base64_decode(out, p, n, false) == 0;
}

static void xoauth2_check(sg_sbx_smtp *s, const char *b64, size_t n) {
  sg_buf raw = SG_BUF_INIT;
  bool ok = false;
  char user[256] = "";
  if (b64_decode_line(b64, n, &raw) && raw.len > 5 && memcmp(raw.data, "user=", 5) == 0) {
    const char *u = raw.data + 5, *end = raw.data + raw.len;
    const char *sep = memchr(u, 0x01, (size_t)(end - u));
    static const char bearer[] = "auth=Bearer ";
    if (sep && (size_t)(sep - u) < sizeof user && end - sep > (ptrdiff_t)sizeof bearer &&
        memcmp(sep + 1, bearer, sizeof bearer - 1) == 0 && end[-1] == 0x01 && end[-2] == 0x01) {
      memcpy(user, u, (size_t)(sep - u));
      user[sep - u] = '\0';
      const char *tok = sep + sizeof bearer;
      size_t tlen = (size_t)(end - 2 - tok);
      ok = user[0] && s->h->check_token(s->h->ud, tok, tlen) == SG_SBX_TOKEN_OK;
    }
  }
  sg_buf_free(&raw);
  if (ok && s->pol->role == SG_SBX_SMTP_EXCHANGE && s->pol->auth_disabled) {
    auth_disabled(s);
    return;
  }
  if (ok) {
    auth_ok(s, user);
    return;
  }
  sg_buf j = SG_BUF_INIT;
  sg_base64_encode(&j, XOAUTH2_ERR_JSON, strlen(XOAUTH2_ERR_JSON));
  sg_buf_append_str(&s->out, "334 ");
  sg_buf_append(&s->out, j.data, j.len);
  sg_buf_append(&s->out, "\r\n", 2);
  sg_buf_free(&j);
  s->auth = A_XOAUTH2_ERR;
}

static void plain_check(sg_sbx_smtp *s, const char *b64, size_t n) {
  sg_buf raw = SG_BUF_INIT;
  if (!b64_decode_line(b64, n, &raw)) {
    sg_buf_free(&raw);
    s->auth = A_NONE;
    reply(s, "501 5.5.2 Cannot decode response");
    return;
  }
  /* authzid NUL authcid NUL password */
  const char *p = raw.data, *end = raw.data + raw.len;
  const char *z1 = memchr(p, 0, raw.len);
  const char *z2 = z1 ? memchr(z1 + 1, 0, (size_t)(end - z1 - 1)) : NULL;
  if (!z2) {
    sg_buf_free(&raw);
    auth_fail(s);
    return;
  }
  char *user = sg_xstrndup(z1 + 1, (size_t)(z2 - z1 - 1));
  char *pw = sg_xstrndup(z2 + 1, (size_t)(end - z2 - 1));
  basic_check(s, user, pw);
  sg_free(user);
  sg_free(pw);
  sg_buf_free(&raw);
}

/* A line while an AUTH exchange waits for the client. */
static void auth_line(sg_sbx_smtp *s, const char *line, size_t n) {
  if (n == 1 && line[0] == '*' && s->auth != A_XOAUTH2_ERR) {
    s->auth = A_NONE;
    reply(s, "501 5.0.0 Authentication cancelled");
    return;
  }
  switch (s->auth) {
  case A_XOAUTH2:
    xoauth2_check(s, line, n);
    break;
  case A_XOAUTH2_ERR:
    auth_fail(s);
    break;
  case A_PLAIN:
    plain_check(s, line, n);
    break;
  case A_LOGIN_USER: {
    sg_buf raw = SG_BUF_INIT;
    if (!b64_decode_line(line, n, &raw)) {
      s->auth = A_NONE;
      reply(s, "501 5.5.2 Cannot decode response");
    } else {
      sg_free(s->login_user);
      s->login_user = sg_xstrndup(raw.data, raw.len);
      s->auth = A_LOGIN_PASS;
      reply(s, "334 UGFzc3dvcmQ6");
    }
    sg_buf_free(&raw);
    break;
  }
  default: { /* A_LOGIN_PASS */
    sg_buf raw = SG_BUF_INIT;
    if (!b64_decode_line(line, n, &raw)) {
      s->auth = A_NONE;
      reply(s, "501 5.5.2 Cannot decode response");
    } else {
      sg_buf_append(&raw, "", 0);
      basic_check(s, s->login_user, raw.data);
    }
    sg_buf_free(&raw);
    break;
  }
  }
}

static void on_auth(sg_sbx_smtp *s, const char *args, size_t n) {
  if (!s->tls) {
    reply(s, "530 5.7.0 Must issue a STARTTLS command first");
    return;
  }
  if (s->mailbox) {
    reply(s, "503 5.5.1 Already authenticated");
    return;
  }
  const char *sp = memchr(args, ' ', n);
  size_t ml = sp ? (size_t)(sp - args) : n;
  const char *init = sp ? sp + 1 : NULL;
  size_t il = sp ? n - ml - 1 : 0;
  if (ml == 7 && strncasecmp(args, "XOAUTH2", 7) == 0) {
    if (init) {
      xoauth2_check(s, init, il);
    } else {
      s->auth = A_XOAUTH2;
      reply(s, "334 ");
    }
  } else if (ml == 5 && strncasecmp(args, "PLAIN", 5) == 0) {
    if (init) {
      plain_check(s, init, il);
    } else {
      s->auth = A_PLAIN;
      reply(s, "334 ");
    }
  } else if (ml == 5 && strncasecmp(args, "LOGIN", 5) == 0) {
    s->auth = A_LOGIN_USER;
    reply(s, "334 VXNlcm5hbWU6");
  } else {
    reply(s, "504 5.7.4 Unrecognized authentication type");
  }
}

/* ---- the other commands ---- */

static void on_ehlo(sg_sbx_smtp *s) {
  s->ehlo = true;
  reset_tx(s);
  sg_buf_printf(&s->out, "250-" HOSTNAME " Hello [127.0.0.1]\r\n250-SIZE %llu\r\n",
                (unsigned long long)s->pol->max_message_bytes);
  sg_buf_append_str(&s->out, "250-PIPELINING\r\n250-DSN\r\n250-ENHANCEDSTATUSCODES\r\n");
  if (!s->tls)
    sg_buf_append_str(&s->out, "250-STARTTLS\r\n");
  else if (s->pol->role == SG_SBX_SMTP_HVE)
    sg_buf_append_str(&s->out, "250-AUTH LOGIN PLAIN XOAUTH2\r\n");
  else
    sg_buf_append_str(&s->out, "250-AUTH LOGIN XOAUTH2\r\n");
  sg_buf_append_str(&s->out, "250-8BITMIME\r\n250 SMTPUTF8\r\n");
}

static void on_starttls(sg_sbx_smtp *s) {
  if (s->tls) {
    reply(s, "503 5.5.1 TLS already active");
    return;
  }
  reply(s, "220 2.0.0 SMTP server ready");
  s->want_tls = true;
  sg_buf_reset(&s->in); /* nothing sent in clear after STARTTLS is read (RFC 3207 4.2) */
}

static void on_mail(sg_sbx_smtp *s, const sg_smtp_cmd *c, const char *line) {
  if (!s->mailbox) {
    reply(s, "530 5.7.57 Client not authenticated to send mail. [" HOSTNAME "]");
    return;
  }
  if (s->in_mail) {
    reply(s, "503 5.5.1 Sender already specified");
    return;
  }
  if (c->has_size && s->pol->max_message_bytes && c->size > s->pol->max_message_bytes) {
    reply(s, "552 5.3.4 Message size exceeds fixed maximum message size");
    return;
  }
  if (!s->h->take_message(s->h->ud, s->mailbox)) {
    reply(s, "450 4.7.0 Message rate limit exceeded for the mailbox; try again later");
    return;
  }
  const char *gt = strchr(line, '>');
  s->params = sg_xstrdup(gt && gt[1] == ' ' ? gt + 2 : "");
  s->from = sg_xstrdup(c->arg);
  s->in_mail = true;
  reply(s, "250 2.1.0 Sender OK");
}

static bool domain_accepted(const sg_sbx_smtp *s, const char *addr) {
  const char *at = strrchr(addr, '@');
  return at && in_list(s->pol->accepted_domains, at + 1);
}

static void on_rcpt(sg_sbx_smtp *s, const sg_smtp_cmd *c) {
  if (!s->in_mail) {
    reply(s, "503 5.5.1 Need MAIL command");
    return;
  }
  if (s->pol->role == SG_SBX_SMTP_HVE && !domain_accepted(s, c->arg)) {
    reply(s, "550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain");
    return;
  }
  uint32_t cap = s->pol->role == SG_SBX_SMTP_HVE && s->pol->hve_max_rcpts ? s->pol->hve_max_rcpts
                                                                          : SG_SBX_SMTP_MAX_RCPTS;
  if (s->n_rcpts >= cap) {
    reply(s, "452 4.5.3 Too many recipients");
    return;
  }
  s->rcpts = sg_xrealloc(s->rcpts, (s->n_rcpts + 1) * sizeof *s->rcpts);
  s->rcpts[s->n_rcpts++] = sg_xstrdup(c->arg);
  reply(s, "250 2.1.5 Recipient OK");
}

static void on_data(sg_sbx_smtp *s) {
  if (!s->in_mail) {
    reply(s, "503 5.5.1 Need MAIL command");
    return;
  }
  if (s->n_rcpts == 0) {
    reply(s, "503 5.5.2 Need rcpt command");
    return;
  }
  s->in_data = true;
  reply(s, "354 Start mail input; end with <CRLF>.<CRLF>");
}

/* The final dot: the message's fate. */
static void end_data(sg_sbx_smtp *s) {
  s->in_data = false;
  if (s->data_too_big) {
    reply(s, "552 5.3.4 Message size exceeds fixed maximum message size");
  } else if (s->bare) {
    reply(s, "550 5.6.11 SMTPSEND.BareLinefeedsAreIllegal; message contains bare linefeeds, "
             "which cannot be sent via DATA");
  } else if (in_list(s->pol->quota_mailboxes, s->mailbox)) {
    reply(s, "554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed "
             "to process message due to a permanent exception with message [sandbox]");
  } else if (s->pol->role == SG_SBX_SMTP_EXCHANGE && strcasecmp(s->from, s->mailbox) != 0) {
    sg_buf_printf(&s->out, "554 5.2.252 SendAsDenied; %s not allowed to send as %s\r\n", s->mailbox,
                  s->from);
  } else {
    sg_sbx_fault f = s->h->pick_fault(s->h->ud);
    if (f == SG_SBX_FAULT_DROP) { /* gone before taking it */
      s->closed = s->drop = true;
    } else if (f == SG_SBX_FAULT_RESET) {
      reply(s, "421 4.3.2 Service not available, closing transmission channel");
      s->closed = true;
    } else if (f != SG_SBX_FAULT_NONE && f != SG_SBX_FAULT_504) {
      reply(s, "451 4.3.0 Temporary server error. Please try again later");
    } else {
      sg_sbx_smtp_delivery d = {s->pol->role,
                                s->mailbox,
                                s->from,
                                (const char *const *)s->rcpts,
                                s->n_rcpts,
                                s->params,
                                (const uint8_t *)s->data.data,
                                s->data.len};
      char id[64] = "";
      s->h->deliver(s->h->ud, &d, id);
      if (f == SG_SBX_FAULT_504) /* taken, and the answer is lost */
        s->closed = s->drop = true;
      else
        sg_buf_printf(&s->out, "250 2.0.0 OK <%s@%s> [Hostname=" HOSTNAME "]\r\n", id, HOSTNAME);
    }
  }
  reset_tx(s);
}

/* One line of DATA; |crlf| when it ended in CRLF (only then can "." end
 * the data: a bare LF never does, against SMTP smuggling). */
static void data_line(sg_sbx_smtp *s, const char *line, size_t n, bool crlf) {
  if (crlf && n == 1 && line[0] == '.') {
    end_data(s);
    return;
  }
  if (!crlf || memchr(line, '\r', n))
    s->bare = true;
  if (n > 0 && line[0] == '.')
    line++, n--;
  if (s->data_too_big || s->data.len + n + 2 > s->pol->max_message_bytes) {
    s->data_too_big = true;
    return;
  }
  sg_buf_append(&s->data, line, n);
  sg_buf_append(&s->data, "\r\n", 2);
}

static void command_line(sg_sbx_smtp *s, const char *line, size_t n) {
  if (s->auth != A_NONE) {
    auth_line(s, line, n);
    return;
  }
  if (n >= 5 && strncasecmp(line, "AUTH ", 5) == 0) {
    on_auth(s, line + 5, n - 5);
    return;
  }
  if (n > SG_SMTP_MAX_LINE - 2) {
    reply(s, "500 5.5.2 Line too long");
    return;
  }
  sg_smtp_cmd c;
  const char *bad = NULL;
  if (sg_smtp_cmd_parse(line, n, &c, &bad) != 0) {
    reply(s, bad);
    return;
  }
  char copy[SG_SMTP_MAX_LINE];
  memcpy(copy, line, n);
  copy[n] = '\0';
  switch (c.verb) {
  case SG_SMTP_CMD_EHLO:
    on_ehlo(s);
    break;
  case SG_SMTP_CMD_HELO:
    s->ehlo = true;
    reply(s, "250 " HOSTNAME " Hello [127.0.0.1]");
    break;
  case SG_SMTP_CMD_STARTTLS:
    on_starttls(s);
    break;
  case SG_SMTP_CMD_MAIL:
    on_mail(s, &c, copy);
    break;
  case SG_SMTP_CMD_RCPT:
    on_rcpt(s, &c);
    break;
  case SG_SMTP_CMD_DATA:
    on_data(s);
    break;
  case SG_SMTP_CMD_RSET:
    reset_tx(s);
    reply(s, "250 2.0.0 Resetting");
    break;
  case SG_SMTP_CMD_NOOP:
    reply(s, "250 2.0.0 OK");
    break;
  case SG_SMTP_CMD_QUIT:
    reply(s, "221 2.0.0 Service closing transmission channel");
    s->closed = true;
    break;
  case SG_SMTP_CMD_AUTH: /* handled above */
  default:
    reply(s, "502 5.3.3 Command not implemented");
    break;
  }
}

void sg_sbx_smtp_feed(sg_sbx_smtp *s, const uint8_t *p, size_t n) {
  if (s->closed)
    return;
  sg_buf_append(&s->in, p, n);
  size_t off = 0;
  while (!s->closed && !s->want_tls && off < s->in.len) {
    const char *line = s->in.data + off;
    const char *nl = memchr(line, '\n', s->in.len - off);
    if (!nl)
      break;
    size_t len = (size_t)(nl - line);
    off += len + 1;
    bool crlf = len > 0 && line[len - 1] == '\r';
    if (crlf)
      len--;
    if (s->in_data)
      data_line(s, line, len, crlf);
    else
      command_line(s, line, len);
    if (s->want_tls) /* on_starttls dropped the rest of the input */
      return;
  }
  sg_buf_consume(&s->in, off);
  if (!s->in_data && s->in.len > SG_SBX_SMTP_AUTH_LINE_MAX) {
    reply(s, "500 5.5.2 Line too long");
    s->closed = true;
  } else if (s->in_data && s->in.len > SG_SBX_SMTP_AUTH_LINE_MAX) {
    /* A data line without an end: counted against the size, not kept. */
    s->data_too_big = true;
    sg_buf_reset(&s->in);
  }
}
