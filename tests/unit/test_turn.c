/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for core/sg_turn on a real uv loop: rank order, wants for an
 * earlier rank during a pass, removal during a pass, no spinning when nothing
 * is wanted, the bound on sweeps per pass, one turn per loop.
 */
#include "harness.h"

#include "core/sg_err.h"
#include "core/sg_turn.h"

#define MAX_LOG 64

typedef struct fx fx;

typedef struct node {
  sg_turn_reg reg;
  fx *f;
  char name;
  int calls;
  void (*then)(struct node *n); /* runs inside the callback */
} node;

struct fx {
  uv_loop_t loop;
  char log[MAX_LOG + 1];
  size_t nlog;
  node *other; /* the target of a callback's action */
  int rewant;  /* how many more times a node wants itself again */
  uint64_t turns_seen;
};

static void on_turn(sg_turn_reg *reg, void *ud) {
  node *n = ud;
  ASSERT(reg == &n->reg);
  n->calls++;
  if (n->f->nlog < MAX_LOG)
    n->f->log[n->f->nlog++] = n->name;
  if (n->then)
    n->then(n);
}

static void fx_init(fx *f) {
  memset(f, 0, sizeof *f);
  ASSERT_OK(uv_loop_init(&f->loop));
}

static void node_init(fx *f, node *n, char name, sg_turn_rank rank) {
  memset(n, 0, sizeof *n);
  n->f = f;
  n->name = name;
  ASSERT_OK(sg_turn_reg_init(&n->reg, &f->loop, rank, on_turn, n));
}

/* Runs the loop until it has nothing left (the turn's handles included). */
static void fx_finish(fx *f) {
  ASSERT_OK(uv_run(&f->loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&f->loop));
}

/* Wanted in any order, called in rank order, FIFO within a rank, once each. */
static void t_rank_order(void) {
  fx f;
  fx_init(&f);
  node n[6];
  node_init(&f, &n[0], 'w', SG_TURN_HTTPD);
  node_init(&f, &n[1], 'r', SG_TURN_REDIS);
  node_init(&f, &n[2], 't', SG_TURN_TLS);
  node_init(&f, &n[3], 'h', SG_TURN_H2);
  node_init(&f, &n[4], 'a', SG_TURN_ADMIT);
  node_init(&f, &n[5], 'T', SG_TURN_TLS);
  for (int i = 0; i < 6; i++) {
    sg_turn_want(&n[i].reg);
    sg_turn_want(&n[i].reg); /* idempotent */
    ASSERT(sg_turn_wanted(&n[i].reg));
  }
  ASSERT_OK(uv_run(&f.loop, UV_RUN_NOWAIT));
  ASSERT_STR_EQ("ahtTrw", f.log);
  sg_turn_stats st;
  sg_turn_get_stats(&n[0].reg, &st);
  ASSERT_EQ(1, st.passes);
  ASSERT_EQ(1, st.rounds);
  ASSERT_EQ(6, st.calls);
  for (int i = 0; i < 6; i++) {
    ASSERT(!sg_turn_wanted(&n[i].reg));
    sg_turn_reg_remove(&n[i].reg);
    sg_turn_reg_remove(&n[i].reg); /* idempotent */
  }
  fx_finish(&f);
}

static void want_other(node *n) {
  sg_turn_want(&n->f->other->reg);
}

/* A later rank wanted mid-pass runs in the same sweep; an earlier one makes
 * the pass sweep again; all before the loop polls. */
