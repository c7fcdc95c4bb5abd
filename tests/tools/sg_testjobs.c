/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test helper for the integration tests and the demo:
 *   sg_testjobs gen N [--senders S] [--invalid-every K] [--prefix P] [--acs-every K]
 *                     [--created MS] [--reply-stream KEY]
 *       writes N `XADD sendgate:jobs * job <MailJob>` commands in RESP to stdout,
 *       for `redis-cli --pipe`. Every K-th job is invalid in a rotating way.
 *   sg_testjobs summary URL STREAM
 *       reads every MailResult in STREAM and prints counts by status and by
 *       error code, and the number of distinct job ids, one "key value" per line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis/sg_rd_sync.h"
#include "core/sg_clock.h"
#include "core/sg_mem.h"
#include "job/sg_job_codec.h"
#include "job/sg_result.h"

static void resp_cmd(FILE *f, int argc, const char **argv, const size_t *lens) {
  fprintf(f, "*%d\r\n", argc);
  for (int i = 0; i < argc; i++) {
    fprintf(f, "$%zu\r\n", lens[i]);
    fwrite(argv[i], 1, lens[i], f);
    fputs("\r\n", f);
  }
}

static int gen(int argc, char **argv) {
  long n = atol(argv[2]), senders = 4, invalid_every = 0, acs_every = 0, bounce_every = 0;
  int all_acs = 0;
  long long created = 0; /* 0: now */
  const char *reply = "";
  const char *prefix = "job";
  const char *account = "";
  long body_bytes = 0; /* pad the text body to about this size */
  for (int i = 3; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--senders") == 0)
      senders = atol(argv[i + 1]);
    else if (strcmp(argv[i], "--invalid-every") == 0)
      invalid_every = atol(argv[i + 1]);
    else if (strcmp(argv[i], "--acs-every") == 0)
      acs_every = atol(argv[i + 1]);
    else if (strcmp(argv[i], "--prefix") == 0)
      prefix = argv[i + 1];
    else if (strcmp(argv[i], "--bounce-every") == 0)
      bounce_every = atol(argv[i + 1]);
    else if (strcmp(argv[i], "--backend") == 0)
      all_acs = strcmp(argv[i + 1], "acs") == 0;
    else if (strcmp(argv[i], "--created") == 0)
      created = strtoll(argv[i + 1], NULL, 10);
    else if (strcmp(argv[i], "--reply-stream") == 0)
      reply = argv[i + 1];
    else if (strcmp(argv[i], "--account") == 0)
      account = argv[i + 1];
    else if (strcmp(argv[i], "--body-bytes") == 0)
      body_bytes = atol(argv[i + 1]);
  }
  if (senders < 1)
    senders = 1;
  char *big = NULL; /* --body-bytes: lines of text up to about that size */
  if (body_bytes > 0) {
    big = sg_xmalloc((size_t)body_bytes + 1);
    for (long k = 0; k < body_bytes; k++)
      big[k] = k % 72 == 71 ? '\n' : (char)('a' + k % 26);
    big[body_bytes] = '\0';
  }
  sg_buf pb = SG_BUF_INIT;
  char id[128], sender[64], rcpt[64], cc[64], subject[160], body[200];
  static const char *kinds[] = {"no_recipients",   "bad_address",      "crlf_subject",
                                "bad_header",      "too_many_headers", "unknown_account",
                                "mime_and_content"};
  for (long i = 0; i < n; i++) {
    snprintf(id, sizeof id, "%s-%ld", prefix, i);
    snprintf(sender, sizeof sender, "sender-%ld@contoso.com", i % senders);
    snprintf(rcpt, sizeof rcpt, "r-%ld@%s", i,
             bounce_every && i % bounce_every == bounce_every - 1 ? "bounce.example"
                                                                  : "example.com");
    snprintf(cc, sizeof cc, "c-%ld@example.com", i);
    snprintf(subject, sizeof subject, "Order %s confirmed \xe2\x9c\x93", id);
    snprintf(body, sizeof body, "Hello,\nyour order %s is confirmed.\n\"Thanks\" \\ <team>\n", id);
    sg_job_addr to[] = {{rcpt, "R\xc3\xa9"
                               "ceiver"}},
                ccs[] = {{cc, ""}};
    sg_job_header hdr[] = {{"X-Order", id}};
    sg_job_kv md[] = {{"n", id}};
    sg_job j = {0};
    j.id = id;
    j.account = account;
    j.sender = sender;
    j.to = to;
    j.n_to = 1;
    j.cc = ccs;
    j.n_cc = i % 3 == 0;
    j.subject = subject;
    j.text_body = big ? big : body;
    j.html_body = i % 2 ? "<p>Hello &amp; welcome</p>" : "";
    j.headers = hdr;
    j.n_headers = 1;
    j.metadata = md;
    j.n_metadata = 1;
    j.reply_stream = reply;
    j.campaign_id = "demo";
    j.created_unix_ms = created ? created : sg_wall_ms();
    if (all_acs || (acs_every && i % acs_every == 1))
      j.backend = SG_BACKEND_ACS;
    sg_job_addr bad[] = {{"not-an-address", ""}};
    sg_job_header many[6] = {{"X-1", "a"}, {"X-2", "a"}, {"X-3", "a"},
                             {"X-4", "a"}, {"X-5", "a"}, {"X-6", "a"}};
    sg_job_header badh[] = {{"Subject", "x"}};
    if (invalid_every && i % invalid_every == invalid_every - 1) {
      switch ((i / invalid_every) % 7) {
      case 0:
        j.n_to = 0;
        j.n_cc = 0;
        break;
      case 1:
        j.to = bad;
        break;
      case 2:
        j.subject = "Hi\r\nBcc: x@evil.example";
        break;
      case 3:
        j.headers = badh;
        break;
      case 4:
        j.headers = many;
        j.n_headers = 6;
        break;
      case 5:
        j.account = "nobody";
        break;
      case 6:
        j.mime = (const uint8_t *)"To: a@b.example\r\n\r\nx";
        j.mime_len = 20;
        break;
      }
      (void)kinds;
    }
    sg_buf_reset(&pb);
    sg_job_encode(&j, &pb);
    const char *av[] = {"XADD", "sendgate:jobs", "*", "job", pb.data};
    size_t al[] = {4, 13, 1, 3, pb.len};
    resp_cmd(stdout, 5, av, al);
  }
  sg_buf_free(&pb);
  sg_free(big);
  return 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int summary(const char *url, const char *stream) {
  char err[256];
  sg_rd_sync *c = sg_rd_sync_connect(url, getenv("SENDGATE_TLS_CA_FILE"), 5000, err, sizeof err);
  if (c == NULL) {
    fprintf(stderr, "sg_testjobs: %s\n", err);
    return 1;
  }
  long counts[5] = {0}, total = 0, undecodable = 0, with_op = 0, by_smtp = 0;
  struct {
    char code[64];
    long n;
  } codes[64];
  size_t ncodes = 0;
  char last[64] = "-";
  char **ids = NULL;
  size_t nids = 0, capids = 0;
  for (;;) {
    const char *av[] = {"XRANGE", stream, last, "+", "COUNT", "1000"};
    char excl[70];
    if (strcmp(last, "-") != 0) {
      snprintf(excl, sizeof excl, "(%s", last);
      av[2] = excl;
    }
    redisReply *r = sg_rd_sync_cmd(c, 6, av, NULL, err, sizeof err);
    if (r == NULL) {
      fprintf(stderr, "sg_testjobs: %s\n", err);
      return 1;
    }
    if (r->elements == 0) {
      freeReplyObject(r);
      break;
    }
    for (size_t i = 0; i < r->elements; i++) {
      redisReply *e = r->element[i];
      snprintf(last, sizeof last, "%s", e->element[0]->str);
      redisReply *f = e->element[1];
      for (size_t k = 0; k + 1 < f->elements; k += 2) {
        if (strcmp(f->element[k]->str, "result") != 0)
          continue;
        sg_result_msg *m;
        if (sg_result_decode((const uint8_t *)f->element[k + 1]->str, f->element[k + 1]->len, &m)) {
          undecodable++;
          continue;
        }
        const sg_result *res = sg_result_msg_view(m);
        total++;
        if (res->operation_id[0])
          with_op++;
        if (res->backend == SG_BACKEND_SMTP)
          by_smtp++;
        if ((unsigned)res->status < 5)
          counts[res->status]++;
        if (res->error_code[0]) {
          size_t j;
          for (j = 0; j < ncodes; j++)
            if (strcmp(codes[j].code, res->error_code) == 0)
              break;
          if (j == ncodes && ncodes < 64) {
            snprintf(codes[ncodes].code, sizeof codes[0].code, "%s", res->error_code);
            codes[ncodes++].n = 0;
          }
          if (j < ncodes)
            codes[j].n++;
        }
        if (nids == capids) {
          capids = capids ? capids * 2 : 1024;
          ids = sg_xrealloc(ids, capids * sizeof *ids);
        }
        ids[nids++] = sg_xstrdup(res->job_id);
        sg_result_msg_free(m);
      }
    }
    freeReplyObject(r);
  }
  sg_rd_sync_free(c);
  qsort(ids, nids, sizeof *ids, cmp_str);
  long distinct = 0;
  for (size_t i = 0; i < nids; i++)
    if (i == 0 || strcmp(ids[i], ids[i - 1]) != 0)
      distinct++;
  printf("results %ld\nSENT %ld\nFAILED %ld\nINVALID %ld\nEXPIRED %ld\ndistinct_ids %ld\n"
         "undecodable %ld\nwith_operation_id %ld\nbackend_smtp %ld\n",
         total, counts[1], counts[2], counts[3], counts[4], distinct, undecodable, with_op,
         by_smtp);
  for (size_t j = 0; j < ncodes; j++)
    printf("code:%s %ld\n", codes[j].code, codes[j].n);
  for (size_t i = 0; i < nids; i++)
    sg_free(ids[i]);
  sg_free(ids);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 3 && strcmp(argv[1], "gen") == 0)
    return gen(argc, argv);
  if (argc == 4 && strcmp(argv[1], "summary") == 0)
    return summary(argv[2], argv[3]);
  fprintf(stderr,
          "usage: sg_testjobs gen N [--senders S] [--invalid-every K] [--acs-every K] "
          "[--backend acs] [--bounce-every K] [--prefix P] [--account NAME] [--body-bytes N] | "
          "summary URL STREAM\n");
  return 2;
}
