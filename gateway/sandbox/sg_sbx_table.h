/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small intrusive hash table keyed by byte strings, shared by the sandbox's
 * stores (tokens, limiters, ACS operations). Each element embeds an
 * sg_sbx_entry; the table owns a copy of the key and keeps the entries in an
 * age list (oldest first) so owners can evict the oldest when they hit their
 * cap. The table itself never frees elements: owners unlink and free them.
 * Chaining with power-of-two buckets, grown at load factor 1. Pure.
 */
#ifndef SG_SBX_TABLE_H
#define SG_SBX_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "core/sg_list.h"

typedef struct sg_sbx_entry {
  struct sg_sbx_entry *chain; /* private: next in the bucket */
  sg_list age;                /* private: position in the age list */
  uint64_t hash;              /* private */
  char *key;                  /* read-only: NUL-terminated copy, owned by the table */
  size_t key_len;             /* read-only */
} sg_sbx_entry;

typedef struct sg_sbx_table {
  sg_sbx_entry **buckets;
  size_t nbuckets; /* 0 or a power of two */
  size_t count;
  sg_list ages; /* oldest first */
} sg_sbx_table;

void sg_sbx_table_init(sg_sbx_table *t);
/*
 * Frees the bucket array and every key. Elements still linked are passed to
 * |free_elem| (may be NULL when the owner frees them itself beforehand).
 */
void sg_sbx_table_free(sg_sbx_table *t, void (*free_elem)(sg_sbx_entry *e));
/* Returns the entry for |key| (|len| bytes), or NULL. */
sg_sbx_entry *sg_sbx_table_find(const sg_sbx_table *t, const char *key, size_t len);
/*
 * Links |e| under a copy of |key|, as the newest entry. The caller has checked
 * the key is absent (duplicates would shadow each other).
 */
void sg_sbx_table_insert(sg_sbx_table *t, sg_sbx_entry *e, const char *key, size_t len);
/* Unlinks |e| and frees its key copy; |e| itself stays the caller's. */
void sg_sbx_table_remove(sg_sbx_table *t, sg_sbx_entry *e);
/* Marks |e| as the newest (for least-recently-used eviction). */
void sg_sbx_table_touch(sg_sbx_table *t, sg_sbx_entry *e);
/* The oldest entry, or NULL when empty. */
sg_sbx_entry *sg_sbx_table_oldest(sg_sbx_table *t);
/* The entry after |e| in age order (towards the newest), or NULL. */
sg_sbx_entry *sg_sbx_table_next_newer(sg_sbx_table *t, sg_sbx_entry *e);

#endif
