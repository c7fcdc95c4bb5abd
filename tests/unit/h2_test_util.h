/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the HTTP/2 pool tests: a result collector for the pool
 * callback and a bounded loop runner.
 */
#ifndef SG_H2_TEST_UTIL_H
#define SG_H2_TEST_UTIL_H

#include <stdbool.h>
#include <stdio.h>
#include <uv.h>

#include "harness.h"
#include "h2/sg_h2_pool.h"

typedef struct result {
  int done;
  int err;
  int status;
  bool sent;
  bool truncated;
  size_t body_len;
  unsigned attempts;
  char body[32];
  char detail[160];
} result;

static int g_done; /* results delivered, across all collectors */

static inline void on_result(void *ud, int err, const sg_h2_response *resp, bool sent) {
  result *r = ud;
  r->done++;
  g_done++;
  r->err = err;
  r->status = resp->status;
  r->sent = sent;
  r->truncated = resp->body_truncated;
  r->body_len = resp->body_len;
  r->attempts = resp->attempts;
  snprintf(r->body, sizeof r->body, "%.*s", (int)(resp->body_len < 31 ? resp->body_len : 31),
           (const char *)resp->body);
  snprintf(r->detail, sizeof r->detail, "%s", resp->detail);
}

static inline void on_tick(uv_timer_t *t) {
  (void)t;
}

/* Runs |loop| until *counter >= target, failing after |ms|. */
static inline void run_until(uv_loop_t *loop, const int *counter, int target, uint64_t ms) {
  uv_timer_t tick;
  uv_timer_init(loop, &tick);
  uv_timer_start(&tick, on_tick, 5, 5); /* UV_RUN_ONCE never blocks for long */
  uint64_t end = uv_hrtime() / 1000000 + ms;
  while (*counter < target) {
    if (uv_hrtime() / 1000000 > end)
      SG_FAIL_("timed out: %d of %d", *counter, target);
    uv_run(loop, UV_RUN_ONCE);
  }
  uv_close((uv_handle_t *)&tick, NULL);
  uv_run(loop, UV_RUN_NOWAIT);
}

static inline void on_pool_closed(void *ud) {
  (*(int *)ud)++;
}

#endif
