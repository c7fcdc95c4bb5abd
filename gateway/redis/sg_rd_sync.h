/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A blocking Redis connection for the command-line tools (`sendgate send`,
 * `sendgate dlq`): connect from a redis:// URL with AUTH and SELECT, every
 * call bounded by a timeout. Never used inside the gateway's event loop.
 */
#ifndef SG_RD_SYNC_H
#define SG_RD_SYNC_H

#include <stdint.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <hiredis/hiredis.h>
#pragma GCC diagnostic pop

/*
 * Connects to |url| with |timeout_ms| for the connect and for every command.
 * Returns a context or NULL with a one-line reason in |err|.
 */
redisContext *sg_rd_sync_connect(const char *url, uint64_t timeout_ms, char *err, size_t errcap);

/* Runs a command given as argv + lengths; returns the reply (caller frees with
 * freeReplyObject) or NULL with a reason in |err| (also for error replies). */
redisReply *sg_rd_sync_cmd(redisContext *c, int argc, const char **argv, const size_t *lens,
                           char *err, size_t errcap);

#endif
