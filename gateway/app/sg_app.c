/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The runtime's lifecycle and job entry/exit: entries from the stream are
 * decoded and validated (INVALID results and dead letters for bad input),
 * queued on their lanes, pumped once per loop turn, and finished with a
 * completion that publishes the result (and the sent ledger) and acks the
 * entry atomically through the queue protocol (redis/sg_rd_queue). Job
 * objects live in sg_app_jobs.c, ledger lookups in sg_app_ledger.c, attempts
 * in sg_app_send.c, token fetches in sg_app_tokens.c.
 */
#include "app/sg_app_int.h"
#include "app/sg_app_metrics.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_clock.h"
#include "core/sg_err.h"
#include "core/sg_rand.h"
#include "core/sg_log.h"
#include "net/sg_tls.h"
#include "redis/sg_rd_url.h"
#include "svc/sg_graph.h"

/* How often the trimmer removes acked entries from the job stream (and caps
 * the results stream): short, so that each trim is small (about 0.1 us of
 * Redis time per entry, a fraction of a millisecond at 30,000 jobs/s), and
 * shorter while it finds entries to trim: at 40,000 jobs/s of 1.2 KB (three
 * to a stream node) a trim every 100 ms blocked Redis 3 ms at its p99 and
 * 5-9 ms at its p99.9, every 20 ms 0.8-0.9 and 4-4.5 ms, for about the same
 * Redis time in all. */
#define TRIM_TICK_MS 100
#define TRIM_BUSY_TICK_MS 20
/* A pending job this old holds the trim up (the acked jobs after it stay in
 * the stream): completions XDEL their entries until it is done, which bounds
 * what waits behind it to about this long's worth of jobs. */
#define TRIM_HELD_MS 1000

uint64_t sg_app__rand(sg_app *a) {
  return sg_rand_next(&a->rng);
}

void sg_app__want_pump(sg_app *a) {
  a->pump_wanted = true;
  sg_turn_want(&a->pump);
}

void sg_app__on_completed(sg_rd_stream *s, int status, void *ud) {
  (void)s;
  sg_jobrun *j = ud;
  if (status && status != SG_ERR_SHUTDOWN)
    sg_log_kv(SG_LOG_ERROR, "job", "result could not be recorded; the entry stays pending",
              "entry_id", j->entry_id, "error", sg_strerror(status), NULL);
  sg_app__job_release(j, status == 0);
}

static void log_result(const sg_jobrun *j, sg_status st, const char *code, const char *msg) {
  sg_log_level lvl = st == SG_STATUS_SENT ? SG_LOG_DEBUG : SG_LOG_INFO;
  if (!sg_log_enabled(lvl))
    return;
  char rcpt[128] = "", text[SG_OUTCOME_MESSAGE_MAX + 64];
  if (j->job && j->job->n_to)
    sg_log_mask_addr(j->job->to[0].address, rcpt, sizeof rcpt);
  /* Providers quote recipients in their messages: masked like the others. */
  sg_log_mask_text(msg, text, sizeof text);
  sg_log_kv(lvl, "job", sg_status_name(st), "job_id", j->job ? j->job->id : "", "entry_id",
            j->entry_id, "code", code ? code : "", "message", text, "to", rcpt, NULL);
}

static void count_result(sg_jobrun *j, sg_status st) {
  sg_app *a = j->app;
  int b = j->backend == SG_BACKEND_ACS || j->backend == SG_BACKEND_SMTP ? (int)j->backend : 1;
  if ((unsigned)st < 5)
    sg_metric_inc(a->mc.results[b][st]);
  if (j->job && j->job->created_unix_ms > 0) {
    int64_t d = sg_wall_ms() - j->job->created_unix_ms;
    sg_metric_observe(a->mc.job_duration, d > 0 ? (double)d / 1000.0 : 0.0);
    sg_app__hol_latency(j, d > 0 ? (double)d / 1000.0 : 0.0);
  }
}

