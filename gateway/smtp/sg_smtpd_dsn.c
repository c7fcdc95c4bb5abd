/* SPDX-License-Identifier: Apache-2.0 */
/* smtpd's result watcher; see sg_smtpd_dsn.h. The notifications themselves are sg_smtp_dsn.c. */
#include "smtp/sg_smtpd_dsn.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/sg_clock.h"
#include "core/sg_err.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "job/sg_result.h"
#include "redis/sg_rd_client.h"
#include "smtp/sg_smtp_dsn.h"

/* Results read at once: a bounded batch, done one by one. */
#define BATCH "16"
/* How long one blocking read waits for new results (ms). */
#define BLOCK_MS 2000
#define STR_(x) #x
#define STR(x) STR_(x)
/* After a refused command (say NOGROUP: the stream was deleted), try again after this (ms). */
#define RETRY_MS 1000

typedef struct entry {
  char id[48];        /* stream entry id */
  sg_result_msg *res; /* NULL: deleted or not a result (acked, nothing sent) */
} entry;

struct sg_smtpd_dsn {
  uv_loop_t *loop;
  const sg_smtp_config *cfg;
  char consumer[256]; /* gateway.consumer, else the machine's host name */
  sg_rd_client *rd;
  uv_timer_t retry;
  bool backlog;     /* reading our own unacked entries (from after |last_id|) */
  char last_id[48]; /* the backlog's position */
  entry *batch;
  size_t n, i;  /* batch size, the entry being done */
  bool running; /* a chain of commands is under way */
  bool closing;
  size_t open; /* the timer and the client, until both are closed */
  void (*done)(void *ud);
  void *done_ud;
  sg_metric *m_sent, *m_errors;
};

static void read_next(sg_smtpd_dsn *w);
static void do_entry(sg_smtpd_dsn *w);

static uint32_t cmd_timeout(const sg_smtpd_dsn *w) {
  return (uint32_t)w->cfg->base.redis_timeout_ms;
}

static void free_batch(sg_smtpd_dsn *w) {
  for (size_t i = 0; i < w->n; i++)
    sg_result_msg_free(w->batch[i].res);
  sg_free(w->batch);
  w->batch = NULL;
  w->n = w->i = 0;
}

static void on_retry(uv_timer_t *t);

/* A command failed: the chain of commands stops; it starts over after
 * RETRY_MS while the connection is up (a refusal such as NOGROUP), or at the
 * next on_up (a lost connection: the client reconnects by itself). Unacked
 * entries are read again then. */
static void failed(sg_smtpd_dsn *w, int status, const char *what) {
  free_batch(w);
  w->running = false;
  if (w->closing)
    return;
  sg_metric_inc(w->m_errors);
  sg_log_kv(SG_LOG_WARN, "smtpd", "notifications: redis command failed", "command", what, "error",
            sg_strerror(status), NULL);
  if (sg_rd_client_is_up(w->rd))
    uv_timer_start(&w->retry, on_retry, RETRY_MS, 0);
}

/* ---- group ---- */

static void on_group(sg_rd_client *c, int status, const redisReply *reply, void *ud) {
  (void)c;
  sg_smtpd_dsn *w = ud;
  if (w->closing)
    return;
  bool exists =
      status == SG_ERR_REDIS && reply && reply->str && strncmp(reply->str, "BUSYGROUP", 9) == 0;
  if (status != 0 && !exists) {
    failed(w, status, "XGROUP CREATE");
    return;
  }
  w->backlog = true;
  snprintf(w->last_id, sizeof w->last_id, "0");
  read_next(w);
}

/* Creates the group at `$` (new results only) unless it exists, then reads. */
static void start_reading(sg_smtpd_dsn *w) {
  w->running = true;
  const char *stream = w->cfg->base.results_stream;
  const char *argv[] = {"XGROUP", "CREATE", stream, SG_SMTPD_DSN_GROUP, "$", "MKSTREAM"};
  size_t lens[] = {6, 6, strlen(stream), strlen(SG_SMTPD_DSN_GROUP), 1, 8};
  int rv = sg_rd_client_cmd(w->rd, 6, argv, lens, cmd_timeout(w), on_group, w);
  if (rv != 0)
    failed(w, rv, "XGROUP CREATE");
}

static void on_retry(uv_timer_t *t) {
  sg_smtpd_dsn *w = t->data;
  if (!w->closing && !w->running && sg_rd_client_is_up(w->rd))
    start_reading(w);
}

/* ---- reading ---- */

