/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ACS Email as a provider: the resource's send lane (per-minute and per-hour
 * windows) and poll lane (status calls have their own budget), the request
 * (HMAC-signed with the connection string's key, or an Entra bearer token),
 * the job's stable Operation-Id on every attempt, and an accepted operation
 * followed up until Succeeded or Failed. A resend after a lost answer carries
 * the same Operation-Id, so ACS never sends the message twice: idempotent.
 */
#include "svc/sg_provider.h"

#include <stdio.h>
#include <string.h>

#include "core/sg_clock.h"
#include "core/sg_err.h"
#include "core/sg_fmt.h"
#include "svc/sg_acs.h"

typedef struct acs_acct {
  const sg_account *acct;
  const sg_config *cfg;
  sg_acs_conn conn; /* endpoint and (HMAC) key */
} acs_acct;

/* What a request keeps until the pool copied it. */
typedef struct acs_req {
  sg_acs_headers hs;
  sg_buf poll_path;
} acs_req;

static void acs_acct_free(void *st) {
  acs_acct *s = st;
  if (s == NULL)
    return;
  sg_acs_conn_free(&s->conn);
  sg_free(s);
}

static int acs_acct_init(void **st, sg_prov_info *info, const sg_account *acct,
                         const sg_config *cfg, char *err, size_t errcap) {
  const char *name = acct->name[0] ? acct->name : "(default ACS)";
  acs_acct *s = sg_xcalloc(1, sizeof *s);
  s->acct = acct;
  s->cfg = cfg;
  memset(info, 0, sizeof *info);
  int rv = 0;
  if (acct->connection_string[0]) {
    if (sg_acs_conn_parse(acct->connection_string, &s->conn) != 0) {
      snprintf(err, errcap,
               "account %s: the ACS connection string is not "
               "endpoint=https://...;accesskey=<base64>",
               name);
      rv = SG_ERR_CONFIG;
    }
  } else {
    /* Entra auth: the endpoint alone (with a dummy key that is never used). */
    char cs[700];
    snprintf(cs, sizeof cs, "endpoint=%s;accesskey=AA==", acct->acs_endpoint);
    if (sg_acs_conn_parse(cs, &s->conn) != 0) {
      snprintf(err, errcap, "account %s: endpoint is not an https URL", name);
      rv = SG_ERR_CONFIG;
    }
    info->needs_token = true;
  }
  if (rv == 0 && strcmp(s->conn.scheme, "https") != 0) {
    snprintf(err, errcap, "account %s: the ACS endpoint must be https", name);
    rv = SG_ERR_CONFIG;
  }
  if (rv != 0) {
    sg_free(s); /* a connection string that did not parse holds nothing */
    return rv;
  }
  snprintf(info->origin_url, sizeof info->origin_url, "https://%s", s->conn.authority);
  info->follows = cfg->acs_poll;
  info->follow_max = (uint32_t)cfg->acs_poll_max;
  info->follow_default_ms = SG_ACS_DEFAULT_POLL_MS;
  *st = s;
  return 0;
}

/* One lane per resource for sends, one for polls (their own budget). */
static void acs_lane(const void *st, const sg_job *job, bool follow, char *key, sg_lane_cfg *lc,
                     uint32_t *rcpts) {
  (void)job;
  const acs_acct *s = st;
  const sg_limits *l = &s->acct->limits;
  size_t n = sg_fmt_copy(key, SG_PROV_LANE_KEY_MAX, follow ? "acs-poll|" : "acs|");
  sg_fmt_copy(key + n, SG_PROV_LANE_KEY_MAX - n, s->acct->name);
  memset(lc, 0, sizeof *lc);
  lc->max_inflight = (uint32_t)l->acs_concurrency;
  lc->req_limit =
      follow ? (uint64_t)s->cfg->acs_polls_per_minute : (uint64_t)l->acs_sends_per_minute;
  lc->req_window_ms = 60000;
  lc->req2_limit = follow ? (uint64_t)s->cfg->acs_polls_per_hour : (uint64_t)l->acs_sends_per_hour;
  lc->req2_window_ms = 3600000;
  *rcpts = 1;
}

static int acs_prepare(const void *st, sg_prov_job *pj, sg_job_error *err) {
  const acs_acct *s = st;
  const char *api = s->cfg->acs_api_version;
  sg_acs_build_opts opts = {s->cfg->acs_disable_tracking};
  sg_buf_reserve(&pj->body, sg_prov_body_guess(pj->job));
  if (sg_acs_build(pj->job, api, &opts, &pj->body) != 0 ||
      sg_acs_send_path(&pj->path, s->conn.base_path, api) != 0 ||
      sg_acs_operation_id(pj->job->id, pj->op_id) != 0) {
    err->code = SG_JOBERR_BAD_BACKEND;
    snprintf(err->message, sizeof err->message, "the ACS request cannot be built (api-version %s)",
             api);
    return SG_ERR_INVAL;
  }
  pj->keep_body = true;
  return sg_job_check_backend(pj->job, SG_BACKEND_ACS, pj->body.len, err) != 0 ? SG_ERR_INVAL : 0;
}

static int acs_build(const void *st, sg_prov_job *pj, const sg_prov_ctx *ctx, sg_prov_req *out,
                     sg_job_error *err) {
  const acs_acct *s = st;
  acs_req *r = sg_xcalloc(1, sizeof *r);
  out->priv = r;
  char date[32];
  sg_time_imf(ctx->now_unix_ms / 1000, date);
  sg_acs_random_uuid(out->request_id);
  const char *path = pj->path.data;
  if (pj->following) {
    if (sg_acs_poll_path(&r->poll_path, s->conn.base_path, pj->op_id, s->cfg->acs_api_version) !=
        0) {
      err->code = SG_JOBERR_BAD_BACKEND;
      snprintf(err->message, sizeof err->message, "the operation id cannot be polled");
      return SG_ERR_INVAL;
    }
    path = r->poll_path.data;
  }
  char *bearer = NULL;
  if (ctx->token) {
    sg_prov_bearer(out, ctx->token, ctx->token_len);
    bearer = out->bearer + 7;
  }
  sg_acs_req q = {pj->following ? "GET" : "POST",
                  path,
                  s->conn.authority,
                  pj->following ? NULL : pj->body.data,
                  pj->following ? 0 : pj->body.len,
                  date,
                  pj->following ? NULL : pj->op_id,
                  out->request_id,
                  s->conn.key,
                  s->conn.key_len,
                  bearer};
  int rv = sg_acs_headers_fill(&r->hs, &q);
  if (rv != 0) {
    err->code = SG_JOBERR_BAD_BACKEND;
    snprintf(err->message, sizeof err->message, "the ACS request cannot be signed: %s",
             sg_strerror(rv));
    return SG_ERR_INVAL;
  }
  out->method = q.method;
  out->path = path;
  out->authority = s->conn.authority;
  memcpy(out->h, r->hs.h, r->hs.n * sizeof *out->h);
  out->nh = r->hs.n;
  out->body = q.body;
  out->body_len = q.body_len;
  out->follow_up = pj->following;
  return 0;
}

static void acs_req_free(sg_prov_req *out) {
  acs_req *r = out->priv;
  if (r == NULL)
    return;
  sg_acs_headers_free(&r->hs);
  sg_buf_free(&r->poll_path);
  sg_free(r);
  out->priv = NULL;
}

static void acs_classify(const void *st, const sg_prov_job *pj, int status, const sg_http_header *h,
                         size_t nh, const char *body, size_t len, int64_t now_unix_ms,
                         sg_outcome *out) {
  (void)st;
  sg_acs_outcome o;
  memset(&o, 0, sizeof o);
  if (pj->following)
    sg_classify_acs_poll(status, h, nh, body, len, now_unix_ms, &o);
  else
    sg_classify_acs_send(status, h, nh, body, len, now_unix_ms, &o);
  *out = o.base;
}

const sg_provider sg_provider_acs = {
    .name = "acs",
    .backend = SG_BACKEND_ACS,
    .idempotent = true,
    .acct_init = acs_acct_init,
    .acct_free = acs_acct_free,
    .lane = acs_lane,
    .prepare = acs_prepare,
    .build = acs_build,
    .req_free = acs_req_free,
    .classify = acs_classify,
};
