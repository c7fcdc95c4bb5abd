/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the SMTP backend: accounts of type exchange_smtp and hve
 * in the configuration (conf/sg_config_smtp.c), the provider
 * (svc/sg_prov_smtp.c: lanes, prepare, HVE's rules, what replies mean for
 * the lane) and, through the one attempt machine (app/sg_attempt.h), what
 * the runtime does with SMTP outcomes; the pool's choice of a session
 * (smtpc/sg_smtpc_pool.h).
 */
#include "harness.h"

#include <stdlib.h>
#include <unistd.h>

#include "app/sg_attempt.h"
#include "core/sg_err.h"
#include "smtpc/sg_smtpc_pool.h"
#include "svc/sg_prov_smtp.h"

static const char ini[] = "[account.exch]\n"
                          "type = exchange_smtp\n"
                          "tenant_id = t1\n"
                          "client_id = c1\n"
                          "client_secret = s1\n"
                          "[account.hve]\n"
                          "type = hve\n"
                          "username = hve@contoso.com\n"
                          "accepted_domains = contoso.com, Fabrikam.com\n"
                          "smtp_host = 127.0.0.1:2525\n"
                          "smtp_sessions = 2\n"
                          "[account.hveapp]\n"
                          "type = hve\n"
                          "tenant_id = t1\n"
                          "client_id = c1\n"
                          "client_secret = s1\n"
                          "accepted_domains = contoso.com\n";

/* Loads |text| (a config file) with |envp|; returns sg_config_load's result. */
static int load(sg_config *cfg, const char *text, char **envp, char *err, size_t cap) {
  char path[] = "/tmp/sg-test-smtp-XXXXXX";
  int fd = mkstemp(path);
  ASSERT(fd >= 0);
  ASSERT_EQ((ssize_t)strlen(text), write(fd, text, strlen(text)));
  close(fd);
  int rv = sg_config_load(cfg, path, envp, err, cap);
  unlink(path);
  return rv;
}

static void t_config(void) {
  char pw[] = "SENDGATE_ACCOUNT_HVE_PASSWORD=hve-secret";
  char rate[] = "SENDGATE_EXCHANGE_SMTP_MESSAGES_PER_MINUTE=20";
  char *envp[] = {pw, rate, NULL};
  sg_config cfg;
  char err[300];
  ASSERT_OK(load(&cfg, ini, envp, err, sizeof err));
  const sg_account *ex = sg_config_account(&cfg, SG_BACKEND_GRAPH, "exch");
  ASSERT_NOT_NULL(ex);
  ASSERT_EQ(SG_BACKEND_SMTP, ex->backend);
  ASSERT(!ex->hve);
  ASSERT_STR_EQ("smtp.office365.com:587", ex->smtp_host);
  ASSERT_STR_EQ("https://outlook.office365.com/.default", ex->scope);
  ASSERT_EQ(20, ex->limits.smtp_messages_per_minute);
  ASSERT_EQ(10000, ex->limits.smtp_recipients_per_day);
  ASSERT_EQ(3, ex->limits.smtp_sessions);
  const sg_account *h = sg_config_account(&cfg, SG_BACKEND_UNSPECIFIED, "hve");
  ASSERT_NOT_NULL(h);
  ASSERT(h->hve);
  ASSERT_STR_EQ("127.0.0.1:2525", h->smtp_host);
  ASSERT_STR_EQ("hve-secret", h->password);
  ASSERT_EQ(0, h->limits.smtp_messages_per_minute); /* [hve] defaults */
  ASSERT_EQ(0, h->limits.smtp_recipients_per_day);
  ASSERT_EQ(2, h->limits.smtp_sessions);
  const sg_account *ha = sg_config_account(&cfg, SG_BACKEND_UNSPECIFIED, "hveapp");
  ASSERT_STR_EQ("smtp-hve.office365.com:587", ha->smtp_host);
  sg_config_free(&cfg);
}

