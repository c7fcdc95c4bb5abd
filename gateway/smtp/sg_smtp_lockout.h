/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Failed-login bookkeeping for SMTP AUTH: per key (a client address, a user
 * name), failures counted in a window that starts at the first failure; the
 * |failures|-th failure within |window_ms| locks the key for |lockout_ms|.
 * Bounded: at most |max_keys| keys are tracked; when full, keys whose window
 * and lockout are over go first, then the least recently failed one (a
 * flood of new sources can evict an old lockout, but never grow memory).
 * Pure: "now" is an argument (milliseconds on any monotonic clock), no I/O,
 * so tests drive it with a fake clock.
 */
#ifndef SG_SMTP_LOCKOUT_H
#define SG_SMTP_LOCKOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sg_smtp_lockout sg_smtp_lockout;

typedef struct sg_smtp_lockout_opts {
  uint32_t failures;   /* failures that lock a key; 0 = never lock */
  uint32_t window_ms;  /* they count within this long from the first one */
  uint32_t lockout_ms; /* how long a locked key stays locked */
  size_t max_keys;     /* keys tracked at most (>= 1) */
} sg_smtp_lockout_opts;

/* A new table with the settings in |o| (copied). */
sg_smtp_lockout *sg_smtp_lockout_new(const sg_smtp_lockout_opts *o);
void sg_smtp_lockout_del(sg_smtp_lockout *l);

/* True when |key| is locked at |now_ms|. */
bool sg_smtp_lockout_locked(sg_smtp_lockout *l, const char *key, uint64_t now_ms);

/* Records a failure of |key| (copied) at |now_ms|; true when it locks the key. */
bool sg_smtp_lockout_fail(sg_smtp_lockout *l, const char *key, uint64_t now_ms);

/* Forgets |key| (after a successful login of that user). */
void sg_smtp_lockout_clear(sg_smtp_lockout *l, const char *key);

/* Keys tracked now. */
size_t sg_smtp_lockout_size(const sg_smtp_lockout *l);

#endif
