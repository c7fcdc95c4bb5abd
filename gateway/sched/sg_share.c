/* SPDX-License-Identifier: Apache-2.0 */
/* Shared budgets: the shares, the gate, the per-turn call; see sg_share.h. */
#include "sched/sg_share.h"

#include <string.h>

#include "core/sg_mem.h"

static sg_window *win(sg_lane *l, int w) {
  sg_window *v[SG_SHARE_NWIN] = {&l->req, &l->req2, &l->msg, &l->rcpt, &l->bytes};
  return v[w];
}

static uint64_t win_limit(const sg_lane *l, int w) {
  return win((sg_lane *)l, w)->limit;
}

/* A lane with nothing to share (no cap, no window) is left alone. */
static bool needs_share(const sg_lane *l) {
  if (l->cfg.max_inflight)
    return true;
  for (int w = 0; w < SG_SHARE_NWIN; w++)
    if (win_limit(l, w))
      return true;
  return false;
}

/* ---- the due heap: a build visits only the shares that have something to say ---- */

static bool has_credit(const sg_share *sh) {
  for (int w = 0; w < SG_SHARE_NWIN; w++)
    if (sh->credit[w])
      return true;
  return false;
}

static void heap_set(sg_shares *t, sg_share *sh, uint64_t due) {
  sh->due = due;
  if (due == UINT64_MAX)
    sg_heap_remove(&t->heap, sh);
  else if (sh->heap_idx == SG_HEAP_NONE)
    sg_heap_push(&t->heap, sh);
  else
    sg_heap_fix(&t->heap, sh);
}

static bool idle_lane(const sg_lane *l) {
  return l->queued == 0 && l->inflight == 0;
}

/* When |sh| has something to say next (UINT64_MAX: nothing; a share in the
 * call out waits for its answer). */
static uint64_t share_due(const sg_shares *t, const sg_share *sh) {
  const sg_lane *l = sh->lane;
  if (sh->in_call)
    return UINT64_MAX;
  if (sh->reset || sh->pause_ms || sh->company || (sh->turn_credit && has_credit(sh)))
    return 0;
  bool held = sh->slots || has_credit(sh);
  if (sh->slots > l->inflight && !sh->alone)
    return 0; /* with company a slot goes back when its request is over */
  uint64_t x = UINT64_MAX;
  if (sh->wants && l->queued)
    x = sh->next_ask;
  if (has_credit(sh) && sh->credit_until < x)
    x = sh->credit_until;
  if (idle_lane(l) && sh->idle_at + t->cfg.share_ms < x)
    x = sh->idle_at + t->cfg.share_ms; /* idle: let go, and say goodbye, after a while */
  if (held && sh->kept_at + 3 * t->cfg.lease_ms < x)
    x = sh->kept_at + 3 * t->cfg.lease_ms; /* keeps the lane's keys in Redis alive */
  return x;
}

static void touch(sg_shares *t, sg_share *sh) {
  heap_set(t, sh, share_due(t, sh));
}

void sg_share_charge(const sg_lane *l, const sg_sched_item *it, uint64_t out[SG_SHARE_NWIN]) {
  /* As sg_sched_pop charges: a request always; the message and its
   * recipients once; what could never fit a whole window is not charged. */
  uint64_t kib = sg_sched_kib(it->bytes);
  out[0] = 1;
  out[1] = 1;
  out[2] = it->counted ? 0 : 1;
  out[3] = it->counted || (l->cfg.rcpt_limit && it->rcpts > l->cfg.rcpt_limit) ? 0 : it->rcpts;
  out[4] = kib <= l->bytes.limit ? kib : 0;
  for (int w = 0; w < SG_SHARE_NWIN; w++)
    if (win_limit(l, w) == 0)
      out[w] = 0;
}

void sg_shares_init(sg_shares *t, sg_sched *s, const sg_share_cfg *cfg) {
  memset(t, 0, sizeof *t);
  t->sched = s;
  t->cfg = *cfg;
  if (t->cfg.batch == 0)
    t->cfg.batch = 1;
  if (t->cfg.batch > SG_SHARE_MAX_ITEMS)
    t->cfg.batch = SG_SHARE_MAX_ITEMS;
  t->gateways = 1;
  t->heap = (sg_heap)SG_HEAP_INIT(sg_share, due, heap_idx);
  sg_list_init(&t->all);
  s->gate = (sg_sched_gate){sg_share_admit, sg_share_paused, t, sg_share_released};
}

