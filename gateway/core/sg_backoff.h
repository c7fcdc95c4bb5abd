/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exponential backoff with jitter, the one used everywhere (job retries
 * without Retry-After, token endpoint failures, Redis and HTTP/2 reconnects).
 * Attempt k has the ceiling c = min(cap, base * 2^k) and waits
 *   - full jitter (the default; the "Full Jitter" of the AWS architecture
 *     blog, also what Graph's throttling guidance asks for when no
 *     Retry-After came): a uniformly random time in [0, c];
 *   - equal jitter: a random time in [c / 2, c], never near zero, so a dead
 *     peer is not hammered, yet spread so that many pools do not reconnect in
 *     lock step (the HTTP/2 pool, after nghttpx's ConnectBlocker).
 * Pure: the random source is injectable, so tests are deterministic; the
 * default is sg_rand (splitmix64) seeded by the caller.
 */
#ifndef SG_BACKOFF_H
#define SG_BACKOFF_H

#include <stdint.h>

/* How the delay is drawn under the ceiling. */
typedef enum sg_backoff_jitter {
  SG_BACKOFF_FULL = 0, /* [0, c] */
  SG_BACKOFF_EQUAL,    /* [c / 2, c] */
} sg_backoff_jitter;

/* Returns 64 uniformly random bits. |ud| is the pointer given with it. */
typedef uint64_t (*sg_backoff_rand_fn)(void *ud);

typedef struct sg_backoff {
  uint64_t base_ms;
  uint64_t cap_ms;
  unsigned attempt;         /* failures so far; read-only for callers */
  sg_backoff_jitter jitter; /* SG_BACKOFF_FULL unless set */
  sg_backoff_rand_fn rand;  /* NULL: the built-in generator */
  void *rand_ud;
  uint64_t _state; /* splitmix64 state of the default source */
} sg_backoff;

/*
 * Initialises |b| with |base_ms| (the first ceiling) and |cap_ms| (the
 * largest ceiling; raised to base_ms when smaller), full jitter, using the
 * built-in generator seeded with |seed| (seed it from the clock or getrandom
 * in the glue; any value is fine).
 */
void sg_backoff_init(sg_backoff *b, uint64_t base_ms, uint64_t cap_ms, uint64_t seed);

/* Chooses full or equal jitter for the following delays. */
void sg_backoff_set_jitter(sg_backoff *b, sg_backoff_jitter jitter);

/* Replaces the random source; |fn| NULL restores the built-in one. |ud| is borrowed. */
void sg_backoff_set_rand(sg_backoff *b, sg_backoff_rand_fn fn, void *ud);

/* Returns the delay before the next attempt and counts one more failure. */
uint64_t sg_backoff_next(sg_backoff *b);

/* Forgets past failures (after a success). */
void sg_backoff_reset(sg_backoff *b);

/*
 * The pure rule: the ceiling c = min(cap, base * 2^attempt) (saturating); the
 * full-jitter delay r mod (c + 1) for random bits |r|; the equal-jitter delay
 * c / 2 + r mod (c - c / 2 + 1). A zero base gives 0.
 */
uint64_t sg_backoff_ceiling(uint64_t base_ms, uint64_t cap_ms, unsigned attempt);
uint64_t sg_backoff_delay(uint64_t base_ms, uint64_t cap_ms, unsigned attempt, uint64_t r);
uint64_t sg_backoff_delay_equal(uint64_t base_ms, uint64_t cap_ms, unsigned attempt, uint64_t r);

#endif
