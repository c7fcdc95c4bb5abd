/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the sandbox's counters, duplicate detection and fault picking. */
#include "harness.h"

#include "core/sg_err.h"
#include "json/sg_json.h"
#include "sandbox/sg_sbx_faults.h"
#include "sandbox/sg_sbx_settings.h"
#include "sandbox/sg_sbx_stats.h"

static void key_of(int i, uint8_t k[32]) {
  /* Distinct for distinct i; spread the bits like a digest would be. */
  uint64_t x = (uint64_t)i * 0x9E3779B97F4A7C15ull;
  memset(k, 0xab, 32);
  memcpy(k, &x, sizeof x);
  memcpy(k + 8, &i, sizeof i);
}

static void t_duplicates(void) {
  sg_sbx_stats st;
  sg_sbx_stats_init(&st, 3);
  uint8_t k[32];
  for (int i = 0; i < 5000; i++) {
    key_of(i, k);
    ASSERT(!sg_sbx_stats_accept(&st, k, "{}", 2));
  }
  for (int i = 0; i < 10; i++) {
    key_of(i * 100, k);
    ASSERT(sg_sbx_stats_accept(&st, k, "{}", 2));
  }
  ASSERT_EQ(10, st.duplicates);
  sg_sbx_stats_reset(&st);
  key_of(1, k);
  ASSERT(!sg_sbx_stats_accept(&st, k, "{}", 2));
  ASSERT_EQ(0, st.duplicates);
  sg_sbx_stats_free(&st);
}

/* Across the table's incremental growth: every key inserted before is found
 * again whether it has been moved to the new table yet or not, a new key is
 * never taken for a duplicate, and the distinct count stays exact. */
static void t_duplicates_growth(void) {
  sg_sbx_stats st;
  sg_sbx_stats_init(&st, 0);
  uint8_t k[32];
  enum { N = 200000 };
  for (int i = 0; i < N; i++) {
    key_of(i, k);
    ASSERT(!sg_sbx_stats_accept(&st, k, NULL, 0));
    /* An earlier key again, at every step of the moves: a duplicate. */
    key_of((int)(((uint64_t)i * 7919u) % (uint64_t)(i + 1)), k);
    ASSERT(sg_sbx_stats_accept(&st, k, NULL, 0));
  }
  ASSERT_EQ(N, st.duplicates);
  sg_buf b = SG_BUF_INIT;
  sg_sbx_stats_json(&st, &b);
  ASSERT(strstr(b.data, "\"distinct_messages\":200000,") != NULL);
  sg_buf_free(&b);
  sg_sbx_stats_free(&st);
}

static void t_recent_ring(void) {
  sg_sbx_stats st;
  sg_sbx_stats_init(&st, 3);
  uint8_t k[32];
  char rec[32];
  for (int i = 0; i < 5; i++) {
    key_of(i, k);
    int n = snprintf(rec, sizeof rec, "{\"n\":%d}", i);
    sg_sbx_stats_accept(&st, k, rec, (size_t)n);
  }
  sg_buf b = SG_BUF_INIT;
  sg_sbx_stats_messages_json(&st, 10, &b);
  ASSERT_STR_EQ("[{\"n\":2},{\"n\":3},{\"n\":4}]", b.data);
  sg_buf_reset(&b);
  sg_sbx_stats_messages_json(&st, 1, &b);
  ASSERT_STR_EQ("[{\"n\":4}]", b.data);
  sg_buf_free(&b);
  sg_sbx_stats_free(&st);
}

static void t_json(void) {
  sg_sbx_stats st;
  sg_sbx_stats_init(&st, 0);
  st.graph_accepted = 7;
  sg_sbx_stats_reject(&st, "ErrorInvalidRecipients");
  sg_sbx_stats_reject(&st, "ErrorInvalidRecipients");
  sg_sbx_stats_reject(&st, "RequestBodyRead");
  sg_buf b = SG_BUF_INIT;
  sg_sbx_stats_json(&st, &b);
  sg_json_doc *d;
  char err[128];
  ASSERT_OK(sg_json_parse(&d, b.data, b.len, 0, err, sizeof err));
  int64_t v;
  ASSERT(sg_json_int(sg_json_get(sg_json_root(d), "graph_accepted"), &v));
  ASSERT_EQ(7, v);
  ASSERT(sg_json_int(
      sg_json_get(sg_json_get(sg_json_root(d), "rejected"), "ErrorInvalidRecipients"), &v));
  ASSERT_EQ(2, v);
  sg_json_doc_free(d);
  sg_buf_free(&b);
  sg_sbx_stats_free(&st);
}

static void t_faults(void) {
  sg_sbx_cfg cfg;
  memset(&cfg, 0, sizeof cfg);
  char err[256];
  ASSERT_OK(sg_settings_defaults(&sg_sbx_settings, &cfg, err, sizeof err));
  uint64_t s = 42;
  for (int i = 0; i < 1000; i++)
    ASSERT_EQ(SG_SBX_FAULT_NONE, sg_sbx_fault_pick(&cfg, &s));
  cfg.fault_rate_503 = 0.05;
  cfg.fault_rate_reset = 0.01;
  int n503 = 0, nreset = 0;
  for (int i = 0; i < 100000; i++) {
    sg_sbx_fault f = sg_sbx_fault_pick(&cfg, &s);
    n503 += f == SG_SBX_FAULT_503;
    nreset += f == SG_SBX_FAULT_RESET;
  }
  ASSERT(n503 > 4500 && n503 < 5500);
  ASSERT(nreset > 800 && nreset < 1200);
  sg_settings_free(&sg_sbx_settings, &cfg);
}

SG_TESTS({"duplicates", t_duplicates}, {"duplicates_growth", t_duplicates_growth},
         {"recent_ring", t_recent_ring}, {"json", t_json}, {"faults", t_faults})
