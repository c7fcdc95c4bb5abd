/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sg-lg-fakegw: a stand-in gateway for testing sendgate-loadgen without the
 * real one (test helper; not installed). It reads sendgate:jobs through the
 * `sendgate` consumer group, decodes each job with the real codec and
 * publishes a MailResult (SENT, or INVALID with the codec's error code) to the
 * job's reply stream or sendgate:results, then acks. On request it drops
 * every Nth job (no result) or answers every Nth job twice. It exits after
 * --idle seconds without jobs, after --max seconds, or on SIGTERM/SIGINT, and
 * prints its counts as one JSON line on stdout. Blocking hiredis; every call
 * bounded by a timeout.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_clock.h"
#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "job/sg_job_codec.h"
#include "job/sg_result.h"
#include "redis/sg_rd_sync.h"

static volatile sig_atomic_t stop_flag;
static void on_sig(int s) {
  (void)s;
  stop_flag = 1;
}

typedef struct counts {
  uint64_t read, published, dropped, invalid, duplicated;
} counts;

static redisReply *cmd(sg_rd_sync *c, int argc, const char **argv, const size_t *lens) {
  char err[256];
  redisReply *r = sg_rd_sync_cmd(c, argc, argv, lens, err, sizeof err);
  if (r == NULL && strstr(err, "BUSYGROUP") == NULL)
    fprintf(stderr, "sg-lg-fakegw: %s\n", err);
  return r;
}

static int publish(sg_rd_sync *c, const char *stream, const sg_buf *res) {
  const char *argv[5] = {"XADD", stream, "*", "result", res->data};
  size_t lens[5] = {4, strlen(stream), 1, 6, res->len};
  redisReply *r = cmd(c, 5, argv, lens);
  if (r == NULL)
    return -1;
  freeReplyObject(r);
  return 0;
}

/* Answers one entry (|id|, job bytes |data|/|len|) per the options. */
static int answer(sg_rd_sync *c, const char *id, const char *data, size_t len, uint64_t drop,
                  uint64_t dup, counts *n) {
  n->read++;
  if (drop && n->read % drop == 0) {
    n->dropped++;
    return 0;
  }
  sg_job_msg *m = NULL;
  sg_job_error je;
  memset(&je, 0, sizeof je);
  int rv = sg_job_decode((const uint8_t *)data, len, &m, &je);
  const sg_job *j = m ? sg_job_msg_view(m) : NULL;
  sg_result r;
  memset(&r, 0, sizeof r);
  r.job_id = j ? j->id : "";
  r.status = rv == 0 ? SG_STATUS_SENT : SG_STATUS_INVALID;
  r.backend = j && j->backend == SG_BACKEND_ACS ? SG_BACKEND_ACS : SG_BACKEND_GRAPH;
  r.attempts = rv == 0 ? 1 : 0;
  r.http_status = rv == 0 ? 202 : 0;
  r.error_code = rv == 0 ? "" : je.code;
  r.error_message = rv == 0 ? "" : je.message;
  r.campaign_id = j ? j->campaign_id : "";
  r.created_unix_ms = j ? j->created_unix_ms : 0;
  r.completed_unix_ms = sg_wall_ms();
  r.stream_entry_id = id;
  if (rv != 0)
    n->invalid++;
  sg_buf res = SG_BUF_INIT;
  sg_result_encode(&r, &res);
  const char *stream = j && j->reply_stream[0] ? j->reply_stream : "sendgate:results";
  int prv = publish(c, stream, &res);
  if (prv == 0)
    n->published++;
  if (prv == 0 && dup && n->read % dup == 0 && publish(c, stream, &res) == 0)
    n->duplicated++;
  sg_buf_free(&res);
  if (m)
    sg_job_msg_free(m);
  return prv;
}

static int handle(sg_rd_sync *c, const redisReply *r, uint64_t drop, uint64_t dup, counts *n) {
  int got = 0;
  for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
    const redisReply *es = r->element[i]->element[1];
    for (size_t k = 0; k < es->elements; k++) {
      const redisReply *e = es->element[k];
      const char *id = e->element[0]->str;
      const redisReply *f = e->element[1];
      for (size_t x = 0; f->type == REDIS_REPLY_ARRAY && x + 1 < f->elements; x += 2)
        if (strcmp(f->element[x]->str, "job") == 0 &&
            answer(c, id, f->element[x + 1]->str, f->element[x + 1]->len, drop, dup, n) != 0)
          return -1;
      const char *ack[4] = {"XACK", "sendgate:jobs", "sendgate", id};
      size_t lens[4] = {4, 13, 8, strlen(id)};
      redisReply *a = cmd(c, 4, ack, lens);
      if (a == NULL)
        return -1;
      freeReplyObject(a);
      got++;
    }
  }
  return got;
}

int main(int argc, char **argv) {
  const char *url = getenv("SENDGATE_REDIS_URL");
  uint64_t drop = 0, dup = 0;
  double idle_s = 5, max_s = 120;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--redis-url") == 0)
      url = argv[i + 1];
    else if (strcmp(argv[i], "--drop-every") == 0)
      drop = strtoull(argv[i + 1], NULL, 10);
    else if (strcmp(argv[i], "--dup-every") == 0)
      dup = strtoull(argv[i + 1], NULL, 10);
    else if (strcmp(argv[i], "--idle") == 0)
      idle_s = strtod(argv[i + 1], NULL);
    else if (strcmp(argv[i], "--max") == 0)
      max_s = strtod(argv[i + 1], NULL);
    else {
      fprintf(stderr, "sg-lg-fakegw: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  signal(SIGTERM, on_sig);
  signal(SIGINT, on_sig);
  char err[256];
  sg_rd_sync *c = sg_rd_sync_connect(url, getenv("SENDGATE_TLS_CA_FILE"), 5000, err, sizeof err);
  if (c == NULL) {
    fprintf(stderr, "sg-lg-fakegw: %s\n", err);
    return 1;
  }
  const char *mk[6] = {"XGROUP", "CREATE", "sendgate:jobs", "sendgate", "0", "MKSTREAM"};
  size_t mkl[6] = {6, 6, 13, 8, 1, 8};
  redisReply *r = cmd(c, 6, mk, mkl);
  if (r)
    freeReplyObject(r);
  printf("ready\n");
  fflush(stdout);
  counts n = {0, 0, 0, 0, 0};
  uint64_t start = sg_mono_ms(), last = start;
  int rc = 0;
  const char *rd[11] = {"XREADGROUP", "GROUP", "sendgate", "fake",          "COUNT", "100",
                        "BLOCK",      "100",   "STREAMS",  "sendgate:jobs", ">"};
  size_t rdl[11];
  for (int i = 0; i < 11; i++)
    rdl[i] = strlen(rd[i]);
  while (!stop_flag) {
    uint64_t now = sg_mono_ms();
    if ((double)(now - last) > idle_s * 1000 || (double)(now - start) > max_s * 1000)
      break;
    r = cmd(c, 11, rd, rdl);
    if (r == NULL) {
      rc = 1;
      break;
    }
    int got = handle(c, r, drop, dup, &n);
    freeReplyObject(r);
    if (got < 0) {
      rc = 1;
      break;
    }
    if (got > 0)
      last = sg_mono_ms();
  }
  printf("{\"read\":%" PRIu64 ",\"published\":%" PRIu64 ",\"dropped\":%" PRIu64
         ",\"invalid\":%" PRIu64 ",\"duplicated\":%" PRIu64 "}\n",
         n.read, n.published, n.dropped, n.invalid, n.duplicated);
  sg_rd_sync_free(c);
  return rc;
}
