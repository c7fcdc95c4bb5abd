/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A pure HTTP/1.1 response parser for the one-shot client (net/sg_h1_get):
 * status line, header fields, and a body delimited by Content-Length, the
 * chunked coding, or the end of the connection. It parses a whole buffered
 * response at once (the client keeps at most SG_H1_RESP_MAX bytes), touches
 * no socket, and is strict where a lax parser would be exploitable: CRLF line
 * ends, no obs-fold, one Content-Length, never together with chunked.
 */
#ifndef SG_H1_RESP_H
#define SG_H1_RESP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/sg_http.h"
#include "core/sg_mem.h"

#define SG_H1_RESP_MAX (64u * 1024u)
#define SG_H1_RESP_MAX_HEADERS 64

typedef struct sg_h1_resp {
  int status;
  sg_http_header headers[SG_H1_RESP_MAX_HEADERS]; /* point into the buffer */
  size_t nheaders;
  sg_buf body; /* owned (dechunked when chunked); free with sg_h1_resp_free */
} sg_h1_resp;

/*
 * Parses the response in |p| (|n| bytes; |eof|: the connection has ended, so
 * a body without a length ends here). Header names are lower-cased in place.
 * Returns 0 (complete: |out| filled), SG_ERR_AGAIN (need more bytes), or
 * SG_ERR_PARSE (malformed, or ended early).
 */
int sg_h1_resp_parse(char *p, size_t n, bool eof, sg_h1_resp *out);
void sg_h1_resp_free(sg_h1_resp *r);

#endif
