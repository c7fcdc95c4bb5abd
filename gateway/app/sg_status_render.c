/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The status document as JSON (see sg_status.h). Pure: a snapshot in, text
 * out. Every time is written twice, as "<name>_ms" (Unix milliseconds, for
 * programs) and "<name>" (RFC 3339, for people); a time of 0 ("none") is
 * written as null in both.
 */
#include "app/sg_status.h"

#include <stdlib.h>
#include <string.h>

#include "core/sg_clock.h"
#include "core/sg_json_write.h"

static const char *const job_states[SG_STATUS_JOB_NSTATES] = {
    "checking", "queued", "token_wait", "in_flight", "retry_wait", "completing"};

const char *sg_status_job_state_name(int state) {
  return state >= 0 && state < SG_STATUS_JOB_NSTATES ? job_states[state] : "unknown";
}

void sg_status_snap_free(sg_status_snap *s) {
  sg_free(s->lanes);
  sg_free(s->tokens);
  sg_free(s->pools);
  s->lanes = NULL;
  s->tokens = NULL;
  s->pools = NULL;
  s->nlanes = s->ntokens = s->npools = 0;
}

/* ,"key": (the comma unless |first|) */
static void key(sg_buf *b, const char *k, bool first) {
  if (!first)
    sg_buf_append_char(b, ',');
  sg_jw_key(b, k);
}

static void kstr(sg_buf *b, const char *k, const char *v) {
  key(b, k, false);
  sg_jw_cstr(b, v);
}

static void kint(sg_buf *b, const char *k, int64_t v) {
  key(b, k, false);
  sg_jw_int(b, v);
}

static void kbool(sg_buf *b, const char *k, bool v) {
  key(b, k, false);
  sg_jw_bool(b, v);
}

/* ,"<k>":"RFC 3339","<k>_ms":N, or nulls for 0. */
static void ktime(sg_buf *b, const char *k, int64_t ms) {
  char name[64];
  size_t n = strlen(k);
  if (n > sizeof name - 4)
    n = sizeof name - 4;
  memcpy(name, k, n);
  name[n] = '\0';
  key(b, name, false);
  if (ms == 0) {
    sg_buf_append_str(b, "null");
  } else {
    char t[32];
    sg_time_rfc3339(ms, t);
    sg_jw_cstr(b, t);
  }
  memcpy(name + n, "_ms", 4);
  key(b, name, false);
  if (ms == 0)
    sg_buf_append_str(b, "null");
  else
    sg_jw_int(b, ms);
}

static void render_process(sg_buf *b, const sg_status_snap *s) {
  key(b, "process", false);
  sg_buf_append_char(b, '{');
  key(b, "version", true);
  sg_jw_cstr(b, s->version);
  kint(b, "pid", s->pid);
  kint(b, "uptime_s", s->now > s->started_at ? (s->now - s->started_at) / 1000 : 0);
  ktime(b, "started", s->started_at);
  ktime(b, "now", s->now);
  kstr(b, "consumer", s->consumer);
  kbool(b, "stopping", s->stopping);
  sg_buf_append_char(b, '}');
}

static void render_redis(sg_buf *b, const sg_status_snap *s) {
  const sg_status_redis *r = &s->redis;
  key(b, "redis", false);
  sg_buf_append_char(b, '{');
  key(b, "connected", true);
  sg_jw_bool(b, r->connected);
  kint(b, "reconnects", (int64_t)r->reconnects);
  kstr(b, "stream", s->stream);
  kstr(b, "group", s->group);
  key(b, "lag", false);
  if (r->group_known && r->lag >= 0)
    sg_jw_int(b, r->lag);
  else
    sg_buf_append_str(b, "null");
  key(b, "pending", false);
  if (r->group_known)
    sg_jw_int(b, r->pending);
  else
    sg_buf_append_str(b, "null");
  kint(b, "delayed", (int64_t)r->delayed);
  ktime(b, "sampled", r->sampled_at);
  sg_buf_append_char(b, '}');
}

