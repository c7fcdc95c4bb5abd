/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Watches whether keys of the sent ledger's older layout
 * (SG_RD_LEDGER_LEGACY_PREFIX<job id>, written by gateways from before the
 * bucketed ledger) still exist, so that the lookup of every job need not ask
 * for them (one GET per job) when none can be there.
 *
 * A pass walks the keyspace with SCAN <cursor> MATCH <prefix>* COUNT <count>
 * TYPE string, one call at a time (each bounded by |count| keys of Redis
 * work), and ends when the cursor comes back to 0. A pass that met no such
 * key says "absent"; a key met says "present" at once (the pass stops there).
 * Passes repeat every |pass_every_ms| from the start of the last one, so keys
 * that a gateway of the older version writes later are noticed within that
 * time. Until the first answer the state is "present" (the safe side). A
 * failed call (refused, timed out, not connected) is retried after
 * |retry_ms|; the state stays as it was.
 *
 * Single-threaded: all calls and callbacks on the loop thread.
 */
#ifndef SG_RD_LEGACY_H
#define SG_RD_LEGACY_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "redis/sg_rd_client.h"

typedef struct sg_rd_legacy sg_rd_legacy;

/* The answer, after every pass and whenever a key is met (|present|). */
typedef void (*sg_rd_legacy_cb)(bool present, void *ud);

typedef struct sg_rd_legacy_opts {
  sg_rd_client *client;    /* required, borrowed */
  const char *prefix;      /* default SG_RD_LEDGER_LEGACY_PREFIX (copied) */
  uint32_t count;          /* SCAN COUNT; default 250 (about 150 us of Redis a call) */
  uint32_t pass_every_ms;  /* from one pass's start to the next; default 600000 */
  uint32_t retry_ms;       /* after a failed call; default 1000 */
  uint32_t cmd_timeout_ms; /* default 5000 */
  sg_rd_legacy_cb cb;      /* required */
  void *ud;
} sg_rd_legacy_opts;

typedef struct sg_rd_legacy_stats {
  uint64_t passes; /* passes ended (a key met, or the whole keyspace walked) */
  uint64_t calls;  /* SCAN calls answered */
  uint64_t errors; /* failed calls */
} sg_rd_legacy_stats;

/* Starts the first pass on the next loop turn. Returns 0 or SG_ERR_INVAL. */
int sg_rd_legacy_new(uv_loop_t *loop, const sg_rd_legacy_opts *o, sg_rd_legacy **out);
bool sg_rd_legacy_present(const sg_rd_legacy *w);
void sg_rd_legacy_get_stats(const sg_rd_legacy *w, sg_rd_legacy_stats *out);
/* Stops; a call in flight is waited for. |done| (may be NULL) fires once
 * everything is released; |w| is freed then. |cb| does not fire again. */
void sg_rd_legacy_close(sg_rd_legacy *w, void (*done)(void *ud), void *ud);

#endif