/* Builds the MailResult of |j|, completed at |completed_ms|, into j->result. */
static void build_result(sg_jobrun *j, sg_status st, const sg_outcome *o, const char *code,
                         const char *message, int64_t completed_ms) {
  const sg_job *job = j->job;
  sg_result r;
  memset(&r, 0, sizeof r);
  r.job_id = job ? job->id : "";
  r.status = st;
  r.backend = j->backend;
  r.attempts = j->at.attempts;
  r.http_status = o ? o->http_status : 0;
  r.error_code = code ? code : (o && st != SG_STATUS_SENT ? o->code : "");
  r.error_message = message ? message : (o && st != SG_STATUS_SENT ? o->message : "");
  if (st == SG_STATUS_SENT && j->at.ambiguous_seen && code == NULL) {
    r.error_code = "SENDGATE_AMBIGUOUS";
    r.error_message = "sent; an earlier attempt's answer was lost after the request went out, so "
                      "the message may have been delivered twice";
  }
  r.provider_request_id = o ? o->request_id : "";
  r.operation_id = j->pj.op_id;
  r.campaign_id = job ? job->campaign_id : "";
  r.metadata = job ? job->metadata : NULL;
  r.n_metadata = job ? job->n_metadata : 0;
  r.created_unix_ms = job ? job->created_unix_ms : 0;
  r.completed_unix_ms = completed_ms;
  r.stream_entry_id = j->entry_id;
  r.sender = job ? job->sender : "";
  sg_buf_reset(&j->result);
  sg_result_encode(&r, &j->result);
}

/* Whether a job may have its result written to |rs|: under the configured
 * prefix, and never into the job or dead-letter stream. */
static bool reply_allowed(const sg_app *a, const char *rs) {
  if (rs == NULL || rs[0] == '\0')
    return true;
  const char *p = a->cfg.reply_stream_prefix;
  if (strncmp(rs, p, strlen(p)) != 0)
    return false;
  return strcmp(rs, a->cfg.jobs_stream) != 0 && strcmp(rs, a->cfg.dead_stream) != 0;
}

/* The job's reply stream; NULL (the default stream) when it has none or may not use it. */
static const char *reply_stream(const sg_jobrun *j) {
  const char *rs = j->job ? j->job->reply_stream : NULL;
  return reply_allowed(j->app, rs) ? rs : NULL;
}

void sg_app__finish(sg_jobrun *j, sg_status st, const sg_outcome *o, const char *code,
                    const char *message) {
  sg_app *a = j->app;
  if (st == SG_STATUS_UNSPECIFIED) { /* no result: the entry stays pending */
    sg_app__job_release(j, false);
    return;
  }
  count_result(j, st);
  if (st == SG_STATUS_SENT)
    sg_app__hol_sent(j);
  int64_t now = sg_wall_ms();
  build_result(j, st, o, code, message, now);
  log_result(j, st, code ? code : (o ? o->code : ""), message ? message : (o ? o->message : ""));
  /* The ledger: a sent job is remembered, so a redelivery (crash, duplicate
   * id from a producer) publishes its outcome again instead of sending again. */
  bool remember = st == SG_STATUS_SENT && j->job && sg_rd_queue_ledger_on(a->queue);
  sg_rd_ledger_id id;
  sg_rd_sent sent = {j->at.attempts, o ? o->http_status : 0, now, false};
  if (remember)
    id = j->lookup.id; /* computed for its lookup when the job arrived */
  j->state = SG_JOB_COMPLETING;
  if (sg_rd_queue_finish(a->queue, &j->done, j->entry_id, reply_stream(j), j->result.data,
                         j->result.len, remember ? &id : NULL, remember ? &sent : NULL,
                         sg_app__on_completed, j) != 0)
    sg_app__job_release(j, false);
}

void sg_app__republish(sg_jobrun *j, const sg_rd_sent *sent) {
  sg_app *a = j->app;
  sg_log_kv(SG_LOG_INFO, "job", "already sent (ledger): outcome published again", "job_id",
            j->job->id, NULL);
  sg_outcome o;
  memset(&o, 0, sizeof o);
  o.http_status = sent->http_status;
  j->at.attempts = sent->attempts;
  build_result(j, SG_STATUS_SENT, &o, "SENDGATE_DUPLICATE",
               "already sent (found in the sent ledger); this result is published again and the "
               "message was not sent a second time",
               sent->completed_unix_ms);
  j->state = SG_JOB_COMPLETING;
  if (sg_rd_queue_finish(a->queue, &j->done, j->entry_id, reply_stream(j), j->result.data,
                         j->result.len, NULL, NULL, sg_app__on_completed, j) != 0)
    sg_app__job_release(j, false);
}

