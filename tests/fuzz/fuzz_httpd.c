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
 * pseudo-headers, a body within max_body, protocol 1 or 2); once the
 * connection is closed and the loop has run, no connection is left; what the
 * server wrote is HTTP/1.1 responses back to back, each with its
 * content-length and nothing after "connection: close", the 200s carrying the
 * handler's bodies in request order (pipelining), or HTTP/2 frames back to back
 * starting with SETTINGS (the last response or frame may be cut by the close).
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
/* HTTP/1.1: the body of each 200 response the handler gave, in request
 * order ("" for HEAD, whose body is not sent); ends at a reset. */
static sg_buf expected;
static size_t n_expected;
static bool expect_no_more;
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

static size_t answer_body(const sg_httpd_req *q, char *body, size_t cap) {
  int n = snprintf(body, cap, "%zu %s\n", q->body_len, q->method);
  return n < (int)cap ? (size_t)n : cap - 1;
}

/* Records what the 200 response to |q| will carry (HTTP/1.1 only). */
static void expect(const sg_httpd_req *q, bool answered) {
  if (q->protocol != 1 || expect_no_more)
    return;
  if (!answered) {
    expect_no_more = true;
    return;
  }
  char body[64];
  size_t len = strcmp(q->method, "HEAD") == 0 ? 0 : answer_body(q, body, sizeof body);
  sg_buf_append(&expected, body, len);
  sg_buf_append_char(&expected, '\0');
  n_expected++;
}

static void answer(sg_httpd_req *q) {
  static const sg_http_header hdrs[] = {{"content-type", 12, "text/plain", 10}};
  char body[64];
  size_t len = answer_body(q, body, sizeof body);
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
  expect(q, action != ACT_RESET);
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

/* HTTP/2: frames from the first byte on, back to back (the last may be cut
 * short by the close), starting with the server's SETTINGS. */
static void check_h2_output(const uint8_t *p, size_t n) {
  CHECK(p[3] == 0x4 && p[4] == 0 && memcmp(p + 5, "\0\0\0\0", 4) == 0);
  size_t pos = 0;
  while (n - pos >= 9) {
    size_t len = (size_t)p[pos] << 16 | (size_t)p[pos + 1] << 8 | p[pos + 2];
    CHECK(p[pos + 3] <= 0x9); /* DATA .. CONTINUATION: nothing else is sent */
    if (n - pos - 9 < len)
      return;
    pos += 9 + len;
  }
}

/* Finds the content-length line among the header lines [h, end) and parses it. */
static bool content_length(const char *h, const char *end, size_t *out) {
  static const char cl[] = "\r\ncontent-length: ";
  for (const char *q = h; q + sizeof cl - 1 <= end; q++) {
    if (memcmp(q, cl, sizeof cl - 1) != 0)
      continue;
    size_t v = 0;
    for (q += sizeof cl - 1; q < end && *q >= '0' && *q <= '9'; q++)
      v = v * 10 + (size_t)(*q - '0');
    *out = v;
    return true;
  }
  return false;
}

/* HTTP/1.1: complete responses back to back (the last may be cut short by the
 * close), each with its content-length, nothing after "connection: close";
 * the 200 responses carry the handler's bodies in request order. */
static void check_h1_output(const char *p, size_t n) {
  size_t pos = 0, k = 0;
  const char *want = expected.data;
  while (pos < n) {
    const char *r = p + pos;
    const char *end = memmem(r, n - pos, "\r\n\r\n", 4);
    if (end == NULL)
      return; /* cut short */
    CHECK(memcmp(r, "HTTP/1.1 ", 9) == 0);
    int status = atoi(r + 9);
    CHECK(status >= 100 && status <= 599);
    size_t head = (size_t)(end - r) + 4, len = 0;
    if (status == 100) {
      pos += head;
      continue;
    }
    bool has_len = content_length(r, end + 2, &len);
    CHECK(has_len || status == 204 || status == 304);
    bool closes = memmem(r, head, "\r\nconnection: close\r\n", 21) != NULL;
    if (status == 200) {
      CHECK(k < n_expected);
      size_t wl = strlen(want);
      size_t avail = n - pos - head;
      if (wl > 0)
        CHECK(len == wl);
      size_t cmp = avail < wl ? avail : wl;
      CHECK(memcmp(r + head, want, cmp) == 0);
      len = wl; /* HEAD: content-length without a body */
      want += wl + 1;
      k++;
    }
    if (n - pos - head < len)
      return; /* cut short */
    pos += head + len;
    if (closes)
      CHECK(pos == n);
  }
}

static void check_output(const sg_buf *out) {
  if (out->len < 9)
    return;
  if (memcmp(out->data, "HTTP/1.1 ", 9) == 0)
    check_h1_output(out->data, out->len);
  else
    check_h2_output((const uint8_t *)out->data, out->len);
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
  sg_buf_reset(&expected);
  n_expected = 0;
  expect_no_more = false;

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
  check_output(sg_fz_conn_last_output());
  if (sg_fuzz_verbose())
    fprintf(stderr, "httpd: %u requests\n", n_requests);
  return 0;
}
