/* SPDX-License-Identifier: Apache-2.0 */
/* The lanes' state machine: queues, round robin, admission and wake times; see sg_sched.h. */
#include "sched/sg_sched_int.h"

#include "core/sg_mem.h"

/* ---- lane state changes ---- */

static bool waits(sg_lane_state st) {
  return st == SG_LANE_WAIT_SLOT || st == SG_LANE_WAIT_TIME;
}

/* Every change of state goes through here, keeping s->waiting exact. */
static void set_state(sg_sched *s, sg_lane *l, sg_lane_state st) {
  if (waits(l->state))
    s->waiting--;
  if (waits(st))
    s->waiting++;
  l->state = st;
}

static void set_ready(sg_sched *s, sg_lane *l) {
  if (l->state == SG_LANE_WAIT_TIME)
    sg_heap_remove(&s->wait, l);
  if (l->state != SG_LANE_READY)
    sg_list_push_back(sg_sched__ready_list(s, l), &l->ready_link);
  set_state(s, l, SG_LANE_READY);
}

static void leave_ready(sg_lane *l) {
  if (l->state == SG_LANE_READY)
    sg_list_remove(&l->ready_link);
}

static void set_wait_time(sg_sched *s, sg_lane *l, uint64_t at) {
  leave_ready(l);
  l->wake_at = at;
  if (l->state == SG_LANE_WAIT_TIME) {
    sg_heap_fix(&s->wait, l);
    return;
  }
  set_state(s, l, SG_LANE_WAIT_TIME);
  sg_heap_push(&s->wait, l);
}

/* Nothing left queued on |l|. */
static void set_idle(sg_sched *s, sg_lane *l) {
  if (l->state == SG_LANE_WAIT_TIME)
    sg_heap_remove(&s->wait, l);
  leave_ready(l);
  set_state(s, l, SG_LANE_IDLE);
}

void sg_sched_push(sg_sched *s, sg_lane *l, sg_sched_item *it, bool front) {
  sg__sched_lane_unidle(s, l);
  sg_sched__queue_push(l, it, front);
  l->queued++;
  s->queued++;
  if (l->state == SG_LANE_IDLE)
    set_ready(s, l);
  else
    sg_sched__prio_pushed(s, l, it);
}

void sg_sched_remove(sg_sched *s, sg_lane *l, sg_sched_item *it) {
  sg_sched__queue_remove(l, it);
  l->queued--;
  s->queued--;
  if (l->queued == 0) {
    set_idle(s, l);
    sg__sched_lane_check_idle(s, l);
  }
}

/* 0 when the head item of |l| may go now, else the wait in ms. */
static uint64_t admission_wait(sg_lane *l, const sg_sched_item *it, uint64_t now) {
  uint64_t w = 0, x;
  if (l->paused_until > now)
    w = l->paused_until - now;
  if ((x = sg_window_wait(&l->req, now, 1)) > w)
    w = x;
  if ((x = sg_window_wait(&l->req2, now, 1)) > w)
    w = x;
  /* A request larger than the whole window can never fit: let it through
   * (as recipients below) rather than block the lane forever. */
  uint64_t kib = sg_sched_kib(it->bytes);
  if (kib <= l->bytes.limit && (x = sg_window_wait(&l->bytes, now, kib)) > w)
    w = x;
  if (!it->counted) {
    if ((x = sg_window_wait(&l->msg, now, 1)) > w)
      w = x;
    /* A job with more recipients than a whole window allows can never
     * fit; let it through rather than block the lane forever (the provider
     * refuses it and the job fails with the provider's reason). */
    uint64_t r = it->rcpts <= l->cfg.rcpt_limit || l->cfg.rcpt_limit == 0 ? it->rcpts : 0;
    if ((x = sg_window_wait(&l->rcpt, now, r)) > w)
      w = x;
  }
  return w;
}

