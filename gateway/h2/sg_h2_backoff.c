/* SPDX-License-Identifier: Apache-2.0 */
/* Reconnect backoff with jitter; see sg_h2_backoff.h. */
#include "h2/sg_h2_backoff.h"

uint64_t sg_h2_backoff_ms(unsigned failures, uint64_t base_ms, uint64_t cap_ms, uint64_t rnd) {
  if (failures == 0 || base_ms == 0)
    return 0;
  if (cap_ms < base_ms)
    cap_ms = base_ms;
  uint64_t d = base_ms;
  for (unsigned i = 1; i < failures && d < cap_ms; i++)
    d *= 2;
  if (d > cap_ms)
    d = cap_ms;
  uint64_t half = d / 2;
  return half + rnd % (d - half + 1);
}
