/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Priority within a lane: each lane keeps two FIFO queues, transactional
 * items (password resets, alerts) and bulk ones (campaigns), and admits from
 * the transactional queue first, so a message queued behind a campaign on the
 * same mailbox waits at most for the requests already in flight. A throttled
 * item goes back to the front of its own queue. sg_sched_back names the item
 * that would go last, which is what the runtime moves to the delayed set
 * first when a lane holds more than it can admit soon (app/sg_app_hol.c).
 *
 * Across lanes: ready lanes with transactional items queued are served (round
 * robin among themselves) before lanes holding only bulk items, which matters
 * when the scheduler's total cap (gateway.max_requests) is what holds jobs
 * back: the next free request goes to a transactional job.
 */
#include "sched/sg_sched_int.h"

#include "core/sg_mem.h"

static sg_list *queue_of(sg_lane *l, const sg_sched_item *it) {
  return it->bulk ? &l->bulk : &l->queue;
}

void sg_sched__queue_push(sg_lane *l, sg_sched_item *it, bool front) {
  sg_list *q = queue_of(l, it);
  if (front)
    sg_list_push_front(q, &it->link);
  else
    sg_list_push_back(q, &it->link);
  if (it->bulk)
    l->queued_bulk++;
}

void sg_sched__queue_remove(sg_lane *l, sg_sched_item *it) {
  sg_list_remove(&it->link);
  if (it->bulk && l->queued_bulk)
    l->queued_bulk--;
}

sg_sched_item *sg_sched_front(sg_lane *l) {
  sg_list *n = sg_list_front(&l->queue);
  if (n == NULL)
    n = sg_list_front(&l->bulk);
  return n ? sg_container_of(n, sg_sched_item, link) : NULL;
}

sg_sched_item *sg_sched_back(sg_lane *l) {
  sg_list *q = !sg_list_empty(&l->bulk) ? &l->bulk : &l->queue;
  return sg_list_empty(q) ? NULL : sg_container_of(q->prev, sg_sched_item, link);
}

sg_list *sg_sched__ready_list(sg_sched *s, const sg_lane *l) {
  return l->queued > l->queued_bulk ? &s->ready_tx : &s->ready;
}

void sg_sched__prio_pushed(sg_sched *s, sg_lane *l, const sg_sched_item *it) {
  if (l->state != SG_LANE_READY || it->bulk || l->queued - l->queued_bulk != 1)
    return;
  sg_list_remove(&l->ready_link);
  sg_list_push_back(&s->ready_tx, &l->ready_link);
}
