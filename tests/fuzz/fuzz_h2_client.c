/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the HTTP/2 client as the gateway runs it: the real
 * pool (h2/sg_h2_pool.c) and connection (h2/sg_h2_conn.c, its nghttp2
 * callbacks and state machine) on a libuv loop, over the in-memory transport
 * of fuzz_memconn.c instead of TCP + TLS. The input is what the server sends
 * (its preface SETTINGS included).
 *
 * Three requests are queued before the connection is up (streams 1, 3, 5): a
 * GET, a small POST with an authorization header, and a POST whose 70000-byte
 * body is over the initial window, so flow control matters. The input then
 * arrives in pieces of up to 1000 bytes, with a loop turn after each and the
 * transport drained every other piece; at the end the server closes the
 * connection and the pool is closed.
 * Checked: every request gets exactly one callback, with an error the pool
 * documents; status 0 or 200..999, and a final status whenever err is 0; at
 * most SG_H2_MAX_RESP_HEADERS headers and SG_H2_MAX_RESP_HEADER_BYTES, no
 * pseudo-header among them, names and values NUL-terminated; the body
 * NUL-terminated, within the cap, truncated only at the cap; what the client
 * wrote is the HTTP/2 preface and then whole frames back to back, DATA only on
 * the client's own streams; after the pool's close callback no
 * connection and no handle is left. Seeds (corpus/h2_client/) are server
 * transcripts made by gen_seeds.c with an nghttp2 server session.
 */
#include <stdbool.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "fuzz_common.h"
#include "fuzz_memconn.h"
#include "h2/sg_h2_pool.h"
#include "h2/sg_h2_req.h"

#define N_REQ 3
#define BODY_CAP 4096u
#define BIG_BODY 70000u
#define PIECE 1000u
/* Loop turns per step; each turn either does something or the step ends. */
#define MAX_TURNS 64

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

typedef struct fz_req {
  unsigned calls;
  int err;
} fz_req;

static uv_loop_t loop;
static uint8_t big_body[BIG_BODY];
static bool pool_done;

static void step(void) {
  for (int i = 0; i < MAX_TURNS; i++) {
    int pending = uv_run(&loop, UV_RUN_NOWAIT);
    bool pumped = sg_fz_conn_pump();
    if (!pumped && !pending)
      return;
    if (!pumped && i > 2)
      return; /* only the pool's own timers and idle handles are left */
  }
}

static void check_response(int err, const sg_h2_response *out) {
  CHECK(out != NULL);
  CHECK(err == 0 || err == SG_ERR_TIMEOUT || err == SG_ERR_RESET || err == SG_ERR_CLOSED ||
        err == SG_ERR_REFUSED || err == SG_ERR_TOOBIG || err == SG_ERR_H2 ||
        err == SG_ERR_SHUTDOWN);
  CHECK(out->status == 0 || (out->status >= 200 && out->status <= 999));
  CHECK(err != 0 || out->status >= 200);
  CHECK(out->n_headers <= SG_H2_MAX_RESP_HEADERS);
  CHECK(out->n_headers == 0 || out->headers != NULL);
  size_t bytes = 0;
  for (size_t k = 0; k < out->n_headers; k++) {
    const sg_http_header *h = &out->headers[k];
    CHECK(h->name_len > 0 && h->name[0] != ':');
    CHECK(h->name[h->name_len] == '\0' && h->value[h->value_len] == '\0');
    bytes += h->name_len + h->value_len + 2;
  }
  CHECK(bytes <= SG_H2_MAX_RESP_HEADER_BYTES);
  CHECK(out->body != NULL && out->body[out->body_len] == '\0');
  CHECK(out->body_len <= BODY_CAP);
  CHECK(!out->body_truncated || out->body_len == BODY_CAP);
  CHECK(out->detail != NULL);
}

/* The preface, then whole frames back to back (sg_h2_conn writes DATA frames
 * itself, header, pad length, body and padding), DATA only on our streams. */
