/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one state machine of a job's attempts, for every backend: what follows
 * an outcome (a provider's answer, a transport failure or a failed token
 * fetch). Pure: no loop, no I/O; the runtime (sg_app_attempt.c) carries out
 * the decision. The provider's part is only its flags in the policy
 * (idempotent, follows) and the STEP outcome of multi-step providers:
 * adding a backend does not touch this file.
 *
 *  SENT             publish SENT.
 *  FAILED           publish FAILED (the provider's code and message).
 *  ACCEPTED         follow the operation up (FOLLOW) when the provider does,
 *                   else publish SENT.
 *  PENDING          follow up again after retry_after_ms; after follow_max
 *                   follow-ups publish SENT with SENDGATE_POLL_UNFINISHED
 *                   (the message was taken; its final status is unknown).
 *  STEP             a step of a multi-step send (Graph drafts) is done: the
 *                   next goes at once, at the front of the lane; failures
 *                   start again from 0 (each step is retried on its own,
 *                   within max_attempts and the deadline).
 *  AUTH_REFRESH     invalidate the token and try once more; a second in a row
 *                   is FAILED.
 *  RETRY            an answer lost after sending is ambiguous: for a provider
 *                   that is not idempotent, gateway.ambiguous = fail publishes
 *                   FAILED (SENDGATE_AMBIGUOUS), resend marks the job so its
 *                   SENT says so. Throttled with a Retry-After: the lane
 *                   pauses and the job keeps its place (not a failed
 *                   attempt). Otherwise a failed attempt: again after
 *                   Retry-After or full-jitter backoff, until max_attempts
 *                   failed attempts or the deadline: EXPIRED.
 * While stopping, every outcome that is not final leaves the entry pending
 * (no result) for the next run; a token failure always does.
 */
#ifndef SG_ATTEMPT_H
#define SG_ATTEMPT_H

#include <stdbool.h>
#include <stdint.h>

#include "job/sg_result.h"
#include "svc/sg_classify.h"

typedef enum {
  SG_NEXT_FINISH,  /* publish |status| */
  SG_NEXT_LEAVE,   /* no result: the entry stays pending (stopping) */
  SG_NEXT_REQUEUE, /* back on its lane after |delay_ms| (0: now, at the front) */
  SG_NEXT_PAUSE,   /* pause the lane for |delay_ms|; the job keeps its place */
  SG_NEXT_FOLLOW,  /* follow the operation up after |delay_ms| */
} sg_next_kind;

/* Why a job goes round again (metrics label "reason"). */
typedef enum {
  SG_WHY_NONE,
  SG_WHY_THROTTLED,
  SG_WHY_SERVER,
  SG_WHY_TRANSPORT,
  SG_WHY_TIMEOUT,
  SG_WHY_TOKEN,
} sg_retry_why;

typedef struct sg_next {
  sg_next_kind kind;
  sg_status status;    /* FINISH */
  uint64_t delay_ms;   /* REQUEUE, PAUSE, FOLLOW */
  const char *code;    /* FINISH: the gateway's code instead of the outcome's (static), or NULL */
  const char *message; /* its message */
  bool use_last;       /* EXPIRED: report the last failed attempt's outcome when there is one */
  bool invalidate_token;
  bool ambiguous; /* count an ambiguous outcome */
  sg_retry_why why;
} sg_next;

/* A job's attempt state; zero-initialised for a new job. */
typedef struct sg_attempt {
  uint32_t attempts;   /* send requests made (the runtime counts them) */
  uint32_t failures;   /* failed attempts (throttles excluded) */
  uint32_t follow_ups; /* follow-up requests made (the runtime counts them) */
  uint32_t steps;      /* steps of a multi-step send done */
  bool auth_retried;
  bool ambiguous_seen; /* an earlier answer was lost after sending */
  bool following;      /* accepted: being followed up */
} sg_attempt;

typedef struct sg_attempt_policy {
  uint32_t max_attempts; /* failed attempts before EXPIRED (at least 1) */
  int64_t deadline_ms;   /* wall clock */
  bool stopping;
  bool idempotent;     /* provider: a resend cannot deliver twice */
  bool fail_ambiguous; /* gateway.ambiguous = fail */
  bool follows;        /* provider: accepted jobs are followed up */
  uint32_t follow_max;
  uint64_t follow_default_ms;
  uint64_t retry_base_ms; /* full-jitter backoff */
  uint64_t retry_cap_ms;
  uint64_t token_retry_ms; /* wait after a failed token fetch that named none */
} sg_attempt_policy;

/*
 * Decides what follows outcome |o| of |at|'s job (|token|: a token fetch
 * failed with |o|, kind FAILED or RETRY) under |p| at wall clock
 * |now_unix_ms|; |rnd| is randomness for the backoff. Updates |at| and fills
 * |out|.
 */
void sg_attempt_next(sg_attempt *at, const sg_outcome *o, bool token, const sg_attempt_policy *p,
                     int64_t now_unix_ms, uint64_t rnd, sg_next *out);

/* The decision for a job whose deadline passed before an attempt. */
void sg_attempt_expire(sg_next *out);

const char *sg_next_kind_name(sg_next_kind k);

#endif
