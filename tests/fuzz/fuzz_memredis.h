/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An in-memory stand-in for redis/sg_rd_client.c, for fuzz targets that drive
 * the real stream consumer (redis/sg_rd_stream.c, sg_rd_stream_txn.c) without
 * a Redis server. fuzz_memredis.c defines every function of
 * redis/sg_rd_client.h; linked ahead of sendgate_core, those are the ones
 * used. Commands are queued in one global order; the target answers the
 * oldest with whatever reply it likes.
 *
 * Kept from the real client: nothing is accepted unless UP; every accepted
 * command gets exactly one callback, never from inside the call that queued
 * it; a lost connection fails every pending command, calls on_down and comes
 * back UP (on_up) from a later sg_fz_rd_pump; close fails what is pending
 * with SG_ERR_SHUTDOWN and calls done from a later pump.
 */
#ifndef SG_FUZZ_MEMREDIS_H
#define SG_FUZZ_MEMREDIS_H

#include <stdbool.h>
#include <stddef.h>

#include "redis/sg_rd_client.h"

/* Delivers what is due (connects, losses, closes). Returns whether it did anything. */
bool sg_fz_rd_pump(void);

/* The oldest pending command of any client: its client and its first word
 * ("XREADGROUP", "EVAL", ...); NULL when none. */
sg_rd_client *sg_fz_rd_oldest(const char **verb);

/* Answers the oldest pending command with |status| and |reply| (borrowed). */
void sg_fz_rd_answer(int status, const redisReply *reply);

/* |c|'s connection is lost: pending commands fail with SG_ERR_CLOSED, on_down
 * runs, and it reconnects on a later pump. */
void sg_fz_rd_drop(sg_rd_client *c);

/* Clients not yet closed and freed. */
size_t sg_fz_rd_count(void);

#endif
