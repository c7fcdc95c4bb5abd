/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Redis stream entry ids ("<ms>-<seq>") as numbers, and a small hash set of
 * them. sg_rd_stream keeps the ids it has handed out and not yet completed in
 * one, so re-reading its own pending list after a reconnect does not hand the
 * same entry out twice. Pure: no I/O.
 */
#ifndef SG_RD_IDS_H
#define SG_RD_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "18446744073709551615-18446744073709551615" plus NUL. */
#define SG_RD_ID_MAX 42

typedef struct sg_rd_id {
  uint64_t ms;
  uint64_t seq;
} sg_rd_id;

/*
 * Parses |n| bytes at |s| ("1700000000000-3"; a missing "-seq" means 0).
 * Returns 0 or SG_ERR_PARSE.
 */
int sg_rd_id_parse(const char *s, size_t n, sg_rd_id *out);

/* Writes |id| as "<ms>-<seq>" NUL-terminated into |out|; returns the length. */
size_t sg_rd_id_format(sg_rd_id id, char out[SG_RD_ID_MAX]);

/* Open-addressing set of ids (linear probing, backward-shift deletion). */
typedef struct sg_rd_idset {
  sg_rd_id *slots;
  uint8_t *used;
  size_t cap; /* power of two, or 0 before the first insert */
  size_t n;
} sg_rd_idset;

void sg_rd_idset_init(sg_rd_idset *s);
void sg_rd_idset_free(sg_rd_idset *s);
/* Adds |id|; returns false if it was already present. */
bool sg_rd_idset_add(sg_rd_idset *s, sg_rd_id id);
/* Removes |id|; returns false if it was absent. */
bool sg_rd_idset_remove(sg_rd_idset *s, sg_rd_id id);
bool sg_rd_idset_has(const sg_rd_idset *s, sg_rd_id id);

#endif