static void share_free(sg_shares *t, sg_share *sh, uint64_t now) {
  sg_heap_remove(&t->heap, sh);
  sg_list_remove(&sh->link);
  t->n--;
  sh->lane->share = NULL;
  sg_sched_lane_unref(t->sched, sh->lane, now);
  sg_free(sh);
}

void sg_shares_free(sg_shares *t, uint64_t now) {
  sg_list *n, *tmp;
  sg_list_foreach_safe(n, tmp, &t->all) {
    share_free(t, sg_container_of(n, sg_share, link), now);
  }
  sg_heap_free(&t->heap);
  t->sched->gate = (sg_sched_gate){NULL, NULL, NULL, NULL};
}

static sg_share *share_of(sg_shares *t, sg_lane *l) {
  if (l->share)
    return l->share;
  sg_share *sh = sg_xcalloc(1, sizeof *sh);
  sh->lane = l;
  sh->heap_idx = SG_HEAP_NONE;
  sh->due = UINT64_MAX;
  sh->kept_at = t->sched->now;
  l->share = sh;
  sg_sched_lane_ref(t->sched, l);
  sg_list_push_back(&t->all, &sh->link);
  t->n++;
  return sh;
}

uint32_t sg_share_divisor(const sg_shares *t) {
  uint32_t n = t->cfg.replicas_max ? t->cfg.replicas_max : t->gateways;
  return n ? n : 1;
}

static uint64_t divided(uint64_t limit, uint32_t n) {
  return limit / n ? limit / n : 1;
}

/* Without Redis: the lane's limits divided by the gateways, on its own windows. */
static uint64_t fallback_admit(sg_shares *t, sg_lane *l, const uint64_t *c, uint64_t now) {
  uint32_t n = sg_share_divisor(t);
  if (l->cfg.max_inflight && l->inflight >= divided(l->cfg.max_inflight, n))
    return SG_SHARE_FALLBACK_RECHECK_MS;
  for (int w = 0; w < SG_SHARE_NWIN; w++) {
    sg_window *x = win(l, w);
    if (x->limit && sg_window_used(x, now) + c[w] > divided(x->limit, n))
      return SG_SHARE_FALLBACK_RECHECK_MS;
  }
  return 0;
}

/* Whether |c| fits the share's credit at |now| (expired credit is none). */
static bool credit_fits(const sg_shares *t, const sg_share *sh, const uint64_t *c, uint64_t now) {
  bool valid = now < sh->credit_until && (!sh->turn_credit || sh->grant_call == t->calls);
  for (int w = 0; w < SG_SHARE_NWIN; w++)
    if (c[w] && (!valid || c[w] > sh->credit[w]))
      return false;
  return true;
}

/* Whether the lane may start a request on a slot it holds at |now|: a gateway
 * alone holding every slot reuses them; otherwise each start needs a slot
 * granted in this turn (so it has passed Redis and the lane's pause there). */
static bool slot_ok(const sg_shares *t, const sg_share *sh, const sg_lane *l) {
  uint32_t cap = l->cfg.max_inflight;
  if (cap == 0)
    return true;
  if (l->inflight + sh->rel_out >= sh->slots)
    return false;
  if (sh->alone && sh->slots >= cap)
    return true;
  return sh->fresh && sh->grant_call == t->calls;
}

uint64_t sg_share_admit(void *ud, sg_lane *l, const sg_sched_item *it, uint64_t now) {
  sg_shares *t = ud;
  if (!needs_share(l))
    return 0;
  uint64_t c[SG_SHARE_NWIN];
  sg_share_charge(l, it, c);
  if (t->fallback)
    return fallback_admit(t, l, c, now);
  sg_share *sh = share_of(t, l);
  if (!slot_ok(t, sh, l) || !credit_fits(t, sh, c, now)) {
    /* The next answer wakes the lane; lease_ms only bounds the wait. */
    if (!sh->wants) {
      sh->wants = true;
      touch(t, sh);
    }
    return t->cfg.lease_ms;
  }
  for (int w = 0; w < SG_SHARE_NWIN; w++)
    sh->credit[w] -= c[w];
  if (l->cfg.max_inflight && !(sh->alone && sh->slots >= l->cfg.max_inflight))
    sh->fresh--;
  return 0;
}

