/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one pseudo-random generator of the code base: splitmix64 (Steele, Lea,
 * Flood 2014). Small, fast, any 64-bit state (including 0) is valid, and the
 * sequence is fixed by the seed, so seeded uses (sandbox faults, test data)
 * repeat. For jitter, ids and fault selection; never for secrets (use
 * RAND_bytes for those). The state is a plain uint64_t owned by the caller.
 */
#ifndef SG_RAND_H
#define SG_RAND_H

#include <stdint.h>

/* Advances |*state| and returns 64 uniformly distributed bits. */
uint64_t sg_rand_next(uint64_t *state);

/*
 * Stateless form: the value sg_rand_next would return for state |x| (a good
 * 64-bit mix of |x|, for deriving values from counters or ids).
 */
uint64_t sg_rand_mix(uint64_t x);

/* Advances |*state| and returns a uniform value in [0, |n|); 0 when |n| is 0. */
uint64_t sg_rand_below(uint64_t *state, uint64_t n);

/* Advances |*state| and returns a uniform double in [0, 1) (53 random bits). */
double sg_rand01(uint64_t *state);

#endif
