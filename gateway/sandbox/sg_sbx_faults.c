/* SPDX-License-Identifier: Apache-2.0 */
/* Seeded fault selection; see sg_sbx_faults.h. */
#include "sandbox/sg_sbx_faults.h"

#include "core/sg_rand.h"

sg_sbx_fault sg_sbx_fault_pick(const sg_sbx_cfg *cfg, uint64_t *state) {
  const struct {
    double rate;
    sg_sbx_fault f;
  } table[] = {
      {cfg->fault_rate_drop, SG_SBX_FAULT_DROP},
      {cfg->fault_rate_reset, SG_SBX_FAULT_RESET},
      {cfg->fault_rate_500, SG_SBX_FAULT_500},
      {cfg->fault_rate_503, SG_SBX_FAULT_503},
      {cfg->fault_rate_503_no_retry_after, SG_SBX_FAULT_503_NO_RA},
      {cfg->fault_rate_504, SG_SBX_FAULT_504},
  };
  double total = 0;
  for (unsigned i = 0; i < sizeof table / sizeof table[0]; i++)
    total += table[i].rate > 0 ? table[i].rate : 0;
  if (total <= 0)
    return SG_SBX_FAULT_NONE;
  double r = sg_rand01(state), acc = 0;
  for (unsigned i = 0; i < sizeof table / sizeof table[0]; i++) {
    acc += table[i].rate > 0 ? table[i].rate : 0;
    if (r < acc)
      return table[i].f;
  }
  return SG_SBX_FAULT_NONE;
}
