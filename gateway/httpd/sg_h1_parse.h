/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A pure HTTP/1.1 request parser: the request head (request line + header
 * fields) and the chunked transfer coding of request bodies. It touches no
 * socket and no clock, so it is tested byte boundary by byte boundary.
 *
 * It is deliberately strict (RFC 9112 with the smuggling rules of section 6.3):
 * lines end in CRLF (a bare CR or LF is an error), no obs-fold, no whitespace
 * before the colon, no control characters in values, Transfer-Encoding only as
 * exactly "chunked" and never together with Content-Length, one Content-Length
 * value, one Host (required for HTTP/1.1), origin-form or "*" targets only.
 * It does not parse responses and does not decode the target.
 */
#ifndef SG_H1_PARSE_H
#define SG_H1_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sg_http.h"
#include "core/sg_mem.h"

/* Header fields per request; more is answered like an oversized head (431). */
#define SG_H1_MAX_HEADERS 100

typedef struct sg_h1_head {
  const char *method;
  size_t method_len;
  const char *target; /* origin-form path with query, or "*" */
  size_t target_len;
  int minor;                                 /* HTTP/1.<minor>: 0 or 1 */
  sg_http_header headers[SG_H1_MAX_HEADERS]; /* names lower-cased in place */
  size_t nheaders;
  const char *host; /* value of Host, NULL when absent (HTTP/1.0 only) */
  size_t host_len;
  bool chunked;    /* Transfer-Encoding: chunked */
  bool has_length; /* Content-Length present */
  uint64_t content_length;
  bool keep_alive;      /* per version and Connection */
  bool expect_continue; /* Expect: 100-continue */
} sg_h1_head;

/*
 * Scan state kept between calls while a head arrives in pieces, so that the
 * search for its end is linear in the bytes received. Zero it (or call
 * sg_h1_head_reset) before each new request.
 */
typedef struct sg_h1_scan {
  size_t scanned;
} sg_h1_scan;

static inline void sg_h1_head_reset(sg_h1_scan *s) {
  s->scanned = 0;
}

/*
 * Parses the request head at the start of |p| (|n| bytes buffered so far).
 * Header names are lower-cased in place; the pointers in |h| point into |p|
 * and stay valid as long as those bytes do. Empty lines before the request
 * line are skipped (RFC 9112 2.2) and counted in |*head_len|.
 * Returns 0 with the head length (up to and including the empty line) in
 * |*head_len|, or one of:
 *   SG_ERR_AGAIN  the head is incomplete; call again with more bytes;
 *   SG_ERR_TOOBIG the head exceeds |max_head| bytes or SG_H1_MAX_HEADERS;
 *   SG_ERR_PARSE  the head is malformed or uses a feature we reject.
 */
int sg_h1_parse_head(char *p, size_t n, size_t max_head, sg_h1_scan *scan, sg_h1_head *h,
                     size_t *head_len);

/* State of a chunked body decoder; zero it (sg_h1_chunked_init) per body. */
typedef struct sg_h1_chunked {
  int state;
  uint64_t left;   /* bytes left in the current chunk, or the size being read */
  size_t line;     /* bytes in the current size-extension or trailer line */
  size_t trailers; /* bytes of trailer section so far */
  int digits;
} sg_h1_chunked;

void sg_h1_chunked_init(sg_h1_chunked *d);

/*
 * Decodes chunked body bytes p[0..n), appending the data to |body|, which is
 * never grown past |max_body| bytes. Trailer fields are checked for shape and
 * skipped. |*used| receives how many bytes of |p| were consumed.
 * Returns 1 when the body ended (|*used| may be < n: the rest belongs to the
 * next request), 0 when all of |p| was consumed and more is needed, or one of:
 *   SG_ERR_TOOBIG the body would exceed |max_body|, or a line is too long;
 *   SG_ERR_PARSE  malformed chunk framing.
 */
int sg_h1_chunked_feed(sg_h1_chunked *d, const char *p, size_t n, size_t *used, sg_buf *body,
                       size_t max_body);

/* Standard reason phrase for |status| ("OK", "Not Found"), "" when unknown. */
const char *sg_h1_reason(int status);

#endif
