/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sender pools: the [pool.NAME] configuration
 * (conf/sg_config_pool.c) and the choice of a member (sched/sg_pool_pick.c). */
#include "harness.h"

#include <unistd.h>

#include "conf/sg_config.h"
#include "core/sg_err.h"
#include "sched/sg_pool_pick.h"

static char *write_tmp(const char *text) {
  static char path[64];
  snprintf(path, sizeof path, "/tmp/sg_pool_XXXXXX");
  int fd = mkstemp(path);
  ASSERT(fd >= 0);
  ASSERT_EQ((ssize_t)strlen(text), write(fd, text, strlen(text)));
  close(fd);
  return path;
}

static char e1[] = "SENDGATE_GRAPH_TENANT_ID=t", e2[] = "SENDGATE_GRAPH_CLIENT_ID=c",
            e3[] = "SENDGATE_GRAPH_CLIENT_SECRET=s";

/* Loads |text|; returns the load's result, |err| filled on failure. */
static int load(sg_config *cfg, const char *text, char **envp_extra, char *err, size_t cap) {
  char *envp[8] = {e1, e2, e3, NULL};
  for (size_t i = 0; envp_extra && envp_extra[i] && i < 4; i++)
    envp[3 + i] = envp_extra[i], envp[4 + i] = NULL;
  char *path = write_tmp(text);
  int rv = sg_config_load(cfg, path, envp, err, cap);
  unlink(path);
  return rv;
}

static void t_config(void) {
  sg_config cfg;
  char err[300];
  ASSERT_OK(load(&cfg,
                 "[account.sales]\ntype = graph\ntenant_id = t\nclient_id = c\nclient_secret = s\n"
                 "[pool.news]\nmembers = a@contoso.com, b@contoso.com ,sales/c@contoso.com\n"
                 "weights = 2,1, 1\n"
                 "[pool.alerts]\nmembers = x@contoso.com\naccount = sales\n",
                 NULL, err, sizeof err));
  ASSERT_EQ(2, cfg.npools);
  const sg_pool *p = sg_config_pool(&cfg, "news");
  ASSERT_NOT_NULL(p);
  ASSERT_EQ(3, p->nmembers);
  ASSERT_STR_EQ("a@contoso.com", p->members[0].sender);
  ASSERT_STR_EQ("", p->members[0].account);
  ASSERT_EQ(2, p->members[0].weight);
  ASSERT_STR_EQ("b@contoso.com", p->members[1].sender);
  ASSERT_STR_EQ("sales", p->members[2].account);
  ASSERT_STR_EQ("c@contoso.com", p->members[2].sender);
  ASSERT_EQ(1, p->members[2].weight);
  p = sg_config_pool(&cfg, "alerts");
  ASSERT_STR_EQ("sales", p->account);
  ASSERT_EQ(1, p->members[0].weight);
  ASSERT_NULL(sg_config_pool(&cfg, "nope"));
  sg_config_free(&cfg);
  /* The environment wins for a pool the file names. */
  char env[] = "SENDGATE_POOL_NEWS_MEMBERS=m1@contoso.com,m2@contoso.com";
  char *extra[] = {env, NULL};
  ASSERT_OK(load(&cfg, "[pool.news]\nmembers = a@contoso.com\n", extra, err, sizeof err));
  p = sg_config_pool(&cfg, "news");
  ASSERT_EQ(2, p->nmembers);
  ASSERT_STR_EQ("m2@contoso.com", p->members[1].sender);
  sg_config_free(&cfg);
}

