/* SPDX-License-Identifier: Apache-2.0 */
/* Lanes, round robin and the wake-time heap; see sg_sched.h. */
#include "sched/sg_sched.h"

#include <string.h>

#include "core/sg_mem.h"

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

/* ---- wake-time min-heap ---- */

static void heap_swap(sg_sched *s, size_t a, size_t b) {
  sg_lane *t = s->heap[a];
  s->heap[a] = s->heap[b];
  s->heap[b] = t;
  s->heap[a]->heap_idx = a;
  s->heap[b]->heap_idx = b;
}

static void heap_up(sg_sched *s, size_t i) {
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (s->heap[p]->wake_at <= s->heap[i]->wake_at)
      break;
    heap_swap(s, p, i);
    i = p;
  }
}

static void heap_down(sg_sched *s, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < s->heap_len && s->heap[l]->wake_at < s->heap[m]->wake_at)
      m = l;
    if (r < s->heap_len && s->heap[r]->wake_at < s->heap[m]->wake_at)
      m = r;
    if (m == i)
      return;
    heap_swap(s, i, m);
    i = m;
  }
}

static void heap_push(sg_sched *s, sg_lane *l) {
  if (s->heap_len == s->heap_cap) {
    s->heap_cap = s->heap_cap ? s->heap_cap * 2 : 16;
    s->heap = sg_xrealloc(s->heap, s->heap_cap * sizeof *s->heap);
  }
  l->heap_idx = s->heap_len;
  s->heap[s->heap_len++] = l;
  heap_up(s, l->heap_idx);
}

static void heap_remove(sg_sched *s, sg_lane *l) {
  size_t i = l->heap_idx;
  s->heap_len--;
  if (i != s->heap_len) {
    s->heap[i] = s->heap[s->heap_len];
    s->heap[i]->heap_idx = i;
    heap_down(s, i);
    heap_up(s, i);
  }
}

/* ---- lane state changes ---- */

static void set_ready(sg_sched *s, sg_lane *l) {
  if (l->state == SG_LANE_WAIT_TIME)
    heap_remove(s, l);
  if (l->state != SG_LANE_READY)
    sg_list_push_back(&s->ready, &l->ready_link);
  l->state = SG_LANE_READY;
}

static void leave_ready(sg_lane *l) {
  if (l->state == SG_LANE_READY)
    sg_list_remove(&l->ready_link);
}

static void set_wait_time(sg_sched *s, sg_lane *l, uint64_t at) {
  leave_ready(l);
  if (l->state == SG_LANE_WAIT_TIME) {
    l->wake_at = at;
    heap_down(s, l->heap_idx);
    heap_up(s, l->heap_idx);
    return;
  }
  l->state = SG_LANE_WAIT_TIME;
  l->wake_at = at;
  heap_push(s, l);
}

void sg_sched_init(sg_sched *s) {
  memset(s, 0, sizeof *s);
  sg_list_init(&s->ready);
  s->nbuckets = 256;
  s->buckets = sg_xcalloc(s->nbuckets, sizeof *s->buckets);
}

void sg_sched_free(sg_sched *s) {
  for (size_t i = 0; i < s->nbuckets; i++) {
    sg_lane *l = s->buckets[i];
    while (l) {
      sg_lane *n = l->hnext;
      sg_free(l->key);
      sg_free(l);
      l = n;
    }
  }
  sg_free(s->buckets);
  sg_free(s->heap);
  memset(s, 0, sizeof *s);
}

static void rehash(sg_sched *s) {
  size_t nb = s->nbuckets * 2;
  sg_lane **b = sg_xcalloc(nb, sizeof *b);
  for (size_t i = 0; i < s->nbuckets; i++) {
    sg_lane *l = s->buckets[i];
    while (l) {
      sg_lane *n = l->hnext;
      size_t k = hash_str(l->key) & (nb - 1);
      l->hnext = b[k];
      b[k] = l;
      l = n;
    }
  }
  sg_free(s->buckets);
  s->buckets = b;
  s->nbuckets = nb;
}

sg_lane *sg_sched_lane(sg_sched *s, const char *key, const sg_lane_cfg *cfg) {
  size_t k = hash_str(key) & (s->nbuckets - 1);
  for (sg_lane *l = s->buckets[k]; l; l = l->hnext)
    if (strcmp(l->key, key) == 0)
      return l;
  if (s->nlanes + 1 > s->nbuckets) {
    rehash(s);
    k = hash_str(key) & (s->nbuckets - 1);
  }
  sg_lane *l = sg_xcalloc(1, sizeof *l);
  l->key = sg_xstrdup(key);
  l->cfg = *cfg;
  sg_window_init(&l->req, cfg->req_limit, cfg->req_window_ms);
  sg_window_init(&l->req2, cfg->req2_limit, cfg->req2_window_ms);
  sg_window_init(&l->msg, cfg->msg_limit, cfg->msg_window_ms);
  sg_window_init(&l->rcpt, cfg->rcpt_limit, cfg->rcpt_window_ms);
  sg_list_init(&l->queue);
  sg_list_node_init(&l->ready_link);
  l->state = SG_LANE_IDLE;
  l->hnext = s->buckets[k];
  s->buckets[k] = l;
  s->nlanes++;
  return l;
}

void sg_sched_push(sg_sched *s, sg_lane *l, sg_sched_item *it, bool front) {
  if (front)
    sg_list_push_front(&l->queue, &it->link);
  else
    sg_list_push_back(&l->queue, &it->link);
  l->queued++;
  s->queued++;
  if (l->state == SG_LANE_IDLE)
    set_ready(s, l);
}

void sg_sched_remove(sg_sched *s, sg_lane *l, sg_sched_item *it) {
  sg_list_remove(&it->link);
  l->queued--;
  s->queued--;
  if (l->queued == 0) {
    if (l->state == SG_LANE_WAIT_TIME)
      heap_remove(s, l);
    leave_ready(l);
    l->state = SG_LANE_IDLE;
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
  while ((n = sg_list_front(&s->ready)) != NULL) {
    sg_lane *l = sg_container_of(n, sg_lane, ready_link);
    if (l->cfg.max_inflight && l->inflight >= l->cfg.max_inflight) {
      leave_ready(l);
      l->state = SG_LANE_WAIT_SLOT;
      continue;
    }
    sg_sched_item *it = sg_container_of(sg_list_front(&l->queue), sg_sched_item, link);
    uint64_t wait = admission_wait(l, it, now);
    if (wait) {
      set_wait_time(s, l, wait == UINT64_MAX ? UINT64_MAX : now + wait);
      continue;
    }
    sg_list_remove(&it->link);
    l->queued--;
    s->queued--;
    sg_window_add(&l->req, now, 1);
    sg_window_add(&l->req2, now, 1);
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
      sg_list_push_back(&s->ready, &l->ready_link);
      l->state = SG_LANE_READY;
    } else {
      l->state = SG_LANE_IDLE;
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
}

void sg_sched_pause(sg_sched *s, sg_lane *l, uint64_t until) {
  if (until <= l->paused_until)
    return;
  l->paused_until = until;
  l->pauses++;
  if (l->state == SG_LANE_READY)
    set_wait_time(s, l, until);
  else if (l->state == SG_LANE_WAIT_TIME && l->wake_at < until)
    set_wait_time(s, l, until);
}

void sg_sched_tick(sg_sched *s, uint64_t now) {
  while (s->heap_len && s->heap[0]->wake_at <= now)
    set_ready(s, s->heap[0]);
}

uint64_t sg_sched_next_wake(const sg_sched *s) {
  return s->heap_len ? s->heap[0]->wake_at : UINT64_MAX;
}
