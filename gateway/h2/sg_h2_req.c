/* SPDX-License-Identifier: Apache-2.0 */
/* Request copy and response collection for the HTTP/2 pool; see sg_h2_req.h. */
#include "h2/sg_h2_req.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/sg_err.h"
#include "core/sg_fmt.h"

void sg_h2_req_init(sg_h2_req *r) {
  sg_list_node_init(&r->node);
  sg_list_node_init(&r->dnode);
  sg_buf_init(&r->strs);
  sg_buf_init(&r->nvmem);
  sg_buf_init(&r->hstrs);
  sg_buf_init(&r->hidx);
  sg_buf_init(&r->harr);
  sg_buf_init(&r->rbody);
}

void sg_h2_req_release(sg_h2_req *r) {
  sg_buf_free(&r->strs);
  sg_buf_free(&r->nvmem);
  sg_buf_free(&r->hstrs);
  sg_buf_free(&r->hidx);
  sg_buf_free(&r->harr);
  sg_buf_free(&r->rbody);
}

#if defined(__SSE2__)
/* A CR, LF or NUL among the 16 bytes at |p|. */
static bool block_ctl(const char *p) {
  __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
  __m128i m =
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\n')));
  return _mm_movemask_epi8(_mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_setzero_si128()))) != 0;
}
#endif

/* CR, LF or NUL anywhere in |p|. Long values (a production bearer token is
 * over a kilobyte) take three vectorized scans (memchr); the short ones, most
 * of a request's, one pass 16 bytes at a time (the last block overlapping the
 * one before, a value under 16 bytes copied into a padded block first). */
static bool has_ctl(const char *p, size_t n) {
  if (n >= 256)
    return memchr(p, '\r', n) || memchr(p, '\n', n) || memchr(p, '\0', n);
#if defined(__SSE2__)
  if (n == 0)
    return false;
  if (n < 16) {
    char pad[16];
    memset(pad, 'x', sizeof pad);
    memcpy(pad, p, n);
    return block_ctl(pad);
  }
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    if (block_ctl(p + i))
      return true;
  return i < n && block_ctl(p + n - 16);
#else
  for (size_t i = 0; i < n; i++)
    if (p[i] == '\r' || p[i] == '\n' || p[i] == '\0')
      return true;
  return false;
#endif
}

/* Values HPACK should not index: credentials (RFC 7541 §7.1.3) and ids that
 * are new on every request, which would only push useful entries out of the
 * dynamic table. */
static bool no_index(const char *name, size_t n) {
  static const struct {
    const char *name;
    size_t len;
  } never[] = {{"authorization", 13},
               {"client-request-id", 17},
               {"operation-id", 12},
               {"x-ms-content-sha256", 19},
               {"x-ms-date", 9}};
  for (size_t i = 0; i < SG_ARRAY_LEN(never); i++)
    if (never[i].len == n && memcmp(never[i].name, name, n) == 0)
      return true;
  return false;
}

static bool dropped_header(const char *name, size_t n) {
  static const struct {
    const char *name;
    size_t len;
  } drop[] = {{"connection", 10},        {"keep-alive", 10}, {"proxy-connection", 16},
              {"transfer-encoding", 17}, {"upgrade", 7},     {"host", 4}};
  for (size_t i = 0; i < SG_ARRAY_LEN(drop); i++)
    if (drop[i].len == n && strncasecmp(drop[i].name, name, n) == 0)
      return true;
  return false;
}

/* Offsets into r->strs while building; turned into pointers at the end. */
typedef struct nv_off {
  size_t name, nlen, value, vlen;
} nv_off;

/* Name and value, each NUL-terminated, written straight into |b| (names of
 * caller headers lower-cased: tolower in the C locale, A-Z only). */
static nv_off put_pair(sg_buf *b, const char *name, size_t nlen, const char *value, size_t vlen,
                       bool lower) {
  nv_off o = {b->len, nlen, b->len + nlen + 1, vlen};
  sg_buf_reserve(b, nlen + vlen + 2);
  char *d = b->data + b->len;
  if (lower) {
    for (size_t i = 0; i < nlen; i++) { /* no branch: 0x20 added to A-Z only */
      unsigned c = (unsigned char)name[i];
      d[i] = (char)(c | (unsigned)(c - 'A' < 26u) << 5);
    }
  } else if (nlen) {
    memcpy(d, name, nlen);
  }
  d[nlen] = '\0';
  if (vlen)
    memcpy(d + nlen + 1, value, vlen);
  d[nlen + 1 + vlen] = '\0';
  d[nlen + 2 + vlen] = '\0'; /* the buffer's own NUL after its length */
  b->len += nlen + vlen + 2;
  return o;
}