static void expect_refused(const char *text, char **envp, const char *why) {
  sg_config cfg;
  char err[300] = "";
  ASSERT_EQ(SG_ERR_CONFIG, load(&cfg, text, envp, err, sizeof err));
  if (strstr(err, why) == NULL) {
    fprintf(stderr, "error [%s] lacks [%s]\n", err, why);
    ASSERT(0);
  }
}

static void t_config_refusals(void) {
  char *none[] = {NULL};
  char hpw[] = "SENDGATE_ACCOUNT_H_PASSWORD=x";
  char *with_pw[] = {hpw, NULL};
  expect_refused("[account.h]\ntype = hve\nusername = u@contoso.com\naccepted_domains = c.com\n",
                 none, "needs its password");
  expect_refused("[account.h]\ntype = hve\nusername = u@contoso.com\n", with_pw,
                 "accepted_domains");
  expect_refused("[account.e]\ntype = exchange_smtp\ntenant_id = t\nclient_id = c\n", none,
                 "needs tenant_id, client_id and client_secret");
  expect_refused("[account.e]\ntype = exchange_smtp\ntenant_id = t\nclient_id = c\n"
                 "client_secret = s\nusername = u\n",
                 none, "not a username");
  expect_refused("[account.e]\ntype = exchange_smtp\ntenant_id = t\nclient_id = c\n"
                 "client_secret = s\nsmtp_host = host:99999\n",
                 none, "smtp_host");
  expect_refused("[account.e]\ntype = smtp\n", none, "exchange_smtp or hve");
}

typedef struct fixture {
  sg_config cfg;
  void *ex, *hve; /* provider states */
  sg_prov_info ex_info, hve_info;
} fixture;

static void fx_init(fixture *f) {
  char pw[] = "SENDGATE_ACCOUNT_HVE_PASSWORD=hve-secret";
  char thr[] = "SENDGATE_EXCHANGE_SMTP_THROTTLE_MS=700";
  char *envp[] = {pw, thr, NULL};
  char err[300];
  ASSERT_OK(load(&f->cfg, ini, envp, err, sizeof err));
  ASSERT_OK(sg_provider_smtp.acct_init(&f->ex, &f->ex_info,
                                       sg_config_account(&f->cfg, SG_BACKEND_SMTP, "exch"), &f->cfg,
                                       err, sizeof err));
  ASSERT_OK(sg_provider_smtp.acct_init(&f->hve, &f->hve_info,
                                       sg_config_account(&f->cfg, SG_BACKEND_SMTP, "hve"), &f->cfg,
                                       err, sizeof err));
}

static void fx_free(fixture *f) {
  sg_provider_smtp.acct_free(f->ex);
  sg_provider_smtp.acct_free(f->hve);
  sg_config_free(&f->cfg);
}

