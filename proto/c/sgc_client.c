/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client: one blocking hiredis connection; XADD of encoded jobs, and
 * results read with XREAD BLOCK and a cursor (no consumer group). Every wait
 * is a loop of XREADs of at most BLOCK_MAX_MS each, bounded by a deadline.
 */
#define _POSIX_C_SOURCE 200809L
#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sgc_int.h"

/* One XREAD blocks at most this long, so deadlines are checked between them. */
#define BLOCK_MAX_MS 1000
/* Socket timeout for every command: a blocked XREAD plus a slow server. */
#define COMMAND_TIMEOUT_MS (BLOCK_MAX_MS + 5000)

struct sgc_client {
  redisContext *rc;
  char *jobs, *results, *prefix;
  char err[256];
};

static int fail(sgc_client *c, int rv, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->err, sizeof c->err, fmt, ap);
  va_end(ap);
  return rv;
}

static long long mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *sgc_errstr(const sgc_client *c) {
  return c->err;
}

/* A command with binary-safe arguments; NULL on failure (c->err says why). */
static redisReply *cmd(sgc_client *c, int argc, const char **argv, const size_t *lens) {
  redisReply *r = redisCommandArgv(c->rc, argc, argv, lens);
  if (r == NULL) {
    fail(c, 0, "%s: %s", argv[0], c->rc->errstr[0] ? c->rc->errstr : "connection lost");
    return NULL;
  }
  if (r->type == REDIS_REPLY_ERROR) {
    fail(c, 0, "%s: %s", argv[0], r->str);
    freeReplyObject(r);
    return NULL;
  }
  return r;
}

static int simple(sgc_client *c, int argc, const char **argv) {
  redisReply *r = cmd(c, argc, argv, NULL);
  if (r == NULL)
    return SGC_ERR_REDIS;
  freeReplyObject(r);
  return 0;
}

int sgc_set_streams(sgc_client *c, const char *jobs, const char *results, const char *prefix) {
  char *s[3] = {strdup(jobs ? jobs : c->jobs), strdup(results ? results : c->results),
                strdup(prefix ? prefix : c->prefix)};
  if (!s[0] || !s[1] || !s[2]) {
    free(s[0]), free(s[1]), free(s[2]);
    return SGC_ERR_NOMEM;
  }
  free(c->jobs), free(c->results), free(c->prefix);
  c->jobs = s[0], c->results = s[1], c->prefix = s[2];
  return 0;
}

int sgc_connect(sgc_client **out, const char *url, char *err, size_t errlen) {
  char dummy[1];
  if (err == NULL)
    err = dummy, errlen = sizeof dummy;
  if (url == NULL)
    url = getenv("SENDGATE_REDIS_URL");
  if (url == NULL || *url == '\0')
    url = "redis://127.0.0.1:6379/0";
  sgc_url u;
  if (sgc_url_parse(url, &u) != 0) {
    snprintf(err, errlen, "cannot read the Redis URL (redis://[[user]:password@]host[:port][/db])");
    return SGC_ERR_ARG;
  }
  sgc_client *c = calloc(1, sizeof *c);
  if (c == NULL ||
      (c->jobs = strdup("sendgate:jobs"), c->results = strdup("sendgate:results"),
       c->prefix = strdup("sendgate:results"), !c->jobs || !c->results || !c->prefix)) {
    sgc_close(c);
    snprintf(err, errlen, "out of memory");
    return SGC_ERR_NOMEM;
  }
  struct timeval tv = {COMMAND_TIMEOUT_MS / 1000, (COMMAND_TIMEOUT_MS % 1000) * 1000};
  c->rc = redisConnectWithTimeout(u.host, u.port, tv);
  if (c->rc == NULL || c->rc->err) {
    snprintf(err, errlen, "cannot connect to Redis at %s:%d: %s", u.host, u.port,
             c->rc ? c->rc->errstr : "out of memory");
    sgc_close(c);
    return SGC_ERR_REDIS;
  }
  redisSetTimeout(c->rc, tv);
  char db[16];
  snprintf(db, sizeof db, "%d", u.db);
  const char *auth[] = {"AUTH", u.user ? u.user : u.password, u.password};
  const char *select[] = {"SELECT", db};
  if ((u.password && simple(c, u.user ? 3 : 2, auth) != 0) || (u.db && simple(c, 2, select) != 0)) {
    snprintf(err, errlen, "%s", c->err);
    sgc_close(c);
    return SGC_ERR_REDIS;
  }
  *out = c;
  return 0;
}

void sgc_close(sgc_client *c) {
  if (c == NULL)
    return;
  if (c->rc)
    redisFree(c->rc);
  free(c->jobs), free(c->results), free(c->prefix);
  free(c);
}

