/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The job runtime's attempt state machine (app/sg_attempt.h), driven the way
 * the runtime drives it: a provider classifies an answer, sg_attempt_next
 * decides. A fake provider stands in for Graph and ACS: its "answers" are
 * status numbers it maps to outcomes, and its flags (idempotent, follows)
 * are the only provider facts the machine sees. The real providers' tables
 * are checked at the end.
 */
#include "harness.h"

#include "app/sg_attempt.h"
#include "core/sg_err.h"
#include "svc/sg_provider.h"

#define NOW 1700000000000LL

/* ---- the fake provider ---- */

enum {
  A_SENT = 200,
  A_ACCEPTED = 202,
  A_PENDING = 102,
  A_AUTH = 401,
  A_BAD = 400,
  A_THROTTLE = 429,
  A_BUSY = 503,
  A_RESET = 0,
  A_TIMEOUT = 1,
  A_STEP = 2 /* a step of a multi-step send done */
};

static void fake_classify(const void *st, const sg_prov_job *pj, int status,
                          const sg_http_header *h, size_t nh, const char *body, size_t len,
                          int64_t now, sg_outcome *o) {
  (void)st, (void)pj, (void)h, (void)nh, (void)body, (void)len, (void)now;
  memset(o, 0, sizeof *o);
  o->http_status = status;
  switch (status) {
  case A_SENT:
    o->kind = SG_OUTCOME_SENT;
    break;
  case A_ACCEPTED:
    o->kind = SG_OUTCOME_ACCEPTED;
    break;
  case A_PENDING:
    o->kind = SG_OUTCOME_PENDING;
    o->has_retry_after = true;
    o->retry_after_ms = 250;
    break;
  case A_AUTH:
    o->kind = SG_OUTCOME_AUTH_REFRESH;
    break;
  case A_BAD:
    o->kind = SG_OUTCOME_FAILED;
    snprintf(o->code, sizeof o->code, "ErrorInvalidRecipients");
    break;
  case A_THROTTLE:
    o->kind = SG_OUTCOME_RETRY;
    o->throttled = o->has_retry_after = true;
    o->retry_after_ms = 7000;
    break;
  case A_BUSY:
    o->kind = SG_OUTCOME_RETRY;
    break;
  case A_RESET: /* the stream was reset after the body went out */
    sg_classify_transport(SG_ERR_IO, true, o);
    break;
  case A_TIMEOUT:
    sg_classify_transport(SG_ERR_TIMEOUT, true, o);
    break;
  case A_STEP:
    o->kind = SG_OUTCOME_STEP;
    break;
  }
}

static sg_provider fake = {.name = "fake", .classify = fake_classify};

/* ---- a job driven through answers ---- */

typedef struct run {
  sg_attempt at;
  sg_attempt_policy p;
  sg_next n;
  int64_t now;
} run;

static void begin(run *r, bool idempotent, bool follows) {
  memset(r, 0, sizeof *r);
  fake.idempotent = idempotent;
  r->p.max_attempts = 3;
  r->p.deadline_ms = NOW + 3600000;
  r->p.idempotent = fake.idempotent;
  r->p.follows = follows;
  r->p.follow_max = 3;
  r->p.follow_default_ms = 1000;
  r->p.retry_base_ms = 500;
  r->p.retry_cap_ms = 30000;
  r->p.token_retry_ms = 1000;
  r->now = NOW;
}

/* One request and its answer, as the runtime does it. */
static const sg_next *answer(run *r, int status) {
  sg_outcome o;
  if (r->at.following)
    r->at.follow_ups++;
  else
    r->at.attempts++;
  fake.classify(NULL, NULL, status, NULL, 0, NULL, 0, r->now, &o);
  sg_attempt_next(&r->at, &o, false, &r->p, r->now, 0x123456789abcdefULL, &r->n);
  return &r->n;
}

static const sg_next *token_failure(run *r, sg_outcome_kind kind, int64_t retry_after_ms) {
  sg_outcome o;
  memset(&o, 0, sizeof o);
  o.kind = kind;
  o.throttled = retry_after_ms > 0; /* the token endpoint's throttle is not the lane's */
  o.has_retry_after = retry_after_ms > 0;
  o.retry_after_ms = retry_after_ms;
  sg_attempt_next(&r->at, &o, true, &r->p, r->now, 1, &r->n);
  return &r->n;
}