static void t_accounts_and_lanes(void) {
  fixture f;
  fx_init(&f);
  ASSERT(sg_provider_for(SG_BACKEND_SMTP) == &sg_provider_smtp);
  ASSERT_EQ(SG_PROV_TRANSPORT_SMTP, sg_provider_smtp.transport);
  ASSERT_EQ(SG_PROV_TRANSPORT_HTTP, sg_provider_graph.transport);
  ASSERT(!sg_provider_smtp.idempotent);
  ASSERT(f.ex_info.needs_token);   /* XOAUTH2 */
  ASSERT(!f.hve_info.needs_token); /* its own password */
  sg_prov_smtp_target t;
  sg_prov_smtp_target_of(f.ex, &t);
  ASSERT_STR_EQ("smtp.office365.com", t.host);
  ASSERT_EQ(587, t.port);
  ASSERT_EQ(SG_SMTPC_AUTH_XOAUTH2, t.auth);
  sg_prov_smtp_target_of(f.hve, &t);
  ASSERT_STR_EQ("127.0.0.1", t.host);
  ASSERT_EQ(2525, t.port);
  ASSERT_EQ(SG_SMTPC_AUTH_LOGIN, t.auth);
  ASSERT_STR_EQ("hve@contoso.com", t.user);
  ASSERT_STR_EQ("hve-secret", t.password);

  sg_job_addr to[] = {{"a@fabrikam.com", ""}, {"b@fabrikam.com", ""}};
  sg_job_addr bcc[] = {{"c@fabrikam.com", ""}};
  sg_job j = {.id = "j", .sender = "MBX@Contoso.com", .to = to, .n_to = 2, .bcc = bcc, .n_bcc = 1};
  char key[SG_PROV_LANE_KEY_MAX];
  sg_lane_cfg lc;
  uint32_t rcpts;
  sg_provider_smtp.lane(f.ex, &j, false, key, &lc, &rcpts);
  ASSERT_STR_EQ("smtp|exch|mbx@contoso.com", key);
  ASSERT_EQ(3, lc.max_inflight); /* sessions per mailbox */
  ASSERT_EQ(30, lc.msg_limit);
  ASSERT_EQ(60000, lc.msg_window_ms);
  ASSERT_EQ(10000, lc.rcpt_limit);
  ASSERT_EQ(86400000, lc.rcpt_window_ms);
  ASSERT_EQ(0, lc.req_limit);
  ASSERT_EQ(3, rcpts);
  sg_provider_smtp.lane(f.hve, &j, false, key, &lc, &rcpts);
  ASSERT_STR_EQ("smtp|hve|mbx@contoso.com", key);
  ASSERT_EQ(2, lc.max_inflight);
  ASSERT_EQ(0, lc.msg_limit);
  fx_free(&f);
}

/* Prepares |j| for account state |st|: 0 or the refusal's code in |code|. */
static int prepare(const void *st, const sg_job *j, sg_prov_job *pj, const char **code) {
  memset(pj, 0, sizeof *pj);
  pj->job = j;
  sg_job_error je = {0};
  int rv = sg_provider_smtp.prepare(st, pj, &je);
  *code = rv ? je.code : NULL;
  return rv;
}

static void pj_free(sg_prov_job *pj) {
  sg_provider_smtp.job_free(pj);
  sg_buf_free(&pj->body);
}

