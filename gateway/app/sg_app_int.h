/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the runtime shared by sg_app.c (lifecycle, entries, results),
 * sg_app_send.c (attempts and outcomes), sg_app_tokens.c (token fetches),
 * sg_app_origin.c (one HTTP/2 pool per provider origin) and sg_app_smtp.c
 * (SMTP sessions for providers whose transport is SMTP).
 */
#ifndef SG_APP_INT_H
#define SG_APP_INT_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <uv.h>

#include "app/sg_admin.h"
#include "app/sg_app.h"
#include "app/sg_metrics_gateway.h"
#include "app/sg_status.h"
#include "core/sg_fmt.h"
#include "core/sg_metrics.h"
#include "core/sg_list.h"
#include "core/sg_mem.h"
#include "core/sg_turn.h"
#include "h2/sg_h2_pool.h"
#include "job/sg_job_codec.h"
#include "job/sg_result.h"
#include "redis/sg_rd_delayed.h"
#include "redis/sg_rd_queue.h"
#include "redis/sg_rd_reaper.h"
#include "redis/sg_rd_stream.h"
#include "redis/sg_rd_legacy.h"
#include "redis/sg_rd_trim.h"
#include "sched/sg_sched.h"
#include "app/sg_attempt.h"
#include "svc/sg_classify.h"
#include "svc/sg_cred.h"
#include "svc/sg_provider.h"
#include "svc/sg_token_cache.h"

/* Pools at most: the accounts' origins and their token endpoints, plus the
 * origins of Graph's upload URLs (outlook.office.com and the like). */
#define SG_APP_MAX_ORIGINS 256

/* One provider origin ("host:port"), shared by every account that uses it. */
typedef struct sg_origin {
  char *host;
  uint16_t port;
  char authority[300];
  sg_h2_pool *pool;
  const char *label; /* metrics label: the provider's name, or "entra" for token endpoints */
} sg_origin;

/* What the runtime keeps per configured account. */
typedef struct sg_acct_rt {
  const sg_account *acct;
  const sg_provider *prov;
  void *pstate; /* the provider's account state */
  sg_prov_info info;
  sg_origin *origin; /* where its requests go */
  sg_origin *login;  /* the Entra token endpoint, when info.needs_token */
  sg_token_entry *token;
  sg_cred *cred; /* the app's credential for token requests, when info.needs_token */
  bool fetching;
  bool token_failing; /* the last token fetch failed (readiness) */
  sg_metric *m_token_fetches, *m_token_failures;
  /* {backend}, {lane_kind} or {origin}: the provider's name */
  sg_metric *m_attempts, *m_ambiguous, *m_throttles, *m_pauses, *m_duration;
} sg_acct_rt;

typedef enum {
  SG_JOB_NEW,        /* fetched; being decoded and checked */
  SG_JOB_CHECKING,   /* waiting for the sent-ledger lookup */
  SG_JOB_QUEUED,     /* waiting on its lane */
  SG_JOB_TOKEN_WAIT, /* admitted, waiting for a token */
  SG_JOB_IN_FLIGHT,  /* request on the wire */
  SG_JOB_STORE_WAIT, /* a step's record read or write on Redis (the reply releases it) */
  SG_JOB_RETRY_WAIT, /* backing off before going back on its lane */
  SG_JOB_COMPLETING, /* result + ack queued on Redis */
} sg_job_state;

/* Request body buffers kept for reuse: as many as requests can be out at once
 * by default (gateway.max_requests), at most SG_BODY_POOL_BYTES together. */
#define SG_BODY_POOL_MAX 1024
#define SG_BODY_POOL_CAP (64u * 1024u) /* larger buffers are freed, not kept */
#define SG_BODY_POOL_BYTES (4u * 1024u * 1024u)
/* The blocks of decoded jobs kept for reuse (job/sg_job_codec.h), bounded
 * like the bodies. */
#define SG_MSG_CACHE_BYTES (4u * 1024u * 1024u)
#define SG_MSG_CACHE_BLOCK (64u * 1024u)

