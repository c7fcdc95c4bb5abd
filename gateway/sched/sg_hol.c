/* SPDX-License-Identifier: Apache-2.0 */
/* Head-of-line parking: the lane's short-horizon capacity and spread due times; see sg_hol.h. */
#include "sched/sg_hol.h"

static uint64_t latency(const sg_lane *l) {
  return l->lat_ms ? l->lat_ms : SG_HOL_DEFAULT_LATENCY_MS;
}

void sg_hol_observe(sg_lane *l, uint64_t d) {
  if (d == 0)
    d = 1;
  if (d > 600000)
    d = 600000;
  l->lat_ms = l->lat_ms ? (uint32_t)((7 * (uint64_t)l->lat_ms + d + 7) / 8) : (uint32_t)d;
}

/* Lowers |*r| to |limit| per |window_ms| when that is lower (or the first limit). */
static void lower(double *r, uint64_t limit, uint64_t window_ms) {
  if (limit == 0 || window_ms == 0)
    return;
  double x = (double)limit * 1000.0 / (double)window_ms;
  if (*r == 0 || x < *r)
    *r = x;
}

double sg_hol_rate(const sg_lane *l) {
  double r = 0;
  lower(&r, l->cfg.max_inflight, latency(l));
  lower(&r, l->cfg.req_limit, l->cfg.req_window_ms);
  lower(&r, l->cfg.req2_limit, l->cfg.req2_window_ms);
  lower(&r, l->cfg.msg_limit, l->cfg.msg_window_ms);
  return r;
}

/* What |w| allows within |h| ms of |now|: its room now plus its refill. */
static void lower_window(uint64_t *n, sg_window *w, uint64_t now, uint64_t h) {
  if (w->limit == 0)
    return;
  uint64_t used = sg_window_used(w, now);
  uint64_t x = (used < w->limit ? w->limit - used : 0) + w->limit * h / w->window_ms;
  if (x < *n)
    *n = x;
}

uint64_t sg_hol_admits(sg_lane *l, uint64_t now, uint64_t h) {
  if (l->paused_until > now) {
    uint64_t p = l->paused_until - now;
    if (p >= h)
      return 0;
    h -= p;
  }
  uint64_t n = UINT64_MAX;
  if (l->cfg.max_inflight) {
    uint64_t cap = l->cfg.max_inflight;
    n = (l->inflight < cap ? cap - l->inflight : 0) + cap * h / latency(l);
  }
  lower_window(&n, &l->req, now, h);
  lower_window(&n, &l->req2, now, h);
  lower_window(&n, &l->msg, now, h);
  return n;
}

uint64_t sg_hol_plan(sg_lane *l, uint64_t ahead, uint64_t now, uint64_t h) {
  uint64_t n = sg_hol_admits(l, now, h);
  double r = sg_hol_rate(l);
  if (ahead < n || r <= 0)
    return 0;
  /* One admission interval per job; the first one back finds the lane's
   * queue about half drained, so it does not come back too early. */
  uint64_t step = (uint64_t)(1000.0 / (r * SG_HOL_OVERSUPPLY));
  if (step == 0)
    step = 1;
  uint64_t earliest = now + h / 2, drained = ahead - n / 2;
  if (drained > UINT64_MAX / step / 2)
    drained = UINT64_MAX / step / 2;
  if (now + drained * step > earliest)
    earliest = now + drained * step;
  if (l->paused_until > earliest) /* nothing goes before the pause is over */
    earliest = l->paused_until;
  uint64_t due = l->park_next > earliest ? l->park_next : earliest;
  l->park_next = due + step;
  return due;
}
