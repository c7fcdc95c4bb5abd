/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sg_rd_queue against a real, private redis-server: results on the default
 * (capped) or reply stream and the fallback when a reply stream refuses them,
 * the sent ledger (write in the completion, lookups of this and the previous
 * generation, identity by account and sender, the older layout, one script
 * call per batch of lookups), parking, dead letters, and the ledger's memory
 * per remembered message (100,000 writes as the gateway makes them, used_memory
 * from INFO memory; asserted <= 48 bytes).
 */
#include "harness.h"
#include "rd_test_loop.h"
#include "redis_server.h"

#include "core/sg_clock.h"
#include "core/sg_err.h"
#include "job/sg_job_codec.h"
#include "job/sg_result.h"
#include "redis/sg_rd_queue.h"

#include <uv.h>

#define MAXE 16

typedef struct ctx {
  uv_loop_t loop;
  uv_timer_t tick;
  sg_test_redis r;
  sg_rd_stream *s;
  sg_rd_queue *q;
  int n; /* entries received */
  char ids[MAXE][SG_RD_ID_MAX];
  int done_ok, done_err, last_err, stopped;
  int answers, hits;
  sg_rd_sent last_hit;
  int lookup_status;
} ctx;

static void on_entry(sg_rd_stream *s, const sg_rd_entry *e, void *ud) {
  (void)s;
  ctx *x = ud;
  ASSERT_LT(x->n, MAXE);
  snprintf(x->ids[x->n++], SG_RD_ID_MAX, "%s", e->id);
}

static void on_done(sg_rd_stream *s, int status, void *ud) {
  (void)s;
  ctx *x = ud;
  if (status == 0) {
    x->done_ok++;
  } else {
    x->done_err++;
    x->last_err = status;
  }
}

static void on_stopped(sg_rd_stream *s, void *ud) {
  (void)s;
  ((ctx *)ud)->stopped++;
}

/* A private Redis with |njobs| entries in sendgate:jobs, read by this
 * process, and a queue with |o| (ledger ttl 3600 s and 16 slots when 0). */
static void begin(ctx *x, int njobs, sg_rd_queue_opts o) {
  memset(x, 0, sizeof *x);
  ASSERT_OK(sg_test_redis_start(&x->r, NULL));
  for (int i = 0; i < njobs; i++)
    freeReplyObject(sg_test_redis_cmd(&x->r, "XADD sendgate:jobs * job j%d", i));
  sg_rd_test_loop_init(&x->loop, &x->tick, 20);
  char url[64];
  snprintf(url, sizeof url, "redis://127.0.0.1:%d", x->r.port);
  sg_rd_url u;
  ASSERT_OK(sg_rd_url_parse(url, &u));
  sg_rd_stream_opts so = {.consumer = "c1", .poll_ms = 10, .cmd_timeout_ms = 5000};
  sg_rd_stream_cbs cbs = {on_entry, x};
  ASSERT_OK(sg_rd_stream_new(&x->loop, &u, &so, &cbs, &x->s));
  sg_rd_stream_set_credit(x->s, MAXE);
  if (o.ledger_ttl_s == 0)
    o.ledger_ttl_s = 3600;
  if (o.ledger_slots == 0)
    o.ledger_slots = 16;
  ASSERT_OK(sg_rd_queue_new(x->s, &o, &x->q));
  /* Up, the queued jobs read, and a first read answered: its script is
   * loaded (one EVAL) before a test counts commands. */
  uint64_t end = uv_now(&x->loop) + 5000;
  sg_rd_stream_stats st = {0};
  while ((!sg_rd_stream_is_up(x->s) || x->n < njobs || st.reads == 0) && uv_now(&x->loop) < end) {
    uv_run(&x->loop, UV_RUN_ONCE);
    sg_rd_stream_get_stats(x->s, &st);
  }
  ASSERT_EQ(njobs, x->n);
  ASSERT_GE(st.reads, 1u);
}

static void finish(ctx *x) {
  sg_rd_stream_stop(x->s, on_stopped, x);
  sg_rd_test_run_until(&x->loop, &x->stopped, 1, 10000);
  sg_rd_queue_free(x->q);
  uv_close((uv_handle_t *)&x->tick, NULL);
  for (int i = 0; i < 100 && uv_loop_alive(&x->loop); i++)
    uv_run(&x->loop, UV_RUN_NOWAIT);
  ASSERT_OK(uv_loop_close(&x->loop));
  sg_test_redis_stop(&x->r);
}

static long long pending_count(ctx *x) {
  redisReply *p = sg_test_redis_cmd(&x->r, "XPENDING sendgate:jobs sendgate");
  long long n = p->element[0]->integer;
  freeReplyObject(p);
  return n;
}

