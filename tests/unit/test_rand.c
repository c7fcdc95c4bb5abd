/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/sg_rand: the splitmix64 reference sequence, the uniform helpers. */
#include "harness.h"

#include "core/sg_rand.h"

static void t_reference(void) {
  /* splitmix64 from state 0: the published first outputs. */
  uint64_t s = 0;
  ASSERT(sg_rand_next(&s) == 0xE220A8397B1DCDAFULL);
  ASSERT(sg_rand_next(&s) == 0x6E789E6AA1B965F4ULL);
  ASSERT(sg_rand_next(&s) == 0x06C45D188009454FULL);
  ASSERT(s == 3 * 0x9E3779B97F4A7C15ULL);
  /* The stateless form is the value next() returns for that state. */
  ASSERT(sg_rand_mix(0) == 0xE220A8397B1DCDAFULL);
  uint64_t t = 12345, u = t;
  ASSERT(sg_rand_mix(u) == sg_rand_next(&t));
}

static void t_below(void) {
  uint64_t s = 7;
  ASSERT_EQ(0, sg_rand_below(&s, 0));
  ASSERT_EQ(0, sg_rand_below(&s, 1));
  unsigned count[10] = {0};
  for (int i = 0; i < 10000; i++) {
    uint64_t v = sg_rand_below(&s, 10);
    ASSERT_LT(v, 10);
    count[v]++;
  }
  for (int i = 0; i < 10; i++) { /* 1000 expected each */
    ASSERT_GT(count[i], 850);
    ASSERT_LT(count[i], 1150);
  }
  ASSERT(sg_rand_below(&s, UINT64_MAX) < UINT64_MAX);
}

static void t_unit_interval(void) {
  uint64_t s = 42, s2 = 42;
  double sum = 0, lo = 1, hi = 0;
  for (int i = 0; i < 10000; i++) {
    double d = sg_rand01(&s);
    ASSERT(d >= 0.0 && d < 1.0);
    sum += d;
    lo = d < lo ? d : lo;
    hi = d > hi ? d : hi;
  }
  ASSERT(sum / 10000 > 0.47 && sum / 10000 < 0.53);
  ASSERT(lo < 0.01 && hi > 0.99);
  /* Same seed, same sequence. */
  uint64_t a = 42;
  ASSERT(sg_rand01(&a) == sg_rand01(&s2));
}

SG_TESTS({"reference", t_reference}, {"below", t_below}, {"unit_interval", t_unit_interval})
