/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sg_rd_reaper against a real, private redis-server: entries left pending by a
 * dead consumer are claimed only after min-idle and handed out through the
 * stream with their delivery count, within the credit; entries delivered too
 * often are dead-lettered with an EXPIRED result (to the job's reply stream,
 * or the default one when the job does not decode); deleted entries, own held
 * entries, paging by cursor, and closing with a run in flight. Plus the pure
 * parts (jitter, the EXPIRED result).
 */
#include "harness.h"
#include "rd_test_loop.h"
#include "redis_server.h"

#include "core/sg_err.h"
#include "job/sg_job_codec.h"
#include "job/sg_result.h"
#include "redis/sg_rd_reaper.h"
#include "redis/sg_rd_stream.h"

#include <uv.h>

#define MAXE 64

typedef struct ctx {
  uv_loop_t loop;
  uv_timer_t tick;
  sg_test_redis *r;
  sg_rd_stream *s;
  sg_rd_reaper *rp;
  sg_rd_queue *q; /* the reaper's queue protocol */
  int n;
  char ids[MAXE][SG_RD_ID_MAX];
  char jobs[MAXE][32];
  uint32_t deliveries[MAXE];
  bool redelivered[MAXE];
  int done_ok, stopped, reaper_closed;
} ctx;

static void ctx_init(ctx *x, sg_test_redis *r) {
  memset(x, 0, sizeof *x);
  x->r = r;
  sg_rd_test_loop_init(&x->loop, &x->tick, 10);
}

static void wait_up(ctx *x) {
  uint64_t end = uv_now(&x->loop) + 5000;
  while (!sg_rd_stream_is_up(x->s) && uv_now(&x->loop) < end)
    uv_run(&x->loop, UV_RUN_ONCE);
  ASSERT(sg_rd_stream_is_up(x->s));
}

static void on_entry(sg_rd_stream *s, const sg_rd_entry *e, void *ud) {
  (void)s;
  ctx *x = ud;
  ASSERT_LT(x->n, MAXE);
  ASSERT_EQ(1, e->nfields);
  ASSERT_MEM_EQ("job", e->fields[0].name, 3);
  ASSERT_LT(e->fields[0].value_len, sizeof x->jobs[0]);
  snprintf(x->ids[x->n], SG_RD_ID_MAX, "%s", e->id);
  memcpy(x->jobs[x->n], e->fields[0].value, e->fields[0].value_len);
  x->jobs[x->n][e->fields[0].value_len] = '\0';
  x->deliveries[x->n] = e->deliveries;
  x->redelivered[x->n] = e->redelivered;
  x->n++;
}

static void on_done(sg_rd_stream *s, int status, void *ud) {
  (void)s;
  if (status == 0)
    ((ctx *)ud)->done_ok++;
}

static void start_stream(ctx *x, const char *consumer, uint32_t credit) {
  char url[64];
  snprintf(url, sizeof url, "redis://127.0.0.1:%d", x->r->port);
  sg_rd_url u;
  ASSERT_OK(sg_rd_url_parse(url, &u));
  sg_rd_stream_opts o = {.consumer = consumer, .poll_ms = 10, .cmd_timeout_ms = 2000};
  o.client.backoff_base_ms = 20;
  o.client.backoff_max_ms = 200;
  sg_rd_stream_cbs cbs = {on_entry, x};
  ASSERT_OK(sg_rd_stream_new(&x->loop, &u, &o, &cbs, &x->s));
  sg_rd_stream_set_credit(x->s, credit);
}

static void start_reaper(ctx *x, sg_rd_reaper_opts o) {
  o.consumer = "live";
  o.seed = 42;
  sg_rd_queue_opts qo = {.results_maxlen = 1000};
  ASSERT_OK(sg_rd_queue_new(x->s, &qo, &x->q));
  o.queue = x->q;
  ASSERT_OK(sg_rd_reaper_new(&x->loop, x->s, &o, &x->rp));
}

static void on_stopped(sg_rd_stream *s, void *ud) {
  (void)s;
  ((ctx *)ud)->stopped++;
}

static void on_reaper_closed(void *ud) {
  ((ctx *)ud)->reaper_closed++;
}

