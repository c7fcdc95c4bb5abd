/* SPDX-License-Identifier: Apache-2.0 */
/* sendgate-loadgen's accounting; see sg_lg_track.h. */
#include "sg_lg_track.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_mem.h"
#include "sg_lg_job.h"

/* Per-job flags. */
#define F_BUILT 0x01u
#define F_QUEUED 0x02u
#define F_QFAIL 0x04u
#define F_DONE 0x08u
#define F_INVALID 0x10u /* invalid on purpose: must come back INVALID */

void sg_lg_track_init(sg_lg_track *t, const char *run_id, uint64_t planned) {
  memset(t, 0, sizeof *t);
  snprintf(t->prefix, sizeof t->prefix, "%.64s-", run_id);
  t->prefix_len = strlen(t->prefix);
  t->planned = planned;
  t->created_us = sg_xcalloc(planned ? planned : 1, sizeof *t->created_us);
  t->flags = sg_xcalloc(planned ? planned : 1, 1);
  sg_hist_init(&t->latency_us);
  sg_hist_init(&t->warm_latency_us);
  sg_hist_init(&t->to_entry_us);
  sg_hist_init(&t->job_to_entry_us);
}

void sg_lg_track_free(sg_lg_track *t) {
  sg_free(t->created_us);
  sg_free(t->flags);
  sg_hist_free(&t->latency_us);
  sg_hist_free(&t->warm_latency_us);
  sg_hist_free(&t->to_entry_us);
  sg_hist_free(&t->job_to_entry_us);
  memset(t, 0, sizeof *t);
}

void sg_lg_track_built(sg_lg_track *t, uint64_t seq, uint64_t now_us, int kind,
                       sg_backend backend) {
  if (seq >= t->planned || (t->flags[seq] & F_BUILT))
    return;
  t->created_us[seq] = now_us;
  t->flags[seq] = F_BUILT | (kind != SG_LG_VALID ? F_INVALID : 0u);
  t->built++;
  if (kind != SG_LG_VALID)
    t->planned_invalid++;
  if (backend == SG_BACKEND_ACS)
    t->planned_acs++;
}

void sg_lg_track_queued(sg_lg_track *t, uint64_t seq, bool ok) {
  if (seq >= t->planned || !(t->flags[seq] & F_BUILT) || (t->flags[seq] & (F_QUEUED | F_QFAIL)))
    return;
  t->flags[seq] |= ok ? F_QUEUED : F_QFAIL;
  if (ok) {
    t->queued++;
    if (t->flags[seq] & F_DONE) /* the result overtook the XADD reply */
      t->completed++;
  } else {
    t->queue_failed++;
    if (t->flags[seq] & F_DONE) /* it got there after all */
      t->late++;
  }
}

bool sg_lg_track_parse_id(const sg_lg_track *t, const char *id, uint64_t *seq) {
  if (strncmp(id, t->prefix, t->prefix_len) != 0)
    return false;
  const char *p = id + t->prefix_len;
  if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] != '\0'))
    return false;
  uint64_t v = 0;
  for (; *p; p++) {
    if (*p < '0' || *p > '9')
      return false;
    if (v > (UINT64_MAX - 9) / 10)
      return false;
    v = v * 10 + (uint64_t)(*p - '0');
  }
  if (v >= t->planned)
    return false;
  *seq = v;
  return true;
}

static void count_code(sg_lg_track *t, const char *code) {
  if (code == NULL || *code == '\0')
    return;
  for (size_t i = 0; i < t->n_codes; i++)
    if (strncmp(t->codes[i].code, code, SG_LG_CODE_MAX - 1) == 0) {
      t->codes[i].n++;
      return;
    }
  if (t->n_codes == SG_LG_MAX_CODES) {
    t->other_codes++;
    return;
  }
  snprintf(t->codes[t->n_codes].code, SG_LG_CODE_MAX, "%s", code);
  t->codes[t->n_codes++].n = 1;
}

/* From |a| to |b| (Unix ms) in us; 0 when |b| is earlier. */
static uint64_t ms_between(int64_t a, int64_t b) {
  return b > a ? (uint64_t)(b - a) * 1000u : 0;
}

sg_lg_match sg_lg_track_result(sg_lg_track *t, const sg_result *r, uint64_t now_us) {
  return sg_lg_track_result_at(t, r, now_us, 0);
}

sg_lg_match sg_lg_track_result_at(sg_lg_track *t, const sg_result *r, uint64_t now_us,
                                  int64_t entry_ms) {
  uint64_t seq;
  if (r->job_id == NULL || !sg_lg_track_parse_id(t, r->job_id, &seq) ||
      !(t->flags[seq] & F_BUILT)) {
    t->foreign++;
    return SG_LG_FOREIGN;
  }
  uint8_t f = t->flags[seq];
  if (f & F_DONE) {
    t->duplicates++;
    return SG_LG_DUPLICATE;
  }
  t->flags[seq] = (uint8_t)(f | F_DONE);
  unsigned st = (unsigned)r->status <= SG_STATUS_EXPIRED ? (unsigned)r->status : 0u;
  t->by_status[st]++;
  unsigned be = (unsigned)r->backend <= SG_BACKEND_SMTP ? (unsigned)r->backend : 0u;
  t->by_backend[be]++;
  count_code(t, r->error_code);
  bool invalid = r->status == SG_STATUS_INVALID;
  if ((f & F_INVALID) && !invalid)
    t->invalid_accepted++;
  if (!(f & F_INVALID) && invalid)
    t->unexpected_invalid++;
  if (t->first_result_us == 0)
    t->first_result_us = now_us;
  t->last_result_us = now_us;
  if (!(f & F_QUEUED)) {
    /* XADD reply not seen yet (it will count it) or failed (the job got there anyway). */
    if (f & F_QFAIL) {
      t->late++;
      return SG_LG_UNQUEUED;
    }
  } else {
    t->completed++;
  }
  uint64_t c = t->created_us[seq];
  sg_hist_record(seq < t->warm_seq ? &t->warm_latency_us : &t->latency_us,
                 now_us > c ? now_us - c : 0);
  if (entry_ms > 0 && seq >= t->warm_seq) {
    if (r->created_unix_ms > 0)
      sg_hist_record(&t->to_entry_us, ms_between(r->created_unix_ms, entry_ms));
    int64_t job_ms = r->stream_entry_id ? strtoll(r->stream_entry_id, NULL, 10) : 0;
    if (job_ms > 0)
      sg_hist_record(&t->job_to_entry_us, ms_between(job_ms, entry_ms));
  }
  return SG_LG_MATCHED;
}

void sg_lg_track_undecodable(sg_lg_track *t) {
  t->undecodable++;
}

uint64_t sg_lg_track_missing(const sg_lg_track *t) {
  return t->queued > t->completed ? t->queued - t->completed : 0;
}

size_t sg_lg_track_missing_list(const sg_lg_track *t, uint64_t *out, size_t max) {
  size_t n = 0;
  for (uint64_t s = 0; s < t->planned && n < max; s++)
    if ((t->flags[s] & (F_QUEUED | F_DONE)) == F_QUEUED)
      out[n++] = s;
  return n;
}
