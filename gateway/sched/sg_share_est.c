/* SPDX-License-Identifier: Apache-2.0 */
/* This gateway's part of a lane's shared budget, for head-of-line parking; see sg_share_est.h. */
#include "sched/sg_share_est.h"

#include <string.h>

const sg_shares *sg_share_est_of(const sg_sched *s) {
  return s->gate.admit == sg_share_admit ? s->gate.ud : NULL;
}

void sg_share_est(const sg_shares *t, const sg_lane *l, uint64_t now, sg_hol_share *out) {
  memset(out, 0, sizeof *out);
  if (t->fallback) {
    out->n = sg_share_divisor(t);
    return;
  }
  const sg_share *sh = l->share;
  uint32_t seen = t->gateways ? t->gateways : 1;
  if (sh == NULL) {
    out->n = seen;
    return;
  }
  /* Not alone and a count of 1: no answer for this lane yet (it is alone on the Redis). */
  out->n = sh->alone ? 1 : seen;
  out->slots = sh->slots;
  if (now < sh->credit_until)
    for (int w = 0; w < 3; w++) /* req, req2, msg: sg_share's first three windows */
      out->credit[w] = sh->credit[w];
}

const sg_hol_share *sg_share_est_lane(const sg_sched *s, const sg_lane *l, uint64_t now,
                                      sg_hol_share *buf) {
  const sg_shares *t = sg_share_est_of(s);
  if (t == NULL)
    return NULL;
  sg_share_est(t, l, now, buf);
  return buf;
}
