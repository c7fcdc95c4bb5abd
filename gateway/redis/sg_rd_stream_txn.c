/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Completion queue of the job stream consumer. A completion is its ops plus
 * the ack (XACK + XDEL) of its entry, applied atomically by one Lua script
 * (k_script) that takes many completions per call: everything queued during
 * a loop turn goes out from the stream's registrant with the loop's turn
 * (sg_turn.h, rank SG_TURN_REDIS: after the stages whose answers complete
 * jobs, before the connection writes, so hiredis writes it with one write
 * just before the loop polls) as EVAL calls of up to
 * BATCH_MAX completions, written straight in RESP. Redis runs one script per
 * batch instead of a MULTI/EXEC of five or more commands per job. A batch
 * whose connection dies before the reply goes to the retry list and is sent
 * again after the reconnect (see sg_rd_stream.h for why that is safe).
 */
#include "redis/sg_rd_stream_int.h"

#include "core/sg_err.h"
#include "core/sg_fmt.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "redis/sg_resp.h"

#include <stdio.h>
#include <string.h>

/*
 * The completion script. ARGV: stream, group, number of completions, whether
 * to XDEL the acked entries ("1"; "0" when a trimmer removes them), then per
 * completion: flags (1 = ack the entry, 2 = "once": a first op that returns
 * nil or 0, i.e. a SET NX or an HSETNX that found its key or field, means
 * this completion already ran, so its other ops are skipped), entry id,
 * number of ops, and per op its argument count and arguments. An op that
 * fails stops its completion: the ops after it do not run and the entry is
 * not acked. The acks of all the others go out as one XACK and one XDEL.
 * Returns {index, error, ...} for the completions that failed (1-based),
 * empty when all ran.
 */
static const char k_script[] =
    "local a,i,errs,acks=ARGV,5,{},{}\n"
    "for c=1,tonumber(a[3]) do\n"
    " local f,id,nops=tonumber(a[i]),a[i+1],tonumber(a[i+2])\n"
    " i=i+3\n"
    " local ok,skip=true,false\n"
    " for o=1,nops do\n"
    "  local n=tonumber(a[i])\n"
    "  if ok and not skip then\n"
    "   local r=redis.pcall(unpack(a,i+1,i+n))\n"
    "   if type(r)=='table' and r.err then ok=false errs[#errs+1]=c errs[#errs+1]=r.err\n"
    "   elseif o==1 and f>=2 and (not r or r==0) then skip=true end\n"
    "  end\n"
    "  i=i+1+n\n"
    " end\n"
    " if ok and f%2==1 then acks[#acks+1]=id end\n"
    "end\n"
    "if #acks>0 then\n"
    " redis.call('XACK',a[1],a[2],unpack(acks))\n"
    " if a[4]=='1' then redis.call('XDEL',a[1],unpack(acks)) end\n"
    "end\n"
    "return errs\n";

/* The fast path's ack under sg_rd_stream_set_ack_guard. KEYS: the stream,
 * the guard key; ARGV: group, whether to XDEL too ("1"), the entry ids.
 * Returns the number acked, or -1 (nothing acked) when the guard key holds
 * another type than a stream. */
static const char k_guarded_ack[] =
    "local t=redis.call('TYPE',KEYS[2])['ok']\n"
    "if t~='stream' and t~='none' then return -1 end\n"
    "local n=redis.call('XACK',KEYS[1],ARGV[1],unpack(ARGV,3))\n"
    "if ARGV[2]=='1' then redis.call('XDEL',KEYS[1],unpack(ARGV,3)) end\n"
    "return n\n";

/* At most this many completions (or about this many bytes) per script call. */
#define BATCH_MAX 256
#define BATCH_BYTES (1u << 20)

/* Ops a completion may carry (a result, a ledger write and its EXPIREAT, a dead letter). */
#define COMP_OPS_MAX 8

