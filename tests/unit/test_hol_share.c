/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for head-of-line parking with shared budgets: the estimate of
 * sched/sg_hol.c over this gateway's part of a lane's budget, and that part
 * as sched/sg_share_est.c reads it from the shares (alone, with company,
 * without Redis). */
#include "harness.h"
#include "share_fixture.h"

#include "core/sg_mem.h"
#include "sched/sg_hol.h"
#include "sched/sg_share_est.h"

/* With Redis answering: rates divided by |n|, the windows' room now not. */
static sg_hol_share part(uint32_t n, uint32_t slots) {
  sg_hol_share v;
  memset(&v, 0, sizeof v);
  v.n = n;
  v.room_n = 1;
  v.slots = slots;
  return v;
}

/* A gateway alone (n = 1, or 0) estimates exactly as without shares. */
static void t_alone_as_local(void) {
  sg_sched s;
  sg_sched_init(&s);
  sg_lane_cfg cfgs[3] = {{.max_inflight = 4},
                         {.max_inflight = 4, .req_limit = 600, .req_window_ms = 600000},
                         {.msg_limit = 30, .msg_window_ms = 60000}};
  const char *keys[3][2] = {{"cap-a", "cap-b"}, {"win-a", "win-b"}, {"msg-a", "msg-b"}};
  for (int i = 0; i < 3; i++) {
    for (uint32_t n = 0; n < 2; n++) {
      sg_lane *a = sg_sched_lane(&s, keys[i][0], &cfgs[i]);
      sg_lane *b = sg_sched_lane(&s, keys[i][1], &cfgs[i]);
      sg_hol_share v = part(n, 0);
      sg_hol_observe(a, 50);
      sg_hol_observe(b, 50);
      for (int k = 0; k < 20; k++) {
        sg_window_add(&a->req, 10, 1);
        sg_window_add(&b->req, 10, 1);
        sg_window_add(&a->msg, 10, 1);
        sg_window_add(&b->msg, 10, 1);
      }
      a->inflight = b->inflight = 3;
      ASSERT(sg_hol_rate(a, NULL) == sg_hol_rate(b, &v));
      ASSERT_EQ(sg_hol_admits(a, NULL, 20, 1000), sg_hol_admits(b, &v, 20, 1000));
      for (int k = 0; k < 5; k++)
        ASSERT_EQ(sg_hol_plan(a, NULL, 500, 20, 1000), sg_hol_plan(b, &v, 500, 20, 1000));
      a->inflight = b->inflight = 0;
    }
  }
  sg_sched_free(&s);
}

