/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for fair intake in the scheduler: transactional items ahead of
 * bulk ones within a lane (sched/sg_sched_prio.c), and the head-of-line
 * parking estimate (sched/sg_hol.c). */
#include "harness.h"

#include "sched/sg_hol.h"
#include "sched/sg_sched_int.h"

#define N 64
static sg_sched_item items[N];

static void t_transactional_first(void) {
  sg_sched s;
  sg_sched_init(&s);
  sg_lane_cfg cfg = {.max_inflight = 1};
  sg_lane *a = sg_sched_lane(&s, "a", &cfg);
  memset(items, 0, sizeof items);
  for (int i = 0; i < 5; i++) {
    items[i].bulk = true;
    sg_sched_push(&s, a, &items[i], false);
  }
  sg_sched_push(&s, a, &items[10], false); /* transactional, behind 5 bulk */
  sg_sched_push(&s, a, &items[11], false);
  ASSERT_EQ(7, a->queued);
  ASSERT_EQ(5, a->queued_bulk);
  ASSERT(sg_sched_front(a) == &items[10]);
  ASSERT(sg_sched_back(a) == &items[4]);
  sg_lane *l;
  ASSERT(sg_sched_pop(&s, 0, &l) == &items[10]);
  ASSERT_NULL(sg_sched_pop(&s, 0, &l)); /* cap 1 */
  /* Throttled: back to the front of its own queue, still ahead of bulk. */
  sg_sched_release(&s, a);
  sg_sched_push(&s, a, &items[10], true);
  ASSERT(sg_sched_pop(&s, 0, &l) == &items[10]);
  sg_sched_release(&s, a);
  ASSERT(sg_sched_pop(&s, 0, &l) == &items[11]);
  sg_sched_release(&s, a);
  /* Then the bulk ones in their order; a throttled bulk one keeps its place. */
  ASSERT(sg_sched_pop(&s, 0, &l) == &items[0]);
  sg_sched_release(&s, a);
  sg_sched_push(&s, a, &items[0], true);
  ASSERT(sg_sched_front(a) == &items[0]);
  /* Removing the last bulk item: back moves to the one before. */
  sg_sched_remove(&s, a, &items[4]);
  ASSERT(sg_sched_back(a) == &items[3]);
  ASSERT_EQ(4, a->queued_bulk);
  for (int i = 0; i < 4; i++) {
    ASSERT(sg_sched_pop(&s, 0, &l) == &items[i]);
    sg_sched_release(&s, a);
  }
  ASSERT_EQ(0, a->queued);
  ASSERT_EQ(0, a->queued_bulk);
  ASSERT_NULL(sg_sched_front(a));
  ASSERT_NULL(sg_sched_back(a));
  sg_sched_free(&s);
}

/* Other lanes are not held up by a lane full of bulk items (round robin). */
static void t_bulk_lane_rr(void) {
  sg_sched s;
  sg_sched_init(&s);
  sg_lane_cfg cfg = {.max_inflight = 4};
  sg_lane *a = sg_sched_lane(&s, "campaign", &cfg);
  sg_lane *b = sg_sched_lane(&s, "reset", &cfg);
  memset(items, 0, sizeof items);
  for (int i = 0; i < 40; i++) {
    items[i].bulk = true;
    sg_sched_push(&s, a, &items[i], false);
  }
  sg_sched_push(&s, b, &items[50], false);
  sg_lane *l;
  ASSERT(sg_sched_pop(&s, 0, &l) == &items[50] && l == b); /* transactional first */
  ASSERT(sg_sched_pop(&s, 0, &l) == &items[0] && l == a);
  items[51].bulk = true;
  sg_sched_push(&s, b, &items[51], false);
  ASSERT(sg_sched_pop(&s, 0, &l) == &items[1] && l == a); /* round robin among the bulk lanes */
  ASSERT(sg_sched_pop(&s, 0, &l) == &items[51] && l == b);
  sg_sched_free(&s);
}

/* Under the total cap, a lane with a transactional item goes before lanes
 * holding only bulk ones, whatever the round robin order. */
static void t_ready_transactional_first(void) {
  sg_sched s;
  sg_sched_init(&s);
  s.max_inflight = 1;
  sg_lane_cfg cfg = {.max_inflight = 4};
  sg_lane *a = sg_sched_lane(&s, "bulk-a", &cfg);
  sg_lane *b = sg_sched_lane(&s, "bulk-b", &cfg);
  sg_lane *c = sg_sched_lane(&s, "mixed", &cfg);
  memset(items, 0, sizeof items);
  for (int i = 0; i < 6; i++) {
    items[i].bulk = true;
    sg_sched_push(&s, i % 2 ? b : a, &items[i], false);
  }
  items[10].bulk = true;
  sg_sched_push(&s, c, &items[10], false);
  sg_sched_push(&s, c, &items[11], false); /* c's first transactional item: c goes first */
  sg_lane *l;
  ASSERT(sg_sched_pop(&s, 0, &l) == &items[11] && l == c);
  ASSERT_NULL(sg_sched_pop(&s, 0, &l)); /* the total cap */
  sg_sched_release(&s, c);
  /* Only bulk items left: round robin a, b, then c (behind them now). */
  ASSERT(sg_sched_pop(&s, 0, &l) == &items[0] && l == a);
  sg_sched_release(&s, a);
  ASSERT(sg_sched_pop(&s, 0, &l) == &items[1] && l == b);
  sg_sched_release(&s, b);
  /* A transactional item on b jumps ahead of a and c. */
  sg_sched_push(&s, b, &items[12], false);
  ASSERT(sg_sched_pop(&s, 0, &l) == &items[12] && l == b);
  sg_sched_release(&s, b);
  ASSERT(sg_sched_pop(&s, 0, &l) == &items[10] && l == c);
  sg_sched_release(&s, c);
  sg_sched_free(&s);
}

