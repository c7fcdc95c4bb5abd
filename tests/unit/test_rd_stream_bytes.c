/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sg_rd_stream's sizes, against a real redis-server: an entry over
 * max_entry_bytes is handed out without its fields and does not stall the
 * entries after it, new or pending (the sizing script never brings its
 * payload over, so a reply cap below its size does not matter); the byte
 * budget holds reads back until byte credit is given back; with neither,
 * reads are native. With sizes checked, new entries are read natively once
 * the reply cap holds a read of entries of the sizes seen: an entry over the
 * size cap but within the reply cap comes without its fields all the same,
 * and one over the reply cap drops the read connection and comes again
 * through the pending scan, sized, with nothing lost or handed out twice.
 */
#include "harness.h"
#include "rd_test_loop.h"
#include "redis_server.h"

#include "core/sg_err.h"
#include "redis/sg_rd_stream.h"

#include <uv.h>

#define MAXE 96

typedef struct ctx {
  uv_loop_t loop;
  uv_timer_t tick;
  sg_test_redis r;
  sg_rd_stream *s;
  int n;
  char ids[MAXE][SG_RD_ID_MAX];
  bool oversize[MAXE], redelivered[MAXE];
  uint64_t size[MAXE];
  size_t value_len[MAXE];
  int stopped;
} ctx;

static void on_entry(sg_rd_stream *s, const sg_rd_entry *e, void *ud) {
  (void)s;
  ctx *x = ud;
  ASSERT_LT(x->n, MAXE);
  snprintf(x->ids[x->n], SG_RD_ID_MAX, "%s", e->id);
  x->oversize[x->n] = e->oversize;
  x->redelivered[x->n] = e->redelivered;
  x->size[x->n] = e->size;
  if (e->oversize) {
    ASSERT_EQ(0, e->nfields);
  } else {
    ASSERT_EQ(1, e->nfields);
    ASSERT_MEM_EQ("job", e->fields[0].name, 3);
    x->value_len[x->n] = e->fields[0].value_len;
  }
  x->n++;
}

static void on_stopped(sg_rd_stream *s, void *ud) {
  (void)s;
  ((ctx *)ud)->stopped++;
}

static void start_cap(ctx *x, uint64_t max_entry, uint64_t budget, uint32_t credit,
                      size_t reply_cap);

static void start(ctx *x, uint64_t max_entry, uint64_t budget, uint32_t credit) {
  start_cap(x, max_entry, budget, credit, 256 * 1024); /* far below the oversize entry */
}

static void start_cap(ctx *x, uint64_t max_entry, uint64_t budget, uint32_t credit,
                      size_t reply_cap) {
  char url[64];
  snprintf(url, sizeof url, "redis://127.0.0.1:%d", x->r.port);
  sg_rd_url u;
  ASSERT_OK(sg_rd_url_parse(url, &u));
  sg_rd_stream_opts o = {.consumer = "c1",
                         .count = 16,
                         .poll_ms = 10,
                         .cmd_timeout_ms = 5000,
                         .max_entry_bytes = max_entry,
                         .byte_budget = budget};
  o.client.max_reply_bytes = reply_cap; /* 0: the stream's own */
  sg_rd_stream_cbs cbs = {on_entry, x};
  ASSERT_OK(sg_rd_stream_new(&x->loop, &u, &o, &cbs, &x->s));
  sg_rd_stream_set_credit(x->s, credit);
}

static void stop(ctx *x) {
  int want = x->stopped + 1;
  sg_rd_stream_stop(x->s, on_stopped, x);
  sg_rd_test_run_until(&x->loop, &x->stopped, want, 10000);
  x->s = NULL;
}

static void begin(ctx *x) {
  memset(x, 0, sizeof *x);
  ASSERT_OK(sg_test_redis_start(&x->r, NULL));
  sg_rd_test_loop_init(&x->loop, &x->tick, 20);
}

static void finish(ctx *x) {
  if (x->s)
    stop(x);
  uv_close((uv_handle_t *)&x->tick, NULL);
  for (int i = 0; i < 100 && uv_loop_alive(&x->loop); i++)
    uv_run(&x->loop, UV_RUN_NOWAIT);
  ASSERT_OK(uv_loop_close(&x->loop));
  sg_test_redis_stop(&x->r);
}

