/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Retry-After parsing; see sg_retry_after.h. A small cursor parser per form,
 * no sscanf/strptime (locale-dependent and too lenient).
 */
#include "svc/sg_retry_after.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "core/sg_err.h"

/* Seconds above this saturate (about 31,700 years): no int64 overflow in ms. */
#define MAX_SECONDS 1000000000000LL

typedef struct cur {
  const char *p;
  const char *end;
} cur;

static const char *const days_short[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static const char *const days_long[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                        "Friday", "Saturday", "Sunday"};
static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

static bool lit(cur *c, const char *s) {
  size_t n = strlen(s);
  if ((size_t)(c->end - c->p) < n || strncasecmp(c->p, s, n) != 0)
    return false;
  c->p += n;
  return true;
}

/* Exactly |n| digits. */
static bool digits(cur *c, int n, int *out) {
  int v = 0;
  if (c->end - c->p < n)
    return false;
  for (int i = 0; i < n; i++) {
    if (!is_digit(c->p[i]))
      return false;
    v = v * 10 + (c->p[i] - '0');
  }
  c->p += n;
  *out = v;
  return true;
}

/* One of |names| (matched case-insensitively, longest first is not needed:
 * no name is a prefix of another within one table). Stores the index. */
static bool name(cur *c, const char *const *names, int count, int *idx) {
  for (int i = 0; i < count; i++) {
    if (lit(c, names[i])) {
      *idx = i;
      return true;
    }
  }
  return false;
}

static bool time_of_day(cur *c, int *h, int *m, int *s) {
  return digits(c, 2, h) && lit(c, ":") && digits(c, 2, m) && lit(c, ":") && digits(c, 2, s) &&
         *h <= 23 && *m <= 59 && *s <= 60; /* 60: a leap second */
}

static bool leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool valid_date(int y, int mon, int d) {
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mon < 1 || mon > 12 || d < 1)
    return false;
  int max = mdays[mon - 1] + (mon == 2 && leap(y) ? 1 : 0);
  return d <= max;
}

/* Howard Hinnant's days_from_civil. */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* The proleptic Gregorian year containing |unix_s| (Hinnant's civil_from_days). */
static int64_t year_of(int64_t unix_s) {
  int64_t z = (unix_s >= 0 ? unix_s : unix_s - 86399) / 86400 + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  return yoe + era * 400 + (m <= 2);
}

int64_t sg_retry_after_timegm(int year, int month, int day, int hour, int min, int sec) {
  return days_from_civil(year, month, day) * 86400 + hour * 3600 + min * 60 + sec;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" after the day name. */
static bool imf_fixdate(cur *c, int64_t *t) {
  int d, mon, y, h, mi, s;
  if (!(lit(c, ", ") && digits(c, 2, &d) && lit(c, " ") && name(c, months, 12, &mon) &&
        lit(c, " ") && digits(c, 4, &y) && lit(c, " ") && time_of_day(c, &h, &mi, &s) &&
        lit(c, " GMT") && c->p == c->end))
    return false;
  if (!valid_date(y, mon + 1, d))
    return false;
  *t = sg_retry_after_timegm(y, mon + 1, d, h, mi, s);
  return true;
}

/* "Sunday, 06-Nov-94 08:49:37 GMT" after the day name. */
static bool rfc850(cur *c, int64_t now_s, int64_t *t) {
  int d, mon, yy, h, mi, s;
  if (!(lit(c, ", ") && digits(c, 2, &d) && lit(c, "-") && name(c, months, 12, &mon) &&
        lit(c, "-") && digits(c, 2, &yy) && lit(c, " ") && time_of_day(c, &h, &mi, &s) &&
        lit(c, " GMT") && c->p == c->end))
    return false;
  /* RFC 9110: a two-digit year more than 50 years in the future means the
   * most recent past year with the same last two digits. */
  int64_t now_y = year_of(now_s);
  int64_t y = now_y - now_y % 100 + yy;
  if (y > now_y + 50)
    y -= 100;
  if (y < 0 || y > 9999 || !valid_date((int)y, mon + 1, d))
    return false;
  *t = sg_retry_after_timegm((int)y, mon + 1, d, h, mi, s);
  return true;
}

/* "Sun Nov  6 08:49:37 1994" after the day name. */
static bool asctime_date(cur *c, int64_t *t) {
  int d, mon, y, h, mi, s;
  if (!(lit(c, " ") && name(c, months, 12, &mon) && lit(c, " ")))
    return false;
  if (lit(c, " ")) {
    if (!digits(c, 1, &d))
      return false;
  } else if (!digits(c, 2, &d)) {
    return false;
  }
  if (!(lit(c, " ") && time_of_day(c, &h, &mi, &s) && lit(c, " ") && digits(c, 4, &y) &&
        c->p == c->end))
    return false;
  if (!valid_date(y, mon + 1, d))
    return false;
  *t = sg_retry_after_timegm(y, mon + 1, d, h, mi, s);
  return true;
}

static bool http_date(const char *p, const char *end, int64_t now_s, int64_t *t) {
  cur c = {p, end};
  int wd;
  /* Long names first: "Monday" would otherwise match as "Mon" + garbage. */
  if (name(&c, days_long, 7, &wd))
    return rfc850(&c, now_s, t);
  if (!name(&c, days_short, 7, &wd))
    return false;
  if (c.p < c.end && *c.p == ',')
    return imf_fixdate(&c, t);
  return asctime_date(&c, t);
}

/* delay-seconds, optionally with a fraction: 1*DIGIT [ "." 1*DIGIT ]. */
static bool seconds(const char *p, const char *end, int64_t *ms) {
  int64_t s = 0;
  const char *q = p;
  while (q < end && is_digit(*q)) {
    if (s < MAX_SECONDS)
      s = s * 10 + (*q - '0');
    q++;
  }
  if (q == p)
    return false;
  if (s > MAX_SECONDS)
    s = MAX_SECONDS;
  int64_t frac = 0;
  if (q < end && *q == '.') {
    const char *f = ++q;
    int nd = 0;
    bool rest = false; /* a non-zero digit beyond milliseconds */
    while (q < end && is_digit(*q)) {
      if (nd < 3)
        frac = frac * 10 + (*q - '0');
      else if (*q != '0')
        rest = true;
      nd++;
      q++;
    }
    if (q == f)
      return false;
    for (; nd < 3; nd++)
      frac *= 10;
    if (rest)
      frac++;
  }
  if (q != end)
    return false;
  *ms = s * 1000 + frac;
  return true;
}

int sg_retry_after_parse(const char *v, size_t n, int64_t now_unix_ms, int64_t max_ms,
                         int64_t *out_ms) {
  if ((v == NULL && n > 0) || out_ms == NULL)
    return SG_ERR_INVAL;
  if (v == NULL)
    return SG_ERR_PARSE;
  const char *p = v, *end = v + n;
  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
    end--;
  if (p == end)
    return SG_ERR_PARSE;
  int64_t ms;
  if (is_digit(*p)) {
    if (!seconds(p, end, &ms))
      return SG_ERR_PARSE;
  } else {
    int64_t t;
    int64_t now_s = now_unix_ms / 1000;
    if (!http_date(p, end, now_s, &t))
      return SG_ERR_PARSE;
    /* Compare in ms against the precise now; a past date means "now". */
    int64_t at_ms = t * 1000;
    ms = at_ms > now_unix_ms ? at_ms - now_unix_ms : 0;
  }
  if (max_ms > 0 && ms > max_ms)
    ms = max_ms;
  *out_ms = ms;
  return 0;
}
