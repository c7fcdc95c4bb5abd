/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for redis/sg_rd_url (URL parsing), sg_rd_ids (entry ids, id set)
 * and the backoff formula of sg_rd_client. */
#include "harness.h"

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "redis/sg_rd_client.h"
#include "redis/sg_rd_ids.h"
#include "redis/sg_rd_url.h"

static void t_defaults(void) {
  sg_rd_url u;
  ASSERT_OK(sg_rd_url_parse(NULL, &u));
  ASSERT_STR_EQ("127.0.0.1", u.host);
  ASSERT_EQ(6379, u.port);
  ASSERT_EQ(0, u.db);
  ASSERT(!u.is_unix);
  ASSERT_OK(sg_rd_url_parse("redis://", &u));
  ASSERT_STR_EQ("127.0.0.1", u.host);
  ASSERT_EQ(6379, u.port);
  ASSERT_OK(sg_rd_url_parse("redis://redis.internal", &u));
  ASSERT_STR_EQ("redis.internal", u.host);
  ASSERT_EQ(6379, u.port);
  ASSERT_STR_EQ("", u.password);
}

static void t_full(void) {
  sg_rd_url u;
  ASSERT_OK(sg_rd_url_parse("redis://alice:s3cr%40t@10.0.0.5:6380/3", &u));
  ASSERT_STR_EQ("alice", u.user);
  ASSERT_STR_EQ("s3cr@t", u.password);
  ASSERT_STR_EQ("10.0.0.5", u.host);
  ASSERT_EQ(6380, u.port);
  ASSERT_EQ(3, u.db);
  ASSERT_OK(sg_rd_url_parse("redis://:pw@host", &u));
  ASSERT_STR_EQ("", u.user);
  ASSERT_STR_EQ("pw", u.password);
  ASSERT_OK(sg_rd_url_parse("redis://pwonly@host:1/", &u));
  ASSERT_STR_EQ("pwonly", u.password);
  ASSERT_EQ(1, u.port);
  ASSERT_EQ(0, u.db);
  ASSERT_OK(sg_rd_url_parse("redis://[::1]:7000/2", &u));
  ASSERT_STR_EQ("::1", u.host);
  ASSERT_EQ(7000, u.port);
  ASSERT_EQ(2, u.db);
  ASSERT_OK(sg_rd_url_parse("redis://[::1]", &u));
  ASSERT_EQ(6379, u.port);
  ASSERT_OK(sg_rd_url_parse("redis://:6390", &u));
  ASSERT_STR_EQ("127.0.0.1", u.host);
  ASSERT_EQ(6390, u.port);
}

static void t_unix(void) {
  sg_rd_url u;
  ASSERT_OK(sg_rd_url_parse("unix:///run/redis/redis.sock", &u));
  ASSERT(u.is_unix);
  ASSERT_STR_EQ("/run/redis/redis.sock", u.path);
  ASSERT_EQ(0, u.db);
  ASSERT_OK(sg_rd_url_parse("unix:///tmp/r.sock?db=5", &u));
  ASSERT_EQ(5, u.db);
  ASSERT_EQ(SG_ERR_PARSE, sg_rd_url_parse("unix://relative.sock", &u));
  ASSERT_EQ(SG_ERR_PARSE, sg_rd_url_parse("unix:///tmp/r.sock?x=1", &u));
  ASSERT_EQ(SG_ERR_PARSE, sg_rd_url_parse("unix:///tmp/r.sock?db=", &u));
}

