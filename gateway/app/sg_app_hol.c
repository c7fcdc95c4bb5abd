/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fair intake in the runtime: priorities and head-of-line parking.
 *
 * A job is transactional or bulk (sg_job_bulk: its priority field, else bulk
 * when it belongs to a campaign). On its lane transactional jobs go first
 * (sched/sg_sched_prio.c). A job that its lane cannot start within
 * gateway.hol_horizon_ms, counting only the jobs that go before it (for a
 * transactional job only the transactional ones), does not wait in memory:
 * it moves to the delayed set, due as the lane can take it (sched/sg_hol.h),
 * so max_in_flight always has room for jobs that can go. With shared budgets
 * the estimate is of this gateway's part of the lane (sched/sg_share_est.h):
 * the lane's rates divided among the gateways on it, its leased slots. When a
 * transactional job joins a lane that already holds its horizon's worth, the
 * lane's last bulk job moves out in its place.
 *
 * Reading: campaign producers XADD to gateway.bulk_stream; the feeder
 * (redis/sg_rd_feeder.h) moves its jobs into the job stream only while that
 * has nothing unread and this gateway has room beyond a reserve of a quarter
 * of max_in_flight. Parked bulk jobs wait in their own delayed set
 * (sendgate:delayed:bulk) with their own mover, so due transactional jobs
 * are never behind due bulk ones.
 *
 * Metrics (registered here, next to the gateway's families):
 *   sendgate_jobs_fetched_by_priority_total{priority}  jobs decoded, by priority
 *   sendgate_jobs_sent_by_priority_total{priority}     SENT results, by priority
 *   sendgate_hol_parked_total{priority}  jobs moved to the delayed set because
 *                                        their lane could not take them soon
 *   sendgate_job_latency_by_priority_seconds{priority}  histogram: job
 *     created_unix_ms to its terminal result, as sendgate_job_duration_seconds
 *     (same buckets; its sum over priorities), split by priority
 *   sendgate_stream_backlog{stream}  jobs waiting in Redis: "jobs" (entries of
 *                                    the job stream not yet handed out),
 *                                    "bulk" (the bulk stream), "delayed_bulk"
 * priority: "transactional" or "bulk".
 */
#include "app/sg_app_int.h"

#include "core/sg_clock.h"
#include "core/sg_err.h"
#include "redis/sg_rd_feeder.h"
#include "sched/sg_hol.h"
#include "sched/sg_share_est.h"

static const char *const L_PRIO[] = {"priority", NULL};
static const char *const PRIO_NAMES[2] = {"transactional", "bulk"};

static int family(sg_app *a, const char *name, const char *help, sg_metric *out[2]) {
  sg_metric_desc d = {name, help, SG_METRIC_COUNTER, L_PRIO, 1, NULL, 0, 0};
  sg_metric_family *f;
  int rv = sg_metrics_register(a->reg, &d, &f);
  if (rv)
    return rv;
  for (int i = 0; i < 2; i++)
    out[i] = sg_metric_child1(f, PRIO_NAMES[i]);
  return 0;
}

/* As sendgate_job_duration_seconds's (app/sg_metrics_gateway.c): queueing
 * behind lane limits, pauses and delayed retries reaches an hour. */
static const double B_LATENCY[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600};

static int latency_family(sg_app *a) {
  sg_metric_desc d = {"sendgate_job_latency_by_priority_seconds",
                      "Job latency from creation to terminal result, by priority.",
                      SG_METRIC_HISTOGRAM,
                      L_PRIO,
                      1,
                      B_LATENCY,
                      SG_ARRAY_LEN(B_LATENCY),
                      0};
  sg_metric_family *f;
  int rv = sg_metrics_register(a->reg, &d, &f);
  if (rv)
    return rv;
  for (int i = 0; i < 2; i++)
    a->mh.latency[i] = sg_metric_child1(f, PRIO_NAMES[i]);
  return 0;
}

static double g_backlog_jobs(void *ud) {
  sg_app *a = ud;
  sg_rd_feeder_stats st = {0};
  if (a->feeder)
    sg_rd_feeder_get_stats(a->feeder, &st);
  return (double)st.backlog;
}

static double g_backlog_bulk(void *ud) {
  sg_app *a = ud;
  sg_rd_feeder_stats st = {0};
  if (a->feeder)
    sg_rd_feeder_get_stats(a->feeder, &st);
  return (double)st.bulk_len;
}

static double g_backlog_delayed_bulk(void *ud) {
  sg_app *a = ud;
  return a->delayed_bulk ? (double)sg_rd_delayed_size(a->delayed_bulk) : 0;
}

static const char *const L_STREAM[] = {"stream", NULL};

int sg_app__hol_metrics(sg_app *a) {
  sg_metric_desc d = {"sendgate_stream_backlog",
                      "Jobs waiting in Redis: the job stream's entries not yet handed out, the "
                      "bulk stream, the bulk delayed set.",
                      SG_METRIC_GAUGE,
                      L_STREAM,
                      1,
                      NULL,
                      0,
                      0};
  sg_metric_family *f;
  int rv0 = sg_metrics_register(a->reg, &d, &f);
  if (rv0)
    return rv0;
  sg_metric_set_fn(sg_metric_child1(f, "jobs"), g_backlog_jobs, a);
  sg_metric_set_fn(sg_metric_child1(f, "bulk"), g_backlog_bulk, a);
  sg_metric_set_fn(sg_metric_child1(f, "delayed_bulk"), g_backlog_delayed_bulk, a);
  int rv = family(a, "sendgate_jobs_fetched_by_priority_total",
                  "Jobs decoded from the job streams, by priority.", a->mh.fetched);
  if (rv == 0)
    rv =
        family(a, "sendgate_jobs_sent_by_priority_total", "SENT results, by priority.", a->mh.sent);
  if (rv == 0)
    rv = family(a, "sendgate_hol_parked_total",
                "Jobs moved to the delayed set because their lane could not start them within "
                "gateway.hol_horizon_ms, by priority.",
                a->mh.parked);
  if (rv == 0)
    rv = latency_family(a);
  return rv;
}

static int prio(const sg_jobrun *j) {
  return j->job && sg_job_bulk(j->job) ? 1 : 0;
}

void sg_app__hol_fetched(sg_jobrun *j) {
  if (j->app->mh.fetched[0])
    sg_metric_inc(j->app->mh.fetched[prio(j)]);
}

void sg_app__hol_sent(sg_jobrun *j) {
  if (j->app->mh.sent[0])
    sg_metric_inc(j->app->mh.sent[prio(j)]);
}

void sg_app__hol_latency(sg_jobrun *j, double seconds) {
  if (j->app->mh.latency[0])
    sg_metric_observe(j->app->mh.latency[prio(j)], seconds);
}

void sg_app__hol_observe(sg_jobrun *j, uint64_t duration_ms) {
  if (j->lane)
    sg_hol_observe(j->lane, duration_ms);
}

/* Moves |j| to the delayed set, due at monotonic |due|. */
static void park(sg_jobrun *j, uint64_t due, uint64_t now) {
  sg_app *a = j->app;
  if (a->mh.parked[0])
    sg_metric_inc(a->mh.parked[prio(j)]);
  sg_app__park_quiet(j, sg_wall_ms() + (int64_t)(due - now));
}

/* sg_hol_plan with this gateway's part of the lane's shared budget, if any. */
static uint64_t hol_plan(sg_app *a, sg_lane *l, uint64_t ahead, uint64_t now, uint64_t h) {
  sg_hol_share buf;
  return sg_hol_plan(l, sg_share_est_lane(&a->sched, l, &buf), ahead, now, h);
}

uint64_t sg_app__hol_admits(sg_app *a, sg_lane *l, uint64_t now, uint64_t h) {
  sg_hol_share buf;
  return sg_hol_admits(l, sg_share_est_lane(&a->sched, l, &buf), now, h);
}

bool sg_app__hol_park(sg_jobrun *j) {
  sg_app *a = j->app;
  uint64_t h = (uint64_t)a->cfg.hol_horizon_ms;
  if (h == 0)
    return false;
  sg_lane *l = j->lane;
  size_t ahead = j->item.bulk ? l->queued : l->queued - l->queued_bulk;
  uint64_t now = uv_now(a->loop);
  uint64_t due = hol_plan(a, l, ahead, now, h);
  if (due == 0)
    return false;
  park(j, due, now);
  return true;
}

void sg_app__hol_trim(sg_jobrun *j) {
  sg_app *a = j->app;
  sg_lane *l = j->lane;
  uint64_t h = (uint64_t)a->cfg.hol_horizon_ms;
  if (h == 0 || j->item.bulk || l->queued_bulk == 0)
    return;
  uint64_t now = uv_now(a->loop);
  sg_sched_item *back = sg_sched_back(l);
  if (back == NULL || !back->bulk)
    return;
  uint64_t due = hol_plan(a, l, l->queued - 1, now, h);
  if (due == 0)
    return;
  sg_jobrun *q = sg_container_of(back, sg_jobrun, item);
  sg_sched_remove(&a->sched, l, back);
  park(q, due, now);
}

const char *sg_app__hol_delayed_key(const sg_jobrun *j, sg_rd_delayed **mover) {
  if (!j->item.bulk || j->app->delayed_bulk == NULL)
    return NULL; /* the queue's own delayed set */
  *mover = j->app->delayed_bulk;
  return SG_RD_DELAYED_BULK_KEY;
}

/* Free places in max_in_flight beyond the quarter kept for transactional jobs. */
static uint32_t room(void *ud) {
  sg_app *a = ud;
  size_t cap = (size_t)a->cfg.max_in_flight, keep = cap / 4;
  if (a->stopping || a->njobs + keep >= cap)
    return 0;
  size_t n = cap - keep - a->njobs;
  return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

int sg_app__hol_start(sg_app *a) {
  sg_rd_delayed_opts d;
  memset(&d, 0, sizeof d);
  d.client = sg_rd_stream_cmd_client(a->stream);
  d.key = SG_RD_DELAYED_BULK_KEY;
  d.stream = a->cfg.jobs_stream;
  int rv = sg_rd_delayed_new(a->loop, &d, &a->delayed_bulk);
  if (rv || a->cfg.bulk_stream[0] == '\0')
    return rv;
  sg_rd_feeder_opts o;
  memset(&o, 0, sizeof o);
  o.client = d.client;
  o.bulk = a->cfg.bulk_stream;
  o.stream = a->cfg.jobs_stream;
  o.group = a->cfg.group;
  o.batch = (uint32_t)a->cfg.fetch_count;
  o.low_water = 64;
  o.cmd_timeout_ms = (uint32_t)a->cfg.redis_timeout_ms;
  o.room = room;
  o.room_ud = a;
  return sg_rd_feeder_new(a->loop, &o, &a->feeder);
}

int sg_app__hol_close(sg_app *a, void (*done)(void *), void *ud) {
  int n = 0;
  if (a->feeder) {
    sg_rd_feeder_close(a->feeder, done, ud);
    n++;
  }
  if (a->delayed_bulk) {
    sg_rd_delayed_close(a->delayed_bulk, done, ud);
    n++;
  }
  a->feeder = NULL;
  a->delayed_bulk = NULL;
  return n;
}
