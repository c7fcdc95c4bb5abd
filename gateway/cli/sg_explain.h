/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pure half of `sendgate explain`: what was found about one job in each
 * place it can be (the jobs stream, the group's pending list, the delayed
 * set, a gateway's memory, the sent ledger, a results stream, the dead
 * letters), and how that is said: a few lines for people, one JSON object
 * for programs, and the exit code. sg_cmd_explain.c does the looking (Redis
 * and the gateway's /status/job/ID); this file only decides and writes, so
 * tests feed it findings by hand.
 */
#ifndef SG_EXPLAIN_H
#define SG_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sg_mem.h"

typedef struct sg_explain {
  char job_id[129];  /* as asked, or read from the entry */
  char entry_id[48]; /* the job's stream entry, when known */
  char account[128]; /* from the job, when found */
  char sender[256];
  /* the jobs stream */
  bool in_stream;
  bool not_read;      /* after the group's last-delivered id */
  uint64_t ahead;     /* not_read: entries before it not read yet (bounded count) */
  bool pending;       /* in the group's pending list */
  char consumer[128]; /* pending: read by */
  int64_t idle_ms;    /* pending: since it was last delivered */
  int64_t deliveries; /* pending: delivery count */
  /* the delayed set */
  bool delayed;
  int64_t delayed_until; /* wall ms */
  uint32_t delayed_attempts;
  /* a gateway's memory (its /status/job/ID answer) */
  bool in_gateway;
  char gateway[128]; /* its consumer name */
  char gw_state[32];
  char gw_why[300];
  char gw_lane[400];
  int64_t gw_attempts;
  int64_t gw_next_try; /* wall ms, 0 none */
  char gw_error[300];  /* the gateway could not be asked: why ("" = asked, or not asked) */
  /* the sent ledger */
  bool ledger_sent;
  int64_t ledger_completed; /* wall ms */
  uint32_t ledger_attempts;
  int32_t ledger_http;
  /* a results stream */
  bool has_result;
  char result_stream[128];
  char result_status[16]; /* "SENT", ... */
  int32_t result_http;
  uint32_t result_attempts;
  char result_code[128];
  char result_message[200];
  int64_t result_completed; /* wall ms */
  /* the dead letters */
  bool dead;
  char dead_id[48];
  char dead_reason[64];
  /* scans that stopped at their bound before the end (the answer may be incomplete) */
  bool scan_cut;
  /* Redis could not be asked (a one-line reason) */
  char redis_error[300];
} sg_explain;

/* True when any place knows the job. */
bool sg_explain_found(const sg_explain *e);

/* The exit code: 0 found, 1 not found, 2 not found and something could not be asked. */
int sg_explain_exit(const sg_explain *e);

/*
 * Appends the human answer (one line per place that knows the job, the most
 * telling first; a single "not found" line otherwise) to |out|; relative
 * times against |now| (wall ms).
 */
void sg_explain_text(sg_buf *out, const sg_explain *e, int64_t now);

/* Appends one JSON object (with a trailing newline) to |out|. */
void sg_explain_json(sg_buf *out, const sg_explain *e);

/*
 * Whether |len| bytes of a serialized MailJob at |job| are the job |id|;
 * when they are, copies its account and sender into |e| (and its reply
 * stream into |reply| of |cap| bytes, "" for the default). A cheap byte
 * search rules most entries out before the job is decoded.
 */
bool sg_explain_job_is(const void *job, size_t len, const char *id, sg_explain *e, char *reply,
                       size_t cap);

#endif