void sg_share_paused(void *ud, sg_lane *l, uint64_t until) {
  sg_shares *t = ud;
  if (t->applying || !needs_share(l))
    return; /* a pause Redis told us of is not published again */
  uint64_t now = t->sched->now, ms = until > now ? until - now : 1;
  sg_share *sh = share_of(t, l);
  if (ms > sh->pause_ms)
    sh->pause_ms = ms;
  touch(t, sh);
}

void sg_share_released(void *ud, sg_lane *l) {
  sg_shares *t = ud;
  sg_share *sh = l->share;
  if (sh == NULL)
    return;
  if (idle_lane(l))
    sh->idle_at = t->sched->now;
  touch(t, sh);
}

/* ---- the call ---- */

static void req_reset(sg_share_req *r) {
  r->nops = 0;
  r->ncharges = 0;
}

void sg_share_req_free(sg_share_req *r) {
  sg_free(r->ops);
  sg_free(r->charges);
  memset(r, 0, sizeof *r);
}

static sg_share_op *req_op(sg_share_req *r) {
  if (r->nops == r->cap_ops) {
    r->cap_ops = r->cap_ops ? 2 * r->cap_ops : 16;
    r->ops = sg_xrealloc(r->ops, r->cap_ops * sizeof *r->ops);
  }
  sg_share_op *op = &r->ops[r->nops];
  memset(op, 0, sizeof *op);
  return op;
}

/* Adds |n| jobs costing |c| to |op|'s last run, or starts a run (jobs of a
 * lane mostly cost the same: the script reads a few runs, not a list of jobs). */
static void req_items(sg_share_req *r, sg_share_op *op, const uint64_t *c, uint32_t n) {
  uint64_t *last = op->nruns ? &r->charges[r->ncharges - SG_SHARE_RUN] : NULL;
  op->nitems += n;
  if (last && memcmp(last + 1, c, SG_SHARE_NWIN * sizeof *c) == 0) {
    last[0] += n;
    return;
  }
  if (r->ncharges + SG_SHARE_RUN > r->cap_charges) {
    r->cap_charges = r->cap_charges ? 2 * r->cap_charges : 256;
    r->charges = sg_xrealloc(r->charges, r->cap_charges * sizeof *r->charges);
  }
  uint64_t *run = &r->charges[r->ncharges];
  run[0] = n;
  memcpy(run + 1, c, SG_SHARE_NWIN * sizeof *c);
  r->ncharges += SG_SHARE_RUN;
  op->nruns++;
}

/* Adds what is left of the credit to |op|'s give-back (it may be called twice
 * for one op: expired, then given back before an ask). */
static void give_back_credit(sg_share *sh, sg_share_op *op) {
  for (int w = 0; w < SG_SHARE_NWIN; w++) {
    if (sh->credit[w] == 0)
      continue;
    op->ret[w] += sh->credit[w];
    op->ret_sid[w] = sh->credit_sid[w];
    sh->credit[w] = 0;
  }
}

static uint32_t min_u32(uint64_t a, uint64_t b) {
  return (uint32_t)(a < b ? a : b);
}

/*
 * Of |want| extra jobs' worth costing |c| each, how many a batch may take:
 * at most 1/SG_SHARE_BATCH_SHARE of any window's limit. Credit is counted
 * in Redis when granted, so what a gateway that dies holds stays counted
 * until its window passes; a batch of large messages on the byte window
 * (150 MiB per 5 min) could otherwise hold the lane's whole window.
 */
static uint32_t batch_extra(const sg_share_op *op, const uint64_t *c, uint32_t want) {
  for (int w = 0; w < SG_SHARE_NWIN; w++)
    if (op->limit[w] && c[w]) {
      uint64_t fit = op->limit[w] / SG_SHARE_BATCH_SHARE / c[w];
      if (fit < want)
        want = (uint32_t)fit;
    }
  return want;
}

