/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gateway's admin endpoint (SENDGATE_HTTP_LISTEN, default
 * "127.0.0.1:9464", empty = off), plain HTTP/1.1 (and h2c prior knowledge)
 * over the project's server (httpd/sg_httpd.h without TLS):
 *
 *   GET /metrics  200, the registry in Prometheus text format 0.0.4
 *   GET /healthz  200 "ok" while the loop runs
 *   GET /readyz   200 "ready" when the readiness callback says so, else 503
 *                 with its one-line reason
 *   GET /status, /status/...  JSON from the status handler, when one is set
 *                 (sg_admin_set_status); 404 otherwise
 *   other methods on those paths: 405; any other path: 404
 *
 * HEAD works like GET without the body. Query strings are ignored, except
 * by the status handler, which gets the whole target.
 */
#ifndef SG_ADMIN_H
#define SG_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/sg_mem.h"
#include "core/sg_metrics.h"

typedef struct sg_admin sg_admin;

/*
 * Says whether the gateway is ready (Redis reachable, tokens obtainable).
 * When not, writes a one-line reason (NUL-terminated, at most |cap| bytes
 * with the NUL) into |reason|. Called on the loop thread for each /readyz.
 */
typedef bool (*sg_admin_ready_cb)(void *ud, char *reason, size_t cap);

/* Called once the endpoint is fully closed. */
typedef void (*sg_admin_stopped_cb)(void *ud);

/*
 * Parses a listen address: "IPv4:PORT", "[IPv6]:PORT", "localhost:PORT"
 * (127.0.0.1) or ":PORT" (all IPv4 interfaces, 0.0.0.0). PORT is 0..65535
 * (0 picks a free one). Writes the IP literal into |host| (|cap| bytes; 46
 * fit every address). Pure. Returns 0 or SG_ERR_INVAL.
 */
int sg_admin_parse_listen(const char *listen, char *host, size_t cap, uint16_t *port);

/*
 * Starts the endpoint on |loop| at |listen|. |registry| (borrowed; keep it
 * alive until the stopped callback) is written at each /metrics. |ready_cb|
 * (may be NULL: always ready) gets |ud|. When |listen| is NULL or "", the
 * endpoint is off: *out = NULL and 0 is returned. On failure writes a one-line
 * reason into |err| (|errcap| bytes) and returns one of: SG_ERR_CONFIG (bad
 * address), a libuv code (bind or listen, e.g. UV_EADDRINUSE); after a libuv
 * error run the loop once more before uv_loop_close, as handles close
 * asynchronously.
 */
int sg_admin_start(sg_admin **out, uv_loop_t *loop, const char *listen, sg_metrics *registry,
                   sg_admin_ready_cb ready_cb, void *ud, char *err, size_t errcap);

/*
 * Answers a GET of /status or /status/... : |target| is the request target
 * (path and query, borrowed); writes a JSON document into |out| and returns
 * the HTTP status. Called on the loop thread.
 */
typedef int (*sg_admin_status_cb)(void *ud, const char *target, sg_buf *out);

/* Serves /status and /status/... with |cb| and |ud| from now on. |a| may be NULL. */
void sg_admin_set_status(sg_admin *a, sg_admin_status_cb cb, void *ud);

/* The port bound (useful with port 0); 0 for a NULL (off) endpoint. */
uint16_t sg_admin_port(const sg_admin *a);

/*
 * Closes the listener and every connection; frees |a|, then calls |done|
 * (may be NULL) with |ud| once all handles are closed. |a| may be NULL (the
 * endpoint was off): |done| is then called at once, before this returns.
 * Call once.
 */
void sg_admin_stop(sg_admin *a, sg_admin_stopped_cb done, void *ud);

#endif
