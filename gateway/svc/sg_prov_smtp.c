/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SMTP submission as a provider: accounts of type exchange_smtp (XOAUTH2
 * to smtp.office365.com with the Entra token of the account's app) and hve
 * (High Volume Email: its own user and password, or the app). One lane per
 * (account, mailbox) with Exchange's limits: messages a minute, recipients
 * a day, and SMTP sessions at once as the lane's in-flight cap. A job's
 * message is the job's MIME as it is, or the structured job rendered once
 * (job/sg_mime_render.h: deterministic, so every attempt sends the same
 * bytes); its envelope is the sender and To + Cc + Bcc. HVE's rules
 * (accepted domains, 50 recipients) make a job INVALID before sending.
 *
 * The attempt itself is the runtime's SMTP glue (app/sg_app_smtp.c, a pool
 * of smtpc sessions); the session classifies replies
 * (smtpc/sg_smtpc_classify.h) and sg_prov_smtp_settle adds what the lane
 * does about throttling and the daily quota. Not idempotent: a connection
 * lost after the final dot is ambiguous and gateway.ambiguous decides.
 */
#include "svc/sg_prov_smtp.h"

#include <stdio.h>
#include <string.h>

#include "core/sg_addr.h"
#include "core/sg_clock.h"
#include "core/sg_err.h"
#include "core/sg_fmt.h"
#include "job/sg_mime_render.h"
#include "smtpc/sg_smtpc_account.h"
#include "smtpc/sg_smtpc_dot.h"

typedef struct smtp_acct {
  const sg_account *acct;
  const sg_config *cfg;
  char host[300];
  uint16_t port;
} smtp_acct;

/* A job's envelope: the recipients' addresses (borrowed from the job). */
typedef struct smtp_msg {
  const char **rcpts;
  size_t n;
} smtp_msg;

static int smtp_acct_init(void **st, sg_prov_info *info, const sg_account *acct,
                          const sg_config *cfg, char *err, size_t errcap) {
  const char *name = acct->name[0] ? acct->name : "(default SMTP)";
  smtp_acct *s = sg_xcalloc(1, sizeof *s);
  s->acct = acct;
  s->cfg = cfg;
  if (sg_smtpc_account_parse_host(acct->smtp_host ? acct->smtp_host : "",
                                  acct->hve ? SG_SMTPC_ACCOUNT_HVE : SG_SMTPC_ACCOUNT_EXCHANGE,
                                  s->host, sizeof s->host, &s->port) != 0) {
    snprintf(err, errcap, "account %s: smtp_host is not HOST:PORT", name);
    sg_free(s);
    return SG_ERR_CONFIG;
  }
  memset(info, 0, sizeof *info);
  snprintf(info->origin_url, sizeof info->origin_url, "smtp://%s:%u", s->host, (unsigned)s->port);
  info->needs_token = !acct->hve || acct->username == NULL || acct->username[0] == '\0';
  *st = s;
  return 0;
}

static void smtp_acct_free(void *st) {
  sg_free(st);
}

static void smtp_lane(const void *st, const sg_job *job, bool follow, char *key, sg_lane_cfg *lc,
                      uint32_t *rcpts) {
  (void)follow;
  const smtp_acct *s = st;
  sg_prov_mailbox_key(key, "smtp|", s->acct->name, job->sender);
  sg_limits l;
  sg_config_sender_limits(s->cfg, s->acct, job->sender, &l);
  *lc = (sg_lane_cfg){.max_inflight = (uint32_t)l.smtp_sessions,
                      .msg_limit = (uint64_t)l.smtp_messages_per_minute,
                      .msg_window_ms = 60000,
                      .rcpt_limit = (uint64_t)l.smtp_recipients_per_day,
                      .rcpt_window_ms = 86400000};
  size_t rc = job->n_to + job->n_cc + job->n_bcc;
  *rcpts = (uint32_t)(rc ? rc : 1);
}

static int refuse(sg_job_error *err, const char *code, const char *msg) {
  err->code = code;
  sg_fmt_copy(err->message, sizeof err->message, msg);
  return SG_ERR_INVAL;
}

/* The envelope's recipients, in pj->seq. */
static int envelope(const smtp_acct *s, sg_prov_job *pj, sg_job_error *err) {
  const sg_job *job = pj->job;
  size_t n = job->n_to + job->n_cc + job->n_bcc;
  if (n == 0)
    return refuse(err, SG_JOBERR_NO_RECIPIENTS, "the job has no recipient");
  if (n > SG_SMTPC_MAX_RCPTS) {
    err->code = SG_JOBERR_TOO_MANY_RECIPIENTS;
    snprintf(err->message, sizeof err->message, "%zu recipients; SMTP sends at most %d", n,
             SG_SMTPC_MAX_RCPTS);
    return SG_ERR_INVAL;
  }
  smtp_msg *m = sg_xcalloc(1, sizeof *m);
  m->rcpts = sg_xcalloc(n, sizeof *m->rcpts);
  pj->seq = m;
  const sg_job_addr *lists[3] = {job->to, job->cc, job->bcc};
  size_t counts[3] = {job->n_to, job->n_cc, job->n_bcc};
  for (size_t l = 0; l < 3; l++)
    for (size_t i = 0; i < counts[l]; i++)
      m->rcpts[m->n++] = lists[l][i].address;
  if (s->acct->hve && sg_smtpc_account_hve_check(m->rcpts, m->n, s->acct->accepted_domains,
                                                 err->message, sizeof err->message) != 0) {
    err->code =
        m->n > SG_SMTPC_HVE_MAX_RCPTS ? SG_JOBERR_TOO_MANY_RECIPIENTS : SG_PROV_SMTP_ERR_RCPT;
    return SG_ERR_INVAL;
  }
  return 0;
}

