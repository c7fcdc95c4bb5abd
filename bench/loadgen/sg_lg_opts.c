/* SPDX-License-Identifier: Apache-2.0 */
/* sendgate-loadgen command-line parsing; see sg_lg_opts.h. */
#include "sg_lg_opts.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis/sg_rd_url.h"

#include "core/sg_addr.h"
#include "core/sg_err.h"

const char sg_lg_usage[] =
    "usage: sendgate-loadgen [options]\n"
    "Queues mail jobs on the sendgate Redis stream, reads the results, matches every\n"
    "result to its job and reports throughput, latency (created_unix_ms to result:\n"
    "p50/p90/p99/p99.9/max), results by status, and jobs missing a result.\n"
    "\n"
    "What to send:\n"
    "  --count N             jobs to queue (default 1000)\n"
    "  --rate R              jobs per second (default: as fast as possible)\n"
    "  --duration SECONDS    with --rate: queue R*SECONDS jobs at that pace\n"
    "  --warmup SECONDS      with --rate: the jobs of the first SECONDS are a warm-up: sent,\n"
    "                        matched and counted, their latency reported apart\n"
    "  --senders N           distinct senders sender-<i>@DOMAIN (default 10)\n"
    "  --recipients N        To recipients per job, r-<i>@DOMAIN (default 1; ACS: <= 50)\n"
    "  --domain NAME         domain of senders and recipients (default example.com)\n"
    "  --acs PERCENT         share of jobs sent with BACKEND_ACS (default 0)\n"
    "  --default-backend     other jobs leave the backend UNSPECIFIED (default: GRAPH)\n"
    "  --account NAME        a named account of the gateway (its type picks the backend:\n"
    "                        the jobs leave it UNSPECIFIED), e.g. an exchange_smtp account\n"
    "  --invalid PERCENT     share of jobs invalid on purpose (no recipient or a bad\n"
    "                        address), which must come back INVALID (default 0)\n"
    "  --size BYTES          text body size (default 1024)\n"
    "  --attachments N       attachments per job (default 0)\n"
    "  --attachment-size B   bytes per attachment (default 1024)\n"
    "\n"
    "Where:\n"
    "  --redis-url URL       Redis (default $SENDGATE_REDIS_URL or redis://127.0.0.1:6379/0)\n"
    "  --jobs-stream NAME    (default sendgate:jobs)\n"
    "  --results-stream NAME default results stream to read (default sendgate:results)\n"
    "  --reply-stream NAME   set MailJob.reply_stream and read that stream too\n"
    "  --run-id ID           prefix of the job ids <ID>-<n> (default: random)\n"
    "  --producers N         producer connections (default 4)\n"
    "  --pipeline N          outstanding XADDs per producer (default 64)\n"
    "\n"
    "Stopping and output:\n"
    "  --timeout SECONDS     wait this long for results after the last job is queued;\n"
    "                        also gives up if no job can be queued for this long (default 60)\n"
    "  --connect-timeout S   reach Redis within this time (default 5)\n"
    "  --interval SECONDS    progress every SECONDS (default 1 on a terminal, else 5; 0 = off)\n"
    "  --quiet               no progress output\n"
    "  --json                final report as one JSON object on stdout\n"
    "  --allow-missing       exit 0 even if jobs are missing a result\n"
    "  --verbose             Redis client logs (JSON lines) on stderr\n"
    "  --help                this text\n"
    "\n"
    "Exit status: 0 when every queued job got a result; 1 when jobs are missing a result,\n"
    "jobs could not be queued, or Redis could not be reached; 2 for a usage error.\n"
    "SIGINT/SIGTERM stops queueing and waits for the results (a second one stops at once).\n";

static int fail(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t cap, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, cap, fmt, ap);
  va_end(ap);
  return SG_ERR_INVAL;
}

static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out) {
  if (s == NULL || *s < '0' || *s > '9')
    return SG_ERR_INVAL;
  errno = 0;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end || v < lo || v > hi)
    return SG_ERR_INVAL;
  *out = v;
  return 0;
}

static int parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out) {
  uint64_t v;
  int rv = parse_u64(s, lo, hi, &v);
  if (rv == 0)
    *out = (uint32_t)v;
  return rv;
}

static int parse_dbl(const char *s, double lo, double hi, double *out) {
  if (s == NULL || *s == '\0')
    return SG_ERR_INVAL;
  errno = 0;
  char *end;
  double v = strtod(s, &end);
  if (errno || *end || !isfinite(v) || v < lo || v > hi)
    return SG_ERR_INVAL;
  *out = v;
  return 0;
}

