/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The delayed set: member format, the park op, and the mover that brings due
 * jobs back to the job stream with one Lua script per batch. See
 * sg_rd_delayed.h for the layout and the protocol.
 */
#include "redis/sg_rd_delayed.h"

#include "core/sg_clock.h"
#include "core/sg_err.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "redis/sg_rd_tick.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* KEYS[1] delayed set, KEYS[2] jobs stream; ARGV[1] now (Unix ms), ARGV[2] batch.
 * Returns {moved, earliest remaining score or nil, ZCARD}. */
static const char move_script[] =
    "local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])\n"
    "for _, m in ipairs(due) do\n"
    "  local id, att, job = string.match(m, '^(%d+%-%d+)|(%d+)|(.*)$')\n"
    "  if id then\n"
    "    redis.call('XADD', KEYS[2], '*', 'job', job, 'delayed_from', id, 'attempts', att)\n"
    "  else\n"
    "    redis.call('XADD', KEYS[2], '*', 'job', m)\n"
    "  end\n"
    "  redis.call('ZREM', KEYS[1], m)\n"
    "end\n"
    "local nxt = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')\n"
    "return {#due, nxt[2] or false, redis.call('ZCARD', KEYS[1])}\n";

/* ---- members ---- */

void sg_rd_delayed_member(sg_buf *out, const char *entry_id, uint32_t attempts, const void *job,
                          size_t job_len) {
  char head[SG_RD_ID_MAX + 16];
  int n = snprintf(head, sizeof head, "%s|%u|", entry_id, attempts);
  sg_buf_append(out, head, (size_t)n);
  sg_buf_append(out, job, job_len);
}

static bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

int sg_rd_delayed_member_parse(const char *m, size_t len, sg_rd_delayed_member_view *out) {
  /* <digits>-<digits>|<digits>|<job> */
  size_t i = 0;
  while (i < len && is_digit(m[i]))
    i++;
  if (i == 0 || i >= len || m[i] != '-')
    return SG_ERR_PARSE;
  size_t seq = ++i;
  while (i < len && is_digit(m[i]))
    i++;
  if (i == seq || i >= len || m[i] != '|' || i >= SG_RD_ID_MAX)
    return SG_ERR_PARSE;
  out->entry_id = m;
  out->entry_id_len = i;
  size_t a = ++i;
  uint64_t att = 0;
  while (i < len && is_digit(m[i])) {
    att = att * 10u + (uint64_t)(m[i] - '0');
    if (att > UINT32_MAX)
      return SG_ERR_PARSE;
    i++;
  }
  if (i == a || i >= len || m[i] != '|')
    return SG_ERR_PARSE;
  out->attempts = (uint32_t)att;
  out->job = m + i + 1;
  out->job_len = len - i - 1;
  return 0;
}

/* ---- parking ---- */

void sg_rd_park_init(sg_rd_park *p, const char *key, int64_t due_unix_ms, const char *entry_id,
                     uint32_t attempts, const void *job, size_t job_len) {
  memset(p, 0, sizeof *p);
  if (key == NULL)
    key = SG_RD_DELAYED_KEY;
  int dl = snprintf(p->due_, sizeof p->due_, "%lld", (long long)due_unix_ms);
  sg_rd_delayed_member(&p->member_, entry_id, attempts, job, job_len);
  p->argv_[0] = "ZADD", p->lens_[0] = 4;
  p->argv_[1] = key, p->lens_[1] = strlen(key);
  p->argv_[2] = p->due_, p->lens_[2] = (size_t)dl;
  p->argv_[3] = p->member_.data, p->lens_[3] = p->member_.len;
  p->op = (sg_rd_op){4, p->argv_, p->lens_};
}

void sg_rd_park_free(sg_rd_park *p) {
  sg_buf_free(&p->member_);
}

