/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sendgate-loadgen: the bundled load generator. Parses the options, runs the
 * load (sg_lg_run), prints the report (text or --json) on stdout and maps the
 * outcome to the exit status, with a one-line reason on stderr when non-zero.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "sg_lg_opts.h"
#include "sg_lg_report.h"
#include "sg_lg_run.h"
#include "sg_lg_track.h"

static void make_run_id(sg_lg_opts *o) {
  uint32_t r = 0;
  if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
    r = (uint32_t)time(NULL) ^ (uint32_t)clock();
  snprintf(o->run_id, sizeof o->run_id, "lg%08" PRIx32, r);
}

/* The exit status and reason for a finished run; 0 with no reason when all is well. */
static int verdict(const sg_lg_opts *o, const sg_lg_track *t, sg_lg_stop stop, char *why,
                   size_t cap) {
  uint64_t missing = sg_lg_track_missing(t);
  if (stop == SG_LG_STOP_INTERRUPTED) {
    snprintf(why, cap, "interrupted (%" PRIu64 " jobs missing a result)", missing);
    return 1;
  }
  if (stop == SG_LG_STOP_STALLED) {
    snprintf(why, cap, "no job could be queued for %.1f s (%" PRIu64 " of %" PRIu64 " queued)",
             o->timeout_s, t->queued, t->planned);
    return 1;
  }
  if (missing && !o->allow_missing) {
    snprintf(why, cap, "%" PRIu64 " jobs missing a result after waiting %.1f s", missing,
             o->timeout_s);
    return 1;
  }
  if (t->queue_failed) {
    snprintf(why, cap, "%" PRIu64 " jobs could not be queued", t->queue_failed);
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  sg_lg_opts o;
  char err[512];
  if (sg_lg_opts_parse(&o, argc, argv, getenv("SENDGATE_REDIS_URL"), err, sizeof err) != 0) {
    fprintf(stderr, "sendgate-loadgen: %s\n", err);
    return 2;
  }
  if (o.help) {
    fputs(sg_lg_usage, stdout);
    return 0;
  }
  if (o.run_id[0] == '\0')
    make_run_id(&o);
  sg_log_set_service("sendgate-loadgen");
  sg_log_set_level(o.verbose ? SG_LOG_INFO : SG_LOG_OFF);

  sg_lg_track t;
  sg_lg_track_init(&t, o.run_id, o.count);
  if (o.warmup_s > 0)
    t.warm_seq = (uint64_t)(o.rate * o.warmup_s);
  sg_lg_stop stop = SG_LG_STOP_ERROR;
  sg_lg_times tm = {0};
  int rv = sg_lg_run(&o, &t, &stop, &tm, err, sizeof err);
  if (rv == 0 || t.built > 0) {
    sg_buf out = SG_BUF_INIT;
    if (o.json)
      sg_lg_report_json(&o, &t, &tm, stop, &out);
    else
      sg_lg_report_text(&o, &t, &tm, stop, &out);
    fwrite(out.data, 1, out.len, stdout);
    fflush(stdout);
    sg_buf_free(&out);
  }
  int code = 1;
  if (rv == 0)
    code = verdict(&o, &t, stop, err, sizeof err);
  if (code != 0)
    fprintf(stderr, "sendgate-loadgen: %s\n", err);
  sg_lg_track_free(&t);
  return code;
}
