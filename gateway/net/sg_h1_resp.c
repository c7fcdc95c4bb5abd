/* SPDX-License-Identifier: Apache-2.0 */
#include "net/sg_h1_resp.h"

#include "core/sg_err.h"

#include <ctype.h>
#include <string.h>

/* The end of the line starting at |p| (the CR of its CRLF), or NULL. */
static char *line_end(char *p, char *end) {
  for (char *q = p; q + 1 < end; q++) {
    if (q[0] == '\r')
      return q[1] == '\n' ? q : NULL;
    if (q[0] == '\n')
      return NULL;
  }
  return end; /* incomplete: the caller tells by comparing with |end| */
}

static bool parse_uint(const char *s, size_t n, int base, size_t *out) {
  if (n == 0 || n > 15)
    return false;
  size_t v = 0;
  for (size_t i = 0; i < n; i++) {
    int d;
    if (s[i] >= '0' && s[i] <= '9')
      d = s[i] - '0';
    else if (base == 16 && isxdigit((unsigned char)s[i]))
      d = tolower((unsigned char)s[i]) - 'a' + 10;
    else
      return false;
    v = v * (size_t)base + (size_t)d;
  }
  *out = v;
  return true;
}

/* Decodes the chunked body at |p| into |out|; 0, SG_ERR_AGAIN or SG_ERR_PARSE. */
static int dechunk(char *p, char *end, sg_buf *out) {
  for (;;) {
    char *le = line_end(p, end);
    if (le == NULL)
      return SG_ERR_PARSE;
    if (le == end)
      return SG_ERR_AGAIN;
    size_t n = (size_t)(le - p);
    const char *semi = memchr(p, ';', n);
    size_t size;
    if (!parse_uint(p, semi ? (size_t)(semi - p) : n, 16, &size))
      return SG_ERR_PARSE;
    p = le + 2;
    if (size == 0) {
      /* Trailer fields (ignored) up to the empty line. */
      for (;;) {
        le = line_end(p, end);
        if (le == NULL)
          return SG_ERR_PARSE;
        if (le == end)
          return SG_ERR_AGAIN;
        bool empty = le == p;
        p = le + 2;
        if (empty)
          return 0;
      }
    }
    if ((size_t)(end - p) < size + 2)
      return SG_ERR_AGAIN;
    if (p[size] != '\r' || p[size + 1] != '\n')
      return SG_ERR_PARSE;
    sg_buf_append(out, p, size);
    p += size + 2;
  }
}

int sg_h1_resp_parse(char *p, size_t n, bool eof, sg_h1_resp *out) {
  memset(out, 0, sizeof *out);
  char *end = p + n;
  char *le = line_end(p, end);
  if (le == NULL)
    return SG_ERR_PARSE;
  if (le == end)
    return eof ? SG_ERR_PARSE : SG_ERR_AGAIN;
  /* HTTP/1.x SP 3DIGIT SP reason */
  if (le - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') || p[8] != ' ' ||
      !isdigit((unsigned char)p[9]) || !isdigit((unsigned char)p[10]) ||
      !isdigit((unsigned char)p[11]) || (le - p > 12 && p[12] != ' '))
    return SG_ERR_PARSE;
  out->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
  if (out->status < 100)
    return SG_ERR_PARSE;
  bool chunked = false, has_len = false;
  size_t clen = 0;
  char *q = le + 2;
  for (;;) {
    le = line_end(q, end);
    if (le == NULL)
      return SG_ERR_PARSE;
    if (le == end)
      return eof ? SG_ERR_PARSE : SG_ERR_AGAIN;
    if (le == q)
      break;
    char *colon = memchr(q, ':', (size_t)(le - q));
    if (colon == NULL || colon == q || q[0] == ' ' || q[0] == '\t' || colon[-1] == ' ')
      return SG_ERR_PARSE;
    for (char *c = q; c < colon; c++) {
      if (!isgraph((unsigned char)*c))
        return SG_ERR_PARSE;
      *c = (char)tolower((unsigned char)*c);
    }
    char *v = colon + 1, *ve = le;
    while (v < ve && (*v == ' ' || *v == '\t'))
      v++;
    while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
      ve--;
    for (char *c = v; c < ve; c++)
      if ((unsigned char)*c < 0x20 && *c != '\t')
        return SG_ERR_PARSE;
    if (out->nheaders == SG_H1_RESP_MAX_HEADERS)
      return SG_ERR_PARSE;
    sg_http_header *h = &out->headers[out->nheaders++];
    *h = (sg_http_header){q, (size_t)(colon - q), v, (size_t)(ve - v)};
    if (h->name_len == 14 && memcmp(q, "content-length", 14) == 0) {
      size_t l;
      if (has_len || !parse_uint(v, h->value_len, 10, &l))
        return SG_ERR_PARSE;
      has_len = true;
      clen = l;
    } else if (h->name_len == 17 && memcmp(q, "transfer-encoding", 17) == 0) {
      if (h->value_len != 7 || strncasecmp(v, "chunked", 7) != 0)
        return SG_ERR_PARSE;
      chunked = true;
    }
    q = le + 2;
  }
  if (chunked && has_len)
    return SG_ERR_PARSE;
  char *body = q + 2;
  size_t avail = (size_t)(end - body);
  int rv = 0;
  if (out->status == 204 || out->status == 304 || out->status < 200) {
    /* no body */
  } else if (chunked) {
    rv = dechunk(body, end, &out->body);
  } else if (has_len) {
    if (avail < clen)
      rv = SG_ERR_AGAIN;
    else
      sg_buf_append(&out->body, body, clen);
  } else if (!eof) {
    rv = SG_ERR_AGAIN;
  } else {
    sg_buf_append(&out->body, body, avail);
  }
  if (rv == SG_ERR_AGAIN && eof)
    rv = SG_ERR_PARSE;
  if (rv != 0)
    sg_h1_resp_free(out);
  return rv;
}

void sg_h1_resp_free(sg_h1_resp *r) {
  sg_buf_free(&r->body);
  r->nheaders = 0;
}
