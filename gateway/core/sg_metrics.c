/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Metrics registry and the Prometheus text format 0.0.4 writer. Children of a
 * family live in an open-addressing hash table keyed by their label values
 * (joined with NULs) and in a creation-order array for stable output. A child
 * is allocated once and never moves, so callers keep the pointer and the hot
 * path is a single add.
 */
#include "core/sg_metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_log.h"
#include "core/sg_utf8.h"

struct sg_metric {
  sg_metric_family *fam;
  uint64_t hash;
  char *key; /* label values, each NUL-terminated, back to back */
  size_t key_len;
  double value; /* counter, gauge */
  sg_metric_fn fn;
  void *fn_ud;
  double sum;         /* histogram */
  uint64_t buckets[]; /* histogram: per-bucket counts, not cumulative; [nbounds] is +Inf */
};

struct sg_metric_family {
  char *name;
  char *help;
  sg_metric_type type;
  char **labels;
  size_t nlabels;
  double *bounds;
  size_t nbounds;
  size_t max_children;
  sg_metric **children; /* creation order */
  size_t nchildren, children_cap;
  sg_metric **table; /* hash table, power-of-two size, at most half full */
  size_t table_cap;
  sg_metric *other; /* overflow child, once made */
  bool warned;
};

struct sg_metrics {
  sg_metric_family **fams;
  size_t n, cap;
};

/* Room for every label value of one lookup, NUL-terminated. */
#define KEY_MAX (SG_METRICS_MAX_LABELS * (SG_METRICS_MAX_VALUE + 1))

sg_metrics *sg_metrics_new(void) {
  return sg_xcalloc(1, sizeof(sg_metrics));
}

static void family_free(sg_metric_family *f) {
  for (size_t i = 0; i < f->nchildren; i++) {
    sg_free(f->children[i]->key);
    sg_free(f->children[i]);
  }
  for (size_t i = 0; i < f->nlabels; i++)
    sg_free(f->labels[i]);
  sg_free(f->labels);
  sg_free(f->children);
  sg_free(f->table);
  sg_free(f->bounds);
  sg_free(f->name);
  sg_free(f->help);
  sg_free(f);
}

void sg_metrics_free(sg_metrics *m) {
  if (m == NULL)
    return;
  for (size_t i = 0; i < m->n; i++)
    family_free(m->fams[i]);
  sg_free(m->fams);
  sg_free(m);
}

/* ---- registration ---- */

static bool name_char(char c, bool first, bool colon) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
    return true;
  if (c == ':' && colon)
    return true;
  return !first && c >= '0' && c <= '9';
}

static bool valid_name(const char *s, bool colon) {
  if (s == NULL || *s == '\0')
    return false;
  for (size_t i = 0; s[i]; i++)
    if (!name_char(s[i], i == 0, colon))
      return false;
  return true;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n > k && strcmp(s + n - k, suffix) == 0;
}

static int check_labels(const sg_metric_desc *d) {
  if (d->nlabels > SG_METRICS_MAX_LABELS || (d->nlabels > 0 && d->labels == NULL))
    return SG_ERR_INVAL;
  for (size_t i = 0; i < d->nlabels; i++) {
    const char *l = d->labels[i];
    if (!valid_name(l, false) || strncmp(l, "__", 2) == 0)
      return SG_ERR_INVAL;
    if (d->type == SG_METRIC_HISTOGRAM && strcmp(l, "le") == 0)
      return SG_ERR_INVAL;
    for (size_t j = 0; j < i; j++)
      if (strcmp(l, d->labels[j]) == 0)
        return SG_ERR_INVAL;
  }
  return 0;
}

/* Number of finite bounds in a valid bucket list (a trailing +Inf is allowed
 * and dropped), or 0 when the list is unusable. */
static size_t check_buckets(const sg_metric_desc *d) {
  size_t n = d->nbuckets;
  if (d->buckets == NULL || n == 0)
    return 0;
  if (isinf(d->buckets[n - 1]) && d->buckets[n - 1] > 0)
    n--;
  if (n == 0 || n > SG_METRICS_MAX_BUCKETS)
    return 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(d->buckets[i]) || (i > 0 && !(d->buckets[i] > d->buckets[i - 1])))
      return 0;
  }
  return n;
}