static void t_tls(void) {
  sg_rd_url u;
  ASSERT_OK(sg_rd_url_parse("rediss://app:p%40ss@cache.redis.example.net:6380/2", &u));
  ASSERT(u.tls);
  ASSERT(!u.is_unix);
  ASSERT_STR_EQ("app", u.user);
  ASSERT_STR_EQ("p@ss", u.password);
  ASSERT_STR_EQ("cache.redis.example.net", u.host);
  ASSERT_EQ(6380, u.port);
  ASSERT_EQ(2, u.db);
  ASSERT_OK(sg_rd_url_parse("rediss://localhost", &u));
  ASSERT(u.tls);
  ASSERT_EQ(6379, u.port); /* redis-cli's default; Azure's 6380 is given explicitly */
  ASSERT_EQ(0, u.db);
  ASSERT_OK(sg_rd_url_parse("rediss://[::1]:7000", &u));
  ASSERT_STR_EQ("::1", u.host);
  ASSERT_OK(sg_rd_url_parse("redis://host", &u));
  ASSERT(!u.tls);
  ASSERT_EQ(SG_ERR_PARSE, sg_rd_url_parse("rediss://host:0", &u));
  ASSERT(!u.tls); /* zeroed on error */
  ASSERT_EQ(SG_ERR_PARSE, sg_rd_url_parse("REDISS://host", &u));
  ASSERT(sg_rd_url_has_password("rediss://:pw@host"));
  char out[128];
  ASSERT_OK(sg_rd_url_parse("rediss://bob:hunter2@cache:6380/1", &u));
  sg_rd_url_describe(&u, out, sizeof out);
  ASSERT_STR_EQ("rediss://bob:***@cache:6380/1", out);
}

static void t_sentinel(void) {
  sg_rd_url u;
  ASSERT_OK(sg_rd_url_parse("redis-sentinel://app:pw@10.0.0.1:26380,s2,[::1]:7/mymaster/2", &u));
  ASSERT(u.sentinel);
  ASSERT(!u.tls);
  ASSERT_EQ(3, u.nsentinels);
  ASSERT_STR_EQ("10.0.0.1", u.sentinels[0].host);
  ASSERT_EQ(26380, u.sentinels[0].port);
  ASSERT_STR_EQ("s2", u.sentinels[1].host);
  ASSERT_EQ(26379, u.sentinels[1].port); /* the sentinel default */
  ASSERT_STR_EQ("::1", u.sentinels[2].host);
  ASSERT_EQ(7, u.sentinels[2].port);
  ASSERT_STR_EQ("mymaster", u.master);
  ASSERT_EQ(2, u.db);
  ASSERT_STR_EQ("app", u.user);
  ASSERT_STR_EQ("pw", u.password);
  ASSERT_OK(sg_rd_url_parse("rediss-sentinel://s1/m", &u));
  ASSERT(u.tls && u.sentinel);
  ASSERT_EQ(0, u.db);
  char out[200];
  sg_rd_url_describe(&u, out, sizeof out);
  ASSERT_STR_EQ("rediss-sentinel://s1:26379/m/0", out);
  const char *bad[] = {
      "redis-sentinel://s1",     "redis-sentinel://s1/",    "redis-sentinel:///m",
      "redis-sentinel://s1,/m",  "redis-sentinel://,s1/m",  "redis-sentinel://s1:0/m",
      "redis-sentinel://s1/m/x", "redis-sentinel://s1/m n", "redis-sentinel://a,b,c,d,e,f/m"};
  for (size_t i = 0; i < SG_ARRAY_LEN(bad); i++)
    if (sg_rd_url_parse(bad[i], &u) == 0)
      SG_FAIL_("accepted %s", bad[i]);
}

static void t_junk(void) {
  sg_rd_url u;
  const char *bad[] = {"rediss:/host",     "http://host",         "host:6379",
                       "redis://host:0",   "redis://host:65536",  "redis://host:12x",
                       "redis://host:",    "redis://host/x",      "redis://host/-1",
                       "redis://host/1/2", "redis://[::1",        "redis://[]:1",
                       "redis://[::1]x",   "redis://a:b%zz@host", "redis://a:b%4@host",
                       "redis://ho st",    "redis://a:%00@host",  "redis://host/99999999"};
  for (size_t i = 0; i < SG_ARRAY_LEN(bad); i++) {
    int rv = sg_rd_url_parse(bad[i], &u);
    if (rv != SG_ERR_PARSE)
      SG_FAIL_("accepted or wrong error for %s: %d", bad[i], rv);
    ASSERT_EQ(0, u.port); /* zeroed on error */
  }
  char longhost[400];
  memset(longhost, 'a', sizeof longhost);
  memcpy(longhost, "redis://", 8);
  longhost[sizeof longhost - 1] = '\0';
  ASSERT_EQ(SG_ERR_TOOBIG, sg_rd_url_parse(longhost, &u));
}

