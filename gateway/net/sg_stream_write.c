/* SPDX-License-Identifier: Apache-2.0 */
/* See sg_stream_write.h. */
#include "net/sg_stream_write.h"

int sg_stream_write(uv_stream_t *s, uv_write_t *req, uv_write_cb cb, sg_buf *out, sg_buf *inflight,
                    size_t *inflight_done, size_t retain_cap) {
  uv_buf_t b = uv_buf_init(out->data, (unsigned int)out->len);
  int n = uv_try_write(s, &b, 1);
  if (n < 0 && n != UV_EAGAIN)
    return n;
  size_t done = n > 0 ? (size_t)n : 0;
  if (done == out->len) {
    if (out->cap > retain_cap)
      sg_buf_free(out);
    else
      sg_buf_reset(out);
    return 1;
  }
  b = uv_buf_init(out->data + done, (unsigned int)(out->len - done));
  int rv = uv_write(req, s, &b, 1, cb);
  if (rv < 0)
    return rv;
  sg_buf tmp = *inflight;
  *inflight = *out;
  *out = tmp;
  sg_buf_reset(out);
  *inflight_done = done;
  return 0;
}
