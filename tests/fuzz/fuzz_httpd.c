/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the HTTP server (httpd/: the connection lifecycle of
 * sg_httpd.c, HTTP/1.1 in sg_httpd_h1.c, HTTP/2 in sg_httpd_h2.c, the request
 * store) as the admin endpoint and the sandbox run it, over the in-memory
 * transport of fuzz_memconn.c. The server is made once, listening on
 * 127.0.0.1 with port 0 (a socket that never accepts anything: connections
 * are handed to its connection callback directly, and sg_tlsconn_accept is
 * the in-memory one).
 *
 * Input: two control bytes, then what the client sends. Byte 0: bits 0-1
 * the ALPN the connection reports ("" = cleartext, detect the HTTP/2
 * preface; "http/1.1"; "h2"), bits 2-3 what the handler does with each
 * request (answer at once; hold it and answer after the next piece of input;
 * reset it; answer with GOAWAY / Connection: close), bit 4 whether the
 * transport drains between pieces. Byte 1: the piece size (1..256).
 * At the end the client closes and every held request is answered (the calls
 * then only free it).
 * Checked: every request the handler gets is complete and well formed
 * (method, path, authority and scheme NUL-terminated, lower-case names and no
 * pseudo-headers, a body within max_body, protocol 1 or 2); output starts as
 * an HTTP/1.1 response or the HTTP/2 server preface (a SETTINGS frame); once
 * the connection is closed and the loop has run, no connection is left.
 */
#include <ctype.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "fuzz_common.h"
#include "fuzz_memconn.h"
#include "httpd/sg_httpd_int.h"

#define MAX_BODY 4096u
#define MAX_HELD 64
#define MAX_TURNS 64

enum { ACT_NOW = 0, ACT_HOLD, ACT_RESET, ACT_LAST };

static uv_loop_t loop;
static sg_httpd *srv;
static int action;
static sg_httpd_req *held[MAX_HELD];
static size_t n_held;
static unsigned n_requests;

static void step(void) {
  for (int i = 0; i < MAX_TURNS; i++) {
    uv_run(&loop, UV_RUN_NOWAIT);
    if (!sg_fz_conn_pump() && i > 1)
      return;
  }
}

static bool terminated_in(const char *s, size_t max) {
  return s != NULL && memchr(s, '\0', max + 1) != NULL;
}

static void check_request(const sg_httpd_req *q) {
  CHECK(q->protocol == 1 || q->protocol == 2);
  CHECK(terminated_in(q->method, 65536) && q->method[0] != '\0');
  CHECK(terminated_in(q->path, 65536));
  CHECK(terminated_in(q->authority, 65536) && terminated_in(q->scheme, 65536));
  CHECK(q->peer != NULL);
  CHECK(q->body_len <= MAX_BODY && (q->body_len == 0 || q->body != NULL));
  CHECK(q->nheaders == 0 || q->headers != NULL);
  for (size_t i = 0; i < q->nheaders; i++) {
    const sg_http_header *h = &q->headers[i];
    CHECK(h->name_len > 0 && h->name[0] != ':');
    CHECK(h->name[h->name_len] == '\0' && h->value[h->value_len] == '\0');
    for (size_t k = 0; k < h->name_len; k++)
      CHECK(!isupper((unsigned char)h->name[k]));
  }
}

static void answer(sg_httpd_req *q) {
  static const sg_http_header hdrs[] = {{"content-type", 12, "text/plain", 10}};
  char body[64];
  int n = snprintf(body, sizeof body, "%zu %s\n", q->body_len, q->method);
  size_t len = n < (int)sizeof body ? (size_t)n : sizeof body - 1;
  int rv = sg_httpd_respond(q, 200, hdrs, 1, body, len);
  CHECK(rv == 0 || rv == SG_ERR_CLOSED);
}

static void release_held(void) {
  for (size_t i = 0; i < n_held; i++)
    answer(held[i]);
  n_held = 0;
}

static void on_request(sg_httpd_req *q, void *ud) {
  (void)ud;
  n_requests++;
  check_request(q);
  if (sg_fuzz_verbose())
    fprintf(stderr, "httpd: HTTP/%d %s %s body %zu\n", q->protocol, q->method, q->path,
            q->body_len);
  switch (action) {
  case ACT_HOLD:
    if (n_held < MAX_HELD) {
      held[n_held++] = q;
      return;
    }
    answer(q);
    return;
  case ACT_RESET:
    sg_httpd_reset(q, 8 /* CANCEL */);
    return;
  case ACT_LAST:
    sg_httpd_goaway_after(q);
    answer(q);
    return;
  default:
    answer(q);
  }
}

static void check_output(const sg_buf *out) {
  if (out->len < 9)
    return;
  bool h1 = out->len >= 9 && memcmp(out->data, "HTTP/1.1 ", 9) == 0;
  bool h2 = out->data[3] == 0x4 && out->data[4] == 0 && memcmp(out->data + 5, "\0\0\0\0", 4) == 0;
  CHECK(h1 || h2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2)
    return 0;
  if (srv == NULL) {
    CHECK(uv_loop_init(&loop) == 0);
    sg_log_set_level(SG_LOG_ERROR);
    sg_httpd_settings set;
    sg_httpd_settings_default(&set);
    set.max_body = MAX_BODY;
    set.max_header_block = 4096;
    set.max_concurrent_streams = 16;
    set.h1_max_pipeline = 4;
    set.out_high_water = 16384;
    CHECK(sg_httpd_new(&srv, &loop, "127.0.0.1", 0, NULL, &set, on_request, NULL) == 0);
  }
  static const char *const alpns[] = {"", "http/1.1", "h2", ""};
  sg_fz_conn_set_alpn(alpns[data[0] & 3]);
  action = (data[0] >> 2) & 3;
  bool drain = (data[0] & 0x10) != 0;
  size_t piece = 1 + (size_t)data[1];
  data += 2;
  size -= 2;
  n_held = 0;
  n_requests = 0;

  uv_stream_t *listener = (uv_stream_t *)&srv->listener;
  listener->connection_cb(listener, 0);
  CHECK(sg_fz_conn_count() == 1);
  sg_tlsconn *c = sg_fz_conn_newest();
  sg_fz_conn_ready(c);
  step();
  for (size_t pos = 0; pos < size; pos += piece) {
    if ((c = sg_fz_conn_first()) == NULL || sg_fz_conn_is_closing(c))
      break;
    sg_fz_conn_feed(c, data + pos, size - pos < piece ? size - pos : piece);
    step();
    if ((c = sg_fz_conn_first()) != NULL && drain) {
      sg_fz_conn_drain(c);
      step();
    }
    release_held();
    step();
  }
  if ((c = sg_fz_conn_first()) != NULL) {
    check_output(sg_fz_conn_output(c));
    sg_fz_conn_drain(c);
    step();
  }
  if ((c = sg_fz_conn_first()) != NULL)
    sg_fz_conn_peer_close(c);
  step();
  release_held();
  step();
  CHECK(sg_fz_conn_count() == 0);
  CHECK(sg_list_empty(&srv->conns));
  if (sg_fuzz_verbose())
    fprintf(stderr, "httpd: %u requests\n", n_requests);
  return 0;
}
