/* SPDX-License-Identifier: Apache-2.0 */
#include "redis/sg_resp.h"

#include <string.h>

#include "core/sg_fmt.h"

static size_t dec_len(uint64_t v) {
  size_t n = 1;
  while (v >= 10) {
    v /= 10;
    n++;
  }
  return n;
}

size_t sg_resp_bulk_size(size_t n) {
  return 1 + dec_len(n) + 2 + n + 2;
}

static void put_header(sg_buf *b, char type, uint64_t n) {
  sg_buf_reserve(b, 1 + dec_len(n) + 2);
  char *p = b->data + b->len;
  *p++ = type;
  p += sg_fmt_u64(p, n);
  *p++ = '\r';
  *p++ = '\n';
  *p = '\0';
  b->len = (size_t)(p - b->data);
}

void sg_resp_array(sg_buf *b, size_t n) {
  put_header(b, '*', n);
}

void sg_resp_bulk(sg_buf *b, const void *p, size_t n) {
  sg_buf_reserve(b, sg_resp_bulk_size(n));
  put_header(b, '$', n);
  if (n)
    memcpy(b->data + b->len, p, n);
  b->data[b->len + n] = '\r';
  b->data[b->len + n + 1] = '\n';
  b->len += n + 2;
  b->data[b->len] = '\0';
}

void sg_resp_bulk_u64(sg_buf *b, uint64_t v) {
  char d[SG_FMT_U64_MAX];
  size_t n = sg_fmt_u64(d, v);
  sg_resp_bulk(b, d, n);
}
