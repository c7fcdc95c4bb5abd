/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hiredis async context <-> libuv glue: one uv_poll_t per connection drives
 * redisAsyncHandleRead/Write. Differs from the adapters/libuv.h that Debian's
 * hiredis 0.14.1 ships in three ways: a poll error is not swallowed (hiredis
 * still gets to read/write so it records the I/O error and disconnects); the
 * cleanup hook is idempotent and unhooks itself, freeing only in the close
 * callback; and after each read it checks the reply reader against a byte
 * cap, since hiredis 0.14 has no limit of its own.
 *
 * Writes: once connected, the output hiredis buffers during a loop turn is
 * written by the loop's turn pass (core/sg_turn.h, rank SG_TURN_REDIS_WRITE,
 * after every stage that queues commands), in one write() and without arming
 * the socket for writability; sg_rd_adapter_flush writes at once.
 *
 * It does no timeouts (hiredis 0.14 has no scheduleTimer): sg_rd_client runs
 * its own timers.
 */
#ifndef SG_RD_ADAPTER_H
#define SG_RD_ADAPTER_H

#include <hiredis/async.h>
#include <stddef.h>
#include <uv.h>

/*
 * Called from the poll callback (outside any hiredis callback) when the
 * reader holds more than the cap of unparsed bytes. The handler should free
 * the context.
 */
typedef void (*sg_rd_overflow_cb)(redisAsyncContext *ac, void *ud);

/*
 * Attaches |ac| (borrowed; hiredis owns it) to |loop|. |max_rbuf| caps the
 * unparsed bytes hiredis may buffer (0: no cap); on overflow |on_overflow| is
 * called with |ud|. The adapter state is freed by hiredis's cleanup hook
 * (redisAsyncFree or disconnect), in the poll handle's close callback.
 *
 * Returns 0 or one of: SG_ERR_EXISTS (already attached), SG_ERR_INVAL (no
 * socket yet), or a libuv code from uv_poll_init_socket.
 */
int sg_rd_adapter_attach(redisAsyncContext *ac, uv_loop_t *loop, size_t max_rbuf,
                         sg_rd_overflow_cb on_overflow, void *ud);

/* Writes the output hiredis holds for |ac| now (no-op if none or not ours). */
void sg_rd_adapter_flush(redisAsyncContext *ac);

#endif
