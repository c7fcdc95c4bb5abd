/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sched/sg_sched: caps, round robin, pauses, windows, wake times. */
#include "harness.h"

#include "core/sg_mem.h"
#include "sched/sg_sched.h"

#define N 64
static sg_sched_item items[N];

static void t_inflight_cap_and_rr(void) {
  sg_sched s;
  sg_sched_init(&s);
  sg_lane_cfg cfg = {.max_inflight = 2};
  sg_lane *a = sg_sched_lane(&s, "graph/acct/a@x.com", &cfg);
  sg_lane *b = sg_sched_lane(&s, "graph/acct/b@x.com", &cfg);
  ASSERT(a != b);
  ASSERT(a == sg_sched_lane(&s, "graph/acct/a@x.com", &cfg));
  memset(items, 0, sizeof items);
  for (int i = 0; i < 10; i++)
    sg_sched_push(&s, a, &items[i], false);
  sg_sched_push(&s, b, &items[10], false);
  sg_lane *l;
  /* Round robin: a, b, a; then a is at its cap and b is empty. */
  ASSERT(sg_sched_pop(&s, 0, &l) == &items[0] && l == a);
  ASSERT(sg_sched_pop(&s, 0, &l) == &items[10] && l == b);
  ASSERT(sg_sched_pop(&s, 0, &l) == &items[1] && l == a);
  ASSERT_NULL(sg_sched_pop(&s, 0, &l));
  ASSERT_EQ(SG_LANE_WAIT_SLOT, a->state);
  sg_sched_release(&s, a);
  ASSERT(sg_sched_pop(&s, 0, &l) == &items[2]);
  ASSERT_NULL(sg_sched_pop(&s, 0, &l));
  ASSERT_EQ(2, a->max_inflight_seen);
  ASSERT_EQ(7, s.queued);
  sg_sched_free(&s);
}

static void t_pause_front(void) {
  sg_sched s;
  sg_sched_init(&s);
  sg_lane_cfg cfg = {.max_inflight = 4};
  sg_lane *a = sg_sched_lane(&s, "a", &cfg);
  sg_lane *b = sg_sched_lane(&s, "b", &cfg);
  memset(items, 0, sizeof items);
  sg_sched_push(&s, a, &items[0], false);
  sg_sched_push(&s, a, &items[1], false);
  sg_sched_push(&s, b, &items[2], false);
  sg_lane *l;
  ASSERT(sg_sched_pop(&s, 100, &l) == &items[0]);
  /* The provider throttled a: the job goes back to the front, the lane pauses. */
  sg_sched_release(&s, a);
  sg_sched_push(&s, a, &items[0], true);
  sg_sched_pause(&s, a, 1100);
  ASSERT(sg_sched_pop(&s, 100, &l) == &items[2] && l == b); /* b is not held up */
  ASSERT_NULL(sg_sched_pop(&s, 500, &l));
  ASSERT_EQ(1100, sg_sched_next_wake(&s));
  sg_sched_tick(&s, 1099);
  ASSERT_NULL(sg_sched_pop(&s, 1099, &l));
  sg_sched_tick(&s, 1100);
  ASSERT(sg_sched_pop(&s, 1100, &l) == &items[0] && l == a);
  ASSERT(sg_sched_pop(&s, 1100, &l) == &items[1]);
  ASSERT_EQ(UINT64_MAX, sg_sched_next_wake(&s));
  sg_sched_free(&s);
}

