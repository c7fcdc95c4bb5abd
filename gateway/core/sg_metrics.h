/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Metrics registry: counters, gauges and histograms with label sets, written
 * in the Prometheus text exposition format 0.0.4. Families are registered once
 * (name, help, type, label names, buckets); a child is one set of label values,
 * looked up once and kept by the caller as a pointer, so the hot path is a
 * plain add: no allocation, no lookup, no lock (single-threaded, on the loop).
 *
 * Cardinality is bounded: a family holds at most max_children label sets.
 * Lookups beyond the cap return the family's overflow child, whose label
 * values are all "other", and a warning is logged once per family.
 *
 * Not here: I/O. sg_admin serves the text over HTTP; the gateway's own
 * families are listed in app/sg_metrics_gateway.h.
 */
#ifndef SG_METRICS_H
#define SG_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sg_mem.h"

typedef enum { SG_METRIC_COUNTER, SG_METRIC_GAUGE, SG_METRIC_HISTOGRAM } sg_metric_type;

typedef struct sg_metrics sg_metrics;             /* the registry */
typedef struct sg_metric_family sg_metric_family; /* one name, many label sets */
typedef struct sg_metric sg_metric;               /* one label set: the thing you add to */

/* Children per family when the description says 0. */
#define SG_METRICS_DEFAULT_MAX_CHILDREN 256
/* Label names per family (a cap so lookups can work on the stack). */
#define SG_METRICS_MAX_LABELS 8
/* Buckets per histogram, +Inf not counted. */
#define SG_METRICS_MAX_BUCKETS 32
/* Bytes kept of a label value; longer values are cut at a UTF-8 boundary. */
#define SG_METRICS_MAX_VALUE 128
/* The label value every label of the overflow child carries. */
#define SG_METRICS_OTHER "other"

typedef struct sg_metric_desc {
  const char *name;          /* [a-zA-Z_:][a-zA-Z0-9_:]*; counters must end in _total */
  const char *help;          /* one line of text; escaped on output */
  sg_metric_type type;       /* counter, gauge or histogram */
  const char *const *labels; /* label names, [a-zA-Z_][a-zA-Z0-9_]*, not __*, not "le" */
  size_t nlabels;            /* 0..SG_METRICS_MAX_LABELS */
  const double *buckets;     /* histograms: upper bounds, finite, strictly increasing */
  size_t nbuckets;           /* 1..SG_METRICS_MAX_BUCKETS (+Inf is implicit) */
  size_t max_children;       /* label sets kept; 0 = SG_METRICS_DEFAULT_MAX_CHILDREN */
} sg_metric_desc;

/* Computes a gauge's value at scrape time; |ud| as given to sg_metric_set_fn. */
typedef double (*sg_metric_fn)(void *ud);

/* Makes an empty registry. Never fails (aborts on OOM). */
sg_metrics *sg_metrics_new(void);

/* Frees the registry, its families and children; every child pointer dies with it. */
void sg_metrics_free(sg_metrics *m);

/*
 * Registers a family described by |d| (every string and array is copied).
 * A family without labels gets its one child at once, so it is written as 0
 * before the first add. |out| (may be NULL) receives the family, owned by |m|.
 * Returns 0 or one of: SG_ERR_INVAL (bad name, label name, bucket list or
 * type), SG_ERR_EXISTS (the name is taken).
 */
int sg_metrics_register(sg_metrics *m, const sg_metric_desc *d, sg_metric_family **out);

/* The family called |name|, or NULL. */
sg_metric_family *sg_metrics_find(const sg_metrics *m, const char *name);

/* Number of label names of |f|. */
size_t sg_metric_family_nlabels(const sg_metric_family *f);
/* Number of children of |f|, the overflow child included. */
size_t sg_metric_family_nchildren(const sg_metric_family *f);

/*
 * The child of |f| for |values| (sg_metric_family_nlabels(f) strings,
 * borrowed; NULL entries mean ""), made on first use. Values are copied, cut
 * to SG_METRICS_MAX_VALUE bytes, and bytes that are not UTF-8 become '?'.
 * Over the family's cap, returns the overflow child. Never NULL (aborts on
 * OOM). The pointer stays valid until sg_metrics_free: look it up once, keep it.
 */
sg_metric *sg_metric_child(sg_metric_family *f, const char *const *values);

/* Shorthands for 0, 1 and 2 labels; abort if |f| has a different label count. */
sg_metric *sg_metric_child0(sg_metric_family *f);
sg_metric *sg_metric_child1(sg_metric_family *f, const char *v1);
sg_metric *sg_metric_child2(sg_metric_family *f, const char *v1, const char *v2);

/*
 * Hot path. Each takes a child (NULL: no-op, so optional metrics cost a test)
 * and ignores calls that do not fit its type: add/inc on a histogram, observe
 * on a counter or gauge, set/dec on a counter. Counters only go up: a
 * negative or NaN add is ignored.
 */
void sg_metric_inc(sg_metric *c);
void sg_metric_dec(sg_metric *c);
void sg_metric_add(sg_metric *c, double v);
void sg_metric_set(sg_metric *c, double v);
void sg_metric_observe(sg_metric *c, double v);

/*
 * Makes gauge |c| computed by |fn|(|ud|) at each scrape instead of stored
 * (NULL |fn| goes back to the stored value). |ud| is borrowed: keep it alive
 * while the registry is scraped. Ignored for counters and histograms.
 */
void sg_metric_set_fn(sg_metric *c, sg_metric_fn fn, void *ud);

/* Current value of a counter or gauge (calling the gauge's fn if set); a
 * histogram gives its observation count. */
double sg_metric_value(const sg_metric *c);

/* Histogram only: observations so far and their sum (0 for other types). */
uint64_t sg_metric_hist_count(const sg_metric *c);
double sg_metric_hist_sum(const sg_metric *c);

/*
 * Appends the whole registry to |out| in the text format 0.0.4: per family
 * "# HELP" and "# TYPE" lines, then its samples in the order children were
 * made; histograms as cumulative _bucket{le=...} lines ending in le="+Inf",
 * then _sum and _count. Families appear in registration order.
 */
void sg_metrics_write(const sg_metrics *m, sg_buf *out);

/* Appends |v| as the text format writes sample values: integers without a
 * fraction, others in the shortest form that reads back exactly, "NaN",
 * "+Inf", "-Inf". */
void sg_metrics_format_value(sg_buf *out, double v);

#endif