typedef struct rd_comp {
  sg_list node;
  bool has_id;
  bool once;    /* ops[0] guards the others (sg_rd_stream_complete_once) */
  bool resent;  /* its first send may have run: the guard applies */
  bool trusted; /* its ops cannot fail on their keys: may go in a MULTI (fast path) */
  uint8_t nops;
  struct {
    uint32_t argc, off, len; /* the op's argument bulks in |resp| */
  } op[COMP_OPS_MAX];
  char id[SG_RD_ID_MAX];
  sg_rd_id id_num;
  size_t nargs; /* script arguments in |resp| (id, nops, per op argc + args) */
  size_t resp_len;
  sg_rd_stream_done_cb done;
  void *ud;
  char resp[]; /* those arguments as RESP bulk strings */
} rd_comp;

typedef struct rd_batch {
  sg_rd_stream *s;
  bool guarded; /* a fast batch whose ack is the guarded script */
  size_t n;
  rd_comp *c[];
} rd_batch;

static void on_flush(sg_turn_reg *reg, void *ud);

void sg_rd_stream__txn_init(sg_rd_stream *s) {
  sg_turn_reg_init(&s->flush, s->loop, SG_TURN_REDIS, on_flush, s);
  sg_list_init(&s->queue);
  sg_list_init(&s->retry);
  sg_list_init(&s->sent);
  sg_buf_init(&s->wbuf);
}

size_t sg_rd_stream__txn_pending(const sg_rd_stream *s) {
  return s->ncomp;
}

void sg_rd_stream__txn_kick(sg_rd_stream *s) {
  if (s->cc_closing || !sg_rd_client_is_up(s->cc))
    return;
  if (sg_list_empty(&s->queue) && sg_list_empty(&s->retry))
    return;
  sg_turn_want(&s->flush);
}

/* Writes the id and the ops as script arguments into one allocation. */
static rd_comp *comp_new(const char *id, sg_rd_id id_num, const sg_rd_op *ops, size_t nops) {
  const char *idv = id ? id : "";
  size_t idlen = strlen(idv);
  size_t bytes = sg_resp_bulk_size(idlen) + sg_resp_bulk_size(20), nargs = 2;
  for (size_t i = 0; i < nops; i++) {
    bytes += sg_resp_bulk_size(20);
    nargs += 1 + (size_t)ops[i].argc;
    for (int j = 0; j < ops[i].argc; j++)
      bytes += sg_resp_bulk_size(ops[i].lens[j]);
  }
  /* Written through an sg_buf over the allocation's tail: sized exactly above
   * (numbers at most 20 digits), so it never grows. */
  rd_comp *c = sg_xmalloc(sizeof *c + bytes + 1);
  memset(c, 0, sizeof *c);
  sg_buf b = {c->resp, 0, bytes + 1};
  sg_resp_bulk(&b, idv, idlen);
  sg_resp_bulk_u64(&b, nops);
  for (size_t i = 0; i < nops; i++) {
    sg_resp_bulk_u64(&b, (uint64_t)ops[i].argc);
    c->op[i].argc = (uint32_t)ops[i].argc;
    c->op[i].off = (uint32_t)b.len;
    for (int j = 0; j < ops[i].argc; j++)
      sg_resp_bulk(&b, ops[i].argv[j], ops[i].lens[j]);
    c->op[i].len = (uint32_t)(b.len - c->op[i].off);
  }
  c->nops = (uint8_t)nops;
  c->nargs = nargs;
  c->resp_len = b.len;
  if (id) {
    c->has_id = true;
    c->id_num = id_num;
    sg_fmt_copy(c->id, sizeof c->id, id);
  }
  return c;
}

static void comp_finish(sg_rd_stream *s, rd_comp *c, int status) {
  sg_list_remove(&c->node);
  s->ncomp--;
  if (status == 0 && c->has_id) {
    sg_rd_idset_remove(&s->held, c->id_num);
    if (s->read_inflight) /* that read may still return it as pending */
      sg_rd_idset_add(&s->recent, c->id_num);
  }
  if (c->done)
    c->done(s, status, c->ud);
  sg_free(c);
}