static void encode_result(sg_status st, uint32_t attempts, int64_t done_ms, sg_buf *out) {
  sg_result r = {.job_id = "x",
                 .status = st,
                 .attempts = attempts,
                 .http_status = 202,
                 .completed_unix_ms = done_ms};
  sg_result_encode(&r, out);
}

/* ---- pure parts ---- */

static void t_pack_and_id(void) {
  sg_rd_sent s = {3, 202, 1765000000123, false}, u;
  sg_rd_sent_unpack(sg_rd_sent_pack(&s), &u);
  ASSERT_EQ(3, u.attempts);
  ASSERT_EQ(202, u.http_status);
  ASSERT_EQ(1765000000123, u.completed_unix_ms);
  ASSERT_GT(sg_rd_sent_pack(&s), 0); /* a positive int64: stored as one in a listpack */
  sg_rd_sent big = {1000, 5000, 1765000000123, false};
  sg_rd_sent_unpack(sg_rd_sent_pack(&big), &u);
  ASSERT_EQ(255, u.attempts);
  ASSERT_EQ(1023, u.http_status);
  ASSERT_EQ(1765000000123, u.completed_unix_ms);

  /* The id is SHA-256 of account NUL lower(sender) NUL id NUL: its first 8
   * bytes (big-endian) the field, the next 4 the slot hash. Fixed vectors
   * (Python's hashlib), so that the ledger written by one build is read by
   * the next. */
  sg_rd_ledger_id v;
  sg_rd_ledger_id_make("acct", "S@Contoso.com", "job-1", &v);
  ASSERT_EQ(-5143188734222166292, v.field);
  ASSERT_EQ(2204674198u, v.slot_hash);
  sg_rd_ledger_id_make("", "", "", &v);
  ASSERT_EQ(8115065177273508417, v.field);
  ASSERT_EQ(505341151u, v.slot_hash);

  sg_rd_ledger_id a, b, c, d, e;
  sg_rd_ledger_id_make("", "Sender@contoso.com", "id-1", &a);
  sg_rd_ledger_id_make("", "sender@CONTOSO.com", "id-1", &b);
  ASSERT_EQ(a.field, b.field); /* addresses compare without case */
  ASSERT_EQ(a.slot_hash, b.slot_hash);
  sg_rd_ledger_id_make("", "other@contoso.com", "id-1", &c);
  sg_rd_ledger_id_make("acct2", "sender@contoso.com", "id-1", &d);
  sg_rd_ledger_id_make("", "sender@contoso.com", "id-2", &e);
  ASSERT_NE(a.field, c.field);
  ASSERT_NE(a.field, d.field);
  ASSERT_NE(a.field, e.field);
  sg_rd_ledger_id f1, f2; /* the separator keeps the parts apart */
  sg_rd_ledger_id_make("ab", "c", "id", &f1);
  sg_rd_ledger_id_make("a", "bc", "id", &f2);
  ASSERT_NE(f1.field, f2.field);
}

/* ---- lookups ---- */

/* A lookup with its context. */
typedef struct probe {
  sg_rd_lookup l;
  ctx *x;
} probe;

static void on_lookup(sg_rd_lookup *l, int status, const sg_rd_sent *sent) {
  ctx *x = sg_container_of(l, probe, l)->x;
  x->answers++;
  x->lookup_status = status;
  if (sent) {
    x->hits++;
    x->last_hit = *sent;
  }
}

/* Looks (account, sender, id) up; returns whether it was found. */
static bool lookup(ctx *x, const char *account, const char *sender, const char *id) {
  probe p = {.x = x};
  sg_rd_ledger_id lid;
  sg_rd_ledger_id_make(account, sender, id, &lid);
  int want = x->answers + 1, hits = x->hits;
  sg_rd_queue_lookup(x->q, &p.l, &lid, id, on_lookup);
  sg_rd_queue_flush(x->q);
  sg_rd_test_run_until(&x->loop, &x->answers, want, 5000);
  ASSERT_OK(x->lookup_status);
  return x->hits > hits;
}

/* Calls of |cmd| (lower case) so far, from INFO commandstats; 0 when none. */
static long long cmd_calls(ctx *x, const char *cmd) {
  redisReply *st = sg_test_redis_cmd(&x->r, "INFO commandstats");
  ASSERT_NOT_NULL(st);
  char pat[64];
  snprintf(pat, sizeof pat, "cmdstat_%s:calls=", cmd);
  const char *p = strstr(st->str, pat);
  long long n = p ? atoll(p + strlen(pat)) : 0;
  freeReplyObject(st);
  return n;
}

