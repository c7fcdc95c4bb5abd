/* SPDX-License-Identifier: Apache-2.0 */
/* splitmix64; see sg_rand.h. */
#include "core/sg_rand.h"

uint64_t sg_rand_mix(uint64_t x) {
  uint64_t z = x + 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t sg_rand_next(uint64_t *state) {
  uint64_t x = *state;
  *state = x + 0x9E3779B97F4A7C15ULL;
  return sg_rand_mix(x);
}

uint64_t sg_rand_below(uint64_t *state, uint64_t n) {
  if (n == 0)
    return 0;
  /* Rejection of the short last block keeps every value equally likely. */
  uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t r;
  do
    r = sg_rand_next(state);
  while (r >= limit && limit != 0);
  return r % n;
}

double sg_rand01(uint64_t *state) {
  return (double)(sg_rand_next(state) >> 11) * (1.0 / 9007199254740992.0);
}