static void t_hol_rate_and_admits(void) {
  sg_sched s;
  sg_sched_init(&s);
  /* No limits: never parks. */
  sg_lane_cfg none = {0};
  sg_lane *f = sg_sched_lane(&s, "free", &none);
  ASSERT(sg_hol_rate(f, NULL) == 0);
  ASSERT_EQ(UINT64_MAX, sg_hol_admits(f, NULL, 0, 1000));
  ASSERT_EQ(0, sg_hol_plan(f, NULL, 1000000, 0, 1000));
  /* Cap 4 at 50 ms: 80 per second; within 1 s: 4 free slots + 80. */
  sg_lane_cfg cap = {.max_inflight = 4};
  sg_lane *c = sg_sched_lane(&s, "cap", &cap);
  ASSERT(sg_hol_rate(c, NULL) == 200.0); /* default latency 20 ms before any answer */
  sg_hol_observe(c, 50);
  ASSERT_EQ(50, c->lat_ms);
  ASSERT(sg_hol_rate(c, NULL) == 80.0);
  ASSERT_EQ(84, sg_hol_admits(c, NULL, 0, 1000));
  c->inflight = 4;
  ASSERT_EQ(80, sg_hol_admits(c, NULL, 0, 1000));
  c->inflight = 0;
  /* EWMA: one slow answer moves it by an eighth. */
  sg_hol_observe(c, 850);
  ASSERT_EQ(150, c->lat_ms);
  c->lat_ms = 50;
  /* A window lower than the cap decides: 600 per 10 min = 1/s. */
  sg_lane_cfg win = {.max_inflight = 4, .req_limit = 600, .req_window_ms = 600000};
  sg_lane *w = sg_sched_lane(&s, "win", &win);
  sg_hol_observe(w, 50);
  ASSERT(sg_hol_rate(w, NULL) == 1.0);
  /* Fresh window: all 600 fit now (the cap allows 84 in 1 s). */
  ASSERT_EQ(84, sg_hol_admits(w, NULL, 0, 1000));
  for (int i = 0; i < 598; i++)
    sg_window_add(&w->req, 10, 1);
  ASSERT_EQ(2 + 1, sg_hol_admits(w, NULL, 10, 1000)); /* 2 left + 1 s of refill */
  /* Paused past the horizon: nothing; paused for part of it: the rest. */
  c->paused_until = 5000;
  ASSERT_EQ(0, sg_hol_admits(c, NULL, 0, 1000));
  ASSERT_EQ(4 + 40, sg_hol_admits(c, NULL, 4500, 1000)); /* 500 ms at 50 ms */
  sg_sched_free(&s);
}

/* Parked jobs are due one admission interval apart, after the horizon, in order. */
static void t_hol_plan_spread(void) {
  sg_sched s;
  sg_sched_init(&s);
  sg_lane_cfg cap = {.max_inflight = 4};
  sg_lane *c = sg_sched_lane(&s, "cap", &cap);
  sg_hol_observe(c, 50); /* 80/s, back at 100/s: 10 ms apart */
  uint64_t now = 100000;
  /* Below the horizon's 84: stays. */
  ASSERT_EQ(0, sg_hol_plan(c, NULL, 83, now, 1000));
  uint64_t prev = 0;
  for (int i = 0; i < 1000; i++) {
    uint64_t due = sg_hol_plan(c, NULL, 84, now, 1000);
    ASSERT_GE(due, now + 500);
    if (prev)
      ASSERT_EQ(prev + 10, due);
    prev = due;
  }
  /* 1000 jobs spread over 10 s, not all due at once. */
  ASSERT_GE(prev, now + 10000);
  ASSERT_LT(prev, now + 11000);
  /* Later, with the cursor in the past: starts again from now. */
  uint64_t later = prev + 60000;
  uint64_t d = sg_hol_plan(c, NULL, 84, later, 1000);
  ASSERT_GE(d, later + 500);
  ASSERT_LT(d, later + 1000);
  /* A long queue ahead: due when it has drained to half the horizon's worth. */
  sg_lane *c2 = sg_sched_lane(&s, "cap2", &cap);
  sg_hol_observe(c2, 50);
  d = sg_hol_plan(c2, NULL, 84 + 800, now, 1000);
  ASSERT_EQ(now + (884 - 42) * 10, d);
  /* Paused: not before the pause is over. */
  sg_lane *p = sg_sched_lane(&s, "paused", &cap);
  sg_sched_lane_ref(&s, p);
  sg_sched_pause(&s, p, now + 30000);
  d = sg_hol_plan(p, NULL, 0, now, 1000);
  ASSERT_GE(d, now + 30000);
  sg_sched_free(&s);
}

SG_TESTS({"transactional_first", t_transactional_first}, {"bulk_lane_rr", t_bulk_lane_rr},
         {"ready_transactional_first", t_ready_transactional_first},
         {"hol_rate_and_admits", t_hol_rate_and_admits}, {"hol_plan_spread", t_hol_plan_spread})
