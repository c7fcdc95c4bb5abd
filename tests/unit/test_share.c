/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sched/sg_share: the gate on the scheduler, the per-turn call
 * it builds (asks, give-backs, pauses, goodbyes), answers applied, and the
 * fallback to divided limits without Redis. */
#include "harness.h"
#include "share_fixture.h"

#include "core/sg_mem.h"
#include "sched/sg_share.h"

static void setup(fx *x, uint32_t cap, uint64_t msg_limit) {
  sg_share_cfg c = {.lease_ms = 3000, .share_ms = 1000, .batch = 8, .poll_ms = 5};
  sg_lane_cfg lc = {.max_inflight = cap, .msg_limit = msg_limit, .msg_window_ms = 60000};
  sg_share_fx_init(x, &c, "graph|a|m@x.com", &lc);
  sg_share_fx_push_all(x);
}

static int pop_all(fx *x, uint64_t now) {
  int n = 0;
  sg_lane *l;
  while (sg_sched_pop(&x->s, now, &l))
    n++;
  return n;
}

/* An answer whose message credit was counted in Redis's window slot 77. */
static sg_share_grant grant(uint32_t slots, uint32_t nitems, uint64_t msg, uint32_t others) {
  sg_share_grant g = sg_share_fx_grant(slots, nitems, msg, others);
  g.sid[2] = 77;
  return g;
}

/* The first turn: nothing goes before Redis answers; then the answer |g|
 * (|gws| gateways) is applied at 1 and the lane admits what it allows. */
static int first_grant(fx *x, sg_share_grant g, uint32_t gws) {
  ASSERT_EQ(0, pop_all(x, 0));
  ASSERT(sg_share_build(&x->t, 0, &x->r));
  sg_share_apply(&x->t, &x->r, &g, gws, 1);
  return pop_all(x, 1);
}

/* Nothing goes before Redis granted it; alone, a gateway takes every slot and
 * a batch of credit, then admits locally without asking again. */
static void t_alone_batch(void) {
  fx x;
  setup(&x, 4, 100);
  ASSERT_EQ(0, pop_all(&x, 0));
  ASSERT(sg_share_build(&x.t, 0, &x.r));
  ASSERT_EQ(1, x.r.nops);
  sg_share_op *op = &x.r.ops[0];
  /* Unknown company: it asks for what its queue can use (its cap). */
  ASSERT_EQ(4, op->want);
  ASSERT_EQ(8, op->nitems); /* a batch: the fresh slot, not the credit, sees pauses */
  ASSERT_EQ(1, op->nruns);  /* the jobs cost the same */
  ASSERT_EQ(8, x.r.charges[op->items + 0]); /* eight of them */
  ASSERT_EQ(1, x.r.charges[op->items + 3]); /* a message each */
  ASSERT_EQ(0, x.r.charges[op->items + 1]); /* no request window: not charged */
  ASSERT(!sg_share_build(&x.t, 0, &x.r));   /* one call at a time */
  sg_share_grant g = grant(4, 4, 4, 0);
  sg_share_apply(&x.t, &x.r, &g, 1, 1);
  ASSERT_EQ(4, pop_all(&x, 1));
  ASSERT_EQ(4, x.l->inflight);
  /* Alone now: the next ask takes a whole batch. */
  for (int i = 0; i < 4; i++)
    sg_sched_release(&x.s, x.l);
  ASSERT_EQ(0, pop_all(&x, 2)); /* the slots are held, the credit is spent */
  ASSERT(sg_share_build(&x.t, 2, &x.r));
  op = &x.r.ops[0];
  ASSERT_EQ(0, op->rel); /* alone with a queue: slots are kept */
  ASSERT_EQ(0, op->want);
  ASSERT_EQ(8, op->nitems);
  g = grant(0, 8, 8, 0);
  sg_share_apply(&x.t, &x.r, &g, 1, 3);
  ASSERT_EQ(4, pop_all(&x, 3)); /* the cap of 4 holds */
  sg_share_fx_free(&x);
}

/* With company: a slot goes back when its request is over, and a denied ask
 * is repeated after poll_ms. */
