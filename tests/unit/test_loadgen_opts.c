/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for sendgate-loadgen's command line: defaults, values, modes, refusals. */
#include "harness.h"

#include <stdarg.h>

#include "core/sg_err.h"
#include "sg_lg_opts.h"

static int parse(sg_lg_opts *o, const char *env, char *err, size_t cap, int n, ...) {
  char *argv[40];
  argv[0] = (char *)"sendgate-loadgen";
  va_list ap;
  va_start(ap, n);
  for (int i = 0; i < n; i++)
    argv[i + 1] = va_arg(ap, char *);
  va_end(ap);
  err[0] = '\0';
  return sg_lg_opts_parse(o, n + 1, argv, env, err, cap);
}

static void t_defaults(void) {
  sg_lg_opts o;
  char err[256];
  ASSERT_OK(parse(&o, NULL, err, sizeof err, 0));
  ASSERT_EQ(1000, o.count);
  ASSERT_STR_EQ("redis://127.0.0.1:6379/0", o.redis_url);
  ASSERT_STR_EQ("sendgate:jobs", o.jobs_stream);
  ASSERT_STR_EQ("sendgate:results", o.results_stream);
  ASSERT_NULL(o.reply_stream);
  ASSERT_STR_EQ("example.com", o.domain);
  ASSERT_EQ(4, o.producers);
  ASSERT_EQ(64, o.pipeline);
  ASSERT_EQ(1, o.recipients);
  ASSERT(o.rate == 0);
  ASSERT(o.timeout_s == 60);
  ASSERT(o.interval_s < 0);
  ASSERT(!o.json && !o.quiet && !o.allow_missing && !o.help);
  ASSERT_STR_EQ("", o.run_id);
  ASSERT_OK(parse(&o, "redis://10.0.0.1:7000/2", err, sizeof err, 0));
  ASSERT_STR_EQ("redis://10.0.0.1:7000/2", o.redis_url);
}

static void t_values(void) {
  sg_lg_opts o;
  char err[256];
  ASSERT_OK(parse(&o, "redis://x", err, sizeof err, 19, "--count", "5000", "--producers=8",
                  "--pipeline", "16", "--acs", "12.5", "--invalid=1", "--recipients", "50",
                  "--json", "--run-id", "soak-1", "--redis-url", "redis://127.0.0.1:1/0",
                  "--reply-stream", "app:results", "--allow-missing", "--quiet"));
  ASSERT_EQ(5000, o.count);
  ASSERT_EQ(8, o.producers);
  ASSERT_EQ(16, o.pipeline);
  ASSERT(o.acs_pct == 12.5);
  ASSERT(o.invalid_pct == 1);
  ASSERT_EQ(50, o.recipients);
  ASSERT(o.json && o.allow_missing && o.quiet);
  ASSERT_STR_EQ("soak-1", o.run_id);
  ASSERT_STR_EQ("redis://127.0.0.1:1/0", o.redis_url);
  ASSERT_STR_EQ("app:results", o.reply_stream);
  /* Rate for a duration. */
  ASSERT_OK(parse(&o, NULL, err, sizeof err, 4, "--rate", "250", "--duration", "4"));
  ASSERT_EQ(1000, o.count);
  ASSERT(o.rate == 250);
  /* Rate with a count. */
  ASSERT_OK(parse(&o, NULL, err, sizeof err, 4, "--rate", "10", "--count", "7"));
  ASSERT_EQ(7, o.count);
}

static void t_help(void) {
  sg_lg_opts o;
  char err[256];
  ASSERT_OK(parse(&o, NULL, err, sizeof err, 1, "--help"));
  ASSERT(o.help);
  ASSERT(strstr(sg_lg_usage, "--timeout") != NULL);
}

static void expect_bad(const char *want, int n, const char *a0, const char *a1, const char *a2,
                       const char *a3) {
  sg_lg_opts o;
  char err[256];
  int rv = parse(&o, NULL, err, sizeof err, n, a0, a1, a2, a3);
  if (rv != SG_ERR_INVAL || strstr(err, want) == NULL)
    SG_FAIL_("expected an error with \"%s\", got %d \"%s\"", want, rv, err);
  ASSERT(strchr(err, '\n') == NULL);
}

static void t_refusals(void) {
  expect_bad("unknown option: --bogus", 1, "--bogus", NULL, NULL, NULL);
  expect_bad("unexpected argument: x", 1, "x", NULL, NULL, NULL);
  expect_bad("--count needs a value", 1, "--count", NULL, NULL, NULL);
  expect_bad("bad value for --count", 2, "--count", "0", NULL, NULL);
  expect_bad("bad value for --count", 2, "--count", "12x", NULL, NULL);
  expect_bad("bad value for --count", 2, "--count", "-5", NULL, NULL);
  expect_bad("bad value for --acs", 2, "--acs", "101", NULL, NULL);
  expect_bad("bad value for --rate", 2, "--rate", "nan", NULL, NULL);
  expect_bad("bad value for --producers", 2, "--producers", "65", NULL, NULL);
  expect_bad("bad value for --recipients", 2, "--recipients", "501", NULL, NULL);
  expect_bad("--duration needs --rate", 2, "--duration", "3", NULL, NULL);
  expect_bad("--warmup needs --rate", 2, "--warmup", "1", NULL, NULL);
  expect_bad("nothing left to measure", 4, "--rate", "10", "--warmup", "100");
  {
    sg_lg_opts o;
    char err[256];
    ASSERT_OK(
        parse(&o, NULL, err, sizeof err, 6, "--rate", "100", "--duration", "3", "--warmup", "1.5"));
    ASSERT_EQ(300, o.count);
    ASSERT(o.warmup_s == 1.5);
  }
  {
    sg_lg_opts o;
    char err[256];
    ASSERT_EQ(SG_ERR_INVAL, parse(&o, NULL, err, sizeof err, 6, "--rate", "3", "--duration", "3",
                                  "--count", "9"));
    ASSERT(strstr(err, "either --count or --duration") != NULL);
  }
  expect_bad("ACS takes at most 50", 4, "--acs", "1", "--recipients", "51");
  expect_bad("over 35 MiB", 4, "--attachments", "20", "--attachment-size", "2000000");
  expect_bad("--json takes no value", 1, "--json=1", NULL, NULL, NULL);
  expect_bad("bad value for --run-id", 2, "--run-id", "has space", NULL, NULL);
  expect_bad("bad value for --domain", 2, "--domain", "no dots", NULL, NULL);
  expect_bad("bad value for --jobs-stream", 2, "--jobs-stream", "", NULL, NULL);
}

SG_TESTS({"defaults", t_defaults}, {"values", t_values}, {"help", t_help}, {"refusals", t_refusals})
