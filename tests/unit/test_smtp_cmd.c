/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the SMTP command-line parser (smtp/sg_smtp_cmd). */
#include "harness.h"

#include "core/sg_err.h"
#include "smtp/sg_smtp_cmd.h"

static int parse(const char *s, sg_smtp_cmd *c, const char **r) {
  return sg_smtp_cmd_parse(s, strlen(s), c, r);
}

/* The reply code of a refused line ("501"), or "" when it parsed. */
static const char *code(const char *s) {
  static char buf[16];
  sg_smtp_cmd c;
  const char *r;
  if (parse(s, &c, &r) == 0)
    return "";
  ASSERT_NOT_NULL(r);
  snprintf(buf, sizeof buf, "%.9s", r); /* "501 5.5.4" */
  return buf;
}

static void t_verbs(void) {
  sg_smtp_cmd c;
  const char *r;
  ASSERT_OK(parse("ehlo client.example", &c, &r));
  ASSERT_EQ(SG_SMTP_CMD_EHLO, c.verb);
  ASSERT_STR_EQ("client.example", c.arg);
  ASSERT_OK(parse("HELO [192.0.2.1]", &c, &r));
  ASSERT_EQ(SG_SMTP_CMD_HELO, c.verb);
  ASSERT_OK(parse("DATA", &c, &r));
  ASSERT_EQ(SG_SMTP_CMD_DATA, c.verb);
  ASSERT_OK(parse("rset", &c, &r));
  ASSERT_OK(parse("NOOP anything", &c, &r));
  ASSERT_OK(parse("QUIT", &c, &r));
  ASSERT_OK(parse("STARTTLS", &c, &r));
  ASSERT_EQ(SG_SMTP_CMD_STARTTLS, c.verb);
  ASSERT_OK(parse("VRFY postmaster", &c, &r));
  ASSERT_EQ(SG_SMTP_CMD_VRFY, c.verb);
  ASSERT_OK(parse("HELP", &c, &r));
  ASSERT_STR_EQ("500 5.5.2", code("EXPN list"));
  ASSERT_STR_EQ("500 5.5.2", code("GET / HTTP/1.1"));
  ASSERT_STR_EQ("501 5.5.4", code("DATA now"));
  ASSERT_STR_EQ("501 5.5.4", code("STARTTLS x"));
  ASSERT_STR_EQ("501 5.5.4", code("EHLO"));
  ASSERT_STR_EQ("501 5.5.4", code("HELO "));
  ASSERT_STR_EQ("501 5.5.2", code("NOOP \x01"));
  ASSERT_STR_EQ("501 5.5.2", code("NOOP a\rb"));
}

static void t_mail(void) {
  sg_smtp_cmd c;
  const char *r;
  ASSERT_OK(parse("MAIL FROM:<dev@contoso.com>", &c, &r));
  ASSERT_EQ(SG_SMTP_CMD_MAIL, c.verb);
  ASSERT_STR_EQ("dev@contoso.com", c.arg);
  ASSERT(!c.has_size && !c.smtputf8 && c.body == SG_SMTP_BODY_7BIT);
  ASSERT_OK(
      parse("mail from: <dev@contoso.com> SIZE=12345 BODY=8BITMIME SMTPUTF8 AUTH=<>", &c, &r));
  ASSERT(c.has_size);
  ASSERT_EQ(12345, c.size);
  ASSERT_EQ(SG_SMTP_BODY_8BITMIME, c.body);
  ASSERT(c.smtputf8);
  ASSERT_OK(parse("MAIL FROM:<>", &c, &r));
  ASSERT_STR_EQ("", c.arg);
  ASSERT_OK(parse("MAIL FROM:<@relay.example:dev@contoso.com>", &c, &r));
  ASSERT_STR_EQ("dev@contoso.com", c.arg);
  ASSERT_STR_EQ("501 5.5.4", code("MAIL FROM:dev@contoso.com"));
  ASSERT_STR_EQ("501 5.5.4", code("MAIL FROM:<dev@contoso.com"));
  ASSERT_STR_EQ("501 5.5.4", code("MAIL TO:<dev@contoso.com>"));
  ASSERT_STR_EQ("501 5.5.4", code("MAIL  FROM:<dev@contoso.com>"));
  ASSERT_STR_EQ("501 5.5.4", code("MAIL FROM:<dev@contoso.com>x"));
  ASSERT_STR_EQ("501 5.1.7", code("MAIL FROM:<not an address>"));
  ASSERT_STR_EQ("501 5.1.7", code("MAIL FROM:<a@b@c.example>"));
  ASSERT_STR_EQ("501 5.5.4", code("MAIL FROM:<a@contoso.com> SIZE=abc"));
  ASSERT_STR_EQ("501 5.5.4", code("MAIL FROM:<a@contoso.com> SIZE="));
  ASSERT_STR_EQ("501 5.5.4", code("MAIL FROM:<a@contoso.com> BODY=BINARYMIME"));
  ASSERT_STR_EQ("555 5.5.4", code("MAIL FROM:<a@contoso.com> RET=HDRS"));
  ASSERT_STR_EQ("553 5.6.7", code("MAIL FROM:<j\xc3\xb6rg@contoso.com>"));
  ASSERT_STR_EQ("", code("MAIL FROM:<j\xc3\xb6rg@contoso.com> SMTPUTF8"));
  /* SMTPUTF8 takes UTF-8, not any byte over 0x7f. */
  ASSERT_STR_EQ("501 5.1.7", code("MAIL FROM:<j\xf6rg@contoso.com> SMTPUTF8"));
}