/* Asks for slots and credit for the lane's queue (op->rel already decided). */
static void ask(sg_shares *t, sg_share *sh, sg_share_op *op, sg_share_req *r, uint64_t now) {
  sg_lane *l = sh->lane;
  uint32_t cap = l->cfg.max_inflight;
  if (cap) {
    uint32_t held = op->reset ? op->claim : sh->slots - op->rel;
    uint32_t need = sh->alone ? cap : min_u32(l->queued + l->inflight, cap);
    op->want = need > held ? need - held : 0;
  }
  sg_sched_item *front = sg_sched_front(l);
  if (front == NULL)
    return;
  uint64_t c[SG_SHARE_NWIN];
  sg_share_charge(l, front, c);
  if (credit_fits(t, sh, c, now))
    return;
  give_back_credit(sh, op);
  uint32_t k = sh->alone || cap ? t->cfg.batch : SG_SHARE_CONTENDED_ITEMS;
  op->items = r->ncharges;
  /* In the order the lane admits them: transactional items, then bulk ones. */
  sg_list *qs[2] = {&l->queue, &l->bulk};
  for (int q = 0; q < 2; q++)
    for (sg_list *n = qs[q]->next; n != qs[q] && op->nitems < k; n = n->next) {
      sg_share_charge(l, sg_container_of(n, sg_sched_item, link), c);
      req_items(r, op, c, 1);
    }
  /* Alone, a whole batch: the jobs not fetched yet count as the last queued
   * one (what is not spent goes back after share_ms), so a lane whose queue
   * the fetch refills a few jobs at a time does not ask for each few. */
  uint32_t extra = sh->alone && op->nitems < k ? batch_extra(op, c, k - op->nitems) : 0;
  if (extra)
    req_items(r, op, c, extra);
}

/* A new op of |r| for |sh|: the lane's key, cap and windows. */
static sg_share_op *op_begin(sg_share *sh, sg_share_req *r) {
  sg_lane *l = sh->lane;
  sg_share_op *op = req_op(r);
  op->sh = sh;
  op->key = l->key;
  op->cap = l->cfg.max_inflight;
  op->company = sh->company;
  for (int w = 0; w < SG_SHARE_NWIN; w++) {
    op->limit[w] = win(l, w)->limit;
    op->win_ms[w] = win(l, w)->window_ms;
  }
  return op;
}

/* The op of |sh| at |now|; false when it has nothing to say. */
static bool build_op(sg_shares *t, sg_share *sh, uint64_t now, sg_share_req *r) {
  sg_lane *l = sh->lane;
  sg_share_op *op = op_begin(sh, r);
  bool say = false;
  uint32_t free_slots = sh->slots > l->inflight ? sh->slots - l->inflight : 0;
  bool linger = idle_lane(l) && now < sh->idle_at + t->cfg.share_ms;
  if (sh->reset) {
    op->reset = true;
    op->claim = l->inflight;
    say = true;
  } else if (free_slots && (!sh->alone || (idle_lane(l) && !linger))) {
    op->rel = free_slots; /* with company a slot goes back when its request is over */
    say = true;
  }
  if (has_credit(sh) &&
      (now >= sh->credit_until || sh->turn_credit || sh->company || (idle_lane(l) && !linger))) {
    give_back_credit(sh, op);
    say = true;
  }
  if (sh->company)
    say = true; /* Redis drops the credit this gateway took alone */
  if (sh->wants && now >= sh->next_ask && l->queued) {
    ask(t, sh, op, r, now);
    say = true;
  }
  if (sh->pause_ms) {
    op->pause_ms = sh->pause_ms;
    sh->pause_ms = 0;
    say = true;
  }
  if ((sh->slots || has_credit(sh)) && now >= sh->kept_at + 3 * t->cfg.lease_ms)
    say = true;
  uint32_t held = op->reset ? op->claim : sh->slots - op->rel;
  /* Nothing held and nothing needed for share_ms: this gateway leaves the
   * lane. Not at once: a lane at a moderate rate is idle between most of its
   * jobs, and a goodbye then a new share at the next job cost Redis about as
   * much as the asks (and that job a call's wait). */
  if (!held && !has_credit(sh) && !op->want && !op->nitems && idle_lane(l) && !linger) {
    op->bye = true;
    say = true;
  }
  if (say) {
    r->nops++;
    sh->in_call = true;
    sh->rel_out = op->rel;
    sh->company = false; /* told */
  }
  return say;
}

