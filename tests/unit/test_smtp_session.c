/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the ESMTP session state machine (smtp/sg_smtp_session):
 * scripted client bytes in, replies and events out, no sockets. */
#include "harness.h"

#include "smtp/sg_smtp_session.h"

static char refusals[512];

static void on_refused(void *ud, const char *reason) {
  (void)ud;
  snprintf(refusals + strlen(refusals), sizeof refusals - strlen(refusals), "%s ", reason);
}

static sg_smtp_session *mk(sg_smtp_mode mode, bool refuse) {
  refusals[0] = '\0';
  sg_smtp_session_opts o = {.mode = mode,
                            .hostname = "smtp.test",
                            .max_message_bytes = 1000,
                            .max_rcpts = 3,
                            .max_commands = 50,
                            .max_errors = 5,
                            .tls_available = true,
                            .relay_senders = "printer@contoso.com,@devices.contoso.com",
                            .refuse = refuse,
                            .on_refused = on_refused};
  return sg_smtp_session_new(&o);
}

/* Feeds |in|, runs, returns the event; the replies are in |out| (taken). */
static sg_smtp_event io(sg_smtp_session *s, const char *in, char *out, size_t cap) {
  sg_smtp_session_feed(s, (const uint8_t *)in, strlen(in));
  sg_smtp_event ev = sg_smtp_session_run(s);
  sg_buf *b = sg_smtp_session_output(s);
  snprintf(out, cap, "%.*s", (int)b->len, b->data ? b->data : "");
  sg_buf_reset(b);
  return ev;
}

/* The reply codes of |out|, one per final line ("250 250 354"). */
static const char *codes(const char *out) {
  static char c[256];
  c[0] = '\0';
  for (const char *p = out; *p;) {
    const char *e = strstr(p, "\r\n");
    if (e == NULL)
      break;
    if (e - p >= 4 && p[3] == ' ')
      snprintf(c + strlen(c), sizeof c - strlen(c), "%s%.3s", c[0] ? " " : "", p);
    p = e + 2;
  }
  return c;
}

static sg_smtp_user scanner(void) {
  static char a1[] = "scanner@contoso.com", a2[] = "@alerts.contoso.com";
  static char name[] = "scanner", hash[] = "", account[] = "sales";
  static char *allow[] = {a1, a2};
  return (sg_smtp_user){
      .name = name, .hash = hash, .allow_from = allow, .nallow = 2, .account = account};
}

/* A submission session after STARTTLS and a successful AUTH PLAIN. */
static sg_smtp_session *authed(void) {
  char out[2048];
  sg_smtp_session *s = mk(SG_SMTP_MODE_SUBMISSION, false);
  ASSERT_EQ(SG_SMTP_EV_STARTTLS, io(s, "EHLO c\r\nSTARTTLS\r\n", out, sizeof out));
  sg_smtp_session_tls_started(s);
  /* \0scanner\0pw */
  ASSERT_EQ(SG_SMTP_EV_AUTH, io(s, "EHLO c\r\nAUTH PLAIN AHNjYW5uZXIAcHc=\r\n", out, sizeof out));
  const char *u, *p;
  size_t pl;
  sg_smtp_session_auth_creds(s, &u, &p, &pl);
  ASSERT_STR_EQ("scanner", u);
  ASSERT_EQ(2, pl);
  ASSERT_MEM_EQ("pw", p, 2);
  sg_smtp_user us = scanner();
  sg_smtp_session_auth_done(s, SG_SMTP_AUTH_OK, &us);
  ASSERT_EQ(SG_SMTP_EV_NONE, io(s, "", out, sizeof out));
  ASSERT_STR_EQ("235", codes(out));
  return s;
}

static void t_greeting_and_ehlo(void) {
  char out[2048];
  sg_smtp_session *s = mk(SG_SMTP_MODE_SUBMISSION, false);
  ASSERT_EQ(SG_SMTP_EV_NONE, io(s, "EHLO client.test\r\n", out, sizeof out));
  ASSERT(strncmp(out, "220 smtp.test ESMTP", 19) == 0);
  ASSERT_NOT_NULL(strstr(out, "250-PIPELINING\r\n"));
  ASSERT_NOT_NULL(strstr(out, "250-SIZE 1000\r\n"));
  ASSERT_NOT_NULL(strstr(out, "250-8BITMIME\r\n"));
  ASSERT_NOT_NULL(strstr(out, "250-SMTPUTF8\r\n"));
  ASSERT_NOT_NULL(strstr(out, "ENHANCEDSTATUSCODES\r\n"));
  ASSERT_NOT_NULL(strstr(out, "250 STARTTLS\r\n"));
  ASSERT_NULL(strstr(out, "AUTH")); /* never before TLS */
  sg_smtp_session_free(s);
  /* Relay: neither STARTTLS nor AUTH. */
  s = mk(SG_SMTP_MODE_RELAY, false);
  io(s, "EHLO c\r\n", out, sizeof out);
  ASSERT_NULL(strstr(out, "AUTH"));
  ASSERT_NULL(strstr(out, "STARTTLS"));
  sg_smtp_session_free(s);
  /* Implicit TLS: AUTH at once. */
  s = mk(SG_SMTP_MODE_IMPLICIT_TLS, false);
  io(s, "EHLO c\r\n", out, sizeof out);
  ASSERT_NOT_NULL(strstr(out, "250 AUTH PLAIN LOGIN\r\n"));
  ASSERT_NULL(strstr(out, "STARTTLS"));
  sg_smtp_session_free(s);
}

