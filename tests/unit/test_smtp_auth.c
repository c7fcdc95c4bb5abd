/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SMTP AUTH checks (smtp/sg_smtp_auth.c) on a real libuv loop and the real
 * thread pool, plus the pure parts they are made of (sg_smtp_lockout with a
 * fake clock, sg_smtp_auth_cache). Every case runs the loop until nothing is
 * left and ends with uv_loop_close, so a leaked request or timer fails.
 */
#include <stdlib.h>
#include <unistd.h>
#include <uv.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "harness.h"
#include "smtp/sg_smtp_auth.h"
#include "smtp/sg_smtp_auth_cache.h"
#include "smtp/sg_smtp_lockout.h"
#include "smtp/sg_smtp_passwd.h"
#include "smtp/sg_smtp_users.h"

/* ---- pure parts ---- */

static void t_lockout(void) {
  sg_smtp_lockout_opts o = {3, 1000, 5000, 4};
  sg_smtp_lockout *l = sg_smtp_lockout_new(&o);
  ASSERT(!sg_smtp_lockout_fail(l, "a", 100));
  ASSERT(!sg_smtp_lockout_fail(l, "a", 200));
  ASSERT(!sg_smtp_lockout_locked(l, "a", 200));
  ASSERT(sg_smtp_lockout_fail(l, "a", 300)); /* the third within the window locks */
  ASSERT(sg_smtp_lockout_locked(l, "a", 300));
  ASSERT(sg_smtp_lockout_locked(l, "a", 5299));
  ASSERT(!sg_smtp_lockout_fail(l, "a", 400)); /* failures while locked do not extend it */
  ASSERT(!sg_smtp_lockout_locked(l, "a", 5300));
  ASSERT(!sg_smtp_lockout_locked(l, "b", 300));
  /* Failures further apart than the window never add up. */
  ASSERT(!sg_smtp_lockout_fail(l, "c", 1000));
  ASSERT(!sg_smtp_lockout_fail(l, "c", 1500));
  ASSERT(!sg_smtp_lockout_fail(l, "c", 2000)); /* window restarted at 2000 */
  ASSERT(!sg_smtp_lockout_fail(l, "c", 2500));
  ASSERT(sg_smtp_lockout_fail(l, "c", 2900));
  sg_smtp_lockout_clear(l, "c");
  ASSERT(!sg_smtp_lockout_locked(l, "c", 2900));
  /* Bounded: never more than max_keys, the least recent evicted first. */
  char key[16];
  for (int i = 0; i < 100; i++) {
    snprintf(key, sizeof key, "k%d", i);
    sg_smtp_lockout_fail(l, key, 3000 + (uint64_t)i);
    ASSERT_LE(sg_smtp_lockout_size(l), 4);
  }
  ASSERT_EQ(4, sg_smtp_lockout_size(l));
  /* A key that failed lately outlives the less recent ones when new keys come. */
  for (int i = 0; i < 3; i++)
    sg_smtp_lockout_fail(l, "k99", 3100);
  ASSERT(sg_smtp_lockout_locked(l, "k99", 3100));
  sg_smtp_lockout_fail(l, "new1", 3101);
  sg_smtp_lockout_fail(l, "new2", 3102);
  sg_smtp_lockout_fail(l, "new3", 3103);
  ASSERT(sg_smtp_lockout_locked(l, "k99", 3104)); /* the least recent ones went first */
  sg_smtp_lockout_del(l);

  sg_smtp_lockout_opts never = {0, 1000, 5000, 4};
  l = sg_smtp_lockout_new(&never);
  for (int i = 0; i < 10; i++)
    ASSERT(!sg_smtp_lockout_fail(l, "a", 1));
  ASSERT(!sg_smtp_lockout_locked(l, "a", 1));
  sg_smtp_lockout_del(l);
}

