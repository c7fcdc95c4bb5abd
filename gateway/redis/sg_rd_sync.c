/* SPDX-License-Identifier: Apache-2.0 */
/* Blocking Redis helper for command-line tools; see sg_rd_sync.h. */
#include "redis/sg_rd_sync.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "redis/sg_rd_url.h"

redisContext *sg_rd_sync_connect(const char *url, uint64_t timeout_ms, char *err, size_t errcap) {
  sg_rd_url u;
  if (sg_rd_url_parse(url, &u) != 0) {
    snprintf(err, errcap, "bad Redis URL (expected redis://[:password@]host:port/db)");
    return NULL;
  }
  struct timeval tv = {(time_t)(timeout_ms / 1000), (suseconds_t)((timeout_ms % 1000) * 1000)};
  redisContext *c = u.is_unix ? redisConnectUnixWithTimeout(u.path, tv)
                              : redisConnectWithTimeout(u.host, u.port, tv);
  if (c == NULL || c->err) {
    snprintf(err, errcap, "cannot connect to Redis at %s:%u: %s", u.is_unix ? u.path : u.host,
             (unsigned)u.port, c ? c->errstr : "out of memory");
    if (c)
      redisFree(c);
    return NULL;
  }
  redisSetTimeout(c, tv);
  redisReply *r = NULL;
  if (u.password[0]) {
    if (u.user[0])
      r = redisCommand(c, "AUTH %s %s", u.user, u.password);
    else
      r = redisCommand(c, "AUTH %s", u.password);
    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
      snprintf(err, errcap, "Redis AUTH failed: %s", r ? r->str : c->errstr);
      goto fail;
    }
    freeReplyObject(r);
  }
  if (u.db) {
    r = redisCommand(c, "SELECT %d", u.db);
    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
      snprintf(err, errcap, "Redis SELECT %d failed: %s", u.db, r ? r->str : c->errstr);
      goto fail;
    }
    freeReplyObject(r);
  }
  return c;
fail:
  if (r)
    freeReplyObject(r);
  redisFree(c);
  return NULL;
}

redisReply *sg_rd_sync_cmd(redisContext *c, int argc, const char **argv, const size_t *lens,
                           char *err, size_t errcap) {
  redisReply *r = redisCommandArgv(c, argc, argv, lens);
  if (r == NULL) {
    snprintf(err, errcap, "Redis: %s", c->errstr[0] ? c->errstr : "no reply");
    return NULL;
  }
  if (r->type == REDIS_REPLY_ERROR) {
    snprintf(err, errcap, "Redis: %s", r->str);
    freeReplyObject(r);
    return NULL;
  }
  return r;
}