static void t_finish_and_ledger(void) {
  ctx x;
  begin(&x, 3, (sg_rd_queue_opts){.results_maxlen = 100});
  ASSERT(!lookup(&x, "", "s@contoso.com", "job-1"));
  sg_rd_ledger_id lid;
  sg_rd_ledger_id_make("", "s@contoso.com", "job-1", &lid);
  int64_t now = sg_wall_ms();
  sg_rd_sent sent = {2, 202, now, false};
  sg_rd_completion c;
  ASSERT_OK(sg_rd_queue_finish(x.q, &c, x.ids[0], NULL, "res", 3, &lid, &sent, on_done, &x));
  sg_rd_test_run_until(&x.loop, &x.done_ok, 1, 5000);
  ASSERT_EQ(1, sg_test_redis_int(&x.r, "XLEN sendgate:results"));
  ASSERT_EQ(2, pending_count(&x)); /* the first entry is acked */
  /* On the default stream: the MULTI fast path, not the script. */
  ASSERT_EQ(1, cmd_calls(&x, "exec"));
  long long evals = cmd_calls(&x, "eval");
  /* The bucket: a listpack hash expiring between ttl and 2 x ttl from now. */
  char key[64];
  sg_rd_ledger_key(x.q, sg_rd_ledger_gen(x.q, now), &lid, key);
  ASSERT(strncmp(key, "sendgate:ledger:", 16) == 0);
  ASSERT_EQ(1, sg_test_redis_int(&x.r, "HLEN %s", key));
  redisReply *enc = sg_test_redis_cmd(&x.r, "OBJECT ENCODING %s", key);
  ASSERT_STR_EQ("listpack", enc->str);
  freeReplyObject(enc);
  long long ttl = sg_test_redis_int(&x.r, "TTL %s", key);
  ASSERT_GE(ttl, 3600 - 5);
  ASSERT_LE(ttl, 7200);
  /* Found for the same account, sender (any case) and id; not for others. */
  ASSERT(lookup(&x, "", "S@Contoso.com", "job-1"));
  ASSERT_EQ(2, x.last_hit.attempts);
  ASSERT_EQ(202, x.last_hit.http_status);
  ASSERT_EQ(now, x.last_hit.completed_unix_ms);
  ASSERT(!x.last_hit.legacy);
  ASSERT(!lookup(&x, "", "other@contoso.com", "job-1"));
  ASSERT(!lookup(&x, "acct2", "s@contoso.com", "job-1"));
  /* The reply stream, and no ledger without a record. */
  ASSERT_OK(sg_rd_queue_finish(x.q, &c, x.ids[1], "app:replies", "r2", 2, NULL, NULL, on_done, &x));
  sg_rd_test_run_until(&x.loop, &x.done_ok, 2, 5000);
  ASSERT_EQ(1, sg_test_redis_int(&x.r, "XLEN app:replies"));
  ASSERT_EQ(evals + 1, cmd_calls(&x, "eval")); /* a producer's stream: the script */
  ASSERT_EQ(1, cmd_calls(&x, "exec"));
  ASSERT_EQ(1, sg_test_redis_int(&x.r, "HLEN %s", key));
  /* A reply stream that refuses the result: it goes to the default stream, acked, one callback. */
  freeReplyObject(sg_test_redis_cmd(&x.r, "SET app:notastream x"));
  ASSERT_OK(
      sg_rd_queue_finish(x.q, &c, x.ids[2], "app:notastream", "r3", 2, NULL, NULL, on_done, &x));
  sg_rd_test_run_until(&x.loop, &x.done_ok, 3, 5000);
  ASSERT_EQ(0, x.done_err);
  ASSERT_EQ(2, sg_test_redis_int(&x.r, "XLEN sendgate:results"));
  ASSERT_EQ(0, pending_count(&x));
  finish(&x);
}