static void t_cache(void) {
  sg_smtp_auth_cache *c = sg_smtp_auth_cache_new(2, 1000);
  uint8_t m1[32], m2[32], m3[32], m4[32];
  sg_smtp_auth_cache_mac(c, "ab", "c", 1, m1);
  sg_smtp_auth_cache_mac(c, "a", "bc", 2, m2);
  ASSERT(memcmp(m1, m2, 32) != 0); /* the name/password boundary counts */
  sg_smtp_auth_cache_mac(c, "ab", "c", 1, m3);
  ASSERT_MEM_EQ(m1, m3, 32);
  ASSERT(!sg_smtp_auth_cache_hit(c, m1, 0));
  sg_smtp_auth_cache_put(c, m1, 100);
  ASSERT(sg_smtp_auth_cache_hit(c, m1, 1099));
  ASSERT(!sg_smtp_auth_cache_hit(c, m1, 1100)); /* expired */
  ASSERT(!sg_smtp_auth_cache_hit(c, m2, 500));
  sg_smtp_auth_cache_put(c, m2, 200);
  sg_smtp_auth_cache_mac(c, "x", "y", 1, m4);
  sg_smtp_auth_cache_put(c, m4, 300); /* full: the one expiring first (m1) goes */
  ASSERT_EQ(2, sg_smtp_auth_cache_size(c));
  ASSERT(!sg_smtp_auth_cache_hit(c, m1, 400));
  ASSERT(sg_smtp_auth_cache_hit(c, m2, 400) && sg_smtp_auth_cache_hit(c, m4, 400));
  sg_smtp_auth_cache_clear(c);
  ASSERT(!sg_smtp_auth_cache_hit(c, m2, 400));
  sg_smtp_auth_cache_del(c);
  /* Another process (another key) makes other macs. */
  sg_smtp_auth_cache *d = sg_smtp_auth_cache_new(2, 1000);
  sg_smtp_auth_cache_mac(d, "ab", "c", 1, m3);
  ASSERT(memcmp(m1, m3, 32) != 0);
  sg_smtp_auth_cache_del(d);
}

/* ---- the checker on a loop ---- */

typedef struct env {
  uv_loop_t loop;
  char dir[64], path[128];
  sg_smtp_auth *a;
} env;

static char hash_alice[SG_SMTP_PASSWD_HASH_CAP], hash_bob[SG_SMTP_PASSWD_HASH_CAP];

static void write_users(const char *path, bool with_carol) {
  if (hash_alice[0] == '\0') {
    ASSERT_OK(sg_smtp_passwd_hash("alice-pw", 8, hash_alice, sizeof hash_alice));
    ASSERT_OK(sg_smtp_passwd_hash("bob-pw", 6, hash_bob, sizeof hash_bob));
  }
  sg_smtp_users *u = sg_smtp_users_new();
  char err[300];
  const char *aa[] = {"alice@contoso.com"}, *ba[] = {"@bob.example"};
  ASSERT_OK(sg_smtp_users_put(u, "alice", hash_alice, aa, 1, "", false, err, sizeof err));
  ASSERT_OK(sg_smtp_users_put(u, "bob", hash_bob, ba, 1, "acct", false, err, sizeof err));
  if (with_carol)
    ASSERT_OK(sg_smtp_users_put(u, "carol", hash_bob, ba, 1, "", false, err, sizeof err));
  ASSERT_OK(sg_smtp_users_save(u, path, err, sizeof err));
  sg_smtp_users_free(u);
}

static void env_open(env *e, sg_smtp_auth_opts o) {
  memset(e, 0, sizeof *e);
  snprintf(e->dir, sizeof e->dir, "/tmp/sg-auth-test.XXXXXX");
  ASSERT_NOT_NULL(mkdtemp(e->dir));
  snprintf(e->path, sizeof e->path, "%s/users", e->dir);
  write_users(e->path, false);
  ASSERT_OK(uv_loop_init(&e->loop));
  o.users_file = e->path;
  ASSERT_OK(sg_smtp_auth_new(&e->loop, &o, &e->a));
}

static void env_close(env *e) {
  sg_smtp_auth_close(e->a);
  ASSERT_OK(uv_run(&e->loop, UV_RUN_DEFAULT)); /* the workers and timers finish */
  ASSERT_OK(uv_loop_close(&e->loop));
  unlink(e->path);
  rmdir(e->dir);
}

typedef struct answer {
  int calls;
  sg_smtp_auth_result res;
  char name[32], account[32];
  bool may_alice;
  uint64_t at_ms;
  uv_loop_t *loop;
} answer;

