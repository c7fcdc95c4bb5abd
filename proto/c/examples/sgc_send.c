/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Example: send one message through sendgate with the C client and print its
 * result. Redis from $SENDGATE_REDIS_URL (else redis://127.0.0.1:6379/0).
 *
 *   sgc_send FROM TO [SUBJECT [TEXT]]
 *
 * Exit 0 when SENT, 1 for another result, 2 on a usage or Redis error, 4 when
 * no result came within 30 s.
 */
#include <stdio.h>

#include "sendgate/client.h"

int main(int argc, char **argv) {
  if (argc < 3 || argc > 5) {
    fprintf(stderr, "usage: sgc_send FROM TO [SUBJECT [TEXT]]\n");
    return 2;
  }
  char err[256];
  sgc_client *c;
  if (sgc_connect(&c, NULL, err, sizeof err) != 0) {
    fprintf(stderr, "sgc_send: %s\n", err);
    return 2;
  }
  sgc_job *j = sgc_job_new();
  if (j == NULL || sgc_job_set_sender(j, argv[1]) ||
      sgc_job_add_recipient(j, SGC_TO, argv[2], NULL) ||
      sgc_job_set_subject(j, argc > 3 ? argv[3] : "Hello from sendgate") ||
      sgc_job_set_text(j, argc > 4 ? argv[4] : "Sent with the C client.") ||
      sgc_job_add_metadata(j, "source", "examples/sgc_send.c")) {
    fprintf(stderr, "sgc_send: out of memory\n");
    sgc_job_free(j);
    sgc_close(c);
    return 2;
  }
  sgc_result *r = NULL;
  int rv = sgc_send_and_wait(c, j, 30000, &r);
  int rc = 0;
  if (rv != 0) {
    fprintf(stderr, "sgc_send: %s: %s\n", sgc_strerror(rv), sgc_errstr(c));
    rc = rv == SGC_ERR_TIMEOUT ? 4 : 2;
  } else {
    printf("%s %s attempts=%u http=%d", r->job_id, sgc_status_name(r->status), r->attempts,
           r->http_status);
    if (r->error_code[0])
      printf(" error=%s: %s", r->error_code, r->error_message);
    printf("\n");
    rc = r->status == SGC_STATUS_SENT ? 0 : 1;
    sgc_result_free(r);
  }
  sgc_job_free(j);
  sgc_close(c);
  return rc;
}
