/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bulk feeder: campaign producers XADD their jobs to a second stream,
 * `sendgate:jobs:bulk` (same entry format: field `job`), which no consumer
 * group reads. The job stream `sendgate:jobs` stays the one every gateway
 * reads, so transactional jobs never queue behind a campaign there: the
 * feeder moves bulk entries into it only when it holds nothing undelivered
 * (every entry has been handed to some gateway) and only as many as the
 * gateway has room for. A transactional job XADDed meanwhile is therefore
 * behind at most one such batch.
 *
 * One script call per run, atomic in Redis (so any number of gateways can run
 * feeders on the same streams): with KEYS[1] the bulk stream, KEYS[2] the job
 * stream, ARGV[1] the group, ARGV[2] the most to move, ARGV[3] the most
 * undelivered entries the job stream may hold to be fed; undelivered =
 * XLEN(jobs) - XPENDING(jobs, group) (completed entries are deleted), the
 * oldest bulk entries are XADDed to the job stream with all their fields plus
 * `bulk_from <their bulk id>`, and XDELed from the bulk stream. Returns
 * {moved, undelivered in the job stream before, entries left in the bulk
 * stream}.
 *
 * Runs every tick_ms, at once again after a run that moved a full batch,
 * and when kicked. How many it may move comes from the owner's room callback
 * (its free places in gateway.max_in_flight, less a reserve kept for
 * transactional jobs). Single-threaded: all calls and callbacks on the loop.
 */
#ifndef SG_RD_FEEDER_H
#define SG_RD_FEEDER_H

#include <stdint.h>
#include <uv.h>

#include "redis/sg_rd_client.h"

/* Where bulk jobs wait when parked (moved back by a mover of their own, so
 * that due transactional jobs never queue behind due bulk ones). */
#define SG_RD_DELAYED_BULK_KEY "sendgate:delayed:bulk"

typedef struct sg_rd_feeder sg_rd_feeder;

typedef struct sg_rd_feeder_opts {
  sg_rd_client *client;    /* required, borrowed: e.g. sg_rd_stream_cmd_client */
  const char *bulk;        /* the bulk stream (copied); required */
  const char *stream;      /* the job stream; default "sendgate:jobs" (copied) */
  const char *group;       /* default "sendgate" (copied) */
  uint32_t batch;          /* most entries per run; default 256 */
  uint32_t low_water;      /* feed only while the job stream holds at most this many
                              undelivered entries; default 0 */
  uint32_t tick_ms;        /* between runs; default 50 */
  uint32_t cmd_timeout_ms; /* default 5000 */
  /* How many entries the owner can take now (0: none this run). */
  uint32_t (*room)(void *ud);
  void *room_ud;
} sg_rd_feeder_opts;

typedef struct sg_rd_feeder_stats {
  uint64_t runs;     /* scripts answered */
  uint64_t moved;    /* bulk entries moved into the job stream */
  uint64_t errors;   /* failed runs */
  uint64_t bulk_len; /* entries in the bulk stream at the last run */
  uint64_t backlog;  /* undelivered entries in the job stream at the last run */
} sg_rd_feeder_stats;

/* Creates the feeder on |loop|; its first run is one tick from now.
 * Returns 0 or SG_ERR_INVAL (no client, bulk stream or room callback). */
int sg_rd_feeder_new(uv_loop_t *loop, const sg_rd_feeder_opts *opts, sg_rd_feeder **out);

/* Runs now (when no run is in flight). */
void sg_rd_feeder_kick(sg_rd_feeder *f);

void sg_rd_feeder_get_stats(const sg_rd_feeder *f, sg_rd_feeder_stats *out);

/* Stops the feeder; a run in flight is waited for. |done| (may be NULL) fires
 * once nothing is left; |f| is freed right after. Close it before its client. */
void sg_rd_feeder_close(sg_rd_feeder *f, void (*done)(void *ud), void *ud);

#endif
