/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Attempts: a job admitted by its lane gets a token, goes out on the origin's
 * HTTP/2 pool, and its answer is classified into SENT, FAILED, a throttle (the
 * lane pauses until Retry-After; not a failed attempt), a retry with backoff,
 * or a token refresh. Deadline and max_attempts bound every job.
 */
#include "app/sg_app_int.h"
#include "app/sg_app_metrics.h"

#include <stdio.h>
#include <string.h>

#include "core/sg_clock.h"
#include "core/sg_err.h"
#include "core/sg_log.h"
#include "svc/sg_entra.h"
#include "svc/sg_graph.h"

static void send_graph(sg_jobrun *j, const char *token, size_t token_len);

static void guid(sg_app *a, char out[37]) {
  uint64_t x = sg_app__rand(a), y = sg_app__rand(a);
  sg_fmt_guid(out, x, y);
}

bool sg_app__expired(const sg_jobrun *j) { return sg_wall_ms() >= j->deadline_ms; }
#define expired sg_app__expired
#define expire sg_app__expire

void sg_app__expire(sg_jobrun *j) {
  j->app->n_expired++;
  if (j->last)
    sg_app__finish(j, SG_STATUS_EXPIRED, j->last, NULL, NULL);
  else
    sg_app__finish(j, SG_STATUS_EXPIRED, NULL, "SENDGATE_DEADLINE",
                   "the deadline passed before the message could be sent");
}

static void send_now(sg_jobrun *j, const char *token, size_t len) {
  if (j->backend == SG_BACKEND_ACS)
    sg_app__acs_send(j, token, len);
  else
    send_graph(j, token, len);
}

static void on_retry_timer(uv_timer_t *t) {
  sg_jobrun *j = t->data;
  j->state = SG_JOB_QUEUED;
  sg_sched_push(&j->app->sched, j->lane, &j->item, true);
  sg_app__want_pump(j->app);
}

/* A lane paused for long: its queued jobs wait in the delayed set, not in memory. */
static void park_lane(sg_app *a, sg_lane *lane, uint64_t wait_ms) {
  int64_t due = sg_wall_ms() + (int64_t)wait_ms;
  sg_list *n;
  while ((n = sg_list_front(&lane->queue)) != NULL) {
    sg_jobrun *q = sg_container_of(sg_container_of(n, sg_sched_item, link), sg_jobrun, item);
    sg_sched_remove(&a->sched, lane, &q->item);
    sg_app__park(q, due);
  }
}

/* The provider said when: pause the whole lane; long waits leave memory. */
static void throttle(sg_jobrun *j, uint64_t retry_after_ms) {
  sg_app *a = j->app;
  sg_sched_pause(&a->sched, j->lane, uv_now(a->loop) + retry_after_ms);
  if (retry_after_ms > (uint64_t)a->cfg.delayed_after_ms) {
    park_lane(a, j->lane, retry_after_ms);
    sg_app__park(j, sg_wall_ms() + (int64_t)retry_after_ms);
    return;
  }
  sg_app__requeue(j, 0);
}

void sg_app__throttle(sg_jobrun *j, uint64_t retry_after_ms) { throttle(j, retry_after_ms); }

