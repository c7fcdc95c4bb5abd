/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for core/sg_metrics and the gateway's family table: the exact text
 * format 0.0.4 (read back by a strict parser written here), label and help
 * escaping, cumulative histogram buckets, counters that only go up, number
 * formatting, registration checks, and the per-family cardinality cap with
 * its overflow child and single warning.
 */
#include "harness.h"

#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <unistd.h>

#include "app/sg_metrics_gateway.h"
#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "core/sg_metrics.h"

/* ---- a strict reader for the text format ---- */

#define MAXS 512
#define MAXL 10

typedef struct sample {
  char name[128];
  int nl;
  char k[MAXL][64];
  char v[MAXL][256];
  double value;
} sample;

typedef struct parsed {
  sample s[MAXS];
  int n;
  char fam[64][128];
  char type[64][16];
  int nfam;
} parsed;

static bool is_name_char(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
         (!first && c >= '0' && c <= '9');
}

/* Reads a name at |*p| into |out|; fails the test if there is none. */
static void read_name(const char **p, char *out, size_t cap) {
  size_t n = 0;
  while (is_name_char((*p)[n], n == 0))
    n++;
  if (n == 0 || n >= cap)
    SG_FAIL_("expected a name at \"%.40s\"", *p);
  memcpy(out, *p, n);
  out[n] = '\0';
  *p += n;
}

static double read_value(const char *s, const char *end) {
  char tmp[64];
  size_t n = (size_t)(end - s);
  ASSERT(n > 0 && n < sizeof tmp);
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  if (strcmp(tmp, "NaN") == 0)
    return NAN;
  if (strcmp(tmp, "+Inf") == 0)
    return INFINITY;
  if (strcmp(tmp, "-Inf") == 0)
    return -INFINITY;
  char *e;
  double v = strtod(tmp, &e);
  if (*e != '\0' || isinf(v) || isnan(v)) /* spelled-out forms only, as above */
    SG_FAIL_("bad sample value \"%s\"", tmp);
  return v;
}

/* The family a sample belongs to: strip _bucket/_sum/_count for histograms. */
static int family_of(parsed *r, const char *name) {
  for (int i = r->nfam - 1; i >= 0; i--) {
    size_t fl = strlen(r->fam[i]);
    if (strncmp(name, r->fam[i], fl) != 0)
      continue;
    const char *rest = name + fl;
    if (*rest == '\0' && strcmp(r->type[i], "histogram") != 0)
      return i;
    if (strcmp(r->type[i], "histogram") == 0 &&
        (!strcmp(rest, "_bucket") || !strcmp(rest, "_sum") || !strcmp(rest, "_count")))
      return i;
  }
  return -1;
}

static void parse_sample(parsed *r, const char *p, const char *eol) {
  ASSERT_LT(r->n, MAXS);
  sample *s = &r->s[r->n++];
  memset(s, 0, sizeof *s);
  read_name(&p, s->name, sizeof s->name);
  if (*p == '{') {
    p++;
    while (*p != '}') {
      ASSERT_LT(s->nl, MAXL);
      read_name(&p, s->k[s->nl], sizeof s->k[0]);
      for (int j = 0; j < s->nl; j++)
        ASSERT(strcmp(s->k[j], s->k[s->nl]) != 0); /* no duplicate label */
      ASSERT(*p++ == '=');
      ASSERT(*p++ == '"');
      size_t o = 0;
      while (*p != '"') {
        ASSERT(p < eol);
        char c = *p++;
        if (c == '\\') {
          char e = *p++;
          c = e == 'n' ? '\n' : e == '\\' ? '\\' : e == '"' ? '"' : 0;
          if (c == 0)
            SG_FAIL_("bad escape \\%c", e);
        }
        ASSERT_LT(o, sizeof s->v[0] - 1);
        s->v[s->nl][o++] = c;
      }
      p++;
      s->nl++;
      if (*p == ',')
        p++;
      else
        ASSERT(*p == '}');
    }
    p++;
  }
  ASSERT(*p++ == ' ');
  s->value = read_value(p, eol);
  int f = family_of(r, s->name);
  if (f != r->nfam - 1) /* samples follow their own TYPE line, grouped */
    SG_FAIL_("sample %s outside its family", s->name);
}

