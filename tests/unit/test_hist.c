/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for core/sg_hist: bucket arithmetic over the whole uint64_t
 * range, percentiles against an exact sort (never below the truth, at most
 * 1/128 above it), min/max/mean, record_n, merge and reset.
 */
#include "harness.h"

#include "core/sg_hist.h"
#include "core/sg_mem.h"
#include "core/sg_rand.h"

#include <math.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) {
  return sg_rand_next(&rng_state);
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void check_value(uint64_t v) {
  unsigned i = sg_hist_index(v);
  ASSERT_LT(i, SG_HIST_BUCKETS);
  ASSERT(sg_hist_bucket_low(i) <= v);
  ASSERT(v <= sg_hist_bucket_high(i));
  /* Width bound: (high - low) <= low / 128 above the exact range. */
  uint64_t lo = sg_hist_bucket_low(i), hi = sg_hist_bucket_high(i);
  if (lo >= 256)
    ASSERT((hi - lo) <= lo / 128);
  else
    ASSERT_EQ(lo, hi);
}

static void t_buckets(void) {
  for (uint64_t v = 0; v < 70000; v++)
    check_value(v);
  for (unsigned k = 0; k < 64; k++) {
    uint64_t p = (uint64_t)1 << k;
    check_value(p);
    check_value(p - 1);
    check_value(p + 1);
  }
  check_value(UINT64_MAX);
  ASSERT_EQ(SG_HIST_BUCKETS - 1, sg_hist_index(UINT64_MAX));
  ASSERT_EQ(UINT64_MAX, sg_hist_bucket_high(SG_HIST_BUCKETS - 1));
  for (int n = 0; n < 200000; n++)
    check_value(rnd() >> (rnd() % 64));
  /* Buckets tile the line: each starts right after the previous one ends. */
  for (unsigned i = 1; i < SG_HIST_BUCKETS; i++)
    ASSERT(sg_hist_bucket_low(i) == sg_hist_bucket_high(i - 1) + 1);
  /* Exact region. */
  ASSERT_EQ(0, sg_hist_index(0));
  ASSERT_EQ(255, sg_hist_index(255));
}

static void t_empty(void) {
  sg_hist h;
  sg_hist_init(&h);
  ASSERT_EQ(0, h.total);
  ASSERT_EQ(0, sg_hist_percentile(&h, 50));
  ASSERT_EQ(0, sg_hist_percentile(&h, 100));
  ASSERT(sg_hist_mean(&h) == 0.0);
  sg_hist_free(&h);
}

static void t_small_exact(void) {
  sg_hist h;
  sg_hist_init(&h);
  for (uint64_t v = 1; v <= 100; v++)
    sg_hist_record(&h, v);
  ASSERT_EQ(100, h.total);
  ASSERT_EQ(1, sg_hist_percentile(&h, 0));
  ASSERT_EQ(1, sg_hist_percentile(&h, 1));
  ASSERT_EQ(50, sg_hist_percentile(&h, 50));
  ASSERT_EQ(90, sg_hist_percentile(&h, 90));
  ASSERT_EQ(99, sg_hist_percentile(&h, 99));
  ASSERT_EQ(100, sg_hist_percentile(&h, 99.9));
  ASSERT_EQ(100, sg_hist_percentile(&h, 100));
  ASSERT_EQ(51, sg_hist_percentile(&h, 50.5)); /* rank ceil(50.5) = 51 */
  ASSERT(fabs(sg_hist_mean(&h) - 50.5) < 1e-9);
  sg_hist_free(&h);
}