/* With company the cap and the windows are divided among the gateways. */
static void t_divided(void) {
  sg_sched s;
  sg_sched_init(&s);
  sg_lane_cfg cap = {.max_inflight = 4};
  sg_lane *c = sg_sched_lane(&s, "cap", &cap);
  sg_sched_lane_ref(&s, c);
  sg_hol_observe(c, 50);
  /* Alone: 80/s, 4 free slots + 80 within 1 s. */
  ASSERT(sg_hol_rate(c, NULL) == 80.0);
  ASSERT_EQ(84, sg_hol_admits(c, NULL, 0, 1000));
  /* Two gateways: 40/s; its part of the cap (2) + 40. */
  sg_hol_share two = part(2, 0);
  ASSERT(sg_hol_rate(c, &two) == 40.0);
  ASSERT_EQ(42, sg_hol_admits(c, &two, 0, 1000));
  c->inflight = 2;
  ASSERT_EQ(40, sg_hol_admits(c, &two, 0, 1000));
  c->inflight = 0;
  /* Three: 4/3 in flight at 50 ms; one slot now + 26. */
  sg_hol_share three = part(3, 0);
  ASSERT_EQ(27, sg_hol_admits(c, &three, 0, 1000));
  ASSERT(sg_hol_rate(c, &three) > 26.6 && sg_hol_rate(c, &three) < 26.7);
  /* The others left it every slot: it can use them (never above the cap). */
  sg_hol_share leased = part(2, 4);
  ASSERT(sg_hol_rate(c, &leased) == 80.0);
  ASSERT_EQ(4 + 40, sg_hol_admits(c, &leased, 0, 1000));
  leased.slots = 9;
  ASSERT_EQ(4 + 40, sg_hol_admits(c, &leased, 0, 1000));
  /* A pause counts as before. */
  c->paused_until = 500;
  ASSERT_EQ(2 + 20, sg_hol_admits(c, &two, 0, 1000));
  c->paused_until = 0;
  /* A window: 600 per 10 min among 3 gateways is 1/3 per second. With
   * Redis answering its room now is what this gateway's window shows free
   * (credit goes to who asks first); without Redis its part (200) less what
   * it used itself, as the fallback's gate counts. */
  sg_lane_cfg win = {.max_inflight = 4, .req_limit = 600, .req_window_ms = 600000};
  sg_lane *w = sg_sched_lane(&s, "win", &win);
  sg_sched_lane_ref(&s, w);
  sg_hol_observe(w, 50);
  sg_hol_share fb = part(3, 0);
  fb.room_n = 3;
  ASSERT(sg_hol_rate(w, &three) * 3 == 1.0);
  ASSERT(sg_hol_rate(w, &fb) * 3 == 1.0);
  ASSERT_EQ(27, sg_hol_admits(w, &three, 0, 1000)); /* the cap's part decides */
  for (int i = 0; i < 198; i++)
    sg_window_add(&w->req, 10, 1);
  ASSERT_EQ(27, sg_hol_admits(w, &three, 10, 1000)); /* 402 free */
  ASSERT_EQ(2, sg_hol_admits(w, &fb, 10, 1000));     /* 2 left of its 200 */
  for (int i = 0; i < 400; i++)
    sg_window_add(&w->req, 10, 1);
  ASSERT_EQ(2, sg_hol_admits(w, &three, 10, 1000)); /* 2 free, 1/3 s of refill: 0 */
  ASSERT_EQ(0, sg_hol_admits(w, &fb, 10, 1000));
  ASSERT_EQ(2 + 1, sg_hol_admits(w, NULL, 10, 1000)); /* alone: 1 s of refill */
  /* A message window without a cap, 2 gateways: 30/min, 0.25/s each. */
  sg_lane_cfg msg = {.msg_limit = 30, .msg_window_ms = 60000};
  sg_lane *m = sg_sched_lane(&s, "msg", &msg);
  sg_sched_lane_ref(&s, m);
  ASSERT(sg_hol_rate(m, &two) == 0.25);
  ASSERT_EQ(30 + 2, sg_hol_admits(m, &two, 0, 8000)); /* 8 s of refill at 0.25/s */
  two.room_n = 2;
  ASSERT_EQ(15 + 2, sg_hol_admits(m, &two, 0, 8000));
  ASSERT_EQ(30 + 4, sg_hol_admits(m, NULL, 0, 8000));
  sg_sched_free(&s);
}

/* Parked jobs come back at this gateway's pace: twice as far apart with two
 * gateways on the lane, and jobs park earlier. */
static void t_plan_divided(void) {
  sg_sched s;
  sg_sched_init(&s);
  sg_lane_cfg cap = {.max_inflight = 4};
  sg_lane *a = sg_sched_lane(&s, "alone", &cap);
  sg_lane *b = sg_sched_lane(&s, "shared", &cap);
  sg_sched_lane_ref(&s, a);
  sg_sched_lane_ref(&s, b);
  sg_hol_observe(a, 50);
  sg_hol_observe(b, 50);
  sg_hol_share two = part(2, 0);
  uint64_t now = 100000;
  ASSERT_EQ(0, sg_hol_plan(a, NULL, 60, now, 1000)); /* alone 60 fit in 1 s */
  ASSERT_NE(0, sg_hol_plan(b, &two, 60, now, 1000)); /* shared only 42 do */
  b->park_next = 0;
  uint64_t pa = 0, pb = 0;
  for (int i = 0; i < 100; i++) {
    uint64_t da = sg_hol_plan(a, NULL, 84, now, 1000);
    uint64_t db = sg_hol_plan(b, &two, 84, now, 1000);
    if (pa) {
      ASSERT_EQ(pa + 10, da); /* 80/s, back at 100/s */
      ASSERT_EQ(pb + 20, db); /* 40/s, back at 50/s */
    }
    pa = da;
    pb = db;
  }
  sg_sched_free(&s);
}

static void setup(fx *x, uint32_t replicas_max) {
  sg_share_cfg c = {
      .lease_ms = 3000, .share_ms = 1000, .batch = 8, .poll_ms = 5, .replicas_max = replicas_max};
  sg_lane_cfg lc = {.max_inflight = 4, .msg_limit = 100, .msg_window_ms = 60000};
  sg_share_fx_init(x, &c, "graph|a|m@x.com", &lc);
  sg_hol_observe(x->l, 50);
  sg_share_fx_push_all(x);
  sg_lane *out;
  ASSERT_NULL(sg_sched_pop(&x->s, 0, &out)); /* the gate asks first: the share exists */
  ASSERT(sg_share_build(&x->t, 0, &x->r));
}

