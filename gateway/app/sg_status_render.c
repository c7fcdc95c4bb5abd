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

/* "key":{ or "key":[ */
static void open_member(sg_buf *b, const char *key, char bracket) {
  sg_jw_member(b, key);
  sg_buf_append_char(b, bracket);
}

/* "key":N, or null when |known| is false. */
static void kint_or_null(sg_buf *b, const char *key, bool known, int64_t v) {
  if (known)
    sg_jw_mint(b, key, v);
  else
    sg_jw_mnull(b, key);
}

static void render_process(sg_buf *b, const sg_status_snap *s) {
  open_member(b, "process", '{');
  sg_jw_mstr(b, "version", s->version);
  sg_jw_mint(b, "pid", s->pid);
  sg_jw_mint(b, "uptime_s", s->now > s->started_at ? (s->now - s->started_at) / 1000 : 0);
  sg_jw_mtime(b, "started", s->started_at);
  sg_jw_mtime(b, "now", s->now);
  sg_jw_mstr(b, "consumer", s->consumer);
  sg_jw_mbool(b, "stopping", s->stopping);
  sg_buf_append_char(b, '}');
}

static void render_redis(sg_buf *b, const sg_status_snap *s) {
  const sg_status_redis *r = &s->redis;
  open_member(b, "redis", '{');
  sg_jw_mbool(b, "connected", r->connected);
  sg_jw_mint(b, "reconnects", (int64_t)r->reconnects);
  sg_jw_mstr(b, "stream", s->stream);
  sg_jw_mstr(b, "group", s->group);
  kint_or_null(b, "lag", r->group_known && r->lag >= 0, r->lag);
  kint_or_null(b, "pending", r->group_known, r->pending);
  sg_jw_mint(b, "delayed", (int64_t)r->delayed);
  sg_jw_mtime(b, "sampled", r->sampled_at);
  sg_buf_append_char(b, '}');
}

static void render_lane(sg_buf *b, const sg_status_lane *l) {
  sg_buf_append_char(b, '{');
  sg_jw_mstr(b, "key", l->key);
  sg_jw_mstr(b, "backend", l->backend);
  sg_jw_mstr(b, "account", l->account[0] ? l->account : "default");
  sg_jw_mstr(b, "mailbox", l->mailbox);
  sg_jw_mstr(b, "state", l->state);
  sg_jw_mint(b, "in_flight", l->inflight);
  sg_jw_mint(b, "cap", l->cap);
  sg_jw_mint(b, "queued", (int64_t)l->queued);
  sg_jw_mtime(b, "paused_until", l->paused_until);
  sg_jw_mstr(b, "pause_reason", l->pause_reason);
  sg_jw_mtime(b, "wake", l->wake_at);
  sg_jw_mint(b, "admitted", (int64_t)l->admitted);
  sg_jw_mint(b, "pauses", (int64_t)l->pauses);
  open_member(b, "windows", '[');
  for (size_t i = 0; i < l->nwindows; i++) {
    const sg_status_window *w = &l->windows[i];
    if (i)
      sg_buf_append_char(b, ',');
    sg_buf_append_char(b, '{');
    sg_jw_mstr(b, "name", w->name);
    sg_jw_mint(b, "used", (int64_t)w->used);
    sg_jw_mint(b, "limit", (int64_t)w->limit);
    sg_jw_mint(b, "window_ms", (int64_t)w->window_ms);
    sg_jw_mtime(b, "frees", w->frees_at);
    sg_buf_append_char(b, '}');
  }
  sg_buf_append_str(b, "]}");
}

static void render_jobs(sg_buf *b, const sg_status_jobs *j, int64_t now) {
  open_member(b, "jobs", '{');
  sg_jw_mint(b, "total", (int64_t)j->total);
  for (int i = 0; i < SG_STATUS_JOB_NSTATES; i++) {
    open_member(b, job_states[i], '{');
    sg_jw_mint(b, "count", (int64_t)j->count[i]);
    kint_or_null(b, "oldest_age_ms", j->count[i] && j->oldest[i],
                 now > j->oldest[i] ? now - j->oldest[i] : 0);
    sg_buf_append_char(b, '}');
  }
  sg_buf_append_char(b, '}');
}