/* The error the script reported for completion |k| (1-based), or NULL. */
static const redisReply *comp_error(const redisReply *r, size_t k) {
  for (size_t i = 0; i + 1 < r->elements; i += 2)
    if (r->element[i]->type == REDIS_REPLY_INTEGER && (size_t)r->element[i]->integer == k)
      return r->element[i + 1];
  return NULL;
}

/* One completion's answer: done, or one of its ops failed (|err|, logged). */
static void comp_answered(sg_rd_stream *s, rd_comp *c, const redisReply *err, const char *what) {
  if (err == NULL) {
    s->stats.completed++;
    comp_finish(s, c, 0);
    return;
  }
  sg_log_kv(SG_LOG_ERROR, "redis", what, "entry", c->has_id ? c->id : NULL, "detail",
            err->type == REDIS_REPLY_STRING || err->type == REDIS_REPLY_ERROR ? err->str : NULL,
            NULL);
  s->stats.completion_errors++;
  comp_finish(s, c, SG_ERR_REDIS);
}

/*
 * A batch that got no usable answer: refused as a whole (|status| 0 or
 * SG_ERR_REDIS: nothing ran), given up at stop, or lost with the connection
 * (it may have run: sent again through the script, whose "once" guards
 * apply). Frees |b|.
 */
/* A refusal that says "not now" rather than "never": Redis loading its data
 * after a restart, busy with a script, or (for a transaction whose MULTI was
 * refused for one of those) "EXEC without MULTI". Nothing ran. */
static bool refused_for_now(const redisReply *r) {
  if (r == NULL || r->type != REDIS_REPLY_ERROR || r->str == NULL)
    return false;
  static const char *const prefixes[] = {"LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN"};
  for (size_t i = 0; i < SG_ARRAY_LEN(prefixes); i++)
    if (strncmp(r->str, prefixes[i], strlen(prefixes[i])) == 0)
      return true;
  return strstr(r->str, "EXEC without MULTI") != NULL;
}

static void batch_unanswered(sg_rd_stream *s, rd_batch *b, int status, const redisReply *reply) {
  if (status == SG_ERR_REDIS && refused_for_now(reply) && !s->cc_closing) {
    /* Failing these would leave their entries to be read and sent again:
     * keep them, and let the connection come back after its backoff. */
    sg_log_kv(SG_LOG_WARN, "redis", "completions refused for now; sent again after a reconnect",
              "detail", reply->str, NULL);
    for (size_t k = 0; k < b->n; k++) {
      rd_comp *c = b->c[k];
      c->resent = true;
      sg_list_remove(&c->node);
      sg_list_push_back(&s->retry, &c->node);
    }
    sg_free(b);
    /* as a lost connection: what else is pending is kept and sent again too */
    sg_rd_client_reset(s->cc, SG_ERR_CLOSED);
    return;
  }
  if (status == 0 || status == SG_ERR_REDIS) {
    sg_log_kv(SG_LOG_ERROR, "redis", "completion batch refused", "detail",
              reply && reply->type == REDIS_REPLY_ERROR ? reply->str : NULL, NULL);
    for (size_t k = 0; k < b->n; k++) {
      s->stats.completion_errors++;
      comp_finish(s, b->c[k], SG_ERR_REDIS);
    }
  } else if (s->cc_closing || status == SG_ERR_SHUTDOWN) {
    for (size_t k = 0; k < b->n; k++)
      comp_finish(s, b->c[k], SG_ERR_SHUTDOWN);
  } else {
    for (size_t k = 0; k < b->n; k++) {
      rd_comp *c = b->c[k];
      c->resent = true;
      sg_list_remove(&c->node);
      sg_list_push_back(&s->retry, &c->node);
    }
    sg_free(b);
    sg_rd_stream__txn_kick(s);
    return;
  }
  sg_free(b);
  if (s->stopping && s->ncomp == 0)
    sg_rd_stream__finish_stop(s);
}

