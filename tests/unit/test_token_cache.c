/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for svc/sg_token_cache with a fake clock: many waiters share one
 * fetch, refresh-ahead serves the old token meanwhile, expiry, invalidation
 * after a 401, failed fetches, the token endpoint's 429 back-off, waiter
 * cancellation and re-entrant callbacks.
 */
#include "harness.h"

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "svc/sg_token_cache.h"

#define SEC 1000u
#define MIN (60u * SEC)

typedef struct rec {
  sg_token_waiter w;
  int calls;
  int status;
  char token[64];
  sg_outcome err;
  bool has_err;
} rec;

static void on_token(sg_token_waiter *w, int status, const char *token, size_t len,
                     const sg_outcome *err) {
  rec *r = w->data;
  r->calls++;
  r->status = status;
  r->token[0] = '\0';
  if (token) {
    ASSERT_EQ(strlen(token), len);
    snprintf(r->token, sizeof r->token, "%s", token);
  }
  r->has_err = err != NULL;
  if (err)
    r->err = *err;
}

static void rec_init(rec *r) {
  memset(r, 0, sizeof *r);
  sg_token_waiter_init(&r->w, on_token, r);
}

static const sg_token_key key = {"https://login.microsoftonline.com", "tenant-1", "client-1",
                                 "https://graph.microsoft.com/.default"};

/* Completes the fetch of |e| with token |tok| living |life_s| seconds. */
static void succeed(sg_token_entry *e, uint64_t now, const char *tok, int64_t life_s) {
  sg_outcome o;
  memset(&o, 0, sizeof o);
  o.kind = SG_OUTCOME_OK;
  sg_entra_token t = {sg_xstrdup(tok), strlen(tok), life_s};
  ASSERT_OK(sg_token_fetch_done(e, now, &o, &t));
  ASSERT_NULL(t.access_token); /* moved into the cache */
}

/* Gets a token that must be available now; returns whether a fetch is due. */
static bool get_now(sg_token_entry *e, uint64_t now, const char *want) {
  const char *t;
  size_t n;
  bool fetch;
  ASSERT_OK(sg_token_get(e, now, NULL, &t, &n, &fetch, NULL));
  ASSERT_STR_EQ(want, t);
  ASSERT_EQ(strlen(want), n);
  return fetch;
}

/* A get at |now| that has to wait (queueing |w| unless NULL); returns whether
 * it asked for a fetch. */
static bool get_wait(sg_token_entry *e, uint64_t now, sg_token_waiter *w) {
  const char *t;
  size_t n;
  bool fetch;
  ASSERT_EQ(SG_ERR_AGAIN, sg_token_get(e, now, w, &t, &n, &fetch, NULL));
  return fetch;
}

static void t_one_fetch_many_waiters(void) {
  sg_token_cache *c;
  ASSERT_OK(sg_token_cache_new(&c, 7));
  sg_token_entry *e = sg_token_cache_entry(c, &key);
  ASSERT_NOT_NULL(e);
  ASSERT_EQ(SG_TOKEN_EMPTY, sg_token_entry_state(e));
  enum { N = 100 };
  rec *r = sg_xcalloc(N, sizeof *r);
  int fetches = 0;
  for (int i = 0; i < N; i++) {
    rec_init(&r[i]);
    const char *t;
    size_t n;
    bool fetch;
    ASSERT_EQ(SG_ERR_AGAIN, sg_token_get(e, 1000 + (uint64_t)i, &r[i].w, &t, &n, &fetch, NULL));
    ASSERT_NULL(t);
    ASSERT(sg_token_waiter_queued(&r[i].w));
    fetches += fetch;
  }
  ASSERT_EQ(1, fetches);
  ASSERT_EQ(SG_TOKEN_FETCHING, sg_token_entry_state(e));
  succeed(e, 2000, "tok-A", 3600);
  ASSERT_EQ(SG_TOKEN_VALID, sg_token_entry_state(e));
  for (int i = 0; i < N; i++) {
    ASSERT_EQ(1, r[i].calls);
    ASSERT_OK(r[i].status);
    ASSERT_STR_EQ("tok-A", r[i].token);
    ASSERT(!sg_token_waiter_queued(&r[i].w));
  }
  /* Later gets are served from the cache without a fetch. */
  ASSERT(!get_now(e, 3000, "tok-A"));
  ASSERT(!get_now(e, 2000 + 40 * MIN, "tok-A"));
  /* A waiter that is already queued cannot be queued twice. */
  rec x;
  rec_init(&x);
  sg_token_invalidate(e, NULL, 0);
  const char *t;
  size_t n;
  bool fetch;
  get_wait(e, 5000, &x.w);
  ASSERT_EQ(SG_ERR_EXISTS, sg_token_get(e, 5000, &x.w, &t, &n, &fetch, NULL));
  sg_token_waiter_cancel(&x.w);
  sg_free(r);
  sg_token_cache_free(c);
  ASSERT_EQ(0, x.calls);
}

