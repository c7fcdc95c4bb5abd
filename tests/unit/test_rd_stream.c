/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sg_rd_stream against a real, private redis-server: entries queued before the
 * start, re-delivery of own pending entries after a restart, credit, completion
 * (result written, entry acked and deleted), dead letters, refused
 * transactions, 1,000 completions in one flush, and a Redis crash + restart
 * (appendonly) in the middle of a run with nothing lost or acked without its
 * result.
 */
#include "harness.h"
#include "rd_test_loop.h"
#include "redis_server.h"

#include "core/sg_err.h"
#include "core/sg_turn.h"
#include "redis/sg_rd_client.h"
#include "redis/sg_rd_stream.h"

#include <uv.h>

#define MAXE 2000

typedef struct ctx {
  uv_loop_t loop;
  uv_timer_t tick;
  sg_test_redis *r;
  sg_rd_stream *s;
  int n; /* entries received */
  char ids[MAXE][SG_RD_ID_MAX];
  char jobs[MAXE][32];
  bool redelivered[MAXE];
  int done_ok, done_err, last_err;
  bool auto_complete;      /* complete each entry as it arrives, +1 credit when done */
  uint32_t cmd_timeout_ms; /* 0: 2000 */
  uint32_t fetch_wait_ms;
  int stopped;
} ctx;

static void ctx_init(ctx *x, sg_test_redis *r) {
  memset(x, 0, sizeof *x);
  x->r = r;
  sg_rd_test_loop_init(&x->loop, &x->tick, 20);
}

static void on_done(sg_rd_stream *s, int status, void *ud) {
  ctx *x = ud;
  if (status == 0) {
    x->done_ok++;
    if (x->auto_complete)
      sg_rd_stream_add_credit(s, 1);
  } else {
    x->done_err++;
    x->last_err = status;
  }
}

/* MULTI payload for one entry: the result XADD and the sent ledger. */
static int complete_entry(ctx *x, const char *id, const char *job) {
  char result[64], key[80];
  int rl = snprintf(result, sizeof result, "result:%s", job);
  int kl = snprintf(key, sizeof key, "sendgate:sent:%s", job);
  const char *xadd[] = {"XADD", "sendgate:results", "MAXLEN", "~", "100000", "*", "result", result};
  size_t xl[] = {4, 16, 6, 1, 6, 1, 6, (size_t)rl};
  const char *set[] = {"SET", key, "1", "NX", "EX", "600"};
  size_t sl[] = {3, (size_t)kl, 1, 2, 2, 3};
  sg_rd_op ops[] = {{8, xadd, xl}, {6, set, sl}};
  return sg_rd_stream_complete(x->s, id, ops, 2, on_done, x);
}

static void on_entry(sg_rd_stream *s, const sg_rd_entry *e, void *ud) {
  (void)s;
  ctx *x = ud;
  ASSERT_LT(x->n, MAXE);
  ASSERT_EQ(1, e->nfields);
  ASSERT_EQ(3, e->fields[0].name_len);
  ASSERT_MEM_EQ("job", e->fields[0].name, 3);
  ASSERT_LT(e->fields[0].value_len, sizeof x->jobs[0]);
  snprintf(x->ids[x->n], SG_RD_ID_MAX, "%s", e->id);
  memcpy(x->jobs[x->n], e->fields[0].value, e->fields[0].value_len);
  x->jobs[x->n][e->fields[0].value_len] = '\0';
  x->redelivered[x->n] = e->redelivered;
  x->n++;
  if (x->auto_complete)
    ASSERT_OK(complete_entry(x, e->id, x->jobs[x->n - 1]));
}

static void start_stream(ctx *x, const char *consumer, uint32_t count, uint32_t credit) {
  char url[64];
  snprintf(url, sizeof url, "redis://127.0.0.1:%d", x->r->port);
  sg_rd_url u;
  ASSERT_OK(sg_rd_url_parse(url, &u));
  sg_rd_stream_opts o = {.consumer = consumer,
                         .count = count,
                         .poll_ms = 10,
                         .cmd_timeout_ms = x->cmd_timeout_ms ? x->cmd_timeout_ms : 2000,
                         .fetch_wait_ms = x->fetch_wait_ms};
  o.client.backoff_base_ms = 20;
  o.client.backoff_max_ms = 200;
  sg_rd_stream_cbs cbs = {on_entry, x};
  ASSERT_OK(sg_rd_stream_new(&x->loop, &u, &o, &cbs, &x->s));
  sg_rd_stream_set_credit(x->s, credit);
}

