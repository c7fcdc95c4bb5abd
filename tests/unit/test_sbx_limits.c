/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the sandbox limiters (sg_sbx_limits) and the table under
 * them (sg_sbx_table), driven by a fake millisecond clock.
 */
#include "harness.h"

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "sandbox/sg_sbx_limits.h"
#include "sandbox/sg_sbx_table.h"

typedef struct item {
  sg_sbx_entry e;
  int v;
} item;

static void free_item(sg_sbx_entry *e) {
  sg_free(sg_container_of(e, item, e));
}

static void t_table(void) {
  sg_sbx_table t;
  sg_sbx_table_init(&t);
  ASSERT_NULL(sg_sbx_table_find(&t, "x", 1));
  ASSERT_NULL(sg_sbx_table_oldest(&t));
  char key[32];
  for (int i = 0; i < 1000; i++) {
    item *it = sg_xcalloc(1, sizeof(*it));
    it->v = i;
    int n = snprintf(key, sizeof key, "key-%d", i);
    sg_sbx_table_insert(&t, &it->e, key, (size_t)n);
  }
  ASSERT_EQ(1000, t.count);
  for (int i = 0; i < 1000; i++) {
    int n = snprintf(key, sizeof key, "key-%d", i);
    sg_sbx_entry *e = sg_sbx_table_find(&t, key, (size_t)n);
    ASSERT_NOT_NULL(e);
    ASSERT_EQ(i, sg_container_of(e, item, e)->v);
    ASSERT_STR_EQ(key, e->key);
  }
  ASSERT_NULL(sg_sbx_table_find(&t, "key-1000", 8));
  ASSERT_NULL(sg_sbx_table_find(&t, "key-1", 4)); /* prefix of a key */
  /* Age order, touch, removal. */
  ASSERT_EQ(0, sg_container_of(sg_sbx_table_oldest(&t), item, e)->v);
  sg_sbx_table_touch(&t, sg_sbx_table_find(&t, "key-0", 5));
  sg_sbx_entry *o = sg_sbx_table_oldest(&t);
  ASSERT_EQ(1, sg_container_of(o, item, e)->v);
  ASSERT_EQ(2, sg_container_of(sg_sbx_table_next_newer(&t, o), item, e)->v);
  sg_sbx_table_remove(&t, o);
  free_item(o);
  ASSERT_NULL(sg_sbx_table_find(&t, "key-1", 5));
  ASSERT_EQ(999, t.count);
  /* Binary keys with NUL inside. */
  item *bin = sg_xcalloc(1, sizeof(*bin));
  sg_sbx_table_insert(&t, &bin->e, "a\0b", 3);
  ASSERT(sg_sbx_table_find(&t, "a\0b", 3) == &bin->e);
  ASSERT_NULL(sg_sbx_table_find(&t, "a\0c", 3));
  sg_sbx_table_free(&t, free_item);
  ASSERT_EQ(0, t.count);
}

static void t_inflight(void) {
  sg_sbx_inflight *l = sg_sbx_inflight_new(4, 0);
  for (int i = 0; i < 4; i++)
    ASSERT_OK(sg_sbx_inflight_acquire(l, "app|alice"));
  ASSERT_EQ(SG_ERR_BUSY, sg_sbx_inflight_acquire(l, "app|alice"));
  ASSERT_EQ(4, sg_sbx_inflight_count(l, "app|alice"));
  ASSERT_OK(sg_sbx_inflight_acquire(l, "app|bob")); /* keys are independent */
  sg_sbx_inflight_release(l, "app|alice");
  ASSERT_EQ(3, sg_sbx_inflight_count(l, "app|alice"));
  ASSERT_OK(sg_sbx_inflight_acquire(l, "app|alice"));
  ASSERT_EQ(SG_ERR_BUSY, sg_sbx_inflight_acquire(l, "app|alice"));
  for (int i = 0; i < 4; i++)
    sg_sbx_inflight_release(l, "app|alice");
  ASSERT_EQ(0, sg_sbx_inflight_count(l, "app|alice"));
  sg_sbx_inflight_release(l, "app|alice"); /* extra release is harmless */
  sg_sbx_inflight_release(l, "never");
  ASSERT_OK(sg_sbx_inflight_acquire(l, "app|alice"));
  sg_sbx_inflight_free(l); /* frees what is still held */

  /* Bounded keys: a new key is refused when max_keys keys are busy. */
  l = sg_sbx_inflight_new(1, 2);
  ASSERT_OK(sg_sbx_inflight_acquire(l, "a"));
  ASSERT_OK(sg_sbx_inflight_acquire(l, "b"));
  ASSERT_EQ(SG_ERR_BUSY, sg_sbx_inflight_acquire(l, "c"));
  sg_sbx_inflight_release(l, "a");
  ASSERT_OK(sg_sbx_inflight_acquire(l, "c"));
  sg_sbx_inflight_free(l);

  /* Cap 0: off. */
  l = sg_sbx_inflight_new(0, 0);
  for (int i = 0; i < 100; i++)
    ASSERT_OK(sg_sbx_inflight_acquire(l, "x"));
  ASSERT_EQ(0, sg_sbx_inflight_count(l, "x"));
  sg_sbx_inflight_release(l, "x");
  sg_sbx_inflight_free(l);
}

