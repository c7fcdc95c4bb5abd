/* SPDX-License-Identifier: Apache-2.0 */
/* The bulk feeder; see sg_rd_feeder.h. */
#include "redis/sg_rd_feeder.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "redis/sg_rd_script.h"
#include "redis/sg_rd_tick.h"

static const char k_feed[] =
    "local und=0\n"
    "if redis.call('EXISTS',KEYS[2])==1 then\n"
    " local ok,p=pcall(redis.call,'XPENDING',KEYS[2],ARGV[1])\n"
    " und=redis.call('XLEN',KEYS[2])-((ok and p[1]) or 0)\n"
    "end\n"
    "local moved=0\n"
    "local n=tonumber(ARGV[2])\n"
    "if und<=tonumber(ARGV[3]) and n>0 then\n"
    " for _,e in ipairs(redis.call('XRANGE',KEYS[1],'-','+','COUNT',n)) do\n"
    "  local f=e[2]\n"
    "  f[#f+1]='bulk_from'\n"
    "  f[#f+1]=e[1]\n"
    "  redis.call('XADD',KEYS[2],'*',unpack(f))\n"
    "  redis.call('XDEL',KEYS[1],e[1])\n"
    "  moved=moved+1\n"
    " end\n"
    "end\n"
    "return {moved,und,redis.call('XLEN',KEYS[1])}\n";

struct sg_rd_feeder {
  sg_rd_feeder_opts o;
  char *bulk, *stream, *group;
  char low[16];
  sg_rd_script script;
  sg_rd_tick tick;
  sg_rd_feeder_stats stats;
};

static void release(sg_rd_tick *t) {
  sg_rd_feeder *f = sg_container_of(t, sg_rd_feeder, tick);
  sg_free(f->bulk);
  sg_free(f->stream);
  sg_free(f->group);
  sg_free(f);
}

static bool is_int(const redisReply *x) {
  return x->type == REDIS_REPLY_INTEGER;
}

static void on_reply(sg_rd_client *c, int status, const redisReply *reply, void *ud) {
  (void)c;
  sg_rd_feeder *f = ud;
  if (!sg_rd_tick_answered(&f->tick))
    return;
  uint64_t next = f->o.tick_ms;
  if (status != 0 || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
      !is_int(reply->element[0]) || !is_int(reply->element[1]) || !is_int(reply->element[2])) {
    f->stats.errors++;
    if (status != SG_ERR_CLOSED && status != SG_ERR_SHUTDOWN)
      sg_log_kv(SG_LOG_WARN, "redis", "bulk feed failed", "err", sg_err_name(status), "detail",
                reply && reply->type == REDIS_REPLY_ERROR ? reply->str : NULL, NULL);
  } else {
    long long moved = reply->element[0]->integer, und = reply->element[1]->integer,
              left = reply->element[2]->integer;
    f->stats.runs++;
    f->stats.moved += moved > 0 ? (uint64_t)moved : 0;
    f->stats.backlog = und > 0 ? (uint64_t)und : 0;
    f->stats.bulk_len = left > 0 ? (uint64_t)left : 0;
    if (moved >= (long long)f->o.batch && left > 0)
      next = 0; /* a full batch and more waiting */
  }
  sg_rd_tick_after(&f->tick, next);
}

static void run(sg_rd_tick *t) {
  sg_rd_feeder *f = sg_container_of(t, sg_rd_feeder, tick);
  uint32_t n = f->o.room(f->o.room_ud);
  if (n > f->o.batch)
    n = f->o.batch;
  char num[16];
  int nl = snprintf(num, sizeof num, "%u", n);
  const char *args[] = {f->bulk, f->stream, f->group, num, f->low};
  size_t lens[] = {strlen(f->bulk), strlen(f->stream), strlen(f->group), (size_t)nl,
                   strlen(f->low)};
  /* With no room it still runs: its reply keeps the backlog figures fresh. */
  if (sg_rd_script_run(&f->script, f->o.client, 2, 5, args, lens, f->o.cmd_timeout_ms, on_reply,
                       f) == 0)
    sg_rd_tick_sent(t);
  else
    sg_rd_tick_after(t, f->o.tick_ms); /* not connected: later */
}

int sg_rd_feeder_new(uv_loop_t *loop, const sg_rd_feeder_opts *opts, sg_rd_feeder **out) {
  if (!loop || !opts || !opts->client || !opts->bulk || !opts->bulk[0] || !opts->room)
    return SG_ERR_INVAL;
  sg_rd_feeder *f = sg_xcalloc(1, sizeof *f);
  f->o = *opts;
  f->bulk = sg_xstrdup(opts->bulk);
  f->stream = sg_xstrdup(opts->stream ? opts->stream : "sendgate:jobs");
  f->group = sg_xstrdup(opts->group ? opts->group : "sendgate");
  f->o.bulk = f->o.stream = f->o.group = NULL;
  if (f->o.batch == 0)
    f->o.batch = 256;
  if (f->o.tick_ms == 0)
    f->o.tick_ms = 50;
  if (f->o.cmd_timeout_ms == 0)
    f->o.cmd_timeout_ms = 5000;
  snprintf(f->low, sizeof f->low, "%u", f->o.low_water);
  sg_rd_script_init(&f->script, k_feed);
  sg_rd_tick_init(&f->tick, loop, f->o.tick_ms, run, release);
  *out = f;
  return 0;
}

void sg_rd_feeder_kick(sg_rd_feeder *f) {
  sg_rd_tick_kick(&f->tick);
}

void sg_rd_feeder_get_stats(const sg_rd_feeder *f, sg_rd_feeder_stats *out) {
  *out = f->stats;
}

void sg_rd_feeder_close(sg_rd_feeder *f, void (*done)(void *ud), void *ud) {
  sg_rd_tick_close(&f->tick, done, ud);
}
