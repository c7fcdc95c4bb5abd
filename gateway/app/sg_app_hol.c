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
 * so max_in_flight always has room for jobs that can go. When a transactional
 * job joins a lane that already holds its horizon's worth, the lane's last
 * bulk job moves out in its place.
 *
 * Metrics (registered here, next to the gateway's families):
 *   sendgate_jobs_fetched_by_priority_total{priority}  jobs decoded, by priority
 *   sendgate_jobs_sent_by_priority_total{priority}     SENT results, by priority
 *   sendgate_hol_parked_total{priority}  jobs moved to the delayed set because
 *                                        their lane could not take them soon
 * priority: "transactional" or "bulk".
 */
#include "app/sg_app_int.h"

#include "core/sg_clock.h"
#include "core/sg_err.h"
#include "sched/sg_hol.h"

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

int sg_app__hol_metrics(sg_app *a) {
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

bool sg_app__hol_park(sg_jobrun *j) {
  sg_app *a = j->app;
  uint64_t h = (uint64_t)a->cfg.hol_horizon_ms;
  if (h == 0)
    return false;
  sg_lane *l = j->lane;
  size_t ahead = j->item.bulk ? l->queued : l->queued - l->queued_bulk;
  uint64_t now = uv_now(a->loop);
  uint64_t due = sg_hol_plan(l, ahead, now, h);
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
  uint64_t due = sg_hol_plan(l, l->queued - 1, now, h);
  if (due == 0)
    return;
  sg_jobrun *q = sg_container_of(back, sg_jobrun, item);
  sg_sched_remove(&a->sched, l, back);
  park(q, due, now);
}