static void t_rate_fixed(void) {
  sg_sbx_rate *r = sg_sbx_rate_new(3, 1000, SG_SBX_WINDOW_FIXED, 0);
  uint64_t ra = 0;
  ASSERT_OK(sg_sbx_rate_take(r, "k", 1, 100, &ra));
  ASSERT_EQ(0, ra);
  ASSERT_OK(sg_sbx_rate_take(r, "k", 1, 500, &ra));
  ASSERT_OK(sg_sbx_rate_take(r, "k", 1, 900, &ra));
  ASSERT_EQ(3, sg_sbx_rate_used(r, "k", 900));
  ASSERT_EQ(SG_ERR_BUSY, sg_sbx_rate_take(r, "k", 1, 950, &ra));
  ASSERT_EQ(150, ra); /* the window began at 100 */
  ASSERT_EQ(SG_ERR_BUSY, sg_sbx_rate_take(r, "k", 1, 1099, &ra));
  ASSERT_EQ(1, ra);
  ASSERT_OK(sg_sbx_rate_take(r, "other", 1, 1099, NULL));
  /* A new window: the whole limit is back at once. */
  ASSERT_OK(sg_sbx_rate_take(r, "k", 3, 1100, &ra));
  ASSERT_EQ(SG_ERR_BUSY, sg_sbx_rate_take(r, "k", 1, 1100, &ra));
  ASSERT_EQ(1000, ra);
  ASSERT_EQ(0, sg_sbx_rate_used(r, "k", 2100));
  /* More than the limit never fits. */
  ASSERT_EQ(SG_ERR_TOOBIG, sg_sbx_rate_take(r, "k", 4, 5000, &ra));
  ASSERT_EQ(1000, ra);
  sg_sbx_rate_free(r);
}

