/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The lane table (a chained hash by key, grown and shrunk with the number of
 * lanes) and the lanes' lifetime: references, the idle heap of unheld lanes,
 * and their freeing once nothing in them could limit a request; see sg_sched.h.
 */
#include "sched/sg_sched_int.h"

#include <string.h>

#include "core/sg_mem.h"

#define MIN_BUCKETS 256 /* a power of two */

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

void sg_sched_init(sg_sched *s) {
  memset(s, 0, sizeof *s);
  sg_list_init(&s->ready);
  sg_list_init(&s->ready_tx);
  s->nbuckets = MIN_BUCKETS;
  s->buckets = sg_xcalloc(s->nbuckets, sizeof *s->buckets);
  s->wait = (sg_heap)SG_HEAP_INIT(sg_lane, wake_at, heap_idx);
  s->idle = (sg_heap)SG_HEAP_INIT(sg_lane, wake_at, heap_idx);
}

static void lane_delete(sg_lane *l) {
  sg_free(l->key);
  sg_free(l);
}

void sg_sched_free(sg_sched *s) {
  for (size_t i = 0; i < s->nbuckets; i++) {
    sg_lane *l = s->buckets[i];
    while (l) {
      sg_lane *n = l->hnext;
      lane_delete(l);
      l = n;
    }
  }
  sg_free(s->buckets);
  sg_heap_free(&s->wait);
  sg_heap_free(&s->idle);
  memset(s, 0, sizeof *s);
}

/* Moves every lane to a table of |nb| buckets. The table doubles when the
 * lanes outnumber its buckets and halves when they fall below a quarter of
 * them, so between two resizes at least a quarter as many lanes as it has
 * buckets were made or freed: constant work per lane on average. */
static void resize(sg_sched *s, size_t nb) {
  sg_lane **b = sg_xcalloc(nb, sizeof *b);
  for (size_t i = 0; i < s->nbuckets; i++) {
    sg_lane *l = s->buckets[i];
    while (l) {
      sg_lane *n = l->hnext;
      size_t k = l->hash & (nb - 1);
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
  uint64_t h = hash_str(key);
  size_t k = h & (s->nbuckets - 1);
  for (sg_lane *l = s->buckets[k]; l; l = l->hnext)
    if (l->hash == h && strcmp(l->key, key) == 0)
      return l;
  if (s->nlanes + 1 > s->nbuckets) {
    resize(s, s->nbuckets * 2);
    k = h & (s->nbuckets - 1);
  }
  sg_lane *l = sg_xcalloc(1, sizeof *l);
  l->heap_idx = SG_HEAP_NONE;
  l->key = sg_xstrdup(key);
  l->hash = h;
  l->cfg = *cfg;
  sg_window_init(&l->req, cfg->req_limit, cfg->req_window_ms);
  sg_window_init(&l->req2, cfg->req2_limit, cfg->req2_window_ms);
  sg_window_init(&l->msg, cfg->msg_limit, cfg->msg_window_ms);
  sg_window_init(&l->rcpt, cfg->rcpt_limit, cfg->rcpt_window_ms);
  sg_window_init(&l->bytes, sg_sched_kib(cfg->bytes_limit), cfg->bytes_window_ms);
  sg_list_init(&l->queue);
  sg_list_init(&l->bulk);
  sg_list_node_init(&l->ready_link);
  l->state = SG_LANE_IDLE;
  l->hnext = s->buckets[k];
  s->buckets[k] = l;
  s->nlanes++;
  sg__sched_lane_check_idle(s, l); /* unheld until the caller refs it or pushes */
  return l;
}

/* From when nothing in |l| could hold a request back: its pause is over and
 * its windows hold nothing (0 for a lane without limits or use). */
static uint64_t free_at(const sg_lane *l) {
  uint64_t t = l->paused_until, x;
  if ((x = sg_window_drained_at(&l->req)) > t)
    t = x;
  if ((x = sg_window_drained_at(&l->req2)) > t)
    t = x;
  if ((x = sg_window_drained_at(&l->msg)) > t)
    t = x;
  if ((x = sg_window_drained_at(&l->bytes)) > t)
    t = x;
  if ((x = sg_window_drained_at(&l->rcpt)) > t)
    t = x;
  return t;
}

void sg__sched_lane_check_idle(sg_sched *s, sg_lane *l) {
  if (l->queued || l->inflight || l->refs)
    return;
  uint64_t t = free_at(l);
  if (l->idle) { /* a pause may have pushed its time back */
    if (t != l->wake_at) {
      l->wake_at = t;
      sg_heap_fix(&s->idle, l);
    }
    return;
  }
  l->idle = true;
  l->wake_at = t;
  sg_heap_push(&s->idle, l);
}

void sg__sched_lane_unidle(sg_sched *s, sg_lane *l) {
  if (!l->idle)
    return;
  sg_heap_remove(&s->idle, l);
  l->idle = false;
  l->wake_at = 0;
}

static void lane_free(sg_sched *s, sg_lane *l) {
  sg__sched_lane_unidle(s, l);
  sg_lane **p = &s->buckets[l->hash & (s->nbuckets - 1)];
  while (*p != l)
    p = &(*p)->hnext;
  *p = l->hnext;
  s->nlanes--;
  lane_delete(l);
  if (s->nbuckets > MIN_BUCKETS && s->nlanes < s->nbuckets / 4)
    resize(s, s->nbuckets / 2);
}

void sg__sched_collect(sg_sched *s, uint64_t now, size_t max) {
  sg_lane *l;
  while (max-- > 0 && (l = sg_sched__lane_heap_top(&s->idle)) != NULL && l->wake_at <= now)
    lane_free(s, l);
}

void sg_sched_lane_ref(sg_sched *s, sg_lane *l) {
  l->refs++;
  sg__sched_lane_unidle(s, l);
}

void sg_sched_lane_unref(sg_sched *s, sg_lane *l, uint64_t now) {
  if (l->refs)
    l->refs--;
  if (now > s->now)
    s->now = now;
  sg__sched_lane_check_idle(s, l);
  sg__sched_collect(s, now, SG_SCHED_FREE_PER_UNREF);
}