int sg_metrics_register(sg_metrics *m, const sg_metric_desc *d, sg_metric_family **out) {
  if (d->type != SG_METRIC_COUNTER && d->type != SG_METRIC_GAUGE && d->type != SG_METRIC_HISTOGRAM)
    return SG_ERR_INVAL;
  if (!valid_name(d->name, true))
    return SG_ERR_INVAL;
  if (d->type == SG_METRIC_COUNTER && !ends_with(d->name, "_total"))
    return SG_ERR_INVAL;
  int rv = check_labels(d);
  if (rv != 0)
    return rv;
  size_t nbounds = 0;
  if (d->type == SG_METRIC_HISTOGRAM && (nbounds = check_buckets(d)) == 0)
    return SG_ERR_INVAL;
  if (sg_metrics_find(m, d->name) != NULL)
    return SG_ERR_EXISTS;

  sg_metric_family *f = sg_xcalloc(1, sizeof *f);
  f->name = sg_xstrdup(d->name);
  f->help = sg_xstrdup(d->help ? d->help : "");
  f->type = d->type;
  f->nlabels = d->nlabels;
  if (d->nlabels > 0) {
    f->labels = sg_xcalloc(d->nlabels, sizeof(char *));
    for (size_t i = 0; i < d->nlabels; i++)
      f->labels[i] = sg_xstrdup(d->labels[i]);
  }
  if (nbounds > 0) {
    f->bounds = sg_xmalloc(nbounds * sizeof(double));
    memcpy(f->bounds, d->buckets, nbounds * sizeof(double));
    f->nbounds = nbounds;
  }
  f->max_children = d->max_children ? d->max_children : SG_METRICS_DEFAULT_MAX_CHILDREN;
  if (m->n == m->cap) {
    m->cap = m->cap ? m->cap * 2 : 16;
    m->fams = sg_xrealloc(m->fams, m->cap * sizeof(*m->fams));
  }
  m->fams[m->n++] = f;
  if (f->nlabels == 0)
    (void)sg_metric_child(f, NULL);
  if (out)
    *out = f;
  return 0;
}

sg_metric_family *sg_metrics_find(const sg_metrics *m, const char *name) {
  for (size_t i = 0; i < m->n; i++)
    if (strcmp(m->fams[i]->name, name) == 0)
      return m->fams[i];
  return NULL;
}

size_t sg_metric_family_nlabels(const sg_metric_family *f) {
  return f->nlabels;
}

size_t sg_metric_family_nchildren(const sg_metric_family *f) {
  return f->nchildren;
}

/* ---- children ---- */

/* Appends the sanitized form of |v| and its NUL to |key| at |*len|. */
static void key_add(char *key, size_t *len, const char *v) {
  const unsigned char *s = (const unsigned char *)(v ? v : "");
  size_t n = strlen((const char *)s), out = 0, i = 0;
  char *dst = key + *len;
  while (i < n) {
    size_t k = s[i] < 0x80 ? 1 : sg_utf8_seq(s + i, n - i); /* ASCII without a call */
    size_t w = k ? k : 1;
    if (out + w > SG_METRICS_MAX_VALUE)
      break; /* cut here, never inside a character */
    if (k)
      memcpy(dst + out, s + i, k);
    else
      dst[out] = '?';
    out += w;
    i += w;
  }
  dst[out] = '\0';
  *len += out + 1;
}

static uint64_t key_hash(const char *key, size_t len) {
  uint64_t h = 14695981039346656037ull; /* FNV-1a */
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)key[i];
    h *= 1099511628211ull;
  }
  return h;
}

static sg_metric *table_find(const sg_metric_family *f, const char *key, size_t len, uint64_t h) {
  if (f->table_cap == 0)
    return NULL;
  size_t mask = f->table_cap - 1;
  for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
    sg_metric *c = f->table[i];
    if (c == NULL)
      return NULL;
    if (c->hash == h && c->key_len == len && memcmp(c->key, key, len) == 0)
      return c;
  }
}

static void table_put(sg_metric **table, size_t cap, sg_metric *c) {
  size_t mask = cap - 1;
  size_t i = (size_t)c->hash & mask;
  while (table[i] != NULL)
    i = (i + 1) & mask;
  table[i] = c;
}

static sg_metric *child_make(sg_metric_family *f, const char *key, size_t len, uint64_t h) {
  size_t nb = f->type == SG_METRIC_HISTOGRAM ? f->nbounds + 1 : 0;
  sg_metric *c = sg_xcalloc(1, sizeof *c + nb * sizeof(uint64_t));
  c->fam = f;
  c->hash = h;
  c->key = sg_xmalloc(len ? len : 1);
  memcpy(c->key, key, len);
  c->key_len = len;
  if ((f->nchildren + 1) * 2 > f->table_cap) {
    size_t cap = f->table_cap ? f->table_cap * 2 : 8;
    sg_metric **t = sg_xcalloc(cap, sizeof *t);
    for (size_t i = 0; i < f->nchildren; i++)
      table_put(t, cap, f->children[i]);
    sg_free(f->table);
    f->table = t;
    f->table_cap = cap;
  }
  table_put(f->table, f->table_cap, c);
  if (f->nchildren == f->children_cap) {
    f->children_cap = f->children_cap ? f->children_cap * 2 : 4;
    f->children = sg_xrealloc(f->children, f->children_cap * sizeof(*f->children));
  }
  f->children[f->nchildren++] = c;
  return c;
}

