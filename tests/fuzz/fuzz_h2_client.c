/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the client side of HTTP/2: the mirror of nghttp2's
 * own fuzz target, but a client session carrying requests built by
 * h2/sg_h2_req and collecting responses with it. The input is what a server
 * sends (its preface SETTINGS included); it is fed to nghttp2 at once and
 * whatever the client wants to answer (ACKs, WINDOW_UPDATE, the rest of the
 * request bodies, RST_STREAM) is then pulled and dropped.
 *
 * gateway/h2 has no session entry point without a connection and a pool
 * (sg_h2_conn's callbacks need both), so the callbacks here repeat what
 * sg_h2_conn.c does with an sg_h2_req: the same session settings, headers
 * through sg_h2_req_on_header (a refusal resets the stream), data through
 * sg_h2_req_on_data with a cap, END_STREAM after a final status completes.
 * Keep them in step with sg_h2_conn.c.
 *
 * Three requests go out before the input is read (streams 1, 3, 5): a GET, a
 * small POST with an authorization header, and a POST whose 70000-byte body
 * is over the initial window, so flow control matters. Checked for each:
 * status 0 or 200..999, at most SG_H2_MAX_RESP_HEADERS headers and
 * SG_H2_MAX_RESP_HEADER_BYTES, no pseudo-header among them, names and values
 * NUL-terminated, the body exactly the first min(received, cap) bytes,
 * truncated exactly when more arrived, and a complete response has a final
 * status. Seeds (corpus/h2_client/) are server transcripts made by
 * gen_seeds.c with an nghttp2 server session.
 */
#include <stdbool.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "fuzz_common.h"
#include "h2/nghttp2_compat.h"
#include "h2/sg_h2_req.h"

#define N_REQ 3
#define BODY_CAP 4096u
#define BIG_BODY 70000u
/* Bounds the send loop; each round either sends something or stops. */
#define MAX_SEND_ROUNDS 64

typedef struct fz {
  sg_h2_req req[N_REQ];
  size_t data_seen[N_REQ];
  uint64_t data_sum[N_REQ]; /* a running checksum of the received body bytes */
  bool closed[N_REQ];
  size_t sent;
} fz;

static uint8_t big_body[BIG_BODY];

static int req_index(fz *f, const sg_h2_req *r) {
  if (r < f->req || r >= f->req + N_REQ)
    return -1;
  return (int)(r - f->req);
}

static sg_h2_req *stream_req(nghttp2_session *s, fz *f, int32_t sid) {
  sg_h2_req *r = nghttp2_session_get_stream_user_data(s, sid);
  if (r == NULL)
    return NULL;
  CHECK(req_index(f, r) >= 0);
  return r->stream_id == sid ? r : NULL;
}

static sg_ng_ssize read_body_cb(nghttp2_session *s, int32_t sid, uint8_t *buf, size_t len,
                                uint32_t *flags, nghttp2_data_source *src, void *ud) {
  (void)s;
  (void)sid;
  (void)buf;
  (void)ud;
  sg_h2_req *r = src->ptr;
  if (r->state != SG_H2_REQ_ACTIVE)
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  size_t left = r->body_len - r->body_off;
  size_t n = left < len ? left : len;
  *flags |= NGHTTP2_DATA_FLAG_NO_COPY;
  if (n == left)
    *flags |= NGHTTP2_DATA_FLAG_EOF;
  return (sg_ng_ssize)n;
}

static int send_data_cb(nghttp2_session *s, nghttp2_frame *frame, const uint8_t *framehd,
                        size_t length, nghttp2_data_source *src, void *ud) {
  (void)s;
  (void)framehd;
  fz *f = ud;
  sg_h2_req *r = src->ptr;
  CHECK(r->body_off + length <= r->body_len);
  r->body_off += length;
  f->sent += 9 + length + frame->data.padlen;
  return 0;
}

static int on_header_cb(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name,
                        size_t nlen, const uint8_t *value, size_t vlen, uint8_t flags, void *ud) {
  (void)flags;
  if (frame->hd.type != NGHTTP2_HEADERS)
    return 0;
  sg_h2_req *r = stream_req(s, ud, frame->hd.stream_id);
  if (!r || r->state != SG_H2_REQ_ACTIVE)
    return 0;
  int rv = sg_h2_req_on_header(r, name, nlen, value, vlen);
  CHECK(rv == 0 || rv == SG_ERR_TOOBIG || rv == SG_ERR_PARSE);
  if (rv != 0) {
    r->fail_err = rv == SG_ERR_TOOBIG ? SG_ERR_TOOBIG : SG_ERR_H2;
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  return 0;
}

static int on_data_chunk_cb(nghttp2_session *s, uint8_t flags, int32_t sid, const uint8_t *data,
                            size_t len, void *ud) {
  (void)flags;
  fz *f = ud;
  sg_h2_req *r = stream_req(s, f, sid);
  if (r && r->state == SG_H2_REQ_ACTIVE) {
    int i = req_index(f, r);
    for (size_t k = 0; k < len && f->data_seen[i] + k < BODY_CAP; k++)
      f->data_sum[i] = f->data_sum[i] * 31 + data[k];
    f->data_seen[i] += len;
    sg_h2_req_on_data(r, data, len, BODY_CAP);
  }
  return 0;
}

static int on_frame_recv_cb(nghttp2_session *s, const nghttp2_frame *frame, void *ud) {
  if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
      (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
    sg_h2_req *r = stream_req(s, ud, frame->hd.stream_id);
    if (r && r->status >= 200)
      r->resp_complete = true;
  }
  return 0;
}

static void check_response(fz *f, int i) {
  sg_h2_req *r = &f->req[i];
  sg_h2_response out;
  sg_h2_req_response(r, &out, NULL);
  CHECK(out.status == 0 || (out.status >= 200 && out.status <= 999));
  CHECK(!r->resp_complete || out.status >= 200);
  CHECK(out.n_headers <= SG_H2_MAX_RESP_HEADERS);
  CHECK(out.n_headers == 0 || out.headers != NULL);
  size_t bytes = 0;
  for (size_t k = 0; k < out.n_headers; k++) {
    const sg_http_header *h = &out.headers[k];
    CHECK(h->name_len > 0 && h->name[0] != ':');
    CHECK(h->name[h->name_len] == '\0' && h->value[h->value_len] == '\0');
    bytes += h->name_len + h->value_len + 2;
  }
  CHECK(bytes <= SG_H2_MAX_RESP_HEADER_BYTES);
  size_t want = f->data_seen[i] < BODY_CAP ? f->data_seen[i] : BODY_CAP;
  CHECK(out.body != NULL && out.body_len == want && out.body[out.body_len] == '\0');
  CHECK(out.body_truncated == (f->data_seen[i] > BODY_CAP));
  uint64_t sum = 0;
  for (size_t k = 0; k < out.body_len; k++)
    sum = sum * 31 + out.body[k];
  CHECK(sum == f->data_sum[i]);
  CHECK(out.detail != NULL && out.detail[0] == '\0');
  if (sg_fuzz_verbose())
    fprintf(stderr, "h2_client: stream %d status %d complete %d headers %zu body %zu%s fail %d\n",
            2 * i + 1, out.status, r->resp_complete, out.n_headers, out.body_len,
            out.body_truncated ? " truncated" : "", r->fail_err);
}

static int on_stream_close_cb(nghttp2_session *s, int32_t sid, uint32_t error_code, void *ud) {
  (void)error_code;
  fz *f = ud;
  sg_h2_req *r = stream_req(s, f, sid);
  if (!r)
    return 0;
  int i = req_index(f, r);
  CHECK(!f->closed[i]);
  check_response(f, i);
  f->closed[i] = true;
  r->state = SG_H2_REQ_IDLE;
  return 0;
}

static void drain(nghttp2_session *ng, fz *f) {
  for (int round = 0; round < MAX_SEND_ROUNDS; round++) {
    const uint8_t *p;
    sg_ng_ssize n = sg_ng_mem_send(ng, &p);
    if (n <= 0)
      return;
    f->sent += (size_t)n;
  }
}

static void submit(nghttp2_session *ng, fz *f, int i, const char *method, const char *path,
                   const sg_http_header *hdrs, size_t n_hdrs, const uint8_t *body,
                   size_t body_len) {
  sg_h2_req *r = &f->req[i];
  sg_h2_request in;
  memset(&in, 0, sizeof in);
  in.method = method;
  in.path = path;
  in.headers = hdrs;
  in.n_headers = n_hdrs;
  in.body = body;
  in.body_len = body_len;
  CHECK(sg_h2_req_build(r, &in, "https", "graph.example.test") == 0);
  sg_ng_data_provider prd, *pp = NULL;
  if (body_len > 0) {
    memset(&prd, 0, sizeof prd);
    prd.source.ptr = r;
    prd.read_callback = read_body_cb;
    pp = &prd;
  }
  sg_h2_req_reset_response(r);
  int32_t sid = sg_ng_submit_request(ng, NULL, sg_h2_req_nv(r), r->n_nv, pp, r);
  CHECK(sid == 2 * i + 1);
  r->stream_id = sid;
  r->state = SG_H2_REQ_ACTIVE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static nghttp2_session_callbacks *cbs;
  static nghttp2_option *opt;
  if (cbs == NULL) {
    CHECK(nghttp2_session_callbacks_new(&cbs) == 0);
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header_cb);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk_cb);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv_cb);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close_cb);
    sg_ng_callbacks_set_send_data(cbs, send_data_cb);
    CHECK(nghttp2_option_new(&opt) == 0);
    nghttp2_option_set_peer_max_concurrent_streams(opt, 100);
    memset(big_body, 'b', sizeof big_body);
  }
  fz f;
  memset(&f, 0, sizeof f);
  for (int i = 0; i < N_REQ; i++)
    sg_h2_req_init(&f.req[i]);

  nghttp2_session *ng = NULL;
  CHECK(nghttp2_session_client_new2(&ng, cbs, &f, opt) == 0);
  nghttp2_settings_entry iv[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1u << 20},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
       SG_H2_MAX_RESP_HEADER_BYTES + 32 * SG_H2_MAX_RESP_HEADERS},
  };
  CHECK(nghttp2_submit_settings(ng, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]) == 0);
  CHECK(nghttp2_session_set_local_window_size(ng, NGHTTP2_FLAG_NONE, 0, 16 << 20) == 0);

  static const sg_http_header post_hdrs[] = {
      {"Authorization", 13, "Bearer abc", 10},
      {"Content-Type", 12, "application/json", 16},
  };
  static const uint8_t small_body[] = "{\"message\":{}}";
  submit(ng, &f, 0, "GET", "/v1.0/users/a@b.example/messages", NULL, 0, NULL, 0);
  submit(ng, &f, 1, "POST", "/v1.0/users/a@b.example/sendMail", post_hdrs, 2, small_body,
         sizeof small_body - 1);
  submit(ng, &f, 2, "POST", "/emails:send?api-version=2023-03-31", post_hdrs + 1, 1, big_body,
         sizeof big_body);
  drain(ng, &f);

  sg_ng_ssize rv = sg_ng_mem_recv(ng, data, size);
  CHECK(rv < 0 || (size_t)rv == size);
  drain(ng, &f);

  for (int i = 0; i < N_REQ; i++)
    if (!f.closed[i])
      check_response(&f, i);
  nghttp2_session_del(ng);
  for (int i = 0; i < N_REQ; i++)
    sg_h2_req_release(&f.req[i]);
  return 0;
}
