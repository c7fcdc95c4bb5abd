/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reply objects from a bump arena instead of two mallocs per value.
 *
 * hiredis builds every reply value (array, string, integer, nil) with its
 * own calloc, plus a malloc for each string's bytes, and frees them one by
 * one after the callback: a stream read of 512 jobs is thousands of
 * allocations. A reader parses one reply at a time and frees it before it
 * starts the next, so all values of a reply can come from one arena that is
 * reset when hiredis frees the reply. The values are ordinary redisReply
 * structs (read them as always; never free or keep them).
 *
 * The arena belongs to the reader (reader->privdata): attach it once after
 * the context is created; detach it from the event library's cleanup hook
 * (hiredis frees the reader, and with it a partly read reply, after that
 * hook: the arena frees itself then).
 */
#ifndef SG_RD_REPLIES_H
#define SG_RD_REPLIES_H

#include <hiredis/read.h>

/*
 * Array elements one reply may declare in all (1 << 22: 32 MB of pointers).
 * A reply over it fails the reader with REDIS_ERR_OOM: an array header of a
 * few bytes must not make us allocate gigabytes. The largest replies of the
 * gateway (a stream read, an MGET of its ledger keys) hold some thousands.
 */
#define SG_RD_REPLY_MAX_ELEMENTS ((size_t)1 << 22)

/* Makes |r| build its replies in an arena. Returns 0 or SG_ERR_EXISTS when
 * the reader already has other object functions than hiredis's own. */
int sg_rd_replies_attach(redisReader *r);

/*
 * Caps the bytes of the strings of one reply at |max_bytes| (0: no cap). A
 * reply over it fails the reader with REDIS_ERR_OOM, like one over
 * SG_RD_REPLY_MAX_ELEMENTS: hiredis parses a multi-bulk reply value by value,
 * so a cap on its unparsed input alone bounds one value, not the reply.
 * No-op when |r| does not build its replies in an arena.
 */
void sg_rd_replies_set_cap(redisReader *r, size_t max_bytes);

/* The context is going away: the arena is freed now, or with the partly read
 * reply that hiredis still holds. Safe to call more than once. */
void sg_rd_replies_detach(redisReader *r);

#endif
