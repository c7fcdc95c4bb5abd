/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reaper: claims entries left pending by dead consumers and hands them to
 * the runtime, or dead-letters them with an EXPIRED result once they have been
 * delivered too often. See sg_rd_reaper.h for the protocol.
 */
#include "redis/sg_rd_reaper.h"

#include "core/sg_clock.h"
#include "core/sg_err.h"
#include "core/sg_list.h"
#include "core/sg_log.h"
#include "core/sg_rand.h"
#include "redis/sg_rd_tick.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* KEYS[1] jobs; ARGV: group, consumer, min-idle, cursor, count, max entry bytes.
 * Returns {next cursor, claimed entries, deleted ids, delivery counts}. The
 * claim runs inside the script, so a payload reaches the gateway only when it
 * is within the entry size cap: a larger one comes back as {id, nil, size}
 * (XAUTOCLAIM JUSTID would not count the delivery).
 *
 * The pending list is in id order, and an entry added less than min-idle ago
 * (its id's time, by Redis's clock) cannot have been idle that long: once the
 * cursor reaches such ids the pass is over and the cursor answers 0-0. Without
 * that, a busy stream's pending list (every job in flight) was walked to its
 * tail COUNT * 10 entries a call, one call after the other while the tail kept
 * growing. An id whose time is ahead of Redis's clock (set by hand, or a clock
 * that went back) proves nothing: the walk goes on. */
static const char claim_script[] =
    "local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], "
    "'COUNT', ARGV[5])\n"
    "local cur = r[1]\n"
    "local ms = tonumber(string.match(cur, '^(%d+)%-'))\n"
    "if cur ~= '0-0' and ms then\n"
    "  local t = redis.call('TIME')\n"
    "  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "  if ms > now - tonumber(ARGV[3]) and ms <= now then cur = '0-0' end\n"
    "end\n"
    "local maxe = tonumber(ARGV[6])\n"
    "local ents, counts = {}, {}\n"
    "for i, e in ipairs(r[2]) do\n"
    "  local n = 0\n"
    "  if e then\n"
    "    local p = redis.call('XPENDING', KEYS[1], ARGV[1], e[1], e[1], 1)\n"
    "    if p[1] then n = p[1][4] end\n"
    "    local size = 0\n"
    "    if e[2] then\n"
    "      for j = 1, #e[2] do size = size + #e[2][j] end\n"
    "    end\n"
    "    if e[2] and maxe > 0 and size > maxe then\n"
    "      ents[i] = {e[1], false, size}\n"
    "    else\n"
    "      ents[i] = {e[1], e[2], size}\n"
    "    end\n"
    "  else\n"
    "    ents[i] = false\n"
    "  end\n"
    "  counts[i] = n\n"
    "end\n"
    "return {cur, ents, r[3] or {}, counts}\n";

#define NO_CREDIT_RETRY_MS 1000

/* One queued dead letter; outlives the reaper if it is closed first. */
typedef struct dl_ctx {
  sg_list node;
  sg_rd_reaper *r; /* NULL once the reaper is gone */
  char id[SG_RD_ID_MAX];
} dl_ctx;

struct sg_rd_reaper {
  sg_rd_stream *s;
  sg_rd_reaper_opts o;
  char *stream, *group, *consumer;
  char cursor[SG_RD_ID_MAX];
  sg_rd_tick tick; /* the timer, the claim in flight, the close */
  uint64_t rnd;
  uint32_t taken; /* credit taken for the run in flight */
  sg_list dls;
  sg_rd_reaper_stats stats;
};

uint64_t sg_rd_reaper_jitter_ms(uint32_t interval_ms, uint64_t rnd) {
  uint64_t span = interval_ms / 2u + 1u;
  return (uint64_t)interval_ms - interval_ms / 4u + rnd % span;
}

