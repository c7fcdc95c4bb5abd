/* SPDX-License-Identifier: Apache-2.0 */
/*
 * For unit tests that run a client program (curl, nghttp) against a server on
 * their own loop: the program is spawned on that loop, so the server keeps
 * serving while it runs, and killed when it outlives a guard timer.
 */
#ifndef SG_PROC_TEST_RUN_H
#define SG_PROC_TEST_RUN_H

#include "harness.h"

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <unistd.h>
#include <uv.h>

typedef struct sg_test_run_ {
  uv_process_t proc;
  uv_timer_t guard;
  bool exited, timed_out;
  int64_t status;
  int closes;
} sg_test_run_;

static inline void sg_test_run_on_exit_(uv_process_t *p, int64_t status, int sig) {
  sg_test_run_ *r = p->data;
  r->exited = true;
  r->status = sig ? 128 + sig : status;
}

static inline void sg_test_run_on_guard_(uv_timer_t *t) {
  ((sg_test_run_ *)t->data)->timed_out = true;
}

static inline void sg_test_run_on_close_(uv_handle_t *h) {
  ((sg_test_run_ *)h->data)->closes++;
}

/* Runs argv on |loop| with stdout to the file |outp| and stderr to |errp|
 * (both truncated) and returns its exit code (128 + the signal that ended it);
 * fails when it is still running after |timeout_ms| (it is killed first). */
static inline int sg_test_run_client(uv_loop_t *loop, const char *const *argv, const char *outp,
                                     const char *errp, uint64_t timeout_ms) {
  int ofd = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  int efd = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT(ofd >= 0 && efd >= 0);
  sg_test_run_ r;
  memset(&r, 0, sizeof r);
  uv_stdio_container_t stdio[3];
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = UV_INHERIT_FD;
  stdio[1].data.fd = ofd;
  stdio[2].flags = UV_INHERIT_FD;
  stdio[2].data.fd = efd;
  uv_process_options_t o;
  memset(&o, 0, sizeof o);
  o.file = argv[0];
  o.args = (char **)argv;
  o.exit_cb = sg_test_run_on_exit_;
  o.stdio = stdio;
  o.stdio_count = 3;
  r.proc.data = &r;
  int rv = uv_spawn(loop, &r.proc, &o);
  close(ofd);
  close(efd);
  if (rv != 0)
    SG_FAIL_("spawn %s: %s", argv[0], uv_strerror(rv));
  uv_timer_init(loop, &r.guard);
  r.guard.data = &r;
  uv_timer_start(&r.guard, sg_test_run_on_guard_, timeout_ms, 0);
  while (!r.exited && !r.timed_out)
    uv_run(loop, UV_RUN_ONCE);
  if (!r.exited)
    uv_process_kill(&r.proc, SIGKILL);
  while (!r.exited) /* SIGKILL cannot be ignored; the exit arrives promptly */
    uv_run(loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&r.proc, sg_test_run_on_close_);
  uv_close((uv_handle_t *)&r.guard, sg_test_run_on_close_);
  while (r.closes < 2)
    uv_run(loop, UV_RUN_ONCE);
  ASSERT(!r.timed_out);
  return (int)r.status;
}

#endif
