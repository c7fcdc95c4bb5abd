/* SPDX-License-Identifier: Apache-2.0 */
/* In-flight caps, fixed/sliding rate windows and Retry-After tracking; see sg_sbx_limits.h. */
#include "sandbox/sg_sbx_limits.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "sandbox/sg_sbx_table.h"

static size_t keys_or_default(size_t max_keys) {
  return max_keys ? max_keys : SG_SBX_LIMITS_DEFAULT_KEYS;
}

/* ---- in flight ------------------------------------------------------------------------ */

typedef struct ikey {
  sg_sbx_entry e;
  uint32_t n;
} ikey;

struct sg_sbx_inflight {
  uint32_t cap;
  size_t max_keys;
  sg_sbx_table table;
};

sg_sbx_inflight *sg_sbx_inflight_new(uint32_t cap, size_t max_keys) {
  sg_sbx_inflight *l = sg_xcalloc(1, sizeof(*l));
  l->cap = cap;
  l->max_keys = keys_or_default(max_keys);
  sg_sbx_table_init(&l->table);
  return l;
}

static void free_ikey(sg_sbx_entry *e) {
  sg_free(sg_container_of(e, ikey, e));
}

void sg_sbx_inflight_free(sg_sbx_inflight *l) {
  if (l == NULL)
    return;
  sg_sbx_table_free(&l->table, free_ikey);
  sg_free(l);
}

int sg_sbx_inflight_acquire(sg_sbx_inflight *l, const char *key) {
  if (l->cap == 0)
    return 0;
  size_t kl = strlen(key);
  sg_sbx_entry *e = sg_sbx_table_find(&l->table, key, kl);
  if (e == NULL) {
    if (l->table.count >= l->max_keys)
      return SG_ERR_BUSY;
    ikey *k = sg_xcalloc(1, sizeof(*k));
    sg_sbx_table_insert(&l->table, &k->e, key, kl);
    e = &k->e;
  }
  ikey *k = sg_container_of(e, ikey, e);
  if (k->n >= l->cap)
    return SG_ERR_BUSY;
  k->n++;
  return 0;
}

void sg_sbx_inflight_release(sg_sbx_inflight *l, const char *key) {
  if (l->cap == 0)
    return;
  sg_sbx_entry *e = sg_sbx_table_find(&l->table, key, strlen(key));
  if (e == NULL)
    return;
  ikey *k = sg_container_of(e, ikey, e);
  if (k->n > 0)
    k->n--;
  if (k->n == 0) {
    sg_sbx_table_remove(&l->table, e);
    sg_free(k);
  }
}

uint32_t sg_sbx_inflight_count(const sg_sbx_inflight *l, const char *key) {
  sg_sbx_entry *e = sg_sbx_table_find(&l->table, key, strlen(key));
  return e ? sg_container_of(e, ikey, e)->n : 0;
}

/* ---- rate ----------------------------------------------------------------------------- */

typedef struct slot {
  uint64_t t;
  uint64_t n;
} slot;

typedef struct rkey {
  sg_sbx_entry e;
  uint64_t used;  /* units inside the current window */
  uint64_t start; /* fixed: start of the window */
  slot *ring;     /* sliding: the log, oldest at head */
  size_t cap, head, len;
} rkey;

struct sg_sbx_rate {
  uint64_t limit;
  uint64_t window;
  sg_sbx_window kind;
  size_t max_keys;
  sg_sbx_table table;
};

sg_sbx_rate *sg_sbx_rate_new(uint64_t limit, uint64_t window_ms, sg_sbx_window kind,
                             size_t max_keys) {
  sg_sbx_rate *r = sg_xcalloc(1, sizeof(*r));
  r->limit = limit;
  r->window = window_ms;
  r->kind = kind;
  r->max_keys = keys_or_default(max_keys);
  sg_sbx_table_init(&r->table);
  return r;
}

static void free_rkey(sg_sbx_entry *e) {
  rkey *k = sg_container_of(e, rkey, e);
  sg_free(k->ring);
  sg_free(k);
}

void sg_sbx_rate_free(sg_sbx_rate *r) {
  if (r == NULL)
    return;
  sg_sbx_table_free(&r->table, free_rkey);
  sg_free(r);
}

