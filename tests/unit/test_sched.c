/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sched/sg_sched: caps, round robin, pauses, windows, wake times,
 * and the freeing of lanes nobody needs. */
#include "harness.h"

#include "core/sg_mem.h"
#include "core/sg_rand.h"
#include "sched/sg_sched_int.h"

#define N 64
static sg_sched_item items[N];

static void t_inflight_cap_and_rr(void) {
  sg_sched s;
  sg_sched_init(&s);
  sg_lane_cfg cfg = {.max_inflight = 2};
  sg_lane *a = sg_sched_lane(&s, "graph/acct/a@x.com", &cfg);
  sg_lane *b = sg_sched_lane(&s, "graph/acct/b@x.com", &cfg);
  ASSERT(a != b);
  ASSERT(a == sg_sched_lane(&s, "graph/acct/a@x.com", &cfg));
  memset(items, 0, sizeof items);
  for (int i = 0; i < 10; i++)
    sg_sched_push(&s, a, &items[i], false);
  sg_sched_push(&s, b, &items[10], false);
  sg_lane *l;
  /* Round robin: a, b, a; then a is at its cap and b is empty. */
  ASSERT(sg_sched_pop(&s, 0, &l) == &items[0] && l == a);
  ASSERT(sg_sched_pop(&s, 0, &l) == &items[10] && l == b);
  ASSERT(sg_sched_pop(&s, 0, &l) == &items[1] && l == a);
  ASSERT_NULL(sg_sched_pop(&s, 0, &l));
  ASSERT_EQ(SG_LANE_WAIT_SLOT, a->state);
  sg_sched_release(&s, a);
  ASSERT(sg_sched_pop(&s, 0, &l) == &items[2]);
  ASSERT_NULL(sg_sched_pop(&s, 0, &l));
  ASSERT_EQ(2, a->max_inflight_seen);
  ASSERT_EQ(7, s.queued);
  sg_sched_free(&s);
}

static void t_pause_front(void) {
  sg_sched s;
  sg_sched_init(&s);
  sg_lane_cfg cfg = {.max_inflight = 4};
  sg_lane *a = sg_sched_lane(&s, "a", &cfg);
  sg_lane *b = sg_sched_lane(&s, "b", &cfg);
  memset(items, 0, sizeof items);
  sg_sched_push(&s, a, &items[0], false);
  sg_sched_push(&s, a, &items[1], false);
  sg_sched_push(&s, b, &items[2], false);
  sg_lane *l;
  ASSERT(sg_sched_pop(&s, 100, &l) == &items[0]);
  /* The provider throttled a: the job goes back to the front, the lane pauses. */
  sg_sched_release(&s, a);
  sg_sched_push(&s, a, &items[0], true);
  sg_sched_pause(&s, a, 1100);
  ASSERT(sg_sched_pop(&s, 100, &l) == &items[2] && l == b); /* b is not held up */
  ASSERT_NULL(sg_sched_pop(&s, 500, &l));
  ASSERT_EQ(1100, sg_sched_next_wake(&s));
  sg_sched_tick(&s, 1099);
  ASSERT_NULL(sg_sched_pop(&s, 1099, &l));
  sg_sched_tick(&s, 1100);
  ASSERT(sg_sched_pop(&s, 1100, &l) == &items[0] && l == a);
  ASSERT(sg_sched_pop(&s, 1100, &l) == &items[1]);
  ASSERT_EQ(UINT64_MAX, sg_sched_next_wake(&s));
  sg_sched_free(&s);
}

