/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sent ledger on arrival: every valid job's key sendgate:sent:<id> is
 * looked up before it goes on its lane, all of a loop turn's lookups in one
 * MGET (sent from the pump). A job found there was sent before (a redelivery
 * or a duplicate id): its stored result is published again instead of a
 * second send.
 */
#include "app/sg_app_int.h"

#include <stdio.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_log.h"
#include "redis/sg_resp.h"

/* What the ledger holds for |j| (|val| NULL: nothing, or the lookup failed
 * with |status|): re-publish the result of a job sent before, or go on. */
static void ledger_answer(sg_jobrun *j, int status, const char *val, size_t len) {
  sg_app *a = j->app;
  if (status == 0 && val && len > 0) {
    sg_log_kv(SG_LOG_INFO, "job", "already sent (ledger): result re-published", "job_id",
              j->job->id, NULL);
    sg_buf_reset(&j->result);
    sg_buf_append(&j->result, val, len);
    const char *argv[8];
    size_t lens[8];
    sg_rd_op op = sg_app__result_op(j, argv, lens);
    j->state = SG_JOB_COMPLETING;
    if (sg_rd_stream_complete(a->stream, j->entry_id, &op, 1, sg_app__on_completed, j) != 0)
      sg_app__job_release(j, false);
    return;
  }
  if ((status != 0 && status != SG_ERR_REDIS) || a->stopping) {
    /* Redis went away (or we are stopping): the entry stays pending and comes back later. */
    sg_app__job_release(j, false);
    return;
  }
  sg_app__queue_job(j);
}

/* One MGET for the ledger keys of many jobs. */
typedef struct ledger_batch {
  size_t n;
  sg_jobrun *j[];
} ledger_batch;

#define LEDGER_BATCH_MAX 512

static void on_ledger(sg_rd_client *c, int status, const redisReply *reply, void *ud) {
  (void)c;
  ledger_batch *b = ud;
  bool ok = status == 0 && reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == b->n;
  if (status == 0 && !ok)
    status = SG_ERR_REDIS;
  for (size_t i = 0; i < b->n; i++) {
    const redisReply *e = ok ? reply->element[i] : NULL;
    bool has = e && e->type == REDIS_REPLY_STRING;
    ledger_answer(b->j[i], status, has ? e->str : NULL, has ? e->len : 0);
  }
  sg_free(b);
}

size_t sg_app__ledger_key(const char *id, char *out, size_t cap) {
  static const char prefix[] = "sendgate:sent:";
  const size_t pl = sizeof prefix - 1;
  if (cap <= pl)
    return sg_fmt_copy(out, cap, prefix);
  memcpy(out, prefix, pl);
  return pl + sg_fmt_copy(out + pl, cap - pl, id);
}

void sg_app__ledger_flush(sg_app *a) {
  sg_buf *w = &a->ledger_buf;
  while (!sg_list_empty(&a->ledger_q)) {
    ledger_batch *b = sg_xmalloc(sizeof *b + LEDGER_BATCH_MAX * sizeof(sg_jobrun *));
    b->n = 0;
    sg_list *n;
    while (b->n < LEDGER_BATCH_MAX && (n = sg_list_pop_front(&a->ledger_q)) != NULL)
      b->j[b->n++] = sg_container_of(n, sg_jobrun, lnode);
    sg_buf_reset(w);
    sg_resp_array(w, 1 + b->n);
    sg_resp_bulk(w, "MGET", 4);
    for (size_t i = 0; i < b->n; i++) {
      char key[160]; /* ids are at most SG_JOB_ID_MAX (128) */
      sg_resp_bulk(w, key, sg_app__ledger_key(b->j[i]->job->id, key, sizeof key));
    }
    sg_rd_client *cc = sg_rd_stream_cmd_client(a->stream);
    if (sg_rd_client_cmd_resp(cc, w->data, w->len, (uint32_t)a->cfg.redis_timeout_ms, on_ledger,
                              b) != 0) {
      for (size_t i = 0; i < b->n; i++)
        sg_app__job_release(b->j[i], false); /* not up: stays pending */
      sg_free(b);
    }
  }
  if (w->cap > (1u << 20))
    sg_buf_free(w);
  sg_rd_client_flush(sg_rd_stream_cmd_client(a->stream));
}

void sg_app__ledger_check(sg_jobrun *j) {
  j->state = SG_JOB_CHECKING; /* the reply (or its failure) releases the job */
  sg_list_push_back(&j->app->ledger_q, &j->lnode);
}

void sg_app__ledger_cancel(sg_jobrun *j) {
  if (sg_list_linked(&j->lnode)) {
    sg_list_remove(&j->lnode);
    j->state = SG_JOB_NEW;
  }
}