static uint64_t heartbeat_ms(const sg_shares *t) {
  uint64_t hb = t->cfg.lease_ms / 3;
  return hb && hb < SG_SHARE_HEARTBEAT_MS ? hb : SG_SHARE_HEARTBEAT_MS;
}

bool sg_share_build(sg_shares *t, uint64_t now, sg_share_req *r) {
  if (t->call_out)
    return false; /* |r| is the call's until its answer */
  req_reset(r);
  sg_share *sh;
  while ((sh = sg_heap_top(&t->heap)) != NULL && sh->due <= now) {
    sg_heap_remove(&t->heap, sh);
    sh->due = UINT64_MAX;
    if (!build_op(t, sh, now, r))
      touch(t, sh);
  }
  bool heartbeat = t->n && now >= t->last_call + heartbeat_ms(t);
  if (r->nops == 0 && !heartbeat)
    return false;
  r->sent_at = now;
  t->last_call = now;
  t->call_out = true;
  t->calls++;
  return true;
}

bool sg_share_build_bye(sg_shares *t, sg_share_req *r) {
  if (t->call_out || t->fallback)
    return false;
  req_reset(r);
  sg_list *n;
  sg_list_foreach(n, &t->all) {
    sg_share *sh = sg_container_of(n, sg_share, link);
    sg_share_op *op = op_begin(sh, r);
    op->rel = sh->slots > sh->lane->inflight ? sh->slots - sh->lane->inflight : 0;
    give_back_credit(sh, op);
    op->bye = sh->lane->inflight == 0; /* requests still out keep their leases until expiry */
    r->nops++;
  }
  return r->nops > 0;
}

uint64_t sg_share_next_call(const sg_shares *t) {
  if (t->call_out)
    return UINT64_MAX; /* its answer leads to the next */
  const sg_share *top = sg_heap_top(&t->heap);
  uint64_t at = top ? top->due : UINT64_MAX;
  if (t->n && t->last_call + heartbeat_ms(t) < at)
    at = t->last_call + heartbeat_ms(t);
  return at;
}

/* Whether the op's ask was met: the lane's head can go (or nothing was asked). */
static bool satisfied(const sg_share_op *op, const sg_share_grant *g) {
  if (op->nitems && g->items == 0)
    return false;
  if (op->want && g->slots == 0 && op->sh->slots <= op->sh->lane->inflight)
    return false;
  return true;
}

