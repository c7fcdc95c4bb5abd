/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for svc/sg_retry_after: integer and fractional seconds, the three
 * HTTP-date forms of RFC 9110 relative to a given now, clamping, and
 * rejection of garbage and negative values.
 */
#include "harness.h"

#include <time.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "svc/sg_retry_after.h"

#define HOUR_MS (3600LL * 1000)

static int64_t ra(const char *v, int64_t now, int64_t max) {
  int64_t ms = -12345;
  int rv = sg_retry_after_parse(v, strlen(v), now, max, &ms);
  if (rv != 0) {
    fprintf(stderr, "rejected: \"%s\"\n", v);
    ASSERT_OK(rv);
  }
  return ms;
}

static void bad(const char *v, int64_t now) {
  int64_t ms = -12345;
  int rv = sg_retry_after_parse(v, strlen(v), now, 0, &ms);
  if (rv != SG_ERR_PARSE)
    fprintf(stderr, "accepted: \"%s\" -> %lld\n", v, (long long)ms);
  ASSERT_EQ(SG_ERR_PARSE, rv);
  ASSERT_EQ(-12345, ms); /* untouched on failure */
}

static void t_seconds(void) {
  ASSERT_EQ(0, ra("0", 0, 0));
  ASSERT_EQ(120000, ra("120", 0, 0));
  ASSERT_EQ(60000, ra("60", 1700000000000LL, 0));
  ASSERT_EQ(5000, ra("  5 \t", 0, 0));
  ASSERT_EQ(7000, ra("\t007", 0, 0));
  /* Graph's fractional seconds. */
  ASSERT_EQ(2128, ra("2.128", 0, 0));
  ASSERT_EQ(2100, ra("2.1", 0, 0));
  ASSERT_EQ(2128, ra("2.1280000", 0, 0));
  ASSERT_EQ(2129, ra("2.1281", 0, 0)); /* rounds up: wait at least that long */
  ASSERT_EQ(1, ra("0.0001", 0, 0));
  ASSERT_EQ(0, ra("0.000", 0, 0));
  ASSERT_EQ(500, ra("0.5", 0, 0));
  /* Clamping, and saturation instead of overflow. */
  ASSERT_EQ(HOUR_MS, ra("86400", 0, HOUR_MS));
  ASSERT_EQ(HOUR_MS, ra("99999999999999999999999999999", 0, HOUR_MS));
  ASSERT_EQ(1000000000000LL * 1000, ra("99999999999999999999999999999", 0, 0));
  ASSERT_EQ(HOUR_MS, ra("3600", 0, HOUR_MS)); /* at the cap: unchanged */
}

static void t_garbage(void) {
  static const char *const v[] = {
      "",
      " ",
      "\t \t",
      "-1",
      "-0",
      "+5",
      "1e3",
      "5.",
      ".5",
      "5..1",
      "5.1.2",
      "abc",
      "5s",
      "1 2",
      "0x10",
      "NaN",
      "inf",
      "1,5",
      "\xef\xbc\x95" /* fullwidth 5 */,
      "5\r\n",
      "Sun, 06 Nov 1994 08:49:37",
      "Sun, 06 Nov 1994 08:49:37 UTC",
      "Sun, 06 Nov 1994 08:49:37 GMT x",
      "Sun, 6 Nov 1994 08:49:37 GMT",
      "Sun, 06 Nov 94 08:49:37 GMT",
      "Sun, 31 Feb 1994 08:49:37 GMT",
      "Sun, 29 Feb 2023 08:49:37 GMT",
      "Sun, 00 Nov 1994 08:49:37 GMT",
      "Sun, 06 Nov 1994 24:00:00 GMT",
      "Sun, 06 Nov 1994 08:60:37 GMT",
      "Sun, 06 Nov 1994 08:49:61 GMT",
      "Sun, 06 Foo 1994 08:49:37 GMT",
      "Fun, 06 Nov 1994 08:49:37 GMT",
      "Sun,06 Nov 1994 08:49:37 GMT",
      "Sun,  06 Nov 1994 08:49:37 GMT",
      "Sun, 06 Nov 1994 8:49:37 GMT",
      "Sunday, 06-Nov-1994 08:49:37 GMT",
      "Sunday, 06 Nov 94 08:49:37 GMT",
      "Sunday, 06-Nov-94 08:49:37",
      "Sun Nov  6 08:49:37 94",
      "Sun Nov 6 08:49:37 1994",
      "Sun Nov  6 08:49:37 1994 GMT",
      "Sun Nov   6 08:49:37 1994",
      "Sun",
      "Sunday",
      "Sun,",
  };
  for (size_t i = 0; i < SG_ARRAY_LEN(v); i++)
    bad(v[i], 784111777000LL);
  /* Embedded NUL with an explicit length. */
  int64_t ms;
  ASSERT_EQ(SG_ERR_PARSE, sg_retry_after_parse("5\0", 2, 0, 0, &ms));
  ASSERT_EQ(SG_ERR_PARSE, sg_retry_after_parse(NULL, 0, 0, 0, &ms));
  ASSERT_EQ(SG_ERR_INVAL, sg_retry_after_parse(NULL, 3, 0, 0, &ms));
  ASSERT_EQ(SG_ERR_INVAL, sg_retry_after_parse("5", 1, 0, 0, NULL));
  /* Length bounds the read: "12" of "123". */
  ASSERT_OK(sg_retry_after_parse("123", 2, 0, 0, &ms));
  ASSERT_EQ(12000, ms);
}

