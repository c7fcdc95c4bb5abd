/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sendgate dlq list` prints dead letters (entry id, reason, job id when the
 * job decodes, time of the dead letter); `sendgate dlq requeue` moves them back
 * to the job stream, each one atomically with a small Lua script (read the
 * entry, XADD <jobs> * job <bytes> requeued_from <id>, XDEL it from the dead
 * stream), so two operators requeueing at once cannot duplicate a job. Scans
 * stop at the dead letter that was last when the command started, so entries
 * dead-lettered again meanwhile are not picked up twice. Uses a blocking
 * Redis connection and the Redis settings of the gateway's configuration.
 */
#include "cli/sg_cmd_dlq.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/sg_config.h"
#include "redis/sg_rd_sync.h"
#include "core/sg_clock.h"
#include "core/sg_err.h"
#include "redis/sg_rd_url.h"
#include "core/sg_mem.h"
#include "core/sg_settings.h"
#include "job/sg_job_codec.h"
#include "redis/sg_rd_ids.h"

#define PAGE 200
#define MAX_IDS 1024
#define DEFAULT_LIMIT 100

static const char usage[] =
    "usage: sendgate dlq list [--limit N] [--reason R]\n"
    "       sendgate dlq requeue (--id ID... | --reason R | --all)\n"
    "Dead letters are jobs the gateway gave up on (stream sendgate:dead).\n"
    "  list      print id, reason, job id (- if it does not decode) and time, oldest first\n"
    "            --limit N   at most N lines (default 100; 0 = all)\n"
    "            --reason R  only dead letters with this reason\n"
    "  requeue   move dead letters back to the job stream (each atomically)\n"
    "            --id ID     this dead letter (repeatable)\n"
    "            --reason R  every dead letter with this reason\n"
    "            --all       every dead letter\n"
    "Options for both:\n"
    "  --config FILE         read the Redis settings from the gateway's config\n"
    "  --redis-url URL       Redis (default SENDGATE_REDIS_URL or redis://127.0.0.1:6379/0)\n"
    "Exit: 0 ok, 1 a dead letter was missing or had no job, 2 usage, 3 Redis.\n";

/* KEYS[1] dead, KEYS[2] jobs; ARGV[1] id. {1, new id} | {0} missing | {-1} no job field. */
static const char requeue_script[] =
    "local e = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])\n"
    "if #e == 0 then return {0} end\n"
    "local f = e[1][2]\n"
    "for i = 1, #f, 2 do\n"
    "  if f[i] == 'job' then\n"
    "    local id = redis.call('XADD', KEYS[2], '*', 'job', f[i + 1], 'requeued_from', ARGV[1])\n"
    "    redis.call('XDEL', KEYS[1], ARGV[1])\n"
    "    return {1, id}\n"
    "  end\n"
    "end\n"
    "return {-1}\n";

typedef struct dlq {
  sg_rd_sync *c;
  const char *dead, *jobs;
  const char *reason; /* filter, or NULL */
  unsigned long limit;
  bool requeue;
  unsigned long seen, done;
  int rc;
} dlq;

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "sendgate dlq: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  return 2;
}

/* Prints |n| bytes with anything but printable ASCII replaced by '?'. */
static void put_clean(const char *s, size_t n) {
  if (n == 0) {
    putchar('-');
    return;
  }
  for (size_t i = 0; i < n && i < 200; i++)
    putchar(s[i] > 0x20 && s[i] < 0x7f ? s[i] : '?');
}

static const redisReply *field(const redisReply *fv, const char *name) {
  for (size_t i = 0; fv->type == REDIS_REPLY_ARRAY && i + 1 < fv->elements; i += 2)
    if (fv->element[i]->type == REDIS_REPLY_STRING && strcmp(fv->element[i]->str, name) == 0 &&
        fv->element[i + 1]->type == REDIS_REPLY_STRING)
      return fv->element[i + 1];
  return NULL;
}

static void print_entry(const char *id, const redisReply *fv) {
  const redisReply *reason = field(fv, "reason"), *job = field(fv, "job");
  char jid[SG_JOB_ID_MAX + 1] = "";
  if (job) {
    sg_job_msg *m = NULL;
    sg_job_error jerr;
    sg_job_decode((const uint8_t *)job->str, job->len, &m, &jerr);
    if (m)
      snprintf(jid, sizeof jid, "%s", sg_job_msg_view(m)->id);
    sg_job_msg_free(m);
  }
  sg_rd_id num = {0, 0};
  sg_rd_id_parse(id, strlen(id), &num);
  char when[32];
  sg_time_rfc3339((int64_t)num.ms, when);
  printf("%s\t", id);
  put_clean(reason ? reason->str : "", reason ? reason->len : 0);
  putchar('\t');
  put_clean(jid, strlen(jid));
  printf("\t%s\n", when);
}

/* Requeues one dead letter. Returns 1 done, 0 missing, -1 no job field, -2 Redis error. */
static int requeue_one(dlq *q, const char *id, char *err, size_t errcap) {
  const char *argv[] = {"EVAL", requeue_script, "2", q->dead, q->jobs, id};
  size_t lens[] = {4, sizeof requeue_script - 1, 1, strlen(q->dead), strlen(q->jobs), strlen(id)};
  redisReply *r = sg_rd_sync_cmd(q->c, 6, argv, lens, err, errcap);
  if (r == NULL)
    return -2;
  int rv = -2;
  if (r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
      r->element[0]->type == REDIS_REPLY_INTEGER)
    rv = (int)r->element[0]->integer;
  else
    snprintf(err, errcap, "unexpected reply to the requeue script");
  freeReplyObject(r);
  return rv;
}

/* Handles one scanned entry; returns false to stop the scan. */
static bool visit(dlq *q, const char *id, const redisReply *fv) {
  if (q->reason) {
    const redisReply *r = field(fv, "reason");
    if (r == NULL || strcmp(r->str, q->reason) != 0)
      return true;
  }
  q->seen++;
  if (!q->requeue) {
    print_entry(id, fv);
    q->done++;
    return q->limit == 0 || q->done < q->limit;
  }
  char err[300];
  int rv = requeue_one(q, id, err, sizeof err);
  if (rv == 1) {
    q->done++;
  } else if (rv == -1) {
    fprintf(stderr, "sendgate dlq: %s has no job field; left in place\n", id);
    q->rc = 1;
  } else if (rv == -2) {
    fprintf(stderr, "sendgate dlq: %s\n", err);
    q->rc = 3;
    return false;
  } /* 0: requeued or removed by someone else meanwhile */
  return true;
}

/* Walks the dead stream from the start to the entry that is last now. */
static int scan(dlq *q) {
  char err[300];
  const char *rev[] = {"XREVRANGE", q->dead, "+", "-", "COUNT", "1"};
  redisReply *r = sg_rd_sync_cmd(q->c, 6, rev, NULL, err, sizeof err);
  if (r == NULL) {
    fprintf(stderr, "sendgate dlq: %s\n", err);
    return 3;
  }
  char end[SG_RD_ID_MAX] = "";
  if (r->type == REDIS_REPLY_ARRAY && r->elements == 1)
    snprintf(end, sizeof end, "%s", r->element[0]->element[0]->str);
  freeReplyObject(r);
  if (end[0] == '\0')
    return q->rc; /* empty */
  char start[SG_RD_ID_MAX + 1] = "-";
  for (;;) {
    const char *argv[] = {"XRANGE", q->dead, start, end, "COUNT", "200"};
    r = sg_rd_sync_cmd(q->c, 6, argv, NULL, err, sizeof err);
    if (r == NULL) {
      fprintf(stderr, "sendgate dlq: %s\n", err);
      return 3;
    }
    if (r->type != REDIS_REPLY_ARRAY) {
      freeReplyObject(r);
      fprintf(stderr, "sendgate dlq: unexpected XRANGE reply\n");
      return 3;
    }
    bool go = r->elements == PAGE;
    for (size_t i = 0; i < r->elements; i++) {
      const redisReply *e = r->element[i];
      if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
          e->element[0]->type != REDIS_REPLY_STRING || e->element[0]->len >= SG_RD_ID_MAX)
        continue;
      snprintf(start, sizeof start, "(%s", e->element[0]->str);
      if (!visit(q, e->element[0]->str, e->element[1])) {
        go = false;
        break;
      }
    }
    freeReplyObject(r);
    if (!go || strcmp(start + 1, end) == 0)
      break;
  }
  return q->rc;
}

static bool valid_id(const char *s) {
  sg_rd_id id;
  size_t n = strlen(s);
  return n > 0 && n < SG_RD_ID_MAX && strchr(s, '-') && sg_rd_id_parse(s, n, &id) == 0;
}

int sg_cmd_dlq(int argc, char **argv, char **envp) {
  if (argc < 2) {
    fputs(usage, stderr);
    return 2;
  }
  const char *sub = argv[1];
  if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
    fputs(usage, stdout);
    return 0;
  }
  bool requeue = strcmp(sub, "requeue") == 0;
  if (!requeue && strcmp(sub, "list") != 0)
    return fail("unknown subcommand '%s' (see sendgate dlq --help)", sub);

  const char *config = NULL, *redis_url = NULL, *reason = NULL;
  const char *ids[MAX_IDS];
  size_t nids = 0;
  bool all = false;
  unsigned long limit = DEFAULT_LIMIT;
  enum { O_LIMIT = 256, O_REASON, O_ID, O_ALL, O_CONFIG, O_REDIS, O_HELP };
  static const struct option opts[] = {{"limit", 1, 0, O_LIMIT},   {"reason", 1, 0, O_REASON},
                                       {"id", 1, 0, O_ID},         {"all", 0, 0, O_ALL},
                                       {"config", 1, 0, O_CONFIG}, {"redis-url", 1, 0, O_REDIS},
                                       {"help", 0, 0, O_HELP},     {0, 0, 0, 0}};
  int o;
  optind = 1;
  opterr = 0;
  while ((o = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
    switch (o) {
    case O_LIMIT: {
      char *end;
      limit = strtoul(optarg, &end, 10);
      if (optarg[0] < '0' || optarg[0] > '9' || *end != '\0')
        return fail("--limit wants a number, not '%s'", optarg);
      break;
    }
    case O_REASON:
      reason = optarg;
      break;
    case O_ID:
      if (nids == MAX_IDS)
        return fail("at most %d --id per call", MAX_IDS);
      if (!valid_id(optarg))
        return fail("'%s' is not a stream entry id (like 1700000000000-0)", optarg);
      ids[nids++] = optarg;
      break;
    case O_ALL:
      all = true;
      break;
    case O_CONFIG:
      config = optarg;
      break;
    case O_REDIS:
      redis_url = optarg;
      if (sg_rd_url_has_password(redis_url)) {
        fprintf(stderr, "sendgate dlq: %s\n", SG_RD_URL_PASSWORD_REFUSED);
        return 2;
      }
      break;
    case O_HELP:
      fputs(usage, stdout);
      return 0;
    default:
      return fail("unknown or incomplete option (see sendgate dlq --help)");
    }
  }
  if (optind < argc - 1)
    return fail("unexpected argument '%s'", argv[1 + optind]);
  if (requeue) {
    int modes = (nids > 0) + (reason != NULL) + all;
    if (modes != 1)
      return fail("requeue wants exactly one of --id, --reason or --all");
  } else if (nids > 0 || all) {
    return fail("list takes --limit and --reason only");
  }

  sg_config cfg;
  memset(&cfg, 0, sizeof cfg);
  char err[300];
  if (sg_settings_defaults(&sg_config_settings, &cfg, err, sizeof err) ||
      (config && sg_settings_load_ini(&sg_config_settings, &cfg, config, sg_config_ignore_unknown,
                                      NULL, err, sizeof err)) ||
      sg_settings_load_env(&sg_config_settings, &cfg, envp, err, sizeof err)) {
    sg_settings_free(&sg_config_settings, &cfg);
    return fail("%s", err);
  }
  uint64_t timeout = cfg.redis_timeout_ms > 0 ? (uint64_t)cfg.redis_timeout_ms : 5000;
  sg_rd_sync *c = sg_rd_sync_connect(redis_url ? redis_url : cfg.redis_url, cfg.tls_ca_file,
                                     timeout, err, sizeof err);
  if (c == NULL) {
    fprintf(stderr, "sendgate dlq: %s\n", err);
    sg_settings_free(&sg_config_settings, &cfg);
    return 3;
  }
  dlq q = {.c = c,
           .dead = cfg.dead_stream,
           .jobs = cfg.jobs_stream,
           .reason = reason,
           .limit = limit,
           .requeue = requeue};
  int rc = 0;
  if (requeue && nids > 0) {
    for (size_t i = 0; i < nids && q.rc != 3; i++) {
      int rv = requeue_one(&q, ids[i], err, sizeof err);
      if (rv == 1) {
        q.done++;
      } else if (rv == 0) {
        fprintf(stderr, "sendgate dlq: no dead letter %s\n", ids[i]);
        q.rc = 1;
      } else if (rv == -1) {
        fprintf(stderr, "sendgate dlq: %s has no job field; left in place\n", ids[i]);
        q.rc = 1;
      } else {
        fprintf(stderr, "sendgate dlq: %s\n", err);
        q.rc = 3;
      }
    }
    rc = q.rc;
  } else {
    rc = scan(&q);
  }
  if (requeue && rc != 3)
    printf("requeued %lu\n", q.done);
  sg_rd_sync_free(c);
  sg_settings_free(&sg_config_settings, &cfg);
  return rc;
}