static void on_stopped(sg_rd_stream *s, void *ud) {
  (void)s;
  ((ctx *)ud)->stopped++;
}

static void stop_stream(ctx *x) {
  int want = x->stopped + 1;
  sg_rd_stream_stop(x->s, on_stopped, x);
  sg_rd_test_run_until(&x->loop, &x->stopped, want, 10000);
  x->s = NULL;
}

static void ctx_finish(ctx *x) {
  if (x->s)
    stop_stream(x);
  uv_close((uv_handle_t *)&x->tick, NULL);
  for (int i = 0; i < 100 && uv_loop_alive(&x->loop); i++)
    uv_run(&x->loop, UV_RUN_NOWAIT);
  ASSERT_OK(uv_loop_close(&x->loop));
}

static void add_jobs(sg_test_redis *r, int from, int n) {
  redisContext *c = sg_test_redis_connect(r);
  ASSERT_NOT_NULL(c);
  for (int i = from; i < from + n; i++) {
    char job[32];
    int len = snprintf(job, sizeof job, "job-%d", i);
    redisAppendCommand(c, "XADD sendgate:jobs * job %b", job, (size_t)len);
  }
  for (int i = 0; i < n; i++) {
    redisReply *y;
    ASSERT_EQ(REDIS_OK, redisGetReply(c, (void **)&y));
    ASSERT_EQ(REDIS_REPLY_STRING, y->type);
    freeReplyObject(y);
  }
  redisFree(c);
}

/* The usual start: a private Redis with jobs 0..n-1 queued and a stream
 * (consumer "c1", |count| per read, |credit| entries) that has read them all. */
static void begin(sg_test_redis *r, ctx *x, int n, uint32_t count, uint32_t credit) {
  ASSERT_OK(sg_test_redis_start(r, NULL));
  add_jobs(r, 0, n);
  ctx_init(x, r);
  start_stream(x, "c1", count, credit);
  sg_rd_test_run_until(&x->loop, &x->n, n, 10000);
}

static long long pending_count(sg_test_redis *r) {
  redisReply *y = sg_test_redis_cmd(r, "XPENDING sendgate:jobs sendgate");
  ASSERT_NOT_NULL(y);
  long long v = y->type == REDIS_REPLY_ARRAY ? y->element[0]->integer : -1;
  freeReplyObject(y);
  return v;
}