static void t_generations_and_legacy(void) {
  ctx x;
  begin(&x, 0, (sg_rd_queue_opts){0});
  int64_t now = sg_wall_ms();
  int64_t gen = sg_rd_ledger_gen(x.q, now);
  ASSERT_EQ(now / 1000 / 3600, gen);
  /* Written in the previous generation (as an hour ago): still found. */
  sg_rd_ledger_id lid;
  sg_rd_ledger_id_make("", "s@contoso.com", "old-gen", &lid);
  char key[64];
  sg_rd_ledger_key(x.q, gen - 1, &lid, key);
  sg_rd_sent s = {1, 202, now - 3600000, false};
  freeReplyObject(sg_test_redis_cmd(&x.r, "HSET %s %lld %lld", key, (long long)lid.field,
                                    (long long)sg_rd_sent_pack(&s)));
  ASSERT(lookup(&x, "", "s@contoso.com", "old-gen"));
  ASSERT_EQ(now - 3600000, x.last_hit.completed_unix_ms);
  /* Two generations back: forgotten. */
  sg_rd_ledger_id_make("", "s@contoso.com", "older", &lid);
  sg_rd_ledger_key(x.q, gen - 2, &lid, key);
  freeReplyObject(sg_test_redis_cmd(&x.r, "HSET %s %lld %lld", key, (long long)lid.field,
                                    (long long)sg_rd_sent_pack(&s)));
  ASSERT(!lookup(&x, "", "s@contoso.com", "older"));
  /* The older layout: a SENT MailResult under sendgate:sent:<id> is honoured, others not. */
  sg_buf b = SG_BUF_INIT;
  encode_result(SG_STATUS_SENT, 4, 1700000000000, &b);
  freeReplyObject(sg_test_redis_cmd(&x.r, "SET sendgate:sent:legacy-1 %b", b.data, b.len));
  ASSERT(lookup(&x, "any", "any@contoso.com", "legacy-1"));
  ASSERT(x.last_hit.legacy);
  ASSERT_EQ(4, x.last_hit.attempts);
  ASSERT_EQ(202, x.last_hit.http_status);
  ASSERT_EQ(1700000000000, x.last_hit.completed_unix_ms);
  sg_buf_reset(&b);
  encode_result(SG_STATUS_FAILED, 1, 1, &b);
  freeReplyObject(sg_test_redis_cmd(&x.r, "SET sendgate:sent:legacy-2 %b", b.data, b.len));
  ASSERT(!lookup(&x, "", "s@contoso.com", "legacy-2"));
  freeReplyObject(sg_test_redis_cmd(&x.r, "HSET sendgate:sent:legacy-3 a b")); /* another type */
  ASSERT(!lookup(&x, "", "s@contoso.com", "legacy-3"));
  sg_buf_free(&b);
  /* Switched off: the older layout is not looked at. */
  sg_rd_queue *nl;
  ASSERT_OK(
      sg_rd_queue_new(x.s, &(sg_rd_queue_opts){.ledger_ttl_s = 3600, .no_legacy = true}, &nl));
  sg_rd_queue *keep = x.q;
  x.q = nl;
  ASSERT(!lookup(&x, "any", "any@contoso.com", "legacy-1"));
  x.q = keep;
  sg_rd_queue_free(nl);
  /* A ttl beyond reason is cut to SG_RD_LEDGER_TTL_MAX: the bucket's EXPIREAT stays valid. */
  sg_rd_queue *big;
  ASSERT_OK(sg_rd_queue_new(x.s, &(sg_rd_queue_opts){.ledger_ttl_s = INT64_MAX}, &big));
  sg_rd_ledger_write w;
  sg_rd_ledger_write_init(big, &w, &lid, &s, now);
  ASSERT_OK(sg_rd_stream_publish(x.s, w.ops, w.nops, on_done, &x));
  sg_rd_test_run_until(&x.loop, &x.done_ok, 1, 5000);
  ASSERT_EQ(0, x.done_err);
  sg_rd_ledger_key(big, sg_rd_ledger_gen(big, now), &lid, key);
  ASSERT_GT(sg_test_redis_int(&x.r, "TTL %s", key), 3000000000LL);
  sg_rd_queue_free(big);
  finish(&x);
}

/* A lookup that keeps its own answer. */
typedef struct own_probe {
  sg_rd_lookup l;
  ctx *x;
  int status, hit, answered;
} own_probe;

static void on_own_lookup(sg_rd_lookup *l, int status, const sg_rd_sent *sent) {
  own_probe *p = sg_container_of(l, own_probe, l);
  p->status = status;
  p->hit = sent != NULL;
  p->answered++;
  p->x->answers++;
}

/* A bucket of another type answers its own job SG_ERR_REDIS; the jobs around
 * it in the same batch are answered as usual (one found, one not). */
/* A default results stream that holds another type refuses the result. Still
 * trusted (before the gateway's trimmer has looked), the completion goes in
 * the MULTI, whose guarded ack leaves the job pending instead of acked with
 * its result lost; not trusted (after the look), by the script, which does
 * the same per job. */
