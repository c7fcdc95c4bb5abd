/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Getting the socket of an sg_tlsconn (sg_tlsconn.h): resolve the host
 * (uv_getaddrinfo), connect to its addresses in resolver order until one
 * answers, or accept from a listener; under the connection's deadline timer,
 * which sg_tlsconn.c runs. Once connected, the stream takes over
 * (sg_tlsconn__connected / sg_tlsconn__accepted).
 */
#include <stdio.h>
#include <string.h>

#include "core/sg_err.h"
#include "net/sg_tlsconn_int.h"

static void set_peer(sg_tlsconn *c, const struct sockaddr *sa) {
  char ip[INET6_ADDRSTRLEN] = "?";
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    uv_ip4_name(in, ip, sizeof ip);
    snprintf(c->peer, sizeof c->peer, "%s:%u", ip, (unsigned)ntohs(in->sin_port));
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    uv_ip6_name(in6, ip, sizeof ip);
    snprintf(c->peer, sizeof c->peer, "[%s]:%u", ip, (unsigned)ntohs(in6->sin6_port));
  }
}

static void try_next(sg_tlsconn *c);

static void on_tcp_retry_closed(uv_handle_t *h) {
  sg_tlsconn *c = h->data;
  c->open_handles--;
  if (c->state == SG_TC_CLOSED)
    sg_tlsconn__maybe_finish(c);
  else
    try_next(c);
}

/* Gives up on the current address: close its socket, then try the next. */
static void retry_next(sg_tlsconn *c, int err) {
  c->last_connect_err = err;
  c->tcp_open = false;
  uv_close((uv_handle_t *)&c->tcp, on_tcp_retry_closed);
}

static void on_connect(uv_connect_t *req, int status) {
  sg_tlsconn *c = req->data;
  if (status == UV_ECANCELED || c->state == SG_TC_CLOSED)
    return;
  if (status < 0) {
    retry_next(c, status);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  sg_tlsconn__connected(c);
}

static void try_next(sg_tlsconn *c) {
  struct addrinfo *ai = c->next_addr;
  while (ai && ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
    ai = ai->ai_next;
  if (!ai) {
    sg_tlsconn__fail(c, c->last_connect_err ? c->last_connect_err : UV_EAI_NONAME);
    return;
  }
  c->next_addr = ai->ai_next;
  uv_tcp_init(c->loop, &c->tcp);
  c->tcp.data = c;
  c->tcp_open = true;
  c->open_handles++;
  set_peer(c, ai->ai_addr);
  c->connect_req.data = c;
  int rv = uv_tcp_connect(&c->connect_req, &c->tcp, ai->ai_addr, on_connect);
  if (rv != 0)
    retry_next(c, rv);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  sg_tlsconn *c = req->data;
  c->gai_pending = false;
  c->addrs = res; /* freed with the connection */
  if (c->state == SG_TC_CLOSED) {
    sg_tlsconn__maybe_finish(c);
    return;
  }
  if (status < 0) {
    sg_tlsconn__fail(c, status);
    return;
  }
  c->state = SG_TC_CONNECTING;
  c->next_addr = res;
  try_next(c);
}

static bool cbs_ok(const sg_tlsconn_cbs *cbs) {
  return cbs && cbs->on_ready && cbs->on_read && cbs->on_close;
}

int sg_tlsconn_connect(sg_tlsconn **out, uv_loop_t *loop, SSL_CTX *ctx, const char *host,
                       uint16_t port, uint64_t handshake_timeout_ms, const sg_tlsconn_cbs *cbs,
                       void *ud) {
  return sg_tlsconn_connect_via(out, loop, ctx, host, port, NULL, handshake_timeout_ms, cbs, ud);
}

int sg_tlsconn_connect_via(sg_tlsconn **out, uv_loop_t *loop, SSL_CTX *ctx, const char *host,
                           uint16_t port, const sg_proxy *proxy, uint64_t handshake_timeout_ms,
                           const sg_tlsconn_cbs *cbs, void *ud) {
  *out = NULL;
  if (!loop || !host || !host[0] || port == 0 || !cbs_ok(cbs) ||
      (proxy && (!proxy->host[0] || proxy->port == 0)))
    return SG_ERR_INVAL;
  sg_tlsconn *c = sg_tlsconn__new(loop, handshake_timeout_ms, cbs, ud);
  int rv = ctx ? sg_tls_new(&c->tls, ctx, host) : 0;
  if (rv == 0 && proxy) {
    /* The socket goes to the proxy; TLS (SNI, verification) stays with |host|. */
    c->proxy = sg_xmalloc(sizeof *c->proxy);
    *c->proxy = *proxy;
    c->tunnel_host = sg_xstrdup(host);
    c->tunnel_port = port;
    host = proxy->host;
    port = proxy->port;
  }
  if (rv == 0) {
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%u", (unsigned)port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    rv = uv_getaddrinfo(loop, &c->gai, on_resolved, host, portstr, &hints);
  }
  if (rv != 0) { /* no handle initialised yet: free right here */
    sg_tls_free(c->tls);
    sg_free(c->proxy);
    sg_free(c->tunnel_host);
    sg_free(c);
    return rv;
  }
  c->gai_pending = true;
  c->state = SG_TC_RESOLVING;
  if (c->proxy)
    snprintf(c->peer, sizeof c->peer, "%.64s:%u via %.64s:%u", c->tunnel_host,
             (unsigned)c->tunnel_port, host, (unsigned)port);
  else
    snprintf(c->peer, sizeof c->peer, "%.140s:%u", host, (unsigned)port);
  sg_tlsconn__init_handles(c);
  sg_tlsconn__arm_timer(c);
  *out = c;
  return 0;
}

int sg_tlsconn_accept(sg_tlsconn **out, uv_stream_t *server, SSL_CTX *ctx,
                      uint64_t handshake_timeout_ms, const sg_tlsconn_cbs *cbs, void *ud) {
  *out = NULL;
  if (!server || !cbs_ok(cbs))
    return SG_ERR_INVAL;
  sg_tlsconn *c = sg_tlsconn__new(server->loop, handshake_timeout_ms, cbs, ud);
  int rv = ctx ? sg_tls_new(&c->tls, ctx, NULL) : 0;
  if (rv != 0) {
    sg_free(c);
    return rv;
  }
  sg_tlsconn__init_handles(c);
  uv_tcp_init(c->loop, &c->tcp);
  c->tcp.data = c;
  c->tcp_open = true;
  c->open_handles++;
  c->state = SG_TC_HANDSHAKE;
  rv = uv_accept(server, (uv_stream_t *)&c->tcp);
  if (rv == 0) {
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0)
      set_peer(c, (struct sockaddr *)&ss);
    uv_tcp_nodelay(&c->tcp, 1);
    rv = sg_tlsconn__accepted(c);
  }
  if (rv != 0) { /* handles exist: free them asynchronously, without on_close */
    c->silent = true;
    sg_tlsconn__teardown(c);
    return rv;
  }
  sg_tlsconn__arm_timer(c);
  *out = c;
  return 0;
}
