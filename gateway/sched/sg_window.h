/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A sliding-window rate limit ("at most |limit| units per |window_ms|") kept
 * as a ring of SG_WINDOW_SLOTS sub-window counters. It never admits more than
 * the limit within any window: a unit stays counted until the whole sub-window
 * it fell in has left the window, so it is slightly stricter than an exact
 * sliding log (by at most one sub-window, about 1/62 of the window) while
 * using 256 bytes instead of one timestamp per unit. Pure: time is passed in.
 */
#ifndef SG_WINDOW_H
#define SG_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#define SG_WINDOW_SLOTS 64

typedef struct sg_window {
  uint64_t limit;     /* 0 = no limit */
  uint64_t window_ms; /* >= SG_WINDOW_SLOTS */
  uint64_t slot_ms;
  uint64_t nslots;    /* slots in use, <= SG_WINDOW_SLOTS */
  uint64_t head_slot; /* absolute index of the newest slot */
  uint64_t total;     /* units in the ring */
  uint32_t count[SG_WINDOW_SLOTS];
} sg_window;

/* Sets up |w|; a limit of 0 makes every check pass. */
void sg_window_init(sg_window *w, uint64_t limit, uint64_t window_ms);

/*
 * Returns 0 when |units| more fit now; otherwise the number of milliseconds
 * after |now_ms| at which they will (at least 1). |units| above the limit can
 * never fit and return UINT64_MAX.
 */
uint64_t sg_window_wait(sg_window *w, uint64_t now_ms, uint64_t units);

/* Counts |units| at |now_ms| (call after sg_window_wait returned 0). */
void sg_window_add(sg_window *w, uint64_t now_ms, uint64_t units);

/* Units counted in the window ending at |now_ms|. */
uint64_t sg_window_used(sg_window *w, uint64_t now_ms);

/*
 * The time from which |w| holds nothing that could limit a request: every
 * unit it counted has left by then (0 when it holds none). From then on it
 * behaves exactly as a window just set up with the same limit.
 */
uint64_t sg_window_drained_at(const sg_window *w);

#endif