static void t_auth_gating(void) {
  char out[2048];
  sg_smtp_session *s = mk(SG_SMTP_MODE_SUBMISSION, false);
  io(s, "", out, sizeof out);
  ASSERT_EQ(SG_SMTP_EV_NONE, io(s,
                                "EHLO c\r\nAUTH PLAIN AHNjYW5uZXIAcHc=\r\nMAIL FROM:<scanner@"
                                "contoso.com>\r\nRCPT TO:<a@fabrikam.example>\r\nDATA\r\n",
                                out, sizeof out));
  ASSERT_STR_EQ("250 530 530 503 503", codes(out));
  ASSERT_NOT_NULL(strstr(out, "530 5.7.0 Must issue a STARTTLS command first"));
  ASSERT_NOT_NULL(strstr(out, "530 5.7.0 Authentication required"));
  sg_smtp_session_free(s);
}

/* Commands pipelined behind STARTTLS were sent in clear: they are dropped. */
static void t_starttls_injection(void) {
  char out[2048];
  sg_smtp_session *s = mk(SG_SMTP_MODE_SUBMISSION, false);
  io(s, "EHLO c\r\n", out, sizeof out);
  ASSERT_EQ(SG_SMTP_EV_STARTTLS,
            io(s, "STARTTLS\r\nMAIL FROM:<scanner@contoso.com>\r\n", out, sizeof out));
  ASSERT_STR_EQ("220", codes(out));
  ASSERT_EQ(0, sg_smtp_session_pending_input(s));
  sg_smtp_session_tls_started(s);
  ASSERT_EQ(SG_SMTP_EV_NONE, io(s, "MAIL FROM:<scanner@contoso.com>\r\n", out, sizeof out));
  ASSERT_STR_EQ("503", codes(out)); /* EHLO again first: state was reset */
  sg_smtp_session_free(s);
}

static void t_auth_login_and_failures(void) {
  char out[2048];
  sg_smtp_session *s = mk(SG_SMTP_MODE_IMPLICIT_TLS, false);
  io(s, "EHLO c\r\n", out, sizeof out);
  ASSERT_EQ(SG_SMTP_EV_NONE, io(s, "AUTH LOGIN\r\n", out, sizeof out));
  ASSERT_STR_EQ("334 VXNlcm5hbWU6\r\n", out);
  ASSERT_EQ(SG_SMTP_EV_NONE, io(s, "c2Nhbm5lcg==\r\n", out, sizeof out));
  ASSERT_STR_EQ("334 UGFzc3dvcmQ6\r\n", out);
  ASSERT_EQ(SG_SMTP_EV_AUTH, io(s, "d3Jvbmc=\r\n", out, sizeof out));
  sg_smtp_session_auth_done(s, SG_SMTP_AUTH_BAD, NULL);
  ASSERT_EQ(SG_SMTP_EV_NONE, io(s, "", out, sizeof out));
  ASSERT_STR_EQ("535", codes(out));
  const char *u, *p;
  size_t pl;
  sg_smtp_session_auth_creds(s, &u, &p, &pl);
  ASSERT_EQ(0, pl); /* wiped */
  io(s, "AUTH LOGIN\r\n*\r\nAUTH CRAM-MD5\r\nAUTH PLAIN !!!\r\n", out, sizeof out);
  ASSERT_STR_EQ("334 501 504 501", codes(out));
  ASSERT_NOT_NULL(strstr(refusals, "auth_failed"));
  sg_smtp_session_free(s);
}

