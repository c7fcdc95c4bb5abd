/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sandbox's ACS Email endpoints: POST /emails:send and
 * GET /emails/operations/{id}, both with ?api-version=. Authentication is the
 * HMAC-SHA256 access-key signature (verified exactly) or an Entra bearer token
 * for ACS. A repeated Operation-Id returns the existing operation and sends
 * nothing again.
 */
#include "sandbox/sg_sbx_int.h"

#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/sg_clock.h"
#include "core/sg_log.h"
#include "sandbox/sg_sbx_acs.h"
#include "svc/sg_acs_hmac.h"

static void acs_error(sg_sbx *s, sg_httpd_req *req, const char *request_id, int status,
                      const char *code, const char *message, uint64_t retry_after_ms,
                      const char *bkey) {
  sg_sbx__inbox_event_req(s, req, status, code, retry_after_ms);
  sg_sbx_reply r;
  sg_sbx__reply_init(&r, status);
  sg_sbx__reply_header(&r, "content-type", "application/json; charset=utf-8");
  sg_sbx__reply_header(&r, "x-ms-error-code", code);
  sg_sbx__reply_header(&r, "x-ms-request-id", request_id);
  if (retry_after_ms) {
    char ra[24];
    sg_sbx_retry_after_int(retry_after_ms, ra);
    sg_sbx__reply_header(&r, "retry-after", ra);
    uint64_t told = sg_sbx_retry_after_secs(retry_after_ms) * 1000;
    snprintf(r.backoff_key, sizeof r.backoff_key, "%s", bkey);
    r.backoff_ms = told;
  }
  sg_buf b = SG_BUF_INIT;
  sg_sbx_acs_error_json(&b, code, message);
  sg_sbx__reply_body(&r, b.data, b.len);
  sg_buf_free(&b);
  sg_sbx__send(s, req, &r, (uint64_t)s->cfg.fault_latency_ms);
}

/* Checks the HMAC signature or the bearer token. Returns NULL when fine, else the message. */
static const char *acs_auth(sg_sbx *s, sg_httpd_req *req) {
  const sg_http_header *a = sg_http_find(req->headers, req->nheaders, "authorization");
  if (a == NULL)
    return "Denied by the resource provider.";
  if (a->value_len > 7 && strncasecmp(a->value, "Bearer ", 7) == 0) {
    sg_sbx_token_status st = sg_sbx_tokens_validate(s->tokens, a->value + 7, a->value_len - 7,
                                                    SG_SBX_AUD_ACS, sg_wall_ms(), NULL);
    return st == SG_SBX_TOKEN_OK ? NULL : "Denied by the resource provider.";
  }
  sg_acs_verify_result v = sg_acs_verify_headers(
      s->acs_key, s->acs_key_len, req->method, req->path, req->authority, req->headers,
      req->nheaders, req->body, req->body_len, sg_wall_ms(), s->cfg.acs_clock_skew_s * 1000);
  return v == SG_ACS_VERIFY_OK ? NULL : sg_acs_verify_message(v);
}

/* With acs.bodies_dir set: the accepted body, byte for byte, as <op id>.json
 * there, so a test can read back every part of what the gateway sent. */
static void keep_body(sg_sbx *s, const sg_httpd_req *req, const char *op_id) {
  const char *dir = s->cfg.acs_bodies_dir;
  if (dir == NULL || dir[0] == '\0' || op_id[strspn(op_id, "0123456789abcdefABCDEF-")] != '\0')
    return;
  char path[1024];
  snprintf(path, sizeof path, "%s/%s.json", dir, op_id);
  FILE *f = fopen(path, "wb");
  if (f == NULL || fwrite(req->body, 1, req->body_len, f) != req->body_len)
    sg_log_kv(SG_LOG_WARN, "sandbox", "cannot keep an ACS body", "path", path, NULL);
  if (f != NULL)
    fclose(f);
}

/* True when |s| names a recipient domain in the comma-separated bounce list. */
static bool bounces(const sg_sbx *s, const sg_sbx_msg *m) {
  const char *p = s->cfg.acs_bounce_domains;
  while (*p) {
    const char *e = strchr(p, ',');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    char d[256];
    if (n && n < sizeof d) {
      memcpy(d, p, n);
      d[n] = '\0';
      if (sg_sbx_msg_has_domain(m, d))
        return true;
    }
    if (!e)
      break;
    p = e + 1;
  }
  return false;
}

