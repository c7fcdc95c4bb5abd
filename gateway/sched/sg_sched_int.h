/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals shared by the scheduler's files: the lane heap (sg_lane_heap.c),
 * the lane table and the lanes' lifetime (sg_sched_lanes.c), used by the
 * state machine (sg_sched.c).
 */
#ifndef SG_SCHED_INT_H
#define SG_SCHED_INT_H

#include "sched/sg_sched.h"

/* sg_lane_heap.c: a min-heap by wake_at; a lane is in at most one heap. */
void sg_sched__lane_heap_push(sg_lane_heap *h, sg_lane *l);
void sg_sched__lane_heap_remove(sg_lane_heap *h, sg_lane *l);
/* Restores the order after l->wake_at changed. */
void sg_sched__lane_heap_fix(sg_lane_heap *h, sg_lane *l);
void sg_sched__lane_heap_free(sg_lane_heap *h);
static inline sg_lane *sg_sched__lane_heap_top(const sg_lane_heap *h) {
  return h->len ? h->v[0] : NULL;
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
