/* SPDX-License-Identifier: Apache-2.0 */
/*
 * For unit tests of Redis helpers that run on a command connection (the
 * trimmer, the bulk feeder): a private redis-server, a loop, and an
 * sg_rd_client connected to it (waited for, bounded), and their teardown.
 */
#ifndef SG_RD_TEST_CLIENT_H
#define SG_RD_TEST_CLIENT_H

#include "harness.h"
#include "redis_server.h"

#include "redis/sg_rd_client.h"

#include <uv.h>

typedef struct sg_rd_test_env {
  uv_loop_t loop;
  sg_test_redis r;
  sg_rd_client *c;
  int closed; /* close callbacks seen */
} sg_rd_test_env;

static inline void sg_rd_test_env_start(sg_rd_test_env *e) {
  ASSERT_OK(sg_test_redis_start(&e->r, NULL));
  ASSERT_OK(uv_loop_init(&e->loop));
  char url[64];
  snprintf(url, sizeof url, "redis://127.0.0.1:%d", e->r.port);
  sg_rd_url u;
  ASSERT_OK(sg_rd_url_parse(url, &u));
  sg_rd_client_opts o = {.name = "cmd"};
  sg_rd_client_cbs cbs = {0};
  ASSERT_OK(sg_rd_client_new(&e->loop, &u, &o, &cbs, &e->c));
  sg_rd_client_start(e->c);
  uint64_t end = uv_now(&e->loop) + 5000;
  while (!sg_rd_client_is_up(e->c) && uv_now(&e->loop) < end)
    uv_run(&e->loop, UV_RUN_NOWAIT);
  ASSERT(sg_rd_client_is_up(e->c));
}

/* A close callback of the helper under test: counts in e->closed. */
static inline void sg_rd_test_env_on_closed(void *ud) {
  ((sg_rd_test_env *)ud)->closed++;
}

static inline void sg_rd_test_env_on_client_closed_(sg_rd_client *c, void *ud) {
  (void)c;
  ((sg_rd_test_env *)ud)->closed++;
}

/* Closes the client after the helper's close was asked for (|helpers| close
 * callbacks expected besides the client's), runs the loop until all came
 * (bounded), and stops redis-server. */
static inline void sg_rd_test_env_stop(sg_rd_test_env *e, int helpers) {
  sg_rd_client_close(e->c, false, sg_rd_test_env_on_client_closed_, e);
  uint64_t end = uv_now(&e->loop) + 5000;
  while (e->closed < helpers + 1 && uv_now(&e->loop) < end)
    uv_run(&e->loop, UV_RUN_NOWAIT);
  ASSERT_EQ(helpers + 1, e->closed);
  ASSERT_OK(uv_loop_close(&e->loop));
  sg_test_redis_stop(&e->r);
}

#endif