/* XADD sendgate:jobs * job <len bytes>. */
static void add_job(ctx *x, size_t len) {
  char *v = malloc(len);
  ASSERT_NOT_NULL(v);
  memset(v, 'j', len);
  redisContext *c = sg_test_redis_connect(&x->r);
  ASSERT_NOT_NULL(c);
  redisReply *y = redisCommand(c, "XADD sendgate:jobs * job %b", v, len);
  ASSERT_NOT_NULL(y);
  ASSERT_EQ(REDIS_REPLY_STRING, y->type);
  freeReplyObject(y);
  redisFree(c);
  free(v);
}

static void t_oversize(void) {
  ctx x;
  begin(&x);
  add_job(&x, 100);
  add_job(&x, 2u << 20); /* 2 MiB: over the 1 MiB cap and the 256 KiB reply cap */
  add_job(&x, 200);
  start(&x, 1u << 20, 0, 100);
  sg_rd_test_run_until(&x.loop, &x.n, 3, 10000);
  ASSERT(!x.oversize[0]);
  ASSERT_EQ(100u, x.value_len[0]);
  ASSERT_EQ(103u, x.size[0]); /* "job" + the value */
  ASSERT(x.oversize[1]);
  ASSERT_EQ((2u << 20) + 3u, x.size[1]);
  ASSERT(!x.oversize[2]);
  ASSERT_EQ(200u, x.value_len[2]);
  sg_rd_stream_stats st;
  sg_rd_stream_get_stats(x.s, &st);
  ASSERT_EQ(0u, st.reconnects); /* the payload never came over the connection */
  ASSERT_EQ(0u, st.native_reads);
  ASSERT_EQ(1u, st.oversize);
  /* Not completed: after a restart the pending scan hands them out the same way. */
  stop(&x);
  x.n = 0;
  start(&x, 1u << 20, 0, 100);
  sg_rd_test_run_until(&x.loop, &x.n, 3, 10000);
  ASSERT(x.redelivered[0] && x.redelivered[1] && x.redelivered[2]);
  ASSERT(!x.oversize[0] && x.oversize[1] && !x.oversize[2]);
  ASSERT_EQ((2u << 20) + 3u, x.size[1]);
  finish(&x);
}

/* Neither a size cap nor a byte budget: native reads (XREADGROUP BLOCK),
 * entries sized on arrival for the byte credit bookkeeping. */
static void t_native(void) {
  ctx x;
  begin(&x);
  add_job(&x, 100);
  add_job(&x, 300000);
  start_cap(&x, 0, 0, 100, 0);
  sg_rd_test_run_until(&x.loop, &x.n, 2, 10000);
  ASSERT(!x.oversize[0] && !x.oversize[1]);
  ASSERT_EQ(300000u, x.value_len[1]);
  ASSERT_EQ(300003u, x.size[1]);
  add_job(&x, 50); /* a blocked native read wakes up for it */
  sg_rd_test_run_until(&x.loop, &x.n, 3, 10000);
  sg_rd_stream_stats st;
  sg_rd_stream_get_stats(x.s, &st);
  ASSERT_GE(st.native_reads, 1u);
  ASSERT_EQ(0u, st.reconnects);
  finish(&x);
}