sg_sched_item *sg_sched_pop(sg_sched *s, uint64_t now, sg_lane **lane_out) {
  if (s->max_inflight && s->inflight >= s->max_inflight)
    return NULL; /* everything waits where it is until a release */
  sg_list *n;
  while ((n = sg_list_front(&s->ready_tx)) != NULL || (n = sg_list_front(&s->ready)) != NULL) {
    sg_lane *l = sg_container_of(n, sg_lane, ready_link);
    if (l->cfg.max_inflight && l->inflight >= l->cfg.max_inflight) {
      leave_ready(l);
      set_state(s, l, SG_LANE_WAIT_SLOT);
      continue;
    }
    sg_sched_item *it = sg_sched_front(l);
    uint64_t wait = admission_wait(l, it, now);
    if (wait == 0 && s->gate.admit)
      wait = s->gate.admit(s->gate.ud, l, it, now);
    if (wait) {
      set_wait_time(s, l, wait == UINT64_MAX ? UINT64_MAX : now + wait);
      continue;
    }
    sg_sched__queue_remove(l, it);
    l->queued--;
    s->queued--;
    sg_window_add(&l->req, now, 1);
    sg_window_add(&l->req2, now, 1);
    uint64_t kib = sg_sched_kib(it->bytes);
    if (kib <= l->bytes.limit)
      sg_window_add(&l->bytes, now, kib);
    if (!it->counted) {
      sg_window_add(&l->msg, now, 1);
      if (it->rcpts <= l->cfg.rcpt_limit || l->cfg.rcpt_limit == 0)
        sg_window_add(&l->rcpt, now, it->rcpts);
      it->counted = true;
    }
    l->inflight++;
    s->inflight++;
    if (l->inflight > l->max_inflight_seen)
      l->max_inflight_seen = l->inflight;
    l->admitted++;
    /* Round robin: the lane goes to the back of the ready list. */
    leave_ready(l);
    if (l->queued) {
      sg_list_push_back(sg_sched__ready_list(s, l), &l->ready_link);
      set_state(s, l, SG_LANE_READY);
    } else {
      set_state(s, l, SG_LANE_IDLE);
    }
    *lane_out = l;
    return it;
  }
  return NULL;
}

uint64_t sg_sched_wait(sg_sched *s, sg_lane *l, const sg_sched_item *it, uint64_t now) {
  (void)s;
  return admission_wait(l, it, now);
}

void sg_sched_release(sg_sched *s, sg_lane *l) {
  if (l->inflight) {
    l->inflight--;
    if (s->inflight)
      s->inflight--;
  }
  if (l->state == SG_LANE_WAIT_SLOT)
    set_ready(s, l);
  if (s->gate.released)
    s->gate.released(s->gate.ud, l);
  sg__sched_lane_check_idle(s, l);
}

void sg_sched_pause(sg_sched *s, sg_lane *l, uint64_t until) {
  if (until <= l->paused_until)
    return;
  l->paused_until = until;
  l->pauses++;
  if (s->gate.paused)
    s->gate.paused(s->gate.ud, l, until);
  if (l->state == SG_LANE_READY)
    set_wait_time(s, l, until);
  else if (l->state == SG_LANE_WAIT_TIME && l->wake_at < until)
    set_wait_time(s, l, until);
  else if (l->idle)
    sg__sched_lane_check_idle(s, l); /* kept until the pause is over */
}

void sg_sched_wake(sg_sched *s, sg_lane *l) {
  if (l->state == SG_LANE_WAIT_TIME)
    set_ready(s, l);
}

void sg_sched_tick(sg_sched *s, uint64_t now) {
  sg_lane *l;
  if (now > s->now)
    s->now = now;
  while ((l = sg_sched__lane_heap_top(&s->wait)) != NULL && l->wake_at <= now)
    set_ready(s, l);
  sg__sched_collect(s, now, SG_SCHED_FREE_PER_TICK);
}

uint64_t sg_sched_next_wake(const sg_sched *s) {
  const sg_lane *w = sg_sched__lane_heap_top(&s->wait), *i = sg_sched__lane_heap_top(&s->idle);
  uint64_t t = w ? w->wake_at : UINT64_MAX;
  if (i) {
    uint64_t g = SG_SCHED_IDLE_GRAIN_MS, at = i->wake_at;
    if (at > s->now)
      at = at > UINT64_MAX - g ? UINT64_MAX : (at + g - 1) / g * g;
    if (at < t)
      t = at;
  }
  return t;
}
