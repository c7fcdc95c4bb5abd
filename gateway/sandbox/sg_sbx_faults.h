/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fault injection decisions for the sandbox: which request gets a 500, 503,
 * 504, a stream reset or a dropped connection, from the configured shares and
 * a seeded generator (runs are repeatable). Pure.
 */
#ifndef SG_SBX_FAULTS_H
#define SG_SBX_FAULTS_H

#include <stdint.h>

#include "sandbox/sg_sbx_settings.h"

typedef enum {
  SG_SBX_FAULT_NONE = 0,
  SG_SBX_FAULT_500,
  SG_SBX_FAULT_503,       /* with Retry-After */
  SG_SBX_FAULT_503_NO_RA, /* without */
  SG_SBX_FAULT_504,
  SG_SBX_FAULT_RESET, /* RST_STREAM(REFUSED_STREAM): never processed */
  SG_SBX_FAULT_DROP,  /* close the connection: never processed */
} sg_sbx_fault;

/* Picks the fault for one send request (one sg_rand01 draw from |state|). */
sg_sbx_fault sg_sbx_fault_pick(const sg_sbx_cfg *cfg, uint64_t *state);

#endif