static bool run_id_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > SG_LG_RUN_ID_MAX)
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '.' || c == ':' || c == '-'))
      return false;
  }
  return true;
}

static void defaults(sg_lg_opts *o, const char *env_url) {
  memset(o, 0, sizeof *o);
  o->redis_url = env_url && *env_url ? env_url : "redis://127.0.0.1:6379/0";
  o->jobs_stream = "sendgate:jobs";
  o->results_stream = "sendgate:results";
  o->domain = "example.com";
  o->account = "";
  o->producers = 4;
  o->pipeline = 64;
  o->senders = 10;
  o->recipients = 1;
  o->size = 1024;
  o->attachment_size = 1024;
  o->timeout_s = 60;
  o->connect_timeout_s = 5;
  o->interval_s = -1;
}

/* Applies one option with value |v| (NULL for flags). Returns 1 when unknown. */
static int apply(sg_lg_opts *o, const char *name, const char *v, bool *count_set, char *err,
                 size_t cap) {
#define BAD(what) fail(err, cap, "bad value for --%s: %s", name, what)
  if (strcmp(name, "count") == 0)
    return (*count_set = true, parse_u64(v, 1, SG_LG_MAX_JOBS, &o->count)) ? BAD("1..1e8") : 0;
  if (strcmp(name, "rate") == 0)
    return parse_dbl(v, 0.001, 1e7, &o->rate) ? BAD("a positive number") : 0;
  if (strcmp(name, "duration") == 0)
    return parse_dbl(v, 0.001, 1e7, &o->duration_s) ? BAD("seconds > 0") : 0;
  if (strcmp(name, "warmup") == 0)
    return parse_dbl(v, 0.001, 1e7, &o->warmup_s) ? BAD("seconds > 0") : 0;
  if (strcmp(name, "senders") == 0)
    return parse_u32(v, 1, 10000000, &o->senders) ? BAD("1..1e7") : 0;
  if (strcmp(name, "recipients") == 0)
    return parse_u32(v, 1, SG_LG_MAX_RECIPIENTS, &o->recipients) ? BAD("1..500") : 0;
  if (strcmp(name, "domain") == 0)
    return (o->domain = v, 0);
  if (strcmp(name, "account") == 0)
    return (o->account = v, 0);
  if (strcmp(name, "acs") == 0)
    return parse_dbl(v, 0, 100, &o->acs_pct) ? BAD("a percentage 0..100") : 0;
  if (strcmp(name, "invalid") == 0)
    return parse_dbl(v, 0, 100, &o->invalid_pct) ? BAD("a percentage 0..100") : 0;
  if (strcmp(name, "size") == 0)
    return parse_u32(v, 0, SG_LG_MAX_PAYLOAD, &o->size) ? BAD("0..36700160") : 0;
  if (strcmp(name, "attachments") == 0)
    return parse_u32(v, 0, SG_LG_MAX_ATTACHMENTS, &o->attachments) ? BAD("0..20") : 0;
  if (strcmp(name, "attachment-size") == 0)
    return parse_u32(v, 1, SG_LG_MAX_PAYLOAD, &o->attachment_size) ? BAD("1..36700160") : 0;
  if (strcmp(name, "redis-url") == 0)
    return sg_rd_url_has_password(v) ? BAD("a password here shows in ps: use SENDGATE_REDIS_URL")
                                     : (o->redis_url = v, 0);
  if (strcmp(name, "jobs-stream") == 0)
    return *v ? (o->jobs_stream = v, 0) : BAD("empty");
  if (strcmp(name, "results-stream") == 0)
    return *v ? (o->results_stream = v, 0) : BAD("empty");
  if (strcmp(name, "reply-stream") == 0)
    return *v ? (o->reply_stream = v, 0) : BAD("empty");
  if (strcmp(name, "run-id") == 0) {
    if (!run_id_ok(v))
      return BAD("1..48 of [A-Za-z0-9_.:-]");
    memcpy(o->run_id, v, strlen(v) + 1);
    return 0;
  }
  if (strcmp(name, "producers") == 0)
    return parse_u32(v, 1, SG_LG_MAX_PRODUCERS, &o->producers) ? BAD("1..64") : 0;
  if (strcmp(name, "pipeline") == 0)
    return parse_u32(v, 1, SG_LG_MAX_PIPELINE, &o->pipeline) ? BAD("1..10000") : 0;
  if (strcmp(name, "timeout") == 0)
    return parse_dbl(v, 0.001, 1e6, &o->timeout_s) ? BAD("seconds > 0") : 0;
  if (strcmp(name, "connect-timeout") == 0)
    return parse_dbl(v, 0.001, 3600, &o->connect_timeout_s) ? BAD("seconds > 0") : 0;
  if (strcmp(name, "interval") == 0)
    return parse_dbl(v, 0, 86400, &o->interval_s) ? BAD("seconds >= 0") : 0;
#undef BAD
  return 1;
}