int sg_rd_delayed_park(sg_rd_stream *s, const char *key, const char *entry_id, int64_t due_unix_ms,
                       uint32_t attempts, const void *job, size_t job_len,
                       sg_rd_stream_done_cb done, void *ud) {
  if (entry_id == NULL)
    return SG_ERR_INVAL;
  sg_rd_park p;
  sg_rd_park_init(&p, key, due_unix_ms, entry_id, attempts, job, job_len);
  int rv = sg_rd_stream_complete(s, entry_id, &p.op, 1, done, ud);
  sg_rd_park_free(&p);
  return rv;
}

/* ---- the mover ---- */

struct sg_rd_delayed {
  uv_loop_t *loop;
  sg_rd_delayed_opts o;
  char *key, *stream;
  char sha[41];
  sg_rd_tick tick;    /* the timer, the run in flight, the close */
  uint64_t timer_due; /* loop time the timer fires at (while it is armed) */
  sg_rd_delayed_stats stats;
};

static bool run(sg_rd_delayed *d, bool with_eval);

static int64_t now_ms(const sg_rd_delayed *d) {
  return d->o.now_ms ? d->o.now_ms(d->o.now_ud) : sg_wall_ms();
}

/* Arms the timer for |ms| from now unless it is armed to fire sooner. (One
 * that fired while a run was in flight was skipped and is armed no more,
 * though its timer_due may not be in the past yet: it fired in this ms.) */
static void schedule(sg_rd_delayed *d, uint64_t ms) {
  uv_update_time(d->loop);
  uint64_t now = uv_now(d->loop), at = now + ms;
  if (sg_rd_tick_armed(&d->tick) && d->timer_due <= at)
    return;
  d->timer_due = at;
  sg_rd_tick_after(&d->tick, ms);
}

static void on_run(sg_rd_tick *t) {
  sg_rd_delayed *d = sg_container_of(t, sg_rd_delayed, tick);
  d->timer_due = 0;
  if (!run(d, false))
    schedule(d, d->o.tick_ms); /* not connected: try again later */
}

static void on_release(sg_rd_tick *t) {
  sg_rd_delayed *d = sg_container_of(t, sg_rd_delayed, tick);
  sg_free(d->key);
  sg_free(d->stream);
  sg_free(d);
}

static bool is_str(const redisReply *x) {
  return x && (x->type == REDIS_REPLY_STRING || x->type == REDIS_REPLY_STATUS);
}

/* The delay until the next run after a run that moved |moved|. */
static uint64_t next_delay(sg_rd_delayed *d, long long moved) {
  if (moved >= (long long)d->o.batch)
    return 0; /* a full batch: more may be due */
  if (d->stats.next_due_ms == 0)
    return d->o.tick_ms;
  int64_t wait = d->stats.next_due_ms - now_ms(d);
  if (wait < 0)
    wait = 0;
  return (uint64_t)wait < d->o.tick_ms ? (uint64_t)wait : d->o.tick_ms;
}

static void on_reply(sg_rd_client *c, int status, const redisReply *reply, void *ud) {
  (void)c;
  sg_rd_delayed *d = ud;
  if (!sg_rd_tick_answered(&d->tick))
    return;
  if (status == SG_ERR_REDIS && strncmp(reply->str, "NOSCRIPT", 8) == 0) {
    d->stats.script_loads++;
    if (!run(d, true))
      schedule(d, d->o.tick_ms);
    return;
  }
  const redisReply *x = reply;
  if (status != 0 || x->type != REDIS_REPLY_ARRAY || x->elements != 3 ||
      x->element[0]->type != REDIS_REPLY_INTEGER || x->element[2]->type != REDIS_REPLY_INTEGER ||
      (x->element[1]->type != REDIS_REPLY_NIL && !is_str(x->element[1]))) {
    d->stats.errors++;
    sg_log_kv(SG_LOG_ERROR, "delayed", "move failed", "err", sg_err_name(status), "detail",
              reply && reply->type == REDIS_REPLY_ERROR ? reply->str : NULL, NULL);
    schedule(d, d->o.tick_ms);
    return;
  }
  long long moved = x->element[0]->integer;
  d->stats.runs++;
  d->stats.moved += moved > 0 ? (uint64_t)moved : 0;
  d->stats.size = x->element[2]->integer > 0 ? (uint64_t)x->element[2]->integer : 0;
  d->stats.next_due_ms = 0;
  if (is_str(x->element[1])) {
    double score = strtod(x->element[1]->str, NULL);
    d->stats.next_due_ms = score < 1 ? 1 : score > 9e18 ? INT64_MAX : (int64_t)score;
  }
  if (moved > 0)
    sg_log_kv(SG_LOG_DEBUG, "delayed", "due jobs moved back", "key", d->key, NULL);
  schedule(d, next_delay(d, moved));
}