static void on_release(sg_rd_tick *t) {
  sg_rd_reaper *r = sg_container_of(t, sg_rd_reaper, tick);
  sg_list *n;
  while ((n = sg_list_pop_front(&r->dls)) != NULL)
    sg_container_of(n, dl_ctx, node)->r = NULL;
  sg_free(r->stream);
  sg_free(r->group);
  sg_free(r->consumer);
  sg_free(r);
}

static void dl_done(sg_rd_stream *s, int status, void *ud) {
  dl_ctx *c = ud;
  if (c->r) {
    sg_list_remove(&c->node);
    if (status == 0)
      c->r->stats.dead_lettered++;
    else
      c->r->stats.errors++;
  }
  /* Refused (nothing ran) or partly failed (the ack ran): either way a later
   * pass may look at it again. */
  if (status == SG_ERR_REDIS)
    sg_rd_stream_unhold(s, c->id);
  sg_free(c);
}

static void dead_letter(sg_rd_reaper *r, const sg_rd_entry *e) {
  dl_ctx *c = sg_xcalloc(1, sizeof *c);
  c->r = r;
  snprintf(c->id, sizeof c->id, "%s", e->id);
  sg_list_push_back(&r->dls, &c->node);
  char count[16];
  snprintf(count, sizeof count, "%u", e->deliveries);
  sg_log_kv(SG_LOG_WARN, "reaper", "entry dead-lettered: too many deliveries", "entry", e->id,
            "deliveries", count, NULL);
  int rv = sg_rd_queue_dead_expired(r->o.queue, e, e->deliveries, r->o.max_deliveries, dl_done, c);
  if (rv != 0) {
    sg_list_remove(&c->node);
    sg_free(c);
    sg_rd_stream_unhold(r->s, e->id);
    r->stats.errors++;
  }
}

static bool is_str(const redisReply *x) {
  return x && (x->type == REDIS_REPLY_STRING || x->type == REDIS_REPLY_STATUS);
}

/* Checks [cursor, [[id, [f, v...] | nil, size?] | nil ...], [ids...], [counts...]]. */
static bool reply_ok(const redisReply *x) {
  if (x->type != REDIS_REPLY_ARRAY || x->elements != 4 || !is_str(x->element[0]) ||
      x->element[0]->len >= SG_RD_ID_MAX)
    return false;
  const redisReply *ents = x->element[1], *del = x->element[2], *cnt = x->element[3];
  if (ents->type != REDIS_REPLY_ARRAY || del->type != REDIS_REPLY_ARRAY ||
      cnt->type != REDIS_REPLY_ARRAY || cnt->elements != ents->elements)
    return false;
  for (size_t i = 0; i < ents->elements; i++) {
    const redisReply *e = ents->element[i];
    if (cnt->element[i]->type != REDIS_REPLY_INTEGER)
      return false;
    if (e->type == REDIS_REPLY_NIL)
      continue;
    if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 || e->elements > 3 ||
        !is_str(e->element[0]) || e->element[0]->len >= SG_RD_ID_MAX)
      return false;
    if (e->elements == 3 &&
        (e->element[2]->type != REDIS_REPLY_INTEGER || e->element[2]->integer < 0))
      return false;
    const redisReply *f = e->element[1];
    if (f->type == REDIS_REPLY_NIL)
      continue;
    if (f->type != REDIS_REPLY_ARRAY || f->elements % 2 != 0)
      return false;
    for (size_t j = 0; j < f->elements; j++)
      if (!is_str(f->element[j]))
        return false;
  }
  return true;
}