#define ASSERT_NEXT(n, k) ASSERT_STR_EQ(sg_next_kind_name(k), sg_next_kind_name((n)->kind))

static void t_sent_and_failed(void) {
  run r;
  begin(&r, false, false);
  const sg_next *n = answer(&r, A_SENT);
  ASSERT_NEXT(n, SG_NEXT_FINISH);
  ASSERT_EQ(SG_STATUS_SENT, n->status);
  ASSERT(n->code == NULL && !n->use_last);
  begin(&r, false, false);
  n = answer(&r, A_BAD);
  ASSERT_NEXT(n, SG_NEXT_FINISH);
  ASSERT_EQ(SG_STATUS_FAILED, n->status);
  ASSERT(n->code == NULL); /* the provider's code is published */
  ASSERT_EQ(0, r.at.failures);
}

/* Throttles pause the lane and are not failed attempts: five in a row, then SENT. */
static void t_throttle_is_not_a_failure(void) {
  run r;
  begin(&r, false, false);
  for (int i = 0; i < 5; i++) {
    const sg_next *n = answer(&r, A_THROTTLE);
    ASSERT_NEXT(n, SG_NEXT_PAUSE);
    ASSERT_EQ(7000, n->delay_ms);
    ASSERT_EQ(SG_WHY_THROTTLED, n->why);
  }
  ASSERT_EQ(0, r.at.failures);
  ASSERT_EQ(SG_STATUS_SENT, answer(&r, A_SENT)->status);
  ASSERT_EQ(6, r.at.attempts);
}

/* Server errors back off (full jitter, growing ceiling) until max_attempts: EXPIRED. */
static void t_retries_run_out(void) {
  run r;
  begin(&r, false, false);
  const sg_next *n = answer(&r, A_BUSY);
  ASSERT_NEXT(n, SG_NEXT_REQUEUE);
  ASSERT_EQ(SG_WHY_SERVER, n->why);
  ASSERT(n->delay_ms <= 500);
  n = answer(&r, A_BUSY);
  ASSERT_NEXT(n, SG_NEXT_REQUEUE);
  ASSERT(n->delay_ms <= 1000);
  n = answer(&r, A_BUSY);
  ASSERT_NEXT(n, SG_NEXT_FINISH);
  ASSERT_EQ(SG_STATUS_EXPIRED, n->status);
  ASSERT(n->use_last); /* the runtime reports the last failed answer */
  ASSERT_EQ(3, r.at.failures);
}

/* The deadline ends retries before max_attempts does. */
static void t_deadline(void) {
  run r;
  begin(&r, false, false);
  r.p.max_attempts = 100;
  ASSERT_NEXT(answer(&r, A_BUSY), SG_NEXT_REQUEUE);
  r.now = r.p.deadline_ms;
  const sg_next *n = answer(&r, A_BUSY);
  ASSERT_EQ(SG_STATUS_EXPIRED, n->status);
  sg_next e;
  sg_attempt_expire(&e);
  ASSERT_EQ(SG_STATUS_EXPIRED, e.status);
  ASSERT_STR_EQ("SENDGATE_DEADLINE", e.code);
}

/* A 401 refreshes the token and tries once more; a second one in a row is FAILED. */
static void t_auth_refresh_once(void) {
  run r;
  begin(&r, false, false);
  const sg_next *n = answer(&r, A_AUTH);
  ASSERT_NEXT(n, SG_NEXT_REQUEUE);
  ASSERT(n->invalidate_token);
  ASSERT_EQ(0, n->delay_ms);
  n = answer(&r, A_AUTH);
  ASSERT_NEXT(n, SG_NEXT_FINISH);
  ASSERT_EQ(SG_STATUS_FAILED, n->status);
  ASSERT(n->invalidate_token);
}

/* A lost answer after sending: resent and marked, or FAILED by policy; an
 * idempotent provider just resends. */
