/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A backend behind the job runtime, as a table of functions (the way curl's
 * connection filters or redis's ConnectionType do it): how an account of its
 * kind is set up, which lane a job waits on, how a job is checked and its
 * request built, and what an answer means. The runtime (app/) owns the loop,
 * the lanes, the tokens, the HTTP/2 pools and the one state machine
 * (app/sg_attempt.h) that turns outcomes into results, retries and
 * follow-ups; a provider owns none of that and does no I/O.
 *
 * Adding a backend: one file in svc/ defining its sg_provider, and one entry
 * in the table of sg_provider_for() (svc/sg_provider.c).
 */
#ifndef SG_PROVIDER_H
#define SG_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/sg_config.h"
#include "core/sg_http.h"
#include "core/sg_mem.h"
#include "job/sg_job.h"
#include "job/sg_job_codec.h"
#include "sched/sg_sched.h"
#include "svc/sg_classify.h"
#include "svc/sg_entra.h"

/* Operation ids (ACS: a UUID derived from the job id), NUL included. */
#define SG_PROV_OP_ID_MAX 40
#define SG_PROV_MAX_HEADERS 8
#define SG_PROV_LANE_KEY_MAX 400

/* What the runtime needs to know of an account once the provider set it up. */
typedef struct sg_prov_info {
  char origin_url[600]; /* "https://host[:port]" its requests go to */
  bool needs_token;     /* an Entra token for the account's login_url, tenant, client, scope */
  bool follows;         /* an accepted job is followed up (ACS polls) before its result */
  uint32_t follow_max;  /* follow-ups at most; then SENT with SENDGATE_POLL_UNFINISHED */
  uint64_t follow_default_ms; /* wait before a follow-up when the answer named none */
} sg_prov_info;

/* One job as a provider sees it; embedded in the runtime's job, filled by the provider. */
typedef struct sg_prov_job {
  const sg_job *job;
  sg_buf body;      /* the request body (kept across attempts when |keep_body|) */
  sg_buf path;      /* the path of send requests (set by prepare) */
  size_t body_size; /* size of the last body written: the next one is allocated at once */
  char op_id[SG_PROV_OP_ID_MAX]; /* the operation id, "" when the backend has none */
  bool keep_body;                /* prepare wrote the body once for every attempt */
  bool following;                /* accepted: requests now follow the operation up */
  /* Multi-step sends (Graph drafts): the provider's state of the sequence
   * (NULL for one-request jobs), released by job_free. */
  void *seq;
  /* Bytes the next request carries, for the lane's byte budget (set by
   * prepare and advance; 0 when unknown). */
  uint64_t next_bytes;
  /* The current step cannot deliver the message twice when resent (e.g. a
   * step before the send, or the send of a draft): a lost answer is not
   * ambiguous for it, whatever the provider's |idempotent|. Set by advance. */
  bool step_idempotent;
} sg_prov_job;

/* What build() gets besides the job. */
typedef struct sg_prov_ctx {
  const char *token; /* the account's Entra token, NULL when it needs none */
  size_t token_len;
  const char *authority; /* "host[:port]" of the origin the request goes to */
  int64_t now_unix_ms;
  uint64_t rnd[2]; /* randomness for request ids */
} sg_prov_ctx;

/* A step that is not an HTTP request: the job's record in Redis (the
 * runtime keeps it through the queue module, keyed by the job's ledger id). */
typedef enum {
  SG_PROV_STORE_NONE, /* an HTTP request */
  SG_PROV_STORE_GET,  /* read the record; the answer's body is its value ("" when none) */
  SG_PROV_STORE_SET,  /* write |store_value| for |store_ttl_s| */
} sg_prov_store;

/* One request, ready for the HTTP/2 pool (which copies it, except the body). */
typedef struct sg_prov_req {
  const char *method;
  const char *path;
  const char *authority;
  sg_http_header h[SG_PROV_MAX_HEADERS];
  size_t nh;
  const void *body;
  size_t body_len;
  bool follow_up; /* not a send attempt (ACS poll) */
  /* Another origin than the account's ("https://host[:port]"; Graph's upload
   * URLs), or NULL. Its pool is made on first use. */
  const char *origin;
  /* The body is BORROWED from the job (e.g. a range of an attachment's
   * bytes): it stays valid as long as the job, no copy is made. */
  sg_prov_store store;
  const char *store_value;
  size_t store_len;
  int64_t store_ttl_s;
  /* storage the headers point into */
  char bearer[SG_ENTRA_MAX_TOKEN_BYTES + 8];
  char request_id[40];
  void *priv; /* the provider's own storage, released by req_free */
} sg_prov_req;

/* How a provider's attempts travel. */
typedef enum {
  SG_PROV_TRANSPORT_HTTP = 0, /* requests (build) on the origin's HTTP/2 pool */
  /* messages on the runtime's SMTP sessions (app/sg_app_smtp.c and
   * svc/sg_prov_smtp.h); build and classify are not used */
  SG_PROV_TRANSPORT_SMTP,
} sg_prov_transport;

typedef struct sg_provider {
  const char *name; /* "graph", "acs", "smtp": metrics labels and logs */
  sg_backend backend;
  sg_prov_transport transport;
  /* A resend after a lost answer cannot deliver twice (ACS: the same
   * Operation-Id on every attempt); otherwise gateway.ambiguous decides. */
  bool idempotent;
  /* Reads |acct| (and the gateway's settings in |cfg|, both borrowed for the
   * runtime's life) into its own state |*st| and fills |info|. Returns 0, or
   * SG_ERR_CONFIG with a one-line reason in |err|. */
  int (*acct_init)(void **st, sg_prov_info *info, const sg_account *acct, const sg_config *cfg,
                   char *err, size_t errcap);
  void (*acct_free)(void *st);
  /* The lane |job| waits on (|follow|: for follow-ups): its key into |key|
   * (SG_PROV_LANE_KEY_MAX bytes), its limits into |lc|, and the recipients
   * its message counts against them into |rcpts|. */
  void (*lane)(const void *st, const sg_job *job, bool follow, char *key, sg_lane_cfg *lc,
               uint32_t *rcpts);
  /* Checks the job for this backend and prepares what every attempt shares
   * (path, operation id, a body that is kept). Returns 0, or SG_ERR_INVAL with
   * |err| filled (the job is INVALID). */
  int (*prepare)(const void *st, sg_prov_job *pj, sg_job_error *err);
  /* Builds one request into |out| (the body into pj->body when it is empty).
   * Returns 0, or SG_ERR_INVAL with |err| filled (INVALID: e.g. too large);
   * req_free is called either way. */
  int (*build)(const void *st, sg_prov_job *pj, const sg_prov_ctx *ctx, sg_prov_req *out,
               sg_job_error *err);
  void (*req_free)(sg_prov_req *r);
  /* Classifies an answer (all borrowed) into |out|; transport failures are
   * classified by the runtime (sg_classify_transport). */
  void (*classify)(const void *st, const sg_prov_job *pj, int status, const sg_http_header *h,
                   size_t nh, const char *body, size_t len, int64_t now_unix_ms, sg_outcome *out);
  /*
   * Optional, for providers that send in several steps: called after every
   * answer once it is classified (transport failures and record steps
   * included: |err| the transport error or 0, |status| the HTTP status or 0,
   * |body| the answer's body or the record's value), it moves the job's
   * sequence (pj->seq) on and may rewrite |out|: SG_OUTCOME_STEP when a step
   * is done and another follows, FAILED or RETRY when the step says so. It
   * sets pj->next_bytes and pj->step_idempotent for what comes next.
   */
  void (*advance)(const void *st, sg_prov_job *pj, int err, int status, const char *body,
                  size_t len, sg_outcome *out);
  /* Optional: releases pj->seq (the job is done or dropped). */
  void (*job_free)(sg_prov_job *pj);
} sg_provider;

/* The provider of |b| (SG_BACKEND_GRAPH, SG_BACKEND_ACS, SG_BACKEND_SMTP), or NULL. */
const sg_provider *sg_provider_for(sg_backend b);

extern const sg_provider sg_provider_graph;
extern const sg_provider sg_provider_acs;
extern const sg_provider sg_provider_smtp;

/* A size guess for a request body of |job| (one allocation instead of doublings). */
size_t sg_prov_body_guess(const sg_job *job);

/* A lane key per (account, mailbox): "<prefix><account>|<sender, lower case>"
 * into |key| (SG_PROV_LANE_KEY_MAX bytes, cut when longer). */
void sg_prov_mailbox_key(char *key, const char *prefix, const char *account, const char *sender);

/* "Bearer <token>" into r->bearer (a token longer than the buffer is cut). */
const char *sg_prov_bearer(sg_prov_req *r, const char *token, size_t len);

#endif
