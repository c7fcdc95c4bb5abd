/* SPDX-License-Identifier: Apache-2.0 */
/* SMTP command-line parser; see sg_smtp_cmd.h. */
#include "smtp/sg_smtp_cmd.h"

#include <string.h>
#include <strings.h>

#include "core/sg_addr.h"
#include "core/sg_err.h"

#define R_UNKNOWN "500 5.5.2 Command not recognized"
#define R_CTL "501 5.5.2 Control characters in command"
#define R_MAIL "501 5.5.4 Syntax: MAIL FROM:<address> [parameters]"
#define R_RCPT "501 5.5.4 Syntax: RCPT TO:<address>"
#define R_SENDER "501 5.1.7 Bad sender address syntax"
#define R_RECIPIENT "501 5.1.3 Bad recipient address syntax"
#define R_MAIL_PARAM "555 5.5.4 Unsupported MAIL parameter"
#define R_RCPT_PARAM "555 5.5.4 Unsupported RCPT parameter"
#define R_SIZE "501 5.5.4 Bad SIZE parameter"
#define R_BODY "501 5.5.4 Bad BODY parameter (7BIT or 8BITMIME)"
#define R_EHLO "501 5.5.4 Syntax: EHLO domain"
#define R_HELO "501 5.5.4 Syntax: HELO domain"
#define R_AUTH "501 5.5.4 Syntax: AUTH mechanism [initial-response]"
#define R_NOARG "501 5.5.4 Syntax: this command takes no argument"

bool sg_smtp_has_8bit(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s >= 0x80)
      return true;
  return false;
}

static bool is_sp(char c) {
  return c == ' ' || c == '\t';
}

static const char *skip_sp(const char *p, const char *end) {
  while (p < end && is_sp(*p))
    p++;
  return p;
}

/* Copies [p, end) without trailing spaces into |dst| (SG_SMTP_MAX_LINE bytes). */
static void copy_trim(char *dst, const char *p, const char *end) {
  while (end > p && is_sp(end[-1]))
    end--;
  size_t n = (size_t)(end - p);
  memcpy(dst, p, n);
  dst[n] = '\0';
}

/* Matches the keyword |kw| (case-insensitive) at |p|; returns what follows or NULL. */
static const char *keyword(const char *p, const char *end, const char *kw) {
  size_t n = strlen(kw);
  if ((size_t)(end - p) < n || strncasecmp(p, kw, n) != 0)
    return NULL;
  return p + n;
}

/*
 * Parses "<path>" at |p|: writes the address (source route dropped) into
 * |dst| and returns the byte after '>', or NULL. Quoted strings may hold '>'.
 */
static const char *parse_path(const char *p, const char *end, char *dst) {
  if (p >= end || *p != '<')
    return NULL;
  const char *q = p + 1;
  bool quoted = false;
  for (; q < end; q++) {
    if (quoted && *q == '\\' && q + 1 < end)
      q++;
    else if (*q == '"')
      quoted = !quoted;
    else if (!quoted && *q == '>')
      break;
  }
  if (q >= end || (size_t)(q + 1 - p) > SG_SMTP_MAX_PATH)
    return NULL;
  const char *a = p + 1;
  /* RFC 5321 4.1.2: a source route ("@a,@b:") is accepted and ignored. */
  if (a < q && *a == '@') {
    const char *colon = memchr(a, ':', (size_t)(q - a));
    if (colon == NULL)
      return NULL;
    a = colon + 1;
  }
  size_t n = (size_t)(q - a);
  memcpy(dst, a, n);
  dst[n] = '\0';
  return q + 1;
}

static bool all_digits(const char *p, size_t n) {
  if (n == 0 || n > 19)
    return false;
  for (size_t i = 0; i < n; i++)
    if (p[i] < '0' || p[i] > '9')
      return false;
  return true;
}

