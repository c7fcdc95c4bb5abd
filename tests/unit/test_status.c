/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the status document (app/sg_status_render.c), the group
 * reply parser behind the lag gauges (sg_rd_group_info_parse) and the
 * `sendgate status` screen (cli/sg_status_screen.c): snapshots made by hand,
 * rendered, parsed back with the project's JSON parser and checked.
 */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "app/sg_status.h"
#include "app/sg_status_app.h"
#include "redis/sg_rd_group_info.h"
#include "cli/sg_status_client.h"
#include "cli/sg_status_screen.h"
#include "core/sg_json_write.h"
#include "json/sg_json.h"

#define NOW 1796616000000LL /* 2026-12-07T04:00:00Z */

static void lane(sg_status_lane *l, const char *key, const char *mailbox, uint64_t queued) {
  memset(l, 0, sizeof *l);
  snprintf(l->key, sizeof l->key, "%s", key);
  snprintf(l->backend, sizeof l->backend, "graph");
  snprintf(l->mailbox, sizeof l->mailbox, "%s", mailbox);
  l->state = "ready";
  l->cap = 4;
  l->queued = queued;
}

/* A gateway with two lanes (one paused), held jobs, one token, one pool. */
static void snapshot(sg_status_snap *s, sg_status_lane lanes[2], sg_status_token *tok,
                     sg_status_pool *pool) {
  memset(s, 0, sizeof *s);
  s->version = "1.2.3";
  s->pid = 4242;
  s->now = NOW;
  s->started_at = NOW - 3723000; /* 1h02m03s */
  s->consumer = "gw-\"1\"";      /* escaped in JSON */
  s->group = "sendgate";
  s->stream = "sendgate:jobs";
  s->redis = (sg_status_redis){.connected = true,
                               .reconnects = 2,
                               .group_known = true,
                               .lag = 17,
                               .pending = 5,
                               .delayed = 3,
                               .sampled_at = NOW - 500};
  lane(&lanes[0], "graph||a@contoso.com", "a@contoso.com", 12);
  lanes[0].state = "paused";
  lanes[0].paused_until = NOW + 42000;
  lanes[0].pause_reason = "throttled by the provider (Retry-After)";
  lanes[0].windows[0] = (sg_status_window){"requests", 10000, 10000, 600000, NOW + 1500};
  lanes[0].nwindows = 1;
  lane(&lanes[1], "graph||b@contoso.com", "b@contoso.com", 0);
  lanes[1].inflight = 4;
  lanes[1].state = "at_cap";
  s->lanes = lanes;
  s->nlanes = 2;
  s->lanes_total = 7;
  s->lanes_waiting = 2;
  s->jobs.count[SG_STATUS_JOB_QUEUED] = 12;
  s->jobs.oldest[SG_STATUS_JOB_QUEUED] = NOW - 190000;
  s->jobs.count[SG_STATUS_JOB_IN_FLIGHT] = 4;
  s->jobs.oldest[SG_STATUS_JOB_IN_FLIGHT] = NOW - 800;
  s->jobs.total = 16;
  memset(tok, 0, sizeof *tok);
  tok->backend = "graph";
  tok->state = "valid";
  tok->valid_until = NOW + 3600000;
  s->tokens = tok;
  s->ntokens = 1;
  memset(pool, 0, sizeof *pool);
  snprintf(pool->origin, sizeof pool->origin, "graph.microsoft.com:443");
  pool->label = "graph";
  pool->conns_open = 2;
  pool->streams = 4;
  s->pools = pool;
  s->npools = 1;
  s->totals = (sg_status_totals){.fetched = 100, .sent = 80, .failed = 1, .retries = 9};
}

static sg_json_doc *render(const sg_status_snap *s, sg_buf *b) {
  sg_buf_init(b);
  sg_status_render(b, s);
  ASSERT(b->len > 0 && b->data[b->len - 1] == '\n');
  sg_json_doc *doc = NULL;
  char err[200];
  ASSERT_OK(sg_json_parse(&doc, b->data, b->len, 0, err, sizeof err));
  return doc;
}

