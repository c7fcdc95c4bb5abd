/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Microsoft Graph sendMail as a provider: one lane per (account, mailbox)
 * with Outlook's and Exchange's limits (requests, messages, recipients and
 * upload bytes), POST /v1.0/users/{mailbox}/sendMail with an Entra bearer
 * token, the JSON (or MIME) body written when a request goes out and dropped
 * after the answer (so the thousands of jobs waiting on their lanes hold
 * none), and sg_classify_graph for the answers. Graph has no idempotency
 * key: an answer lost after sending is ambiguous.
 *
 * A job whose sendMail request would pass SG_GRAPH_MAX_REQUEST_BYTES goes as
 * a draft (a MIME job taken apart first, job/sg_mime_parse.h), in the steps of
 * sg_graph_upload.h (this file is their glue: requests and answers); the
 * draft record is kept in Redis by the runtime (store steps).
 */
#include "svc/sg_provider.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/sg_base64.h"
#include "core/sg_err.h"
#include "core/sg_fmt.h"
#include "core/sg_log.h"
#include "job/sg_mime_parse.h"
#include "svc/sg_graph.h"
#include "svc/sg_graph_upload.h"

#define CODE_NEEDS_READWRITE "SENDGATE_GRAPH_NEEDS_MAIL_READWRITE"
#define CODE_UPLOAD_FAILED "SENDGATE_GRAPH_UPLOAD_FAILED"
#define CODE_AMBIGUOUS "SENDGATE_AMBIGUOUS"

typedef struct graph_acct {
  const sg_account *acct;
  const sg_config *cfg;
} graph_acct;

/* A job on the draft route: the sequence and the storage its requests use. */
typedef struct graph_seq {
  sg_graph_seq q;
  /* The structured view every step is built from: the job itself, or a
   * MIME job taken apart by sg_mime_to_job (|mime|, owned here). */
  const sg_job *job;
  sg_mime_job *mime;
  sg_buf base; /* "/v1.0/users/{mailbox}" */
  sg_buf path; /* the current request's path */
  char range[96];
  char record[SG_GRAPH_ID_MAX + 4];
  char origin[600];
  /* A refusal for good with a draft in the mailbox: the draft is deleted
   * first (one DISCARD), then |final| is the job's outcome. */
  bool cleaning;
  sg_outcome final;
} graph_seq;

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
  sg_prov_mailbox_key(key, "graph|", g->acct->name, job->sender);
  sg_limits l;
  sg_config_sender_limits(g->cfg, g->acct, job->sender, &l);
  *lc = (sg_lane_cfg){.max_inflight = (uint32_t)l.graph_mailbox_concurrency,
                      .req_limit = (uint64_t)l.graph_mailbox_requests_per_10min,
                      .req_window_ms = 600000,
                      .msg_limit = (uint64_t)l.graph_mailbox_messages_per_minute,
                      .msg_window_ms = 60000,
                      .rcpt_limit = (uint64_t)l.graph_mailbox_recipients_per_day,
                      .rcpt_window_ms = 86400000,
                      /* Outlook: 150 MB of uploads per 5 minutes per (app, mailbox) */
                      .bytes_limit = (uint64_t)l.graph_mailbox_upload_bytes_per_5min,
                      .bytes_window_ms = 300000};
  size_t rc = job->n_to + job->n_cc + job->n_bcc;
  *rcpts = (uint32_t)(rc ? rc : 1);
}

static int too_large(sg_job_error *err, bool whole, uint64_t a, uint64_t b) {
  err->code = SG_JOBERR_TOO_LARGE;
  if (whole)
    snprintf(err->message, sizeof err->message,
             "the message is %llu bytes; the account's max_send_bytes is %llu",
             (unsigned long long)a, (unsigned long long)b);
  else
    snprintf(err->message, sizeof err->message,
             "the message without its attachments is over %llu bytes (%llu in all): a draft "
             "takes it in one request",
             (unsigned long long)a, (unsigned long long)b);
  return SG_ERR_INVAL;
}

