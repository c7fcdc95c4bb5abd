/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the arena that builds Redis replies
 * (redis/sg_rd_replies.c) inside hiredis's reader: what a Redis server (or
 * anything on its port) sends, parsed as the gateway parses it.
 *
 * Input: one selector byte (the size of the pieces the bytes arrive in), then
 * the byte stream. Each reply is taken and freed before the next, as hiredis's
 * async context does.
 * Checked, against a second reader with hiredis's own reply objects fed the
 * same bytes at once: the same replies (type, integer, string bytes, NUL
 * after each string, element count, recursively) and the same protocol error;
 * a reader dropped with a partly read reply after sg_rd_replies_detach leaks
 * nothing (LeakSanitizer).
 */
#include <hiredis/hiredis.h>
#include <string.h>

#include "core/sg_mem.h"
#include "fuzz_common.h"
#include "redis/sg_rd_replies.h"

#define MAX_REPLIES 256

/* Writes |r| into |out| in a canonical form. */
static void describe(const redisReply *r, sg_buf *out, int depth) {
  CHECK(depth < 16);
  sg_buf_printf(out, "(%d", r->type);
  switch (r->type) {
  case REDIS_REPLY_INTEGER:
    sg_buf_printf(out, " %lld", r->integer);
    break;
  case REDIS_REPLY_STRING:
  case REDIS_REPLY_STATUS:
  case REDIS_REPLY_ERROR:
    CHECK(r->str != NULL && r->str[r->len] == '\0');
    sg_buf_printf(out, " %zu:", r->len);
    sg_buf_append(out, r->str, r->len);
    break;
  case REDIS_REPLY_ARRAY:
    sg_buf_printf(out, " %zu", r->elements);
    for (size_t i = 0; i < r->elements; i++) {
      CHECK(r->element[i] != NULL);
      describe(r->element[i], out, depth + 1);
    }
    break;
  default:
    break;
  }
  sg_buf_append_char(out, ')');
}

/* Reads every reply of |rd| into |out|; returns the reader's error (0 none). */
static int take_replies(redisReader *rd, sg_buf *out) {
  for (int i = 0; i < MAX_REPLIES; i++) {
    void *reply = NULL;
    if (redisReaderGetReply(rd, &reply) != REDIS_OK) {
      sg_buf_printf(out, "E%d:%s", rd->err, rd->errstr);
      return rd->err;
    }
    if (reply == NULL)
      return 0;
    describe(reply, out, 0);
    rd->fn->freeObject(reply); /* what hiredis calls after a callback */
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  size_t step = 1 + data[0] % 64;
  const char *in = (const char *)data + 1;
  size_t n = size - 1;

  redisReader *arena = redisReaderCreate();
  CHECK(arena != NULL && sg_rd_replies_attach(arena) == 0);
  sg_buf got = SG_BUF_INIT;
  int err = 0;
  for (size_t pos = 0; pos < n && err == 0; pos += step) {
    size_t len = n - pos < step ? n - pos : step;
    CHECK(redisReaderFeed(arena, in + pos, len) == REDIS_OK);
    err = take_replies(arena, &got);
  }
  sg_rd_replies_detach(arena); /* possibly with a reply half read */
  redisReaderFree(arena);

  /* The reference: hiredis's own objects, all bytes at once. A reply too big
   * for the arena (an out-of-memory error) would only make hiredis allocate
   * the same; it is not compared. */
  if (err != REDIS_ERR_OOM) {
    redisReader *plain = redisReaderCreate();
    CHECK(plain != NULL);
    sg_buf want = SG_BUF_INIT;
    if (n > 0)
      CHECK(redisReaderFeed(plain, in, n) == REDIS_OK);
    int perr = 0;
    for (int round = 0; round < MAX_REPLIES && perr == 0; round++) {
      size_t before = want.len;
      perr = take_replies(plain, &want);
      if (want.len == before)
        break;
    }
    redisReaderFree(plain);
    if (sg_fuzz_verbose())
      fprintf(stderr, "rd_replies: err %d, %zu bytes of replies\n", err, got.len);
    CHECK(perr == err);
    CHECK(got.len == want.len && (got.len == 0 || memcmp(got.data, want.data, got.len) == 0));
    sg_buf_free(&want);
  }
  sg_buf_free(&got);
  return 0;
}
