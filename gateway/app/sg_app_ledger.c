/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sent ledger on arrival: every valid job is looked up before it goes on
 * its lane; the lookups queued during a loop turn go to the queue protocol
 * (sg_rd_queue) from the pump, which sends them as one script call. A job
 * found there was sent before (a redelivery or a duplicate id): its outcome
 * is published again instead of a second send.
 */
#include "app/sg_app_int.h"

#include "core/sg_err.h"

void sg_app__ledger_id(const sg_jobrun *j, sg_rd_ledger_id *out) {
  sg_rd_ledger_id_make(j->job->account, j->job->sender, j->job->id, out);
}

/* What the ledger holds for |j| (|sent| NULL: nothing, or the lookup failed
 * with |status|): publish the outcome again, or go on. */
static void on_lookup(sg_rd_lookup *l, int status, const sg_rd_sent *sent) {
  sg_jobrun *j = sg_container_of(l, sg_jobrun, lookup);
  sg_app *a = j->app;
  if (status == 0 && sent) {
    sg_app__republish(j, sent);
    return;
  }
  if ((status != 0 && status != SG_ERR_REDIS) || a->stopping) {
    /* Redis went away (or we are stopping): the entry stays pending and comes back later. */
    sg_app__job_release(j, false);
    return;
  }
  sg_app__queue_job(j);
}

void sg_app__ledger_flush(sg_app *a) {
  sg_list *n;
  while ((n = sg_list_pop_front(&a->ledger_q)) != NULL) {
    sg_jobrun *j = sg_container_of(n, sg_jobrun, lnode);
    sg_rd_ledger_id id;
    sg_app__ledger_id(j, &id);
    sg_rd_queue_lookup(a->queue, &j->lookup, &id, j->job->id, on_lookup);
  }
  sg_rd_queue_flush(a->queue);
}

void sg_app__ledger_check(sg_jobrun *j) {
  j->state = SG_JOB_CHECKING; /* the reply (or its failure) releases the job */
  sg_list_push_back(&j->app->ledger_q, &j->lnode);
}

void sg_app__ledger_cancel(sg_jobrun *j) {
  if (sg_list_linked(&j->lnode)) {
    sg_list_remove(&j->lnode);
    j->state = SG_JOB_NEW;
  }
}