static int smtp_prepare(const void *st, sg_prov_job *pj, sg_job_error *err) {
  const smtp_acct *s = st;
  const sg_job *job = pj->job;
  if (!sg_addr_valid(job->sender, strlen(job->sender)))
    return refuse(err, SG_JOBERR_BAD_ADDRESS, "sender must be an address for SMTP");
  int rv = envelope(s, pj, err);
  if (rv)
    return rv;
  pj->keep_body = true;
  const uint8_t *msg = job->mime;
  size_t len = job->mime_len;
  if (len == 0) {
    sg_mime_render_opts o = {sg_wall_ms(), NULL};
    char why[200];
    if (sg_mime_render(job, &o, &pj->body, why, sizeof why) != 0)
      return refuse(err, SG_JOBERR_BAD_HEADER, why);
    /* The renderer writes lines of at most 998 octets and no NUL (the job's
     * strings cannot hold one): the session's own scan is enough. */
    pj->next_bytes = pj->body.len;
    return 0;
  }
  sg_smtpc_msg_info info;
  rv = sg_smtpc_dot_scan(msg, len, &info);
  if (rv == SG_ERR_TOOBIG) {
    err->code = SG_PROV_SMTP_ERR_LINE;
    snprintf(err->message, sizeof err->message,
             "line %zu of the message is %zu octets; SMTP allows %d", info.bad_line,
             info.bad_line_len, SG_SMTPC_LINE_MAX);
    return SG_ERR_INVAL;
  }
  if (rv == SG_ERR_PARSE)
    return refuse(err, SG_JOBERR_NUL, "the message holds a NUL byte, which SMTP cannot carry");
  if (rv != 0)
    return refuse(err, SG_JOBERR_NO_CONTENT, "the message is empty");
  pj->next_bytes = info.wire_size;
  return 0;
}

static void smtp_job_free(sg_prov_job *pj) {
  smtp_msg *m = pj->seq;
  if (m == NULL)
    return;
  sg_free(m->rcpts);
  sg_free(m);
  pj->seq = NULL;
}

/* Not called: SMTP attempts go to the runtime's sessions, not to HTTP. */
static int smtp_build(const void *st, sg_prov_job *pj, const sg_prov_ctx *ctx, sg_prov_req *out,
                      sg_job_error *err) {
  (void)st;
  (void)pj;
  (void)ctx;
  (void)out;
  return refuse(err, SG_JOBERR_BAD_BACKEND, "an SMTP job has no HTTP request");
}

static void smtp_req_free(sg_prov_req *r) {
  (void)r;
}

static void smtp_classify(const void *st, const sg_prov_job *pj, int status,
                          const sg_http_header *h, size_t nh, const char *body, size_t len,
                          int64_t now_unix_ms, sg_outcome *out) {
  (void)st;
  (void)pj;
  (void)h;
  (void)nh;
  (void)body;
  (void)len;
  (void)now_unix_ms;
  memset(out, 0, sizeof *out);
  out->kind = SG_OUTCOME_FAILED;
  out->http_status = status;
  sg_fmt_copy(out->code, sizeof out->code, SG_JOBERR_BAD_BACKEND);
}

void sg_prov_smtp_target_of(const void *st, sg_prov_smtp_target *out) {
  const smtp_acct *s = st;
  memset(out, 0, sizeof *out);
  out->host = s->host;
  out->port = s->port;
  if (s->acct->hve && s->acct->username && s->acct->username[0]) {
    out->auth = SG_SMTPC_AUTH_LOGIN; /* what Exchange's hosts offer besides XOAUTH2 */
    out->user = s->acct->username;
    out->password = s->acct->password;
  } else {
    out->auth = SG_SMTPC_AUTH_XOAUTH2;
  }
}

void sg_prov_smtp_message(const sg_prov_job *pj, sg_smtpc_env *env, const uint8_t **msg,
                          size_t *len) {
  const smtp_msg *m = pj->seq;
  env->from = pj->job->sender;
  env->rcpts = m->rcpts;
  env->n_rcpts = m->n;
  if (pj->job->mime_len) {
    *msg = pj->job->mime;
    *len = pj->job->mime_len;
  } else {
    *msg = (const uint8_t *)pj->body.data;
    *len = pj->body.len;
  }
}

void sg_prov_smtp_settle(const void *st, sg_outcome *o) {
  const smtp_acct *s = st;
  if (o->kind == SG_OUTCOME_SENT) { /* the server's reply names its queue id */
    const char *r = strstr(o->message, ": ");
    sg_fmt_copy(o->request_id, sizeof o->request_id, r ? r + 2 : o->message);
    return;
  }
  if (o->kind != SG_OUTCOME_RETRY || !o->throttled || o->has_retry_after)
    return;
  o->has_retry_after = true;
  o->retry_after_ms = o->quota_exceeded ? SG_PROV_SMTP_QUOTA_MS : s->cfg->smtp_throttle_ms;
}

const sg_provider sg_provider_smtp = {
    .name = "smtp",
    .backend = SG_BACKEND_SMTP,
    .idempotent = false,
    .transport = SG_PROV_TRANSPORT_SMTP,
    .acct_init = smtp_acct_init,
    .acct_free = smtp_acct_free,
    .lane = smtp_lane,
    .prepare = smtp_prepare,
    .build = smtp_build,
    .req_free = smtp_req_free,
    .classify = smtp_classify,
    .advance = NULL,
    .job_free = smtp_job_free,
};