static void t_contended(void) {
  fx x;
  setup(&x, 4, 0);
  ASSERT_EQ(0, pop_all(&x, 0));
  ASSERT(sg_share_build(&x.t, 0, &x.r));
  ASSERT_EQ(0, x.r.ops[0].nitems); /* no window: no credit asked */
  sg_share_grant g = grant(2, 0, 0, 2);
  sg_share_apply(&x.t, &x.r, &g, 3, 1);
  ASSERT_EQ(2, pop_all(&x, 1));
  sg_sched_release(&x.s, x.l);
  /* The slot freed is not reused: each request start passes Redis. */
  ASSERT_EQ(0, pop_all(&x, 2));
  ASSERT(sg_share_build(&x.t, 2, &x.r));
  ASSERT_EQ(1, x.r.ops[0].rel);
  ASSERT_EQ(3, x.r.ops[0].want); /* its queue could use the cap */
  g = grant(0, 0, 0, 2);
  sg_share_apply(&x.t, &x.r, &g, 3, 3);
  ASSERT_EQ(1, x.t.denials);
  ASSERT_EQ(0, pop_all(&x, 3));
  ASSERT(!sg_share_build(&x.t, 4, &x.r)); /* before poll_ms */
  ASSERT_EQ(8, sg_share_next_call(&x.t));
  ASSERT(sg_share_build(&x.t, 8, &x.r));
  ASSERT_EQ(3, x.r.ops[0].want);
  sg_share_fx_free(&x);
}

/* While a call is out a lane admits on what it keeps, never on the slots
 * that call gives back. */
static void t_during_call(void) {
  fx x;
  setup(&x, 4, 0);
  ASSERT_EQ(4, first_grant(&x, grant(4, 0, 0, 0), 1)); /* alone */
  sg_share_grant g;
  sg_sched_release(&x.s, x.l);
  sg_sched_release(&x.s, x.l);
  ASSERT(sg_share_build(&x.t, 2000, &x.r)); /* a heartbeat: no op, nothing given back */
  ASSERT_EQ(0, x.r.nops);
  ASSERT_EQ(2, pop_all(&x, 2000)); /* admits meanwhile */
  sg_share_apply(&x.t, &x.r, &g, 2, 2001);
  const char *news[1] = {x.l->key}; /* company now */
  sg_share_news(&x.t, news, 1, 2001);
  sg_sched_release(&x.s, x.l);
  sg_sched_release(&x.s, x.l);
  ASSERT(sg_share_build(&x.t, 2002, &x.r));
  ASSERT_EQ(2, x.r.ops[0].rel);
  ASSERT_EQ(0, pop_all(&x, 2002)); /* not on the two going back */
  sg_share_fx_free(&x);
}

/* A Retry-After received here is published; one from Redis pauses the lane
 * and is not published again. */
static void t_pauses(void) {
  fx x;
  setup(&x, 4, 0);
  ASSERT_EQ(4, first_grant(&x, grant(4, 0, 0, 1), 2));
  sg_share_grant g;
  sg_sched_tick(&x.s, 10);
  sg_sched_pause(&x.s, x.l, 2010);
  ASSERT(sg_share_build(&x.t, 10, &x.r));
  ASSERT_EQ(2000, x.r.ops[0].pause_ms);
  g = grant(0, 0, 0, 1);
  g.pause_ms = 3000; /* another gateway's is longer */
  sg_share_apply(&x.t, &x.r, &g, 2, 11);
  ASSERT_EQ(3011, x.l->paused_until);
  ASSERT(!sg_share_build(&x.t, 12, &x.r)); /* nothing to publish */
  sg_share_fx_free(&x);
}

/* Without Redis: the cap divided by replicas_max, on the lane's own count;
 * the first call after sets the leases to what is in flight. */
static void t_fallback(void) {
  fx x;
  setup(&x, 4, 0);
  x.t.cfg.replicas_max = 2;
  ASSERT_EQ(0, pop_all(&x, 0));
  ASSERT(sg_share_build(&x.t, 0, &x.r));
  sg_share_failed(&x.t, &x.r, 1);
  ASSERT(x.t.fallback);
  ASSERT_EQ(2, sg_share_divisor(&x.t));
  ASSERT_EQ(2, pop_all(&x, 2));
  ASSERT(sg_share_build(&x.t, 10, &x.r));
  ASSERT(x.r.ops[0].reset);
  ASSERT_EQ(2, x.r.ops[0].claim);
  sg_share_grant g = grant(1, 0, 0, 0);
  sg_share_apply(&x.t, &x.r, &g, 1, 11);
  ASSERT(!x.t.fallback);
  ASSERT_EQ(3, ((sg_share *)x.l->share)->slots);
  sg_share_fx_free(&x);
}

