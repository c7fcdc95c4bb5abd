/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Redis connection state machine (see sg_rd_client.h).
 *
 * hiredis 0.14 re-entrancy rules this file relies on:
 * - redisAsyncFree inside a reply callback is deferred until the callback
 *   returns; outside callbacks it frees at once, running every pending reply
 *   callback with NULL, the cleanup hook and then onDisconnect.
 * - onConnect is NOT guarded: freeing inside it is a use-after-free. We never
 *   run user code there (UP is reported from the handshake reply instead).
 * - When hiredis itself drops the connection (EOF, I/O error) it runs pending
 *   callbacks with NULL and onDisconnect, then frees the context: we must not
 *   free it again. A NULL reply therefore means "hiredis is freeing".
 * We detach first (ac->data = NULL), so every late hiredis callback finds
 * nothing and touches no freed command object.
 */
#include "redis/sg_rd_client.h"

#include "core/sg_backoff.h"
#include "core/sg_err.h"
#include "core/sg_list.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "core/sg_rand.h"
#include "redis/sg_rd_adapter.h"
#include "redis/sg_rd_replies.h"
#include "redis/sg_resp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <hiredis/async.h>
#include <stdio.h>
#include <string.h>

enum {
  ST_IDLE,       /* created, not started */
  ST_RESOLVING,  /* uv_getaddrinfo in flight */
  ST_CONNECTING, /* TCP connect + handshake commands in flight */
  ST_UP,
  ST_BACKOFF, /* waiting to reconnect */
  ST_CLOSING, /* draining before close */
  ST_CLOSED   /* handles closing */
};

/* Handshake commands never time out on their own: the connect timer covers them. */
#define NO_DEADLINE UINT64_MAX

typedef struct rd_cmd {
  sg_list node;
  uint64_t deadline; /* uv_now() ms */
  sg_rd_reply_cb cb;
  void *ud;
} rd_cmd;

struct sg_rd_client {
  uv_loop_t *loop;
  sg_rd_url url;
  char name[32];
  sg_rd_client_opts opts;
  sg_rd_client_cbs cbs;
  int state;
  bool was_up; /* the current connection reached UP */
  bool drain;
  redisAsyncContext *ac;
  sg_buf fmt;            /* a command's RESP while it is handed to hiredis */
  uv_timer_t conn_timer; /* connect timeout, then backoff */
  uv_timer_t cmd_timer;  /* earliest command deadline */
  uint64_t cmd_due;      /* when cmd_timer fires; 0 = stopped */
  uv_getaddrinfo_t gai;
  bool gai_active;
  sg_list pending; /* rd_cmd, in send order = reply order */
  size_t npending;
  int handshake_left;
  unsigned attempt;
  uint64_t rng;
  int open_handles;
  sg_rd_client_done_cb done;
  void *done_ud;
  sg_rd_client_stats stats;
};

static void begin_connect(sg_rd_client *c);
static void shutdown_now(sg_rd_client *c);

static int map_hiredis_err(int err) {
  switch (err) {
  case REDIS_ERR_IO:
  case REDIS_ERR_EOF:
    return SG_ERR_CLOSED;
  case REDIS_ERR_PROTOCOL:
    return SG_ERR_PARSE;
  case REDIS_ERR_OOM: /* only our reply caps (sg_rd_replies): allocation failures abort */
    return SG_ERR_TOOBIG;
  default:
    return SG_ERR_REDIS;
  }
}

/* ---- command deadlines ---- */

static void on_cmd_timer(uv_timer_t *t);

static void arm_cmd_timer(sg_rd_client *c, uint64_t deadline) {
  if (deadline == NO_DEADLINE || (c->cmd_due != 0 && c->cmd_due <= deadline))
    return;
  uint64_t now = uv_now(c->loop);
  c->cmd_due = deadline;
  uv_timer_start(&c->cmd_timer, on_cmd_timer, deadline > now ? deadline - now : 0, 0);
}

static void stop_cmd_timer(sg_rd_client *c) {
  uv_timer_stop(&c->cmd_timer);
  c->cmd_due = 0;
}

/* ---- tearing a connection down ---- */

/* Detaches from hiredis (freeing the context unless hiredis is doing it) and fails
 * every pending command with |reason|. Returns whether the connection had been UP. */