typedef struct sg_jobrun {
  struct sg_app *app;
  sg_list link;  /* app->jobs */
  sg_list lnode; /* app->ledger_q while its ledger lookup waits to be queued */
  sg_job_state state;
  char entry_id[48];
  uint64_t entry_bytes; /* taken from the stream's byte credit; given back at release */
  sg_job_msg *msg;
  const sg_job *job;
  sg_backend backend;
  sg_acct_rt *rt;
  sg_lane *lane;
  sg_sched_item item;
  sg_prov_job pj;      /* the provider's view: body, path, operation id */
  sg_attempt at;       /* attempts, failures, follow-ups */
  int64_t deadline_ms; /* wall clock */
  sg_token_waiter tw;
  sg_h2_req *h2;
  sg_h2_pool *pool;                /* the pool |h2| is on */
  struct sg_smtpc_pool_sess *smtp; /* SMTP providers: the message in progress */
  uint64_t sent_at;                /* monotonic ms, for the request duration */
  uv_timer_t timer;                /* retry wait */
  sg_outcome *last; /* the last failed attempt's outcome (allocated when first needed) */
  sg_buf result;    /* encoded MailResult while completing */
  /* the queue protocol's state of its ledger lookup and of its completion */
  sg_rd_lookup lookup;
  sg_rd_completion done;
  sg_job pooled; /* a pool's job as sent: |job| with the member as sender (sg_app_pool.c) */
} sg_jobrun;

/* Shared budgets' glue (sg_app_budget.c). */
typedef struct sg_app_budget sg_app_budget;

struct sg_app {
  uv_loop_t *loop;
  sg_config cfg;
  SSL_CTX *ssl;
  sg_rd_stream *stream;
  sg_rd_reaper *reaper;
  sg_rd_delayed *delayed;
  sg_rd_trim *trim;     /* removes acked job entries, caps the results stream */
  sg_rd_legacy *legacy; /* whether keys of the older ledger layout exist (ledger_legacy auto) */
  sg_origin **origins;
  size_t norigins;
  sg_acct_rt *rts; /* parallel to cfg.accounts */
  sg_token_cache *tokens;
  sg_sched sched;
  uv_timer_t sched_timer;
  sg_turn_reg pump; /* SG_TURN_ADMIT */
  bool pump_wanted;
  sg_list jobs;
  size_t njobs;
  sg_list free_jobs; /* finished jobs kept for reuse */
  size_t n_free_jobs;
  sg_buf bodies[SG_BODY_POOL_MAX]; /* request body buffers kept for reuse */
  size_t n_bodies;
  size_t bodies_bytes; /* their capacity together */
  sg_job_msg_cache *msg_cache;
  bool reads_held;  /* the stream holds its reads (read_gate in sg_app.c) */
  sg_list ledger_q; /* jobs whose ledger lookup goes out with the next flush */
  uint64_t rng;
  bool stopping;
  uv_timer_t grace_timer;
  int closing_handles;
  size_t closing_pools;
  int closing_helpers;
  void (*on_stopped)(void *);
  void *stopped_ud;
  /* metrics: the registry, the families, and the children looked up once */
  sg_metrics *reg;
  sg_gw_metrics m;
  sg_admin *admin;
  uv_timer_t stats_timer;
  uint64_t last_reconnects;
  struct {
    sg_metric *fetched, *results[4][5], *retries[SG_WHY_TOKEN + 1], *dead_letters, *job_duration,
        *reconnects, *dur_entra;
  } mc;
  sg_rd_queue *queue; /* the Redis queue protocol: results, ledger, parks, dead letters */
  /* priorities and head-of-line parking (sg_app_hol.c); [0] transactional, [1] bulk */
  struct {
    sg_metric *fetched[2], *sent[2], *parked[2], *latency[2];
  } mh;
  struct sg_rd_feeder *feeder;   /* the bulk stream's (gateway.bulk_stream) */
  size_t pool_rr;                /* where the next member choice starts */
  sg_metric_family *pool_chosen; /* sendgate_pool_member_chosen_total */
  sg_rd_delayed *delayed_bulk;   /* moves due bulk jobs back */
  /* /status (sg_status_app.c): start time, the group's lag and pending as last sampled */
  int64_t started_at;
  sg_status_redis status_redis;
  bool status_sampling;       /* an XINFO GROUPS is out */
  struct sg_smtpc_pool *smtp; /* SMTP providers' sessions, made on first use (sg_app_smtp.c) */
  SSL_CTX *smtp_ssl;          /* theirs: no ALPN */
  sg_app_budget *budget;      /* NULL: shared budgets off */
};

