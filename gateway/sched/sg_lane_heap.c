/* SPDX-License-Identifier: Apache-2.0 */
/* A binary min-heap of lanes by wake_at, each lane knowing its index; see sg_sched_int.h. */
#include "sched/sg_sched_int.h"

#include "core/sg_mem.h"

static void swap(sg_lane_heap *h, size_t a, size_t b) {
  sg_lane *t = h->v[a];
  h->v[a] = h->v[b];
  h->v[b] = t;
  h->v[a]->heap_idx = a;
  h->v[b]->heap_idx = b;
}

static void up(sg_lane_heap *h, size_t i) {
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (h->v[p]->wake_at <= h->v[i]->wake_at)
      break;
    swap(h, p, i);
    i = p;
  }
}

static void down(sg_lane_heap *h, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < h->len && h->v[l]->wake_at < h->v[m]->wake_at)
      m = l;
    if (r < h->len && h->v[r]->wake_at < h->v[m]->wake_at)
      m = r;
    if (m == i)
      return;
    swap(h, i, m);
    i = m;
  }
}

void sg_sched__lane_heap_push(sg_lane_heap *h, sg_lane *l) {
  if (h->len == h->cap) {
    h->cap = h->cap ? h->cap * 2 : 16;
    h->v = sg_xrealloc(h->v, h->cap * sizeof *h->v);
  }
  l->heap_idx = h->len;
  h->v[h->len++] = l;
  up(h, l->heap_idx);
}

void sg_sched__lane_heap_remove(sg_lane_heap *h, sg_lane *l) {
  size_t i = l->heap_idx;
  h->len--;
  if (i != h->len) {
    h->v[i] = h->v[h->len];
    h->v[i]->heap_idx = i;
    down(h, i);
    up(h, i);
  }
  /* Give memory back once the heap is mostly empty (after a burst of lanes). */
  if (h->cap > 64 && h->len < h->cap / 4) {
    h->cap /= 2;
    h->v = sg_xrealloc(h->v, h->cap * sizeof *h->v);
  }
}

void sg_sched__lane_heap_fix(sg_lane_heap *h, sg_lane *l) {
  down(h, l->heap_idx);
  up(h, l->heap_idx);
}

void sg_sched__lane_heap_free(sg_lane_heap *h) {
  sg_free(h->v);
  h->v = NULL;
  h->len = h->cap = 0;
}
