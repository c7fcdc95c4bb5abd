/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sg-plain-worker: the yardstick for the Redis side of bench/run.sh
 * --redis-compare (not installed). A plain stream worker with no HTTP: it reads
 * sendgate:jobs through the `sendgate` consumer group (XREADGROUP COUNT n
 * BLOCK 100), decodes each job with the gateway's codec and answers it with
 *
 *   MULTI; XADD <reply stream or sendgate:results> * result <MailResult>;
 *   XACK sendgate:jobs sendgate <id>; EXEC
 *
 * one MULTI per job, all of a read batch's transactions written in one
 * pipeline and their replies read back before the next XREADGROUP. The
 * MailResult is a SENT answer shaped like the gateway's (job id, backend,
 * attempts 1, HTTP 202, a 36-character provider request id, campaign,
 * created and completed times, the entry id), so the load generator matches
 * it and its size is the gateway's. No ledger, no XDEL, no retries: that is
 * the point of the comparison. It exits on SIGTERM/SIGINT, after --idle
 * seconds without jobs (0 = never) or after --max seconds, and prints its
 * counts as one JSON line on stdout ("ready" first, once the group exists).
 * Blocking hiredis on its own socket (the naive worker being measured; plain
 * redis:// or unix:// only); every call bounded by a timeout.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <hiredis/hiredis.h>
#pragma GCC diagnostic pop
#include <sys/time.h>

#include "redis/sg_rd_url.h"
#include "core/sg_clock.h"
#include "core/sg_mem.h"
#include "job/sg_job_codec.h"
#include "job/sg_result.h"

#define SG_PW_JOBS "sendgate:jobs"
#define SG_PW_GROUP "sendgate"
#define SG_PW_RESULTS "sendgate:results"
#define SG_PW_MAX_BATCH 100000

static volatile sig_atomic_t sg_pw_stop;
static void sg_pw_on_sig(int s) {
  (void)s;
  sg_pw_stop = 1;
}

typedef struct sg_pw_counts {
  uint64_t read, published, invalid, batches, result_bytes;
} sg_pw_counts;

/* Appends MULTI, XADD of the result, XACK, EXEC for entry |id| with job bytes
 * |data|/|len| (NULL/0 when the entry has no job field). */
static void sg_pw_append(redisContext *c, const char *id, const char *data, size_t len, sg_buf *res,
                         sg_pw_counts *n) {
  sg_job_msg *m = NULL;
  sg_job_error je;
  memset(&je, 0, sizeof je);
  int rv = data ? sg_job_decode((const uint8_t *)data, len, &m, &je) : -1;
  const sg_job *j = m ? sg_job_msg_view(m) : NULL;
  char reqid[40];
  snprintf(reqid, sizeof reqid, "%08" PRIx64 "-0000-4000-8000-%012" PRIx64,
           (n->read >> 32) & 0xffffffffu, n->read & 0xffffffffffffu);
  sg_result r;
  memset(&r, 0, sizeof r);
  r.job_id = j ? j->id : "";
  r.status = rv == 0 ? SG_STATUS_SENT : SG_STATUS_INVALID;
  r.backend = j && j->backend == SG_BACKEND_ACS ? SG_BACKEND_ACS : SG_BACKEND_GRAPH;
  r.attempts = rv == 0 ? 1 : 0;
  r.http_status = rv == 0 ? 202 : 0;
  r.error_code = rv == 0 ? "" : (data ? je.code : "SENDGATE_NO_JOB");
  r.error_message = rv == 0 ? "" : je.message;
  r.provider_request_id = rv == 0 ? reqid : "";
  r.campaign_id = j ? j->campaign_id : "";
  r.created_unix_ms = j ? j->created_unix_ms : 0;
  r.completed_unix_ms = sg_wall_ms();
  r.stream_entry_id = id;
  r.sender = j ? j->sender : ""; /* as the gateway's results name it */
  if (rv != 0)
    n->invalid++;
  sg_buf_reset(res);
  sg_result_encode(&r, res);
  n->result_bytes += res->len;
  const char *stream = j && j->reply_stream[0] ? j->reply_stream : SG_PW_RESULTS;
  const char *multi[1] = {"MULTI"};
  const char *xadd[5] = {"XADD", stream, "*", "result", res->data};
  size_t xaddl[5] = {4, strlen(stream), 1, 6, res->len};
  const char *xack[4] = {"XACK", SG_PW_JOBS, SG_PW_GROUP, id};
  const char *exec[1] = {"EXEC"};
  redisAppendCommandArgv(c, 1, multi, NULL);
  redisAppendCommandArgv(c, 5, xadd, xaddl); /* hiredis copies the arguments */
  redisAppendCommandArgv(c, 4, xack, NULL);
  redisAppendCommandArgv(c, 1, exec, NULL);
  if (m)
    sg_job_msg_free(m);
}

/* Answers the entries of one XREADGROUP reply; returns the number answered or -1. */
static int sg_pw_handle(redisContext *c, const redisReply *r, sg_buf *res, sg_pw_counts *n) {
  size_t got = 0;
  for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
    const redisReply *s = r->element[i];
    if (s->type != REDIS_REPLY_ARRAY || s->elements != 2 ||
        s->element[1]->type != REDIS_REPLY_ARRAY)
      continue;
    const redisReply *es = s->element[1];
    for (size_t k = 0; k < es->elements; k++) {
      const redisReply *e = es->element[k];
      if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
          e->element[0]->type != REDIS_REPLY_STRING)
        continue;
      const redisReply *f = e->element[1];
      const char *data = NULL;
      size_t len = 0;
      for (size_t x = 0; f->type == REDIS_REPLY_ARRAY && x + 1 < f->elements; x += 2)
        if (f->element[x]->type == REDIS_REPLY_STRING && strcmp(f->element[x]->str, "job") == 0) {
          data = f->element[x + 1]->str;
          len = f->element[x + 1]->len;
        }
      n->read++;
      sg_pw_append(c, e->element[0]->str, data, len, res, n);
      got++;
    }
  }
  int rc = (int)got;
  for (size_t i = 0; i < got * 4; i++) {
    redisReply *a = NULL;
    if (redisGetReply(c, (void **)&a) != REDIS_OK || a == NULL) {
      fprintf(stderr, "sg-plain-worker: Redis: %s\n", c->errstr[0] ? c->errstr : "no reply");
      return -1;
    }
    /* Reply 4 of each job is EXEC's: the XADD id and the XACK count. */
    bool bad = a->type == REDIS_REPLY_ERROR ||
               (i % 4 == 3 && (a->type != REDIS_REPLY_ARRAY || a->elements != 2 ||
                               a->element[0]->type != REDIS_REPLY_STRING));
    if (bad) {
      fprintf(stderr, "sg-plain-worker: transaction failed: %s\n",
              a->type == REDIS_REPLY_ERROR ? a->str : "unexpected EXEC reply");
      rc = -1;
    } else if (i % 4 == 3) {
      n->published++;
    }
    freeReplyObject(a);
  }
  if (got > 0)
    n->batches++;
  return rc;
}

