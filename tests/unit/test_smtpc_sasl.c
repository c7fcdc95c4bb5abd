/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for smtpc/sg_smtpc_sasl and sg_smtpc_classify. */
#include "harness.h"

#include "core/sg_err.h"
#include "smtpc/sg_smtpc_classify.h"
#include "smtpc/sg_smtpc_sasl.h"

/* microsoft-apis.md 6.3: Microsoft's documented XOAUTH2 example. */
static void t_xoauth2_vector(void) {
  sg_buf b = SG_BUF_INIT;
  sg_smtpc_sasl_xoauth2(&b, "test@contoso.onmicrosoft.com",
                        "EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA");
  ASSERT_STR_EQ("dXNlcj10ZXN0QGNvbnRvc28ub25taWNyb3NvZnQuY29tAWF1dGg9QmVhcmVyIEV3QkFBbDNCQUFVRkZwVU"
                "FvN0ozVmUwYmpMQldaV0NjbFJDM0VvQUEBAQ==",
                b.data);
  sg_smtpc_sasl_wipe(&b);
}

static void t_plain_login(void) {
  sg_buf b = SG_BUF_INIT;
  /* RFC 4616 example shape: NUL user NUL password. */
  sg_smtpc_sasl_plain(&b, "tim", "tanstaaftanstaaf");
  ASSERT_STR_EQ("AHRpbQB0YW5zdGFhZnRhbnN0YWFm", b.data);
  sg_buf_reset(&b);
  sg_smtpc_sasl_login_step(&b, "hve@contoso.com");
  ASSERT_STR_EQ("aHZlQGNvbnRvc28uY29t", b.data);
  sg_smtpc_sasl_wipe(&b);
  ASSERT_NULL(b.data);
}

static sg_smtpc_reply reply(int code, const char *enh, const char *text) {
  sg_smtpc_reply r;
  memset(&r, 0, sizeof r);
  r.code = code;
  snprintf(r.enh, sizeof r.enh, "%s", enh);
  snprintf(r.text, sizeof r.text, "%s", text);
  r.text_len = strlen(r.text);
  r.nlines = 1;
  return r;
}

static void t_classify(void) {
  sg_outcome o;
  sg_smtpc_reply r = reply(250, "2.0.0", "OK <id@x> [Hostname=x]");
  sg_smtpc_classify_reply(SG_SMTPC_STAGE_DOT, &r, true, &o);
  ASSERT_EQ(SG_OUTCOME_SENT, o.kind);
  ASSERT_EQ(250, o.http_status);

  r = reply(550, "5.7.30", "Basic authentication is not supported for Client Submission.");
  sg_smtpc_classify_reply(SG_SMTPC_STAGE_AUTH, &r, false, &o);
  ASSERT_EQ(SG_OUTCOME_FAILED, o.kind);
  ASSERT_STR_EQ("5.7.30", o.code);
  ASSERT(strstr(o.message, "AUTH: 550 5.7.30 Basic authentication") != NULL);

  r = reply(535, "5.7.3", "Authentication unsuccessful [SN4PR0501CA0123]");
  sg_smtpc_classify_reply(SG_SMTPC_STAGE_AUTH, &r, true, &o);
  ASSERT_EQ(SG_OUTCOME_AUTH_REFRESH, o.kind);
  sg_smtpc_classify_reply(SG_SMTPC_STAGE_AUTH, &r, false, &o);
  ASSERT_EQ(SG_OUTCOME_FAILED, o.kind);

  r = reply(535, "5.7.139", "Authentication unsuccessful, SmtpClientAuthentication is disabled");
  sg_smtpc_classify_reply(SG_SMTPC_STAGE_AUTH, &r, true, &o);
  ASSERT_EQ(SG_OUTCOME_FAILED, o.kind);
  ASSERT_STR_EQ("5.7.139", o.code);

  r = reply(554, "5.2.252", "SendAsDenied; a@x not allowed to send as b@x");
  sg_smtpc_classify_reply(SG_SMTPC_STAGE_DOT, &r, true, &o);
  ASSERT_EQ(SG_OUTCOME_FAILED, o.kind);
  ASSERT_STR_EQ("5.2.252", o.code);

  r = reply(554, "5.2.0", "STOREDRV.Submission.Exception:SubmissionQuotaExceededException");
  sg_smtpc_classify_reply(SG_SMTPC_STAGE_DOT, &r, true, &o);
  ASSERT_EQ(SG_OUTCOME_RETRY, o.kind);
  ASSERT(o.quota_exceeded && o.throttled);
  ASSERT_STR_EQ("5.2.0", o.code);

  r = reply(554, "5.2.0", "some other store driver failure");
  sg_smtpc_classify_reply(SG_SMTPC_STAGE_DOT, &r, true, &o);
  ASSERT_EQ(SG_OUTCOME_FAILED, o.kind);

  r = reply(452, "4.7.0", "Too many messages");
  sg_smtpc_classify_reply(SG_SMTPC_STAGE_MAIL, &r, true, &o);
  ASSERT_EQ(SG_OUTCOME_RETRY, o.kind);
  ASSERT(o.throttled);
  r = reply(451, "4.3.0", "Temporary server error");
  sg_smtpc_classify_reply(SG_SMTPC_STAGE_DOT, &r, true, &o);
  ASSERT_EQ(SG_OUTCOME_RETRY, o.kind);
  ASSERT(!o.throttled && !o.ambiguous);
  r = reply(421, "", "closing");
  sg_smtpc_classify_reply(SG_SMTPC_STAGE_RCPT, &r, true, &o);
  ASSERT(o.throttled);
  ASSERT_STR_EQ("SMTP421", o.code);

  sg_smtpc_classify_transport(SG_SMTPC_STAGE_DOT, SG_ERR_TIMEOUT, &o);
  ASSERT_EQ(SG_OUTCOME_RETRY, o.kind);
  ASSERT(o.ambiguous);
  ASSERT_EQ(0, o.http_status);
  sg_smtpc_classify_transport(SG_SMTPC_STAGE_BODY, SG_ERR_EOF, &o);
  ASSERT(!o.ambiguous);
  /* Control characters from the server never reach the message. */
  r = reply(550, "", "a\tb\x01");
  sg_smtpc_classify_reply(SG_SMTPC_STAGE_RCPT, &r, true, &o);
  ASSERT(strchr(o.message, '\t') == NULL && strchr(o.message, 1) == NULL);
}

SG_TESTS({"xoauth2_vector", t_xoauth2_vector}, {"plain_login", t_plain_login},
         {"classify", t_classify})
