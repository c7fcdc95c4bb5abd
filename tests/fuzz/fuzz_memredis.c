/* SPDX-License-Identifier: Apache-2.0 */
/* In-memory sg_rd_client for fuzz targets; see fuzz_memredis.h. */
#include "fuzz_memredis.h"

#include <string.h>

#include "core/sg_err.h"
#include "core/sg_list.h"
#include "core/sg_mem.h"
#include "fuzz_common.h"

typedef struct fz_cmd {
  sg_list link;  /* all pending commands, oldest first */
  sg_list clink; /* the client's pending commands */
  sg_rd_client *c;
  sg_rd_reply_cb cb;
  void *ud;
  char verb[16];
} fz_cmd;

struct sg_rd_client {
  sg_list link;
  sg_rd_client_cbs cbs;
  sg_rd_client_stats st;
  sg_list cmds;
  size_t n;
  bool started, up, connect_due, closing, closed;
  sg_rd_client_done_cb done;
  void *done_ud;
};

static sg_list clients = {&clients, &clients};
static sg_list pending = {&pending, &pending};

int sg_rd_client_new(uv_loop_t *loop, const sg_rd_url *url, const sg_rd_client_opts *opts,
                     const sg_rd_client_cbs *cbs, sg_rd_client **out) {
  (void)opts;
  if (loop == NULL || url == NULL || out == NULL)
    return SG_ERR_INVAL;
  sg_rd_client *c = sg_xcalloc(1, sizeof *c);
  if (cbs)
    c->cbs = *cbs;
  sg_list_init(&c->cmds);
  sg_list_push_back(&clients, &c->link);
  *out = c;
  return 0;
}

void sg_rd_client_start(sg_rd_client *c) {
  if (c->started)
    return;
  c->started = true;
  c->connect_due = true;
}

bool sg_rd_client_is_up(const sg_rd_client *c) {
  return c->up && !c->closing;
}

static int queue(sg_rd_client *c, const char *verb, size_t vlen, sg_rd_reply_cb cb, void *ud) {
  if (c->closing)
    return SG_ERR_SHUTDOWN;
  if (!c->up)
    return SG_ERR_CLOSED;
  fz_cmd *k = sg_xcalloc(1, sizeof *k);
  k->c = c;
  k->cb = cb;
  k->ud = ud;
  snprintf(k->verb, sizeof k->verb, "%.*s", (int)vlen, verb);
  sg_list_push_back(&pending, &k->link);
  sg_list_push_back(&c->cmds, &k->clink);
  c->n++;
  c->st.commands++;
  return 0;
}

int sg_rd_client_cmd(sg_rd_client *c, int argc, const char **argv, const size_t *lens,
                     uint32_t timeout_ms, sg_rd_reply_cb cb, void *ud) {
  (void)timeout_ms;
  if (argc < 1 || argv == NULL || lens == NULL)
    return SG_ERR_INVAL;
  return queue(c, argv[0], lens[0], cb, ud);
}

int sg_rd_client_cmd_resp(sg_rd_client *c, const char *resp, size_t len, uint32_t timeout_ms,
                          sg_rd_reply_cb cb, void *ud) {
  (void)timeout_ms;
  if (len == 0 || resp[0] != '*')
    return SG_ERR_INVAL;
  /* "*N\r\n$L\r\nVERB\r\n...": the verb for sg_fz_rd_oldest. */
  const char *d = memchr(resp, '$', len);
  const char *v = d ? memchr(d, '\n', len - (size_t)(d - resp)) : NULL;
  const char *e = v ? memchr(v, '\r', len - (size_t)(v - resp)) : NULL;
  if (v == NULL || e == NULL)
    return queue(c, "?", 1, cb, ud);
  return queue(c, v + 1, (size_t)(e - v - 1), cb, ud);
}

/* |n| commands with one callback each, in order, as the real client's one
 * pending record calls it (the verb is the first command's). */
int sg_rd_client_pipeline_resp(sg_rd_client *c, const char *resp, size_t len, uint32_t n,
                               uint32_t timeout_ms, sg_rd_reply_cb cb, void *ud) {
  if (n == 0 || cb == NULL)
    return SG_ERR_INVAL;
  int rv = 0; /* only the first can fail (the client's state): all or none */
  for (uint32_t i = 0; i < n && rv == 0; i++)
    rv = sg_rd_client_cmd_resp(c, resp, len, timeout_ms, cb, ud);
  return rv;
}

void sg_rd_client_flush(sg_rd_client *c) {
  (void)c;
}

static void fail_all(sg_rd_client *c, int status) {
  sg_list *n;
  while ((n = sg_list_pop_front(&c->cmds)) != NULL) {
    fz_cmd *k = sg_container_of(n, fz_cmd, clink);
    sg_list_remove(&k->link);
    c->n--;
    if (k->cb)
      k->cb(c, status, NULL, k->ud);
    sg_free(k);
  }
}

void sg_fz_rd_drop(sg_rd_client *c) {
  if (!c->up || c->closing)
    return;
  c->up = false;
  c->st.failures++;
  fail_all(c, SG_ERR_CLOSED);
  if (c->cbs.on_down)
    c->cbs.on_down(c, SG_ERR_CLOSED, c->cbs.ud);
  c->connect_due = true;
}

void sg_rd_client_reset(sg_rd_client *c, int reason) {
  (void)reason;
  sg_fz_rd_drop(c);
}

void sg_rd_client_close(sg_rd_client *c, bool drain, sg_rd_client_done_cb done, void *ud) {
  (void)drain; /* nothing is ever "already sent" here: pending fails at once */
  if (c->closing)
    return;
  c->closing = true;
  c->done = done;
  c->done_ud = ud;
}

void sg_rd_client_get_stats(const sg_rd_client *c, sg_rd_client_stats *out) {
  *out = c->st;
}

size_t sg_rd_client_pending(const sg_rd_client *c) {
  return c->n;
}

/* ---- the server's side ---- */

static bool pump_one(sg_rd_client *c) {
  if (c->closing) {
    fail_all(c, SG_ERR_SHUTDOWN);
    sg_list_remove(&c->link);
    if (c->done)
      c->done(c, c->done_ud);
    sg_free(c);
    return true;
  }
  if (c->connect_due) {
    c->connect_due = false;
    c->up = true;
    c->st.connects++;
    if (c->cbs.on_up)
      c->cbs.on_up(c, c->cbs.ud);
    return true;
  }
  return false;
}

bool sg_fz_rd_pump(void) {
  bool any = false;
  for (bool again = true; again;) {
    again = false;
    for (sg_list *p = clients.next; p != &clients; p = p->next) {
      if (pump_one(sg_container_of(p, sg_rd_client, link))) {
        any = again = true;
        break;
      }
    }
  }
  return any;
}

sg_rd_client *sg_fz_rd_oldest(const char **verb) {
  if (sg_list_empty(&pending))
    return NULL;
  fz_cmd *k = sg_container_of(pending.next, fz_cmd, link);
  if (verb)
    *verb = k->verb;
  return k->c;
}

void sg_fz_rd_answer(int status, const redisReply *reply) {
  CHECK(!sg_list_empty(&pending));
  fz_cmd *k = sg_container_of(pending.next, fz_cmd, link);
  sg_list_remove(&k->link);
  sg_list_remove(&k->clink);
  k->c->n--;
  if (k->cb)
    k->cb(k->c, status, reply, k->ud);
  sg_free(k);
}

size_t sg_fz_rd_count(void) {
  size_t n = 0;
  for (sg_list *p = clients.next; p != &clients; p = p->next)
    n++;
  return n;
}
