/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scheduler: one lane per (account, mailbox) for Graph and per resource
 * for ACS. A lane holds the jobs waiting for it and admits one when its
 * limits allow: a cap on requests in flight, sliding windows on requests,
 * messages, recipients and request bytes, and a pause (Retry-After) until a given time.
 * Ready lanes are served round robin, so senders that share nothing never
 * wait for each other and one campaign cannot hold up another sender.
 *
 * Lane states: IDLE (nothing queued), READY (in the round-robin list),
 * WAIT_SLOT (at its in-flight cap; back to READY on release) and WAIT_TIME
 * (paused or out of window budget; in a heap by wake time). Pure: no timers,
 * the caller passes now and arms one timer for sg_sched_next_wake.
 *
 * Lanes are freed when nobody needs them: a lane with nothing queued, nothing
 * in flight and no reference (sg_sched_lane_ref) is unheld; it goes into the
 * idle heap keyed by the time from which its pause is over and its windows
 * hold nothing, i.e. from which it is indistinguishable from a fresh lane
 * (at once when the lane has no limits). Unheld lanes whose time has come
 * are freed a bounded number per call, by sg_sched_tick and
 * sg_sched_lane_unref; sg_sched_next_wake includes the earliest such time so
 * the caller's one timer also collects them. A lane pointer is valid while
 * the caller holds a reference, or while the lane has items queued or in
 * flight; a later sg_sched_lane of the same key then makes a fresh lane.
 */
#ifndef SG_SCHED_H
#define SG_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sg_heap.h"
#include "core/sg_list.h"
#include "sched/sg_window.h"

typedef struct sg_lane_cfg {
  uint32_t max_inflight;               /* 0 = no cap */
  uint64_t req_limit, req_window_ms;   /* requests (every attempt) */
  uint64_t req2_limit, req2_window_ms; /* a second window on requests (ACS: per hour) */
  uint64_t msg_limit, msg_window_ms;   /* messages (first attempt of a job) */
  uint64_t rcpt_limit, rcpt_window_ms; /* recipients of those messages */
  /* request body bytes (every request; counted in KiB, rounded up) */
  uint64_t bytes_limit, bytes_window_ms;
} sg_lane_cfg;

/* Embed in the job; |units| = recipients, |counted| set once the job's message
 * and recipients have been charged (retries charge only a request). */
typedef struct sg_sched_item {
  sg_list link;
  uint32_t rcpts;
  bool counted;
  uint64_t bytes; /* body bytes of the item's next request (the lane's byte window) */
  bool bulk;      /* waits behind the lane's transactional items (sg_sched_prio.c) */
} sg_sched_item;

/* Bytes as the byte window counts them: KiB, rounded up (a window's slots
 * hold 32-bit counts; 150 MB is 153600 KiB). */
static inline uint64_t sg_sched_kib(uint64_t bytes) {
  return bytes / 1024 + (bytes % 1024 != 0);
}

typedef enum { SG_LANE_IDLE, SG_LANE_READY, SG_LANE_WAIT_SLOT, SG_LANE_WAIT_TIME } sg_lane_state;

typedef struct sg_lane {
  char *key;
  uint64_t hash; /* of key */
  sg_lane_cfg cfg;
  sg_lane_state state;
  uint32_t inflight;
  uint32_t max_inflight_seen;
  uint32_t refs; /* holders outside the scheduler (sg_sched_lane_ref) */
  bool idle;     /* unheld, in the idle heap */
  sg_window req, req2, msg, rcpt, bytes;
  uint64_t paused_until;
  /* WAIT_TIME: when to look again; idle: from when the lane may be freed */
  uint64_t wake_at;
  size_t heap_idx; /* in the wait heap (WAIT_TIME) or the idle heap (idle) */
  sg_list queue;   /* transactional items; bulk ones wait in |bulk| behind them */
  sg_list bulk;
  size_t queued; /* both queues */
  size_t queued_bulk;
  sg_list ready_link;
  struct sg_lane *hnext; /* hash chain */
  /* counters */
  uint64_t admitted, pauses;
  /* head-of-line parking (sched/sg_hol.h): observed request latency and the
   * due time (monotonic ms) of the next job sent to wait in the delayed set */
  uint32_t lat_ms;
  uint64_t park_next;
  void *share; /* the gate's state for this lane (sg_sched_gate), NULL when none */
} sg_lane;

/*
 * An optional gate on admission beside the lane's own limits (shared budgets,
 * sched/sg_share.h). |admit| is asked once the lane's own limits let its head
 * item |it| go at |now|: 0 lets it go (the gate has charged what it keeps);
 * otherwise the lane waits that many ms, or until sg_sched_wake. |paused| is
 * told of every sg_sched_pause. Both may be NULL.
 */
