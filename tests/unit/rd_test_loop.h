/* SPDX-License-Identifier: Apache-2.0 */
/*
 * For unit tests of the Redis stream helpers (stream, queue, reaper, delayed
 * set, client): a loop with a repeating tick, so that UV_RUN_ONCE keeps
 * returning and waits stay bounded, and runners of that loop until a counter
 * is reached (failing after a bound) or for a while.
 */
#ifndef SG_RD_TEST_LOOP_H
#define SG_RD_TEST_LOOP_H

#include "harness.h"

#include <uv.h>

static inline void sg_rd_test_on_tick_(uv_timer_t *t) {
  (void)t;
}

/* Initialises |loop| and starts |tick| on it, every |every_ms|. */
static inline void sg_rd_test_loop_init(uv_loop_t *loop, uv_timer_t *tick, uint64_t every_ms) {
  ASSERT_OK(uv_loop_init(loop));
  ASSERT_OK(uv_timer_init(loop, tick));
  ASSERT_OK(uv_timer_start(tick, sg_rd_test_on_tick_, every_ms, every_ms));
}

/* Runs |loop| until *flag >= want, failing after |ms|. */
static inline void sg_rd_test_run_until(uv_loop_t *loop, const int *flag, int want, uint64_t ms) {
  uint64_t end = uv_now(loop) + ms;
  while (*flag < want && uv_now(loop) < end)
    uv_run(loop, UV_RUN_ONCE);
  if (*flag < want)
    SG_FAIL_("timed out waiting (%d < %d)", *flag, want);
}

/* Runs |loop| for |ms|. */
static inline void sg_rd_test_run_for(uv_loop_t *loop, uint64_t ms) {
  uint64_t end = uv_now(loop) + ms;
  while (uv_now(loop) < end)
    uv_run(loop, UV_RUN_ONCE);
}

#endif