static void park_at(sg_jobrun *j, int64_t due_unix_ms, sg_log_level lvl) {
  sg_app *a = j->app;
  /* The job's protobuf, encoded again from the decoded job (not kept while it
   * runs): as it came, with a pool's name rather than the member chosen. */
  sg_buf raw = SG_BUF_INIT;
  if (j->job)
    sg_job_encode(j->msg ? sg_job_msg_view(j->msg) : j->job, &raw);
  j->state = SG_JOB_COMPLETING;
  sg_rd_delayed *mover = a->delayed;
  const char *key = sg_app__hol_delayed_key(j, &mover);
  int rv = key ? sg_rd_delayed_park(a->stream, key, j->entry_id, due_unix_ms, j->at.attempts,
                                    raw.data, raw.len, sg_app__on_completed, j)
               : sg_rd_queue_park(a->queue, j->entry_id, due_unix_ms, j->at.attempts, raw.data,
                                  raw.len, sg_app__on_completed, j);
  sg_buf_free(&raw);
  if (rv != 0) {
    sg_app__job_release(j, false);
    return;
  }
  char due[32];
  sg_time_rfc3339(due_unix_ms, due);
  sg_log_kv(lvl, "job", "moved to the delayed set", "job_id", j->job ? j->job->id : "", "due", due,
            NULL);
  if (mover)
    sg_rd_delayed_notify(mover, due_unix_ms);
}

void sg_app__park(sg_jobrun *j, int64_t due_unix_ms) {
  park_at(j, due_unix_ms, SG_LOG_INFO);
}

void sg_app__park_quiet(sg_jobrun *j, int64_t due_unix_ms) {
  park_at(j, due_unix_ms, SG_LOG_DEBUG);
}

/* An entry that is not a job at all: INVALID result on the default stream + dead letter. */
static void reject_entry(sg_app *a, const sg_rd_entry *e, sg_jobrun *j, const char *code,
                         const char *message) {
  count_result(j, SG_STATUS_INVALID);
  sg_metric_inc(a->mc.dead_letters);
  build_result(j, SG_STATUS_INVALID, NULL, code, message, sg_wall_ms());
  log_result(j, SG_STATUS_INVALID, code, message);
  j->state = SG_JOB_COMPLETING;
  if (sg_rd_queue_reject(a->queue, e, code, j->result.data, j->result.len, sg_app__on_completed,
                         j) != 0)
    sg_app__job_release(j, false);
}

static bool resolve_account(sg_app *a, sg_jobrun *j) {
  const sg_job *job = j->job;
  sg_backend b = job->backend;
  const sg_account *acct = NULL;
  const char *name = job->account[0] ? job->account : sg_app__pool_account(a, job);
  if (name[0]) {
    acct = sg_config_account(&a->cfg, SG_BACKEND_GRAPH, name);
    if (acct == NULL) {
      sg_app__finish(j, SG_STATUS_INVALID, NULL, SG_JOBERR_UNKNOWN_ACCOUNT,
                     "the job names an account the gateway does not have");
      return false;
    }
    if (b != SG_BACKEND_UNSPECIFIED && b != acct->backend) {
      sg_app__finish(j, SG_STATUS_INVALID, NULL, SG_JOBERR_ACCOUNT_BACKEND,
                     "the job's backend is not the backend of its account");
      return false;
    }
    b = acct->backend;
  } else {
    if (b == SG_BACKEND_UNSPECIFIED)
      sg_backend_parse(a->cfg.default_backend, &b);
    acct = sg_config_account(&a->cfg, b, "");
    if (acct == NULL) {
      sg_app__finish(j, SG_STATUS_INVALID, NULL, SG_JOBERR_UNKNOWN_ACCOUNT,
                     b == SG_BACKEND_ACS    ? "no default ACS account is configured"
                     : b == SG_BACKEND_SMTP ? "SMTP jobs name their account (exchange_smtp or hve)"
                                            : "no default Graph account is configured");
      return false;
    }
  }
  j->backend = b;
  j->rt = &a->rts[acct - a->cfg.accounts];
  return true;
}

/* The job's lane, as its provider names it and sets its limits; the job holds
 * a reference on it until it is released (sg_app__job_release). */
static void lane_for(sg_app *a, sg_jobrun *j) {
  char key[SG_PROV_LANE_KEY_MAX];
  sg_lane_cfg lc;
  uint32_t rcpts;
  j->rt->prov->lane(j->rt->pstate, j->job, false, key, &lc, &rcpts);
  j->lane = sg_sched_lane(&a->sched, key, &lc);
  sg_sched_lane_ref(&a->sched, j->lane);
  j->item.rcpts = rcpts;
}

static const sg_rd_field *find_field(const sg_rd_entry *e, const char *name) {
  size_t n = strlen(name);
  for (size_t i = 0; i < e->nfields; i++)
    if (e->fields[i].name_len == n && memcmp(e->fields[i].name, name, n) == 0)
      return &e->fields[i];
  return NULL;
}