static void check_against_sort(uint64_t *vals, size_t n) {
  sg_hist h;
  sg_hist_init(&h);
  for (size_t i = 0; i < n; i++)
    sg_hist_record(&h, vals[i]);
  qsort(vals, n, sizeof *vals, cmp_u64);
  static const double ps[] = {0.1, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99};
  for (size_t k = 0; k < SG_ARRAY_LEN(ps); k++) {
    size_t rank = (size_t)ceil(ps[k] / 100.0 * (double)n);
    if (rank == 0)
      rank = 1;
    uint64_t truth = vals[rank - 1];
    uint64_t got = sg_hist_percentile(&h, ps[k]);
    if (got < truth || (double)(got - truth) > (double)truth / 128.0)
      SG_FAIL_("p%g: got %llu, exact %llu", ps[k], (unsigned long long)got,
               (unsigned long long)truth);
  }
  ASSERT(sg_hist_percentile(&h, 100) == vals[n - 1]);
  ASSERT(sg_hist_percentile(&h, 0) == vals[0]);
  ASSERT(h.min == vals[0]);
  ASSERT(h.max == vals[n - 1]);
  sg_hist_free(&h);
}

static void t_percentiles(void) {
  size_t n = 100000;
  uint64_t *v = sg_xcalloc(n, sizeof *v);
  /* Log-uniform latencies from 1 us to ~1 h. */
  for (size_t i = 0; i < n; i++)
    v[i] = 1 + (rnd() >> (64 - 1 - rnd() % 32));
  check_against_sort(v, n);
  /* A tight cluster around 5 ms with a long tail. */
  for (size_t i = 0; i < n; i++)
    v[i] = 5000 + rnd() % 500 + (i % 1000 == 0 ? 2000000 + rnd() % 1000000 : 0);
  check_against_sort(v, n);
  /* Huge values near the top of the range. */
  for (size_t i = 0; i < n; i++)
    v[i] = UINT64_MAX - rnd() % ((uint64_t)1 << 62);
  check_against_sort(v, n);
  sg_free(v);
}

static void t_record_n_merge_reset(void) {
  sg_hist a, b, c;
  sg_hist_init(&a);
  sg_hist_init(&b);
  sg_hist_init(&c);
  sg_hist_record_n(&a, 1000, 99);
  sg_hist_record_n(&a, 7, 0); /* no-op */
  sg_hist_record(&b, 1000000);
  for (int i = 0; i < 99; i++)
    sg_hist_record(&c, 1000);
  sg_hist_record(&c, 1000000);
  sg_hist_merge(&a, &b);
  ASSERT_EQ(100, a.total);
  ASSERT_EQ(1000, a.min);
  ASSERT_EQ(1000000, a.max);
  ASSERT_EQ(sg_hist_bucket_high(sg_hist_index(1000)), sg_hist_percentile(&a, 99)); /* 1003 */
  ASSERT_EQ(1000000, sg_hist_percentile(&a, 99.9));
  for (unsigned i = 0; i < SG_HIST_BUCKETS; i++)
    ASSERT(a.counts[i] == c.counts[i]);
  ASSERT(fabs(sg_hist_mean(&a) - sg_hist_mean(&c)) < 1e-6);
  ASSERT(fabs(sg_hist_mean(&a) - (99.0 * 1000 + 1000000) / 100.0) < 1e-6);
  /* Merging an empty one changes nothing (min stays). */
  sg_hist empty;
  sg_hist_init(&empty);
  sg_hist_merge(&a, &empty);
  ASSERT_EQ(1000, a.min);
  sg_hist_merge(&empty, &a);
  ASSERT_EQ(100, empty.total);
  ASSERT_EQ(1000, empty.min);
  sg_hist_reset(&a);
  ASSERT_EQ(0, a.total);
  ASSERT_EQ(0, sg_hist_percentile(&a, 50));
  sg_hist_record(&a, 3);
  ASSERT_EQ(3, a.min);
  ASSERT_EQ(3, sg_hist_percentile(&a, 50));
  sg_hist_free(&a);
  sg_hist_free(&b);
  sg_hist_free(&c);
  sg_hist_free(&empty);
}

SG_TESTS({"buckets", t_buckets}, {"empty", t_empty}, {"small_exact", t_small_exact},
         {"percentiles", t_percentiles}, {"record_n_merge_reset", t_record_n_merge_reset})
