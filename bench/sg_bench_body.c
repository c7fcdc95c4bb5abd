/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sg-bench-body: writes the exact Graph sendMail request the gateway sends
 * for one sendgate-loadgen job, so bench/run.sh can give h2load the same body.
 * It takes sendgate-loadgen's own options (--senders, --size, --recipients,
 * ...), builds job number SEQ with the load generator's builder, decodes it
 * with the gateway's job codec and builds the body with sg_graph_build().
 *
 * Usage: sg-bench-body OUT_FILE SEQ [loadgen options]
 * Writes the body to OUT_FILE and prints "<path> <content-type>" on stdout,
 * the path being the request path (/v1.0/users/<mailbox>/sendMail).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_mem.h"
#include "job/sg_job_codec.h"
#include "sg_lg_job.h"
#include "sg_lg_opts.h"
#include "svc/sg_graph.h"

static int write_file(const char *path, const sg_buf *b) {
  FILE *f = fopen(path, "wb");
  if (!f)
    return -1;
  size_t n = fwrite(b->data, 1, b->len, f);
  int rc = fclose(f);
  return (n == b->len && rc == 0) ? 0 : -1;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: sg-bench-body OUT_FILE SEQ [sendgate-loadgen options]\n");
    return 2;
  }
  const char *out_path = argv[1];
  char *end = NULL;
  errno = 0;
  unsigned long long seq = strtoull(argv[2], &end, 10);
  if (errno || !end || *end) {
    fprintf(stderr, "sg-bench-body: bad SEQ %s\n", argv[2]);
    return 2;
  }
  /* The loadgen parser expects argv[0] to be the program: reuse argv[2]'s slot. */
  sg_lg_opts o;
  char err[512];
  argv[2] = argv[0];
  if (sg_lg_opts_parse(&o, argc - 2, argv + 2, NULL, err, sizeof err) != 0) {
    fprintf(stderr, "sg-bench-body: %s\n", err);
    return 2;
  }
  if (o.run_id[0] == '\0')
    snprintf(o.run_id, sizeof o.run_id, "bench");

  sg_lg_builder b;
  sg_lg_builder_init(&b, &o);
  sg_buf pb = SG_BUF_INIT, body = SG_BUF_INIT, path = SG_BUF_INIT;
  sg_lg_job_build(&b, seq, 1700000000000, &pb);
  int rc = 1;
  sg_job_msg *m = NULL;
  sg_job_error jerr;
  if (sg_job_decode((const uint8_t *)pb.data, pb.len, &m, &jerr) != 0) {
    fprintf(stderr, "sg-bench-body: job %llu does not decode: %s\n", seq, jerr.code);
    goto done;
  }
  const sg_job *job = sg_job_msg_view(m);
  const char *ctype = NULL;
  if (sg_graph_build(job, &body, &ctype) != 0 || sg_graph_path(&path, job->sender) != 0) {
    fprintf(stderr, "sg-bench-body: cannot build the Graph request\n");
    goto done;
  }
  if (write_file(out_path, &body) != 0) {
    fprintf(stderr, "sg-bench-body: cannot write %s\n", out_path);
    goto done;
  }
  printf("%s %s\n", path.data, ctype);
  rc = 0;
done:
  sg_job_msg_free(m);
  sg_buf_free(&pb);
  sg_buf_free(&body);
  sg_buf_free(&path);
  sg_lg_builder_free(&b);
  return rc;
}
