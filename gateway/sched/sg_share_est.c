/* SPDX-License-Identifier: Apache-2.0 */
/* This gateway's part of a lane's shared budget, for head-of-line parking; see sg_share_est.h. */
#include "sched/sg_share_est.h"

#include <string.h>

const sg_shares *sg_share_est_of(const sg_sched *s) {
  return s->gate.admit == sg_share_admit ? s->gate.ud : NULL;
}

void sg_share_est(const sg_shares *t, const sg_lane *l, sg_hol_share *out) {
  memset(out, 0, sizeof *out);
  if (t->fallback) {
    out->n = out->room_n = sg_share_divisor(t);
    return;
  }
  const sg_share *sh = l->share;
  out->n = out->room_n = 1;
  if (sh == NULL)
    return;
  out->slots = sh->slots;
  /* A share not answered yet is not alone either, but has no others counted. */
  if (!sh->alone && sh->others > 0)
    out->n = sh->others + 1;
}

const sg_hol_share *sg_share_est_lane(const sg_sched *s, const sg_lane *l, sg_hol_share *buf) {
  const sg_shares *t = sg_share_est_of(s);
  if (t == NULL)
    return NULL;
  sg_share_est(t, l, buf);
  return buf;
}
