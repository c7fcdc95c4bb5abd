/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for smtpc/sg_smtpc_proto: the client session against scripted
 * server byte streams (nghttp2's scripted_recv idea): what the client writes
 * after each server reply is compared byte for byte.
 */
#include "harness.h"

#include "core/sg_err.h"
#include "smtpc/sg_smtpc_proto.h"
#include "smtpc/sg_smtpc_sasl.h"

static const char EHLO_TLS[] = "250-mx.test\r\n250-STARTTLS\r\n250 8BITMIME\r\n";
static const char EHLO_AUTH[] = "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 100000\r\n"
                                "250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n"
                                "250 AUTH LOGIN PLAIN XOAUTH2\r\n";
static const char MSG[] = "From: a@contoso.com\r\nTo: b@contoso.com\r\nSubject: hi\r\n\r\n"
                          ".dot line\r\nbody\r\n";
static const char MSG_WIRE[] = "From: a@contoso.com\r\nTo: b@contoso.com\r\nSubject: hi\r\n\r\n"
                               "..dot line\r\nbody\r\n.\r\n";

static void srv(sg_smtpc_proto *p, const char *s) {
  sg_smtpc_proto_feed(p, (const uint8_t *)s, strlen(s));
}

/* The client's output equals |want|; it is taken. */
static void out_is(sg_smtpc_proto *p, const char *want) {
  sg_buf *o = sg_smtpc_proto_output(p);
  sg_buf_append(o, "", 0);
  ASSERT_STR_EQ(want, o->data);
  sg_buf_reset(o);
}

static sg_smtpc_opts opts(sg_smtpc_auth auth) {
  sg_smtpc_opts o;
  memset(&o, 0, sizeof o);
  o.helo_name = "gw.test";
  o.auth = auth;
  o.user = "mbx@contoso.com";
  o.secret = "tok123";
  return o;
}

/* Greeting, EHLO, STARTTLS, TLS, EHLO: ready for AUTH (or ready). */
static sg_smtpc_proto *to_auth(const sg_smtpc_opts *o) {
  sg_smtpc_proto *p;
  ASSERT_OK(sg_smtpc_proto_new(&p, o));
  ASSERT_EQ(SG_SMTPC_GREETING_MS, sg_smtpc_proto_wait_ms(p));
  out_is(p, "");
  srv(p, "220 mx.test ESMTP\r\n");
  out_is(p, "EHLO gw.test\r\n");
  srv(p, EHLO_TLS);
  out_is(p, "STARTTLS\r\n");
  ASSERT(!sg_smtpc_proto_want_tls(p));
  srv(p, "220 2.0.0 SMTP server ready\r\n");
  ASSERT(sg_smtpc_proto_want_tls(p));
  ASSERT(!sg_smtpc_proto_want_tls(p)); /* once */
  out_is(p, "");
  sg_smtpc_proto_tls_done(p);
  ASSERT(sg_smtpc_proto_tls_active(p));
  out_is(p, "EHLO gw.test\r\n");
  return p;
}

static sg_smtpc_proto *ready(sg_smtpc_auth auth) {
  sg_smtpc_opts o = opts(auth);
  sg_smtpc_proto *p = to_auth(&o);
  srv(p, EHLO_AUTH);
  sg_buf want = SG_BUF_INIT;
  sg_buf_append_str(&want, "AUTH XOAUTH2 ");
  sg_smtpc_sasl_xoauth2(&want, "mbx@contoso.com", "tok123");
  sg_buf_append_str(&want, "\r\n");
  out_is(p, want.data);
  sg_buf_free(&want);
  srv(p, "235 2.7.0 Authentication successful\r\n");
  ASSERT(sg_smtpc_proto_idle(p));
  ASSERT_EQ(0, sg_smtpc_proto_wait_ms(p)); /* no idle_ms: the owner closes it */
  return p;
}

static void start(sg_smtpc_proto *p, size_t nrcpt) {
  static const char *const rcpts[] = {"b@contoso.com", "c@contoso.com", "d@contoso.com"};
  sg_smtpc_env env = {"a@contoso.com", rcpts, nrcpt};
  char err[200];
  ASSERT_OK(sg_smtpc_proto_start(p, &env, (const uint8_t *)MSG, strlen(MSG), err, sizeof err));
}

static void body(sg_smtpc_proto *p) {
  ASSERT(sg_smtpc_proto_body_pending(p));
  while (sg_smtpc_proto_body_pending(p))
    sg_smtpc_proto_pump(p, 7);
  out_is(p, MSG_WIRE);
  ASSERT_EQ(SG_SMTPC_DATA_END_MS, sg_smtpc_proto_wait_ms(p));
}

static void t_full_pipelined(void) {
  sg_smtpc_proto *p = ready(SG_SMTPC_AUTH_XOAUTH2);
  sg_outcome o;
  start(p, 2);
  /* MAIL and both RCPTs in one write; SIZE from the scan. */
  out_is(p, "MAIL FROM:<a@contoso.com> SIZE=76\r\nRCPT TO:<b@contoso.com>\r\n"
            "RCPT TO:<c@contoso.com>\r\n");
  srv(p, "250 2.1.0 Sender OK\r\n250 2.1.5 Recipient OK\r\n");
  out_is(p, ""); /* one reply still due */
  srv(p, "250 2.1.5 Recipient OK\r\n");
  out_is(p, "DATA\r\n");
  ASSERT_EQ(SG_SMTPC_DATA_INIT_MS, sg_smtpc_proto_wait_ms(p));
  srv(p, "354 Start mail input; end with <CRLF>.<CRLF>\r\n");
  body(p);
  ASSERT(!sg_smtpc_proto_take_result(p, &o));
  srv(p, "250 2.0.0 OK <x@y> [Hostname=z]\r\n");
  ASSERT(sg_smtpc_proto_take_result(p, &o));
  ASSERT_EQ(SG_OUTCOME_SENT, o.kind);
  ASSERT_EQ(250, o.http_status);
  ASSERT(!sg_smtpc_proto_take_result(p, &o));
  ASSERT(sg_smtpc_proto_idle(p));
  /* The second message on the session: RSET first, pipelined too. */
  start(p, 1);
  out_is(p, "RSET\r\nMAIL FROM:<a@contoso.com> SIZE=76\r\nRCPT TO:<b@contoso.com>\r\n");
  srv(p, "250 2.0.0 Resetting\r\n250 2.1.0 Sender OK\r\n250 2.1.5 Recipient OK\r\n");
  out_is(p, "DATA\r\n");
  srv(p, "354 go\r\n");
  body(p);
  srv(p, "250 2.0.0 OK\r\n");
  ASSERT(sg_smtpc_proto_take_result(p, &o));
  ASSERT_EQ(SG_OUTCOME_SENT, o.kind);
  sg_smtpc_proto_quit(p);
  out_is(p, "QUIT\r\n");
  ASSERT(!sg_smtpc_proto_closed(p));
  srv(p, "221 2.0.0 Service closing transmission channel\r\n");
  ASSERT(sg_smtpc_proto_closed(p));
  ASSERT_EQ(SG_OUTCOME_SENT, sg_smtpc_proto_error(p)->kind);
  sg_smtpc_proto_del(p);
}

static void t_no_pipelining(void) {
  sg_smtpc_opts o = opts(SG_SMTPC_AUTH_PLAIN);
  sg_smtpc_proto *p = to_auth(&o);
  /* A message queued before the session is ready waits for it. */
  start(p, 2);
  out_is(p, "");
  srv(p, "250-mx\r\n250 AUTH PLAIN\r\n");
  out_is(p, "AUTH PLAIN AG1ieEBjb250b3NvLmNvbQB0b2sxMjM=\r\n");
  srv(p, "235 ok\r\n");
  out_is(p, "MAIL FROM:<a@contoso.com>\r\n");
  srv(p, "250 ok\r\n");
  out_is(p, "RCPT TO:<b@contoso.com>\r\n");
  srv(p, "250 ok\r\n");
  out_is(p, "RCPT TO:<c@contoso.com>\r\n");
  srv(p, "550 5.1.1 unknown\r\n");
  out_is(p, "");
  sg_outcome r;
  ASSERT(sg_smtpc_proto_take_result(p, &r));
  ASSERT_EQ(SG_OUTCOME_FAILED, r.kind);
  ASSERT_STR_EQ("5.1.1", r.code);
  ASSERT(strstr(r.message, "RCPT: 550 5.1.1 unknown (recipient 2 of 2)") != NULL);
  ASSERT(sg_smtpc_proto_idle(p));
  sg_smtpc_proto_del(p);
}

/* A refusal at each envelope step, pipelined: every reply is read, nothing sent. */
static void t_envelope_refusals(void) {
  for (int step = 0; step < 3; step++) {
    sg_smtpc_proto *p = ready(SG_SMTPC_AUTH_XOAUTH2);
    start(p, 2);
    out_is(p, "MAIL FROM:<a@contoso.com> SIZE=76\r\nRCPT TO:<b@contoso.com>\r\n"
              "RCPT TO:<c@contoso.com>\r\n");
    const char *ok[] = {"250 2.1.0 ok\r\n", "250 2.1.5 ok\r\n", "250 2.1.5 ok\r\n"};
    const char *bad = step == 1 ? "452 4.5.3 Too many recipients\r\n"
                                : "550 5.7.60 SMTP; Client does not have permissions\r\n";
    for (int i = 0; i < 3; i++)
      srv(p, i == step ? bad : ok[i]);
    out_is(p, ""); /* no DATA */
    sg_outcome r;
    ASSERT(sg_smtpc_proto_take_result(p, &r));
    ASSERT_EQ(step == 1 ? SG_OUTCOME_RETRY : SG_OUTCOME_FAILED, r.kind);
    ASSERT_STR_EQ(step == 1 ? "4.5.3" : "5.7.60", r.code);
    ASSERT(sg_smtpc_proto_idle(p));
    /* The next message resets the transaction first. */
    start(p, 1);
    out_is(p, "RSET\r\nMAIL FROM:<a@contoso.com> SIZE=76\r\nRCPT TO:<b@contoso.com>\r\n");
    sg_smtpc_proto_del(p);
  }
}

static void t_data_and_dot_replies(void) {
  const char *replies[] = {"554 5.2.252 SendAsDenied; mbx not allowed to send as a\r\n",
                           "451 4.7.500 Server busy\r\n",
                           "554 5.2.0 STOREDRV.Submission.Exception:"
                           "SubmissionQuotaExceededException\r\n"};
  for (int dot = 0; dot < 2; dot++) {
    for (int i = 0; i < 3; i++) {
      sg_smtpc_proto *p = ready(SG_SMTPC_AUTH_XOAUTH2);
      start(p, 1);
      out_is(p, "MAIL FROM:<a@contoso.com> SIZE=76\r\nRCPT TO:<b@contoso.com>\r\n");
      srv(p, "250 ok\r\n250 ok\r\n");
      out_is(p, "DATA\r\n");
      if (dot) {
        srv(p, "354 go\r\n");
        body(p);
      }
      srv(p, replies[i]);
      sg_outcome r;
      ASSERT(sg_smtpc_proto_take_result(p, &r));
      ASSERT_EQ(i == 0 ? SG_OUTCOME_FAILED : SG_OUTCOME_RETRY, r.kind);
      ASSERT_EQ(i == 1, r.throttled && !r.quota_exceeded);
      ASSERT_EQ(i == 2, r.quota_exceeded);
      ASSERT(!r.ambiguous);
      ASSERT(sg_smtpc_proto_idle(p));
      sg_smtpc_proto_del(p);
    }
  }
}

static void t_xoauth2_two_step_and_error_challenge(void) {
  sg_smtpc_opts o = opts(SG_SMTPC_AUTH_XOAUTH2);
  o.xoauth2_two_step = true;
  sg_smtpc_proto *p = to_auth(&o);
  srv(p, EHLO_AUTH);
  out_is(p, "AUTH XOAUTH2\r\n");
  srv(p, "334 \r\n");
  sg_buf want = SG_BUF_INIT;
  sg_smtpc_sasl_xoauth2(&want, "mbx@contoso.com", "tok123");
  sg_buf_append_str(&want, "\r\n");
  out_is(p, want.data);
  sg_buf_free(&want);
  start(p, 1);
  /* Google/Microsoft error form: a 334 with base64 JSON, answered by an empty line. */
  srv(p, "334 eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIn0=\r\n");
  out_is(p, "\r\n");
  srv(p, "535 5.7.3 Authentication unsuccessful [host]\r\n");
  out_is(p, "QUIT\r\n"); /* a session the server ended: QUIT, then close */
  ASSERT(sg_smtpc_proto_quit_sent(p));
  ASSERT(sg_smtpc_proto_closed(p));
  sg_outcome r;
  ASSERT(sg_smtpc_proto_take_result(p, &r));
  ASSERT_EQ(SG_OUTCOME_AUTH_REFRESH, r.kind);
  ASSERT_STR_EQ("5.7.3", r.code);
  ASSERT_EQ(SG_OUTCOME_AUTH_REFRESH, sg_smtpc_proto_error(p)->kind);
  sg_smtpc_proto_del(p);

  /* One-line form with the error challenge. */
  o.xoauth2_two_step = false;
  p = to_auth(&o);
  srv(p, EHLO_AUTH);
  sg_buf_reset(sg_smtpc_proto_output(p));
  srv(p, "334 eyJzdGF0dXMiOiI0MDEifQ==\r\n");
  out_is(p, "\r\n");
  srv(p, "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled\r\n");
  ASSERT(sg_smtpc_proto_closed(p));
  ASSERT_EQ(SG_OUTCOME_FAILED, sg_smtpc_proto_error(p)->kind);
  ASSERT_STR_EQ("5.7.139", sg_smtpc_proto_error(p)->code);
  sg_smtpc_proto_del(p);
}

static void t_login(void) {
  sg_smtpc_opts o = opts(SG_SMTPC_AUTH_LOGIN);
  o.user = "hve@contoso.com";
  o.secret = "pw";
  sg_smtpc_proto *p = to_auth(&o);
  srv(p, EHLO_AUTH);
  out_is(p, "AUTH LOGIN\r\n");
  srv(p, "334 VXNlcm5hbWU6\r\n");
  out_is(p, "aHZlQGNvbnRvc28uY29t\r\n");
  srv(p, "334 UGFzc3dvcmQ6\r\n");
  out_is(p, "cHc=\r\n");
  srv(p, "550 5.7.30 Basic authentication is not supported for Client Submission.\r\n");
  ASSERT(sg_smtpc_proto_closed(p));
  ASSERT_EQ(SG_OUTCOME_FAILED, sg_smtpc_proto_error(p)->kind);
  ASSERT_STR_EQ("5.7.30", sg_smtpc_proto_error(p)->code);
  sg_smtpc_proto_del(p);
}

/* AUTH never goes in clear: no STARTTLS offered ends the session, and a
 * plaintext session cannot be made with AUTH. */
static void t_tls_required(void) {
  sg_smtpc_opts o = opts(SG_SMTPC_AUTH_XOAUTH2);
  sg_smtpc_proto *p;
  ASSERT_OK(sg_smtpc_proto_new(&p, &o));
  start(p, 1);
  srv(p, "220 mx\r\n");
  out_is(p, "EHLO gw.test\r\n");
  srv(p, "250-mx\r\n250 AUTH XOAUTH2 PLAIN\r\n");
  out_is(p, "QUIT\r\n");
  ASSERT(sg_smtpc_proto_closed(p));
  sg_outcome r;
  ASSERT(sg_smtpc_proto_take_result(p, &r));
  ASSERT_EQ(SG_OUTCOME_FAILED, r.kind);
  ASSERT_STR_EQ("StartTlsNotOffered", r.code);
  sg_smtpc_proto_del(p);
  o.plaintext = true;
  ASSERT_EQ(SG_ERR_INVAL, sg_smtpc_proto_new(&p, &o));
  /* STARTTLS injection: bytes after the 220 end the session. */
  o.plaintext = false;
  ASSERT_OK(sg_smtpc_proto_new(&p, &o));
  srv(p, "220 mx\r\n");
  srv(p, EHLO_TLS);
  out_is(p, "EHLO gw.test\r\nSTARTTLS\r\n");
  srv(p, "220 go\r\n250 injected\r\n");
  ASSERT(!sg_smtpc_proto_want_tls(p));
  ASSERT(sg_smtpc_proto_closed(p));
  ASSERT_STR_EQ("SmtpProtocolError", sg_smtpc_proto_error(p)->code);
  sg_smtpc_proto_del(p);
  /* Plaintext without AUTH (a test sink): no STARTTLS. */
  o = opts(SG_SMTPC_AUTH_NONE);
  o.plaintext = true;
  ASSERT_OK(sg_smtpc_proto_new(&p, &o));
  srv(p, "220 mx\r\n250-mx\r\n250 PIPELINING\r\n");
  out_is(p, "EHLO gw.test\r\n");
  ASSERT(sg_smtpc_proto_idle(p));
  sg_smtpc_proto_del(p);
}

static void t_setup_failures(void) {
  const char *greet[] = {"421 4.3.2 Service not available\r\n", "554 5.7.1 go away\r\n"};
  for (int i = 0; i < 2; i++) {
    sg_smtpc_opts o = opts(SG_SMTPC_AUTH_XOAUTH2);
    sg_smtpc_proto *p;
    ASSERT_OK(sg_smtpc_proto_new(&p, &o));
    start(p, 1);
    srv(p, greet[i]);
    sg_outcome r;
    ASSERT(sg_smtpc_proto_take_result(p, &r));
    ASSERT_EQ(i == 0 ? SG_OUTCOME_RETRY : SG_OUTCOME_FAILED, r.kind);
    ASSERT(sg_smtpc_proto_closed(p));
    char err[100];
    sg_smtpc_env env = {"a@b.c", (const char *const[]){"x@y.z"}, 1};
    ASSERT_EQ(SG_ERR_CLOSED,
              sg_smtpc_proto_start(p, &env, (const uint8_t *)"x\r\n", 3, err, sizeof err));
    sg_smtpc_proto_del(p);
  }
  /* EHLO refused, STARTTLS refused (454), mechanism missing. */
  sg_smtpc_opts o = opts(SG_SMTPC_AUTH_XOAUTH2);
  sg_smtpc_proto *p;
  ASSERT_OK(sg_smtpc_proto_new(&p, &o));
  srv(p, "220 mx\r\n501 5.5.4 bad EHLO\r\n");
  ASSERT(sg_smtpc_proto_closed(p));
  ASSERT_STR_EQ("5.5.4", sg_smtpc_proto_error(p)->code);
  sg_smtpc_proto_del(p);
  ASSERT_OK(sg_smtpc_proto_new(&p, &o));
  srv(p, "220 mx\r\n");
  srv(p, EHLO_TLS);
  srv(p, "454 4.7.0 TLS not available due to temporary reason\r\n");
  ASSERT(sg_smtpc_proto_closed(p));
  ASSERT_EQ(SG_OUTCOME_RETRY, sg_smtpc_proto_error(p)->kind);
  sg_smtpc_proto_del(p);
  p = to_auth(&o);
  srv(p, "250-mx\r\n250 AUTH LOGIN\r\n");
  ASSERT(sg_smtpc_proto_closed(p));
  ASSERT_STR_EQ("AuthMechanismNotOffered", sg_smtpc_proto_error(p)->code);
  sg_smtpc_proto_del(p);
}

static void t_transport_loss(void) {
  /* Before the dot: retry, not ambiguous. After it: ambiguous. */
  for (int after = 0; after < 2; after++) {
    sg_smtpc_proto *p = ready(SG_SMTPC_AUTH_XOAUTH2);
    start(p, 1);
    srv(p, "250 ok\r\n250 ok\r\n354 go\r\n");
    sg_buf_reset(sg_smtpc_proto_output(p));
    if (after)
      while (sg_smtpc_proto_body_pending(p))
        sg_smtpc_proto_pump(p, 1000);
    else
      sg_smtpc_proto_pump(p, 5);
    sg_smtpc_proto_fail(p, after ? SG_ERR_TIMEOUT : SG_ERR_EOF);
    sg_outcome r;
    ASSERT(sg_smtpc_proto_take_result(p, &r));
    ASSERT_EQ(SG_OUTCOME_RETRY, r.kind);
    ASSERT_EQ(after, r.ambiguous);
    ASSERT_STR_EQ(after ? "SG_ERR_TIMEOUT" : "SG_ERR_EOF", r.code);
    ASSERT(sg_smtpc_proto_closed(p));
    ASSERT(!sg_smtpc_proto_quit_sent(p)); /* a broken transport is dropped */
    sg_smtpc_proto_del(p);
  }
}

static void t_message_checks(void) {
  sg_smtpc_proto *p = ready(SG_SMTPC_AUTH_XOAUTH2);
  char err[200];
  const char *const rc[] = {"b@contoso.com"};
  sg_smtpc_env env = {"a@contoso.com", rc, 1};
  sg_buf m = SG_BUF_INIT;
  sg_buf_append_str(&m, "Subject: x\r\n\r\n");
  for (int i = 0; i < 1000; i++)
    sg_buf_append_char(&m, 'z');
  ASSERT_EQ(SG_ERR_TOOBIG,
            sg_smtpc_proto_start(p, &env, (uint8_t *)m.data, m.len, err, sizeof err));
  ASSERT_STR_EQ("line 3 of the message is 1000 octets; SMTP allows 998", err);
  sg_buf_free(&m);
  const char *const inj[] = {"b@contoso.com>\r\nRCPT TO:<evil@x.y"};
  sg_smtpc_env bad = {"a@contoso.com", inj, 1};
  ASSERT_EQ(SG_ERR_INVAL,
            sg_smtpc_proto_start(p, &bad, (const uint8_t *)MSG, strlen(MSG), err, sizeof err));
  bad = (sg_smtpc_env){"a@contoso.com", rc, 0};
  ASSERT_EQ(SG_ERR_INVAL,
            sg_smtpc_proto_start(p, &bad, (const uint8_t *)MSG, strlen(MSG), err, sizeof err));
  out_is(p, "");
  ASSERT(sg_smtpc_proto_idle(p));
  /* Over the server's SIZE: refused before MAIL. */
  sg_buf big = SG_BUF_INIT;
  for (int i = 0; i < 2000; i++)
    sg_buf_append_str(&big, "0123456789012345678901234567890123456789012345678901234567890\r\n");
  ASSERT_OK(sg_smtpc_proto_start(p, &env, (uint8_t *)big.data, big.len, err, sizeof err));
  out_is(p, "");
  sg_outcome r;
  ASSERT(sg_smtpc_proto_take_result(p, &r));
  ASSERT_EQ(SG_OUTCOME_FAILED, r.kind);
  ASSERT_STR_EQ("5.3.4", r.code);
  sg_buf_free(&big);
  /* 8-bit headers need SMTPUTF8, which this server lacks. */
  const char u8[] = "Subject: caf\xc3\xa9\r\n\r\nx\r\n";
  ASSERT_OK(sg_smtpc_proto_start(p, &env, (const uint8_t *)u8, strlen(u8), err, sizeof err));
  ASSERT(sg_smtpc_proto_take_result(p, &r));
  ASSERT_STR_EQ("5.6.7", r.code);
  /* 8-bit body with 8BITMIME: BODY=8BITMIME. */
  const char b8[] = "Subject: x\r\n\r\ncaf\xc3\xa9\r\n";
  ASSERT_OK(sg_smtpc_proto_start(p, &env, (const uint8_t *)b8, strlen(b8), err, sizeof err));
  out_is(p, "RSET\r\nMAIL FROM:<a@contoso.com> SIZE=24 BODY=8BITMIME\r\n"
            "RCPT TO:<b@contoso.com>\r\n");
  ASSERT_EQ(SG_ERR_BUSY,
            sg_smtpc_proto_start(p, &env, (const uint8_t *)b8, strlen(b8), err, sizeof err));
  sg_smtpc_proto_del(p);
}

static void t_unexpected_and_bounds(void) {
  /* A 421 on an idle session ends it. */
  sg_smtpc_proto *p = ready(SG_SMTPC_AUTH_XOAUTH2);
  srv(p, "421 4.4.2 Connection dropped due to timeout\r\n");
  ASSERT(sg_smtpc_proto_closed(p));
  ASSERT(sg_smtpc_proto_error(p)->throttled);
  sg_smtpc_proto_del(p);
  /* Garbage ends it. */
  p = ready(SG_SMTPC_AUTH_XOAUTH2);
  start(p, 1);
  srv(p, "HTTP/1.1 200 OK\r\n");
  ASSERT(sg_smtpc_proto_closed(p));
  sg_outcome r;
  ASSERT(sg_smtpc_proto_take_result(p, &r));
  ASSERT_STR_EQ("SmtpProtocolError", r.code);
  sg_smtpc_proto_del(p);
  /* Endless input without a line end is bounded. */
  p = ready(SG_SMTPC_AUTH_XOAUTH2);
  start(p, 1);
  char chunk[1024];
  memset(chunk, '2', sizeof chunk);
  for (int i = 0; i < 100 && !sg_smtpc_proto_closed(p); i++)
    sg_smtpc_proto_feed(p, (uint8_t *)chunk, sizeof chunk);
  ASSERT(sg_smtpc_proto_closed(p));
  sg_smtpc_proto_del(p);
  /* QUIT while a message is in progress waits for it. */
  p = ready(SG_SMTPC_AUTH_XOAUTH2);
  start(p, 1);
  sg_buf_reset(sg_smtpc_proto_output(p));
  sg_smtpc_proto_quit(p);
  out_is(p, "");
  srv(p, "250 ok\r\n550 5.1.10 RESOLVER.ADR.RecipientNotFound\r\n");
  out_is(p, "QUIT\r\n");
  ASSERT(sg_smtpc_proto_take_result(p, &r));
  ASSERT_STR_EQ("5.1.10", r.code);
  sg_smtpc_proto_fail(p, SG_ERR_EOF); /* the server hangs up after QUIT: fine */
  ASSERT(sg_smtpc_proto_closed(p));
  ASSERT_EQ(SG_OUTCOME_SENT, sg_smtpc_proto_error(p)->kind);
  sg_smtpc_proto_del(p);
}

SG_TESTS({"full_pipelined", t_full_pipelined}, {"no_pipelining", t_no_pipelining},
         {"envelope_refusals", t_envelope_refusals},
         {"data_and_dot_replies", t_data_and_dot_replies},
         {"xoauth2_two_step_and_error_challenge", t_xoauth2_two_step_and_error_challenge},
         {"login", t_login}, {"tls_required", t_tls_required}, {"setup_failures", t_setup_failures},
         {"transport_loss", t_transport_loss}, {"message_checks", t_message_checks},
         {"unexpected_and_bounds", t_unexpected_and_bounds})
