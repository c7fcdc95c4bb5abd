/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared budgets, the pure part: what this gateway holds of the budgets that
 * every gateway on the same Redis shares per lane (in-flight slots, the rate
 * windows, Retry-After pauses), the admission gate that spends it, and the
 * one request per loop turn that asks Redis for more, gives back what is
 * unused and renews the leases (redis/sg_rd_budget.h carries it out).
 *
 * Per lane a share holds:
 *  - slots: in-flight leases granted by Redis; the lane admits only while its
 *    requests in flight are fewer. A gateway alone on a lane takes every slot
 *    (so nobody else can send there until it learns it has company and gives
 *    the unused ones back) and reuses them; with company (or holding fewer
 *    than the cap) it asks for what its queue needs, a slot is good for one
 *    request start in the turn its answer came, and goes back when unused.
 *  - credit: units of the lane's windows (requests, second request window,
 *    messages, recipients, KiB) granted for the first queued jobs (alone: a
 *    whole batch, counting jobs not fetched yet as the last queued one),
 *    spent as they are admitted, valid share_ms. On a lane without a slot cap
 *    that has company, credit is spent only in the turn its answer came (a
 *    pause another gateway set is then seen by the call that grants), and
 *    Redis grants none there while a gateway alone on it holds credit.
 *  - a pause to publish (a Retry-After this gateway received).
 * Denied asks are repeated after poll_ms. While a call is out a lane keeps
 * admitting on what it holds (not on the slots and credit it gives back).
 *
 * A build visits only the shares that are due (a heap by due time): a lane
 * that wants, gives back, publishes a pause or is reset is due at once;
 * credit at its expiry; an idle lane at idle + share_ms (alone it gives back
 * what it holds then; with nothing held it says goodbye then, not at once); a
 * lane holding anything every 3 lease_ms (its keys in Redis live 10
 * lease_ms). Leases hang on this gateway's entry in Redis's gateway registry,
 * renewed by every call (a call with no op at least every
 * SG_SHARE_HEARTBEAT_MS while any share exists): a gateway whose entry
 * expired loses every lease, and one that arrives on a lane is told to the
 * others at their next call (news), so they give back what they do not use.
 *
 * Without Redis (a call failed) the gate falls back to the lane's limits
 * divided by the number of gateways (replicas_max, or those last seen), on
 * its own windows; the first call that succeeds again resets this gateway's
 * leases to what it has in flight.
 *
 * Pure: time is passed in; the lanes are the scheduler's (a share holds a
 * reference on its lane while it exists).
 */
#ifndef SG_SHARE_H
#define SG_SHARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sg_heap.h"
#include "core/sg_list.h"
#include "sched/sg_sched.h"

/* The windows of a lane, in this order: req, req2, msg, rcpt, bytes (KiB). */
#define SG_SHARE_NWIN 5
/* A batch's extra jobs (beyond those queued) take at most 1/this of any window. */
#define SG_SHARE_BATCH_SHARE 64
/* Jobs' worth of credit asked for at most per lane and call. */
#define SG_SHARE_MAX_ITEMS 64
/* With company, jobs' worth asked per lane and call when the lane has no slot cap. */
#define SG_SHARE_CONTENDED_ITEMS 8
/* Without Redis, how often a lane held back by the divided limits looks again. */
#define SG_SHARE_FALLBACK_RECHECK_MS 100
/* While any share exists, a call is made at least this often (lease_ms / 3 if
 * shorter): it renews the leases and brings news of newcomers. */
#define SG_SHARE_HEARTBEAT_MS 200

typedef struct sg_share_cfg {
  uint64_t lease_ms;     /* leases live this long in Redis unless renewed */
  uint64_t share_ms;     /* credit is valid this long */
  uint32_t batch;        /* jobs' worth of credit taken at once by a gateway alone */
  uint64_t poll_ms;      /* a denied ask is repeated after this */
  uint32_t replicas_max; /* without Redis: limits divided by this (0: gateways last seen) */
} sg_share_cfg;

typedef struct sg_share {
  sg_lane *lane;
  sg_list link; /* sg_shares.all */
  uint32_t slots;
  /* With company, each slot granted starts one request: a slot freed is given
   * back, not reused, so every request start has passed Redis (and its pause). */
  uint32_t fresh;
  uint32_t rel_out; /* slots given back by the call out: not to be used meanwhile */
  uint64_t credit[SG_SHARE_NWIN];
  uint64_t credit_sid[SG_SHARE_NWIN]; /* Redis's window slot where the credit was counted */
  uint64_t credit_until;              /* monotonic ms */
  uint64_t pause_ms;                  /* a Retry-After to publish */
  uint64_t next_ask;
  /* t->calls when the last answer was applied: |fresh| slots, and credit
   * when |turn_credit|, are good only until the next call is built (the
   * pump that follows an answer admits before it builds) */
  uint64_t grant_call;
  bool turn_credit;
  uint64_t kept_at; /* sent_at of the last op on the lane */
  uint64_t idle_at; /* when the lane last had nothing queued or in flight */
  uint64_t due;     /* when it has something to say (UINT64_MAX: nothing) */
  size_t heap_idx;  /* in sg_shares.heap */
  bool alone;       /* the last answer saw no other gateway on the lane */
  uint32_t others;  /* other gateways on the lane in the last answer (at least 1 after news) */
  bool company;     /* no cap, company: tell Redis to drop this gateway's alone credit */
  bool wants;       /* the gate was denied: ask at the next call */
  bool in_call;
  bool reset; /* after a fallback: set the leases to what is in flight */
} sg_share;

