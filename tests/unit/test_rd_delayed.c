/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The delayed set against a real, private redis-server: member format (pure),
 * parking inside an entry's completion (ZADD + XACK + XDEL), the mover with a
 * fake wall clock (nothing moves before it is due, then exactly once, with
 * delayed_from and attempts, and the stream hands it out again), 1,000 members
 * in batches, reloading the script after SCRIPT FLUSH, and notify() for a due
 * time before the next tick.
 */
#include "harness.h"
#include "rd_test_loop.h"
#include "redis_server.h"

#include "core/sg_err.h"
#include "redis/sg_rd_delayed.h"
#include "redis/sg_rd_stream.h"

#include <uv.h>

#define MAXE 64
#define T0 1800000000000LL

typedef struct ctx {
  uv_loop_t loop;
  uv_timer_t tick;
  sg_test_redis *r;
  sg_rd_stream *s;
  sg_rd_delayed *d;
  int64_t now; /* the fake wall clock */
  int n;
  char ids[MAXE][SG_RD_ID_MAX];
  char jobs[MAXE][32];
  char from[MAXE][SG_RD_ID_MAX];
  char attempts[MAXE][16];
  int done_ok, stopped, closed;
} ctx;

static int64_t fake_now(void *ud) {
  return ((ctx *)ud)->now;
}

static void ctx_init(ctx *x, sg_test_redis *r) {
  memset(x, 0, sizeof *x);
  x->r = r;
  x->now = T0;
  sg_rd_test_loop_init(&x->loop, &x->tick, 10);
}

/* Runs until the mover has answered |runs| scripts in total. */
static void run_runs(ctx *x, uint64_t runs, uint64_t ms) {
  uint64_t end = uv_now(&x->loop) + ms;
  sg_rd_delayed_stats st;
  do {
    uv_run(&x->loop, UV_RUN_ONCE);
    sg_rd_delayed_get_stats(x->d, &st);
  } while (st.runs < runs && uv_now(&x->loop) < end);
  ASSERT_GE(st.runs, runs);
}

static void copy_field(const sg_rd_entry *e, const char *name, char *out, size_t cap) {
  out[0] = '\0';
  for (size_t i = 0; i < e->nfields; i++)
    if (e->fields[i].name_len == strlen(name) &&
        memcmp(e->fields[i].name, name, e->fields[i].name_len) == 0) {
      ASSERT_LT(e->fields[i].value_len, cap);
      memcpy(out, e->fields[i].value, e->fields[i].value_len);
      out[e->fields[i].value_len] = '\0';
    }
}

static void on_entry(sg_rd_stream *s, const sg_rd_entry *e, void *ud) {
  (void)s;
  ctx *x = ud;
  ASSERT_LT(x->n, MAXE);
  snprintf(x->ids[x->n], SG_RD_ID_MAX, "%s", e->id);
  copy_field(e, "job", x->jobs[x->n], sizeof x->jobs[0]);
  copy_field(e, "delayed_from", x->from[x->n], sizeof x->from[0]);
  copy_field(e, "attempts", x->attempts[x->n], sizeof x->attempts[0]);
  x->n++;
}

static void on_done(sg_rd_stream *s, int status, void *ud) {
  (void)s;
  if (status == 0)
    ((ctx *)ud)->done_ok++;
}

static void start_stream(ctx *x, uint32_t credit) {
  char url[64];
  snprintf(url, sizeof url, "redis://127.0.0.1:%d", x->r->port);
  sg_rd_url u;
  ASSERT_OK(sg_rd_url_parse(url, &u));
  sg_rd_stream_opts o = {.consumer = "c1", .poll_ms = 10, .cmd_timeout_ms = 2000};
  o.client.backoff_base_ms = 20;
  o.client.backoff_max_ms = 200;
  sg_rd_stream_cbs cbs = {on_entry, x};
  ASSERT_OK(sg_rd_stream_new(&x->loop, &u, &o, &cbs, &x->s));
  sg_rd_stream_set_credit(x->s, credit);
  uint64_t end = uv_now(&x->loop) + 5000;
  while (!sg_rd_stream_is_up(x->s) && uv_now(&x->loop) < end)
    uv_run(&x->loop, UV_RUN_ONCE);
  ASSERT(sg_rd_stream_is_up(x->s));
}

static void start_mover(ctx *x, uint32_t tick_ms, uint32_t batch) {
  sg_rd_delayed_opts o = {.client = sg_rd_stream_cmd_client(x->s),
                          .tick_ms = tick_ms,
                          .batch = batch,
                          .now_ms = fake_now,
                          .now_ud = x};
  ASSERT_OK(sg_rd_delayed_new(&x->loop, &o, &x->d));
}

