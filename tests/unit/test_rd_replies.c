/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for redis/sg_rd_replies: replies built in an arena read exactly
 * like hiredis's own, whatever the read sizes; the arena is reused between
 * replies and freed with the reader (ASan checks the leaks). */
#include "harness.h"

#include <hiredis/hiredis.h>

#include "core/sg_err.h"
#include "redis/sg_rd_replies.h"

/* An XREADGROUP-like reply with every kind of value in it. */
static const char k_reply[] =
    "*2\r\n"
    "*2\r\n$13\r\nsendgate:jobs\r\n*3\r\n"
    "*2\r\n$3\r\n1-1\r\n*4\r\n$3\r\njob\r\n$5\r\nab\0cd\r\n$8\r\nattempts\r\n$1\r\n2\r\n"
    "*2\r\n$3\r\n1-2\r\n*-1\r\n"
    "*2\r\n$3\r\n1-3\r\n*0\r\n"
    "*5\r\n:42\r\n$-1\r\n+OK\r\n-ERR bad\r\n$0\r\n\r\n";

static void same(const redisReply *a, const redisReply *b) {
  ASSERT_EQ(a->type, b->type);
  switch (a->type) {
  case REDIS_REPLY_ARRAY:
    ASSERT_EQ(a->elements, b->elements);
    for (size_t i = 0; i < a->elements; i++)
      same(a->element[i], b->element[i]);
    break;
  case REDIS_REPLY_INTEGER:
    ASSERT_EQ(a->integer, b->integer);
    break;
  case REDIS_REPLY_NIL:
    break;
  default:
    ASSERT_EQ(a->len, b->len);
    ASSERT_MEM_EQ(a->str, b->str, a->len);
    ASSERT_EQ('\0', b->str[b->len]);
  }
}

static redisReply *read_in_pieces(redisReader *r, const char *p, size_t n, size_t step) {
  void *out = NULL;
  for (size_t off = 0; off < n; off += step) {
    size_t k = n - off < step ? n - off : step;
    ASSERT_EQ(REDIS_OK, redisReaderFeed(r, p + off, k));
    ASSERT_EQ(REDIS_OK, redisReaderGetReply(r, &out));
    if (out)
      ASSERT_EQ(n, off + k); /* complete only with the last byte */
  }
  ASSERT_NOT_NULL(out);
  return out;
}

static void t_same_as_hiredis(void) {
  size_t n = sizeof k_reply - 1;
  redisReader *ref = redisReaderCreate();
  redisReply *want = read_in_pieces(ref, k_reply, n, n);
  redisReader *r = redisReaderCreate();
  ASSERT_OK(sg_rd_replies_attach(r));
  ASSERT_EQ(SG_ERR_EXISTS, sg_rd_replies_attach(r));
  for (size_t step = 1; step <= n; step += step < 8 ? 1 : 13) {
    redisReply *got = read_in_pieces(r, k_reply, n, step);
    same(want, got);
    r->fn->freeObject(got); /* as hiredis does after the callback */
  }
  freeReplyObject(want);
  redisReaderFree(ref);
  sg_rd_replies_detach(r); /* nothing half read: freed now */
  redisReaderFree(r);
}

/* Replies larger than a chunk, many times: values stay valid until the reply is freed. */
static void t_big_replies(void) {
  redisReader *r = redisReaderCreate();
  r->maxbuf = 0;
  ASSERT_OK(sg_rd_replies_attach(r));
  static char big[300000];
  memset(big, 'x', sizeof big);
  char head[64];
  for (int round = 0; round < 20; round++) {
    int k = 3 + round % 5;
    int hl = snprintf(head, sizeof head, "*%d\r\n", k);
    ASSERT_EQ(REDIS_OK, redisReaderFeed(r, head, (size_t)hl));
    for (int i = 0; i < k; i++) {
      size_t len = sizeof big - (size_t)(i * 1000);
      hl = snprintf(head, sizeof head, "$%zu\r\n", len);
      ASSERT_EQ(REDIS_OK, redisReaderFeed(r, head, (size_t)hl));
      ASSERT_EQ(REDIS_OK, redisReaderFeed(r, big, len));
      ASSERT_EQ(REDIS_OK, redisReaderFeed(r, "\r\n", 2));
    }
    void *out;
    ASSERT_EQ(REDIS_OK, redisReaderGetReply(r, &out));
    redisReply *y = out;
    ASSERT_EQ(REDIS_REPLY_ARRAY, y->type);
    ASSERT_EQ((size_t)k, y->elements);
    for (int i = 0; i < k; i++) {
      ASSERT_EQ(sizeof big - (size_t)(i * 1000), y->element[i]->len);
      ASSERT_EQ('x', y->element[i]->str[0]);
      ASSERT_EQ('x', y->element[i]->str[y->element[i]->len - 1]);
    }
    r->fn->freeObject(y);
  }
  sg_rd_replies_detach(r);
  redisReaderFree(r);
}

