/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Attempts, for every backend: a job admitted by its lane gets a token (when
 * its account needs one), its provider builds the request, it goes out on
 * the origin's HTTP/2 pool, the provider classifies the answer, and the one
 * state machine (sg_attempt.h) says what follows; this file carries that out
 * on the loop: publish, leave pending, requeue, pause the lane, follow up.
 */
#include "app/sg_app_int.h"
#include "app/sg_app_metrics.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/sg_clock.h"
#include "core/sg_err.h"
#include "core/sg_log.h"

static void on_response(void *ud, int err, const sg_h2_response *resp, bool body_sent);

static void keep_last(sg_jobrun *j, const sg_outcome *o) {
  if (j->last == NULL)
    j->last = sg_xmalloc(sizeof *j->last);
  *j->last = *o;
}

static void policy(const sg_jobrun *j, sg_attempt_policy *p) {
  const sg_app *a = j->app;
  const sg_acct_rt *rt = j->rt;
  memset(p, 0, sizeof *p);
  p->max_attempts = j->job->max_attempts ? j->job->max_attempts : (uint32_t)a->cfg.max_attempts;
  p->deadline_ms = j->deadline_ms;
  p->stopping = a->stopping;
  p->idempotent = rt->prov->idempotent || j->pj.step_idempotent;
  p->fail_ambiguous = strcmp(a->cfg.ambiguous, "fail") == 0;
  p->follows = rt->info.follows;
  p->follow_max = rt->info.follow_max;
  p->follow_default_ms = rt->info.follow_default_ms;
  p->retry_base_ms = (uint64_t)a->cfg.retry_base_ms;
  p->retry_cap_ms = (uint64_t)a->cfg.retry_cap_ms;
  p->token_retry_ms = 1000;
}

static void on_retry_timer(uv_timer_t *t) {
  sg_jobrun *j = t->data;
  j->state = SG_JOB_QUEUED;
  sg_sched_push(&j->app->sched, j->lane, &j->item, true);
  sg_app__want_pump(j->app);
}

void sg_app__requeue(sg_jobrun *j, uint64_t delay_ms) {
  sg_app *a = j->app;
  j->item.bytes = j->pj.next_bytes; /* the next request's, for the lane's byte window */
  if (delay_ms > (uint64_t)a->cfg.delayed_after_ms) {
    sg_app__park(j, sg_wall_ms() + (int64_t)delay_ms);
    return;
  }
  if (delay_ms == 0) {
    j->state = SG_JOB_QUEUED;
    sg_sched_push(&a->sched, j->lane, &j->item, true);
    sg_app__want_pump(a);
    return;
  }
  /* Never wait past the deadline: wake then and expire. */
  int64_t left = j->deadline_ms - sg_wall_ms();
  if (left < 0)
    left = 0;
  if ((int64_t)delay_ms > left)
    delay_ms = (uint64_t)left + 1;
  j->state = SG_JOB_RETRY_WAIT;
  uv_timer_start(&j->timer, on_retry_timer, delay_ms, 0);
}

/* A lane paused for long: its queued jobs wait in the delayed set, not in memory. */
void sg_app__park_lane(sg_app *a, sg_lane *lane, uint64_t wait_ms) {
  int64_t due = sg_wall_ms() + (int64_t)wait_ms;
  sg_sched_item *it;
  while ((it = sg_sched_front(lane)) != NULL) {
    sg_jobrun *q = sg_container_of(it, sg_jobrun, item);
    sg_sched_remove(&a->sched, lane, &q->item);
    sg_app__park(q, due);
  }
}

/* The provider said when: pause the whole lane; long waits leave memory. */
static void pause_lane(sg_jobrun *j, uint64_t wait_ms) {
  sg_app *a = j->app;
  sg_sched_pause(&a->sched, j->lane, uv_now(a->loop) + wait_ms);
  if (wait_ms > (uint64_t)a->cfg.delayed_after_ms) {
    sg_app__park_lane(a, j->lane, wait_ms);
    sg_app__park(j, sg_wall_ms() + (int64_t)wait_ms);
    return;
  }
  sg_app__requeue(j, 0);
}

/* The follow-up lane (e.g. ACS's poll budget); the job's message was counted.
 * The job's reference moves to it (taken first: it may be the same lane). */
static void follow_up(sg_jobrun *j, uint64_t delay_ms) {
  sg_app *a = j->app;
  char key[SG_PROV_LANE_KEY_MAX];
  sg_lane_cfg lc;
  uint32_t rcpts;
  j->pj.following = true;
  j->rt->prov->lane(j->rt->pstate, j->job, true, key, &lc, &rcpts);
  sg_lane *old = j->lane;
  j->lane = sg_sched_lane(&a->sched, key, &lc);
  sg_sched_lane_ref(&a->sched, j->lane);
  sg_sched_lane_unref(&a->sched, old, uv_now(a->loop));
  j->item.counted = false;
  sg_app__requeue(j, delay_ms);
}

