/* SPDX-License-Identifier: Apache-2.0 */
/* Log-linear histogram; see sg_hist.h for the layout and the error bound. */
#include "core/sg_hist.h"

#include <string.h>

#include "core/sg_mem.h"

#define SUB (1u << SG_HIST_SUB_BITS)
#define HALF (1u << (SG_HIST_SUB_BITS - 1))

unsigned sg_hist_index(uint64_t v) {
  if (v < SUB)
    return (unsigned)v;
  unsigned top = 63u - (unsigned)__builtin_clzll(v); /* >= SG_HIST_SUB_BITS */
  unsigned shift = top - SG_HIST_SUB_BITS + 1u;      /* >= 1 */
  unsigned sub = (unsigned)(v >> shift);             /* in [HALF, SUB) */
  return SUB + (shift - 1u) * HALF + (sub - HALF);
}

uint64_t sg_hist_bucket_low(unsigned idx) {
  if (idx < SUB)
    return idx;
  unsigned r = idx - SUB;
  unsigned shift = r / HALF + 1u;
  uint64_t sub = HALF + r % HALF;
  return sub << shift;
}

uint64_t sg_hist_bucket_high(unsigned idx) {
  if (idx < SUB)
    return idx;
  unsigned shift = (idx - SUB) / HALF + 1u;
  return sg_hist_bucket_low(idx) + ((uint64_t)1 << shift) - 1u;
}

void sg_hist_init(sg_hist *h) {
  h->counts = sg_xcalloc(SG_HIST_BUCKETS, sizeof *h->counts);
  h->total = 0;
  h->min = UINT64_MAX;
  h->max = 0;
  h->sum = 0;
}

void sg_hist_free(sg_hist *h) {
  sg_free(h->counts);
  h->counts = NULL;
  h->total = 0;
}

void sg_hist_reset(sg_hist *h) {
  memset(h->counts, 0, SG_HIST_BUCKETS * sizeof *h->counts);
  h->total = 0;
  h->min = UINT64_MAX;
  h->max = 0;
  h->sum = 0;
}

void sg_hist_record_n(sg_hist *h, uint64_t v, uint64_t n) {
  if (n == 0)
    return;
  h->counts[sg_hist_index(v)] += n;
  h->total += n;
  if (v < h->min)
    h->min = v;
  if (v > h->max)
    h->max = v;
  h->sum += (double)v * (double)n;
}

void sg_hist_record(sg_hist *h, uint64_t v) {
  sg_hist_record_n(h, v, 1);
}

void sg_hist_merge(sg_hist *dst, const sg_hist *src) {
  if (src->total == 0)
    return;
  for (unsigned i = 0; i < SG_HIST_BUCKETS; i++)
    dst->counts[i] += src->counts[i];
  dst->total += src->total;
  if (src->min < dst->min)
    dst->min = src->min;
  if (src->max > dst->max)
    dst->max = src->max;
  dst->sum += src->sum;
}

uint64_t sg_hist_percentile(const sg_hist *h, double p) {
  if (h->total == 0)
    return 0;
  if (!(p > 0)) /* also catches NaN */
    return h->min;
  if (p >= 100)
    return h->max;
  /* Nearest rank: ceil(p/100 * total), at least 1. */
  double want = p / 100.0 * (double)h->total;
  uint64_t rank = (uint64_t)want;
  if ((double)rank < want)
    rank++;
  if (rank == 0)
    rank = 1;
  if (rank > h->total)
    rank = h->total;
  uint64_t seen = 0;
  for (unsigned i = 0; i < SG_HIST_BUCKETS; i++) {
    seen += h->counts[i];
    if (seen >= rank) {
      uint64_t v = sg_hist_bucket_high(i);
      if (v > h->max)
        v = h->max;
      if (v < h->min)
        v = h->min;
      return v;
    }
  }
  return h->max; /* not reached: the counts add up to total */
}

double sg_hist_mean(const sg_hist *h) {
  return h->total ? h->sum / (double)h->total : 0.0;
}