static slot *ring_at(rkey *k, size_t i) {
  return &k->ring[(k->head + i) % k->cap];
}

/* Forgets what fell out of the window at |now|. */
static void advance(const sg_sbx_rate *r, rkey *k, uint64_t now) {
  if (r->kind == SG_SBX_WINDOW_FIXED) {
    if (now >= k->start + r->window) {
      k->start = now;
      k->used = 0;
    }
    return;
  }
  while (k->len && ring_at(k, 0)->t + r->window <= now) {
    k->used -= ring_at(k, 0)->n;
    k->head = (k->head + 1) % k->cap;
    k->len--;
  }
}

static void ring_push(rkey *k, uint64_t t, uint64_t n) {
  if (k->len && ring_at(k, k->len - 1)->t == t) {
    ring_at(k, k->len - 1)->n += n;
    return;
  }
  if (k->len == k->cap) {
    size_t cap = k->cap ? k->cap * 2 : 8;
    slot *ring = sg_xmalloc(cap * sizeof(*ring));
    for (size_t i = 0; i < k->len; i++)
      ring[i] = *ring_at(k, i);
    sg_free(k->ring);
    k->ring = ring;
    k->cap = cap;
    k->head = 0;
  }
  slot *s = ring_at(k, k->len++);
  s->t = t;
  s->n = n;
}

/* Time until |amount| more units fit (the caller checked they do not now). */
static uint64_t wait_for(const sg_sbx_rate *r, rkey *k, uint64_t amount, uint64_t now) {
  if (r->kind == SG_SBX_WINDOW_FIXED)
    return k->start + r->window - now;
  uint64_t need = k->used + amount - r->limit, freed = 0;
  for (size_t i = 0; i < k->len; i++) {
    freed += ring_at(k, i)->n;
    if (freed >= need)
      return ring_at(k, i)->t + r->window - now;
  }
  return r->window; /* unreachable while amount <= limit */
}

/* Makes room for one more key: drop idle keys, then the least recently used. */
static void make_room(sg_sbx_rate *r, uint64_t now) {
  sg_sbx_entry *e = sg_sbx_table_oldest(&r->table);
  while (e) {
    sg_sbx_entry *next = sg_sbx_table_next_newer(&r->table, e);
    rkey *k = sg_container_of(e, rkey, e);
    advance(r, k, now);
    if (k->used == 0) {
      sg_sbx_table_remove(&r->table, e);
      free_rkey(e);
    }
    e = next;
  }
  while (r->table.count >= r->max_keys) {
    e = sg_sbx_table_oldest(&r->table);
    sg_sbx_table_remove(&r->table, e);
    free_rkey(e);
  }
}

int sg_sbx_rate_take(sg_sbx_rate *r, const char *key, uint64_t amount, uint64_t now_ms,
                     uint64_t *retry_after_ms) {
  uint64_t dummy;
  if (retry_after_ms == NULL)
    retry_after_ms = &dummy;
  *retry_after_ms = 0;
  if (r->limit == 0 || r->window == 0)
    return 0;
  if (amount > r->limit) {
    *retry_after_ms = r->window;
    return SG_ERR_TOOBIG;
  }
  size_t kl = strlen(key);
  sg_sbx_entry *e = sg_sbx_table_find(&r->table, key, kl);
  if (e == NULL) {
    if (r->table.count >= r->max_keys)
      make_room(r, now_ms);
    rkey *k = sg_xcalloc(1, sizeof(*k));
    k->start = now_ms;
    sg_sbx_table_insert(&r->table, &k->e, key, kl);
    e = &k->e;
  } else {
    sg_sbx_table_touch(&r->table, e);
  }
  rkey *k = sg_container_of(e, rkey, e);
  advance(r, k, now_ms);
  if (k->used + amount > r->limit) {
    uint64_t w = wait_for(r, k, amount, now_ms);
    *retry_after_ms = w ? w : 1;
    return SG_ERR_BUSY;
  }
  if (amount == 0)
    return 0;
  if (r->kind == SG_SBX_WINDOW_SLIDING)
    ring_push(k, now_ms, amount);
  k->used += amount;
  return 0;
}

