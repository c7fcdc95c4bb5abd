/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Crash recovery for the job stream: entries left pending by consumers that
 * died (a crashed or killed gateway process with another consumer name) are
 * claimed into this process and handed to the runtime like fresh entries.
 *
 * Every interval (with +-25 % jitter, so many processes do not claim in step)
 * one Lua script runs on the stream's command connection:
 *   XAUTOCLAIM <jobs> <group> <consumer> <min-idle-ms> <cursor> COUNT <n>
 * and, for each claimed entry, XPENDING <jobs> <group> <id> <id> 1 for its
 * delivery count (the claim itself counts as a delivery). Running both in one
 * script means nobody can ack or claim the entries in between. Entries whose
 * payload was deleted are dropped from the pending list by Redis 7 (counted).
 *
 * For each claimed entry:
 *   - already held by this process (an own entry held longer than min-idle,
 *     which the configuration should prevent): left alone;
 *   - delivery count > max_deliveries: dead letter through the queue
 *     protocol (sg_rd_queue_dead_expired: XADD <dead> * <original fields>
 *     deliveries <n> reason max_deliveries; the EXPIRED result; XACK; XDEL;
 *     applied atomically). The result carries error_code
 *     SENDGATE_MAX_DELIVERIES, echoes the job's id, backend, campaign, metadata
 *     and created time when the job decodes, and goes to its reply stream (or
 *     the default results stream when it has none or does not decode);
 *   - otherwise: handed to the stream's on_entry (redelivered = true,
 *     deliveries set) through sg_rd_stream_deliver_held.
 * Credit: n = the credit taken from the stream (sg_rd_stream_take_credit, at
 * most |count|); what is not delivered is given back. With no credit the run
 * is skipped and retried after min(interval, 1 s). While the XAUTOCLAIM
 * cursor is not back at 0-0 the next batch runs right away; a pass ends where
 * the pending list's ids are younger than min_idle_ms by Redis's clock (no
 * entry from there on can be idle that long), so the jobs in flight on a busy
 * stream are not walked again and again.
 *
 * min_idle_ms must exceed the longest time the runtime keeps an entry in
 * memory (in-memory retry waits, request timeouts, the shutdown grace), or
 * live work of other processes gets claimed (and possibly sent twice).
 *
 * Single-threaded: all calls and callbacks on the loop thread.
 */
#ifndef SG_RD_REAPER_H
#define SG_RD_REAPER_H

#include "core/sg_mem.h"
#include "redis/sg_rd_queue.h"
#include "redis/sg_rd_stream.h"

#include <stdint.h>
#include <uv.h>

typedef struct sg_rd_reaper sg_rd_reaper;

typedef struct sg_rd_reaper_opts {
  const char *consumer;    /* required: this process's consumer name (copied) */
  const char *stream;      /* default "sendgate:jobs" (copied) */
  const char *group;       /* default "sendgate" (copied) */
  sg_rd_queue *queue;      /* required: publishes the dead letters (borrowed) */
  uint32_t interval_ms;    /* between runs; default 30000 */
  uint32_t first_delay_ms; /* before the first run; default 1000 */
  uint32_t min_idle_ms;    /* claim entries idle this long; default 300000 */
  uint32_t max_deliveries; /* above this: dead letter; default 5 */
  uint32_t count;          /* entries per run at most; default 100 */
  uint32_t cmd_timeout_ms; /* the script's reply; default 5000 */
  uint64_t seed;           /* jitter seed; 0 = from the clock */
} sg_rd_reaper_opts;

typedef struct sg_rd_reaper_stats {
  uint64_t runs;          /* scripts answered */
  uint64_t claimed;       /* entries claimed */
  uint64_t delivered;     /* handed to on_entry */
  uint64_t dead_lettered; /* over max_deliveries; dead letter confirmed */
  uint64_t deleted;       /* pending entries without payload, dropped by Redis */
  uint64_t skipped_held;  /* claimed but already held by this process */
  uint64_t errors;        /* failed runs and failed dead letters */
} sg_rd_reaper_stats;

typedef void (*sg_rd_reaper_closed_cb)(void *ud);

/*
 * Creates a reaper for the consumer |s| (borrowed; must outlive the reaper:
 * close the reaper before stopping the stream) and arms its timer on |loop|.
 * |opts| is copied.
 *
 * Returns 0 or one of: SG_ERR_INVAL (no consumer, no stream, no queue).
 */
int sg_rd_reaper_new(uv_loop_t *loop, sg_rd_stream *s, const sg_rd_reaper_opts *opts,
                     sg_rd_reaper **out);

/* Runs one pass now (unless one is in flight); the timer continues after it. */
void sg_rd_reaper_run_now(sg_rd_reaper *r);

void sg_rd_reaper_get_stats(const sg_rd_reaper *r, sg_rd_reaper_stats *out);

/*
 * Stops the reaper. A script in flight is waited for (its claimed entries are
 * not delivered; they stay pending for this consumer and come back with the
 * own-pending scan of the next start). Dead letters already queued on the
 * stream complete on their own. |done| (may be NULL) fires once the timer is
 * closed and nothing is in flight; |r| is freed right after.
 */
void sg_rd_reaper_close(sg_rd_reaper *r, sg_rd_reaper_closed_cb done, void *ud);

/* The delay before the next run: a value in [interval*3/4, interval*5/4] drawn with |rnd|. Pure. */
uint64_t sg_rd_reaper_jitter_ms(uint32_t interval_ms, uint64_t rnd);

#endif