/* A lane with nothing queued, in flight or held says goodbye and its share
 * (and the reference on the lane) goes. */
static void t_goodbye(void) {
  fx x;
  setup(&x, 4, 0);
  ASSERT_EQ(0, pop_all(&x, 0));
  ASSERT(sg_share_build(&x.t, 0, &x.r));
  sg_share_grant g = grant(4, 0, 0, 0);
  sg_share_apply(&x.t, &x.r, &g, 2, 1);
  while (x.l->queued) {
    ASSERT_EQ(4, pop_all(&x, 1));
    for (int i = 0; i < 4; i++)
      sg_sched_release(&x.s, x.l);
  }
  /* Alone, an idle lane keeps what it holds share_ms, in case more comes. */
  ASSERT(!sg_share_build(&x.t, 2, &x.r));
  ASSERT(sg_share_build(&x.t, 1000, &x.r));
  ASSERT_EQ(4, x.r.ops[0].rel);
  ASSERT(x.r.ops[0].bye);
  g = grant(0, 0, 0, 0);
  sg_share_apply(&x.t, &x.r, &g, 2, 1001);
  ASSERT_EQ(0, x.t.n);
  ASSERT_EQ(0, x.s.nlanes); /* the share's reference was the last: the lane is freed */
  sg_share_fx_free(&x);
}

/* Credit not spent in share_ms goes back to the sub-window it was counted in,
 * in the same op as the next ask. */
static void t_expired_credit(void) {
  fx x;
  setup(&x, 4, 100);
  ASSERT_EQ(4, first_grant(&x, grant(4, 4, 6, 0), 1));
  for (int i = 0; i < 4; i++)
    sg_sched_release(&x.s, x.l);
  ASSERT_EQ(0, pop_all(&x, 1000)); /* the 2 left expired at 1000 */
  ASSERT(sg_share_build(&x.t, 1000, &x.r));
  ASSERT_EQ(2, x.r.ops[0].ret[2]);
  ASSERT_EQ(77, x.r.ops[0].ret_sid[2]);
  ASSERT_EQ(8, x.r.ops[0].nitems);
  sg_share_fx_free(&x);
}

/* Only its heartbeats until |to|: calls with no op, answered at once. */
static void heartbeats_until(fx *x, uint64_t from, uint64_t to) {
  for (uint64_t now = from; now < to; now++)
    if (sg_share_build(&x->t, now, &x->r)) {
      ASSERT_EQ(0, x->r.nops);
      sg_share_apply(&x->t, &x->r, NULL, 1, now);
    }
}

/* A lane with nothing held says goodbye only after share_ms idle: a job that
 * comes meanwhile asks on the same share (no goodbye, no new share); idle
 * share_ms after its last job, the lane says goodbye and its share goes. */
static void t_linger(void) {
  fx x;
  sg_share_cfg c = {.lease_ms = 3000, .share_ms = 1000, .batch = 8, .poll_ms = 5};
  sg_lane_cfg lc = {.msg_limit = 6400, .msg_window_ms = 60000}; /* no slot cap */
  sg_share_fx_init(&x, &c, "graph|a|m@x.com", &lc);
  sg_sched_push(&x.s, x.l, &x.items[0], false);
  ASSERT_EQ(1, first_grant(&x, grant(0, 1, 1, 0), 1)); /* credit for exactly one */
  sg_sched_tick(&x.s, 5);
  sg_sched_release(&x.s, x.l); /* idle at 5, nothing held */
  const sg_share *sh = x.l->share;
  ASSERT(sh != NULL);
  heartbeats_until(&x, 5, 500);
  ASSERT_EQ(1, x.t.n);
  sg_sched_push(&x.s, x.l, &x.items[1], false);
  ASSERT_EQ(0, pop_all(&x, 500)); /* no credit left */
  ASSERT(sg_share_build(&x.t, 500, &x.r));
  ASSERT_EQ(1, x.r.nops);
  ASSERT(x.r.ops[0].sh == sh); /* the same share */
  ASSERT(!x.r.ops[0].bye);
  ASSERT_EQ(8, x.r.ops[0].nitems);
  sg_share_grant g = grant(0, 1, 1, 0);
  sg_share_apply(&x.t, &x.r, &g, 1, 501);
  ASSERT_EQ(1, pop_all(&x, 501));
  sg_sched_tick(&x.s, 600);
  sg_sched_release(&x.s, x.l); /* idle at 600 */
  heartbeats_until(&x, 600, 1600);
  ASSERT_EQ(1, x.t.n);
  ASSERT(sg_share_build(&x.t, 1600, &x.r));
  ASSERT_EQ(1, x.r.nops);
  ASSERT(x.r.ops[0].bye);
  g = grant(0, 0, 0, 0);
  sg_share_apply(&x.t, &x.r, &g, 1, 1601);
  ASSERT_EQ(0, x.t.n);
  sg_share_fx_free(&x);
}

