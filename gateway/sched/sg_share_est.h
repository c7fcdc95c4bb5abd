/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What this gateway holds of a lane's shared budget, as head-of-line parking
 * estimates with it (sched/sg_hol.h): the gateways the lane's limits are
 * divided among, the in-flight slots leased and the window credit that may
 * be spent now. Read-only over the shares of sched/sg_share.h; it changes
 * nothing there and asks Redis nothing.
 *
 * The divisor: 1 on a lane where the last answer saw no other gateway; else
 * the gateways the last answer saw on this Redis (also for a lane this
 * gateway has not asked about yet);
 * and while Redis does not answer, what the fallback divides by
 * (sg_share_divisor: gateway.replicas_max, else the gateways last seen), with
 * nothing held (the fallback spends no lease). Redis answers with the count
 * of every gateway on it, not of those on the lane, so a lane used by fewer
 * of them is estimated low: its jobs come back from the delayed set a little
 * later than they could, never beyond the lane's budget.
 *
 * Pure: time is passed in.
 */
#ifndef SG_SHARE_EST_H
#define SG_SHARE_EST_H

#include <stdint.h>

#include "sched/sg_hol.h"
#include "sched/sg_share.h"

/* The shares installed as |s|'s admission gate (sg_shares_init), or NULL when
 * shared budgets are off. */
const sg_shares *sg_share_est_of(const sg_sched *s);

/* Fills |out| with this gateway's part of |l|'s budget under |t| (borrowed) at |now_ms|. */
void sg_share_est(const sg_shares *t, const sg_lane *l, uint64_t now_ms, sg_hol_share *out);

/*
 * For |l| on |s|: |buf| filled by sg_share_est and returned, or NULL when
 * shared budgets are off (the estimate then uses the lane's own limits).
 */
const sg_hol_share *sg_share_est_lane(const sg_sched *s, const sg_lane *l, uint64_t now_ms,
                                      sg_hol_share *buf);

#endif