static void batch_reply(sg_rd_client *cc, int status, const redisReply *reply, void *ud) {
  (void)cc;
  rd_batch *b = ud;
  sg_rd_stream *s = b->s;
  if (status != 0 || reply->type != REDIS_REPLY_ARRAY) {
    batch_unanswered(s, b, status, reply);
    return;
  }
  for (size_t k = 0; k < b->n; k++)
    comp_answered(s, b->c[k], reply->elements ? comp_error(reply, k + 1) : NULL,
                  "completion command failed; entry not acked");
  sg_free(b);
  if (s->stopping && s->ncomp == 0)
    sg_rd_stream__finish_stop(s);
}

/* ---- the fast path: first sends of trusted completions in one MULTI ---- */

/*
 * MULTI, every op of every completion as a native command, one XACK for all
 * their ids (and one XDEL unless a trimmer removes acked entries), EXEC: no
 * Lua, so Redis does a fraction of the work per message. With an ack guard
 * (sg_rd_stream_set_ack_guard) the XACK and XDEL are one small script in the
 * MULTI instead, that acks nothing when the guard key holds another type (the
 * results XADDs before it failed). Only completions
 * whose ops cannot fail on their keys (sg_rd_stream_complete_ex with
 * SG_RD_COMPLETE_TRUSTED: the gateway's own streams and sets) and that were
 * never sent before go this way: a MULTI does not stop at a failed command,
 * and a completion sent again needs the script's "once" guard. A command
 * refused while queueing (out of memory, say) aborts the whole EXEC: nothing
 * ran, as when the script is refused.
 *
 * The XACK stays inside the MULTI on purpose: result and ack are one step, so
 * a gateway killed at any point leaves either both or neither, and a job gets
 * exactly one result (test_flow_shared B kills one mid-run and counts them).
 * An XACK sent after EXEC's reply, only for the completions whose ops all
 * ran, would also keep a refused result's entry pending, but a kill between
 * the two re-publishes the result from the ledger when the entry is claimed
 * again: tried, and that test failed with 2,001 results for 2,000 jobs.
 */
static void fast_reply(sg_rd_client *cc, int status, const redisReply *reply, void *ud) {
  (void)cc;
  rd_batch *b = ud;
  sg_rd_stream *s = b->s;
  size_t nops = 0;
  for (size_t k = 0; k < b->n; k++)
    nops += b->c[k]->nops;
  if (status != 0 || reply->type != REDIS_REPLY_ARRAY || reply->elements < nops) {
    batch_unanswered(s, b, status, reply); /* EXECABORT or nil: nothing ran */
    return;
  }
  /* Under a guard, its script's answer follows the ops: -1 (or anything but
   * a count) acked nothing. */
  static char no_answer[] = "the ack guard gave no count: nothing acked";
  static const redisReply refusal = {
      .type = REDIS_REPLY_ERROR, .str = no_answer, .len = sizeof no_answer - 1};
  const redisReply *g = b->guarded && reply->elements > nops ? reply->element[nops] : NULL;
  bool refused = b->guarded && (g == NULL || g->type != REDIS_REPLY_INTEGER || g->integer < 0);
  size_t at = 0;
  for (size_t k = 0; k < b->n; k++) {
    rd_comp *c = b->c[k];
    const redisReply *err = NULL;
    for (size_t i = 0; i < c->nops; i++, at++)
      if (reply->element[at]->type == REDIS_REPLY_ERROR && err == NULL)
        err = reply->element[at];
    if (refused && c->has_id) {
      comp_answered(s, c, err ? err : &refusal,
                    "completion refused by the ack guard; entry not acked");
      continue;
    }
    /* (only on a key the guard does not cover: the entry was acked with the others) */
    comp_answered(s, c, err, "completion command failed in a MULTI; entry acked");
  }
  sg_free(b);
  if (s->stopping && s->ncomp == 0)
    sg_rd_stream__finish_stop(s);
}