static void t_refresh_ahead(void) {
  sg_token_cache *c;
  ASSERT_OK(sg_token_cache_new(&c, 1));
  sg_token_entry *e = sg_token_cache_entry(c, &key);
  ASSERT(get_wait(e, 0, NULL));
  uint64_t t0 = 10 * SEC;
  succeed(e, t0, "tok-A", 3600);
  /* 80 % of 3600 s = 2880 s (sooner than 5 min before expiry). */
  ASSERT(!get_now(e, t0 + 2880 * SEC - 1, "tok-A"));
  ASSERT(get_now(e, t0 + 2880 * SEC, "tok-A"));
  ASSERT_EQ(SG_TOKEN_FETCHING, sg_token_entry_state(e));
  /* While the refresh runs the old token is served and no second fetch starts. */
  ASSERT(!get_now(e, t0 + 2900 * SEC, "tok-A"));
  ASSERT(!get_now(e, t0 + 3500 * SEC, "tok-A"));
  succeed(e, t0 + 3500 * SEC, "tok-B", 3600);
  ASSERT(!get_now(e, t0 + 3501 * SEC, "tok-B"));
  ASSERT_EQ(SG_TOKEN_VALID, sg_token_entry_state(e));

  /* Short lifetimes: 10 min -> 5 min before expiry (sooner than 80 %). */
  sg_token_invalidate(e, NULL, 0);
  uint64_t t1 = t0 + 4000 * SEC;
  ASSERT(get_wait(e, t1, NULL));
  succeed(e, t1, "tok-C", 600);
  ASSERT(!get_now(e, t1 + 5 * MIN - 1, "tok-C"));
  ASSERT(get_now(e, t1 + 5 * MIN, "tok-C"));
  succeed(e, t1 + 5 * MIN, "tok-D", 120);
  /* Under 5 minutes: refresh at half the lifetime, not at once (a 3 s token in
   * a test would otherwise be fetched again on every request). */
  ASSERT(!get_now(e, t1 + 5 * MIN, "tok-D"));
  ASSERT(!get_now(e, t1 + 5 * MIN + 60 * SEC - 1, "tok-D"));
  ASSERT(get_now(e, t1 + 5 * MIN + 60 * SEC, "tok-D"));
  sg_token_cache_free(c);
}

static void t_expiry(void) {
  sg_token_cache *c;
  ASSERT_OK(sg_token_cache_new(&c, 1));
  sg_token_entry *e = sg_token_cache_entry(c, &key);
  get_wait(e, 0, NULL);
  ASSERT_EQ(0, sg_token_entry_usable_until(e));
  succeed(e, 0, "tok-A", 3600);
  ASSERT_EQ(3570 * SEC, sg_token_entry_usable_until(e)); /* served until 30 s before expiry */
  /* Nobody asked during the refresh window: at 30 s before expiry the token
   * is no longer served; the waiter queues and a fetch starts. */
  ASSERT(get_now(e, 3570 * SEC - 1, "tok-A"));
  ASSERT_EQ(SG_TOKEN_FETCHING, sg_token_entry_state(e));
  rec r;
  rec_init(&r);
  ASSERT(!get_wait(e, 3570 * SEC, &r.w)); /* the refresh-ahead fetch is still running */
  succeed(e, 3575 * SEC, "tok-B", 3600);
  ASSERT_EQ(1, r.calls);
  ASSERT_STR_EQ("tok-B", r.token);

  /* Expired with no fetch running: a new fetch. */
  sg_token_cache_entry(c, &key); /* same entry */
  ASSERT(sg_token_cache_entry(c, &key) == e);
  ASSERT(get_wait(e, 3575 * SEC + 3600 * SEC, NULL));
  sg_token_cache_free(c);
}

