/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gateway runtime behind `sendgate run`: takes jobs from the Redis stream,
 * validates them, queues them on their lanes, sends them to Graph (and ACS)
 * over pooled HTTP/2 with cached tokens, classifies the answers, retries what
 * can be retried, and publishes exactly one result per job together with its
 * ack. One process, one libuv loop.
 */
#ifndef SG_APP_H
#define SG_APP_H

#include <stdint.h>
#include <uv.h>

#include "conf/sg_config.h"

typedef struct sg_app sg_app;

/*
 * Starts the runtime on |loop| with |cfg| (taken over; freed by the app).
 * Returns 0 or a negative code with a one-line reason in |err|.
 */
int sg_app_start(sg_app **out, uv_loop_t *loop, sg_config *cfg, char *err, size_t errcap);

/*
 * Credential rotation without a restart (SIGHUP): takes the credentials of
 * |next|, a configuration loaded again (client secrets, certificates and their
 * passwords, assertion files, managed identities), for every account that
 * needs tokens. Cached tokens are dropped, so the next request fetches one
 * with the new credential; requests in flight go on. Refused, with the old credentials kept and a
 * reason in |err|, when a certificate cannot be loaded or when anything that
 * needs a restart differs (accounts added or removed, a type, tenant, client
 * id, scope or token endpoint changed). Other settings of |next| are ignored.
 * |next| is freed either way. Returns 0 or SG_ERR_CONFIG.
 */
int sg_app_reload(sg_app *a, sg_config *next, char *err, size_t errcap);

/*
 * Graceful stop: fetching stops at once; jobs not yet sent are left pending
 * in the stream (another process or the next start takes them); requests in
 * flight get up to the configured grace time to finish and publish their
 * results; then everything closes and |done| is called. The app is freed after
 * |done| returns.
 */
void sg_app_stop(sg_app *a, void (*done)(void *ud), void *ud);

#endif
