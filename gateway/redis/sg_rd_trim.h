/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The stream trimmer: once per tick one script call drops the job stream's
 * entries that every consumer group has been handed and has acknowledged
 * (XTRIM MINID below the oldest pending entry and the oldest entry not yet
 * delivered, over all groups), and caps the default results stream (XTRIM
 * MAXLEN ~). This replaces an XDEL per completed job and a MAXLEN per result
 * XADD: the same outcome for a fraction of Redis's work per message. An
 * entry still pending or not yet read by some group is never trimmed; while
 * one pending entry is old (a job held long), the acked ones after it cannot
 * be trimmed either, and the trimmer tells its owner so (opts.cb) that
 * completions delete their entries again meanwhile.
 *
 * Single-threaded: all calls and callbacks on the loop thread.
 */
#ifndef SG_RD_TRIM_H
#define SG_RD_TRIM_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "redis/sg_rd_client.h"

typedef struct sg_rd_trim sg_rd_trim;

typedef struct sg_rd_trim_opts {
  sg_rd_client *client;    /* required, borrowed: e.g. sg_rd_stream_cmd_client */
  const char *stream;      /* the job stream; default "sendgate:jobs" (copied) */
  const char *results;     /* the results stream to cap and watch; NULL: none (copied) */
  uint64_t results_maxlen; /* its approximate cap; 0: none */
  uint32_t tick_ms;        /* between runs; default 1000 */
  /* For a second after a run that trimmed job entries (more are likely):
   * runs come this often, so that each trim stays small (Redis frees the
   * nodes of what it trims in one go, blocking every client meanwhile);
   * default tick_ms. */
  uint32_t busy_tick_ms;
  uint32_t cmd_timeout_ms; /* default 5000 */
  uint32_t held_ms;        /* a pending entry this old holds the trim up; default 1000 */
  /* After the first answered run, and whenever one of these changed:
   * keeps_up, true after a run that trimmed everything acked, false after a
   * failed run or one held up by a pending entry older than held_ms (the
   * acked entries after it stay in the stream until it is acked: completions
   * should XDEL theirs meanwhile, see sg_rd_stream_set_trim_acked);
   * results_ok, whether the results stream is a stream or no key (false: a
   * key of another type, which refuses results: see
   * sg_rd_queue_set_default_trusted; a failed run keeps the last value).
   * May be NULL. */
  void (*cb)(bool keeps_up, bool results_ok, void *ud);
  void *ud;
} sg_rd_trim_opts;

typedef struct sg_rd_trim_stats {
  uint64_t runs;            /* scripts answered */
  uint64_t trimmed;         /* job stream entries removed */
  uint64_t results_trimmed; /* results stream entries removed */
  uint64_t errors;          /* failed runs */
  uint64_t held;            /* runs held up by a long-pending entry */
} sg_rd_trim_stats;

/* Creates the trimmer on |loop|; its first run is one tick from now.
 * Returns 0 or SG_ERR_INVAL (no client). */
int sg_rd_trim_new(uv_loop_t *loop, const sg_rd_trim_opts *opts, sg_rd_trim **out);

/* Runs now (unless a run is in flight), e.g. after a burst of completions. */
void sg_rd_trim_kick(sg_rd_trim *t);

void sg_rd_trim_get_stats(const sg_rd_trim *t, sg_rd_trim_stats *out);

/* Stops the trimmer after one last run (unless a run is in flight: that one
 * is waited for). |done| (may be NULL) fires once its reply came and
 * everything is released; |t| is freed then. */
void sg_rd_trim_close(sg_rd_trim *t, void (*done)(void *ud), void *ud);

#endif
