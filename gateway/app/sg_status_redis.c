/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The consumer group's lag and pending count for /status and the gauges
 * (sendgate_consumer_lag, sendgate_consumer_pending): one XINFO GROUPS on the
 * command connection per stats tick (once a second), at most one out at a
 * time, bounded by the Redis command timeout. The reply parser is pure.
 */
#include "app/sg_status_app.h"

#include <string.h>

#include "core/sg_clock.h"

static const redisReply *hash_get(const redisReply *h, const char *name) {
  for (size_t i = 0; i + 1 < h->elements; i += 2)
    if (h->element[i]->type == REDIS_REPLY_STRING && strcmp(h->element[i]->str, name) == 0)
      return h->element[i + 1];
  return NULL;
}

bool sg_status_parse_groups(const redisReply *r, const char *group, int64_t *pending,
                            int64_t *lag) {
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
    *pending = p->integer;
    *lag = l && l->type == REDIS_REPLY_INTEGER ? l->integer : -1;
    return true;
  }
  return false;
}

static void on_groups(sg_rd_client *cl, int status, const redisReply *r, void *ud) {
  (void)cl;
  sg_app *a = ud;
  a->status_sampling = false;
  int64_t pending = 0, lag = -1;
  if (status == 0 && sg_status_parse_groups(r, a->cfg.group, &pending, &lag)) {
    a->status_redis.group_known = true;
    a->status_redis.pending = pending;
    a->status_redis.lag = lag;
    a->status_redis.sampled_at = sg_wall_ms();
  } else if (status == 0) {
    a->status_redis.group_known = false; /* no such stream or group (yet) */
  }
}

void sg_app__status_sample(sg_app *a) {
  if (a->status_sampling || a->stopping || a->stream == NULL || !sg_rd_stream_is_up(a->stream))
    return;
  const char *argv[] = {"XINFO", "GROUPS", a->cfg.jobs_stream};
  size_t lens[] = {5, 6, strlen(a->cfg.jobs_stream)};
  if (sg_rd_client_cmd(sg_rd_stream_cmd_client(a->stream), 3, argv, lens,
                       (uint32_t)a->cfg.redis_timeout_ms, on_groups, a) == 0)
    a->status_sampling = true;
}