static void t_rate_sliding(void) {
  sg_sbx_rate *r = sg_sbx_rate_new(3, 1000, SG_SBX_WINDOW_SLIDING, 0);
  uint64_t ra = 0;
  ASSERT_OK(sg_sbx_rate_take(r, "k", 1, 0, &ra));
  ASSERT_OK(sg_sbx_rate_take(r, "k", 1, 400, &ra));
  ASSERT_OK(sg_sbx_rate_take(r, "k", 1, 700, &ra));
  ASSERT_EQ(SG_ERR_BUSY, sg_sbx_rate_take(r, "k", 1, 800, &ra));
  ASSERT_EQ(200, ra); /* the request at 0 leaves the window at 1000 */
  /* Refusals are not counted. */
  ASSERT_EQ(3, sg_sbx_rate_used(r, "k", 999));
  ASSERT_EQ(SG_ERR_BUSY, sg_sbx_rate_take(r, "k", 1, 999, &ra));
  ASSERT_EQ(1, ra);
  ASSERT_OK(sg_sbx_rate_take(r, "k", 1, 1000, &ra));
  /* Two units need the two oldest to leave: 400 and 700 -> at 1700. */
  ASSERT_EQ(SG_ERR_BUSY, sg_sbx_rate_take(r, "k", 2, 1000, &ra));
  ASSERT_EQ(700, ra);
  ASSERT_EQ(2, sg_sbx_rate_used(r, "k", 1400));
  ASSERT_OK(sg_sbx_rate_take(r, "k", 1, 1400, &ra));
  /* Unlike a fixed window, no burst of 2x the limit across a boundary. */
  ASSERT_EQ(SG_ERR_BUSY, sg_sbx_rate_take(r, "k", 1, 1500, &ra));
  ASSERT_EQ(200, ra);
  sg_sbx_rate_free(r);

  /* Weighted (bytes) with many entries in one millisecond coalesced, log growth. */
  r = sg_sbx_rate_new(100000, 5000, SG_SBX_WINDOW_SLIDING, 0);
  for (uint64_t t = 0; t < 1000; t++)
    for (int j = 0; j < 3; j++)
      ASSERT_OK(sg_sbx_rate_take(r, "mbx", 10, t, &ra));
  ASSERT_EQ(30000, sg_sbx_rate_used(r, "mbx", 999));
  ASSERT_EQ(SG_ERR_BUSY, sg_sbx_rate_take(r, "mbx", 80000, 1000, &ra));
  /* 10000 units must leave: the first 334 ms (30 each) -> t=333 leaves at 5333. */
  ASSERT_EQ(4333, ra);
  ASSERT_OK(sg_sbx_rate_take(r, "mbx", 80000, 5333, &ra));
  ASSERT_EQ(30000 - 334 * 30 + 80000, sg_sbx_rate_used(r, "mbx", 5333));
  sg_sbx_rate_free(r);

  /* Off. */
  r = sg_sbx_rate_new(0, 1000, SG_SBX_WINDOW_SLIDING, 0);
  for (int i = 0; i < 100; i++)
    ASSERT_OK(sg_sbx_rate_take(r, "k", 1000, 0, &ra));
  sg_sbx_rate_free(r);
}

static void t_rate_bounded_keys(void) {
  sg_sbx_rate *r = sg_sbx_rate_new(1, 1000, SG_SBX_WINDOW_SLIDING, 2);
  uint64_t ra;
  ASSERT_OK(sg_sbx_rate_take(r, "a", 1, 0, &ra));
  ASSERT_OK(sg_sbx_rate_take(r, "b", 1, 10, &ra));
  /* Full of active keys: "c" evicts the least recently used ("a"). */
  ASSERT_OK(sg_sbx_rate_take(r, "c", 1, 20, &ra));
  ASSERT_EQ(0, sg_sbx_rate_used(r, "a", 20));
  ASSERT_EQ(1, sg_sbx_rate_used(r, "b", 20));
  ASSERT_EQ(SG_ERR_BUSY, sg_sbx_rate_take(r, "b", 1, 30, &ra)); /* touches "b" */
  ASSERT_OK(sg_sbx_rate_take(r, "d", 1, 40, &ra));              /* evicts "c" */
  ASSERT_EQ(1, sg_sbx_rate_used(r, "b", 40));
  ASSERT_EQ(0, sg_sbx_rate_used(r, "c", 40));
  /* Once idle, keys are dropped first whatever their age. */
  ASSERT_OK(sg_sbx_rate_take(r, "e", 1, 1015, &ra)); /* "b" (10) is idle, "d" (40) is not */
  ASSERT_EQ(1, sg_sbx_rate_used(r, "d", 1015));
  sg_sbx_rate_free(r);
}

