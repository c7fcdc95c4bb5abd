/* SPDX-License-Identifier: Apache-2.0 */
/*
 * In-memory sg_tlsconn for fuzz targets; see fuzz_memconn.h. Single-threaded,
 * one global list of connections.
 */
#include "fuzz_memconn.h"

#include <string.h>

#include "core/sg_err.h"
#include "core/sg_list.h"
#include "fuzz_common.h"

struct sg_tlsconn {
  sg_list link;
  sg_tlsconn_cbs cbs;
  void *ud;
  char alpn[16];
  sg_buf out;
  size_t pending;
  sg_buf held; /* input received while paused */
  bool ready, paused, closing, in_read;
  int close_err;
};

static sg_list conns = {&conns, &conns};
static sg_buf last_out; /* output of the connection freed last */
static char next_alpn[16];

void sg_fz_conn_set_alpn(const char *alpn) {
  snprintf(next_alpn, sizeof next_alpn, "%s", alpn);
}

static sg_tlsconn *conn_new(const sg_tlsconn_cbs *cbs, void *ud, const char *alpn) {
  sg_tlsconn *c = sg_xcalloc(1, sizeof *c);
  c->cbs = *cbs;
  c->ud = ud;
  snprintf(c->alpn, sizeof c->alpn, "%s", alpn);
  sg_list_push_back(&conns, &c->link);
  return c;
}

int sg_tlsconn_connect(sg_tlsconn **out, uv_loop_t *loop, SSL_CTX *ctx, const char *host,
                       uint16_t port, uint64_t handshake_timeout_ms, const sg_tlsconn_cbs *cbs,
                       void *ud) {
  (void)handshake_timeout_ms;
  *out = NULL;
  if (loop == NULL || host == NULL || port == 0 || cbs == NULL || !cbs->on_ready || !cbs->on_read ||
      !cbs->on_close)
    return SG_ERR_INVAL;
  *out = conn_new(cbs, ud, ctx ? "h2" : "");
  return 0;
}

int sg_tlsconn_connect_via(sg_tlsconn **out, uv_loop_t *loop, SSL_CTX *ctx, const char *host,
                           uint16_t port, const sg_proxy *proxy, uint64_t handshake_timeout_ms,
                           const sg_tlsconn_cbs *cbs, void *ud) {
  (void)proxy; /* in memory: there is no network to go through */
  return sg_tlsconn_connect(out, loop, ctx, host, port, handshake_timeout_ms, cbs, ud);
}

int sg_tlsconn_accept(sg_tlsconn **out, uv_stream_t *server, SSL_CTX *ctx,
                      uint64_t handshake_timeout_ms, const sg_tlsconn_cbs *cbs, void *ud) {
  (void)server;
  (void)ctx;
  (void)handshake_timeout_ms;
  *out = NULL;
  if (cbs == NULL || !cbs->on_ready || !cbs->on_read || !cbs->on_close)
    return SG_ERR_INVAL;
  *out = conn_new(cbs, ud, next_alpn);
  return 0;
}

int sg_tlsconn_write(sg_tlsconn *c, const uint8_t *p, size_t n) {
  CHECK(c != NULL);
  if (c->closing)
    return SG_ERR_CLOSED;
  sg_buf_append(&c->out, p, n);
  c->pending += n;
  return 0;
}

size_t sg_tlsconn_out_pending(const sg_tlsconn *c) {
  return c->pending;
}

void sg_tlsconn_pause_read(sg_tlsconn *c) {
  c->paused = true;
}

void sg_tlsconn_resume_read(sg_tlsconn *c) {
  c->paused = false;
}

void sg_tlsconn_close(sg_tlsconn *c, int err) {
  CHECK(c != NULL);
  if (c->closing)
    return;
  c->closing = true;
  c->close_err = err;
}

const char *sg_tlsconn_alpn(const sg_tlsconn *c) {
  return c->alpn;
}

const char *sg_tlsconn_error_detail(const sg_tlsconn *c) {
  (void)c;
  return "";
}

const char *sg_tlsconn_peer(const sg_tlsconn *c) {
  (void)c;
  return "192.0.2.1:40000";
}

void sg_tlsconn_set_ud(sg_tlsconn *c, void *ud) {
  c->ud = ud;
}

/* ---- the network's side ---- */

sg_tlsconn *sg_fz_conn_first(void) {
  return sg_list_empty(&conns) ? NULL : sg_container_of(conns.next, sg_tlsconn, link);
}

sg_tlsconn *sg_fz_conn_newest(void) {
  return sg_list_empty(&conns) ? NULL : sg_container_of(conns.prev, sg_tlsconn, link);
}

size_t sg_fz_conn_count(void) {
  size_t n = 0;
  for (sg_list *p = conns.next; p != &conns; p = p->next)
    n++;
  return n;
}

void sg_fz_conn_ready(sg_tlsconn *c) {
  if (c->ready || c->closing)
    return;
  c->ready = true;
  c->cbs.on_ready(c, c->ud);
}

static void deliver(sg_tlsconn *c, const uint8_t *p, size_t n) {
  CHECK(!c->in_read); /* the real transport never nests on_read */
  c->in_read = true;
  c->cbs.on_read(c, p, n, c->ud);
  c->in_read = false;
}

void sg_fz_conn_feed(sg_tlsconn *c, const uint8_t *p, size_t n) {
  if (!c->ready || c->closing || n == 0)
    return;
  if (c->paused || c->held.len > 0) {
    sg_buf_append(&c->held, p, n);
    return;
  }
  deliver(c, p, n);
}

void sg_fz_conn_drain(sg_tlsconn *c) {
  c->pending = 0;
  if (c->ready && !c->closing && c->cbs.on_drain)
    c->cbs.on_drain(c, c->ud);
}

void sg_fz_conn_peer_close(sg_tlsconn *c) {
  if (c->closing)
    return;
  c->closing = true;
  c->close_err = c->ready ? 0 : SG_ERR_EOF;
}

const sg_buf *sg_fz_conn_output(const sg_tlsconn *c) {
  return &c->out;
}

bool sg_fz_conn_is_closing(const sg_tlsconn *c) {
  return c->closing;
}

const sg_buf *sg_fz_conn_last_output(void) {
  return &last_out;
}

static bool pump_one(sg_tlsconn *c) {
  if (c->closing) {
    sg_list_remove(&c->link);
    c->cbs.on_close(c, c->close_err, c->ud);
    sg_buf_free(&last_out);
    last_out = c->out;
    sg_buf_free(&c->held);
    sg_free(c);
    return true;
  }
  if (!c->paused && c->held.len > 0 && c->ready) {
    sg_buf in = c->held;
    sg_buf_init(&c->held);
    deliver(c, (const uint8_t *)in.data, in.len);
    sg_buf_free(&in);
    return true;
  }
  return false;
}

bool sg_fz_conn_pump(void) {
  bool any = false;
  /* Callbacks may open and close connections: start over after each one. */
  for (bool again = true; again;) {
    again = false;
    for (sg_list *p = conns.next; p != &conns; p = p->next) {
      if (pump_one(sg_container_of(p, sg_tlsconn, link))) {
        any = again = true;
        break;
      }
    }
  }
  return any;
}
