/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An indexed binary min-heap of elements that carry their own key (a
 * uint64_t at |key_off|) and their index in the heap (a size_t at |idx_off|,
 * SG_HEAP_NONE while out of it), so that any element can be removed or
 * re-keyed in O(log n). Used by the scheduler's lane heaps (by wake time) and
 * the shared budgets' due heap.
 */
#ifndef SG_HEAP_H
#define SG_HEAP_H

#include <stddef.h>
#include <stdint.h>

#define SG_HEAP_NONE SIZE_MAX

typedef struct sg_heap {
  void **v;
  size_t len, cap;
  size_t key_off, idx_off;
} sg_heap;

/* An empty heap of |type| by its member |key|, index in its member |idx|. */
#define SG_HEAP_INIT(type, key, idx)                                                               \
  { NULL, 0, 0, offsetof(type, key), offsetof(type, idx) }

/* Adds |e| (not in the heap) with its current key. */
void sg_heap_push(sg_heap *h, void *e);
/* Takes |e| out; nothing when it is not in (index SG_HEAP_NONE). */
void sg_heap_remove(sg_heap *h, void *e);
/* Restores the order after |e|'s key changed (|e| in the heap). */
void sg_heap_fix(sg_heap *h, void *e);
void sg_heap_free(sg_heap *h);

static inline void *sg_heap_top(const sg_heap *h) {
  return h->len ? h->v[0] : NULL;
}

static inline size_t sg_heap_len(const sg_heap *h) {
  return h->len;
}

#endif