static bool is_flag(const char *name, sg_lg_opts *o) {
  static const char *const flags[] = {"json",    "quiet", "allow-missing",
                                      "verbose", "help",  "default-backend"};
  bool *fields[] = {&o->json,    &o->quiet, &o->allow_missing,
                    &o->verbose, &o->help,  &o->default_backend};
  for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
    if (strcmp(name, flags[i]) == 0) {
      *fields[i] = true;
      return true;
    }
  return false;
}

static bool takes_value(const char *name) {
  static const char *const names[] = {
      "count",           "rate",        "duration",       "warmup",
      "senders",         "recipients",  "domain",         "acs",
      "invalid",         "size",        "attachments",    "attachment-size",
      "redis-url",       "jobs-stream", "results-stream", "reply-stream",
      "run-id",          "producers",   "pipeline",       "timeout",
      "connect-timeout", "interval",    "account"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp(name, names[i]) == 0)
      return true;
  return false;
}

static int check(sg_lg_opts *o, bool count_set, char *err, size_t cap) {
  if (o->duration_s > 0) {
    if (o->rate <= 0)
      return fail(err, cap, "--duration needs --rate");
    if (count_set)
      return fail(err, cap, "give either --count or --duration, not both");
    double n = floor(o->rate * o->duration_s + 0.5);
    if (n < 1 || n > (double)SG_LG_MAX_JOBS)
      return fail(err, cap, "--rate times --duration must give 1..1e8 jobs");
    o->count = (uint64_t)n;
  } else if (!count_set) {
    o->count = 1000;
  }
  if (o->warmup_s > 0) {
    if (o->rate <= 0)
      return fail(err, cap, "--warmup needs --rate");
    if (o->rate * o->warmup_s >= (double)o->count)
      return fail(err, cap, "--warmup covers every job: nothing left to measure");
  }
  if (o->acs_pct > 0 && o->recipients > SG_LG_MAX_ACS_RECIPIENTS)
    return fail(err, cap, "--recipients over 50 with --acs: ACS takes at most 50 recipients");
  uint64_t payload = (uint64_t)o->size + (uint64_t)o->attachments * o->attachment_size;
  if (payload > SG_LG_MAX_PAYLOAD)
    return fail(err, cap,
                "body plus attachments over 35 MiB (Graph's default maximum message size)");
  char probe[300];
  int n = snprintf(probe, sizeof probe, "sender-0@%s", o->domain);
  if (n <= 0 || (size_t)n >= sizeof probe || !sg_addr_valid(probe, (size_t)n))
    return fail(err, cap, "bad value for --domain: %s", o->domain);
  return 0;
}

int sg_lg_opts_parse(sg_lg_opts *o, int argc, char **argv, const char *env_url, char *err,
                     size_t errcap) {
  defaults(o, env_url);
  bool count_set = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strncmp(a, "--", 2) != 0 || a[2] == '\0')
      return fail(err, errcap, "unexpected argument: %s (see --help)", a);
    char name[32];
    const char *eq = strchr(a + 2, '=');
    size_t nlen = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
    if (nlen == 0 || nlen >= sizeof name)
      return fail(err, errcap, "unknown option: %s (see --help)", a);
    memcpy(name, a + 2, nlen);
    name[nlen] = '\0';
    if (is_flag(name, o)) {
      if (eq)
        return fail(err, errcap, "--%s takes no value", name);
      continue;
    }
    if (!takes_value(name))
      return fail(err, errcap, "unknown option: --%s (see --help)", name);
    const char *v = eq ? eq + 1 : NULL;
    if (v == NULL) {
      if (i + 1 >= argc)
        return fail(err, errcap, "--%s needs a value", name);
      v = argv[++i];
    }
    int rv = apply(o, name, v, &count_set, err, errcap);
    if (rv == 1)
      return fail(err, errcap, "unknown option: --%s (see --help)", name);
    if (rv != 0)
      return rv;
  }
  if (o->help)
    return 0;
  return check(o, count_set, err, errcap);
}