/* The rest of a valid job's arrival: its request, its deadline, its lane. */
void sg_app__queue_job(sg_jobrun *j) {
  sg_app *a = j->app;
  const sg_job *job = j->job;
  sg_job_error err;
  int64_t base = job->created_unix_ms > 0 ? job->created_unix_ms : sg_wall_ms();
  /* A producer's clock can say anything: saturate instead of overflowing. */
  j->deadline_ms = job->deadline_unix_ms > 0               ? job->deadline_unix_ms
                   : base > INT64_MAX - a->cfg.deadline_ms ? INT64_MAX
                                                           : base + a->cfg.deadline_ms;
  if (!sg_app__pool_assign(j)) /* sender "pool:NAME": one of its members */
    return;
  job = j->job;
  j->pj.job = job;
  if (!sg_config_sender_allowed(j->rt->acct, job->sender)) {
    sg_app__finish(j, SG_STATUS_INVALID, NULL, SG_JOBERR_SENDER_NOT_ALLOWED,
                   "the sender is not in the allowed_senders of the job's account");
    return;
  }
  if (j->rt->prov->prepare(j->rt->pstate, &j->pj, &err) != 0) {
    sg_app__finish(j, SG_STATUS_INVALID, NULL, err.code, err.message);
    return;
  }
  if (sg_wall_ms() >= j->deadline_ms) {
    sg_app__finish(j, SG_STATUS_EXPIRED, NULL, "SENDGATE_DEADLINE",
                   "the job's deadline had passed when it was fetched");
    return;
  }
  j->item.bytes = j->pj.next_bytes; /* its first request's, for the lane's byte window */
  j->item.bulk = sg_job_bulk(job);
  lane_for(a, j);
  /* A lane that cannot take it for long (paused, daily budget spent): the
   * job waits in the delayed set, not in memory. */
  uint64_t wait = sg_sched_wait(&a->sched, j->lane, &j->item, uv_now(a->loop));
  if (wait != UINT64_MAX && wait > (uint64_t)a->cfg.delayed_after_ms) {
    sg_app__park(j, sg_wall_ms() + (int64_t)wait);
    return;
  }
  if (sg_app__hol_park(j)) /* its lane cannot start it soon */
    return;
  j->state = SG_JOB_QUEUED;
  sg_sched_push(&a->sched, j->lane, &j->item, false);
  sg_app__hol_trim(j);
  sg_app__want_pump(a);
}

static void on_entry(sg_rd_stream *s, const sg_rd_entry *e, void *ud) {
  sg_app *a = ud;
  if (a->stopping)
    return; /* stays pending for this consumer's next start */
  sg_metric_inc(a->mc.fetched);
  sg_jobrun *j = sg_app__job_new(a, e->id);
  sg_app__read_gate(a);
  if (e->oversize) {
    char msg[160];
    snprintf(msg, sizeof msg,
             "the stream entry is %llu bytes, over gateway.max_job_bytes (%lld): not read",
             (unsigned long long)e->size, (long long)a->cfg.max_job_bytes);
    reject_entry(a, e, j, SG_JOBERR_TOO_LARGE, msg);
    return;
  }
  j->entry_bytes = e->size;
  const sg_rd_field *f = find_field(e, "job");
  if (f == NULL) {
    reject_entry(a, e, j, SG_JOBERR_NO_JOB_FIELD, "the stream entry has no 'job' field");
    return;
  }
  sg_job_error err;
  int rv =
      sg_job_decode_cached(a->msg_cache, (const uint8_t *)f->value, f->value_len, &j->msg, &err);
  if (rv == SG_ERR_PARSE) {
    reject_entry(a, e, j, err.code, err.message);
    return;
  }
  if (j->msg)
    j->job = sg_job_msg_view(j->msg);
  if (rv != 0) {
    sg_app__finish(j, SG_STATUS_INVALID, NULL, err.code, err.message);
    return;
  }
  sg_app__hol_fetched(j);
  if (!reply_allowed(a, j->job->reply_stream)) {
    sg_app__finish(j, SG_STATUS_INVALID, NULL, SG_JOBERR_REPLY_STREAM,
                   "reply_stream is outside gateway.reply_stream_prefix; answered on the default "
                   "results stream");
    return;
  }
  if (!resolve_account(a, j))
    return;
  const sg_rd_field *att = find_field(e, "attempts");
  if (att && att->value_len < 10) {
    char n[12];
    memcpy(n, att->value, att->value_len);
    n[att->value_len] = '\0';
    j->at.attempts = (uint32_t)strtoul(n, NULL, 10);
  }
  if (a->cfg.ledger_ttl_s > 0) {
    sg_app__ledger_check(j);
    sg_turn_want(&a->pump); /* the pump sends the lookups */
  } else
    sg_app__queue_job(j);
}

