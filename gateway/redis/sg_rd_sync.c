/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Blocking Redis helper for command-line tools (see sg_rd_sync.h): an
 * sg_rd_client on a private loop, run until the awaited event. Every wait is
 * bounded by the client's own timers (connect timeout, command deadline), so
 * uv_run always returns.
 */
#include "redis/sg_rd_sync.h"

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "redis/sg_rd_client.h"
#include "redis/sg_rd_url.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

struct sg_rd_sync {
  uv_loop_t loop;
  sg_rd_client *c;
  uint32_t timeout_ms;
  bool closed;
};

typedef struct wait_cmd {
  bool done;
  int status;
  redisReply *reply; /* a copy the caller owns */
} wait_cmd;

/* A heap copy of an (arena) reply, freeable with freeReplyObject. */
static redisReply *copy_reply(const redisReply *r) {
  redisReply *o = sg_xcalloc(1, sizeof *o);
  o->type = r->type;
  o->integer = r->integer;
  if (r->str != NULL) {
    o->str = sg_xmalloc(r->len + 1);
    memcpy(o->str, r->str, r->len);
    o->str[r->len] = '\0';
    o->len = r->len;
  }
  if (r->elements > 0) {
    o->element = sg_xcalloc(r->elements, sizeof *o->element);
    o->elements = r->elements;
    for (size_t i = 0; i < r->elements; i++)
      o->element[i] = r->element[i] ? copy_reply(r->element[i]) : NULL;
  }
  return o;
}

static void on_reply(sg_rd_client *c, int status, const redisReply *reply, void *ud) {
  (void)c;
  wait_cmd *w = ud;
  w->done = true;
  w->status = status;
  if (reply != NULL)
    w->reply = copy_reply(reply);
}

static void on_closed(sg_rd_client *c, void *ud) {
  (void)c;
  ((sg_rd_sync *)ud)->closed = true;
}

sg_rd_sync *sg_rd_sync_connect(const char *url, const char *tls_ca_file, uint64_t timeout_ms,
                               char *err, size_t errcap) {
  sg_rd_url u;
  if (sg_rd_url_parse(url, &u) != 0) {
    snprintf(err, errcap,
             "bad Redis URL (expected redis[s]://[[user]:password@]host[:port][/db] or "
             "unix:///path[?db=N])");
    return NULL;
  }
  sg_rd_sync *s = sg_xcalloc(1, sizeof *s);
  s->timeout_ms = timeout_ms > UINT32_MAX ? UINT32_MAX : (uint32_t)(timeout_ms ? timeout_ms : 1);
  uv_loop_init(&s->loop);
  sg_rd_client_opts o = {.name = "cli",
                         .connect_timeout_ms = s->timeout_ms,
                         .tls_ca_file = tls_ca_file,
                         .quiet = true};
  int rv = sg_rd_client_new(&s->loop, &u, &o, NULL, &s->c);
  if (rv != 0) {
    snprintf(err, errcap, "Redis TLS setup failed (%s): %s", tls_ca_file ? tls_ca_file : "",
             sg_strerror(rv));
    s->c = NULL;
    sg_rd_sync_free(s);
    return NULL;
  }
  sg_rd_client_start(s->c);
  /* Until UP or the first failure (no retry: a tool reports and exits). */
  sg_rd_client_stats st;
  do {
    uv_run(&s->loop, UV_RUN_ONCE);
    sg_rd_client_get_stats(s->c, &st);
  } while (!sg_rd_client_is_up(s->c) && st.failures == 0);
  if (!sg_rd_client_is_up(s->c)) {
    char where[300];
    if (u.is_unix)
      snprintf(where, sizeof where, "%s", u.path);
    else
      snprintf(where, sizeof where, "%s:%u", u.host, (unsigned)u.port);
    snprintf(err, errcap, "cannot connect to Redis at %s%s: %s", u.tls ? "rediss://" : "", where,
             sg_rd_client_last_error(s->c)[0] ? sg_rd_client_last_error(s->c) : "failed");
    sg_rd_sync_free(s);
    return NULL;
  }
  return s;
}

redisReply *sg_rd_sync_cmd(sg_rd_sync *s, int argc, const char **argv, const size_t *lens,
                           char *err, size_t errcap) {
  size_t stack_lens[16];
  size_t *own = NULL;
  if (lens == NULL && argc > 0) {
    own = (size_t)argc <= 16 ? stack_lens : sg_xmalloc((size_t)argc * sizeof *own);
    for (int i = 0; i < argc; i++)
      own[i] = strlen(argv[i]);
    lens = own;
  }
  wait_cmd w = {0};
  int rv = sg_rd_client_cmd(s->c, argc, argv, lens, s->timeout_ms, on_reply, &w);
  if (own != stack_lens)
    sg_free(own);
  if (rv != 0) {
    snprintf(err, errcap, "Redis: %s", rv == SG_ERR_CLOSED ? "connection lost" : sg_strerror(rv));
    return NULL;
  }
  while (!w.done)
    uv_run(&s->loop, UV_RUN_ONCE); /* the command's deadline bounds this */
  if (w.status != 0 && w.reply == NULL) {
    snprintf(err, errcap, "Redis: %s", sg_strerror(w.status));
    return NULL;
  }
  if (w.reply->type == REDIS_REPLY_ERROR) {
    snprintf(err, errcap, "Redis: %s", w.reply->str);
    freeReplyObject(w.reply);
    return NULL;
  }
  return w.reply;
}

void sg_rd_sync_free(sg_rd_sync *s) {
  if (s == NULL)
    return;
  if (s->c != NULL) {
    sg_rd_client_close(s->c, false, on_closed, s);
    while (!s->closed)
      uv_run(&s->loop, UV_RUN_ONCE);
  }
  uv_run(&s->loop, UV_RUN_DEFAULT); /* the handles' close callbacks */
  uv_loop_close(&s->loop);
  sg_free(s);
}