static void t_pipelining_and_handoff(void) {
  char out[4096];
  sg_smtp_session *s = authed();
  /* One packet: a whole transaction, a second one, QUIT. Replies come in
   * order and the session stops at the first message until it is queued. */
  const char *in = "MAIL FROM:<scanner@contoso.com> SIZE=100\r\n"
                   "RCPT TO:<a@fabrikam.example>\r\n"
                   "RCPT TO:<bcc@fabrikam.example>\r\n"
                   "DATA\r\n"
                   "From: scanner@contoso.com\r\nSubject: 1\r\n\r\n..dot\r\n.\r\n"
                   "MAIL FROM:<nagios@alerts.contoso.com>\r\n"
                   "RCPT TO:<b@fabrikam.example>\r\n"
                   "DATA\r\n"
                   "Subject: 2\r\n\r\nx\r\n.\r\n"
                   "QUIT\r\n";
  ASSERT_EQ(SG_SMTP_EV_MESSAGE, io(s, in, out, sizeof out));
  ASSERT_STR_EQ("250 250 250 354", codes(out));
  const sg_smtp_message *m = sg_smtp_session_message(s);
  ASSERT_STR_EQ("scanner@contoso.com", m->from);
  ASSERT_EQ(2, m->nrcpts);
  ASSERT_STR_EQ("bcc@fabrikam.example", m->rcpts[1]);
  ASSERT_STR_EQ("sales", m->account);
  ASSERT_STR_EQ("scanner", m->user);
  ASSERT(m->tls);
  const char *body = "From: scanner@contoso.com\r\nSubject: 1\r\n\r\n.dot\r\n";
  ASSERT_EQ(strlen(body), m->len);
  ASSERT_MEM_EQ(body, m->data, m->len);
  /* Nothing more happens until the hand-off is over. */
  ASSERT_EQ(SG_SMTP_EV_MESSAGE, io(s, "", out, sizeof out));
  ASSERT_STR_EQ("", out);
  sg_smtp_session_queued(s, "smtp-1");
  ASSERT_EQ(SG_SMTP_EV_MESSAGE, io(s, "", out, sizeof out));
  ASSERT_STR_EQ("250 250 250 354", codes(out));
  ASSERT_NOT_NULL(strstr(out, "250 2.0.0 Ok: queued as smtp-1\r\n"));
  m = sg_smtp_session_message(s);
  ASSERT_STR_EQ("nagios@alerts.contoso.com", m->from);
  sg_smtp_session_queued(s, NULL); /* Redis down */
  ASSERT_EQ(SG_SMTP_EV_CLOSE, io(s, "", out, sizeof out));
  ASSERT_STR_EQ("451 221", codes(out));
  ASSERT_NOT_NULL(strstr(out, "451 4.3.0"));
  sg_smtp_session_free(s);
}

static void t_sender_checks(void) {
  char out[4096];
  sg_smtp_session *s = authed();
  io(s,
     "MAIL FROM:<ceo@contoso.com>\r\nMAIL FROM:<>\r\nMAIL FROM:<x@contoso.com> SIZE=1001\r\n"
     "MAIL FROM:<Scanner@CONTOSO.com>\r\nRCPT TO:<a@fabrikam.example>\r\nDATA\r\n"
     "From: \"Boss\" <ceo@contoso.com>\r\n\r\nx\r\n.\r\n",
     out, sizeof out);
  ASSERT_STR_EQ("550 550 552 250 250 354 550", codes(out));
  ASSERT_NOT_NULL(strstr(out, "550 5.7.60 Client does not have permissions to send as this"));
  ASSERT_NOT_NULL(strstr(out, "550 5.7.60 Client does not have permissions to send as the From"));
  ASSERT_NOT_NULL(strstr(out, "552 5.3.4"));
  ASSERT_NOT_NULL(strstr(refusals, "sender_not_allowed"));
  ASSERT_NOT_NULL(strstr(refusals, "from_not_allowed"));
  sg_smtp_session_free(s);
}

static void t_relay(void) {
  char out[4096];
  sg_smtp_session *s = mk(SG_SMTP_MODE_RELAY, false);
  ASSERT_EQ(SG_SMTP_EV_MESSAGE, io(s,
                                   "HELO printer\r\nAUTH PLAIN AHNjYW5uZXIAcHc=\r\n"
                                   "MAIL FROM:<ceo@contoso.com>\r\nMAIL FROM:<>\r\n"
                                   "MAIL FROM:<mfp@Devices.Contoso.com>\r\n"
                                   "RCPT TO:<a@fabrikam.example>\r\nDATA\r\nx\r\n.\r\n",
                                   out, sizeof out));
  ASSERT_STR_EQ("220 250 503 550 550 250 250 354", codes(out));
  ASSERT_NOT_NULL(strstr(out, "550 5.7.1"));
  ASSERT_NULL(sg_smtp_session_message(s)->user);
  sg_smtp_session_free(s);
  /* Outside relay_networks: 554, and nothing but QUIT is taken. */
  s = mk(SG_SMTP_MODE_RELAY, true);
  ASSERT_EQ(SG_SMTP_EV_CLOSE,
            io(s, "EHLO c\r\nMAIL FROM:<printer@contoso.com>\r\nQUIT\r\n", out, sizeof out));
  ASSERT_STR_EQ("554 503 503 221", codes(out));
  ASSERT_NOT_NULL(strstr(refusals, "network"));
  sg_smtp_session_free(s);
}