static void t_invalidate(void) {
  sg_token_cache *c;
  ASSERT_OK(sg_token_cache_new(&c, 1));
  sg_token_entry *e = sg_token_cache_entry(c, &key);
  get_wait(e, 0, NULL);
  succeed(e, 0, "tok-A", 3600);
  get_now(e, 1, "tok-A");
  /* Graph said 401 for tok-A: drop it, the next get fetches. */
  sg_token_invalidate(e, "tok-A", 5);
  ASSERT_EQ(SG_TOKEN_EMPTY, sg_token_entry_state(e));
  rec r;
  rec_init(&r);
  ASSERT(get_wait(e, 2, &r.w));
  succeed(e, 3, "tok-B", 3600);
  ASSERT_STR_EQ("tok-B", r.token);
  /* A late 401 of a request that used tok-A does not drop tok-B. */
  sg_token_invalidate(e, "tok-A", 5);
  sg_token_invalidate(e, "tok-", 4);
  ASSERT(!get_now(e, 4, "tok-B"));
  /* Invalidating during a refresh-ahead: the fetch continues, gets queue. */
  ASSERT(get_now(e, 3 + 2880 * SEC, "tok-B"));
  sg_token_invalidate(e, "tok-B", 5);
  ASSERT_EQ(SG_TOKEN_FETCHING, sg_token_entry_state(e));
  rec q;
  rec_init(&q);
  ASSERT(!get_wait(e, 4 + 2880 * SEC, &q.w));
  succeed(e, 5 + 2880 * SEC, "tok-C", 3600);
  ASSERT_STR_EQ("tok-C", q.token);
  sg_token_invalidate(NULL, NULL, 0);
  sg_token_cache_free(c);
}

static sg_outcome failure(sg_outcome_kind kind, const char *code, int status, int64_t ra_ms) {
  sg_outcome o;
  memset(&o, 0, sizeof o);
  o.kind = kind;
  o.http_status = status;
  snprintf(o.code, sizeof o.code, "%s", code);
  if (ra_ms >= 0) {
    o.has_retry_after = true;
    o.retry_after_ms = ra_ms;
  }
  return o;
}