static void t_describe(void) {
  sg_rd_url u;
  char out[128];
  ASSERT_OK(sg_rd_url_parse("redis://bob:hunter2@[::1]:7000/4", &u));
  sg_rd_url_describe(&u, out, sizeof out);
  ASSERT_STR_EQ("redis://bob:***@[::1]:7000/4", out);
  ASSERT(strstr(out, "hunter2") == NULL);
  ASSERT_OK(sg_rd_url_parse("unix:///x.sock?db=1", &u));
  sg_rd_url_describe(&u, out, sizeof out);
  ASSERT_STR_EQ("unix:///x.sock?db=1", out);
}

static void t_ids(void) {
  sg_rd_id id;
  ASSERT_OK(sg_rd_id_parse("1700000000000-42", 16, &id));
  ASSERT_EQ(1700000000000LL, id.ms);
  ASSERT_EQ(42, id.seq);
  ASSERT_OK(sg_rd_id_parse("5", 1, &id));
  ASSERT_EQ(5, id.ms);
  ASSERT_EQ(0, id.seq);
  ASSERT_EQ(SG_ERR_PARSE, sg_rd_id_parse("5-", 2, &id));
  ASSERT_EQ(SG_ERR_PARSE, sg_rd_id_parse("x-1", 3, &id));
  ASSERT_EQ(SG_ERR_PARSE, sg_rd_id_parse("99999999999999999999-1", 22, &id));
  char buf[SG_RD_ID_MAX];
  ASSERT_EQ(16, sg_rd_id_format((sg_rd_id){1700000000000ULL, 42}, buf));
  ASSERT_STR_EQ("1700000000000-42", buf);
  sg_rd_id_format((sg_rd_id){UINT64_MAX, UINT64_MAX}, buf);
  ASSERT_STR_EQ("18446744073709551615-18446744073709551615", buf);
}

static void t_idset(void) {
  sg_rd_idset s;
  sg_rd_idset_init(&s);
  ASSERT(!sg_rd_idset_has(&s, (sg_rd_id){1, 1}));
  ASSERT(!sg_rd_idset_remove(&s, (sg_rd_id){1, 1}));
  /* Many ids sharing ms (as a burst of XADDs does) force growth and probe runs. */
  for (uint64_t i = 0; i < 5000; i++)
    ASSERT(sg_rd_idset_add(&s, (sg_rd_id){1000 + i / 7, i % 7}));
  ASSERT(!sg_rd_idset_add(&s, (sg_rd_id){1000, 0}));
  ASSERT_EQ(5000, s.n);
  for (uint64_t i = 0; i < 5000; i += 2)
    ASSERT(sg_rd_idset_remove(&s, (sg_rd_id){1000 + i / 7, i % 7}));
  for (uint64_t i = 0; i < 5000; i++)
    ASSERT_EQ(i % 2 == 1, sg_rd_idset_has(&s, (sg_rd_id){1000 + i / 7, i % 7}));
  ASSERT_EQ(2500, s.n);
  sg_rd_idset_free(&s);
}

SG_TESTS({"defaults", t_defaults}, {"full", t_full}, {"unix", t_unix}, {"tls", t_tls},
         {"sentinel", t_sentinel}, {"junk", t_junk}, {"describe", t_describe}, {"ids", t_ids},
         {"idset", t_idset})
