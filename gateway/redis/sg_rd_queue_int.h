/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals shared by sg_rd_queue.c (results, parks, dead letters) and
 * sg_rd_queue_ledger.c (the sent ledger). Not for other modules.
 */
#ifndef SG_RD_QUEUE_INT_H
#define SG_RD_QUEUE_INT_H

#include "redis/sg_rd_queue.h"

struct sg_rd_queue {
  sg_rd_stream *s;
  char *results; /* default results stream */
  char *delayed; /* the delayed set */
  int64_t results_maxlen;
  char maxlen[24]; /* results_maxlen in decimal */
  int64_t ttl_s;
  uint32_t slots;
  uint32_t timeout_ms;
  sg_list lookups;        /* queued, not sent yet */
  sg_buf wbuf;            /* the lookup script call being written */
  bool legacy;            /* look up the older layout too */
  bool default_trusted;   /* the default results stream is known to take results */
  uint32_t fill;          /* fields in the bucket sampled by the last lookup reply */
  int64_t full_warned_ms; /* when that was last logged as too many */
  /* Buckets of generation |exp_gen| whose EXPIREAT this process has sent
   * (one bit a slot), valid while the stream's reconnect count is |exp_conn|. */
  uint8_t *exp_bits;
  int64_t exp_gen;
  uint64_t exp_conn;
};

#endif