static void t_windows(void) {
  sg_sched s;
  sg_sched_init(&s);
  sg_lane_cfg cfg = {
      .rcpt_limit = 10, .rcpt_window_ms = 1000, .msg_limit = 3, .msg_window_ms = 1000};
  sg_lane *a = sg_sched_lane(&s, "a", &cfg);
  memset(items, 0, sizeof items);
  for (int i = 0; i < 6; i++) {
    items[i].rcpts = 4;
    sg_sched_push(&s, a, &items[i], false);
  }
  sg_lane *l;
  uint64_t now = 5000;
  /* 4 + 4 recipients fit, the third message (12 > 10) waits. */
  ASSERT_NOT_NULL(sg_sched_pop(&s, now, &l));
  ASSERT_NOT_NULL(sg_sched_pop(&s, now, &l));
  ASSERT_NULL(sg_sched_pop(&s, now, &l));
  uint64_t wake = sg_sched_next_wake(&s);
  ASSERT(wake > now && wake <= now + 1100);
  /* A retry of an already counted job only needs a request slot. */
  sg_sched_release(&s, a);
  items[0].counted = true;
  sg_sched_push(&s, a, &items[0], true);
  sg_sched_tick(&s, wake);
  ASSERT(sg_sched_pop(&s, wake, &l) == &items[0]);
  ASSERT(sg_sched_pop(&s, wake, &l) == &items[2]);
  sg_sched_free(&s);
}

static void t_many_lanes(void) {
  sg_sched s;
  sg_sched_init(&s);
  sg_lane_cfg cfg = {.max_inflight = 1};
  static sg_sched_item its[3000];
  memset(its, 0, sizeof its);
  char key[32];
  for (int i = 0; i < 1000; i++) {
    snprintf(key, sizeof key, "lane-%d", i);
    sg_lane *l = sg_sched_lane(&s, key, &cfg);
    for (int j = 0; j < 3; j++)
      sg_sched_push(&s, l, &its[i * 3 + j], false);
  }
  ASSERT_EQ(1000, s.nlanes);
  sg_lane *l;
  int n = 0;
  while (sg_sched_pop(&s, 0, &l))
    n++;
  ASSERT_EQ(1000, n); /* one per lane at the cap */
  ASSERT_EQ(2000, s.queued);
  sg_sched_free(&s);
}

/* The cap over all lanes: nothing is admitted at it; a release of any lane frees a slot. */
static void t_total_cap(void) {
  sg_sched s;
  sg_sched_init(&s);
  s.max_inflight = 3;
  sg_lane_cfg cfg = {0}; /* lanes without caps of their own */
  sg_lane *a = sg_sched_lane(&s, "a", &cfg);
  sg_lane *b = sg_sched_lane(&s, "b", &cfg);
  memset(items, 0, sizeof items);
  for (int i = 0; i < 5; i++) {
    sg_sched_push(&s, a, &items[i], false);
    sg_sched_push(&s, b, &items[5 + i], false);
  }
  sg_lane *l;
  ASSERT(sg_sched_pop(&s, 0, &l) == &items[0] && l == a);
  ASSERT(sg_sched_pop(&s, 0, &l) == &items[5] && l == b);
  ASSERT(sg_sched_pop(&s, 0, &l) == &items[1] && l == a);
  ASSERT_EQ(3, s.inflight);
  ASSERT_NULL(sg_sched_pop(&s, 0, &l)); /* at the cap, with 7 still queued */
  ASSERT_EQ(7, s.queued);
  sg_sched_release(&s, b);
  ASSERT_EQ(2, s.inflight);
  ASSERT(sg_sched_pop(&s, 0, &l) == &items[6] && l == b); /* round robin goes on */
  ASSERT_NULL(sg_sched_pop(&s, 0, &l));
  for (int i = 0; i < 3; i++)
    sg_sched_release(&s, i == 2 ? b : a);
  ASSERT_EQ(0, s.inflight);
  sg_sched_release(&s, a); /* an extra release does not underflow */
  ASSERT_EQ(0, s.inflight);
  s.max_inflight = 0; /* no cap: everything goes */
  int n = 0;
  while (sg_sched_pop(&s, 0, &l) != NULL)
    n++;
  ASSERT_EQ(6, n);
  sg_sched_free(&s);
}

SG_TESTS({"total_cap", t_total_cap}, {"inflight_cap_and_rr", t_inflight_cap_and_rr},
         {"pause_front", t_pause_front}, {"windows", t_windows}, {"many_lanes", t_many_lanes})
