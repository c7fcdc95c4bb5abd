/* SPDX-License-Identifier: Apache-2.0 */
/* The attempt state machine (see sg_attempt.h). */
#include "app/sg_attempt.h"

#include <string.h>

#include "core/sg_err.h"
#include "core/sg_backoff.h"

#define CODE_DEADLINE "SENDGATE_DEADLINE"
#define CODE_AMBIGUOUS "SENDGATE_AMBIGUOUS"
#define CODE_POLL_UNFINISHED "SENDGATE_POLL_UNFINISHED"

static void finish(sg_next *out, sg_status st) {
  out->kind = SG_NEXT_FINISH;
  out->status = st;
}

void sg_attempt_expire(sg_next *out) {
  memset(out, 0, sizeof *out);
  finish(out, SG_STATUS_EXPIRED);
  out->use_last = true;
  out->code = CODE_DEADLINE;
  out->message = "the deadline passed before the message could be sent";
}

/* A failed attempt: again after |delay_ms|, unless attempts or time ran out. */
static void failed_attempt(sg_attempt *at, const sg_attempt_policy *p, int64_t now, uint64_t delay,
                           sg_next *out) {
  at->failures++;
  if (at->failures >= (p->max_attempts ? p->max_attempts : 1) || now >= p->deadline_ms) {
    sg_retry_why why = out->why;
    sg_attempt_expire(out);
    out->why = why;
    return;
  }
  out->kind = SG_NEXT_REQUEUE;
  out->delay_ms = delay;
}

/* Accepted, or not final yet: follow up after |delay| within the budget. */
static void follow(sg_attempt *at, const sg_attempt_policy *p, uint64_t delay, sg_next *out) {
  if (at->follow_ups >= p->follow_max) {
    /* Taken by the provider, final status unknown within the budget: not a
     * failure to resend. */
    finish(out, SG_STATUS_SENT);
    out->code = CODE_POLL_UNFINISHED;
    out->message = "the provider accepted the message; its final status was not known after "
                   "the configured number of polls";
    return;
  }
  out->kind = SG_NEXT_FOLLOW;
  out->delay_ms = delay;
}

static void token_failed(sg_attempt *at, const sg_outcome *o, const sg_attempt_policy *p,
                         int64_t now, sg_next *out) {
  if (p->stopping) {
    out->kind = SG_NEXT_LEAVE;
    return;
  }
  if (o->kind == SG_OUTCOME_FAILED) {
    finish(out, SG_STATUS_FAILED);
    return;
  }
  out->why = SG_WHY_TOKEN;
  uint64_t wait =
      o->has_retry_after && o->retry_after_ms > 0 ? (uint64_t)o->retry_after_ms : p->token_retry_ms;
  failed_attempt(at, p, now, wait, out);
}

void sg_attempt_next(sg_attempt *at, const sg_outcome *o, bool token, const sg_attempt_policy *p,
                     int64_t now, uint64_t rnd, sg_next *out) {
  memset(out, 0, sizeof *out);
  if (token) {
    token_failed(at, o, p, now, out);
    return;
  }
  if (o->kind == SG_OUTCOME_SENT) {
    finish(out, SG_STATUS_SENT);
    return;
  }
  if (o->kind == SG_OUTCOME_FAILED) {
    finish(out, SG_STATUS_FAILED);
    return;
  }
  if (p->stopping) { /* not final: stays pending; a resend is safe or marked */
    out->kind = SG_NEXT_LEAVE;
    return;
  }
  switch (o->kind) {
  case SG_OUTCOME_ACCEPTED:
    if (!p->follows) {
      finish(out, SG_STATUS_SENT);
      return;
    }
    at->following = true;
    at->auth_retried = false;
    follow(at, p,
           o->has_retry_after && o->retry_after_ms > 0 ? (uint64_t)o->retry_after_ms
                                                       : p->follow_default_ms,
           out);
    return;
  case SG_OUTCOME_PENDING:
    follow(at, p, o->retry_after_ms > 0 ? (uint64_t)o->retry_after_ms : p->follow_default_ms, out);
    return;
  case SG_OUTCOME_STEP:
    /* One step of a multi-step send is done: the next goes at once, at the
     * front of the lane, and has its own max_attempts. */
    at->steps++;
    at->failures = 0;
    at->auth_retried = false;
    out->kind = SG_NEXT_REQUEUE;
    out->delay_ms = 0;
    return;
  case SG_OUTCOME_AUTH_REFRESH:
    out->invalidate_token = true;
    if (at->auth_retried) {
      finish(out, SG_STATUS_FAILED);
      return;
    }
    at->auth_retried = true;
    out->kind = SG_NEXT_REQUEUE;
    return;
  default:
    break;
  }
  /* RETRY */
  if (o->ambiguous && !p->idempotent) {
    out->ambiguous = true;
    if (p->fail_ambiguous) {
      finish(out, SG_STATUS_FAILED);
      out->code = CODE_AMBIGUOUS;
      out->message = "the answer was lost after the request went out; not resent "
                     "(gateway.ambiguous = fail): the message may or may not have been delivered";
      return;
    }
    at->ambiguous_seen = true;
  }
  if (o->throttled && o->has_retry_after) {
    /* The provider said when: the whole lane waits, the job keeps its
     * place, and it is not a failed attempt. */
    out->kind = SG_NEXT_PAUSE;
    out->delay_ms = (uint64_t)o->retry_after_ms;
    out->why = SG_WHY_THROTTLED;
    return;
  }
  out->why = o->transport_err == SG_ERR_TIMEOUT ? SG_WHY_TIMEOUT
             : o->transport_err                 ? SG_WHY_TRANSPORT
                                                : SG_WHY_SERVER;
  uint64_t delay = o->has_retry_after
                       ? (uint64_t)o->retry_after_ms
                       : sg_backoff_delay(p->retry_base_ms, p->retry_cap_ms, at->failures, rnd);
  failed_attempt(at, p, now, delay, out);
}

const char *sg_next_kind_name(sg_next_kind k) {
  switch (k) {
  case SG_NEXT_FINISH:
    return "FINISH";
  case SG_NEXT_LEAVE:
    return "LEAVE";
  case SG_NEXT_REQUEUE:
    return "REQUEUE";
  case SG_NEXT_PAUSE:
    return "PAUSE";
  case SG_NEXT_FOLLOW:
    return "FOLLOW";
  }
  return "UNKNOWN";
}