static void t_rcpt(void) {
  sg_smtp_cmd c;
  const char *r;
  ASSERT_OK(parse("RCPT TO:<User@Example.COM>", &c, &r));
  ASSERT_EQ(SG_SMTP_CMD_RCPT, c.verb);
  ASSERT_STR_EQ("User@Example.COM", c.arg);
  ASSERT_OK(parse("rcpt to: <a@example.com>", &c, &r));
  ASSERT_STR_EQ("501 5.1.3", code("RCPT TO:<>"));
  ASSERT_STR_EQ("501 5.1.3", code("RCPT TO:<a@b>"));
  ASSERT_STR_EQ("555 5.5.4", code("RCPT TO:<a@example.com> NOTIFY=NEVER"));
  ASSERT_STR_EQ("501 5.5.4", code("RCPT TO:a@example.com"));
}

static void t_limits(void) {
  /* Path: at most 256 octets with the brackets. */
  char line[1024];
  char local[65];
  memset(local, 'a', 64);
  local[64] = '\0';
  /* 64 + 1 + (63 + 1) * 3 - 1 domain = a long but valid address */
  char dom[200];
  snprintf(dom, sizeof dom, "%.63s.%.63s.%.61s", local, local, local);
  snprintf(line, sizeof line, "RCPT TO:<%s@%s>", local, dom); /* 256 octets of path */
  ASSERT_EQ(256, strlen(line) - strlen("RCPT TO:"));
  sg_smtp_cmd c;
  const char *r;
  int rv = parse(line, &c, &r);
  ASSERT(rv == 0 || strncmp(r, "501 5.1.3", 9) == 0);            /* sg_addr_valid caps at 254 */
  snprintf(line, sizeof line, "RCPT TO:<%s@%s.ab>", local, dom); /* 259 */
  ASSERT_STR_EQ("501 5.5.4", code(line));
  /* Command line: 510 octets + CRLF fit, 511 do not. */
  memset(line, 'x', sizeof line);
  memcpy(line, "NOOP ", 5);
  line[510] = '\0';
  ASSERT_STR_EQ("", code(line));
  line[510] = 'x';
  line[511] = '\0';
  ASSERT_STR_EQ("500 5.5.6", code(line));
}

static void t_auth(void) {
  sg_smtp_cmd c;
  const char *r;
  ASSERT_OK(parse("AUTH plain AGFsaWNlAHNlY3JldA==", &c, &r));
  ASSERT_EQ(SG_SMTP_CMD_AUTH, c.verb);
  ASSERT_STR_EQ("PLAIN", c.arg);
  ASSERT(c.has_initial);
  ASSERT_STR_EQ("AGFsaWNlAHNlY3JldA==", c.initial);
  ASSERT_OK(parse("AUTH LOGIN", &c, &r));
  ASSERT_STR_EQ("LOGIN", c.arg);
  ASSERT(!c.has_initial);
  ASSERT_STR_EQ("501 5.5.4", code("AUTH"));
  ASSERT_STR_EQ("501 5.5.4", code("AUTH PLAIN a b"));
}

SG_TESTS({"verbs", t_verbs}, {"mail", t_mail}, {"rcpt", t_rcpt}, {"limits", t_limits},
         {"auth", t_auth})