static bool drop_connection(sg_rd_client *c, int reason, bool free_ac) {
  redisAsyncContext *ac = c->ac;
  bool was_up = c->was_up;
  c->ac = NULL;
  c->was_up = false;
  if (ac != NULL) {
    ac->data = NULL;
    if (free_ac)
      redisAsyncFree(ac); /* deferred by hiredis when inside one of its callbacks */
  }
  if (c->gai_active)
    uv_cancel((uv_req_t *)&c->gai);
  stop_cmd_timer(c);
  uv_timer_stop(&c->conn_timer);
  sg_list *n;
  while ((n = sg_list_pop_front(&c->pending)) != NULL) {
    rd_cmd *cmd = sg_container_of(n, rd_cmd, node);
    c->npending--;
    if (cmd->cb)
      cmd->cb(c, reason, NULL, cmd->ud);
    sg_free(cmd);
  }
  return was_up;
}

static void on_conn_timer(uv_timer_t *t);

static void schedule_reconnect(sg_rd_client *c) {
  uint64_t delay = sg_backoff_delay(c->opts.backoff_base_ms, c->opts.backoff_max_ms, c->attempt,
                                    sg_rand_next(&c->rng));
  if (c->attempt < 32)
    c->attempt++;
  c->state = ST_BACKOFF;
  uv_timer_start(&c->conn_timer, on_conn_timer, delay, 0);
}

/* The connection failed or was lost: fail what is pending, tell the owner, retry later. */
static void connection_lost(sg_rd_client *c, int reason, bool free_ac) {
  if (c->state == ST_CLOSED)
    return;
  bool closing = c->state == ST_CLOSING;
  if (!closing)
    c->state = ST_BACKOFF; /* from here on new commands are refused */
  c->stats.failures++;
  if (reason == SG_ERR_TIMEOUT)
    c->stats.timeouts++;
  /* Failed attempts were logged where they failed; a lost UP connection is news. */
  sg_log_kv(c->was_up ? SG_LOG_WARN : SG_LOG_DEBUG, "redis", "connection lost", "conn", c->name,
            "err", sg_err_name(reason), NULL);
  bool was_up = drop_connection(c, reason, free_ac);
  if (closing || c->state == ST_CLOSING) {
    shutdown_now(c);
    return;
  }
  if (c->state != ST_BACKOFF)
    return; /* a callback closed or restarted us */
  if (was_up && c->cbs.on_down)
    c->cbs.on_down(c, reason, c->cbs.ud);
  if (c->state == ST_BACKOFF && !uv_is_active((uv_handle_t *)&c->conn_timer))
    schedule_reconnect(c);
}

/* ---- hiredis callbacks ---- */

static void on_reply(redisAsyncContext *ac, void *r, void *privdata) {
  sg_rd_client *c = ac->data;
  if (c == NULL)
    return; /* detached: the command was already failed */
  redisReply *reply = r;
  if (reply == NULL) {
    /* hiredis is dropping the connection and will free the context itself. */
    connection_lost(c, map_hiredis_err(ac->err ? ac->err : REDIS_ERR_EOF), false);
    return;
  }
  rd_cmd *cmd = privdata;
  sg_list *front = sg_list_front(&c->pending);
  if (front != &cmd->node) { /* cannot happen with in-order replies; be safe */
    sg_log_kv(SG_LOG_ERROR, "redis", "reply out of order", "conn", c->name, NULL);
    connection_lost(c, SG_ERR_REDIS, true);
    return;
  }
  sg_list_remove(&cmd->node);
  c->npending--;
  int status = reply->type == REDIS_REPLY_ERROR ? SG_ERR_REDIS : 0;
  if (cmd->cb)
    cmd->cb(c, status, reply, cmd->ud);
  sg_free(cmd);
  if (c->state == ST_CLOSING && c->npending == 0)
    shutdown_now(c);
}

static void on_connect(const redisAsyncContext *ac, int status) {
  sg_rd_client *c = ac->data;
  if (c == NULL || status == REDIS_OK)
    return; /* success is reported by the handshake reply, where freeing is safe */
  sg_log_kv(SG_LOG_WARN, "redis", "connect failed", "conn", c->name, "detail", ac->errstr, NULL);
  connection_lost(c, ac->err == REDIS_ERR_OTHER ? SG_ERR_CLOSED : map_hiredis_err(ac->err), false);
}

static void on_disconnect(const redisAsyncContext *ac, int status) {
  (void)status;
  sg_rd_client *c = ac->data;
  if (c == NULL)
    return;
  connection_lost(c, ac->err ? map_hiredis_err(ac->err) : SG_ERR_CLOSED, false);
}

static void on_overflow(redisAsyncContext *ac, void *ud) {
  (void)ac;
  sg_rd_client *c = ud;
  sg_log_kv(SG_LOG_ERROR, "redis", "reply over size cap", "conn", c->name, NULL);
  connection_lost(c, SG_ERR_TOOBIG, true);
}