static void t_failure_backoff(void) {
  sg_token_cache *c;
  ASSERT_OK(sg_token_cache_new(&c, 3));
  sg_token_entry *e = sg_token_cache_entry(c, &key);
  rec r[3];
  const char *t;
  size_t n;
  bool fetch;
  for (int i = 0; i < 3; i++) {
    rec_init(&r[i]);
    get_wait(e, 0, &r[i].w);
  }
  /* Permanent: a wrong secret. Every waiter learns it. */
  sg_outcome bad = failure(SG_OUTCOME_FAILED, "AADSTS7000215", 401, -1);
  ASSERT_NULL(sg_token_entry_last_error(e));
  ASSERT_OK(sg_token_fetch_done(e, 100, &bad, NULL));
  ASSERT_EQ(SG_TOKEN_EMPTY, sg_token_entry_state(e));
  /* what `sendgate status` shows of it */
  ASSERT_STR_EQ("AADSTS7000215", sg_token_entry_last_error(e)->code);
  ASSERT_EQ(0, sg_token_entry_usable_until(e));
  for (int i = 0; i < 3; i++) {
    ASSERT_EQ(1, r[i].calls);
    ASSERT_EQ(SG_ERR_AUTH, r[i].status);
    ASSERT(r[i].has_err);
    ASSERT_EQ(SG_OUTCOME_FAILED, r[i].err.kind);
    ASSERT_STR_EQ("AADSTS7000215", r[i].err.code);
    ASSERT(r[i].err.has_retry_after);
    ASSERT_LE(r[i].err.retry_after_ms, 1000); /* first back-off step: [0, 1 s] */
  }
  int64_t wait = r[0].err.retry_after_ms;
  /* During the back-off a get fails at once, with the remaining wait. */
  if (wait > 0) {
    sg_outcome err;
    rec x;
    rec_init(&x);
    ASSERT_EQ(SG_ERR_AUTH, sg_token_get(e, 100, &x.w, &t, &n, &fetch, &err));
    ASSERT(!fetch);
    ASSERT(!sg_token_waiter_queued(&x.w));
    ASSERT_STR_EQ("AADSTS7000215", err.code);
    ASSERT_EQ(wait, err.retry_after_ms);
    ASSERT_EQ(SG_ERR_AUTH, sg_token_get(e, 100 + (uint64_t)wait - 1, NULL, &t, &n, &fetch, &err));
    ASSERT_EQ(1, err.retry_after_ms);
  }
  /* After it, a new fetch. Repeated failures back off longer, up to 60 s. */
  uint64_t now = 100 + (uint64_t)wait;
  for (int i = 0; i < 12; i++) {
    ASSERT(get_wait(e, now, NULL));
    ASSERT_OK(sg_token_fetch_done(e, now, &bad, NULL));
    sg_outcome err;
    int rv = sg_token_get(e, now, NULL, &t, &n, &fetch, &err);
    if (rv == SG_ERR_AUTH) {
      ASSERT_LE(err.retry_after_ms, 60000);
      now += (uint64_t)err.retry_after_ms;
    } else {
      /* A zero-length back-off drew 0: the get already started a fetch. */
      ASSERT_EQ(SG_ERR_AGAIN, rv);
      ASSERT(fetch);
      ASSERT_OK(sg_token_fetch_done(e, now, &bad, NULL));
      sg_token_get(e, now, NULL, &t, &n, &fetch, &err);
      now += 60000;
    }
  }
  /* Success resets the back-off. */
  ASSERT(get_wait(e, now, NULL));
  succeed(e, now, "tok-A", 3600);
  ASSERT(!get_now(e, now + 1, "tok-A"));
  /* done() without a fetch in flight, or OK without a token, is refused. */
  sg_outcome ok = failure(SG_OUTCOME_OK, "", 200, -1);
  ASSERT_EQ(SG_ERR_INVAL, sg_token_fetch_done(e, now, &ok, NULL));
  ASSERT_EQ(SG_ERR_INVAL, sg_token_fetch_done(e, now, &bad, NULL));
  sg_token_cache_free(c);
}

static void t_throttled_429(void) {
  sg_token_cache *c;
  ASSERT_OK(sg_token_cache_new(&c, 3));
  sg_token_entry *e = sg_token_cache_entry(c, &key);
  const char *t;
  size_t n;
  bool fetch;
  rec r;
  rec_init(&r);
  get_wait(e, 0, &r.w);
  /* Entra: 429 with Retry-After: 60. */
  sg_outcome thr = failure(SG_OUTCOME_RETRY, "", 429, 60000);
  thr.throttled = true;
  ASSERT_OK(sg_token_fetch_done(e, 1000, &thr, NULL));
  ASSERT_EQ(SG_ERR_AUTH, r.status);
  ASSERT_EQ(SG_OUTCOME_RETRY, r.err.kind);
  ASSERT(r.err.throttled);
  ASSERT_EQ(60000, r.err.retry_after_ms);
  sg_outcome err;
  ASSERT_EQ(SG_ERR_AUTH, sg_token_get(e, 60000, NULL, &t, &n, &fetch, &err));
  ASSERT_EQ(1000, err.retry_after_ms);
  ASSERT(get_wait(e, 61000, NULL));
  succeed(e, 61000, "tok-A", 3600);

  /* A refresh-ahead that gets 429: the old token keeps being served and no
   * fetch is asked for until the Retry-After has passed. */
  uint64_t ra = 61000 + 2880 * SEC;
  ASSERT(get_now(e, ra, "tok-A"));
  ASSERT_OK(sg_token_fetch_done(e, ra, &thr, NULL));
  ASSERT_EQ(SG_TOKEN_VALID, sg_token_entry_state(e));
  ASSERT(!get_now(e, ra + 1, "tok-A"));
  ASSERT(!get_now(e, ra + 59999, "tok-A"));
  ASSERT(get_now(e, ra + 60000, "tok-A"));
  /* That one fails with a transport error (no Retry-After): back-off. */
  sg_outcome tr;
  sg_classify_transport(SG_ERR_TIMEOUT, true, &tr);
  ASSERT_OK(sg_token_fetch_done(e, ra + 70000, &tr, NULL));
  ASSERT_EQ(SG_TOKEN_VALID, sg_token_entry_state(e));
  /* The token is still served meanwhile. */
  ASSERT_OK(sg_token_get(e, ra + 70000, NULL, &t, &n, &fetch, NULL));
  ASSERT_STR_EQ("tok-A", t);
  sg_token_cache_free(c);
}

