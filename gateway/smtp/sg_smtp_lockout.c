/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Failed-login bookkeeping; see sg_smtp_lockout.h. A chained hash table for
 * the look-ups plus a list in order of last failure (least recent first) for
 * eviction, both intrusive in one allocation per key.
 */
#include "smtp/sg_smtp_lockout.h"

#include <string.h>

#include "core/sg_list.h"
#include "core/sg_mem.h"

typedef struct node {
  struct node *hnext; /* bucket chain */
  sg_list lru;        /* by last failure, least recent first */
  uint64_t hash;
  uint64_t first_ms;     /* start of the current window */
  uint64_t last_ms;      /* last failure */
  uint64_t locked_until; /* 0 = not locked */
  uint32_t count;        /* failures in the current window */
  char key[];
} node;

struct sg_smtp_lockout {
  sg_smtp_lockout_opts o;
  node **buckets;
  size_t nbuckets; /* a power of two */
  size_t n;
  sg_list lru;
};

static uint64_t fnv1a(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    h = (h ^ *p) * 1099511628211ull;
  return h;
}

sg_smtp_lockout *sg_smtp_lockout_new(const sg_smtp_lockout_opts *o) {
  sg_smtp_lockout *l = sg_xcalloc(1, sizeof *l);
  l->o = *o;
  if (l->o.max_keys == 0)
    l->o.max_keys = 1;
  l->nbuckets = 16;
  while (l->nbuckets < l->o.max_keys && l->nbuckets < (1u << 20))
    l->nbuckets *= 2;
  l->buckets = sg_xcalloc(l->nbuckets, sizeof *l->buckets);
  sg_list_init(&l->lru);
  return l;
}

void sg_smtp_lockout_del(sg_smtp_lockout *l) {
  if (l == NULL)
    return;
  sg_list *pos, *tmp;
  sg_list_foreach_safe(pos, tmp, &l->lru) sg_free(sg_container_of(pos, node, lru));
  sg_free(l->buckets);
  sg_free(l);
}

static node **slot(sg_smtp_lockout *l, const char *key, uint64_t h) {
  node **pp = &l->buckets[h & (l->nbuckets - 1)];
  while (*pp && ((*pp)->hash != h || strcmp((*pp)->key, key) != 0))
    pp = &(*pp)->hnext;
  return pp;
}

static void remove_node(sg_smtp_lockout *l, node *x) {
  node **pp = slot(l, x->key, x->hash);
  *pp = x->hnext;
  sg_list_remove(&x->lru);
  sg_free(x);
  l->n--;
}

/* Nothing left to remember: the window and any lockout are over. */
static bool stale(const sg_smtp_lockout *l, const node *x, uint64_t now) {
  return x->locked_until <= now && now - x->first_ms >= l->o.window_ms;
}

/* Makes room for one key: stale keys from the least recent end first (at
 * most a few, so one call stays cheap), else the least recent key. */
static void make_room(sg_smtp_lockout *l, uint64_t now) {
  for (int i = 0; i < 8 && l->n >= l->o.max_keys; i++) {
    node *x = sg_container_of(l->lru.next, node, lru);
    if (!stale(l, x, now))
      break;
    remove_node(l, x);
  }
  if (l->n >= l->o.max_keys)
    remove_node(l, sg_container_of(l->lru.next, node, lru));
}

bool sg_smtp_lockout_locked(sg_smtp_lockout *l, const char *key, uint64_t now_ms) {
  node *x = *slot(l, key, fnv1a(key));
  return x != NULL && x->locked_until > now_ms;
}

bool sg_smtp_lockout_fail(sg_smtp_lockout *l, const char *key, uint64_t now_ms) {
  if (l->o.failures == 0)
    return false;
  uint64_t h = fnv1a(key);
  node *x = *slot(l, key, h);
  if (x == NULL) {
    make_room(l, now_ms);
    size_t kl = strlen(key);
    x = sg_xcalloc(1, sizeof *x + kl + 1);
    memcpy(x->key, key, kl + 1);
    x->hash = h;
    x->first_ms = now_ms;
    node **b = &l->buckets[h & (l->nbuckets - 1)];
    x->hnext = *b;
    *b = x;
    sg_list_node_init(&x->lru);
    l->n++;
  } else {
    sg_list_remove(&x->lru);
  }
  sg_list_push_back(&l->lru, &x->lru);
  x->last_ms = now_ms;
  if (x->locked_until > now_ms) /* failures while locked do not extend it */
    return false;
  if (now_ms - x->first_ms >= l->o.window_ms) {
    x->first_ms = now_ms;
    x->count = 0;
  }
  if (++x->count < l->o.failures)
    return false;
  x->locked_until = now_ms + l->o.lockout_ms;
  x->count = 0;
  x->first_ms = now_ms;
  return true;
}

void sg_smtp_lockout_clear(sg_smtp_lockout *l, const char *key) {
  node *x = *slot(l, key, fnv1a(key));
  if (x != NULL)
    remove_node(l, x);
}

size_t sg_smtp_lockout_size(const sg_smtp_lockout *l) {
  return l->n;
}
