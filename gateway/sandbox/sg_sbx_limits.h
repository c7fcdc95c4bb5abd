/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Keyed limiters for the sandbox, so it throttles the way Graph, Exchange and
 * ACS do and can tell whether the gateway behaves:
 *
 *  - sg_sbx_inflight: requests in flight per key with a cap (Outlook's 4 per
 *    app and mailbox); over the cap the request is refused.
 *  - sg_sbx_rate: at most |limit| units (requests, bytes, recipients) per
 *    |window_ms| per key, as a fixed window (starting at the key's first
 *    request) or an exact sliding window (a log of timestamps, coalesced per
 *    millisecond). A refusal says how long until enough units free up.
 *  - sg_sbx_backoff: the Retry-After windows the sandbox announced; a request
 *    for a key before its window ends counts as a violation.
 *
 * Keys are strings chosen by the caller ("app|mailbox", resource name). Each
 * table is bounded by max_keys (0: SG_SBX_LIMITS_DEFAULT_KEYS). A limit of
 * zero turns that limiter off. Pure: "now" is an argument (monotonic ms).
 */
#ifndef SG_SBX_LIMITS_H
#define SG_SBX_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SG_SBX_LIMITS_DEFAULT_KEYS 65536

/* ---- in flight ------------------------------------------------------------------------ */

typedef struct sg_sbx_inflight sg_sbx_inflight;

/* At most |cap| in flight per key (0: unlimited, nothing tracked). */
sg_sbx_inflight *sg_sbx_inflight_new(uint32_t cap, size_t max_keys);
void sg_sbx_inflight_free(sg_sbx_inflight *l);
/*
 * Takes a slot for |key| (borrowed). Returns 0 or SG_ERR_BUSY (the key is at
 * its cap, or max_keys keys are busy already). Every 0 needs one release.
 */
int sg_sbx_inflight_acquire(sg_sbx_inflight *l, const char *key);
/* Gives back a slot taken by sg_sbx_inflight_acquire. */
void sg_sbx_inflight_release(sg_sbx_inflight *l, const char *key);
/* Slots held for |key| now. */
uint32_t sg_sbx_inflight_count(const sg_sbx_inflight *l, const char *key);

/* ---- rate ----------------------------------------------------------------------------- */

typedef enum { SG_SBX_WINDOW_FIXED = 0, SG_SBX_WINDOW_SLIDING = 1 } sg_sbx_window;

typedef struct sg_sbx_rate sg_sbx_rate;

/* |limit| units per |window_ms| per key (either 0: off). */
sg_sbx_rate *sg_sbx_rate_new(uint64_t limit, uint64_t window_ms, sg_sbx_window kind,
                             size_t max_keys);
void sg_sbx_rate_free(sg_sbx_rate *r);
/*
 * Counts |amount| units for |key| (borrowed) at |now_ms| if they fit.
 * Refused requests are not counted. When the table is full, idle keys are
 * dropped first, then the least recently used one.
 * Returns 0, SG_ERR_BUSY (over the limit: |*retry_after_ms| is the wait until
 * |amount| fits, at least 1) or SG_ERR_TOOBIG (|amount| exceeds the limit: it
 * never fits; |*retry_after_ms| is the window). |retry_after_ms| may be NULL.
 */
int sg_sbx_rate_take(sg_sbx_rate *r, const char *key, uint64_t amount, uint64_t now_ms,
                     uint64_t *retry_after_ms);
/* Units counted for |key| in the window that contains |now_ms|. */
uint64_t sg_sbx_rate_used(sg_sbx_rate *r, const char *key, uint64_t now_ms);

/* ---- Retry-After windows --------------------------------------------------------------- */

typedef struct sg_sbx_backoff sg_sbx_backoff;

sg_sbx_backoff *sg_sbx_backoff_new(size_t max_keys);
void sg_sbx_backoff_free(sg_sbx_backoff *b);
/*
 * Records that the client was told to leave |key| alone from |now_ms| until
 * |until_ms| (an earlier window already recorded is extended, never
 * shortened). Pass a |now_ms| a little in the future to leave a grace for
 * requests that were already on their way when the answer went out.
 */
void sg_sbx_backoff_set(sg_sbx_backoff *b, const char *key, uint64_t now_ms, uint64_t until_ms);
/*
 * Checks a request for |key| at |now_ms|: true (and one more violation
 * counted) when it comes inside the recorded window; false otherwise.
 */
bool sg_sbx_backoff_check(sg_sbx_backoff *b, const char *key, uint64_t now_ms);
/* Violations counted so far, over all keys. */
uint64_t sg_sbx_backoff_violations(const sg_sbx_backoff *b);
/* The end of the window recorded for |key|, or 0 when none is active at |now_ms|. */
uint64_t sg_sbx_backoff_until(sg_sbx_backoff *b, const char *key, uint64_t now_ms);

/* ---- Retry-After values ---------------------------------------------------------------- */

/* Whole seconds, rounded up: 1 ms -> 1, 2000 ms -> 2, 2001 ms -> 3. */
uint64_t sg_sbx_retry_after_secs(uint64_t ms);
/* Writes the integer form ("3" for 2001 ms) NUL-terminated. */
void sg_sbx_retry_after_int(uint64_t ms, char out[24]);
/* Writes the fractional form with milliseconds ("2.128" for 2128 ms, "2.000"). */
void sg_sbx_retry_after_frac(uint64_t ms, char out[24]);

#endif
