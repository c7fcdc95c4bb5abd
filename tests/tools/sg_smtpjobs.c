/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test helper for tests/integration/test_smtpd*.sh:
 *   sg_smtpjobs dump URL STREAM DIR
 *       decodes every MailJob of STREAM (the `job` field) and writes, per
 *       entry N (1, 2, ...), DIR/N.meta ("id X", "sender X", "account X",
 *       "reply_stream X", one "to X" per recipient, "cc"/"bcc" counts) and
 *       DIR/N.mime (the mime bytes). Prints the number of entries.
 * The job may be refused by today's validation (mime with recipients) and is
 * still dumped: the view is filled all the same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job/sg_job_codec.h"
#include "redis/sg_rd_sync.h"

static int dump_one(const char *dir, int n, const char *data, size_t len) {
  sg_job_msg *m = NULL;
  sg_job_error e;
  sg_job_decode((const uint8_t *)data, len, &m, &e);
  if (m == NULL) {
    fprintf(stderr, "sg_smtpjobs: entry %d is not a MailJob\n", n);
    return 1;
  }
  const sg_job *j = sg_job_msg_view(m);
  char path[1024];
  snprintf(path, sizeof path, "%s/%d.meta", dir, n);
  FILE *f = fopen(path, "w");
  if (f == NULL)
    return 1;
  fprintf(f, "id %s\nsender %s\naccount %s\nreply_stream %s\ncc %zu\nbcc %zu\n", j->id, j->sender,
          j->account, j->reply_stream, j->n_cc, j->n_bcc);
  for (size_t i = 0; i < j->n_to; i++)
    fprintf(f, "to %s\n", j->to[i].address);
  fclose(f);
  snprintf(path, sizeof path, "%s/%d.mime", dir, n);
  f = fopen(path, "wb");
  if (f == NULL)
    return 1;
  fwrite(j->mime, 1, j->mime_len, f);
  fclose(f);
  sg_job_msg_free(m);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 5 || strcmp(argv[1], "dump") != 0) {
    fprintf(stderr, "usage: sg_smtpjobs dump URL STREAM DIR\n");
    return 2;
  }
  char err[256];
  sg_rd_sync *c =
      sg_rd_sync_connect(argv[2], getenv("SENDGATE_TLS_CA_FILE"), 5000, err, sizeof err);
  if (c == NULL) {
    fprintf(stderr, "sg_smtpjobs: %s\n", err);
    return 1;
  }
  const char *av[] = {"XRANGE", argv[3], "-", "+"};
  redisReply *r = sg_rd_sync_cmd(c, 4, av, NULL, err, sizeof err);
  if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
    fprintf(stderr, "sg_smtpjobs: %s\n", r ? "unexpected reply" : err);
    return 1;
  }
  int rc = 0;
  for (size_t i = 0; i < r->elements; i++) {
    redisReply *fields = r->element[i]->element[1];
    for (size_t k = 0; k + 1 < fields->elements; k += 2)
      if (strcmp(fields->element[k]->str, "job") == 0)
        rc |=
            dump_one(argv[4], (int)i + 1, fields->element[k + 1]->str, fields->element[k + 1]->len);
  }
  printf("%zu\n", r->elements);
  freeReplyObject(r);
  sg_rd_sync_free(c);
  return rc;
}
