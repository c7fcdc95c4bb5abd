/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/1.1 request head and chunked body parsing; see sg_h1_parse.h. Pure:
 * no I/O, no allocation except appending decoded body bytes to the caller's
 * buffer.
 */
#include "httpd/sg_h1_parse.h"

#include <string.h>
#include <strings.h>

#include "core/sg_err.h"

/* Longest chunk-size line (size + extensions) and trailer section we accept. */
#define CHUNK_LINE_MAX 4096
#define TRAILERS_MAX 65536

static bool is_tchar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
    return true;
  return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* field-vchar, SP, HTAB and obs-text; no other control characters, no DEL. */
static bool is_value_char(unsigned char c) {
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool eq_ci(const char *a, size_t alen, const char *lit) {
  size_t n = strlen(lit);
  return alen == n && strncasecmp(a, lit, n) == 0;
}

/*
 * Finds the end of the head from |scan->scanned| on. Returns the offset just
 * past "\r\n\r\n", 0 when not found yet, or SG_ERR_PARSE on a bare CR or LF.
 */
static long find_end(const char *p, size_t n, size_t start, sg_h1_scan *scan) {
  size_t i = scan->scanned;
  for (; i < n; i++) {
    char c = p[i];
    if (c == '\n') {
      if (i == 0 || p[i - 1] != '\r')
        return SG_ERR_PARSE;
      if (i >= start + 3 && p[i - 2] == '\n' && p[i - 3] == '\r') {
        scan->scanned = i + 1;
        return (long)(i + 1);
      }
    } else if (i > 0 && p[i - 1] == '\r') {
      return SG_ERR_PARSE; /* CR not followed by LF */
    }
  }
  /* Re-check the last byte next time (it may be a CR awaiting its LF). */
  scan->scanned = n > 0 ? n - 1 : 0;
  if (scan->scanned < start)
    scan->scanned = start;
  return 0;
}

static int parse_request_line(char *p, char *end, sg_h1_head *h, char **next) {
  char *q = p;
  while (q < end && is_tchar((unsigned char)*q))
    q++;
  if (q == p || q >= end || *q != ' ')
    return SG_ERR_PARSE;
  h->method = p;
  h->method_len = (size_t)(q - p);
  p = ++q;
  while (q < end && (unsigned char)*q > 0x20 && (unsigned char)*q < 0x7f)
    q++;
  if (q == p || q >= end || *q != ' ')
    return SG_ERR_PARSE;
  h->target = p;
  h->target_len = (size_t)(q - p);
  if (h->target[0] != '/' && !(h->target_len == 1 && h->target[0] == '*'))
    return SG_ERR_PARSE;
  if (h->target[0] == '*' && !eq_ci(h->method, h->method_len, "OPTIONS"))
    return SG_ERR_PARSE;
  p = ++q;
  if (end - p < 10 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') ||
      p[8] != '\r' || p[9] != '\n')
    return SG_ERR_PARSE;
  h->minor = p[7] - '0';
  *next = p + 10;
  return 0;
}

static int parse_length(const char *v, size_t n, uint64_t *out) {
  if (n == 0 || n > 18)
    return SG_ERR_PARSE;
  uint64_t x = 0;
  for (size_t i = 0; i < n; i++) {
    if (v[i] < '0' || v[i] > '9')
      return SG_ERR_PARSE;
    x = x * 10 + (uint64_t)(v[i] - '0');
  }
  *out = x;
  return 0;
}

/* Applies the semantics of one header field to |h|. */
static int apply_field(sg_h1_head *h, const sg_http_header *f, bool *conn_close, bool *conn_ka) {
  const char *v = f->value;
  size_t vn = f->value_len;
  if (eq_ci(f->name, f->name_len, "content-length")) {
    uint64_t len;
    if (parse_length(v, vn, &len) != 0 || (h->has_length && len != h->content_length))
      return SG_ERR_PARSE;
    h->has_length = true;
    h->content_length = len;
  } else if (eq_ci(f->name, f->name_len, "transfer-encoding")) {
    if (h->chunked || !eq_ci(v, vn, "chunked"))
      return SG_ERR_PARSE;
    h->chunked = true;
  } else if (eq_ci(f->name, f->name_len, "host")) {
    if (h->host)
      return SG_ERR_PARSE;
    h->host = v;
    h->host_len = vn;
  } else if (eq_ci(f->name, f->name_len, "expect")) {
    if (eq_ci(v, vn, "100-continue"))
      h->expect_continue = true;
  } else if (eq_ci(f->name, f->name_len, "connection")) {
    size_t i = 0;
    while (i < vn) {
      while (i < vn && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
        i++;
      size_t s = i;
      while (i < vn && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
        i++;
      if (eq_ci(v + s, i - s, "close"))
        *conn_close = true;
      else if (eq_ci(v + s, i - s, "keep-alive"))
        *conn_ka = true;
    }
  }
  return 0;
}

static int parse_field(char *p, char *end, sg_http_header *f, char **next) {
  char *q = p;
  while (q < end && is_tchar((unsigned char)*q)) {
    if (*q >= 'A' && *q <= 'Z')
      *q = (char)(*q - 'A' + 'a');
    q++;
  }
  if (q == p || q >= end || *q != ':')
    return SG_ERR_PARSE; /* also rejects obs-fold and space before the colon */
  f->name = p;
  f->name_len = (size_t)(q - p);
  q++;
  while (q < end && (*q == ' ' || *q == '\t'))
    q++;
  char *v = q;
  while (q < end && *q != '\r') {
    if (!is_value_char((unsigned char)*q))
      return SG_ERR_PARSE;
    q++;
  }
  if (end - q < 2 || q[1] != '\n')
    return SG_ERR_PARSE;
  char *ve = q;
  while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
    ve--;
  f->value = v;
  f->value_len = (size_t)(ve - v);
  *next = q + 2;
  return 0;
}

int sg_h1_parse_head(char *p, size_t n, size_t max_head, sg_h1_scan *scan, sg_h1_head *h,
                     size_t *head_len) {
  size_t start = 0;
  while (start + 1 < n && p[start] == '\r' && p[start + 1] == '\n')
    start += 2;
  if (start + 1 == n && p[start] == '\r')
    return SG_ERR_AGAIN;
  if (scan->scanned < start)
    scan->scanned = start;
  long end_off = find_end(p, n, start, scan);
  if (end_off < 0)
    return (int)end_off;
  if (end_off == 0)
    return n >= max_head ? SG_ERR_TOOBIG : SG_ERR_AGAIN;
  if ((size_t)end_off > max_head)
    return SG_ERR_TOOBIG;

  memset(h, 0, sizeof *h);
  char *end = p + end_off - 2; /* the final empty line's CRLF */
  char *cur;
  int rv = parse_request_line(p + start, end, h, &cur);
  if (rv != 0)
    return rv;
  bool conn_close = false, conn_ka = false;
  while (cur < end) {
    if (h->nheaders == SG_H1_MAX_HEADERS)
      return SG_ERR_TOOBIG;
    sg_http_header *f = &h->headers[h->nheaders];
    rv = parse_field(cur, end, f, &cur);
    if (rv != 0)
      return rv;
    h->nheaders++;
    rv = apply_field(h, f, &conn_close, &conn_ka);
    if (rv != 0)
      return rv;
  }
  if (h->chunked && (h->has_length || h->minor == 0))
    return SG_ERR_PARSE;
  if (h->minor == 1 && h->host == NULL)
    return SG_ERR_PARSE;
  h->keep_alive = h->minor == 1 ? !conn_close : (conn_ka && !conn_close);
  *head_len = (size_t)end_off;
  return 0;
}

enum {
  CK_SIZE,
  CK_EXT,
  CK_SIZE_LF,
  CK_DATA,
  CK_DATA_CR,
  CK_DATA_LF,
  CK_TRAILER_START,
  CK_TRAILER_NAME,
  CK_TRAILER,
  CK_TRAILER_LF,
  CK_END_LF,
  CK_DONE
};

void sg_h1_chunked_init(sg_h1_chunked *d) {
  memset(d, 0, sizeof *d);
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* One byte of the framing (everything except chunk data). */
static int framing_byte(sg_h1_chunked *d, char c, const sg_buf *body, size_t max_body) {
  switch (d->state) {
  case CK_SIZE: {
    int v = hexval(c);
    if (v >= 0) {
      if (++d->digits > 15) /* 15 hex digits cannot overflow 64 bits */
        return SG_ERR_PARSE;
      d->left = d->left * 16 + (uint64_t)v;
      return 0;
    }
    if (d->digits == 0)
      return SG_ERR_PARSE;
    if (c == ';' || c == ' ' || c == '\t') {
      d->state = CK_EXT;
      d->line = d->digits;
      return 0;
    }
    if (c != '\r')
      return SG_ERR_PARSE;
    d->state = CK_SIZE_LF;
    return 0;
  }
  case CK_EXT:
    if (++d->line > CHUNK_LINE_MAX)
      return SG_ERR_TOOBIG;
    if (c == '\r')
      d->state = CK_SIZE_LF;
    else if (c == '\n' || !is_value_char((unsigned char)c))
      return SG_ERR_PARSE;
    return 0;
  case CK_SIZE_LF:
    if (c != '\n')
      return SG_ERR_PARSE;
    if (d->left == 0) {
      d->state = CK_TRAILER_START;
      return 0;
    }
    if (d->left > max_body || body->len + d->left > max_body)
      return SG_ERR_TOOBIG;
    d->state = CK_DATA;
    return 0;
  case CK_DATA_CR:
    if (c != '\r')
      return SG_ERR_PARSE;
    d->state = CK_DATA_LF;
    return 0;
  case CK_DATA_LF:
    if (c != '\n')
      return SG_ERR_PARSE;
    d->state = CK_SIZE;
    d->left = 0;
    d->digits = 0;
    return 0;
  case CK_TRAILER_START:
    if (c == '\r') {
      d->state = CK_END_LF;
      return 0;
    }
    if (!is_tchar((unsigned char)c))
      return SG_ERR_PARSE;
    d->state = CK_TRAILER_NAME;
    d->line = 1;
    break;
  case CK_TRAILER_NAME:
    if (c == ':')
      d->state = CK_TRAILER;
    else if (!is_tchar((unsigned char)c))
      return SG_ERR_PARSE;
    else if (++d->line > CHUNK_LINE_MAX)
      return SG_ERR_TOOBIG;
    break;
  case CK_TRAILER:
    if (c == '\r')
      d->state = CK_TRAILER_LF;
    else if (c == '\n' || !is_value_char((unsigned char)c))
      return SG_ERR_PARSE;
    else if (++d->line > CHUNK_LINE_MAX)
      return SG_ERR_TOOBIG;
    break;
  case CK_TRAILER_LF:
    if (c != '\n')
      return SG_ERR_PARSE;
    d->state = CK_TRAILER_START;
    break;
  case CK_END_LF:
    if (c != '\n')
      return SG_ERR_PARSE;
    d->state = CK_DONE;
    return 0;
  default:
    return SG_ERR_PARSE;
  }
  if (++d->trailers > TRAILERS_MAX)
    return SG_ERR_TOOBIG;
  return 0;
}

int sg_h1_chunked_feed(sg_h1_chunked *d, const char *p, size_t n, size_t *used, sg_buf *body,
                       size_t max_body) {
  size_t i = 0;
  while (i < n) {
    if (d->state == CK_DATA) {
      size_t take = n - i;
      if (take > d->left)
        take = (size_t)d->left;
      sg_buf_append(body, p + i, take);
      i += take;
      d->left -= take;
      if (d->left == 0)
        d->state = CK_DATA_CR;
      continue;
    }
    int rv = framing_byte(d, p[i], body, max_body);
    i++;
    if (rv != 0) {
      *used = i;
      return rv;
    }
    if (d->state == CK_DONE) {
      *used = i;
      return 1;
    }
  }
  *used = i;
  return 0;
}

const char *sg_h1_reason(int status) {
  switch (status) {
  case 100:
    return "Continue";
  case 200:
    return "OK";
  case 201:
    return "Created";
  case 202:
    return "Accepted";
  case 204:
    return "No Content";
  case 301:
    return "Moved Permanently";
  case 302:
    return "Found";
  case 304:
    return "Not Modified";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 408:
    return "Request Timeout";
  case 409:
    return "Conflict";
  case 411:
    return "Length Required";
  case 413:
    return "Content Too Large";
  case 415:
    return "Unsupported Media Type";
  case 422:
    return "Unprocessable Content";
  case 429:
    return "Too Many Requests";
  case 431:
    return "Request Header Fields Too Large";
  case 500:
    return "Internal Server Error";
  case 501:
    return "Not Implemented";
  case 502:
    return "Bad Gateway";
  case 503:
    return "Service Unavailable";
  case 504:
    return "Gateway Timeout";
  case 505:
    return "HTTP Version Not Supported";
  default:
    return "";
  }
}
