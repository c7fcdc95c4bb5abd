/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Job objects: created per stream entry, released when the entry is
 * completed (or left pending), and kept for reuse in bounded pools, as are
 * request body buffers, so a message costs no allocation storm.
 */
#include "app/sg_app_int.h"

#include <stdio.h>
#include <string.h>

void sg_app__body_get(sg_app *a, sg_buf *b) {
  if (b->cap == 0 && a->n_bodies > 0) {
    *b = a->bodies[--a->n_bodies];
    a->bodies_bytes -= b->cap;
  }
}

void sg_app__body_put(sg_app *a, sg_buf *b) {
  if (b->cap > 0 && b->cap <= SG_BODY_POOL_CAP && a->n_bodies < SG_BODY_POOL_MAX &&
      a->bodies_bytes + b->cap <= SG_BODY_POOL_BYTES) {
    sg_buf_reset(b);
    a->bodies_bytes += b->cap;
    a->bodies[a->n_bodies++] = *b;
    sg_buf_init(b);
  } else {
    sg_buf_free(b);
  }
}

/* Finished jobs are kept for reuse (up to JOB_POOL_MAX), with the memory of
 * their path and result buffers: no allocation storm per message. The pool
 * is a stack: the job taken is the one freed last, still in the CPU's cache
 * (the oldest one, with thousands in flight, is not). */
#define JOB_POOL_MAX 4096

/* The provider's state of a multi-step send. */
static void seq_free(sg_jobrun *j) {
  if (j->pj.seq && j->rt && j->rt->prov->job_free)
    j->rt->prov->job_free(&j->pj);
}

static void job_free(sg_jobrun *j) {
  seq_free(j);
  sg_free(j->last);
  sg_buf_free(&j->pj.body);
  sg_buf_free(&j->pj.path);
  sg_buf_free(&j->result);
  sg_job_msg_free(j->msg);
  sg_free(j);
}

static void on_job_closed(uv_handle_t *h) {
  sg_jobrun *j = h->data;
  sg_app *a = j->app;
  if (a->stopping || a->n_free_jobs >= JOB_POOL_MAX) {
    job_free(j);
    return;
  }
  seq_free(j);
  sg_app__body_put(a, &j->pj.body);
  sg_job_msg_free(j->msg);
  j->msg = NULL;
  sg_free(j->last);
  j->last = NULL;
  sg_list_push_front(&a->free_jobs, &j->link);
  a->n_free_jobs++;
}

sg_jobrun *sg_app__job_new(sg_app *a, const char *entry_id) {
  sg_jobrun *j;
  sg_list *n = sg_list_pop_front(&a->free_jobs);
  if (n) {
    a->n_free_jobs--;
    j = sg_container_of(n, sg_jobrun, link);
    sg_buf path = j->pj.path, result = j->result;
    memset(j, 0, sizeof *j);
    sg_buf_reset(&path);
    sg_buf_reset(&result);
    j->pj.path = path;
    j->result = result;
  } else {
    j = sg_xcalloc(1, sizeof *j);
  }
  j->app = a;
  sg_fmt_copy(j->entry_id, sizeof j->entry_id, entry_id);
  uv_timer_init(a->loop, &j->timer);
  j->timer.data = j;
  sg_list_node_init(&j->item.link);
  sg_list_node_init(&j->lnode);
  sg_token_waiter_init(&j->tw, NULL, j);
  sg_list_push_back(&a->jobs, &j->link);
  a->njobs++;
  return j;
}

void sg_app__job_release(sg_jobrun *j, bool acked) {
  sg_app *a = j->app;
  sg_list_remove(&j->link);
  a->njobs--;
  if (j->lane) { /* its lane may go once idle: the pump's timer collects it */
    sg_sched_lane_unref(&a->sched, j->lane, uv_now(a->loop));
    j->lane = NULL;
    sg_app__want_pump(a);
  }
  if (!a->stopping && a->stream) {
    if (!acked)
      sg_rd_stream_unhold(a->stream, j->entry_id);
    if (j->entry_bytes)
      sg_rd_stream_add_byte_credit(a->stream, j->entry_bytes);
    sg_rd_stream_add_credit(a->stream, 1);
  }
  uv_close((uv_handle_t *)&j->timer, on_job_closed);
  if (a->stopping)
    sg_app__check_stop(a);
}

void sg_app__jobs_free_pools(sg_app *a) {
  sg_list *n;
  while ((n = sg_list_pop_front(&a->free_jobs)) != NULL)
    job_free(sg_container_of(n, sg_jobrun, link));
  for (size_t i = 0; i < a->n_bodies; i++)
    sg_buf_free(&a->bodies[i]);
  a->n_bodies = 0;
  a->bodies_bytes = 0;
}
