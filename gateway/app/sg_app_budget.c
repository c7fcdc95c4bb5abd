/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The runtime's glue of shared budgets: the gate of sched/sg_share.h on the
 * scheduler, one Redis call per loop turn at most (redis/sg_rd_budget.h, on
 * the command connection) made after the pump has admitted what it could,
 * a timer for renewals and repeated asks, the fallback to divided limits
 * when Redis does not answer (log line, metric, readiness reason) and the
 * metrics. With gateway.shared_budgets off none of it exists.
 */
#include "app/sg_app_int.h"

#include <stdio.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_log.h"
#include "redis/sg_rd_budget.h"
#include "sched/sg_share.h"

/* While Redis does not answer, a call is tried at most this often. */
#define RETRY_DOWN_MS 1000

struct sg_app_budget {
  sg_app *a;
  sg_shares t;
  sg_share_req req;
  sg_rd_budget *rd;
  uv_timer_t timer;
  uint64_t failed_at; /* monotonic ms of the last failed call */
  uint64_t connects;  /* of the command connection, when last looked at */
  sg_metric *m_calls, *m_denials;
  uint64_t denials_seen;
};

#define NKINDS 3
static const char *const KINDS[NKINDS] = {"graph", "acs", "smtp"}; /* lane key prefixes */

typedef struct lease_gauge {
  sg_app_budget *b;
  int kind;
} lease_gauge;
static lease_gauge lease_gauges[NKINDS];

static double g_lease_kind(void *ud) {
  lease_gauge *g = ud;
  double n = 0;
  if (g->b == NULL)
    return 0;
  size_t len = strlen(KINDS[g->kind]);
  const sg_list *it;
  sg_list_foreach(it, &g->b->t.all) {
    const sg_share *sh = sg_container_of(it, sg_share, link);
    if (strncmp(sh->lane->key, KINDS[g->kind], len) == 0)
      n += sh->slots;
  }
  return n;
}

static double g_fallback(void *ud) {
  return ((sg_app_budget *)ud)->t.fallback ? 1 : 0;
}

static const char *const L_KIND[] = {"lane_kind"};

static void metrics(sg_app_budget *b) {
  sg_metrics *reg = b->a->reg;
  if (reg == NULL)
    return;
  sg_metric_family *f;
  sg_metric_desc d = {"sendgate_budget_calls_total",
                      "Shared-budget calls made to Redis (one per loop turn at most).",
                      SG_METRIC_COUNTER,
                      NULL,
                      0,
                      NULL,
                      0,
                      0};
  if (sg_metrics_register(reg, &d, &f) == 0)
    b->m_calls = sg_metric_child0(f);
  d.name = "sendgate_budget_denials_total";
  d.help = "Lanes whose ask for slots or window credit Redis could not meet.";
  if (sg_metrics_register(reg, &d, &f) == 0)
    b->m_denials = sg_metric_child0(f);
  d.type = SG_METRIC_GAUGE;
  d.name = "sendgate_budget_fallback";
  d.help = "1 while Redis does not answer shared-budget calls and lanes run on divided limits.";
  if (sg_metrics_register(reg, &d, &f) == 0)
    sg_metric_set_fn(sg_metric_child0(f), g_fallback, b);
  d.name = "sendgate_budget_leases";
  d.help = "In-flight slots leased from the shared budgets, by lane kind (graph, acs, smtp).";
  d.labels = L_KIND;
  d.nlabels = 1;
  if (sg_metrics_register(reg, &d, &f) == 0)
    for (int k = 0; k < NKINDS; k++) {
      lease_gauges[k] = (lease_gauge){b, k};
      sg_metric_set_fn(sg_metric_child1(f, KINDS[k]), g_lease_kind, &lease_gauges[k]);
    }
}

/* A pause another gateway set: long ones send the lane's queue to the delayed
 * set, as a Retry-After received here does. */
static void on_remote_pause(void *ud, sg_lane *l, uint64_t ms) {
  sg_app_budget *b = ud;
  if (ms > (uint64_t)b->a->cfg.delayed_after_ms)
    sg_app__park_lane(b->a, l, ms);
}

static void on_timer(uv_timer_t *t) {
  sg_app__want_pump(((sg_app_budget *)t->data)->a);
}

static void on_answer(int status, const sg_rd_budget_reply *r, void *ud) {
  sg_app_budget *b = ud;
  sg_app *a = b->a;
  uint64_t now = uv_now(a->loop);
  if (status == 0 && r && r->n == b->req.nops) {
    bool was = b->t.fallback, known = b->t.known;
    sg_share_apply(&b->t, &b->req, r->g, r->gateways, now);
    sg_share_news(&b->t, r->news, r->nnews, now);
    if (r->lost && known) {
      sg_share_lost(&b->t, now);
      sg_log_kv(SG_LOG_WARN, "budget",
                "shared budgets: this gateway's leases had expired in Redis (no call for "
                "budget_lease_ms); set again from what is in flight",
                NULL);
    }
    if (was)
      sg_log_kv(SG_LOG_INFO, "budget", "Redis answers again: shared budgets resynchronised", NULL);
  } else {
    bool was = b->t.fallback;
    sg_share_failed(&b->t, &b->req, now);
    b->failed_at = now;
    if (!was) {
      char div[16];
      snprintf(div, sizeof div, "%u", sg_share_divisor(&b->t));
      sg_log_kv(SG_LOG_WARN, "budget",
                "shared budgets unavailable: each lane runs on its limits divided by the "
                "gateways",
                "error", sg_strerror(status ? status : SG_ERR_PARSE), "divisor", div, NULL);
    }
  }
  if (b->t.denials > b->denials_seen) {
    sg_metric_add(b->m_denials, (double)(b->t.denials - b->denials_seen));
    b->denials_seen = b->t.denials;
  }
  sg_app__want_pump(a);
}