static void check_output(const sg_buf *out) {
  if (out->len == 0)
    return;
  CHECK(out->len >= 24 && memcmp(out->data, preface, 24) == 0);
  const uint8_t *p = (const uint8_t *)out->data;
  size_t pos = 24;
  while (pos < out->len) {
    CHECK(out->len - pos >= 9);
    size_t len = (size_t)p[pos] << 16 | (size_t)p[pos + 1] << 8 | p[pos + 2];
    uint32_t sid = ((uint32_t)p[pos + 5] << 24 | (uint32_t)p[pos + 6] << 16 |
                    (uint32_t)p[pos + 7] << 8 | p[pos + 8]) &
                   0x7fffffffu;
    if (p[pos + 3] == 0x0)
      CHECK(sid % 2 == 1);
    CHECK(out->len - pos - 9 >= len);
    pos += 9 + len;
  }
}

static void on_result(void *ud, int err, const sg_h2_response *resp, bool body_sent) {
  (void)body_sent;
  fz_req *r = ud;
  r->calls++;
  r->err = err;
  check_response(err, resp);
  if (sg_fuzz_verbose())
    fprintf(stderr, "h2_client: err %s status %d headers %zu body %zu%s\n", sg_err_name(err),
            resp->status, resp->n_headers, resp->body_len,
            resp->body_truncated ? " truncated" : "");
}

static void on_pool_done(void *ud) {
  (void)ud;
  pool_done = true;
}

static void submit(sg_h2_pool *p, fz_req *r, const char *method, const char *path,
                   const sg_http_header *hdrs, size_t n_hdrs, const uint8_t *body,
                   size_t body_len) {
  sg_h2_request in;
  memset(&in, 0, sizeof in);
  in.method = method;
  in.path = path;
  in.headers = hdrs;
  in.n_headers = n_hdrs;
  in.body = body;
  in.body_len = body_len;
  CHECK(sg_h2_pool_request(p, &in, on_result, r, NULL) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static bool init;
  if (!init) {
    CHECK(uv_loop_init(&loop) == 0);
    memset(big_body, 'b', sizeof big_body);
    sg_log_set_level(SG_LOG_ERROR);
    init = true;
  }
  sg_h2_pool_opts o;
  sg_h2_pool_opts_init(&o);
  o.max_conns = 1;
  o.max_response_body = BODY_CAP;
  sg_h2_pool *p = NULL;
  CHECK(sg_h2_pool_new(&p, &loop, NULL, "graph.example.test", 443, &o) == 0);

  static const sg_http_header post_hdrs[] = {
      {"Authorization", 13, "Bearer abc", 10},
      {"Content-Type", 12, "application/json", 16},
  };
  static const uint8_t small_body[] = "{\"message\":{}}";
  fz_req req[N_REQ];
  memset(req, 0, sizeof req);
  submit(p, &req[0], "GET", "/v1.0/users/a@b.example/messages", NULL, 0, NULL, 0);
  submit(p, &req[1], "POST", "/v1.0/users/a@b.example/sendMail", post_hdrs, 2, small_body,
         sizeof small_body - 1);
  submit(p, &req[2], "POST", "/emails:send?api-version=2023-03-31", post_hdrs + 1, 1, big_body,
         sizeof big_body);
  step();
  CHECK(sg_fz_conn_count() == 1);
  sg_tlsconn *c = sg_fz_conn_newest();
  sg_fz_conn_ready(c);
  step();

  for (size_t pos = 0, k = 0; pos < size; pos += PIECE, k++) {
    c = sg_fz_conn_first();
    if (c == NULL || sg_fz_conn_is_closing(c))
      break;
    sg_fz_conn_feed(c, data + pos, size - pos < PIECE ? size - pos : PIECE);
    step();
    if ((c = sg_fz_conn_first()) != NULL && k % 2 == 1) {
      sg_fz_conn_drain(c);
      step();
    }
  }
  c = sg_fz_conn_first();
  if (c != NULL) {
    check_output(sg_fz_conn_output(c));
    sg_fz_conn_peer_close(c);
  }
  step();

  pool_done = false;
  sg_h2_pool_close(p, on_pool_done, NULL);
  for (int i = 0; i < 100 && !pool_done; i++)
    step();
  CHECK(pool_done);
  CHECK(sg_fz_conn_count() == 0);
  CHECK(uv_run(&loop, UV_RUN_NOWAIT) == 0); /* no handle left on the loop */
  for (int i = 0; i < N_REQ; i++)
    CHECK(req[i].calls == 1);
  return 0;
}