/* Parses |text| or fails the test: every line is HELP, TYPE or a sample. */
static void parse(const char *text, parsed *r) {
  memset(r, 0, sizeof *r);
  const char *p = text;
  bool help_seen = false;
  while (*p) {
    const char *eol = strchr(p, '\n');
    ASSERT_NOT_NULL(eol); /* every line ends in \n, the last one too */
    if (strncmp(p, "# HELP ", 7) == 0) {
      const char *q = p + 7;
      char name[128];
      read_name(&q, name, sizeof name);
      ASSERT(*q == ' ');
      for (const char *e = q; e < eol; e++)
        if (*e == '\\') {
          ASSERT(e[1] == '\\' || e[1] == 'n');
          e++;
        }
      help_seen = true;
      ASSERT_LT(r->nfam, 64);
      snprintf(r->fam[r->nfam], sizeof r->fam[0], "%s", name);
    } else if (strncmp(p, "# TYPE ", 7) == 0) {
      const char *q = p + 7;
      char name[128];
      read_name(&q, name, sizeof name);
      ASSERT(help_seen);
      ASSERT_STR_EQ(r->fam[r->nfam], name); /* TYPE right after its HELP */
      for (int i = 0; i < r->nfam; i++)
        ASSERT(strcmp(r->fam[i], name) != 0); /* each family once */
      ASSERT(*q++ == ' ');
      size_t tl = (size_t)(eol - q);
      ASSERT(tl < sizeof r->type[0]);
      memcpy(r->type[r->nfam], q, tl);
      const char *t = r->type[r->nfam];
      ASSERT(!strcmp(t, "counter") || !strcmp(t, "gauge") || !strcmp(t, "histogram"));
      r->nfam++;
      help_seen = false;
    } else {
      ASSERT(p[0] != '#');
      ASSERT(!help_seen);
      parse_sample(r, p, eol);
    }
    p = eol + 1;
  }
}

/* The sample |name| whose labels are exactly |labels| ("k=v,k=v", in order). */
static const sample *find(const parsed *r, const char *name, const char *labels) {
  for (int i = 0; i < r->n; i++) {
    const sample *s = &r->s[i];
    if (strcmp(s->name, name) != 0)
      continue;
    char got[1024] = "";
    size_t o = 0;
    for (int j = 0; j < s->nl; j++)
      o += (size_t)snprintf(got + o, sizeof got - o, "%s%s=%s", j ? "," : "", s->k[j], s->v[j]);
    if (strcmp(got, labels) == 0)
      return s;
  }
  return NULL;
}

static double val(const parsed *r, const char *name, const char *labels) {
  const sample *s = find(r, name, labels);
  if (s == NULL)
    SG_FAIL_("no sample %s{%s}", name, labels);
  return s->value;
}

/* For every histogram series: buckets cumulative, in increasing le, ending in
 * +Inf, and +Inf equal to _count. */
static void check_histograms(const parsed *r) {
  for (int i = 0; i < r->n; i++) {
    const sample *s = &r->s[i];
    size_t nl = strlen(s->name);
    if (nl < 6 || strcmp(s->name + nl - 6, "_count") != 0)
      continue;
    char base[128];
    snprintf(base, sizeof base, "%.*s_bucket", (int)(nl - 6), s->name);
    double prev_le = -INFINITY, prev = 0;
    bool inf = false;
    int buckets = 0;
    for (int j = 0; j < r->n; j++) {
      const sample *b = &r->s[j];
      if (strcmp(b->name, base) != 0 || b->nl != s->nl + 1)
        continue;
      bool same = true;
      for (int k = 0; k < s->nl; k++)
        same = same && !strcmp(b->k[k], s->k[k]) && !strcmp(b->v[k], s->v[k]);
      if (!same)
        continue;
      ASSERT_STR_EQ("le", b->k[s->nl]); /* le comes last */
      double le = read_value(b->v[s->nl], b->v[s->nl] + strlen(b->v[s->nl]));
      ASSERT(!inf);
      ASSERT(le > prev_le);
      ASSERT(b->value >= prev);
      prev_le = le;
      prev = b->value;
      inf = isinf(le);
      buckets++;
    }
    ASSERT(inf);
    ASSERT(buckets >= 2);
    ASSERT(prev == s->value);
  }
}

