/* SPDX-License-Identifier: Apache-2.0 */
/* Exponential backoff with full or equal jitter; see sg_backoff.h. */
#include "core/sg_backoff.h"

#include <stddef.h>

#include "core/sg_rand.h"

void sg_backoff_init(sg_backoff *b, uint64_t base_ms, uint64_t cap_ms, uint64_t seed) {
  b->base_ms = base_ms;
  b->cap_ms = cap_ms < base_ms ? base_ms : cap_ms;
  b->attempt = 0;
  b->jitter = SG_BACKOFF_FULL;
  b->_state = seed;
  b->rand = NULL;
  b->rand_ud = NULL;
}

void sg_backoff_set_jitter(sg_backoff *b, sg_backoff_jitter jitter) {
  b->jitter = jitter;
}

void sg_backoff_set_rand(sg_backoff *b, sg_backoff_rand_fn fn, void *ud) {
  b->rand = fn;
  b->rand_ud = fn ? ud : NULL;
}

uint64_t sg_backoff_ceiling(uint64_t base_ms, uint64_t cap_ms, unsigned attempt) {
  uint64_t c = base_ms;
  for (unsigned i = 0; i < attempt && c < cap_ms; i++)
    c = c > UINT64_MAX / 2 ? UINT64_MAX : c * 2;
  return c < cap_ms ? c : cap_ms;
}

uint64_t sg_backoff_delay(uint64_t base_ms, uint64_t cap_ms, unsigned attempt, uint64_t r) {
  uint64_t c = sg_backoff_ceiling(base_ms, cap_ms, attempt);
  return c == UINT64_MAX ? r : r % (c + 1);
}

uint64_t sg_backoff_delay_equal(uint64_t base_ms, uint64_t cap_ms, unsigned attempt, uint64_t r) {
  uint64_t c = sg_backoff_ceiling(base_ms, cap_ms, attempt);
  uint64_t half = c / 2, span = c - half; /* span < UINT64_MAX: c - c/2 <= 2^63 */
  return half + r % (span + 1);
}

uint64_t sg_backoff_next(sg_backoff *b) {
  /* The built-in state is used through |b| itself, so copies of |b| work. */
  uint64_t r = b->rand ? b->rand(b->rand_ud) : sg_rand_next(&b->_state);
  uint64_t d = b->jitter == SG_BACKOFF_EQUAL
                   ? sg_backoff_delay_equal(b->base_ms, b->cap_ms, b->attempt, r)
                   : sg_backoff_delay(b->base_ms, b->cap_ms, b->attempt, r);
  if (b->attempt < 64)
    b->attempt++;
  return d;
}

void sg_backoff_reset(sg_backoff *b) {
  b->attempt = 0;
}
