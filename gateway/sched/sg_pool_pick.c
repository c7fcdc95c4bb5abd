/* SPDX-License-Identifier: Apache-2.0 */
/* Sender pools: the choice of a member; see sg_pool_pick.h. */
#include "sched/sg_pool_pick.h"

#include <stdbool.h>

/* Rank of a candidate: 0 can go now and has room, 1 can go now but is full,
 * 2 must wait for its pause or windows. */
static int rank(const sg_pool_cand *c) {
  if (c->wait_ms)
    return 2;
  return c->room == 0 ? 1 : 0;
}

/* True when |a| is a better choice than |b| (strictly). */
static bool better(const sg_pool_cand *a, const sg_pool_cand *b) {
  int ra = rank(a), rb = rank(b);
  if (ra != rb)
    return ra < rb;
  if (ra == 2)
    return a->wait_ms < b->wait_ms;
  uint64_t wa = a->weight ? a->weight : 1, wb = b->weight ? b->weight : 1;
  /* (load + 1) / weight, compared without division */
  return (a->load + 1) * wb < (b->load + 1) * wa;
}

size_t sg_pool_pick(const sg_pool_cand *c, size_t n, size_t start) {
  size_t best = start % n;
  for (size_t k = 1; k < n; k++) {
    size_t i = (start + k) % n;
    if (better(&c[i], &c[best]))
      best = i;
  }
  return best;
}
