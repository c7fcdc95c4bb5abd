/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Attempts of SMTP providers (transport SG_PROV_TRANSPORT_SMTP): where an
 * HTTP provider's job gets a request on its origin's HTTP/2 pool
 * (sg_app_attempt.c), an SMTP job's message goes on a session of the
 * runtime's SMTP pool (smtpc/sg_smtpc_pool.h), one group of sessions per
 * lane, i.e. per (account, mailbox), at most the lane's in-flight cap busy.
 * Sessions sign in with the account's Entra token (XOAUTH2, from the same
 * token cache as Graph's) or an HVE account's password. The session's
 * outcome, settled by the provider (throttling pauses, the daily quota),
 * goes into the one attempt state machine through sg_app__answered, like
 * an HTTP answer: SENT, FAILED, retry, AUTH_REFRESH (a new token, once),
 * ambiguous after the final dot.
 */
#include "app/sg_app_int.h"

#include <stdio.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_log.h"
#include "net/sg_tls.h"
#include "smtpc/sg_smtpc_pool.h"
#include "svc/sg_prov_smtp.h"

/* An idle session says QUIT after this long (Exchange drops idle clients
 * after a few minutes; a busy mailbox reuses its sessions long before). */
#define SMTP_IDLE_MS 30000

static int pool_setup(sg_app *a) {
  if (a->smtp)
    return 0;
  int rv = sg_tls_ctx_client_new2(&a->smtp_ssl, a->cfg.tls_ca_file[0] ? a->cfg.tls_ca_file : NULL,
                                  SG_TLS_ALPN_NONE);
  if (rv != 0)
    return rv;
  sg_smtpc_pool_cfg pc = {a->smtp_ssl, (uint64_t)a->cfg.connect_timeout_ms,
                          (uint64_t)a->cfg.request_timeout_ms, SMTP_IDLE_MS, NULL};
  sg_smtpc_pool_new(&a->smtp, a->loop, &pc);
  return 0;
}

static void release(sg_jobrun *j) {
  sg_sched_release(&j->app->sched, j->lane);
  sg_app__want_pump(j->app);
}

static void on_done(const sg_outcome *o, void *ud) {
  sg_jobrun *j = ud;
  sg_app *a = j->app;
  j->smtp = NULL;
  release(j);
  uint64_t now = uv_now(a->loop);
  sg_metric_observe(j->rt->m_duration, (double)(now > j->sent_at ? now - j->sent_at : 0) / 1000.0);
  sg_outcome oc = *o;
  sg_prov_smtp_settle(j->rt->pstate, &oc);
  sg_app__answered(j, oc.transport_err, oc.http_status, NULL, 0, &oc);
}

void sg_app__smtp_send(sg_jobrun *j, const char *token, size_t token_len) {
  sg_app *a = j->app;
  sg_acct_rt *rt = j->rt;
  char err[300];
  int rv = pool_setup(a);
  if (rv != 0) {
    snprintf(err, sizeof err, "TLS setup for SMTP failed: %s", sg_strerror(rv));
    release(j);
    sg_app__finish(j, SG_STATUS_FAILED, NULL, "SENDGATE_TLS", err);
    return;
  }
  sg_prov_smtp_target t;
  sg_prov_smtp_target_of(rt->pstate, &t);
  char tok[SG_ENTRA_MAX_TOKEN_BYTES + 1];
  if (token_len >= sizeof tok)
    token_len = sizeof tok - 1;
  if (token)
    memcpy(tok, token, token_len);
  tok[token ? token_len : 0] = '\0';
  bool oauth = t.auth == SG_SMTPC_AUTH_XOAUTH2;
  sg_smtpc_pool_dest d = {j->lane->key,
                          t.host,
                          t.port,
                          t.auth,
                          oauth ? j->job->sender : t.user,
                          oauth ? tok : t.password,
                          j->lane->cfg.max_inflight};
  sg_smtpc_env env;
  const uint8_t *msg;
  size_t len;
  sg_prov_smtp_message(&j->pj, &env, &msg, &len);
  j->state = SG_JOB_IN_FLIGHT;
  j->sent_at = uv_now(a->loop);
  uint64_t opened = sg_smtpc_pool_opened(a->smtp);
  rv = sg_smtpc_pool_send(a->smtp, &d, &env, msg, len, on_done, j, &j->smtp, err, sizeof err);
  if (sg_smtpc_pool_opened(a->smtp) != opened)
    sg_metric_inc(sg_metric_child0(a->m.smtp_sessions_opened));
  memset(tok, 0, token_len + 1);
  if (rv == SG_ERR_TOOBIG || rv == SG_ERR_PARSE || rv == SG_ERR_INVAL) {
    release(j); /* what SMTP cannot carry (prepare checks most of it first) */
    sg_app__finish(j, SG_STATUS_INVALID, NULL, "SENDGATE_SMTP_REFUSED", err);
    return;
  }
  j->at.attempts++;
  sg_metric_inc(rt->m_attempts);
  if (rv != 0) { /* no session: a transport failure before anything was sent */
    sg_log_kv(SG_LOG_WARN, "smtp", "cannot send", "job_id", j->job->id, "error", err, NULL);
    sg_outcome o;
    sg_smtpc_classify_transport(SG_SMTPC_STAGE_CONNECT, rv, &o);
    snprintf(o.message, sizeof o.message, "%s", err);
    j->smtp = NULL;
    on_done(&o, j);
  }
}

void sg_app__smtp_cancel(sg_jobrun *j) {
  if (j->smtp == NULL)
    return;
  sg_smtpc_pool_cancel(j->app->smtp, j->smtp);
  j->smtp = NULL;
  sg_sched_release(&j->app->sched, j->lane);
}

size_t sg_app__smtp_sessions(const sg_app *a) {
  return a->smtp ? sg_smtpc_pool_sessions(a->smtp) : 0;
}

typedef struct closing {
  sg_app *a;
  void (*done)(void *);
  void *ud;
} closing;

static void on_pool_closed(void *ud) {
  closing *c = ud;
  sg_app *a = c->a;
  a->smtp = NULL;
  SSL_CTX_free(a->smtp_ssl);
  a->smtp_ssl = NULL;
  void (*done)(void *) = c->done;
  void *dud = c->ud;
  sg_free(c);
  done(dud);
}

void sg_app__smtp_close(sg_app *a, void (*done)(void *), void *ud) {
  if (a->smtp == NULL) {
    done(ud);
    return;
  }
  closing *c = sg_xmalloc(sizeof *c);
  *c = (closing){a, done, ud};
  sg_smtpc_pool_close(a->smtp, on_pool_closed, c);
}