static void t_windows(void) {
  sg_sched s;
  sg_sched_init(&s);
  sg_lane_cfg cfg = {
      .rcpt_limit = 10, .rcpt_window_ms = 1000, .msg_limit = 3, .msg_window_ms = 1000};
  sg_lane *a = sg_sched_lane(&s, "a", &cfg);
  memset(items, 0, sizeof items);
  for (int i = 0; i < 6; i++) {
    items[i].rcpts = 4;
    sg_sched_push(&s, a, &items[i], false);
  }
  sg_lane *l;
  uint64_t now = 5000;
  /* 4 + 4 recipients fit, the third message (12 > 10) waits. */
  ASSERT_NOT_NULL(sg_sched_pop(&s, now, &l));
  ASSERT_NOT_NULL(sg_sched_pop(&s, now, &l));
  ASSERT_NULL(sg_sched_pop(&s, now, &l));
  uint64_t wake = sg_sched_next_wake(&s);
  ASSERT(wake > now && wake <= now + 1100);
  /* A retry of an already counted job only needs a request slot. */
  sg_sched_release(&s, a);
  items[0].counted = true;
  sg_sched_push(&s, a, &items[0], true);
  sg_sched_tick(&s, wake);
  ASSERT(sg_sched_pop(&s, wake, &l) == &items[0]);
  ASSERT(sg_sched_pop(&s, wake, &l) == &items[2]);
  sg_sched_free(&s);
}

static void t_many_lanes(void) {
  sg_sched s;
  sg_sched_init(&s);
  sg_lane_cfg cfg = {.max_inflight = 1};
  static sg_sched_item its[3000];
  memset(its, 0, sizeof its);
  char key[32];
  for (int i = 0; i < 1000; i++) {
    snprintf(key, sizeof key, "lane-%d", i);
    sg_lane *l = sg_sched_lane(&s, key, &cfg);
    for (int j = 0; j < 3; j++)
      sg_sched_push(&s, l, &its[i * 3 + j], false);
  }
  ASSERT_EQ(1000, s.nlanes);
  sg_lane *l;
  int n = 0;
  while (sg_sched_pop(&s, 0, &l))
    n++;
  ASSERT_EQ(1000, n); /* one per lane at the cap */
  ASSERT_EQ(2000, s.queued);
  sg_sched_free(&s);
}

/* The cap over all lanes: nothing is admitted at it; a release of any lane frees a slot. */
static void t_total_cap(void) {
  sg_sched s;
  sg_sched_init(&s);
  s.max_inflight = 3;
  sg_lane_cfg cfg = {0}; /* lanes without caps of their own */
  sg_lane *a = sg_sched_lane(&s, "a", &cfg);
  sg_lane *b = sg_sched_lane(&s, "b", &cfg);
  memset(items, 0, sizeof items);
  for (int i = 0; i < 5; i++) {
    sg_sched_push(&s, a, &items[i], false);
    sg_sched_push(&s, b, &items[5 + i], false);
  }
  sg_lane *l;
  ASSERT(sg_sched_pop(&s, 0, &l) == &items[0] && l == a);
  ASSERT(sg_sched_pop(&s, 0, &l) == &items[5] && l == b);
  ASSERT(sg_sched_pop(&s, 0, &l) == &items[1] && l == a);
  ASSERT_EQ(3, s.inflight);
  ASSERT_NULL(sg_sched_pop(&s, 0, &l)); /* at the cap, with 7 still queued */
  ASSERT_EQ(7, s.queued);
  sg_sched_release(&s, b);
  ASSERT_EQ(2, s.inflight);
  ASSERT(sg_sched_pop(&s, 0, &l) == &items[6] && l == b); /* round robin goes on */
  ASSERT_NULL(sg_sched_pop(&s, 0, &l));
  for (int i = 0; i < 3; i++)
    sg_sched_release(&s, i == 2 ? b : a);
  ASSERT_EQ(0, s.inflight);
  sg_sched_release(&s, a); /* an extra release does not underflow */
  ASSERT_EQ(0, s.inflight);
  s.max_inflight = 0; /* no cap: everything goes */
  int n = 0;
  while (sg_sched_pop(&s, 0, &l) != NULL)
    n++;
  ASSERT_EQ(6, n);
  sg_sched_free(&s);
}

/* ---- lanes freed when idle ---- */

/* Whether |l| is (still) in the table: a freed lane never is. */
static bool in_table(const sg_sched *s, const sg_lane *l) {
  for (size_t i = 0; i < s->nbuckets; i++)
    for (const sg_lane *x = s->buckets[i]; x; x = x->hnext)
      if (x == l)
        return true;
  return false;
}

/* A lane without limits is freed once its last holder lets go; the next
 * lookup of its key makes a fresh one. */