int sg_h2_req_build(sg_h2_req *r, const sg_h2_request *in, const char *scheme,
                    const char *default_authority) {
  if (!in || !in->method || !in->method[0] || !in->path || in->path[0] != '/')
    return SG_ERR_INVAL;
  for (const char *m = in->method; *m; m++)
    if (!isupper((unsigned char)*m) && *m != '-' && *m != '_')
      return SG_ERR_INVAL;
  const char *auth = in->authority && in->authority[0] ? in->authority : default_authority;
  size_t mlen = strlen(in->method), slen = strlen(scheme), alen = strlen(auth),
         plen = strlen(in->path);
  if (has_ctl(in->path, plen) || has_ctl(auth, alen))
    return SG_ERR_INVAL;
  if (in->n_headers && !in->headers)
    return SG_ERR_INVAL;
  bool have_cl = false;
  for (size_t i = 0; i < in->n_headers; i++) {
    const sg_http_header *h = &in->headers[i];
    if (!h->name || h->name_len == 0 || (h->value_len && !h->value) || h->name[0] == ':' ||
        has_ctl(h->name, h->name_len) || has_ctl(h->value, h->value_len))
      return SG_ERR_INVAL;
    if (h->name_len == 14 && strncasecmp(h->name, "content-length", 14) == 0)
      have_cl = true;
  }
  if (in->body_len && !in->body)
    return SG_ERR_INVAL;

  size_t cap = 64 + mlen + slen + alen + plen;
  for (size_t i = 0; i < in->n_headers; i++)
    cap += in->headers[i].name_len + in->headers[i].value_len + 2;
  sg_buf_reset(&r->strs);
  sg_buf_reserve(&r->strs, cap);
  size_t max_nv = 5 + in->n_headers;
  nv_off offs_small[24];
  nv_off *offs =
      max_nv <= SG_ARRAY_LEN(offs_small) ? offs_small : sg_xmalloc(max_nv * sizeof(nv_off));
  size_t n = 0;
  offs[n++] = put_pair(&r->strs, ":method", 7, in->method, mlen, false);
  offs[n++] = put_pair(&r->strs, ":scheme", 7, scheme, slen, false);
  offs[n++] = put_pair(&r->strs, ":authority", 10, auth, alen, false);
  offs[n++] = put_pair(&r->strs, ":path", 5, in->path, plen, false);
  for (size_t i = 0; i < in->n_headers; i++) {
    const sg_http_header *h = &in->headers[i];
    if (dropped_header(h->name, h->name_len))
      continue;
    offs[n++] =
        put_pair(&r->strs, h->name, h->name_len, h->value ? h->value : "", h->value_len, true);
  }
  if (!have_cl && (in->body_len > 0 || strcmp(in->method, "POST") == 0 ||
                   strcmp(in->method, "PUT") == 0 || strcmp(in->method, "PATCH") == 0)) {
    char num[SG_FMT_U64_MAX];
    size_t k = sg_fmt_u64(num, in->body_len);
    offs[n++] = put_pair(&r->strs, "content-length", 14, num, k, false);
  }
  sg_buf_reset(&r->nvmem);
  sg_buf_reserve(&r->nvmem, n * sizeof(nghttp2_nv));
  nghttp2_nv *nv = (nghttp2_nv *)(void *)r->nvmem.data;
  for (size_t i = 0; i < n; i++) {
    nv[i].name = (uint8_t *)r->strs.data + offs[i].name;
    nv[i].namelen = offs[i].nlen;
    nv[i].value = (uint8_t *)r->strs.data + offs[i].value;
    nv[i].valuelen = offs[i].vlen;
    /* Our copies outlive the submit. */
    nv[i].flags = NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE;
    if (no_index(r->strs.data + offs[i].name, offs[i].nlen))
      nv[i].flags |= NGHTTP2_NV_FLAG_NO_INDEX;
  }
  r->nvmem.len = n * sizeof(nghttp2_nv);
  r->n_nv = n;
  if (offs != offs_small)
    sg_free(offs);
  r->body = in->body;
  r->body_len = in->body_len;
  r->body_off = 0;
  return 0;
}