static int64_t get_int(const sg_json *o, const char *k) {
  int64_t v = -12345;
  ASSERT(sg_json_int(sg_json_get(o, k), &v));
  return v;
}

static void t_document(void) {
  sg_status_snap s;
  sg_status_lane lanes[2];
  sg_status_token tok;
  sg_status_pool pool;
  snapshot(&s, lanes, &tok, &pool);
  sg_buf b;
  sg_json_doc *doc = render(&s, &b);
  const sg_json *r = sg_json_root(doc);
  ASSERT_STR_EQ("sendgate.status", sg_json_str(sg_json_get(r, "kind")));
  const sg_json *p = sg_json_get(r, "process");
  ASSERT_STR_EQ("gw-\"1\"", sg_json_str(sg_json_get(p, "consumer")));
  ASSERT_EQ(3723, get_int(p, "uptime_s"));
  ASSERT_EQ(NOW, get_int(p, "now_ms"));
  const sg_json *rd = sg_json_get(r, "redis");
  ASSERT_EQ(17, get_int(rd, "lag"));
  ASSERT_EQ(5, get_int(rd, "pending"));
  ASSERT_EQ(3, get_int(rd, "delayed"));
  const sg_json *ls = sg_json_get(r, "lanes");
  ASSERT_EQ(7, get_int(ls, "total"));
  ASSERT_EQ(2, get_int(ls, "listed"));
  ASSERT_EQ(5, get_int(ls, "not_listed"));
  const sg_json *l0 = sg_json_get(ls, "list")->child;
  ASSERT_STR_EQ("paused", sg_json_str(sg_json_get(l0, "state")));
  ASSERT_STR_EQ("default", sg_json_str(sg_json_get(l0, "account")));
  ASSERT_EQ(NOW + 42000, get_int(l0, "paused_until_ms"));
  ASSERT_STR_EQ("2026-12-07T04:00:42.000Z", sg_json_str(sg_json_get(l0, "paused_until")));
  const sg_json *w = sg_json_get(l0, "windows")->child;
  ASSERT_STR_EQ("requests", sg_json_str(sg_json_get(w, "name")));
  ASSERT_EQ(10000, get_int(w, "used"));
  ASSERT_EQ(NOW + 1500, get_int(w, "frees_ms"));
  const sg_json *l1 = l0->next;
  ASSERT_EQ(SG_JSON_NULL, sg_json_get(l1, "paused_until_ms")->type);
  ASSERT_EQ(SG_JSON_NULL, sg_json_get(l1, "pause_reason")->type);
  const sg_json *j = sg_json_get(r, "jobs");
  ASSERT_EQ(16, get_int(j, "total"));
  ASSERT_EQ(12, get_int(sg_json_get(j, "queued"), "count"));
  ASSERT_EQ(190000, get_int(sg_json_get(j, "queued"), "oldest_age_ms"));
  ASSERT_EQ(SG_JSON_NULL, sg_json_get(sg_json_get(j, "retry_wait"), "oldest_age_ms")->type);
  const sg_json *t = sg_json_get(r, "tokens")->child;
  ASSERT_STR_EQ("valid", sg_json_str(sg_json_get(t, "state")));
  ASSERT_EQ(NOW + 3600000, get_int(t, "valid_until_ms"));
  ASSERT_EQ(4, get_int(sg_json_get(r, "connections")->child, "streams"));
  ASSERT_EQ(80, get_int(sg_json_get(r, "totals"), "sent"));
  sg_json_doc_free(doc);
  sg_buf_free(&b);
}