/* sg_app.c */
void sg_app__want_pump(sg_app *a);
/* Holds or resumes the job stream's reads (read-ahead; see sg_app.c). */
void sg_app__read_gate(sg_app *a);
/* Moves |j| to the delayed set until |due_unix_ms| (acks it in the same MULTI). */
void sg_app__park(sg_jobrun *j, int64_t due_unix_ms);
/* Publishes the job's terminal result and acks it; frees the job when Redis confirmed. */
void sg_app__finish(sg_jobrun *j, sg_status st, const sg_outcome *o, const char *code,
                    const char *message);
uint64_t sg_app__rand(sg_app *a);
/* Starts the job's way to its lane: request path, deadline, lane (sg_app.c). */
void sg_app__queue_job(sg_jobrun *j);
/* Publishes again the outcome of a job the sent ledger says was sent (no
 * second send) and acks it (sg_app.c). */
void sg_app__republish(sg_jobrun *j, const sg_rd_sent *sent);
/* Completion callback of every result + ack: frees the job (sg_app.c). */
void sg_app__on_completed(sg_rd_stream *s, int status, void *ud);
/* Closes the runtime once no job is left, when stopping (sg_app.c). */
void sg_app__check_stop(sg_app *a);

/* sg_app_jobs.c */
sg_jobrun *sg_app__job_new(sg_app *a, const char *entry_id);
/* Frees |j|. |acked|: its entry was completed; otherwise the entry stays
 * pending and is unmarked so a later re-read (reconnect) or the reaper hands
 * it out again. Either way the job's credit goes back (unless stopping). */
void sg_app__job_release(sg_jobrun *j, bool acked);
void sg_app__jobs_free_pools(sg_app *a);

/* sg_app_ledger.c */
/* Queues the job's ledger lookup for the next flush (state CHECKING). */
void sg_app__ledger_check(sg_jobrun *j);
/* Sends the queued lookups (from the pump, once per loop turn). */
void sg_app__ledger_flush(sg_app *a);
/* The job's identity in the ledger: (account, sender, id). */
void sg_app__ledger_id(const sg_jobrun *j, sg_rd_ledger_id *out);
/* Takes |j| off the queue of ledger lookups not sent yet (state back to NEW). */
void sg_app__ledger_cancel(sg_jobrun *j);

/* Request body buffers: a job takes one when its request goes out and gives it
 * back after the answer, so jobs waiting on their lanes hold none and the
 * memory is reused instead of allocated per message. */
void sg_app__body_get(sg_app *a, sg_buf *b);
void sg_app__body_put(sg_app *a, sg_buf *b);

/* sg_app_attempt.c: the glue of the attempt state machine (sg_attempt.h) */
void sg_app__start_attempt(sg_jobrun *j);
/* Puts a job back on its lane after |delay_ms| (0: now, at the front); long waits park it. */
void sg_app__requeue(sg_jobrun *j, uint64_t delay_ms);
/* Moves the jobs queued on |lane| to the delayed set for |wait_ms| (a long pause). */
void sg_app__park_lane(sg_app *a, sg_lane *lane, uint64_t wait_ms);
/* Releases what a job holds on the loop (request, token wait, timer); for stop. */
void sg_app__abandon(sg_jobrun *j);

/* The answer to a job's request or record step (|err|: transport error; else
 * |status| and |body|): classified, handed to the provider's advance, and
 * carried out by the attempt machine (sg_app_attempt.c). |o| is already
 * classified. */
void sg_app__answered(sg_jobrun *j, int err, int status, const char *body, size_t len,
                      sg_outcome *o);

/* sg_app_store.c: a step that reads or writes the job's record in Redis. */
void sg_app__store_run(sg_jobrun *j, const sg_prov_req *r);

