/* SPDX-License-Identifier: Apache-2.0 */
/* The sandbox's Entra token endpoint: POST /{tenant}/oauth2/v2.0/token. */
#include "sandbox/sg_sbx_int.h"

#include <stdio.h>
#include <string.h>

#include "core/sg_clock.h"
#include "core/sg_log.h"
#include "core/sg_rand.h"
#include "sandbox/sg_sbx_form.h"

void sg_sbx__route_token(sg_sbx *s, sg_httpd_req *req, const char *tenant) {
  s->stats.token_requests++;
  char auth[1024], corr[128], ra[24];
  const char *authz = sg_sbx__header(req, "authorization", auth, sizeof auth);
  const char *cid = sg_sbx__header(req, "client-request-id", corr, sizeof corr);
  /* Throttling on demand, as Entra does for apps that ask too often. */
  if (s->cfg.token_fault_429_rate > 0 && sg_rand01(&s->rng) < s->cfg.token_fault_429_rate) {
    s->stats.throttled_token++;
    snprintf(ra, sizeof ra, "%lld", (long long)s->cfg.token_retry_after_s);
    sg_sbx_reply r;
    sg_sbx__reply_init(&r, 429);
    sg_sbx__reply_header(&r, "content-type", "application/json; charset=utf-8");
    sg_sbx__reply_header(&r, "retry-after", ra);
    const char body[] = "{\"error\":\"temporarily_unavailable\",\"error_description\":"
                        "\"AADSTS90055: The request has been throttled.\",\"error_codes\":[90055]}";
    sg_sbx__reply_body(&r, body, sizeof body - 1);
    sg_sbx__send(s, req, &r, 0);
    return;
  }
  sg_sbx_form form = SG_SBX_FORM_INIT;
  sg_sbx_token_resp resp;
  memset(&resp, 0, sizeof resp);
  if (sg_sbx_form_parse(&form, (const char *)req->body, req->body_len) != 0) {
    sg_sbx_form_free(&form);
    sg_buf b = SG_BUF_INIT;
    sg_buf_append_str(&b, "{\"error\":\"invalid_request\",\"error_description\":\"AADSTS900144: "
                          "The request body must contain the following parameter: 'grant_type'.\","
                          "\"error_codes\":[900144]}");
    sg_sbx_stats_reject(&s->stats, "invalid_request");
    sg_sbx__send_json(s, req, 400, &b);
    sg_buf_free(&b);
    return;
  }
  /* The URL the request went to: a client assertion's audience. */
  char url[1200];
  const char *q = strchr(req->path, '?');
  snprintf(url, sizeof url, "https://%s%.*s", req->authority,
           (int)(q ? (size_t)(q - req->path) : strlen(req->path)), req->path);
  sg_sbx_token_req tr = {tenant, &form, authz, cid, url};
  sg_sbx_tokens_issue(s->tokens, &tr, (int64_t)sg_wall_ms(), &resp);
  sg_sbx_form_free(&form);
  if (resp.status == 200)
    s->stats.tokens_issued++;
  else {
    char code[32];
    snprintf(code, sizeof code, "AADSTS%d", resp.aadsts);
    sg_sbx_stats_reject(&s->stats, code);
  }
  sg_sbx_reply r;
  sg_sbx__reply_init(&r, resp.status);
  sg_sbx__reply_header(&r, "content-type", "application/json; charset=utf-8");
  sg_sbx__reply_header(&r, "cache-control", "no-store, no-cache");
  sg_sbx__reply_body(&r, resp.body.data ? resp.body.data : "", resp.body.len);
  sg_sbx_token_resp_free(&resp);
  sg_sbx__send(s, req, &r, 0);
}
