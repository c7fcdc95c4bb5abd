/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shared-budget script against a real, private redis-server, with two
 * gateway ids: slots never exceed the cap across them and a waiting gateway
 * is served first; window credit never exceeds the limit and credit given
 * back is available again; a pause set by one stops the other's credit; the
 * slots of a gateway whose lease ran out go to the others. The window's sum
 * kept beside it grants exactly the limit across sub-windows and give-backs,
 * takes in counts written by older gateways from the next sub-window on, and
 * the window hash is read at most once per sub-window.
 */
#include "rd_test_client.h"

#include "core/sg_err.h"
#include "redis/sg_rd_budget.h"
#include "redis/sg_rd_client.h"

#include <uv.h>

typedef struct ctx {
  sg_rd_test_env e;
  sg_rd_budget *g1, *g2;
  bool known1, known2; /* a call of g1 / g2 succeeded */
} ctx;

static void begin(ctx *x) {
  memset(x, 0, sizeof *x);
  sg_rd_test_env_start(&x->e);
  sg_rd_budget_opts bo = {
      .gateway_id = "g1", .lease_ms = 300, .share_ms = 1000, .timeout_ms = 2000};
  sg_rd_budget_new(x->e.c, &bo, &x->g1);
  bo.gateway_id = "g2";
  bo.lease_ms = 5000;
  sg_rd_budget_new(x->e.c, &bo, &x->g2);
}

static void end_ctx(ctx *x) {
  sg_rd_budget_free(x->g1);
  sg_rd_budget_free(x->g2);
  sg_rd_test_env_stop(&x->e, 0);
}

typedef struct answer {
  bool done;
  int status;
  uint32_t gateways;
  bool lost;
  char news[4][64];
  size_t nnews;
  sg_share_grant g;
} answer;

static void on_answer(int status, const sg_rd_budget_reply *r, void *ud) {
  answer *a = ud;
  a->done = true;
  a->status = status;
  if (status != 0)
    return;
  a->gateways = r->gateways;
  a->lost = r->lost;
  for (size_t i = 0; i < r->nnews && a->nnews < 4; i++)
    snprintf(a->news[a->nnews++], sizeof a->news[0], "%s", r->news[i]);
  if (r->n == 1)
    a->g = r->g[0];
}

/* One lane "graph|a|m" with cap 4 (or |nocap|: "acs|r", no cap) and a message
 * window of 10 per minute. */
typedef struct ask {
  uint32_t want, rel;
  uint32_t nitems; /* each one message */
  uint64_t ret, ret_sid, pause_ms;
  bool bye, nocap, company, none; /* none: a call with no op (a heartbeat) */
  uint64_t limit, win_ms;         /* of the message window; 0: 10 per 60000 ms */
} ask;

static answer call_full(ctx *x, sg_rd_budget *b, ask q) {
  sg_share_op op;
  memset(&op, 0, sizeof op);
  op.key = q.nocap ? "acs|r" : "graph|a|m";
  op.cap = q.nocap ? 0 : 4;
  op.want = q.want;
  op.rel = q.rel;
  op.pause_ms = q.pause_ms;
  op.bye = q.bye;
  op.company = q.company;
  op.limit[2] = q.limit ? q.limit : 10;
  op.win_ms[2] = q.win_ms ? q.win_ms : 60000;
  op.ret[2] = q.ret;
  op.ret_sid[2] = q.ret_sid;
  /* Two runs when more than two jobs: each costs one message either way. */
  op.nitems = q.nitems;
  op.nruns = q.nitems > 2 ? 2 : q.nitems ? 1 : 0;
  uint64_t charges[2 * SG_SHARE_RUN] = {q.nitems > 2 ? 2 : q.nitems,     0, 0, 1, 0, 0,
                                        q.nitems > 2 ? q.nitems - 2 : 0, 0, 0, 1, 0, 0};
  sg_share_req req = {.ops = &op, .nops = q.none ? 0 : 1, .charges = charges};
  answer a;
  memset(&a, 0, sizeof a);
  bool *known = b == x->g1 ? &x->known1 : &x->known2;
  ASSERT_OK(sg_rd_budget_call(b, &req, *known, on_answer, &a));
  ASSERT_EQ(SG_ERR_BUSY, sg_rd_budget_call(b, &req, *known, on_answer, &a));
  uint64_t end = uv_now(&x->e.loop) + 5000;
  while (!a.done && uv_now(&x->e.loop) < end)
    uv_run(&x->e.loop, UV_RUN_NOWAIT);
  ASSERT(a.done);
  ASSERT_OK(a.status);
  *known = true;
  return a;
}