/* ---- cases ---- */

static const char *const L_AB[] = {"a", "b"};
static const char *const L_ORIGIN[] = {"origin"};
static const double B2[] = {0.25, 1};

static sg_metrics *golden_registry(sg_metric **cx, sg_metric **g, sg_metric **h) {
  sg_metrics *m = sg_metrics_new();
  sg_metric_family *fc, *fg, *fh;
  sg_metric_desc dc = {
      "sendgate_test_total", "A \\ test\nline \"q\"", SG_METRIC_COUNTER, L_AB, 2, NULL, 0, 0};
  sg_metric_desc dg = {"test_gauge", "G.", SG_METRIC_GAUGE, NULL, 0, NULL, 0, 0};
  sg_metric_desc dh = {"test_seconds", "H.", SG_METRIC_HISTOGRAM, L_ORIGIN, 1, B2, 2, 0};
  ASSERT_OK(sg_metrics_register(m, &dc, &fc));
  ASSERT_OK(sg_metrics_register(m, &dg, &fg));
  ASSERT_OK(sg_metrics_register(m, &dh, &fh));
  *cx = sg_metric_child2(fc, "x", "y");
  sg_metric_add(*cx, 3);
  sg_metric_inc(sg_metric_child2(fc, "q\"\\\n", NULL));
  *g = sg_metric_child0(fg);
  sg_metric_set(*g, 2.5);
  *h = sg_metric_child1(fh, "graph");
  return m;
}

static void t_exact_text(void) {
  sg_metric *c, *g, *h;
  sg_metrics *m = golden_registry(&c, &g, &h);
  sg_metric_observe(h, 0.125);
  sg_metric_observe(h, 0.25); /* on the bound: counts in le="0.25" */
  sg_metric_observe(h, 0.5);
  sg_metric_observe(h, 2);
  sg_buf b = SG_BUF_INIT;
  sg_metrics_write(m, &b);
  ASSERT_STR_EQ("# HELP sendgate_test_total A \\\\ test\\nline \"q\"\n"
                "# TYPE sendgate_test_total counter\n"
                "sendgate_test_total{a=\"x\",b=\"y\"} 3\n"
                "sendgate_test_total{a=\"q\\\"\\\\\\n\",b=\"\"} 1\n"
                "# HELP test_gauge G.\n"
                "# TYPE test_gauge gauge\n"
                "test_gauge 2.5\n"
                "# HELP test_seconds H.\n"
                "# TYPE test_seconds histogram\n"
                "test_seconds_bucket{origin=\"graph\",le=\"0.25\"} 2\n"
                "test_seconds_bucket{origin=\"graph\",le=\"1\"} 3\n"
                "test_seconds_bucket{origin=\"graph\",le=\"+Inf\"} 4\n"
                "test_seconds_sum{origin=\"graph\"} 2.875\n"
                "test_seconds_count{origin=\"graph\"} 4\n",
                b.data);
  /* Read back: the escaped label value comes back as it went in. */
  static parsed r;
  parse(b.data, &r);
  ASSERT_EQ(3, r.nfam);
  ASSERT_EQ(3, (int)val(&r, "sendgate_test_total", "a=x,b=y"));
  ASSERT_EQ(1, (int)val(&r, "sendgate_test_total", "a=q\"\\\n,b="));
  ASSERT(val(&r, "test_gauge", "") == 2.5);
  ASSERT(val(&r, "test_seconds_sum", "origin=graph") == 2.875);
  check_histograms(&r);
  sg_buf_free(&b);
  sg_metrics_free(m);
}