static void t_preexisting(void) {
  sg_test_redis r;
  ASSERT_OK(sg_test_redis_start(&r, NULL));
  add_jobs(&r, 0, 5); /* before the group exists */
  ctx x;
  ctx_init(&x, &r);
  start_stream(&x, "c1", 64, 100);
  sg_rd_test_run_until(&x.loop, &x.n, 5, 5000);
  for (int i = 0; i < 5; i++) {
    char want[32];
    snprintf(want, sizeof want, "job-%d", i);
    ASSERT_STR_EQ(want, x.jobs[i]);
    ASSERT(!x.redelivered[i]);
  }
  ASSERT_EQ(5, pending_count(&r));
  sg_rd_stream_stats st;
  sg_rd_stream_get_stats(x.s, &st);
  ASSERT_EQ(5, st.fetched);
  ASSERT_EQ(5, st.held);
  ASSERT_EQ(95, st.credit);
  ASSERT(sg_rd_stream_is_up(x.s));
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

static void t_pending_redelivery(void) {
  sg_test_redis r;
  ASSERT_OK(sg_test_redis_start(&r, NULL));
  add_jobs(&r, 0, 5);
  ctx x;
  ctx_init(&x, &r);
  start_stream(&x, "worker-a", 2, 3);
  sg_rd_test_run_until(&x.loop, &x.n, 3, 5000);
  sg_rd_test_run_for(&x.loop, 100);
  ASSERT_EQ(3, x.n); /* credit */
  stop_stream(&x);   /* nothing completed: 3 stay pending for worker-a */
  ASSERT_EQ(3, pending_count(&r));

  /* Another consumer name does not get them. */
  ctx y;
  ctx_init(&y, &r);
  start_stream(&y, "worker-b", 2, 10);
  sg_rd_test_run_until(&y.loop, &y.n, 2, 5000);
  sg_rd_test_run_for(&y.loop, 300);
  ASSERT_EQ(2, y.n);
  ASSERT_STR_EQ("job-3", y.jobs[0]);
  ctx_finish(&y);

  /* Same name again: its 3 pending ones first (paged by COUNT 2), marked re-delivered. */
  ctx_finish(&x);
  ctx_init(&x, &r);
  start_stream(&x, "worker-a", 2, 10);
  sg_rd_test_run_until(&x.loop, &x.n, 3, 5000);
  sg_rd_test_run_for(&x.loop, 300);
  ASSERT_EQ(3, x.n);
  for (int i = 0; i < 3; i++) {
    char want[32];
    snprintf(want, sizeof want, "job-%d", i);
    ASSERT_STR_EQ(want, x.jobs[i]);
    ASSERT(x.redelivered[i]);
  }
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

static void t_credit(void) {
  sg_test_redis r;
  ASSERT_OK(sg_test_redis_start(&r, NULL));
  add_jobs(&r, 0, 100);
  ctx x;
  ctx_init(&x, &r);
  start_stream(&x, "c1", 64, 0);
  sg_rd_test_run_for(&x.loop, 300);
  ASSERT_EQ(0, x.n);
  sg_rd_stream_set_credit(x.s, 10);
  sg_rd_test_run_until(&x.loop, &x.n, 10, 5000);
  sg_rd_test_run_for(&x.loop, 500); /* a few BLOCK periods: no more reads */
  ASSERT_EQ(10, x.n);
  ASSERT_EQ(10, pending_count(&r)); /* never read more than the credit */
  sg_rd_stream_add_credit(x.s, 5);
  sg_rd_test_run_until(&x.loop, &x.n, 15, 5000);
  sg_rd_test_run_for(&x.loop, 300);
  ASSERT_EQ(15, x.n);
  ASSERT_EQ(15, pending_count(&r));
  sg_rd_stream_stats st;
  sg_rd_stream_get_stats(x.s, &st);
  ASSERT_EQ(0, st.credit);
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

static void t_complete(void) {
  sg_test_redis r;
  ctx x;
  begin(&r, &x, 4, 64, 10);

  /* 0: normal completion. */
  ASSERT_OK(complete_entry(&x, x.ids[0], x.jobs[0]));
  ASSERT_EQ(0, x.done_ok); /* never from inside the call */
  sg_rd_test_run_until(&x.loop, &x.done_ok, 1, 5000);
  redisReply *y = sg_test_redis_cmd(&r, "XRANGE sendgate:results - +");
  ASSERT_EQ(1, y->elements);
  ASSERT_STR_EQ("result:job-0", y->element[0]->element[1]->element[1]->str);
  freeReplyObject(y);
  ASSERT_EQ(1, sg_test_redis_int(&r, "EXISTS sendgate:sent:job-0"));
  ASSERT_EQ(3, sg_test_redis_int(&r, "XLEN sendgate:jobs")); /* deleted */
  ASSERT_EQ(3, pending_count(&r));                           /* acked */

  /* 1: dead letter (fields + reason) plus an extra op, acked. */
  sg_rd_field f = {"job", 3, x.jobs[1], strlen(x.jobs[1])};
  sg_rd_entry e = {.id = x.ids[1], .fields = &f, .nfields = 1};
  const char *inv[] = {"XADD", "sendgate:results", "*", "result", "INVALID"};
  size_t il[] = {4, 16, 1, 6, 7};
  sg_rd_op extra = {5, inv, il};
  ASSERT_OK(sg_rd_stream_dead_letter(x.s, &e, "undecodable", &extra, 1, on_done, &x));
  sg_rd_test_run_until(&x.loop, &x.done_ok, 2, 5000);
  y = sg_test_redis_cmd(&r, "XRANGE sendgate:dead - +");
  ASSERT_EQ(1, y->elements);
  redisReply *fv = y->element[0]->element[1];
  ASSERT_EQ(4, fv->elements);
  ASSERT_STR_EQ("job", fv->element[0]->str);
  ASSERT_STR_EQ("job-1", fv->element[1]->str);
  ASSERT_STR_EQ("reason", fv->element[2]->str);
  ASSERT_STR_EQ("undecodable", fv->element[3]->str);
  freeReplyObject(y);
  ASSERT_EQ(2, sg_test_redis_int(&r, "XLEN sendgate:results"));
  ASSERT_EQ(2, pending_count(&r));

  /* 2: a malformed op makes Redis refuse the whole transaction: nothing acked. */
  const char *bad[] = {"XADD", "sendgate:results"};
  size_t bl[] = {4, 16};
  sg_rd_op bop = {2, bad, bl};
  ASSERT_OK(sg_rd_stream_complete(x.s, x.ids[2], &bop, 1, on_done, &x));
  sg_rd_test_run_until(&x.loop, &x.done_err, 1, 5000);
  ASSERT_EQ(SG_ERR_REDIS, x.last_err);
  ASSERT_EQ(2, pending_count(&r));
  ASSERT_EQ(2, sg_test_redis_int(&r, "XLEN sendgate:results"));

  /* Publishing without an ack. */
  const char *pub[] = {"XADD", "app:replies", "*", "result", "x"};
  size_t pl[] = {4, 11, 1, 6, 1};
  sg_rd_op pop = {5, pub, pl};
  ASSERT_OK(sg_rd_stream_publish(x.s, &pop, 1, on_done, &x));
  sg_rd_test_run_until(&x.loop, &x.done_ok, 3, 5000);
  ASSERT_EQ(1, sg_test_redis_int(&r, "XLEN app:replies"));
  ASSERT_EQ(2, pending_count(&r));

  ASSERT_EQ(SG_ERR_INVAL, sg_rd_stream_complete(x.s, "not-an-id", NULL, 0, NULL, NULL));
  ASSERT_EQ(SG_ERR_INVAL, sg_rd_stream_publish(x.s, NULL, 0, NULL, NULL));
  sg_rd_stream_stats st;
  sg_rd_stream_get_stats(x.s, &st);
  ASSERT_EQ(3, st.completed);
  ASSERT_EQ(1, st.completion_errors);
  ASSERT_EQ(0, st.pending_completions);
  ASSERT_EQ(2, st.held); /* 2 (refused) and 3 are still ours */
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

/* A dead letter for an entry with thousands of fields keeps the first
 * SG_RD_DEAD_MAX_FIELDS and says how many it dropped; it is acked. */
static void t_dead_letter_many_fields(void) {
  sg_test_redis r;
  ctx x;
  begin(&r, &x, 1, 10, 10);
  enum { NF = 5000 }; /* over what one op can unpack onto Lua's stack */
  static sg_rd_field f[NF];
  static char names[NF][8];
  for (int i = 0; i < NF; i++) {
    int n = snprintf(names[i], sizeof names[i], "f%d", i);
    f[i] = (sg_rd_field){names[i], (size_t)n, "v", 1};
  }
  sg_rd_entry e = {.id = x.ids[0], .fields = f, .nfields = NF};
  ASSERT_OK(sg_rd_id_parse(x.ids[0], strlen(x.ids[0]), &e.id_num));
  ASSERT_OK(sg_rd_stream_dead_letter(x.s, &e, "no_job_field", NULL, 0, on_done, &x));
  sg_rd_test_run_until(&x.loop, &x.done_ok, 1, 5000);
  redisReply *y = sg_test_redis_cmd(&r, "XRANGE sendgate:dead - +");
  ASSERT_EQ(1, y->elements);
  redisReply *fv = y->element[0]->element[1];
  ASSERT_EQ(2 * SG_RD_DEAD_MAX_FIELDS + 4, fv->elements);
  ASSERT_STR_EQ("f0", fv->element[0]->str);
  ASSERT_STR_EQ("fields_dropped", fv->element[fv->elements - 2]->str);
  ASSERT_STR_EQ("4744", fv->element[fv->elements - 1]->str);
  freeReplyObject(y);
  ASSERT_EQ(0, pending_count(&r));
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

static void t_deleted_pending(void) {
  sg_test_redis r;
  ctx x;
  begin(&r, &x, 3, 64, 3);
  stop_stream(&x);
  /* Someone deletes a pending entry's payload. */
  ASSERT_EQ(1, sg_test_redis_int(&r, "XDEL sendgate:jobs %s", x.ids[1]));
  char kept[2][SG_RD_ID_MAX];
  snprintf(kept[0], SG_RD_ID_MAX, "%s", x.ids[0]);
  snprintf(kept[1], SG_RD_ID_MAX, "%s", x.ids[2]);
  ctx_finish(&x);
  ctx_init(&x, &r);
  start_stream(&x, "c1", 64, 10);
  sg_rd_test_run_until(&x.loop, &x.n, 2, 5000);
  sg_rd_test_run_for(&x.loop, 300);
  ASSERT_EQ(2, x.n);
  ASSERT_STR_EQ(kept[0], x.ids[0]);
  ASSERT_STR_EQ(kept[1], x.ids[1]);
  ASSERT_EQ(2, pending_count(&r)); /* the deleted one was acked */
  sg_rd_stream_stats st;
  sg_rd_stream_get_stats(x.s, &st);
  ASSERT_EQ(1, st.deleted_acked);
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

static void t_batch_1000(void) {
  sg_test_redis r;
  ctx x;
  begin(&r, &x, 1000, 500, 1000);
  sg_rd_stream_stats st0;
  sg_rd_stream_get_stats(x.s, &st0);
  uint64_t t0 = uv_hrtime();
  for (int i = 0; i < 1000; i++)
    ASSERT_OK(complete_entry(&x, x.ids[i], x.jobs[i]));
  sg_rd_test_run_until(&x.loop, &x.done_ok, 1000, 10000);
  uint64_t ms = (uv_hrtime() - t0) / 1000000;
  sg_rd_stream_stats st;
  sg_rd_stream_get_stats(x.s, &st);
  ASSERT_EQ(1, st.flushes - st0.flushes); /* one pipelined write burst for all 1,000 */
  ASSERT_EQ(1000, st.completed);
  ASSERT_LT(ms, 3000); /* typically ~50 ms; one round trip each would not be "fast" under ASan */
  fprintf(stderr, "1000 completions in %llu ms\n", (unsigned long long)ms);
  ASSERT_EQ(0, sg_test_redis_int(&r, "XLEN sendgate:jobs"));
  ASSERT_EQ(1000, sg_test_redis_int(&r, "XLEN sendgate:results"));
  ASSERT_EQ(0, pending_count(&r));
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

static void t_restart_mid_run(void) {
  sg_test_redis_opts so = {.appendonly = true};
  sg_test_redis r;
  ASSERT_OK(sg_test_redis_start(&r, &so));
  enum { N = 400 };
  add_jobs(&r, 0, N);
  ctx x;
  ctx_init(&x, &r);
  x.auto_complete = true;
  start_stream(&x, "c1", 10, 20);
  sg_rd_test_run_until(&x.loop, &x.done_ok, 120, 10000);
  sg_test_redis_kill(&r); /* completions and reads are in flight */
  sg_rd_test_run_for(&x.loop, 200);
  ASSERT(!sg_rd_stream_is_up(x.s));
  ASSERT_OK(sg_test_redis_restart(&r));
  sg_rd_test_run_until(&x.loop, &x.done_ok, N, 20000);
  ASSERT_EQ(0, x.done_err);
  sg_rd_stream_stats st;
  sg_rd_stream_get_stats(x.s, &st);
  ASSERT_GE(st.reconnects, 2);
  ASSERT_EQ(0, st.pending_completions);
  ASSERT_EQ(0, st.held);
  /* Every job was handed out exactly once in this process. */
  ASSERT_EQ(N, x.n);
  ASSERT_EQ(0, sg_test_redis_int(&r, "XLEN sendgate:jobs"));
  ASSERT_EQ(0, pending_count(&r));
  /* Nothing lost: every job has a result (a duplicate is allowed, a gap is not). */
  redisReply *y = sg_test_redis_cmd(&r, "XRANGE sendgate:results - +");
  ASSERT_GE(y->elements, N);
  static bool seen[N];
  memset(seen, 0, sizeof seen);
  for (size_t i = 0; i < y->elements; i++) {
    int k;
    ASSERT_EQ(1, sscanf(y->element[i]->element[1]->element[1]->str, "result:job-%d", &k));
    ASSERT(k >= 0 && k < N);
    seen[k] = true;
  }
  for (int k = 0; k < N; k++)
    if (!seen[k])
      SG_FAIL_("job-%d has no result", k);
  fprintf(stderr, "results: %zu for %d jobs\n", y->elements, N);
  freeReplyObject(y);
  ASSERT_EQ(N, sg_test_redis_int(&r, "DBSIZE") - 2); /* N ledger keys + 2 streams */
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

/* Keeps Redis busy for about |ms| ms with a script sent on its own connection
 * (returns at once; the reply is never read). */
static redisContext *busy_redis(sg_test_redis *r, int ms) {
  redisContext *c = sg_test_redis_connect(r);
  ASSERT_NOT_NULL(c);
  redisAppendCommand(c, "EVAL %s 0 %d",
                     "local s=redis.call('TIME') local e=s[1]*1000000+s[2]+ARGV[1]*1000 "
                     "while true do local t=redis.call('TIME') "
                     "if t[1]*1000000+t[2]>=e then return 1 end end",
                     ms);
  int done = 0;
  while (!done)
    ASSERT_EQ(REDIS_OK, redisBufferWrite(c, &done));
  /* Wait (bounded) until Redis runs it: a PING on another connection stops
   * being answered within 50 ms. */
  bool busy = false;
  for (int i = 0; i < 100 && !busy; i++) {
    redisContext *p = sg_test_redis_connect(r);
    ASSERT_NOT_NULL(p);
    redisSetTimeout(p, (struct timeval){0, 50000});
    redisReply *y = redisCommand(p, "PING");
    busy = y == NULL;
    if (y)
      freeReplyObject(y);
    redisFree(p);
  }
  ASSERT(busy);
  return c;
}

/* One completion whose reply is lost after Redis ran it (Redis busy past the
 * command timeout, the connection dropped, the call sent again): with
 * |once| the ledger's SET NX (or, |hash|, HSETNX) tells that it ran and the
 * result is not doubled; without it the result is written twice (what the
 * guard is for). */
static void lost_reply_case(bool once, bool hash, bool trusted) {
  sg_test_redis r;
  ASSERT_OK(sg_test_redis_start(&r, NULL));
  add_jobs(&r, 0, 1);
  ctx x;
  ctx_init(&x, &r);
  x.cmd_timeout_ms = 300;
  start_stream(&x, "c1", 10, 10);
  sg_rd_test_run_until(&x.loop, &x.n, 1, 5000);
  redisContext *busy = busy_redis(&r, 1200);
  const char *set[] = {"SET", "sendgate:sent:job-0", "r", "NX", "EX", "600"};
  size_t sl[] = {3, 19, 1, 2, 2, 3};
  const char *hset[] = {"HSETNX", "sendgate:ledger:1:0", "42", "7"};
  size_t hl[] = {6, 19, 2, 1};
  const char *xadd[] = {"XADD", "sendgate:results", "*", "result", "r"};
  size_t xl[] = {4, 16, 1, 6, 1};
  sg_rd_op ops[] = {{6, set, sl}, {5, xadd, xl}};
  if (hash)
    ops[0] = (sg_rd_op){4, hset, hl};
  unsigned flags = (once ? SG_RD_COMPLETE_ONCE : 0) | (trusted ? SG_RD_COMPLETE_TRUSTED : 0);
  if (flags)
    ASSERT_OK(sg_rd_stream_complete_ex(x.s, x.ids[0], ops, 2, flags, on_done, &x));
  else
    ASSERT_OK(sg_rd_stream_complete(x.s, x.ids[0], ops, 2, on_done, &x));
  sg_rd_test_run_until(&x.loop, &x.done_ok, 1, 10000);
  redisFree(busy);
  sg_rd_stream_stats st;
  sg_rd_stream_get_stats(x.s, &st);
  ASSERT_GE(st.reconnects, 1); /* the reply was really lost */
  ASSERT_EQ(0, x.done_err);
  ASSERT_EQ(once ? 1 : 2, sg_test_redis_int(&r, "XLEN sendgate:results"));
  ASSERT_EQ(0, pending_count(&r));
  ASSERT_EQ(0, sg_test_redis_int(&r, "XLEN sendgate:jobs"));
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

static void t_once_after_lost_reply(void) {
  lost_reply_case(true, false, false);
  lost_reply_case(true, true, false);
  lost_reply_case(false, false, false);
  /* The fast path's MULTI ran, its reply was lost: sent again through the
   * script, whose guard sees the HSETNX; without the guard, written twice. */
  lost_reply_case(true, true, true);
  lost_reply_case(false, false, true);
}

/* Trusted first sends go in one MULTI of native commands (no EVAL); a command
 * refused while queued aborts the whole transaction: nothing ran, nothing acked. */
static void t_fast_path(void) {
  sg_test_redis r;
  ctx x;
  begin(&r, &x, 6, 10, 10);
  freeReplyObject(sg_test_redis_cmd(&r, "CONFIG RESETSTAT"));
  const char *xadd[] = {"XADD", "sendgate:results", "*", "result", "ok"};
  size_t xl[] = {4, 16, 1, 6, 2};
  const char *hset[] = {"HSETNX", "sendgate:ledger:1:0", "f", "1"};
  size_t hl[] = {6, 19, 1, 1};
  sg_rd_op one = {5, xadd, xl};
  sg_rd_op two[] = {{4, hset, hl}, {5, xadd, xl}};
  ASSERT_OK(sg_rd_stream_complete_ex(x.s, x.ids[0], &one, 1, SG_RD_COMPLETE_TRUSTED, on_done, &x));
  ASSERT_OK(sg_rd_stream_complete_ex(x.s, x.ids[1], two, 2,
                                     SG_RD_COMPLETE_TRUSTED | SG_RD_COMPLETE_ONCE, on_done, &x));
  ASSERT_OK(sg_rd_stream_complete_ex(x.s, x.ids[2], &one, 1, SG_RD_COMPLETE_TRUSTED, on_done, &x));
  sg_rd_test_run_until(&x.loop, &x.done_ok, 3, 5000);
  ASSERT_EQ(3, sg_test_redis_int(&r, "XLEN sendgate:results"));
  ASSERT_EQ(1, sg_test_redis_int(&r, "HLEN sendgate:ledger:1:0"));
  ASSERT_EQ(3, pending_count(&r));
  redisReply *st = sg_test_redis_cmd(&r, "INFO commandstats");
  ASSERT_NOT_NULL(st);
  /* One EXEC for the three: no completion script (reads run scripts of their own). */
  ASSERT(strstr(st->str, "cmdstat_exec:calls=1,") != NULL);
  freeReplyObject(st);
  /* XADD with too few arguments is refused while queued: EXECABORT */
  sg_rd_op bad = {2, xadd, xl};
  ASSERT_OK(sg_rd_stream_complete_ex(x.s, x.ids[3], &one, 1, SG_RD_COMPLETE_TRUSTED, on_done, &x));
  ASSERT_OK(sg_rd_stream_complete_ex(x.s, x.ids[4], &bad, 1, SG_RD_COMPLETE_TRUSTED, on_done, &x));
  sg_rd_test_run_until(&x.loop, &x.done_err, 2, 5000);
  ASSERT_EQ(SG_ERR_REDIS, x.last_err);
  ASSERT_EQ(3, sg_test_redis_int(&r, "XLEN sendgate:results"));
  ASSERT_EQ(3, pending_count(&r)); /* neither was acked */
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

/* A failing op stops its completion (no ack) without touching the others in the same call. */
static void t_failing_op_in_batch(void) {
  sg_test_redis r;
  ctx x;
  begin(&r, &x, 3, 10, 10);
  freeReplyObject(sg_test_redis_cmd(&r, "SET app:notastream x"));
  const char *good[] = {"XADD", "sendgate:results", "*", "result", "ok"};
  size_t gl[] = {4, 16, 1, 6, 2};
  const char *bad[] = {"XADD", "app:notastream", "*", "result", "no"};
  size_t bl[] = {4, 14, 1, 6, 2};
  const char *after[] = {"SET", "app:after", "1"};
  size_t al[] = {3, 9, 1};
  sg_rd_op g = {5, good, gl};
  sg_rd_op b2[] = {{5, bad, bl}, {3, after, al}};
  ASSERT_OK(sg_rd_stream_complete(x.s, x.ids[0], &g, 1, on_done, &x));
  ASSERT_OK(sg_rd_stream_complete(x.s, x.ids[1], b2, 2, on_done, &x));
  ASSERT_OK(sg_rd_stream_complete(x.s, x.ids[2], &g, 1, on_done, &x));
  sg_rd_test_run_until(&x.loop, &x.done_ok, 2, 5000);
  sg_rd_test_run_until(&x.loop, &x.done_err, 1, 5000);
  ASSERT_EQ(SG_ERR_REDIS, x.last_err);
  ASSERT_EQ(2, sg_test_redis_int(&r, "XLEN sendgate:results"));
  ASSERT_EQ(0, sg_test_redis_int(&r, "EXISTS app:after")); /* ops after the failure did not run */
  ASSERT_EQ(1, pending_count(&r));                         /* the failed one is not acked */
  sg_rd_stream_stats st;
  sg_rd_stream_get_stats(x.s, &st);
  ASSERT_EQ(1, st.held);
  ASSERT_EQ(1, st.completion_errors);
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

/* fetch_wait_ms: after a short read the next read waits, so entries queued
 * meanwhile come in one read; a full read goes on at once. */
static void t_fetch_wait(void) {
  sg_test_redis r;
  ASSERT_OK(sg_test_redis_start(&r, NULL));
  ctx x;
  ctx_init(&x, &r);
  x.fetch_wait_ms = 400;
  start_stream(&x, "c1", 10, 100);
  sg_rd_test_run_for(&x.loop, 50); /* the blocking read is out */
  add_jobs(&r, 0, 1);
  sg_rd_test_run_until(&x.loop, &x.n, 1, 5000); /* a short read (1 < 10) */
  uint64_t t0 = uv_now(&x.loop);
  add_jobs(&r, 1, 5);
  sg_rd_test_run_for(&x.loop, 150);
  ASSERT_EQ(1, x.n); /* still waiting */
  sg_rd_test_run_until(&x.loop, &x.n, 6, 5000);
  ASSERT_GE(uv_now(&x.loop) - t0, 350);
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

/* While the owner holds the reads nothing more is read, whatever the credit;
 * a read already out still delivers; released, the rest comes. */
static void t_hold_reads(void) {
  sg_test_redis r;
  ASSERT_OK(sg_test_redis_start(&r, NULL));
  add_jobs(&r, 0, 10);
  ctx x;
  ctx_init(&x, &r);
  start_stream(&x, "c1", 4, 0);
  sg_rd_stream_hold_reads(x.s, true);
  sg_rd_stream_set_credit(x.s, 100);
  sg_rd_test_run_for(&x.loop, 300);
  ASSERT_EQ(0, x.n);
  ASSERT_EQ(0, pending_count(&r));
  sg_rd_stream_hold_reads(x.s, false);
  sg_rd_test_run_until(&x.loop, &x.n, 10, 5000);
  sg_rd_test_run_for(&x.loop, 100); /* the next (blocking) read is out */
  sg_rd_stream_stats st;
  sg_rd_stream_get_stats(x.s, &st);
  uint64_t reads = st.reads;
  sg_rd_stream_hold_reads(x.s, true);
  add_jobs(&r, 10, 8);
  sg_rd_test_run_for(&x.loop, 300);
  sg_rd_stream_get_stats(x.s, &st);
  ASSERT_EQ(reads + 1, st.reads); /* the read that was out, no other */
  ASSERT(x.n > 10 && x.n <= 14);  /* its COUNT 4 at most */
  ASSERT_EQ(x.n, pending_count(&r));
  sg_rd_stream_hold_reads(x.s, false);
  sg_rd_test_run_until(&x.loop, &x.n, 18, 5000);
  ASSERT_EQ(18, pending_count(&r));
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

/*
 * A completion queued by the admission stage of the loop's turn reaches Redis
 * in that same pass: a registrant ranked after the Redis writes waits for its
 * result with a blocking XREAD from another connection, without running the
 * loop. Fails when the write is left for a later loop turn.
 */
typedef struct same_turn {
  ctx *x;
  sg_turn_reg admit, after;
  long long results; /* entries the blocking XREAD returned */
  int after_calls;
} same_turn;

static void on_same_turn_admit(sg_turn_reg *reg, void *ud) {
  (void)reg;
  same_turn *t = ud;
  ASSERT_OK(complete_entry(t->x, t->x->ids[0], t->x->jobs[0]));
  sg_turn_want(&t->after);
}

static void on_same_turn_after(sg_turn_reg *reg, void *ud) {
  (void)reg;
  same_turn *t = ud;
  t->after_calls++;
  /* From 0-0: returns at once if the stream has an entry, else waits for one (2 s at most). */
  redisReply *y = sg_test_redis_cmd(t->x->r, "XREAD BLOCK 2000 STREAMS sendgate:results 0-0");
  ASSERT_NOT_NULL(y);
  t->results = y->type == REDIS_REPLY_ARRAY ? (long long)y->element[0]->element[1]->elements : 0;
  freeReplyObject(y);
}

static void t_same_turn(void) {
  sg_test_redis r;
  ctx x;
  begin(&r, &x, 1, 64, 10);
  sg_rd_client *cc = sg_rd_stream_cmd_client(x.s);
  for (int i = 0; i < 500 && !sg_rd_client_is_up(cc); i++)
    uv_run(&x.loop, UV_RUN_ONCE); /* the 20 ms tick bounds each run */
  ASSERT(sg_rd_client_is_up(cc));
  ASSERT_EQ(0, sg_test_redis_int(&r, "XLEN sendgate:results"));
  same_turn t = {.x = &x};
  ASSERT_OK(sg_turn_reg_init(&t.admit, &x.loop, SG_TURN_ADMIT, on_same_turn_admit, &t));
  ASSERT_OK(sg_turn_reg_init(&t.after, &x.loop, SG_TURN_HTTPD, on_same_turn_after, &t));
  sg_turn_want(&t.admit);
  uv_run(&x.loop, UV_RUN_NOWAIT); /* one loop turn */
  ASSERT_EQ(1, t.after_calls);
  ASSERT_EQ(1, t.results);
  sg_rd_test_run_until(&x.loop, &x.done_ok, 1, 5000);
  sg_turn_reg_remove(&t.admit);
  sg_turn_reg_remove(&t.after);
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

SG_TESTS({"preexisting", t_preexisting}, {"pending_redelivery", t_pending_redelivery},
         {"credit", t_credit}, {"complete", t_complete}, {"deleted_pending", t_deleted_pending},
         {"batch_1000", t_batch_1000}, {"restart_mid_run", t_restart_mid_run},
         {"once_after_lost_reply", t_once_after_lost_reply}, {"fast_path", t_fast_path},
         {"failing_op_in_batch", t_failing_op_in_batch}, {"fetch_wait", t_fetch_wait},
         {"dead_letter_many_fields", t_dead_letter_many_fields}, {"same_turn", t_same_turn},
         {"hold_reads", t_hold_reads})