/* One MAIL parameter "KEY[=VALUE]" at [p, p + n). */
static int mail_param(const char *p, size_t n, sg_smtp_cmd *out, const char **reply) {
  const char *eq = memchr(p, '=', n);
  size_t kl = eq ? (size_t)(eq - p) : n;
  const char *v = eq ? eq + 1 : p + n;
  size_t vl = (size_t)(p + n - v);
  if (kl == 4 && strncasecmp(p, "SIZE", 4) == 0) {
    if (!eq || !all_digits(v, vl)) {
      *reply = R_SIZE;
      return SG_ERR_PARSE;
    }
    uint64_t s = 0;
    for (size_t i = 0; i < vl; i++)
      s = s * 10 + (uint64_t)(v[i] - '0');
    out->has_size = true;
    out->size = s;
    return 0;
  }
  if (kl == 4 && strncasecmp(p, "BODY", 4) == 0) {
    if (eq && vl == 4 && strncasecmp(v, "7BIT", 4) == 0)
      out->body = SG_SMTP_BODY_7BIT;
    else if (eq && vl == 8 && strncasecmp(v, "8BITMIME", 8) == 0)
      out->body = SG_SMTP_BODY_8BITMIME;
    else {
      *reply = R_BODY;
      return SG_ERR_PARSE;
    }
    return 0;
  }
  if (kl == 8 && strncasecmp(p, "SMTPUTF8", 8) == 0 && !eq) {
    out->smtputf8 = true;
    return 0;
  }
  /* RFC 4954 5: AUTH=<mailbox> from a trusted relay; we trust none, so it is
   * accepted and ignored. */
  if (kl == 4 && strncasecmp(p, "AUTH", 4) == 0 && eq)
    return 0;
  *reply = R_MAIL_PARAM;
  return SG_ERR_PARSE;
}

static int parse_mail_rcpt(const char *p, const char *end, bool mail, sg_smtp_cmd *out,
                           const char **reply) {
  const char *kw = keyword(p, end, mail ? "FROM:" : "TO:");
  if (kw == NULL) {
    *reply = mail ? R_MAIL : R_RCPT;
    return SG_ERR_PARSE;
  }
  p = skip_sp(kw, end);
  const char *after = parse_path(p, end, out->arg);
  if (after == NULL) {
    *reply = mail ? R_MAIL : R_RCPT;
    return SG_ERR_PARSE;
  }
  if (after < end && !is_sp(*after)) {
    *reply = mail ? R_MAIL : R_RCPT;
    return SG_ERR_PARSE;
  }
  size_t al = strlen(out->arg);
  if (mail ? al > 0 && !sg_addr_valid(out->arg, al) : !sg_addr_valid(out->arg, al)) {
    *reply = mail ? R_SENDER : R_RECIPIENT;
    return SG_ERR_PARSE;
  }
  for (p = skip_sp(after, end); p < end; p = skip_sp(p, end)) {
    const char *e = p;
    while (e < end && !is_sp(*e))
      e++;
    if (!mail) {
      *reply = R_RCPT_PARAM;
      return SG_ERR_PARSE;
    }
    int rv = mail_param(p, (size_t)(e - p), out, reply);
    if (rv)
      return rv;
    p = e;
  }
  if (mail && sg_smtp_has_8bit(out->arg) && !out->smtputf8) {
    *reply = "553 5.6.7 Non-ASCII sender address needs the SMTPUTF8 parameter";
    return SG_ERR_PARSE;
  }
  return 0;
}

static int parse_hello(const char *p, const char *end, sg_smtp_cmd *out, const char **reply) {
  p = skip_sp(p, end);
  const char *e = p;
  while (e < end && !is_sp(*e))
    e++;
  if (e == p || (size_t)(e - p) > SG_SMTP_MAX_DOMAIN) {
    *reply = out->verb == SG_SMTP_CMD_EHLO ? R_EHLO : R_HELO;
    return SG_ERR_PARSE;
  }
  copy_trim(out->arg, p, e);
  return 0;
}