static sg_share_grant call(ctx *x, sg_rd_budget *b, ask q, uint32_t *gateways) {
  answer a = call_full(x, b, q);
  if (gateways)
    *gateways = a.gateways;
  return a.g;
}

static void t_slots(void) {
  ctx x;
  begin(&x);
  uint32_t gws = 0;
  sg_share_grant g = call(&x, x.g1, (ask){.want = 4}, &gws);
  ASSERT_EQ(4, g.slots);
  ASSERT_EQ(0, g.others);
  ASSERT_EQ(1, gws);
  g = call(&x, x.g2, (ask){.want = 2}, &gws);
  ASSERT_EQ(0, g.slots); /* never more than the cap across gateways */
  ASSERT_EQ(1, g.others);
  ASSERT_EQ(2, gws);
  /* g1 gives two back and wants one again: g2 waits ahead of it. */
  g = call(&x, x.g1, (ask){.rel = 2, .want = 1}, NULL);
  ASSERT_EQ(1, g.slots);
  g = call(&x, x.g2, (ask){.want = 2}, NULL);
  ASSERT_EQ(1, g.slots);
  g = call(&x, x.g1, (ask){.want = 1}, NULL);
  ASSERT_EQ(0, g.slots); /* 3 + 1 held */
  end_ctx(&x);
}

static void t_windows_and_give_back(void) {
  ctx x;
  begin(&x);
  sg_share_grant g = call(&x, x.g1, (ask){.nitems = 8}, NULL);
  ASSERT_EQ(8, g.items);
  ASSERT_EQ(8, g.credit[2]);
  ASSERT(g.sid[2] > 0);
  g = call(&x, x.g2, (ask){.nitems = 5}, NULL);
  ASSERT_EQ(2, g.items); /* 10 per window across gateways */
  ASSERT_EQ(2, g.credit[2]);
  call(&x, x.g1, (ask){.ret = 3, .ret_sid = 0}, NULL);
  g = call(&x, x.g2, (ask){.nitems = 1}, NULL);
  ASSERT_EQ(0, g.items); /* given back to a sub-window that holds none: nothing freed */
  end_ctx(&x);
}

static void t_give_back(void) {
  ctx x;
  begin(&x);
  sg_share_grant a = call(&x, x.g1, (ask){.nitems = 10}, NULL);
  ASSERT_EQ(10, a.items);
  ASSERT_EQ(0, call(&x, x.g2, (ask){.nitems = 1}, NULL).items);
  call(&x, x.g1, (ask){.ret = 4, .ret_sid = a.sid[2]}, NULL);
  sg_share_grant b = call(&x, x.g2, (ask){.nitems = 6}, NULL);
  ASSERT_EQ(4, b.items);
  end_ctx(&x);
}

static void t_pause(void) {
  ctx x;
  begin(&x);
  call(&x, x.g1, (ask){.pause_ms = 2000}, NULL);
  sg_share_grant g = call(&x, x.g2, (ask){.nitems = 3}, NULL);
  ASSERT(g.pause_ms > 0 && g.pause_ms <= 2000);
  ASSERT_EQ(0, g.items);                                      /* no credit inside a Retry-After */
  ASSERT_EQ(0, call(&x, x.g2, (ask){.want = 1}, NULL).slots); /* nor a slot */
  /* A shorter pause does not shorten it. */
  call(&x, x.g2, (ask){.pause_ms = 10}, NULL);
  g = call(&x, x.g1, (ask){0}, NULL);
  ASSERT(g.pause_ms > 1000);
  end_ctx(&x);
}

