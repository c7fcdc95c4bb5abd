/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/sg_backoff: ceilings, full and equal jitter bounds, injected randomness. */
#include "harness.h"

#include "core/sg_backoff.h"
#include "core/sg_rand.h"

static void t_ceiling(void) {
  static const uint64_t want[] = {100, 200, 400, 800, 1000, 1000, 1000};
  for (unsigned i = 0; i < 7; i++)
    ASSERT_EQ(want[i], sg_backoff_ceiling(100, 1000, i));
  /* Saturation instead of overflow. */
  ASSERT(sg_backoff_ceiling(1ULL << 62, UINT64_MAX, 10) == UINT64_MAX);
  ASSERT(sg_backoff_ceiling(1ULL << 62, UINT64_MAX, 1) == 1ULL << 63);
  ASSERT_EQ(5000, sg_backoff_ceiling(1000, 5000, 4000000000u));
  ASSERT_EQ(0, sg_backoff_ceiling(0, 0, 3));
}

static void t_delay_bounds(void) {
  ASSERT_EQ(0, sg_backoff_delay(100, 1000, 0, 0));
  ASSERT_EQ(100, sg_backoff_delay(100, 1000, 0, 100)); /* inclusive upper bound */
  ASSERT_EQ(0, sg_backoff_delay(100, 1000, 0, 101));
  ASSERT_EQ(1000, sg_backoff_delay(100, 1000, 9, 1000));
  ASSERT(sg_backoff_delay(1ULL << 62, UINT64_MAX, 10, 12345) == 12345);
  for (uint64_t r = 0; r < 5000; r += 7)
    ASSERT_LE(sg_backoff_delay(100, 1000, 3, r * 0x9E3779B97F4A7C15ULL), 800);
}

static void t_delay_redis_defaults(void) {
  /* The Redis client's reconnect delays (base 100, cap 5000). */
  ASSERT_EQ(100, sg_backoff_delay(100, 5000, 0, 100));
  ASSERT_EQ(0, sg_backoff_delay(100, 5000, 0, 101));
  ASSERT_EQ(200, sg_backoff_delay(100, 5000, 1, 200));
  ASSERT_EQ(5000, sg_backoff_delay(100, 5000, 10, 5000));
  ASSERT_EQ(5000, sg_backoff_delay(100, 5000, 1000, 5000));
  uint64_t s = 88172645463325252ULL;
  for (int i = 0; i < 1000; i++) {
    uint64_t x = sg_rand_next(&s);
    ASSERT_LE(sg_backoff_delay(100, 5000, (unsigned)(i % 40), x), 5000);
    ASSERT_LE(sg_backoff_delay(100, 5000, 2, x), 400);
  }
}

static void t_delay_equal(void) {
  /* [c/2, c]: attempt 0 with c = 100 gives 50 + r mod 51. */
  ASSERT_EQ(50, sg_backoff_delay_equal(100, 1000, 0, 0));
  ASSERT_EQ(100, sg_backoff_delay_equal(100, 1000, 0, 50));
  ASSERT_EQ(50, sg_backoff_delay_equal(100, 1000, 0, 51));
  ASSERT_EQ(0, sg_backoff_delay_equal(0, 1000, 5, 7)); /* no base, no wait */
  ASSERT_EQ(0, sg_backoff_delay_equal(1, 1, 0, 0));    /* c = 1: [0, 1] */
  ASSERT_EQ(1, sg_backoff_delay_equal(1, 1, 0, 1));
  ASSERT(sg_backoff_delay_equal(1ULL << 62, UINT64_MAX, 10, 0) == UINT64_MAX / 2);
  ASSERT(sg_backoff_delay_equal(1ULL << 62, UINT64_MAX, 10, UINT64_MAX) >= UINT64_MAX / 2);
  /* The HTTP/2 pool's reconnect delays after 1, 3 and 30 failures. */
  for (uint64_t r = 0; r < 1000; r += 37) {
    uint64_t d1 = sg_backoff_delay_equal(100, 1000, 0, r);
    ASSERT(d1 >= 50 && d1 <= 100);
    uint64_t d3 = sg_backoff_delay_equal(100, 1000, 2, r);
    ASSERT(d3 >= 200 && d3 <= 400);
    uint64_t d30 = sg_backoff_delay_equal(100, 1000, 29, r);
    ASSERT(d30 >= 500 && d30 <= 1000);
  }
}

typedef struct fake {
  uint64_t next;
  int calls;
} fake;

static uint64_t fake_rand(void *ud) {
  fake *f = ud;
  f->calls++;
  return f->next;
}

