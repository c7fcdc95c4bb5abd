/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Retry-After (RFC 9110 §10.2.3) parsing: the delay a throttled or
 * unavailable provider asks for. Accepts delay-seconds ("120"), Graph's
 * fractional seconds ("2.128", microsoft-apis.md §2.1) and an HTTP-date in
 * any of the three forms RFC 9110 §5.6.7 makes recipients accept:
 *   IMF-fixdate  "Sun, 06 Nov 1994 08:49:37 GMT"
 *   RFC 850      "Sunday, 06-Nov-94 08:49:37 GMT"
 *   asctime      "Sun Nov  6 08:49:37 1994"
 * Pure: the wall clock is an argument. Everything else (negative numbers,
 * signs, exponents, trailing text, impossible dates) is rejected, so a
 * hostile header can never produce a wild delay.
 */
#ifndef SG_RETRY_AFTER_H
#define SG_RETRY_AFTER_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parses the Retry-After value |v| (|n| bytes, borrowed, need not be
 * NUL-terminated; surrounding spaces and tabs are ignored) into a delay in
 * milliseconds stored in |*out_ms|. Fractional seconds round up to the next
 * millisecond. An HTTP-date is taken relative to |now_unix_ms| (wall clock,
 * ms since the Unix epoch); a date in the past gives 0. When |max_ms| > 0 the
 * delay is clamped to it.
 * Returns 0 or one of: SG_ERR_PARSE (empty, malformed or negative value),
 * SG_ERR_INVAL (NULL |v| with n > 0 or NULL |out_ms|).
 */
int sg_retry_after_parse(const char *v, size_t n, int64_t now_unix_ms, int64_t max_ms,
                         int64_t *out_ms);

/*
 * Converts a proleptic Gregorian UTC date and time to seconds since the Unix
 * epoch. Fields are not range-checked here. Exposed for tests and for other
 * HTTP-date users.
 */
int64_t sg_retry_after_timegm(int year, int month, int day, int hour, int min, int sec);

#endif
