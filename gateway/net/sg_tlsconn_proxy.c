/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CONNECT step of a connection through an HTTPS proxy (see
 * sg_tlsconn_connect_via): between the TCP connect and the TLS handshake.
 * The request and the answer's parsing are net/sg_proxy's; this is the glue.
 */
#include "net/sg_tlsconn_int.h"

#include <stdio.h>
#include <string.h>

#include "core/sg_err.h"

void sg_tlsconn__proxy_start(sg_tlsconn *c) {
  c->state = SG_TC_PROXY;
  int rv = sg_tlsconn__read_start(c);
  if (rv != 0) {
    sg_tlsconn__fail(c, rv);
    return;
  }
  sg_buf req = SG_BUF_INIT;
  sg_proxy_connect_request(c->proxy, c->tunnel_host, c->tunnel_port, &req);
  sg_tlsconn__write_raw(c, req.data, req.len);
  memset(req.data, 0, req.len); /* it may hold the proxy's credentials */
  sg_buf_free(&req);
}

void sg_tlsconn__proxy_read(sg_tlsconn *c, const uint8_t *p, size_t n) {
  if (c->proxy_in.len + n > SG_PROXY_MAX_RESPONSE)
    n = SG_PROXY_MAX_RESPONSE - c->proxy_in.len; /* the parser refuses a head that long */
  sg_buf_append(&c->proxy_in, p, n);
  int status = 0;
  size_t head = 0;
  int rv = sg_proxy_connect_response(c->proxy_in.data, c->proxy_in.len, &status, &head);
  if (rv == SG_ERR_AGAIN)
    return;
  if (rv != 0 || status != 200) {
    if (rv != 0) {
      snprintf(c->detail, sizeof c->detail, "the proxy did not answer CONNECT with HTTP");
    } else {
      size_t line = strcspn(c->proxy_in.data, "\r\n");
      snprintf(c->detail, sizeof c->detail, "proxy: %.*s%s", (int)(line > 120 ? 120 : line),
               c->proxy_in.data,
               status == 407 || status == 401 ? " (check the user and password in the proxy URL)"
                                              : "");
    }
    sg_tlsconn__fail(c, SG_ERR_PROXY);
    return;
  }
  /* A TLS server speaks only after our ClientHello: nothing may follow the head. */
  if (head != c->proxy_in.len) {
    snprintf(c->detail, sizeof c->detail, "proxy: bytes after its CONNECT answer");
    sg_tlsconn__fail(c, SG_ERR_PROXY);
    return;
  }
  sg_buf_free(&c->proxy_in);
  sg_tlsconn__tunnel_up(c);
}
