/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/sg_heap against a plain scan: random pushes, removals (also of
 * elements not in the heap) and key changes keep the top the smallest key
 * and every element's index exact; popping in order gives sorted keys; the
 * array shrinks after a burst.
 */
#include "harness.h"

#include "core/sg_heap.h"
#include "core/sg_rand.h"

#include <stdbool.h>

#define N 500

typedef struct item {
  int tag;
  uint64_t key;
  size_t idx;
  bool in;
} item;

static uint64_t rng = 42; /* fixed seed: reproducible */
static uint64_t next(void) {
  return sg_rand_next(&rng);
}

static void check(const sg_heap *h, item *it) {
  size_t n = 0;
  uint64_t min = UINT64_MAX;
  for (int i = 0; i < N; i++) {
    if (!it[i].in) {
      ASSERT_EQ(SG_HEAP_NONE, it[i].idx);
      continue;
    }
    n++;
    ASSERT_LT(it[i].idx, h->len);
    ASSERT(h->v[it[i].idx] == &it[i]);
    if (it[i].key < min)
      min = it[i].key;
  }
  ASSERT_EQ(n, sg_heap_len(h));
  const item *top = sg_heap_top(h);
  if (n == 0)
    ASSERT_NULL(top);
  else
    ASSERT_EQ(min, top->key);
}

static void t_random(void) {
  sg_heap h = SG_HEAP_INIT(item, key, idx);
  item it[N];
  for (int i = 0; i < N; i++)
    it[i] = (item){i, 0, SG_HEAP_NONE, false};
  for (int step = 0; step < 20000; step++) {
    item *e = &it[next() % N];
    switch (next() % 3) {
    case 0:
      if (!e->in) {
        e->key = next() % 1000;
        sg_heap_push(&h, e);
        e->in = true;
      }
      break;
    case 1:
      sg_heap_remove(&h, e); /* also when not in: nothing happens */
      e->in = false;
      break;
    default:
      if (e->in) {
        e->key = next() % 1000;
        sg_heap_fix(&h, e);
      }
    }
    if (step % 97 == 0)
      check(&h, it);
  }
  check(&h, it);
  uint64_t last = 0;
  item *e;
  while ((e = sg_heap_top(&h)) != NULL) {
    ASSERT_GE(e->key, last);
    last = e->key;
    sg_heap_remove(&h, e);
    e->in = false;
  }
  check(&h, it);
  ASSERT_LE(h.cap, 64); /* given back as it emptied */
  sg_heap_free(&h);
}

SG_TESTS({"random", t_random})