static void t_prepare(void) {
  fixture f;
  fx_init(&f);
  sg_job_addr to[] = {{"a@contoso.com", "A"}};
  sg_job_addr cc[] = {{"b@fabrikam.com", ""}};
  sg_job_addr bcc[] = {{"c@contoso.com", ""}};
  sg_job j = {.id = "p-1",
              .account = "exch",
              .sender = "mbx@contoso.com",
              .to = to,
              .n_to = 1,
              .cc = cc,
              .n_cc = 1,
              .bcc = bcc,
              .n_bcc = 1,
              .subject = "hi",
              .text_body = "hello\n.dot",
              .html_body = ""};
  sg_prov_job pj;
  const char *code;
  ASSERT_OK(prepare(f.ex, &j, &pj, &code));
  sg_smtpc_env env;
  const uint8_t *msg;
  size_t len;
  sg_prov_smtp_message(&pj, &env, &msg, &len);
  ASSERT_STR_EQ("mbx@contoso.com", env.from);
  ASSERT_EQ(3, env.n_rcpts); /* To, Cc, Bcc in that order */
  ASSERT_STR_EQ("a@contoso.com", env.rcpts[0]);
  ASSERT_STR_EQ("b@fabrikam.com", env.rcpts[1]);
  ASSERT_STR_EQ("c@contoso.com", env.rcpts[2]);
  ASSERT(pj.keep_body);
  ASSERT(len > 0 && memmem(msg, len, "Subject: hi\r\n", 13) != NULL);
  ASSERT(memmem(msg, len, "c@contoso.com", 13) == NULL); /* Bcc only in the envelope */
  pj_free(&pj);

  /* A MIME job goes as it is. */
  static const char mime[] = "From: mbx@contoso.com\r\nSubject: m\r\n\r\nbody\r\n";
  sg_job m = j;
  m.subject = m.text_body = "";
  m.mime = (const uint8_t *)mime;
  m.mime_len = sizeof mime - 1;
  ASSERT_OK(prepare(f.ex, &m, &pj, &code));
  sg_prov_smtp_message(&pj, &env, &msg, &len);
  ASSERT(msg == m.mime);
  ASSERT_EQ(sizeof mime - 1, len);
  pj_free(&pj);

  /* What SMTP cannot carry is INVALID before any lane. */
  char longline[1300];
  snprintf(longline, sizeof longline, "Subject: l\r\n\r\n%01200d\r\n", 0);
  m.mime = (const uint8_t *)longline;
  m.mime_len = strlen(longline);
  ASSERT_EQ(SG_ERR_INVAL, prepare(f.ex, &m, &pj, &code));
  ASSERT_STR_EQ(SG_PROV_SMTP_ERR_LINE, code);
  pj_free(&pj);
  sg_job bad = j;
  bad.sender = "not an address";
  ASSERT_EQ(SG_ERR_INVAL, prepare(f.ex, &bad, &pj, &code));
  ASSERT_STR_EQ(SG_JOBERR_BAD_ADDRESS, code);
  pj_free(&pj);
  bad = j;
  bad.n_to = bad.n_cc = bad.n_bcc = 0;
  ASSERT_EQ(SG_ERR_INVAL, prepare(f.ex, &bad, &pj, &code));
  ASSERT_STR_EQ(SG_JOBERR_NO_RECIPIENTS, code);
  pj_free(&pj);

  /* HVE: the accepted domains (any case), at most 50 recipients. */
  ASSERT_OK(prepare(f.hve, &j, &pj, &code)); /* contoso.com and Fabrikam.com */
  pj_free(&pj);
  sg_job_addr ext[] = {{"x@outside.example", ""}};
  sg_job e = j;
  e.bcc = ext;
  ASSERT_EQ(SG_ERR_INVAL, prepare(f.hve, &e, &pj, &code));
  ASSERT_STR_EQ(SG_PROV_SMTP_ERR_RCPT, code);
  pj_free(&pj);
  ASSERT_OK(prepare(f.ex, &e, &pj, &code)); /* Exchange sends outside */
  pj_free(&pj);
  sg_job_addr many[51];
  for (size_t i = 0; i < 51; i++)
    many[i] = (sg_job_addr){"r@contoso.com", ""};
  e = j;
  e.to = many;
  e.n_to = 51;
  e.n_cc = e.n_bcc = 0;
  ASSERT_EQ(SG_ERR_INVAL, prepare(f.hve, &e, &pj, &code));
  ASSERT_STR_EQ(SG_JOBERR_TOO_MANY_RECIPIENTS, code);
  pj_free(&pj);
  e.n_to = 50;
  ASSERT_OK(prepare(f.hve, &e, &pj, &code));
  pj_free(&pj);
  fx_free(&f);
}

/* The outcome of reply |text| at |stage|, settled by the provider for account |st|. */
static sg_outcome reply(const void *st, sg_smtpc_stage stage, const char *text, bool xoauth2) {
  sg_smtpc_reply r;
  size_t used;
  ASSERT_OK(sg_smtpc_reply_parse(text, strlen(text), &r, &used));
  sg_outcome o;
  sg_smtpc_classify_reply(stage, &r, xoauth2, &o);
  sg_prov_smtp_settle(st, &o);
  return o;
}

/* What the attempt machine decides for |o| (fresh job unless |at| given). */
static sg_next decide(sg_attempt *at, const sg_outcome *o, bool fail_ambiguous) {
  sg_attempt_policy p = {.max_attempts = 5,
                         .deadline_ms = INT64_MAX,
                         .idempotent = sg_provider_smtp.idempotent,
                         .fail_ambiguous = fail_ambiguous,
                         .retry_base_ms = 100,
                         .retry_cap_ms = 1000,
                         .token_retry_ms = 1000};
  sg_next n;
  sg_attempt_next(at, o, false, &p, 1000, 42, &n);
  return n;
}