/* A gateway that stops gives back what it does not use and says goodbye
 * where nothing is in flight. */
static void t_bye_on_stop(void) {
  fx x;
  setup(&x, 4, 100);
  ASSERT_EQ(4, first_grant(&x, grant(4, 4, 6, 0), 1));
  sg_sched_release(&x.s, x.l);
  ASSERT(sg_share_build_bye(&x.t, &x.r));
  ASSERT_EQ(1, x.r.nops);
  ASSERT_EQ(1, x.r.ops[0].rel);    /* the slot not in use */
  ASSERT_EQ(2, x.r.ops[0].ret[2]); /* the credit not spent */
  ASSERT_EQ(77, x.r.ops[0].ret_sid[2]);
  ASSERT(!x.r.ops[0].bye); /* requests still out keep their lease */
  sg_share_fx_free(&x);
}

/* Lanes without limits are not gated. */
static void t_unlimited(void) {
  fx x;
  sg_share_cfg c = {.lease_ms = 3000, .share_ms = 1000, .batch = 8, .poll_ms = 5};
  sg_lane_cfg lc = {0};
  sg_share_fx_init(&x, &c, "acs|free", &lc);
  for (int i = 0; i < 5; i++)
    sg_sched_push(&x.s, x.l, &x.items[i], false);
  ASSERT_EQ(5, pop_all(&x, 0));
  ASSERT(!sg_share_build(&x.t, 0, &x.r));
  sg_share_fx_free(&x);
}

/* A lane holding bulk items (behind transactional ones, or only bulk ones)
 * asks credit for them too, in the order it admits them; without that a
 * bulk-only lane would wait for ever. */
static void t_bulk_items(void) {
  fx x;
  sg_share_cfg c = {.lease_ms = 3000, .share_ms = 1000, .batch = 8, .poll_ms = 5};
  sg_lane_cfg lc = {.max_inflight = 4, .msg_limit = 100, .msg_window_ms = 60000};
  sg_share_fx_init(&x, &c, "graph|a|m@x.com", &lc);
  for (int i = 0; i < 6; i++) {
    x.items[i].rcpts = 1;
    x.items[i].bulk = true;
    sg_sched_push(&x.s, x.l, &x.items[i], false);
  }
  ASSERT_EQ(0, pop_all(&x, 0));
  ASSERT(sg_share_build(&x.t, 0, &x.r));
  ASSERT_EQ(1, x.r.nops);
  ASSERT_EQ(6, x.r.ops[0].nitems); /* every bulk item, within the batch of 8 */
  sg_share_grant g = grant(4, 6, 6, 0);
  sg_share_apply(&x.t, &x.r, &g, 1, 1);
  ASSERT_EQ(4, pop_all(&x, 1)); /* the bulk items go, up to the cap */
  sg_share_fx_free(&x);
}

/* A lane without a slot cap (an ACS resource) that has company spends its
 * credit only in the turn the answer came: a pause another gateway publishes
 * after that is seen by the next call, before the next request. */
static void t_nocap_turn(void) {
  fx x;
  setup(&x, 0, 100);
  x.s.max_inflight = 2; /* only two go in the answer's turn */
  ASSERT_EQ(2, first_grant(&x, grant(0, 8, 8, 1), 2));
  /* The pump builds its next call after admitting: what is left goes back. */
  ASSERT(sg_share_build(&x.t, 1, &x.r));
  ASSERT_EQ(1, x.r.nops);
  ASSERT_EQ(6, x.r.ops[0].ret[2]);
  sg_sched_release(&x.s, x.l);
  sg_sched_release(&x.s, x.l);
  ASSERT_EQ(0, pop_all(&x, 2)); /* nothing spent from what goes back */
  sg_share_grant g = grant(0, 0, 0, 1);
  g.pause_ms = 5000; /* set by another gateway meanwhile */
  sg_share_apply(&x.t, &x.r, &g, 2, 3);
  ASSERT_EQ(0, pop_all(&x, 3));
  sg_share_fx_free(&x);
}

