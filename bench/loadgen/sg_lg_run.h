/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One sendgate-loadgen run over libuv: |producers| Redis connections queue the
 * jobs with pipelined `XADD <jobs> * job <bytes>` (at most |pipeline|
 * outstanding each), paced by a timer when a rate is set; one more connection
 * first finds the current end of each results stream (XREVRANGE) and then
 * follows them with XREAD BLOCK, handing every result to the tracker. The run
 * ends when every queued job has a result, when --timeout runs out after the
 * last job was queued (or while no job could be queued), or on a second
 * SIGINT/SIGTERM (the first one stops queueing). Progress goes to stderr.
 */
#ifndef SG_LG_RUN_H
#define SG_LG_RUN_H

#include <stddef.h>

#include "sg_lg_opts.h"
#include "sg_lg_report.h"
#include "sg_lg_track.h"

/*
 * Runs the load described by |o| (borrowed; run_id set), accounting in |t|
 * (initialized for o->count jobs). On return |stop| and |tm| say how it ended
 * and how long each phase took. Installs SIGINT/SIGTERM handlers on its own
 * loop for the duration of the run.
 *
 * Returns 0 when the run took place (however it ended), or, with a one-line
 * reason in |err|: SG_ERR_PARSE (bad Redis URL), SG_ERR_TIMEOUT (Redis not
 * reached within --connect-timeout), SG_ERR_REDIS (Redis refused a command
 * the run cannot do without), or a libuv code.
 */
int sg_lg_run(const sg_lg_opts *o, sg_lg_track *t, sg_lg_stop *stop, sg_lg_times *tm, char *err,
              size_t errcap);

#endif
