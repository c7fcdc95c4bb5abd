/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The per-loop-turn flusher: one object per uv loop that runs, once per loop
 * turn and just before the loop polls for I/O, the work every module queued
 * during the turn, in a fixed order (redis's beforeSleep).
 *
 * A module embeds an sg_turn_reg (a registrant: callback, user data, rank)
 * and calls sg_turn_want when it has work. The turn's one uv_prepare_t then
 * runs a pass: the wanting registrants in rank order (registrants of one rank
 * in the order they asked). A registrant is un-wanted just before its
 * callback runs. Work wanted during the pass for a later rank runs in the
 * same sweep; work wanted for a rank already swept (an earlier or the same
 * rank) makes the pass sweep again, at most SG_TURN_MAX_ROUNDS times; what is
 * still wanted then runs on the next turn, and an idle handle keeps the loop
 * from blocking in poll before it. The idle handle also covers a want from a
 * callback that runs after the pass in the same prepare phase.
 *
 * So a request admitted by the scheduler is dispatched by the HTTP/2 pool,
 * encrypted and written by its TLS connection, and the Redis commands of the
 * same turn are written, all before the loop sleeps, and nobody needs to call
 * the next stage by hand.
 *
 * Finding the turn: there is one turn per loop, created by the first
 * registrant of a loop and freed (its handles closed) when the last one is
 * removed. Modules find it from the loop they were given, through a short
 * list kept per thread (a loop is only used from one thread). Not through
 * uv_loop_t.data: that field is the application's, and uv_loop_init keeps
 * whatever it held (a stack loop's garbage).
 *
 * Lifetime: a registrant may be removed at any time, also from inside a pass
 * (its own callback or another's); a removed registrant is never called
 * again, and its memory may be freed as soon as sg_turn_reg_remove returns.
 */
#ifndef SG_TURN_H
#define SG_TURN_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "core/sg_list.h"

/* The order of a pass: producers first, then the stages they feed. */
typedef enum sg_turn_rank {
  SG_TURN_ADMIT = 0,   /* job admission: the scheduler pump */
  SG_TURN_H2,          /* HTTP/2 pools: dispatch queued requests, flush sessions */
  SG_TURN_TLS,         /* TLS/TCP connections: encrypt queued output and write it */
  SG_TURN_REDIS,       /* Redis completions: batch them into commands */
  SG_TURN_REDIS_WRITE, /* Redis connections: write the commands of the turn */
  SG_TURN_HTTPD,       /* HTTP server (admin, sandbox): flush answered requests */
  SG_TURN_NRANKS
} sg_turn_rank;

/* Sweeps of one pass before leftover work waits for the next turn. */
#define SG_TURN_MAX_ROUNDS 4

typedef struct sg_turn sg_turn;
typedef struct sg_turn_reg sg_turn_reg;

typedef void (*sg_turn_fn)(sg_turn_reg *reg, void *ud);

/* A registrant; embed it, fields are private. */
struct sg_turn_reg {
  sg_list node; /* in the turn's list of its rank while wanted */
  sg_turn *turn;
  sg_turn_fn fn;
  void *ud;
  sg_turn_rank rank;
};

typedef struct sg_turn_stats {
  uint64_t passes;   /* prepare callbacks that ran a pass */
  uint64_t rounds;   /* sweeps over all ranks */
  uint64_t calls;    /* registrant callbacks */
  uint64_t leftover; /* passes that left work for the next turn */
} sg_turn_stats;

/*
 * Registers |reg| with the turn of |loop| (created on first use) at |rank|;
 * |fn| is called with |reg| and |ud| in a pass after sg_turn_want. Not wanted
 * yet. Returns 0 or SG_ERR_INVAL (no loop or callback, rank out of range).
 */
int sg_turn_reg_init(sg_turn_reg *reg, uv_loop_t *loop, sg_turn_rank rank, sg_turn_fn fn, void *ud);

/*
 * Asks for a call of |reg|'s callback before the loop next polls (see the top
 * of this file for how a pass in progress takes it). Idempotent until the
 * call. No-op for a registrant that was removed (or never registered).
 */
void sg_turn_want(sg_turn_reg *reg);

/* Takes back a want that has not run yet (its work was done another way). */
void sg_turn_unwant(sg_turn_reg *reg);

/*
 * Moves |reg| to |rank| (a want that has not run yet moves with it), for a
 * generic stage whose owner is fed by producers of a later rank (a Redis
 * connection over sg_tlsconn). No-op when |rank| is out of range.
 */
void sg_turn_reg_set_rank(sg_turn_reg *reg, sg_turn_rank rank);

/* True while |reg| is wanted and not yet called. */
static inline bool sg_turn_wanted(const sg_turn_reg *reg) {
  return sg_list_linked(&reg->node);
}

/*
 * Removes |reg|: it is never called again. Idempotent. The last registrant of
 * a loop closes the turn's handles (the loop needs one more run to finish).
 */
void sg_turn_reg_remove(sg_turn_reg *reg);

/* Counters of the turn |reg| is registered with (zeros when it is not). */
void sg_turn_get_stats(const sg_turn_reg *reg, sg_turn_stats *out);

#endif