static void send_op(sg_sbx *s, sg_httpd_req *req, const sg_sbx_op *op, const char *request_id,
                    const char *api_version, int status) {
  char loc[600], ra[24];
  snprintf(loc, sizeof loc, "https://%s/emails/operations/%s?api-version=%s", req->authority,
           sg_sbx_op_id(op), api_version);
  sg_sbx_reply r;
  sg_sbx__reply_init(&r, status);
  sg_sbx__reply_header(&r, "content-type", "application/json; charset=utf-8");
  sg_sbx__reply_header(&r, "operation-location", loc);
  sg_sbx__reply_header(&r, "operation-id", sg_sbx_op_id(op));
  sg_sbx__reply_header(&r, "x-ms-request-id", request_id);
  sg_sbx_retry_after_int((uint64_t)s->cfg.acs_op_step_ms, ra);
  sg_sbx__reply_header(&r, "retry-after", ra);
  sg_buf b = SG_BUF_INIT;
  sg_sbx_op_write_json(&b, op, (int64_t)sg_sbx__now(s));
  sg_sbx__reply_body(&r, b.data, b.len);
  sg_buf_free(&b);
  sg_sbx__send(s, req, &r, (uint64_t)s->cfg.fault_latency_ms);
}

void sg_sbx__route_acs_send(sg_sbx *s, sg_httpd_req *req) {
  char rid[37], ver[64], opid[160];
  sg_sbx__guid(s, rid);
  uint64_t now = sg_sbx__now(s);
  if (!sg_sbx__query(req->path, "api-version", ver, sizeof ver) || ver[0] == '\0') {
    sg_sbx_stats_reject(&s->stats, "MissingApiVersionParameter");
    acs_error(s, req, rid, 400, "MissingApiVersionParameter",
              "The api-version query parameter (?api-version=) is required for all requests.", 0,
              NULL);
    return;
  }
  const char *why = acs_auth(s, req);
  if (why) {
    s->stats.auth_failures++;
    sg_sbx_stats_reject(&s->stats, "Denied");
    acs_error(s, req, rid, 401, "Denied", why, 0, NULL);
    return;
  }
  const char *key = "acs|resource";
  /* A repeated Operation-Id: the same operation, nothing sent again. */
  const char *given = sg_sbx__header(req, "operation-id", opid, sizeof opid);
  if (given && given[0]) {
    const sg_sbx_op *op = sg_sbx_ops_get(s->ops, given);
    if (op) {
      s->stats.acs_repeats++;
      send_op(s, req, op, rid, ver, 202);
      return;
    }
  }
  if (sg_sbx_backoff_check(s->backoff, key, now)) {
    s->stats.retry_after_violations++;
    s->stats.throttled_acs++;
    uint64_t left = sg_sbx_backoff_until(s->backoff, key, now) - now;
    acs_error(s, req, rid, 429, "TooManyRequests", "Too many requests; retry later.",
              left ? left : 1, key);
    return;
  }
  s->send_requests++;
  switch (sg_sbx_fault_pick(&s->cfg, &s->rng)) {
  case SG_SBX_FAULT_DROP:
    s->stats.fault_drop++;
    sg_sbx__inbox_event_req(s, req, 0, "fault: connection dropped", 0);
    sg_httpd_drop(req);
    return;
  case SG_SBX_FAULT_RESET:
    s->stats.fault_reset++;
    sg_sbx__inbox_event_req(s, req, 0, "fault: stream reset", 0);
    sg_httpd_reset(req, NGHTTP2_REFUSED_STREAM);
    return;
  case SG_SBX_FAULT_500:
    s->stats.fault_500++;
    acs_error(s, req, rid, 500, "InternalServerError", "An internal error occurred.", 0, NULL);
    return;
  case SG_SBX_FAULT_503:
    s->stats.fault_503++;
    acs_error(s, req, rid, 503, "ServiceUnavailable", "The service is unavailable.",
              (uint64_t)(s->cfg.fault_retry_after_s * 1000.0), key);
    return;
  case SG_SBX_FAULT_503_NO_RA:
    s->stats.fault_503++;
    acs_error(s, req, rid, 503, "ServiceUnavailable", "The service is unavailable.", 0, NULL);
    return;
  case SG_SBX_FAULT_504:
    s->stats.fault_504++;
    acs_error(s, req, rid, 504, "GatewayTimeout", "Gateway timeout.", 0, NULL);
    return;
  case SG_SBX_FAULT_NONE:
    break;
  }
  uint64_t wait = 0, w2 = 0;
  /* Take from both windows only when both have room. */
  uint64_t used_h = sg_sbx_rate_used(s->acs_hour, key, now);
  if (s->cfg.acs_sends_per_hour && used_h >= (uint64_t)s->cfg.acs_sends_per_hour) {
    sg_sbx_rate_take(s->acs_hour, key, 1, now, &w2);
    wait = w2;
  } else if (sg_sbx_rate_take(s->acs_min, key, 1, now, &wait) == 0) {
    if (sg_sbx_rate_take(s->acs_hour, key, 1, now, &w2) != 0)
      wait = w2;
  }
  if (wait) {
    s->stats.throttled_acs++;
    sg_sbx_stats_reject(&s->stats, "TooManyRequests");
    acs_error(s, req, rid, 429, "TooManyRequests", "Too many requests; retry later.", wait, key);
    return;
  }
  sg_sbx_acs_limits lim;
  sg_sbx_acs_limits_default(&lim);
  lim.max_body = (size_t)s->cfg.acs_max_request_bytes;
  char sup[16];
  if (sg_sbx__header(req, "x-ms-acsemail-suppress-invalid-attachment", sup, sizeof sup))
    lim.suppress_invalid_attachment = strcasecmp(sup, "true") == 0;
  sg_sbx_msg msg;
  sg_sbx_verdict v;
  if (sg_sbx_acs_validate((const char *)req->body, req->body_len, ver, &lim, &msg, &v)) {
    sg_sbx_stats_reject(&s->stats, v.code);
    acs_error(s, req, rid, v.status, v.code, v.message, 0, NULL);
    sg_sbx_msg_free(&msg);
    return;
  }
  sg_sbx_op_spec spec = SG_SBX_OP_SPEC_SUCCEED;
  spec.fail = bounces(s, &msg);
  spec.not_started_ms = 0; /* the 202 says Running, as the service's examples do */
  const sg_sbx_op *op = NULL;
  bool existed = false;
  int rv = sg_sbx_ops_create(s->ops, given, (int64_t)now, &spec, &op, &existed);
  if (rv) {
    sg_sbx_stats_reject(&s->stats, "InvalidOperationId");
    acs_error(s, req, rid, 400, "BadRequest", "Operation-Id is not valid.", 0, NULL);
    sg_sbx_msg_free(&msg);
    return;
  }
  s->stats.acs_accepted++;
  sg_sbx__record(s, &msg, rid, sg_sbx_op_id(op));
  sg_sbx__inbox_add(s, &msg, rid, req->body, req->body_len);
  keep_body(s, req, sg_sbx_op_id(op));
  sg_sbx_msg_free(&msg);
  if (s->cfg.acs_drop_first_response) {
    /* Accepted, but the caller never hears it: a retry with the same
     * Operation-Id must find the operation, not send again. */
    s->stats.fault_acs_drop++;
    sg_httpd_drop(req);
    return;
  }
  send_op(s, req, op, rid, ver, 202);
}