static void on_closed(void *ud) {
  ((ctx *)ud)->closed++;
}
static void on_stopped(sg_rd_stream *s, void *ud) {
  (void)s;
  ((ctx *)ud)->stopped++;
}

static void ctx_finish(ctx *x) {
  if (x->d) {
    sg_rd_delayed_close(x->d, on_closed, x);
    sg_rd_test_run_until(&x->loop, &x->closed, 1, 5000);
  }
  sg_rd_stream_stop(x->s, on_stopped, x);
  sg_rd_test_run_until(&x->loop, &x->stopped, 1, 10000);
  uv_close((uv_handle_t *)&x->tick, NULL);
  for (int i = 0; i < 100 && uv_loop_alive(&x->loop); i++)
    uv_run(&x->loop, UV_RUN_NOWAIT);
  ASSERT_OK(uv_loop_close(&x->loop));
}

static void t_member(void) {
  sg_buf b = SG_BUF_INIT;
  static const char job[] = "a|b\0c|9-9|";
  sg_rd_delayed_member(&b, "1700000000000-7", 3, job, sizeof job - 1);
  ASSERT_EQ(strlen("1700000000000-7|3|") + sizeof job - 1, b.len);
  ASSERT_MEM_EQ("1700000000000-7|3|a|b", b.data, 21);
  sg_rd_delayed_member_view v;
  ASSERT_OK(sg_rd_delayed_member_parse(b.data, b.len, &v));
  ASSERT_EQ(15, v.entry_id_len);
  ASSERT_MEM_EQ("1700000000000-7", v.entry_id, 15);
  ASSERT_EQ(3, v.attempts);
  ASSERT_EQ(sizeof job - 1, v.job_len);
  ASSERT_MEM_EQ(job, v.job, v.job_len);
  sg_buf_free(&b);
  /* An empty job is allowed. */
  ASSERT_OK(sg_rd_delayed_member_parse("1-0|0|", 6, &v));
  ASSERT_EQ(0, v.job_len);
  static const char *bad[] = {"",
                              "1-0",
                              "1-0|",
                              "1-0|3",
                              "1|3|x",
                              "-1|3|x",
                              "1-|3|x",
                              "1-0||x",
                              "a-0|1|x",
                              "1-0|x|y",
                              "1-0|99999999999|x"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ASSERT_EQ(SG_ERR_PARSE, sg_rd_delayed_member_parse(bad[i], strlen(bad[i]), &v));
}

static void t_park_and_move(void) {
  sg_test_redis r;
  ASSERT_OK(sg_test_redis_start(&r, NULL));
  ctx x;
  ctx_init(&x, &r);
  start_stream(&x, 10);
  redisReply *y = sg_test_redis_cmd(&r, "XADD sendgate:jobs * job payload-1");
  freeReplyObject(y);
  sg_rd_test_run_until(&x.loop, &x.n, 1, 5000);
  char orig[SG_RD_ID_MAX];
  snprintf(orig, sizeof orig, "%s", x.ids[0]);

  /* Park it for 60 s of fake time, with 2 attempts so far. */
  ASSERT_OK(sg_rd_delayed_park(x.s, NULL, orig, T0 + 60000, 2, "payload-1", 9, on_done, &x));
  sg_rd_test_run_until(&x.loop, &x.done_ok, 1, 5000);
  ASSERT_EQ(1, sg_test_redis_int(&r, "ZCARD sendgate:delayed"));
  ASSERT_EQ(0, sg_test_redis_int(&r, "XLEN sendgate:jobs"));
  y = sg_test_redis_cmd(&r, "XPENDING sendgate:jobs sendgate");
  ASSERT_EQ(0, y->element[0]->integer); /* acked */
  freeReplyObject(y);
  y = sg_test_redis_cmd(&r, "ZRANGE sendgate:delayed 0 -1 WITHSCORES");
  char want[64];
  snprintf(want, sizeof want, "%s|2|payload-1", orig);
  ASSERT_STR_EQ(want, y->element[0]->str);
  ASSERT_STR_EQ("1800000060000", y->element[1]->str);
  freeReplyObject(y);

  start_mover(&x, 20, 100);
  x.now = T0 + 59999; /* 1 ms before due: several runs move nothing */
  run_runs(&x, 5, 5000);
  ASSERT_EQ(1, x.n);
  ASSERT_EQ(0, sg_test_redis_int(&r, "XLEN sendgate:jobs"));
  ASSERT_EQ(1, sg_rd_delayed_size(x.d));
  sg_rd_delayed_stats st;
  sg_rd_delayed_get_stats(x.d, &st);
  ASSERT_EQ(T0 + 60000, st.next_due_ms);
  ASSERT_EQ(0, st.moved);

  x.now = T0 + 60000; /* due */
  sg_rd_test_run_until(&x.loop, &x.n, 2, 5000);
  sg_rd_delayed_get_stats(x.d, &st);
  run_runs(&x, st.runs + 5, 5000); /* more runs: it does not come back twice */
  sg_rd_delayed_get_stats(x.d, &st);
  ASSERT_EQ(2, x.n);
  ASSERT_STR_EQ("payload-1", x.jobs[1]);
  ASSERT_STR_EQ(orig, x.from[1]);
  ASSERT_STR_EQ("2", x.attempts[1]);
  ASSERT(strcmp(orig, x.ids[1]) != 0);
  ASSERT_EQ(0, sg_test_redis_int(&r, "ZCARD sendgate:delayed"));
  ASSERT_EQ(1, sg_test_redis_int(&r, "XLEN sendgate:jobs"));
  sg_rd_delayed_get_stats(x.d, &st);
  ASSERT_EQ(1, st.moved);
  ASSERT_EQ(0, st.size);
  ASSERT_EQ(0, st.next_due_ms);
  ASSERT_EQ(0, st.errors);

  /* The park op builder on its own, with a custom key, inside a completion with another op. */
  sg_rd_park p;
  sg_rd_park_init(&p, "other:delayed", T0, x.ids[1], 0, "payload-1", 9);
  const char *set[] = {"SET", "marker", "1"};
  size_t sl[] = {3, 6, 1};
  sg_rd_op ops[2] = {p.op, {3, set, sl}};
  ASSERT_OK(sg_rd_stream_complete(x.s, x.ids[1], ops, 2, on_done, &x));
  sg_rd_park_free(&p);
  sg_rd_test_run_until(&x.loop, &x.done_ok, 2, 5000);
  ASSERT_EQ(1, sg_test_redis_int(&r, "ZCARD other:delayed"));
  ASSERT_EQ(1, sg_test_redis_int(&r, "EXISTS marker"));
  ASSERT_EQ(0, sg_test_redis_int(&r, "XLEN sendgate:jobs"));
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

static void t_many(void) {
  sg_test_redis r;
  ASSERT_OK(sg_test_redis_start(&r, NULL));
  enum { N = 1000 };
  redisContext *c = sg_test_redis_connect(&r);
  ASSERT_NOT_NULL(c);
  for (int i = 0; i < N; i++) {
    /* Half due, half later; plus a member that is just job bytes. */
    long long due = T0 + (i % 2 ? 1000000 : -i);
    redisAppendCommand(c, "ZADD sendgate:delayed %lld 1-%d|%d|job-%d", due, i, i % 7, i);
  }
  redisAppendCommand(c, "ZADD sendgate:delayed %lld raw-job", T0 - 5);
  for (int i = 0; i < N + 1; i++) {
    redisReply *y;
    ASSERT_EQ(REDIS_OK, redisGetReply(c, (void **)&y));
    freeReplyObject(y);
  }
  redisFree(c);
  ctx x;
  ctx_init(&x, &r);
  start_stream(&x, 0); /* no reading: look at the stream directly */
  start_mover(&x, 60000, 100);
  /* Full batches run back to back: 501 members in 6 runs, long before the 60 s tick. */
  run_runs(&x, 6, 5000);
  sg_rd_test_run_for(&x.loop, 100);
  sg_rd_delayed_stats st;
  sg_rd_delayed_get_stats(x.d, &st);
  ASSERT_EQ(501, st.moved);
  ASSERT_EQ(6, st.runs);
  ASSERT_EQ(N / 2, st.size);
  ASSERT_EQ(T0 + 1000000, st.next_due_ms);
  ASSERT_EQ(501, sg_test_redis_int(&r, "XLEN sendgate:jobs"));
  ASSERT_EQ(N / 2, sg_test_redis_int(&r, "ZCARD sendgate:delayed"));
  /* Each due member exactly once, with its fields. */
  redisReply *y = sg_test_redis_cmd(&r, "XRANGE sendgate:jobs - +");
  ASSERT_EQ(501, y->elements);
  static bool seen[N];
  memset(seen, 0, sizeof seen);
  int raw = 0;
  for (size_t k = 0; k < y->elements; k++) {
    redisReply *fv = y->element[k]->element[1];
    ASSERT_STR_EQ("job", fv->element[0]->str);
    if (strcmp(fv->element[1]->str, "raw-job") == 0) {
      ASSERT_EQ(2, fv->elements);
      raw++;
      continue;
    }
    ASSERT_EQ(6, fv->elements);
    int i = atoi(fv->element[1]->str + 4);
    ASSERT_EQ(0, i % 2);
    ASSERT(!seen[i]);
    seen[i] = true;
    char from[32], att[8];
    snprintf(from, sizeof from, "1-%d", i);
    snprintf(att, sizeof att, "%d", i % 7);
    ASSERT_STR_EQ("delayed_from", fv->element[2]->str);
    ASSERT_STR_EQ(from, fv->element[3]->str);
    ASSERT_STR_EQ("attempts", fv->element[4]->str);
    ASSERT_STR_EQ(att, fv->element[5]->str);
  }
  ASSERT_EQ(1, raw);
  freeReplyObject(y);
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

static void t_script_flush_and_notify(void) {
  sg_test_redis r;
  ASSERT_OK(sg_test_redis_start(&r, NULL));
  ctx x;
  ctx_init(&x, &r);
  start_stream(&x, 10);
  start_mover(&x, 60000, 100); /* ticks far apart: only notify() makes it run soon */
  run_runs(&x, 1, 5000);
  sg_rd_delayed_stats st;
  sg_rd_delayed_get_stats(x.d, &st);
  ASSERT_EQ(1, st.script_loads); /* first use: NOSCRIPT, then EVAL */
  ASSERT_EQ(0, st.errors);

  redisReply *y = sg_test_redis_cmd(&r, "SCRIPT FLUSH");
  freeReplyObject(y);
  y = sg_test_redis_cmd(&r, "ZADD sendgate:delayed %lld 5-5|1|flushed", T0 + 100);
  freeReplyObject(y);
  sg_rd_delayed_notify(x.d, T0 + 100);
  run_runs(&x, 2, 3000); /* the run notify() asked for, long before the tick: not due yet */
  ASSERT_EQ(0, x.n);
  x.now = T0 + 100;
  sg_rd_test_run_until(&x.loop, &x.n, 1, 3000); /* the run at the next due time */
  ASSERT_STR_EQ("flushed", x.jobs[0]);
  ASSERT_STR_EQ("5-5", x.from[0]);
  run_runs(&x, 3, 3000); /* its reply may come after the read connection saw the entry */
  sg_rd_delayed_get_stats(x.d, &st);
  ASSERT_EQ(2, st.script_loads);
  ASSERT_EQ(0, st.errors);
  ASSERT_EQ(1, st.moved);
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

/* A timer that fires while a run is out is skipped; that run's reply arms
 * the timer again for the next due time, even in the same millisecond as
 * the skipped firing (the loopback reply usually comes that fast). */
static void t_fired_during_run(void) {
  sg_test_redis r;
  ASSERT_OK(sg_test_redis_start(&r, NULL));
  ctx x;
  ctx_init(&x, &r);
  start_stream(&x, 10);
  start_mover(&x, 60000, 100); /* ticks far apart: only notify() and replies arm the timer */
  run_runs(&x, 1, 5000);
  redisReply *y = sg_test_redis_cmd(&r, "ZADD sendgate:delayed %lld 7-7|0|later", T0 + 50);
  freeReplyObject(y);
  for (int round = 0; round < 20; round++) {
    sg_rd_delayed_stats st;
    sg_rd_delayed_get_stats(x.d, &st);
    sg_rd_delayed_notify(x.d, T0); /* due now: a run at the next loop turn */
    uv_run(&x.loop, UV_RUN_NOWAIT);
    sg_rd_delayed_notify(x.d, T0); /* fires while that run is out: skipped */
    run_runs(&x, st.runs + 1, 3000);
  }
  ASSERT_EQ(0, x.n); /* not due yet (fake clock) */
  x.now = T0 + 50;   /* due: the timer the replies armed must still be there */
  sg_rd_test_run_until(&x.loop, &x.n, 1, 3000);
  ASSERT_STR_EQ("later", x.jobs[0]);
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

static void t_redis_down(void) {
  sg_test_redis r;
  ASSERT_OK(sg_test_redis_start(&r, NULL));
  ctx x;
  ctx_init(&x, &r);
  start_stream(&x, 10);
  start_mover(&x, 30, 100);
  run_runs(&x, 1, 5000);
  sg_test_redis_kill(&r); /* runs fail or are skipped while it is down */
  sg_rd_test_run_for(&x.loop, 200);
  ASSERT_OK(sg_test_redis_restart(&r));
  redisReply *y = sg_test_redis_cmd(&r, "ZADD sendgate:delayed %lld 6-6|0|back", T0);
  ASSERT_NOT_NULL(y);
  freeReplyObject(y);
  sg_rd_test_run_until(&x.loop, &x.n, 1, 10000);
  ASSERT_STR_EQ("back", x.jobs[0]);
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

SG_TESTS({"member", t_member}, {"park_and_move", t_park_and_move}, {"many", t_many},
         {"script_flush_and_notify", t_script_flush_and_notify},
         {"fired_during_run", t_fired_during_run}, {"redis_down", t_redis_down})