static void t_lease_expiry(void) {
  ctx x;
  begin(&x);
  ASSERT_EQ(4, call(&x, x.g1, (ask){.want = 4}, NULL).slots); /* g1's lease: 300 ms */
  ASSERT_EQ(0, call(&x, x.g2, (ask){.want = 4}, NULL).slots);
  /* g1 says nothing more (it died): its slots go once its lease is over. */
  uint64_t start = uv_now(&x.e.loop), got = 0;
  for (int i = 0; i < 200 && got == 0; i++) {
    uv_sleep(20);
    uv_update_time(&x.e.loop);
    got = call(&x, x.g2, (ask){.want = 4}, NULL).slots;
  }
  ASSERT_EQ(4, got);
  ASSERT_GE(uv_now(&x.e.loop) - start, 250);
  /* A goodbye leaves the lane. */
  call(&x, x.g2, (ask){.rel = 4, .bye = true}, NULL);
  ASSERT_EQ(0, call(&x, x.g1, (ask){.want = 1}, NULL).others);
  end_ctx(&x);
}

/* A gateway arriving on a lane is news for the others at their next call,
 * even one with no op. */
static void t_news(void) {
  ctx x;
  begin(&x);
  ASSERT_EQ(4, call(&x, x.g1, (ask){.want = 4}, NULL).slots);
  ASSERT_EQ(0, call_full(&x, x.g1, (ask){.none = true}).nnews);
  ASSERT_EQ(0, call(&x, x.g2, (ask){.want = 1}, NULL).slots);
  answer a = call_full(&x, x.g1, (ask){.none = true});
  ASSERT_EQ(1, a.nnews);
  ASSERT_STR_EQ("graph|a|m", a.news[0]);
  ASSERT_EQ(0, call_full(&x, x.g1, (ask){.none = true}).nnews); /* told once */
  end_ctx(&x);
}

/* No slot cap: while a gateway holds credit it took alone, another gets
 * none (its pause could not reach the first in time); once the first says it
 * has company (giving back what is left), the other is served. */
static void t_alone_credit(void) {
  ctx x;
  begin(&x);
  sg_share_grant a = call(&x, x.g1, (ask){.nocap = true, .nitems = 3}, NULL);
  ASSERT_EQ(3, a.items);
  ASSERT_EQ(0, a.others);
  sg_share_grant b = call(&x, x.g2, (ask){.nocap = true, .nitems = 2}, NULL);
  ASSERT_EQ(1, b.others);
  ASSERT_EQ(0, b.items);
  answer n = call_full(&x, x.g1, (ask){.none = true});
  ASSERT_EQ(1, n.nnews);
  call(&x, x.g1, (ask){.nocap = true, .company = true, .ret = 3, .ret_sid = a.sid[2]}, NULL);
  b = call(&x, x.g2, (ask){.nocap = true, .nitems = 2}, NULL);
  ASSERT_EQ(2, b.items);
  /* With company, g1's credit takes no lock: g2 is served again. */
  ASSERT_EQ(2, call(&x, x.g1, (ask){.nocap = true, .nitems = 2}, NULL).items);
  ASSERT_EQ(2, call(&x, x.g2, (ask){.nocap = true, .nitems = 2}, NULL).items);
  end_ctx(&x);
}

/* A gateway that leaves gives back everything at once. */
static void t_leave(void) {
  ctx x;
  begin(&x);
  ASSERT_EQ(4, call(&x, x.g2, (ask){.want = 4}, NULL).slots);
  ASSERT_EQ(0, call(&x, x.g1, (ask){.want = 4}, NULL).slots);
  ASSERT_OK(sg_rd_budget_leave(x.g2));
  ASSERT_EQ(4, call(&x, x.g1, (ask){.want = 4}, NULL).slots);
  end_ctx(&x);
}

/* A gateway whose registry entry expired is told its leases are gone. */
static void t_lost(void) {
  ctx x;
  begin(&x);
  ASSERT(!call_full(&x, x.g1, (ask){.want = 4}).lost); /* g1's lease: 300 ms */
  uv_sleep(400);
  uv_update_time(&x.e.loop);
  ASSERT_EQ(4, call(&x, x.g2, (ask){.want = 4}, NULL).slots); /* g1's slots went */
  ASSERT(call_full(&x, x.g1, (ask){.none = true}).lost);
  ASSERT(!call_full(&x, x.g1, (ask){.none = true}).lost);
  end_ctx(&x);
}