static void handshake_reply(sg_rd_client *c, int status, const redisReply *reply, void *ud) {
  (void)ud;
  if (c->state != ST_CONNECTING)
    return;
  if (status != 0) {
    /* AUTH/SELECT refused: the server's message names no secret. */
    sg_log_kv(SG_LOG_ERROR, "redis", "handshake refused", "conn", c->name, "detail",
              reply ? reply->str : NULL, NULL);
    connection_lost(c, status, true);
    return;
  }
  if (--c->handshake_left > 0)
    return;
  uv_timer_stop(&c->conn_timer);
  c->state = ST_UP;
  c->was_up = true;
  c->attempt = 0;
  c->stats.connects++;
  sg_log_kv(SG_LOG_INFO, "redis", "connected", "conn", c->name, NULL);
  if (c->cbs.on_up)
    c->cbs.on_up(c, c->cbs.ud);
}

/* ---- connecting ---- */

/* Queues one command, given either as arguments (|argv|) or already in RESP
 * (|resp|, exactly one command), with its reply callback and deadline. */
static int push(sg_rd_client *c, int argc, const char **argv, const size_t *lens, const char *resp,
                size_t resp_len, uint64_t deadline, sg_rd_reply_cb cb, void *ud) {
  rd_cmd *cmd = sg_xmalloc(sizeof *cmd);
  cmd->deadline = deadline;
  cmd->cb = cb;
  cmd->ud = ud;
  if (resp == NULL) {
    /* RESP written into a buffer kept for the next command: hiredis's own
     * formatting grows a new string for every command. */
    sg_buf_reset(&c->fmt);
    sg_resp_array(&c->fmt, (size_t)argc);
    for (int i = 0; i < argc; i++)
      sg_resp_bulk(&c->fmt, argv[i], lens[i]);
    resp = c->fmt.data;
    resp_len = c->fmt.len;
  }
  int rv = redisAsyncFormattedCommand(c->ac, on_reply, cmd, resp, resp_len);
  if (c->fmt.cap > ((size_t)1 << 20))
    sg_buf_free(&c->fmt); /* a huge command's buffer is not kept */
  if (rv != REDIS_OK) {
    sg_free(cmd);
    return SG_ERR_REDIS;
  }
  sg_list_push_back(&c->pending, &cmd->node);
  c->npending++;
  c->stats.commands++;
  arm_cmd_timer(c, deadline);
  return 0;
}

static int push_cmd(sg_rd_client *c, int argc, const char **argv, const size_t *lens,
                    uint64_t deadline, sg_rd_reply_cb cb, void *ud) {
  return push(c, argc, argv, lens, NULL, 0, deadline, cb, ud);
}

static int send_handshake(sg_rd_client *c) {
  const sg_rd_url *u = &c->url;
  int rv = 0;
  c->handshake_left = 0;
  if (u->password[0]) {
    const char *argv[3] = {"AUTH", u->user, u->password};
    size_t lens[3] = {4, strlen(u->user), strlen(u->password)};
    if (u->user[0])
      rv = push_cmd(c, 3, argv, lens, NO_DEADLINE, handshake_reply, NULL);
    else
      rv = push_cmd(c, 2, (const char *[]){"AUTH", u->password}, (size_t[]){4, lens[2]},
                    NO_DEADLINE, handshake_reply, NULL);
    c->handshake_left++;
  }
  if (rv == 0 && u->db != 0) {
    char db[16];
    int n = snprintf(db, sizeof db, "%d", u->db);
    rv = push_cmd(c, 2, (const char *[]){"SELECT", db}, (size_t[]){6, (size_t)n}, NO_DEADLINE,
                  handshake_reply, NULL);
    c->handshake_left++;
  }
  if (rv == 0 && c->handshake_left == 0) {
    rv =
        push_cmd(c, 1, (const char *[]){"PING"}, (size_t[]){4}, NO_DEADLINE, handshake_reply, NULL);
    c->handshake_left++;
  }
  return rv;
}

