/* SPDX-License-Identifier: Apache-2.0 */
/* Access-token cache; see sg_token_cache.h for the states and timing rules. */
#include "svc/sg_token_cache.h"

#include <string.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "core/sg_rand.h"
#include "core/sg_backoff.h"

/* Back-off after failed fetches without Retry-After: 1 s doubling to 60 s,
 * Entra's own Retry-After for client-credential floods (§3.4). */
#define FETCH_BACKOFF_BASE_MS 1000u
#define FETCH_BACKOFF_CAP_MS 60000u
/* Refresh at 80 % of the lifetime or 5 minutes before expiry, whichever is sooner. */
#define REFRESH_PERCENT 80u
#define REFRESH_BEFORE_MS (5u * 60u * 1000u)
/* Stop using a token this long before expiry (capped at a tenth of its lifetime). */
#define EXPIRY_SKEW_MS (30u * 1000u)

struct sg_token_entry {
  sg_list node; /* in sg_token_cache.entries */
  sg_token_cache *cache;
  sg_token_key key; /* owned copies */
  sg_token_state state;
  char *token; /* NULL when none; owned */
  size_t token_len;
  uint64_t refresh_at_ms; /* start a refresh-ahead from here */
  uint64_t usable_until_ms;
  uint64_t backoff_until_ms; /* no fetch before this after a failure */
  bool has_error;
  sg_outcome last_error;
  sg_backoff backoff;
  sg_list waiters;
};

struct sg_token_cache {
  sg_list entries;
  uint64_t seed;
};

static const char *nz(const char *s) {
  return s ? s : "";
}

static void drop_token(sg_token_entry *e) {
  if (e->token != NULL) {
    volatile char *p = e->token;
    for (size_t i = 0; i < e->token_len; i++)
      p[i] = 0;
    sg_free(e->token);
  }
  e->token = NULL;
  e->token_len = 0;
}

void sg_token_waiter_init(sg_token_waiter *w, sg_token_waiter_cb cb, void *data) {
  w->cb = cb;
  w->data = data;
  sg_list_node_init(&w->_node);
  w->_entry = NULL;
}

bool sg_token_waiter_queued(const sg_token_waiter *w) {
  return w->_entry != NULL;
}

void sg_token_waiter_cancel(sg_token_waiter *w) {
  if (w == NULL || w->_entry == NULL)
    return;
  sg_list_remove(&w->_node);
  w->_entry = NULL;
}

int sg_token_cache_new(sg_token_cache **out, uint64_t seed) {
  if (out == NULL)
    return SG_ERR_INVAL;
  sg_token_cache *c = sg_xcalloc(1, sizeof *c);
  sg_list_init(&c->entries);
  c->seed = seed;
  *out = c;
  return 0;
}

/* Calls every waiter queued on |e| once. The queue is detached first, so
 * callbacks may queue new waiters or cancel ones not yet called. */
static void notify(sg_token_entry *e, int status, const char *token, size_t len,
                   const sg_outcome *err) {
  sg_list pending;
  sg_list_init(&pending);
  if (!sg_list_empty(&e->waiters)) {
    pending.next = e->waiters.next;
    pending.prev = e->waiters.prev;
    pending.next->prev = &pending;
    pending.prev->next = &pending;
    sg_list_init(&e->waiters);
  }
  sg_list *n;
  while ((n = sg_list_pop_front(&pending)) != NULL) {
    sg_token_waiter *w = sg_container_of(n, sg_token_waiter, _node);
    w->_entry = NULL;
    w->cb(w, status, token, len, err);
  }
}

void sg_token_cache_free(sg_token_cache *c) {
  if (c == NULL)
    return;
  sg_list *n;
  while ((n = sg_list_pop_front(&c->entries)) != NULL) {
    sg_token_entry *e = sg_container_of(n, sg_token_entry, node);
    notify(e, SG_ERR_SHUTDOWN, NULL, 0, NULL);
    drop_token(e);
    sg_free((char *)e->key.login_root);
    sg_free((char *)e->key.tenant);
    sg_free((char *)e->key.client_id);
    sg_free((char *)e->key.scope);
    sg_free(e);
  }
  sg_free(c);
}

static bool key_eq(const sg_token_key *a, const sg_token_key *b) {
  return strcmp(a->login_root, nz(b->login_root)) == 0 && strcmp(a->tenant, nz(b->tenant)) == 0 &&
         strcmp(a->client_id, nz(b->client_id)) == 0 && strcmp(a->scope, nz(b->scope)) == 0;
}

sg_token_entry *sg_token_cache_entry(sg_token_cache *c, const sg_token_key *key) {
  if (c == NULL || key == NULL)
    return NULL;
  sg_list *n;
  sg_list_foreach(n, &c->entries) {
    sg_token_entry *e = sg_container_of(n, sg_token_entry, node);
    if (key_eq(&e->key, key))
      return e;
  }
  sg_token_entry *e = sg_xcalloc(1, sizeof *e);
  e->cache = c;
  e->key.login_root = sg_xstrdup(nz(key->login_root));
  e->key.tenant = sg_xstrdup(nz(key->tenant));
  e->key.client_id = sg_xstrdup(nz(key->client_id));
  e->key.scope = sg_xstrdup(nz(key->scope));
  e->state = SG_TOKEN_EMPTY;
  sg_list_init(&e->waiters);
  /* Each entry gets its own jitter stream. */
  sg_backoff_init(&e->backoff, FETCH_BACKOFF_BASE_MS, FETCH_BACKOFF_CAP_MS, sg_rand_next(&c->seed));
  sg_list_push_back(&c->entries, &e->node);
  return e;
}

