/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals shared by the scheduler's files: the lane heaps,
 * the lane table and the lanes' lifetime (sg_sched_lanes.c), used by the
 * state machine (sg_sched.c).
 */
#ifndef SG_SCHED_INT_H
#define SG_SCHED_INT_H

#include "sched/sg_sched.h"

/* The lane heaps (wait, idle): min-heaps by wake_at (core/sg_heap.h); a lane
 * is in at most one. */
static inline sg_lane *sg_sched__lane_heap_top(const sg_heap *h) {
  return (sg_lane *)sg_heap_top(h);
}

/* sg_sched_prio.c: a lane's two queues (transactional, then bulk). */
void sg_sched__queue_push(sg_lane *l, sg_sched_item *it, bool front);
void sg_sched__queue_remove(sg_lane *l, sg_sched_item *it);
/* The ready list |l| belongs on: ready_tx while it has transactional items. */
sg_list *sg_sched__ready_list(sg_sched *s, const sg_lane *l);
/* After |it| was queued on READY lane |l|: a lane's first transactional item
 * moves it to ready_tx. */
void sg_sched__prio_pushed(sg_sched *s, sg_lane *l, const sg_sched_item *it);

/* sg_sched_lanes.c */
/* Lists |l| as idle when it has become unheld (nothing queued, in flight or
 * referenced); its time to be freed is when its pause and windows are over. */
void sg__sched_lane_check_idle(sg_sched *s, sg_lane *l);
/* Takes |l| off the idle heap: it is held again. */
void sg__sched_lane_unidle(sg_sched *s, sg_lane *l);
/* Frees up to |max| idle lanes whose time has come at |now|. */
void sg__sched_collect(sg_sched *s, uint64_t now, size_t max);

#endif
