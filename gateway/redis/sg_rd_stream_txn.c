/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Completion queue of the job stream consumer: each completion is one
 * MULTI <ops> [XACK XDEL] EXEC on the command connection. Completions queued
 * during a loop turn go out in one pipelined flush from a uv_prepare handle
 * (run just before the loop polls, so hiredis writes them with one write);
 * the handle is active only while something waits. A completion whose
 * connection dies before EXEC is answered goes to the retry list and is sent
 * again after the reconnect (see sg_rd_stream.h for why that is safe).
 */
#include "redis/sg_rd_stream_int.h"

#include "core/sg_err.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"

#include <stdio.h>
#include <string.h>

typedef struct rd_comp {
  sg_list node;
  sg_rd_stream *s;
  bool has_id;
  char id[SG_RD_ID_MAX];
  sg_rd_id id_num;
  size_t nops;
  int *argc;         /* per op */
  const char **argv; /* all ops' arguments, flattened */
  size_t *lens;
  sg_rd_stream_done_cb done;
  void *ud;
} rd_comp;

static void on_flush(uv_prepare_t *h);

void sg_rd_stream_txn_init(sg_rd_stream *s) {
  sg_list_init(&s->queue);
  sg_list_init(&s->retry);
  sg_list_init(&s->sent);
}

size_t sg_rd_stream_txn_pending(const sg_rd_stream *s) {
  return s->ncomp;
}

void sg_rd_stream_txn_kick(sg_rd_stream *s) {
  if (s->flush_active || s->cc_closing || !sg_rd_client_is_up(s->cc))
    return;
  if (sg_list_empty(&s->queue) && sg_list_empty(&s->retry))
    return;
  uv_prepare_start(&s->flush, on_flush);
  s->flush_active = true;
}

/* Copies the ops into one allocation. */
static rd_comp *comp_new(sg_rd_stream *s, const char *id, sg_rd_id id_num, const sg_rd_op *ops,
                         size_t nops) {
  size_t nargs = 0, bytes = 0;
  for (size_t i = 0; i < nops; i++)
    for (int j = 0; j < ops[i].argc; j++) {
      nargs++;
      bytes += ops[i].lens[j];
    }
  size_t sz = sizeof(rd_comp) + nargs * (sizeof(char *) + sizeof(size_t)) + nops * sizeof(int);
  rd_comp *c = sg_xmalloc(sz + bytes);
  memset(c, 0, sizeof *c);
  c->s = s;
  c->argv = (const char **)(c + 1);
  c->lens = (size_t *)(c->argv + nargs);
  c->argc = (int *)(c->lens + nargs);
  char *data = (char *)(c->argc + nops);
  c->nops = nops;
  size_t k = 0;
  for (size_t i = 0; i < nops; i++) {
    c->argc[i] = ops[i].argc;
    for (int j = 0; j < ops[i].argc; j++, k++) {
      memcpy(data, ops[i].argv[j], ops[i].lens[j]);
      c->argv[k] = data;
      c->lens[k] = ops[i].lens[j];
      data += ops[i].lens[j];
    }
  }
  if (id) {
    c->has_id = true;
    c->id_num = id_num;
    snprintf(c->id, sizeof c->id, "%s", id);
  }
  return c;
}

static void comp_finish(sg_rd_stream *s, rd_comp *c, int status) {
  sg_list_remove(&c->node);
  s->ncomp--;
  if (status == 0 && c->has_id)
    sg_rd_idset_remove(&s->held, c->id_num);
  if (c->done)
    c->done(s, status, c->ud);
  sg_free(c);
}

/* Looks for errors inside EXEC's array (commands that ran and failed: no rollback). */
static const redisReply *first_error(const redisReply *r) {
  for (size_t i = 0; i < r->elements; i++)
    if (r->element[i]->type == REDIS_REPLY_ERROR)
      return r->element[i];
  return NULL;
}

static void exec_reply(sg_rd_client *cc, int status, const redisReply *reply, void *ud) {
  (void)cc;
  rd_comp *c = ud;
  sg_rd_stream *s = c->s;
  if (status == 0 && reply->type == REDIS_REPLY_ARRAY) {
    const redisReply *err = first_error(reply);
    if (err) {
      sg_log_kv(SG_LOG_ERROR, "redis", "completion command failed inside EXEC", "entry",
                c->has_id ? c->id : NULL, "detail", err->str, NULL);
      s->stats.completion_errors++;
      comp_finish(s, c, SG_ERR_REDIS);
    } else {
      s->stats.completed++;
      comp_finish(s, c, 0);
    }
  } else if (status == 0 || status == SG_ERR_REDIS) {
    /* EXECABORT (a malformed op was refused while queueing) or a nil EXEC: nothing ran. */
    sg_log_kv(SG_LOG_ERROR, "redis", "completion refused", "entry", c->has_id ? c->id : NULL,
              "detail", reply && reply->type == REDIS_REPLY_ERROR ? reply->str : NULL, NULL);
    s->stats.completion_errors++;
    comp_finish(s, c, SG_ERR_REDIS);
  } else if (s->cc_closing || status == SG_ERR_SHUTDOWN) {
    comp_finish(s, c, SG_ERR_SHUTDOWN);
  } else {
    /* Connection lost or timed out before EXEC was answered: send it again later. */
    sg_list_remove(&c->node);
    sg_list_push_back(&s->retry, &c->node);
    return;
  }
  if (s->stopping && s->ncomp == 0)
    sg_rd_stream_finish_stop(s);
}

