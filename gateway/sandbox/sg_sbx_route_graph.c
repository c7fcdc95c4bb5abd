/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sandbox's Graph endpoint: POST /v1.0/users/{mailbox}/sendMail.
 * Order of checks, as a client sees them from Graph: bearer token, an early
 * request inside a Retry-After window we gave (counted as a violation),
 * injected faults (the request is not processed), per (app, mailbox) limits
 * (in flight, requests per window), the body, then per-mailbox message and
 * recipient budgets. Accepted: 202, empty body, request-id.
 * Mailboxes listed in graph.slow_mailboxes have their own requests-per-window
 * limit (graph.slow_requests per graph.slow_window_ms) in place of the usual
 * one, so a test can throttle one sender hard and leave the others alone.
 */
#include "sandbox/sg_sbx_int.h"

#include <ctype.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/sg_clock.h"
#include "core/sg_log.h"
#include "core/sg_rand.h"
#include "sandbox/sg_sbx_graph.h"

void sg_sbx__graph_ids_init(sg_sbx *s, sg_httpd_req *req, graph_ids *ids) {
  sg_sbx__guid(s, ids->request_id);
  if (!sg_sbx__header(req, "client-request-id", ids->client_request_id,
                      sizeof ids->client_request_id))
    snprintf(ids->client_request_id, sizeof ids->client_request_id, "%s", ids->request_id);
  sg_sbx_graph_date(time(NULL), ids->date);
}

/* Graph's front end names the server that answered; one value here, as on
 * one connection to Graph (where it is the same from request to request). */
#define AGS_DIAGNOSTIC                                                                             \
  "{\"ServerInfo\":{\"DataCenter\":\"West Europe\",\"Slice\":\"E\",\"Ring\":\"5\","                \
  "\"ScaleUnit\":\"002\",\"RoleInstance\":\"AM2PEPF0000A1B2\"}}"

void sg_sbx__graph_headers(sg_sbx_reply *r, const graph_ids *ids) {
  char date[32];
  sg_time_imf(sg_wall_ms() / 1000, date);
  sg_sbx__reply_header(r, "date", date);
  sg_sbx__reply_header(r, "request-id", ids->request_id);
  sg_sbx__reply_header(r, "client-request-id", ids->client_request_id);
  sg_sbx__reply_header(r, "x-ms-ags-diagnostic", AGS_DIAGNOSTIC);
  sg_sbx__reply_header(r, "strict-transport-security", "max-age=31536000");
}