static void render_lane(sg_buf *b, const sg_status_lane *l) {
  sg_buf_append_char(b, '{');
  key(b, "key", true);
  sg_jw_cstr(b, l->key);
  kstr(b, "backend", l->backend);
  kstr(b, "account", l->account[0] ? l->account : "default");
  kstr(b, "mailbox", l->mailbox);
  kstr(b, "state", l->state);
  kint(b, "in_flight", l->inflight);
  kint(b, "cap", l->cap);
  kint(b, "queued", (int64_t)l->queued);
  ktime(b, "paused_until", l->paused_until);
  key(b, "pause_reason", false);
  if (l->pause_reason)
    sg_jw_cstr(b, l->pause_reason);
  else
    sg_buf_append_str(b, "null");
  ktime(b, "wake", l->wake_at);
  kint(b, "admitted", (int64_t)l->admitted);
  kint(b, "pauses", (int64_t)l->pauses);
  key(b, "windows", false);
  sg_buf_append_char(b, '[');
  for (size_t i = 0; i < l->nwindows; i++) {
    const sg_status_window *w = &l->windows[i];
    if (i)
      sg_buf_append_char(b, ',');
    sg_buf_append_char(b, '{');
    key(b, "name", true);
    sg_jw_cstr(b, w->name);
    kint(b, "used", (int64_t)w->used);
    kint(b, "limit", (int64_t)w->limit);
    kint(b, "window_ms", (int64_t)w->window_ms);
    ktime(b, "frees", w->frees_at);
    sg_buf_append_char(b, '}');
  }
  sg_buf_append_str(b, "]}");
}

static void render_jobs(sg_buf *b, const sg_status_jobs *j, int64_t now) {
  key(b, "jobs", false);
  sg_buf_append_char(b, '{');
  key(b, "total", true);
  sg_jw_int(b, (int64_t)j->total);
  for (int i = 0; i < SG_STATUS_JOB_NSTATES; i++) {
    key(b, job_states[i], false);
    sg_buf_append_char(b, '{');
    key(b, "count", true);
    sg_jw_int(b, (int64_t)j->count[i]);
    key(b, "oldest_age_ms", false);
    if (j->count[i] && j->oldest[i])
      sg_jw_int(b, now > j->oldest[i] ? now - j->oldest[i] : 0);
    else
      sg_buf_append_str(b, "null");
    sg_buf_append_char(b, '}');
  }
  sg_buf_append_char(b, '}');
}

static void render_tokens(sg_buf *b, const sg_status_snap *s) {
  key(b, "tokens", false);
  sg_buf_append_char(b, '[');
  for (size_t i = 0; i < s->ntokens; i++) {
    const sg_status_token *t = &s->tokens[i];
    if (i)
      sg_buf_append_char(b, ',');
    sg_buf_append_char(b, '{');
    key(b, "account", true);
    sg_jw_cstr(b, t->account[0] ? t->account : "default");
    kstr(b, "backend", t->backend);
    kstr(b, "state", t->state);
    ktime(b, "valid_until", t->valid_until);
    kbool(b, "failing", t->failing);
    key(b, "last_error", false);
    if (t->last_error[0])
      sg_jw_cstr(b, t->last_error);
    else
      sg_buf_append_str(b, "null");
    sg_buf_append_char(b, '}');
  }
  sg_buf_append_char(b, ']');
}

static void render_pools(sg_buf *b, const sg_status_snap *s) {
  key(b, "connections", false);
  sg_buf_append_char(b, '[');
  for (size_t i = 0; i < s->npools; i++) {
    const sg_status_pool *p = &s->pools[i];
    if (i)
      sg_buf_append_char(b, ',');
    sg_buf_append_char(b, '{');
    key(b, "origin", true);
    sg_jw_cstr(b, p->origin);
    kstr(b, "kind", p->label);
    kint(b, "open", p->conns_open);
    kint(b, "connecting", p->conns_connecting);
    kint(b, "streams", (int64_t)p->streams);
    kint(b, "queued", (int64_t)p->queued);
    sg_buf_append_char(b, '}');
  }
  sg_buf_append_char(b, ']');
}

