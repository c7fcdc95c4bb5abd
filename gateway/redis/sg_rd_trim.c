/* SPDX-License-Identifier: Apache-2.0 */
/* The stream trimmer; see sg_rd_trim.h. */
#include "redis/sg_rd_trim.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_log.h"
#include "core/sg_list.h"
#include "core/sg_mem.h"
#include "redis/sg_rd_script.h"
#include "redis/sg_rd_tick.h"

/*
 * KEYS[1] the job stream, KEYS[2] the results stream; ARGV[1] the results cap
 * (0: none), ARGV[2] the time in ms past which a pending entry holds the
 * trim up. For every group of the job stream the first entry it may still
 * need is its oldest pending entry, or else the one after its last-delivered
 * id; the stream is trimmed exactly below the smallest of those. Returns {job
 * entries trimmed, result entries trimmed, held, results ok}: held is 1 when
 * that smallest is a pending entry delivered (its idle time) more than
 * ARGV[2] ago (the acked entries after it stay in the stream until it is
 * done), else 0; an entry that waited long in the stream before it was read
 * does not count. Results ok is 1 when KEYS[2] is a stream or no key (it
 * takes results), else 0.
 */
static const char k_trim[] =
    "local function parse(id)\n"
    " local m,s=string.match(id,'^(%d+)-(%d+)$')\n"
    " return tonumber(m),tonumber(s)\n"
    "end\n"
    "local function less(am,as,bm,bs) return am<bm or (am==bm and as<bs) end\n"
    "local n,r,held=0,0,0\n"
    "local ty=redis.call('TYPE',KEYS[2])['ok']\n"
    "local rok=(ty=='stream' or ty=='none') and 1 or 0\n"
    "if redis.call('EXISTS',KEYS[1])==1 then\n"
    " local mm,ms,midle\n"
    " for _,g in ipairs(redis.call('XINFO','GROUPS',KEYS[1])) do\n"
    "  local h={}\n"
    "  for i=1,#g,2 do h[g[i]]=g[i+1] end\n"
    "  local cm,cs=parse(h['last-delivered-id'])\n"
    "  local cidle=nil\n"
    "  cs=cs+1\n"
    "  if h['pending']>0 then\n"
    "   local p=redis.call('XPENDING',KEYS[1],h['name'],'-','+',1)[1]\n"
    "   local pm,ps=parse(p[1])\n"
    "   if less(pm,ps,cm,cs) then cm,cs,cidle=pm,ps,p[3] end\n"
    "  end\n"
    "  if mm==nil or less(cm,cs,mm,ms) then mm,ms,midle=cm,cs,cidle end\n"
    " end\n"
    " if mm then\n"
    "  n=redis.call('XTRIM',KEYS[1],'MINID',string.format('%d-%d',mm,ms))\n"
    "  if midle and midle>tonumber(ARGV[2]) then held=1 end\n"
    " end\n"
    "end\n"
    "if rok==1 and tonumber(ARGV[1])>0 then r=redis.call('XTRIM',KEYS[2],'MAXLEN','~',ARGV[1]) "
    "end\n"
    "return {n,r,held,rok}\n";

struct sg_rd_trim {
  sg_rd_tick tick;
  sg_rd_trim_opts o;
  char *stream, *results;
  char maxlen[24], held_ms[24];
  sg_rd_script script;
  sg_rd_trim_stats stats;
  bool keeps_up;       /* the last run trimmed all it should (told to o.cb on change) */
  bool results_ok;     /* the results stream takes results (told likewise) */
  bool told;           /* o.cb has been called */
  uint64_t busy_until; /* loop ms: runs come every busy_tick_ms until then */
};

/* How long after a run that trimmed the runs stay on busy_tick_ms: a run
 * that finds nothing between two bursts (the oldest job still in flight)
 * does not let the next trim grow to a whole tick's worth. */
#define BUSY_FOR_MS 1000

static void release(sg_rd_tick *tk) {
  sg_rd_trim *t = sg_container_of(tk, sg_rd_trim, tick);
  sg_free(t->stream);
  sg_free(t->results);
  sg_free(t);
}