static void render_tokens(sg_buf *b, const sg_status_snap *s) {
  open_member(b, "tokens", '[');
  for (size_t i = 0; i < s->ntokens; i++) {
    const sg_status_token *t = &s->tokens[i];
    if (i)
      sg_buf_append_char(b, ',');
    sg_buf_append_char(b, '{');
    sg_jw_mstr(b, "account", t->account[0] ? t->account : "default");
    sg_jw_mstr(b, "backend", t->backend);
    sg_jw_mstr(b, "state", t->state);
    sg_jw_mtime(b, "valid_until", t->valid_until);
    sg_jw_mbool(b, "failing", t->failing);
    sg_jw_mstr(b, "last_error", t->last_error[0] ? t->last_error : NULL);
    sg_buf_append_char(b, '}');
  }
  sg_buf_append_char(b, ']');
}

static void render_pools(sg_buf *b, const sg_status_snap *s) {
  open_member(b, "connections", '[');
  for (size_t i = 0; i < s->npools; i++) {
    const sg_status_pool *p = &s->pools[i];
    if (i)
      sg_buf_append_char(b, ',');
    sg_buf_append_char(b, '{');
    sg_jw_mstr(b, "origin", p->origin);
    sg_jw_mstr(b, "kind", p->label);
    sg_jw_mint(b, "open", p->conns_open);
    sg_jw_mint(b, "connecting", p->conns_connecting);
    sg_jw_mint(b, "streams", (int64_t)p->streams);
    sg_jw_mint(b, "queued", (int64_t)p->queued);
    sg_buf_append_char(b, '}');
  }
  sg_buf_append_char(b, ']');
}

static void render_totals(sg_buf *b, const sg_status_totals *t) {
  open_member(b, "totals", '{');
  sg_jw_mint(b, "fetched", (int64_t)t->fetched);
  sg_jw_mint(b, "sent", (int64_t)t->sent);
  sg_jw_mint(b, "failed", (int64_t)t->failed);
  sg_jw_mint(b, "invalid", (int64_t)t->invalid);
  sg_jw_mint(b, "expired", (int64_t)t->expired);
  sg_jw_mint(b, "retries", (int64_t)t->retries);
  sg_jw_mint(b, "dead_letters", (int64_t)t->dead_letters);
  sg_buf_append_char(b, '}');
}

void sg_status_render(sg_buf *out, const sg_status_snap *s) {
  sg_buf_append_char(out, '{');
  sg_jw_mstr(out, "kind", "sendgate.status");
  render_process(out, s);
  render_redis(out, s);
  open_member(out, "lanes", '{');
  sg_jw_mint(out, "total", (int64_t)s->lanes_total);
  sg_jw_mint(out, "waiting", (int64_t)s->lanes_waiting);
  sg_jw_mint(out, "listed", (int64_t)s->nlanes);
  sg_jw_mint(out, "not_listed",
             (int64_t)(s->lanes_total > s->nlanes ? s->lanes_total - s->nlanes : 0));
  open_member(out, "list", '[');
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
  sg_jw_mbool(out, "found", j != NULL);
  sg_jw_mstr(out, "gateway", consumer);
  if (j == NULL) {
    sg_jw_mstr(out, "id", id);
    sg_buf_append_str(out, "}\n");
    return;
  }
  open_member(out, "job", '{');
  sg_jw_mstr(out, "id", j->id);
  sg_jw_mstr(out, "entry_id", j->entry_id);
  sg_jw_mstr(out, "account", j->account[0] ? j->account : "default");
  sg_jw_mstr(out, "sender", j->sender);
  sg_jw_mstr(out, "lane", j->lane);
  sg_jw_mstr(out, "state", j->state);
  sg_jw_mstr(out, "why", j->why);
  sg_jw_mint(out, "attempts", j->attempts);
  sg_jw_mint(out, "failures", j->failures);
  sg_jw_mtime(out, "next_try", j->next_try_at);
  sg_jw_mtime(out, "deadline", j->deadline);
  sg_jw_mtime(out, "entry", j->entry_at);
  sg_jw_mint(out, "age_ms", j->entry_at && now > j->entry_at ? now - j->entry_at : 0);
  sg_jw_mstr(out, "last_error", j->last_error[0] ? j->last_error : NULL);
  sg_buf_append_str(out, "}}\n");
}

size_t sg_status_top_add(const void **top, size_t n, size_t max, const void *item,
                         int (*cmp)(const void *a, const void *b)) {
  if (n == max && cmp(item, top[n - 1]) >= 0)
    return n;
  size_t i = n < max ? n++ : n - 1; /* a free slot at the end, or the last one dropped */
  while (i > 0 && cmp(item, top[i - 1]) < 0) {
    top[i] = top[i - 1];
    i--;
  }
  top[i] = item;
  return n;
}