static int parse_auth(const char *p, const char *end, sg_smtp_cmd *out, const char **reply) {
  p = skip_sp(p, end);
  const char *e = p;
  while (e < end && !is_sp(*e))
    e++;
  if (e == p || e - p > 20) {
    *reply = R_AUTH;
    return SG_ERR_PARSE;
  }
  copy_trim(out->arg, p, e);
  for (char *c = out->arg; *c; c++)
    if (*c >= 'a' && *c <= 'z')
      *c = (char)(*c - 'a' + 'A');
  p = skip_sp(e, end);
  if (p < end) {
    e = p;
    while (e < end && !is_sp(*e))
      e++;
    if (skip_sp(e, end) != end) {
      *reply = R_AUTH;
      return SG_ERR_PARSE;
    }
    copy_trim(out->initial, p, e);
    out->has_initial = true;
  }
  return 0;
}

typedef struct verb_def {
  const char *name;
  sg_smtp_verb verb;
  bool takes_arg; /* false: anything after the verb is a syntax error */
} verb_def;

static const verb_def verbs[] = {
    {"EHLO", SG_SMTP_CMD_EHLO, true},          {"HELO", SG_SMTP_CMD_HELO, true},
    {"MAIL", SG_SMTP_CMD_MAIL, true},          {"RCPT", SG_SMTP_CMD_RCPT, true},
    {"DATA", SG_SMTP_CMD_DATA, false},         {"RSET", SG_SMTP_CMD_RSET, false},
    {"NOOP", SG_SMTP_CMD_NOOP, true},          {"QUIT", SG_SMTP_CMD_QUIT, false},
    {"STARTTLS", SG_SMTP_CMD_STARTTLS, false}, {"AUTH", SG_SMTP_CMD_AUTH, true},
    {"VRFY", SG_SMTP_CMD_VRFY, true},          {"HELP", SG_SMTP_CMD_HELP, true},
};

int sg_smtp_cmd_parse(const char *line, size_t n, sg_smtp_cmd *out, const char **reply) {
  memset(out, 0, sizeof *out);
  *reply = NULL;
  if (n + 2 > SG_SMTP_MAX_LINE) {
    *reply = "500 5.5.6 Line too long";
    return SG_ERR_PARSE;
  }
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)line[i];
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      *reply = R_CTL;
      return SG_ERR_PARSE;
    }
  }
  const char *end = line + n;
  const char *v = line;
  while (v < end && !is_sp(*v))
    v++;
  size_t vl = (size_t)(v - line);
  const verb_def *d = NULL;
  for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
    if (strlen(verbs[i].name) == vl && strncasecmp(line, verbs[i].name, vl) == 0)
      d = &verbs[i];
  if (d == NULL) {
    *reply = R_UNKNOWN;
    return SG_ERR_PARSE;
  }
  out->verb = d->verb;
  const char *rest = skip_sp(v, end);
  if (!d->takes_arg) {
    if (rest != end) {
      *reply = R_NOARG;
      return SG_ERR_PARSE;
    }
    return 0;
  }
  switch (d->verb) {
  case SG_SMTP_CMD_EHLO:
  case SG_SMTP_CMD_HELO:
    return parse_hello(rest, end, out, reply);
  case SG_SMTP_CMD_MAIL:
  case SG_SMTP_CMD_RCPT:
    /* "MAIL FROM:" has exactly one space after the verb (RFC 5321 4.1.1.2). */
    if (v == end || *v != ' ') {
      *reply = d->verb == SG_SMTP_CMD_MAIL ? R_MAIL : R_RCPT;
      return SG_ERR_PARSE;
    }
    return parse_mail_rcpt(v + 1, end, d->verb == SG_SMTP_CMD_MAIL, out, reply);
  case SG_SMTP_CMD_AUTH:
    return parse_auth(rest, end, out, reply);
  default:
    copy_trim(out->arg, rest, end);
    return 0;
  }
}