/* Callbacks that re-enter the cache. */
typedef struct reent {
  sg_token_waiter w;
  sg_token_entry *e;
  rec *victim; /* cancelled from the callback */
  int got;
  char token[32];
} reent;

static void on_reent(sg_token_waiter *w, int status, const char *token, size_t len,
                     const sg_outcome *err) {
  reent *r = w->data;
  r->got++;
  ASSERT_OK(status);
  if (r->victim)
    sg_token_waiter_cancel(&r->victim->w);
  /* The entry is already VALID: a get from inside the callback is served. */
  const char *t;
  size_t n;
  bool fetch;
  ASSERT_OK(sg_token_get(r->e, 10, NULL, &t, &n, &fetch, NULL));
  ASSERT_STR_EQ(token, t);
  /* Invalidate from inside: later waiters still get the fetched token. */
  sg_token_invalidate(r->e, token, len);
  snprintf(r->token, sizeof r->token, "%s", token);
}

static void t_cancel_and_reentry(void) {
  sg_token_cache *c;
  ASSERT_OK(sg_token_cache_new(&c, 5));
  sg_token_entry *e = sg_token_cache_entry(c, &key);
  rec a, b, d;
  reent first = {.e = e};
  sg_token_waiter_init(&first.w, on_reent, &first);
  rec_init(&a);
  rec_init(&b);
  rec_init(&d);
  first.victim = &b;
  get_wait(e, 0, &a.w);
  get_wait(e, 0, &first.w);
  get_wait(e, 0, &b.w);
  get_wait(e, 0, &d.w);
  sg_token_waiter_cancel(&a.w); /* cancelled before completion */
  sg_token_waiter_cancel(&a.w); /* twice is harmless */
  succeed(e, 5, "tok-A", 3600);
  ASSERT_EQ(0, a.calls);
  ASSERT_EQ(1, first.got);
  ASSERT_EQ(0, b.calls); /* cancelled by |first|'s callback */
  ASSERT_EQ(1, d.calls);
  ASSERT_STR_EQ("tok-A", d.token); /* despite the invalidation in between */
  ASSERT_EQ(SG_TOKEN_EMPTY, sg_token_entry_state(e));
  sg_token_cache_free(c);
}

static void t_keys_and_shutdown(void) {
  sg_token_cache *c;
  ASSERT_OK(sg_token_cache_new(&c, 5));
  sg_token_key k2 = key;
  k2.scope = "https://communication.azure.com//.default";
  sg_token_key k3 = key;
  k3.login_root = "https://login.microsoftonline.us";
  sg_token_key k4 = {NULL, "t", NULL, NULL};
  sg_token_entry *e1 = sg_token_cache_entry(c, &key);
  sg_token_entry *e2 = sg_token_cache_entry(c, &k2);
  sg_token_entry *e3 = sg_token_cache_entry(c, &k3);
  sg_token_entry *e4 = sg_token_cache_entry(c, &k4);
  ASSERT(e1 != e2 && e1 != e3 && e2 != e3 && e4 != e1);
  ASSERT(sg_token_cache_entry(c, &k2) == e2);
  ASSERT_STR_EQ("", sg_token_entry_key(e4)->scope);
  ASSERT_STR_EQ(k2.scope, sg_token_entry_key(e2)->scope);
  ASSERT_NULL(sg_token_cache_entry(c, NULL));
  ASSERT_NULL(sg_token_cache_entry(NULL, &key));
  /* Entries are independent. */
  const char *t;
  size_t n;
  bool fetch;
  get_wait(e1, 0, NULL);
  succeed(e1, 0, "tok-1", 3600);
  rec r;
  rec_init(&r);
  ASSERT(get_wait(e2, 0, &r.w));
  ASSERT(!get_now(e1, 1, "tok-1"));
  ASSERT_EQ(SG_ERR_INVAL, sg_token_get(NULL, 0, NULL, &t, &n, &fetch, NULL));
  ASSERT_EQ(SG_ERR_INVAL, sg_token_get(e1, 0, NULL, NULL, &n, &fetch, NULL));
  ASSERT_EQ(SG_ERR_INVAL, sg_token_cache_new(NULL, 0));
  /* Deleting the cache ends the wait with SG_ERR_SHUTDOWN. */
  sg_token_cache_free(c);
  ASSERT_EQ(1, r.calls);
  ASSERT_EQ(SG_ERR_SHUTDOWN, r.status);
  ASSERT(!r.has_err);
  sg_token_cache_free(NULL);
}

