/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The queue protocol's results, parks and dead letters (see sg_rd_queue.h);
 * the sent ledger is in sg_rd_queue_ledger.c.
 */
#include "redis/sg_rd_queue_int.h"

#include "core/sg_clock.h"
#include "core/sg_err.h"
#include "core/sg_fmt.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "job/sg_job_codec.h"
#include "job/sg_result.h"
#include "redis/sg_rd_delayed.h"

#include <stdio.h>
#include <string.h>

int sg_rd_queue_new(sg_rd_stream *s, const sg_rd_queue_opts *o, sg_rd_queue **out) {
  if (s == NULL || o == NULL || o->ledger_ttl_s < 0 || o->results_maxlen < 0)
    return SG_ERR_INVAL;
  sg_rd_queue *q = sg_xcalloc(1, sizeof *q);
  q->s = s;
  q->results = sg_xstrdup(o->results_stream && o->results_stream[0] ? o->results_stream
                                                                    : SG_RD_RESULTS_STREAM);
  q->delayed = sg_xstrdup(o->delayed_key && o->delayed_key[0] ? o->delayed_key : SG_RD_DELAYED_KEY);
  q->results_maxlen = o->results_maxlen;
  sg_fmt_i64(q->maxlen, o->results_maxlen);
  q->ttl_s = o->ledger_ttl_s < SG_RD_LEDGER_TTL_MAX ? o->ledger_ttl_s : SG_RD_LEDGER_TTL_MAX;
  q->slots = o->ledger_slots ? o->ledger_slots : SG_RD_LEDGER_SLOTS_DEFAULT;
  q->timeout_ms = o->cmd_timeout_ms ? o->cmd_timeout_ms : 5000;
  q->legacy = !o->no_legacy;
  q->default_trusted = true;
  /* The fast path's results go to q->results: their ack waits on its type. */
  sg_rd_stream_set_ack_guard(s, q->results);
  sg_list_init(&q->lookups);
  sg_buf_init(&q->wbuf);
  *out = q;
  return 0;
}

void sg_rd_queue_free(sg_rd_queue *q) {
  if (q == NULL)
    return;
  sg_list *n;
  while ((n = sg_list_pop_front(&q->lookups)) != NULL) {
    sg_rd_lookup *l = sg_container_of(n, sg_rd_lookup, node);
    l->cb(l, SG_ERR_SHUTDOWN, NULL);
  }
  sg_buf_free(&q->wbuf);
  sg_free(q->exp_bits);
  sg_free(q->results);
  sg_free(q->delayed);
  sg_free(q);
}

void sg_rd_queue_set_legacy(sg_rd_queue *q, bool on) {
  q->legacy = on;
}

void sg_rd_queue_set_default_trusted(sg_rd_queue *q, bool on) {
  q->default_trusted = on;
}

bool sg_rd_queue_ledger_on(const sg_rd_queue *q) {
  return q->ttl_s > 0;
}

/* XADD <stream> [MAXLEN ~ <n>] * result <bytes>: only the default stream is capped. */
static sg_rd_op result_op(const sg_rd_queue *q, const char *stream, const char *result, size_t len,
                          const char **argv, size_t *lens) {
  int n = 0;
  argv[n] = "XADD", lens[n++] = 4;
  argv[n] = stream, lens[n++] = strlen(stream);
  if (strcmp(stream, q->results) == 0 && q->results_maxlen > 0) {
    argv[n] = "MAXLEN", lens[n++] = 6;
    argv[n] = "~", lens[n++] = 1;
    argv[n] = q->maxlen, lens[n++] = strlen(q->maxlen);
  }
  argv[n] = "*", lens[n++] = 1;
  argv[n] = "result", lens[n++] = 6;
  argv[n] = result, lens[n++] = len;
  return (sg_rd_op){n, argv, lens};
}

static void on_finished(sg_rd_stream *s, int status, void *ud) {
  sg_rd_completion *c = ud;
  if (status == SG_ERR_REDIS && !c->on_default) {
    /* The reply stream refused the result (e.g. the key holds another type):
     * publish on the default results stream instead; acks are idempotent. */
    sg_log_kv(SG_LOG_WARN, "job", "reply stream refused the result; using the default stream",
              "entry_id", c->entry_id, NULL);
    c->on_default = true;
    const char *argv[8];
    size_t lens[8];
    sg_rd_op op = result_op(c->q, c->q->results, c->result, c->result_len, argv, lens);
    if (sg_rd_stream_complete(s, c->entry_id, &op, 1, on_finished, c) == 0)
      return;
  }
  c->done(s, status, c->ud);
}