static void t_histogram_cumulative(void) {
  sg_metrics *m = sg_metrics_new();
  sg_metric_family *f;
  static const double bounds[] = {0.005, 0.01, 0.1, 1, 10, INFINITY}; /* +Inf given: dropped */
  sg_metric_desc d = {"lat_seconds", "x", SG_METRIC_HISTOGRAM, L_ORIGIN, 1, bounds, 6, 0};
  ASSERT_OK(sg_metrics_register(m, &d, &f));
  sg_metric *a = sg_metric_child1(f, "graph"), *e = sg_metric_child1(f, "acs");
  uint32_t x = 12345;
  double sum = 0;
  for (int i = 0; i < 1000; i++) {
    x = x * 1103515245u + 12345u;
    double v = (double)(x % 20000) / 1000.0; /* 0 .. 20 s */
    sg_metric_observe(a, v);
    sum += v;
  }
  sg_metric_observe(a, NAN); /* ignored */
  sg_metric_observe(e, 100);
  ASSERT_EQ(1000, sg_metric_hist_count(a));
  ASSERT(fabs(sg_metric_hist_sum(a) - sum) < 1e-6);
  sg_buf b = SG_BUF_INIT;
  sg_metrics_write(m, &b);
  static parsed r;
  parse(b.data, &r);
  check_histograms(&r);
  ASSERT_EQ(1000, (int)val(&r, "lat_seconds_count", "origin=graph"));
  ASSERT_EQ(1000, (int)val(&r, "lat_seconds_bucket", "origin=graph,le=+Inf"));
  ASSERT_EQ(0, (int)val(&r, "lat_seconds_bucket", "origin=acs,le=10"));
  ASSERT_EQ(1, (int)val(&r, "lat_seconds_bucket", "origin=acs,le=+Inf"));
  ASSERT_NULL(find(&r, "lat_seconds_bucket", "origin=graph,le=inf"));
  ASSERT_EQ(2 * (6 + 2), r.n); /* per series: 6 buckets (5 + Inf), sum, count */
  sg_buf_free(&b);
  sg_metrics_free(m);
}

static void t_counter_monotonic(void) {
  sg_metric *c, *g, *h;
  sg_metrics *m = golden_registry(&c, &g, &h);
  double last = -1;
  for (int i = 0; i < 50; i++) {
    sg_metric_add(c, i % 7 == 0 ? -5 : 0.5); /* negative adds are ignored */
    sg_metric_add(c, NAN);
    sg_metric_set(c, 0); /* set/dec are for gauges */
    sg_metric_dec(c);
    sg_buf b = SG_BUF_INIT;
    sg_metrics_write(m, &b);
    static parsed r;
    parse(b.data, &r);
    double v = val(&r, "sendgate_test_total", "a=x,b=y");
    ASSERT(v >= last);
    last = v;
    sg_buf_free(&b);
  }
  ASSERT(last == 3 + 0.5 * (50 - 8));
  /* Type mismatches are no-ops; NULL children too. */
  sg_metric_observe(c, 1);
  sg_metric_inc(h);
  sg_metric_set(h, 5);
  ASSERT_EQ(0, sg_metric_hist_count(h));
  sg_metric_inc(NULL);
  sg_metric_observe(NULL, 1);
  sg_metric_set(NULL, 1);
  ASSERT(sg_metric_value(NULL) == 0);
  /* Gauges go both ways. */
  sg_metric_add(g, -4);
  sg_metric_inc(g);
  sg_metric_dec(g);
  sg_metric_dec(g);
  ASSERT(sg_metric_value(g) == -2.5);
  sg_metrics_free(m);
}

static double gauge_fn(void *ud) {
  return (double)*(int *)ud;
}

