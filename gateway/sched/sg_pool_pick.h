/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which member of a sender pool sends the next job (pure; the runtime's glue
 * is app/sg_app_pool.c). Each member is one lane (a mailbox, or an ACS
 * resource), seen as a candidate:
 *  - members whose pause and windows let a request go now come first, and of
 *    those the ones with room: that can start one more job within the
 *    head-of-line horizon (sched/sg_hol.h; a job beyond it would be parked);
 *  - among them the least loaded per weight: (queued + in flight + 1) / weight,
 *    so a backlog spreads over the members in proportion to their weights;
 *  - equal ones are taken round robin from |start| (the caller advances it);
 *  - when no member can go now, the one whose wait is shortest.
 * So weights split the work among members with room; a member at its limits
 * never takes more than its own budget allows, and when all are, each sends
 * at its own budget's pace.
 */
#ifndef SG_POOL_PICK_H
#define SG_POOL_PICK_H

#include <stddef.h>
#include <stdint.h>

typedef struct sg_pool_cand {
  uint64_t wait_ms; /* until its pause and windows allow a request (0: now) */
  uint64_t load;    /* jobs queued on its lane plus requests in flight */
  uint64_t room;    /* more jobs it can start within the horizon (0: none) */
  uint32_t weight;  /* >= 1 (0 is taken as 1) */
} sg_pool_cand;

/* The index of the member to use; |n| >= 1. */
size_t sg_pool_pick(const sg_pool_cand *c, size_t n, size_t start);

#endif
