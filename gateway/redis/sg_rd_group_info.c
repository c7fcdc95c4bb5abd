/* SPDX-License-Identifier: Apache-2.0 */
/* The consumer group's pending count and lag; see sg_rd_group_info.h. */
#include "redis/sg_rd_group_info.h"

#include <string.h>

#include "core/sg_mem.h"
#include "redis/sg_rd_stream_int.h"

static const redisReply *hash_get(const redisReply *h, const char *name) {
  for (size_t i = 0; i + 1 < h->elements; i += 2)
    if (h->element[i]->type == REDIS_REPLY_STRING && strcmp(h->element[i]->str, name) == 0)
      return h->element[i + 1];
  return NULL;
}

bool sg_rd_group_info_parse(sg_rd_group_info *out, const redisReply *r, const char *group) {
  *out = (sg_rd_group_info){false, 0, -1};
  if (r == NULL || r->type != REDIS_REPLY_ARRAY)
    return false;
  for (size_t i = 0; i < r->elements; i++) {
    const redisReply *g = r->element[i];
    if (g->type != REDIS_REPLY_ARRAY)
      continue;
    const redisReply *name = hash_get(g, "name"), *p = hash_get(g, "pending"),
                     *l = hash_get(g, "lag");
    if (name == NULL || name->type != REDIS_REPLY_STRING || strcmp(name->str, group) != 0)
      continue;
    if (p == NULL || p->type != REDIS_REPLY_INTEGER)
      return false;
    out->pending = p->integer;
    out->lag = l && l->type == REDIS_REPLY_INTEGER ? l->integer : -1;
    out->known = true;
    return true;
  }
  return false;
}

typedef struct ask {
  sg_rd_group_info_cb cb;
  void *ud;
  char group[]; /* the stream may be gone when the answer comes */
} ask;

static void on_groups(sg_rd_client *c, int status, const redisReply *r, void *ud) {
  (void)c;
  ask *q = ud;
  sg_rd_group_info info;
  if (status == 0)
    sg_rd_group_info_parse(&info, r, q->group);
  q->cb(status, status == 0 ? &info : NULL, q->ud);
  sg_free(q);
}

int sg_rd_group_info_get(sg_rd_stream *s, uint32_t timeout_ms, sg_rd_group_info_cb cb, void *ud) {
  size_t gl = strlen(s->group);
  ask *q = sg_xmalloc(sizeof *q + gl + 1);
  q->cb = cb;
  q->ud = ud;
  memcpy(q->group, s->group, gl + 1);
  const char *argv[] = {"XINFO", "GROUPS", s->key};
  size_t lens[] = {5, 6, strlen(s->key)};
  int rv = sg_rd_client_cmd(s->cc, 3, argv, lens, timeout_ms, on_groups, q);
  if (rv != 0)
    sg_free(q);
  return rv;
}