/* Handles one claimed entry; returns true if it used a credit. */
static bool handle_entry(sg_rd_reaper *r, const redisReply *e, long long deliveries) {
  char id[SG_RD_ID_MAX];
  snprintf(id, sizeof id, "%.*s", (int)e->element[0]->len, e->element[0]->str);
  if (sg_rd_stream_hold(r->s, id) != 0) {
    r->stats.skipped_held++;
    return false;
  }
  const redisReply *fv = e->element[1];
  uint64_t size = e->elements == 3 ? (uint64_t)e->element[2]->integer : 0;
  bool oversize = fv->type == REDIS_REPLY_NIL && e->elements == 3;
  if (fv->type == REDIS_REPLY_NIL && !oversize) { /* payload gone (Redis 6.2 shape): ack it */
    r->stats.deleted++;
    sg_rd_stream_complete(r->s, id, NULL, 0, NULL, NULL);
    return false;
  }
  if (deliveries <= 0) { /* not pending any more (cannot happen inside the script) */
    sg_rd_stream_unhold(r->s, id);
    return false;
  }
  size_t n = oversize ? 0 : fv->elements / 2;
  sg_rd_field *f = sg_xmalloc((n ? n : 1) * sizeof *f);
  for (size_t i = 0; i < n; i++) {
    const redisReply *k = fv->element[2 * i], *v = fv->element[2 * i + 1];
    f[i] = (sg_rd_field){k->str, k->len, v->str, v->len};
  }
  sg_rd_entry ent = {
      .id = id, .fields = f, .nfields = n, .redelivered = true, .size = size, .oversize = oversize};
  sg_rd_id_parse(id, strlen(id), &ent.id_num);
  ent.deliveries = deliveries > UINT32_MAX ? UINT32_MAX : (uint32_t)deliveries;
  bool used = false;
  if (ent.deliveries > r->o.max_deliveries) {
    dead_letter(r, &ent);
  } else {
    r->stats.delivered++;
    sg_rd_stream_deliver_held(r->s, &ent);
    used = true;
  }
  sg_free(f);
  return used;
}

static void on_reply(sg_rd_client *c, int status, const redisReply *reply, void *ud) {
  (void)c;
  sg_rd_reaper *r = ud;
  sg_rd_stream *s = r->s;
  uint32_t taken = r->taken, used = 0;
  r->taken = 0;
  if (!sg_rd_tick_answered(&r->tick)) {
    /* Closing (|r| may be gone): claimed entries stay pending for this
     * consumer (own-pending scan at the next start). */
    if (taken > 0)
      sg_rd_stream_add_credit(s, taken);
    return;
  }
  uint64_t next = sg_rd_reaper_jitter_ms(r->o.interval_ms, sg_rand_next(&r->rnd));
  if (status != 0 || !reply_ok(reply)) {
    r->stats.errors++;
    sg_log_kv(SG_LOG_ERROR, "reaper", "claim failed", "err", sg_err_name(status), "detail",
              reply && reply->type == REDIS_REPLY_ERROR ? reply->str : NULL, NULL);
  } else {
    r->stats.runs++;
    const redisReply *ents = reply->element[1];
    r->stats.deleted += reply->element[2]->elements;
    r->stats.claimed += ents->elements;
    for (size_t i = 0; i < ents->elements; i++) {
      const redisReply *e = ents->element[i];
      if (e->type == REDIS_REPLY_NIL)
        continue;
      if (handle_entry(r, e, reply->element[3]->element[i]->integer))
        used++;
    }
    snprintf(r->cursor, sizeof r->cursor, "%.*s", (int)reply->element[0]->len,
             reply->element[0]->str);
    if (ents->elements > 0)
      sg_log_kv(SG_LOG_INFO, "reaper", "claimed entries of dead consumers", "cursor", r->cursor,
                NULL);
    if (strcmp(r->cursor, "0-0") != 0)
      next = 0; /* more to scan */
  }
  if (used > taken) /* cannot happen: one credit per delivered entry */
    used = taken;
  if (taken > used)
    sg_rd_stream_add_credit(r->s, taken - used);
  sg_rd_tick_after(&r->tick, next);
}