static int send_fast(sg_rd_stream *s, rd_batch *b) {
  sg_buf *w = &s->wbuf;
  size_t nids = 0, bytes = 0;
  uint32_t n = 0;
  for (size_t k = 0; k < b->n; k++) {
    nids += b->c[k]->has_id;
    bytes += b->c[k]->resp_len;
  }
  sg_buf_reset(w);
  sg_buf_reserve(w, bytes + 64 * (nids + 4) + sizeof k_guarded_ack);
  sg_buf_append(w, SG_RESP_MULTI, sizeof SG_RESP_MULTI - 1);
  for (size_t k = 0; k < b->n; k++) {
    const rd_comp *c = b->c[k];
    for (size_t i = 0; i < c->nops; i++, n++) {
      sg_resp_array(w, c->op[i].argc);
      sg_buf_append(w, c->resp + c->op[i].off, c->op[i].len);
    }
  }
  b->guarded = s->ack_guard != NULL && nids > 0;
  if (b->guarded) {
    sg_resp_array(w, 7 + nids);
    sg_resp_bulk(w, "EVAL", 4);
    sg_resp_bulk(w, k_guarded_ack, sizeof k_guarded_ack - 1);
    sg_resp_bulk(w, "2", 1);
    sg_resp_bulk(w, s->key, strlen(s->key));
    sg_resp_bulk(w, s->ack_guard, strlen(s->ack_guard));
    sg_resp_bulk(w, s->group, strlen(s->group));
    sg_resp_bulk(w, s->opts.trim_acked ? "0" : "1", 1);
    for (size_t k = 0; k < b->n; k++)
      if (b->c[k]->has_id)
        sg_resp_bulk(w, b->c[k]->id, strlen(b->c[k]->id));
    n++;
  }
  for (int del = 0; nids > 0 && !b->guarded && del <= !s->opts.trim_acked; del++, n++) {
    sg_resp_array(w, (del ? 2 : 3) + nids);
    sg_resp_bulk(w, del ? "XDEL" : "XACK", 4);
    sg_resp_bulk(w, s->key, strlen(s->key));
    if (!del)
      sg_resp_bulk(w, s->group, strlen(s->group));
    for (size_t k = 0; k < b->n; k++)
      if (b->c[k]->has_id)
        sg_resp_bulk(w, b->c[k]->id, strlen(b->c[k]->id));
  }
  sg_buf_append(w, SG_RESP_EXEC, sizeof SG_RESP_EXEC - 1);
  int rv = sg_rd_client_multi(s->cc, w->data, w->len, n, s->opts.cmd_timeout_ms, fast_reply, b);
  if (w->cap > 4 * BATCH_BYTES)
    sg_buf_free(w);
  return rv;
}

/*
 * Takes up to BATCH_MAX completions and sends them: retries first, through
 * the script; then the queue's trusted first sends through the fast path, or
 * its others through the script, in order.
 */
