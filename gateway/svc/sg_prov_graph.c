/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Microsoft Graph sendMail as a provider: one lane per (account, mailbox)
 * with Outlook's and Exchange's limits, POST /v1.0/users/{mailbox}/sendMail
 * with an Entra bearer token, the JSON (or MIME) body written when a request
 * goes out and dropped after the answer (so the thousands of jobs waiting on
 * their lanes hold none), and sg_classify_graph for the answers. Graph has no
 * idempotency key: an answer lost after sending is ambiguous.
 */
#include "svc/sg_provider.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_fmt.h"
#include "svc/sg_graph.h"

typedef struct graph_acct {
  const sg_account *acct;
  const sg_config *cfg;
} graph_acct;

static int graph_acct_init(void **st, sg_prov_info *info, const sg_account *acct,
                           const sg_config *cfg, char *err, size_t errcap) {
  (void)err;
  (void)errcap;
  graph_acct *g = sg_xcalloc(1, sizeof *g);
  g->acct = acct;
  g->cfg = cfg;
  *st = g;
  memset(info, 0, sizeof *info);
  sg_fmt_copy(info->origin_url, sizeof info->origin_url, acct->graph_url);
  info->needs_token = true;
  return 0;
}

static void graph_acct_free(void *st) {
  sg_free(st);
}

static void graph_lane(const void *st, const sg_job *job, bool follow, char *key, sg_lane_cfg *lc,
                       uint32_t *rcpts) {
  (void)follow;
  const graph_acct *g = st;
  size_t n = 6 + sg_fmt_copy(key + 6, SG_PROV_LANE_KEY_MAX - 7, g->acct->name);
  memcpy(key, "graph|", 6);
  key[n++] = '|';
  for (const char *p = job->sender; *p && n < SG_PROV_LANE_KEY_MAX - 1; p++)
    key[n++] = (char)tolower((unsigned char)*p);
  key[n] = '\0';
  sg_limits l;
  sg_config_sender_limits(g->cfg, g->acct, job->sender, &l);
  *lc = (sg_lane_cfg){.max_inflight = (uint32_t)l.graph_mailbox_concurrency,
                      .req_limit = (uint64_t)l.graph_mailbox_requests_per_10min,
                      .req_window_ms = 600000,
                      .msg_limit = (uint64_t)l.graph_mailbox_messages_per_minute,
                      .msg_window_ms = 60000,
                      .rcpt_limit = (uint64_t)l.graph_mailbox_recipients_per_day,
                      .rcpt_window_ms = 86400000};
  size_t rc = job->n_to + job->n_cc + job->n_bcc;
  *rcpts = (uint32_t)(rc ? rc : 1);
}

static int graph_prepare(const void *st, sg_prov_job *pj, sg_job_error *err) {
  (void)st;
  if (sg_graph_path(&pj->path, pj->job->sender) != 0) {
    err->code = SG_JOBERR_BAD_ADDRESS;
    snprintf(err->message, sizeof err->message, "the sender cannot be used as a Graph mailbox");
    return SG_ERR_INVAL;
  }
  /* The body's size is checked when it is written (build); the rest here. */
  if (sg_job_check_backend(pj->job, SG_BACKEND_GRAPH, 0, err) != 0)
    return SG_ERR_INVAL;
  return 0;
}

static int graph_build(const void *st, sg_prov_job *pj, const sg_prov_ctx *ctx, sg_prov_req *out,
                       sg_job_error *err) {
  (void)st;
  const char *ctype =
      pj->job->mime_len > 0 ? SG_GRAPH_CONTENT_TYPE_MIME : SG_GRAPH_CONTENT_TYPE_JSON;
  if (pj->body.len == 0) {
    sg_buf_reserve(&pj->body, pj->body_size ? pj->body_size : sg_prov_body_guess(pj->job));
    sg_graph_build(pj->job, &pj->body, &ctype);
    pj->body_size = pj->body.len;
    /* Too large for Graph: refused before anything is sent. */
    if (sg_job_check_backend(pj->job, SG_BACKEND_GRAPH, pj->body.len, err) != 0)
      return SG_ERR_INVAL;
  }
  sg_fmt_guid(out->request_id, ctx->rnd[0], ctx->rnd[1]);
  out->method = "POST";
  out->path = pj->path.data;
  out->authority = ctx->authority;
  out->h[0] = sg_http_hdr("authorization", sg_prov_bearer(out, ctx->token, ctx->token_len));
  out->h[1] = sg_http_hdr("content-type", ctype);
  out->h[2] = sg_http_hdr("client-request-id", out->request_id);
  out->nh = 3;
  out->body = pj->body.data;
  out->body_len = pj->body.len;
  return 0;
}

static void graph_req_free(sg_prov_req *r) {
  (void)r;
}

static void graph_classify(const void *st, const sg_prov_job *pj, int status,
                           const sg_http_header *h, size_t nh, const char *body, size_t len,
                           int64_t now_unix_ms, sg_outcome *out) {
  (void)st;
  (void)pj;
  sg_classify_graph(status, h, nh, body, len, now_unix_ms, out);
}

const sg_provider sg_provider_graph = {
    .name = "graph",
    .backend = SG_BACKEND_GRAPH,
    .idempotent = false,
    .acct_init = graph_acct_init,
    .acct_free = graph_acct_free,
    .lane = graph_lane,
    .prepare = graph_prepare,
    .build = graph_build,
    .req_free = graph_req_free,
    .classify = graph_classify,
};
