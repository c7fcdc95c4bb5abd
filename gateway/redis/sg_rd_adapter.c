/* SPDX-License-Identifier: Apache-2.0 */
/* hiredis <-> uv_poll_t glue (see sg_rd_adapter.h). */
#include "redis/sg_rd_adapter.h"

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "core/sg_turn.h"
#include "redis/sg_rd_replies.h"

#include <stdbool.h>

typedef struct rd_events {
  redisAsyncContext *context; /* NULL once hiredis ran the cleanup hook */
  uv_poll_t handle;
  sg_turn_reg turn; /* deferred write: in this loop turn's pass */
  int events;       /* what the poll handle watches */
  bool want_write;  /* hiredis has output and the turn will write it */
  bool writing;     /* inside our own write attempt */
  size_t max_rbuf;
  sg_rd_overflow_cb on_overflow;
  void *ud;
} rd_events;

static size_t unparsed(const redisAsyncContext *ac) {
  const redisReader *r = ac->c.reader;
  return r && r->buf ? r->len - r->pos : 0;
}

static void on_poll(uv_poll_t *handle, int status, int events) {
  rd_events *p = handle->data;
  /* On error (EBADF, ECONNRESET surfaced by epoll...) let hiredis try both ways so it
   * sees the failing read()/write() itself, records the error and disconnects. */
  int ev = status < 0 ? p->events : events;
  if (p->context != NULL && (ev & UV_READABLE))
    redisAsyncHandleRead(p->context);
  if (p->context != NULL && p->max_rbuf > 0 && unparsed(p->context) > p->max_rbuf) {
    p->on_overflow(p->context, p->ud);
    return;
  }
  if (p->context != NULL && (ev & UV_WRITABLE)) {
    p->writing = true;
    redisAsyncHandleWrite(p->context);
    p->writing = false;
  }
}

static void update(rd_events *p) {
  if (p->events)
    uv_poll_start(&p->handle, p->events, on_poll);
  else
    uv_poll_stop(&p->handle);
}

static void add_read(void *privdata) {
  rd_events *p = privdata;
  if (p == NULL || (p->events & UV_READABLE))
    return;
  p->events |= UV_READABLE;
  update(p);
}

static void del_read(void *privdata) {
  rd_events *p = privdata;
  if (p == NULL || !(p->events & UV_READABLE))
    return;
  p->events &= ~UV_READABLE;
  update(p);
}

/* Writes what hiredis holds, now. */
static void flush(rd_events *p) {
  if (!p->want_write || p->context == NULL)
    return;
  p->want_write = false;
  sg_turn_unwant(&p->turn);
  p->writing = true;
  redisAsyncHandleWrite(p->context); /* calls del_write, or add_write if it is not all out */
  p->writing = false;
}

static void on_turn(sg_turn_reg *reg, void *ud) {
  (void)reg;
  flush(ud);
}

/*
 * hiredis asks for a write after every command it buffers. Once connected,
 * the write is deferred to the loop's turn pass (SG_TURN_REDIS_WRITE: after
 * the stages that queue commands, before the loop can block), so all commands
 * of one turn go out in one write() and the socket is never armed for
 * writability, which would cost two epoll_ctl calls and an extra wake-up per
 * burst. Only a write that did not finish (or a connect in progress) waits for
 * the socket to become writable.
 */
static void add_write(void *privdata) {
  rd_events *p = privdata;
  if (p == NULL)
    return;
  if (!p->writing && p->context && (p->context->c.flags & REDIS_CONNECTED)) {
    if (!p->want_write) {
      p->want_write = true;
      sg_turn_want(&p->turn);
    }
    return;
  }
  if (p->events & UV_WRITABLE)
    return;
  p->events |= UV_WRITABLE;
  update(p);
}

static void del_write(void *privdata) {
  rd_events *p = privdata;
  if (p == NULL)
    return;
  if (p->want_write) {
    p->want_write = false;
    sg_turn_unwant(&p->turn);
  }
  if (!(p->events & UV_WRITABLE))
    return;
  p->events &= ~UV_WRITABLE;
  update(p);
}

void sg_rd_adapter_flush(redisAsyncContext *ac) {
  rd_events *p = ac ? ac->ev.data : NULL;
  if (p != NULL && ac->ev.addWrite == add_write)
    flush(p);
}

static void on_close(uv_handle_t *handle) {
  sg_free(handle->data);
}

static void cleanup(void *privdata) {
  rd_events *p = privdata;
  if (p == NULL)
    return;
  redisAsyncContext *ac = p->context;
  /* hiredis 0.14 may run the hook more than once and keeps calling the
   * add/del hooks after it: unhook everything so later calls are no-ops. */
  if (ac != NULL) {
    sg_rd_replies_detach(ac->c.reader); /* hiredis frees the reader right after this hook */
    ac->ev.data = NULL;
    ac->ev.addRead = ac->ev.delRead = ac->ev.addWrite = ac->ev.delWrite = NULL;
    ac->ev.cleanup = NULL;
  }
  p->context = NULL;
  p->want_write = false;
  sg_turn_reg_remove(&p->turn);
  uv_close((uv_handle_t *)&p->handle, on_close);
}

int sg_rd_adapter_attach(redisAsyncContext *ac, uv_loop_t *loop, size_t max_rbuf,
                         sg_rd_overflow_cb on_overflow, void *ud) {
  if (ac->ev.data != NULL)
    return SG_ERR_EXISTS;
  if (ac->c.fd < 0)
    return SG_ERR_INVAL;
  rd_events *p = sg_xcalloc(1, sizeof *p);
  int rv = uv_poll_init_socket(loop, &p->handle, ac->c.fd);
  if (rv != 0) {
    sg_free(p);
    return rv;
  }
  sg_rd_replies_attach(ac->c.reader);
  sg_turn_reg_init(&p->turn, loop, SG_TURN_REDIS_WRITE, on_turn, p);
  p->context = ac;
  p->handle.data = p;
  p->max_rbuf = on_overflow ? max_rbuf : 0;
  p->on_overflow = on_overflow;
  p->ud = ud;
  ac->ev.addRead = add_read;
  ac->ev.delRead = del_read;
  ac->ev.addWrite = add_write;
  ac->ev.delWrite = del_write;
  ac->ev.cleanup = cleanup;
  ac->ev.data = p;
  return 0;
}