static void t_want_mid_pass(void) {
  fx f;
  fx_init(&f);
  node a, h, t;
  node_init(&f, &a, 'a', SG_TURN_ADMIT);
  node_init(&f, &h, 'h', SG_TURN_H2);
  node_init(&f, &t, 't', SG_TURN_TLS);
  /* t (TLS) wants a (ADMIT): a second sweep of the same pass. */
  f.other = &a;
  t.then = want_other;
  sg_turn_want(&t.reg);
  ASSERT_OK(uv_run(&f.loop, UV_RUN_NOWAIT));
  ASSERT_STR_EQ("ta", f.log);
  sg_turn_stats st;
  sg_turn_get_stats(&a.reg, &st);
  ASSERT_EQ(1, st.passes);
  ASSERT_EQ(2, st.rounds);
  ASSERT_EQ(0, st.leftover);

  /* a (ADMIT) wants h (H2), a later rank: the same sweep. */
  f.nlog = 0;
  memset(f.log, 0, sizeof f.log);
  t.then = NULL;
  a.then = want_other;
  f.other = &h;
  h.then = NULL;
  sg_turn_want(&a.reg);
  ASSERT_OK(uv_run(&f.loop, UV_RUN_NOWAIT));
  ASSERT_STR_EQ("ah", f.log);
  sg_turn_get_stats(&a.reg, &st);
  ASSERT_EQ(2, st.passes);
  ASSERT_EQ(3, st.rounds);
  sg_turn_reg_remove(&a.reg);
  sg_turn_reg_remove(&h.reg);
  sg_turn_reg_remove(&t.reg);
  fx_finish(&f);
}

static void remove_other(node *n) {
  sg_turn_reg_remove(&n->f->other->reg);
}

static void remove_self(node *n) {
  sg_turn_reg_remove(&n->reg);
}

/* Removing a wanted registrant of the same rank, a later rank, or oneself
 * inside a pass: the removed ones are not called. */
static void t_remove_during_pass(void) {
  fx f;
  fx_init(&f);
  node a1, a2, t, r;
  node_init(&f, &a1, '1', SG_TURN_ADMIT);
  node_init(&f, &a2, '2', SG_TURN_ADMIT);
  node_init(&f, &t, 't', SG_TURN_TLS);
  node_init(&f, &r, 'r', SG_TURN_REDIS);
  a1.then = remove_other;
  f.other = &a2; /* same rank, in the batch being run */
  t.then = remove_self;
  sg_turn_want(&a1.reg);
  sg_turn_want(&a2.reg);
  sg_turn_want(&t.reg);
  sg_turn_want(&r.reg);
  ASSERT_OK(uv_run(&f.loop, UV_RUN_NOWAIT));
  ASSERT_STR_EQ("1tr", f.log);
  ASSERT_EQ(0, a2.calls);
  sg_turn_want(&a2.reg); /* removed: a no-op */
  sg_turn_want(&t.reg);
  ASSERT(!sg_turn_wanted(&a2.reg));

  /* A later rank removed from an earlier one. */
  f.other = &r;
  sg_turn_want(&a1.reg);
  sg_turn_want(&r.reg);
  ASSERT_OK(uv_run(&f.loop, UV_RUN_NOWAIT));
  ASSERT_STR_EQ("1tr1", f.log);
  ASSERT_EQ(1, r.calls);

  /* The last registrant removing itself mid-pass closes the turn. */
  a1.then = remove_self;
  sg_turn_want(&a1.reg);
  ASSERT_OK(uv_run(&f.loop, UV_RUN_NOWAIT));
  ASSERT_STR_EQ("1tr11", f.log);
  fx_finish(&f); /* fails (UV_EBUSY) if a handle were left open */
}

/* Nothing wanted: the loop has nothing active and returns at once. A want
 * from a timer runs before the loop blocks again, then nothing spins. */
static void on_timer_want(uv_timer_t *tm) {
  node *n = tm->data;
  sg_turn_want(&n->reg);
}

/* Unreferenced, so it keeps nothing alive: fires only if the loop spins on. */
static void on_guard(uv_timer_t *tm) {
  *(bool *)tm->data = true;
  uv_stop(tm->loop);
}