static void t_config_errors(void) {
  sg_config cfg;
  char err[300];
  ASSERT_EQ(SG_ERR_CONFIG, load(&cfg, "[pool.empty]\nweights = 1\n", NULL, err, sizeof err));
  ASSERT(strstr(err, "no members") != NULL);
  ASSERT_EQ(SG_ERR_CONFIG, load(&cfg, "[pool.w]\nmembers = a@x.com, b@x.com\nweights = 1\n", NULL,
                                err, sizeof err));
  ASSERT(strstr(err, "weights") != NULL);
  ASSERT_EQ(SG_ERR_CONFIG,
            load(&cfg, "[pool.w]\nmembers = a@x.com\nweights = 0\n", NULL, err, sizeof err));
  ASSERT_EQ(SG_ERR_CONFIG, load(&cfg, "[pool.a]\nmembers = nope/a@x.com\n", NULL, err, sizeof err));
  ASSERT(strstr(err, "'nope' is not configured") != NULL);
  ASSERT_EQ(SG_ERR_CONFIG, load(&cfg, "[pool.a]\nmembers = /a@x.com\n", NULL, err, sizeof err));
  ASSERT_EQ(SG_ERR_CONFIG,
            load(&cfg, "[pool.a]\nmembers = a@x.com\naccount = nope\n", NULL, err, sizeof err));
  ASSERT_EQ(SG_ERR_CONFIG, load(&cfg, "[pool.a b]\nmembers = a@x.com\n", NULL, err, sizeof err));
  ASSERT_EQ(SG_ERR_CONFIG, load(&cfg, "[pool.a]\nmember = a@x.com\n", NULL, err, sizeof err));
}

/* A member that can go now and has room wins. */
static void t_pick_budget(void) {
  sg_pool_cand c[3] = {
      {.wait_ms = 5000, .load = 0, .room = 80, .weight = 1}, /* paused */
      {.wait_ms = 0, .load = 84, .room = 0, .weight = 1},    /* full */
      {.wait_ms = 0, .load = 90, .room = 10, .weight = 1},   /* room */
  };
  ASSERT_EQ(2, sg_pool_pick(c, 3, 0));
  c[2].wait_ms = 10; /* now none with room can go: the full one */
  ASSERT_EQ(1, sg_pool_pick(c, 3, 0));
  c[1].wait_ms = 20; /* none can go now: the shortest wait */
  ASSERT_EQ(2, sg_pool_pick(c, 3, 0));
}

/* Equal members take turns; a backlog spreads in proportion to the weights. */
static void t_pick_spread(void) {
  enum { M = 4, JOBS = 7000 };
  sg_pool_cand c[M];
  uint64_t chosen[M] = {0};
  for (int i = 0; i < M; i++)
    c[i] = (sg_pool_cand){0, 0, UINT64_MAX, i == 0 ? 4 : 1}; /* weights 4, 1, 1, 1 */
  for (size_t n = 0; n < JOBS; n++) {
    size_t k = sg_pool_pick(c, M, n % M);
    chosen[k]++;
    c[k].load++; /* queued on its lane */
  }
  ASSERT_EQ(4000, chosen[0]);
  ASSERT_EQ(1000, chosen[1]);
  ASSERT_EQ(1000, chosen[2]);
  ASSERT_EQ(1000, chosen[3]);
  /* With nothing queued anywhere, equal members are taken round robin. */
  sg_pool_cand e[3] = {{0, 0, 4, 1}, {0, 0, 4, 1}, {0, 0, 4, 1}};
  /* All full (a saturated pool): still the least loaded per weight. */
  sg_pool_cand f[2] = {{0, 90, 0, 1}, {0, 80, 0, 1}};
  ASSERT_EQ(1, sg_pool_pick(f, 2, 0));
  ASSERT_EQ(0, sg_pool_pick(e, 3, 0));
  ASSERT_EQ(1, sg_pool_pick(e, 3, 1));
  ASSERT_EQ(2, sg_pool_pick(e, 3, 2));
  ASSERT_EQ(0, sg_pool_pick(e, 1, 7)); /* one member */
}

SG_TESTS({"config", t_config}, {"config_errors", t_config_errors}, {"pick_budget", t_pick_budget},
         {"pick_spread", t_pick_spread})
