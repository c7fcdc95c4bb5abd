/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Snapshots of the running gateway for /status (see sg_status_app.h). Reads
 * the runtime's structures on the loop thread and copies what the document
 * shows; it changes nothing but the lanes' window rings, which advance to
 * "now" exactly as the scheduler's own next look would advance them. The
 * cost is one walk over the lanes (pointers only) and one over the jobs held,
 * per request: an operator's tool, not a hot path.
 */
#include "app/sg_status_app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_clock.h"
#include "core/sg_err.h"
#include "core/sg_fmt.h"
#include "core/sg_json_write.h"
#include "redis/sg_rd_ids.h"

/* The one reason a lane is paused today: the provider's Retry-After. */
static const char k_pause_reason[] = "throttled by the provider (Retry-After)";

typedef struct clocks {
  uint64_t mono; /* the loop's now (the scheduler's clock) */
  int64_t wall;
} clocks;

static int64_t to_wall(const clocks *c, uint64_t mono) {
  if (mono == 0 || mono == UINT64_MAX)
    return 0;
  return c->wall + (int64_t)mono - (int64_t)c->mono;
}

static int job_state(sg_job_state st) {
  switch (st) {
  case SG_JOB_NEW:
  case SG_JOB_CHECKING:
    return SG_STATUS_JOB_CHECKING;
  case SG_JOB_QUEUED:
    return SG_STATUS_JOB_QUEUED;
  case SG_JOB_TOKEN_WAIT:
    return SG_STATUS_JOB_TOKEN_WAIT;
  case SG_JOB_IN_FLIGHT:
  case SG_JOB_STORE_WAIT:
    return SG_STATUS_JOB_IN_FLIGHT;
  case SG_JOB_RETRY_WAIT:
    return SG_STATUS_JOB_RETRY_WAIT;
  case SG_JOB_COMPLETING:
    return SG_STATUS_JOB_COMPLETING;
  }
  return SG_STATUS_JOB_CHECKING;
}

/* The wall time of a stream entry id ("<ms>-<seq>"); 0 when it is not one. */
static int64_t entry_time(const char *entry_id) {
  sg_rd_id id;
  if (sg_rd_id_parse(entry_id, strlen(entry_id), &id) != 0)
    return 0;
  return (int64_t)id.ms;
}

/* ---- lanes ---- */

static void add_window(sg_status_lane *out, const char *name, sg_window *w, const clocks *c) {
  if (w->limit == 0 || out->nwindows == SG_STATUS_WINDOWS_MAX)
    return;
  sg_status_window *sw = &out->windows[out->nwindows++];
  sw->name = name;
  sw->used = sg_window_used(w, c->mono);
  sw->limit = w->limit;
  sw->window_ms = w->window_ms;
  uint64_t wait = sg_window_wait(w, c->mono, 1);
  sw->frees_at = wait == 0 || wait == UINT64_MAX ? 0 : to_wall(c, c->mono + wait);
}

/* Splits "kind|account|mailbox" into the snapshot's fields. */
static void split_key(sg_status_lane *out) {
  const char *k = out->key, *bar = strchr(k, '|');
  size_t n = bar ? (size_t)(bar - k) : strlen(k);
  snprintf(out->backend, sizeof out->backend, "%.*s", (int)n, k);
  if (bar == NULL)
    return;
  const char *acct = bar + 1, *bar2 = strchr(acct, '|');
  n = bar2 ? (size_t)(bar2 - acct) : strlen(acct);
  snprintf(out->account, sizeof out->account, "%.*s", (int)n, acct);
  if (bar2)
    sg_fmt_copy(out->mailbox, sizeof out->mailbox, bar2 + 1);
}