void sg_h2_req_reset_response(sg_h2_req *r) {
  r->status = 0;
  r->resp_complete = false;
  r->truncated = false;
  r->fail_err = 0;
  r->n_hdrs = 0;
  sg_buf_reset(&r->hstrs);
  sg_buf_reset(&r->hidx);
  sg_buf_reset(&r->rbody);
  if (r->rbody.cap > 64 * 1024) /* do not keep a big body in a recycled object */
    sg_buf_free(&r->rbody);
}

static int parse_status(const uint8_t *v, size_t n) {
  if (n != 3)
    return -1;
  int s = 0;
  for (size_t i = 0; i < 3; i++) {
    if (v[i] < '0' || v[i] > '9')
      return -1;
    s = s * 10 + (v[i] - '0');
  }
  return s >= 100 ? s : -1;
}

int sg_h2_req_on_header(sg_h2_req *r, const uint8_t *name, size_t nlen, const uint8_t *value,
                        size_t vlen) {
  if (nlen > 0 && name[0] == ':') {
    if (nlen == 7 && memcmp(name, ":status", 7) == 0) {
      int s = parse_status(value, vlen);
      if (s < 0)
        return SG_ERR_PARSE;
      if (r->status >= 100 && r->status < 200) { /* final response after a 1xx */
        r->n_hdrs = 0;
        sg_buf_reset(&r->hstrs);
        sg_buf_reset(&r->hidx);
      }
      r->status = s;
    }
    return 0;
  }
  if (r->n_hdrs >= SG_H2_MAX_RESP_HEADERS ||
      r->hstrs.len + nlen + vlen + 2 > SG_H2_MAX_RESP_HEADER_BYTES)
    return SG_ERR_TOOBIG;
  /* Name and value with their NULs, written in place; their offsets indexed
   * (taken before the copy, not from put_pair's returned struct: reading that
   * back from the stack as one vector stalled on its separate stores). */
  size_t at = r->hstrs.len;
  uint32_t idx[4] = {(uint32_t)at, (uint32_t)nlen, (uint32_t)(at + nlen + 1), (uint32_t)vlen};
  put_pair(&r->hstrs, (const char *)name, nlen, (const char *)value, vlen, false);
  sg_buf_append(&r->hidx, idx, sizeof idx);
  r->n_hdrs++;
  return 0;
}

void sg_h2_req_on_data(sg_h2_req *r, const uint8_t *p, size_t n, size_t cap) {
  size_t room = r->rbody.len < cap ? cap - r->rbody.len : 0;
  if (n > room) {
    r->truncated = true;
    n = room;
  }
  if (n)
    sg_buf_append(&r->rbody, p, n);
}

void sg_h2_req_response(sg_h2_req *r, sg_h2_response *out, const char *detail) {
  memset(out, 0, sizeof *out);
  out->status = r->status >= 200 ? r->status : 0;
  sg_buf_reset(&r->harr);
  if (r->n_hdrs) {
    sg_buf_reserve(&r->harr, r->n_hdrs * sizeof(sg_http_header));
    sg_http_header *h = (sg_http_header *)(void *)r->harr.data;
    const uint32_t *idx = (const uint32_t *)(const void *)r->hidx.data;
    for (size_t i = 0; i < r->n_hdrs; i++) {
      h[i].name = r->hstrs.data + idx[4 * i];
      h[i].name_len = idx[4 * i + 1];
      h[i].value = r->hstrs.data + idx[4 * i + 2];
      h[i].value_len = idx[4 * i + 3];
    }
    out->headers = h;
    out->n_headers = r->n_hdrs;
  }
  out->body = r->rbody.data ? (const uint8_t *)r->rbody.data : (const uint8_t *)"";
  out->body_len = r->rbody.len;
  out->body_truncated = r->truncated;
  out->attempts = r->attempts;
  out->detail = detail ? detail : "";
}
