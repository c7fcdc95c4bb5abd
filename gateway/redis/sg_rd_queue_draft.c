/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The draft record of a large Graph message (layout in sg_rd_queue.h): one
 * string per job, read before the job's first step and written when its
 * draft exists and again just before the draft is sent, so a job delivered
 * again after a crash finds its draft instead of sending a second message.
 */
#include "redis/sg_rd_queue_int.h"

#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "redis/sg_rd_client.h"

typedef struct draft_op {
  sg_rd_draft_cb cb;
  void *ud;
} draft_op;

size_t sg_rd_draft_key(const sg_rd_ledger_id *id, char *out) {
  int n = snprintf(out, SG_RD_DRAFT_KEY_MAX, SG_RD_DRAFT_PREFIX "%016" PRIx64 "%08" PRIx32,
                   (uint64_t)id->field, id->slot_hash);
  return n > 0 ? (size_t)n : 0;
}

static void on_reply(sg_rd_client *c, int status, const redisReply *reply, void *ud) {
  (void)c;
  draft_op *op = ud;
  sg_rd_draft_cb cb = op->cb;
  void *cud = op->ud;
  sg_free(op);
  if (status != 0) {
    cb(cud, status, NULL, 0);
  } else if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
    cb(cud, SG_ERR_REDIS, NULL, 0);
  } else if (reply->type == REDIS_REPLY_STRING) {
    cb(cud, 0, reply->str, reply->len);
  } else {
    cb(cud, 0, NULL, 0); /* nil (no record), or +OK of a SET */
  }
}

static int draft_cmd(sg_rd_queue *q, int argc, const char **argv, const size_t *lens,
                     sg_rd_draft_cb cb, void *ud) {
  draft_op *op = sg_xmalloc(sizeof *op);
  op->cb = cb;
  op->ud = ud;
  sg_rd_client *cc = sg_rd_stream_cmd_client(q->s);
  int rv = sg_rd_client_cmd(cc, argc, argv, lens, q->timeout_ms, on_reply, op);
  if (rv != 0) {
    sg_free(op);
    return rv;
  }
  sg_rd_client_flush(cc);
  return 0;
}

int sg_rd_queue_draft_get(sg_rd_queue *q, const sg_rd_ledger_id *id, sg_rd_draft_cb cb, void *ud) {
  char key[SG_RD_DRAFT_KEY_MAX];
  size_t kl = sg_rd_draft_key(id, key);
  const char *argv[] = {"GET", key};
  size_t lens[] = {3, kl};
  return draft_cmd(q, 2, argv, lens, cb, ud);
}

int sg_rd_queue_draft_set(sg_rd_queue *q, const sg_rd_ledger_id *id, const char *value, size_t len,
                          int64_t ttl_s, sg_rd_draft_cb cb, void *ud) {
  char key[SG_RD_DRAFT_KEY_MAX], ttl[24];
  size_t kl = sg_rd_draft_key(id, key);
  int tl = snprintf(ttl, sizeof ttl, "%" PRId64, ttl_s > 0 ? ttl_s : 1);
  const char *argv[] = {"SET", key, value, "EX", ttl};
  size_t lens[] = {3, kl, len, 2, (size_t)tl};
  return draft_cmd(q, 5, argv, lens, cb, ud);
}