static void t_backoff(void) {
  sg_sbx_backoff *b = sg_sbx_backoff_new(0);
  ASSERT(!sg_sbx_backoff_check(b, "mbx", 0));
  sg_sbx_backoff_set(b, "mbx", 1000, 3128);
  ASSERT_EQ(3128, sg_sbx_backoff_until(b, "mbx", 1000));
  ASSERT(sg_sbx_backoff_check(b, "mbx", 1500));
  ASSERT(sg_sbx_backoff_check(b, "mbx", 3127));
  ASSERT_EQ(2, sg_sbx_backoff_violations(b));
  ASSERT(!sg_sbx_backoff_check(b, "other", 1500));
  ASSERT(!sg_sbx_backoff_check(b, "mbx", 3128)); /* exactly at the end: allowed */
  ASSERT_EQ(2, sg_sbx_backoff_violations(b));
  ASSERT_EQ(0, sg_sbx_backoff_until(b, "mbx", 3128));
  /* Extended, never shortened; a window in the past is ignored. */
  sg_sbx_backoff_set(b, "mbx", 4000, 6000);
  sg_sbx_backoff_set(b, "mbx", 4000, 5000);
  ASSERT_EQ(6000, sg_sbx_backoff_until(b, "mbx", 4000));
  sg_sbx_backoff_set(b, "x", 4000, 4000);
  ASSERT_EQ(0, sg_sbx_backoff_until(b, "x", 4000));
  sg_sbx_backoff_free(b);

  /* Bounded: expired windows go first, then the oldest. */
  b = sg_sbx_backoff_new(2);
  sg_sbx_backoff_set(b, "a", 0, 100);
  sg_sbx_backoff_set(b, "b", 0, 1000);
  sg_sbx_backoff_set(b, "c", 200, 1000); /* "a" expired: dropped */
  ASSERT_EQ(1000, sg_sbx_backoff_until(b, "b", 200));
  ASSERT_EQ(1000, sg_sbx_backoff_until(b, "c", 200));
  sg_sbx_backoff_set(b, "d", 300, 1000); /* none expired: "b" (oldest) dropped */
  ASSERT_EQ(0, sg_sbx_backoff_until(b, "b", 300));
  ASSERT_EQ(1000, sg_sbx_backoff_until(b, "d", 300));
  sg_sbx_backoff_free(b);
}

static void t_retry_after_format(void) {
  char out[24];
  ASSERT_EQ(0, sg_sbx_retry_after_secs(0));
  ASSERT_EQ(1, sg_sbx_retry_after_secs(1));
  ASSERT_EQ(2, sg_sbx_retry_after_secs(2000));
  ASSERT_EQ(3, sg_sbx_retry_after_secs(2001));
  sg_sbx_retry_after_int(2128, out);
  ASSERT_STR_EQ("3", out);
  sg_sbx_retry_after_int(60000, out);
  ASSERT_STR_EQ("60", out);
  sg_sbx_retry_after_frac(2128, out);
  ASSERT_STR_EQ("2.128", out);
  sg_sbx_retry_after_frac(2000, out);
  ASSERT_STR_EQ("2.000", out);
  sg_sbx_retry_after_frac(5, out);
  ASSERT_STR_EQ("0.005", out);
  sg_sbx_retry_after_frac(UINT64_MAX, out);
  ASSERT_STR_EQ("18446744073709551.615", out);
}

/* How the sandbox composes them: a throttled client that waits is never a violator. */
static void t_compose(void) {
  sg_sbx_rate *r = sg_sbx_rate_new(2, 1000, SG_SBX_WINDOW_SLIDING, 0);
  sg_sbx_backoff *b = sg_sbx_backoff_new(0);
  uint64_t now = 0, ra;
  int sent = 0, throttled = 0;
  for (int i = 0; i < 50 && sent < 10; i++) {
    sg_sbx_backoff_check(b, "m", now);
    if (sg_sbx_rate_take(r, "m", 1, now, &ra) == 0) {
      sent++;
      now += 10;
    } else {
      throttled++;
      uint64_t secs_ms = sg_sbx_retry_after_secs(ra) * 1000;
      sg_sbx_backoff_set(b, "m", now, now + secs_ms);
      now += secs_ms; /* a well-behaved client */
    }
  }
  ASSERT_EQ(10, sent);
  ASSERT_GT(throttled, 0);
  ASSERT_EQ(0, sg_sbx_backoff_violations(b));
  /* An impatient one is caught. */
  int rv = 0;
  for (int i = 0; i < 3 && rv == 0; i++)
    rv = sg_sbx_rate_take(r, "m", 1, now, &ra);
  ASSERT_EQ(SG_ERR_BUSY, rv);
  sg_sbx_backoff_set(b, "m", now, now + ra);
  ASSERT(sg_sbx_backoff_check(b, "m", now + 1));
  ASSERT_EQ(1, sg_sbx_backoff_violations(b));
  sg_sbx_backoff_free(b);
  sg_sbx_rate_free(r);
}

SG_TESTS({"table", t_table}, {"inflight", t_inflight}, {"rate_fixed", t_rate_fixed},
         {"rate_sliding", t_rate_sliding}, {"rate_bounded_keys", t_rate_bounded_keys},
         {"backoff", t_backoff}, {"retry_after_format", t_retry_after_format},
         {"compose", t_compose})
