/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Token fetches: the I/O glue of the pure token cache. One fetch per account
 * entry at a time (the cache says when); the answer is classified and handed
 * back to the cache, which wakes every job waiting for it.
 */
#include "app/sg_app_int.h"
#include "app/sg_app_metrics.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "core/sg_clock.h"
#include "core/sg_err.h"
#include "core/sg_log.h"
#include "net/sg_h1_get.h"
#include "svc/sg_entra.h"

#define SG_GRAPH_SCOPE_SUFFIX "/.default"

typedef struct {
  sg_app *a;
  sg_acct_rt *rt;
  sg_buf body; /* holds the client secret: wiped before it is freed */
  sg_buf path;
  uint64_t sent_at;
  sg_cred_kind kind; /* of the credential the request was made with */
} token_fetch;

static void fetch_free(token_fetch *f) {
  if (f->body.data)
    OPENSSL_cleanse(f->body.data, f->body.cap);
  sg_buf_free(&f->body);
  sg_buf_free(&f->path);
  sg_free(f);
}

/* Every token answer ends here: the outcome logged and counted, the waiters
 * woken (|tok| on success), the fetch freed. |detail|: a transport detail. */
static void token_answer(token_fetch *f, int err, const char *detail, sg_outcome *o,
                         sg_entra_token *tok) {
  sg_app *a = f->a;
  sg_acct_rt *rt = f->rt;
  const char *acct = rt->acct->name[0] ? rt->acct->name : "(default)";
  rt->token_failing = o->kind != SG_OUTCOME_OK;
  if (o->kind == SG_OUTCOME_OK) {
    sg_log_kv(SG_LOG_INFO, "token", "token obtained", "account", acct, "credential",
              sg_cred_kind_name(f->kind), NULL);
  } else {
    sg_metric_inc(rt->m_token_failures);
    sg_log_kv(err == SG_ERR_TLS_VERIFY || err == SG_ERR_ALPN ? SG_LOG_ERROR : SG_LOG_WARN, "token",
              "token request failed", "account", acct, "credential", sg_cred_kind_name(f->kind),
              "code", o->code, "message", o->message, detail ? "detail" : NULL, detail, NULL);
  }
  rt->fetching = false;
  fetch_free(f);
  sg_token_fetch_done(rt->token, uv_now(a->loop), o, o->kind == SG_OUTCOME_OK ? tok : NULL);
  sg_entra_token_free(tok);
  sg_app__want_pump(a);
}

static void on_token(void *ud, int err, const sg_h2_response *resp, bool body_sent) {
  token_fetch *f = ud;
  sg_app *a = f->a;
  sg_app__http_done(a, "entra", a->mc.dur_entra, err ? 0 : resp->status, f->sent_at);
  sg_outcome o;
  sg_entra_token tok;
  memset(&tok, 0, sizeof tok);
  if (err)
    sg_classify_transport(err, body_sent, &o);
  else
    sg_classify_entra(resp->status, resp->headers, resp->n_headers, (const char *)resp->body,
                      resp->body_len, sg_wall_ms(), &o, &tok);
  if (err && resp->detail && resp->detail[0])
    snprintf(o.message, sizeof o.message, "%s: %s", sg_strerror(err), resp->detail);
  token_answer(f, err, err ? resp->detail : NULL, &o, &tok);
}

/* A managed identity's answer (IMDS or App Service): Entra's token shape;
 * 404 and 410 (the service is updating) and 429 are retried, as Azure says. */
static void on_mi_token(int err, const sg_h1_resp *resp, void *ud) {
  token_fetch *f = ud;
  sg_app *a = f->a;
  sg_app__http_done(a, "identity", a->mc.dur_entra, err ? 0 : resp->status, f->sent_at);
  sg_outcome o;
  sg_entra_token tok;
  memset(&tok, 0, sizeof tok);
  if (err) {
    sg_classify_transport(err, false, &o);
  } else {
    sg_classify_entra(resp->status, resp->headers, resp->nheaders,
                      resp->body.data ? resp->body.data : "", resp->body.len, sg_wall_ms(), &o,
                      &tok);
    if (o.kind == SG_OUTCOME_FAILED && (resp->status == 404 || resp->status == 410))
      o.kind = SG_OUTCOME_RETRY;
    if (o.kind == SG_OUTCOME_FAILED && strncmp(o.code, "AADSTS", 6) != 0) {
      char code[sizeof o.code];
      snprintf(code, sizeof code, "%s", o.code[0] ? o.code : "error");
      snprintf(o.code, sizeof o.code, "SENDGATE_MANAGED_IDENTITY_%.40s", code);
    }
  }
  token_answer(f, err, NULL, &o, &tok);
}

