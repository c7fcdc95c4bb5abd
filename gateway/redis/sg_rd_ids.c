/* SPDX-License-Identifier: Apache-2.0 */
/* Stream entry ids and the id hash set (see sg_rd_ids.h). */
#include "redis/sg_rd_ids.h"

#include "core/sg_err.h"
#include "core/sg_mem.h"

#include <stdio.h>
#include <string.h>

static int parse_u64(const char *s, size_t n, uint64_t *out) {
  if (n == 0 || n > 20)
    return SG_ERR_PARSE;
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return SG_ERR_PARSE;
    uint64_t d = (uint64_t)(s[i] - '0');
    if (v > (UINT64_MAX - d) / 10)
      return SG_ERR_PARSE;
    v = v * 10 + d;
  }
  *out = v;
  return 0;
}

int sg_rd_id_parse(const char *s, size_t n, sg_rd_id *out) {
  const char *dash = memchr(s, '-', n);
  sg_rd_id id = {0, 0};
  size_t mslen = dash ? (size_t)(dash - s) : n;
  if (parse_u64(s, mslen, &id.ms))
    return SG_ERR_PARSE;
  if (dash && parse_u64(dash + 1, n - mslen - 1, &id.seq))
    return SG_ERR_PARSE;
  *out = id;
  return 0;
}

size_t sg_rd_id_format(sg_rd_id id, char out[SG_RD_ID_MAX]) {
  int n = snprintf(out, SG_RD_ID_MAX, "%llu-%llu", (unsigned long long)id.ms,
                   (unsigned long long)id.seq);
  return (size_t)n;
}

static size_t hash(sg_rd_id id) {
  uint64_t h = id.ms * 0x9e3779b97f4a7c15ULL ^ (id.seq + 0x632be59bd9b4e019ULL);
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 32;
  return (size_t)h;
}

static bool eq(sg_rd_id a, sg_rd_id b) {
  return a.ms == b.ms && a.seq == b.seq;
}

void sg_rd_idset_init(sg_rd_idset *s) {
  memset(s, 0, sizeof *s);
}

void sg_rd_idset_free(sg_rd_idset *s) {
  sg_free(s->slots);
  sg_free(s->used);
  memset(s, 0, sizeof *s);
}

static bool find(const sg_rd_idset *s, sg_rd_id id, size_t *pos) {
  if (s->cap == 0)
    return false;
  size_t mask = s->cap - 1;
  for (size_t i = hash(id) & mask;; i = (i + 1) & mask) {
    if (!s->used[i]) {
      *pos = i;
      return false;
    }
    if (eq(s->slots[i], id)) {
      *pos = i;
      return true;
    }
  }
}

static void grow(sg_rd_idset *s) {
  sg_rd_idset old = *s;
  s->cap = old.cap ? old.cap * 2 : 64;
  s->slots = sg_xcalloc(s->cap, sizeof *s->slots);
  s->used = sg_xcalloc(s->cap, 1);
  s->n = 0;
  for (size_t i = 0; i < old.cap; i++)
    if (old.used[i])
      sg_rd_idset_add(s, old.slots[i]);
  sg_free(old.slots);
  sg_free(old.used);
}

bool sg_rd_idset_add(sg_rd_idset *s, sg_rd_id id) {
  if ((s->n + 1) * 2 > s->cap) /* load factor <= 1/2 keeps probes short */
    grow(s);
  size_t pos;
  if (find(s, id, &pos))
    return false;
  s->slots[pos] = id;
  s->used[pos] = 1;
  s->n++;
  return true;
}

bool sg_rd_idset_has(const sg_rd_idset *s, sg_rd_id id) {
  size_t pos;
  return find(s, id, &pos);
}

bool sg_rd_idset_remove(sg_rd_idset *s, sg_rd_id id) {
  size_t pos;
  if (!find(s, id, &pos))
    return false;
  size_t mask = s->cap - 1;
  s->used[pos] = 0;
  s->n--;
  /* Backward-shift: move later members of the probe run into the hole. */
  for (size_t j = (pos + 1) & mask; s->used[j]; j = (j + 1) & mask) {
    size_t home = hash(s->slots[j]) & mask;
    /* Does |home| lie cyclically in (pos, j]? Then the entry stays. */
    bool stays = pos <= j ? (home > pos && home <= j) : (home > pos || home <= j);
    if (!stays) {
      s->slots[pos] = s->slots[j];
      s->used[pos] = 1;
      s->used[j] = 0;
      pos = j;
    }
  }
  return true;
}
