/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The jobs sendgate-loadgen queues. Job number |seq| of a run is fully
 * determined by the options and |seq|: id "<run id>-<seq>", sender
 * sender-<seq % senders>@domain, recipients r-<k>@domain, subject and body
 * that contain the id (so every message's content is unique), the backend
 * (ACS for a hashed share of the jobs) and whether the job is invalid on
 * purpose (a hashed share; alternately no recipient at all or a malformed
 * address, both refused by sg_job_decode). The tracker derives what it
 * expects of a result from the same functions, so nothing per job but its
 * creation time needs storing. Pure: no I/O, no clock (the caller passes
 * created_unix_ms).
 */
#ifndef SG_LG_JOB_H
#define SG_LG_JOB_H

#include <stdbool.h>
#include <stdint.h>

#include "core/sg_mem.h"
#include "job/sg_job.h"
#include "sg_lg_opts.h"

/* What a job is made to be. */
typedef enum {
  SG_LG_VALID = 0,
  SG_LG_NO_RECIPIENTS = 1, /* expect INVALID / SENDGATE_NO_RECIPIENTS */
  SG_LG_BAD_ADDRESS = 2    /* expect INVALID / SENDGATE_BAD_ADDRESS */
} sg_lg_kind;

/* A builder: the options it follows (borrowed) plus reusable scratch. */
typedef struct sg_lg_builder {
  const sg_lg_opts *o;
  uint32_t acs_ppm;     /* share of ACS jobs in parts per million */
  uint32_t invalid_ppm; /* share of invalid jobs in parts per million */
  sg_buf text;          /* body */
  sg_buf fill;          /* the body's filler, opts->size bytes */
  sg_buf subject;
  sg_buf id;
  sg_buf sender;
  sg_buf rcpt;     /* recipients' addresses, NUL-separated */
  sg_job_addr *to; /* opts->recipients entries */
  sg_job_attachment *att;
  uint8_t *att_data; /* one attachment's content, stamped per job */
} sg_lg_builder;

/* Sets up |b| for |o| (borrowed; must outlive |b|). Free with sg_lg_builder_free. */
void sg_lg_builder_init(sg_lg_builder *b, const sg_lg_opts *o);
void sg_lg_builder_free(sg_lg_builder *b);

/* The kind and the backend of job |seq|. */
sg_lg_kind sg_lg_job_kind(const sg_lg_builder *b, uint64_t seq);
sg_backend sg_lg_job_backend(const sg_lg_builder *b, uint64_t seq);

/* Appends the MailJob bytes of job |seq|, created at |created_unix_ms|, to |out|. */
void sg_lg_job_build(sg_lg_builder *b, uint64_t seq, int64_t created_unix_ms, sg_buf *out);

/* Converts a percentage (0..100) to parts per million. */
uint32_t sg_lg_pct_to_ppm(double pct);

#endif
