/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for sandbox/sg_sbx_smtp (the SMTP stand-in's session), driven
 * by our own client machine (smtpc/sg_smtpc_proto) in memory: the two are
 * paired byte for byte, and "TLS" is the two machines being told the
 * handshake is done (the real handshake is tests/integration/test_smtpc.sh's).
 */
#include "harness.h"

#include "core/sg_err.h"
#include "sandbox/sg_sbx_smtp.h"
#include "smtpc/sg_smtpc_proto.h"

typedef struct world {
  sg_sbx_smtp_policy pol;
  sg_sbx_smtp_hooks hooks;
  int taken;
  int rate_cap;
  sg_sbx_fault fault;
  int delivered;
  char last_from[64], last_mailbox[64];
  size_t last_rcpts;
  sg_buf last_data;
} world;

static sg_sbx_token_status check_token(void *ud, const char *tok, size_t len) {
  (void)ud;
  return len == 4 && memcmp(tok, "good", 4) == 0 ? SG_SBX_TOKEN_OK : SG_SBX_TOKEN_EXPIRED;
}

static bool take(void *ud, const char *mailbox) {
  world *w = ud;
  (void)mailbox;
  return ++w->taken <= w->rate_cap;
}

static sg_sbx_fault fault(void *ud) {
  return ((world *)ud)->fault;
}

static void deliver(void *ud, const sg_sbx_smtp_delivery *d, char id[64]) {
  world *w = ud;
  w->delivered++;
  snprintf(w->last_from, sizeof w->last_from, "%s", d->from);
  snprintf(w->last_mailbox, sizeof w->last_mailbox, "%s", d->mailbox);
  w->last_rcpts = d->n_rcpts;
  sg_buf_reset(&w->last_data);
  sg_buf_append(&w->last_data, d->data, d->len);
  snprintf(id, 64, "id%d", w->delivered);
}

static void world_init(world *w, sg_sbx_smtp_role role) {
  memset(w, 0, sizeof *w);
  w->pol = (sg_sbx_smtp_policy){role,  "hve@contoso.com", "pw", "contoso.com", 50, 1 << 20, false,
                                false, "full@contoso.com"};
  w->hooks = (sg_sbx_smtp_hooks){check_token, take, fault, deliver, w};
  w->rate_cap = 1000;
}

static void world_free(world *w) {
  sg_buf_free(&w->last_data);
}

/* Moves bytes both ways until neither side has anything to say. */
static void pair(sg_smtpc_proto *c, sg_sbx_smtp *s) {
  for (int round = 0; round < 1000; round++) {
    bool moved = false;
    while (sg_smtpc_proto_body_pending(c))
      sg_smtpc_proto_pump(c, 4096);
    sg_buf *co = sg_smtpc_proto_output(c), *so = sg_sbx_smtp_output(s);
    if (so->len) {
      sg_smtpc_proto_feed(c, (uint8_t *)so->data, so->len);
      sg_buf_reset(so);
      moved = true;
    }
    if (sg_sbx_smtp_want_tls(s))
      sg_sbx_smtp_tls_done(s);
    if (sg_smtpc_proto_want_tls(c))
      sg_smtpc_proto_tls_done(c);
    co = sg_smtpc_proto_output(c);
    if (co->len) {
      sg_sbx_smtp_feed(s, (uint8_t *)co->data, co->len);
      sg_buf_reset(co);
      moved = true;
    }
    bool drop;
    if (sg_sbx_smtp_closed(s, &drop) && drop && !sg_smtpc_proto_closed(c))
      sg_smtpc_proto_fail(c, SG_ERR_EOF);
    if (!moved)
      return;
  }
  ASSERT(!"pair: no quiescence");
}

static const char MSG[] = "From: mbx@contoso.com\r\nTo: a@contoso.com\r\nSubject: t\r\n\r\n"
                          ".leading dot\r\nbody\r\n";

static sg_outcome send1(world *w, sg_smtpc_auth auth, bool two_step, const char *user,
                        const char *secret, const char *from, const char *const *rcpts, size_t n) {
  sg_smtpc_opts o;
  memset(&o, 0, sizeof o);
  o.auth = auth;
  o.user = user;
  o.secret = secret;
  o.xoauth2_two_step = two_step;
  sg_smtpc_proto *c;
  ASSERT_OK(sg_smtpc_proto_new(&c, &o));
  sg_sbx_smtp *s = sg_sbx_smtp_new(&w->pol, &w->hooks);
  sg_smtpc_env env = {from, rcpts, n};
  char err[200];
  ASSERT_OK(sg_smtpc_proto_start(c, &env, (const uint8_t *)MSG, strlen(MSG), err, sizeof err));
  pair(c, s);
  sg_outcome r;
  ASSERT(sg_smtpc_proto_take_result(c, &r));
  if (!sg_smtpc_proto_closed(c)) {
    sg_smtpc_proto_quit(c);
    pair(c, s);
    ASSERT(sg_smtpc_proto_closed(c));
    bool drop;
    ASSERT(sg_sbx_smtp_closed(s, &drop));
  }
  sg_smtpc_proto_del(c);
  sg_sbx_smtp_free(s);
  return r;
}

static const char *const RC1[] = {"a@contoso.com"};

static void t_xoauth2_both_forms(void) {
  world w;
  world_init(&w, SG_SBX_SMTP_EXCHANGE);
  for (int two = 0; two < 2; two++) {
    sg_outcome r =
        send1(&w, SG_SMTPC_AUTH_XOAUTH2, two, "mbx@contoso.com", "good", "mbx@contoso.com", RC1, 1);
    ASSERT_EQ(SG_OUTCOME_SENT, r.kind);
    ASSERT_EQ(two + 1, w.delivered);
    ASSERT_STR_EQ("mbx@contoso.com", w.last_mailbox);
    /* The server got the message unstuffed, as written. */
    ASSERT_EQ(strlen(MSG), w.last_data.len);
    ASSERT_MEM_EQ(MSG, w.last_data.data, strlen(MSG));
    /* A bad token: the error challenge, answered, then 535 5.7.3. */
    r = send1(&w, SG_SMTPC_AUTH_XOAUTH2, two, "mbx@contoso.com", "expired", "mbx@contoso.com", RC1,
              1);
    ASSERT_EQ(SG_OUTCOME_AUTH_REFRESH, r.kind);
    ASSERT_STR_EQ("5.7.3", r.code);
  }
  world_free(&w);
}

static void t_exchange_refuses_basic(void) {
  world w;
  world_init(&w, SG_SBX_SMTP_EXCHANGE);
  sg_outcome r =
      send1(&w, SG_SMTPC_AUTH_LOGIN, false, "hve@contoso.com", "pw", "hve@contoso.com", RC1, 1);
  ASSERT_EQ(SG_OUTCOME_FAILED, r.kind);
  ASSERT_STR_EQ("5.7.30", r.code);
  ASSERT(strstr(r.message, "Basic authentication is not supported for Client Submission") != NULL);
  w.pol.basic_5_7_139 = true;
  r = send1(&w, SG_SMTPC_AUTH_LOGIN, false, "hve@contoso.com", "pw", "hve@contoso.com", RC1, 1);
  ASSERT_STR_EQ("5.7.139", r.code);
  w.pol.auth_disabled = true;
  r = send1(&w, SG_SMTPC_AUTH_XOAUTH2, false, "mbx@contoso.com", "good", "mbx@contoso.com", RC1, 1);
  ASSERT_EQ(SG_OUTCOME_FAILED, r.kind);
  ASSERT_STR_EQ("5.7.139", r.code);
  ASSERT_EQ(0, w.delivered);
  world_free(&w);
}

static void t_exchange_send_as_and_quota(void) {
  world w;
  world_init(&w, SG_SBX_SMTP_EXCHANGE);
  sg_outcome r =
      send1(&w, SG_SMTPC_AUTH_XOAUTH2, false, "mbx@contoso.com", "good", "ceo@contoso.com", RC1, 1);
  ASSERT_EQ(SG_OUTCOME_FAILED, r.kind);
  ASSERT_STR_EQ("5.2.252", r.code);
  r = send1(&w, SG_SMTPC_AUTH_XOAUTH2, false, "full@contoso.com", "good", "full@contoso.com", RC1,
            1);
  ASSERT_EQ(SG_OUTCOME_RETRY, r.kind);
  ASSERT(r.quota_exceeded);
  ASSERT_EQ(0, w.delivered);
  /* The minute window: 450 4.7.0, throttled. */
  w.rate_cap = 0;
  r = send1(&w, SG_SMTPC_AUTH_XOAUTH2, false, "mbx@contoso.com", "good", "mbx@contoso.com", RC1, 1);
  ASSERT_EQ(SG_OUTCOME_RETRY, r.kind);
  ASSERT(r.throttled);
  ASSERT_STR_EQ("4.7.0", r.code);
  world_free(&w);
}

static void t_hve(void) {
  world w;
  world_init(&w, SG_SBX_SMTP_HVE);
  for (int login = 0; login < 2; login++) {
    sg_outcome r = send1(&w, login ? SG_SMTPC_AUTH_LOGIN : SG_SMTPC_AUTH_PLAIN, false,
                         "hve@contoso.com", "pw", "hve@contoso.com", RC1, 1);
    ASSERT_EQ(SG_OUTCOME_SENT, r.kind);
  }
  sg_outcome r =
      send1(&w, SG_SMTPC_AUTH_PLAIN, false, "hve@contoso.com", "wrong", "hve@contoso.com", RC1, 1);
  ASSERT_EQ(SG_OUTCOME_FAILED, r.kind);
  ASSERT_STR_EQ("5.7.3", r.code);
  const char *const ext[] = {"a@contoso.com", "x@fabrikam.com"};
  r = send1(&w, SG_SMTPC_AUTH_PLAIN, false, "hve@contoso.com", "pw", "hve@contoso.com", ext, 2);
  ASSERT_EQ(SG_OUTCOME_FAILED, r.kind);
  ASSERT_STR_EQ("5.7.54", r.code);
  ASSERT(strstr(r.message, "recipient 2 of 2") != NULL);
  /* 51 recipients: the 51st is refused, so nothing is sent. */
  static char names[51][32];
  const char *many[51];
  for (int i = 0; i < 51; i++) {
    snprintf(names[i], sizeof names[i], "u%d@contoso.com", i);
    many[i] = names[i];
  }
  int before = w.delivered;
  r = send1(&w, SG_SMTPC_AUTH_PLAIN, false, "hve@contoso.com", "pw", "hve@contoso.com", many, 51);
  ASSERT_EQ(SG_OUTCOME_RETRY, r.kind);
  ASSERT_STR_EQ("4.5.3", r.code);
  ASSERT_EQ(before, w.delivered);
  r = send1(&w, SG_SMTPC_AUTH_PLAIN, false, "hve@contoso.com", "pw", "hve@contoso.com", many, 50);
  ASSERT_EQ(SG_OUTCOME_SENT, r.kind);
  ASSERT_EQ(50, w.last_rcpts);
  /* HVE takes OAuth too. */
  r = send1(&w, SG_SMTPC_AUTH_XOAUTH2, false, "hve@contoso.com", "good", "hve@contoso.com", RC1, 1);
  ASSERT_EQ(SG_OUTCOME_SENT, r.kind);
  world_free(&w);
}

static void t_faults(void) {
  world w;
  world_init(&w, SG_SBX_SMTP_EXCHANGE);
  const struct {
    sg_sbx_fault f;
    sg_outcome_kind kind;
    bool ambiguous;
    int delivered;
  } cases[] = {
      {SG_SBX_FAULT_500, SG_OUTCOME_RETRY, false, 0},
      {SG_SBX_FAULT_RESET, SG_OUTCOME_RETRY, false, 0},
      {SG_SBX_FAULT_DROP, SG_OUTCOME_RETRY, true, 0},
      {SG_SBX_FAULT_504, SG_OUTCOME_RETRY, true, 1},
  };
  for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
    w.fault = cases[i].f;
    w.delivered = 0;
    sg_outcome r = send1(&w, SG_SMTPC_AUTH_XOAUTH2, false, "mbx@contoso.com", "good",
                         "mbx@contoso.com", RC1, 1);
    ASSERT_EQ(cases[i].kind, r.kind);
    ASSERT_EQ(cases[i].ambiguous, r.ambiguous);
    ASSERT_EQ(cases[i].delivered, w.delivered);
  }
  world_free(&w);
}

/* Raw commands the client never sends: AUTH before TLS, MAIL before AUTH. */
static void t_raw_order(void) {
  world w;
  world_init(&w, SG_SBX_SMTP_EXCHANGE);
  sg_sbx_smtp *s = sg_sbx_smtp_new(&w.pol, &w.hooks);
  const char in[] = "EHLO x\r\nAUTH XOAUTH2 AAAA\r\nMAIL FROM:<a@contoso.com>\r\nSTARTTLS\r\n"
                    "NOOP injected\r\n";
  sg_sbx_smtp_feed(s, (const uint8_t *)in, strlen(in));
  sg_buf *o = sg_sbx_smtp_output(s);
  ASSERT(strstr(o->data, "250-STARTTLS\r\n") != NULL);
  ASSERT(strstr(o->data, "AUTH LOGIN") == NULL);
  ASSERT(strstr(o->data, "530 5.7.0 Must issue a STARTTLS command first\r\n") != NULL);
  ASSERT(strstr(o->data, "530 5.7.57 Client not authenticated") != NULL);
  ASSERT(strstr(o->data, "220 2.0.0 SMTP server ready\r\n") != NULL);
  ASSERT(strstr(o->data, "injected") == NULL && strstr(o->data, "250 2.0.0 OK") == NULL);
  ASSERT(sg_sbx_smtp_want_tls(s));
  sg_sbx_smtp_free(s);
  world_free(&w);
}

/* Bare line feeds: never the end of the data, and the message is refused. */
static void t_bare_lf(void) {
  world w;
  world_init(&w, SG_SBX_SMTP_HVE);
  sg_sbx_smtp *s = sg_sbx_smtp_new(&w.pol, &w.hooks);
  const char a[] = "EHLO x\r\nSTARTTLS\r\n";
  sg_sbx_smtp_feed(s, (const uint8_t *)a, strlen(a));
  ASSERT(sg_sbx_smtp_want_tls(s));
  sg_sbx_smtp_tls_done(s);
  const char b[] = "EHLO x\r\nAUTH PLAIN AGh2ZUBjb250b3NvLmNvbQBwdw==\r\n"
                   "MAIL FROM:<hve@contoso.com>\r\nRCPT TO:<a@contoso.com>\r\nDATA\r\n"
                   "Subject: x\r\n\r\nbody\n.\nMAIL FROM:<evil@contoso.com>\r\n.\r\n";
  sg_sbx_smtp_feed(s, (const uint8_t *)b, strlen(b));
  sg_buf *o = sg_sbx_smtp_output(s);
  ASSERT(strstr(o->data, "235 2.7.0") != NULL);
  ASSERT(strstr(o->data, "550 5.6.11 SMTPSEND.BareLinefeedsAreIllegal") != NULL);
  ASSERT(strstr(o->data, "Sender OK\r\n250 2.1.5 Recipient OK\r\n354 ") != NULL);
  ASSERT(strstr(o->data, "503") == NULL); /* the smuggled MAIL was data, not a command */
  ASSERT_EQ(0, w.delivered);
  sg_sbx_smtp_free(s);
  world_free(&w);
}

SG_TESTS({"bare_lf", t_bare_lf}, {"xoauth2_both_forms", t_xoauth2_both_forms},
         {"exchange_refuses_basic", t_exchange_refuses_basic},
         {"exchange_send_as_and_quota", t_exchange_send_as_and_quota}, {"hve", t_hve},
         {"faults", t_faults}, {"raw_order", t_raw_order})