static void t_ambiguous(void) {
  run r;
  begin(&r, false, false);
  const sg_next *n = answer(&r, A_RESET);
  ASSERT_NEXT(n, SG_NEXT_REQUEUE);
  ASSERT(n->ambiguous && r.at.ambiguous_seen);
  ASSERT_EQ(SG_WHY_TRANSPORT, n->why);
  ASSERT_EQ(SG_STATUS_SENT, answer(&r, A_SENT)->status);
  ASSERT(r.at.ambiguous_seen); /* the SENT result says it may be a duplicate */

  begin(&r, false, false);
  r.p.fail_ambiguous = true;
  n = answer(&r, A_TIMEOUT);
  ASSERT_NEXT(n, SG_NEXT_FINISH);
  ASSERT_EQ(SG_STATUS_FAILED, n->status);
  ASSERT_STR_EQ("SENDGATE_AMBIGUOUS", n->code);

  begin(&r, true, false);
  r.p.fail_ambiguous = true;
  n = answer(&r, A_TIMEOUT);
  ASSERT_NEXT(n, SG_NEXT_REQUEUE);
  ASSERT_EQ(SG_WHY_TIMEOUT, n->why);
  ASSERT(!n->ambiguous && !r.at.ambiguous_seen);
}

/* Accepted operations are followed up within the budget; without following, SENT. */
static void t_follow_up(void) {
  run r;
  begin(&r, true, true);
  const sg_next *n = answer(&r, A_ACCEPTED);
  ASSERT_NEXT(n, SG_NEXT_FOLLOW);
  ASSERT_EQ(1000, n->delay_ms);
  ASSERT(r.at.following);
  n = answer(&r, A_PENDING);
  ASSERT_NEXT(n, SG_NEXT_FOLLOW);
  ASSERT_EQ(250, n->delay_ms);
  ASSERT_EQ(SG_STATUS_SENT, answer(&r, A_SENT)->status);
  ASSERT_EQ(1, r.at.attempts);
  ASSERT_EQ(2, r.at.follow_ups);

  begin(&r, true, true);
  answer(&r, A_ACCEPTED);
  answer(&r, A_PENDING);
  answer(&r, A_PENDING);
  n = answer(&r, A_PENDING);
  ASSERT_NEXT(n, SG_NEXT_FINISH);
  ASSERT_EQ(SG_STATUS_SENT, n->status);
  ASSERT_STR_EQ("SENDGATE_POLL_UNFINISHED", n->code);

  begin(&r, true, false);
  n = answer(&r, A_ACCEPTED);
  ASSERT_EQ(SG_STATUS_SENT, n->status);
  ASSERT(n->code == NULL);

  /* A 401 while following refreshes once; the follow-up goes on. */
  begin(&r, true, true);
  answer(&r, A_ACCEPTED);
  ASSERT_NEXT(answer(&r, A_AUTH), SG_NEXT_REQUEUE);
  ASSERT_NEXT(answer(&r, A_PENDING), SG_NEXT_FOLLOW);
}

/* While stopping, what is not final leaves the entry pending; final answers still publish. */
static void t_stopping(void) {
  static const int not_final[] = {A_BUSY, A_THROTTLE, A_RESET, A_AUTH, A_ACCEPTED, A_PENDING};
  for (size_t i = 0; i < sizeof not_final / sizeof not_final[0]; i++) {
    run r;
    begin(&r, false, true);
    r.p.stopping = true;
    ASSERT_NEXT(answer(&r, not_final[i]), SG_NEXT_LEAVE);
    ASSERT_EQ(0, r.at.failures);
  }
  run r;
  begin(&r, false, false);
  r.p.stopping = true;
  ASSERT_EQ(SG_STATUS_SENT, answer(&r, A_SENT)->status);
  ASSERT_EQ(SG_STATUS_FAILED, answer(&r, A_BAD)->status);
}

/* A failed token fetch: FAILED for good, or a failed attempt that waits its
 * Retry-After (or a second) without pausing the lane. */
static void t_token_failures(void) {
  run r;
  begin(&r, false, false);
  const sg_next *n = token_failure(&r, SG_OUTCOME_FAILED, 0);
  ASSERT_EQ(SG_STATUS_FAILED, n->status);
  begin(&r, false, false);
  n = token_failure(&r, SG_OUTCOME_RETRY, 0);
  ASSERT_NEXT(n, SG_NEXT_REQUEUE);
  ASSERT_EQ(1000, n->delay_ms);
  ASSERT_EQ(SG_WHY_TOKEN, n->why);
  n = token_failure(&r, SG_OUTCOME_RETRY, 5000);
  ASSERT_NEXT(n, SG_NEXT_REQUEUE); /* not PAUSE: the token endpoint's throttle */
  ASSERT_EQ(5000, n->delay_ms);
  n = token_failure(&r, SG_OUTCOME_RETRY, 0);
  ASSERT_EQ(SG_STATUS_EXPIRED, n->status);
  begin(&r, false, false);
  r.p.stopping = true;
  ASSERT_NEXT(token_failure(&r, SG_OUTCOME_FAILED, 0), SG_NEXT_LEAVE);
}