/* Closes the reaper (no run in flight afterwards, so the stream's credit is settled). */
static void close_reaper(ctx *x) {
  if (x->rp == NULL)
    return;
  int want = x->reaper_closed + 1;
  sg_rd_reaper_close(x->rp, on_reaper_closed, x);
  sg_rd_test_run_until(&x->loop, &x->reaper_closed, want, 5000);
  x->rp = NULL;
}

static uint32_t credit_of(ctx *x) {
  sg_rd_stream_stats ss;
  sg_rd_stream_get_stats(x->s, &ss);
  return ss.credit;
}

static void ctx_finish(ctx *x) {
  close_reaper(x);
  sg_rd_queue_free(x->q);
  x->q = NULL;
  sg_rd_stream_stop(x->s, on_stopped, x);
  sg_rd_test_run_until(&x->loop, &x->stopped, 1, 10000);
  uv_close((uv_handle_t *)&x->tick, NULL);
  for (int i = 0; i < 100 && uv_loop_alive(&x->loop); i++)
    uv_run(&x->loop, UV_RUN_NOWAIT);
  ASSERT_OK(uv_loop_close(&x->loop));
}

/* XADDs |n| entries with job "job-<i>" (or |payload| when given) and lets consumer "dead"
 * read them, so they sit in its pending list. */
static void add_orphans(sg_test_redis *r, int n, const char *payload, size_t plen) {
  redisReply *y = sg_test_redis_cmd(r, "XGROUP CREATE sendgate:jobs sendgate 0 MKSTREAM");
  ASSERT_NOT_NULL(y);
  freeReplyObject(y);
  for (int i = 0; i < n; i++) {
    char job[32];
    int len = snprintf(job, sizeof job, "job-%d", i);
    y = payload ? sg_test_redis_cmd(r, "XADD sendgate:jobs * job %b", payload, plen)
                : sg_test_redis_cmd(r, "XADD sendgate:jobs * job %b", job, (size_t)len);
    ASSERT_EQ(REDIS_REPLY_STRING, y->type);
    freeReplyObject(y);
  }
  y = sg_test_redis_cmd(r, "XREADGROUP GROUP sendgate dead COUNT 1000 STREAMS sendgate:jobs >");
  ASSERT_EQ(REDIS_REPLY_ARRAY, y->type);
  freeReplyObject(y);
}

/* Pending entries of |consumer|. */
static long long pending_of(sg_test_redis *r, const char *consumer) {
  redisReply *y = sg_test_redis_cmd(r, "XPENDING sendgate:jobs sendgate - + 1000 %s", consumer);
  ASSERT_NOT_NULL(y);
  long long v = y->type == REDIS_REPLY_ARRAY ? (long long)y->elements : -1;
  freeReplyObject(y);
  return v;
}

/* A private redis-server with |orphans| entries pending for consumer "dead"
 * (add_orphans), and a stream of consumer "live" with |credit|. */
static void begin(ctx *x, sg_test_redis *r, int orphans, uint32_t credit) {
  ASSERT_OK(sg_test_redis_start(r, NULL));
  add_orphans(r, orphans, NULL, 0);
  ctx_init(x, r);
  start_stream(x, "live", credit);
}

