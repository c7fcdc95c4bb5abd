/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One HTTP/2 client connection of the pool: an sg_tlsconn carrying an
 * nghttp2 client session (no I/O of its own: mem_recv on read, mem_send into
 * the transport on flush). Internal to h2/.
 *
 * States: CONNECTING (resolve + TCP + TLS, all inside sg_tlsconn) -> READY
 * (session created, SETTINGS queued; the preface leaves with the first
 * request) -> DRAINING (GOAWAY received, idle timeout, or stream ids used up:
 * no new streams, closes when its streams are done) -> CLOSING (transport
 * close requested) -> CLOSED (transport gone; requests failed or requeued,
 * then freed). Every transition goes through sg_h2_conn_set_state, which logs.
 *
 * Re-entrancy: nghttp2 callbacks never close the transport or delete the
 * session; they record what to do and conn_leave() does it once the outermost
 * frame (on_read, flush) unwinds, so a result callback may freely call back
 * into the pool.
 */
#ifndef SG_H2_CONN_H
#define SG_H2_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/sg_list.h"
#include "h2/nghttp2_compat.h"
#include "h2/sg_h2_pool_int.h"
#include "h2/sg_h2_req.h"
#include "net/sg_tlsconn.h"

typedef enum sg_h2_conn_state {
  SG_H2_CONN_CONNECTING = 0,
  SG_H2_CONN_READY,
  SG_H2_CONN_DRAINING,
  SG_H2_CONN_CLOSING,
  SG_H2_CONN_CLOSED,
} sg_h2_conn_state;

typedef struct sg_h2_conn {
  sg_list node;       /* pool->conns */
  sg_list dirty_node; /* pool->dirty */
  sg_h2_pool *pool;
  sg_tlsconn *tc;      /* NULL once its on_close ran */
  nghttp2_session *ng; /* created at READY */
  sg_h2_conn_state state;
  unsigned id;
  sg_list reqs; /* sg_h2_req.node: ACTIVE and ORPHAN requests on streams */
  unsigned n_reqs;
  int32_t goaway_last_id;
  bool goaway_received;
  bool goaway_sent;
  bool preface_sent;
  bool ever_ready;
  bool pending_close; /* close requested while busy */
  bool closed;        /* transport on_close ran while busy */
  unsigned busy;      /* depth of our frames on the stack */
  int close_err;
  uint64_t idle_since_ms;
  uint64_t streams_done;
  uint64_t ping_sent_ms; /* an unanswered liveness PING went out then; 0: none */
  unsigned timeouts;     /* requests timed out since the last frame from the server */
  char detail[256];
} sg_h2_conn;

/*
 * Starts a connection for pool |p| (state CONNECTING) and links it into
 * p->conns. Returns 0 or a code from sg_tlsconn_connect (nothing linked).
 */
int sg_h2_conn_open(sg_h2_pool *p, sg_h2_conn **out);

/* Whether a new stream may be opened on |c| now. */
bool sg_h2_conn_has_capacity(const sg_h2_conn *c);

/*
 * Submits |r| on |c| as a new stream (does not flush; marks |c| dirty).
 * Returns 0 or one of: SG_ERR_AGAIN (no stream ids left: |c| is now DRAINING;
 * requeue |r|), SG_ERR_INVAL (nghttp2 rejected the header list), SG_ERR_H2.
 */
int sg_h2_conn_submit(sg_h2_conn *c, sg_h2_req *r);

/*
 * Makes |r| (ACTIVE on |c|) an orphan: its stream is reset with CANCEL and
 * the object is recycled when the stream or connection closes.
 */
void sg_h2_conn_cancel_req(sg_h2_conn *c, sg_h2_req *r);

/* Pulls frames from nghttp2 into the transport up to the high-water mark. */
void sg_h2_conn_flush(sg_h2_conn *c);

/* Moves an idle READY |c| to DRAINING when idle since |now_ms| - |idle_ms|. */
void sg_h2_conn_check_idle(sg_h2_conn *c, uint64_t now_ms, uint64_t idle_ms);

/* A request on |c| timed out: counts it (max_timeouts in a row close |c|) and
 * sends a liveness PING unless one is out. True when a PING is out. */
bool sg_h2_conn_on_timeout(sg_h2_conn *c, uint64_t now_ms);

/* Closes |c| when its PING has gone unanswered for |timeout_ms|. Returns when
 * its PING times out (0: none out, or closed now). */
uint64_t sg_h2_conn_check_ping(sg_h2_conn *c, uint64_t now_ms, uint64_t timeout_ms);

/* Closes |c| (|err| 0: orderly, flushing what is queued). Idempotent. */
void sg_h2_conn_close(sg_h2_conn *c, int err);

/* Sets |c|'s state, logging the transition. */
void sg_h2_conn_set_state(sg_h2_conn *c, sg_h2_conn_state st);

/* "CONNECTING", "READY", ... */
const char *sg_h2_conn_state_name(sg_h2_conn_state st);

/* Installs the nghttp2 callbacks the connections use into |cbs|. */
void sg_h2_conn_setup_callbacks(nghttp2_session_callbacks *cbs);

#endif
