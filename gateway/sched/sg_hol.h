/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Head-of-line parking: how much a lane can admit soon, and when a job that
 * does not fit should come back. A job that would wait on its lane longer
 * than a short horizon (a campaign of 100,000 jobs for one mailbox at 4
 * requests in flight, a spent window, a pause) holds memory and a place in
 * gateway.max_in_flight that a job of another sender could use; the runtime
 * (app/sg_app_hol.c) moves it to the delayed set instead, with a due time
 * spread over when the lane can take it: consecutive parked jobs of a lane
 * are due one admission interval apart (a little less: SG_HOL_OVERSUPPLY),
 * after those parked before them, so they come back at about the rate the
 * lane drains and not all at once.
 *
 * The estimate: the lane admits at the lowest of its in-flight cap divided by
 * the observed request latency, and each request or message window's limit
 * over its length; within the horizon it can take its free slots and what is
 * left in its windows now, plus that rate times the horizon (less a pause).
 * Recipient and byte windows are left out (they vary per job; a job that
 * does not fit them waits on its lane, and long waits park as before).
 *
 * With shared budgets (sched/sg_share.h) a lane's limits are every gateway's
 * together, so what this gateway can admit is its part of them: the caller
 * passes an sg_hol_share (sched/sg_share_est.h fills it). The rates (the
 * in-flight cap over the latency, the windows' refill) are divided by the
 * gateways on the lane, and so is the number of requests it may start now,
 * unless it holds more slots than that. A window's room now is divided only
 * where the admission gate divides it (without Redis); with Redis answering,
 * window credit goes to whichever gateway asks first, so this gateway may get
 * all of what its own window shows free. With n = 1 (a gateway alone, or no
 * sg_hol_share) the estimate is the lane's own, as without shares.
 *
 * Pure: the caller passes the time; sg_hol_plan advances lane->park_next.
 */
#ifndef SG_HOL_H
#define SG_HOL_H

#include <stdint.h>

#include "sched/sg_sched.h"

/* Latency assumed for a lane that has not answered yet: optimistic, so a
 * new lane's parked jobs come back early rather than late (a job that comes
 * back to a full lane is parked again; a lane that runs dry wastes budget). */
#define SG_HOL_DEFAULT_LATENCY_MS 20
/* Parked jobs come back this much faster than the estimated rate, for the
 * same reason: the estimate is an average and a lane must not run dry. */
#define SG_HOL_OVERSUPPLY 1.25

/* This gateway's part of a lane's shared budget at a given time. */
typedef struct sg_hol_share {
  uint32_t n;      /* gateways the lane's rates are divided among (0 counts as 1) */
  uint32_t room_n; /* what the windows' room now is divided by (0 counts as 1) */
  uint32_t slots;  /* in-flight slots this gateway holds (leased from Redis) */
} sg_hol_share;

/* Folds one observed request duration into |l|'s latency estimate (EWMA 1/8). */
void sg_hol_observe(sg_lane *l, uint64_t duration_ms);

/* Admissions per second |l| sustains for this gateway (0: no limit applies,
 * never parks). |sh| (borrowed, may be NULL: the lane's own limits) is this
 * gateway's part of a shared budget. */
double sg_hol_rate(const sg_lane *l, const sg_hol_share *sh);

/* Items |l| can admit within |horizon_ms| of |now_ms| (UINT64_MAX: no limit);
 * |sh| as for sg_hol_rate. */
uint64_t sg_hol_admits(sg_lane *l, const sg_hol_share *sh, uint64_t now_ms, uint64_t horizon_ms);

/*
 * For a job that would have |ahead| items admitted before it on |l|: 0 when
 * it should wait on the lane, else its due time in monotonic ms (after
 * |now_ms| + horizon_ms / 2, and after the lane's earlier parked jobs),
 * advancing the lane's cursor by one admission interval. |sh| as for sg_hol_rate.
 */
uint64_t sg_hol_plan(sg_lane *l, const sg_hol_share *sh, uint64_t ahead, uint64_t now_ms,
                     uint64_t horizon_ms);

#endif