static void t_claims_dead_consumer(void) {
  sg_test_redis r;
  ctx x;
  begin(&x, &r, 3, 10);
  start_reaper(
      &x, (sg_rd_reaper_opts){
              .interval_ms = 100, .first_delay_ms = 20, .min_idle_ms = 600, .max_deliveries = 3});
  sg_rd_test_run_for(&x.loop, 250); /* several runs, all before min-idle */
  ASSERT_EQ(0, x.n);
  sg_rd_reaper_stats st;
  sg_rd_reaper_get_stats(x.rp, &st);
  ASSERT_GE(st.runs, 1);
  ASSERT_EQ(0, st.claimed);
  ASSERT_EQ(3, pending_of(&r, "dead"));

  sg_rd_test_run_until(&x.loop, &x.n, 3, 5000);
  for (int i = 0; i < 3; i++) {
    char want[16];
    snprintf(want, sizeof want, "job-%d", i);
    ASSERT_STR_EQ(want, x.jobs[i]);
    ASSERT(x.redelivered[i]);
    ASSERT_EQ(2, x.deliveries[i]); /* the dead consumer's read + the claim */
  }
  ASSERT_EQ(0, pending_of(&r, "dead"));
  ASSERT_EQ(3, pending_of(&r, "live"));
  sg_rd_test_run_for(&x.loop, 300); /* later runs do not hand them out again */
  ASSERT_EQ(3, x.n);
  sg_rd_reaper_get_stats(x.rp, &st);
  ASSERT_EQ(3, st.delivered);
  ASSERT_EQ(0, st.dead_lettered);
  close_reaper(&x);
  sg_rd_stream_stats ss;
  sg_rd_stream_get_stats(x.s, &ss);
  ASSERT_EQ(7, ss.credit);
  ASSERT_EQ(3, ss.held);
  ASSERT_EQ(3, ss.fetched);

  for (int i = 0; i < 3; i++)
    ASSERT_OK(sg_rd_stream_complete(x.s, x.ids[i], NULL, 0, on_done, &x));
  sg_rd_test_run_until(&x.loop, &x.done_ok, 3, 5000);
  ASSERT_EQ(0, pending_of(&r, "live"));
  ASSERT_EQ(0, sg_test_redis_int(&r, "XLEN sendgate:jobs"));
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

static void t_credit(void) {
  sg_test_redis r;
  ctx x;
  begin(&x, &r, 5, 2);
  start_reaper(&x,
               (sg_rd_reaper_opts){.interval_ms = 50, .first_delay_ms = 150, .min_idle_ms = 100});
  sg_rd_test_run_until(&x.loop, &x.n, 2, 5000);
  sg_rd_test_run_for(&x.loop, 400);
  ASSERT_EQ(2, x.n);
  ASSERT_EQ(3, pending_of(&r, "dead")); /* never claimed beyond the credit */
  sg_rd_stream_add_credit(x.s, 3);
  sg_rd_test_run_until(&x.loop, &x.n, 5, 5000);
  sg_rd_test_run_for(&x.loop, 200);
  ASSERT_EQ(5, x.n);
  ASSERT_EQ(0, pending_of(&r, "dead"));
  close_reaper(&x);
  ASSERT_EQ(0, credit_of(&x));
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

static void encode_job(sg_buf *out) {
  sg_job_addr to = {"a@b.example", "A"};
  sg_job_kv meta = {"k", "v"};
  sg_job j = {.id = "job-x",
              .backend = SG_BACKEND_ACS,
              .account = "",
              .sender = "s@b.example",
              .to = &to,
              .n_to = 1,
              .subject = "s",
              .text_body = "b",
              .html_body = "",
              .reply_stream = "app:replies",
              .campaign_id = "camp",
              .metadata = &meta,
              .n_metadata = 1,
              .created_unix_ms = 1234};
  sg_job_encode(&j, out);
}

static sg_result_msg *only_result(sg_test_redis *r, const char *stream) {
  redisReply *y = sg_test_redis_cmd(r, "XRANGE %s - +", stream);
  ASSERT_EQ(1, y->elements);
  redisReply *fv = y->element[0]->element[1];
  ASSERT_EQ(2, fv->elements);
  ASSERT_STR_EQ("result", fv->element[0]->str);
  sg_result_msg *m;
  ASSERT_OK(sg_result_decode((const uint8_t *)fv->element[1]->str, fv->element[1]->len, &m));
  freeReplyObject(y);
  return m;
}

static long long deliveries_of(sg_test_redis *r, const char *id) {
  redisReply *y = sg_test_redis_cmd(r, "XPENDING sendgate:jobs sendgate %s %s 1", id, id);
  ASSERT_EQ(1, y->elements);
  long long v = y->element[0]->element[3]->integer;
  freeReplyObject(y);
  return v;
}

static void t_max_deliveries(void) {
  sg_test_redis r;
  ASSERT_OK(sg_test_redis_start(&r, NULL));
  sg_buf job = SG_BUF_INIT;
  encode_job(&job);
  add_orphans(&r, 1, job.data, job.len);
  add_orphans(&r, 1, "\xff\xfe garbage", 10);
  redisReply *y = sg_test_redis_cmd(&r, "XRANGE sendgate:jobs - +");
  ASSERT_EQ(2, y->elements);
  char id[2][SG_RD_ID_MAX];
  for (int i = 0; i < 2; i++) {
    snprintf(id[i], SG_RD_ID_MAX, "%s", y->element[i]->element[0]->str);
    /* As if it had been handed out (and crashed a gateway) many times. */
    redisReply *z =
        sg_test_redis_cmd(&r, "XCLAIM sendgate:jobs sendgate dead 0 %s RETRYCOUNT 7", id[i]);
    freeReplyObject(z);
  }
  freeReplyObject(y);
  long long before = deliveries_of(&r, id[0]);
  ASSERT_GE(before, 7);
  ctx x;
  ctx_init(&x, &r);
  start_stream(&x, "live", 10);
  start_reaper(
      &x, (sg_rd_reaper_opts){
              .interval_ms = 50, .first_delay_ms = 100, .min_idle_ms = 50, .max_deliveries = 5});
  uint64_t end = uv_now(&x.loop) + 5000;
  sg_rd_reaper_stats st = {0};
  while (st.dead_lettered < 2 && uv_now(&x.loop) < end) {
    uv_run(&x.loop, UV_RUN_ONCE);
    sg_rd_reaper_get_stats(x.rp, &st);
  }
  ASSERT_EQ(2, st.dead_lettered);
  ASSERT_EQ(0, x.n); /* never handed to the runtime */

  /* Dead letters: original fields + deliveries + reason. */
  y = sg_test_redis_cmd(&r, "XRANGE sendgate:dead - +");
  ASSERT_EQ(2, y->elements);
  char want[32];
  snprintf(want, sizeof want, "%lld", before + 1);
  for (int i = 0; i < 2; i++) {
    redisReply *fv = y->element[i]->element[1];
    ASSERT_EQ(6, fv->elements);
    ASSERT_STR_EQ("job", fv->element[0]->str);
    ASSERT_STR_EQ("deliveries", fv->element[2]->str);
    ASSERT_STR_EQ(want, fv->element[3]->str);
    ASSERT_STR_EQ("reason", fv->element[4]->str);
    ASSERT_STR_EQ("max_deliveries", fv->element[5]->str);
  }
  ASSERT_EQ(job.len, y->element[0]->element[1]->element[1]->len);
  ASSERT_MEM_EQ(job.data, y->element[0]->element[1]->element[1]->str, job.len);
  freeReplyObject(y);

  /* The decodable job's EXPIRED result went to its reply stream. */
  sg_result_msg *m = only_result(&r, "app:replies");
  const sg_result *res = sg_result_msg_view(m);
  ASSERT_STR_EQ("job-x", res->job_id);
  ASSERT_EQ(SG_STATUS_EXPIRED, res->status);
  ASSERT_EQ(SG_BACKEND_ACS, res->backend);
  ASSERT_STR_EQ(SG_RD_ERR_MAX_DELIVERIES, res->error_code);
  ASSERT_STR_EQ("camp", res->campaign_id);
  ASSERT_EQ(1, res->n_metadata);
  ASSERT_STR_EQ("v", res->metadata[0].value);
  ASSERT_EQ(1234, res->created_unix_ms);
  ASSERT_GT(res->completed_unix_ms, 0);
  ASSERT_STR_EQ(id[0], res->stream_entry_id);
  sg_result_msg_free(m);
  /* The undecodable one's went to the default results stream. */
  m = only_result(&r, "sendgate:results");
  res = sg_result_msg_view(m);
  ASSERT_STR_EQ("", res->job_id);
  ASSERT_EQ(SG_STATUS_EXPIRED, res->status);
  ASSERT_STR_EQ(id[1], res->stream_entry_id);
  sg_result_msg_free(m);

  ASSERT_EQ(0, sg_test_redis_int(&r, "XLEN sendgate:jobs"));
  ASSERT_EQ(0, pending_of(&r, "live"));
  ASSERT_EQ(0, pending_of(&r, "dead"));
  close_reaper(&x);
  sg_rd_stream_stats ss;
  sg_rd_stream_get_stats(x.s, &ss);
  ASSERT_EQ(10, ss.credit); /* credit given back */
  ASSERT_EQ(0, ss.held);
  ctx_finish(&x);
  sg_buf_free(&job);
  sg_test_redis_stop(&r);
}

static void t_deleted_and_own_held(void) {
  sg_test_redis r;
  ASSERT_OK(sg_test_redis_start(&r, NULL));
  add_orphans(&r, 2, NULL, 0);
  redisReply *y = sg_test_redis_cmd(&r, "XRANGE sendgate:jobs - + COUNT 1");
  ASSERT_EQ(1, sg_test_redis_int(&r, "XDEL sendgate:jobs %s", y->element[0]->element[0]->str));
  freeReplyObject(y);
  ctx x;
  ctx_init(&x, &r);
  start_stream(&x, "live", 10);
  wait_up(&x);
  /* An entry of our own, held (not completed) longer than min-idle. */
  y = sg_test_redis_cmd(&r, "XADD sendgate:jobs * job own");
  freeReplyObject(y);
  sg_rd_test_run_until(&x.loop, &x.n, 1, 5000);
  ASSERT_STR_EQ("own", x.jobs[0]);
  start_reaper(&x,
               (sg_rd_reaper_opts){.interval_ms = 50, .first_delay_ms = 200, .min_idle_ms = 100});
  sg_rd_test_run_until(&x.loop, &x.n, 2, 5000);
  sg_rd_test_run_for(&x.loop, 300);
  ASSERT_EQ(2, x.n); /* the orphan once; our own held entry never again */
  ASSERT_STR_EQ("job-1", x.jobs[1]);
  sg_rd_reaper_stats st;
  sg_rd_reaper_get_stats(x.rp, &st);
  ASSERT_EQ(1, st.deleted);
  ASSERT_GE(st.skipped_held, 1);
  ASSERT_EQ(1, st.delivered);
  ASSERT_EQ(2, pending_of(&r, "live"));
  ASSERT_EQ(0, pending_of(&r, "dead"));
  close_reaper(&x);
  ASSERT_EQ(8, credit_of(&x));
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

static void t_paging(void) {
  sg_test_redis r;
  ctx x;
  begin(&x, &r, 25, 100);
  /* One run claims 10; the cursor makes the next batches run at once, not after 60 s. */
  start_reaper(&x,
               (sg_rd_reaper_opts){
                   .interval_ms = 60000, .first_delay_ms = 60000, .min_idle_ms = 50, .count = 10});
  wait_up(&x);
  sg_rd_test_run_for(&x.loop, 100);
  sg_rd_reaper_run_now(x.rp);
  sg_rd_test_run_until(&x.loop, &x.n, 25, 3000);
  sg_rd_test_run_for(&x.loop, 100);
  ASSERT_EQ(25, x.n);
  for (int i = 0; i < 25; i++) {
    char want[16];
    snprintf(want, sizeof want, "job-%d", i);
    ASSERT_STR_EQ(want, x.jobs[i]);
  }
  sg_rd_reaper_stats st;
  sg_rd_reaper_get_stats(x.rp, &st);
  ASSERT_GE(st.runs, 3);
  ASSERT_EQ(25, st.claimed);
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

/* A pass ends where the pending ids are younger than min-idle: 200 fresh
 * entries of a live consumer, 10 looked at per call (count 1), take one call,
 * not twenty back to back. */
static void t_young_ends_pass(void) {
  sg_test_redis r;
  ctx x;
  begin(&x, &r, 200, 100);
  start_reaper(
      &x, (sg_rd_reaper_opts){
              .interval_ms = 60000, .first_delay_ms = 60000, .min_idle_ms = 60000, .count = 1});
  wait_up(&x);
  sg_rd_reaper_run_now(x.rp);
  sg_rd_reaper_stats st = {0};
  for (int i = 0; i < 500 && st.runs == 0; i++) {
    sg_rd_test_run_for(&x.loop, 10);
    sg_rd_reaper_get_stats(x.rp, &st);
  }
  ASSERT_EQ(1, st.runs);
  sg_rd_test_run_for(&x.loop, 200); /* a next call would be sent at once and answered */
  sg_rd_reaper_get_stats(x.rp, &st);
  ASSERT_EQ(1, st.runs);
  ASSERT_EQ(0, st.claimed);
  ASSERT_EQ(200, pending_of(&r, "dead"));
  ASSERT_EQ(100, credit_of(&x));
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

/* Ids ahead of Redis's clock (set by the producer) say nothing of idle time:
 * the pass walks on and claims them all at once. */
static void t_future_ids_walked(void) {
  sg_test_redis r;
  ctx x;
  ASSERT_OK(sg_test_redis_start(&r, NULL));
  for (int i = 0; i < 5; i++) {
    redisReply *y = sg_test_redis_cmd(&r, "XADD sendgate:jobs 99999999999999-%d job job-%d", i, i);
    ASSERT_EQ(REDIS_REPLY_STRING, y->type);
    freeReplyObject(y);
  }
  add_orphans(&r, 0, NULL, 0); /* the group, from id 0: "dead" reads the five */
  ctx_init(&x, &r);
  start_stream(&x, "live", 100);
  start_reaper(&x,
               (sg_rd_reaper_opts){
                   .interval_ms = 60000, .first_delay_ms = 60000, .min_idle_ms = 50, .count = 1});
  wait_up(&x);
  sg_rd_test_run_for(&x.loop, 100);
  sg_rd_reaper_run_now(x.rp);
  sg_rd_test_run_until(&x.loop, &x.n, 5, 3000);
  ASSERT_EQ(5, x.n);
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

static void t_close_in_flight(void) {
  sg_test_redis r;
  ctx x;
  begin(&x, &r, 3, 10);
  start_reaper(
      &x, (sg_rd_reaper_opts){.interval_ms = 60000, .first_delay_ms = 60000, .min_idle_ms = 50});
  wait_up(&x);
  sg_rd_test_run_for(&x.loop, 100);
  sg_rd_reaper_run_now(x.rp);
  sg_rd_reaper_close(x.rp, on_reaper_closed, &x); /* the script is in flight */
  ASSERT_EQ(0, x.reaper_closed);
  sg_rd_test_run_until(&x.loop, &x.reaper_closed, 1, 5000);
  x.rp = NULL;
  sg_rd_test_run_for(&x.loop, 100);
  ASSERT_EQ(0, x.n); /* claimed, not handed out: pending for "live" for its next start */
  ASSERT_EQ(3, pending_of(&r, "live"));
  ASSERT_EQ(10, credit_of(&x));
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

static void t_jitter(void) {
  for (uint64_t i = 0; i < 100000; i += 7) {
    uint64_t v = sg_rd_reaper_jitter_ms(30000, i * 0x9E3779B97F4A7C15ULL);
    ASSERT_GE(v, 22500);
    ASSERT_LE(v, 37500);
  }
  ASSERT_EQ(22500, sg_rd_reaper_jitter_ms(30000, 0));
  ASSERT_EQ(37500, sg_rd_reaper_jitter_ms(30000, 15000));
  ASSERT_EQ(0, sg_rd_reaper_jitter_ms(0, 12345));
}

static void t_expired_result(void) {
  sg_buf job = SG_BUF_INIT, out = SG_BUF_INIT;
  encode_job(&job);
  sg_rd_field f[2] = {{"other", 5, "x", 1}, {"job", 3, job.data, job.len}};
  char *stream = NULL;
  sg_rd_queue_expired_result(f, 2, "5-1", 9, 5, 777, &out, &stream);
  ASSERT_STR_EQ("app:replies", stream);
  sg_free(stream);
  sg_result_msg *m;
  ASSERT_OK(sg_result_decode((const uint8_t *)out.data, out.len, &m));
  const sg_result *res = sg_result_msg_view(m);
  ASSERT_STR_EQ("job-x", res->job_id);
  ASSERT_EQ(SG_STATUS_EXPIRED, res->status);
  ASSERT_EQ(777, res->completed_unix_ms);
  ASSERT_STR_EQ("5-1", res->stream_entry_id);
  ASSERT(strstr(res->error_message, "9 times") != NULL);
  sg_result_msg_free(m);
  /* No job field at all: no reply stream (the default one), empty job id. */
  sg_buf_reset(&out);
  sg_rd_queue_expired_result(f, 1, "5-2", 9, 5, 1, &out, &stream);
  ASSERT(stream == NULL);
  ASSERT_OK(sg_result_decode((const uint8_t *)out.data, out.len, &m));
  ASSERT_STR_EQ("", sg_result_msg_view(m)->job_id);
  sg_result_msg_free(m);
  sg_buf_free(&out);
  sg_buf_free(&job);
}

SG_TESTS({"claims_dead_consumer", t_claims_dead_consumer}, {"credit", t_credit},
         {"max_deliveries", t_max_deliveries}, {"deleted_and_own_held", t_deleted_and_own_held},
         {"paging", t_paging}, {"young_ends_pass", t_young_ends_pass},
         {"future_ids_walked", t_future_ids_walked}, {"close_in_flight", t_close_in_flight},
         {"jitter", t_jitter}, {"expired_result", t_expired_result})
