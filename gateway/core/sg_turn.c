/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The per-loop-turn flusher (see sg_turn.h). Wanted registrants wait in one
 * list per rank; a pass takes each rank's list whole (so a registrant that
 * wants itself again from its callback runs in the next sweep, not in an
 * endless loop) and calls its members one by one, popping each before the
 * call: a registrant removed meanwhile has left the list and is not called.
 */
#include "core/sg_turn.h"

#include "core/sg_err.h"
#include "core/sg_mem.h"

struct sg_turn {
  sg_list node; /* in this thread's list of turns */
  uv_loop_t *loop;
  uv_prepare_t prep; /* runs the pass; started only while something is wanted */
  uv_idle_t idle;    /* keeps poll from blocking while something is wanted */
  sg_list want[SG_TURN_NRANKS];
  unsigned nregs;   /* registrants */
  unsigned nwanted; /* registrants in want[] or in the batch being run */
  int open_handles;
  bool active; /* prep and idle started */
  bool in_pass;
  bool closing;
  sg_turn_stats st;
};

/* The turns of the loops of this thread: one or two, so a list will do. */
static _Thread_local sg_list t_turns;

static sg_list *turns(void) {
  if (t_turns.next == NULL)
    sg_list_init(&t_turns);
  return &t_turns;
}

static void on_idle(uv_idle_t *h) {
  (void)h; /* only here so poll does not block; the pass stops it */
}

static void deactivate(sg_turn *t) {
  if (!t->active)
    return;
  t->active = false;
  uv_prepare_stop(&t->prep);
  uv_idle_stop(&t->idle);
}

/* Moves the whole list |from| into the empty |to|. */
static void take_all(sg_list *to, sg_list *from) {
  to->next = from->next;
  to->prev = from->prev;
  to->next->prev = to;
  to->prev->next = to;
  sg_list_init(from);
}

static void sweep(sg_turn *t) {
  t->st.rounds++;
  for (int rank = 0; rank < SG_TURN_NRANKS; rank++) {
    if (sg_list_empty(&t->want[rank]))
      continue;
    sg_list batch;
    take_all(&batch, &t->want[rank]);
    sg_list *n;
    while ((n = sg_list_pop_front(&batch)) != NULL) {
      sg_turn_reg *reg = sg_container_of(n, sg_turn_reg, node);
      t->nwanted--;
      t->st.calls++;
      reg->fn(reg, reg->ud); /* may free reg: not touched after this */
    }
  }
}

static void on_prepare(uv_prepare_t *h) {
  sg_turn *t = h->data;
  t->in_pass = true;
  t->st.passes++;
  for (int round = 0; round < SG_TURN_MAX_ROUNDS && t->nwanted > 0; round++)
    sweep(t);
  t->in_pass = false;
  if (t->closing)
    return;
  if (t->nwanted == 0) {
    deactivate(t);
  } else {
    t->st.leftover++; /* prep and idle stay on: the next turn runs it */
  }
}

static void on_closed(uv_handle_t *h) {
  sg_turn *t = h->data;
  if (--t->open_handles == 0)
    sg_free(t);
}

static sg_turn *turn_for(uv_loop_t *loop) {
  sg_list *n;
  sg_list_foreach(n, turns()) {
    sg_turn *t = sg_container_of(n, sg_turn, node);
    if (t->loop == loop)
      return t;
  }
  sg_turn *t = sg_xcalloc(1, sizeof *t);
  t->loop = loop;
  for (int i = 0; i < SG_TURN_NRANKS; i++)
    sg_list_init(&t->want[i]);
  uv_prepare_init(loop, &t->prep);
  uv_idle_init(loop, &t->idle);
  t->prep.data = t->idle.data = t;
  t->open_handles = 2;
  sg_list_push_back(turns(), &t->node);
  return t;
}

static void turn_close(sg_turn *t) {
  t->closing = true;
  sg_list_remove(&t->node); /* a new registrant of this loop gets a new turn */
  uv_close((uv_handle_t *)&t->prep, on_closed);
  uv_close((uv_handle_t *)&t->idle, on_closed);
}

int sg_turn_reg_init(sg_turn_reg *reg, uv_loop_t *loop, sg_turn_rank rank, sg_turn_fn fn,
                     void *ud) {
  sg_list_node_init(&reg->node);
  reg->turn = NULL;
  if (!loop || !fn || (int)rank < 0 || rank >= SG_TURN_NRANKS)
    return SG_ERR_INVAL;
  reg->turn = turn_for(loop);
  reg->turn->nregs++;
  reg->fn = fn;
  reg->ud = ud;
  reg->rank = rank;
  return 0;
}

void sg_turn_want(sg_turn_reg *reg) {
  sg_turn *t = reg->turn;
  if (t == NULL || sg_list_linked(&reg->node))
    return;
  sg_list_push_back(&t->want[reg->rank], &reg->node);
  t->nwanted++;
  if (!t->active && !t->in_pass) {
    t->active = true;
    uv_prepare_start(&t->prep, on_prepare);
    uv_idle_start(&t->idle, on_idle);
  }
}

void sg_turn_unwant(sg_turn_reg *reg) {
  if (reg->turn == NULL || !sg_list_linked(&reg->node))
    return;
  sg_list_remove(&reg->node);
  reg->turn->nwanted--;
}

void sg_turn_reg_set_rank(sg_turn_reg *reg, sg_turn_rank rank) {
  if ((int)rank < 0 || rank >= SG_TURN_NRANKS)
    return;
  bool wanted = sg_turn_wanted(reg);
  sg_turn_unwant(reg);
  reg->rank = rank;
  if (wanted)
    sg_turn_want(reg);
}

void sg_turn_reg_remove(sg_turn_reg *reg) {
  sg_turn *t = reg->turn;
  if (t == NULL)
    return;
  sg_turn_unwant(reg);
  reg->turn = NULL;
  if (--t->nregs == 0)
    turn_close(t);
}

void sg_turn_get_stats(const sg_turn_reg *reg, sg_turn_stats *out) {
  static const sg_turn_stats zero;
  *out = reg->turn ? reg->turn->st : zero;
}