/* Alone on a lane without a cap, a gateway spends its batch over share_ms;
 * once it learns of company (news, or an answer), it tells Redis, which
 * holds the newcomer's credit until then, and gives back what is left. */
static void t_nocap_company(void) {
  fx x;
  setup(&x, 0, 100);
  x.s.max_inflight = 2;
  ASSERT_EQ(2, first_grant(&x, grant(0, 8, 8, 0), 1));
  sg_sched_release(&x.s, x.l);
  sg_sched_release(&x.s, x.l);
  ASSERT_EQ(2, pop_all(&x, 2)); /* alone: its batch is good for share_ms */
  const char *news[1] = {x.l->key};
  sg_share_news(&x.t, news, 1, 3);
  ASSERT_EQ(0, sg_share_next_call(&x.t));
  sg_sched_release(&x.s, x.l);
  sg_sched_release(&x.s, x.l);
  ASSERT(sg_share_build(&x.t, 3, &x.r));
  ASSERT(x.r.ops[0].company);
  ASSERT_EQ(4, x.r.ops[0].ret[2]);
  ASSERT_EQ(0, pop_all(&x, 3)); /* nothing spent from what goes back */
  sg_share_fx_free(&x);
}

/* A gateway alone that holds fewer slots than the cap (another held the rest
 * when it asked) does not reuse them: each request start needs a fresh slot. */
static void t_alone_partial(void) {
  fx x;
  setup(&x, 4, 0);
  ASSERT_EQ(2, first_grant(&x, grant(2, 0, 0, 0), 1));
  sg_sched_release(&x.s, x.l);
  sg_sched_wake(&x.s, x.l); /* as its wait's timer would */
  ASSERT_EQ(0, pop_all(&x, 2));
  ASSERT(sg_share_build(&x.t, 2, &x.r));
  ASSERT_EQ(2, x.r.ops[0].want); /* alone: up to the cap */
  sg_share_fx_free(&x);
}

/* Alone, the batch's extra jobs take at most 1/SG_SHARE_BATCH_SHARE of any
 * window: small messages a whole batch, a large one only itself (credit is
 * counted in Redis when granted, and a gateway that dies keeps it counted). */
static void t_batch_window_share(void) {
  sg_sched s;
  sg_sched_init(&s);
  sg_shares t;
  sg_share_cfg c = {.lease_ms = 3000, .share_ms = 1000, .batch = 32, .poll_ms = 5};
  sg_shares_init(&t, &s, &c);
  /* 150 MiB per 5 min on the byte window, as Graph's upload limit. */
  sg_lane_cfg lc = {.max_inflight = 4, .bytes_limit = 150 << 20, .bytes_window_ms = 300000};
  sg_lane *small = sg_sched_lane(&s, "graph|a|small@x.com", &lc);
  sg_lane *large = sg_sched_lane(&s, "graph|a|large@x.com", &lc);
  sg_lane *mid = sg_sched_lane(&s, "graph|a|mid@x.com", &lc);
  static sg_sched_item it[3];
  memset(it, 0, sizeof it);
  it[0].bytes = 5000;             /* 5 KiB: 32 of them are 160 KiB */
  it[1].bytes = 20 * 1024 * 1024; /* 20 MiB */
  it[2].bytes = 1024 * 1024;      /* 1 MiB: 2 fit in 1/64 of the window */
  sg_sched_push(&s, small, &it[0], false);
  sg_sched_push(&s, large, &it[1], false);
  sg_sched_push(&s, mid, &it[2], false);
  sg_lane *l;
  ASSERT(!sg_sched_pop(&s, 0, &l));
  sg_share_req r;
  memset(&r, 0, sizeof r);
  ASSERT(sg_share_build(&t, 0, &r));
  ASSERT_EQ(3, r.nops);
  /* First answers come back alone: the next ask is a batch. */
  sg_share_grant g[3];
  memset(g, 0, sizeof g);
  for (int i = 0; i < 3; i++)
    g[i].slots = 4;
  sg_share_apply(&t, &r, g, 1, 1);
  ASSERT(!sg_sched_pop(&s, 1, &l)); /* no credit yet */
  ASSERT(sg_share_build(&t, 10, &r));
  ASSERT_EQ(3, r.nops);
  for (size_t i = 0; i < r.nops; i++) {
    const sg_share_op *op = &r.ops[i];
    if (op->sh->lane == small)
      ASSERT_EQ(32, op->nitems);
    else if (op->sh->lane == large)
      ASSERT_EQ(1, op->nitems);
    else
      ASSERT_EQ(1 + 2, op->nitems); /* 153600 KiB / 64 / 1024 KiB = 2 more */
  }
  sg_shares_free(&t, 10);
  sg_share_req_free(&r);
  sg_sched_free(&s);
}