/* ---- the pump: admit what the lanes allow, once per loop turn ---- */

static void on_sched_timer(uv_timer_t *t) {
  sg_app__want_pump(t->data);
}

/*
 * Read-ahead. While the request cap (gateway.max_requests) is reached and as
 * many jobs again are in memory beside the requests (queued on their lanes,
 * in their ledger lookup, completing), a read would only add jobs that wait
 * too: the stream holds its reads until one of the two falls below. Jobs held
 * in memory cost cache as well as memory (about a tenth of the gateway's CPU
 * per message at saturation against reading up to max_in_flight,
 * README.md). Below the cap reading goes on up to max_in_flight as before,
 * so jobs of lanes that wait on their own limits never stop the others from
 * being read. Checked as jobs arrive (before the stream's next read) and
 * after each pump (as requests end).
 */
void sg_app__read_gate(sg_app *a) {
  const sg_sched *s = &a->sched;
  bool hold = s->max_inflight > 0 && s->inflight >= s->max_inflight &&
              a->njobs >= s->inflight + s->max_inflight;
  if (hold == a->reads_held || a->stream == NULL)
    return;
  a->reads_held = hold;
  sg_rd_stream_hold_reads(a->stream, hold);
}

static void on_pump(sg_turn_reg *reg, void *a_) {
  (void)reg;
  sg_app *a = a_;
  if (!sg_list_empty(&a->ledger_q))
    sg_app__ledger_flush(a);
  if (!a->pump_wanted || a->stopping)
    return;
  a->pump_wanted = false;
  uint64_t now = uv_now(a->loop);
  sg_sched_tick(&a->sched, now);
  sg_lane *lane;
  sg_sched_item *it;
  while ((it = sg_sched_pop(&a->sched, now, &lane)) != NULL) {
    sg_jobrun *j = sg_container_of(it, sg_jobrun, item);
    sg_app__start_attempt(j);
  }
  sg_app__budget_turn(a, now);
  sg_app__read_gate(a);
  uint64_t wake = sg_sched_next_wake(&a->sched);
  if (wake != UINT64_MAX)
    uv_timer_start(&a->sched_timer, on_sched_timer, wake > now ? wake - now : 1, 0);
  else
    uv_timer_stop(&a->sched_timer);
}

/* ---- lifecycle ---- */

/* Each account's provider state, the origin its requests go to, and its token. */
static int setup_accounts(sg_app *a, char *err, size_t errcap) {
  a->rts = sg_xcalloc(a->cfg.naccounts ? a->cfg.naccounts : 1, sizeof *a->rts);
  for (size_t i = 0; i < a->cfg.naccounts; i++) {
    const sg_account *acct = &a->cfg.accounts[i];
    sg_acct_rt *rt = &a->rts[i];
    const char *name = acct->name[0] ? acct->name : "(default)";
    rt->acct = acct;
    rt->prov = sg_provider_for(acct->backend);
    if (rt->prov == NULL) {
      snprintf(err, errcap, "account %s: no provider for its backend", name);
      return SG_ERR_CONFIG;
    }
    int rv = rt->prov->acct_init(&rt->pstate, &rt->info, acct, &a->cfg, err, errcap);
    if (rv)
      return rv;
    char e2[300];
    if (rt->info.needs_token && sg_cred_new(&rt->cred, acct, e2, sizeof e2) != 0) {
      snprintf(err, errcap, "account %s: %s", name, e2);
      return SG_ERR_CONFIG;
    }
    /* A managed identity's tokens come over plain HTTP/1.1, not from Entra. */
    bool mi = rt->cred && sg_cred_kind_of(rt->cred) == SG_CRED_MANAGED_IDENTITY;
    bool http = rt->prov->transport == SG_PROV_TRANSPORT_HTTP; /* SMTP: sg_app_smtp.c */
    rt->origin =
        http ? sg_app__origin(a, rt->info.origin_url, rt->prov->name, e2, sizeof e2) : NULL;
    if ((rt->origin || !http) && rt->info.needs_token && !mi)
      rt->login = sg_app__origin(a, acct->login_url, "entra", e2, sizeof e2);
    if ((http && rt->origin == NULL) || (rt->info.needs_token && !mi && rt->login == NULL)) {
      snprintf(err, errcap, "account %s: %s", name, e2);
      return SG_ERR_CONFIG;
    }
    if (rt->info.needs_token) {
      sg_token_key k = {acct->login_url, acct->tenant_id, acct->client_id, acct->scope};
      if (mi) /* one token per identity and resource */
        k = (sg_token_key){"managed-identity", acct->identity_endpoint, acct->managed_identity,
                           acct->scope};
      rt->token = sg_token_cache_entry(a->tokens, &k);
    }
  }
  return 0;
}

