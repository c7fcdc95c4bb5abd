/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gateway's status document (GET /status on the admin listener) and the
 * answer about one job (GET /status/job/ID): plain snapshot structs, filled
 * by the runtime (sg_status_app.c, the only part that reads live state), and
 * pure renderers that turn a snapshot into JSON. The renderers touch no
 * clock and no loop, so tests build a snapshot by hand and check the text.
 *
 * Times in a snapshot are wall-clock Unix milliseconds (the runtime converts
 * its monotonic times once, when it fills the snapshot); 0 means "none".
 *
 * Adding a field: put it in the struct (a lane's fields live in
 * sg_status_lane; a new limit kind is one more sg_status_window), fill it in
 * sg_status_app.c and write it in sg_status_render.c. Readers must ignore
 * members they do not know, so fields are only ever added.
 */
#ifndef SG_STATUS_H
#define SG_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sg_mem.h"

/* Lanes listed at most unless the request asks for fewer (?lanes=N); the
 * busiest (queued + in flight) first, the rest only counted. */
#define SG_STATUS_LANES_DEFAULT 50
#define SG_STATUS_LANES_MAX 1000
/* Windows a lane can have: requests, a second request window, messages,
 * recipients, request KiB. */
#define SG_STATUS_WINDOWS_MAX 8

/* One sliding window of a lane. */
typedef struct sg_status_window {
  const char *name;   /* "requests", "requests_2", "messages", "recipients", "kib" (static) */
  uint64_t used;      /* units counted in the window now */
  uint64_t limit;     /* 0 = none (such windows are not listed) */
  uint64_t window_ms; /* its length */
  int64_t frees_at;   /* when one more unit fits (wall ms); 0: fits now */
} sg_status_window;

/* One lane: (account, mailbox) for Graph, the resource for ACS. */
typedef struct sg_status_lane {
  char key[400];            /* the scheduler's key, e.g. "graph|default|a@contoso.com" */
  char backend[16];         /* "graph", "acs", "acs-poll" (the key's first part) */
  char account[128];        /* "" = the default account */
  char mailbox[256];        /* Graph: the sender; ACS: "" */
  const char *state;        /* "ready", "at_cap", "paused", "out_of_budget", "idle" (static) */
  uint32_t inflight;        /* requests on the wire */
  uint32_t cap;             /* in-flight cap; 0 = none */
  uint64_t queued;          /* jobs waiting on the lane */
  int64_t paused_until;     /* wall ms; 0: not paused */
  const char *pause_reason; /* static; NULL when not paused */
  int64_t wake_at;          /* out of budget: when the lane can admit again (wall ms) */
  uint64_t admitted;        /* requests admitted since the lane was made */
  uint64_t pauses;          /* pauses since the lane was made */
  sg_status_window windows[SG_STATUS_WINDOWS_MAX];
  size_t nwindows;
} sg_status_lane;

/* Job states in the order the document lists them. */
enum {
  SG_STATUS_JOB_CHECKING,   /* new, or waiting for the sent-ledger lookup */
  SG_STATUS_JOB_QUEUED,     /* waiting on its lane */
  SG_STATUS_JOB_TOKEN_WAIT, /* admitted, waiting for an access token */
  SG_STATUS_JOB_IN_FLIGHT,  /* request on the wire, or a record step on Redis */
  SG_STATUS_JOB_RETRY_WAIT, /* backing off before its next attempt */
  SG_STATUS_JOB_COMPLETING, /* result + ack sent to Redis */
  SG_STATUS_JOB_NSTATES
};

/* The JSON name of a job state ("checking", "queued", ...). */
const char *sg_status_job_state_name(int state);

typedef struct sg_status_jobs {
  uint64_t count[SG_STATUS_JOB_NSTATES];
  int64_t oldest[SG_STATUS_JOB_NSTATES]; /* the oldest job's stream entry time (wall ms) */
  uint64_t total;
} sg_status_jobs;