/* The context goes away with a reply half read: hiredis frees that reply
 * with the reader, and the arena with it. */
static void t_detach_mid_reply(void) {
  redisReader *r = redisReaderCreate();
  ASSERT_OK(sg_rd_replies_attach(r));
  ASSERT_EQ(REDIS_OK, redisReaderFeed(r, k_reply, 60));
  void *out = NULL;
  ASSERT_EQ(REDIS_OK, redisReaderGetReply(r, &out));
  ASSERT_NULL(out);
  sg_rd_replies_detach(r);
  sg_rd_replies_detach(r); /* twice: no-op */
  redisReaderFree(r);      /* frees the partial reply and the arena */
}

/* An array header that declares more elements than any reply of ours holds
 * fails the reader (out of memory) instead of allocating them; so do many
 * large arrays in one reply, while the same sizes in separate replies pass. */
static void t_element_cap(void) {
  redisReader *r = redisReaderCreate();
  ASSERT_OK(sg_rd_replies_attach(r));
  ASSERT_EQ(REDIS_OK, redisReaderFeed(r, "*350000100\r\n", 12));
  void *out = NULL;
  ASSERT_EQ(REDIS_ERR, redisReaderGetReply(r, &out));
  ASSERT_EQ(REDIS_ERR_OOM, r->err);
  sg_rd_replies_detach(r);
  redisReaderFree(r);

  char head[32];
  int half = (int)(SG_RD_REPLY_MAX_ELEMENTS / 2);
  int hl = snprintf(head, sizeof head, "*%d\r\n", half);
  r = redisReaderCreate();
  ASSERT_OK(sg_rd_replies_attach(r));
  ASSERT_EQ(REDIS_OK, redisReaderFeed(r, "*3\r\n", 4));
  for (int i = 0; i < 3; i++)
    ASSERT_EQ(REDIS_OK, redisReaderFeed(r, head, (size_t)hl));
  ASSERT_EQ(REDIS_ERR, redisReaderGetReply(r, &out));
  ASSERT_EQ(REDIS_ERR_OOM, r->err);
  sg_rd_replies_detach(r);
  redisReaderFree(r);

  r = redisReaderCreate();
  ASSERT_OK(sg_rd_replies_attach(r));
  for (int round = 0; round < 3; round++) {
    ASSERT_EQ(REDIS_OK, redisReaderFeed(r, head, (size_t)hl));
    for (int i = 0; i < half; i++)
      ASSERT_EQ(REDIS_OK, redisReaderFeed(r, ":1\r\n", 4));
    ASSERT_EQ(REDIS_OK, redisReaderGetReply(r, &out));
    ASSERT_NOT_NULL(out);
    ASSERT_EQ((size_t)half, ((redisReply *)out)->elements);
    r->fn->freeObject(out);
  }
  sg_rd_replies_detach(r);
  redisReaderFree(r);
}

/* The byte cap counts the strings of one reply, however many values they
 * come in: three strings of 10 bytes pass a cap of 30 and fail one of 29;
 * the count starts again with each reply. */
static void t_byte_cap(void) {
  static const char three[] = "*3\r\n$10\r\n0123456789\r\n+0123456789\r\n$10\r\n0123456789\r\n";
  redisReader *r = redisReaderCreate();
  ASSERT_OK(sg_rd_replies_attach(r));
  sg_rd_replies_set_cap(r, 30);
  void *out = NULL;
  for (int round = 0; round < 3; round++) {
    ASSERT_EQ(REDIS_OK, redisReaderFeed(r, three, sizeof three - 1));
    ASSERT_EQ(REDIS_OK, redisReaderGetReply(r, &out));
    ASSERT_NOT_NULL(out);
    ASSERT_EQ(3u, ((redisReply *)out)->elements);
    r->fn->freeObject(out);
  }
  sg_rd_replies_set_cap(r, 29);
  ASSERT_EQ(REDIS_OK, redisReaderFeed(r, three, sizeof three - 1));
  ASSERT_EQ(REDIS_ERR, redisReaderGetReply(r, &out));
  ASSERT_EQ(REDIS_ERR_OOM, r->err);
  sg_rd_replies_detach(r);
  redisReaderFree(r);

  /* 0: no cap. */
  r = redisReaderCreate();
  ASSERT_OK(sg_rd_replies_attach(r));
  sg_rd_replies_set_cap(r, 0);
  ASSERT_EQ(REDIS_OK, redisReaderFeed(r, three, sizeof three - 1));
  ASSERT_EQ(REDIS_OK, redisReaderGetReply(r, &out));
  ASSERT_NOT_NULL(out);
  r->fn->freeObject(out);
  sg_rd_replies_detach(r);
  redisReaderFree(r);
}

SG_TESTS({"same_as_hiredis", t_same_as_hiredis}, {"big_replies", t_big_replies},
         {"detach_mid_reply", t_detach_mid_reply}, {"element_cap", t_element_cap},
         {"byte_cap", t_byte_cap})