static void t_idle_freed(void) {
  sg_sched s;
  sg_sched_init(&s);
  sg_lane_cfg cfg = {.max_inflight = 4};
  memset(items, 0, sizeof items);
  sg_lane *a = sg_sched_lane(&s, "graph/acct/a@x.com", &cfg);
  sg_sched_lane_ref(&s, a);
  sg_sched_push(&s, a, &items[0], false);
  sg_lane *l;
  ASSERT(sg_sched_pop(&s, 100, &l) == &items[0] && l == a);
  sg_sched_release(&s, a);
  sg_sched_tick(&s, 100);
  ASSERT_EQ(1, s.nlanes); /* still referenced (a job in its retry wait) */
  ASSERT(in_table(&s, a));
  sg_sched_lane_unref(&s, a, 100);
  ASSERT_EQ(0, s.nlanes);
  ASSERT_EQ(0, s.idle.len);
  ASSERT_EQ(UINT64_MAX, sg_sched_next_wake(&s));
  a = sg_sched_lane(&s, "graph/acct/a@x.com", &cfg);
  ASSERT_EQ(1, s.nlanes);
  ASSERT_EQ(0, a->admitted); /* fresh */
  ASSERT_EQ(0, a->max_inflight_seen);
  /* A lane looked up and never used is unheld: the next tick frees it. */
  sg_lane *b = sg_sched_lane(&s, "graph/acct/b@x.com", &cfg);
  ASSERT_EQ(2, s.nlanes);
  ASSERT_EQ(0, sg_sched_next_wake(&s));
  sg_sched_tick(&s, 100);
  ASSERT_EQ(0, s.nlanes);
  ASSERT(!in_table(&s, b));
  sg_sched_free(&s);
}

/* A lane whose windows still count a request is kept until they drain, and
 * until its pause is over; meanwhile a lookup finds it, windows intact. */
static void t_kept_until_drained(void) {
  sg_sched s;
  sg_sched_init(&s);
  sg_lane_cfg cfg = {.req_limit = 2, .req_window_ms = 1000};
  memset(items, 0, sizeof items);
  sg_lane *a = sg_sched_lane(&s, "a", &cfg);
  sg_sched_lane_ref(&s, a);
  sg_sched_push(&s, a, &items[0], false);
  sg_lane *l;
  ASSERT(sg_sched_pop(&s, 5000, &l) == &items[0]);
  sg_sched_release(&s, a);
  sg_sched_lane_unref(&s, a, 5000);
  ASSERT_EQ(1, s.nlanes);
  uint64_t d = sg_window_drained_at(&a->req);
  ASSERT_GE(d, 6000);
  ASSERT_LE(d, 6050);
  /* The timer wakes for it, at a grain boundary not before it can go. */
  uint64_t wake = sg_sched_next_wake(&s);
  ASSERT_GE(wake, d);
  ASSERT_LT(wake, d + SG_SCHED_IDLE_GRAIN_MS);
  ASSERT_EQ(0, wake % SG_SCHED_IDLE_GRAIN_MS);
  sg_sched_tick(&s, d - 1);
  ASSERT_EQ(1, s.nlanes);
  ASSERT(sg_sched_lane(&s, "a", &cfg) == a); /* same lane: its request still counts */
  ASSERT_EQ(1, sg_window_used(&a->req, d - 1));
  /* Two more requests would not both fit yet: the lane still limits. */
  items[1].counted = items[2].counted = false;
  sg_sched_lane_ref(&s, a);
  sg_sched_push(&s, a, &items[1], false);
  sg_sched_push(&s, a, &items[2], false);
  ASSERT(sg_sched_pop(&s, d - 1, &l) == &items[1]);
  ASSERT_NULL(sg_sched_pop(&s, d - 1, &l));
  sg_sched_tick(&s, d);
  ASSERT(sg_sched_pop(&s, d, &l) == &items[2]);
  sg_sched_release(&s, a);
  sg_sched_release(&s, a);
  sg_sched_lane_unref(&s, a, d);
  ASSERT_EQ(1, s.nlanes);
  uint64_t d2 = sg_window_drained_at(&a->req);
  ASSERT_GE(d2, d + 1000);
  /* A pause longer than the windows keeps it until the pause is over. */
  sg_sched_pause(&s, a, d2 + 5000);
  sg_sched_tick(&s, d2);
  ASSERT_EQ(1, s.nlanes);
  sg_sched_tick(&s, d2 + 4999);
  ASSERT_EQ(1, s.nlanes);
  sg_sched_tick(&s, d2 + 5000);
  ASSERT_EQ(0, s.nlanes);
  ASSERT_EQ(UINT64_MAX, sg_sched_next_wake(&s));
  sg_sched_free(&s);
}

