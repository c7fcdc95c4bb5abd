/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared budgets in Redis: one Lua script call carries a whole turn's asks,
 * give-backs, renewals and pauses for every lane (sched/sg_share.h builds
 * them) and answers with a grant per lane. Every key is under a prefix
 * (default "sendgate:budget:"); per lane, with the lane key in braces:
 *
 *   <p>gateways              ZSET gateway id -> lease expiry (ms): the registry, renewed
 *                            by every call of the gateway; its leases hang on it
 *   <p>lanes:<gateway id>    SET of the lanes the gateway is on (to drop its leases)
 *   <p>news:<gateway id>     SET of its lanes where another gateway arrived since its
 *                            last call (read and cleared by that call)
 *   <p>{<lane>}:g            ZSET gateway id -> last op: gateways on the lane
 *   <p>{<lane>}:s            HASH gateway id -> in-flight slots it holds
 *   <p>{<lane>}:q            ZSET gateway id -> since when it waits for a slot (FIFO)
 *   <p>{<lane>}:a            HASH gateway id -> until when it holds credit taken alone
 *                            (lanes without a slot cap: no credit for others meanwhile)
 *   <p>{<lane>}:w<0..4>      HASH sub-window index -> units (requests, second request
 *                            window, messages, recipients, KiB), 60 sub-windows per window
 *   <p>{<lane>}:w<0..4>:s    HASH t -> sum of the window's live sub-windows, r -> the
 *                            sub-window index when t was last rebuilt (see the script)
 *   <p>{<lane>}:p            STRING with a PX TTL: the lane's Retry-After pause
 *
 * A gateway whose registry entry expired (it died, or made no call for
 * lease_ms) loses its slots, its place in the queues and its alone credit at
 * the next call of any gateway, through its lane set; it is told so ("lost")
 * if it calls again. Lane keys live 10 lease_ms after their last op (a
 * gateway holding anything on a lane makes one every 3 lease_ms). Credit is
 * counted in the sub-window
 * of (now + share_ms), so units spent any time before the credit expires stay
 * counted a whole window after they were spent; credit given back is taken
 * off that sub-window again. Time is Redis's (TIME), so the gateways' clocks
 * do not matter. While a lane is paused no credit is granted.
 *
 * The lanes' keys are not declared as KEYS (there can be thousands in a
 * call): a single Redis or a primary with replicas, not a cluster.
 */
#ifndef SG_RD_BUDGET_H
#define SG_RD_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sg_mem.h"
#include "redis/sg_rd_client.h"
#include "sched/sg_share.h"

typedef struct sg_rd_budget sg_rd_budget;

typedef struct sg_rd_budget_opts {
  const char *gateway_id; /* unique among the gateways on this Redis; copied */
  const char *prefix;     /* key prefix; NULL: "sendgate:budget:"; copied */
  uint64_t lease_ms, share_ms;
  uint32_t timeout_ms; /* of one call */
} sg_rd_budget_opts;

/* An answer; everything in it is valid during the callback only. */
typedef struct sg_rd_budget_reply {
  uint32_t gateways;       /* on this Redis now */
  bool lost;               /* this gateway's leases had expired in Redis */
  const char *const *news; /* lanes where another gateway arrived */
  size_t nnews;
  const sg_share_grant *g; /* one per op, in order */
  size_t n;
} sg_rd_budget_reply;

/*
 * The answer to a call: |status| 0 with |r|; else the error (SG_ERR_REDIS:
 * the script failed; SG_ERR_PARSE: an answer of the wrong shape; or the
 * client's SG_ERR_TIMEOUT, SG_ERR_CLOSED, SG_ERR_SHUTDOWN) with |r| NULL.
 */
typedef void (*sg_rd_budget_cb)(int status, const sg_rd_budget_reply *r, void *ud);

/* A budget caller on |c| (borrowed; it must outlive the caller's last call). */
void sg_rd_budget_new(sg_rd_client *c, const sg_rd_budget_opts *o, sg_rd_budget **out);

/*
 * Frees |b|. A call still out is abandoned: its callback is not called.
 */
void sg_rd_budget_free(sg_rd_budget *b);

/*
 * Sends the call for |req| (borrowed; encoded before return; it may have no
 * op); |known|: a call of this gateway succeeded before (so an expired
 * registry entry means its leases were lost). |cb| is called once, later. Returns 0 or as
 * sg_rd_client_cmd (SG_ERR_CLOSED when Redis is down; |cb| is then not called), or SG_ERR_BUSY
 * while a call is out.
 */
int sg_rd_budget_call(sg_rd_budget *b, const sg_share_req *req, bool known, sg_rd_budget_cb cb,
                      void *ud);

/*
 * This gateway leaves: everything it holds in Redis goes back at once (as for
 * a gateway that died). Sent even while a call is out (after it, so what that
 * call grants goes back too); no answer is awaited. Returns 0 or as
 * sg_rd_client_cmd.
 */
int sg_rd_budget_leave(sg_rd_budget *b);

/* Encodes |req| as the script's lane list (exposed for tests). */
void sg_rd_budget_encode(const sg_share_req *req, sg_buf *out);

#endif