static void t_replies(void) {
  fixture f;
  fx_init(&f);
  sg_attempt at = {0};
  sg_outcome o = reply(f.ex, SG_SMTPC_STAGE_DOT, "250 2.0.0 OK <id@host>\r\n", true);
  ASSERT_EQ(SG_OUTCOME_SENT, o.kind);
  ASSERT_STR_EQ("250 2.0.0 OK <id@host>", o.request_id);
  sg_next n = decide(&at, &o, false);
  ASSERT_EQ(SG_NEXT_FINISH, n.kind);
  ASSERT_EQ(SG_STATUS_SENT, n.status);

  /* 4.7.x: the lane pauses for exchange_smtp.throttle_ms, not a failed attempt. */
  o = reply(f.ex, SG_SMTPC_STAGE_MAIL, "450 4.7.0 too many messages\r\n", true);
  ASSERT_EQ(SG_OUTCOME_RETRY, o.kind);
  ASSERT(o.throttled && o.has_retry_after);
  ASSERT_EQ(700, o.retry_after_ms);
  memset(&at, 0, sizeof at);
  n = decide(&at, &o, false);
  ASSERT_EQ(SG_NEXT_PAUSE, n.kind);
  ASSERT_EQ(700, n.delay_ms);
  ASSERT_EQ(0, at.failures);
  o = reply(f.ex, SG_SMTPC_STAGE_DOT, "421 4.3.2 Service not available\r\n", true);
  ASSERT(o.throttled && o.has_retry_after);

  /* Other 4xx: retried with backoff, a failed attempt. */
  o = reply(f.ex, SG_SMTPC_STAGE_DOT, "451 4.3.0 Temporary server error\r\n", true);
  ASSERT_EQ(SG_OUTCOME_RETRY, o.kind);
  ASSERT(!o.throttled && !o.has_retry_after);
  n = decide(&at, &o, false);
  ASSERT_EQ(SG_NEXT_REQUEUE, n.kind);
  ASSERT_EQ(1, at.failures);

  /* 5xx: FAILED with the enhanced code. */
  const char *fails[][2] = {
      {"550 5.7.30 Basic authentication is not supported for Client Submission.\r\n", "5.7.30"},
      {"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled\r\n",
       "5.7.139"},
      {"554 5.2.252 SendAsDenied; a not allowed to send as b\r\n", "5.2.252"},
      {"550 5.7.54 Unable to relay recipient in non-accepted domain\r\n", "5.7.54"},
      {"554 no enhanced code\r\n", "SMTP554"}};
  for (size_t i = 0; i < SG_ARRAY_LEN(fails); i++) {
    o = reply(f.ex, SG_SMTPC_STAGE_AUTH, fails[i][0], false);
    ASSERT_EQ(SG_OUTCOME_FAILED, o.kind);
    ASSERT_STR_EQ(fails[i][1], o.code);
    memset(&at, 0, sizeof at);
    n = decide(&at, &o, false);
    ASSERT_EQ(SG_NEXT_FINISH, n.kind);
    ASSERT_EQ(SG_STATUS_FAILED, n.status);
  }

  /* 535 5.7.3 to XOAUTH2: a new token, once; a second in a row is FAILED. */
  o = reply(f.ex, SG_SMTPC_STAGE_AUTH, "535 5.7.3 Authentication unsuccessful\r\n", true);
  ASSERT_EQ(SG_OUTCOME_AUTH_REFRESH, o.kind);
  memset(&at, 0, sizeof at);
  n = decide(&at, &o, false);
  ASSERT_EQ(SG_NEXT_REQUEUE, n.kind);
  ASSERT(n.invalidate_token);
  n = decide(&at, &o, false);
  ASSERT_EQ(SG_NEXT_FINISH, n.kind);
  ASSERT_EQ(SG_STATUS_FAILED, n.status);
  /* The same reply to HVE's password: FAILED at once. */
  o = reply(f.hve, SG_SMTPC_STAGE_AUTH, "535 5.7.3 Authentication unsuccessful\r\n", false);
  ASSERT_EQ(SG_OUTCOME_FAILED, o.kind);

  /* The daily quota: the mailbox waits a day. */
  o = reply(f.ex, SG_SMTPC_STAGE_DOT,
            "554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; x\r\n",
            true);
  ASSERT_EQ(SG_OUTCOME_RETRY, o.kind);
  ASSERT(o.quota_exceeded);
  ASSERT_EQ(SG_PROV_SMTP_QUOTA_MS, o.retry_after_ms);
  memset(&at, 0, sizeof at);
  n = decide(&at, &o, false);
  ASSERT_EQ(SG_NEXT_PAUSE, n.kind);
  ASSERT_EQ((uint64_t)SG_PROV_SMTP_QUOTA_MS, n.delay_ms);

  /* The connection lost after the final dot: ambiguous; gateway.ambiguous decides. */
  sg_smtpc_classify_transport(SG_SMTPC_STAGE_DOT, SG_ERR_EOF, &o);
  sg_prov_smtp_settle(f.ex, &o);
  ASSERT(o.ambiguous);
  memset(&at, 0, sizeof at);
  n = decide(&at, &o, true);
  ASSERT_EQ(SG_NEXT_FINISH, n.kind);
  ASSERT_EQ(SG_STATUS_FAILED, n.status);
  ASSERT_STR_EQ("SENDGATE_AMBIGUOUS", n.code);
  memset(&at, 0, sizeof at);
  n = decide(&at, &o, false);
  ASSERT_EQ(SG_NEXT_REQUEUE, n.kind);
  ASSERT(at.ambiguous_seen);
  /* Lost before the dot: not ambiguous. */
  sg_smtpc_classify_transport(SG_SMTPC_STAGE_RCPT, SG_ERR_EOF, &o);
  ASSERT(!o.ambiguous);
  fx_free(&f);
}

