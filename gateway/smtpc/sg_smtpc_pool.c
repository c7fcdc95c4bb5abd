/* SPDX-License-Identifier: Apache-2.0 */
/* A pool of SMTP client sessions by group; see sg_smtpc_pool.h. */
#include "smtpc/sg_smtpc_pool.h"

#include <stdio.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_fmt.h"
#include "core/sg_list.h"
#include "core/sg_mem.h"

#define DEFAULT_IDLE_MS 30000
/* Sessions of a group the chooser looks at (more: a new one is opened). */
#define CHOOSE_MAX 128

typedef struct group {
  struct group *next; /* bucket chain */
  char *key;
  uint64_t hash;
  sg_list sessions;
  size_t n, live; /* sessions; those not closing */
  uint32_t max;   /* the latest max_sessions given */
} group;

struct sg_smtpc_pool_sess {
  sg_list link; /* group->sessions */
  group *g;
  sg_smtpc_pool *p;
  sg_smtpc_session *s;
  uint64_t cred;
  bool ready, busy, closing;
  sg_smtpc_pool_done_cb done;
  void *ud;
};

struct sg_smtpc_pool {
  uv_loop_t *loop;
  sg_smtpc_pool_cfg cfg;
  char *helo;
  group *buckets[SG_SMTPC_POOL_BUCKETS];
  size_t nsess;
  uint64_t opened;
  bool closing;
  void (*closed)(void *);
  void *closed_ud;
};

int sg_smtpc_pool_choose(const sg_smtpc_pool_view *v, size_t n, uint64_t cred) {
  for (size_t i = 0; i < n; i++)
    if (v[i].ready && !v[i].busy && !v[i].closing)
      return (int)i;
  for (size_t i = 0; i < n; i++)
    if (!v[i].ready && !v[i].busy && !v[i].closing && v[i].cred == cred)
      return (int)i;
  return -1;
}

bool sg_smtpc_pool_surplus(size_t live, uint32_t max_sessions) {
  return max_sessions > 0 && live > max_sessions;
}

static uint64_t fnv(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ULL;
  }
  return h;
}

uint64_t sg_smtpc_pool_cred(const char *secret) {
  return fnv(secret ? secret : "");
}

void sg_smtpc_pool_new(sg_smtpc_pool **out, uv_loop_t *loop, const sg_smtpc_pool_cfg *cfg) {
  sg_smtpc_pool *p = sg_xcalloc(1, sizeof *p);
  p->loop = loop;
  p->cfg = *cfg;
  p->helo = sg_xstrdup(cfg->helo_name ? cfg->helo_name : "");
  p->cfg.helo_name = p->helo;
  if (p->cfg.idle_ms == 0)
    p->cfg.idle_ms = DEFAULT_IDLE_MS;
  *out = p;
}

static group *group_find(sg_smtpc_pool *p, const char *key, bool make) {
  uint64_t h = fnv(key);
  group **b = &p->buckets[h % SG_SMTPC_POOL_BUCKETS];
  for (group *g = *b; g; g = g->next)
    if (g->hash == h && strcmp(g->key, key) == 0)
      return g;
  if (!make)
    return NULL;
  group *g = sg_xcalloc(1, sizeof *g);
  g->key = sg_xstrdup(key);
  g->hash = h;
  sg_list_init(&g->sessions);
  g->next = *b;
  *b = g;
  return g;
}

static void group_free(sg_smtpc_pool *p, group *g) {
  group **b = &p->buckets[g->hash % SG_SMTPC_POOL_BUCKETS];
  while (*b != g)
    b = &(*b)->next;
  *b = g->next;
  sg_free(g->key);
  sg_free(g);
}

static void sess_quit(sg_smtpc_pool_msg *e) {
  if (e->closing)
    return;
  e->closing = true;
  e->g->live--;
  sg_smtpc_session_quit(e->s);
}

static void on_ready(sg_smtpc_session *s, void *ud) {
  (void)s;
  sg_smtpc_pool_msg *e = ud;
  e->ready = true;
  if (!e->busy && (e->p->closing || sg_smtpc_pool_surplus(e->g->live, e->g->max)))
    sess_quit(e);
}

static void on_close(sg_smtpc_session *s, const sg_outcome *why, void *ud) {
  (void)s;
  (void)why;
  sg_smtpc_pool_msg *e = ud;
  sg_smtpc_pool *p = e->p;
  group *g = e->g;
  sg_list_remove(&e->link);
  g->n--;
  if (!e->closing)
    g->live--;
  sg_free(e);
  if (g->n == 0)
    group_free(p, g);
  p->nsess--;
  if (p->closing && p->nsess == 0) {
    void (*closed)(void *) = p->closed;
    void *cud = p->closed_ud;
    sg_free(p->helo);
    sg_free(p);
    if (closed)
      closed(cud);
  }
}

static void on_done(sg_smtpc_session *s, const sg_outcome *o, void *ud) {
  (void)s;
  sg_smtpc_pool_msg *e = ud;
  sg_smtpc_pool_done_cb cb = e->done;
  void *cud = e->ud;
  e->busy = false;
  e->done = NULL;
  e->ud = NULL;
  if (cb)
    cb(o, cud);
}

