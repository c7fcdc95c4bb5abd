/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sender pools in the runtime: a job whose sender is "pool:NAME" is sent by
 * one member of [pool.NAME] (conf/sg_config_pool.c), chosen when the job
 * reaches its lane (after the sent-ledger lookup) by sched/sg_pool_pick.h:
 * a member whose mailbox or resource can take a request now, the least
 * loaded per weight. So a campaign of 100,000 jobs to a pool of 20 mailboxes
 * runs on 20 lanes at once, each within its own mailbox's limits; the lanes
 * take turns with every other lane of the gateway (round robin), so pools and
 * plain senders share the gateway fairly.
 *
 * The job keeps its pool name everywhere it is stored: the sent ledger's
 * identity (account, "pool:NAME", id) is taken before the choice, and a job
 * that is parked goes to the delayed set as it came, choosing again when it
 * is back. Only the request and the result (MailResult.sender) name the
 * member. At most SG_POOL_SCAN members are looked at per choice (from a
 * rotating start), so a choice costs a bounded number of lane lookups.
 *
 * Metric: sendgate_pool_member_chosen_total{pool,member} (names from the
 * configuration: bounded).
 */
#include "app/sg_app_int.h"

#include <string.h>

#include "core/sg_log.h"
#include "sched/sg_pool_pick.h"

#define SG_POOL_PREFIX "pool:"
#define SG_POOL_SCAN 64

static const sg_pool *pool_of(sg_app *a, const sg_job *job) {
  if (strncmp(job->sender, SG_POOL_PREFIX, sizeof SG_POOL_PREFIX - 1) != 0)
    return NULL;
  return sg_config_pool(&a->cfg, job->sender + sizeof SG_POOL_PREFIX - 1);
}

const char *sg_app__pool_account(sg_app *a, const sg_job *job) {
  const sg_pool *p = pool_of(a, job);
  return p ? p->account : "";
}

static const char *const L_POOL[] = {"pool", "member", NULL};

int sg_app__pool_metrics(sg_app *a) {
  sg_metric_desc d = {"sendgate_pool_member_chosen_total",
                      "Jobs to a sender pool, by the member chosen to send them.",
                      SG_METRIC_COUNTER,
                      L_POOL,
                      2,
                      NULL,
                      0,
                      4096};
  return sg_metrics_register(a->reg, &d, &a->pool_chosen);
}

/* The runtime of the account |m| sends through (its own, the pool's, or the job's). */
static sg_acct_rt *member_rt(sg_app *a, const sg_pool *p, const sg_pool_member *m,
                             sg_acct_rt *job_rt) {
  const char *name = m->account[0] ? m->account : p->account;
  if (name[0] == '\0')
    return job_rt;
  const sg_account *acct = sg_config_account(&a->cfg, SG_BACKEND_GRAPH, name);
  return acct ? &a->rts[acct - a->cfg.accounts] : job_rt; /* checked at load */
}

bool sg_app__pool_assign(sg_jobrun *j) {
  sg_app *a = j->app;
  const sg_job *job = j->job;
  if (strncmp(job->sender, SG_POOL_PREFIX, sizeof SG_POOL_PREFIX - 1) != 0)
    return true;
  const sg_pool *p = pool_of(a, job);
  if (p == NULL) {
    sg_app__finish(j, SG_STATUS_INVALID, NULL, SG_JOBERR_UNKNOWN_POOL,
                   "the job's sender names a pool the gateway does not have");
    return false;
  }
  size_t n = p->nmembers < SG_POOL_SCAN ? p->nmembers : SG_POOL_SCAN;
  size_t start = a->pool_rr++ % p->nmembers;
  sg_pool_cand c[SG_POOL_SCAN];
  uint64_t now = uv_now(a->loop), h = (uint64_t)a->cfg.hol_horizon_ms;
  sg_job probe = *job;
  for (size_t k = 0; k < n; k++) {
    const sg_pool_member *m = &p->members[(start + k) % p->nmembers];
    sg_acct_rt *rt = member_rt(a, p, m, j->rt);
    char key[SG_PROV_LANE_KEY_MAX];
    sg_lane_cfg lc;
    sg_sched_item it;
    memset(&it, 0, sizeof it);
    probe.sender = m->sender;
    rt->prov->lane(rt->pstate, &probe, false, key, &lc, &it.rcpts);
    sg_lane *l = sg_sched_lane(&a->sched, key, &lc);
    uint64_t soon = h ? sg_app__hol_admits(a, l, now, h) : UINT64_MAX;
    c[k] = (sg_pool_cand){sg_sched_wait(&a->sched, l, &it, now), l->queued + l->inflight,
                          soon > l->queued ? soon - l->queued : 0, m->weight};
  }
  const sg_pool_member *m = &p->members[(start + sg_pool_pick(c, n, 0)) % p->nmembers];
  j->rt = member_rt(a, p, m, j->rt);
  j->backend = j->rt->acct->backend;
  j->pooled = *job;
  j->pooled.sender = m->sender;
  j->job = &j->pooled;
  if (a->pool_chosen)
    sg_metric_inc(sg_metric_child2(a->pool_chosen, p->name, m->sender));
  return true;
}