static void t_pool_choice(void) {
  uint64_t a = sg_smtpc_pool_cred("token-a"), b = sg_smtpc_pool_cred("token-b");
  ASSERT_NE(a, b);
  ASSERT_EQ(a, sg_smtpc_pool_cred("token-a"));
  /* none: open one */
  ASSERT_EQ(-1, sg_smtpc_pool_choose(NULL, 0, a));
  /* a ready session first, whatever its credential (it has signed in) */
  sg_smtpc_pool_view v[4] = {{false, false, false, a}, /* connecting, free, same cred */
                             {true, true, false, a},   /* busy */
                             {true, false, false, b},  /* ready */
                             {true, false, true, a}};  /* closing */
  ASSERT_EQ(2, sg_smtpc_pool_choose(v, 4, a));
  /* else one still connecting with the same credential */
  v[2].busy = true;
  ASSERT_EQ(0, sg_smtpc_pool_choose(v, 4, a));
  /* not one with another credential (e.g. a token refused since): open a new one */
  ASSERT_EQ(-1, sg_smtpc_pool_choose(v, 4, b));
  /* busy or closing ones never */
  v[0].busy = true;
  ASSERT_EQ(-1, sg_smtpc_pool_choose(v, 4, a));
  /* above the cap, an idle session leaves */
  ASSERT(!sg_smtpc_pool_surplus(3, 3));
  ASSERT(sg_smtpc_pool_surplus(4, 3));
  ASSERT(!sg_smtpc_pool_surplus(100, 0));
}

SG_TESTS({"config", t_config}, {"config_refusals", t_config_refusals},
         {"accounts_and_lanes", t_accounts_and_lanes}, {"prepare", t_prepare},
         {"replies", t_replies}, {"pool_choice", t_pool_choice})