/* Redis's clock (the script's), in ms. */
static uint64_t redis_ms(ctx *x) {
  redisReply *t = sg_test_redis_cmd(&x->e.r, "TIME");
  ASSERT_NOT_NULL(t);
  ASSERT(t->type == REDIS_REPLY_ARRAY && t->elements == 2);
  uint64_t ms =
      strtoull(t->element[0]->str, NULL, 10) * 1000 + strtoull(t->element[1]->str, NULL, 10) / 1000;
  freeReplyObject(t);
  return ms;
}

/* Waits (bounded) until Redis's clock enters the next sub-window of |slot|
 * ms and returns its index: the calls that follow start a sub-window. */
static uint64_t next_sub(ctx *x, uint64_t slot) {
  uint64_t cur = redis_ms(x) / slot, now = cur;
  for (int i = 0; i < 1000 && now == cur; i++) {
    uv_sleep(2);
    now = redis_ms(x) / slot;
  }
  ASSERT_EQ(cur + 1, now);
  uv_update_time(&x->e.loop);
  return now;
}

/* The message window of lane "graph|a|m" and its companion (sum, index). */
#define WIN_KEY "sendgate:budget:{graph|a|m}:w2"

static long long hgetall_calls(ctx *x) {
  redisReply *st = sg_test_redis_cmd(&x->e.r, "INFO commandstats");
  ASSERT_NOT_NULL(st);
  const char *p = strstr(st->str, "cmdstat_hgetall:calls=");
  long long n = p ? strtoll(p + strlen("cmdstat_hgetall:calls="), NULL, 10) : 0;
  freeReplyObject(st);
  return n;
}

/* The window's live fields summed, as the companion's t must be. */
static long long window_sum(ctx *x) {
  redisReply *h = sg_test_redis_cmd(&x->e.r, "HVALS %s", WIN_KEY);
  ASSERT_NOT_NULL(h);
  long long sum = 0;
  for (size_t i = 0; i < h->elements; i++)
    sum += strtoll(h->element[i]->str, NULL, 10);
  freeReplyObject(h);
  return sum;
}

static long long companion_t(ctx *x) {
  redisReply *t = sg_test_redis_cmd(&x->e.r, "HGET %s:s t", WIN_KEY);
  ASSERT_NOT_NULL(t);
  long long v = t->type == REDIS_REPLY_STRING ? strtoll(t->str, NULL, 10) : -1;
  freeReplyObject(t);
  return v;
}

/* Message window of 20 per 12000 ms: sub-windows of 200 ms, and credit
 * counted at (now + 1000 ms) stays live for the whole test (about 13 s). */
#define SUM_LIMIT 20
#define SUM_WIN 12000
#define SUM_SLOT (SUM_WIN / 60)

static sg_share_grant credit(ctx *x, sg_rd_budget *b, uint32_t n, uint64_t ret, uint64_t sid) {
  return call(x, b,
              (ask){.nitems = n, .ret = ret, .ret_sid = sid, .limit = SUM_LIMIT, .win_ms = SUM_WIN},
              NULL);
}

/* The window's sum kept across calls (grants in one sub-window and across
 * sub-windows, credit given back) grants exactly the limit, never more. */
static void t_window_sum(void) {
  ctx x;
  begin(&x);
  next_sub(&x, SUM_SLOT);
  sg_share_grant a = credit(&x, x.g1, 3, 0, 0);
  ASSERT_EQ(3, a.items);
  ASSERT_EQ(4, credit(&x, x.g2, 4, 0, 0).items);
  sg_share_grant c = credit(&x, x.g1, 2, 0, 0);
  ASSERT_EQ(2, c.items);
  ASSERT_EQ(9, companion_t(&x));
  next_sub(&x, SUM_SLOT);
  ASSERT_EQ(5, credit(&x, x.g2, 5, 0, 0).items); /* 14 */
  credit(&x, x.g1, 0, 3, a.sid[2]);              /* 11 */
  ASSERT_EQ(11, companion_t(&x));
  ASSERT_EQ(9, credit(&x, x.g2, 20, 0, 0).items); /* exactly up to the limit */
  ASSERT_EQ(0, credit(&x, x.g1, 1, 0, 0).items);
  next_sub(&x, SUM_SLOT);
  ASSERT_EQ(0, credit(&x, x.g1, 1, 0, 0).items);
  credit(&x, x.g1, 0, 2, c.sid[2]); /* 18 */
  ASSERT_EQ(2, credit(&x, x.g2, 5, 0, 0).items);
  ASSERT_EQ(0, credit(&x, x.g1, 1, 0, 0).items);
  next_sub(&x, SUM_SLOT);
  ASSERT_EQ(0, credit(&x, x.g2, 1, 0, 0).items);
  ASSERT_EQ(SUM_LIMIT, window_sum(&x));
  ASSERT_EQ(SUM_LIMIT, companion_t(&x));
  /* The companion lives as long as the window. */
  long long wt = sg_test_redis_int(&x.e.r, "PTTL %s", WIN_KEY);
  long long ct = sg_test_redis_int(&x.e.r, "PTTL %s:s", WIN_KEY);
  ASSERT_GT(wt, 0);
  ASSERT_GT(ct, 0);
  ASSERT_LE(ct > wt ? ct - wt : wt - ct, 1000);
  end_ctx(&x);
}