static void t_unknown_lag(void) {
  sg_status_snap s;
  memset(&s, 0, sizeof s);
  s.version = "x";
  s.redis.lag = -1; /* never sampled */
  sg_buf b;
  sg_json_doc *doc = render(&s, &b);
  const sg_json *rd = sg_json_get(sg_json_root(doc), "redis");
  ASSERT_EQ(SG_JSON_NULL, sg_json_get(rd, "lag")->type);
  ASSERT_EQ(SG_JSON_NULL, sg_json_get(rd, "pending")->type);
  ASSERT_EQ(SG_JSON_NULL, sg_json_get(rd, "sampled_ms")->type);
  ASSERT_EQ(0, sg_json_get(sg_json_get(sg_json_root(doc), "lanes"), "list")->count);
  sg_json_doc_free(doc);
  sg_buf_free(&b);
}

static void t_job(void) {
  sg_status_job j;
  memset(&j, 0, sizeof j);
  snprintf(j.id, sizeof j.id, "order-7");
  snprintf(j.lane, sizeof j.lane, "graph||a@contoso.com");
  j.state = sg_status_job_state_name(SG_STATUS_JOB_RETRY_WAIT);
  snprintf(j.why, sizeof j.why, "backing off");
  j.attempts = 2;
  j.next_try_at = NOW + 5000;
  j.entry_at = NOW - 60000;
  sg_buf b;
  sg_buf_init(&b);
  sg_status_render_job(&b, "gw1", "order-7", &j, NOW);
  sg_json_doc *doc = NULL;
  ASSERT_OK(sg_json_parse(&doc, b.data, b.len, 0, NULL, 0));
  const sg_json *r = sg_json_root(doc), *jj = sg_json_get(r, "job");
  ASSERT(sg_json_true(sg_json_get(r, "found")));
  ASSERT_STR_EQ("retry_wait", sg_json_str(sg_json_get(jj, "state")));
  ASSERT_EQ(2, get_int(jj, "attempts"));
  ASSERT_EQ(NOW + 5000, get_int(jj, "next_try_ms"));
  ASSERT_EQ(60000, get_int(jj, "age_ms"));
  sg_json_doc_free(doc);
  sg_buf_reset(&b);
  sg_status_render_job(&b, "gw1", "x\"y", NULL, NOW);
  ASSERT_OK(sg_json_parse(&doc, b.data, b.len, 0, NULL, 0));
  ASSERT(!sg_json_true(sg_json_get(sg_json_root(doc), "found")));
  ASSERT_STR_EQ("x\"y", sg_json_str(sg_json_get(sg_json_root(doc), "id")));
  sg_json_doc_free(doc);
  sg_buf_free(&b);
  ASSERT_STR_EQ("unknown", sg_status_job_state_name(99));
}

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return x > y ? -1 : x < y; /* larger first */
}

/* The bounded selection against a full sort, over many orders of input. */
static void t_top(void) {
  enum { N = 200 };
  int v[N];
  uint64_t r = 42;
  for (int round = 0; round < 50; round++) {
    for (int i = 0; i < N; i++) {
      r = r * 6364136223846793005ull + 1442695040888963407ull;
      v[i] = round % 5 == 0 ? i : (int)(r >> 56); /* ascending, or random with ties */
    }
    size_t max = (size_t)(round % 7) + 1;
    const void *top[8];
    size_t n = 0;
    for (int i = 0; i < N; i++)
      n = sg_status_top_add(top, n, max, &v[i], cmp_int);
    ASSERT_EQ(max, n);
    int sorted[N];
    memcpy(sorted, v, sizeof v);
    qsort(sorted, N, sizeof *sorted, cmp_int);
    for (size_t i = 0; i < n; i++)
      ASSERT_EQ(sorted[i], *(const int *)top[i]);
  }
  /* fewer items than room */
  const void *top[4];
  size_t n = 0;
  n = sg_status_top_add(top, n, 4, &v[1], cmp_int);
  n = sg_status_top_add(top, n, 4, &v[0], cmp_int);
  ASSERT_EQ(2, n);
}

