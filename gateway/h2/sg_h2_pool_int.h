/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the HTTP/2 pool shared by sg_h2_pool.c (queue, dispatch,
 * deadlines, backoff, public API) and sg_h2_conn.c (one connection): the pool
 * struct and the hooks a connection calls back into. Not for use outside h2/.
 */
#ifndef SG_H2_POOL_INT_H
#define SG_H2_POOL_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "core/sg_backoff.h"
#include "core/sg_list.h"
#include "core/sg_turn.h"
#include "h2/nghttp2_compat.h"
#include "h2/sg_h2_mem.h"
#include "h2/sg_h2_pool.h"
#include "h2/sg_h2_req.h"
#include "net/sg_proxy.h"

struct sg_h2_conn;

/* Stop pulling from nghttp2 while this much is queued in the transport. */
#define SG_H2_OUT_HIGH_WATER (128u * 1024u)

struct sg_h2_pool {
  uv_loop_t *loop;
  SSL_CTX *ssl;
  char *host;
  uint16_t port;
  char *authority; /* default :authority */
  const char *scheme;
  sg_h2_pool_opts o;
  sg_proxy proxy; /* o.proxy points here when set */
  nghttp2_session_callbacks *ngcbs;
  nghttp2_option *ngopt;
  sg_h2_mem mem; /* nghttp2's allocations for every session of the pool */

  sg_list conns; /* sg_h2_conn.node, every state until freed */
  sg_list dirty; /* sg_h2_conn.dirty_node: output to flush this turn */
  sg_list queue; /* sg_h2_req.node, QUEUED, oldest first */
  size_t n_queued;
  sg_list deadlines; /* sg_h2_req.dnode, ascending deadline_ms */
  sg_list free_reqs; /* recycled request objects */
  size_t n_free;

  sg_turn_reg turn;    /* dispatch + flush once per loop turn (SG_TURN_H2) */
  uv_timer_t dl_timer; /* earliest request deadline */
  uv_timer_t bo_timer; /* end of reconnect backoff */
  uv_timer_t idle_timer;
  uv_timer_t ping_timer; /* earliest unanswered PING's deadline */
  unsigned open_handles;

  bool need_dispatch;
  bool closing;
  bool handles_closing;
  void (*done_cb)(void *ud);
  void *done_ud;

  sg_backoff backoff;     /* reconnects: equal jitter; attempt = consecutive failures */
  uint64_t backoff_until; /* uv_now() ms */
  unsigned next_conn_id;
  char last_detail[256];
  sg_h2_pool_stats st; /* counters; gauges are computed on demand */
};

/* Asks for a dispatch pass in this loop turn. */
void sg_h2_pool__schedule(sg_h2_pool *p);

/* Queues |c| for a flush in this loop turn (ignored once it is closing). */
void sg_h2_pool__mark_dirty(sg_h2_pool *p, struct sg_h2_conn *c);

/*
 * Ends |r| (already detached from queue and connection): calls its callback
 * with |err|, |body_sent| and |detail| (may be NULL), then recycles it.
 */
void sg_h2_pool__finish_req(sg_h2_pool *p, sg_h2_req *r, int err, bool body_sent,
                            const char *detail);

/*
 * Puts |r| (detached; never processed by the server) back at the front of the
 * queue, counting a resend; fails it with SG_ERR_REFUSED after max_resends,
 * or SG_ERR_SHUTDOWN when the pool is closing.
 */
void sg_h2_pool__requeue(sg_h2_pool *p, sg_h2_req *r);

/* Recycles |r| without calling anything (an orphan whose stream closed). */
void sg_h2_pool__recycle_req(sg_h2_pool *p, sg_h2_req *r);

/* |c| reached READY. */
void sg_h2_pool__conn_ready(sg_h2_pool *p, struct sg_h2_conn *c);

/*
 * |c| is gone (its requests already failed or requeued) and about to be
 * freed: |reason| is why it closed (0 orderly), |detail| a text or "".
 */
void sg_h2_pool__conn_gone(sg_h2_pool *p, struct sg_h2_conn *c, int reason, const char *detail);

#endif