static void on_answer(sg_smtp_auth_result res, const sg_smtp_user *user, void *ud) {
  answer *an = ud;
  an->calls++;
  an->res = res;
  an->at_ms = uv_now(an->loop);
  if (user != NULL) {
    snprintf(an->name, sizeof an->name, "%s", user->name);
    snprintf(an->account, sizeof an->account, "%s", user->account);
    an->may_alice = sg_smtp_user_may_send_as(user, "alice@contoso.com");
  } else {
    an->name[0] = '\0';
  }
}

/* One check run to its answer; returns the answer. */
static answer check(env *e, const char *ip, const char *name, const char *pw) {
  answer an;
  memset(&an, 0, sizeof an);
  an.loop = &e->loop;
  uv_update_time(&e->loop);
  uint64_t start = uv_now(&e->loop);
  ASSERT_OK(sg_smtp_auth_check(e->a, ip, name, pw, strlen(pw), on_answer, &an, NULL));
  ASSERT_EQ(0, an.calls); /* never from inside the call */
  uv_run(&e->loop, UV_RUN_DEFAULT);
  ASSERT_EQ(1, an.calls);
  an.at_ms -= start;
  return an;
}

static sg_smtp_auth_stats stats(env *e) {
  sg_smtp_auth_stats s;
  sg_smtp_auth_get_stats(e->a, &s);
  return s;
}

static void t_ok_and_cache(void) {
  env e;
  env_open(&e, (sg_smtp_auth_opts){.fail_delay_ms = 1});
  answer an = check(&e, "192.0.2.1", "alice", "alice-pw");
  ASSERT_EQ(SG_SMTP_AUTH_OK, an.res);
  ASSERT_STR_EQ("alice", an.name);
  ASSERT(an.may_alice);
  ASSERT_EQ(1, stats(&e).hashed);
  an = check(&e, "192.0.2.1", "bob", "bob-pw");
  ASSERT_EQ(SG_SMTP_AUTH_OK, an.res);
  ASSERT_STR_EQ("acct", an.account);
  ASSERT(!an.may_alice);
  ASSERT_EQ(2, stats(&e).hashed);
  /* Again: answered from the cache, without hashing. */
  an = check(&e, "198.51.100.7", "alice", "alice-pw");
  ASSERT_EQ(SG_SMTP_AUTH_OK, an.res);
  ASSERT_STR_EQ("alice", an.name);
  sg_smtp_auth_stats s = stats(&e);
  ASSERT_EQ(2, s.hashed);
  ASSERT_EQ(1, s.cache_hits);
  ASSERT_EQ(3, s.ok);
  /* The cache holds a keyed hash of user and password: another password of
   * the same user, or the same password for another user, is checked. */
  an = check(&e, "192.0.2.1", "alice", "alice-pX");
  ASSERT_EQ(SG_SMTP_AUTH_BAD, an.res);
  ASSERT_EQ(3, stats(&e).hashed);
  an = check(&e, "192.0.2.1", "bob", "alice-pw");
  ASSERT_EQ(SG_SMTP_AUTH_BAD, an.res);
  ASSERT_EQ(4, stats(&e).hashed);
  ASSERT_EQ(2, stats(&e).bad);
  env_close(&e);
}

static void t_unknown_and_empty(void) {
  env e;
  env_open(&e, (sg_smtp_auth_opts){.fail_delay_ms = 1});
  answer an = check(&e, "192.0.2.1", "mallory", "alice-pw");
  ASSERT_EQ(SG_SMTP_AUTH_BAD, an.res);
  ASSERT_STR_EQ("", an.name);
  ASSERT_EQ(1, stats(&e).hashed); /* a dummy hash: as slow as a wrong password */
  an = check(&e, "192.0.2.1", "alice", "");
  ASSERT_EQ(SG_SMTP_AUTH_BAD, an.res);
  /* A password with a NUL in it never matches (crypt would stop there). */
  answer an2;
  memset(&an2, 0, sizeof an2);
  an2.loop = &e.loop;
  ASSERT_OK(
      sg_smtp_auth_check(e.a, "192.0.2.1", "alice", "alice-pw\0x", 10, on_answer, &an2, NULL));
  uv_run(&e.loop, UV_RUN_DEFAULT);
  ASSERT_EQ(1, an2.calls);
  ASSERT_EQ(SG_SMTP_AUTH_BAD, an2.res);
  env_close(&e);
}

