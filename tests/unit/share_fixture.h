/* SPDX-License-Identifier: Apache-2.0 */
/*
 * For unit tests of shared budgets (sched/sg_share): a scheduler with shares
 * and one lane, items to queue on it, the turn's request, their teardown, and
 * a Redis answer (grant) to apply.
 */
#ifndef SG_SHARE_FIXTURE_H
#define SG_SHARE_FIXTURE_H

#include "harness.h"

#include "sched/sg_share.h"

#define SG_SHARE_FX_ITEMS 20

typedef struct fx {
  sg_sched s;
  sg_shares t;
  sg_share_req r;
  sg_lane *l;
  sg_sched_item items[SG_SHARE_FX_ITEMS];
} fx;

/* A scheduler with shares of |c| and the lane |key| of |lc|, nothing queued. */
static inline void sg_share_fx_init(fx *x, const sg_share_cfg *c, const char *key,
                                    const sg_lane_cfg *lc) {
  memset(x, 0, sizeof *x);
  sg_sched_init(&x->s);
  sg_shares_init(&x->t, &x->s, c);
  x->l = sg_sched_lane(&x->s, key, lc);
}

/* Queues all the items on the lane, one recipient each. */
static inline void sg_share_fx_push_all(fx *x) {
  for (int i = 0; i < SG_SHARE_FX_ITEMS; i++) {
    x->items[i].rcpts = 1;
    sg_sched_push(&x->s, x->l, &x->items[i], false);
  }
}

static inline void sg_share_fx_free(fx *x) {
  sg_shares_free(&x->t, 0);
  sg_share_req_free(&x->r);
  sg_sched_free(&x->s);
}

/* An answer for the lane: |slots| slots, credit for |nitems| items and |msg|
 * messages, |others| other gateways on the lane. */
static inline sg_share_grant sg_share_fx_grant(uint32_t slots, uint32_t nitems, uint64_t msg,
                                               uint32_t others) {
  sg_share_grant g;
  memset(&g, 0, sizeof g);
  g.slots = slots;
  g.items = nitems;
  g.credit[2] = msg;
  g.others = others;
  return g;
}

#endif