static void t_default_refused(void) {
  ctx x;
  begin(&x, 3, (sg_rd_queue_opts){0});
  freeReplyObject(sg_test_redis_cmd(&x.r, "SET sendgate:results x"));
  sg_rd_completion c;
  ASSERT_OK(sg_rd_queue_finish(x.q, &c, x.ids[2], NULL, "r0", 2, NULL, NULL, on_done, &x));
  sg_rd_test_run_until(&x.loop, &x.done_err, 1, 5000);
  ASSERT_EQ(0, x.done_ok);
  ASSERT_EQ(3, pending_count(&x)); /* still pending */
  ASSERT_EQ(1, cmd_calls(&x, "exec"));
  ASSERT_EQ(0, cmd_calls(&x, "xack"));
  long long evals = cmd_calls(&x, "eval");
  sg_rd_queue_set_default_trusted(x.q, false);
  ASSERT_OK(sg_rd_queue_finish(x.q, &c, x.ids[0], NULL, "r1", 2, NULL, NULL, on_done, &x));
  sg_rd_test_run_until(&x.loop, &x.done_err, 2, 5000);
  ASSERT_EQ(0, x.done_ok);
  ASSERT_EQ(3, pending_count(&x)); /* still pending */
  ASSERT_EQ(1, cmd_calls(&x, "exec"));
  ASSERT_EQ(evals + 1, cmd_calls(&x, "eval"));
  /* The key a stream again and trusted: the fast path. */
  freeReplyObject(sg_test_redis_cmd(&x.r, "DEL sendgate:results"));
  sg_rd_queue_set_default_trusted(x.q, true);
  ASSERT_OK(sg_rd_queue_finish(x.q, &c, x.ids[1], NULL, "r2", 2, NULL, NULL, on_done, &x));
  sg_rd_test_run_until(&x.loop, &x.done_ok, 1, 5000);
  ASSERT_EQ(2, cmd_calls(&x, "exec"));
  ASSERT_EQ(2, pending_count(&x));
  ASSERT_EQ(1, sg_test_redis_int(&x.r, "XLEN sendgate:results"));
  finish(&x);
}

static void t_lookup_refused_bucket(void) {
  ctx x;
  begin(&x, 0, (sg_rd_queue_opts){0});
  int64_t now = sg_wall_ms(), gen = sg_rd_ledger_gen(x.q, now);
  const char *ids[3] = {"rb-0", "rb-1", "rb-2"};
  sg_rd_ledger_id lid[3];
  for (int i = 0; i < 3; i++)
    sg_rd_ledger_id_make("", "s@contoso.com", ids[i], &lid[i]);
  char key[64];
  sg_rd_ledger_key(x.q, gen, &lid[0], key);
  sg_rd_sent s = {2, 202, now, false};
  freeReplyObject(sg_test_redis_cmd(&x.r, "HSET %s %lld %lld", key, (long long)lid[0].field,
                                    (long long)sg_rd_sent_pack(&s)));
  sg_rd_ledger_key(x.q, gen - 1, &lid[1], key);
  ASSERT(lid[1].slot_hash % SG_RD_LEDGER_SLOTS_DEFAULT !=
         lid[0].slot_hash % SG_RD_LEDGER_SLOTS_DEFAULT);
  freeReplyObject(sg_test_redis_cmd(&x.r, "SET %s not-a-hash", key));
  own_probe r[3];
  for (int i = 0; i < 3; i++) {
    r[i] = (own_probe){.x = &x};
    sg_rd_queue_lookup(x.q, &r[i].l, &lid[i], ids[i], on_own_lookup);
  }
  sg_rd_queue_flush(x.q);
  sg_rd_test_run_until(&x.loop, &x.answers, 3, 5000);
  for (int i = 0; i < 3; i++)
    ASSERT_EQ(1, r[i].answered);
  ASSERT_OK(r[0].status);
  ASSERT(r[0].hit);
  ASSERT_EQ(SG_ERR_REDIS, r[1].status);
  ASSERT(!r[1].hit);
  ASSERT_OK(r[2].status);
  ASSERT(!r[2].hit);
  finish(&x);
}

/* 1,200 lookups queued in one turn go out as native commands in 3 batches
 * (512 per batch, one HLEN each), no script, and a cancelled one gets no answer. */