static void t_fail_delay(void) {
  env e;
  env_open(&e, (sg_smtp_auth_opts){.fail_delay_ms = 300});
  answer an = check(&e, "192.0.2.1", "alice", "wrong");
  ASSERT_EQ(SG_SMTP_AUTH_BAD, an.res);
  ASSERT_GE(an.at_ms, 300);
  an = check(&e, "192.0.2.1", "nobody", "wrong");
  ASSERT_GE(an.at_ms, 300);
  env_close(&e);
}

static void t_lockout_on_loop(void) {
  env e;
  env_open(&e,
           (sg_smtp_auth_opts){.fail_delay_ms = 1, .lockout_failures = 3, .lockout_ms = 600000});
  for (int i = 0; i < 3; i++)
    ASSERT_EQ(SG_SMTP_AUTH_BAD, check(&e, "192.0.2.9", "nobody", "guess").res);
  ASSERT_EQ(3, stats(&e).hashed);
  /* The source is locked: even the right password is refused, unhashed. */
  answer an = check(&e, "192.0.2.9", "alice", "alice-pw");
  ASSERT_EQ(SG_SMTP_AUTH_LOCKED, an.res);
  ASSERT_GE(an.at_ms, 1); /* refusals are delayed too */
  ASSERT_EQ(3, stats(&e).hashed);
  ASSERT_EQ(1, stats(&e).locked);
  /* IPv6 counts by /64: another address of the same /64 is the same source. */
  for (int i = 0; i < 3; i++)
    check(&e, "2001:db8:1:2::1", "nobody6", "guess");
  ASSERT_EQ(SG_SMTP_AUTH_LOCKED, check(&e, "2001:db8:1:2:ffff::9", "alice", "alice-pw").res);
  ASSERT_EQ(SG_SMTP_AUTH_OK, check(&e, "2001:db8:1:3::1", "alice", "alice-pw").res);
  /* A v4-mapped address is its IPv4 address. */
  ASSERT_EQ(SG_SMTP_AUTH_LOCKED, check(&e, "::ffff:192.0.2.9", "alice", "alice-pw").res);
  /* Per user: failures from three sources lock bob, wherever he comes from. */
  check(&e, "203.0.113.1", "bob", "x");
  check(&e, "203.0.113.2", "bob", "x");
  check(&e, "203.0.113.3", "bob", "x");
  size_t hashed = stats(&e).hashed;
  ASSERT_EQ(SG_SMTP_AUTH_LOCKED, check(&e, "203.0.113.4", "bob", "bob-pw").res);
  ASSERT_EQ(hashed, stats(&e).hashed);
  ASSERT_EQ(SG_SMTP_AUTH_OK, check(&e, "203.0.113.4", "alice", "alice-pw").res);
  env_close(&e);
}

static void t_lockout_success_resets_user(void) {
  env e;
  env_open(&e, (sg_smtp_auth_opts){.fail_delay_ms = 1, .lockout_failures = 3});
  check(&e, "203.0.113.1", "alice", "x");
  check(&e, "203.0.113.2", "alice", "x");
  ASSERT_EQ(SG_SMTP_AUTH_OK, check(&e, "203.0.113.3", "alice", "alice-pw").res);
  check(&e, "203.0.113.4", "alice", "x");
  check(&e, "203.0.113.5", "alice", "x");
  /* Two failures since the success: not locked. */
  ASSERT_EQ(SG_SMTP_AUTH_BAD, check(&e, "203.0.113.6", "alice", "y").res);
  ASSERT_EQ(SG_SMTP_AUTH_LOCKED, check(&e, "203.0.113.7", "alice", "alice-pw").res);
  env_close(&e);
}

static void on_delay(uv_timer_t *t) {
  (void)t;
}

