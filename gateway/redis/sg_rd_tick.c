/* SPDX-License-Identifier: Apache-2.0 */
/* The skeleton of a periodic Redis helper; see sg_rd_tick.h. */
#include "redis/sg_rd_tick.h"

static void maybe_release(sg_rd_tick *t) {
  if (!t->closing || !t->timer_closed || t->inflight)
    return;
  if (t->done)
    t->done(t->done_ud);
  t->release(t);
}

static void on_timer(uv_timer_t *h) {
  sg_rd_tick_kick(h->data);
}

void sg_rd_tick_init(sg_rd_tick *t, uv_loop_t *loop, uint64_t first_ms, sg_rd_tick_cb run,
                     sg_rd_tick_cb release) {
  *t = (sg_rd_tick){.run = run, .release = release};
  uv_timer_init(loop, &t->timer);
  t->timer.data = t;
  uv_timer_start(&t->timer, on_timer, first_ms, 0);
  uv_unref((uv_handle_t *)&t->timer);
}

void sg_rd_tick_kick(sg_rd_tick *t) {
  if (t->closing || t->inflight)
    return;
  uv_timer_stop(&t->timer);
  t->run(t);
}

void sg_rd_tick_after(sg_rd_tick *t, uint64_t ms) {
  if (!t->closing)
    uv_timer_start(&t->timer, on_timer, ms, 0);
}

bool sg_rd_tick_armed(const sg_rd_tick *t) {
  return uv_is_active((const uv_handle_t *)&t->timer) != 0;
}

void sg_rd_tick_sent(sg_rd_tick *t) {
  t->inflight = true;
}

bool sg_rd_tick_answered(sg_rd_tick *t) {
  t->inflight = false;
  if (!t->closing)
    return true;
  maybe_release(t);
  return false;
}

uv_loop_t *sg_rd_tick_loop(const sg_rd_tick *t) {
  return t->timer.loop;
}

static void on_timer_closed(uv_handle_t *h) {
  sg_rd_tick *t = h->data;
  t->timer_closed = true;
  maybe_release(t);
}

void sg_rd_tick_close(sg_rd_tick *t, void (*done)(void *ud), void *ud) {
  if (t->closing)
    return;
  t->closing = true;
  t->done = done;
  t->done_ud = ud;
  uv_close((uv_handle_t *)&t->timer, on_timer_closed);
}

void sg_rd_tick_close_after_run(sg_rd_tick *t, void (*done)(void *ud), void *ud) {
  sg_rd_tick_kick(t);
  sg_rd_tick_close(t, done, ud);
}
