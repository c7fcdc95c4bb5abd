/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Record steps of multi-step sends: a provider's step that reads or writes
 * the job's record (e.g. the id of a Graph draft, so a job handed out again
 * after a crash finds its draft instead of sending twice) goes to Redis
 * through the queue module, which owns the key. Its answer comes back as an
 * answer to the step: done (the record's value as the body) or a transport
 * failure (retried like any step).
 */
#include "app/sg_app_int.h"

#include <string.h>

#include "core/sg_err.h"

static void on_store(void *ud, int status, const char *value, size_t len) {
  sg_jobrun *j = ud;
  sg_app *a = j->app;
  if (!j->pj.keep_body)
    sg_app__body_put(a, &j->pj.body);
  sg_sched_release(&a->sched, j->lane);
  sg_app__want_pump(a);
  sg_outcome o;
  memset(&o, 0, sizeof o);
  if (status != 0) {
    /* Not ambiguous: a record written twice or read again harms nothing. */
    sg_classify_transport(status == SG_ERR_REDIS ? SG_ERR_IO : status, false, &o);
    snprintf(o.message, sizeof o.message, "the job's record in Redis: %s", sg_strerror(status));
    sg_app__answered(j, status, 0, NULL, 0, &o);
    return;
  }
  o.kind = SG_OUTCOME_SENT; /* the step is done */
  sg_app__answered(j, 0, 0, value, value ? len : 0, &o);
}

void sg_app__store_run(sg_jobrun *j, const sg_prov_req *r) {
  sg_app *a = j->app;
  sg_rd_ledger_id id;
  sg_app__ledger_id(j, &id);
  j->state = SG_JOB_STORE_WAIT;
  int rv = r->store == SG_PROV_STORE_GET
               ? sg_rd_queue_draft_get(a->queue, &id, on_store, j)
               : sg_rd_queue_draft_set(a->queue, &id, r->store_value, r->store_len, r->store_ttl_s,
                                       on_store, j);
  if (rv != 0)
    on_store(j, rv, NULL, 0); /* Redis is down: retried as a transport failure */
}