static void apply_op(sg_shares *t, const sg_share_req *r, const sg_share_op *op,
                     const sg_share_grant *g, uint64_t now) {
  sg_share *sh = op->sh;
  sg_lane *l = sh->lane;
  sh->in_call = false;
  sh->rel_out = 0;
  sh->kept_at = r->sent_at;
  if (op->reset) {
    sh->slots = op->claim;
    sh->reset = false;
  } else {
    sh->slots -= op->rel;
  }
  sh->slots += g->slots;
  sh->fresh = g->slots;
  sh->grant_call = t->calls; /* good until the next call is built */
  bool was_alone = sh->alone;
  sh->alone = g->others == 0;
  sh->others = g->others;
  if (!l->cfg.max_inflight && was_alone && !sh->alone)
    sh->company = true; /* what it took alone goes back at the next call */
  if (op->nitems) {
    for (int w = 0; w < SG_SHARE_NWIN; w++) {
      sh->credit[w] = g->credit[w];
      sh->credit_sid[w] = g->sid[w];
    }
    sh->credit_until = r->sent_at + t->cfg.share_ms;
  }
  /* No cap and company: credit is spent in this turn or given back, so a
   * pause another gateway publishes later stops this one's next request. */
  sh->turn_credit = !l->cfg.max_inflight && !sh->alone && has_credit(sh);
  bool denied = (op->want || op->nitems) && !satisfied(op, g);
  if (denied) {
    t->denials++;
    sh->next_ask = now + t->cfg.poll_ms;
  } else if (op->want || op->nitems) {
    sh->wants = false;
    sh->next_ask = 0;
  }
  /* A lane is woken to use what it got. A lane denied again keeps waiting
   * (its next ask is the glue's timer), and a renewal that asked nothing
   * wakes nothing: a lane waiting for its own window does not flap between
   * ready and waiting at every poll or renewal. */
  if (g->slots || g->items || ((op->want || op->nitems) && !denied))
    sg_sched_wake(t->sched, l);
  if (g->pause_ms && now + g->pause_ms > l->paused_until) {
    /* News only when the lane was not paused here already (by its own
     * Retry-After, which Redis then extends by a few ms at most). */
    bool news = l->paused_until <= now;
    t->applying = true;
    sg_sched_pause(t->sched, l, now + g->pause_ms);
    t->applying = false;
    if (news && t->remote_pause)
      t->remote_pause(t->remote_pause_ud, l, g->pause_ms);
  }
}

void sg_share_apply(sg_shares *t, sg_share_req *r, const sg_share_grant *g, uint32_t gateways,
                    uint64_t now) {
  t->call_out = false;
  t->fallback = false;
  t->known = true;
  t->gateways = gateways ? gateways : 1;
  for (size_t i = 0; i < r->nops; i++) {
    sg_share *sh = r->ops[i].sh;
    apply_op(t, r, &r->ops[i], &g[i], now);
    if (r->ops[i].bye && idle_lane(sh->lane) && !sh->slots && !has_credit(sh))
      share_free(t, sh, now);
    else
      touch(t, sh);
  }
  req_reset(r);
}

void sg_share_news(sg_shares *t, const char *const *keys, size_t n, uint64_t now) {
  (void)now;
  if (n == 0)
    return;
  /* Rare (a gateway arriving on a lane): a walk over the shares is fine. */
  sg_list *it;
  sg_list_foreach(it, &t->all) {
    sg_share *sh = sg_container_of(it, sg_share, link);
    for (size_t i = 0; i < n; i++) {
      if (strcmp(keys[i], sh->lane->key) != 0)
        continue;
      sh->alone = false;
      if (sh->others == 0)
        sh->others = 1;
      /* Credit taken alone on a lane without a cap is given back (Redis
       * keeps the newcomer waiting until then). */
      if (!sh->lane->cfg.max_inflight && has_credit(sh))
        sh->company = true;
      if (!sh->in_call)
        touch(t, sh);
      break;
    }
  }
}

void sg_share_lost(sg_shares *t, uint64_t now) {
  (void)now;
  sg_list *n;
  sg_list_foreach(n, &t->all) {
    sg_share *sh = sg_container_of(n, sg_share, link);
    sh->reset = true;
    sh->alone = false;
    if (!sh->in_call)
      touch(t, sh);
  }
}

void sg_share_failed(sg_shares *t, sg_share_req *r, uint64_t now) {
  t->call_out = false;
  t->fallback = true;
  t->failures++;
  for (size_t i = 0; i < r->nops; i++)
    if (r->ops[i].pause_ms > r->ops[i].sh->pause_ms)
      r->ops[i].sh->pause_ms = r->ops[i].pause_ms;
  /* What Redis holds for this gateway is unknown now: nothing is spent from
   * it, and the first call that works sets the leases to what is in flight. */
  sg_list *n;
  sg_list_foreach(n, &t->all) {
    sg_share *sh = sg_container_of(n, sg_share, link);
    sh->in_call = false;
    sh->rel_out = 0;
    sh->slots = 0;
    sh->fresh = 0;
    memset(sh->credit, 0, sizeof sh->credit);
    sh->company = false;
    sh->reset = true;
    sh->next_ask = now + t->cfg.poll_ms;
    sg_sched_wake(t->sched, sh->lane);
    touch(t, sh);
  }
  req_reset(r);
}