/* The overflow child: all values "other"; it may exceed the cap by one. */
static sg_metric *child_other(sg_metric_family *f) {
  if (f->other)
    return f->other;
  if (!f->warned) {
    f->warned = true;
    sg_log(SG_LOG_WARN, "metrics",
           "metric %s reached %zu label sets; further ones are counted as \"" SG_METRICS_OTHER "\"",
           f->name, f->max_children);
  }
  char key[KEY_MAX];
  size_t len = 0;
  for (size_t i = 0; i < f->nlabels; i++)
    key_add(key, &len, SG_METRICS_OTHER);
  uint64_t h = key_hash(key, len);
  sg_metric *c = table_find(f, key, len, h);
  f->other = c ? c : child_make(f, key, len, h);
  return f->other;
}

sg_metric *sg_metric_child(sg_metric_family *f, const char *const *values) {
  char key[KEY_MAX];
  size_t len = 0;
  for (size_t i = 0; i < f->nlabels; i++)
    key_add(key, &len, values ? values[i] : NULL);
  uint64_t h = key_hash(key, len);
  sg_metric *c = table_find(f, key, len, h);
  if (c)
    return c;
  if (f->nchildren >= f->max_children)
    return child_other(f);
  return child_make(f, key, len, h);
}

static void check_arity(const sg_metric_family *f, size_t n) {
  if (f->nlabels != n) {
    sg_log(SG_LOG_ERROR, "metrics", "metric %s has %zu labels, looked up with %zu", f->name,
           f->nlabels, n);
    abort(); /* a programming error, caught by the first test that runs the line */
  }
}

sg_metric *sg_metric_child0(sg_metric_family *f) {
  check_arity(f, 0);
  return sg_metric_child(f, NULL);
}

sg_metric *sg_metric_child1(sg_metric_family *f, const char *v1) {
  check_arity(f, 1);
  const char *v[1] = {v1};
  return sg_metric_child(f, v);
}

sg_metric *sg_metric_child2(sg_metric_family *f, const char *v1, const char *v2) {
  check_arity(f, 2);
  const char *v[2] = {v1, v2};
  return sg_metric_child(f, v);
}

/* ---- hot path ---- */

void sg_metric_inc(sg_metric *c) {
  sg_metric_add(c, 1.0);
}

void sg_metric_dec(sg_metric *c) {
  if (c && c->fam->type == SG_METRIC_GAUGE)
    c->value -= 1.0;
}

void sg_metric_add(sg_metric *c, double v) {
  if (c == NULL)
    return;
  if (c->fam->type == SG_METRIC_GAUGE)
    c->value += v;
  else if (c->fam->type == SG_METRIC_COUNTER && v >= 0) /* false for NaN too */
    c->value += v;
}

void sg_metric_set(sg_metric *c, double v) {
  if (c && c->fam->type == SG_METRIC_GAUGE)
    c->value = v;
}

void sg_metric_observe(sg_metric *c, double v) {
  if (c == NULL || c->fam->type != SG_METRIC_HISTOGRAM || isnan(v))
    return;
  const sg_metric_family *f = c->fam;
  size_t i = 0;
  while (i < f->nbounds && v > f->bounds[i])
    i++;
  c->buckets[i]++;
  c->sum += v;
}

void sg_metric_set_fn(sg_metric *c, sg_metric_fn fn, void *ud) {
  if (c && c->fam->type == SG_METRIC_GAUGE) {
    c->fn = fn;
    c->fn_ud = ud;
  }
}

uint64_t sg_metric_hist_count(const sg_metric *c) {
  uint64_t n = 0;
  if (c && c->fam->type == SG_METRIC_HISTOGRAM)
    for (size_t i = 0; i <= c->fam->nbounds; i++)
      n += c->buckets[i];
  return n;
}

double sg_metric_hist_sum(const sg_metric *c) {
  return c && c->fam->type == SG_METRIC_HISTOGRAM ? c->sum : 0;
}