/* Carries out decision |n| for outcome |o| (NULL when there is none). */
static void apply(sg_jobrun *j, const sg_next *n, const sg_outcome *o) {
  sg_app *a = j->app;
  sg_acct_rt *rt = j->rt;
  if (n->invalidate_token && rt->token)
    sg_token_invalidate(rt->token, NULL, 0);
  if (n->ambiguous)
    sg_metric_inc(rt->m_ambiguous);
  if (n->why != SG_WHY_NONE && n->kind != SG_NEXT_FINISH)
    sg_metric_inc(a->mc.retries[n->why]);
  switch (n->kind) {
  case SG_NEXT_FINISH:
    if (n->use_last && j->last)
      sg_app__finish(j, n->status, j->last, NULL, NULL);
    else
      sg_app__finish(j, n->status, n->use_last ? NULL : o, n->code, n->message);
    return;
  case SG_NEXT_LEAVE:
    sg_app__finish(j, SG_STATUS_UNSPECIFIED, NULL, NULL, NULL);
    return;
  case SG_NEXT_REQUEUE:
    sg_app__requeue(j, n->delay_ms);
    return;
  case SG_NEXT_PAUSE:
    sg_metric_inc(rt->m_throttles);
    sg_metric_inc(rt->m_pauses);
    pause_lane(j, n->delay_ms);
    return;
  case SG_NEXT_FOLLOW:
    follow_up(j, n->delay_ms);
    return;
  }
}

/* Decides and carries out what follows |o|. */
static void next(sg_jobrun *j, const sg_outcome *o, bool token) {
  sg_attempt_policy p;
  policy(j, &p);
  sg_next n;
  sg_attempt_next(&j->at, o, token, &p, sg_wall_ms(), sg_app__rand(j->app), &n);
  apply(j, &n, o);
}

/* Hands the lane's slot back (the request is over, or never left). */
static void release(sg_jobrun *j) {
  sg_sched_release(&j->app->sched, j->lane);
  sg_app__want_pump(j->app);
}

static void send_now(sg_jobrun *j, const char *token, size_t token_len) {
  sg_app *a = j->app;
  sg_acct_rt *rt = j->rt;
  bool follow = j->pj.following;
  if (rt->prov->transport == SG_PROV_TRANSPORT_SMTP) {
    sg_app__smtp_send(j, token, token_len);
    return;
  }
  if (!j->pj.keep_body && j->pj.body.cap == 0)
    sg_app__body_get(a, &j->pj.body);
  sg_prov_req req_store; /* the headers' storage, on the stack (no allocation per request) */
  sg_prov_req *r = &req_store;
  memset(r, 0, offsetof(sg_prov_req, bearer));
  r->bearer[0] = '\0';
  r->priv = NULL;
  sg_prov_ctx ctx = {
      token, token_len, rt->origin->authority, sg_wall_ms(), {sg_app__rand(a), sg_app__rand(a)}};
  sg_job_error err;
  int rv = rt->prov->build(rt->pstate, &j->pj, &ctx, r, &err);
  if (rv != 0) {
    rt->prov->req_free(r);
    if (!j->pj.keep_body)
      sg_app__body_put(a, &j->pj.body);
    release(j);
    if (follow) /* accepted already: whatever went wrong, the message was taken */
      sg_app__finish(j, SG_STATUS_SENT, NULL, "SENDGATE_POLL_UNFINISHED", err.message);
    else
      sg_app__finish(j, SG_STATUS_INVALID, NULL, err.code, err.message);
    return;
  }
  if (r->store != SG_PROV_STORE_NONE) { /* a record step: Redis, not HTTP */
    sg_app__store_run(j, r);
    rt->prov->req_free(r);
    return;
  }
  sg_origin *origin = rt->origin;
  if (r->origin) { /* e.g. Graph's upload URLs: a pool of their own */
    char oerr[200];
    origin = sg_app__origin(a, r->origin, rt->prov->name, oerr, sizeof oerr);
    if (origin == NULL) {
      rt->prov->req_free(r);
      if (!j->pj.keep_body)
        sg_app__body_put(a, &j->pj.body);
      release(j);
      sg_app__finish(j, SG_STATUS_FAILED, NULL, "SENDGATE_BAD_ORIGIN", oerr);
      return;
    }
  }
  sg_h2_request req = {r->method,
                       r->path,
                       r->authority ? r->authority : origin->authority,
                       r->h,
                       r->nh,
                       r->body,
                       r->body_len,
                       (uint64_t)a->cfg.request_timeout_ms};
  j->state = SG_JOB_IN_FLIGHT;
  if (follow) {
    j->at.follow_ups++;
  } else {
    j->at.attempts++;
    sg_metric_inc(rt->m_attempts);
  }
  j->sent_at = uv_now(a->loop);
  j->pool = origin->pool;
  rv = sg_h2_pool_request(j->pool, &req, on_response, j, &j->h2);
  rt->prov->req_free(r);
  if (rv) {
    j->h2 = NULL;
    sg_h2_response none = {0};
    none.detail = "";
    on_response(j, rv, &none, false);
  }
}

