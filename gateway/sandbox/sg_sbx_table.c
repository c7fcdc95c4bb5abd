/* SPDX-License-Identifier: Apache-2.0 */
/* Intrusive string-keyed hash table with an age list; see sg_sbx_table.h. */
#include "sandbox/sg_sbx_table.h"

#include <string.h>

#include "core/sg_mem.h"

/* FNV-1a, 64 bit. Keys are short (tokens, mailbox names, operation ids). */
static uint64_t hash_bytes(const char *p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)p[i];
    h *= 1099511628211ull;
  }
  /* Fold the high bits in: buckets are picked with a mask of the low bits. */
  return h ^ (h >> 29);
}

static sg_sbx_entry *from_age(sg_list *n) {
  return sg_container_of(n, sg_sbx_entry, age);
}

void sg_sbx_table_init(sg_sbx_table *t) {
  t->buckets = NULL;
  t->nbuckets = 0;
  t->count = 0;
  sg_list_init(&t->ages);
}

void sg_sbx_table_free(sg_sbx_table *t, void (*free_elem)(sg_sbx_entry *e)) {
  while (!sg_list_empty(&t->ages)) {
    sg_sbx_entry *e = from_age(t->ages.next);
    sg_sbx_table_remove(t, e);
    if (free_elem)
      free_elem(e);
  }
  sg_free(t->buckets);
  sg_sbx_table_init(t);
}

sg_sbx_entry *sg_sbx_table_find(const sg_sbx_table *t, const char *key, size_t len) {
  if (t->nbuckets == 0)
    return NULL;
  uint64_t h = hash_bytes(key, len);
  for (sg_sbx_entry *e = t->buckets[h & (t->nbuckets - 1)]; e; e = e->chain)
    if (e->hash == h && e->key_len == len && memcmp(e->key, key, len) == 0)
      return e;
  return NULL;
}

static void grow(sg_sbx_table *t) {
  size_t n = t->nbuckets ? t->nbuckets * 2 : 16;
  sg_sbx_entry **b = sg_xcalloc(n, sizeof(*b));
  for (size_t i = 0; i < t->nbuckets; i++) {
    sg_sbx_entry *e = t->buckets[i];
    while (e) {
      sg_sbx_entry *next = e->chain;
      size_t j = e->hash & (n - 1);
      e->chain = b[j];
      b[j] = e;
      e = next;
    }
  }
  sg_free(t->buckets);
  t->buckets = b;
  t->nbuckets = n;
}

void sg_sbx_table_insert(sg_sbx_table *t, sg_sbx_entry *e, const char *key, size_t len) {
  if (t->count >= t->nbuckets)
    grow(t);
  e->key = sg_xstrndup(key, len);
  e->key_len = len;
  e->hash = hash_bytes(key, len);
  size_t j = e->hash & (t->nbuckets - 1);
  e->chain = t->buckets[j];
  t->buckets[j] = e;
  sg_list_push_back(&t->ages, &e->age);
  t->count++;
}

void sg_sbx_table_remove(sg_sbx_table *t, sg_sbx_entry *e) {
  sg_sbx_entry **pp = &t->buckets[e->hash & (t->nbuckets - 1)];
  while (*pp && *pp != e)
    pp = &(*pp)->chain;
  if (*pp)
    *pp = e->chain;
  e->chain = NULL;
  sg_list_remove(&e->age);
  sg_free(e->key);
  e->key = NULL;
  e->key_len = 0;
  t->count--;
}

void sg_sbx_table_touch(sg_sbx_table *t, sg_sbx_entry *e) {
  sg_list_remove(&e->age);
  sg_list_push_back(&t->ages, &e->age);
}

sg_sbx_entry *sg_sbx_table_oldest(sg_sbx_table *t) {
  return sg_list_empty(&t->ages) ? NULL : from_age(t->ages.next);
}

sg_sbx_entry *sg_sbx_table_next_newer(sg_sbx_table *t, sg_sbx_entry *e) {
  return e->age.next == &t->ages ? NULL : from_age(e->age.next);
}
