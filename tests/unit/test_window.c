/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sched/sg_window: never over the limit in any window, and close to it. */
#include "harness.h"

#include "sched/sg_window.h"

static void t_off(void) {
  sg_window w;
  sg_window_init(&w, 0, 1000);
  for (int i = 0; i < 1000; i++) {
    ASSERT_EQ(0, sg_window_wait(&w, 5, 1));
    sg_window_add(&w, 5, 1);
  }
}

/* Drives a greedy client for |dur| ms and checks every window of |win| ms
 * (exact sliding check over the admitted timestamps). */
static void run(uint64_t limit, uint64_t win, uint64_t dur, uint64_t step) {
  sg_window w;
  sg_window_init(&w, limit, win);
  uint64_t *ts = malloc(sizeof(uint64_t) * limit * (dur / win + 2));
  size_t n = 0;
  for (uint64_t now = 1000; now < 1000 + dur; now += step) {
    while (sg_window_wait(&w, now, 1) == 0) {
      sg_window_add(&w, now, 1);
      ts[n++] = now;
    }
  }
  /* No window of length |win| holds more than |limit|. */
  size_t lo = 0;
  for (size_t hi = 0; hi < n; hi++) {
    while (ts[hi] - ts[lo] >= win)
      lo++;
    ASSERT_LE(hi - lo + 1, limit);
  }
  /* Throughput is at least 95 % of the limit over the run. */
  double allowed = (double)limit * (double)dur / (double)win;
  ASSERT_GE((double)n, 0.95 * allowed);
  free(ts);
}

static void t_never_over(void) {
  run(10, 1000, 20000, 1);
  run(100, 600, 30000, 3);
  run(10000, 600000, 6000000, 250);
  run(30, 60000, 600000, 100);
}

static void t_wait_time(void) {
  sg_window w;
  sg_window_init(&w, 2, 630);
  ASSERT_EQ(0, sg_window_wait(&w, 0, 1));
  sg_window_add(&w, 0, 1);
  sg_window_add(&w, 0, 1);
  uint64_t wait = sg_window_wait(&w, 0, 1);
  ASSERT_GE(wait, 630);
  ASSERT_LE(wait, 650);
  ASSERT_EQ(2, sg_window_used(&w, wait - 1));
  ASSERT_EQ(0, sg_window_wait(&w, wait, 1));
  ASSERT_EQ(UINT64_MAX, sg_window_wait(&w, wait, 3));
}

/* drained_at: the first time the window holds nothing, and is then as good as new. */
static void t_drained_at(void) {
  sg_window w, fresh;
  sg_window_init(&w, 5, 630);
  sg_window_init(&fresh, 5, 630);
  ASSERT_EQ(0, sg_window_drained_at(&w));
  sg_window_add(&w, 1000, 2);
  sg_window_add(&w, 1300, 1);
  uint64_t d = sg_window_drained_at(&w);
  ASSERT_GE(d, 1300 + 630);
  ASSERT_LE(d, 1300 + 650);
  ASSERT_EQ(1, sg_window_used(&w, d - 1)); /* the last unit still counts just before */
  ASSERT_NE(0, sg_window_wait(&w, d - 1, 5));
  ASSERT_EQ(0, sg_window_used(&w, d));
  ASSERT_EQ(0, sg_window_drained_at(&w));
  /* From then on it answers as a fresh window does. */
  for (uint64_t t = d; t < d + 2000; t += 37) {
    ASSERT_EQ(sg_window_wait(&fresh, t, 3), sg_window_wait(&w, t, 3));
    if (sg_window_wait(&w, t, 3) == 0) {
      sg_window_add(&w, t, 3);
      sg_window_add(&fresh, t, 3);
    }
  }
  sg_window off;
  sg_window_init(&off, 0, 1000);
  sg_window_add(&off, 5, 9);
  ASSERT_EQ(0, sg_window_drained_at(&off)); /* no limit: nothing is kept */
}

SG_TESTS({"off", t_off}, {"never_over", t_never_over}, {"wait_time", t_wait_time},
         {"drained_at", t_drained_at})