/* Copies the entries of an XREADGROUP reply ([[stream, [[id, [k, v, ...]], ...]]]). */
static void take_batch(sg_smtpd_dsn *w, const redisReply *reply) {
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1)
    return;
  const redisReply *s = reply->element[0];
  if (s->type != REDIS_REPLY_ARRAY || s->elements < 2 || s->element[1]->type != REDIS_REPLY_ARRAY)
    return;
  const redisReply *es = s->element[1];
  w->batch = sg_xcalloc(es->elements ? es->elements : 1, sizeof *w->batch);
  for (size_t i = 0; i < es->elements; i++) {
    const redisReply *e = es->element[i];
    if (e->type != REDIS_REPLY_ARRAY || e->elements < 1 ||
        e->element[0]->type != REDIS_REPLY_STRING || e->element[0]->len >= sizeof w->batch[0].id)
      continue;
    entry *x = &w->batch[w->n++];
    memcpy(x->id, e->element[0]->str, e->element[0]->len);
    x->id[e->element[0]->len] = '\0';
    const redisReply *f = e->elements > 1 ? e->element[1] : NULL;
    for (size_t k = 0; f && f->type == REDIS_REPLY_ARRAY && k + 1 < f->elements; k += 2)
      if (f->element[k]->type == REDIS_REPLY_STRING && strcmp(f->element[k]->str, "result") == 0 &&
          f->element[k + 1]->type == REDIS_REPLY_STRING) {
        const redisReply *v = f->element[k + 1];
        if (sg_result_decode((const uint8_t *)v->str, v->len, &x->res) != 0)
          x->res = NULL;
        break;
      }
  }
}

static void on_read(sg_rd_client *c, int status, const redisReply *reply, void *ud) {
  (void)c;
  sg_smtpd_dsn *w = ud;
  if (w->closing)
    return;
  if (status != 0) {
    failed(w, status, "XREADGROUP");
    return;
  }
  take_batch(w, reply);
  if (w->n == 0) {
    free_batch(w);
    w->backlog = false; /* the backlog is done (or a blocking read timed out) */
    read_next(w);
    return;
  }
  if (w->backlog)
    snprintf(w->last_id, sizeof w->last_id, "%s", w->batch[w->n - 1].id);
  do_entry(w);
}

/* XREADGROUP: our unacked entries first (no BLOCK), then new ones (BLOCK). */
static void read_next(sg_smtpd_dsn *w) {
  const char *stream = w->cfg->base.results_stream;
  const char *from = w->backlog ? w->last_id : ">";
  const char *argv[] = {"XREADGROUP", "GROUP", SG_SMTPD_DSN_GROUP, w->consumer, "COUNT",
                        BATCH,        "BLOCK", STR(BLOCK_MS),      "STREAMS",   stream,
                        from};
  const char *argv_nb[] = {"XREADGROUP", "GROUP", SG_SMTPD_DSN_GROUP,
                           w->consumer,  "COUNT", BATCH,
                           "STREAMS",    stream,  from};
  size_t lens[11];
  const char **a = w->backlog ? argv_nb : argv;
  int argc = w->backlog ? 9 : 11;
  for (int i = 0; i < argc; i++)
    lens[i] = strlen(a[i]);
  uint32_t t = cmd_timeout(w) + (w->backlog ? 0 : BLOCK_MS);
  int rv = sg_rd_client_cmd(w->rd, argc, a, lens, t, on_read, w);
  if (rv != 0)
    failed(w, rv, "XREADGROUP");
}

/* ---- one entry: XADD the notification, then XACK ---- */

static void on_ack(sg_rd_client *c, int status, const redisReply *reply, void *ud) {
  (void)c;
  (void)reply;
  sg_smtpd_dsn *w = ud;
  if (w->closing)
    return;
  if (status != 0) {
    failed(w, status, "XACK");
    return;
  }
  w->i++;
  do_entry(w);
}

static void ack(sg_smtpd_dsn *w) {
  const char *stream = w->cfg->base.results_stream;
  const char *id = w->batch[w->i].id;
  const char *argv[] = {"XACK", stream, SG_SMTPD_DSN_GROUP, id};
  size_t lens[] = {4, strlen(stream), strlen(SG_SMTPD_DSN_GROUP), strlen(id)};
  int rv = sg_rd_client_cmd(w->rd, 4, argv, lens, cmd_timeout(w), on_ack, w);
  if (rv != 0)
    failed(w, rv, "XACK");
}

static void on_xadd(sg_rd_client *c, int status, const redisReply *reply, void *ud) {
  (void)c;
  (void)reply;
  sg_smtpd_dsn *w = ud;
  if (w->closing)
    return;
  if (status != 0) {
    failed(w, status, "XADD");
    return;
  }
  const sg_result *r = sg_result_msg_view(w->batch[w->i].res);
  sg_metric_inc(w->m_sent);
  sg_log_kv(SG_LOG_INFO, "smtpd", "delivery status notification queued", "job_id", r->job_id,
            "status", sg_status_name(r->status), NULL);
  ack(w);
}