static void render_totals(sg_buf *b, const sg_status_totals *t) {
  key(b, "totals", false);
  sg_buf_append_char(b, '{');
  key(b, "fetched", true);
  sg_jw_int(b, (int64_t)t->fetched);
  kint(b, "sent", (int64_t)t->sent);
  kint(b, "failed", (int64_t)t->failed);
  kint(b, "invalid", (int64_t)t->invalid);
  kint(b, "expired", (int64_t)t->expired);
  kint(b, "retries", (int64_t)t->retries);
  kint(b, "dead_letters", (int64_t)t->dead_letters);
  sg_buf_append_char(b, '}');
}

void sg_status_render(sg_buf *out, const sg_status_snap *s) {
  sg_buf_append_char(out, '{');
  key(out, "kind", true);
  sg_jw_cstr(out, "sendgate.status");
  render_process(out, s);
  render_redis(out, s);
  key(out, "lanes", false);
  sg_buf_append_char(out, '{');
  key(out, "total", true);
  sg_jw_int(out, (int64_t)s->lanes_total);
  kint(out, "waiting", (int64_t)s->lanes_waiting);
  kint(out, "listed", (int64_t)s->nlanes);
  kint(out, "not_listed", (int64_t)(s->lanes_total > s->nlanes ? s->lanes_total - s->nlanes : 0));
  key(out, "list", false);
  sg_buf_append_char(out, '[');
  for (size_t i = 0; i < s->nlanes; i++) {
    if (i)
      sg_buf_append_char(out, ',');
    render_lane(out, &s->lanes[i]);
  }
  sg_buf_append_str(out, "]}");
  render_jobs(out, &s->jobs, s->now);
  render_tokens(out, s);
  render_pools(out, s);
  render_totals(out, &s->totals);
  sg_buf_append_str(out, "}\n");
}

void sg_status_render_job(sg_buf *out, const char *consumer, const char *id, const sg_status_job *j,
                          int64_t now) {
  sg_buf_append_char(out, '{');
  key(out, "found", true);
  sg_jw_bool(out, j != NULL);
  kstr(out, "gateway", consumer);
  if (j == NULL) {
    kstr(out, "id", id);
    sg_buf_append_str(out, "}\n");
    return;
  }
  key(out, "job", false);
  sg_buf_append_char(out, '{');
  key(out, "id", true);
  sg_jw_cstr(out, j->id);
  kstr(out, "entry_id", j->entry_id);
  kstr(out, "account", j->account[0] ? j->account : "default");
  kstr(out, "sender", j->sender);
  kstr(out, "lane", j->lane);
  kstr(out, "state", j->state);
  kstr(out, "why", j->why);
  kint(out, "attempts", j->attempts);
  kint(out, "failures", j->failures);
  ktime(out, "next_try", j->next_try_at);
  ktime(out, "deadline", j->deadline);
  ktime(out, "entry", j->entry_at);
  kint(out, "age_ms", j->entry_at && now > j->entry_at ? now - j->entry_at : 0);
  key(out, "last_error", false);
  if (j->last_error[0])
    sg_jw_cstr(out, j->last_error);
  else
    sg_buf_append_str(out, "null");
  sg_buf_append_str(out, "}}\n");
}

static int cmp_lane(const void *pa, const void *pb) {
  const sg_status_lane *a = pa, *b = pb;
  uint64_t la = a->queued + a->inflight, lb = b->queued + b->inflight;
  if (la != lb)
    return la > lb ? -1 : 1;
  bool pa_ = a->paused_until != 0, pb_ = b->paused_until != 0;
  if (pa_ != pb_)
    return pa_ ? -1 : 1;
  return strcmp(a->key, b->key);
}

void sg_status_sort_lanes(sg_status_lane *lanes, size_t n) {
  if (n > 1)
    qsort(lanes, n, sizeof *lanes, cmp_lane);
}
