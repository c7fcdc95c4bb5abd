/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A one-shot HTTP/1.1 GET over sg_tlsconn (plain TCP with ctx NULL, or TLS):
 * for endpoints that speak no HTTP/2, such as Azure's instance metadata
 * service (managed identity tokens, plain HTTP on a link-local address) and
 * App Service's identity endpoint. One connection per request, "Connection:
 * close", the response read whole (at most SG_H1_RESP_MAX bytes) and parsed
 * by net/sg_h1_resp. The whole exchange has one deadline.
 */
#ifndef SG_H1_GET_H
#define SG_H1_GET_H

#include <openssl/ssl.h>
#include <stdint.h>
#include <uv.h>

#include "core/sg_http.h"
#include "net/sg_h1_resp.h"

/* |err| 0 and |resp| (borrowed for the call) on a complete response; else
 * SG_ERR_TIMEOUT, SG_ERR_PARSE, SG_ERR_TOOBIG, a connect error..., resp NULL. */
typedef void (*sg_h1_get_cb)(int err, const sg_h1_resp *resp, void *ud);

/*
 * GET |target| (origin-form: path and query, copied) from |host|:|port| with
 * the extra |headers| (copied; Host, Connection and User-Agent are added),
 * within |timeout_ms|. |ctx| NULL: plain HTTP. |cb| is called exactly once,
 * never from inside this call. Returns 0 or, immediately, SG_ERR_INVAL or a
 * connect error (then no callback).
 */
int sg_h1_get(uv_loop_t *loop, SSL_CTX *ctx, const char *host, uint16_t port, const char *target,
              const sg_http_header *headers, size_t nheaders, uint64_t timeout_ms, sg_h1_get_cb cb,
              void *ud);

#endif