void sg_sbx__route_acs_get(sg_sbx *s, sg_httpd_req *req, const char *op_id) {
  char rid[37], ver[64];
  sg_sbx__guid(s, rid);
  uint64_t now = sg_sbx__now(s);
  s->stats.acs_polls++;
  if (!sg_sbx__query(req->path, "api-version", ver, sizeof ver) || ver[0] == '\0') {
    acs_error(s, req, rid, 400, "MissingApiVersionParameter",
              "The api-version query parameter (?api-version=) is required for all requests.", 0,
              NULL);
    return;
  }
  const char *why = acs_auth(s, req);
  if (why) {
    s->stats.auth_failures++;
    acs_error(s, req, rid, 401, "Denied", why, 0, NULL);
    return;
  }
  const char *key = "acs|status";
  uint64_t wait = 0, w2 = 0;
  if (sg_sbx_rate_take(s->acs_status_min, key, 1, now, &wait) == 0 &&
      sg_sbx_rate_take(s->acs_status_hour, key, 1, now, &w2) != 0)
    wait = w2;
  if (wait) {
    s->stats.throttled_acs++;
    acs_error(s, req, rid, 429, "TooManyRequests", "Too many requests; retry later.", wait, key);
    return;
  }
  const sg_sbx_op *op = sg_sbx_ops_get(s->ops, op_id);
  if (op == NULL) {
    acs_error(s, req, rid, 404, "NotFound", "The operation was not found.", 0, NULL);
    return;
  }
  sg_sbx_reply r;
  sg_sbx__reply_init(&r, 200);
  sg_sbx__reply_header(&r, "content-type", "application/json; charset=utf-8");
  sg_sbx__reply_header(&r, "x-ms-request-id", rid);
  sg_sbx_op_status st = sg_sbx_op_status_at(op, (int64_t)now);
  if (st == SG_SBX_OP_NOT_STARTED || st == SG_SBX_OP_RUNNING) {
    char ra[24];
    int64_t left = sg_sbx_op_final_ms(op) - (int64_t)now;
    sg_sbx_retry_after_int(left > 0 ? (uint64_t)left : 1, ra);
    sg_sbx__reply_header(&r, "retry-after", ra);
  }
  sg_buf b = SG_BUF_INIT;
  sg_sbx_op_write_json(&b, op, (int64_t)now);
  sg_sbx__reply_body(&r, b.data, b.len);
  sg_buf_free(&b);
  sg_sbx__send(s, req, &r, (uint64_t)s->cfg.fault_latency_ms);
}
