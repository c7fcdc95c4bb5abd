/* SPDX-License-Identifier: Apache-2.0 */
/* Clock readings and time formatting. */
#include "core/sg_clock.h"

#include <stdio.h>
#include <time.h>

uint64_t sg_mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int64_t sg_wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sg_time_rfc3339(int64_t unix_ms, char out[32]) {
  if (unix_ms < 0)
    unix_ms = 0;
  time_t s = (time_t)(unix_ms / 1000);
  struct tm tm;
  gmtime_r(&s, &tm);
  /* Years past 9999 do not fit the format; clamp what gmtime gave. */
  int year = tm.tm_year + 1900;
  year = year < 0 ? 0 : (year > 9999 ? 9999 : year);
  snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", year, (tm.tm_mon + 1) % 13,
           tm.tm_mday % 32, tm.tm_hour % 24, tm.tm_min % 60, tm.tm_sec % 61, (int)(unix_ms % 1000));
}

void sg_time_imf(int64_t unix_s, char out[32]) {
  static const char *days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char *mons[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  time_t s = (time_t)unix_s;
  struct tm tm;
  gmtime_r(&s, &tm);
  int year = tm.tm_year + 1900;
  year = year < 0 ? 0 : (year > 9999 ? 9999 : year);
  snprintf(out, 32, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7], tm.tm_mday % 32,
           mons[tm.tm_mon % 12], year, tm.tm_hour % 24, tm.tm_min % 60, tm.tm_sec % 61);
}
