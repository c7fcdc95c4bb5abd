/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The consumer group's lag and pending count for /status and the gauges
 * (sendgate_consumer_lag, sendgate_consumer_pending): asked of Redis
 * (redis/sg_rd_group_info.h) once per stats tick (once a second), at most
 * one question out at a time, bounded by the Redis command timeout.
 */
#include "app/sg_status_app.h"

#include "core/sg_clock.h"
#include "redis/sg_rd_group_info.h"

static void on_group(int status, const sg_rd_group_info *info, void *ud) {
  sg_app *a = ud;
  a->status_sampling = false;
  if (status != 0)
    return; /* Redis refused or went away: the last answer stands */
  a->status_redis.group_known = info->known;
  if (info->known) {
    a->status_redis.pending = info->pending;
    a->status_redis.lag = info->lag;
    a->status_redis.sampled_at = sg_wall_ms();
  }
}

void sg_app__status_sample(sg_app *a) {
  if (a->status_sampling || a->stopping || a->stream == NULL || !sg_rd_stream_is_up(a->stream))
    return;
  if (sg_rd_group_info_get(a->stream, (uint32_t)a->cfg.redis_timeout_ms, on_group, a) == 0)
    a->status_sampling = true;
}