typedef struct sg_sched_gate {
  uint64_t (*admit)(void *ud, sg_lane *l, const sg_sched_item *it, uint64_t now);
  void (*paused)(void *ud, sg_lane *l, uint64_t until);
  void *ud;
  void (*released)(void *ud, sg_lane *l); /* after each sg_sched_release (may be NULL) */
} sg_sched_gate;

typedef struct sg_sched {
  sg_lane **buckets;
  size_t nbuckets, nlanes; /* nlanes: lanes held, idle ones included */
  sg_list ready;           /* READY lanes with only bulk items queued */
  sg_list ready_tx;        /* READY lanes with transactional items: served first */
  sg_heap wait;            /* WAIT_TIME lanes */
  sg_heap idle;            /* unheld lanes */
  size_t waiting;          /* lanes in WAIT_SLOT or WAIT_TIME */
  uint64_t now;            /* the latest time passed to sg_sched_tick or sg_sched_lane_unref */
  size_t queued;           /* items waiting in all lanes */
  size_t inflight;         /* admitted and not released, all lanes */
  size_t max_inflight;     /* cap on that (0 = none): sg_sched_pop returns NULL at it */
  sg_sched_gate gate;      /* zeroed by sg_sched_init: no gate */
} sg_sched;

/* Unheld lanes freed at most per sg_sched_tick and per sg_sched_lane_unref. */
#define SG_SCHED_FREE_PER_TICK 64
#define SG_SCHED_FREE_PER_UNREF 2
/* sg_sched_next_wake rounds idle lanes' times up to this, so one wake frees many. */
#define SG_SCHED_IDLE_GRAIN_MS 1000

void sg_sched_init(sg_sched *s);
/* Frees the lanes; items still queued are not touched (the caller owns them). */
void sg_sched_free(sg_sched *s);

/*
 * The lane named |key|, created with |cfg| when new (an existing lane keeps
 * its cfg). A new lane is unheld: take a reference or push an item on it
 * before the next call that can free lanes (sg_sched_tick, sg_sched_lane_unref).
 */
sg_lane *sg_sched_lane(sg_sched *s, const char *key, const sg_lane_cfg *cfg);

/* Keeps |lane| (and the pointer) alive until the matching sg_sched_lane_unref. */
void sg_sched_lane_ref(sg_sched *s, sg_lane *lane);

/*
 * Drops a reference; |lane| must not be used after it by this holder. Frees
 * up to SG_SCHED_FREE_PER_UNREF unheld lanes whose time has come at |now_ms|
 * (|lane| among them, when it is one).
 */
void sg_sched_lane_unref(sg_sched *s, sg_lane *lane, uint64_t now_ms);

/* Queues |it| on |lane|, at the front for a job that was throttled (it keeps its place).
 * Transactional items always go ahead of bulk ones (it->bulk). */
void sg_sched_push(sg_sched *s, sg_lane *lane, sg_sched_item *it, bool front);

/* The item |lane| admits next (transactional before bulk), or NULL. */
sg_sched_item *sg_sched_front(sg_lane *lane);
/* The item |lane| would admit last (bulk after transactional), or NULL. */
sg_sched_item *sg_sched_back(sg_lane *lane);

/* Takes |it| off its lane's queue (for jobs cancelled or expired while waiting). */
void sg_sched_remove(sg_sched *s, sg_lane *lane, sg_sched_item *it);

/*
 * Returns the next admissible item (its lane in |*lane_out|), charging the
 * lane's windows and in-flight count, or NULL when none is admissible now.
 */
sg_sched_item *sg_sched_pop(sg_sched *s, uint64_t now_ms, sg_lane **lane_out);

/*
 * How long |it| would wait on |lane| at |now_ms| for the lane's pause and
 * windows (0: it could go now; the in-flight cap is not counted). Charges
 * nothing. UINT64_MAX when it can never fit.
 */
uint64_t sg_sched_wait(sg_sched *s, sg_lane *lane, const sg_sched_item *it, uint64_t now_ms);

/* A request of |lane| finished (whatever the outcome). */
void sg_sched_release(sg_sched *s, sg_lane *lane);

/* Pauses |lane| until |until_ms| (Retry-After); later pauses extend, never shorten. */
void sg_sched_pause(sg_sched *s, sg_lane *lane, uint64_t until_ms);

/* A lane waiting for time (its gate said wait) is looked at again by the next
 * sg_sched_pop; its pause and windows still hold. No-op for other states. */
void sg_sched_wake(sg_sched *s, sg_lane *lane);

/* Moves lanes whose wake time has come back to READY; frees up to
 * SG_SCHED_FREE_PER_TICK unheld lanes whose time has come. */
void sg_sched_tick(sg_sched *s, uint64_t now_ms);

/* When sg_sched_tick has work next: the earliest wake time of a waiting lane
 * or of an unheld lane (rounded up to SG_SCHED_IDLE_GRAIN_MS unless already
 * due, so more than a tick's worth of due lanes are freed on the next turns);
 * UINT64_MAX when there is none. */
uint64_t sg_sched_next_wake(const sg_sched *s);

#endif