static int send_batch(sg_rd_stream *s) {
  rd_batch *b = sg_xmalloc(sizeof *b + BATCH_MAX * sizeof(rd_comp *));
  b->s = s;
  b->guarded = false;
  b->n = 0;
  size_t nargs = 7, bytes = 0;
  sg_list *from = !sg_list_empty(&s->retry) ? &s->retry : &s->queue;
  sg_list *first = sg_list_front(from);
  bool fast = from == &s->queue && first && sg_container_of(first, rd_comp, node)->trusted;
  while (b->n < BATCH_MAX && bytes < BATCH_BYTES) {
    sg_list *n = sg_list_front(from);
    if (n == NULL || (from == &s->queue && sg_container_of(n, rd_comp, node)->trusted != fast))
      break;
    sg_list_remove(n);
    rd_comp *c = sg_container_of(n, rd_comp, node);
    sg_list_push_back(&s->sent, n);
    b->c[b->n++] = c;
    nargs += 1 + c->nargs;
    bytes += c->resp_len;
  }
  if (b->n == 0) {
    sg_free(b);
    return 0;
  }
  if (fast) {
    int rv = send_fast(s, b);
    if (rv != 0) {
      /* Not queued (nothing went out): back to the front of the retry
       * list, in order. */
      for (size_t k = b->n; k-- > 0;) {
        sg_list_remove(&b->c[k]->node);
        sg_list_push_front(&s->retry, &b->c[k]->node);
      }
      sg_free(b);
      return rv;
    }
    return 1;
  }
  sg_buf *w = &s->wbuf;
  sg_buf_reset(w);
  sg_buf_reserve(w, bytes + sizeof k_script + 256 + 8 * b->n);
  sg_resp_array(w, nargs);
  sg_resp_bulk(w, "EVAL", 4);
  sg_resp_bulk(w, k_script, sizeof k_script - 1);
  sg_resp_bulk(w, "0", 1);
  sg_resp_bulk(w, s->key, strlen(s->key));
  sg_resp_bulk(w, s->group, strlen(s->group));
  sg_resp_bulk_u64(w, b->n);
  sg_resp_bulk(w, s->opts.trim_acked ? "0" : "1", 1); /* XDEL the acked entries */
  for (size_t k = 0; k < b->n; k++) {
    rd_comp *c = b->c[k];
    sg_resp_bulk_u64(w, (c->has_id ? 1u : 0u) | (c->once && c->resent ? 2u : 0u));
    sg_buf_append(w, c->resp, c->resp_len);
  }
  int rv = sg_rd_client_cmd_resp(s->cc, w->data, w->len, s->opts.cmd_timeout_ms, batch_reply, b);
  if (w->cap > 4 * BATCH_BYTES)
    sg_buf_free(w); /* do not keep a huge buffer around */
  if (rv != 0) {
    /* Not queued: back to the front of the retry list, in order. */
    for (size_t k = b->n; k-- > 0;) {
      sg_list_remove(&b->c[k]->node);
      sg_list_push_front(&s->retry, &b->c[k]->node);
    }
    sg_free(b);
    return rv;
  }
  return 1;
}

static void on_flush(sg_turn_reg *reg, void *ud) {
  (void)reg;
  sg_rd_stream *s = ud;
  if (!sg_rd_client_is_up(s->cc))
    return; /* cc_up kicks us again */
  bool sent_any = false;
  for (;;) {
    int rv = send_batch(s);
    if (rv == 0)
      break;
    if (rv < 0) {
      sg_log_kv(SG_LOG_ERROR, "redis", "completion not queued", "err", sg_err_name(rv), NULL);
      sg_rd_client_reset(s->cc, SG_ERR_CLOSED); /* pending batches: sent again */
      break;
    }
    sent_any = true;
  }
  if (sent_any) /* the connection writes it later in the pass (SG_TURN_REDIS_WRITE) */
    s->stats.flushes++;
}

void sg_rd_stream__txn_fail_queued(sg_rd_stream *s, int status) {
  sg_list *lists[2] = {&s->retry, &s->queue};
  for (int i = 0; i < 2; i++) {
    sg_list *n;
    while ((n = sg_list_front(lists[i])) != NULL)
      comp_finish(s, sg_container_of(n, rd_comp, node), status);
  }
}

static int enqueue(sg_rd_stream *s, const char *entry_id, const sg_rd_op *ops, size_t nops,
                   unsigned flags, sg_rd_stream_done_cb done, void *ud) {
  bool once = flags & SG_RD_COMPLETE_ONCE;
  if (s->cc_closing)
    return SG_ERR_SHUTDOWN;
  sg_rd_id id_num = {0, 0};
  if (entry_id) {
    size_t n = strlen(entry_id);
    if (n >= SG_RD_ID_MAX || sg_rd_id_parse(entry_id, n, &id_num) != 0)
      return SG_ERR_INVAL;
  } else if (nops == 0) {
    return SG_ERR_INVAL;
  }
  if (nops > COMP_OPS_MAX)
    return SG_ERR_INVAL;
  for (size_t i = 0; i < nops; i++)
    if (ops[i].argc <= 0 || !ops[i].argv || !ops[i].lens)
      return SG_ERR_INVAL;
  rd_comp *c = comp_new(entry_id, id_num, ops, nops);
  c->once = once && nops > 1;
  c->trusted = (flags & SG_RD_COMPLETE_TRUSTED) != 0;
  c->done = done;
  c->ud = ud;
  sg_list_push_back(&s->queue, &c->node);
  s->ncomp++;
  sg_rd_stream__txn_kick(s);
  return 0;
}