static void t_gauge_fn(void) {
  sg_metric *c, *g, *h;
  sg_metrics *m = golden_registry(&c, &g, &h);
  int n = 7;
  sg_metric_set_fn(g, gauge_fn, &n);
  sg_metric_set_fn(c, gauge_fn, &n); /* ignored on a counter */
  sg_buf b = SG_BUF_INIT;
  sg_metrics_write(m, &b);
  ASSERT_NOT_NULL(strstr(b.data, "\ntest_gauge 7\n"));
  ASSERT_NOT_NULL(strstr(b.data, "\nsendgate_test_total{a=\"x\",b=\"y\"} 3\n"));
  n = 42; /* read at scrape time */
  sg_buf_reset(&b);
  sg_metrics_write(m, &b);
  ASSERT_NOT_NULL(strstr(b.data, "\ntest_gauge 42\n"));
  sg_metric_set_fn(g, NULL, NULL); /* back to the stored value */
  sg_buf_reset(&b);
  sg_metrics_write(m, &b);
  ASSERT_NOT_NULL(strstr(b.data, "\ntest_gauge 2.5\n"));
  sg_buf_free(&b);
  sg_metrics_free(m);
}

static void check_fmt(double v, const char *want) {
  sg_buf b = SG_BUF_INIT;
  sg_metrics_format_value(&b, v);
  ASSERT_STR_EQ(want, b.data);
  sg_buf_free(&b);
}

static void t_format_value(void) {
  check_fmt(0, "0");
  check_fmt(-0.0, "0");
  check_fmt(3, "3");
  check_fmt(-3, "-3");
  check_fmt(123456789012345, "123456789012345");
  check_fmt(1e15, "1e+15");
  check_fmt(1e20, "1e+20");
  check_fmt(0.1, "0.1");
  check_fmt(2.5, "2.5");
  check_fmt(1e-9, "1e-09");
  check_fmt(0.1 + 0.2, "0.30000000000000004");
  check_fmt(1.0 / 3, "0.3333333333333333");
  check_fmt(NAN, "NaN");
  check_fmt(INFINITY, "+Inf");
  check_fmt(-INFINITY, "-Inf");
}

