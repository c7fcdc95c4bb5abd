/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The runtime's metrics: registers the gateway families, looks the children
 * up once, computes the gauges at scrape time, syncs counters kept by other
 * modules once a second, and runs the admin endpoint (/metrics, /healthz,
 * /readyz).
 */
#include "app/sg_app_metrics.h"

#include <stdio.h>
#include <string.h>

#include "app/sg_status_app.h"
#include "core/sg_err.h"
#include "core/sg_log.h"

#include <math.h>

static double g_jobs(void *ud) {
  return (double)((sg_app *)ud)->njobs;
}

/* Lane gauges: counters the scheduler keeps as lanes change, no walk. */
static double g_lanes_waiting(void *ud) {
  return (double)((sg_app *)ud)->sched.waiting;
}

static double g_smtp_sessions(void *ud) {
  return (double)sg_app__smtp_sessions(ud);
}

static double g_lanes(void *ud) {
  return (double)((sg_app *)ud)->sched.nlanes;
}

/* Consumer group gauges from the last XINFO GROUPS (sg_status_app.c). */
static double g_lag(void *ud) {
  const sg_status_redis *r = &((sg_app *)ud)->status_redis;
  return r->group_known && r->lag >= 0 ? (double)r->lag : NAN;
}

static double g_pending(void *ud) {
  const sg_status_redis *r = &((sg_app *)ud)->status_redis;
  return r->group_known ? (double)r->pending : NAN;
}

static double g_redis_up(void *ud) {
  sg_app *a = ud;
  return a->stream && sg_rd_stream_is_up(a->stream) ? 1 : 0;
}

static double g_delayed(void *ud) {
  sg_app *a = ud;
  if (a->delayed == NULL)
    return 0;
  sg_rd_delayed_stats st;
  sg_rd_delayed_get_stats(a->delayed, &st);
  return (double)st.size;
}

typedef struct {
  sg_app *a;
  const char *label; /* origin label */
  bool streams;
} pool_gauge;

#define N_ORIGIN_LABELS 3
static const char *const origin_labels[N_ORIGIN_LABELS] = {"graph", "acs", "entra"};
static pool_gauge gauges[2 * N_ORIGIN_LABELS];

static double g_pool(void *ud) {
  pool_gauge *g = ud;
  double n = 0;
  for (size_t i = 0; i < g->a->norigins; i++) {
    const sg_origin *o = g->a->origins[i];
    if (strcmp(o->label, g->label) != 0)
      continue;
    sg_h2_pool_stats st;
    sg_h2_pool_get_stats(o->pool, &st);
    n += g->streams ? (double)st.streams_in_flight : (double)st.conns_open;
  }
  return n;
}

static void on_stats(uv_timer_t *t) {
  sg_app *a = t->data;
  if (a->stream == NULL)
    return;
  sg_rd_stream_stats st;
  sg_rd_stream_get_stats(a->stream, &st);
  if (st.reconnects > a->last_reconnects) {
    sg_metric_add(a->mc.reconnects, (double)(st.reconnects - a->last_reconnects));
    a->last_reconnects = st.reconnects;
  }
  sg_app__status_sample(a);
}

static bool ready(void *ud, char *reason, size_t cap) {
  sg_app *a = ud;
  if (a->stopping) {
    snprintf(reason, cap, "stopping");
    return false;
  }
  if (a->stream == NULL || !sg_rd_stream_is_up(a->stream)) {
    snprintf(reason, cap, "Redis is not reachable");
    return false;
  }
  for (size_t i = 0; i < a->cfg.naccounts; i++) {
    if (a->rts[i].token_failing) {
      snprintf(reason, cap, "no access token for account %s",
               a->rts[i].acct->name[0] ? a->rts[i].acct->name : "default");
      return false;
    }
  }
  return sg_app__budget_ready(a, reason, cap);
}

