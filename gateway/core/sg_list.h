/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Intrusive circular doubly-linked list (libuv queue.h idea): embed an sg_list
 * in the element, get the element back with sg_container_of. No allocation.
 */
#ifndef SG_LIST_H
#define SG_LIST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct sg_list {
  struct sg_list *next, *prev;
} sg_list;

static inline void sg_list_init(sg_list *h) {
  h->next = h->prev = h;
}
static inline bool sg_list_empty(const sg_list *h) {
  return h->next == h;
}
/* True when |n| is linked into some list (after sg_list_node_init). */
static inline bool sg_list_linked(const sg_list *n) {
  return n->next != n && n->next != NULL;
}
static inline void sg_list_node_init(sg_list *n) {
  n->next = n->prev = n;
}

static inline void sg_list_insert_before(sg_list *pos, sg_list *n) {
  n->prev = pos->prev;
  n->next = pos;
  pos->prev->next = n;
  pos->prev = n;
}
static inline void sg_list_push_back(sg_list *h, sg_list *n) {
  sg_list_insert_before(h, n);
}
static inline void sg_list_push_front(sg_list *h, sg_list *n) {
  sg_list_insert_before(h->next, n);
}
static inline void sg_list_remove(sg_list *n) {
  n->prev->next = n->next;
  n->next->prev = n->prev;
  n->next = n->prev = n;
}
static inline sg_list *sg_list_front(sg_list *h) {
  return sg_list_empty(h) ? NULL : h->next;
}
static inline sg_list *sg_list_pop_front(sg_list *h) {
  sg_list *n = sg_list_front(h);
  if (n)
    sg_list_remove(n);
  return n;
}

#define sg_list_foreach(pos, head) for ((pos) = (head)->next; (pos) != (head); (pos) = (pos)->next)
#define sg_list_foreach_safe(pos, tmp, head)                                                       \
  for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head);                                 \
       (pos) = (tmp), (tmp) = (pos)->next)

#endif
