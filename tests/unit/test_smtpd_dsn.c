/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smtpd's result watcher against a private redis-server: a FAILED result of
 * an smtpd job becomes one notification job on the jobs stream and is acked;
 * other results are acked with none; a result this consumer had read but not
 * acked before a crash is done at the next start; results from before its
 * group are never read; closing while a blocking read waits is clean.
 */
#include "harness.h"
#include "redis_server.h"

#include "core/sg_metrics.h"
#include "job/sg_job_codec.h"
#include "job/sg_result.h"
#include "smtp/sg_smtp_job.h"
#include "smtp/sg_smtpd_dsn.h"

#include <string.h>
#include <uv.h>

typedef struct ctx {
  uv_loop_t loop;
  sg_test_redis r;
  char url[64];
  char results[32], jobs[32], consumer[16], bounce[32], host[16];
  sg_smtp_config cfg;
  sg_metrics *metrics;
  sg_smtpd_dsn *w;
  int closed;
} ctx;

static void begin(ctx *x) {
  memset(x, 0, sizeof *x);
  ASSERT_OK(sg_test_redis_start(&x->r, NULL));
  ASSERT_OK(uv_loop_init(&x->loop));
  snprintf(x->url, sizeof x->url, "redis://127.0.0.1:%d", x->r.port);
  snprintf(x->results, sizeof x->results, "sendgate:results");
  snprintf(x->jobs, sizeof x->jobs, "sendgate:jobs");
  snprintf(x->consumer, sizeof x->consumer, "c1");
  snprintf(x->bounce, sizeof x->bounce, "postmaster@contoso.com");
  snprintf(x->host, sizeof x->host, "smtp.test");
  x->cfg.base.redis_url = x->url;
  x->cfg.base.results_stream = x->results;
  x->cfg.base.jobs_stream = x->jobs;
  x->cfg.base.consumer = x->consumer;
  x->cfg.base.redis_timeout_ms = 2000;
  x->cfg.bounce_sender = x->bounce;
  x->cfg.hostname = x->host;
  x->metrics = sg_metrics_new();
}

static void start(ctx *x) {
  char err[256];
  ASSERT_OK(sg_smtpd_dsn_start(&x->w, &x->loop, &x->cfg, x->metrics, err, sizeof err));
}

static void on_closed(void *ud) {
  ((ctx *)ud)->closed++;
}

static void stop(ctx *x) {
  int want = x->closed + 1;
  sg_smtpd_dsn_close(x->w, on_closed, x);
  uint64_t end = uv_now(&x->loop) + 5000;
  while (x->closed < want && uv_now(&x->loop) < end)
    uv_run(&x->loop, UV_RUN_NOWAIT);
  ASSERT_EQ(want, x->closed);
  x->w = NULL;
}

static void end_ctx(ctx *x) {
  ASSERT_OK(uv_loop_close(&x->loop));
  sg_metrics_free(x->metrics);
  sg_test_redis_stop(&x->r);
}

/* Adds a result for job |id| with |status| and smtpd's metadata. */
static void add_result(ctx *x, const char *id, sg_status status) {
  sg_job_kv meta[] = {{SG_SMTP_META_FROM, "scanner@contoso.com"},
                      {SG_SMTP_META_RCPTS, "bob@fabrikam.example"},
                      {SG_SMTP_META_NRCPTS, "1"},
                      {SG_SMTP_META_HEADERS, "Subject: s\r\n"}};
  sg_result r = {.job_id = id,
                 .status = status,
                 .http_status = 400,
                 .error_code = "ErrorInvalidRecipients",
                 .error_message = "no",
                 .metadata = meta,
                 .n_metadata = 4};
  sg_buf b = SG_BUF_INIT;
  sg_result_encode(&r, &b);
  redisReply *rep = sg_test_redis_cmd(&x->r, "XADD sendgate:results * result %b", b.data, b.len);
  ASSERT(rep && rep->type == REDIS_REPLY_STRING);
  freeReplyObject(rep);
  sg_buf_free(&b);
}