/* Lets |ms| pass on the loop's clock (a timer, not a sleep). */
static void let_time_pass(env *e, uint64_t ms) {
  uv_timer_t t;
  uv_timer_init(&e->loop, &t);
  uv_timer_start(&t, on_delay, ms, 0);
  uv_run(&e->loop, UV_RUN_DEFAULT);
  uv_close((uv_handle_t *)&t, NULL);
  uv_run(&e->loop, UV_RUN_DEFAULT);
}

static void t_reload(void) {
  env e;
  env_open(&e, (sg_smtp_auth_opts){.fail_delay_ms = 1, .reload_check_ms = 20});
  ASSERT_EQ(SG_SMTP_AUTH_BAD, check(&e, "192.0.2.1", "carol", "bob-pw").res);
  ASSERT_EQ(SG_SMTP_AUTH_OK, check(&e, "192.0.2.1", "alice", "alice-pw").res); /* now cached */
  write_users(e.path, true);
  let_time_pass(&e, 25);
  ASSERT_EQ(SG_SMTP_AUTH_OK, check(&e, "192.0.2.1", "carol", "bob-pw").res);
  ASSERT_EQ(1, stats(&e).reloads);
  /* The reload emptied the cache: alice is hashed again. */
  size_t hashed = stats(&e).hashed;
  ASSERT_EQ(SG_SMTP_AUTH_OK, check(&e, "192.0.2.1", "alice", "alice-pw").res);
  ASSERT_EQ(hashed + 1, stats(&e).hashed);
  /* A broken file is refused; the users loaded stay. */
  let_time_pass(&e, 25);
  FILE *f = fopen(e.path, "w");
  fputs("broken\n", f);
  fclose(f);
  ASSERT_EQ(SG_ERR_PARSE, sg_smtp_auth_reload(e.a));
  ASSERT_EQ(SG_SMTP_AUTH_OK, check(&e, "192.0.2.1", "bob", "bob-pw").res);
  ASSERT_EQ(1, stats(&e).reloads);
  env_close(&e);
}

static void t_reload_throttled(void) {
  env e;
  env_open(&e, (sg_smtp_auth_opts){.fail_delay_ms = 1, .reload_check_ms = 3600000});
  write_users(e.path, true);
  /* Not looked at again within reload_check_ms: carol is not known yet. */
  ASSERT_EQ(SG_SMTP_AUTH_BAD, check(&e, "192.0.2.1", "carol", "bob-pw").res);
  ASSERT_EQ(0, stats(&e).reloads);
  ASSERT_OK(sg_smtp_auth_reload(e.a)); /* forced, as on SIGHUP */
  ASSERT_EQ(1, stats(&e).reloads);
  ASSERT_EQ(SG_SMTP_AUTH_OK, check(&e, "192.0.2.1", "carol", "bob-pw").res);
  ASSERT_OK(sg_smtp_auth_reload(e.a)); /* unchanged: nothing read */
  ASSERT_EQ(1, stats(&e).reloads);
  env_close(&e);
}

static void t_cancel(void) {
  env e;
  env_open(&e, (sg_smtp_auth_opts){.fail_delay_ms = 200});
  answer an;
  memset(&an, 0, sizeof an);
  an.loop = &e.loop;
  /* Cancelled while on the thread pool. */
  sg_smtp_auth_req *r;
  ASSERT_OK(sg_smtp_auth_check(e.a, "192.0.2.1", "alice", "alice-pw", 8, on_answer, &an, &r));
  ASSERT_NOT_NULL(r);
  sg_smtp_auth_cancel(r);
  uv_run(&e.loop, UV_RUN_DEFAULT);
  ASSERT_EQ(0, an.calls);
  /* Cancelled while its refusal waits for the fail delay. */
  ASSERT_OK(sg_smtp_auth_check(e.a, "192.0.2.1", "alice", "wrong", 5, on_answer, &an, &r));
  size_t hashed = stats(&e).hashed;
  for (int i = 0; i < 1000 && stats(&e).hashed == hashed; i++)
    uv_run(&e.loop, UV_RUN_ONCE);
  ASSERT_EQ(hashed + 1, stats(&e).hashed);
  sg_smtp_auth_cancel(r);
  uv_run(&e.loop, UV_RUN_DEFAULT);
  ASSERT_EQ(0, an.calls);
  /* Cancelled while a cached answer is due. */
  answer ok = check(&e, "192.0.2.1", "bob", "bob-pw");
  ASSERT_EQ(SG_SMTP_AUTH_OK, ok.res);
  ASSERT_OK(sg_smtp_auth_check(e.a, "192.0.2.1", "bob", "bob-pw", 6, on_answer, &an, &r));
  sg_smtp_auth_cancel(r);
  uv_run(&e.loop, UV_RUN_DEFAULT);
  ASSERT_EQ(0, an.calls);
  env_close(&e);
}