/* End to end with the real classifier: an Entra response feeds the cache. */
static void t_with_classifier(void) {
  sg_token_cache *c;
  ASSERT_OK(sg_token_cache_new(&c, 9));
  sg_token_entry *e = sg_token_cache_entry(c, &key);
  rec r;
  rec_init(&r);
  const char *t;
  size_t n;
  bool fetch;
  get_wait(e, 0, &r.w);
  static const char body[] = "{\"token_type\":\"Bearer\",\"expires_in\":\"4000\","
                             "\"access_token\":\"eyJhbGciOi.x.y\"}";
  sg_outcome o;
  sg_entra_token tok;
  ASSERT_OK(sg_classify_entra(200, NULL, 0, body, sizeof body - 1, 0, &o, &tok));
  ASSERT_OK(sg_token_fetch_done(e, 50, &o, &tok));
  ASSERT_STR_EQ("eyJhbGciOi.x.y", r.token);
  /* 80 % of 4000 s */
  ASSERT(!get_now(e, 50 + 3200 * SEC - 1, "eyJhbGciOi.x.y"));
  ASSERT(get_now(e, 50 + 3200 * SEC, "eyJhbGciOi.x.y"));
  static const char err[] = "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000222: "
                            "expired\",\"error_codes\":[7000222]}";
  sg_http_header ra = sg_http_hdr("retry-after", "120");
  ASSERT_OK(sg_classify_entra(401, &ra, 1, err, sizeof err - 1, 0, &o, &tok));
  ASSERT_OK(sg_token_fetch_done(e, 60 + 3200 * SEC, &o, &tok));
  /* Served during the 120 s back-off without a new fetch. */
  ASSERT(!get_now(e, 60 + 3319 * SEC, "eyJhbGciOi.x.y"));
  /* After it, the next get retries the refresh; it fails again near expiry. */
  ASSERT(get_now(e, 3969 * SEC, "eyJhbGciOi.x.y"));
  ASSERT_OK(sg_token_fetch_done(e, 3969 * SEC, &o, &tok));
  /* Usable until 30 s before expiry (50 ms + 3970 s); then gets fail fast. */
  ASSERT(!get_now(e, 3970 * SEC, "eyJhbGciOi.x.y"));
  sg_outcome last;
  ASSERT_EQ(SG_ERR_AUTH, sg_token_get(e, 3971 * SEC, NULL, &t, &n, &fetch, &last));
  ASSERT_EQ(SG_TOKEN_EMPTY, sg_token_entry_state(e));
  ASSERT_EQ(118 * SEC, last.retry_after_ms);
  ASSERT_STR_EQ("AADSTS7000222", last.code);
  ASSERT_EQ(SG_OUTCOME_FAILED, last.kind);
  sg_token_cache_free(c);
}

SG_TESTS({"one_fetch_many_waiters", t_one_fetch_many_waiters}, {"refresh_ahead", t_refresh_ahead},
         {"expiry", t_expiry}, {"invalidate", t_invalidate}, {"failure_backoff", t_failure_backoff},
         {"throttled_429", t_throttled_429}, {"cancel_and_reentry", t_cancel_and_reentry},
         {"keys_and_shutdown", t_keys_and_shutdown}, {"with_classifier", t_with_classifier})