static void on_bye(int status, const sg_rd_budget_reply *r, void *ud) {
  (void)status, (void)r, (void)ud;
}

void sg_app__budget_turn(sg_app *a, uint64_t now) {
  sg_app_budget *b = a->budget;
  if (b == NULL || b->t.call_out)
    return;
  sg_rd_client *c = a->stream ? sg_rd_stream_cmd_client(a->stream) : NULL;
  bool down = c == NULL || !sg_rd_client_is_up(c);
  if (c && !down) {
    /* A new connection since the last look: Redis may have restarted and
     * lost the leases between two calls. Start again from what is in flight. */
    sg_rd_client_stats st;
    sg_rd_client_get_stats(c, &st);
    if (b->connects && st.connects != b->connects) {
      sg_share_failed(&b->t, &b->req, now);
      b->failed_at = 0;
      sg_log_kv(SG_LOG_INFO, "budget", "Redis connection renewed: leases set again", NULL);
    }
    b->connects = st.connects;
  }
  uint64_t next = sg_share_next_call(&b->t);
  if (b->t.fallback && next < b->failed_at + RETRY_DOWN_MS)
    next = b->failed_at + RETRY_DOWN_MS;
  if (next > now) {
    if (next != UINT64_MAX)
      uv_timer_start(&b->timer, on_timer, next - now, 0);
    return;
  }
  if (down) {
    if (!b->t.fallback)
      on_answer(SG_ERR_CLOSED, NULL, b);
    else
      b->failed_at = now;
    uv_timer_start(&b->timer, on_timer, RETRY_DOWN_MS, 0);
    return;
  }
  if (!sg_share_build(&b->t, now, &b->req))
    return;
  sg_metric_inc(b->m_calls);
  int rv = sg_rd_budget_call(b->rd, &b->req, b->t.known, on_answer, b);
  if (rv)
    on_answer(rv, NULL, b);
}

void sg_app__budget_start(sg_app *a) {
  if (!a->cfg.shared_budgets || a->stream == NULL)
    return;
  sg_app_budget *b = sg_xcalloc(1, sizeof *b);
  b->a = a;
  sg_share_cfg sc = {.lease_ms = (uint64_t)a->cfg.budget_lease_ms,
                     .share_ms = (uint64_t)a->cfg.budget_share_ms,
                     .batch = (uint32_t)a->cfg.budget_share_jobs,
                     .poll_ms = (uint64_t)a->cfg.budget_poll_ms,
                     .replicas_max = (uint32_t)a->cfg.replicas_max};
  sg_shares_init(&b->t, &a->sched, &sc);
  b->t.remote_pause = on_remote_pause;
  b->t.remote_pause_ud = b;
  /* The id of this process, not of the consumer: a gateway restarted under
   * the same consumer name must not inherit the leases of the one that died
   * (they expire after budget_lease_ms). */
  char id[300];
  snprintf(id, sizeof id, "%s/%016llx", a->cfg.consumer, (unsigned long long)sg_app__rand(a));
  sg_rd_budget_opts ro = {.gateway_id = id,
                          .lease_ms = sc.lease_ms,
                          .share_ms = sc.share_ms,
                          .timeout_ms = (uint32_t)a->cfg.redis_timeout_ms};
  sg_rd_budget_new(sg_rd_stream_cmd_client(a->stream), &ro, &b->rd);
  uv_timer_init(a->loop, &b->timer);
  b->timer.data = b;
  a->budget = b;
  metrics(b);
}

static void on_timer_closed(uv_handle_t *h) {
  sg_free(h->data);
}

void sg_app__budget_close(sg_app *a) {
  sg_app_budget *b = a->budget;
  if (b == NULL)
    return;
  a->budget = NULL;
  /* What is held goes back in a last call (best effort: its answer is not
   * awaited; without it the leases expire after budget_lease_ms): with
   * nothing in flight the gateway leaves Redis's registry, and everything it
   * holds (even what a call still out grants) goes back; else each lane gives
   * back what it does not use. */
  if (a->sched.inflight == 0 && !b->t.fallback)
    sg_rd_budget_leave(b->rd);
  else if (sg_share_build_bye(&b->t, &b->req))
    sg_rd_budget_call(b->rd, &b->req, b->t.known, on_bye, NULL);
  /* Written now: the connection closes before the loop's turn would write it. */
  if (a->stream)
    sg_rd_client_flush(sg_rd_stream_cmd_client(a->stream));
  sg_rd_budget_free(b->rd);
  sg_shares_free(&b->t, uv_now(a->loop));
  sg_share_req_free(&b->req);
  for (int k = 0; k < NKINDS; k++)
    lease_gauges[k].b = NULL;
  uv_close((uv_handle_t *)&b->timer, on_timer_closed);
}

bool sg_app__budget_ready(const sg_app *a, char *reason, size_t cap) {
  if (a->budget == NULL || !a->budget->t.fallback)
    return true;
  snprintf(reason, cap,
           "shared budgets unavailable (Redis does not answer): lanes run on their limits "
           "divided by %u",
           sg_share_divisor(&a->budget->t));
  return false;
}