/* hiredis reply objects built by hand, as XINFO GROUPS answers. */
static redisReply *rstring(const char *s) {
  redisReply *r = calloc(1, sizeof *r);
  r->type = REDIS_REPLY_STRING;
  r->str = strdup(s);
  r->len = strlen(s);
  return r;
}
static redisReply *rinteger(long long v) {
  redisReply *r = calloc(1, sizeof *r);
  r->type = REDIS_REPLY_INTEGER;
  r->integer = v;
  return r;
}
static redisReply *rnil(void) {
  redisReply *r = calloc(1, sizeof *r);
  r->type = REDIS_REPLY_NIL;
  return r;
}
static redisReply *rarr(size_t n, redisReply **el) {
  redisReply *r = calloc(1, sizeof *r);
  r->type = REDIS_REPLY_ARRAY;
  r->elements = n;
  r->element = calloc(n, sizeof *el);
  memcpy(r->element, el, n * sizeof *el);
  return r;
}
static redisReply *group(const char *name, long long pending, redisReply *lag) {
  redisReply *f[] = {rstring("name"),    rstring(name),     rstring("consumers"), rinteger(1),
                     rstring("pending"), rinteger(pending), rstring("lag"),       lag};
  return rarr(8, f);
}

static void t_parse_groups(void) {
  redisReply *gs[] = {group("other", 1, rinteger(99)), group("sendgate", 5, rinteger(17))};
  redisReply *r = rarr(2, gs);
  sg_rd_group_info g;
  ASSERT(sg_rd_group_info_parse(&g, r, "sendgate"));
  ASSERT(g.known);
  ASSERT_EQ(5, g.pending);
  ASSERT_EQ(17, g.lag);
  ASSERT(!sg_rd_group_info_parse(&g, r, "missing"));
  ASSERT(!g.known);
  freeReplyObject(r);
  redisReply *g2[] = {group("sendgate", 3, rnil())}; /* Redis cannot tell the lag */
  r = rarr(1, g2);
  ASSERT(sg_rd_group_info_parse(&g, r, "sendgate"));
  ASSERT_EQ(3, g.pending);
  ASSERT_EQ(-1, g.lag);
  freeReplyObject(r);
  r = rinteger(1);
  ASSERT(!sg_rd_group_info_parse(&g, r, "sendgate"));
  ASSERT(!sg_rd_group_info_parse(&g, NULL, "sendgate"));
  freeReplyObject(r);
}

static void t_screen(void) {
  sg_status_snap s;
  sg_status_lane lanes[2];
  sg_status_token tok;
  sg_status_pool pool;
  snapshot(&s, lanes, &tok, &pool);
  sg_buf b, out;
  sg_json_doc *doc = render(&s, &b);
  sg_buf_init(&out);
  ASSERT_OK(sg_status_screen(&out, sg_json_root(doc)));
  sg_buf_append_char(&out, '\0');
  const char *txt = out.data;
  ASSERT_NOT_NULL(strstr(txt, "consumer gw-\"1\"  pid 4242  up 1h02m"));
  ASSERT_NOT_NULL(strstr(txt, "lag 17, pending 5, delayed 3"));
  ASSERT_NOT_NULL(strstr(txt, "queued 12 (oldest 3m10s)"));
  ASSERT_NOT_NULL(strstr(txt, "LANES 7 (2 waiting)"));
  ASSERT_NOT_NULL(strstr(txt, "paused until 04:00:42Z (in 42s): throttled by the provider"));
  ASSERT_NOT_NULL(strstr(txt, "requests 10000/10000 per 10m00s (full, frees 04:00:01Z (in 1s))"));
  ASSERT_NOT_NULL(strstr(txt, "at_cap        4/4"));
  ASSERT_NOT_NULL(strstr(txt, "and 5 more lanes"));
  ASSERT_NOT_NULL(strstr(txt, "valid until 05:00:00Z (in 1h00m)"));
  ASSERT_NOT_NULL(strstr(txt, "graph.microsoft.com:443"));
  sg_json_doc_free(doc);
  /* not a status document */
  ASSERT_OK(sg_json_parse(&doc, "{\"kind\":\"x\"}", 12, 0, NULL, 0));
  sg_buf_reset(&out);
  ASSERT_EQ(-1, sg_status_screen(&out, sg_json_root(doc)));
  ASSERT_EQ(0, out.len);
  sg_json_doc_free(doc);
  sg_buf_free(&b);
  sg_buf_free(&out);
}