/* sg_app_hol.c: priorities and head-of-line parking */
/* Registers the priority metrics (after the gateway's families). */
int sg_app__hol_metrics(sg_app *a);
/* Counts a job of |j|'s priority: fetched (on arrival) or sent. */
void sg_app__hol_fetched(sg_jobrun *j);
void sg_app__hol_sent(sg_jobrun *j);
/* |j| has its terminal result |seconds| after its creation: the latency by priority. */
void sg_app__hol_latency(sg_jobrun *j, double seconds);
/* A request of |j| took |duration_ms|: its lane's latency estimate. */
void sg_app__hol_observe(sg_jobrun *j, uint64_t duration_ms);
/* True when |j| was moved to the delayed set because its lane cannot take it
 * within gateway.hol_horizon_ms; else it is to be queued on its lane. */
bool sg_app__hol_park(sg_jobrun *j);
/* sg_hol_admits for |l| at |now|, with this gateway's part of the lane's
 * shared budget when shared budgets are on. */
uint64_t sg_app__hol_admits(sg_app *a, sg_lane *l, uint64_t now, uint64_t h);
/* After |j| was queued: moves the lane's last bulk job out when the lane holds
 * more than it can admit soon (a transactional job took its place). */
void sg_app__hol_trim(sg_jobrun *j);
/* sg_app__park at debug log level (head-of-line parks are routine). */
void sg_app__park_quiet(sg_jobrun *j, int64_t due_unix_ms);
/* The delayed set for |j| (bulk jobs have their own) and its mover (may be NULL). */
const char *sg_app__hol_delayed_key(const sg_jobrun *j, sg_rd_delayed **mover);
/* Starts the bulk feeder and the bulk jobs' mover (after the stream). */
int sg_app__hol_start(sg_app *a);
/* Closes what sg_app__hol_start started, calling |done| once per helper;
 * returns how many calls to expect. */
int sg_app__hol_close(sg_app *a, void (*done)(void *), void *ud);

/* sg_app_pool.c: sender pools */
/* The account of a "pool:NAME" sender's pool ("" when none, or not a pool). */
const char *sg_app__pool_account(sg_app *a, const sg_job *job);
/* For a job whose sender is "pool:NAME": picks the member with budget now and
 * sends as it (j->job becomes j->pooled, j->rt the member's account). True to
 * go on (also for other jobs); false when the job was finished INVALID. */
bool sg_app__pool_assign(sg_jobrun *j);
/* Registers sendgate_pool_member_chosen_total. */
int sg_app__pool_metrics(sg_app *a);
/* sg_app_smtp.c: attempts of providers with transport SG_PROV_TRANSPORT_SMTP */
/* Sends the job's message on a session of its lane's group (|token|: XOAUTH2's). */
void sg_app__smtp_send(sg_jobrun *j, const char *token, size_t token_len);
/* Drops the job's message in progress (stop); its lane slot is released. */
void sg_app__smtp_cancel(sg_jobrun *j);
size_t sg_app__smtp_sessions(const sg_app *a);
/* QUIT on every session; |done| once they are closed. */
void sg_app__smtp_close(sg_app *a, void (*done)(void *), void *ud);

/* sg_app_tokens.c */
void sg_app__token_fetch(sg_app *a, sg_acct_rt *rt);

/* sg_app_budget.c: shared budgets (gateway.shared_budgets) */
/* Installs the gate on the scheduler (after the metrics registry exists). */
void sg_app__budget_start(sg_app *a);
/* Makes the turn's Redis call when one is due (from the pump, after admitting). */
void sg_app__budget_turn(sg_app *a, uint64_t now);
/* Drops the shares (before the scheduler is freed) and closes the timer. */
void sg_app__budget_close(sg_app *a);
/* False, with |reason|, while lanes run on divided limits for want of Redis. */
bool sg_app__budget_ready(const sg_app *a, char *reason, size_t cap);

/* sg_app_origin.c */
/* Finds or makes the pool for |url| ("https://host[:port]"), labelled |label|
 * (static: a provider's name, or "entra") in metrics. NULL with |err| on a bad URL. */
sg_origin *sg_app__origin(sg_app *a, const char *url, const char *label, char *err, size_t errcap);
void sg_app__origins_close(sg_app *a, void (*done)(void *), void *ud);

#endif