static int graph_prepare(const void *st, sg_prov_job *pj, sg_job_error *err) {
  const graph_acct *g = st;
  const sg_job *job = pj->job;
  if (sg_graph_path(&pj->path, job->sender) != 0) {
    err->code = SG_JOBERR_BAD_ADDRESS;
    snprintf(err->message, sizeof err->message, "the sender cannot be used as a Graph mailbox");
    return SG_ERR_INVAL;
  }
  /* The body's size is checked when it is written (build); the rest here. */
  if (sg_job_check_backend(job, SG_BACKEND_GRAPH, 0, err) != 0)
    return SG_ERR_INVAL;
  /* The view the draft is built from: the job, or its MIME taken apart. */
  const sg_job *view = job;
  sg_mime_job *mj = NULL;
  uint64_t bytes;
  if (job->mime_len > 0) {
    /* sendMail carries the MIME base64'd (its envelope rewrite adds a few
     * header bytes: near the cap the exact size decides). */
    size_t size = sg_base64_len(job->mime_len);
    if (size + SG_GRAPH_DRAFT_MARGIN > SG_GRAPH_MAX_REQUEST_BYTES)
      size = sg_graph_request_size(job);
    pj->next_bytes = size;
    if (size <= SG_GRAPH_MAX_REQUEST_BYTES)
      return 0; /* one sendMail request */
    bytes = job->mime_len;
  } else {
    size_t size = sg_graph_request_size(job);
    pj->next_bytes = size;
    if (size <= SG_GRAPH_MAX_REQUEST_BYTES)
      return 0; /* one sendMail request */
    bytes = sg_graph_job_bytes(job);
  }
  sg_limits l;
  sg_config_sender_limits(g->cfg, g->acct, job->sender, &l);
  if (l.graph_max_send_bytes > 0 && bytes > (uint64_t)l.graph_max_send_bytes)
    return too_large(err, true, bytes, (uint64_t)l.graph_max_send_bytes);
  if (job->mime_len > 0) {
    /* A MIME job over the single-request size goes as a draft of the
     * structured content it holds (job/sg_mime_parse.h); what cannot be
     * mapped is INVALID with its SENDGATE_MIME_* code. */
    mj = sg_xcalloc(1, sizeof *mj);
    if (sg_mime_to_job(mj, job, NULL, err) != 0) {
      sg_mime_job_free(mj);
      sg_free(mj);
      return SG_ERR_INVAL;
    }
    view = &mj->job;
    size_t nh = view->n_headers;
    if (nh > SG_JOB_MAX_HEADERS) {
      sg_mime_job_free(mj);
      sg_free(mj);
      err->code = SG_JOBERR_TOO_MANY_HEADERS;
      snprintf(err->message, sizeof err->message,
               "the message has %zu X- header fields; Graph's internetMessageHeaders take "
               "at most %d",
               nh, SG_JOB_MAX_HEADERS);
      return SG_ERR_INVAL;
    }
  }
  graph_seq *gs = sg_xcalloc(1, sizeof *gs);
  pj->seq = gs;
  gs->mime = mj;
  gs->job = view;
  if (sg_job_check_backend(view, SG_BACKEND_GRAPH, 0, err) != 0)
    return SG_ERR_INVAL;
  if (sg_graph_seq_init(&gs->q, gs->job, (uint64_t)g->cfg->graph_upload_chunk_bytes) != SG_GSEQ_OK)
    return too_large(err, false, SG_GRAPH_MAX_REQUEST_BYTES - SG_GRAPH_DRAFT_MARGIN, bytes);
  sg_graph_user_path(&gs->base, job->sender);
  pj->next_bytes = 0;
  pj->step_idempotent = true;
  return 0;
}

static void graph_job_free(sg_prov_job *pj) {
  graph_seq *gs = pj->seq;
  if (gs == NULL)
    return;
  sg_graph_seq_free(&gs->q);
  if (gs->mime) {
    sg_mime_job_free(gs->mime);
    sg_free(gs->mime);
  }
  sg_buf_free(&gs->base);
  sg_buf_free(&gs->path);
  sg_free(gs);
  pj->seq = NULL;
}

