/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A blocking Redis connection for the command-line tools (`sendgate send`,
 * `dlq`, `sendmail`, the bench and test tools): connect from a redis://,
 * rediss:// or unix:// URL with AUTH and SELECT, every call bounded by a
 * timeout. It is sg_rd_client (the one transport, TLS included) run on a
 * private uv loop inside each call, so it must not be used from inside a
 * running loop. Replies are handed out as ordinary hiredis objects that the
 * caller frees with freeReplyObject.
 */
#ifndef SG_RD_SYNC_H
#define SG_RD_SYNC_H

#include <stddef.h>
#include <stdint.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <hiredis/hiredis.h>
#pragma GCC diagnostic pop

typedef struct sg_rd_sync sg_rd_sync;

/*
 * Connects to |url| with |timeout_ms| for the connect (TCP, TLS, AUTH,
 * SELECT) and for every command. |tls_ca_file| (NULL or "": none) adds trust
 * anchors for rediss:// (system store otherwise; verification is always on).
 * Returns a connection or NULL with a one-line reason in |err|.
 */
sg_rd_sync *sg_rd_sync_connect(const char *url, const char *tls_ca_file, uint64_t timeout_ms,
                               char *err, size_t errcap);

/*
 * Runs a command given as argv + lengths (|lens| NULL: strlen of each);
 * returns the reply (the caller frees it with freeReplyObject) or NULL with a
 * reason in |err| (also for error replies). After a timeout or a lost
 * connection every later call fails too.
 */
redisReply *sg_rd_sync_cmd(sg_rd_sync *s, int argc, const char **argv, const size_t *lens,
                           char *err, size_t errcap);

/* Closes the connection and frees |s| (NULL is fine). */
void sg_rd_sync_free(sg_rd_sync *s);

#endif