int sg_app__metrics_start(sg_app *a, char *err, size_t errcap) {
  a->reg = sg_metrics_new();
  int rv = sg_gw_metrics_register(a->reg, &a->m);
  if (rv) {
    snprintf(err, errcap, "metrics: %s", sg_strerror(rv));
    return rv;
  }
  static const char *backends[4] = {"graph", "graph", "acs", "smtp"};
  for (int b = 1; b < 4; b++)
    for (int st = 1; st < 5; st++)
      a->mc.results[b][st] =
          sg_metric_child2(a->m.results, backends[b], sg_status_name((sg_status)st));
  a->mc.fetched = sg_metric_child0(a->m.jobs_fetched);
  static const char *const why[SG_WHY_TOKEN + 1] = {"",          "throttled", "server",
                                                    "transport", "timeout",   "token"};
  for (int w = SG_WHY_THROTTLED; w <= SG_WHY_TOKEN; w++)
    a->mc.retries[w] = sg_metric_child1(a->m.retries, why[w]);
  a->mc.dead_letters = sg_metric_child0(a->m.dead_letters);
  a->mc.job_duration = sg_metric_child0(a->m.job_duration);
  a->mc.reconnects = sg_metric_child0(a->m.redis_reconnects);
  a->mc.dur_entra = sg_metric_child1(a->m.http_request_duration, "entra");
  sg_metric_set_fn(sg_metric_child0(a->m.jobs_in_flight), g_jobs, a);
  sg_metric_set_fn(sg_metric_child1(a->m.lanes_waiting, "graph"), g_lanes_waiting, a);
  sg_metric_set_fn(sg_metric_child0(a->m.lanes), g_lanes, a);
  sg_metric_set_fn(sg_metric_child1(a->m.consumer_lag, a->cfg.jobs_stream), g_lag, a);
  sg_metric_set_fn(sg_metric_child1(a->m.consumer_pending, a->cfg.jobs_stream), g_pending, a);
  sg_metric_set_fn(sg_metric_child0(a->m.redis_up), g_redis_up, a);
  sg_metric_set_fn(sg_metric_child0(a->m.delayed_jobs), g_delayed, a);
  sg_metric_set_fn(sg_metric_child0(a->m.smtp_sessions_open), g_smtp_sessions, a);
  for (int i = 0; i < 2 * N_ORIGIN_LABELS; i++) {
    gauges[i] = (pool_gauge){a, origin_labels[i / 2], i % 2 == 1};
    sg_metric *c = sg_metric_child1(i % 2 ? a->m.http_streams_open : a->m.http_connections_open,
                                    origin_labels[i / 2]);
    sg_metric_set_fn(c, g_pool, &gauges[i]);
  }
  for (size_t i = 0; i < a->cfg.naccounts; i++) {
    sg_acct_rt *rt = &a->rts[i];
    const char *name = a->cfg.accounts[i].name[0] ? a->cfg.accounts[i].name : "default";
    rt->m_token_fetches = sg_metric_child1(a->m.token_fetches, name);
    rt->m_token_failures = sg_metric_child1(a->m.token_fetch_failures, name);
    rt->m_attempts = sg_metric_child1(a->m.attempts, rt->prov->name);
    rt->m_ambiguous = sg_metric_child1(a->m.ambiguous_outcomes, rt->prov->name);
    rt->m_throttles = sg_metric_child1(a->m.throttles, rt->prov->name);
    rt->m_pauses = sg_metric_child1(a->m.lane_pauses, rt->prov->name);
    rt->m_duration = sg_metric_child1(a->m.http_request_duration, rt->prov->name);
  }
  uv_timer_init(a->loop, &a->stats_timer);
  a->stats_timer.data = a;
  uv_timer_start(&a->stats_timer, on_stats, 1000, 1000);
  uv_unref((uv_handle_t *)&a->stats_timer);
  rv = sg_admin_start(&a->admin, a->loop, a->cfg.http_listen, a->reg, ready, a, err, errcap);
  if (rv == 0 && a->admin)
    sg_admin_set_status(a->admin, sg_app__status_http, a);
  return rv;
}

void sg_app__http_done(sg_app *a, const char *origin, sg_metric *dur, int status,
                       uint64_t sent_at) {
  char code[16];
  if (status > 0)
    sg_fmt_i64(code, status);
  else
    memcpy(code, "error", 6);
  sg_metric_inc(sg_metric_child2(a->m.http_requests, origin, code));
  uint64_t now = uv_now(a->loop);
  sg_metric_observe(dur, (double)(now > sent_at ? now - sent_at : 0) / 1000.0);
}