static void fill_lane(sg_lane *l, const clocks *c, sg_status_lane *out) {
  memset(out, 0, sizeof *out);
  sg_fmt_copy(out->key, sizeof out->key, l->key);
  split_key(out);
  out->inflight = l->inflight;
  out->cap = l->cfg.max_inflight;
  out->queued = l->queued;
  out->admitted = l->admitted;
  out->pauses = l->pauses;
  bool paused = l->paused_until > c->mono;
  if (paused) {
    out->paused_until = to_wall(c, l->paused_until);
    out->pause_reason = k_pause_reason;
  }
  switch (l->state) {
  case SG_LANE_READY:
    out->state = "ready";
    break;
  case SG_LANE_WAIT_SLOT:
    out->state = "at_cap";
    break;
  case SG_LANE_WAIT_TIME:
    out->state = paused ? "paused" : "out_of_budget";
    out->wake_at = to_wall(c, l->wake_at);
    break;
  default:
    out->state = paused ? "paused" : "idle";
  }
  add_window(out, "requests", &l->req, c);
  add_window(out, "requests_2", &l->req2, c);
  add_window(out, "messages", &l->msg, c);
  add_window(out, "recipients", &l->rcpt, c);
  add_window(out, "kib", &l->bytes, c);
}

static uint64_t lane_load(const sg_lane *l) {
  return (uint64_t)l->queued + l->inflight;
}

/* < 0 when |pa| is listed before |pb|: busier, then paused later, then by key. */
static int cmp_lane(const void *pa, const void *pb) {
  const sg_lane *a = pa, *b = pb;
  uint64_t la = lane_load(a), lb = lane_load(b);
  if (la != lb)
    return la > lb ? -1 : 1;
  if (a->paused_until != b->paused_until)
    return a->paused_until > b->paused_until ? -1 : 1;
  return strcmp(a->key, b->key);
}

static void snap_lanes(sg_app *a, size_t max_lanes, const clocks *c, sg_status_snap *out) {
  sg_sched *s = &a->sched;
  out->lanes_total = s->nlanes;
  out->lanes_waiting = s->waiting;
  if (max_lanes > s->nlanes)
    max_lanes = s->nlanes;
  if (max_lanes == 0)
    return;
  /* One pass over the lanes keeps the busiest; nothing the size of all lanes is sorted. */
  const void **top = sg_xcalloc(max_lanes, sizeof *top);
  size_t n = 0;
  for (size_t b = 0; b < s->nbuckets; b++)
    for (sg_lane *l = s->buckets[b]; l; l = l->hnext)
      n = sg_status_top_add(top, n, max_lanes, l, cmp_lane);
  out->nlanes = n;
  out->lanes = sg_xcalloc(n, sizeof *out->lanes);
  for (size_t i = 0; i < n; i++)
    fill_lane((sg_lane *)(uintptr_t)top[i], c, &out->lanes[i]);
  sg_free(top);
}

/* ---- tokens, pools, counters ---- */

static void fill_token(const sg_acct_rt *rt, const clocks *c, sg_status_token *t) {
  sg_fmt_copy(t->account, sizeof t->account, rt->acct->name);
  t->backend = rt->prov->name;
  t->failing = rt->token_failing;
  if (rt->token == NULL) {
    t->state = "not_needed";
    return;
  }
  static const char *const names[] = {"none", "fetching", "valid"};
  sg_token_state st = sg_token_entry_state(rt->token);
  t->state = (unsigned)st < 3 ? names[st] : "none";
  t->valid_until = to_wall(c, sg_token_entry_usable_until(rt->token));
  const sg_outcome *e = sg_token_entry_last_error(rt->token);
  if (e) {
    size_t n = sg_fmt_copy(t->last_error, sizeof t->last_error, e->code[0] ? e->code : "error");
    if (e->message[0] && n + 2 < sizeof t->last_error) {
      memcpy(t->last_error + n, ": ", 3);
      sg_fmt_copy(t->last_error + n + 2, sizeof t->last_error - n - 2, e->message);
    }
  }
}

