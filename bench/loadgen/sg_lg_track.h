/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sendgate-loadgen's accounting: which jobs were built and queued, which got a
 * result, the latency histogram, results by status, backend and error code,
 * and everything that does not add up (duplicates, results of other runs,
 * invalid jobs that were not refused, valid jobs that were). Per job it keeps
 * 9 bytes (creation time in microseconds and a flag byte) in arrays indexed by
 * the job number, which the job id carries ("<run id>-<n>"), so a run of 1M
 * jobs needs ~9 MB. Pure: times are passed in (monotonic microseconds).
 */
#ifndef SG_LG_TRACK_H
#define SG_LG_TRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sg_hist.h"
#include "job/sg_job.h"
#include "job/sg_result.h"

/* Distinct error codes counted by name; the rest go to "other". */
#define SG_LG_MAX_CODES 32
#define SG_LG_CODE_MAX 64

typedef struct sg_lg_code_count {
  char code[SG_LG_CODE_MAX];
  uint64_t n;
} sg_lg_code_count;

/* What sg_lg_track_result made of a result. */
typedef enum {
  SG_LG_MATCHED = 0,   /* first result of one of our queued jobs */
  SG_LG_DUPLICATE = 1, /* a further result of a job that already had one */
  SG_LG_FOREIGN = 2,   /* not one of this run's job ids */
  SG_LG_UNQUEUED = 3   /* one of ours whose XADD had failed (it got there after all) */
} sg_lg_match;

typedef struct sg_lg_track {
  char prefix[80]; /* "<run id>-" */
  size_t prefix_len;
  uint64_t planned;     /* job numbers 0..planned-1 */
  uint64_t *created_us; /* per job */
  uint8_t *flags;       /* per job, SG_LG_F_* (private) */

  uint64_t built, queued, queue_failed;
  uint64_t planned_invalid, planned_acs; /* among built jobs */
  uint64_t completed;                    /* queued jobs with a result */
  uint64_t late;                         /* results of jobs whose XADD failed */
  uint64_t duplicates, foreign, undecodable;
  uint64_t unexpected_invalid; /* valid jobs that came back INVALID */
  uint64_t invalid_accepted;   /* invalid jobs that came back other than INVALID */
  uint64_t by_status[5];       /* indexed by sg_status */
  uint64_t by_backend[4];      /* indexed by the result's sg_backend */
  sg_lg_code_count codes[SG_LG_MAX_CODES];
  size_t n_codes;
  uint64_t other_codes;
  sg_hist latency_us;      /* creation to result seen, queued jobs only */
  uint64_t warm_seq;       /* jobs below this number are the warm-up (0: none) */
  sg_hist warm_latency_us; /* their latencies (not in latency_us) */
  /* Creation (the job's created_unix_ms) to the result's entry id (Redis's
   * clock, when it appended the result), queued jobs after the warm-up, in
   * whole ms: what of latency_us is not the reader's own delay. */
  sg_hist to_entry_us;
  /* The same from the job's own entry id (its stream_entry_id in the result,
   * when Redis appended the job): the gateway's part, both times Redis's. */
  sg_hist job_to_entry_us;
  uint64_t first_result_us, last_result_us;
} sg_lg_track;

/*
 * Sets up |t| for |planned| jobs of run |run_id| (copied; at most 64 bytes).
 * Free with sg_lg_track_free.
 */
void sg_lg_track_init(sg_lg_track *t, const char *run_id, uint64_t planned);
void sg_lg_track_free(sg_lg_track *t);

/* Job |seq| (< planned) was built at |now_us|, as |kind| (sg_lg_kind) for |backend|. */
void sg_lg_track_built(sg_lg_track *t, uint64_t seq, uint64_t now_us, int kind, sg_backend backend);
/* The XADD of job |seq| succeeded (|ok|) or failed. */
void sg_lg_track_queued(sg_lg_track *t, uint64_t seq, bool ok);

/*
 * Accounts for result |r| (borrowed) seen at |now_us|. Results of this run are
 * matched by job number; latency is recorded for the first result of a queued
 * job. Returns what it was.
 */
sg_lg_match sg_lg_track_result(sg_lg_track *t, const sg_result *r, uint64_t now_us);
/* The same for a result whose stream entry id's time is |entry_ms| (Unix ms;
 * 0: unknown), which also goes to to_entry_us and job_to_entry_us. */
sg_lg_match sg_lg_track_result_at(sg_lg_track *t, const sg_result *r, uint64_t now_us,
                                  int64_t entry_ms);

/* Counts a results-stream entry that could not be decoded. */
void sg_lg_track_undecodable(sg_lg_track *t);

/*
 * Parses a job id of this run: "<run id>-<n>" with n < planned, decimal, no
 * leading zeros. Returns true and sets |seq|, or false.
 */
bool sg_lg_track_parse_id(const sg_lg_track *t, const char *id, uint64_t *seq);

/* Queued jobs without a result so far. */
uint64_t sg_lg_track_missing(const sg_lg_track *t);

/*
 * Writes the numbers of up to |max| queued jobs without a result, lowest
 * first, into |out|; returns how many it wrote.
 */
size_t sg_lg_track_missing_list(const sg_lg_track *t, uint64_t *out, size_t max);

#endif