static void free_app(sg_app *a) {
  if (a->reg)
    sg_metrics_free(a->reg);
  if (a->tokens)
    sg_token_cache_free(a->tokens);
  if (a->ssl)
    SSL_CTX_free(a->ssl);
  sg_sched_free(&a->sched);
  for (size_t i = 0; a->rts && i < a->cfg.naccounts; i++) {
    if (a->rts[i].pstate)
      a->rts[i].prov->acct_free(a->rts[i].pstate);
    sg_cred_free(a->rts[i].cred);
  }
  sg_free(a->rts);
  sg_config_free(&a->cfg);
  sg_rd_queue_free(a->queue);
  sg_app__jobs_free_pools(a);
  sg_job_msg_cache_free(a->msg_cache); /* after the jobs: they give their blocks back */
  sg_free(a);
}

/* ledger_legacy auto: the lookups ask for the older layout only while keys of it exist. */
static void on_legacy(bool present, void *ud) {
  sg_app *a = ud;
  sg_rd_queue_set_legacy(a->queue, present);
}

/* Completions leave acked entries to the trimmer only while it keeps up, and
 * go as a MULTI only while the results stream takes results. */
static void on_trim(bool keeps_up, bool results_ok, void *ud) {
  sg_app *a = ud;
  sg_rd_stream_set_trim_acked(a->stream, keeps_up);
  sg_rd_queue_set_default_trusted(a->queue, results_ok);
}

