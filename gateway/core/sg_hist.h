/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A log-linear histogram of non-negative integer values (HdrHistogram's
 * layout, fixed precision): values below 2^SG_HIST_SUB_BITS are counted
 * exactly; above that, every power-of-two range [2^k, 2^(k+1)) is split into
 * 2^(SG_HIST_SUB_BITS-1) equal sub-buckets. A bucket's width is therefore at
 * most 2^(1-SG_HIST_SUB_BITS) of its lower bound (1/128 = 0.78 %), which
 * bounds the relative error of every percentile. The whole uint64_t range is
 * covered, so recording never fails. The unit is the caller's (microseconds
 * for latencies). Pure: no I/O, no clock; one allocation at init.
 */
#ifndef SG_HIST_H
#define SG_HIST_H

#include <stdint.h>

/* Precision: 8 bits gives 128 sub-buckets per power of two (<= 0.78 % error)
 * in 7,424 counters (58 KiB). */
#define SG_HIST_SUB_BITS 8
#define SG_HIST_BUCKETS                                                                            \
  ((1u << SG_HIST_SUB_BITS) + (64u - SG_HIST_SUB_BITS) * (1u << (SG_HIST_SUB_BITS - 1)))

typedef struct sg_hist {
  uint64_t *counts; /* SG_HIST_BUCKETS counters */
  uint64_t total;   /* values recorded */
  uint64_t min;     /* exact; UINT64_MAX while empty */
  uint64_t max;     /* exact; 0 while empty */
  double sum;       /* for the mean; a double so it never overflows */
} sg_hist;

/* Sets up an empty histogram (allocates its counters). Free with sg_hist_free. */
void sg_hist_init(sg_hist *h);
/* Releases the counters; |h| must be initialized again before reuse. */
void sg_hist_free(sg_hist *h);
/* Empties |h|, keeping its memory. */
void sg_hist_reset(sg_hist *h);

/* Records |v| once, or |n| times. */
void sg_hist_record(sg_hist *h, uint64_t v);
void sg_hist_record_n(sg_hist *h, uint64_t v, uint64_t n);

/* Adds every value of |src| to |dst| (both initialized; |src| unchanged). */
void sg_hist_merge(sg_hist *dst, const sg_hist *src);

/*
 * The value at percentile |p| (0..100, clamped) by nearest rank: the smallest
 * recorded value v such that at least p % of the values are <= v, reported as
 * the upper bound of v's bucket but never above the exact max nor below the
 * exact min. So the answer is never lower than the true percentile and at most
 * 2^(1-SG_HIST_SUB_BITS) above it, relatively. p == 0 gives min, p == 100
 * gives max. An empty histogram gives 0.
 */
uint64_t sg_hist_percentile(const sg_hist *h, double p);

/* The mean of the recorded values (0 when empty). */
double sg_hist_mean(const sg_hist *h);

/* Bucket arithmetic, exposed for tests: the bucket of |v| and its bounds. */
unsigned sg_hist_index(uint64_t v);
uint64_t sg_hist_bucket_low(unsigned idx);
uint64_t sg_hist_bucket_high(unsigned idx); /* inclusive */

#endif
