/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ACS Email as a provider: the resource's send lane (per-minute and per-hour
 * windows) and poll lane (status calls have their own budget), the request
 * (HMAC-signed with the connection string's key, or an Entra bearer token),
 * the job's stable Operation-Id on every attempt, and an accepted operation
 * followed up until Succeeded or Failed. A resend after a lost answer carries
 * the same Operation-Id, so ACS never sends the message twice: idempotent.
 * A MIME job is turned into structured content first (job/sg_mime_parse.h).
 */
#include "svc/sg_provider.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/sg_clock.h"
#include "core/sg_err.h"
#include "core/sg_fmt.h"
#include "job/sg_mime_parse.h"
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

__attribute__((format(printf, 3, 4))) static int refuse(sg_job_error *err, const char *code,
                                                        const char *fmt, ...) {
  err->code = code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return SG_ERR_INVAL;
}

/*
 * What ACS would refuse in a job converted from MIME, known before sending:
 * an attachment type off its list, inline parts with an api-version that has
 * no contentId, two inline parts with one Content-ID. X-MS- header fields
 * (the service's own namespace: x-ms-acsemail-* changes how it treats the
 * message) are not passed on.
 */
static int mime_checks(const acs_acct *s, sg_mime_job *m, sg_job_error *err) {
  const sg_job *j = &m->job;
  for (size_t i = 0; i < j->n_attachments; i++) {
    const sg_job_attachment *a = &j->attachments[i];
    if (!sg_acs_type_allowed(a->content_type))
      return refuse(err, SG_JOBERR_ATTACHMENT_TYPE,
                    "attachment %zu (%.60s) is %.60s, a type ACS does not accept", i, a->name,
                    a->content_type);
    if (!a->is_inline)
      continue;
    if (!sg_acs_has_content_id(s->cfg->acs_api_version))
      return refuse(err, SG_JOBERR_INLINE_UNSUPPORTED,
                    "inline parts need ACS api-version %s or later (configured: %.40s)",
                    SG_ACS_CONTENT_ID_API_VERSION, s->cfg->acs_api_version);
    for (size_t k = 0; k < i; k++)
      if (j->attachments[k].is_inline && strcmp(j->attachments[k].content_id, a->content_id) == 0)
        return refuse(err, SG_JOBERR_BAD_ATTACHMENT, "two inline parts have Content-ID %.80s",
                      a->content_id);
  }
  size_t n = 0;
  for (size_t i = 0; i < j->n_headers; i++)
    if (strncasecmp(m->hdrs[i].name, "x-ms-", 5) != 0)
      m->hdrs[n++] = m->hdrs[i];
  m->job.n_headers = n;
  return 0;
}

/* The body of |job| (structured) into pj->body, once for every attempt. */
static int acs_body(const acs_acct *s, sg_prov_job *pj, const sg_job *job, sg_job_error *err) {
  const char *api = s->cfg->acs_api_version;
  sg_acs_build_opts opts = {s->cfg->acs_disable_tracking};
  /* The rules and the exact size first: an oversize job costs no body. */
  if (sg_job_check_backend(job, SG_BACKEND_ACS, sg_acs_request_size(job, api, &opts), err) != 0)
    return SG_ERR_INVAL;
  sg_buf_reserve(&pj->body, sg_prov_body_guess(job));
  if (sg_acs_build(job, api, &opts, &pj->body) != 0 ||
      sg_acs_send_path(&pj->path, s->conn.base_path, api) != 0 ||
      sg_acs_operation_id(pj->job->id, pj->op_id) != 0)
    return refuse(err, SG_JOBERR_BAD_BACKEND, "the ACS request cannot be built (api-version %s)",
                  api);
  pj->keep_body = true;
  return 0;
}

/* A MIME job goes as the structured content it holds (job/sg_mime_parse.h);
 * the converted view lives only while the body is written: the body is kept
 * for every attempt, the view is not needed after it. */
static int acs_prepare(const void *st, sg_prov_job *pj, sg_job_error *err) {
  const acs_acct *s = st;
  if (pj->job->mime_len == 0)
    return acs_body(s, pj, pj->job, err);
  sg_mime_job m;
  int rv = sg_mime_to_job(&m, pj->job, NULL, err);
  if (rv == 0)
    rv = mime_checks(s, &m, err);
  if (rv == 0)
    rv = acs_body(s, pj, &m.job, err);
  sg_mime_job_free(&m);
  return rv != 0 ? SG_ERR_INVAL : 0;
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
