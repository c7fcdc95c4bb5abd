/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Getting the socket of a plain sg_tlsconn (sg_tlsconn.h) from a unix socket
 * path (a local Redis): connect under the connection's deadline timer, then
 * the stream of sg_tlsconn.c takes over. No TLS here: a unix socket needs no
 * transport security and has no name to verify.
 */
#include <stdio.h>
#include <string.h>

#include "core/sg_err.h"
#include "net/sg_tlsconn_int.h"

static void on_pipe_connect(uv_connect_t *req, int status) {
  sg_tlsconn *c = req->data;
  if (status == UV_ECANCELED || c->state == SG_TC_CLOSED)
    return;
  if (status < 0) {
    sg_tlsconn__fail(c, status);
    return;
  }
  sg_tlsconn__connected(c);
}

int sg_tlsconn_connect_unix(sg_tlsconn **out, uv_loop_t *loop, const char *path,
                            uint64_t timeout_ms, const sg_tlsconn_cbs *cbs, void *ud) {
  *out = NULL;
  if (!loop || !path || !path[0] || !cbs || !cbs->on_ready || !cbs->on_read || !cbs->on_close)
    return SG_ERR_INVAL;
  sg_tlsconn *c = sg_tlsconn__new(loop, timeout_ms, cbs, ud);
  sg_tlsconn__init_handles(c);
  uv_pipe_init(loop, &c->pipe, 0); /* cannot fail on Unix */
  c->pipe.data = c;
  c->tcp_open = true;
  c->open_handles++;
  c->state = SG_TC_CONNECTING;
  snprintf(c->peer, sizeof c->peer, "%s", path);
  c->connect_req.data = c;
  /* Errors (a missing socket, a refused connect) come through the callback. */
  uv_pipe_connect(&c->connect_req, &c->pipe, path, on_pipe_connect);
  sg_tlsconn__arm_timer(c);
  *out = c;
  return 0;
}