static void on_response(void *ud, int err, const sg_h2_response *resp, bool body_sent) {
  sg_jobrun *j = ud;
  sg_app *a = j->app;
  sg_acct_rt *rt = j->rt;
  j->h2 = NULL;
  if (!j->pj.keep_body)
    sg_app__body_put(a, &j->pj.body); /* written again if there is another attempt */
  if (!err)                           /* the lane's latency estimate, for head-of-line parking */
    sg_app__hol_observe(j, uv_now(a->loop) - j->sent_at);
  release(j);
  sg_app__http_done(a, rt->prov->name, rt->m_duration, err ? 0 : resp->status, j->sent_at);
  sg_outcome o;
  if (err) {
    sg_classify_transport(err, body_sent, &o);
    if (resp->detail && resp->detail[0])
      snprintf(o.message, sizeof o.message, "%s: %s", sg_strerror(err), resp->detail);
  } else {
    rt->prov->classify(rt->pstate, &j->pj, resp->status, resp->headers, resp->n_headers,
                       (const char *)resp->body, resp->body_len, sg_wall_ms(), &o);
  }
  sg_app__answered(j, err, err ? 0 : resp->status, (const char *)resp->body, resp->body_len, &o);
}

void sg_app__answered(sg_jobrun *j, int err, int status, const char *body, size_t len,
                      sg_outcome *o) {
  sg_acct_rt *rt = j->rt;
  if (rt->prov->advance)
    rt->prov->advance(rt->pstate, &j->pj, err, status, body, len, o);
  if (o->kind != SG_OUTCOME_SENT && o->kind != SG_OUTCOME_FAILED && o->kind != SG_OUTCOME_STEP)
    keep_last(j, o);
  next(j, o, false);
}

static void on_token_ready(sg_token_waiter *w, int status, const char *token, size_t len,
                           const sg_outcome *err) {
  sg_jobrun *j = w->data;
  if (status == SG_ERR_SHUTDOWN)
    return;
  if (status == 0 && !j->app->stopping) {
    send_now(j, token, len);
    return;
  }
  release(j);
  sg_outcome o;
  memset(&o, 0, sizeof o);
  o.kind = SG_OUTCOME_RETRY;
  if (err) {
    o = *err;
    keep_last(j, err);
  }
  next(j, &o, true);
}

void sg_app__start_attempt(sg_jobrun *j) {
  sg_app *a = j->app;
  if (sg_wall_ms() >= j->deadline_ms) {
    release(j);
    sg_next n;
    sg_attempt_expire(&n);
    apply(j, &n, NULL);
    return;
  }
  if (j->rt->token == NULL) { /* e.g. ACS with an access key */
    send_now(j, NULL, 0);
    return;
  }
  const char *token = NULL;
  size_t len = 0;
  bool fetch = false;
  sg_outcome err;
  sg_token_waiter_init(&j->tw, on_token_ready, j);
  j->state = SG_JOB_TOKEN_WAIT;
  int rv = sg_token_get(j->rt->token, uv_now(a->loop), &j->tw, &token, &len, &fetch, &err);
  if (fetch)
    sg_app__token_fetch(a, j->rt);
  if (rv == 0) {
    send_now(j, token, len);
  } else if (rv == SG_ERR_AUTH) {
    on_token_ready(&j->tw, SG_ERR_AUTH, NULL, 0, &err);
  } else if (rv != SG_ERR_AGAIN) {
    memset(&err, 0, sizeof err);
    err.kind = SG_OUTCOME_RETRY;
    on_token_ready(&j->tw, SG_ERR_AUTH, NULL, 0, &err);
  }
}

void sg_app__abandon(sg_jobrun *j) {
  sg_app *a = j->app;
  switch (j->state) {
  case SG_JOB_IN_FLIGHT:
    if (j->h2) {
      sg_h2_pool_cancel(j->pool, j->h2);
      j->h2 = NULL;
      sg_sched_release(&a->sched, j->lane);
    }
    sg_app__smtp_cancel(j);
    break;
  case SG_JOB_TOKEN_WAIT:
    if (sg_token_waiter_queued(&j->tw)) {
      sg_token_waiter_cancel(&j->tw);
      sg_sched_release(&a->sched, j->lane);
    }
    break;
  case SG_JOB_QUEUED:
    if (sg_list_linked(&j->item.link))
      sg_sched_remove(&a->sched, j->lane, &j->item);
    break;
  case SG_JOB_RETRY_WAIT:
    uv_timer_stop(&j->timer);
    break;
  case SG_JOB_CHECKING:
    if (!sg_list_linked(&j->lnode))
      return; /* the MGET's reply is on the way and will release it */
    sg_app__ledger_cancel(j);
    break;
  case SG_JOB_COMPLETING:
  case SG_JOB_STORE_WAIT:
    return; /* a Redis reply is on the way and will release it */
  case SG_JOB_NEW:
    break;
  }
  sg_app__finish(j, SG_STATUS_UNSPECIFIED, NULL, NULL, NULL); /* freed without a result */
}
