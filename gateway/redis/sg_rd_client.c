/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Redis connection state machine (see sg_rd_client.h).
 *
 * Transport: one sg_tlsconn per connection attempt (plain TCP, TLS or a unix
 * socket); its on_read feeds a redisReader, whose complete replies go to the
 * pending commands in order. The client owns every object it frees, so the
 * hiredis re-entrancy rules of redisAsyncContext no longer apply; ours are:
 * - A connection is dropped by closing its sg_tlsconn, whose on_close comes
 *   later (never from inside sg_tlsconn_close); c->tc is cleared first, so a
 *   late callback of a dropped connection is recognised and ignored. The
 *   client is freed only after the last one's on_close.
 * - The reader may be dropped by a reply callback while on_read is walking
 *   its replies: then on_read frees it once the callback has returned.
 *
 * Sentinel (redis-sentinel://): each connect attempt first asks one sentinel
 * (the next one on every attempt) SENTINEL get-master-addr-by-name, then
 * connects to the address it names and checks with ROLE, after AUTH/SELECT,
 * that it is the primary. A READONLY, LOADING or NOREPLICAS error reply (a
 * demoted primary, a replica still loading, a primary cut off from its
 * replicas under min-replicas-to-write) drops the connection after its
 * callback, so the next attempt asks the sentinels again.
 */
#include "redis/sg_rd_client.h"

#include "core/sg_backoff.h"
#include "core/sg_err.h"
#include "core/sg_list.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "core/sg_rand.h"
#include "core/sg_turn.h"
#include "net/sg_tls.h"
#include "net/sg_tlsconn.h"
#include "redis/sg_rd_replies.h"
#include "redis/sg_resp.h"

#include <hiredis/read.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  ST_IDLE,       /* created, not started */
  ST_CONNECTING, /* resolve + connect (+ TLS) + handshake commands */
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
  uint32_t replies; /* still due: 1, or more for a pipeline (sg_rd_client_pipeline_resp) */
} rd_cmd;

struct sg_rd_client {
  uv_loop_t *loop;
  sg_rd_url url;
  char name[32];
  sg_rd_client_opts opts;
  sg_rd_client_cbs cbs;
  int state;
  bool was_up;           /* the current connection reached UP */
  bool asking_sentinel;  /* the current connection is to a sentinel */
  size_t sentinel_next;  /* the sentinel asked on the next attempt */
  sg_rd_url_node node;   /* the primary the sentinel named */
  sg_tlsconn *tc;        /* the current connection; NULL when none */
  redisReader *reader;   /* its reply parser */
  int reading;           /* depth of on_read (a dropped reader is freed there) */
  SSL_CTX *ssl;          /* rediss:// */
  bool own_ssl;          /* made here from opts.tls_ca_file */
  sg_buf fmt;            /* a command's RESP while it is handed to the connection */
  uv_timer_t conn_timer; /* connect timeout, then backoff */
  uv_timer_t cmd_timer;  /* earliest command deadline */
  uint64_t cmd_due;      /* when cmd_timer fires; 0 = stopped */
  sg_list pending;       /* rd_cmd, in send order = reply order */
  size_t npending;
  int handshake_left;
  unsigned attempt;
  uint64_t rng;
  int open_handles; /* the two timers and every sg_tlsconn not yet closed */
  sg_rd_client_done_cb done;
  void *done_ud;
  sg_rd_client_stats stats;
  char last_error[256];
};

static void shutdown_now(sg_rd_client *c);

/* A quiet client (opts.quiet) logs at debug level only. */
#define LV(c, lvl) ((c)->opts.quiet ? SG_LOG_DEBUG : (lvl))