/* A referenced lane is never freed, whatever the time; nor one with a
 * request in flight or items queued. */
static void t_referenced_kept(void) {
  sg_sched s;
  sg_sched_init(&s);
  sg_lane_cfg cfg = {0};
  memset(items, 0, sizeof items);
  sg_lane *a = sg_sched_lane(&s, "a", &cfg);
  sg_sched_lane_ref(&s, a);
  sg_sched_lane_ref(&s, a);
  sg_sched_tick(&s, UINT64_MAX - 1);
  sg_sched_lane_unref(&s, a, UINT64_MAX - 1);
  ASSERT(in_table(&s, a)); /* one reference left */
  ASSERT_EQ(UINT64_MAX, sg_sched_next_wake(&s));
  /* In flight, unreferenced: kept until released. */
  sg_sched_push(&s, a, &items[0], false);
  sg_sched_lane_unref(&s, a, 10);
  sg_sched_tick(&s, 10);
  ASSERT(in_table(&s, a));
  sg_lane *l;
  ASSERT(sg_sched_pop(&s, 10, &l) == &items[0] && l == a);
  sg_sched_tick(&s, 20);
  ASSERT(in_table(&s, a));
  /* Queued, unreferenced: kept. */
  sg_sched_push(&s, a, &items[1], false);
  sg_sched_release(&s, a);
  sg_sched_tick(&s, 30);
  ASSERT(in_table(&s, a));
  sg_sched_remove(&s, a, &items[1]);
  sg_sched_tick(&s, 30);
  ASSERT_EQ(0, s.nlanes);
  sg_sched_free(&s);
}

/* Many lanes let go: freed a bounded number per tick, and the table shrinks. */
static void t_table_shrinks(void) {
  sg_sched s;
  sg_sched_init(&s);
  sg_lane_cfg cfg = {0};
  char key[32];
  size_t nb0 = s.nbuckets;
  for (int i = 0; i < 5000; i++) {
    snprintf(key, sizeof key, "lane-%d", i);
    sg_sched_lane_ref(&s, sg_sched_lane(&s, key, &cfg));
  }
  ASSERT_GE(s.nbuckets, 4096);
  for (int i = 0; i < 5000; i++) {
    snprintf(key, sizeof key, "lane-%d", i);
    sg_lane *l = sg_sched_lane(&s, key, &cfg);
    l->refs--; /* let go without collecting, to test the tick's bound */
    sg__sched_lane_check_idle(&s, l);
  }
  ASSERT_EQ(5000, s.idle.len);
  size_t ticks = 0;
  while (s.nlanes) {
    size_t before = s.nlanes;
    sg_sched_tick(&s, 1);
    /* More due than a tick frees: the next wake is now, not a grain later. */
    ASSERT_EQ(s.nlanes ? 0 : UINT64_MAX, sg_sched_next_wake(&s));
    ASSERT_EQ(before - (before < SG_SCHED_FREE_PER_TICK ? before : SG_SCHED_FREE_PER_TICK),
              s.nlanes);
    ASSERT_LE(s.nbuckets / 4, s.nlanes > 256 ? s.nlanes : 256);
    ticks++;
  }
  ASSERT_EQ((5000 + SG_SCHED_FREE_PER_TICK - 1) / SG_SCHED_FREE_PER_TICK, ticks);
  ASSERT_EQ(nb0, s.nbuckets);
  ASSERT_LE(s.idle.cap, 64);
  sg_sched_free(&s);
}

/* ---- property: the counters match a full walk after random operations ---- */

static uint64_t rng_next(uint64_t *x) {
  return sg_rand_next(x);
}