int sg_rd_queue_finish(sg_rd_queue *q, sg_rd_completion *c, const char *entry_id,
                       const char *reply_stream, const char *result, size_t result_len,
                       const sg_rd_ledger_id *id, const sg_rd_sent *sent, sg_rd_stream_done_cb done,
                       void *ud) {
  const char *stream = reply_stream && reply_stream[0] ? reply_stream : q->results;
  *c = (sg_rd_completion){q,    entry_id, result, result_len, strcmp(stream, q->results) == 0,
                          done, ud};
  const char *argv[8];
  size_t lens[8];
  sg_rd_op ops[3];
  /* Our own results stream, while it is known to be one, and the ledger do
   * not refuse an op: the fast path (one MULTI of native commands per turn,
   * one pending record). A producer's reply stream can (a key of another
   * type): the script. */
  unsigned trusted = c->on_default && q->default_trusted ? SG_RD_COMPLETE_TRUSTED : 0;
  if (sent && id && q->ttl_s > 0) {
    /* The ledger write goes first: if the completion has to be sent again
     * after a lost reply, a field already there means the result is out. */
    sg_rd_ledger_write w;
    sg_rd_ledger_write_init(q, &w, id, sent, sent->completed_unix_ms);
    ops[0] = w.ops[0];
    ops[1] = w.ops[1];
    ops[w.nops] = result_op(q, stream, result, result_len, argv, lens);
    return sg_rd_stream_complete_ex(q->s, entry_id, ops, w.nops + 1, SG_RD_COMPLETE_ONCE | trusted,
                                    on_finished, c);
  }
  ops[0] = result_op(q, stream, result, result_len, argv, lens);
  return sg_rd_stream_complete_ex(q->s, entry_id, ops, 1, trusted, on_finished, c);
}

int sg_rd_queue_park(sg_rd_queue *q, const char *entry_id, int64_t due_unix_ms, uint32_t attempts,
                     const void *job, size_t job_len, sg_rd_stream_done_cb done, void *ud) {
  sg_rd_park p;
  sg_rd_park_init(&p, q->delayed, due_unix_ms, entry_id, attempts, job, job_len);
  int rv = sg_rd_stream_complete(q->s, entry_id, &p.op, 1, done, ud);
  sg_rd_park_free(&p);
  return rv;
}

int sg_rd_queue_reject(sg_rd_queue *q, const sg_rd_entry *e, const char *reason, const char *result,
                       size_t result_len, sg_rd_stream_done_cb done, void *ud) {
  const char *argv[8];
  size_t lens[8];
  sg_rd_op op = result_op(q, q->results, result, result_len, argv, lens);
  return sg_rd_stream_dead_letter(q->s, e, reason, &op, 1, done, ud);
}

static const sg_rd_field *find_field(const sg_rd_field *f, size_t n, const char *name) {
  size_t len = strlen(name);
  for (size_t i = 0; i < n; i++)
    if (f[i].name_len == len && memcmp(f[i].name, name, len) == 0)
      return &f[i];
  return NULL;
}

void sg_rd_queue_expired_result(const sg_rd_field *fields, size_t nfields, const char *entry_id,
                                uint32_t deliveries, uint32_t max_deliveries, int64_t now_ms,
                                sg_buf *out, char **reply) {
  const sg_rd_field *jf = find_field(fields, nfields, "job");
  sg_job_msg *m = NULL;
  if (jf) {
    sg_job_error jerr;
    sg_job_decode((const uint8_t *)jf->value, jf->value_len, &m, &jerr); /* m set if decodable */
  }
  const sg_job *j = m ? sg_job_msg_view(m) : NULL;
  char msg[200];
  snprintf(msg, sizeof msg,
           "handed out %u times without completing (limit %u): a gateway stopped while holding "
           "it each time",
           deliveries, max_deliveries);
  sg_result res = {
      .job_id = j ? j->id : "",
      .status = SG_STATUS_EXPIRED,
      .backend = j ? j->backend : SG_BACKEND_UNSPECIFIED,
      .error_code = SG_RD_ERR_MAX_DELIVERIES,
      .error_message = msg,
      .campaign_id = j ? j->campaign_id : "",
      .metadata = j ? j->metadata : NULL,
      .n_metadata = j ? j->n_metadata : 0,
      .created_unix_ms = j ? j->created_unix_ms : 0,
      .completed_unix_ms = now_ms,
      .stream_entry_id = entry_id,
  };
  sg_result_encode(&res, out);
  *reply = j && j->reply_stream[0] ? sg_xstrdup(j->reply_stream) : NULL;
  sg_job_msg_free(m);
}

int sg_rd_queue_dead_expired(sg_rd_queue *q, const sg_rd_entry *e, uint32_t deliveries,
                             uint32_t max_deliveries, sg_rd_stream_done_cb done, void *ud) {
  char count[16];
  int clen = snprintf(count, sizeof count, "%u", deliveries);
  sg_rd_field *f = sg_xmalloc((e->nfields + 1) * sizeof *f);
  memcpy(f, e->fields, e->nfields * sizeof *f);
  f[e->nfields] = (sg_rd_field){"deliveries", 10, count, (size_t)clen};
  sg_rd_entry de = *e;
  de.fields = f;
  de.nfields = e->nfields + 1;
  sg_buf res = SG_BUF_INIT;
  char *reply = NULL;
  sg_rd_queue_expired_result(e->fields, e->nfields, e->id, deliveries, max_deliveries, sg_wall_ms(),
                             &res, &reply);
  const char *argv[8];
  size_t lens[8];
  sg_rd_op op = result_op(q, reply ? reply : q->results, res.data, res.len, argv, lens);
  int rv = sg_rd_stream_dead_letter(q->s, &de, SG_RD_REASON_MAX_DELIVERIES, &op, 1, done, ud);
  sg_free(reply);
  sg_buf_free(&res);
  sg_free(f);
  return rv;
}
