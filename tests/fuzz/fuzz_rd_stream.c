/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the job stream consumer's handling of what Redis
 * answers (redis/sg_rd_stream.c: XGROUP CREATE, XREADGROUP replies and the
 * entries in them; sg_rd_stream_txn.c: the completion script's replies), the
 * real code over fuzz_memredis.c, an in-memory sg_rd_client, on a libuv loop.
 *
 * Input: RESP, parsed by hiredis's reader with the gateway's reply arena
 * (redis/sg_rd_replies.c). Each reply answers the oldest command sent (an
 * error reply as Redis's error; the status reply "+DROP" instead drops that
 * command's connection). Entries handed out are completed at once, in turn
 * with sg_rd_stream_complete, _complete_once, _complete_ex with
 * SG_RD_COMPLETE_TRUSTED (the MULTI fast path; its ack guarded by a script
 * for inputs of odd length, sg_rd_stream_set_ack_guard), the same with
 * SG_RD_COMPLETE_ONCE, and _dead_letter, each giving one
 * credit back. At the end the consumer is stopped; completions still waiting
 * then get an empty script reply.
 * Checked: an entry handed out has a NUL-terminated id below SG_RD_ID_MAX that
 * parses to its id_num, is not handed out again while held, and has its
 * fields; every completion queued gets exactly one done callback; the stopped
 * callback comes, and no client and no handle is left afterwards.
 */
#include <hiredis/hiredis.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "fuzz_common.h"
#include "fuzz_memredis.h"
#include "redis/sg_rd_ids.h"
#include "redis/sg_rd_replies.h"
#include "redis/sg_rd_stream.h"

#define MAX_TURNS 16
#define MAX_HELD 1024

static uv_loop_t loop;
static unsigned queued, done_calls, entries;
static bool stopped;
static sg_rd_idset held;       /* what the target holds: handed out, not confirmed */
static sg_rd_id ids[MAX_HELD]; /* the entry of each completion queued */

static void step(void) {
  for (int i = 0; i < MAX_TURNS; i++) {
    uv_run(&loop, UV_RUN_NOWAIT);
    if (!sg_fz_rd_pump() && i > 1)
      return;
  }
}

static void on_done(sg_rd_stream *s, int status, void *ud) {
  CHECK(status == 0 || status == SG_ERR_REDIS || status == SG_ERR_SHUTDOWN);
  if (status == 0) /* acked: Redis may hand it out again only if re-added */
    sg_rd_idset_remove(&held, ids[(uintptr_t)ud]);
  done_calls++;
  CHECK(done_calls <= queued);
  sg_rd_stream_add_credit(s, 1);
}

static void on_entry(sg_rd_stream *s, const sg_rd_entry *e, void *ud) {
  (void)ud;
  entries++;
  CHECK(e->id != NULL);
  size_t n = strnlen(e->id, SG_RD_ID_MAX);
  CHECK(n > 0 && n < SG_RD_ID_MAX);
  sg_rd_id id;
  CHECK(sg_rd_id_parse(e->id, n, &id) == 0);
  CHECK(memcmp(&id, &e->id_num, sizeof id) == 0);
  CHECK(e->nfields == 0 || e->fields != NULL);
  for (size_t i = 0; i < e->nfields; i++)
    CHECK(e->fields[i].name != NULL && e->fields[i].value != NULL);
  /* Held entries are not handed out again (they stay held until confirmed). */
  CHECK(!sg_rd_idset_has(&held, id));
  if (queued >= MAX_HELD)
    return; /* kept, never completed: the stream may not hand it out again */
  sg_rd_idset_add(&held, id);
  ids[queued] = id;
  void *cud = (void *)(uintptr_t)queued;

  static const char *const argv[] = {"XADD", "sendgate:results", "*", "result", "r"};
  static const size_t lens[] = {4, 16, 1, 6, 1};
  sg_rd_op ops[] = {{5, argv, lens}};
  int rv;
  switch (entries % 5) {
  case 0:
    rv = sg_rd_stream_complete(s, e->id, ops, 1, on_done, cud);
    break;
  case 1:
    rv = sg_rd_stream_complete_once(s, e->id, ops, 1, on_done, cud);
    break;
  case 2: /* the MULTI fast path */
    rv = sg_rd_stream_complete_ex(s, e->id, ops, 1, SG_RD_COMPLETE_TRUSTED, on_done, cud);
    break;
  case 3:
    rv = sg_rd_stream_complete_ex(s, e->id, ops, 1, SG_RD_COMPLETE_TRUSTED | SG_RD_COMPLETE_ONCE,
                                  on_done, cud);
    break;
  default:
    rv = sg_rd_stream_dead_letter(s, e, "fuzz", ops, 1, on_done, cud);
    break;
  }
  CHECK(rv == 0 || rv == SG_ERR_SHUTDOWN);
  if (rv == 0)
    queued++;
}

static void on_stopped(sg_rd_stream *s, void *ud) {
  (void)s;
  (void)ud;
  stopped = true;
}

/* Answers the oldest command with |r| (owned by the reader's arena). */
static void answer(const redisReply *r) {
  const char *verb;
  sg_rd_client *c = sg_fz_rd_oldest(&verb);
  if (c == NULL)
    return;
  if (r->type == REDIS_REPLY_STATUS && r->len == 4 && memcmp(r->str, "DROP", 4) == 0) {
    sg_fz_rd_drop(c);
    return;
  }
  if (sg_fuzz_verbose())
    fprintf(stderr, "rd_stream: %s <- type %d\n", verb, r->type);
  sg_fz_rd_answer(r->type == REDIS_REPLY_ERROR ? SG_ERR_REDIS : 0, r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static bool init;
  if (!init) {
    CHECK(uv_loop_init(&loop) == 0);
    sg_log_set_level(SG_LOG_ERROR + 1);
    init = true;
  }
  queued = done_calls = entries = 0;
  stopped = false;
  sg_rd_idset_init(&held);

  sg_rd_url url;
  CHECK(sg_rd_url_parse("redis://127.0.0.1:6379/0", &url) == 0);
  sg_rd_stream_opts o;
  memset(&o, 0, sizeof o);
  o.consumer = "fuzz-1";
  o.count = 8;
  sg_rd_stream_cbs cbs = {on_entry, NULL};
  sg_rd_stream *s = NULL;
  CHECK(sg_rd_stream_new(&loop, &url, &o, &cbs, &s) == 0);
  if (size % 2 == 1) /* the fast path's ack: the guarded script, else XACK + XDEL */
    sg_rd_stream_set_ack_guard(s, "sendgate:results");
  sg_rd_stream_set_credit(s, 8);
  step();

  redisReader *rd = redisReaderCreate();
  CHECK(rd != NULL && sg_rd_replies_attach(rd) == 0);
  if (size > 0)
    CHECK(redisReaderFeed(rd, (const char *)data, size) == REDIS_OK);
  for (;;) {
    void *reply = NULL;
    if (redisReaderGetReply(rd, &reply) != REDIS_OK || reply == NULL)
      break;
    answer(reply);
    rd->fn->freeObject(reply);
    step();
  }
  sg_rd_replies_detach(rd);
  redisReaderFree(rd);

  sg_rd_stream_stop(s, on_stopped, NULL);
  step();
  redisReply empty = {.type = REDIS_REPLY_ARRAY};
  for (int i = 0; i < 64 && !stopped; i++) {
    if (sg_fz_rd_oldest(NULL) != NULL)
      sg_fz_rd_answer(0, &empty);
    step();
  }
  CHECK(stopped);
  CHECK(sg_fz_rd_count() == 0);
  CHECK(uv_run(&loop, UV_RUN_NOWAIT) == 0);
  CHECK(done_calls == queued);
  sg_rd_idset_free(&held);
  if (sg_fuzz_verbose())
    fprintf(stderr, "rd_stream: %u entries, %u completions\n", entries, queued);
  return 0;
}