static void t_native_sized(void) {
  ctx x;
  begin(&x);
  for (int i = 0; i < 40; i++)
    add_job(&x, 100);
  /* At first entries may be of the size cap: (3 - 1) MiB holds two, sized reads. */
  start_cap(&x, 1u << 20, 0, 100, 3u << 20);
  sg_rd_test_run_until(&x.loop, &x.n, 40, 10000);
  sg_rd_stream_stats st;
  sg_rd_stream_get_stats(x.s, &st);
  ASSERT_GE(st.native_fetched, 1u);  /* small entries seen: native reads */
  ASSERT_LT(st.native_fetched, 40u); /* but not the first */
  uint64_t native_before = st.native_fetched;
  for (int i = 0; i < 30 && st.native_reads == 0; i++) /* the read now in flight is native */
    sg_rd_test_run_for(&x.loop, 20), sg_rd_stream_get_stats(x.s, &st);

  /* Over the size cap, within the reply cap: read natively, without its fields. */
  add_job(&x, 2u << 20);
  add_job(&x, 100);
  sg_rd_test_run_until(&x.loop, &x.n, 42, 10000);
  ASSERT(x.oversize[40] && !x.oversize[41]);
  ASSERT_EQ((2u << 20) + 3u, x.size[40]);
  ASSERT_EQ(100u, x.value_len[41]);
  sg_rd_stream_get_stats(x.s, &st);
  ASSERT_EQ(native_before + 2, st.native_fetched);
  ASSERT_EQ(0u, st.reconnects);
  ASSERT_EQ(0u, st.oversize_reads);

  /* Over the reply cap: the read connection drops, the entries come from the
   * pending scan (sized), once each. */
  for (int i = 0; i < 30; i++) /* the large entry's estimate halves read by read */
    add_job(&x, 100);
  sg_rd_test_run_until(&x.loop, &x.n, 72, 10000);
  sg_rd_test_run_for(&x.loop, 100);
  add_job(&x, 4u << 20);
  add_job(&x, 100);
  sg_rd_test_run_until(&x.loop, &x.n, 74, 10000);
  sg_rd_test_run_for(&x.loop, 200);
  ASSERT_EQ(74, x.n);
  ASSERT(x.oversize[72] && !x.oversize[73]);
  ASSERT_EQ((4u << 20) + 3u, x.size[72]);
  ASSERT(x.redelivered[72]); /* (the small one may come after it as new: the blocked read
                                 woke for the large one alone) */
  sg_rd_stream_get_stats(x.s, &st);
  ASSERT_EQ(1u, st.oversize_reads);
  ASSERT_EQ(1u, st.reconnects);
  for (int i = 0; i < 74; i++)
    for (int j = i + 1; j < 74; j++)
      ASSERT(strcmp(x.ids[i], x.ids[j]) != 0);
  finish(&x);
}

static void t_byte_budget(void) {
  ctx x;
  begin(&x);
  for (int i = 0; i < 10; i++)
    add_job(&x, 100000);
  /* Room for three entries of 100,003 bytes; a read needs 120,000 free. */
  start(&x, 120000, 350000, 100);
  sg_rd_test_run_until(&x.loop, &x.n, 3, 10000);
  sg_rd_test_run_for(&x.loop, 200); /* polls go on; none may take a fourth */
  ASSERT_EQ(3, x.n);
  sg_rd_stream_stats st;
  sg_rd_stream_get_stats(x.s, &st);
  ASSERT_EQ(350000 - 3 * 100003, st.byte_credit);
  ASSERT_EQ(0u, st.native_reads); /* the reply cap holds fewer than a native read's minimum */
  /* Two finished: two more fit. */
  sg_rd_stream_add_byte_credit(x.s, 2 * 100003);
  sg_rd_test_run_until(&x.loop, &x.n, 5, 10000);
  sg_rd_test_run_for(&x.loop, 200);
  ASSERT_EQ(5, x.n);
  /* All given back: the rest (five) fits in three reads at most. */
  sg_rd_stream_add_byte_credit(x.s, 5 * 100003);
  sg_rd_test_run_until(&x.loop, &x.n, 8, 10000);
  finish(&x);
}

/* An entry given back (the owner could not work on it, e.g. its command
 * connection was down) comes back through a rescan of the own pending list,
 * without a reconnect. */
static void t_unhold_rescan(void) {
  ctx x;
  begin(&x);
  add_job(&x, 100);
  start(&x, 1u << 20, 0, 100);
  sg_rd_test_run_until(&x.loop, &x.n, 1, 10000);
  ASSERT(!x.redelivered[0]);
  sg_rd_stream_unhold(x.s, x.ids[0]);
  sg_rd_test_run_until(&x.loop, &x.n, 2, 10000);
  ASSERT_STR_EQ(x.ids[0], x.ids[1]);
  ASSERT(x.redelivered[1]);
  sg_rd_stream_stats st;
  sg_rd_stream_get_stats(x.s, &st);
  ASSERT_EQ(1u, st.rescans);
  ASSERT_EQ(0u, st.reconnects);
  sg_rd_test_run_for(&x.loop, 300);
  ASSERT_EQ(2, x.n); /* held again: not handed out a third time */
  finish(&x);
}

SG_TESTS({"unhold_rescan", t_unhold_rescan}, {"oversize", t_oversize}, {"native", t_native},
         {"native_sized", t_native_sized}, {"byte_budget", t_byte_budget})