static void t_close_in_flight(void) {
  env e;
  env_open(&e, (sg_smtp_auth_opts){.fail_delay_ms = 5000});
  answer an;
  memset(&an, 0, sizeof an);
  an.loop = &e.loop;
  for (int i = 0; i < 6; i++)
    ASSERT_OK(sg_smtp_auth_check(e.a, "192.0.2.1", i % 2 ? "alice" : "bob", "wrong", 5, on_answer,
                                 &an, NULL));
  /* Some of them reach the fail-delay timer first. */
  for (int i = 0; i < 1000 && stats(&e).hashed < 2; i++)
    uv_run(&e.loop, UV_RUN_ONCE);
  uv_update_time(&e.loop);
  uint64_t t0 = uv_now(&e.loop);
  env_close(&e); /* no callback; the loop ends without waiting for the 5 s delay */
  ASSERT_EQ(0, an.calls);
  uv_loop_t probe; /* the loop's clock is gone with it; measure with a fresh one */
  ASSERT_OK(uv_loop_init(&probe));
  ASSERT_LT(uv_now(&probe) - t0, 4000);
  ASSERT_OK(uv_loop_close(&probe));
}

static void t_tempfail(void) {
  env e;
  env_open(&e, (sg_smtp_auth_opts){.fail_delay_ms = 1, .max_pending = 1});
  answer a1, a2;
  memset(&a1, 0, sizeof a1);
  memset(&a2, 0, sizeof a2);
  a1.loop = a2.loop = &e.loop;
  ASSERT_OK(sg_smtp_auth_check(e.a, "192.0.2.1", "alice", "alice-pw", 8, on_answer, &a1, NULL));
  ASSERT_OK(sg_smtp_auth_check(e.a, "192.0.2.2", "bob", "bob-pw", 6, on_answer, &a2, NULL));
  uv_run(&e.loop, UV_RUN_DEFAULT);
  ASSERT_EQ(1, a1.calls);
  ASSERT_EQ(1, a2.calls);
  ASSERT_EQ(SG_SMTP_AUTH_OK, a1.res);
  ASSERT_EQ(SG_SMTP_AUTH_TEMPFAIL, a2.res);
  ASSERT_EQ(1, stats(&e).tempfail);
  env_close(&e);
}

static void t_new_errors(void) {
  uv_loop_t loop;
  ASSERT_OK(uv_loop_init(&loop));
  sg_smtp_auth *a = (sg_smtp_auth *)1;
  sg_smtp_auth_opts o = {.users_file = "/nonexistent/users"};
  ASSERT_EQ(SG_ERR_IO, sg_smtp_auth_new(&loop, &o, &a));
  ASSERT_NULL(a);
  o.users_file = NULL;
  ASSERT_EQ(SG_ERR_INVAL, sg_smtp_auth_new(&loop, &o, &a));
  ASSERT_OK(uv_loop_close(&loop));
}

SG_TESTS({"lockout", t_lockout}, {"cache", t_cache}, {"ok_and_cache", t_ok_and_cache},
         {"unknown_and_empty", t_unknown_and_empty}, {"fail_delay", t_fail_delay},
         {"lockout_on_loop", t_lockout_on_loop},
         {"lockout_success_resets_user", t_lockout_success_resets_user}, {"reload", t_reload},
         {"reload_throttled", t_reload_throttled}, {"cancel", t_cancel},
         {"close_in_flight", t_close_in_flight}, {"tempfail", t_tempfail},
         {"new_errors", t_new_errors})