typedef struct sg_shares {
  sg_sched *sched;
  sg_share_cfg cfg;
  sg_list all;
  size_t n;
  sg_heap heap;       /* of shares, by due */
  uint64_t last_call; /* sent_at of the last call */
  bool known;         /* a call has succeeded: Redis knows this gateway */
  bool fallback;      /* Redis is not answering: divided local limits */
  bool call_out;      /* a call is in flight */
  bool applying;      /* applying an answer (pauses from Redis are not published again) */
  uint32_t gateways;  /* gateways seen by the last answer */
  /* Told of each pause another gateway set, after the lane took it (optional). */
  void (*remote_pause)(void *ud, sg_lane *l, uint64_t ms);
  void *remote_pause_ud;
  uint64_t calls, denials, failures;
} sg_shares;

/* One lane's part of a call. */
typedef struct sg_share_op {
  sg_share *sh;
  const char *key; /* the lane's, borrowed */
  uint32_t cap, want, rel, claim;
  bool reset, bye, company;
  uint64_t pause_ms;
  uint64_t limit[SG_SHARE_NWIN], win_ms[SG_SHARE_NWIN];
  uint64_t ret[SG_SHARE_NWIN], ret_sid[SG_SHARE_NWIN]; /* credit given back */
  uint32_t nitems; /* jobs asked for, in |nruns| runs of jobs that cost the same */
  uint32_t nruns;
  size_t items; /* index of its first run in sg_share_req.charges */
} sg_share_op;

/* Numbers per run of jobs in sg_share_req.charges: how many, then what each costs. */
#define SG_SHARE_RUN (1 + SG_SHARE_NWIN)

/* A call: the ops, and the jobs' charges (SG_SHARE_RUN per run). */
typedef struct sg_share_req {
  sg_share_op *ops;
  size_t nops, cap_ops;
  uint64_t *charges;
  size_t ncharges, cap_charges;
  uint64_t sent_at; /* monotonic ms */
} sg_share_req;

/* Redis's answer for one op. */
typedef struct sg_share_grant {
  uint32_t slots, items, others;
  uint64_t pause_ms; /* the lane's pause left, 0 = none */
  uint64_t credit[SG_SHARE_NWIN], sid[SG_SHARE_NWIN];
} sg_share_grant;

/* Sets |t| up for the lanes of |s| (borrowed) and installs the gate on |s|. */
void sg_shares_init(sg_shares *t, sg_sched *s, const sg_share_cfg *cfg);
/* Frees the shares (the lanes' references are dropped) and removes the gate. */
void sg_shares_free(sg_shares *t, uint64_t now);

/* What job |it| costs on |l|'s windows (as the scheduler charges them). */
void sg_share_charge(const sg_lane *l, const sg_sched_item *it, uint64_t out[SG_SHARE_NWIN]);

/* The gate (sg_sched_gate.admit): 0 and the share charged, or how long to wait. */
uint64_t sg_share_admit(void *t, sg_lane *l, const sg_sched_item *it, uint64_t now);

/* The gate's pause hook (sg_sched_gate.paused): a Retry-After this gateway
 * received is published with the next call. */
void sg_share_paused(void *t, sg_lane *l, uint64_t until);

/*
 * Fills |req| (reset first) with the call to make at |now|: every lane that
 * wants more, gives something back, must renew, publish a pause or say
 * goodbye. Returns false (nothing to ask) when no op is due or a call is out.
 */
bool sg_share_build(sg_shares *t, uint64_t now, sg_share_req *req);

/*
 * Fills |req| with a last call for a gateway that stops: every slot not in
 * use and all credit given back, and goodbye on lanes with nothing in flight.
 * False when there is nothing to say, Redis is not answering or a call is out.
 * The shares are not changed otherwise (sg_shares_free follows).
 */
bool sg_share_build_bye(sg_shares *t, sg_share_req *req);

/* When a call is due next (UINT64_MAX: none); the caller arms a timer. */
uint64_t sg_share_next_call(const sg_shares *t);

/*
 * Applies Redis's answer to |req|: |g| has one grant per op; |gateways| is the
 * number of gateways using the Redis now. Lanes that got something are woken.
 * A call may have no op (a heartbeat).
 */
void sg_share_apply(sg_shares *t, sg_share_req *req, const sg_share_grant *g, uint32_t gateways,
                    uint64_t now);

/* News from the last answer: another gateway arrived on the lanes |keys|
 * (borrowed): their shares have company now and give back what they do not use. */
void sg_share_news(sg_shares *t, const char *const *keys, size_t n, uint64_t now);

/* Redis forgot this gateway's leases (its registry entry had expired): every
 * lane sets its leases again to what it has in flight at the next call. */
void sg_share_lost(sg_shares *t, uint64_t now);

/* The gate's release hook (sg_sched_gate.released). */
void sg_share_released(void *t, sg_lane *l);

/* The call for |req| failed: fall back to divided limits until a call succeeds. */
void sg_share_failed(sg_shares *t, sg_share_req *req, uint64_t now);

void sg_share_req_free(sg_share_req *req);

/* What the limits are divided by without Redis: replicas_max, else the gateways last seen. */
uint32_t sg_share_divisor(const sg_shares *t);

#endif