/* Walks every lane and checks the incremental counters and the idle rules. */
static void check_walk(const sg_sched *s) {
  size_t lanes = 0, waiting = 0, idle = 0;
  for (size_t i = 0; i < s->nbuckets; i++)
    for (const sg_lane *l = s->buckets[i]; l; l = l->hnext) {
      lanes++;
      if (l->queued && (l->state == SG_LANE_WAIT_SLOT || l->state == SG_LANE_WAIT_TIME))
        waiting++;
      bool unheld = l->queued == 0 && l->inflight == 0 && l->refs == 0;
      ASSERT_EQ(unheld, l->idle);
      if (l->idle) {
        idle++;
        ASSERT(s->idle.v[l->heap_idx] == l);
      }
      ASSERT_EQ(l->queued == 0, l->state == SG_LANE_IDLE);
    }
  ASSERT_EQ(lanes, s->nlanes);
  ASSERT_EQ(waiting, s->waiting);
  ASSERT_EQ(idle, s->idle.len);
}

enum { P_FREE, P_QUEUED, P_INFLIGHT, P_RETRY };

static void t_property_counters(void) {
  sg_sched s;
  sg_sched_init(&s);
  static const sg_lane_cfg cfgs[3] = {
      {.max_inflight = 2},
      {.max_inflight = 1, .req_limit = 3, .req_window_ms = 500},
      {.msg_limit = 2, .msg_window_ms = 300, .rcpt_limit = 5, .rcpt_window_ms = 700},
  };
  sg_lane *il[N];
  int st[N];
  memset(items, 0, sizeof items);
  for (int i = 0; i < N; i++)
    st[i] = P_FREE;
  uint64_t x = 0x9E3779B97F4A7C15ull, now = 1000;
  size_t freed_seen = 0, max_waiting = 0;
  for (int step = 0; step < 20000; step++) {
    size_t lanes_before = s.nlanes;
    int i = (int)(rng_next(&x) % N);
    uint64_t r = rng_next(&x);
    switch (r % 8) {
    case 0:
    case 1: /* a new job on one of 24 lanes, holding a reference as the runtime does */
      if (st[i] == P_FREE) {
        char key[16];
        int k = (int)((r >> 8) % 24);
        snprintf(key, sizeof key, "k%d", k);
        il[i] = sg_sched_lane(&s, key, &cfgs[k % 3]);
        sg_sched_lane_ref(&s, il[i]);
        items[i].counted = false;
        items[i].rcpts = (uint32_t)(1 + (r >> 16) % 3);
        sg_sched_push(&s, il[i], &items[i], false);
        st[i] = P_QUEUED;
      }
      break;
    case 2: { /* admit what can go */
      sg_lane *l;
      sg_sched_item *it = sg_sched_pop(&s, now, &l);
      if (it) {
        int j = (int)(it - items);
        ASSERT_EQ(P_QUEUED, st[j]);
        ASSERT(l == il[j]);
        st[j] = P_INFLIGHT;
      }
      break;
    }
    case 3: /* an answer: done, retry later, retry now, or throttled */
      if (st[i] == P_INFLIGHT) {
        ASSERT(in_table(&s, il[i]));
        sg_sched_release(&s, il[i]);
        int what = (int)((r >> 8) % 4);
        if (what == 0) {
          sg_sched_lane_unref(&s, il[i], now);
          st[i] = P_FREE;
        } else if (what == 1) {
          st[i] = P_RETRY;
        } else {
          if (what == 3)
            sg_sched_pause(&s, il[i], now + (r >> 16) % 400);
          sg_sched_push(&s, il[i], &items[i], true);
          st[i] = P_QUEUED;
        }
      }
      break;
    case 4: /* a retry timer fires, or a job waiting there is abandoned */
      if (st[i] == P_RETRY) {
        ASSERT(in_table(&s, il[i]));
        if ((r >> 8) % 4) {
          sg_sched_push(&s, il[i], &items[i], true);
          st[i] = P_QUEUED;
        } else {
          sg_sched_lane_unref(&s, il[i], now);
          st[i] = P_FREE;
        }
      }
      break;
    case 5: /* a queued job is cancelled */
      if (st[i] == P_QUEUED) {
        ASSERT(in_table(&s, il[i]));
        sg_sched_remove(&s, il[i], &items[i]);
        sg_sched_lane_unref(&s, il[i], now);
        st[i] = P_FREE;
      }
      break;
    default: { /* time passes */
      size_t before = s.nlanes;
      now += (r >> 8) % 200;
      sg_sched_tick(&s, now);
      ASSERT_LE(before - s.nlanes, SG_SCHED_FREE_PER_TICK);
      break;
    }
    }
    check_walk(&s);
    if (s.nlanes < lanes_before)
      freed_seen += lanes_before - s.nlanes;
    if (s.waiting > max_waiting)
      max_waiting = s.waiting;
    for (int j = 0; j < N; j++)
      if (st[j] != P_FREE)
        ASSERT(in_table(&s, il[j])); /* a held lane is never freed */
  }
  ASSERT_GT(freed_seen, 30); /* the walk covered lanes coming and going */
  ASSERT_GT(max_waiting, 2); /* and lanes waiting for slots and time */
  sg_sched_free(&s);
}