static void t_no_busy_loop(void) {
  fx f;
  fx_init(&f);
  node a;
  node_init(&f, &a, 'a', SG_TURN_ADMIT);
  bool spun = false;
  uv_timer_t guard;
  uv_timer_init(&f.loop, &guard);
  guard.data = &spun;
  uv_timer_start(&guard, on_guard, 2000, 0);
  uv_unref((uv_handle_t *)&guard);
  ASSERT_EQ(0, uv_run(&f.loop, UV_RUN_DEFAULT)); /* returns: nothing alive */
  ASSERT_EQ(0, a.calls);
  ASSERT(!uv_loop_alive(&f.loop));

  uv_timer_t tm;
  uv_timer_init(&f.loop, &tm);
  tm.data = &a;
  uv_timer_start(&tm, on_timer_want, 1, 0);
  ASSERT_EQ(0, uv_run(&f.loop, UV_RUN_DEFAULT));
  ASSERT(!spun); /* the loop ended on its own, not by the guard */
  ASSERT_EQ(1, a.calls);
  sg_turn_stats st;
  sg_turn_get_stats(&a.reg, &st);
  ASSERT_EQ(1, st.passes); /* one pass, no pass per idle spin */
  ASSERT(!uv_loop_alive(&f.loop));
  uv_close((uv_handle_t *)&tm, NULL);
  uv_close((uv_handle_t *)&guard, NULL);
  sg_turn_reg_remove(&a.reg);
  fx_finish(&f);
}

static void want_self(node *n) {
  if (n->f->rewant > 0) {
    n->f->rewant--;
    sg_turn_want(&n->reg);
  }
}

/* A registrant that keeps wanting itself gets SG_TURN_MAX_ROUNDS calls per
 * pass; the rest waits for the next turn, whose poll does not block. */
static void t_bounded_rounds(void) {
  fx f;
  fx_init(&f);
  node a;
  node_init(&f, &a, 'a', SG_TURN_H2);
  a.then = want_self;
  f.rewant = SG_TURN_MAX_ROUNDS + 2;
  sg_turn_want(&a.reg);
  ASSERT_NE(0, uv_run(&f.loop, UV_RUN_ONCE)); /* work left: still alive */
  ASSERT_EQ(SG_TURN_MAX_ROUNDS, a.calls);
  ASSERT(sg_turn_wanted(&a.reg));
  sg_turn_stats st;
  sg_turn_get_stats(&a.reg, &st);
  ASSERT_EQ(1, st.leftover);
  /* UV_RUN_ONCE would block in poll if the idle handle were not active. */
  uv_run(&f.loop, UV_RUN_ONCE);
  ASSERT_EQ(SG_TURN_MAX_ROUNDS + 3, a.calls);
  ASSERT(!sg_turn_wanted(&a.reg));
  ASSERT(!uv_loop_alive(&f.loop));
  sg_turn_unwant(&a.reg);
  sg_turn_reg_remove(&a.reg);
  fx_finish(&f);
}

/* Two loops, two turns; registrants of one never run in the other's pass. */
static void t_per_loop(void) {
  fx f, g;
  fx_init(&f);
  fx_init(&g);
  node a, b;
  node_init(&f, &a, 'a', SG_TURN_ADMIT);
  node_init(&g, &b, 'b', SG_TURN_ADMIT);
  b.f = &f; /* log into one place */
  sg_turn_want(&a.reg);
  sg_turn_want(&b.reg);
  ASSERT_OK(uv_run(&f.loop, UV_RUN_NOWAIT));
  ASSERT_STR_EQ("a", f.log);
  ASSERT_OK(uv_run(&g.loop, UV_RUN_NOWAIT));
  ASSERT_STR_EQ("ab", f.log);
  sg_turn_reg_remove(&a.reg);
  sg_turn_reg_remove(&b.reg);
  fx_finish(&f);
  fx_finish(&g);
  sg_turn_reg rr;
  ASSERT_EQ(SG_ERR_INVAL, sg_turn_reg_init(&rr, &f.loop, SG_TURN_NRANKS, on_turn, NULL));
  ASSERT_EQ(SG_ERR_INVAL, sg_turn_reg_init(&rr, NULL, SG_TURN_ADMIT, on_turn, NULL));
  sg_turn_want(&rr); /* not registered: a no-op */
  sg_turn_reg_remove(&rr);
}

SG_TESTS({"rank_order", t_rank_order}, {"want_mid_pass", t_want_mid_pass},
         {"remove_during_pass", t_remove_during_pass}, {"no_busy_loop", t_no_busy_loop},
         {"bounded_rounds", t_bounded_rounds}, {"per_loop", t_per_loop})