static void t_register_checks(void) {
  sg_metrics *m = sg_metrics_new();
  static const char *const bad_le[] = {"le"};
  static const char *const dunder[] = {"__x"};
  static const char *const dup[] = {"a", "a"};
  static const char *const badch[] = {"a-b"};
  static const char *const nine[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i"};
  static const double unsorted[] = {1, 0.5};
  static const double equal[] = {1, 1};
  static const double nan_b[] = {NAN};
  static const double only_inf[] = {INFINITY};
  struct {
    sg_metric_desc d;
    int want;
  } cases[] = {
      {{"ok_total", "h", SG_METRIC_COUNTER, NULL, 0, NULL, 0, 0}, 0},
      {{"ok_total", "h", SG_METRIC_COUNTER, NULL, 0, NULL, 0, 0}, SG_ERR_EXISTS},
      {{"ok_total", "h", SG_METRIC_GAUGE, NULL, 0, NULL, 0, 0}, SG_ERR_EXISTS},
      {{"no_suffix", "h", SG_METRIC_COUNTER, NULL, 0, NULL, 0, 0}, SG_ERR_INVAL},
      {{"_total", "h", SG_METRIC_COUNTER, NULL, 0, NULL, 0, 0}, SG_ERR_INVAL},
      {{"9bad", "h", SG_METRIC_GAUGE, NULL, 0, NULL, 0, 0}, SG_ERR_INVAL},
      {{"bad-name", "h", SG_METRIC_GAUGE, NULL, 0, NULL, 0, 0}, SG_ERR_INVAL},
      {{"", "h", SG_METRIC_GAUGE, NULL, 0, NULL, 0, 0}, SG_ERR_INVAL},
      {{NULL, "h", SG_METRIC_GAUGE, NULL, 0, NULL, 0, 0}, SG_ERR_INVAL},
      {{"ns:gauge", NULL, SG_METRIC_GAUGE, NULL, 0, NULL, 0, 0}, 0},
      {{"g1", "h", SG_METRIC_GAUGE, dunder, 1, NULL, 0, 0}, SG_ERR_INVAL},
      {{"g2", "h", SG_METRIC_GAUGE, dup, 2, NULL, 0, 0}, SG_ERR_INVAL},
      {{"g3", "h", SG_METRIC_GAUGE, badch, 1, NULL, 0, 0}, SG_ERR_INVAL},
      {{"g4", "h", SG_METRIC_GAUGE, nine, 9, NULL, 0, 0}, SG_ERR_INVAL},
      {{"g5", "h", SG_METRIC_GAUGE, NULL, 1, NULL, 0, 0}, SG_ERR_INVAL},
      {{"g6", "h", SG_METRIC_GAUGE, bad_le, 1, NULL, 0, 0}, 0}, /* le only matters for histograms */
      {{"h1", "h", SG_METRIC_HISTOGRAM, bad_le, 1, B2, 2, 0}, SG_ERR_INVAL},
      {{"h2", "h", SG_METRIC_HISTOGRAM, NULL, 0, NULL, 0, 0}, SG_ERR_INVAL},
      {{"h3", "h", SG_METRIC_HISTOGRAM, NULL, 0, unsorted, 2, 0}, SG_ERR_INVAL},
      {{"h4", "h", SG_METRIC_HISTOGRAM, NULL, 0, equal, 2, 0}, SG_ERR_INVAL},
      {{"h5", "h", SG_METRIC_HISTOGRAM, NULL, 0, nan_b, 1, 0}, SG_ERR_INVAL},
      {{"h6", "h", SG_METRIC_HISTOGRAM, NULL, 0, only_inf, 1, 0}, SG_ERR_INVAL},
      {{"h7", "h", SG_METRIC_HISTOGRAM, NULL, 0, B2, 2, 0}, 0},
      {{"t1", "h", (sg_metric_type)7, NULL, 0, NULL, 0, 0}, SG_ERR_INVAL},
  };
  for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
    int rv = sg_metrics_register(m, &cases[i].d, NULL);
    if (rv != cases[i].want)
      SG_FAIL_("case %zu (%s): got %d want %d", i, cases[i].d.name ? cases[i].d.name : "NULL", rv,
               cases[i].want);
  }
  ASSERT_NOT_NULL(sg_metrics_find(m, "ok_total"));
  ASSERT_NOT_NULL(sg_metrics_find(m, "h7"));
  ASSERT_NULL(sg_metrics_find(m, "h6"));
  /* Unlabelled families show up as 0 before any add. */
  sg_buf b = SG_BUF_INIT;
  sg_metrics_write(m, &b);
  ASSERT_NOT_NULL(strstr(b.data, "\nok_total 0\n"));
  ASSERT_NOT_NULL(strstr(b.data, "# HELP ns:gauge \n"));
  ASSERT_NOT_NULL(strstr(b.data, "\nh7_count 0\n"));
  static parsed r;
  parse(b.data, &r);
  check_histograms(&r);
  sg_buf_free(&b);
  sg_metrics_free(m);
}

static void t_children(void) {
  sg_metrics *m = sg_metrics_new();
  sg_metric_family *f;
  sg_metric_desc d = {"c_total", "h", SG_METRIC_COUNTER, L_AB, 2, NULL, 0, 1000};
  ASSERT_OK(sg_metrics_register(m, &d, &f));
  sg_metric *kept[600];
  char a[16], bb[16];
  for (int i = 0; i < 600; i++) { /* many rehashes on the way */
    snprintf(a, sizeof a, "a%d", i % 37);
    snprintf(bb, sizeof bb, "b%d", i);
    kept[i] = sg_metric_child2(f, a, bb);
    sg_metric_add(kept[i], i);
  }
  ASSERT_EQ(600, sg_metric_family_nchildren(f));
  for (int i = 0; i < 600; i++) {
    snprintf(a, sizeof a, "a%d", i % 37);
    snprintf(bb, sizeof bb, "b%d", i);
    ASSERT(sg_metric_child2(f, a, bb) == kept[i]);
    ASSERT(sg_metric_value(kept[i]) == i);
  }
  /* The split between values matters: ("ab","c") is not ("a","bc"). */
  ASSERT(sg_metric_child2(f, "ab", "c") != sg_metric_child2(f, "a", "bc"));
  /* NULL is "". */
  ASSERT(sg_metric_child2(f, NULL, "z") == sg_metric_child2(f, "", "z"));
  const char *const vals[] = {"", "z"};
  ASSERT(sg_metric_child(f, vals) == sg_metric_child2(f, NULL, "z"));
  sg_metrics_free(m);
}