/* A count written straight into the window (an older gateway, which does not
 * keep the companion's sum) is seen from the next sub-window on. Within the
 * sub-window it was written in, it is not: the sum read there is the one kept
 * since that sub-window's rebuild (the drift is bounded by one sub-window). */
static void t_window_drift(void) {
  ctx x;
  begin(&x);
  uint64_t cur = next_sub(&x, SUM_SLOT);
  sg_share_grant a = credit(&x, x.g1, 3, 0, 0);
  ASSERT_EQ(3, a.items);
  char f[24];
  snprintf(f, sizeof f, "%llu", (unsigned long long)a.sid[2]);
  ASSERT_EQ(3 + 9, sg_test_redis_int(&x.e.r, "HINCRBY %s %s 9", WIN_KEY, f)); /* 12 */
  sg_share_grant b = credit(&x, x.g2, 20, 0, 0);
  ASSERT_EQ(cur, redis_ms(&x) / SUM_SLOT); /* still in that sub-window */
  ASSERT_EQ(17, b.items);                  /* the 9 are not seen yet: 29 */
  next_sub(&x, SUM_SLOT);
  ASSERT_EQ(0, credit(&x, x.g1, 1, 0, 0).items); /* now they are */
  ASSERT_EQ(29, companion_t(&x));
  credit(&x, x.g2, 0, 17, b.sid[2]); /* 12 */
  ASSERT_EQ(SUM_LIMIT - 12, credit(&x, x.g1, 20, 0, 0).items);
  ASSERT_EQ(SUM_LIMIT, window_sum(&x));
  end_ctx(&x);
}

/* The window hash is read (HGETALL) at most once per sub-window, whichever
 * gateway asks: the other credit reads take the companion's sum. */
static void t_window_rebuild_once(void) {
  ctx x;
  begin(&x);
  ask q = {.nitems = 1, .limit = 1000, .win_ms = 60000}; /* sub-windows of 1 s */
  uint64_t first = next_sub(&x, 1000);
  long long before = hgetall_calls(&x);
  for (int i = 0; i < 20; i++)
    ASSERT_EQ(1, call(&x, i % 2 ? x.g2 : x.g1, q, NULL).items);
  uint64_t last = redis_ms(&x) / 1000;
  long long n = hgetall_calls(&x) - before;
  ASSERT_GE(n, 1); /* the first read of a sub-window rebuilds */
  ASSERT_LE(n, (long long)(last - first + 1));
  next_sub(&x, 1000);
  before = hgetall_calls(&x);
  ASSERT_EQ(1, call(&x, x.g1, q, NULL).items);
  ASSERT_EQ(1, hgetall_calls(&x) - before);
  ASSERT_EQ(21, companion_t(&x));
  end_ctx(&x);
}

SG_TESTS({"slots", t_slots}, {"windows", t_windows_and_give_back}, {"give_back", t_give_back},
         {"pause", t_pause}, {"lease_expiry", t_lease_expiry}, {"news", t_news},
         {"alone_credit", t_alone_credit}, {"leave", t_leave}, {"lost", t_lost},
         {"window_sum", t_window_sum}, {"window_drift", t_window_drift},
         {"window_rebuild_once", t_window_rebuild_once})
