/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ESMTP server of `sendgate smtpd` on libuv: the listeners (submission
 * with STARTTLS, implicit TLS per RFC 8314, relay), connection limits (total
 * and per client IP), a timer on every wait, TLS through the memory-BIO
 * engine (net/sg_tls.h) on a plain uv_tcp, AUTH checks through
 * smtp/sg_smtp_auth.h, and the durable hand-off: a message is answered 250
 * only after the XADD of its job to the jobs stream succeeded, 451 4.3.0
 * when Redis is down or slow. The protocol itself is smtp/sg_smtp_session.
 */
#ifndef SG_SMTPD_H
#define SG_SMTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "core/sg_metrics.h"
#include "smtp/sg_smtp_config.h"

typedef struct sg_smtpd sg_smtpd;

/*
 * Starts the listeners of |cfg| (borrowed; keep it alive until stopped) on
 * |loop|, connects to Redis and loads the users file. Metrics go into
 * |registry| (borrowed). On failure writes a one-line reason into |err| and
 * returns SG_ERR_CONFIG (certificate, key, users file, addresses) or a libuv
 * code (bind, listen); run the loop once more before closing it, as handles
 * close asynchronously.
 */
int sg_smtpd_start(sg_smtpd **out, uv_loop_t *loop, const sg_smtp_config *cfg, sg_metrics *registry,
                   char *err, size_t errcap);

/* Readiness for /readyz: Redis connected and not draining. */
bool sg_smtpd_ready(void *srv, char *reason, size_t cap);

/*
 * Drains: stops accepting, lets sessions finish what they are doing (a
 * message being received or handed off is answered first; then 421), cuts
 * the rest after smtp.grace_ms, closes Redis and the AUTH checker, frees
 * |s| and calls |done| with |ud|. Call once.
 */
void sg_smtpd_stop(sg_smtpd *s, void (*done)(void *ud), void *ud);

#endif