static void t_lookup_batching(void) {
  ctx x;
  begin(&x, 0, (sg_rd_queue_opts){0});
  enum { N = 1200 };
  probe *p = sg_xcalloc(N, sizeof *p);
  char ids[N][16];
  freeReplyObject(sg_test_redis_cmd(&x.r, "CONFIG RESETSTAT"));
  for (int i = 0; i < N; i++) {
    snprintf(ids[i], sizeof ids[i], "b-%d", i);
    sg_rd_ledger_id lid;
    sg_rd_ledger_id_make("", "s@contoso.com", ids[i], &lid);
    p[i].x = &x;
    sg_rd_queue_lookup(x.q, &p[i].l, &lid, ids[i], on_lookup);
  }
  ASSERT(sg_rd_queue_lookup_cancel(&p[7].l));
  ASSERT(!sg_rd_queue_lookup_cancel(&p[7].l));
  sg_rd_queue_flush(x.q);
  ASSERT(!sg_rd_queue_lookup_cancel(&p[8].l)); /* sent: too late */
  sg_rd_test_run_until(&x.loop, &x.answers, N - 1, 10000);
  ASSERT_EQ(0, x.hits);
  redisReply *st = sg_test_redis_cmd(&x.r, "INFO commandstats");
  ASSERT(strstr(st->str, "cmdstat_eval") == NULL);
  ASSERT(strstr(st->str, "cmdstat_hget:calls=2398,") != NULL); /* 2 generations each */
  ASSERT(strstr(st->str, "cmdstat_hlen:calls=3,") != NULL);    /* one bucket's fill per batch */
  ASSERT(strstr(st->str, "cmdstat_get:calls=1199,") != NULL);  /* the older layout */
  double us = 0;
  for (const char *const *c = (const char *const[]){"hget", "hlen", "get", NULL}; *c; c++) {
    char pat[48];
    snprintf(pat, sizeof pat, "cmdstat_%s:calls=", *c);
    const char *at = strstr(st->str, pat), *u = at ? strstr(at, "usec=") : NULL;
    ASSERT(u != NULL);
    us += atof(u + 5);
  }
  fprintf(stderr, "ledger lookups: %.2f us of Redis time each (misses, older layout on)\n",
          us / (N - 1));
  freeReplyObject(st);
  sg_free(p);
  finish(&x);
}

/* Lookups sample how full the buckets are, so a ledger_slots too small for
 * the volume shows (buckets beyond a listpack's 128 fields). */
static void t_bucket_fill(void) {
  ctx x;
  begin(&x, 0, (sg_rd_queue_opts){.ledger_slots = 1});
  ASSERT(!lookup(&x, "", "s@contoso.com", "f-0"));
  ASSERT_EQ(0, sg_rd_queue_ledger_fill(x.q));
  int64_t now = sg_wall_ms();
  size_t expires = 0;
  for (int i = 0; i < 130; i++) {
    char id[16];
    snprintf(id, sizeof id, "f-%d", i);
    sg_rd_ledger_id lid;
    sg_rd_ledger_id_make("", "s@contoso.com", id, &lid);
    sg_rd_sent s = {1, 202, now, false};
    sg_rd_ledger_write w;
    sg_rd_ledger_write_init(x.q, &w, &lid, &s, now);
    expires += w.nops == 2;
    ASSERT_OK(sg_rd_stream_publish(x.s, w.ops, w.nops, on_done, &x));
  }
  sg_rd_test_run_until(&x.loop, &x.done_ok, 130, 5000);
  ASSERT_EQ(1, expires); /* one bucket: its EXPIREAT went with the first write only */
  ASSERT(lookup(&x, "", "s@contoso.com", "f-129"));
  ASSERT_EQ(130, sg_rd_queue_ledger_fill(x.q));
  finish(&x);
}

/* ---- parking and dead letters ---- */

static void t_park_and_reject(void) {
  ctx x;
  begin(&x, 2, (sg_rd_queue_opts){0});
  ASSERT_OK(sg_rd_queue_park(x.q, x.ids[0], 12345, 3, "jobbytes", 8, on_done, &x));
  sg_rd_test_run_until(&x.loop, &x.done_ok, 1, 5000);
  redisReply *z = sg_test_redis_cmd(&x.r, "ZRANGE sendgate:delayed 0 -1 WITHSCORES");
  ASSERT_EQ(2, z->elements);
  char member[64];
  snprintf(member, sizeof member, "%s|3|jobbytes", x.ids[0]);
  ASSERT_STR_EQ(member, z->element[0]->str);
  ASSERT_STR_EQ("12345", z->element[1]->str);
  freeReplyObject(z);
  sg_rd_field f = {"job", 3, "j1", 2};
  sg_rd_entry e = {.id = x.ids[1], .fields = &f, .nfields = 1};
  ASSERT_OK(sg_rd_queue_reject(x.q, &e, "SENDGATE_UNDECODABLE", "inv", 3, on_done, &x));
  sg_rd_test_run_until(&x.loop, &x.done_ok, 2, 5000);
  redisReply *d = sg_test_redis_cmd(&x.r, "XRANGE sendgate:dead - +");
  ASSERT_EQ(1, d->elements);
  const redisReply *fv = d->element[0]->element[1];
  ASSERT_EQ(4, fv->elements);
  ASSERT_STR_EQ("reason", fv->element[2]->str);
  ASSERT_STR_EQ("SENDGATE_UNDECODABLE", fv->element[3]->str);
  freeReplyObject(d);
  ASSERT_EQ(1, sg_test_redis_int(&x.r, "XLEN sendgate:results"));
  ASSERT_EQ(0, pending_count(&x));
  finish(&x);
}