static void snap_counts(sg_app *a, sg_status_snap *out) {
  sg_status_totals *t = &out->totals;
  t->fetched = (uint64_t)sg_metric_value(a->mc.fetched);
  size_t nb = sizeof a->mc.results / sizeof a->mc.results[0];
  for (size_t b = 1; b < nb; b++) {
    t->sent += (uint64_t)sg_metric_value(a->mc.results[b][SG_STATUS_SENT]);
    t->failed += (uint64_t)sg_metric_value(a->mc.results[b][SG_STATUS_FAILED]);
    t->invalid += (uint64_t)sg_metric_value(a->mc.results[b][SG_STATUS_INVALID]);
    t->expired += (uint64_t)sg_metric_value(a->mc.results[b][SG_STATUS_EXPIRED]);
  }
  for (int w = SG_WHY_THROTTLED; w <= SG_WHY_TOKEN; w++)
    t->retries += (uint64_t)sg_metric_value(a->mc.retries[w]);
  t->dead_letters = (uint64_t)sg_metric_value(a->mc.dead_letters);
}

void sg_app__status_snap(sg_app *a, size_t max_lanes, sg_status_snap *out) {
  memset(out, 0, sizeof *out);
  clocks c = {uv_now(a->loop), sg_wall_ms()};
  out->version = SG_VERSION;
  out->pid = (int64_t)uv_os_getpid();
  out->now = c.wall;
  out->started_at = a->started_at;
  out->consumer = a->cfg.consumer;
  out->group = a->cfg.group;
  out->stream = a->cfg.jobs_stream;
  out->stopping = a->stopping;
  out->redis = a->status_redis;
  out->redis.connected = a->stream && sg_rd_stream_is_up(a->stream);
  if (a->stream) {
    sg_rd_stream_stats st;
    sg_rd_stream_get_stats(a->stream, &st);
    out->redis.reconnects = st.reconnects;
  }
  if (a->delayed) {
    sg_rd_delayed_stats ds;
    sg_rd_delayed_get_stats(a->delayed, &ds);
    out->redis.delayed = ds.size;
  }
  if (a->delayed_bulk) /* bulk jobs wait in a set of their own */
    out->redis.delayed += sg_rd_delayed_size(a->delayed_bulk);
  snap_lanes(a, max_lanes, &c, out);
  sg_list *n;
  sg_list_foreach(n, &a->jobs) {
    const sg_jobrun *j = sg_container_of(n, sg_jobrun, link);
    int st = job_state(j->state);
    int64_t t = entry_time(j->entry_id);
    out->jobs.count[st]++;
    out->jobs.total++;
    if (t && (out->jobs.oldest[st] == 0 || t < out->jobs.oldest[st]))
      out->jobs.oldest[st] = t;
  }
  out->tokens = sg_xcalloc(a->cfg.naccounts ? a->cfg.naccounts : 1, sizeof *out->tokens);
  for (size_t i = 0; i < a->cfg.naccounts; i++)
    fill_token(&a->rts[i], &c, &out->tokens[out->ntokens++]);
  out->pools = sg_xcalloc(a->norigins + 1, sizeof *out->pools);
  for (size_t i = 0; i < a->norigins; i++) {
    const sg_origin *o = a->origins[i];
    sg_status_pool *p = &out->pools[out->npools++];
    sg_h2_pool_stats ps;
    sg_h2_pool_get_stats(o->pool, &ps);
    sg_fmt_copy(p->origin, sizeof p->origin, o->authority);
    p->label = o->label;
    p->conns_open = ps.conns_open;
    p->conns_connecting = ps.conns_connecting;
    p->streams = ps.streams_in_flight;
    p->queued = ps.queued;
  }
  if (a->smtp) { /* SMTP sessions, all hosts together; a message in progress is a stream */
    sg_status_pool *p = &out->pools[out->npools++];
    sg_fmt_copy(p->origin, sizeof p->origin, "smtp");
    p->label = "smtp";
    p->conns_open = (unsigned)sg_app__smtp_sessions(a);
    sg_list_foreach(n, &a->jobs) {
      if (sg_container_of(n, sg_jobrun, link)->smtp)
        p->streams++;
    }
  }
  snap_counts(a, out);
}

/* ---- one job ---- */

