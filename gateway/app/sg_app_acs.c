/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ACS Email in the runtime: the resource's send lane (per-minute and per-hour
 * windows) and poll lane (status calls have their own budget), the request
 * (HMAC-signed with the connection string's key, or an Entra bearer token),
 * the job's stable Operation-Id on every attempt, and the operation followed
 * until Succeeded or Failed. A resend after a lost answer carries the same
 * Operation-Id, so ACS never sends the message twice.
 */
#include "app/sg_app_int.h"
#include "app/sg_app_metrics.h"

#include <stdio.h>
#include <string.h>

#include "core/sg_clock.h"
#include "core/sg_err.h"
#include "core/sg_log.h"

int sg_app__acs_setup(sg_app *a, sg_acct_rt *rt, char *err, size_t errcap) {
  const sg_account *acct = rt->acct;
  const char *name = acct->name[0] ? acct->name : "(default ACS)";
  char url[600];
  if (acct->connection_string[0]) {
    if (sg_acs_conn_parse(acct->connection_string, &rt->conn) != 0) {
      snprintf(err, errcap, "account %s: the ACS connection string is not "
                            "endpoint=https://...;accesskey=<base64>", name);
      return SG_ERR_CONFIG;
    }
  } else {
    /* Entra auth: the endpoint alone (with a dummy key that is never used). */
    char cs[700];
    snprintf(cs, sizeof cs, "endpoint=%s;accesskey=AA==", acct->acs_endpoint);
    if (sg_acs_conn_parse(cs, &rt->conn) != 0) {
      snprintf(err, errcap, "account %s: endpoint is not an https URL", name);
      return SG_ERR_CONFIG;
    }
    char e2[300];
    rt->login = sg_app__origin(a, acct->login_url, e2, sizeof e2);
    if (rt->login == NULL) {
      snprintf(err, errcap, "account %s: %s", name, e2);
      return SG_ERR_CONFIG;
    }
    sg_token_key k = {acct->login_url, acct->tenant_id, acct->client_id, acct->scope};
    rt->token = sg_token_cache_entry(a->tokens, &k);
  }
  rt->has_conn = true;
  if (strcmp(rt->conn.scheme, "https") != 0) {
    snprintf(err, errcap, "account %s: the ACS endpoint must be https", name);
    return SG_ERR_CONFIG;
  }
  snprintf(url, sizeof url, "https://%s", rt->conn.authority);
  char e2[300];
  rt->acs = sg_app__origin(a, url, e2, sizeof e2);
  if (rt->acs == NULL) {
    snprintf(err, errcap, "account %s: %s", name, e2);
    return SG_ERR_CONFIG;
  }
  /* The resource's lanes: sends within the quota windows, polls within theirs. */
  char key[300];
  snprintf(key, sizeof key, "acs|%s", acct->name);
  sg_lane_cfg send = {0};
  send.max_inflight = (uint32_t)acct->limits.acs_concurrency;
  send.req_limit = (uint64_t)acct->limits.acs_sends_per_minute;
  send.req_window_ms = 60000;
  send.req2_limit = (uint64_t)acct->limits.acs_sends_per_hour;
  send.req2_window_ms = 3600000;
  rt->acs_send_lane = sg_sched_lane(&a->sched, key, &send);
  snprintf(key, sizeof key, "acs-poll|%s", acct->name);
  sg_lane_cfg poll = {0};
  poll.max_inflight = (uint32_t)acct->limits.acs_concurrency;
  poll.req_limit = (uint64_t)a->cfg.acs_polls_per_minute;
  poll.req_window_ms = 60000;
  poll.req2_limit = (uint64_t)a->cfg.acs_polls_per_hour;
  poll.req2_window_ms = 3600000;
  rt->acs_poll_lane = sg_sched_lane(&a->sched, key, &poll);
  return 0;
}

void sg_app__acs_teardown(sg_acct_rt *rt) {
  if (rt->has_conn)
    sg_acs_conn_free(&rt->conn);
  rt->has_conn = false;
}

int sg_app__acs_prepare(sg_jobrun *j, sg_job_error *err) {
  sg_app *a = j->app;
  sg_acct_rt *rt = j->rt;
  sg_acs_build_opts opts = {a->cfg.acs_disable_tracking};
  if (sg_acs_build(j->job, a->cfg.acs_api_version, &opts, &j->body) != 0 ||
      sg_acs_send_path(&j->path, rt->conn.base_path, a->cfg.acs_api_version) != 0 ||
      sg_acs_operation_id(j->job->id, j->op_id) != 0) {
    err->code = SG_JOBERR_BAD_BACKEND;
    snprintf(err->message, sizeof err->message, "the ACS request cannot be built (api-version %s)",
             a->cfg.acs_api_version);
    return SG_ERR_INVAL;
  }
  j->content_type = "application/json";
  if (sg_job_check_backend(j->job, SG_BACKEND_ACS, j->body.len, err) != 0)
    return SG_ERR_INVAL;
  j->lane = rt->acs_send_lane;
  j->item.rcpts = 1;
  return 0;
}

static void on_acs_response(void *ud, int err, const sg_h2_response *resp, bool body_sent);

/* Follows the operation after |delay_ms| on the poll lane. */
static void poll_later(sg_jobrun *j, uint64_t delay_ms) {
  sg_app *a = j->app;
  if (j->polls >= (uint32_t)a->cfg.acs_poll_max) {
    /* Accepted by ACS, final status unknown within the poll budget: the
     * message was taken, so this is not a failure to resend. */
    sg_outcome o;
    memset(&o, 0, sizeof o);
    o.http_status = 202;
    a->n_sent++;
    sg_app__finish(j, SG_STATUS_SENT, &o, "SENDGATE_POLL_UNFINISHED",
                   "ACS accepted the message; its final status was not known after acs.poll_max polls");
    return;
  }
  j->lane = j->rt->acs_poll_lane;
  j->item.counted = false;
  sg_app__requeue(j, delay_ms);
}

void sg_app__acs_send(sg_jobrun *j, const char *token, size_t token_len) {
  sg_app *a = j->app;
  sg_acct_rt *rt = j->rt;
  char date[32];
  sg_time_imf(sg_wall_ms() / 1000, date);
  char crid[SG_ACS_UUID_LEN];
  sg_acs_random_uuid(crid);
  sg_buf bearer = SG_BUF_INIT;
  if (token)
    sg_buf_append(&bearer, token, token_len);
  sg_buf poll_path = SG_BUF_INIT;
  const char *path = j->path.data;
  if (j->polling) {
    if (sg_acs_poll_path(&poll_path, rt->conn.base_path, j->op_id, a->cfg.acs_api_version) != 0) {
      sg_buf_free(&bearer);
      sg_buf_free(&poll_path);
      sg_sched_release(&a->sched, j->lane);
      sg_app__finish(j, SG_STATUS_SENT, NULL, "SENDGATE_POLL_UNFINISHED",
                     "ACS accepted the message; its operation id cannot be polled");
      return;
    }
    path = poll_path.data;
  }
  sg_acs_req r = {j->polling ? "GET" : "POST", path, rt->conn.authority,
                  j->polling ? NULL : j->body.data, j->polling ? 0 : j->body.len, date,
                  j->polling ? NULL : j->op_id, crid, rt->conn.key, rt->conn.key_len,
                  token ? bearer.data : NULL};
  sg_acs_headers hs;
  memset(&hs, 0, sizeof hs);
  int rv = sg_acs_headers_fill(&hs, &r);
  sg_buf_free(&bearer);
  if (rv == 0) {
    sg_h2_request req = {r.method, path, rt->conn.authority, hs.h, hs.n,
                         r.body, r.body_len, (uint64_t)a->cfg.request_timeout_ms};
    j->state = SG_JOB_IN_FLIGHT;
    if (!j->polling) {
      j->attempts++;
      sg_metric_inc(a->mc.attempts[2]);
    } else {
      j->polls++;
    }
    j->sent_at = uv_now(a->loop);
    j->pool = rt->acs->pool;
    rv = sg_h2_pool_request(j->pool, &req, on_acs_response, j, &j->h2);
  }
  sg_acs_headers_free(&hs);
  sg_buf_free(&poll_path);
  if (rv) {
    j->h2 = NULL;
    sg_h2_response none = {0};
    none.detail = "";
    on_acs_response(j, rv, &none, false);
  }
}

static void on_acs_response(void *ud, int err, const sg_h2_response *resp, bool body_sent) {
  sg_jobrun *j = ud;
  sg_app *a = j->app;
  j->h2 = NULL;
  sg_sched_release(&a->sched, j->lane);
  sg_app__want_pump(a);
  sg_app__http_done(a, true, err ? 0 : resp->status, j->sent_at);
  sg_acs_outcome o;
  memset(&o, 0, sizeof o);
  if (err) {
    sg_classify_transport(err, body_sent, &o.base);
    o.kind = SG_ACS_RETRY;
    if (resp->detail && resp->detail[0])
      snprintf(o.base.message, sizeof o.base.message, "%s: %s", sg_strerror(err), resp->detail);
  } else if (j->polling) {
    sg_classify_acs_poll(resp->status, resp->headers, resp->n_headers, (const char *)resp->body,
                         resp->body_len, sg_wall_ms(), &o);
  } else {
    sg_classify_acs_send(resp->status, resp->headers, resp->n_headers, (const char *)resp->body,
                         resp->body_len, sg_wall_ms(), &o);
  }
  sg_app__keep_last(j, &o.base);
  if (a->stopping && (o.kind == SG_ACS_RETRY || o.kind == SG_ACS_POLL_AGAIN ||
                      o.kind == SG_ACS_AUTH_REFRESH || o.kind == SG_ACS_ACCEPTED)) {
    /* Not finished now: stays pending; the next run resends with the same
     * Operation-Id, which ACS recognises. */
    sg_app__finish(j, SG_STATUS_UNSPECIFIED, NULL, NULL, NULL);
    return;
  }
  switch (o.kind) {
  case SG_ACS_ACCEPTED:
    if (!a->cfg.acs_poll) {
      a->n_sent++;
      sg_app__finish(j, SG_STATUS_SENT, &o.base, NULL, NULL);
      return;
    }
    j->polling = true;
    j->auth_retried = false;
    poll_later(j, o.base.has_retry_after && o.base.retry_after_ms > 0
                      ? (uint64_t)o.base.retry_after_ms
                      : SG_ACS_DEFAULT_POLL_MS);
    return;
  case SG_ACS_SENT:
    a->n_sent++;
    sg_app__finish(j, SG_STATUS_SENT, &o.base, NULL, NULL);
    return;
  case SG_ACS_POLL_AGAIN:
    poll_later(j, (uint64_t)o.base.retry_after_ms);
    return;
  case SG_ACS_FAILED:
    a->n_failed++;
    sg_app__finish(j, SG_STATUS_FAILED, &o.base, NULL, NULL);
    return;
  case SG_ACS_AUTH_REFRESH:
    if (j->rt->token)
      sg_token_invalidate(j->rt->token, NULL, 0);
    if (j->auth_retried) {
      a->n_failed++;
      sg_app__finish(j, SG_STATUS_FAILED, &o.base, NULL, NULL);
      return;
    }
    j->auth_retried = true;
    sg_app__requeue(j, 0);
    return;
  case SG_ACS_RETRY:
    break;
  }
  if (o.base.throttled && o.base.has_retry_after) {
    /* The resource's quota (or poll budget) is spent until Retry-After: the
     * whole lane waits; not a failed attempt. */
    a->n_throttled++;
    sg_metric_inc(a->mc.retry_throttled);
    sg_app__throttle(j, (uint64_t)o.base.retry_after_ms);
    return;
  }
  sg_app__retry_later(j, &o.base, err);
}