static void mi_fetch(sg_app *a, sg_acct_rt *rt, token_fetch *f) {
  const sg_token_key *k = sg_token_entry_key(rt->token);
  sg_cred_mi_req r;
  sg_outcome o;
  int rv = sg_cred_mi_request(rt->cred, k->scope, &r);
  if (rv == 0) {
    rt->fetching = true;
    sg_metric_inc(rt->m_token_fetches);
    f->sent_at = uv_now(a->loop);
    rv = sg_h1_get(a->loop, NULL, r.host, r.port, r.target.data, &r.header, 1,
                   (uint64_t)a->cfg.request_timeout_ms, on_mi_token, f);
  }
  sg_buf_free(&r.target);
  if (rv) {
    rt->fetching = false;
    sg_classify_transport(rv, false, &o);
    fetch_free(f);
    sg_token_fetch_done(rt->token, uv_now(a->loop), &o, NULL);
  }
}

void sg_app__token_fetch(sg_app *a, sg_acct_rt *rt) {
  if (rt->fetching)
    return;
  if (sg_cred_kind_of(rt->cred) == SG_CRED_MANAGED_IDENTITY) {
    token_fetch *f = sg_xcalloc(1, sizeof *f);
    f->a = a;
    f->rt = rt;
    f->kind = SG_CRED_MANAGED_IDENTITY;
    mi_fetch(a, rt, f);
    return;
  }
  const sg_token_key *k = sg_token_entry_key(rt->token);
  token_fetch *f = sg_xcalloc(1, sizeof *f);
  f->a = a;
  f->rt = rt;
  f->kind = sg_cred_kind_of(rt->cred);
  sg_outcome o;
  char why[200] = "tenant or client id cannot be used for a token request";
  int rv = sg_entra_token_path(&f->path, k->tenant);
  if (rv == 0) {
    /* The assertion's audience: the token endpoint's URL. */
    sg_buf url = SG_BUF_INIT;
    size_t n = strlen(k->login_root);
    while (n > 0 && k->login_root[n - 1] == '/')
      n--;
    sg_buf_append(&url, k->login_root, n);
    sg_buf_append(&url, f->path.data, f->path.len);
    rv = sg_cred_token_body(rt->cred, &f->body, url.data, k->scope, sg_wall_ms() / 1000, why,
                            sizeof why);
    sg_buf_free(&url);
  }
  if (rv != 0) {
    memset(&o, 0, sizeof o);
    o.kind = SG_OUTCOME_FAILED;
    snprintf(o.code, sizeof o.code, "SENDGATE_BAD_CREDENTIALS");
    snprintf(o.message, sizeof o.message, "%s", why);
    sg_log_kv(SG_LOG_ERROR, "token", "no token request could be made", "account",
              rt->acct->name[0] ? rt->acct->name : "(default)", "credential",
              sg_cred_kind_name(sg_cred_kind_of(rt->cred)), "detail", why, NULL);
    fetch_free(f);
    sg_token_fetch_done(rt->token, uv_now(a->loop), &o, NULL);
    return;
  }
  sg_http_header h[] = {sg_http_hdr("content-type", SG_ENTRA_CONTENT_TYPE)};
  sg_h2_request req = {
      "POST", f->path.data, rt->login->authority, h,
      1,      f->body.data, f->body.len,          (uint64_t)a->cfg.request_timeout_ms};
  rt->fetching = true;
  sg_metric_inc(rt->m_token_fetches);
  f->sent_at = uv_now(a->loop);
  rv = sg_h2_pool_request(rt->login->pool, &req, on_token, f, NULL);
  if (rv) {
    rt->fetching = false;
    sg_classify_transport(rv, false, &o);
    fetch_free(f);
    sg_token_fetch_done(rt->token, uv_now(a->loop), &o, NULL);
  }
}