int sg_app_start(sg_app **out, uv_loop_t *loop, sg_config *cfg, char *err, size_t errcap) {
  sg_app *a = sg_xcalloc(1, sizeof *a);
  a->loop = loop;
  a->started_at = sg_wall_ms();
  a->cfg = *cfg;
  memset(cfg, 0, sizeof *cfg);
  sg_list_init(&a->jobs);
  sg_list_init(&a->ledger_q);
  sg_list_init(&a->free_jobs);
  a->msg_cache = sg_job_msg_cache_new(SG_MSG_CACHE_BYTES, SG_MSG_CACHE_BLOCK);
  sg_sched_init(&a->sched);
  a->sched.max_inflight = (size_t)a->cfg.max_requests;
  a->rng = (uint64_t)sg_wall_ms() ^ ((uint64_t)uv_os_getpid() << 32);
  int rv = sg_tls_ctx_client_new(&a->ssl, a->cfg.tls_ca_file[0] ? a->cfg.tls_ca_file : NULL);
  if (rv) {
    snprintf(err, errcap, "TLS setup failed (SENDGATE_TLS_CA_FILE=%s): %s", a->cfg.tls_ca_file,
             sg_strerror(rv));
    free_app(a);
    return rv;
  }
  if ((rv = sg_token_cache_new(&a->tokens, sg_app__rand(a))) != 0 ||
      (rv = setup_accounts(a, err, errcap)) != 0) {
    if (rv != SG_ERR_CONFIG)
      snprintf(err, errcap, "cannot set up accounts: %s", sg_strerror(rv));
    /* Pools made so far are closed by the loop; nothing was started yet. */
    free_app(a);
    return rv;
  }
  sg_rd_url url;
  if (sg_rd_url_parse(a->cfg.redis_url, &url) != 0) {
    snprintf(err, errcap,
             "SENDGATE_REDIS_URL: not a redis[s]://[[user]:password@]host:port/db URL");
    free_app(a);
    return SG_ERR_CONFIG;
  }
  sg_rd_stream_opts so;
  memset(&so, 0, sizeof so);
  so.stream = a->cfg.jobs_stream;
  so.group = a->cfg.group;
  so.consumer = a->cfg.consumer;
  so.dead_stream = a->cfg.dead_stream;
  so.count = (uint32_t)a->cfg.fetch_count;
  so.max_entry_bytes = (uint64_t)a->cfg.max_job_bytes;
  so.byte_budget = (uint64_t)a->cfg.max_held_bytes;
  so.fetch_wait_ms = (uint32_t)a->cfg.fetch_wait_ms;
  so.cmd_timeout_ms = (uint32_t)a->cfg.redis_timeout_ms;
  so.client.tls_ca_file = a->cfg.tls_ca_file; /* rediss:// */
  /* Acked entries are left to the trimmer (XTRIM MINID below the group's
   * oldest pending entry every TRIM_TICK_MS: a fraction of what an XDEL per
   * completion costs Redis) while it keeps up (on_trim); until its first run
   * says so, and while a long-pending job holds it up, completions XDEL. */
  so.trim_acked = false;
  sg_rd_stream_cbs cbs = {on_entry, a};
  if ((rv = sg_rd_stream_new(loop, &url, &so, &cbs, &a->stream)) != 0) {
    snprintf(err, errcap, "cannot start the Redis consumer: %s", sg_strerror(rv));
    free_app(a);
    return rv;
  }
  /* The default results stream is capped by the trimmer once a tick, not by
   * a MAXLEN on every result. */
  sg_rd_queue_opts qo = {.results_stream = a->cfg.results_stream,
                         .results_maxlen = 0,
                         .ledger_ttl_s = a->cfg.ledger_ttl_s,
                         .ledger_slots = (uint32_t)a->cfg.ledger_slots,
                         .cmd_timeout_ms = (uint32_t)a->cfg.redis_timeout_ms,
                         .no_legacy = a->cfg.ledger_legacy == SG_LEDGER_LEGACY_OFF};
  sg_rd_queue_new(a->stream, &qo, &a->queue);       /* the config's ranges make it valid */
  sg_rd_queue_set_default_trusted(a->queue, false); /* until the trimmer has looked */
  if ((rv = sg_app__metrics_start(a, err, errcap)) == 0 &&
      ((rv = sg_app__hol_metrics(a)) != 0 || (rv = sg_app__pool_metrics(a)) != 0))
    snprintf(err, errcap, "metrics: %s", sg_strerror(rv));
  if (rv != 0) {
    /* The consumer is running already: stop it through the normal path. */
    sg_log(SG_LOG_ERROR, "gateway", "%s", err);
  }
  sg_rd_reaper_opts ro;
  memset(&ro, 0, sizeof ro);
  ro.consumer = a->cfg.consumer;
  ro.stream = a->cfg.jobs_stream;
  ro.group = a->cfg.group;
  ro.queue = a->queue;
  ro.interval_ms = (uint32_t)a->cfg.reaper_interval_ms;
  ro.min_idle_ms = (uint32_t)a->cfg.reaper_min_idle_ms;
  ro.max_deliveries = (uint32_t)a->cfg.max_deliveries;
  sg_rd_delayed_opts dopts;
  memset(&dopts, 0, sizeof dopts);
  dopts.client = sg_rd_stream_cmd_client(a->stream);
  dopts.stream = a->cfg.jobs_stream;
  sg_rd_trim_opts topts = {.client = sg_rd_stream_cmd_client(a->stream),
                           .stream = a->cfg.jobs_stream,
                           .results = a->cfg.results_stream,
                           .results_maxlen = (uint64_t)a->cfg.results_maxlen,
                           .cmd_timeout_ms = (uint32_t)a->cfg.redis_timeout_ms,
                           .tick_ms = TRIM_TICK_MS,
                           .busy_tick_ms = TRIM_BUSY_TICK_MS,
                           .held_ms = TRIM_HELD_MS,
                           .cb = on_trim,
                           .ud = a};
  int rv2 = sg_rd_reaper_new(loop, a->stream, &ro, &a->reaper);
  if (rv2 == 0)
    rv2 = sg_rd_delayed_new(loop, &dopts, &a->delayed);
  if (rv2 == 0)
    rv2 = sg_rd_trim_new(loop, &topts, &a->trim);
  if (rv2 == 0 && a->cfg.ledger_legacy == SG_LEDGER_LEGACY_AUTO && sg_rd_queue_ledger_on(a->queue))
    rv2 = sg_rd_legacy_new(loop,
                           &(sg_rd_legacy_opts){.client = sg_rd_stream_cmd_client(a->stream),
                                                .cmd_timeout_ms = (uint32_t)a->cfg.redis_timeout_ms,
                                                .cb = on_legacy,
                                                .ud = a},
                           &a->legacy);
  if (rv2 == 0)
    rv2 = sg_app__hol_start(a);
  if (rv2 && rv == 0) {
    snprintf(err, errcap, "cannot start the reaper or the delayed-set mover: %s", sg_strerror(rv2));
    rv = rv2;
  }
  sg_app__budget_start(a); /* the metrics registry exists now */
  uv_timer_init(loop, &a->sched_timer);
  a->sched_timer.data = a;
  uv_timer_init(loop, &a->grace_timer);
  a->grace_timer.data = a;
  /* The pump runs first in the turn's pass: what it admits is dispatched,
   * encrypted and written by the later ranks before the loop polls. */
  sg_turn_reg_init(&a->pump, loop, SG_TURN_ADMIT, on_pump, a);
  sg_rd_stream_set_credit(a->stream, (uint32_t)a->cfg.max_in_flight);
  char desc[300];
  sg_rd_url_describe(&url, desc, sizeof desc);
  *out = a;
  if (rv) { /* the admin endpoint could not start: stop what did */
    sg_app_stop(a, NULL, NULL);
    return rv;
  }
  sg_log_kv(SG_LOG_INFO, "gateway", "started", "redis", desc, "consumer", a->cfg.consumer,
            "metrics", a->admin ? a->cfg.http_listen : "off", NULL);
  return 0;
}