const sg_token_key *sg_token_entry_key(const sg_token_entry *e) {
  return &e->key;
}

sg_token_state sg_token_entry_state(const sg_token_entry *e) {
  return e->state;
}

uint64_t sg_token_entry_usable_until(const sg_token_entry *e) {
  return e->token ? e->usable_until_ms : 0;
}

const sg_outcome *sg_token_entry_last_error(const sg_token_entry *e) {
  return e->has_error ? &e->last_error : NULL;
}

static bool usable(const sg_token_entry *e, uint64_t now) {
  return e->token != NULL && now < e->usable_until_ms;
}

int sg_token_get(sg_token_entry *e, uint64_t now_ms, sg_token_waiter *w, const char **token,
                 size_t *token_len, bool *fetch, sg_outcome *err) {
  if (e == NULL || token == NULL || token_len == NULL || fetch == NULL ||
      (w != NULL && w->cb == NULL))
    return SG_ERR_INVAL;
  if (w != NULL && w->_entry != NULL)
    return SG_ERR_EXISTS;
  *token = NULL;
  *token_len = 0;
  *fetch = false;
  if (e->token != NULL && !usable(e, now_ms)) {
    drop_token(e);
    if (e->state == SG_TOKEN_VALID)
      e->state = SG_TOKEN_EMPTY;
  }
  if (usable(e, now_ms)) {
    *token = e->token;
    *token_len = e->token_len;
    if (e->state == SG_TOKEN_VALID && now_ms >= e->refresh_at_ms && now_ms >= e->backoff_until_ms) {
      e->state = SG_TOKEN_FETCHING;
      *fetch = true;
    }
    return 0;
  }
  if (e->state == SG_TOKEN_EMPTY && e->has_error && now_ms < e->backoff_until_ms) {
    if (err != NULL) {
      *err = e->last_error;
      err->has_retry_after = true;
      err->retry_after_ms = (int64_t)(e->backoff_until_ms - now_ms);
    }
    return SG_ERR_AUTH;
  }
  if (e->state == SG_TOKEN_EMPTY) {
    e->state = SG_TOKEN_FETCHING;
    *fetch = true;
  }
  if (w != NULL) {
    sg_list_push_back(&e->waiters, &w->_node);
    w->_entry = e;
  }
  return SG_ERR_AGAIN;
}

static void store_token(sg_token_entry *e, uint64_t now, sg_entra_token *tok) {
  drop_token(e);
  e->token = tok->access_token;
  e->token_len = tok->access_token_len;
  uint64_t life = (uint64_t)tok->expires_in_s * 1000u;
  tok->access_token = NULL;
  tok->access_token_len = 0;
  uint64_t at_pct = life / 100u * REFRESH_PERCENT;
  uint64_t before = life > REFRESH_BEFORE_MS ? life - REFRESH_BEFORE_MS : 0;
  uint64_t skew = life / 10u < EXPIRY_SKEW_MS ? life / 10u : EXPIRY_SKEW_MS;
  /* The sooner of 80 % and 5 min before expiry, but never before half the
   * lifetime: a short-lived token (seconds) must not be refreshed at once. */
  uint64_t at = at_pct < before ? at_pct : before;
  if (at < life / 2u)
    at = life / 2u;
  e->refresh_at_ms = now + at;
  e->usable_until_ms = now + life - skew;
}

int sg_token_fetch_done(sg_token_entry *e, uint64_t now_ms, const sg_outcome *o,
                        sg_entra_token *tok) {
  if (e == NULL || o == NULL || e->state != SG_TOKEN_FETCHING)
    return SG_ERR_INVAL;
  if (o->kind == SG_OUTCOME_OK) {
    if (tok == NULL || tok->access_token == NULL || tok->expires_in_s <= 0)
      return SG_ERR_INVAL;
    store_token(e, now_ms, tok);
    e->state = SG_TOKEN_VALID;
    e->has_error = false;
    e->backoff_until_ms = 0;
    sg_backoff_reset(&e->backoff);
    /* A private copy: a callback may invalidate or replace the entry's token. */
    char *copy = sg_xstrndup(e->token, e->token_len);
    size_t len = e->token_len;
    notify(e, 0, copy, len, NULL);
    volatile char *p = copy;
    for (size_t i = 0; i < len; i++)
      p[i] = 0;
    sg_free(copy);
    return 0;
  }
  uint64_t wait = o->has_retry_after && o->retry_after_ms > 0 ? (uint64_t)o->retry_after_ms
                                                              : sg_backoff_next(&e->backoff);
  e->backoff_until_ms = now_ms + wait;
  e->last_error = *o;
  e->has_error = true;
  e->state = usable(e, now_ms) ? SG_TOKEN_VALID : SG_TOKEN_EMPTY;
  if (e->state == SG_TOKEN_EMPTY)
    drop_token(e);
  sg_outcome err = *o;
  err.has_retry_after = true;
  err.retry_after_ms = (int64_t)wait;
  notify(e, SG_ERR_AUTH, NULL, 0, &err);
  return 0;
}

void sg_token_invalidate(sg_token_entry *e, const char *token, size_t len) {
  if (e == NULL || e->token == NULL)
    return;
  if (token != NULL && (len != e->token_len || memcmp(token, e->token, len) != 0))
    return;
  drop_token(e);
  if (e->state == SG_TOKEN_VALID)
    e->state = SG_TOKEN_EMPTY;
}