/* One account's access token. */
typedef struct sg_status_token {
  char account[128];
  const char *backend;  /* the account's provider: "graph", "acs", ... (static) */
  const char *state;    /* "none", "fetching", "valid", "not_needed" (static) */
  int64_t valid_until;  /* wall ms; 0 when no token */
  bool failing;         /* the last fetch failed */
  char last_error[160]; /* "CODE: message" of the last failed fetch, or "" */
} sg_status_token;

/* One HTTP/2 pool. */
typedef struct sg_status_pool {
  char origin[300];  /* "host:port" */
  const char *label; /* "graph", "acs", "entra", "smtp" (static) */
  unsigned conns_open, conns_connecting;
  uint64_t streams, queued;
} sg_status_pool;

typedef struct sg_status_redis {
  bool connected;
  uint64_t reconnects;
  bool group_known;   /* the last XINFO GROUPS answered and named the group */
  int64_t lag;        /* entries not yet read by the group; -1 unknown */
  int64_t pending;    /* read and not acknowledged */
  uint64_t delayed;   /* size of the delayed set */
  int64_t sampled_at; /* when lag and pending were read (wall ms); 0: never */
} sg_status_redis;

typedef struct sg_status_totals {
  uint64_t fetched, sent, failed, invalid, expired, retries, dead_letters;
} sg_status_totals;

/* The whole document. Arrays are owned by the snapshot (sg_status_snap_free). */
typedef struct sg_status_snap {
  const char *version;
  int64_t pid;
  int64_t now;                           /* wall ms at the snapshot */
  int64_t started_at;                    /* wall ms */
  const char *consumer, *group, *stream; /* borrowed */
  bool stopping;
  sg_status_redis redis;
  sg_status_lane *lanes; /* the listed lanes, busiest first */
  size_t nlanes;
  uint64_t lanes_total; /* lanes held (listed or not) */
  uint64_t lanes_waiting;
  sg_status_jobs jobs;
  sg_status_token *tokens;
  size_t ntokens;
  sg_status_pool *pools;
  size_t npools;
  sg_status_totals totals;
} sg_status_snap;

void sg_status_snap_free(sg_status_snap *s);

/* What the gateway knows of one job held in memory. */
typedef struct sg_status_job {
  char id[129];
  char entry_id[48];
  char account[128];
  char sender[256];
  char lane[400];       /* "" before the job has a lane */
  const char *state;    /* sg_status_job_state_name (static) */
  char why[300];        /* one line: why it waits, or what it is doing */
  uint32_t attempts;    /* send requests made */
  uint32_t failures;    /* failed attempts (throttles excluded) */
  int64_t next_try_at;  /* wall ms of its next attempt when known; 0 otherwise */
  int64_t deadline;     /* wall ms */
  int64_t entry_at;     /* its stream entry's time (wall ms) */
  char last_error[160]; /* the last failed attempt: "CODE (HTTP n)", or "" */
} sg_status_job;

/*
 * Appends the status document of |s| to |out| (one JSON object, compact,
 * ending in a newline). Pure.
 */
void sg_status_render(sg_buf *out, const sg_status_snap *s);

/*
 * Appends {"found":true,"gateway":CONSUMER,"job":{...}} for |j|, or
 * {"found":false,"gateway":CONSUMER,"id":ID} when |j| is NULL. Pure.
 */
void sg_status_render_job(sg_buf *out, const char *consumer, const char *id, const sg_status_job *j,
                          int64_t now);

/*
 * Bounded selection, for the lanes listed: |top| holds the |n| best items
 * seen so far (at most |max| > 0), best first by |cmp| (< 0: the first
 * argument is better). Adds |item| if it beats the last one kept, dropping
 * that one when |top| is full; an item that does not costs one comparison.
 * Returns the new count. Pure.
 */
size_t sg_status_top_add(const void **top, size_t n, size_t max, const void *item,
                         int (*cmp)(const void *a, const void *b));

#endif