/* Request bytes: a window in KiB; a request larger than the whole window
 * still goes (it can never fit), and retries count their bytes again. */
static void t_bytes(void) {
  sg_sched s;
  sg_sched_init(&s);
  sg_lane_cfg cfg = {.bytes_limit = 10 * 1024 * 1024, .bytes_window_ms = 300000};
  sg_lane *a = sg_sched_lane(&s, "a", &cfg);
  ASSERT_EQ(10240, a->bytes.limit);
  memset(items, 0, sizeof items);
  for (int i = 0; i < 4; i++) {
    items[i].bytes = 4 * 1024 * 1024; /* 4 MiB each: two fit in 10 MiB */
    sg_sched_push(&s, a, &items[i], false);
  }
  sg_lane *l;
  uint64_t now = 1000;
  ASSERT(sg_sched_pop(&s, now, &l) == &items[0]);
  ASSERT(sg_sched_pop(&s, now, &l) == &items[1]);
  ASSERT_NULL(sg_sched_pop(&s, now, &l));
  ASSERT_EQ(8192, sg_window_used(&a->bytes, now));
  uint64_t wake = sg_sched_next_wake(&s);
  ASSERT(wake > now + 290000 && wake <= now + 310000);
  /* A small request of another item still fits: order is kept, so it waits. */
  ASSERT_GT(sg_sched_wait(&s, a, &items[2], now), 290000);
  items[9].bytes = 100;
  ASSERT_EQ(0, sg_sched_wait(&s, a, &items[9], now));
  /* Too large for any window: not held back. */
  items[8].bytes = 11 * 1024 * 1024;
  ASSERT_EQ(0, sg_sched_wait(&s, a, &items[8], now));
  sg_sched_tick(&s, wake);
  ASSERT(sg_sched_pop(&s, wake, &l) == &items[2]);
  ASSERT_EQ(1, sg_sched_kib(1));
  ASSERT_EQ(1, sg_sched_kib(1024));
  ASSERT_EQ(2, sg_sched_kib(1025));
  ASSERT_EQ(0, sg_sched_kib(0));
  /* Without a byte limit nothing is counted. */
  sg_lane_cfg none = {0};
  sg_lane *b = sg_sched_lane(&s, "b", &none);
  items[5].bytes = UINT64_MAX / 2;
  sg_sched_push(&s, b, &items[5], false);
  ASSERT(sg_sched_pop(&s, wake, &l) == &items[3]); /* a's turn: 8 MiB in the window now */
  ASSERT(sg_sched_pop(&s, wake, &l) == &items[5]);
  ASSERT(l == b);
  sg_sched_free(&s);
}

SG_TESTS({"bytes", t_bytes}, {"total_cap", t_total_cap},
         {"inflight_cap_and_rr", t_inflight_cap_and_rr}, {"pause_front", t_pause_front},
         {"windows", t_windows}, {"many_lanes", t_many_lanes}, {"idle_freed", t_idle_freed},
         {"kept_until_drained", t_kept_until_drained}, {"referenced_kept", t_referenced_kept},
         {"table_shrinks", t_table_shrinks}, {"property_counters", t_property_counters})
