/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bulk feeder against a real, private redis-server: it moves bulk entries
 * into the job stream only while the job stream has nothing undelivered for
 * the group (up to the low-water mark) and only as many as the owner has room
 * for, oldest first, with all their fields plus bulk_from, deleting them from
 * the bulk stream; the job stream without a group counts every entry as
 * undelivered.
 */
#include "rd_test_client.h"

#include "core/sg_err.h"
#include "redis/sg_rd_feeder.h"

typedef struct ctx {
  sg_rd_test_env e;
  sg_rd_feeder *f;
  uint32_t room;
} ctx;

static uint32_t room(void *ud) {
  return ((ctx *)ud)->room;
}

static void begin(ctx *x, uint32_t low_water) {
  memset(x, 0, sizeof *x);
  sg_rd_test_env_start(&x->e);
  sg_rd_feeder_opts fo = {.client = x->e.c,
                          .bulk = "sendgate:jobs:bulk",
                          .batch = 4,
                          .low_water = low_water,
                          .tick_ms = 3600000,
                          .room = room,
                          .room_ud = x};
  ASSERT_OK(sg_rd_feeder_new(&x->e.loop, &fo, &x->f));
}

/* Runs the feeder once and waits (bounded) for its answer; returns the entries it moved. */
static uint64_t feed_once(ctx *x) {
  sg_rd_feeder_stats before, st;
  sg_rd_feeder_get_stats(x->f, &before);
  sg_rd_feeder_kick(x->f);
  uint64_t end = uv_now(&x->e.loop) + 5000;
  do {
    uv_run(&x->e.loop, UV_RUN_NOWAIT);
    sg_rd_feeder_get_stats(x->f, &st);
  } while (st.runs + st.errors == before.runs + before.errors && uv_now(&x->e.loop) < end);
  ASSERT_EQ(before.errors, st.errors);
  ASSERT_EQ(before.runs + 1, st.runs);
  return st.moved - before.moved;
}

static void end_ctx(ctx *x) {
  sg_rd_feeder_close(x->f, sg_rd_test_env_on_closed, &x->e);
  sg_rd_test_env_stop(&x->e, 1);
}

static redisReply *cmd(ctx *x, const char *fmt, const char *a) {
  redisReply *r = sg_test_redis_cmd(&x->e.r, fmt, a);
  ASSERT_NOT_NULL(r);
  ASSERT(r->type != REDIS_REPLY_ERROR);
  return r;
}

static long long len(ctx *x, const char *key) {
  redisReply *r = cmd(x, "XLEN %s", key);
  long long v = r->integer;
  freeReplyObject(r);
  return v;
}

static void t_feeds_when_read(void) {
  ctx x;
  begin(&x, 0);
  char id[16];
  for (int i = 1; i <= 10; i++) {
    snprintf(id, sizeof id, "%d-0", i);
    freeReplyObject(cmd(&x, "XADD sendgate:jobs:bulk %s job j attempts 2", id));
  }
  freeReplyObject(cmd(&x, "XGROUP CREATE sendgate:jobs sendgate 0 %s", "MKSTREAM"));
  /* No room: nothing moves (the run still reports the backlog). */
  ASSERT_EQ(0, feed_once(&x));
  sg_rd_feeder_stats st;
  sg_rd_feeder_get_stats(x.f, &st);
  ASSERT_EQ(10, st.bulk_len);
  /* Room for 3: the 3 oldest move, with their fields and where they came from. */
  x.room = 3;
  ASSERT_EQ(3, feed_once(&x));
  ASSERT_EQ(7, len(&x, "sendgate:jobs:bulk"));
  redisReply *r = cmd(&x, "XRANGE sendgate:jobs - + COUNT %s", "1");
  ASSERT_EQ(1, r->elements);
  redisReply *f = r->element[0]->element[1];
  ASSERT_EQ(6, f->elements);
  ASSERT_STR_EQ("job", f->element[0]->str);
  ASSERT_STR_EQ("j", f->element[1]->str);
  ASSERT_STR_EQ("attempts", f->element[2]->str);
  ASSERT_STR_EQ("bulk_from", f->element[4]->str);
  ASSERT_STR_EQ("1-0", f->element[5]->str);
  freeReplyObject(r);
  /* They are not read yet: nothing more moves, whatever the room. */
  x.room = 100;
  ASSERT_EQ(0, feed_once(&x));
  sg_rd_feeder_get_stats(x.f, &st);
  ASSERT_EQ(3, st.backlog);
  /* Read (pending counts as delivered): the next batch, at most |batch| (4). */
  freeReplyObject(cmd(&x, "XREADGROUP GROUP sendgate c1 COUNT 10 STREAMS sendgate:jobs %s", ">"));
  ASSERT_EQ(4, feed_once(&x));
  freeReplyObject(cmd(&x, "XREADGROUP GROUP sendgate c1 COUNT 10 STREAMS sendgate:jobs %s", ">"));
  ASSERT_EQ(3, feed_once(&x));
  ASSERT_EQ(0, len(&x, "sendgate:jobs:bulk"));
  ASSERT_EQ(10, len(&x, "sendgate:jobs"));
  end_ctx(&x);
}

/* A low-water mark lets a few undelivered entries be; no group: all undelivered. */
static void t_low_water(void) {
  ctx x;
  begin(&x, 2);
  x.room = 10;
  for (int i = 0; i < 6; i++)
    freeReplyObject(cmd(&x, "XADD sendgate:jobs:bulk * job %s", "j"));
  /* No job stream yet: nothing undelivered, a batch moves. */
  ASSERT_EQ(4, feed_once(&x));
  /* 4 undelivered (no group reads them), above 2: nothing. */
  ASSERT_EQ(0, feed_once(&x));
  freeReplyObject(cmd(&x, "XGROUP CREATE sendgate:jobs sendgate 0 %s", "MKSTREAM"));
  freeReplyObject(cmd(&x, "XREADGROUP GROUP sendgate c1 COUNT 2 STREAMS sendgate:jobs %s", ">"));
  ASSERT_EQ(2, feed_once(&x)); /* 2 undelivered: at the mark */
  end_ctx(&x);
}

SG_TESTS({"feeds_when_read", t_feeds_when_read}, {"low_water", t_low_water})