double sg_metric_value(const sg_metric *c) {
  if (c == NULL)
    return 0;
  if (c->fam->type == SG_METRIC_HISTOGRAM)
    return (double)sg_metric_hist_count(c);
  if (c->fn)
    return c->fn(c->fn_ud);
  return c->value;
}

/* ---- text format ---- */

void sg_metrics_format_value(sg_buf *out, double v) {
  if (isnan(v)) {
    sg_buf_append_str(out, "NaN");
  } else if (isinf(v)) {
    sg_buf_append_str(out, v > 0 ? "+Inf" : "-Inf");
  } else if (v == 0) {
    sg_buf_append_char(out, '0'); /* also for -0 */
  } else if (v == trunc(v) && fabs(v) < 1e15) {
    sg_buf_printf(out, "%.0f", v);
  } else {
    /* Shortest of 15, 16, 17 significant digits that parses back to |v|. */
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
      snprintf(tmp, sizeof tmp, "%.*g", prec, v);
      if (strtod(tmp, NULL) == v)
        break;
    }
    sg_buf_append_str(out, tmp);
  }
}

static void escape(sg_buf *out, const char *s, bool quote) {
  for (; *s; s++) {
    if (*s == '\\')
      sg_buf_append_str(out, "\\\\");
    else if (*s == '\n')
      sg_buf_append_str(out, "\\n");
    else if (*s == '"' && quote)
      sg_buf_append_str(out, "\\\"");
    else
      sg_buf_append_char(out, *s);
  }
}

/* Writes "{a="x",b="y"[,le="..."]}" (nothing when there is no label at all). */
static void write_labels(sg_buf *out, const sg_metric *c, const char *le) {
  const sg_metric_family *f = c->fam;
  if (f->nlabels == 0 && le == NULL)
    return;
  sg_buf_append_char(out, '{');
  const char *v = c->key;
  for (size_t i = 0; i < f->nlabels; i++) {
    if (i > 0)
      sg_buf_append_char(out, ',');
    sg_buf_printf(out, "%s=\"", f->labels[i]);
    escape(out, v, true);
    sg_buf_append_char(out, '"');
    v += strlen(v) + 1;
  }
  if (le) {
    if (f->nlabels > 0)
      sg_buf_append_char(out, ',');
    sg_buf_printf(out, "le=\"%s\"", le);
  }
  sg_buf_append_char(out, '}');
}

static void write_histogram(sg_buf *out, const sg_metric *c) {
  const sg_metric_family *f = c->fam;
  uint64_t cum = 0;
  sg_buf le = SG_BUF_INIT;
  for (size_t i = 0; i <= f->nbounds; i++) {
    cum += c->buckets[i];
    sg_buf_reset(&le);
    if (i < f->nbounds)
      sg_metrics_format_value(&le, f->bounds[i]);
    else
      sg_buf_append_str(&le, "+Inf");
    sg_buf_printf(out, "%s_bucket", f->name);
    write_labels(out, c, le.data);
    sg_buf_printf(out, " %llu\n", (unsigned long long)cum);
  }
  sg_buf_free(&le);
  sg_buf_printf(out, "%s_sum", f->name);
  write_labels(out, c, NULL);
  sg_buf_append_char(out, ' ');
  sg_metrics_format_value(out, c->sum);
  sg_buf_printf(out, "\n%s_count", f->name);
  write_labels(out, c, NULL);
  sg_buf_printf(out, " %llu\n", (unsigned long long)cum);
}

static const char *type_name(sg_metric_type t) {
  switch (t) {
  case SG_METRIC_COUNTER:
    return "counter";
  case SG_METRIC_GAUGE:
    return "gauge";
  case SG_METRIC_HISTOGRAM:
    return "histogram";
  }
  return "untyped";
}

void sg_metrics_write(const sg_metrics *m, sg_buf *out) {
  for (size_t i = 0; i < m->n; i++) {
    const sg_metric_family *f = m->fams[i];
    sg_buf_printf(out, "# HELP %s ", f->name);
    escape(out, f->help, false);
    sg_buf_printf(out, "\n# TYPE %s %s\n", f->name, type_name(f->type));
    for (size_t j = 0; j < f->nchildren; j++) {
      const sg_metric *c = f->children[j];
      if (f->type == SG_METRIC_HISTOGRAM) {
        write_histogram(out, c);
        continue;
      }
      sg_buf_append_str(out, f->name);
      write_labels(out, c, NULL);
      sg_buf_append_char(out, ' ');
      sg_metrics_format_value(out, sg_metric_value(c));
      sg_buf_append_char(out, '\n');
    }
  }
}