void sg_app__requeue(sg_jobrun *j, uint64_t delay_ms) {
  if (delay_ms > (uint64_t)j->app->cfg.delayed_after_ms) {
    sg_app__park(j, sg_wall_ms() + (int64_t)delay_ms);
    return;
  }
  if (delay_ms == 0) {
    j->state = SG_JOB_QUEUED;
    sg_sched_push(&j->app->sched, j->lane, &j->item, true);
    sg_app__want_pump(j->app);
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

static void on_token_ready(sg_token_waiter *w, int status, const char *token, size_t len,
                           const sg_outcome *err) {
  sg_jobrun *j = w->data;
  sg_app *a = j->app;
  if (status == SG_ERR_SHUTDOWN)
    return;
  if (a->stopping) { /* not sent: stays pending for the next run */
    sg_sched_release(&a->sched, j->lane);
    sg_app__finish(j, SG_STATUS_UNSPECIFIED, NULL, NULL, NULL);
    return;
  }
  if (status == 0) {
    send_now(j, token, len);
    return;
  }
  sg_sched_release(&a->sched, j->lane);
  sg_app__want_pump(a);
  if (err && err->kind == SG_OUTCOME_FAILED) {
    sg_app__finish(j, SG_STATUS_FAILED, err, NULL, NULL);
    return;
  }
  /* No token for now: a failed attempt; wait the back-off, bounded by the
   * deadline and max_attempts. */
  if (err)
    sg_app__keep_last(j, err);
  j->failures++;
  sg_metric_inc(a->mc.retry_token);
  uint32_t max = j->job->max_attempts ? j->job->max_attempts : (uint32_t)a->cfg.max_attempts;
  if (j->failures >= max || expired(j)) {
    expire(j);
    return;
  }
  uint64_t wait = err && err->has_retry_after && err->retry_after_ms > 0
                      ? (uint64_t)err->retry_after_ms
                      : 1000;
  sg_app__requeue(j, wait);
}

void sg_app__start_attempt(sg_jobrun *j) {
  sg_app *a = j->app;
  if (expired(j)) {
    sg_sched_release(&a->sched, j->lane);
    expire(j);
    return;
  }
  if (j->rt->token == NULL) { /* ACS with an access key: no token */
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

static void on_graph_response(void *ud, int err, const sg_h2_response *resp, bool body_sent);

void sg_app__keep_last(sg_jobrun *j, const sg_outcome *o) {
  if (j->last == NULL)
    j->last = sg_xmalloc(sizeof *j->last);
  *j->last = *o;
}

static void send_graph(sg_jobrun *j, const char *token, size_t token_len) {
  sg_app *a = j->app;
  if (j->body.len == 0) {
    sg_app__body_get(a, &j->body);
    sg_buf_reserve(&j->body, j->body_size ? j->body_size : sg_app__body_guess(j->job));
    sg_graph_build(j->job, &j->body, &j->content_type);
    j->body_size = j->body.len;
    sg_job_error err;
    if (sg_job_check_backend(j->job, SG_BACKEND_GRAPH, j->body.len, &err) != 0) {
      /* Too large for Graph: refused before anything is sent. */
      sg_app__body_put(a, &j->body);
      sg_sched_release(&a->sched, j->lane);
      sg_app__want_pump(a);
      sg_app__finish(j, SG_STATUS_INVALID, NULL, err.code, err.message);
      return;
    }
  }
  char auth[SG_ENTRA_MAX_TOKEN_BYTES + 16];
  if (token_len > SG_ENTRA_MAX_TOKEN_BYTES)
    token_len = SG_ENTRA_MAX_TOKEN_BYTES;
  memcpy(auth, "Bearer ", 7);
  memcpy(auth + 7, token, token_len);
  auth[7 + token_len] = '\0';
  char crid[37];
  guid(a, crid);
  sg_http_header h[] = {sg_http_hdr("authorization", auth),
                        sg_http_hdr("content-type", j->content_type),
                        sg_http_hdr("client-request-id", crid)};
  sg_h2_request req = {"POST", j->path.data, j->rt->graph->authority, h, SG_ARRAY_LEN(h),
                       j->body.data, j->body.len, (uint64_t)a->cfg.request_timeout_ms};
  j->state = SG_JOB_IN_FLIGHT;
  j->attempts++;
  j->sent_at = uv_now(a->loop);
  sg_metric_inc(a->mc.attempts[1]);
  j->pool = j->rt->graph->pool;
  int rv = sg_h2_pool_request(j->pool, &req, on_graph_response, j, &j->h2);
  if (rv) {
    j->h2 = NULL;
    sg_h2_response none = {0};
    none.detail = "";
    on_graph_response(j, rv, &none, false);
  }
}

static void on_graph_response(void *ud, int err, const sg_h2_response *resp, bool body_sent) {
  sg_jobrun *j = ud;
  sg_app *a = j->app;
  j->h2 = NULL;
  sg_app__body_put(a, &j->body); /* written again if there is another attempt */
  sg_sched_release(&a->sched, j->lane);
  sg_app__want_pump(a);
  sg_app__http_done(a, true, err ? 0 : resp->status, j->sent_at);
  sg_outcome o;
  if (err)
    sg_classify_transport(err, body_sent, &o);
  else
    sg_classify_graph(resp->status, resp->headers, resp->n_headers, (const char *)resp->body,
                      resp->body_len, sg_wall_ms(), &o);
  if (err && resp->detail && resp->detail[0] && o.message[0] == '\0')
    snprintf(o.message, sizeof o.message, "%s", resp->detail);
  if (o.kind != SG_OUTCOME_SENT && o.kind != SG_OUTCOME_FAILED)
    sg_app__keep_last(j, &o);
  switch (o.kind) {
  case SG_OUTCOME_SENT:
    a->n_sent++;
    sg_app__finish(j, SG_STATUS_SENT, &o, NULL, NULL);
    return;
  case SG_OUTCOME_FAILED:
    a->n_failed++;
    sg_app__finish(j, SG_STATUS_FAILED, &o, NULL, NULL);
    return;
  case SG_OUTCOME_AUTH_REFRESH:
    sg_token_invalidate(j->rt->token, NULL, 0);
    if (j->auth_retried) {
      a->n_failed++;
      sg_app__finish(j, SG_STATUS_FAILED, &o, NULL, NULL);
      return;
    }
    j->auth_retried = true;
    sg_app__requeue(j, 0);
    return;
  case SG_OUTCOME_RETRY:
    break;
  }
  if (a->stopping) { /* not retried now: stays pending for the next run */
    sg_app__finish(j, SG_STATUS_UNSPECIFIED, NULL, NULL, NULL);
    return;
  }
  if (o.ambiguous) {
    a->n_ambiguous++;
    sg_metric_inc(a->mc.ambiguous[1]);
    /* Graph has no idempotency key: the message may have been delivered. */
    if (strcmp(a->cfg.ambiguous, "fail") == 0) {
      a->n_failed++;
      sg_app__finish(j, SG_STATUS_FAILED, &o, "SENDGATE_AMBIGUOUS",
                     "the answer was lost after the request went out; not resent "
                     "(gateway.ambiguous = fail): the message may or may not have been delivered");
      return;
    }
    j->ambiguous_seen = true;
  }
  if (o.throttled && o.has_retry_after) {
    /* The provider said when: the whole lane waits, the job keeps its place,
     * and it is not a failed attempt. */
    a->n_throttled++;
    sg_metric_inc(a->mc.throttles_graph);
    sg_metric_inc(a->mc.pauses_graph);
    sg_metric_inc(a->mc.retry_throttled);
    throttle(j, (uint64_t)o.retry_after_ms);
    return;
  }
  sg_app__retry_later(j, &o, err);
}

void sg_app__retry_later(sg_jobrun *j, const sg_outcome *o, int err) {
  sg_app *a = j->app;
  a->n_retries++;
  sg_metric_inc(err == SG_ERR_TIMEOUT ? a->mc.retry_timeout
                : err                ? a->mc.retry_transport
                                     : a->mc.retry_server);
  j->failures++;
  uint32_t max = j->job->max_attempts ? j->job->max_attempts : (uint32_t)a->cfg.max_attempts;
  if (j->failures >= max || expired(j)) {
    expire(j);
    return;
  }
  uint64_t delay = o->has_retry_after
                       ? (uint64_t)o->retry_after_ms
                       : sg_backoff_delay((uint64_t)a->cfg.retry_base_ms,
                                          (uint64_t)a->cfg.retry_cap_ms, j->failures - 1,
                                          sg_app__rand(a));
  sg_app__requeue(j, delay);
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
    return; /* a Redis reply is on the way and will release it */
  case SG_JOB_NEW:
    break;
  }
  sg_app__finish(j, SG_STATUS_UNSPECIFIED, NULL, NULL, NULL); /* freed without a result */
}