static void t_value_sanitize(void) {
  sg_metrics *m = sg_metrics_new();
  sg_metric_family *f;
  sg_metric_desc d = {"s_total", "h", SG_METRIC_COUNTER, L_ORIGIN, 1, NULL, 0, 0};
  ASSERT_OK(sg_metrics_register(m, &d, &f));
  char longv[400];
  memset(longv, 'x', sizeof longv - 1);
  longv[sizeof longv - 1] = '\0';
  longv[SG_METRICS_MAX_VALUE - 1] = '\xc3'; /* a 2-byte character across the cut */
  longv[SG_METRICS_MAX_VALUE] = '\xa9';
  sg_metric_inc(sg_metric_child1(f, longv));
  sg_metric_inc(sg_metric_child1(f, "a\xff"
                                    "b\xc3\xa9\xed\xa0\x80"));
  sg_buf b = SG_BUF_INIT;
  sg_metrics_write(m, &b);
  static parsed r;
  parse(b.data, &r);
  char want[200] = "origin=";
  memset(want + 7, 'x', SG_METRICS_MAX_VALUE - 1); /* cut before the character */
  ASSERT_EQ(1, (int)val(&r, "s_total", want));
  ASSERT_EQ(1, (int)val(&r, "s_total", "origin=a?b\xc3\xa9???"));
  sg_buf_free(&b);
  sg_metrics_free(m);
}

/* Runs |fn| with stderr sent to a file; returns how often |needle| was logged. */
static int count_logged(void (*fn)(sg_metric_family *), sg_metric_family *f, const char *needle) {
  char path[] = "/tmp/sg_test_metrics_XXXXXX";
  int fd = mkstemp(path);
  ASSERT(fd >= 0);
  fflush(stderr);
  int saved = dup(2);
  ASSERT(saved >= 0);
  ASSERT(dup2(fd, 2) == 2);
  fn(f);
  fflush(stderr);
  ASSERT(dup2(saved, 2) == 2);
  close(saved);
  char buf[8192];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  close(fd);
  unlink(path);
  ASSERT(n >= 0);
  buf[n] = '\0';
  int count = 0;
  for (const char *p = buf; (p = strstr(p, needle)) != NULL; p++)
    count++;
  return count;
}

static void overflow_some(sg_metric_family *f) {
  char a[16];
  for (int i = 0; i < 10; i++) {
    snprintf(a, sizeof a, "v%d", i);
    sg_metric_inc(sg_metric_child2(f, a, "y"));
  }
}

static void t_cardinality_cap(void) {
  sg_metrics *m = sg_metrics_new();
  sg_metric_family *f;
  sg_metric_desc d = {"cap_total", "h", SG_METRIC_COUNTER, L_AB, 2, NULL, 0, 3};
  ASSERT_OK(sg_metrics_register(m, &d, &f));
  ASSERT_EQ(1, count_logged(overflow_some, f, "cap_total reached 3 label sets"));
  ASSERT_EQ(4, sg_metric_family_nchildren(f)); /* 3 kept + other */
  /* A second burst: same overflow child, no second warning. */
  ASSERT_EQ(0, count_logged(overflow_some, f, "reached"));
  ASSERT_EQ(4, sg_metric_family_nchildren(f));
  sg_metric *other = sg_metric_child2(f, "new", "one");
  ASSERT(other == sg_metric_child2(f, SG_METRICS_OTHER, SG_METRICS_OTHER));
  ASSERT(sg_metric_child2(f, "v1", "y") != other); /* known children still found */
  sg_buf b = SG_BUF_INIT;
  sg_metrics_write(m, &b);
  static parsed r;
  parse(b.data, &r);
  ASSERT_EQ(4, r.n);
  ASSERT_EQ(2, (int)val(&r, "cap_total", "a=v0,b=y"));
  ASSERT_EQ(2, (int)val(&r, "cap_total", "a=v2,b=y"));
  ASSERT_EQ(14, (int)val(&r, "cap_total", "a=other,b=other"));
  sg_buf_free(&b);

  /* When a real child already has the overflow values, it is reused: no duplicate series. */
  sg_metric_family *g;
  sg_metric_desc d2 = {"cap2_total", "h", SG_METRIC_COUNTER, L_ORIGIN, 1, NULL, 0, 2};
  ASSERT_OK(sg_metrics_register(m, &d2, &g));
  sg_metric *o = sg_metric_child1(g, SG_METRICS_OTHER);
  sg_metric_child1(g, "a");
  ASSERT(sg_metric_child1(g, "b") == o);
  ASSERT_EQ(2, sg_metric_family_nchildren(g));
  sg_metrics_free(m);
}