static void why_queued(sg_app *a, sg_jobrun *j, const clocks *c, sg_status_job *out) {
  sg_lane *l = j->lane;
  if (l == NULL) {
    snprintf(out->why, sizeof out->why, "waiting for its lane");
    return;
  }
  uint64_t wait = sg_sched_wait(&a->sched, l, &j->item, c->mono);
  if (wait != 0 && wait != UINT64_MAX)
    out->next_try_at = to_wall(c, c->mono + wait);
  char t[32] = "";
  if (out->next_try_at)
    sg_time_rfc3339(out->next_try_at, t);
  if (l->paused_until > c->mono)
    snprintf(out->why, sizeof out->why, "lane paused until %s: %s", t, k_pause_reason);
  else if (wait == UINT64_MAX)
    snprintf(out->why, sizeof out->why, "larger than one of the lane's windows allows");
  else if (wait != 0)
    snprintf(out->why, sizeof out->why, "lane out of window budget until %s", t);
  else if (l->state == SG_LANE_WAIT_SLOT)
    snprintf(out->why, sizeof out->why, "lane at its in-flight cap (%u of %u)", l->inflight,
             l->cfg.max_inflight);
  else if (a->sched.max_inflight && a->sched.inflight >= a->sched.max_inflight)
    snprintf(out->why, sizeof out->why, "the gateway has gateway.max_requests (%zu) requests out",
             a->sched.max_inflight);
  else
    snprintf(out->why, sizeof out->why, "waiting its turn on the lane (%zu queued)", l->queued);
}

static void why(sg_app *a, sg_jobrun *j, const clocks *c, sg_status_job *out) {
  switch (j->state) {
  case SG_JOB_NEW:
  case SG_JOB_CHECKING:
    snprintf(out->why, sizeof out->why, "being checked against the sent ledger");
    break;
  case SG_JOB_QUEUED:
    why_queued(a, j, c, out);
    break;
  case SG_JOB_TOKEN_WAIT:
    snprintf(out->why, sizeof out->why, "waiting for an access token of account %s%s",
             j->rt && j->rt->acct->name[0] ? j->rt->acct->name : "default",
             j->rt && j->rt->token_failing ? " (token requests are failing)" : "");
    break;
  case SG_JOB_IN_FLIGHT:
    snprintf(out->why, sizeof out->why, "request sent %llu ms ago, waiting for the answer",
             (unsigned long long)(c->mono > j->sent_at ? c->mono - j->sent_at : 0));
    break;
  case SG_JOB_STORE_WAIT:
    snprintf(out->why, sizeof out->why, "reading or writing its record in Redis");
    break;
  case SG_JOB_RETRY_WAIT: {
    out->next_try_at = to_wall(c, c->mono + uv_timer_get_due_in(&j->timer));
    char t[32];
    sg_time_rfc3339(out->next_try_at, t);
    snprintf(out->why, sizeof out->why, "backing off after a failed attempt; next try at %s", t);
    break;
  }
  case SG_JOB_COMPLETING:
    snprintf(out->why, sizeof out->why, "result and ack sent to Redis, waiting for the reply");
    break;
  }
}

bool sg_app__status_job(sg_app *a, const char *id, sg_status_job *out) {
  clocks c = {uv_now(a->loop), sg_wall_ms()};
  sg_list *n;
  sg_list_foreach(n, &a->jobs) {
    sg_jobrun *j = sg_container_of(n, sg_jobrun, link);
    if (j->job == NULL || strcmp(j->job->id, id) != 0)
      continue;
    memset(out, 0, sizeof *out);
    sg_fmt_copy(out->id, sizeof out->id, j->job->id);
    sg_fmt_copy(out->entry_id, sizeof out->entry_id, j->entry_id);
    sg_fmt_copy(out->account, sizeof out->account, j->job->account);
    sg_fmt_copy(out->sender, sizeof out->sender, j->job->sender);
    if (j->lane)
      sg_fmt_copy(out->lane, sizeof out->lane, j->lane->key);
    out->state = sg_status_job_state_name(job_state(j->state));
    out->attempts = j->at.attempts;
    out->failures = j->at.failures;
    out->deadline = j->deadline_ms;
    out->entry_at = entry_time(j->entry_id);
    if (j->last)
      snprintf(out->last_error, sizeof out->last_error, "%s (HTTP %d)",
               j->last->code[0] ? j->last->code : "error", j->last->http_status);
    why(a, j, &c, out);
    return true;
  }
  return false;
}

