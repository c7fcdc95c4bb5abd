/* SPDX-License-Identifier: Apache-2.0 */
/* Size-class cache for nghttp2's allocations; see sg_h2_mem.h. */
#include "h2/sg_h2_mem.h"

#include <stdlib.h>
#include <string.h>

/* Every block starts with this header; the caller's pointer follows it and
 * stays aligned like malloc's. */
typedef union blk_hdr {
  struct {
    size_t cap; /* usable bytes after the header */
    int cls;    /* size class, -1 for a large block */
  } h;
  max_align_t align;
  void *next; /* while on a free list (overlays the header) */
} blk_hdr;

#define MIN_SHIFT 5 /* 32 bytes */

/* The smallest class that holds |size| bytes (its bit length above 32), -1
 * when none does. */
static int class_of(size_t size) {
  if (size <= (size_t)1 << MIN_SHIFT)
    return 0;
  int c = 64 - __builtin_clzll((unsigned long long)(size - 1)) - MIN_SHIFT;
  return c < SG_H2_MEM_CLASSES ? c : -1;
}

static size_t class_cap(int c) {
  return (size_t)1 << (MIN_SHIFT + c);
}

static void *m_malloc(size_t size, void *ud) {
  sg_h2_mem *m = ud;
  int c = class_of(size);
  blk_hdr *b;
  if (c >= 0 && m->free_list[c] != NULL) {
    b = m->free_list[c];
    m->free_list[c] = b->next;
    m->n_free[c]--;
    m->hits++;
  } else {
    size_t cap = c >= 0 ? class_cap(c) : size;
    if (cap > SIZE_MAX - sizeof *b)
      return NULL;
    b = malloc(sizeof *b + cap);
    if (b == NULL)
      return NULL;
    m->misses++;
  }
  b->h.cls = c;
  b->h.cap = c >= 0 ? class_cap(c) : size; /* the list's link overwrote it */
  return b + 1;
}

static void m_free(void *p, void *ud) {
  sg_h2_mem *m = ud;
  if (p == NULL)
    return;
  blk_hdr *b = (blk_hdr *)p - 1;
  int c = b->h.cls;
  if (c < 0 || (size_t)m->n_free[c] * class_cap(c) >= SG_H2_MEM_CLASS_BYTES) {
    free(b);
    return;
  }
  b->next = m->free_list[c];
  m->free_list[c] = b;
  m->n_free[c]++;
}

static void *m_calloc(size_t n, size_t size, void *ud) {
  if (size != 0 && n > SIZE_MAX / size)
    return NULL;
  void *p = m_malloc(n * size, ud);
  if (p)
    memset(p, 0, n * size);
  return p;
}

static void *m_realloc(void *p, size_t size, void *ud) {
  if (p == NULL)
    return m_malloc(size, ud);
  if (size == 0) {
    m_free(p, ud);
    return NULL;
  }
  blk_hdr *b = (blk_hdr *)p - 1;
  if (size <= b->h.cap)
    return p;
  void *q = m_malloc(size, ud);
  if (q == NULL)
    return NULL; /* |p| is left as it was, as realloc does */
  memcpy(q, p, b->h.cap);
  m_free(p, ud);
  return q;
}

void sg_h2_mem_init(sg_h2_mem *m) {
  memset(m, 0, sizeof *m);
  m->mem.mem_user_data = m;
  m->mem.malloc = m_malloc;
  m->mem.free = m_free;
  m->mem.calloc = m_calloc;
  m->mem.realloc = m_realloc;
}

void sg_h2_mem_free(sg_h2_mem *m) {
  for (int c = 0; c < SG_H2_MEM_CLASSES; c++) {
    blk_hdr *b = m->free_list[c];
    while (b) {
      blk_hdr *n = b->next;
      free(b);
      b = n;
    }
    m->free_list[c] = NULL;
    m->n_free[c] = 0;
  }
}

size_t sg_h2_mem_cached(const sg_h2_mem *m) {
  size_t n = 0;
  for (int c = 0; c < SG_H2_MEM_CLASSES; c++)
    n += m->n_free[c];
  return n;
}