static void t_gateway_table(void) {
  sg_metrics *m = sg_metrics_new();
  sg_gw_metrics gw;
  memset(&gw, 0, sizeof gw);
  ASSERT_OK(sg_gw_metrics_register(m, &gw));
  /* Every slot filled. */
  sg_metric_family **slots = (sg_metric_family **)&gw;
  for (size_t i = 0; i < sizeof gw / sizeof(sg_metric_family *); i++)
    ASSERT_NOT_NULL(slots[i]);
  sg_metric_inc(sg_metric_child0(gw.jobs_fetched));
  sg_metric_inc(sg_metric_child2(gw.results, "graph", "SENT"));
  sg_metric_inc(sg_metric_child2(gw.http_requests, "graph", "202"));
  sg_metric_observe(sg_metric_child1(gw.http_request_duration, "graph"), 0.042);
  sg_metric_observe(sg_metric_child0(gw.job_duration), 1.5);
  sg_metric_set(sg_metric_child0(gw.jobs_in_flight), 3);
  sg_buf b = SG_BUF_INIT;
  sg_metrics_write(m, &b);
  static parsed r;
  parse(b.data, &r);
  check_histograms(&r);
  ASSERT_EQ((int)(sizeof gw / sizeof(sg_metric_family *)), r.nfam);
  for (int i = 0; i < r.nfam; i++) {
    ASSERT(strncmp(r.fam[i], "sendgate_", 9) == 0);
    if (!strcmp(r.type[i], "counter"))
      ASSERT(strstr(r.fam[i], "_total") != NULL);
    if (!strcmp(r.type[i], "histogram"))
      ASSERT(strstr(r.fam[i], "_seconds") != NULL);
  }
  ASSERT_EQ(1, (int)val(&r, "sendgate_results_total", "backend=graph,status=SENT"));
  ASSERT_EQ(1, (int)val(&r, "sendgate_http_requests_total", "origin=graph,code=202"));
  ASSERT_EQ(1,
            (int)val(&r, "sendgate_http_request_duration_seconds_bucket", "origin=graph,le=0.05"));
  ASSERT_EQ(0,
            (int)val(&r, "sendgate_http_request_duration_seconds_bucket", "origin=graph,le=0.025"));
  ASSERT_EQ(3, (int)val(&r, "sendgate_jobs_in_flight", ""));
  ASSERT_EQ(0, (int)val(&r, "sendgate_redis_reconnects_total", ""));
  /* Twice into one registry: the names are taken. */
  sg_gw_metrics again;
  ASSERT_EQ(SG_ERR_EXISTS, sg_gw_metrics_register(m, &again));
  sg_buf_free(&b);
  sg_metrics_free(m);
}

SG_TESTS({"exact_text", t_exact_text}, {"histogram_cumulative", t_histogram_cumulative},
         {"counter_monotonic", t_counter_monotonic}, {"gauge_fn", t_gauge_fn},
         {"format_value", t_format_value}, {"register_checks", t_register_checks},
         {"children", t_children}, {"value_sanitize", t_value_sanitize},
         {"cardinality_cap", t_cardinality_cap}, {"gateway_table", t_gateway_table})