static void t_injected(void) {
  sg_backoff b;
  fake f = {UINT64_MAX, 0};
  sg_backoff_init(&b, 100, 1000, 1);
  sg_backoff_set_rand(&b, fake_rand, &f);
  /* r = 2^64-1: r mod (c+1) for c = 100, 200, 400, 800, 1000. */
  ASSERT_EQ(UINT64_MAX % 101, sg_backoff_next(&b));
  ASSERT_EQ(UINT64_MAX % 201, sg_backoff_next(&b));
  ASSERT_EQ(UINT64_MAX % 401, sg_backoff_next(&b));
  ASSERT_EQ(3, b.attempt);
  f.next = 800;
  ASSERT_EQ(800, sg_backoff_next(&b));
  f.next = 1000;
  ASSERT_EQ(1000, sg_backoff_next(&b));
  ASSERT_EQ(1000, sg_backoff_next(&b));
  ASSERT_EQ(6, f.calls);
  sg_backoff_reset(&b);
  ASSERT_EQ(0, b.attempt);
  f.next = 1000;
  ASSERT_EQ(1000 % 101, sg_backoff_next(&b));
  /* Back to the built-in source. */
  sg_backoff_set_rand(&b, NULL, NULL);
  ASSERT_LE(sg_backoff_next(&b), 200);
  ASSERT_EQ(7, f.calls);
}

static void t_equal_object(void) {
  sg_backoff b;
  fake f = {0, 0};
  sg_backoff_init(&b, 100, 1000, 1);
  sg_backoff_set_jitter(&b, SG_BACKOFF_EQUAL);
  sg_backoff_set_rand(&b, fake_rand, &f);
  /* r = 0: the floor c/2 of each ceiling 100, 200, 400, 800, 1000. */
  ASSERT_EQ(50, sg_backoff_next(&b));
  ASSERT_EQ(100, sg_backoff_next(&b));
  ASSERT_EQ(200, sg_backoff_next(&b));
  ASSERT_EQ(400, sg_backoff_next(&b));
  f.next = 500;
  ASSERT_EQ(1000, sg_backoff_next(&b));
  sg_backoff_reset(&b);
  f.next = 50;
  ASSERT_EQ(100, sg_backoff_next(&b));
  /* Built-in source: never below half the ceiling. */
  sg_backoff_set_rand(&b, NULL, NULL);
  sg_backoff_reset(&b);
  for (int i = 0; i < 200; i++) {
    if (i % 6 == 0)
      sg_backoff_reset(&b);
    unsigned att = b.attempt;
    uint64_t c = sg_backoff_ceiling(100, 1000, att), d = sg_backoff_next(&b);
    ASSERT(d >= c / 2 && d <= c);
  }
  /* Back to full jitter: the r mod (c + 1) rule again. */
  sg_backoff_set_jitter(&b, SG_BACKOFF_FULL);
  sg_backoff_set_rand(&b, fake_rand, &f);
  sg_backoff_reset(&b);
  f.next = 0;
  ASSERT_EQ(0, sg_backoff_next(&b));
}

static void t_builtin(void) {
  sg_backoff b, c;
  sg_backoff_init(&b, 1000, 60000, 42);
  sg_backoff_init(&c, 1000, 60000, 42);
  /* cap below base is raised to base */
  sg_backoff d;
  sg_backoff_init(&d, 500, 10, 1);
  ASSERT_EQ(500, d.cap_ms);
  /* Same seed, same sequence; all within the ceiling; a spread of values. */
  uint64_t sum = 0, lo = UINT64_MAX, hi = 0;
  for (int i = 0; i < 2000; i++) {
    if (i % 8 == 0) {
      sg_backoff_reset(&b);
      sg_backoff_reset(&c);
    }
    unsigned att = b.attempt;
    uint64_t x = sg_backoff_next(&b);
    ASSERT_EQ(x, sg_backoff_next(&c));
    ASSERT_LE(x, sg_backoff_ceiling(1000, 60000, att));
    if (att == 6) { /* ceiling reached 60000 */
      sum += x;
      lo = x < lo ? x : lo;
      hi = x > hi ? x : hi;
    }
  }
  /* 250 draws uniform on [0, 60000]: mean near 30000, wide range. */
  ASSERT_GT(sum / 250, 24000);
  ASSERT_LT(sum / 250, 36000);
  ASSERT_LT(lo, 6000);
  ASSERT_GT(hi, 54000);
  /* A copied struct keeps working (no pointer into the original). */
  sg_backoff e = b;
  ASSERT_LE(sg_backoff_next(&e), 60000);
}

SG_TESTS({"ceiling", t_ceiling}, {"delay_bounds", t_delay_bounds},
         {"delay_redis_defaults", t_delay_redis_defaults}, {"delay_equal", t_delay_equal},
         {"injected", t_injected}, {"equal_object", t_equal_object}, {"builtin", t_builtin})
