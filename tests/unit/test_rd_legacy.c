/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The watch for the ledger's older layout against a real, private
 * redis-server: "present" until the first pass; "absent" after a pass over a
 * keyspace of other keys (several SCAN calls); "present" once such a key is
 * written, at the next pass; "absent" again once it is gone; a key of another
 * type under the prefix does not count; closing with a call in flight.
 */
#include "rd_test_client.h"

#include "core/sg_err.h"
#include "redis/sg_rd_legacy.h"
#include "redis/sg_rd_queue.h"

typedef struct ctx {
  sg_rd_test_env e;
  sg_rd_legacy *w;
  int answers;
  bool last;
} ctx;

static void on_answer(bool present, void *ud) {
  ctx *x = ud;
  x->answers++;
  x->last = present;
}

static void begin(ctx *x, uint32_t pass_every_ms) {
  memset(x, 0, sizeof *x);
  sg_rd_test_env_start(&x->e);
  sg_rd_legacy_opts o = {
      .client = x->e.c, .count = 100, .pass_every_ms = pass_every_ms, .cb = on_answer, .ud = x};
  ASSERT_OK(sg_rd_legacy_new(&x->e.loop, &o, &x->w));
}

/* Runs the loop until |n| answers in all (bounded); returns the last one. */
static bool answers(ctx *x, int n) {
  uint64_t end = uv_now(&x->e.loop) + 5000;
  while (x->answers < n && uv_now(&x->e.loop) < end)
    uv_run(&x->e.loop, UV_RUN_NOWAIT);
  ASSERT_GE(x->answers, n);
  return x->last;
}

/* Runs the loop until a pass answers |want| (bounded: passes repeat every 20 ms). */
static void wait_answer(ctx *x, bool want) {
  int n = x->answers;
  uint64_t end = uv_now(&x->e.loop) + 5000;
  while ((x->answers == n || x->last != want) && uv_now(&x->e.loop) < end)
    uv_run(&x->e.loop, UV_RUN_NOWAIT);
  ASSERT_EQ(want, x->last);
  ASSERT_EQ(want, sg_rd_legacy_present(x->w));
}

static void cmd(ctx *x, const char *fmt, const char *a) {
  redisReply *r = sg_test_redis_cmd(&x->e.r, fmt, a);
  ASSERT_NOT_NULL(r);
  ASSERT(r->type != REDIS_REPLY_ERROR);
  freeReplyObject(r);
}

static void end_ctx(ctx *x) {
  sg_rd_legacy_close(x->w, sg_rd_test_env_on_closed, &x->e);
  sg_rd_test_env_stop(&x->e, 1);
}

static void t_passes(void) {
  ctx x;
  begin(&x, 20);
  ASSERT(sg_rd_legacy_present(x.w)); /* the safe side until a pass ends */
  /* 1,000 other keys: a pass takes several calls of COUNT 100. */
  cmd(&x, "EVAL %s 0", "for i = 1, 1000 do redis.call('SET', 'other:' .. i, 'x') end");
  cmd(&x, "HSET %s f v", SG_RD_LEDGER_LEGACY_PREFIX "a-hash"); /* not a string: not the layout */
  ASSERT(!answers(&x, 1));
  ASSERT(!sg_rd_legacy_present(x.w));
  sg_rd_legacy_stats st;
  sg_rd_legacy_get_stats(x.w, &st);
  ASSERT_GE(st.calls, 3);
  ASSERT_EQ(0, st.errors);
  /* Written by a gateway of the older version: a pass says so. */
  cmd(&x, "SET %s result", SG_RD_LEDGER_LEGACY_PREFIX "job-1");
  wait_answer(&x, true);
  /* Gone (expired): absent again. */
  cmd(&x, "DEL %s", SG_RD_LEDGER_LEGACY_PREFIX "job-1");
  wait_answer(&x, false);
  end_ctx(&x);
}

/* Closing while a pass's call is in flight: the reply is waited for, no answer after. */
static void t_close_in_flight(void) {
  ctx x;
  begin(&x, 3600000);
  cmd(&x, "EVAL %s 0", "for i = 1, 1000 do redis.call('SET', 'other:' .. i, 'x') end");
  sg_rd_legacy_stats st = {0};
  uint64_t end = uv_now(&x.e.loop) + 5000;
  while (st.calls == 0 && uv_now(&x.e.loop) < end) {
    uv_run(&x.e.loop, UV_RUN_NOWAIT);
    sg_rd_legacy_get_stats(x.w, &st);
  }
  ASSERT_GE(st.calls, 1);
  ASSERT_EQ(0, x.answers); /* the pass is not over: about 10 calls */
  sg_rd_legacy_close(x.w, sg_rd_test_env_on_closed, &x.e);
  sg_rd_test_env_stop(&x.e, 1);
  ASSERT_EQ(0, x.answers);
}

SG_TESTS({"passes", t_passes}, {"close_in_flight", t_close_in_flight})