static void connect_to(sg_rd_client *c, const char *ip) {
  redisAsyncContext *ac =
      c->url.is_unix ? redisAsyncConnectUnix(c->url.path) : redisAsyncConnect(ip, c->url.port);
  if (ac == NULL) {
    connection_lost(c, SG_ERR_REDIS, false);
    return;
  }
  if (ac->err) {
    sg_log_kv(SG_LOG_WARN, "redis", "connect failed", "conn", c->name, "detail", ac->errstr, NULL);
    int reason = ac->err == REDIS_ERR_OTHER ? SG_ERR_CLOSED : map_hiredis_err(ac->err);
    redisAsyncFree(ac); /* nothing attached yet: no callbacks run */
    connection_lost(c, reason, false);
    return;
  }
  int rv = sg_rd_adapter_attach(ac, c->loop, c->opts.max_reply_bytes, on_overflow, c);
  if (rv == 0)
    sg_rd_replies_set_cap(ac->c.reader, c->opts.max_reply_total);
  if (rv != 0) {
    redisAsyncFree(ac);
    connection_lost(c, rv, false);
    return;
  }
  ac->data = c;
  c->ac = ac;
  c->state = ST_CONNECTING;
  redisAsyncSetConnectCallback(ac, on_connect);
  redisAsyncSetDisconnectCallback(ac, on_disconnect);
  rv = send_handshake(c);
  if (rv != 0)
    connection_lost(c, rv, true);
}

static void on_gai(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  sg_rd_client *c = req->data;
  c->gai_active = false;
  char ip[INET6_ADDRSTRLEN] = "";
  if (status == 0 && res != NULL) {
    if (res->ai_family == AF_INET6)
      uv_ip6_name((const struct sockaddr_in6 *)res->ai_addr, ip, sizeof ip);
    else
      uv_ip4_name((const struct sockaddr_in *)res->ai_addr, ip, sizeof ip);
  }
  uv_freeaddrinfo(res);
  if (c->state == ST_CLOSED) {
    shutdown_now(c); /* re-checks whether everything is released */
    return;
  }
  if (c->state != ST_RESOLVING)
    return; /* timed out meanwhile */
  if (ip[0] == '\0') {
    sg_log_kv(SG_LOG_WARN, "redis", "resolve failed", "conn", c->name, "host", c->url.host, "err",
              status ? uv_err_name(status) : "no address", NULL);
    connection_lost(c, status ? status : SG_ERR_NOTFOUND, false);
    return;
  }
  connect_to(c, ip);
}