/* The group's field |name| (pending, lag, ...) from XINFO GROUPS; -1 when absent. */
static long long group_field(ctx *x, const char *name) {
  redisReply *r = sg_test_redis_cmd(&x->r, "XINFO GROUPS sendgate:results");
  long long v = -1;
  if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 1) {
    redisReply *g = r->element[0];
    for (size_t i = 0; i + 1 < g->elements; i += 2)
      if (strcmp(g->element[i]->str, name) == 0 && g->element[i + 1]->type == REDIS_REPLY_INTEGER)
        v = g->element[i + 1]->integer;
  }
  if (r)
    freeReplyObject(r);
  return v;
}

/* Runs the loop until the watcher has read and acked every result (bounded). */
static void run_until_caught_up(ctx *x) {
  uint64_t end = uv_now(&x->loop) + 10000, next = 0;
  bool done = false;
  while (!done && uv_now(&x->loop) < end) {
    uv_run(&x->loop, UV_RUN_NOWAIT);
    if (uv_now(&x->loop) >= next) { /* ask Redis every 10 ms, not every turn */
      done = group_field(x, "pending") == 0 && group_field(x, "lag") == 0;
      next = uv_now(&x->loop) + 10;
    }
  }
  ASSERT(done);
}

/* The ids of the jobs on sendgate:jobs, one per line, into |out|. */
static void job_ids(ctx *x, char *out, size_t cap) {
  redisReply *r = sg_test_redis_cmd(&x->r, "XRANGE sendgate:jobs - +");
  ASSERT(r && r->type == REDIS_REPLY_ARRAY);
  out[0] = '\0';
  for (size_t i = 0; i < r->elements; i++) {
    redisReply *f = r->element[i]->element[1];
    sg_job_msg *m = NULL;
    sg_job_error e;
    ASSERT_OK(sg_job_decode((const uint8_t *)f->element[1]->str, f->element[1]->len, &m, &e));
    const sg_job *j = sg_job_msg_view(m);
    ASSERT_STR_EQ("postmaster@contoso.com", j->sender);
    ASSERT_EQ(1, j->n_to);
    ASSERT_STR_EQ("scanner@contoso.com", j->to[0].address);
    size_t n = strlen(out);
    snprintf(out + n, cap - n, "%s\n", j->id);
    sg_job_msg_free(m);
  }
  freeReplyObject(r);
}

static void t_notifies_and_acks(void) {
  ctx x;
  begin(&x);
  add_result(&x, "smtp-old", SG_STATUS_FAILED); /* before the group: never read */
  start(&x);
  uint64_t end = uv_now(&x.loop) + 5000;
  while (group_field(&x, "lag") < 0 && uv_now(&x.loop) < end) /* until the group is made */
    uv_run(&x.loop, UV_RUN_NOWAIT);
  add_result(&x, "smtp-a", SG_STATUS_FAILED);
  add_result(&x, "smtp-b", SG_STATUS_SENT);
  add_result(&x, "job-c", SG_STATUS_FAILED);
  add_result(&x, "smtp-d", SG_STATUS_EXPIRED);
  run_until_caught_up(&x);
  char ids[512];
  job_ids(&x, ids, sizeof ids);
  ASSERT_STR_EQ("dsn-smtp-a\ndsn-smtp-d\n", ids);
  stop(&x); /* while its blocking read waits */
  end_ctx(&x);
}

/* Read, not acked, then a crash: the next start does it first. */
static void t_pending_replayed(void) {
  ctx x;
  begin(&x);
  freeReplyObject(
      sg_test_redis_cmd(&x.r, "XGROUP CREATE sendgate:results sendgate-smtpd $ MKSTREAM"));
  add_result(&x, "smtp-a", SG_STATUS_FAILED);
  add_result(&x, "smtp-b", SG_STATUS_INVALID);
  redisReply *r = sg_test_redis_cmd(
      &x.r, "XREADGROUP GROUP sendgate-smtpd c1 COUNT 2 STREAMS sendgate:results >");
  ASSERT(r && r->type == REDIS_REPLY_ARRAY);
  freeReplyObject(r);
  ASSERT_EQ(2, group_field(&x, "pending"));
  ASSERT_EQ(0, group_field(&x, "lag"));
  start(&x);
  run_until_caught_up(&x);
  char ids[512];
  job_ids(&x, ids, sizeof ids);
  ASSERT_STR_EQ("dsn-smtp-a\ndsn-smtp-b\n", ids);
  stop(&x);
  end_ctx(&x);
}

SG_TESTS({"notifies_and_acks", t_notifies_and_acks}, {"pending_replayed", t_pending_replayed})