/* The path base + |a| [+ draft id + |b|]. */
static const char *step_path(graph_seq *gs, const char *a, const char *id, const char *b) {
  sg_buf_reset(&gs->path);
  sg_buf_append(&gs->path, gs->base.data, gs->base.len);
  sg_buf_append_str(&gs->path, a);
  if (id) {
    sg_buf_append_str(&gs->path, id);
    sg_buf_append_str(&gs->path, b);
  }
  return gs->path.data;
}

/* One step's request (the draft route). */
static int build_step(const graph_acct *g, sg_prov_job *pj, const sg_prov_ctx *ctx,
                      sg_prov_req *out, sg_job_error *err) {
  graph_seq *gs = pj->seq;
  sg_graph_seq *q = &gs->q;
  const sg_job *job = gs->job;
  sg_fmt_guid(out->request_id, ctx->rnd[0], ctx->rnd[1]);
  out->method = "POST";
  out->authority = ctx->authority;
  out->h[0] = sg_http_hdr("authorization", sg_prov_bearer(out, ctx->token, ctx->token_len));
  out->h[1] = sg_http_hdr("content-type", SG_GRAPH_CONTENT_TYPE_JSON);
  out->h[2] = sg_http_hdr("client-request-id", out->request_id);
  out->nh = 3;
  switch (q->step) {
  case SG_GSTEP_RECALL:
    out->store = SG_PROV_STORE_GET;
    return 0;
  case SG_GSTEP_REMEMBER:
  case SG_GSTEP_COMMIT:
    out->store = SG_PROV_STORE_SET;
    out->store_len = sg_graph_seq_record(q, gs->record, sizeof gs->record);
    out->store_value = gs->record;
    /* As long as the ledger remembers the job, and a day at least. */
    out->store_ttl_s = g->cfg->ledger_ttl_s > 86400 ? g->cfg->ledger_ttl_s : 86400;
    return 0;
  case SG_GSTEP_DISCARD:
    out->method = "DELETE";
    out->path = step_path(gs, "/messages/", q->old_id, "");
    out->nh = 2;
    out->h[1] = out->h[2];
    return 0;
  case SG_GSTEP_CREATE:
    sg_graph_seq_draft_json(q, job, &pj->body);
    out->path = step_path(gs, "/messages", NULL, NULL);
    break;
  case SG_GSTEP_ATTACH: {
    sg_jemit e = {&pj->body, 0};
    sg_graph_emit_attachment(&e, &job->attachments[q->att]);
    out->path = step_path(gs, "/messages/", q->draft_id, "/attachments");
    break;
  }
  case SG_GSTEP_SESSION:
    sg_graph_seq_session_json(q, job, &pj->body);
    out->path = step_path(gs, "/messages/", q->draft_id, "/attachments/createUploadSession");
    break;
  case SG_GSTEP_PUT: {
    const char *path;
    if (sg_graph_url_split(q->upload_url, gs->origin, sizeof gs->origin, &path) != 0)
      break; /* checked when the session was made */
    uint64_t a, b;
    sg_graph_seq_range(q, job, &a, &b);
    const sg_job_attachment *at = &job->attachments[q->att];
    snprintf(gs->range, sizeof gs->range, "bytes %llu-%llu/%zu", (unsigned long long)a,
             (unsigned long long)b, at->content_len);
    out->method = "PUT";
    out->path = path;
    out->origin = gs->origin;
    out->authority = NULL; /* the upload URL's own */
    /* Pre-authenticated: the bearer token is not sent (nor leaked) there. */
    out->h[0] = sg_http_hdr("content-type", "application/octet-stream");
    out->h[1] = sg_http_hdr("content-range", gs->range);
    out->nh = 3;
    /* Borrowed from the job's bytes: no copy of the attachment. */
    out->body = at->content + a;
    out->body_len = (size_t)(b - a + 1);
    return 0;
  }
  case SG_GSTEP_SEND:
    out->path = step_path(gs, "/messages/", q->draft_id, "/send");
    out->nh = 2;
    out->h[1] = out->h[2];
    return 0;
  case SG_GSTEP_DONE:
    break;
  }
  if (out->path == NULL) {
    err->code = SG_JOBERR_BAD_BACKEND;
    snprintf(err->message, sizeof err->message, "the Graph draft step %s cannot be built",
             sg_gstep_name(q->step));
    return SG_ERR_INVAL;
  }
  out->body = pj->body.data;
  out->body_len = pj->body.len;
  return 0;
}