static void t_durations(void) {
  char d[32];
  sg_status_fmt_dur(d, 850);
  ASSERT_STR_EQ("850ms", d);
  sg_status_fmt_dur(d, 42000);
  ASSERT_STR_EQ("42s", d);
  sg_status_fmt_dur(d, 190000);
  ASSERT_STR_EQ("3m10s", d);
  sg_status_fmt_dur(d, 7500000);
  ASSERT_STR_EQ("2h05m", d);
  sg_status_fmt_dur(d, 3LL * 86400000 + 4 * 3600000);
  ASSERT_STR_EQ("3d04h", d);
  sg_status_fmt_dur(d, -5);
  ASSERT_STR_EQ("0ms", d);
}

static void t_urls(void) {
  char host[64];
  uint16_t port = 0;
  ASSERT_OK(sg_status_parse_url("http://127.0.0.1:9464", host, sizeof host, &port));
  ASSERT_STR_EQ("127.0.0.1", host);
  ASSERT_EQ(9464, port);
  ASSERT_OK(sg_status_parse_url(":9000", host, sizeof host, &port)); /* a listen address */
  ASSERT_STR_EQ("127.0.0.1", host);
  ASSERT_EQ(9000, port);
  ASSERT_OK(sg_status_parse_url("0.0.0.0:9001/status", host, sizeof host, &port));
  ASSERT_STR_EQ("127.0.0.1", host);
  ASSERT_OK(sg_status_parse_url("http://gw1.internal:9464/", host, sizeof host, &port));
  ASSERT_STR_EQ("gw1.internal", host);
  ASSERT_EQ(-1, sg_status_parse_url("https://127.0.0.1:9464", host, sizeof host, &port));
  ASSERT_EQ(-1, sg_status_parse_url("127.0.0.1", host, sizeof host, &port));
  ASSERT_EQ(-1, sg_status_parse_url("127.0.0.1:0", host, sizeof host, &port));
  ASSERT_EQ(-1, sg_status_parse_url("host:99999", host, sizeof host, &port));
  ASSERT_EQ(-1, sg_status_parse_url("", host, sizeof host, &port));
}

/* The member writers of core/sg_json_write.c the document is made with. */
static void t_json_members(void) {
  sg_buf b;
  sg_buf_init(&b);
  sg_buf_append_char(&b, '{');
  sg_jw_mstr(&b, "a", "x\"y");
  sg_jw_mstr(&b, "n", NULL);
  sg_jw_member(&b, "l");
  sg_buf_append_char(&b, '[');
  sg_buf_append_char(&b, '{');
  sg_jw_mint(&b, "i", -7);
  sg_buf_append_str(&b, "}]");
  sg_jw_mbool(&b, "t", true);
  sg_jw_mtime(&b, "at", NOW + 5);
  sg_jw_mtime(&b, "never", 0);
  sg_buf_append_char(&b, '}');
  sg_buf_append_char(&b, '\0');
  ASSERT_STR_EQ("{\"a\":\"x\\\"y\",\"n\":null,\"l\":[{\"i\":-7}],\"t\":true,"
                "\"at\":\"2026-12-07T04:00:00.005Z\",\"at_ms\":1796616000005,"
                "\"never\":null,\"never_ms\":null}",
                b.data);
  sg_buf_free(&b);
}

SG_TESTS({"document", t_document}, {"json_members", t_json_members}, {"unknown_lag", t_unknown_lag},
         {"job", t_job}, {"top", t_top}, {"parse_groups", t_parse_groups}, {"screen", t_screen},
         {"durations", t_durations}, {"urls", t_urls})
