/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Clocks. Pure modules never read a clock: they take "now" as an argument so
 * tests can drive them with a fake one. Only I/O glue calls these.
 */
#ifndef SG_CLOCK_H
#define SG_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic milliseconds (for timers and rate limits). */
uint64_t sg_mono_ms(void);
/* Wall-clock milliseconds since the Unix epoch (for results and logs). */
int64_t sg_wall_ms(void);
/* Writes |unix_ms| as RFC 3339 UTC with milliseconds ("2026-11-29T20:14:29.123Z"). */
void sg_time_rfc3339(int64_t unix_ms, char out[32]);
/* Writes |unix_s| as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"). */
void sg_time_imf(int64_t unix_s, char out[32]);

#endif