static bool is_ip_literal(const char *host) {
  unsigned char buf[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static void begin_connect(sg_rd_client *c) {
  uv_timer_start(&c->conn_timer, on_conn_timer, c->opts.connect_timeout_ms, 0);
  if (c->url.is_unix || is_ip_literal(c->url.host)) {
    c->state = ST_CONNECTING;
    connect_to(c, c->url.host);
    return;
  }
  if (c->gai_active) { /* a cancelled lookup still runs in the threadpool: try later */
    connection_lost(c, SG_ERR_BUSY, false);
    return;
  }
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  c->gai.data = c;
  c->state = ST_RESOLVING;
  int rv = uv_getaddrinfo(c->loop, &c->gai, on_gai, c->url.host, NULL, &hints);
  if (rv != 0) {
    connection_lost(c, rv, false);
    return;
  }
  c->gai_active = true;
}

/* ---- timers ---- */

static void on_conn_timer(uv_timer_t *t) {
  sg_rd_client *c = sg_container_of(t, sg_rd_client, conn_timer);
  if (c->state == ST_BACKOFF) {
    begin_connect(c);
    return;
  }
  if (c->state == ST_RESOLVING || c->state == ST_CONNECTING) {
    sg_log_kv(SG_LOG_WARN, "redis", "connect timed out", "conn", c->name, NULL);
    connection_lost(c, SG_ERR_TIMEOUT, true);
  }
}

static void on_cmd_timer(uv_timer_t *t) {
  sg_rd_client *c = sg_container_of(t, sg_rd_client, cmd_timer);
  uint64_t now = uv_now(c->loop);
  uint64_t next = NO_DEADLINE;
  sg_list *n;
  c->cmd_due = 0;
  sg_list_foreach(n, &c->pending) {
    rd_cmd *cmd = sg_container_of(n, rd_cmd, node);
    if (cmd->deadline <= now) {
      sg_log_kv(SG_LOG_WARN, "redis", "command timed out", "conn", c->name, NULL);
      connection_lost(c, SG_ERR_TIMEOUT, true);
      return;
    }
    if (cmd->deadline < next)
      next = cmd->deadline;
  }
  arm_cmd_timer(c, next);
}

/* ---- closing ---- */

static void on_handle_closed(uv_handle_t *h) {
  sg_rd_client *c = h->data;
  if (--c->open_handles == 0)
    shutdown_now(c);
}

/* Releases everything; safe to call repeatedly until it frees |c|. */
static void shutdown_now(sg_rd_client *c) {
  if (c->state != ST_CLOSED) {
    c->state = ST_CLOSED;
    drop_connection(c, SG_ERR_SHUTDOWN, true);
    uv_close((uv_handle_t *)&c->conn_timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->cmd_timer, on_handle_closed);
    return;
  }
  if (c->open_handles > 0 || c->gai_active)
    return;
  if (c->done)
    c->done(c, c->done_ud);
  sg_buf_free(&c->fmt);
  sg_free(c);
}

void sg_rd_client_close(sg_rd_client *c, bool drain, sg_rd_client_done_cb done, void *ud) {
  if (c->state == ST_CLOSING || c->state == ST_CLOSED)
    return;
  c->done = done;
  c->done_ud = ud;
  bool up = c->state == ST_UP;
  c->state = ST_CLOSING;
  if (drain && up && c->npending > 0)
    return; /* on_reply (or a timeout) finishes it */
  shutdown_now(c);
}

/* ---- public API ---- */

int sg_rd_client_new(uv_loop_t *loop, const sg_rd_url *url, const sg_rd_client_opts *opts,
                     const sg_rd_client_cbs *cbs, sg_rd_client **out) {
  if (loop == NULL || url == NULL || out == NULL)
    return SG_ERR_INVAL;
  sg_rd_client *c = sg_xcalloc(1, sizeof *c);
  c->loop = loop;
  c->url = *url;
  if (opts)
    c->opts = *opts;
  snprintf(c->name, sizeof c->name, "%s", c->opts.name ? c->opts.name : "redis");
  c->opts.name = NULL;
  if (c->opts.connect_timeout_ms == 0)
    c->opts.connect_timeout_ms = 3000;
  if (c->opts.backoff_base_ms == 0)
    c->opts.backoff_base_ms = 100;
  if (c->opts.backoff_max_ms == 0)
    c->opts.backoff_max_ms = 5000;
  if (c->opts.max_reply_bytes == 0)
    c->opts.max_reply_bytes = (size_t)64 << 20; /* far above COUNT x max job size */
  if (cbs)
    c->cbs = *cbs;
  c->state = ST_IDLE;
  sg_list_init(&c->pending);
  c->rng = uv_hrtime() ^ (uint64_t)(uintptr_t)c ^ 0x9e3779b97f4a7c15ULL;
  int rv = uv_timer_init(loop, &c->conn_timer);
  if (rv == 0)
    rv = uv_timer_init(loop, &c->cmd_timer);
  if (rv != 0) {
    sg_free(c); /* uv_timer_init cannot fail on Linux; nothing to close */
    return rv;
  }
  c->conn_timer.data = c->cmd_timer.data = c;
  c->open_handles = 2;
  *out = c;
  return 0;
}

void sg_rd_client_start(sg_rd_client *c) {
  if (c->state == ST_IDLE)
    begin_connect(c);
}

bool sg_rd_client_is_up(const sg_rd_client *c) {
  return c->state == ST_UP;
}

int sg_rd_client_cmd(sg_rd_client *c, int argc, const char **argv, const size_t *lens,
                     uint32_t timeout_ms, sg_rd_reply_cb cb, void *ud) {
  if (c->state == ST_CLOSING || c->state == ST_CLOSED)
    return SG_ERR_SHUTDOWN;
  if (c->state != ST_UP)
    return SG_ERR_CLOSED;
  if (argc <= 0 || argv == NULL || lens == NULL || timeout_ms == 0)
    return SG_ERR_INVAL;
  return push_cmd(c, argc, argv, lens, uv_now(c->loop) + timeout_ms, cb, ud);
}

int sg_rd_client_cmd_resp(sg_rd_client *c, const char *resp, size_t len, uint32_t timeout_ms,
                          sg_rd_reply_cb cb, void *ud) {
  if (c->state == ST_CLOSING || c->state == ST_CLOSED)
    return SG_ERR_SHUTDOWN;
  if (c->state != ST_UP)
    return SG_ERR_CLOSED;
  if (resp == NULL || len < 4 || resp[0] != '*' || timeout_ms == 0)
    return SG_ERR_INVAL;
  return push(c, 0, NULL, NULL, resp, len, uv_now(c->loop) + timeout_ms, cb, ud);
}

void sg_rd_client_flush(sg_rd_client *c) {
  if (c->state == ST_UP && c->ac)
    sg_rd_adapter_flush(c->ac);
}

void sg_rd_client_reset(sg_rd_client *c, int reason) {
  if (c->state == ST_UP || c->state == ST_CONNECTING || c->state == ST_RESOLVING)
    connection_lost(c, reason, true);
}

void sg_rd_client_get_stats(const sg_rd_client *c, sg_rd_client_stats *out) {
  *out = c->stats;
}

size_t sg_rd_client_pending(const sg_rd_client *c) {
  return c->npending;
}
