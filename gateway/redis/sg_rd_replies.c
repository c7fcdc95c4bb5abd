/* SPDX-License-Identifier: Apache-2.0 */
#include "redis/sg_rd_replies.h"

#include "core/sg_err.h"
#include "core/sg_mem.h"

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <string.h>

#define CHUNK_MIN (64u * 1024u)
#define CHUNK_KEEP (1u << 20) /* a chunk larger than this is not kept between replies */

typedef struct chunk {
  struct chunk *next;
  size_t cap, used;
  _Alignas(16) char data[];
} chunk;

typedef struct arena {
  chunk *head;
  size_t live;      /* values handed out since the last reset */
  size_t elements;  /* array elements declared since the last reset */
  size_t bytes;     /* string bytes handed out since the last reset */
  size_t max_bytes; /* cap on |bytes| (0: none) */
  bool orphan;      /* the context is gone: free with the last reply */
} arena;

static void *arena_alloc(arena *a, size_t n) {
  n = (n + 15) & ~(size_t)15;
  chunk *c = a->head;
  if (c == NULL || c->cap - c->used < n) {
    size_t cap = n > CHUNK_MIN ? n : CHUNK_MIN;
    if (c && c->cap * 2 > cap && c->cap * 2 <= 16 * CHUNK_KEEP)
      cap = c->cap * 2; /* big replies: fewer, larger chunks */
    c = sg_xmalloc(sizeof *c + cap);
    c->cap = cap;
    c->used = 0;
    c->next = a->head;
    a->head = c;
  }
  void *p = c->data + c->used;
  c->used += n;
  return p;
}

static void arena_free_chunks(arena *a, bool keep_one) {
  chunk *keep = NULL, *c = a->head;
  while (c) {
    chunk *n = c->next;
    if (keep_one && keep == NULL && c->cap <= CHUNK_KEEP) {
      keep = c;
      keep->used = 0;
      keep->next = NULL;
    } else {
      sg_free(c);
    }
    c = n;
  }
  a->head = keep;
  a->live = 0;
  a->elements = 0;
  a->bytes = 0;
}

/* Each value carries its arena, so freeing the root (all hiredis gives back)
 * finds it. */
typedef struct tagged {
  arena *a;
  redisReply r;
} tagged;

static redisReply *value(const redisReadTask *task, int type) {
  arena *a = task->privdata;
  tagged *t = arena_alloc(a, sizeof *t);
  memset(t, 0, sizeof *t);
  t->a = a;
  t->r.type = type;
  a->live++;
  if (task->parent) {
    redisReply *p = task->parent->obj;
    p->element[task->idx] = &t->r;
  }
  return &t->r;
}

static void *create_string(const redisReadTask *task, char *str, size_t len) {
  arena *a = task->privdata;
  /* A reply's strings over the cap: refused as out of memory (the connection
   * is dropped), however many values they came in. */
  if (a->max_bytes && len > a->max_bytes - a->bytes)
    return NULL;
  a->bytes += len;
  redisReply *r = value(task, task->type);
  char *s = arena_alloc(task->privdata, len + 1);
  if (len)
    memcpy(s, str, len);
  s[len] = '\0';
  r->str = s;
  r->len = len;
  return r;
}

static void *create_array(const redisReadTask *task, int elements) {
  arena *a = task->privdata;
  /* The header "*N" costs a few bytes but N pointers here: refuse what no
   * reply of ours comes near (hiredis reports it as out of memory and the
   * connection is dropped) instead of allocating and zeroing gigabytes. */
  if (elements > 0 && (size_t)elements > SG_RD_REPLY_MAX_ELEMENTS - a->elements)
    return NULL;
  if (elements > 0)
    a->elements += (size_t)elements;
  redisReply *r = value(task, REDIS_REPLY_ARRAY);
  if (elements > 0) {
    r->element = arena_alloc(task->privdata, (size_t)elements * sizeof(redisReply *));
    memset(r->element, 0, (size_t)elements * sizeof(redisReply *));
    r->elements = (size_t)elements;
  }
  return r;
}

static void *create_integer(const redisReadTask *task, long long v) {
  redisReply *r = value(task, REDIS_REPLY_INTEGER);
  r->integer = v;
  return r;
}

static void *create_nil(const redisReadTask *task) {
  return value(task, REDIS_REPLY_NIL);
}

/* hiredis frees only whole replies (the root), after the callback or when it
 * drops a partly read one: the arena is reset (or freed, once orphaned). */
static void free_object(void *obj) {
  if (obj == NULL)
    return;
  arena *a = sg_container_of((redisReply *)obj, tagged, r)->a;
  if (a->orphan) {
    arena_free_chunks(a, false);
    sg_free(a);
  } else {
    arena_free_chunks(a, true);
  }
}

static redisReplyObjectFunctions arena_fns = {create_string, create_array, create_integer,
                                              create_nil, free_object};

int sg_rd_replies_attach(redisReader *r) {
  if (r->fn == &arena_fns)
    return SG_ERR_EXISTS;
  arena *a = sg_xcalloc(1, sizeof *a);
  r->fn = &arena_fns;
  r->privdata = a;
  return 0;
}

void sg_rd_replies_set_cap(redisReader *r, size_t max_bytes) {
  if (r != NULL && r->fn == &arena_fns && r->privdata != NULL)
    ((arena *)r->privdata)->max_bytes = max_bytes;
}

void sg_rd_replies_detach(redisReader *r) {
  if (r == NULL || r->fn != &arena_fns || r->privdata == NULL)
    return;
  arena *a = r->privdata;
  if (a->orphan)
    return;
  if (a->live == 0) { /* no reply in the making: nothing will come back to free it */
    arena_free_chunks(a, false);
    sg_free(a);
    r->privdata = NULL;
    r->fn = NULL; /* a reply started after this would not be freed: build none */
    return;
  }
  a->orphan = true;
}