static int sg_pw_usage(void) {
  fprintf(stderr, "usage: sg-plain-worker [--redis-url URL] [--count N] [--consumer NAME]\n"
                  "                       [--idle S] [--max S]\n");
  return 2;
}

/* hiredis's blocking connect with AUTH and SELECT from a redis:// or unix:// URL. */
static redisContext *sg_pw_connect(const char *url, char *err, size_t errcap) {
  sg_rd_url u;
  if (sg_rd_url_parse(url, &u) != 0 || u.tls) {
    snprintf(err, errcap, "bad Redis URL (redis:// or unix:// only)");
    return NULL;
  }
  struct timeval tv = {5, 0};
  redisContext *c = u.is_unix ? redisConnectUnixWithTimeout(u.path, tv)
                              : redisConnectWithTimeout(u.host, u.port, tv);
  if (c == NULL || c->err) {
    snprintf(err, errcap, "cannot connect to Redis: %s", c ? c->errstr : "out of memory");
    if (c)
      redisFree(c);
    return NULL;
  }
  redisSetTimeout(c, tv);
  redisReply *r = NULL;
  if (u.password[0])
    r = u.user[0] ? redisCommand(c, "AUTH %s %s", u.user, u.password)
                  : redisCommand(c, "AUTH %s", u.password);
  if (r == NULL && u.password[0]) {
    snprintf(err, errcap, "Redis AUTH: %s", c->errstr);
    redisFree(c);
    return NULL;
  }
  if (r != NULL && r->type == REDIS_REPLY_ERROR) {
    snprintf(err, errcap, "Redis AUTH: %s", r->str);
    freeReplyObject(r);
    redisFree(c);
    return NULL;
  }
  if (r)
    freeReplyObject(r);
  if (u.db) {
    r = redisCommand(c, "SELECT %d", u.db);
    bool ok = r != NULL && r->type != REDIS_REPLY_ERROR;
    if (r)
      freeReplyObject(r);
    if (!ok) {
      snprintf(err, errcap, "Redis SELECT %d failed", u.db);
      redisFree(c);
      return NULL;
    }
  }
  return c;
}

