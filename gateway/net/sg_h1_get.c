/* SPDX-License-Identifier: Apache-2.0 */
#include "net/sg_h1_get.h"

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "net/sg_tlsconn.h"

#include <stdbool.h>
#include <string.h>

typedef struct h1_get {
  sg_tlsconn *conn;
  uv_timer_t timer;
  sg_buf req;
  sg_buf in;
  sg_h1_get_cb cb;
  void *ud;
  int err;   /* first failure; SG_ERR_AGAIN: none yet */
  bool done; /* cb called */
  int open;  /* the connection and the timer */
} h1_get;

static void release(h1_get *g) {
  if (--g->open > 0)
    return;
  sg_buf_free(&g->req);
  sg_buf_free(&g->in);
  sg_free(g);
}

static void on_timer_closed(uv_handle_t *h) {
  release(h->data);
}

/* Parses what came in (|eof|: the peer closed); calls back once complete. */
static void finish(h1_get *g, int err, bool eof) {
  if (g->done)
    return;
  sg_h1_resp r;
  int rv = err;
  if (rv == 0) {
    rv = sg_h1_resp_parse(g->in.data ? g->in.data : (char *)"", g->in.len, eof, &r);
    if (rv == SG_ERR_AGAIN)
      return;
  }
  g->done = true;
  uv_timer_stop(&g->timer);
  g->cb(rv, rv == 0 ? &r : NULL, g->ud);
  if (rv == 0)
    sg_h1_resp_free(&r);
  if (g->conn)
    sg_tlsconn_close(g->conn, 0);
}

static void on_ready(sg_tlsconn *c, void *ud) {
  h1_get *g = ud;
  sg_tlsconn_write(c, (const uint8_t *)g->req.data, g->req.len);
}

static void on_read(sg_tlsconn *c, const uint8_t *p, size_t n, void *ud) {
  (void)c;
  h1_get *g = ud;
  if (g->done)
    return;
  if (g->in.len + n > SG_H1_RESP_MAX) {
    finish(g, SG_ERR_TOOBIG, false);
    return;
  }
  sg_buf_append(&g->in, p, n);
  finish(g, 0, false);
}

static void on_close(sg_tlsconn *c, int err, void *ud) {
  (void)c;
  h1_get *g = ud;
  g->conn = NULL;
  finish(g, err, true); /* a close after a complete response changes nothing */
  if (!uv_is_closing((uv_handle_t *)&g->timer))
    uv_close((uv_handle_t *)&g->timer, on_timer_closed);
  release(g);
}

static void on_timeout(uv_timer_t *t) {
  h1_get *g = t->data;
  finish(g, SG_ERR_TIMEOUT, false);
  if (g->conn)
    sg_tlsconn_close(g->conn, SG_ERR_TIMEOUT);
}

static bool token_ok(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
      return false;
  return true;
}

int sg_h1_get(uv_loop_t *loop, SSL_CTX *ctx, const char *host, uint16_t port, const char *target,
              const sg_http_header *headers, size_t nheaders, uint64_t timeout_ms, sg_h1_get_cb cb,
              void *ud) {
  if (!loop || !host || !host[0] || !port || !target || target[0] != '/' || !cb ||
      !token_ok(target, strlen(target)) || strchr(target, ' '))
    return SG_ERR_INVAL;
  for (size_t i = 0; i < nheaders; i++)
    if (!token_ok(headers[i].name, headers[i].name_len) ||
        !token_ok(headers[i].value, headers[i].value_len))
      return SG_ERR_INVAL;
  h1_get *g = sg_xcalloc(1, sizeof *g);
  g->cb = cb;
  g->ud = ud;
  sg_buf_printf(&g->req, "GET %s HTTP/1.1\r\nHost: %s", target, host);
  if ((port != 80 && !ctx) || (port != 443 && ctx))
    sg_buf_printf(&g->req, ":%u", port);
  sg_buf_append_str(&g->req, "\r\nUser-Agent: sendgate\r\nConnection: close\r\n");
  for (size_t i = 0; i < nheaders; i++) {
    sg_buf_append(&g->req, headers[i].name, headers[i].name_len);
    sg_buf_append_str(&g->req, ": ");
    sg_buf_append(&g->req, headers[i].value, headers[i].value_len);
    sg_buf_append_str(&g->req, "\r\n");
  }
  sg_buf_append_str(&g->req, "\r\n");
  sg_tlsconn_cbs cbs = {on_ready, on_read, NULL, on_close};
  int rv = sg_tlsconn_connect(&g->conn, loop, ctx, host, port, timeout_ms, &cbs, g);
  if (rv) {
    sg_buf_free(&g->req);
    sg_free(g);
    return rv;
  }
  g->open = 2;
  uv_timer_init(loop, &g->timer);
  g->timer.data = g;
  uv_timer_start(&g->timer, on_timeout, timeout_ms ? timeout_ms : 10000, 0);
  return 0;
}
