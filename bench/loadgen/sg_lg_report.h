/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sendgate-loadgen's output: the live progress line and the final report, as
 * plain text or as one JSON object. Pure: formats into an sg_buf from the
 * tracker and the run's timings; the caller writes it out.
 */
#ifndef SG_LG_REPORT_H
#define SG_LG_REPORT_H

#include "core/sg_mem.h"
#include "sg_lg_opts.h"
#include "sg_lg_track.h"

/* How a run ended. */
typedef enum {
  SG_LG_STOP_DONE = 0,        /* every queued job has a result */
  SG_LG_STOP_TIMEOUT = 1,     /* --timeout ran out waiting for results */
  SG_LG_STOP_STALLED = 2,     /* no job could be queued for --timeout */
  SG_LG_STOP_INTERRUPTED = 3, /* a second SIGINT/SIGTERM */
  SG_LG_STOP_ERROR = 4        /* could not start (Redis unreachable) */
} sg_lg_stop;

/* "done", "timeout", "stalled", "interrupted", "error". */
const char *sg_lg_stop_name(sg_lg_stop s);

/* Timings of a run, in seconds since the first job was queued. */
typedef struct sg_lg_times {
  double elapsed_s;         /* until the report */
  double queue_s;           /* until the last XADD reply */
  double complete_s;        /* until the last matched result */
  double drain_s;           /* from the last XADD reply to the last matched result */
  uint64_t drain_completed; /* results matched in that time */
} sg_lg_times;

/*
 * Appends one progress line (no newline) for |elapsed_s| seconds into the run,
 * with the current queueing and completion rates (per second, over the last
 * interval) given by the caller.
 */
void sg_lg_report_progress(const sg_lg_track *t, double elapsed_s, double queued_per_s,
                           double completed_per_s, sg_buf *out);

/* Appends the final report as text lines (each ending in "\n"). */
void sg_lg_report_text(const sg_lg_opts *o, const sg_lg_track *t, const sg_lg_times *tm,
                       sg_lg_stop stop, sg_buf *out);

/* Appends the final report as one JSON object and a newline. */
void sg_lg_report_json(const sg_lg_opts *o, const sg_lg_track *t, const sg_lg_times *tm,
                       sg_lg_stop stop, sg_buf *out);

#endif