static void t_dead_expired(void) {
  ctx x;
  begin(&x, 1, (sg_rd_queue_opts){0});
  sg_job job = {.id = "dl-1",
                .account = "",
                .sender = "s@b.example",
                .subject = "s",
                .text_body = "b",
                .html_body = "",
                .reply_stream = "app:replies",
                .campaign_id = ""};
  sg_buf jb = SG_BUF_INIT;
  sg_job_encode(&job, &jb);
  sg_rd_field f = {"job", 3, jb.data, jb.len};
  sg_rd_entry e = {.id = x.ids[0], .fields = &f, .nfields = 1};
  ASSERT_OK(sg_rd_queue_dead_expired(x.q, &e, 7, 5, on_done, &x));
  sg_rd_test_run_until(&x.loop, &x.done_ok, 1, 5000);
  redisReply *d = sg_test_redis_cmd(&x.r, "XRANGE sendgate:dead - +");
  ASSERT_EQ(1, d->elements);
  const redisReply *fv = d->element[0]->element[1];
  ASSERT_EQ(6, fv->elements);
  ASSERT_STR_EQ("deliveries", fv->element[2]->str);
  ASSERT_STR_EQ("7", fv->element[3]->str);
  ASSERT_STR_EQ(SG_RD_REASON_MAX_DELIVERIES, fv->element[5]->str);
  freeReplyObject(d);
  redisReply *r = sg_test_redis_cmd(&x.r, "XRANGE app:replies - +");
  ASSERT_EQ(1, r->elements);
  sg_result_msg *m;
  const redisReply *rv = r->element[0]->element[1]->element[1];
  ASSERT_OK(sg_result_decode((const uint8_t *)rv->str, rv->len, &m));
  ASSERT_STR_EQ("dl-1", sg_result_msg_view(m)->job_id);
  ASSERT_EQ(SG_STATUS_EXPIRED, sg_result_msg_view(m)->status);
  ASSERT_STR_EQ(SG_RD_ERR_MAX_DELIVERIES, sg_result_msg_view(m)->error_code);
  sg_result_msg_free(m);
  freeReplyObject(r);
  ASSERT_EQ(0, pending_count(&x));
  sg_buf_free(&jb);
  finish(&x);
}

/* ---- memory per remembered message ---- */

static long long used_memory(ctx *x) {
  redisReply *r = sg_test_redis_cmd(&x->r, "INFO memory");
  const char *p = strstr(r->str, "used_memory:");
  long long v = p ? atoll(p + 12) : -1;
  freeReplyObject(r);
  return v;
}

/* Writes |n| ledger entries as the gateway's completions do (HSETNX +
 * EXPIREAT through the completion script, 2,000 queued per loop turn) and
 * returns used_memory's growth per entry. */
static double bytes_per_entry(uint32_t slots, int n) {
  ctx x;
  begin(&x, 0, (sg_rd_queue_opts){.ledger_ttl_s = 604800, .ledger_slots = slots});
  long long before = used_memory(&x);
  int64_t now = sg_wall_ms();
  for (int i = 0; i < n;) {
    int upto = i + 2000 < n ? i + 2000 : n;
    for (; i < upto; i++) {
      char id[32];
      snprintf(id, sizeof id, "msg-%d", i);
      sg_rd_ledger_id lid;
      sg_rd_ledger_id_make("", "sender@contoso.com", id, &lid);
      sg_rd_sent s = {1, 202, now + i, false};
      sg_rd_ledger_write w;
      sg_rd_ledger_write_init(x.q, &w, &lid, &s, now);
      ASSERT_OK(sg_rd_stream_publish(x.s, w.ops, w.nops, on_done, &x));
    }
    sg_rd_test_run_until(&x.loop, &x.done_ok, i, 20000);
  }
  ASSERT_EQ(0, x.done_err);
  ASSERT_EQ(n, sg_test_redis_int(&x.r, "EVAL %s 0",
                                 "local n=0 for _,k in ipairs(redis.call("
                                 "'KEYS','sendgate:ledger:*')) do n=n+"
                                 "redis.call('HLEN',k) end return n"));
  double per = (double)(used_memory(&x) - before) / n;
  long long keys = sg_test_redis_int(&x.r, "DBSIZE") - 1;
  fprintf(stderr, "ledger: %d entries, %u slots, %lld buckets: %.1f bytes of used_memory each\n", n,
          slots, keys, per);
  finish(&x);
  return per;
}

