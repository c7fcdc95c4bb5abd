/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sg_rd_sync (the command-line tools' blocking client, sg_rd_client on a
 * private loop) against a real redis-server: commands with binary values and
 * NULL lengths, replies the caller owns, error replies, AUTH + SELECT, and
 * the one-line reasons for a refused connection and a refused password.
 */
#include "harness.h"
#include "redis_server.h"

#include "redis/sg_rd_sync.h"

static void t_commands(void) {
  sg_test_redis r;
  ASSERT_OK(sg_test_redis_start(&r, NULL));
  char url[128], err[300];
  snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", r.port);
  sg_rd_sync *s = sg_rd_sync_connect(url, NULL, 2000, err, sizeof err);
  ASSERT_NOT_NULL(s);
  const char bin[] = "x\0y\r\nz";
  const char *set[] = {"SET", "k", bin};
  size_t lens[] = {3, 1, sizeof bin - 1};
  redisReply *x = sg_rd_sync_cmd(s, 3, set, lens, err, sizeof err);
  ASSERT_NOT_NULL(x);
  freeReplyObject(x);
  const char *xadd[] = {"XADD", "st", "*", "f", "v"};
  x = sg_rd_sync_cmd(s, 5, xadd, NULL, err, sizeof err);
  ASSERT_NOT_NULL(x);
  freeReplyObject(x);
  const char *get[] = {"GET", "k"};
  x = sg_rd_sync_cmd(s, 2, get, NULL, err, sizeof err);
  ASSERT_NOT_NULL(x);
  ASSERT_EQ(sizeof bin - 1, x->len);
  ASSERT(memcmp(x->str, bin, x->len) == 0);
  freeReplyObject(x);
  /* A nested reply, owned by the caller after the next command. */
  const char *range[] = {"XRANGE", "st", "-", "+"};
  redisReply *nested = sg_rd_sync_cmd(s, 4, range, NULL, err, sizeof err);
  ASSERT_NOT_NULL(nested);
  const char *ping[] = {"PING"};
  x = sg_rd_sync_cmd(s, 1, ping, NULL, err, sizeof err);
  ASSERT_STR_EQ("PONG", x->str);
  freeReplyObject(x);
  ASSERT_EQ(1, nested->elements);
  ASSERT_STR_EQ("v", nested->element[0]->element[1]->element[1]->str);
  freeReplyObject(nested);
  const char *bad[] = {"INCR", "k"};
  ASSERT(sg_rd_sync_cmd(s, 2, bad, NULL, err, sizeof err) == NULL);
  ASSERT(strstr(err, "ERR") != NULL);
  sg_rd_sync_free(s);
  sg_test_redis_stop(&r);
}

static void t_refused(void) {
  sg_test_redis_opts so = {.password = "right"};
  sg_test_redis r;
  ASSERT_OK(sg_test_redis_start(&r, &so));
  char url[128], err[300];
  snprintf(url, sizeof url, "redis://:wrong@127.0.0.1:%d/0", r.port);
  ASSERT(sg_rd_sync_connect(url, NULL, 2000, err, sizeof err) == NULL);
  ASSERT(strstr(err, "WRONGPASS") != NULL || strstr(err, "invalid") != NULL);
  ASSERT(strstr(err, "wrong") == NULL); /* the password is not repeated */
  snprintf(url, sizeof url, "redis://:right@127.0.0.1:%d/4", r.port);
  sg_rd_sync *s = sg_rd_sync_connect(url, NULL, 2000, err, sizeof err);
  ASSERT_NOT_NULL(s);
  const char *set[] = {"SET", "db4", "1"};
  redisReply *x = sg_rd_sync_cmd(s, 3, set, NULL, err, sizeof err);
  ASSERT_NOT_NULL(x);
  freeReplyObject(x);
  sg_rd_sync_free(s);
  int port = r.port;
  sg_test_redis_stop(&r);
  snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", port);
  ASSERT(sg_rd_sync_connect(url, NULL, 2000, err, sizeof err) == NULL);
  ASSERT(strstr(err, "cannot connect to Redis at 127.0.0.1:") != NULL);
  ASSERT(sg_rd_sync_connect("http://x", NULL, 2000, err, sizeof err) == NULL);
  ASSERT(strstr(err, "bad Redis URL") != NULL);
  /* rediss:// with an unreadable CA file: refused before any connection. */
  ASSERT(sg_rd_sync_connect("rediss://localhost:1", "/nonexistent/ca.pem", 2000, err, sizeof err) ==
         NULL);
}

SG_TESTS({"commands", t_commands}, {"refused", t_refused})