int main(int argc, char **argv) {
  const char *url = getenv("SENDGATE_REDIS_URL");
  const char *consumer = "plain";
  char count[16] = "512";
  double idle_s = 0, max_s = 600;
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 >= argc)
      return sg_pw_usage();
    if (strcmp(argv[i], "--redis-url") == 0) {
      url = argv[i + 1];
    } else if (strcmp(argv[i], "--count") == 0) {
      unsigned long v = strtoul(argv[i + 1], NULL, 10);
      if (v == 0 || v > SG_PW_MAX_BATCH)
        return sg_pw_usage();
      snprintf(count, sizeof count, "%lu", v);
    } else if (strcmp(argv[i], "--consumer") == 0) {
      consumer = argv[i + 1];
    } else if (strcmp(argv[i], "--idle") == 0) {
      idle_s = strtod(argv[i + 1], NULL);
    } else if (strcmp(argv[i], "--max") == 0) {
      max_s = strtod(argv[i + 1], NULL);
    } else {
      fprintf(stderr, "sg-plain-worker: unknown option %s\n", argv[i]);
      return sg_pw_usage();
    }
  }
  if (url == NULL)
    url = "redis://127.0.0.1:6379/0";
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = sg_pw_on_sig;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  char err[256];
  redisContext *c = sg_pw_connect(url, err, sizeof err);
  if (c == NULL) {
    fprintf(stderr, "sg-plain-worker: %s\n", err);
    return 1;
  }
  const char *mk[6] = {"XGROUP", "CREATE", SG_PW_JOBS, SG_PW_GROUP, "0", "MKSTREAM"};
  redisReply *r = redisCommandArgv(c, 6, mk, NULL);
  if (r == NULL || (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYGROUP", 9) != 0)) {
    fprintf(stderr, "sg-plain-worker: XGROUP CREATE: %s\n", r ? r->str : c->errstr);
    if (r)
      freeReplyObject(r);
    redisFree(c);
    return 1;
  }
  freeReplyObject(r);
  printf("ready\n");
  fflush(stdout);
  sg_pw_counts n = {0, 0, 0, 0, 0};
  sg_buf res = SG_BUF_INIT;
  uint64_t start = sg_mono_ms(), last = start;
  int rc = 0;
  const char *rd[11] = {"XREADGROUP", "GROUP", SG_PW_GROUP, consumer,   "COUNT", count,
                        "BLOCK",      "100",   "STREAMS",   SG_PW_JOBS, ">"};
  while (!sg_pw_stop) {
    uint64_t now = sg_mono_ms();
    if ((idle_s > 0 && (double)(now - last) > idle_s * 1000) ||
        (double)(now - start) > max_s * 1000)
      break;
    r = redisCommandArgv(c, 11, rd, NULL);
    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
      if (sg_pw_stop)
        break; /* a signal interrupted the blocking read */
      fprintf(stderr, "sg-plain-worker: XREADGROUP: %s\n", r ? r->str : c->errstr);
      if (r)
        freeReplyObject(r);
      rc = 1;
      break;
    }
    int got = sg_pw_handle(c, r, &res, &n);
    freeReplyObject(r);
    if (got < 0) {
      rc = 1;
      break;
    }
    if (got > 0)
      last = sg_mono_ms();
  }
  printf("{\"read\":%" PRIu64 ",\"published\":%" PRIu64 ",\"invalid\":%" PRIu64
         ",\"batches\":%" PRIu64 ",\"result_bytes_avg\":%.1f}\n",
         n.read, n.published, n.invalid, n.batches,
         n.read ? (double)n.result_bytes / (double)n.read : 0.0);
  sg_buf_free(&res);
  redisFree(c);
  return rc;
}