void sg_sbx__graph_error(sg_sbx *s, sg_httpd_req *req, const graph_ids *ids, int status,
                         const char *code, const char *message, bool inner, uint64_t retry_after_ms,
                         const char *bkey, const char *inflight_key, uint64_t delay) {
  sg_sbx__inbox_event_req(s, req, status, code, retry_after_ms);
  sg_sbx_reply r;
  sg_sbx__reply_init(&r, status);
  sg_sbx__reply_header(&r, "content-type", "application/json");
  sg_sbx__graph_headers(&r, ids);
  if (status == 401)
    sg_sbx__reply_header(
        &r, "www-authenticate",
        "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/"
        "common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"");
  if (retry_after_ms) {
    char ra[24];
    if (s->cfg.graph_retry_after_fractional)
      sg_sbx_retry_after_frac(retry_after_ms, ra);
    else
      sg_sbx_retry_after_int(retry_after_ms, ra);
    sg_sbx__reply_header(&r, "retry-after", ra);
    /* The client was told to wait the header's value (rounded as written). */
    uint64_t told = s->cfg.graph_retry_after_fractional
                        ? retry_after_ms
                        : sg_sbx_retry_after_secs(retry_after_ms) * 1000;
    snprintf(r.backoff_key, sizeof r.backoff_key, "%s", bkey);
    r.backoff_ms = told;
  }
  sg_sbx_graph_inner in = {ids->date, ids->request_id, ids->client_request_id};
  sg_buf b = SG_BUF_INIT;
  sg_sbx_graph_error_json(&b, code, message, inner ? &in : NULL);
  sg_sbx__reply_body(&r, b.data, b.len);
  sg_buf_free(&b);
  if (inflight_key)
    snprintf(r.inflight_key, sizeof r.inflight_key, "%s", inflight_key);
  sg_sbx__send(s, req, &r, delay);
}

/* True when |mb| (lower case) is in the comma-separated |list| (spaces around names ignored). */
static bool slow_mailbox(const char *list, const char *mb) {
  size_t n = strlen(mb);
  const char *p = list;
  while (p && *p) {
    while (*p == ' ' || *p == ',')
      p++;
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    while (len && p[len - 1] == ' ')
      len--;
    if (len == n && n && strncasecmp(p, mb, n) == 0)
      return true;
    p = e;
  }
  return false;
}

bool sg_sbx__graph_auth(sg_sbx *s, sg_httpd_req *req, const graph_ids *ids,
                        sg_sbx_token_info *info) {
  uint64_t latency = (uint64_t)s->cfg.fault_latency_ms;
  const sg_http_header *a = sg_http_find(req->headers, req->nheaders, "authorization");
  const char *why = NULL;
  if (a == NULL || a->value_len <= 7 || strncasecmp(a->value, "Bearer ", 7) != 0) {
    why = "Access token is empty.";
  } else {
    sg_sbx_token_status st = sg_sbx_tokens_validate(s->tokens, a->value + 7, a->value_len - 7,
                                                    SG_SBX_AUD_GRAPH, sg_wall_ms(), info);
    if (st != SG_SBX_TOKEN_OK)
      why = sg_sbx_token_status_message(st);
  }
  if (why) {
    s->stats.auth_failures++;
    sg_sbx_stats_reject(&s->stats, "InvalidAuthenticationToken");
    sg_sbx__graph_error(s, req, ids, 401, "InvalidAuthenticationToken", why, true, 0, NULL, NULL,
                        latency);
    return false;
  }
  return true;
}

bool sg_sbx__graph_fault(sg_sbx *s, sg_httpd_req *req, const graph_ids *idp, const char *key) {
  uint64_t latency = (uint64_t)s->cfg.fault_latency_ms;
  const graph_ids ids = *idp;
  s->send_requests++;
  sg_sbx_fault f = sg_sbx_fault_pick(&s->cfg, &s->rng);
  switch (f) {
  case SG_SBX_FAULT_DROP:
    s->stats.fault_drop++;
    sg_sbx__inbox_event_req(s, req, 0, "fault: connection dropped", 0);
    sg_httpd_drop(req);
    return true;
  case SG_SBX_FAULT_RESET:
    s->stats.fault_reset++;
    sg_sbx__inbox_event_req(s, req, 0, "fault: stream reset", 0);
    sg_httpd_reset(req, NGHTTP2_REFUSED_STREAM);
    return true;
  case SG_SBX_FAULT_500:
    s->stats.fault_500++;
    sg_sbx__graph_error(s, req, &ids, 500, "ErrorInternalServerTransientError",
                        "An internal server error occurred. The operation failed.", true, 0, NULL,
                        NULL, latency);
    return true;
  case SG_SBX_FAULT_503:
    s->stats.fault_503++;
    sg_sbx__graph_error(s, req, &ids, 503, "ErrorServerBusy",
                        "The server cannot service this request right now.", true,
                        (uint64_t)(s->cfg.fault_retry_after_s * 1000.0), key, NULL, latency);
    return true;
  case SG_SBX_FAULT_503_NO_RA:
    s->stats.fault_503++;
    sg_sbx__graph_error(s, req, &ids, 503, "serviceNotAvailable", "Service unavailable.", true, 0,
                        NULL, NULL, latency);
    return true;
  case SG_SBX_FAULT_504:
    s->stats.fault_504++;
    sg_sbx__graph_error(s, req, &ids, 504, "UnknownError", "Gateway timeout.", false, 0, NULL, NULL,
                        latency);
    return true;
  case SG_SBX_FAULT_NONE:
    break;
  }
  return false;
}

void sg_sbx__graph_key(const char *client_id, const char *mailbox, char *key, size_t cap, char *mb,
                       size_t mbcap) {
  size_t i;
  for (i = 0; mailbox[i] && i < mbcap - 1; i++)
    mb[i] = (char)tolower((unsigned char)mailbox[i]);
  mb[i] = '\0';
  snprintf(key, cap, "graph|%s|%s", client_id, mb);
}

void sg_sbx__route_graph(sg_sbx *s, sg_httpd_req *req, const char *mailbox) {
  graph_ids ids;
  sg_sbx__graph_ids_init(s, req, &ids);
  uint64_t now = sg_sbx__now(s);
  uint64_t latency = (uint64_t)s->cfg.fault_latency_ms;

  /* 1. The bearer token. */
  sg_sbx_token_info info;
  if (!sg_sbx__graph_auth(s, req, &ids, &info))
    return;

  /* Lane key: (app, mailbox), mailbox compared without case. */
  char key[300], mb[256];
  sg_sbx__graph_key(info.client_id, mailbox, key, sizeof key, mb, sizeof mb);

  /* 2. Early requests inside a Retry-After window we gave: count, refuse again. */
  if (sg_sbx_backoff_check(s->backoff, key, now)) {
    s->stats.retry_after_violations++;
    s->stats.throttled_graph++;
    uint64_t left = sg_sbx_backoff_until(s->backoff, key, now) - now;
    sg_sbx__graph_error(s, req, &ids, 429, "ApplicationThrottled",
                        "Application is over its MailboxConcurrency limit.", true, left ? left : 1,
                        key, NULL, latency);
    return;
  }

  /* 3. Injected faults: the request is not processed. */
  if (sg_sbx__graph_fault(s, req, &ids, key))
    return;

  /* 4. Per (app, mailbox): requests in flight, then requests per window. */
  sg_sbx_inflight_acquire(s->graph_inflight, key);
  uint32_t inflight = sg_sbx_inflight_count(s->graph_inflight, key);
  s->stats.inflight_now++;
  if (inflight > s->stats.max_inflight_per_mailbox)
    s->stats.max_inflight_per_mailbox = inflight;
  uint64_t wait = 0;
  if (s->cfg.graph_mailbox_concurrency && inflight > (uint64_t)s->cfg.graph_mailbox_concurrency) {
    s->stats.throttled_graph++;
    sg_sbx_stats_reject(&s->stats, "ApplicationThrottled");
    sg_sbx__graph_error(s, req, &ids, 429, "ApplicationThrottled",
                        "Application is over its MailboxConcurrency limit.", true, 1000, key, key,
                        latency);
    return;
  }
  sg_sbx_rate *req_limit =
      slow_mailbox(s->cfg.graph_slow_mailboxes, mb) ? s->graph_slow : s->graph_req;
  if (sg_sbx_rate_take(req_limit, key, 1, now, &wait) != 0) {
    s->stats.throttled_graph++;
    sg_sbx_stats_reject(&s->stats, "TooManyRequests");
    sg_sbx__graph_error(s, req, &ids, 429, "TooManyRequests", "Please retry again later.", true,
                        wait, key, key, latency);
    return;
  }

  /* 5. The body. */
  char ctype[256];
  if (!sg_sbx__header(req, "content-type", ctype, sizeof ctype))
    ctype[0] = '\0';
  sg_sbx_graph_limits lim;
  sg_sbx_graph_limits_default(&lim);
  lim.max_body = (size_t)s->cfg.graph_max_request_bytes;
  sg_sbx_msg msg;
  sg_sbx_verdict v;
  if (sg_sbx_graph_validate(ctype, (const char *)req->body, req->body_len, mailbox, &lim, &msg,
                            &v)) {
    sg_sbx_stats_reject(&s->stats, v.code);
    sg_sbx__graph_error(s, req, &ids, v.status, v.code, v.message, !v.no_inner, 0, NULL, key,
                        latency);
    sg_sbx_msg_free(&msg);
    return;
  }

  /* 6. Per-mailbox budgets: messages per minute, recipients per day. */
  char mkey[300];
  snprintf(mkey, sizeof mkey, "mbx|%s", mb);
  if (sg_sbx_rate_take(s->graph_msg, mkey, 1, now, &wait) != 0) {
    s->stats.throttled_graph++;
    sg_sbx_stats_reject(&s->stats, "TooManyRequests");
    sg_sbx__graph_error(s, req, &ids, 429, "TooManyRequests", "Please retry again later.", true,
                        wait, key, key, latency);
    sg_sbx_msg_free(&msg);
    return;
  }
  int rr = sg_sbx_rate_take(s->graph_rcpt, mkey, msg.recipient_count, now, &wait);
  if (rr != 0) {
    s->stats.throttled_graph++;
    sg_sbx_stats_reject(&s->stats, "ErrorSubmissionQuotaExceeded");
    sg_sbx__graph_error(
        s, req, &ids, 429, "ErrorSubmissionQuotaExceeded",
        "The message couldn't be sent because the sender's submission quota was exceeded. "
        "Please try again later.",
        true, wait, key, key, latency);
    sg_sbx_msg_free(&msg);
    return;
  }

  /* Accepted. */
  s->stats.graph_accepted++;
  sg_sbx__record(s, &msg, ids.request_id, NULL);
  sg_sbx__inbox_add(s, &msg, ids.request_id, req->body, req->body_len);
  sg_sbx_msg_free(&msg);
  sg_sbx_reply r;
  sg_sbx__reply_init(&r, 202);
  sg_sbx__graph_headers(&r, &ids);
  snprintf(r.inflight_key, sizeof r.inflight_key, "%s", key);
  if (s->cfg.fault_goaway_every > 0 && s->send_requests % (uint64_t)s->cfg.fault_goaway_every == 0)
    r.goaway = true;
  uint64_t delay = latency;
  if (s->cfg.fault_delay_202_rate > 0 && sg_rand01(&s->rng) < s->cfg.fault_delay_202_rate) {
    s->stats.fault_delay_202++;
    delay += (uint64_t)s->cfg.fault_delay_202_ms;
  }
  sg_sbx__send(s, req, &r, delay);
}
