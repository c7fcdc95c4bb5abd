/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals shared by sg_rd_stream.c (read side, lifecycle) and
 * sg_rd_stream_txn.c (completion queue). Not for other modules.
 */
#ifndef SG_RD_STREAM_INT_H
#define SG_RD_STREAM_INT_H

#include "core/sg_list.h"
#include "core/sg_mem.h"
#include "core/sg_turn.h"
#include "redis/sg_rd_script.h"
#include "redis/sg_rd_stream.h"

enum { RS_DOWN, RS_SETUP, RS_PENDING, RS_LIVE };

struct sg_rd_stream {
  uv_loop_t *loop;
  sg_rd_stream_opts opts; /* string members NULL: see below */
  sg_rd_stream_cbs cbs;
  char *key, *group, *consumer, *dead;
  char *ack_guard;  /* sg_rd_stream_set_ack_guard; NULL: none */
  sg_rd_client *rc; /* read connection: XGROUP CREATE + the read script only */
  sg_rd_client *cc; /* command connection */
  SSL_CTX *ssl;     /* rediss://: the two connections' TLS context, owned */
  int rc_ups, cc_ups;
  bool setup_waits_cc; /* the read connection is up; reading waits for the command one */

  /* read side */
  int read_state;
  bool read_inflight;
  bool delivering;           /* inside on_entry calls: no nested reads */
  bool reads_held;           /* sg_rd_stream_hold_reads */
  char cursor[SG_RD_ID_MAX]; /* pending scan position */
  uint32_t credit;
  sg_rd_idset held; /* handed out, not completed */
  /* Completed (acked) while the current read was in flight: that read may
   * have been answered from the pending list before the ack was applied on
   * the other connection, and must not hand them out again. */
  sg_rd_idset recent;
  sg_rd_field *fields;
  size_t fields_cap;
  uv_timer_t retry_timer;
  uv_timer_t wait_timer; /* fetch_wait_ms after a short read, poll_ms after an empty one */
  uint32_t last_count;   /* COUNT of the last read */
  uint32_t poll_ms;      /* the current pause after an empty read (0 after entries) */
  int64_t byte_credit;   /* byte_budget minus the sizes handed out and not given back */
  size_t reply_cap;      /* of the read connection (0: the client's default) */
  /* The entry size native reads plan with: the largest of the last read,
   * or half the previous estimate if that is more (max_entry_bytes at first). */
  uint64_t est_entry;
  uint64_t read_max; /* largest entry of the read being delivered */
  bool rescan;       /* an entry was given back: scan own pending entries again */
  sg_rd_script read_script;

  /* completions (sg_rd_stream_txn.c) */
  sg_list queue;     /* not sent yet */
  sg_list retry;     /* sent on a connection that died: sent again first */
  sg_list sent;      /* script call outstanding */
  sg_buf wbuf;       /* the script call being written */
  size_t ncomp;      /* in all three lists */
  sg_turn_reg flush; /* SG_TURN_REDIS: see sg_rd_stream__txn_kick */

  /* stopping */
  bool stopping, cc_closing;
  uv_timer_t stop_timer;
  int open; /* handles and clients still to close */
  sg_rd_stream_stopped_cb stopped_cb;
  void *stopped_ud;

  sg_rd_stream_stats stats;
};

void sg_rd_stream__maybe_read(sg_rd_stream *s);
void sg_rd_stream__finish_stop(sg_rd_stream *s);

void sg_rd_stream__txn_init(sg_rd_stream *s);
/* Wants the per-turn flush if there is something to send and the connection is UP. */
void sg_rd_stream__txn_kick(sg_rd_stream *s);
size_t sg_rd_stream__txn_pending(const sg_rd_stream *s);
/* Fails every completion not yet sent with |status|. */
void sg_rd_stream__txn_fail_queued(sg_rd_stream *s, int status);

#endif