static void do_entry(sg_smtpd_dsn *w) {
  if (w->i >= w->n) {
    free_batch(w);
    read_next(w);
    return;
  }
  entry *e = &w->batch[w->i];
  const sg_result *r = e->res ? sg_result_msg_view(e->res) : NULL;
  const char *skip = r ? sg_smtp_dsn_skip(r, w->cfg->bounce_sender) : "not a result";
  if (skip) {
    if (r && strncmp(r->job_id, "smtp-", 5) == 0 && r->status != SG_STATUS_SENT)
      sg_log_kv(SG_LOG_INFO, "smtpd", "no delivery status notification", "job_id", r->job_id,
                "reason", skip, NULL);
    ack(w);
    return;
  }
  sg_smtp_dsn_in in = {r, w->cfg->bounce_sender, w->cfg->hostname, sg_wall_ms()};
  sg_buf job = SG_BUF_INIT;
  sg_smtp_dsn_job(&job, &in);
  const char *stream = w->cfg->base.jobs_stream;
  const char *argv[] = {"XADD", stream, "*", "job", job.data};
  size_t lens[] = {4, strlen(stream), 1, 3, job.len};
  int rv = sg_rd_client_cmd(w->rd, 5, argv, lens, cmd_timeout(w), on_xadd, w);
  sg_buf_free(&job);
  if (rv != 0)
    failed(w, rv, "XADD");
}

/* ---- life ---- */

static void on_up(sg_rd_client *c, void *ud) {
  (void)c;
  sg_smtpd_dsn *w = ud;
  uv_timer_stop(&w->retry);
  if (!w->running)
    start_reading(w);
}

static void on_down(sg_rd_client *c, int reason, void *ud) {
  (void)c;
  (void)ud;
  sg_log(SG_LOG_WARN, "smtpd", "notifications: redis connection lost: %s", sg_strerror(reason));
}

int sg_smtpd_dsn_start(sg_smtpd_dsn **out, uv_loop_t *loop, const sg_smtp_config *cfg,
                       sg_metrics *registry, char *err, size_t errcap) {
  *out = NULL;
  sg_rd_url url;
  if (sg_rd_url_parse(cfg->base.redis_url, &url) != 0) {
    snprintf(err, errcap, "SENDGATE_REDIS_URL: not a redis[s]:// or unix:// URL");
    return SG_ERR_CONFIG;
  }
  sg_smtpd_dsn *w = sg_xcalloc(1, sizeof *w);
  w->loop = loop;
  w->cfg = cfg;
  if (cfg->base.consumer && cfg->base.consumer[0])
    snprintf(w->consumer, sizeof w->consumer, "%s", cfg->base.consumer);
  else if (gethostname(w->consumer, sizeof w->consumer - 1) != 0 || w->consumer[0] == '\0')
    snprintf(w->consumer, sizeof w->consumer, "smtpd");
  sg_rd_client_opts o = {
      .name = "smtpd-dsn", .connect_timeout_ms = 3000, .tls_ca_file = cfg->base.tls_ca_file};
  sg_rd_client_cbs cbs = {on_up, on_down, w};
  int rv = sg_rd_client_new(loop, &url, &o, &cbs, &w->rd);
  if (rv != 0) {
    snprintf(err, errcap, "redis client: %s", sg_strerror(rv));
    sg_free(w);
    return rv;
  }
  uv_timer_init(loop, &w->retry);
  w->retry.data = w;
  w->open = 2;

  sg_metric_family *sent, *errors;
  static const sg_metric_desc d_sent = {
      .name = "sendgate_smtp_dsn_sent_total",
      .help = "delivery status notifications queued to the jobs stream",
      .type = SG_METRIC_COUNTER};
  static const sg_metric_desc d_errors = {.name = "sendgate_smtp_dsn_errors_total",
                                          .help =
                                              "Redis commands of the result watcher that failed",
                                          .type = SG_METRIC_COUNTER};
  sg_metrics_register(registry, &d_sent, &sent);
  sg_metrics_register(registry, &d_errors, &errors);
  w->m_sent = sg_metric_child0(sent);
  w->m_errors = sg_metric_child0(errors);

  sg_rd_client_start(w->rd);
  sg_log_kv(SG_LOG_INFO, "smtpd", "delivery status notifications on", "from", cfg->bounce_sender,
            "results", cfg->base.results_stream, NULL);
  *out = w;
  return 0;
}

static void part_closed(sg_smtpd_dsn *w) {
  if (--w->open > 0)
    return;
  void (*done)(void *) = w->done;
  void *ud = w->done_ud;
  free_batch(w);
  sg_free(w);
  if (done)
    done(ud);
}

static void on_timer_closed(uv_handle_t *h) {
  part_closed(h->data);
}

static void on_client_closed(sg_rd_client *c, void *ud) {
  (void)c;
  part_closed(ud);
}

void sg_smtpd_dsn_close(sg_smtpd_dsn *w, void (*done)(void *ud), void *ud) {
  w->closing = true;
  w->done = done;
  w->done_ud = ud;
  uv_timer_stop(&w->retry);
  uv_close((uv_handle_t *)&w->retry, on_timer_closed);
  sg_rd_client_close(w->rd, false, on_client_closed, w);
}
