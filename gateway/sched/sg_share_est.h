/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What this gateway holds of a lane's shared budget, as head-of-line parking
 * estimates with it (sched/sg_hol.h): the gateways the lane's rates are
 * divided among, what the windows' room now is divided by, and the in-flight
 * slots leased. Read-only over the shares of sched/sg_share.h; it changes
 * nothing there and asks Redis nothing.
 *
 *  - Redis answering, the lane's last answer saw other gateways on it: rates
 *    divided by the gateways on the lane (the others Redis counted, plus
 *    this one; at least 2 after news of a newcomer). Windows' room now is
 *    not divided: credit goes to whichever gateway asks first.
 *  - Alone on the lane, no answer for it yet, or a single gateway on the
 *    Redis: the lane's own limits (n = 1), as without shared budgets.
 *  - Redis not answering: what the fallback's gate divides every limit by
 *    (sg_share_divisor: gateway.replicas_max, else the gateways last seen),
 *    for the rates and the windows' room alike, and no slot held.
 *
 * Pure: no time is needed (nothing it reads expires by itself).
 */
#ifndef SG_SHARE_EST_H
#define SG_SHARE_EST_H

#include "sched/sg_hol.h"
#include "sched/sg_share.h"

/* The shares installed as |s|'s admission gate (sg_shares_init), or NULL when
 * shared budgets are off. */
const sg_shares *sg_share_est_of(const sg_sched *s);

/* Fills |out| with this gateway's part of |l|'s budget under |t| (borrowed) now. */
void sg_share_est(const sg_shares *t, const sg_lane *l, sg_hol_share *out);

/*
 * For |l| on |s|: |buf| filled by sg_share_est and returned, or NULL when
 * shared budgets are off (the estimate then uses the lane's own limits).
 */
const sg_hol_share *sg_share_est_lane(const sg_sched *s, const sg_lane *l, sg_hol_share *buf);

#endif
