/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The runtime's side of the status document: fills sg_status snapshots from
 * the live state (lanes, jobs, tokens, pools, counters), answers the admin
 * endpoint's /status and /status/job/ID, and samples the consumer group's
 * lag and pending count from Redis (redis/sg_rd_group_info.h) once a second
 * for the document and the metrics (sg_status_redis.c). Internal to app/.
 */
#ifndef SG_STATUS_APP_H
#define SG_STATUS_APP_H

#include "app/sg_app_int.h"
#include "app/sg_status.h"

/*
 * Fills |out| (zeroed by the call; free with sg_status_snap_free) with the
 * runtime's state, listing at most |max_lanes| lanes, the busiest first.
 */
void sg_app__status_snap(sg_app *a, size_t max_lanes, sg_status_snap *out);

/* Fills |out| for the job held in memory with id |id|; false when none is. */
bool sg_app__status_job(sg_app *a, const char *id, sg_status_job *out);

/*
 * The admin endpoint's handler for paths under /status (|path| with its
 * query string, borrowed): writes the JSON answer into |out| and returns the
 * HTTP status (200; 404 for an unknown path; 400 for a bad query).
 */
int sg_app__status_http(void *app, const char *path, sg_buf *out);

/* Asks Redis for the consumer group's pending count and lag unless a
 * question is out or Redis is down; the answer updates a->status_redis. From
 * the stats timer. */
void sg_app__status_sample(sg_app *a);

#endif
