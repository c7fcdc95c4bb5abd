/* SPDX-License-Identifier: Apache-2.0 */
/* Whether keys of the ledger's older layout exist; see sg_rd_legacy.h. */
#include "redis/sg_rd_legacy.h"

#include <string.h>

#include "core/sg_err.h"
#include "core/sg_fmt.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "redis/sg_rd_queue.h"
#include "redis/sg_rd_tick.h"

struct sg_rd_legacy {
  sg_rd_legacy_opts o;
  sg_rd_tick tick;
  char *match; /* <prefix>* */
  char count[24];
  char cursor[24];  /* "0" at the start of a pass */
  uint64_t pass_t0; /* uv_now at the start of the current (or last) pass */
  bool present;
  sg_rd_legacy_stats stats;
};

#define NOT_CONNECTED_MS 50

static void release(sg_rd_tick *t) {
  sg_rd_legacy *w = sg_container_of(t, sg_rd_legacy, tick);
  sg_free(w->match);
  sg_free(w);
}

/* The pass is over: tell, and start the next one pass_every_ms after this one's start. */
static void pass_end(sg_rd_legacy *w, bool present) {
  w->stats.passes++;
  bool changed = present != w->present || w->stats.passes == 1;
  w->present = present;
  memcpy(w->cursor, "0", 2);
  uint64_t now = uv_now(sg_rd_tick_loop(&w->tick)), due = w->pass_t0 + w->o.pass_every_ms;
  sg_rd_tick_after(&w->tick, due > now ? due - now : 0);
  if (changed)
    sg_log_kv(SG_LOG_INFO, "redis",
              present ? "keys of the older ledger layout exist: looking them up"
                      : "no key of the older ledger layout: not looking them up",
              NULL);
  w->o.cb(present, w->o.ud);
}

static void on_reply(sg_rd_client *c, int status, const redisReply *r, void *ud) {
  (void)c;
  sg_rd_legacy *w = ud;
  if (!sg_rd_tick_answered(&w->tick))
    return;
  /* [cursor, [keys...]] */
  if (status != 0 || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
      r->element[0]->type != REDIS_REPLY_STRING || r->element[0]->len >= sizeof w->cursor ||
      r->element[1]->type != REDIS_REPLY_ARRAY) {
    w->stats.errors++;
    if (status != SG_ERR_CLOSED && status != SG_ERR_SHUTDOWN)
      sg_log_kv(SG_LOG_WARN, "redis", "scan for the older ledger layout failed", "err",
                sg_err_name(status ? status : SG_ERR_PARSE), "detail",
                r && r->type == REDIS_REPLY_ERROR ? r->str : NULL, NULL);
    sg_rd_tick_after(&w->tick, w->o.retry_ms); /* the same cursor again */
    return;
  }
  w->stats.calls++;
  if (r->element[1]->elements > 0) {
    pass_end(w, true);
    return;
  }
  memcpy(w->cursor, r->element[0]->str, r->element[0]->len);
  w->cursor[r->element[0]->len] = '\0';
  if (strcmp(w->cursor, "0") == 0) {
    pass_end(w, false);
    return;
  }
  sg_rd_tick_after(&w->tick, 0); /* the next call on the next turn */
}

static void step(sg_rd_tick *t) {
  sg_rd_legacy *w = sg_container_of(t, sg_rd_legacy, tick);
  if (strcmp(w->cursor, "0") == 0)
    w->pass_t0 = uv_now(sg_rd_tick_loop(t));
  const char *argv[] = {"SCAN", w->cursor, "MATCH", w->match, "COUNT", w->count, "TYPE", "string"};
  size_t lens[8];
  for (int i = 0; i < 8; i++)
    lens[i] = strlen(argv[i]);
  if (sg_rd_client_cmd(w->o.client, 8, argv, lens, w->o.cmd_timeout_ms, on_reply, w) == 0)
    sg_rd_tick_sent(t);
  else
    /* Not connected (yet): soon again, as lookups carry the GET of the older
     * layout until the first pass says there is none. */
    sg_rd_tick_after(t, w->o.retry_ms < NOT_CONNECTED_MS ? w->o.retry_ms : NOT_CONNECTED_MS);
}

int sg_rd_legacy_new(uv_loop_t *loop, const sg_rd_legacy_opts *o, sg_rd_legacy **out) {
  if (!loop || !o || !o->client || !o->cb)
    return SG_ERR_INVAL;
  sg_rd_legacy *w = sg_xcalloc(1, sizeof *w);
  w->o = *o;
  const char *prefix = o->prefix ? o->prefix : SG_RD_LEDGER_LEGACY_PREFIX;
  size_t n = strlen(prefix);
  w->match = sg_xmalloc(n + 2);
  memcpy(w->match, prefix, n);
  memcpy(w->match + n, "*", 2);
  w->o.prefix = NULL;
  sg_fmt_u64(w->count, o->count ? o->count : 250);
  if (w->o.pass_every_ms == 0)
    w->o.pass_every_ms = 600000;
  if (w->o.retry_ms == 0)
    w->o.retry_ms = 1000;
  if (w->o.cmd_timeout_ms == 0)
    w->o.cmd_timeout_ms = 5000;
  memcpy(w->cursor, "0", 2);
  w->present = true;
  sg_rd_tick_init(&w->tick, loop, 0, step, release);
  *out = w;
  return 0;
}

bool sg_rd_legacy_present(const sg_rd_legacy *w) {
  return w->present;
}

void sg_rd_legacy_get_stats(const sg_rd_legacy *w, sg_rd_legacy_stats *out) {
  *out = w->stats;
}

void sg_rd_legacy_close(sg_rd_legacy *w, void (*done)(void *ud), void *ud) {
  sg_rd_tick_close(&w->tick, done, ud);
}