/* ---- stop ---- */

static void on_handle_closed(uv_handle_t *h) {
  sg_app *a = h->data;
  if (--a->closing_handles > 0)
    return;
  void (*done)(void *) = a->on_stopped;
  void *ud = a->stopped_ud;
  sg_log_kv(SG_LOG_INFO, "gateway", "stopped", NULL);
  free_app(a);
  if (done)
    done(ud);
}

static void on_admin_stopped(void *ud) {
  sg_app *a = ud;
  a->admin = NULL;
  a->closing_handles = 3;
  sg_turn_reg_remove(&a->pump);
  uv_close((uv_handle_t *)&a->sched_timer, on_handle_closed);
  uv_close((uv_handle_t *)&a->grace_timer, on_handle_closed);
  uv_close((uv_handle_t *)&a->stats_timer, on_handle_closed);
}

static void on_smtp_closed(void *ud) {
  sg_app *a = ud;
  sg_admin_stop(a->admin, on_admin_stopped, a);
}

static void on_origins_closed(void *ud) {
  sg_app__smtp_close(ud, on_smtp_closed, ud);
}

static void on_stream_stopped(sg_rd_stream *s, void *ud) {
  sg_app *a = ud;
  a->stream = NULL;
  sg_app__origins_close(a, on_origins_closed, a);
}

static void on_helper_closed(void *ud) {
  sg_app *a = ud;
  if (--a->closing_helpers > 0)
    return;
  sg_rd_stream_stop(a->stream, on_stream_stopped, a);
}

static void begin_close(sg_app *a) {
  if (a->closing_pools)
    return;
  a->closing_pools = 1;
  uv_timer_stop(&a->grace_timer);
  sg_app__budget_close(a);
  /* The reaper and the mover use the stream's connections: close them first. */
  a->closing_helpers =
      1 + (a->reaper != NULL) + (a->delayed != NULL) + (a->trim != NULL) + (a->legacy != NULL);
  a->closing_helpers += sg_app__hol_close(a, on_helper_closed, a);
  if (a->reaper)
    sg_rd_reaper_close(a->reaper, on_helper_closed, a);
  if (a->delayed)
    sg_rd_delayed_close(a->delayed, on_helper_closed, a);
  if (a->trim)
    sg_rd_trim_close(a->trim, on_helper_closed, a);
  if (a->legacy)
    sg_rd_legacy_close(a->legacy, on_helper_closed, a);
  a->reaper = NULL;
  a->delayed = NULL;
  a->trim = NULL;
  a->legacy = NULL;
  on_helper_closed(a);
}

void sg_app__check_stop(sg_app *a) {
  if (a->njobs == 0)
    begin_close(a);
}

static void on_grace(uv_timer_t *t) {
  sg_app *a = t->data;
  sg_log(SG_LOG_WARN, "gateway", "grace time over: %zu jobs left pending for the next run",
         a->njobs);
  sg_list *n, *tmp;
  sg_list_foreach_safe(n, tmp, &a->jobs) {
    sg_jobrun *j = sg_container_of(n, sg_jobrun, link);
    sg_app__abandon(j);
  }
  begin_close(a);
}

void sg_app_stop(sg_app *a, void (*done)(void *ud), void *ud) {
  if (a->stopping)
    return;
  a->stopping = true;
  a->on_stopped = done;
  a->stopped_ud = ud;
  sg_rd_stream_set_credit(a->stream, 0);
  sg_log(SG_LOG_INFO, "gateway", "stopping: %zu jobs held", a->njobs);
  /* Jobs not on the wire stay pending in the stream for the next run. */
  sg_list *n, *tmp;
  sg_list_foreach_safe(n, tmp, &a->jobs) {
    sg_jobrun *j = sg_container_of(n, sg_jobrun, link);
    if (j->state != SG_JOB_IN_FLIGHT && j->state != SG_JOB_COMPLETING)
      sg_app__abandon(j);
  }
  if (a->njobs == 0) {
    begin_close(a);
    return;
  }
  uv_timer_start(&a->grace_timer, on_grace, (uint64_t)a->cfg.grace_ms, 0);
}