/* Multi-step sends: a step done goes on at once (front of the lane), and
 * each step has its own max_attempts; the deadline still bounds the whole. */
static void t_steps(void) {
  run r;
  begin(&r, false, false);
  const sg_next *n = answer(&r, A_BUSY);
  ASSERT_NEXT(n, SG_NEXT_REQUEUE);
  ASSERT_EQ(1, r.at.failures);
  n = answer(&r, A_STEP);
  ASSERT_NEXT(n, SG_NEXT_REQUEUE);
  ASSERT_EQ(0, n->delay_ms);
  ASSERT_EQ(SG_WHY_NONE, n->why);
  ASSERT_EQ(0, r.at.failures);
  ASSERT_EQ(1, r.at.steps);
  /* Two failures of the next step: still under max_attempts (3) for it. */
  ASSERT_NEXT(answer(&r, A_BUSY), SG_NEXT_REQUEUE);
  ASSERT_NEXT(answer(&r, A_BUSY), SG_NEXT_REQUEUE);
  ASSERT_NEXT(answer(&r, A_STEP), SG_NEXT_REQUEUE);
  ASSERT_EQ(SG_STATUS_SENT, answer(&r, A_SENT)->status);
  ASSERT_EQ(6, r.at.attempts);
  /* Three failures of one step: EXPIRED. */
  begin(&r, false, false);
  answer(&r, A_STEP);
  answer(&r, A_BUSY);
  answer(&r, A_BUSY);
  n = answer(&r, A_BUSY);
  ASSERT_NEXT(n, SG_NEXT_FINISH);
  ASSERT_EQ(SG_STATUS_EXPIRED, n->status);
  /* A step after the deadline: EXPIRED at its first failure. */
  begin(&r, false, false);
  answer(&r, A_STEP);
  r.now = r.p.deadline_ms;
  n = answer(&r, A_BUSY);
  ASSERT_EQ(SG_STATUS_EXPIRED, n->status);
  /* While stopping, a step done leaves the entry pending (no next step). */
  begin(&r, false, false);
  r.p.stopping = true;
  ASSERT_NEXT(answer(&r, A_STEP), SG_NEXT_LEAVE);
  /* A throttled step pauses the lane, as any request. */
  begin(&r, false, false);
  answer(&r, A_STEP);
  ASSERT_NEXT(answer(&r, A_THROTTLE), SG_NEXT_PAUSE);
}

/* The real providers behind the table: their flags and their first answers. */
static void t_provider_table(void) {
  const sg_provider *g = sg_provider_for(SG_BACKEND_GRAPH);
  const sg_provider *a = sg_provider_for(SG_BACKEND_ACS);
  ASSERT(g != NULL && a != NULL && g != a);
  ASSERT(sg_provider_for(SG_BACKEND_UNSPECIFIED) == NULL);
  ASSERT_STR_EQ("graph", g->name);
  ASSERT_STR_EQ("acs", a->name);
  ASSERT(!g->idempotent && a->idempotent);
  sg_prov_job pj;
  memset(&pj, 0, sizeof pj);
  sg_outcome o;
  g->classify(NULL, &pj, 202, NULL, 0, NULL, 0, NOW, &o);
  ASSERT_EQ(SG_OUTCOME_SENT, o.kind);
  a->classify(NULL, &pj, 202, NULL, 0, NULL, 0, NOW, &o);
  ASSERT_EQ(SG_OUTCOME_ACCEPTED, o.kind);
  pj.following = true;
  const char *running = "{\"id\":\"x\",\"status\":\"Running\"}";
  a->classify(NULL, &pj, 200, NULL, 0, running, strlen(running), NOW, &o);
  ASSERT_EQ(SG_OUTCOME_PENDING, o.kind);
}

SG_TESTS({"sent_and_failed", t_sent_and_failed},
         {"throttle_is_not_a_failure", t_throttle_is_not_a_failure},
         {"retries_run_out", t_retries_run_out}, {"deadline", t_deadline},
         {"auth_refresh_once", t_auth_refresh_once}, {"ambiguous", t_ambiguous},
         {"follow_up", t_follow_up}, {"stopping", t_stopping}, {"token_failures", t_token_failures},
         {"provider_table", t_provider_table}, {"steps", t_steps})