static void on_reply(sg_rd_client *c, int status, const redisReply *reply, void *ud) {
  (void)c;
  sg_rd_trim *t = ud;
  if (!sg_rd_tick_answered(&t->tick))
    return;
  bool ok = status == 0 && reply->type == REDIS_REPLY_ARRAY && reply->elements == 4;
  for (size_t i = 0; ok && i < 4; i++)
    ok = reply->element[i]->type == REDIS_REPLY_INTEGER;
  bool keeps_up = ok && reply->element[2]->integer == 0;
  bool results_ok = ok ? reply->element[3]->integer == 1 : t->results_ok;
  if (keeps_up != t->keeps_up || results_ok != t->results_ok || !t->told) {
    if (ok && keeps_up != t->keeps_up)
      sg_log_kv(SG_LOG_DEBUG, "redis",
                keeps_up ? "acked jobs are left to the trimmer (no XDEL per completion)"
                         : "a long-pending job holds the trim up: completions XDEL their jobs",
                "stream", t->stream, NULL);
    if (results_ok != t->results_ok && t->results)
      sg_log_kv(results_ok ? SG_LOG_INFO : SG_LOG_ERROR, "redis",
                results_ok ? "the results stream takes results again"
                           : "the results stream's key holds another type: results cannot be "
                             "published there, the jobs stay pending",
                "stream", t->results, NULL);
    t->keeps_up = keeps_up;
    t->results_ok = results_ok;
    t->told = true;
    if (t->o.cb)
      t->o.cb(keeps_up, results_ok, t->o.ud);
  }
  if (!ok) {
    t->stats.errors++;
    if (status != SG_ERR_CLOSED && status != SG_ERR_SHUTDOWN)
      sg_log_kv(SG_LOG_WARN, "redis", "stream trim failed", "err", sg_err_name(status), "detail",
                reply && reply->type == REDIS_REPLY_ERROR ? reply->str : NULL, NULL);
  } else {
    t->stats.runs++;
    t->stats.held += !keeps_up;
    t->stats.trimmed += (uint64_t)(reply->element[0]->integer > 0 ? reply->element[0]->integer : 0);
    t->stats.results_trimmed +=
        (uint64_t)(reply->element[1]->integer > 0 ? reply->element[1]->integer : 0);
  }
  uint64_t now = uv_now(sg_rd_tick_loop(&t->tick));
  if (ok && reply->element[0]->integer > 0)
    t->busy_until = now + BUSY_FOR_MS;
  sg_rd_tick_after(&t->tick, now < t->busy_until ? t->o.busy_tick_ms : t->o.tick_ms);
}

static void run(sg_rd_tick *tk) {
  sg_rd_trim *t = sg_container_of(tk, sg_rd_trim, tick);
  const char *args[] = {t->stream, t->results ? t->results : t->stream, t->maxlen, t->held_ms};
  size_t lens[] = {strlen(args[0]), strlen(args[1]), strlen(t->maxlen), strlen(t->held_ms)};
  if (sg_rd_script_run(&t->script, t->o.client, 2, 4, args, lens, t->o.cmd_timeout_ms, on_reply,
                       t) == 0)
    sg_rd_tick_sent(tk);
  else
    sg_rd_tick_after(tk, t->o.tick_ms); /* not connected: later */
}

int sg_rd_trim_new(uv_loop_t *loop, const sg_rd_trim_opts *opts, sg_rd_trim **out) {
  if (!loop || !opts || !opts->client)
    return SG_ERR_INVAL;
  sg_rd_trim *t = sg_xcalloc(1, sizeof *t);
  t->o = *opts;
  t->stream = sg_xstrdup(opts->stream ? opts->stream : "sendgate:jobs");
  t->results = opts->results ? sg_xstrdup(opts->results) : NULL;
  t->o.stream = t->o.results = NULL;
  snprintf(t->maxlen, sizeof t->maxlen, "%llu",
           t->results ? (unsigned long long)opts->results_maxlen : 0ull);
  t->results_ok = true;
  if (t->o.tick_ms == 0)
    t->o.tick_ms = 1000;
  if (t->o.busy_tick_ms == 0 || t->o.busy_tick_ms > t->o.tick_ms)
    t->o.busy_tick_ms = t->o.tick_ms;
  if (t->o.held_ms == 0)
    t->o.held_ms = 1000;
  snprintf(t->held_ms, sizeof t->held_ms, "%u", t->o.held_ms);
  if (t->o.cmd_timeout_ms == 0)
    t->o.cmd_timeout_ms = 5000;
  sg_rd_script_init(&t->script, k_trim);
  sg_rd_tick_init(&t->tick, loop, t->o.tick_ms, run, release);
  *out = t;
  return 0;
}

void sg_rd_trim_kick(sg_rd_trim *t) {
  sg_rd_tick_kick(&t->tick);
}

void sg_rd_trim_get_stats(const sg_rd_trim *t, sg_rd_trim_stats *out) {
  *out = t->stats;
}

void sg_rd_trim_close(sg_rd_trim *t, void (*done)(void *ud), void *ud) {
  /* One last trim: what this gateway acked since the last tick goes now, so
   * a stopped gateway leaves only the jobs still to do in the stream. */
  sg_rd_tick_close_after_run(&t->tick, done, ud);
}