static int cmd(sg_rd_stream *s, int argc, const char **argv, const size_t *lens, sg_rd_reply_cb cb,
               void *ud) {
  return sg_rd_client_cmd(s->cc, argc, argv, lens, s->opts.cmd_timeout_ms, cb, ud);
}

static int send_comp(sg_rd_stream *s, rd_comp *c) {
  int rv = cmd(s, 1, (const char *[]){"MULTI"}, (size_t[]){5}, NULL, NULL);
  size_t k = 0;
  for (size_t i = 0; rv == 0 && i < c->nops; i++) {
    rv = cmd(s, c->argc[i], c->argv + k, c->lens + k, NULL, NULL);
    k += (size_t)c->argc[i];
  }
  if (rv == 0 && c->has_id) {
    size_t klen = strlen(s->key), idlen = strlen(c->id);
    rv = cmd(s, 4, (const char *[]){"XACK", s->key, s->group, c->id},
             (size_t[]){4, klen, strlen(s->group), idlen}, NULL, NULL);
    if (rv == 0)
      rv = cmd(s, 3, (const char *[]){"XDEL", s->key, c->id}, (size_t[]){4, klen, idlen}, NULL,
               NULL);
  }
  if (rv == 0)
    rv = cmd(s, 1, (const char *[]){"EXEC"}, (size_t[]){4}, exec_reply, c);
  return rv;
}

static void on_flush(uv_prepare_t *h) {
  sg_rd_stream *s = h->data;
  uv_prepare_stop(&s->flush);
  s->flush_active = false;
  if (!sg_rd_client_is_up(s->cc))
    return; /* cc_up kicks us again */
  bool sent_any = false;
  for (;;) {
    sg_list *from = !sg_list_empty(&s->retry) ? &s->retry : &s->queue;
    sg_list *n = sg_list_pop_front(from);
    if (n == NULL)
      break;
    rd_comp *c = sg_container_of(n, rd_comp, node);
    sg_list_push_back(&s->sent, n);
    int rv = send_comp(s, c);
    if (rv != 0) {
      /* A half-queued MULTI must not survive: drop the connection (which moves
       * everything sent to the retry list) and try again after the reconnect. */
      sg_list_remove(n);
      sg_list_push_front(&s->retry, n);
      sg_log_kv(SG_LOG_ERROR, "redis", "completion not queued", "err", sg_err_name(rv), NULL);
      sg_rd_client_reset(s->cc, SG_ERR_REDIS);
      break;
    }
    sent_any = true;
  }
  if (sent_any)
    s->stats.flushes++;
}

void sg_rd_stream_txn_fail_queued(sg_rd_stream *s, int status) {
  sg_list *lists[2] = {&s->retry, &s->queue};
  for (int i = 0; i < 2; i++) {
    sg_list *n;
    while ((n = sg_list_front(lists[i])) != NULL)
      comp_finish(s, sg_container_of(n, rd_comp, node), status);
  }
}

static int enqueue(sg_rd_stream *s, const char *entry_id, const sg_rd_op *ops, size_t nops,
                   sg_rd_stream_done_cb done, void *ud) {
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
  for (size_t i = 0; i < nops; i++)
    if (ops[i].argc <= 0 || !ops[i].argv || !ops[i].lens)
      return SG_ERR_INVAL;
  rd_comp *c = comp_new(s, entry_id, id_num, ops, nops);
  c->done = done;
  c->ud = ud;
  sg_list_push_back(&s->queue, &c->node);
  s->ncomp++;
  sg_rd_stream_txn_kick(s);
  return 0;
}

int sg_rd_stream_complete(sg_rd_stream *s, const char *entry_id, const sg_rd_op *ops, size_t nops,
                          sg_rd_stream_done_cb done, void *ud) {
  if (entry_id == NULL)
    return SG_ERR_INVAL;
  return enqueue(s, entry_id, ops, nops, done, ud);
}

int sg_rd_stream_publish(sg_rd_stream *s, const sg_rd_op *ops, size_t nops,
                         sg_rd_stream_done_cb done, void *ud) {
  return enqueue(s, NULL, ops, nops, done, ud);
}

int sg_rd_stream_dead_letter(sg_rd_stream *s, const sg_rd_entry *e, const char *reason,
                             const sg_rd_op *extra, size_t nextra, sg_rd_stream_done_cb done,
                             void *ud) {
  if (e == NULL || reason == NULL)
    return SG_ERR_INVAL;
  /* XADD <dead> * <fields...> reason <reason> */
  size_t argc = 3 + 2 * e->nfields + 2;
  const char **argv = sg_xmalloc(argc * sizeof *argv);
  size_t *lens = sg_xmalloc(argc * sizeof *lens);
  size_t k = 0;
  argv[k] = "XADD", lens[k++] = 4;
  argv[k] = s->dead, lens[k++] = strlen(s->dead);
  argv[k] = "*", lens[k++] = 1;
  for (size_t i = 0; i < e->nfields; i++) {
    argv[k] = e->fields[i].name, lens[k++] = e->fields[i].name_len;
    argv[k] = e->fields[i].value, lens[k++] = e->fields[i].value_len;
  }
  argv[k] = "reason", lens[k++] = 6;
  argv[k] = reason, lens[k++] = strlen(reason);
  sg_rd_op *ops = sg_xmalloc((1 + nextra) * sizeof *ops);
  ops[0] = (sg_rd_op){(int)argc, argv, lens};
  for (size_t i = 0; i < nextra; i++)
    ops[1 + i] = extra[i];
  int rv = enqueue(s, e->id, ops, 1 + nextra, done, ud);
  sg_free(ops);
  sg_free(argv);
  sg_free(lens);
  return rv;
}
