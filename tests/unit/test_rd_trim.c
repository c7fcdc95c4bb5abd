/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The stream trimmer against a real, private redis-server: it removes exactly
 * the entries every group was handed and acknowledged (never a pending one,
 * never one a group has not read), caps the results stream, and reloads its
 * script after SCRIPT FLUSH (sg_rd_script's EVALSHA -> EVAL fallback).
 */
#include "rd_test_client.h"
#include "rd_test_loop.h"

#include "core/sg_err.h"
#include "redis/sg_rd_trim.h"

typedef struct ctx {
  sg_rd_test_env e;
  sg_rd_trim *t;
  int told;      /* changes told */
  bool keeps_up; /* the last ones */
  bool results_ok;
} ctx;

static void on_keeps_up(bool keeps_up, bool results_ok, void *ud) {
  ctx *x = ud;
  x->told++;
  x->keeps_up = keeps_up;
  x->results_ok = results_ok;
}

/* A trimmer that runs when kicked (its tick is an hour), or |busy_ms| after a
 * run that trimmed (0: an hour too). */
static void begin_busy(ctx *x, uint64_t results_maxlen, uint32_t busy_ms) {
  memset(x, 0, sizeof *x);
  sg_rd_test_env_start(&x->e);
  sg_rd_trim_opts to = {.client = x->e.c,
                        .results = "sendgate:results",
                        .results_maxlen = results_maxlen,
                        .tick_ms = 3600000,
                        .busy_tick_ms = busy_ms,
                        .held_ms = 60000,
                        .cb = on_keeps_up,
                        .ud = x};
  ASSERT_OK(sg_rd_trim_new(&x->e.loop, &to, &x->t));
}

static void begin(ctx *x, uint64_t results_maxlen) {
  begin_busy(x, results_maxlen, 0);
}

/* Runs the trimmer once, waits (bounded) for its answer, returns what that run did. */
static sg_rd_trim_stats trim_once(ctx *x) {
  sg_rd_trim_stats before, st;
  sg_rd_trim_get_stats(x->t, &before);
  sg_rd_trim_kick(x->t);
  uint64_t end = uv_now(&x->e.loop) + 5000;
  do {
    uv_run(&x->e.loop, UV_RUN_NOWAIT);
    sg_rd_trim_get_stats(x->t, &st);
  } while (st.runs + st.errors == before.runs + before.errors && uv_now(&x->e.loop) < end);
  ASSERT_EQ(before.errors, st.errors);
  ASSERT_EQ(before.runs + 1, st.runs);
  st.trimmed -= before.trimmed;
  st.results_trimmed -= before.results_trimmed;
  st.held -= before.held;
  return st;
}

static void end_ctx(ctx *x) {
  sg_rd_trim_close(x->t, sg_rd_test_env_on_closed, &x->e);
  sg_rd_test_env_stop(&x->e, 1);
}

static long long integer(ctx *x, const char *fmt, const char *a) {
  redisReply *r = sg_test_redis_cmd(&x->e.r, fmt, a);
  ASSERT_NOT_NULL(r);
  ASSERT_EQ(REDIS_REPLY_INTEGER, r->type);
  long long v = r->integer;
  freeReplyObject(r);
  return v;
}

static void cmd(ctx *x, const char *fmt, const char *a) {
  redisReply *r = sg_test_redis_cmd(&x->e.r, fmt, a);
  ASSERT_NOT_NULL(r);
  ASSERT(r->type != REDIS_REPLY_ERROR);
  freeReplyObject(r);
}

/* Entries 1..10 with ids 1-0 .. 10-0. */
static void ten_entries(ctx *x) {
  char id[16];
  for (int i = 1; i <= 10; i++) {
    snprintf(id, sizeof id, "%d-0", i);
    cmd(x, "XADD sendgate:jobs %s job x", id);
  }
}

static void t_acked_only(void) {
  ctx x;
  begin(&x, 0);
  ten_entries(&x);
  cmd(&x, "XGROUP CREATE sendgate:jobs %s 0", "sendgate");
  /* nothing read yet: nothing may go */
  ASSERT_EQ(0, trim_once(&x).trimmed);
  ASSERT_EQ(10, integer(&x, "XLEN %s", "sendgate:jobs"));
  /* six handed out, the first three acked: 1..3 go, 4..6 (pending) and 7..10 stay */
  cmd(&x, "XREADGROUP GROUP sendgate c1 COUNT 6 STREAMS sendgate:jobs %s", ">");
  cmd(&x, "XACK sendgate:jobs sendgate 1-0 2-0 %s", "3-0");
  ASSERT_EQ(3, trim_once(&x).trimmed);
  ASSERT_EQ(7, integer(&x, "XLEN %s", "sendgate:jobs"));
  /* the oldest pending one holds back the ones after it, acked or not */
  cmd(&x, "XACK sendgate:jobs sendgate 5-0 %s", "6-0");
  ASSERT_EQ(0, trim_once(&x).trimmed);
  ASSERT_EQ(7, integer(&x, "XLEN %s", "sendgate:jobs"));
  cmd(&x, "XACK sendgate:jobs sendgate %s", "4-0");
  ASSERT_EQ(3, trim_once(&x).trimmed);
  ASSERT_EQ(4, integer(&x, "XLEN %s", "sendgate:jobs"));
  /* everything handed out and acked: the stream empties */
  cmd(&x, "XREADGROUP GROUP sendgate c1 COUNT 10 STREAMS sendgate:jobs %s", ">");
  cmd(&x, "XACK sendgate:jobs sendgate 7-0 8-0 9-0 %s", "10-0");
  ASSERT_EQ(4, trim_once(&x).trimmed);
  ASSERT_EQ(0, integer(&x, "XLEN %s", "sendgate:jobs"));
  end_ctx(&x);
}

/* Runs the loop until the trimmer has answered |runs| runs in all, at most
 * |ms| (a 10 ms tick keeps the loop turning); returns the stats then. */
static sg_rd_trim_stats runs_within(ctx *x, uint64_t runs, uint64_t ms) {
  uv_timer_t tick;
  ASSERT_OK(uv_timer_init(&x->e.loop, &tick));
  ASSERT_OK(uv_timer_start(&tick, sg_rd_test_on_tick_, 10, 10));
  sg_rd_trim_stats st;
  uint64_t end = uv_now(&x->e.loop) + ms;
  do {
    uv_run(&x->e.loop, UV_RUN_ONCE);
    sg_rd_trim_get_stats(x->t, &st);
  } while (st.runs < runs && uv_now(&x->e.loop) < end);
  uv_close((uv_handle_t *)&tick, NULL);
  uv_run(&x->e.loop, UV_RUN_NOWAIT);
  return st;
}

/* For a second after a run that trimmed, the runs come every busy_tick_ms
 * (more acked entries are likely), without a kick, also those that find
 * nothing; then not before tick_ms. */
static void t_busy_tick(void) {
  ctx x;
  begin_busy(&x, 0, 50);
  ten_entries(&x);
  cmd(&x, "XGROUP CREATE sendgate:jobs %s 0", "sendgate");
  cmd(&x, "XREADGROUP GROUP sendgate c1 COUNT 10 STREAMS sendgate:jobs %s", ">");
  cmd(&x, "XACK sendgate:jobs sendgate 1-0 2-0 %s", "3-0");
  ASSERT_EQ(3, trim_once(&x).trimmed);
  cmd(&x, "XACK sendgate:jobs sendgate 4-0 %s", "5-0");
  sg_rd_trim_stats st = runs_within(&x, 2, 3000); /* no kick: the busy tick */
  ASSERT_EQ(2, st.runs);
  ASSERT_EQ(5, st.trimmed);
  st = runs_within(&x, 1000, 2000); /* a second of runs that find nothing */
  ASSERT_GE(st.runs, 6);
  ASSERT_LE(st.runs, 40);
  ASSERT_EQ(5, st.trimmed);
  uint64_t runs = st.runs;
  st = runs_within(&x, 1000, 500); /* then the long tick: none */
  ASSERT_EQ(runs, st.runs);
  ASSERT_EQ(5, integer(&x, "XLEN %s", "sendgate:jobs"));
  end_ctx(&x);
}

/* A second group that has read less keeps what it has not read. */
static void t_slowest_group(void) {
  ctx x;
  begin(&x, 0);
  ten_entries(&x);
  cmd(&x, "XGROUP CREATE sendgate:jobs %s 0", "sendgate");
  cmd(&x, "XGROUP CREATE sendgate:jobs %s 0", "audit");
  cmd(&x, "XREADGROUP GROUP sendgate c1 COUNT 10 STREAMS sendgate:jobs %s", ">");
  cmd(&x, "XACK sendgate:jobs sendgate 1-0 2-0 3-0 4-0 5-0 6-0 7-0 8-0 9-0 %s", "10-0");
  cmd(&x, "XREADGROUP GROUP audit a1 COUNT 2 STREAMS sendgate:jobs %s", ">");
  cmd(&x, "XACK sendgate:jobs audit 1-0 %s", "2-0");
  ASSERT_EQ(2, trim_once(&x).trimmed);
  ASSERT_EQ(8, integer(&x, "XLEN %s", "sendgate:jobs"));
  /* no stream, no group: nothing to do, no error */
  cmd(&x, "DEL %s", "sendgate:jobs");
  ASSERT_EQ(0, trim_once(&x).trimmed);
  end_ctx(&x);
}

/* The results stream is capped (approximately: whole nodes) at its maxlen. */
static void t_results_cap(void) {
  ctx x;
  begin(&x, 100);
  for (int i = 0; i < 1000; i++)
    cmd(&x, "XADD sendgate:results * result %s", "r");
  sg_rd_trim_stats st = trim_once(&x);
  long long left = integer(&x, "XLEN %s", "sendgate:results");
  ASSERT(left >= 100 && left < 1000);
  ASSERT_EQ((uint64_t)(1000 - left), st.results_trimmed);
  end_ctx(&x);
}

/* After SCRIPT FLUSH the script is sent again with EVAL and still trims. */
static void t_script_reload(void) {
  ctx x;
  begin(&x, 0);
  ten_entries(&x);
  cmd(&x, "XGROUP CREATE sendgate:jobs %s 0", "sendgate");
  cmd(&x, "XREADGROUP GROUP sendgate c1 COUNT 2 STREAMS sendgate:jobs %s", ">");
  cmd(&x, "XACK sendgate:jobs sendgate 1-0 %s", "2-0");
  trim_once(&x); /* loads it (the first EVALSHA finds nothing) */
  cmd(&x, "SCRIPT %s", "FLUSH");
  cmd(&x, "XREADGROUP GROUP sendgate c1 COUNT 2 STREAMS sendgate:jobs %s", ">");
  cmd(&x, "XACK sendgate:jobs sendgate 3-0 %s", "4-0");
  ASSERT_EQ(2, trim_once(&x).trimmed);
  ASSERT_EQ(6, integer(&x, "XLEN %s", "sendgate:jobs"));
  end_ctx(&x);
}

/* A pending entry delivered more than held_ms ago holds the trim up, and
 * the owner is told (completions should XDEL meanwhile); once it is acked
 * the trim keeps up again. An entry long in the stream but just delivered
 * does not count. */
static void t_held_up(void) {
  ctx x;
  begin(&x, 0);
  ten_entries(&x); /* ids 1-0 ..: from 1970, long in the stream */
  cmd(&x, "XGROUP CREATE sendgate:jobs %s 0", "sendgate");
  cmd(&x, "XREADGROUP GROUP sendgate c1 COUNT 2 STREAMS sendgate:jobs %s", ">");
  cmd(&x, "XACK sendgate:jobs sendgate 1-0 %s", "2-0");
  sg_rd_trim_stats st = trim_once(&x);
  ASSERT_EQ(2, st.trimmed);
  ASSERT_EQ(0, st.held);
  ASSERT_EQ(1, x.told);
  ASSERT(x.keeps_up);
  /* 3-0 stays pending, 4..6 are acked behind it; just delivered: not held */
  cmd(&x, "XREADGROUP GROUP sendgate c1 COUNT 4 STREAMS sendgate:jobs %s", ">");
  cmd(&x, "XACK sendgate:jobs sendgate 4-0 5-0 %s", "6-0");
  st = trim_once(&x);
  ASSERT_EQ(0, st.trimmed);
  ASSERT_EQ(0, st.held);
  ASSERT_EQ(1, x.told);
  /* delivered two minutes ago (held_ms is a minute): held */
  cmd(&x, "XCLAIM sendgate:jobs sendgate c1 0 3-0 IDLE 120000 %s", "JUSTID");
  st = trim_once(&x);
  ASSERT_EQ(0, st.trimmed);
  ASSERT_EQ(1, st.held);
  ASSERT_EQ(2, x.told);
  ASSERT(!x.keeps_up);
  st = trim_once(&x); /* still held: nothing new told */
  ASSERT_EQ(1, st.held);
  ASSERT_EQ(2, x.told);
  cmd(&x, "XACK sendgate:jobs sendgate %s", "3-0");
  st = trim_once(&x);
  ASSERT_EQ(4, st.trimmed);
  ASSERT_EQ(0, st.held);
  ASSERT_EQ(3, x.told);
  ASSERT(x.keeps_up);
  ASSERT_EQ(4, integer(&x, "XLEN %s", "sendgate:jobs"));
  end_ctx(&x);
}

/* A results key of another type is told (results cannot go there), and is
 * not trimmed; once it is a stream again, that is told too. */
static void t_results_type(void) {
  ctx x;
  begin(&x, 100);
  trim_once(&x);
  ASSERT_EQ(1, x.told);
  ASSERT(x.results_ok);
  cmd(&x, "SET sendgate:results %s", "not-a-stream");
  ASSERT_EQ(0, trim_once(&x).results_trimmed);
  ASSERT_EQ(2, x.told);
  ASSERT(!x.results_ok);
  trim_once(&x); /* no change: not told again */
  ASSERT_EQ(2, x.told);
  cmd(&x, "DEL %s", "sendgate:results");
  for (int i = 0; i < 1000; i++)
    cmd(&x, "XADD sendgate:results * result %s", "r");
  ASSERT(trim_once(&x).results_trimmed > 0);
  ASSERT_EQ(3, x.told);
  ASSERT(x.results_ok);
  end_ctx(&x);
}

/* Closing trims once more: what was acked since the last run goes. */
static void t_final_on_close(void) {
  ctx x;
  begin(&x, 0);
  ten_entries(&x);
  cmd(&x, "XGROUP CREATE sendgate:jobs %s 0", "sendgate");
  cmd(&x, "XREADGROUP GROUP sendgate c1 COUNT 4 STREAMS sendgate:jobs %s", ">");
  cmd(&x, "XACK sendgate:jobs sendgate 1-0 2-0 3-0 %s", "4-0");
  sg_rd_trim_close(x.t, sg_rd_test_env_on_closed, &x.e);
  uint64_t end = uv_now(&x.e.loop) + 5000;
  while (x.e.closed < 1 && uv_now(&x.e.loop) < end)
    uv_run(&x.e.loop, UV_RUN_NOWAIT);
  ASSERT_EQ(1, x.e.closed);
  ASSERT_EQ(6, integer(&x, "XLEN %s", "sendgate:jobs"));
  sg_rd_test_env_stop(&x.e, 1);
}

SG_TESTS({"acked_only", t_acked_only}, {"busy_tick", t_busy_tick},
         {"final_on_close", t_final_on_close}, {"held_up", t_held_up},
         {"results_type", t_results_type}, {"slowest_group", t_slowest_group},
         {"results_cap", t_results_cap}, {"script_reload", t_script_reload})