uint64_t sg_sbx_rate_used(sg_sbx_rate *r, const char *key, uint64_t now_ms) {
  sg_sbx_entry *e = sg_sbx_table_find(&r->table, key, strlen(key));
  if (e == NULL)
    return 0;
  rkey *k = sg_container_of(e, rkey, e);
  advance(r, k, now_ms);
  return k->used;
}

/* ---- Retry-After windows --------------------------------------------------------------- */

typedef struct bkey {
  sg_sbx_entry e;
  uint64_t from; /* the window starts here (requests before are not violations) */
  uint64_t until;
} bkey;

struct sg_sbx_backoff {
  size_t max_keys;
  uint64_t violations;
  sg_sbx_table table;
};

sg_sbx_backoff *sg_sbx_backoff_new(size_t max_keys) {
  sg_sbx_backoff *b = sg_xcalloc(1, sizeof(*b));
  b->max_keys = keys_or_default(max_keys);
  sg_sbx_table_init(&b->table);
  return b;
}

static void free_bkey(sg_sbx_entry *e) {
  sg_free(sg_container_of(e, bkey, e));
}

void sg_sbx_backoff_free(sg_sbx_backoff *b) {
  if (b == NULL)
    return;
  sg_sbx_table_free(&b->table, free_bkey);
  sg_free(b);
}

void sg_sbx_backoff_set(sg_sbx_backoff *b, const char *key, uint64_t now_ms, uint64_t until_ms) {
  if (until_ms <= now_ms)
    return;
  size_t kl = strlen(key);
  sg_sbx_entry *e = sg_sbx_table_find(&b->table, key, kl);
  if (e) {
    bkey *k = sg_container_of(e, bkey, e);
    if (k->until <= now_ms) /* the old window is over: a new one */
      k->from = now_ms;
    if (until_ms > k->until)
      k->until = until_ms;
    sg_sbx_table_touch(&b->table, e);
    return;
  }
  if (b->table.count >= b->max_keys) {
    for (e = sg_sbx_table_oldest(&b->table); e;) {
      sg_sbx_entry *next = sg_sbx_table_next_newer(&b->table, e);
      if (sg_container_of(e, bkey, e)->until <= now_ms) {
        sg_sbx_table_remove(&b->table, e);
        free_bkey(e);
      }
      e = next;
    }
    while (b->table.count >= b->max_keys) {
      e = sg_sbx_table_oldest(&b->table);
      sg_sbx_table_remove(&b->table, e);
      free_bkey(e);
    }
  }
  bkey *k = sg_xcalloc(1, sizeof(*k));
  k->from = now_ms;
  k->until = until_ms;
  sg_sbx_table_insert(&b->table, &k->e, key, kl);
}

uint64_t sg_sbx_backoff_until(sg_sbx_backoff *b, const char *key, uint64_t now_ms) {
  sg_sbx_entry *e = sg_sbx_table_find(&b->table, key, strlen(key));
  if (e == NULL)
    return 0;
  bkey *k = sg_container_of(e, bkey, e);
  if (k->until <= now_ms) {
    sg_sbx_table_remove(&b->table, e);
    free_bkey(e);
    return 0;
  }
  return k->until;
}

bool sg_sbx_backoff_check(sg_sbx_backoff *b, const char *key, uint64_t now_ms) {
  if (sg_sbx_backoff_until(b, key, now_ms) == 0)
    return false;
  bkey *k = sg_container_of(sg_sbx_table_find(&b->table, key, strlen(key)), bkey, e);
  if (now_ms < k->from)
    return false;
  b->violations++;
  return true;
}

uint64_t sg_sbx_backoff_violations(const sg_sbx_backoff *b) {
  return b->violations;
}

/* ---- Retry-After values ---------------------------------------------------------------- */

uint64_t sg_sbx_retry_after_secs(uint64_t ms) {
  return ms / 1000 + (ms % 1000 != 0);
}

void sg_sbx_retry_after_int(uint64_t ms, char out[24]) {
  snprintf(out, 24, "%" PRIu64, sg_sbx_retry_after_secs(ms));
}

void sg_sbx_retry_after_frac(uint64_t ms, char out[24]) {
  snprintf(out, 24, "%" PRIu64 ".%03u", ms / 1000, (unsigned)(ms % 1000));
}