static void t_memory_per_message(void) {
  /* Sized as documented (slots >= entries per ttl / 64): 100,000 / 64 -> 2048. */
  ASSERT_LE(bytes_per_entry(2048, 100000), 48.0);
}

/* The draft record of a large Graph message: absent, written with a TTL,
 * read back, overwritten; keyed by the ledger id, so another account or
 * sender with the same job id has its own. */
typedef struct draft_answer {
  int n, status;
  char value[64];
  bool none;
} draft_answer;

static void on_draft(void *ud, int status, const char *value, size_t len) {
  draft_answer *a = ud;
  a->n++;
  a->status = status;
  a->none = value == NULL;
  snprintf(a->value, sizeof a->value, "%.*s", (int)len, value ? value : "");
}

static void t_draft_record(void) {
  ctx x;
  begin(&x, 0, (sg_rd_queue_opts){0});
  sg_rd_ledger_id id, other;
  sg_rd_ledger_id_make("", "big@contoso.com", "job-1", &id);
  sg_rd_ledger_id_make("acct2", "big@contoso.com", "job-1", &other);
  draft_answer a = {0};
  ASSERT_OK(sg_rd_queue_draft_get(x.q, &id, on_draft, &a));
  ASSERT_EQ(0, a.n); /* never from inside the call */
  sg_rd_test_run_until(&x.loop, &a.n, 1, 5000);
  ASSERT(a.status == 0 && a.none);
  ASSERT_OK(sg_rd_queue_draft_set(x.q, &id, "d AAMk=1", 8, 600, on_draft, &a));
  sg_rd_test_run_until(&x.loop, &a.n, 2, 5000);
  ASSERT_EQ(0, a.status);
  ASSERT_OK(sg_rd_queue_draft_get(x.q, &id, on_draft, &a));
  sg_rd_test_run_until(&x.loop, &a.n, 3, 5000);
  ASSERT_STR_EQ("d AAMk=1", a.value);
  char key[SG_RD_DRAFT_KEY_MAX];
  ASSERT_EQ(strlen(SG_RD_DRAFT_PREFIX) + 24, sg_rd_draft_key(&id, key));
  char cmd[128];
  snprintf(cmd, sizeof cmd, "TTL %s", key);
  long long ttl = sg_test_redis_int(&x.r, cmd);
  ASSERT(ttl > 590 && ttl <= 600);
  ASSERT_OK(sg_rd_queue_draft_set(x.q, &id, "s AAMk=1", 8, 600, on_draft, &a));
  sg_rd_test_run_until(&x.loop, &a.n, 4, 5000);
  ASSERT_OK(sg_rd_queue_draft_get(x.q, &id, on_draft, &a));
  sg_rd_test_run_until(&x.loop, &a.n, 5, 5000);
  ASSERT_STR_EQ("s AAMk=1", a.value);
  ASSERT_OK(sg_rd_queue_draft_get(x.q, &other, on_draft, &a));
  sg_rd_test_run_until(&x.loop, &a.n, 6, 5000);
  ASSERT(a.none);
  /* Redis gone: the call fails or the answer is an error, never a value. */
  sg_test_redis_stop(&x.r);
  a.status = 0;
  int before = a.n;
  if (sg_rd_queue_draft_get(x.q, &id, on_draft, &a) == 0)
    sg_rd_test_run_until(&x.loop, &a.n, before + 1, 10000);
  else
    a.status = -1;
  ASSERT(a.status != 0);
  sg_rd_stream_stop(x.s, on_stopped, &x);
  sg_rd_test_run_until(&x.loop, &x.stopped, 1, 10000);
  sg_rd_queue_free(x.q);
  uv_close((uv_handle_t *)&x.tick, NULL);
  for (int i = 0; i < 100 && uv_loop_alive(&x.loop); i++)
    uv_run(&x.loop, UV_RUN_NOWAIT);
  ASSERT_OK(uv_loop_close(&x.loop));
}

SG_TESTS({"draft_record", t_draft_record}, {"pack_and_id", t_pack_and_id},
         {"finish_and_ledger", t_finish_and_ledger},
         {"generations_and_legacy", t_generations_and_legacy},
         {"lookup_batching", t_lookup_batching}, {"lookup_refused_bucket", t_lookup_refused_bucket},
         {"bucket_fill", t_bucket_fill}, {"park_and_reject", t_park_and_reject},
         {"dead_expired", t_dead_expired}, {"memory_per_message", t_memory_per_message},
         {"default_refused", t_default_refused})