static void t_smuggling_refused(void) {
  char out[4096];
  sg_smtp_session *s = mk(SG_SMTP_MODE_RELAY, false);
  io(s, "EHLO c\r\n", out, sizeof out);
  /* "\n.\n" inside the data must not end it: the MAIL after it is data. */
  ASSERT_EQ(SG_SMTP_EV_NONE,
            io(s,
               "MAIL FROM:<printer@contoso.com>\r\nRCPT TO:<a@fabrikam.example>\r\n"
               "DATA\r\nhello\n.\nMAIL FROM:<printer@contoso.com>\r\n"
               "RCPT TO:<victim@fabrikam.example>\r\nDATA\r\nevil\r\n.\r\nNOOP\r\n",
               out, sizeof out));
  ASSERT_STR_EQ("250 250 354 550 250", codes(out));
  ASSERT_NOT_NULL(strstr(out, "550 5.6.11"));
  ASSERT_NOT_NULL(strstr(refusals, "bare_cr_lf"));
  sg_smtp_session_free(s);
}

static void t_limits(void) {
  char out[8192];
  sg_smtp_session *s = mk(SG_SMTP_MODE_RELAY, false);
  io(s,
     "EHLO c\r\nMAIL FROM:<printer@contoso.com>\r\nRCPT TO:<a@x.example>\r\nRCPT TO:<b@x.example>"
     "\r\nRCPT TO:<c@x.example>\r\nRCPT TO:<d@x.example>\r\n",
     out, sizeof out);
  ASSERT_STR_EQ("220 250 250 250 250 250 452", codes(out));
  /* Errors: the 5th refused command ends the session with 421. */
  ASSERT_EQ(SG_SMTP_EV_CLOSE,
            io(s, "BOGUS\r\nBOGUS\r\nBOGUS\r\nBOGUS\r\nBOGUS\r\nNOOP\r\n", out, sizeof out));
  ASSERT_STR_EQ("500 500 500 500 500 421", codes(out));
  sg_smtp_session_free(s);
  /* Commands: more than 50 gets 421. */
  s = mk(SG_SMTP_MODE_RELAY, false);
  sg_buf in;
  sg_buf_init(&in);
  for (int i = 0; i < 60; i++)
    sg_buf_append_str(&in, "NOOP\r\n");
  sg_smtp_session_feed(s, (const uint8_t *)in.data, in.len);
  ASSERT_EQ(SG_SMTP_EV_CLOSE, sg_smtp_session_run(s));
  ASSERT_NOT_NULL(strstr(sg_smtp_session_output(s)->data, "421 4.7.0 Too many commands"));
  sg_buf_free(&in);
  sg_smtp_session_free(s);
  /* An overlong line: one 500, then the session goes on. */
  s = mk(SG_SMTP_MODE_RELAY, false);
  char big[1500];
  memset(big, 'x', sizeof big);
  sg_smtp_session_feed(s, (const uint8_t *)big, sizeof big);
  ASSERT_EQ(SG_SMTP_EV_NONE, io(s, "yyy\r\nNOOP\r\n", out, sizeof out));
  ASSERT_STR_EQ("220 500 250", codes(out));
  sg_smtp_session_free(s);
}

static void t_drain(void) {
  char out[2048];
  sg_smtp_session *s = mk(SG_SMTP_MODE_RELAY, false);
  io(s, "EHLO c\r\nMAIL FROM:<printer@contoso.com>\r\nRCPT TO:<a@x.example>\r\nDATA\r\npart", out,
     sizeof out);
  sg_smtp_session_shutdown(s);
  /* The message being received is finished first. */
  ASSERT_EQ(SG_SMTP_EV_NONE, io(s, "", out, sizeof out));
  ASSERT_EQ(SG_SMTP_EV_MESSAGE, io(s, "\r\n.\r\n", out, sizeof out));
  sg_smtp_session_queued(s, "smtp-2");
  ASSERT_EQ(SG_SMTP_EV_CLOSE, io(s, "", out, sizeof out));
  ASSERT_STR_EQ("250 421", codes(out));
  sg_smtp_session_free(s);
}

SG_TESTS({"greeting_and_ehlo", t_greeting_and_ehlo}, {"auth_gating", t_auth_gating},
         {"starttls_injection", t_starttls_injection},
         {"auth_login_and_failures", t_auth_login_and_failures},
         {"pipelining_and_handoff", t_pipelining_and_handoff}, {"sender_checks", t_sender_checks},
         {"relay", t_relay}, {"smuggling_refused", t_smuggling_refused}, {"limits", t_limits},
         {"drain", t_drain})
