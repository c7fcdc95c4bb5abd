/* SPDX-License-Identifier: Apache-2.0 */
/* Sliding-window limiter over sub-window counters; see sg_window.h. */
#include "sched/sg_window.h"

#include <string.h>

void sg_window_init(sg_window *w, uint64_t limit, uint64_t window_ms) {
  memset(w, 0, sizeof *w);
  w->limit = limit;
  if (window_ms < SG_WINDOW_SLOTS)
    window_ms = SG_WINDOW_SLOTS;
  w->window_ms = window_ms;
  /* With n slots in use, a unit leaves the ring n-1..n slot lengths after it
   * was added; n = ceil(window / slot) + 1 keeps it counted for at least the
   * whole window and at most one slot longer. */
  w->slot_ms = (window_ms + SG_WINDOW_SLOTS - 3) / (SG_WINDOW_SLOTS - 2);
  w->nslots = (window_ms + w->slot_ms - 1) / w->slot_ms + 1;
}

/* Moves the ring forward to the slot of |now_ms|, dropping slots that left. */
static void advance(sg_window *w, uint64_t now_ms) {
  uint64_t slot = now_ms / w->slot_ms;
  if (slot <= w->head_slot)
    return;
  uint64_t steps = slot - w->head_slot;
  if (steps >= w->nslots) {
    memset(w->count, 0, sizeof w->count);
    w->total = 0;
  } else {
    for (uint64_t s = w->head_slot + 1; s <= slot; s++) {
      uint32_t *c = &w->count[s % w->nslots];
      w->total -= *c;
      *c = 0;
    }
  }
  w->head_slot = slot;
}

uint64_t sg_window_used(sg_window *w, uint64_t now_ms) {
  advance(w, now_ms);
  return w->total;
}

uint64_t sg_window_wait(sg_window *w, uint64_t now_ms, uint64_t units) {
  if (w->limit == 0)
    return 0;
  if (units > w->limit)
    return UINT64_MAX;
  advance(w, now_ms);
  if (w->total + units <= w->limit)
    return 0;
  /* Walk from the oldest slot until enough units would have left. */
  uint64_t need = w->total + units - w->limit, freed = 0;
  for (uint64_t k = 1; k <= w->nslots; k++) {
    uint64_t s = w->head_slot + k; /* slot that drops out at this step */
    freed += w->count[s % w->nslots];
    if (freed >= need) {
      uint64_t at = s * w->slot_ms; /* when slot s begins, the old one is gone */
      return at > now_ms ? at - now_ms : 1;
    }
  }
  return w->window_ms;
}

void sg_window_add(sg_window *w, uint64_t now_ms, uint64_t units) {
  if (w->limit == 0)
    return;
  advance(w, now_ms);
  w->count[w->head_slot % w->nslots] += (uint32_t)units;
  w->total += units;
}

uint64_t sg_window_drained_at(const sg_window *w) {
  if (w->total == 0)
    return 0;
  /* The newest slot with a unit is at most head_slot; it leaves the ring
   * when the slot nslots later begins (advance then clears the whole ring). */
  return (w->head_slot + w->nslots) * w->slot_ms;
}