static int graph_build(const void *st, sg_prov_job *pj, const sg_prov_ctx *ctx, sg_prov_req *out,
                       sg_job_error *err) {
  if (pj->seq)
    return build_step(st, pj, ctx, out, err);
  const char *ctype =
      pj->job->mime_len > 0 ? SG_GRAPH_CONTENT_TYPE_MIME : SG_GRAPH_CONTENT_TYPE_JSON;
  if (pj->body.len == 0) {
    /* The exact size when prepare measured it (a structured job's sendMail). */
    size_t want = pj->body_size;
    if (want == 0)
      want = pj->job->mime_len == 0 && pj->next_bytes ? (size_t)pj->next_bytes
                                                      : sg_prov_body_guess(pj->job);
    sg_buf_reserve(&pj->body, want);
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

/* Rewrites |out| into a failure with the gateway's |code|. */
static void fail(sg_outcome *out, const char *code, const char *msg) {
  out->kind = SG_OUTCOME_FAILED;
  snprintf(out->code, sizeof out->code, "%s", code);
  snprintf(out->message, sizeof out->message, "%s", msg);
}

/* Starts the draft over (a new draft, the old one deleted), within the cap. */
static void restart(sg_graph_seq *q, sg_outcome *out, const char *why) {
  if (q->restarts >= SG_GRAPH_MAX_RESTARTS) {
    char m[300];
    snprintf(m, sizeof m, "%s; the draft was started over %u times", why, q->restarts);
    fail(out, CODE_UPLOAD_FAILED, m);
    return;
  }
  sg_graph_seq_restart(q);
  out->kind = SG_OUTCOME_RETRY;
  out->throttled = out->ambiguous = false;
  snprintf(out->message, sizeof out->message, "%s: starting the draft over", why);
}

/* A step failed (classified RETRY, FAILED or AUTH_REFRESH): what it means here. */
static void step_failed(sg_graph_seq *q, int err, int status, sg_outcome *out) {
  switch (q->step) {
  case SG_GSTEP_CREATE:
    if (status == 403)
      fail(out, CODE_NEEDS_READWRITE,
           "creating the draft was refused (403): messages over 4 MB go as drafts, which needs "
           "the Graph application permission Mail.ReadWrite besides Mail.Send; grant "
           "Mail.ReadWrite to the app (and admin-consent it)");
    return;
  case SG_GSTEP_DISCARD:
    if (status == 404) { /* already gone: nothing to discard */
      sg_graph_seq_advance(q);
      out->kind = SG_OUTCOME_STEP;
    }
    return;
  case SG_GSTEP_PUT:
  case SG_GSTEP_SESSION:
    /* A range refused as out of order (an earlier one was taken but its
     * answer lost) or a session gone (expired): the draft may hold a partial
     * or a whole attachment we cannot tell apart; start over. */
    if (status == 416 || status == 404 || (q->step == SG_GSTEP_PUT && status == 400))
      restart(q, out,
              status == 416 ? "an upload range was refused as out of order"
                            : "the upload session is gone");
    return;
  case SG_GSTEP_SEND:
    if (err && out->ambiguous)
      q->send_maybe = true; /* resent on the same draft: it cannot go twice */
    if (status == 404 && q->send_maybe) {
      /* The draft is gone after a send that may have gone out: the message
       * was most likely sent; gateway.ambiguous decides (resend: a new draft). */
      out->kind = SG_OUTCOME_RETRY;
      out->ambiguous = true;
      out->throttled = false;
      snprintf(out->code, sizeof out->code, "%s", CODE_AMBIGUOUS);
      snprintf(out->message, sizeof out->message,
               "the draft is gone after a send whose answer was lost: it was probably sent");
      q->draft_id[0] = '\0';
      q->send_maybe = false;
      q->step = SG_GSTEP_CREATE;
      return;
    }
    if (status == 404)
      restart(q, out, "the draft is gone before it was sent");
    return;
  default:
    return;
  }
}

/* A step succeeded (2xx, or a record read or written). */
static void step_done(graph_seq *gs, const sg_job *job, int status, const char *body, size_t len,
                      sg_outcome *out) {
  sg_graph_seq *q = &gs->q;
  switch (q->step) {
  case SG_GSTEP_RECALL:
    sg_graph_seq_recall(q, body, len);
    if (q->step != SG_GSTEP_CREATE)
      sg_log_kv(SG_LOG_INFO, "graph", "found the draft of an earlier run", "job", job->id, "next",
                sg_gstep_name(q->step), NULL);
    break;
  case SG_GSTEP_CREATE:
    if (sg_graph_parse_id(body, len, q->draft_id, sizeof q->draft_id) != 0) {
      restart(q, out, "the created draft's id could not be read");
      return;
    }
    sg_graph_seq_advance(q);
    break;
  case SG_GSTEP_SESSION:
    if (sg_graph_parse_upload_url(body, len, q->upload_url, sizeof q->upload_url) != 0) {
      restart(q, out, "the upload session's uploadUrl could not be read");
      return;
    }
    sg_graph_seq_advance(q);
    break;
  case SG_GSTEP_PUT: {
    uint64_t next = 0;
    if ((status == 200 && sg_graph_parse_next(body, len, &next) != 0) ||
        !sg_graph_seq_put_done(q, job, status, next)) {
      restart(q, out, "an upload range was answered with an unexpected position");
      return;
    }
    break;
  }
  case SG_GSTEP_SEND:
    sg_graph_seq_advance(q);
    return; /* the final answer: SENT as classified */
  default:
    sg_graph_seq_advance(q);
    break;
  }
  out->kind = SG_OUTCOME_STEP;
}

static void graph_advance(const void *st, sg_prov_job *pj, int err, int status, const char *body,
                          size_t len, sg_outcome *out) {
  (void)st;
  graph_seq *gs = pj->seq;
  if (gs == NULL)
    return;
  sg_graph_seq *q = &gs->q;
  if (gs->cleaning && q->step == SG_GSTEP_DISCARD) {
    /* The draft of a refused job is deleted (or could not be: a job handed
     * out again would try once more): the refusal is the outcome. */
    *out = gs->final;
    q->step = SG_GSTEP_DONE;
  } else if (out->kind == SG_OUTCOME_SENT) {
    step_done(gs, gs->job, status, body, len, out);
  } else {
    step_failed(q, err, status, out);
  }
  if (out->kind == SG_OUTCOME_FAILED && !gs->cleaning && q->draft_id[0] && !q->send_maybe) {
    /* Refused for good with an unsent draft in the mailbox: delete it
     * first, so no half-made message stays in the sender's Drafts. */
    gs->cleaning = true;
    gs->final = *out;
    memcpy(q->old_id, q->draft_id, sizeof q->old_id);
    q->draft_id[0] = '\0';
    q->step = SG_GSTEP_DISCARD;
    memset(out, 0, sizeof *out);
    out->kind = SG_OUTCOME_STEP;
  }
  pj->next_bytes = sg_graph_seq_bytes(&gs->q, gs->job);
  /* Every step but a send whose draft may be gone can be resent safely. */
  pj->step_idempotent =
      !(out->ambiguous && out->kind == SG_OUTCOME_RETRY && strcmp(out->code, CODE_AMBIGUOUS) == 0);
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
    .advance = graph_advance,
    .job_free = graph_job_free,
};
