/* SPDX-License-Identifier: Apache-2.0 */
/* An indexed binary min-heap; see sg_heap.h. */
#include "core/sg_heap.h"

#include <string.h>

#include "core/sg_mem.h"

static uint64_t key(const sg_heap *h, size_t i) {
  uint64_t k;
  memcpy(&k, (const char *)h->v[i] + h->key_off, sizeof k);
  return k;
}

static void set_idx(const sg_heap *h, void *e, size_t i) {
  memcpy((char *)e + h->idx_off, &i, sizeof i);
}

static size_t idx_of(const sg_heap *h, const void *e) {
  size_t i;
  memcpy(&i, (const char *)e + h->idx_off, sizeof i);
  return i;
}

static void swap(sg_heap *h, size_t a, size_t b) {
  void *t = h->v[a];
  h->v[a] = h->v[b];
  h->v[b] = t;
  set_idx(h, h->v[a], a);
  set_idx(h, h->v[b], b);
}

static size_t up(sg_heap *h, size_t i) {
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (key(h, p) <= key(h, i))
      break;
    swap(h, p, i);
    i = p;
  }
  return i;
}

static void down(sg_heap *h, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < h->len && key(h, l) < key(h, m))
      m = l;
    if (r < h->len && key(h, r) < key(h, m))
      m = r;
    if (m == i)
      return;
    swap(h, i, m);
    i = m;
  }
}

void sg_heap_push(sg_heap *h, void *e) {
  if (h->len == h->cap) {
    h->cap = h->cap ? h->cap * 2 : 16;
    h->v = sg_xrealloc(h->v, h->cap * sizeof *h->v);
  }
  set_idx(h, e, h->len);
  h->v[h->len++] = e;
  up(h, h->len - 1);
}

void sg_heap_remove(sg_heap *h, void *e) {
  size_t i = idx_of(h, e);
  if (i == SG_HEAP_NONE || i >= h->len || h->v[i] != e)
    return;
  set_idx(h, e, SG_HEAP_NONE);
  h->len--;
  if (i != h->len) {
    h->v[i] = h->v[h->len];
    set_idx(h, h->v[i], i);
    down(h, up(h, i));
  }
  /* Give memory back once the heap is mostly empty (after a burst). */
  if (h->cap > 64 && h->len < h->cap / 4) {
    h->cap /= 2;
    h->v = sg_xrealloc(h->v, h->cap * sizeof *h->v);
  }
}

void sg_heap_fix(sg_heap *h, void *e) {
  down(h, up(h, idx_of(h, e)));
}

void sg_heap_free(sg_heap *h) {
  sg_free(h->v);
  h->v = NULL;
  h->len = h->cap = 0;
}