static void run(sg_rd_tick *t) {
  sg_rd_reaper *r = sg_container_of(t, sg_rd_reaper, tick);
  uint32_t retry = r->o.interval_ms < NO_CREDIT_RETRY_MS ? r->o.interval_ms : NO_CREDIT_RETRY_MS;
  if (!sg_rd_stream_is_up(r->s)) {
    sg_rd_tick_after(t, retry);
    return;
  }
  /* No more entries than the byte budget has room for at the largest size. */
  uint32_t room = sg_rd_stream_byte_room(r->s);
  uint32_t n = sg_rd_stream_take_credit(r->s, r->o.count < room ? r->o.count : room);
  if (n == 0) {
    sg_rd_tick_after(t, retry);
    return;
  }
  char idle[16], count[16], maxe[24];
  int il = snprintf(idle, sizeof idle, "%u", r->o.min_idle_ms);
  int cl = snprintf(count, sizeof count, "%u", n);
  int ml =
      snprintf(maxe, sizeof maxe, "%llu", (unsigned long long)sg_rd_stream_max_entry_bytes(r->s));
  const char *argv[] = {"EVAL",      claim_script, "1",       r->stream, r->group,
                        r->consumer, idle,         r->cursor, count,     maxe};
  size_t lens[] = {4,
                   sizeof claim_script - 1,
                   1,
                   strlen(r->stream),
                   strlen(r->group),
                   strlen(r->consumer),
                   (size_t)il,
                   strlen(r->cursor),
                   (size_t)cl,
                   (size_t)ml};
  int rv = sg_rd_client_cmd(sg_rd_stream_cmd_client(r->s), 10, argv, lens, r->o.cmd_timeout_ms,
                            on_reply, r);
  if (rv != 0) {
    sg_rd_stream_add_credit(r->s, n);
    sg_rd_tick_after(t, retry);
    return;
  }
  r->taken = n;
  sg_rd_tick_sent(t);
}

int sg_rd_reaper_new(uv_loop_t *loop, sg_rd_stream *s, const sg_rd_reaper_opts *opts,
                     sg_rd_reaper **out) {
  if (!loop || !s || !opts || !opts->consumer || !opts->consumer[0] || !opts->queue)
    return SG_ERR_INVAL;
  sg_rd_reaper *r = sg_xcalloc(1, sizeof *r);
  r->s = s;
  r->o = *opts;
  r->stream = sg_xstrdup(opts->stream ? opts->stream : "sendgate:jobs");
  r->group = sg_xstrdup(opts->group ? opts->group : "sendgate");
  r->consumer = sg_xstrdup(opts->consumer);
  r->o.stream = r->o.group = r->o.consumer = NULL;
  if (r->o.interval_ms == 0)
    r->o.interval_ms = 30000;
  if (r->o.first_delay_ms == 0)
    r->o.first_delay_ms = 1000;
  if (r->o.min_idle_ms == 0)
    r->o.min_idle_ms = 300000;
  if (r->o.max_deliveries == 0)
    r->o.max_deliveries = 5;
  if (r->o.count == 0)
    r->o.count = 100;
  if (r->o.cmd_timeout_ms == 0)
    r->o.cmd_timeout_ms = 5000;
  r->rnd = opts->seed ? opts->seed : uv_hrtime() ^ ((uint64_t)getpid() << 32);
  strcpy(r->cursor, "0-0");
  sg_list_init(&r->dls);
  sg_rd_tick_init(&r->tick, loop, r->o.first_delay_ms, run, on_release);
  *out = r;
  return 0;
}

void sg_rd_reaper_run_now(sg_rd_reaper *r) {
  sg_rd_tick_kick(&r->tick);
}

void sg_rd_reaper_get_stats(const sg_rd_reaper *r, sg_rd_reaper_stats *out) {
  *out = r->stats;
}

void sg_rd_reaper_close(sg_rd_reaper *r, sg_rd_reaper_closed_cb done, void *ud) {
  sg_rd_tick_close(&r->tick, done, ud);
}
