/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Full-jitter exponential backoff (the "Full Jitter" of the AWS architecture
 * blog, also what Graph's throttling guidance asks for when no Retry-After
 * came): attempt k waits a uniformly random time in [0, min(cap, base * 2^k)].
 * Used for job retries without Retry-After, token endpoint failures and
 * reconnects. Pure: the random source is injectable, so tests are
 * deterministic; the default is a splitmix64 generator seeded by the caller.
 */
#ifndef SG_BACKOFF_H
#define SG_BACKOFF_H

#include <stdint.h>

/* Returns 64 uniformly random bits. |ud| is the pointer given with it. */
typedef uint64_t (*sg_backoff_rand_fn)(void *ud);

typedef struct sg_backoff {
  uint64_t base_ms;
  uint64_t cap_ms;
  unsigned attempt;        /* failures so far; read-only for callers */
  sg_backoff_rand_fn rand; /* NULL: the built-in generator */
  void *rand_ud;
  uint64_t _state; /* splitmix64 state of the default source */
} sg_backoff;

/*
 * Initialises |b| with |base_ms| (the first ceiling) and |cap_ms| (the
 * largest ceiling; raised to base_ms when smaller), using the built-in
 * generator seeded with |seed| (seed it from the clock or getrandom in the
 * glue; any value is fine).
 */
void sg_backoff_init(sg_backoff *b, uint64_t base_ms, uint64_t cap_ms, uint64_t seed);

/* Replaces the random source; |fn| NULL restores the built-in one. |ud| is borrowed. */
void sg_backoff_set_rand(sg_backoff *b, sg_backoff_rand_fn fn, void *ud);

/* Returns the delay before the next attempt and counts one more failure. */
uint64_t sg_backoff_next(sg_backoff *b);

/* Forgets past failures (after a success). */
void sg_backoff_reset(sg_backoff *b);

/*
 * The pure rule: the ceiling min(cap, base * 2^attempt) (saturating), and the
 * delay r mod (ceiling + 1) for random bits |r|.
 */
uint64_t sg_backoff_ceiling(uint64_t base_ms, uint64_t cap_ms, unsigned attempt);
uint64_t sg_backoff_delay(uint64_t base_ms, uint64_t cap_ms, unsigned attempt, uint64_t r);

#endif