/* A build visits only the lanes that have something to say: with many lanes
 * holding what they need, one whose request ended with company is the only op. */
static void t_due_only(void) {
  fx x;
  memset(&x, 0, sizeof x);
  sg_sched_init(&x.s);
  sg_share_cfg c = {.lease_ms = 3000, .share_ms = 1000, .batch = 8, .poll_ms = 5};
  sg_shares_init(&x.t, &x.s, &c);
  enum { NL = 40 };
  sg_lane *ls[NL];
  sg_lane_cfg lc = {.max_inflight = 4};
  static sg_sched_item more[NL];
  memset(more, 0, sizeof more);
  for (int i = 0; i < NL; i++) {
    char key[32];
    snprintf(key, sizeof key, "graph|a|m%d@x.com", i);
    ls[i] = sg_sched_lane(&x.s, key, &lc);
    sg_sched_push(&x.s, ls[i], &more[i], false);
  }
  ASSERT_EQ(0, pop_all(&x, 0));
  ASSERT(sg_share_build(&x.t, 0, &x.r));
  ASSERT_EQ(NL, x.r.nops);
  sg_share_grant g[NL];
  for (int i = 0; i < NL; i++)
    g[i] = grant(1, 0, 0, 1);
  sg_share_apply(&x.t, &x.r, g, 2, 1);
  ASSERT_EQ(NL, pop_all(&x, 1));          /* one each, a fresh slot each */
  ASSERT(!sg_share_build(&x.t, 2, &x.r)); /* nobody has anything to say */
  sg_sched_release(&x.s, ls[7]);
  ASSERT_LE(sg_share_next_call(&x.t), 2);
  ASSERT(sg_share_build(&x.t, 2, &x.r));
  ASSERT_EQ(1, x.r.nops);
  ASSERT(x.r.ops[0].sh->lane == ls[7]);
  ASSERT_EQ(1, x.r.ops[0].rel);
  ASSERT(!x.r.ops[0].bye); /* the slot goes back at once, the lane stays share_ms */
  sg_share_grant none = grant(0, 0, 0, 1);
  sg_share_apply(&x.t, &x.r, &none, 2, 3);
  heartbeats_until(&x, 3, 1000); /* idle since 0 (the scheduler's time) */
  ASSERT_EQ(NL, x.t.n);
  ASSERT(sg_share_build(&x.t, 1000, &x.r));
  ASSERT_EQ(1, x.r.nops);
  ASSERT(x.r.ops[0].sh->lane == ls[7]);
  ASSERT(x.r.ops[0].bye);
  sg_share_apply(&x.t, &x.r, &none, 2, 1001);
  ASSERT_EQ(NL - 1, x.t.n);
  sg_share_fx_free(&x);
}

SG_TESTS({"alone_batch", t_alone_batch}, {"contended", t_contended}, {"during_call", t_during_call},
         {"pauses", t_pauses}, {"fallback", t_fallback}, {"goodbye", t_goodbye},
         {"linger", t_linger}, {"bye_on_stop", t_bye_on_stop}, {"expired_credit", t_expired_credit},
         {"unlimited", t_unlimited}, {"bulk_items", t_bulk_items}, {"nocap_turn", t_nocap_turn},
         {"nocap_company", t_nocap_company}, {"alone_partial", t_alone_partial},
         {"due_only", t_due_only}, {"batch_window_share", t_batch_window_share})