/* Shared budgets off: no shares on the scheduler, no part, the lane's own estimate. */
static void t_est_off(void) {
  sg_sched s;
  sg_sched_init(&s);
  sg_lane_cfg cap = {.max_inflight = 4};
  sg_lane *l = sg_sched_lane(&s, "cap", &cap);
  sg_hol_share buf;
  ASSERT_NULL(sg_share_est_of(&s));
  ASSERT_NULL(sg_share_est_lane(&s, l, &buf));
  sg_sched_free(&s);
}

/* The part read from the shares: before an answer, with company, without
 * Redis, alone. */
static void t_est_from_shares(void) {
  fx x;
  setup(&x, 0);
  sg_hol_share v;
  ASSERT(sg_share_est_of(&x.s) == &x.t);
  /* No answer yet, one gateway seen: the lane's own limits. */
  ASSERT(sg_share_est_lane(&x.s, x.l, &v) == &v);
  ASSERT_EQ(1, v.n);
  ASSERT_EQ(1, v.room_n);
  ASSERT_EQ(0, v.slots);
  /* Company: 3 gateways on the Redis, one other on the lane, 2 slots and 4
   * messages' credit granted; the rates are divided by the 2 on the lane. */
  sg_share_grant g = sg_share_fx_grant(2, 4, 4, 1);
  sg_share_apply(&x.t, &x.r, &g, 3, 1);
  sg_share_est(&x.t, x.l, &v);
  ASSERT_EQ(2, v.n);
  ASSERT_EQ(1, v.room_n);
  ASSERT_EQ(2, v.slots);
  /* 2 slots + 4 * 1000 / (50 * 2) = 40; the message window's room is 100. */
  ASSERT_EQ(2 + 40, sg_hol_admits(x.l, &v, 1, 1000));
  ASSERT_EQ(84, sg_hol_admits(x.l, NULL, 1, 1000));
  /* Redis stops answering: the fallback's divisor (the gateways last seen) for
   * the rates and the room alike, nothing held. */
  ASSERT(sg_share_build(&x.t, 2, &x.r));
  sg_share_failed(&x.t, &x.r, 2);
  sg_share_est(&x.t, x.l, &v);
  ASSERT_EQ(3, v.n);
  ASSERT_EQ(3, v.room_n);
  ASSERT_EQ(0, v.slots);
  ASSERT_EQ(1 + 26, sg_hol_admits(x.l, &v, 2, 1000));
  sg_share_fx_free(&x);
  /* gateway.replicas_max decides without Redis when set. */
  setup(&x, 5);
  sg_share_failed(&x.t, &x.r, 1);
  sg_share_est(&x.t, x.l, &v);
  ASSERT_EQ(5, v.n);
  ASSERT_EQ(5, v.room_n);
  sg_share_fx_free(&x);
  /* Two others on the lane: the rates divided by 3 (4 in flight at 50 ms is
   * 80/s, 26 of them each within the second). */
  setup(&x, 0);
  g = sg_share_fx_grant(2, 4, 4, 2);
  sg_share_apply(&x.t, &x.r, &g, 3, 1);
  sg_share_est(&x.t, x.l, &v);
  ASSERT_EQ(3, v.n);
  ASSERT_EQ(2 + 26, sg_hol_admits(x.l, &v, 1, 1000));
  sg_share_fx_free(&x);
  /* News of a newcomer before the next answer counts one other. */
  setup(&x, 0);
  g = sg_share_fx_grant(4, 8, 8, 0);
  sg_share_apply(&x.t, &x.r, &g, 1, 1);
  const char *key = x.l->key;
  sg_share_news(&x.t, &key, 1, 2);
  sg_share_est(&x.t, x.l, &v);
  ASSERT_EQ(2, v.n);
  sg_share_fx_free(&x);
  /* Alone on the lane (others 0), though 2 gateways use the Redis: its own. */
  setup(&x, 0);
  g = sg_share_fx_grant(4, 8, 8, 0);
  sg_share_apply(&x.t, &x.r, &g, 2, 1);
  sg_share_est(&x.t, x.l, &v);
  ASSERT_EQ(1, v.n);
  ASSERT_EQ(4, v.slots);
  ASSERT_EQ(84, sg_hol_admits(x.l, &v, 1, 1000));
  sg_share_fx_free(&x);
}

SG_TESTS({"alone_as_local", t_alone_as_local}, {"divided", t_divided},
         {"plan_divided", t_plan_divided}, {"est_off", t_est_off},
         {"est_from_shares", t_est_from_shares})