/* Sends the move (the tick's run, or again with the script after NOSCRIPT);
 * false when it could not be sent. */
static bool run(sg_rd_delayed *d, bool with_eval) {
  char now[24], batch[16];
  int nl = snprintf(now, sizeof now, "%lld", (long long)now_ms(d));
  int bl = snprintf(batch, sizeof batch, "%u", d->o.batch);
  const char *argv[] = {with_eval ? "EVAL" : "EVALSHA",
                        with_eval ? move_script : d->sha,
                        "2",
                        d->key,
                        d->stream,
                        now,
                        batch};
  size_t lens[] = {with_eval ? 4u : 7u,
                   with_eval ? sizeof move_script - 1 : 40u,
                   1,
                   strlen(d->key),
                   strlen(d->stream),
                   (size_t)nl,
                   (size_t)bl};
  if (sg_rd_client_cmd(d->o.client, 7, argv, lens, d->o.cmd_timeout_ms, on_reply, d) != 0)
    return false;
  sg_rd_tick_sent(&d->tick);
  return true;
}

int sg_rd_delayed_new(uv_loop_t *loop, const sg_rd_delayed_opts *opts, sg_rd_delayed **out) {
  if (!loop || !opts || !opts->client)
    return SG_ERR_INVAL;
  sg_rd_delayed *d = sg_xcalloc(1, sizeof *d);
  d->loop = loop;
  d->o = *opts;
  d->key = sg_xstrdup(opts->key ? opts->key : SG_RD_DELAYED_KEY);
  d->stream = sg_xstrdup(opts->stream ? opts->stream : "sendgate:jobs");
  d->o.key = d->o.stream = NULL;
  if (d->o.tick_ms == 0)
    d->o.tick_ms = 1000;
  if (d->o.batch == 0)
    d->o.batch = 100;
  if (d->o.cmd_timeout_ms == 0)
    d->o.cmd_timeout_ms = 5000;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned mdlen = 0;
  EVP_Digest(move_script, sizeof move_script - 1, md, &mdlen, EVP_sha1(), NULL);
  for (unsigned i = 0; i < 20 && i < mdlen; i++)
    snprintf(d->sha + 2 * i, 3, "%02x", md[i]);
  sg_rd_tick_init(&d->tick, loop, 0, on_run, on_release);
  uv_update_time(loop);
  d->timer_due = uv_now(loop);
  *out = d;
  return 0;
}

void sg_rd_delayed_notify(sg_rd_delayed *d, int64_t due_unix_ms) {
  int64_t wait = due_unix_ms - now_ms(d);
  if (wait < 0)
    wait = 0;
  /* (A run in flight reschedules by itself; at worst this member waits one tick.) */
  schedule(d, (uint64_t)wait < d->o.tick_ms ? (uint64_t)wait : d->o.tick_ms);
}

uint64_t sg_rd_delayed_size(const sg_rd_delayed *d) {
  return d->stats.size;
}

void sg_rd_delayed_get_stats(const sg_rd_delayed *d, sg_rd_delayed_stats *out) {
  *out = d->stats;
}

void sg_rd_delayed_close(sg_rd_delayed *d, sg_rd_delayed_closed_cb done, void *ud) {
  sg_rd_tick_close(&d->tick, done, ud);
}