/* ---- the endpoint ---- */

/* The value of query parameter |name| in |q| (after '?') into |out|. */
static bool query_param(const char *q, const char *name, char *out, size_t cap) {
  size_t nl = strlen(name);
  while (q && *q) {
    const char *amp = strchr(q, '&');
    size_t len = amp ? (size_t)(amp - q) : strlen(q);
    if (len > nl && strncmp(q, name, nl) == 0 && q[nl] == '=') {
      size_t vl = len - nl - 1;
      if (vl >= cap)
        return false;
      memcpy(out, q + nl + 1, vl);
      out[vl] = '\0';
      return true;
    }
    q = amp ? amp + 1 : NULL;
  }
  return false;
}

/* Decodes %XX in place (job ids are printable ASCII; '+' stays '+'). */
static bool pct_decode(char *s) {
  char *w = s;
  for (char *r = s; *r; r++) {
    if (*r == '%') {
      char hex[3] = {r[1], r[1] ? r[2] : '\0', '\0'};
      char *end;
      long v = strtol(hex, &end, 16);
      if (hex[0] == '\0' || hex[1] == '\0' || *end != '\0' || v < 0x20 || v > 0x7e)
        return false;
      *w++ = (char)v;
      r += 2;
    } else {
      *w++ = *r;
    }
  }
  *w = '\0';
  return true;
}

static int error_doc(sg_buf *out, int status, const char *msg) {
  sg_buf_append_str(out, "{\"error\":");
  sg_jw_cstr(out, msg);
  sg_buf_append_str(out, "}\n");
  return status;
}

static int serve_job(sg_app *a, const char *id, sg_buf *out) {
  char buf[160];
  if (strlen(id) >= sizeof buf)
    return error_doc(out, 400, "job id too long");
  memcpy(buf, id, strlen(id) + 1);
  if (buf[0] == '\0' || !pct_decode(buf))
    return error_doc(out, 400, "bad job id");
  sg_status_job j;
  bool found = sg_app__status_job(a, buf, &j);
  sg_status_render_job(out, a->cfg.consumer, buf, found ? &j : NULL, sg_wall_ms());
  return 200;
}

int sg_app__status_http(void *app, const char *path, sg_buf *out) {
  sg_app *a = app;
  const char *qm = strchr(path, '?');
  size_t plen = qm ? (size_t)(qm - path) : strlen(path);
  const char *q = qm ? qm + 1 : NULL;
  char val[160];
  if (plen > 12 && strncmp(path, "/status/job/", 12) == 0) {
    char id[160];
    if (plen - 12 >= sizeof id)
      return error_doc(out, 400, "job id too long");
    memcpy(id, path + 12, plen - 12);
    id[plen - 12] = '\0';
    return serve_job(a, id, out);
  }
  if (plen != 7 || strncmp(path, "/status", 7) != 0)
    return error_doc(out, 404, "not found");
  if (query_param(q, "job", val, sizeof val))
    return serve_job(a, val, out);
  size_t max_lanes = SG_STATUS_LANES_DEFAULT;
  if (query_param(q, "lanes", val, sizeof val)) {
    char *end;
    unsigned long v = strtoul(val, &end, 10);
    if (val[0] < '0' || val[0] > '9' || *end != '\0' || v > SG_STATUS_LANES_MAX)
      return error_doc(out, 400, "lanes: a number from 0 to 1000");
    max_lanes = (size_t)v;
  }
  sg_status_snap s;
  sg_app__status_snap(a, max_lanes, &s);
  sg_status_render(out, &s);
  sg_status_snap_free(&s);
  return 200;
}