int sg_rd_stream_complete(sg_rd_stream *s, const char *entry_id, const sg_rd_op *ops, size_t nops,
                          sg_rd_stream_done_cb done, void *ud) {
  if (entry_id == NULL)
    return SG_ERR_INVAL;
  return enqueue(s, entry_id, ops, nops, 0, done, ud);
}

int sg_rd_stream_complete_ex(sg_rd_stream *s, const char *entry_id, const sg_rd_op *ops,
                             size_t nops, unsigned flags, sg_rd_stream_done_cb done, void *ud) {
  if (entry_id == NULL || ((flags & SG_RD_COMPLETE_ONCE) && nops == 0))
    return SG_ERR_INVAL;
  return enqueue(s, entry_id, ops, nops, flags, done, ud);
}

int sg_rd_stream_complete_once(sg_rd_stream *s, const char *entry_id, const sg_rd_op *ops,
                               size_t nops, sg_rd_stream_done_cb done, void *ud) {
  if (entry_id == NULL || nops == 0)
    return SG_ERR_INVAL;
  return enqueue(s, entry_id, ops, nops, SG_RD_COMPLETE_ONCE, done, ud);
}

int sg_rd_stream_publish(sg_rd_stream *s, const sg_rd_op *ops, size_t nops,
                         sg_rd_stream_done_cb done, void *ud) {
  return enqueue(s, NULL, ops, nops, 0, done, ud);
}

int sg_rd_stream_dead_letter(sg_rd_stream *s, const sg_rd_entry *e, const char *reason,
                             const sg_rd_op *extra, size_t nextra, sg_rd_stream_done_cb done,
                             void *ud) {
  if (e == NULL || reason == NULL)
    return SG_ERR_INVAL;
  /* XADD <dead> * <fields...> reason <reason> [fields_dropped <n>]: at most
   * SG_RD_DEAD_MAX_FIELDS fields are kept (the script unpacks an op's
   * arguments onto Lua's stack, which holds a few thousand). */
  size_t nf = e->nfields < SG_RD_DEAD_MAX_FIELDS ? e->nfields : SG_RD_DEAD_MAX_FIELDS;
  char dropped[24];
  int dl = snprintf(dropped, sizeof dropped, "%zu", e->nfields - nf);
  size_t argc = 3 + 2 * nf + 2 + (nf < e->nfields ? 2 : 0);
  const char **argv = sg_xmalloc(argc * sizeof *argv);
  size_t *lens = sg_xmalloc(argc * sizeof *lens);
  size_t k = 0;
  argv[k] = "XADD", lens[k++] = 4;
  argv[k] = s->dead, lens[k++] = strlen(s->dead);
  argv[k] = "*", lens[k++] = 1;
  for (size_t i = 0; i < nf; i++) {
    argv[k] = e->fields[i].name, lens[k++] = e->fields[i].name_len;
    argv[k] = e->fields[i].value, lens[k++] = e->fields[i].value_len;
  }
  argv[k] = "reason", lens[k++] = 6;
  argv[k] = reason, lens[k++] = strlen(reason);
  if (nf < e->nfields) {
    argv[k] = "fields_dropped", lens[k++] = 14;
    argv[k] = dropped, lens[k++] = (size_t)dl;
  }
  sg_rd_op *ops = sg_xmalloc((1 + nextra) * sizeof *ops);
  ops[0] = (sg_rd_op){(int)argc, argv, lens};
  for (size_t i = 0; i < nextra; i++)
    ops[1 + i] = extra[i];
  int rv = enqueue(s, e->id, ops, 1 + nextra, 0, done, ud);
  sg_free(ops);
  sg_free(argv);
  sg_free(lens);
  return rv;
}
