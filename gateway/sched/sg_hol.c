/* SPDX-License-Identifier: Apache-2.0 */
/* Head-of-line parking: the lane's short-horizon capacity and spread due times; see sg_hol.h. */
#include "sched/sg_hol.h"

static uint64_t latency(const sg_lane *l) {
  return l->lat_ms ? l->lat_ms : SG_HOL_DEFAULT_LATENCY_MS;
}

/* The gateways |sh| divides the lane's limits among (1: the lane's own limits). */
static uint64_t parts(const sg_hol_share *sh) {
  return sh && sh->n > 1 ? sh->n : 1;
}

/* |limit| divided among |n| gateways, at least 1 (as sg_share's fallback divides). */
static uint64_t divided(uint64_t limit, uint64_t n) {
  return limit / n ? limit / n : 1;
}

/* Requests this gateway may have in flight soon: its part of the cap, or the
 * slots it holds when others left it more than that. */
static uint64_t slots(const sg_lane *l, const sg_hol_share *sh) {
  uint64_t cap = l->cfg.max_inflight, s = divided(cap, parts(sh));
  if (sh && sh->slots > s)
    s = sh->slots < cap ? sh->slots : cap;
  return s;
}

void sg_hol_observe(sg_lane *l, uint64_t d) {
  if (d == 0)
    d = 1;
  if (d > 600000)
    d = 600000;
  l->lat_ms = l->lat_ms ? (uint32_t)((7 * (uint64_t)l->lat_ms + d + 7) / 8) : (uint32_t)d;
}

/* Lowers |*r| to |limit| per |window_ms| when that is lower (or the first limit). */
static void lower(double *r, double limit, uint64_t window_ms) {
  if (limit <= 0 || window_ms == 0)
    return;
  double x = limit * 1000.0 / (double)window_ms;
  if (*r == 0 || x < *r)
    *r = x;
}

double sg_hol_rate(const sg_lane *l, const sg_hol_share *sh) {
  double r = 0, n = (double)parts(sh);
  if (l->cfg.max_inflight) {
    double c = (double)l->cfg.max_inflight / n;
    if (sh && (double)sh->slots > c)
      c = (double)slots(l, sh);
    lower(&r, c, latency(l));
  }
  lower(&r, (double)l->cfg.req_limit / n, l->cfg.req_window_ms);
  lower(&r, (double)l->cfg.req2_limit / n, l->cfg.req2_window_ms);
  lower(&r, (double)l->cfg.msg_limit / n, l->cfg.msg_window_ms);
  return r;
}

/* What |w| allows this gateway within |h| ms of |now|: its room now (its
 * part |rk| of the limit less what it used itself) plus its part |k| of the
 * refill. */
static void lower_window(uint64_t *n, sg_window *w, uint64_t rk, uint64_t k, uint64_t now,
                         uint64_t h) {
  if (w->limit == 0)
    return;
  uint64_t mine = divided(w->limit, rk), used = sg_window_used(w, now);
  uint64_t x = (used < mine ? mine - used : 0) + w->limit * h / (w->window_ms * k);
  if (x < *n)
    *n = x;
}

uint64_t sg_hol_admits(sg_lane *l, const sg_hol_share *sh, uint64_t now, uint64_t h) {
  if (l->paused_until > now) {
    uint64_t p = l->paused_until - now;
    if (p >= h)
      return 0;
    h -= p;
  }
  uint64_t n = UINT64_MAX, k = parts(sh), rk = sh && sh->room_n > 1 ? sh->room_n : 1;
  if (l->cfg.max_inflight) {
    uint64_t s = slots(l, sh);
    n = (l->inflight < s ? s - l->inflight : 0) + l->cfg.max_inflight * h / (latency(l) * k);
  }
  lower_window(&n, &l->req, rk, k, now, h);
  lower_window(&n, &l->req2, rk, k, now, h);
  lower_window(&n, &l->msg, rk, k, now, h);
  return n;
}

uint64_t sg_hol_plan(sg_lane *l, const sg_hol_share *sh, uint64_t ahead, uint64_t now, uint64_t h) {
  uint64_t n = sg_hol_admits(l, sh, now, h);
  double r = sg_hol_rate(l, sh);
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