static int has_prefix(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

int sgc_send(sgc_client *c, sgc_job *j) {
  const char *reply = sgc_job_reply_stream_(j);
  if (reply[0] && !has_prefix(reply, c->prefix))
    return fail(c, SGC_ERR_ARG, "the reply stream must start with %s", c->prefix);
  uint8_t *buf;
  size_t len;
  const char *why;
  int rv = sgc_job_encode(j, &buf, &len, &why);
  if (rv != 0)
    return fail(c, rv, "%s", why ? why : sgc_strerror(rv));
  const char *argv[] = {"XADD", c->jobs, "*", "job", (const char *)buf};
  size_t lens[] = {4, strlen(c->jobs), 1, 3, len};
  redisReply *r = cmd(c, 5, argv, lens);
  free(buf);
  if (r == NULL)
    return SGC_ERR_REDIS;
  freeReplyObject(r);
  return 0;
}

/* Copies the id of the last entry of |stream| ("0-0" when empty) into |cursor|. */
static int last_id(sgc_client *c, const char *stream, char cursor[SGC_CURSOR_MAX]) {
  const char *argv[] = {"XREVRANGE", stream, "+", "-", "COUNT", "1"};
  redisReply *r = cmd(c, 6, argv, NULL);
  if (r == NULL)
    return SGC_ERR_REDIS;
  snprintf(cursor, SGC_CURSOR_MAX, "%s",
           r->type == REDIS_REPLY_ARRAY && r->elements == 1 ? r->element[0]->element[0]->str
                                                            : "0-0");
  freeReplyObject(r);
  return 0;
}

int sgc_read_results(sgc_client *c, const char *stream, char cursor[SGC_CURSOR_MAX], int block_ms,
                     sgc_result_cb cb, void *user) {
  if (stream == NULL)
    stream = c->results;
  if (strcmp(cursor, "$") == 0 && last_id(c, stream, cursor) != 0)
    return SGC_ERR_REDIS;
  char block[16];
  snprintf(block, sizeof block, "%d", block_ms < 1 ? 1 : block_ms);
  const char *argv[] = {"XREAD", "COUNT", "100", "BLOCK", block, "STREAMS", stream, cursor};
  redisReply *r = cmd(c, 8, argv, NULL);
  if (r == NULL)
    return SGC_ERR_REDIS;
  int n = 0;
  if (r->type == REDIS_REPLY_ARRAY && r->elements == 1) {
    const redisReply *entries = r->element[0]->element[1];
    for (size_t i = 0; i < entries->elements; i++) {
      const redisReply *e = entries->element[i];
      snprintf(cursor, SGC_CURSOR_MAX, "%s", e->element[0]->str);
      const redisReply *f = e->element[1];
      for (size_t k = 0; k + 1 < f->elements; k += 2) {
        sgc_result *res;
        if (strcmp(f->element[k]->str, "result") != 0 ||
            sgc_result_decode((const uint8_t *)f->element[k + 1]->str, f->element[k + 1]->len,
                              &res) != 0)
          continue; /* not a result: skipped, as the gateway's own readers do */
        snprintf(res->entry_id, sizeof res->entry_id, "%s", cursor);
        n++;
        cb(res, user);
      }
    }
  }
  freeReplyObject(r);
  return n;
}

typedef struct waiting {
  const char *job_id;
  sgc_result *found;
} waiting;

static void match(sgc_result *r, void *user) {
  waiting *w = user;
  if (w->found == NULL && strcmp(r->job_id, w->job_id) == 0)
    w->found = r;
  else
    sgc_result_free(r);
}

int sgc_wait(sgc_client *c, const char *stream, const char *job_id, const char *after,
             int timeout_ms, sgc_result **out) {
  char cursor[SGC_CURSOR_MAX];
  snprintf(cursor, sizeof cursor, "%s", after ? after : "0");
  waiting w = {job_id, NULL};
  long long deadline = mono_ms() + timeout_ms;
  for (long long left = timeout_ms; left > 0 && w.found == NULL; left = deadline - mono_ms()) {
    int n = sgc_read_results(c, stream, cursor, left < BLOCK_MAX_MS ? (int)left : BLOCK_MAX_MS,
                             match, &w);
    if (n < 0)
      return n;
  }
  if (w.found == NULL)
    return fail(c, SGC_ERR_TIMEOUT, "no result for %s within %d ms (it stays queued)", job_id,
                timeout_ms);
  *out = w.found;
  return 0;
}

int sgc_send_and_wait(sgc_client *c, sgc_job *j, int timeout_ms, sgc_result **out) {
  if (sgc_job_id(j)[0] == '\0') {
    char id[40];
    sgc_random_id(id);
    if (sgc_job_set_id(j, id) != 0)
      return fail(c, SGC_ERR_NOMEM, "out of memory");
  }
  char own[256] = "";
  if (sgc_job_reply_stream_(j)[0] == '\0') {
    if ((size_t)snprintf(own, sizeof own, "%s:reply:%s", c->prefix, sgc_job_id(j)) >= sizeof own)
      return fail(c, SGC_ERR_ARG, "the reply stream prefix is too long");
    const char *del[] = {"DEL", own};
    if (sgc_job_set_reply_stream(j, own) != 0)
      return fail(c, SGC_ERR_NOMEM, "out of memory");
    if (simple(c, 2, del) != 0)
      return SGC_ERR_REDIS;
  }
  char after[SGC_CURSOR_MAX];
  char *stream = strdup(sgc_job_reply_stream_(j));
  if (stream == NULL)
    return fail(c, SGC_ERR_NOMEM, "out of memory");
  int rv = last_id(c, stream, after);
  if (rv == 0)
    rv = sgc_send(c, j);
  if (own[0]) /* the job is the caller's again, as it was */
    sgc_job_set_reply_stream(j, "");
  if (rv == 0)
    rv = sgc_wait(c, stream, sgc_job_id(j), after, timeout_ms, out);
  if (own[0]) { /* best effort; the error of the wait is the one kept */
    char err[sizeof c->err];
    memcpy(err, c->err, sizeof err);
    const char *del[] = {"DEL", own};
    simple(c, 2, del);
    memcpy(c->err, err, sizeof err);
  }
  free(stream);
  return rv;
}
