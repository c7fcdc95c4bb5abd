/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the sandbox saw: counters by outcome, rejections by error code, the
 * duplicate detector (message keys seen), and the recent accepted messages.
 * These numbers are how the gateway's tests and benchmark judge the gateway,
 * so they are exact. Pure: no I/O; the JSON goes into an sg_buf.
 */
#ifndef SG_SBX_STATS_H
#define SG_SBX_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sg_mem.h"

#define SG_SBX_MAX_CODES 64

typedef struct sg_sbx_keyset sg_sbx_keyset;

typedef struct sg_sbx_stats {
  uint64_t requests;       /* every request that reached a route */
  uint64_t graph_accepted; /* sendMail 202 */
  uint64_t acs_accepted;   /* new ACS operations (a repeated Operation-Id is not new) */
  uint64_t acs_repeats;    /* emails:send with an Operation-Id already seen */
  uint64_t acs_polls;
  uint64_t duplicates;             /* accepted messages whose key was seen before */
  uint64_t throttled_graph;        /* 429 from Graph limits */
  uint64_t throttled_acs;          /* 429 from ACS limits */
  uint64_t throttled_token;        /* 429 from the token endpoint */
  uint64_t retry_after_violations; /* requests inside a Retry-After window we gave */
  uint64_t tokens_issued;
  uint64_t token_requests;
  uint64_t auth_failures; /* 401s from Graph/ACS */
  uint64_t fault_500, fault_503, fault_504, fault_reset, fault_drop, fault_goaway, fault_delay_202,
      fault_acs_drop;
  uint64_t inflight_now; /* Graph requests being processed */
  uint64_t max_inflight_per_mailbox;
  /* drafts and upload sessions */
  uint64_t drafts_created, drafts_sent, drafts_deleted, attachments_added, uploads_created,
      upload_ranges, upload_bytes, uploads_completed, throttled_upload;
  size_t ncodes;
  struct {
    char code[64];
    uint64_t count;
  } rejected[SG_SBX_MAX_CODES];
  sg_sbx_keyset *keys;
  /* The most recent accepted message records (JSON objects), a ring. */
  char **recent;
  size_t recent_cap, recent_len, recent_head;
} sg_sbx_stats;

void sg_sbx_stats_init(sg_sbx_stats *st, size_t recent_cap);
void sg_sbx_stats_free(sg_sbx_stats *st);
/* Clears every counter, the key set and the recent messages. */
void sg_sbx_stats_reset(sg_sbx_stats *st);

/* Counts a rejection with |code| (codes past SG_SBX_MAX_CODES count as "other"). */
void sg_sbx_stats_reject(sg_sbx_stats *st, const char *code);

/*
 * Records an accepted message with its 32-byte key and its JSON record
 * (copied). Returns true when the key had been seen before (a duplicate).
 */
bool sg_sbx_stats_accept(sg_sbx_stats *st, const uint8_t key[32], const char *record, size_t len);

/* Writes the counters as one JSON object. */
void sg_sbx_stats_json(const sg_sbx_stats *st, sg_buf *out);
/* Writes the |limit| most recent messages (oldest first) as a JSON array. */
void sg_sbx_stats_messages_json(const sg_sbx_stats *st, size_t limit, sg_buf *out);

#endif