static int sess_open(sg_smtpc_pool *p, group *g, const sg_smtpc_pool_dest *d, uint64_t cred,
                     sg_smtpc_pool_msg **out) {
  sg_smtpc_opts o;
  memset(&o, 0, sizeof o);
  o.helo_name = p->cfg.helo_name;
  o.auth = d->auth;
  o.user = d->user;
  o.secret = d->secret;
  o.idle_ms = p->cfg.idle_ms;
  o.greeting_ms = o.command_ms = o.data_init_ms = p->cfg.reply_timeout_ms;
  o.data_block_ms = o.data_end_ms = p->cfg.reply_timeout_ms;
  sg_smtpc_pool_msg *e = sg_xcalloc(1, sizeof *e);
  e->g = g;
  e->p = p;
  e->cred = cred;
  static const sg_smtpc_session_cbs cbs = {on_ready, on_close};
  int rv = sg_smtpc_session_new(&e->s, p->loop, p->cfg.tls_ctx, d->host, d->port, &o,
                                p->cfg.connect_timeout_ms, &cbs, e);
  if (rv != 0) {
    sg_free(e);
    return rv;
  }
  sg_list_push_back(&g->sessions, &e->link);
  g->n++;
  g->live++;
  p->nsess++;
  p->opened++;
  *out = e;
  return 0;
}

/* The session of |g| a message with |cred| goes on, or NULL. */
static sg_smtpc_pool_msg *pick(group *g, uint64_t cred) {
  sg_smtpc_pool_view v[CHOOSE_MAX];
  sg_smtpc_pool_msg *es[CHOOSE_MAX];
  size_t n = 0;
  sg_list *it;
  sg_list_foreach(it, &g->sessions) {
    if (n == CHOOSE_MAX)
      break;
    sg_smtpc_pool_msg *e = sg_container_of(it, sg_smtpc_pool_msg, link);
    /* A session whose connection failed before its on_close ran (e.g. a
     * refused connect) counts as closing: the message goes on a new one. */
    bool closing = e->closing || sg_smtpc_session_closing(e->s);
    v[n] = (sg_smtpc_pool_view){e->ready && sg_smtpc_session_idle(e->s), e->busy, closing, e->cred};
    es[n++] = e;
  }
  int i = sg_smtpc_pool_choose(v, n, cred);
  return i < 0 ? NULL : es[i];
}

int sg_smtpc_pool_send(sg_smtpc_pool *p, const sg_smtpc_pool_dest *d, const sg_smtpc_env *env,
                       const uint8_t *msg, size_t len, sg_smtpc_pool_done_cb done, void *ud,
                       sg_smtpc_pool_msg **m, char *err, size_t errcap) {
  *m = NULL;
  if (p->closing) {
    snprintf(err, errcap, "the SMTP pool is closing");
    return SG_ERR_SHUTDOWN;
  }
  char key[SG_SMTPC_POOL_KEY_MAX];
  sg_fmt_copy(key, sizeof key, d->key);
  group *g = group_find(p, key, true);
  g->max = d->max_sessions;
  uint64_t cred = sg_smtpc_pool_cred(d->secret);
  sg_smtpc_pool_msg *e = pick(g, cred);
  bool fresh = e == NULL;
  if (fresh) {
    int rv = sess_open(p, g, d, cred, &e);
    if (rv != 0) {
      if (g->n == 0)
        group_free(p, g);
      snprintf(err, errcap, "cannot open an SMTP session to %s:%u: %s", d->host, (unsigned)d->port,
               sg_strerror(rv));
      return rv;
    }
  }
  int rv = sg_smtpc_send(e->s, env, msg, len, on_done, e, err, errcap);
  if (rv != 0) {
    if (fresh)
      sess_quit(e);
    return rv;
  }
  e->busy = true;
  e->ready = false;
  e->done = done;
  e->ud = ud;
  *m = e;
  return 0;
}

void sg_smtpc_pool_cancel(sg_smtpc_pool *p, sg_smtpc_pool_msg *m) {
  (void)p;
  m->done = NULL;
  m->ud = NULL;
  if (!m->closing) {
    m->closing = true;
    m->g->live--;
  }
  sg_smtpc_session_close(m->s);
}

size_t sg_smtpc_pool_sessions(const sg_smtpc_pool *p) {
  return p->nsess;
}

uint64_t sg_smtpc_pool_opened(const sg_smtpc_pool *p) {
  return p->opened;
}

void sg_smtpc_pool_close(sg_smtpc_pool *p, void (*closed)(void *ud), void *ud) {
  p->closing = true;
  p->closed = closed;
  p->closed_ud = ud;
  if (p->nsess == 0) {
    sg_free(p->helo);
    sg_free(p);
    if (closed)
      closed(ud);
    return;
  }
  for (size_t b = 0; b < SG_SMTPC_POOL_BUCKETS; b++)
    for (group *g = p->buckets[b]; g; g = g->next) {
      sg_list *it;
      sg_list_foreach(it, &g->sessions) {
        sess_quit(sg_container_of(it, sg_smtpc_pool_msg, link));
      }
    }
}