static int map_reader_err(int err) {
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

static void set_error(sg_rd_client *c, const char *what, const char *detail) {
  snprintf(c->last_error, sizeof c->last_error, "%s%s%s", what, detail && detail[0] ? ": " : "",
           detail ? detail : "");
}

/* ---- the reply parser ---- */

static redisReader *reader_new(const sg_rd_client *c) {
  redisReader *r = redisReaderCreate();
  if (r == NULL)
    abort(); /* out of memory, as sg_xmalloc */
  sg_rd_replies_attach(r);
  sg_rd_replies_set_cap(r, c->opts.max_reply_total);
  return r;
}

static void reader_free(redisReader *r) {
  sg_rd_replies_detach(r); /* a partly read reply frees the arena when the reader frees it */
  redisReaderFree(r);
}

static size_t unparsed(const redisReader *r) {
  return r->buf ? r->len - r->pos : 0;
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

/* Closes the connection (its on_close comes later and is only counted), drops
 * the reader and fails every pending command with |reason|. Returns whether
 * the connection had been UP. */
static bool drop_connection(sg_rd_client *c, int reason) {
  bool was_up = c->was_up;
  c->was_up = false;
  sg_tlsconn *tc = c->tc;
  c->tc = NULL;
  if (tc != NULL)
    sg_tlsconn_close(tc, reason != 0 ? reason : SG_ERR_CLOSED); /* at once: no linger */
  if (c->reader != NULL && c->reading == 0)
    reader_free(c->reader);
  c->reader = NULL; /* while reading, on_read frees it after the callback */
  stop_cmd_timer(c);
  uv_timer_stop(&c->conn_timer);
  sg_list *n;
  while ((n = sg_list_pop_front(&c->pending)) != NULL) {
    rd_cmd *cmd = sg_container_of(n, rd_cmd, node);
    c->npending--;
    for (uint32_t i = 0; cmd->cb && i < cmd->replies; i++)
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
static void connection_lost(sg_rd_client *c, int reason) {
  if (c->state == ST_CLOSED)
    return;
  bool closing = c->state == ST_CLOSING;
  if (!closing)
    c->state = ST_BACKOFF; /* from here on new commands are refused */
  c->stats.failures++;
  if (reason == SG_ERR_TIMEOUT)
    c->stats.timeouts++;
  /* Failed attempts were logged where they failed; a lost UP connection is news. */
  sg_log_kv(c->was_up ? LV(c, SG_LOG_WARN) : SG_LOG_DEBUG, "redis", "connection lost", "conn",
            c->name, "err", sg_err_name(reason), NULL);
  bool was_up = drop_connection(c, reason);
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

/* ---- replies ---- */

/* Hands one complete reply to the oldest pending command. */
static void dispatch(sg_rd_client *c, const redisReply *reply) {
  sg_list *front = sg_list_front(&c->pending);
  if (front == NULL) { /* a reply nobody asked for (a push): out of step from here on */
    sg_log_kv(LV(c, SG_LOG_ERROR), "redis", "unexpected reply", "conn", c->name, NULL);
    connection_lost(c, SG_ERR_PARSE);
    return;
  }
  rd_cmd *cmd = sg_container_of(front, rd_cmd, node);
  /* A pipeline stays first until its last reply; it leaves the list before
   * that reply's callback, as a single command does before its own. */
  bool last = --cmd->replies == 0;
  if (last) {
    sg_list_remove(front);
    c->npending--;
  }
  int status = reply->type == REDIS_REPLY_ERROR ? SG_ERR_REDIS : 0;
  if (cmd->cb)
    cmd->cb(c, status, reply, cmd->ud);
  if (!last)
    return; /* more replies of this pipeline to come (or the callback dropped them all) */
  sg_free(cmd);
  if (c->state == ST_CLOSING && c->npending == 0) {
    shutdown_now(c);
    return;
  }
  /* Behind a sentinel: not (or no longer, or not yet) a writable primary. */
  if (status != 0 && c->url.sentinel && c->state == ST_UP && reply->str != NULL &&
      (strncmp(reply->str, "READONLY", 8) == 0 || strncmp(reply->str, "LOADING", 7) == 0 ||
       strncmp(reply->str, "NOREPLICAS", 10) == 0)) {
    sg_log_kv(LV(c, SG_LOG_WARN), "redis", "not the primary any more", "conn", c->name, NULL);
    connection_lost(c, SG_ERR_CLOSED);
  }
}

/* What one read delivered goes to hiredis in slices of this size: its reader
 * moves the rest of its buffer to the front after every 1 KB parsed, which
 * costs the square of the buffer's length when one read brings many small
 * replies (a turn's lookups, a transaction's +QUEUED). */
#define FEED_SLICE 4096

/* Parses what the connection delivered and dispatches every complete reply;
 * the reader and the connection may be dropped by any callback. */
static void tc_on_read(sg_tlsconn *tc, const uint8_t *p, size_t n, void *ud) {
  sg_rd_client *c = ud;
  if (tc != c->tc || c->reader == NULL)
    return;
  redisReader *r = c->reader;
  c->reading++;
  for (size_t off = 0; off < n && c->reader == r;) {
    size_t k = n - off < FEED_SLICE ? n - off : FEED_SLICE;
    if (redisReaderFeed(r, (const char *)p + off, k) != REDIS_OK) {
      connection_lost(c, map_reader_err(r->err));
      break;
    }
    off += k;
    for (;;) {
      void *reply = NULL;
      if (redisReaderGetReply(r, &reply) != REDIS_OK) {
        sg_log_kv(LV(c, SG_LOG_ERROR), "redis",
                  r->err == REDIS_ERR_OOM ? "reply over size cap" : "bad reply", "conn", c->name,
                  NULL);
        connection_lost(c, map_reader_err(r->err));
        break;
      }
      if (reply == NULL)
        break;
      dispatch(c, reply);
      r->fn->freeObject(reply); /* resets the arena */
      if (c->reader != r)
        break; /* dropped by a callback */
    }
    if (c->reader == r && c->opts.max_reply_bytes > 0 && unparsed(r) > c->opts.max_reply_bytes) {
      sg_log_kv(LV(c, SG_LOG_ERROR), "redis", "reply over size cap", "conn", c->name, NULL);
      connection_lost(c, SG_ERR_TOOBIG);
    }
  }
  c->reading--;
  if (c->reader != r)
    reader_free(r);
}

/* Passed as the ROLE command's user data: its reply must say "master". */
static const char role_check[] = "ROLE";

static bool is_primary(const redisReply *r) {
  return r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
         r->element[0]->type == REDIS_REPLY_STRING && strcmp(r->element[0]->str, "master") == 0;
}

static void handshake_reply(sg_rd_client *c, int status, const redisReply *reply, void *ud) {
  if (c->state != ST_CONNECTING)
    return;
  if (status == 0 && ud == role_check && !is_primary(reply)) {
    set_error(c, "not the primary (the sentinel's view is out of date)", NULL);
    sg_log_kv(LV(c, SG_LOG_WARN), "redis", "not the primary", "conn", c->name, "host", c->node.host,
              NULL);
    connection_lost(c, SG_ERR_REDIS);
    return;
  }
  if (status != 0) {
    /* AUTH/SELECT refused: the server's message names no secret. */
    set_error(c, "handshake refused", reply ? reply->str : sg_strerror(status));
    sg_log_kv(LV(c, SG_LOG_ERROR), "redis", "handshake refused", "conn", c->name, "detail",
              reply ? reply->str : NULL, NULL);
    connection_lost(c, status);
    return;
  }
  if (--c->handshake_left > 0)
    return;
  uv_timer_stop(&c->conn_timer);
  c->state = ST_UP;
  c->was_up = true;
  c->attempt = 0;
  c->stats.connects++;
  c->last_error[0] = '\0';
  char primary[SG_RD_URL_HOST_MAX + 8];
  snprintf(primary, sizeof primary, "%s:%u", c->node.host, (unsigned)c->node.port);
  sg_log_kv(LV(c, SG_LOG_INFO), "redis", "connected", "conn", c->name, "tls",
            c->url.tls ? "yes" : "no", "primary", c->url.sentinel ? primary : NULL, NULL);
  if (c->cbs.on_up)
    c->cbs.on_up(c, c->cbs.ud);
}

/* ---- sending ---- */

/* Queues one command, given either as arguments (|argv|) or already in RESP
 * (|resp|, exactly one command), with its reply callback and deadline. */
static int push(sg_rd_client *c, int argc, const char **argv, const size_t *lens, const char *resp,
                size_t resp_len, uint32_t replies, uint64_t deadline, sg_rd_reply_cb cb, void *ud) {
  if (c->tc == NULL)
    return SG_ERR_CLOSED;
  if (resp == NULL) {
    /* RESP written into a buffer kept for the next command. */
    sg_buf_reset(&c->fmt);
    sg_resp_array(&c->fmt, (size_t)argc);
    for (int i = 0; i < argc; i++)
      sg_resp_bulk(&c->fmt, argv[i], lens[i]);
    resp = c->fmt.data;
    resp_len = c->fmt.len;
  }
  int rv = sg_tlsconn_write(c->tc, (const uint8_t *)resp, resp_len);
  if (c->fmt.cap > ((size_t)1 << 20))
    sg_buf_free(&c->fmt); /* a huge command's buffer is not kept */
  if (rv != 0)
    return SG_ERR_REDIS;
  rd_cmd *cmd = sg_xmalloc(sizeof *cmd);
  cmd->deadline = deadline;
  cmd->cb = cb;
  cmd->ud = ud;
  cmd->replies = replies;
  sg_list_push_back(&c->pending, &cmd->node);
  c->npending++;
  c->stats.commands++;
  arm_cmd_timer(c, deadline);
  return 0;
}

static int push_cmd(sg_rd_client *c, int argc, const char **argv, const size_t *lens,
                    uint64_t deadline, sg_rd_reply_cb cb, void *ud) {
  return push(c, argc, argv, lens, NULL, 0, 1, deadline, cb, ud);
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
  if (rv == 0 && u->sentinel) { /* the sentinel may be behind a failover */
    rv = push_cmd(c, 1, (const char *[]){"ROLE"}, (size_t[]){4}, NO_DEADLINE, handshake_reply,
                  (void *)role_check);
    c->handshake_left++;
  }
  if (rv == 0 && c->handshake_left == 0) {
    rv =
        push_cmd(c, 1, (const char *[]){"PING"}, (size_t[]){4}, NO_DEADLINE, handshake_reply, NULL);
    c->handshake_left++;
  }
  return rv;
}

/* ---- the connection's callbacks ---- */

static void sentinel_reply(sg_rd_client *c, int status, const redisReply *reply, void *ud);

static void tc_on_ready(sg_tlsconn *tc, void *ud) {
  sg_rd_client *c = ud;
  if (tc != c->tc || c->state != ST_CONNECTING)
    return;
  int rv;
  if (c->asking_sentinel) {
    const char *argv[3] = {"SENTINEL", "get-master-addr-by-name", c->url.master};
    size_t lens[3] = {8, 23, strlen(c->url.master)};
    rv = push_cmd(c, 3, argv, lens, NO_DEADLINE, sentinel_reply, NULL);
  } else {
    rv = send_handshake(c);
  }
  if (rv != 0)
    connection_lost(c, rv);
}

/* What callers see of a transport failure: TLS failures and our own timeouts
 * as they are, socket errors and EOF as SG_ERR_CLOSED (the detail is logged). */
static int transport_reason(int err) {
  switch (err) {
  case SG_ERR_TLS:
  case SG_ERR_TLS_VERIFY:
  case SG_ERR_TIMEOUT:
    return err;
  default:
    return SG_ERR_CLOSED;
  }
}

static void tc_on_close(sg_tlsconn *tc, int err, void *ud) {
  sg_rd_client *c = ud;
  if (tc == c->tc) { /* lost by the transport, not dropped by us */
    c->tc = NULL;
    if (c->state == ST_CONNECTING) {
      set_error(c, sg_strerror(err), sg_tlsconn_error_detail(tc));
      sg_log_kv(LV(c, err == SG_ERR_TLS_VERIFY ? SG_LOG_ERROR : SG_LOG_WARN), "redis",
                err == SG_ERR_TLS_VERIFY ? "TLS certificate not accepted" : "connect failed",
                "conn", c->name, "peer", sg_tlsconn_peer(tc), "err", sg_err_name(err), "detail",
                sg_tlsconn_error_detail(tc), NULL);
    }
    connection_lost(c, transport_reason(err));
  }
  c->open_handles--;
  if (c->state == ST_CLOSED)
    shutdown_now(c);
}

/* ---- connecting ---- */

static const sg_tlsconn_cbs tc_cbs = {
    .on_ready = tc_on_ready, .on_read = tc_on_read, .on_close = tc_on_close};

/* Opens the connection to |host|:|port| (or the URL's unix socket). */
static void open_conn(sg_rd_client *c, const char *host, uint16_t port) {
  sg_tlsconn *tc = NULL;
  /* The connection's own deadline backs up ours (which also covers AUTH/SELECT). */
  uint64_t tmo = c->opts.connect_timeout_ms;
  int rv = c->url.is_unix ? sg_tlsconn_connect_unix(&tc, c->loop, c->url.path, tmo, &tc_cbs, c)
                          : sg_tlsconn_connect(&tc, c->loop, c->url.tls ? c->ssl : NULL, host, port,
                                               tmo, &tc_cbs, c);
  if (rv != 0) {
    set_error(c, "connect failed", sg_strerror(rv));
    sg_log_kv(LV(c, SG_LOG_WARN), "redis", "connect failed", "conn", c->name, "host", host, "err",
              sg_err_name(rv), NULL);
    connection_lost(c, rv);
    return;
  }
  c->open_handles++;
  c->tc = tc;
  c->reader = reader_new(c);
  /* Commands are queued up to rank SG_TURN_REDIS; all of a turn leave in one write. */
  sg_tlsconn_set_flush_rank(tc, SG_TURN_REDIS_WRITE);
}

static void begin_connect(sg_rd_client *c) {
  c->state = ST_CONNECTING;
  uv_timer_start(&c->conn_timer, on_conn_timer, c->opts.connect_timeout_ms, 0);
  c->asking_sentinel = c->url.sentinel;
  if (c->asking_sentinel) {
    const sg_rd_url_node *s = &c->url.sentinels[c->sentinel_next++ % c->url.nsentinels];
    open_conn(c, s->host, s->port);
  } else {
    open_conn(c, c->url.host, c->url.port);
  }
}

/* The sentinel named the primary: leave it (silently) and connect there. */
static void sentinel_reply(sg_rd_client *c, int status, const redisReply *reply, void *ud) {
  (void)ud;
  if (c->state != ST_CONNECTING || !c->asking_sentinel)
    return;
  const redisReply *h = NULL, *p = NULL;
  if (status == 0 && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2) {
    h = reply->element[0];
    p = reply->element[1];
  }
  long port = p && p->type == REDIS_REPLY_STRING ? strtol(p->str, NULL, 10) : 0;
  if (h == NULL || h->type != REDIS_REPLY_STRING || h->len == 0 || h->len >= sizeof c->node.host ||
      port <= 0 || port > 65535) {
    set_error(c, "the sentinel does not know the master", c->url.master);
    sg_log_kv(LV(c, SG_LOG_WARN), "redis", "no primary from sentinel", "conn", c->name, "sentinel",
              c->tc ? sg_tlsconn_peer(c->tc) : NULL, "master", c->url.master, "detail",
              status != 0 && reply ? reply->str : NULL, NULL);
    connection_lost(c, SG_ERR_NOTFOUND);
    return;
  }
  memcpy(c->node.host, h->str, h->len + 1);
  c->node.port = (uint16_t)port;
  sg_log_kv(SG_LOG_DEBUG, "redis", "primary from sentinel", "conn", c->name, "host", c->node.host,
            NULL);
  /* Leave the sentinel: its on_close is only counted; the reader is freed
   * here or, since we are inside its on_read, right after this callback. */
  sg_tlsconn *tc = c->tc;
  c->tc = NULL;
  sg_tlsconn_close(tc, SG_ERR_CLOSED);
  if (c->reading == 0)
    reader_free(c->reader);
  c->reader = NULL;
  c->asking_sentinel = false;
  open_conn(c, c->node.host, c->node.port);
}

/* ---- timers ---- */

static void on_conn_timer(uv_timer_t *t) {
  sg_rd_client *c = sg_container_of(t, sg_rd_client, conn_timer);
  if (c->state == ST_BACKOFF) {
    begin_connect(c);
    return;
  }
  if (c->state == ST_CONNECTING) {
    set_error(c, "connect timed out", NULL);
    sg_log_kv(LV(c, SG_LOG_WARN), "redis", "connect timed out", "conn", c->name, NULL);
    connection_lost(c, SG_ERR_TIMEOUT);
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
      sg_log_kv(LV(c, SG_LOG_WARN), "redis", "command timed out", "conn", c->name, NULL);
      connection_lost(c, SG_ERR_TIMEOUT);
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
    drop_connection(c, SG_ERR_SHUTDOWN);
    uv_close((uv_handle_t *)&c->conn_timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->cmd_timer, on_handle_closed);
    return;
  }
  if (c->open_handles > 0 || c->reading > 0)
    return;
  if (c->done)
    c->done(c, c->done_ud);
  if (c->own_ssl)
    SSL_CTX_free(c->ssl);
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
  if (drain && up && c->npending > 0) {
    sg_rd_client_flush(c); /* what is queued goes out; dispatch finishes the close */
    return;
  }
  shutdown_now(c);
}

/* ---- public API ---- */

static int make_tls(sg_rd_client *c) {
  if (!c->url.tls)
    return 0;
  if (c->opts.tls_ctx != NULL) {
    c->ssl = c->opts.tls_ctx;
    return 0;
  }
  const char *ca = c->opts.tls_ca_file;
  int rv = sg_tls_ctx_client_new2(&c->ssl, ca && ca[0] ? ca : NULL, SG_TLS_ALPN_NONE);
  if (rv != 0) {
    sg_log_kv(LV(c, SG_LOG_ERROR), "redis", "TLS setup failed", "conn", c->name, "ca_file", ca,
              "err", sg_err_name(rv), NULL);
    return rv;
  }
  c->own_ssl = true;
  return 0;
}

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
  int rv = make_tls(c);
  c->opts.tls_ca_file = NULL; /* not kept: the context holds it */
  c->opts.tls_ctx = NULL;
  if (rv != 0) {
    sg_free(c);
    return rv;
  }
  uv_timer_init(loop, &c->conn_timer); /* cannot fail on Linux */
  uv_timer_init(loop, &c->cmd_timer);
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
  return push(c, 0, NULL, NULL, resp, len, 1, uv_now(c->loop) + timeout_ms, cb, ud);
}

int sg_rd_client_pipeline_resp(sg_rd_client *c, const char *resp, size_t len, uint32_t n,
                               uint32_t timeout_ms, sg_rd_reply_cb cb, void *ud) {
  if (c->state == ST_CLOSING || c->state == ST_CLOSED)
    return SG_ERR_SHUTDOWN;
  if (c->state != ST_UP)
    return SG_ERR_CLOSED;
  if (resp == NULL || len < 4 || resp[0] != '*' || timeout_ms == 0 || n == 0 || cb == NULL)
    return SG_ERR_INVAL;
  return push(c, 0, NULL, NULL, resp, len, n, uv_now(c->loop) + timeout_ms, cb, ud);
}

void sg_rd_client_flush(sg_rd_client *c) {
  if (c->tc != NULL && (c->state == ST_UP || c->state == ST_CLOSING))
    sg_tlsconn_flush(c->tc);
}

void sg_rd_client_reset(sg_rd_client *c, int reason) {
  if (c->state == ST_UP || c->state == ST_CONNECTING)
    connection_lost(c, reason);
}

void sg_rd_client_get_stats(const sg_rd_client *c, sg_rd_client_stats *out) {
  *out = c->stats;
}

size_t sg_rd_client_pending(const sg_rd_client *c) {
  return c->npending;
}

const char *sg_rd_client_last_error(const sg_rd_client *c) {
  return c->last_error;
}