static void t_timegm(void) {
  ASSERT_EQ(0, sg_retry_after_timegm(1970, 1, 1, 0, 0, 0));
  ASSERT_EQ(784111777, sg_retry_after_timegm(1994, 11, 6, 8, 49, 37));
  ASSERT_EQ(951782400, sg_retry_after_timegm(2000, 2, 29, 0, 0, 0));
  ASSERT_EQ(-86400, sg_retry_after_timegm(1969, 12, 31, 0, 0, 0));
  /* Against libc for a spread of dates. */
  for (int y = 1900; y <= 2100; y += 7) {
    for (int m = 1; m <= 12; m += 5) {
      struct tm tm = {0};
      tm.tm_year = y - 1900;
      tm.tm_mon = m - 1;
      tm.tm_mday = 28;
      tm.tm_hour = 23;
      tm.tm_min = 59;
      tm.tm_sec = 58;
      ASSERT_EQ((int64_t)timegm(&tm), sg_retry_after_timegm(y, m, 28, 23, 59, 58));
    }
  }
}

static void t_dates(void) {
  /* now = Sun, 06 Nov 1994 08:49:00.250 GMT */
  int64_t now = 784111740250LL;
  ASSERT_EQ(36750, ra("Sun, 06 Nov 1994 08:49:37 GMT", now, 0));
  ASSERT_EQ(36750, ra("Sunday, 06-Nov-94 08:49:37 GMT", now, 0));
  ASSERT_EQ(36750, ra("Sun Nov  6 08:49:37 1994", now, 0));
  ASSERT_EQ(36750, ra("Sun Nov 06 08:49:37 1994", now, 0));
  ASSERT_EQ(36750, ra("  sun, 06 nov 1994 08:49:37 gmt ", now, 0)); /* case-insensitive */
  /* The day name is not checked against the date (RFC 9110 does not ask it). */
  ASSERT_EQ(36750, ra("Mon, 06 Nov 1994 08:49:37 GMT", now, 0));
  /* Past and present dates mean "now". */
  ASSERT_EQ(0, ra("Sun, 06 Nov 1994 08:49:00 GMT", now, 0));
  ASSERT_EQ(0, ra("Thu, 01 Jan 1970 00:00:00 GMT", now, 0));
  ASSERT_EQ(0, ra("Sat, 05 Nov 1994 08:49:37 GMT", now, 0));
  /* Leap second and leap day. */
  ASSERT_EQ(60000 - 250, ra("Sun, 06 Nov 1994 08:49:60 GMT", now, 0));
  ASSERT_EQ(1000, ra("Thu, 29 Feb 2024 00:00:01 GMT", 1709164800000LL, 0));
  /* Clamped to the maximum. */
  ASSERT_EQ(HOUR_MS, ra("Tue, 08 Nov 1994 08:49:37 GMT", now, HOUR_MS));
  ASSERT_EQ(2 * 24 * HOUR_MS + 36750, ra("Tue, 08 Nov 1994 08:49:37 GMT", now, 0));
  /* Year 9999 does not overflow. */
  ASSERT_EQ(HOUR_MS, ra("Fri, 31 Dec 9999 23:59:59 GMT", now, HOUR_MS));
}

static void t_rfc850_century(void) {
  /* now = 2026-11-29 00:00:00 UTC */
  int64_t now = sg_retry_after_timegm(2026, 11, 29, 0, 0, 0) * 1000;
  /* "26" -> 2026 (today), a few seconds ahead. */
  ASSERT_EQ(5000, ra("Sunday, 29-Nov-26 00:00:05 GMT", now, 0));
  /* "70" -> 2070: 44 years ahead is not "more than 50 years in the future". */
  ASSERT_EQ((sg_retry_after_timegm(2070, 1, 1, 0, 0, 0) * 1000 - now),
            ra("Tuesday, 01-Jan-70 00:00:00 GMT", now, 0));
  /* "99" -> 2099 would be 73 years ahead, so it is 1999: in the past. */
  ASSERT_EQ(0, ra("Friday, 01-Jan-99 00:00:00 GMT", now, 0));
  /* "77" -> 2077 is 51 years ahead: 1977. */
  ASSERT_EQ(0, ra("Saturday, 01-Jan-77 00:00:00 GMT", now, 0));
  /* 2076 is exactly 50 years ahead: kept. */
  ASSERT_GT(ra("Wednesday, 01-Jan-76 00:00:00 GMT", now, 0), 0);
}

SG_TESTS({"seconds", t_seconds}, {"garbage", t_garbage}, {"timegm", t_timegm}, {"dates", t_dates},
         {"rfc850_century", t_rfc850_century})
