/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The skeleton of a periodic Redis helper (the stream trimmer, the bulk
 * feeder, the older-layout watch): a one-shot timer that runs it, at most one
 * command in flight, and a close that waits for that command's reply before
 * the owner is released. The owner embeds an sg_rd_tick and finds itself
 * from it with sg_container_of.
 *
 *   run      the timer fired, or sg_rd_tick_kick: send the command and call
 *            sg_rd_tick_sent, or call sg_rd_tick_after to try again later
 *   reply    the owner's reply callback starts with sg_rd_tick_answered and
 *            returns at once when it says false (closing: the owner may be
 *            gone), then schedules the next run with sg_rd_tick_after
 *   release  closing, the timer closed and nothing in flight: free the owner
 *            (the close's |done| has been called just before)
 *
 * Single-threaded: all calls and callbacks on the loop thread.
 */
#ifndef SG_RD_TICK_H
#define SG_RD_TICK_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef struct sg_rd_tick sg_rd_tick;
typedef void (*sg_rd_tick_cb)(sg_rd_tick *t);

struct sg_rd_tick {
  /* private */
  uv_timer_t timer;
  sg_rd_tick_cb run, release;
  bool inflight, closing, timer_closed;
  void (*done)(void *ud);
  void *done_ud;
};

/* Starts the timer: the first run |first_ms| from now. The timer does not
 * keep the loop alive. */
void sg_rd_tick_init(sg_rd_tick *t, uv_loop_t *loop, uint64_t first_ms, sg_rd_tick_cb run,
                     sg_rd_tick_cb release);
/* Runs now, unless closing or a command is in flight. */
void sg_rd_tick_kick(sg_rd_tick *t);
/* The next run |ms| from now (replacing a pending one). */
void sg_rd_tick_after(sg_rd_tick *t, uint64_t ms);
/* Whether a next run is pending on the timer (it has not fired yet). */
bool sg_rd_tick_armed(const sg_rd_tick *t);
/* The run sent its command. */
void sg_rd_tick_sent(sg_rd_tick *t);
/* Its reply came; false while closing (the owner may have been released:
 * return at once). */
bool sg_rd_tick_answered(sg_rd_tick *t);
uv_loop_t *sg_rd_tick_loop(const sg_rd_tick *t);
/* Stops: a command in flight is waited for; then |done| (may be NULL) and
 * release. A second call does nothing. */
void sg_rd_tick_close(sg_rd_tick *t, void (*done)(void *ud), void *ud);
/* The same after one last run now, unless a command is in flight (a run
 * that cannot send just closes). */
void sg_rd_tick_close_after_run(sg_rd_tick *t, void (*done)(void *ud), void *ud);

#endif
