/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the admin server's HTTP/1.1 request parser
 * (httpd/sg_h1_parse.c): request heads and chunked request bodies.
 *
 * Input: one selector byte, then the bytes a client sends. The selector picks
 * where the head is split in two reads (the parser keeps scan state between
 * calls) and the piece size for the chunked body decoder.
 * Checked: the head parsed in two calls gives exactly what one call gives
 * (result, length, every field); a parsed head lies inside the input, within
 * the cap, with lower-case token names, values without CR/LF/NUL or edge
 * whitespace, never chunked together with Content-Length, HTTP/1.1 always with
 * a Host; the chunked decoder gives the same result, consumed length and body
 * whether fed at once, byte by byte or in pieces, and never grows the body past
 * its cap.
 */
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "fuzz_common.h"
#include "httpd/sg_h1_parse.h"

#define MAX_HEAD 2048u
#define MAX_BODY 1024u

typedef struct parsed {
  int rv;
  size_t head_len;
  sg_h1_head h;
} parsed;

static void parse_once(char *buf, size_t n, size_t split, parsed *out) {
  sg_h1_scan scan;
  sg_h1_head_reset(&scan);
  memset(out, 0, sizeof *out);
  if (split > 0 && split < n) {
    out->rv = sg_h1_parse_head(buf, split, MAX_HEAD, &scan, &out->h, &out->head_len);
    if (out->rv != SG_ERR_AGAIN)
      return;
  }
  out->rv = sg_h1_parse_head(buf, n, MAX_HEAD, &scan, &out->h, &out->head_len);
}

static size_t off(const char *base, const char *p) {
  return p ? (size_t)(p - base) : SIZE_MAX;
}

/* |a| parsed |abuf|, |b| parsed |bbuf| (the same bytes): same outcome. */
static void check_same(const parsed *a, const char *abuf, const parsed *b, const char *bbuf) {
  CHECK(a->rv == b->rv);
  if (a->rv != 0)
    return;
  CHECK(a->head_len == b->head_len);
  const sg_h1_head *x = &a->h, *y = &b->h;
  CHECK(off(abuf, x->method) == off(bbuf, y->method) && x->method_len == y->method_len);
  CHECK(off(abuf, x->target) == off(bbuf, y->target) && x->target_len == y->target_len);
  CHECK(off(abuf, x->host) == off(bbuf, y->host) && x->host_len == y->host_len);
  CHECK(x->minor == y->minor && x->nheaders == y->nheaders && x->chunked == y->chunked);
  CHECK(x->has_length == y->has_length && x->content_length == y->content_length);
  CHECK(x->keep_alive == y->keep_alive && x->expect_continue == y->expect_continue);
  for (size_t i = 0; i < x->nheaders; i++) {
    CHECK(off(abuf, x->headers[i].name) == off(bbuf, y->headers[i].name));
    CHECK(off(abuf, x->headers[i].value) == off(bbuf, y->headers[i].value));
    CHECK(x->headers[i].name_len == y->headers[i].name_len);
    CHECK(x->headers[i].value_len == y->headers[i].value_len);
  }
}

static bool inside(const char *buf, size_t n, const char *p, size_t len) {
  return p >= buf && p <= buf + n && len <= (size_t)(buf + n - p);
}

static void check_head(const char *buf, const parsed *ps) {
  CHECK(ps->rv == 0 || ps->rv == SG_ERR_AGAIN || ps->rv == SG_ERR_TOOBIG || ps->rv == SG_ERR_PARSE);
  if (ps->rv != 0)
    return;
  const sg_h1_head *h = &ps->h;
  size_t n = ps->head_len;
  CHECK(n >= 4 && n <= MAX_HEAD && memcmp(buf + n - 4, "\r\n\r\n", 4) == 0);
  CHECK(h->method_len > 0 && inside(buf, n, h->method, h->method_len));
  CHECK(h->target_len > 0 && inside(buf, n, h->target, h->target_len));
  CHECK(h->target[0] == '/' || (h->target_len == 1 && h->target[0] == '*'));
  CHECK(h->minor == 0 || h->minor == 1);
  CHECK(h->nheaders <= SG_H1_MAX_HEADERS);
  CHECK(!(h->chunked && h->has_length));
  CHECK(!h->chunked || h->minor == 1);
  CHECK(h->minor == 0 || h->host != NULL);
  if (h->host)
    CHECK(inside(buf, n, h->host, h->host_len));
  for (size_t i = 0; i < h->nheaders; i++) {
    const sg_http_header *f = &h->headers[i];
    CHECK(f->name_len > 0 && inside(buf, n, f->name, f->name_len));
    CHECK(inside(buf, n, f->value, f->value_len));
    for (size_t k = 0; k < f->name_len; k++)
      CHECK(f->name[k] > ' ' && f->name[k] != ':' && !(f->name[k] >= 'A' && f->name[k] <= 'Z'));
    for (size_t k = 0; k < f->value_len; k++)
      CHECK(f->value[k] != '\r' && f->value[k] != '\n' && f->value[k] != '\0');
    if (f->value_len > 0) {
      CHECK(f->value[0] != ' ' && f->value[0] != '\t');
      CHECK(f->value[f->value_len - 1] != ' ' && f->value[f->value_len - 1] != '\t');
    }
  }
}

typedef struct dechunked {
  int rv;
  size_t used;
  sg_buf body;
} dechunked;

/* Feeds p[0..n) in pieces of |step| bytes (0: all at once). */
static void dechunk(const char *p, size_t n, size_t step, dechunked *out) {
  sg_h1_chunked d;
  sg_h1_chunked_init(&d);
  sg_buf_init(&out->body);
  out->rv = 0;
  out->used = 0;
  size_t pos = 0;
  do {
    size_t len = step == 0 || n - pos < step ? n - pos : step;
    size_t used = 0;
    out->rv = sg_h1_chunked_feed(&d, p + pos, len, &used, &out->body, MAX_BODY);
    CHECK(out->body.len <= MAX_BODY);
    if (out->rv < 0)
      return; /* |used| is not defined on errors */
    CHECK(used <= len);
    CHECK(out->rv == 1 || used == len);
    pos += used;
    out->used = pos;
  } while (out->rv == 0 && pos < n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  size_t sel = data[0];
  const char *in = (const char *)data + 1;
  size_t n = size - 1;

  char *one = sg_xmalloc(n + 1), *two = sg_xmalloc(n + 1);
  memcpy(one, in, n);
  memcpy(two, in, n);
  parsed a, b;
  parse_once(one, n, 0, &a);
  parse_once(two, n, n ? sel % (n + 1) : 0, &b);
  check_head(one, &a);
  check_same(&a, one, &b, two);
  if (sg_fuzz_verbose())
    fprintf(stderr, "h1_parse: head %d len %zu\n", a.rv, a.head_len);

  /* The body decoder on what follows the head (or on everything). */
  size_t body_at = a.rv == 0 && a.h.chunked ? a.head_len : 0;
  const char *body = in + body_at;
  size_t body_n = n - body_at;
  dechunked all, bytewise, pieces;
  dechunk(body, body_n, 0, &all);
  dechunk(body, body_n, 1, &bytewise);
  dechunk(body, body_n, 1 + sel % 7, &pieces);
  const dechunked *alt[] = {&bytewise, &pieces};
  for (size_t i = 0; i < 2; i++) {
    CHECK(alt[i]->rv == all.rv);
    if (all.rv >= 0) {
      CHECK(alt[i]->used == all.used && alt[i]->body.len == all.body.len);
      CHECK(all.body.len == 0 || memcmp(alt[i]->body.data, all.body.data, all.body.len) == 0);
    }
  }
  sg_buf_free(&all.body);
  sg_buf_free(&bytewise.body);
  sg_buf_free(&pieces.body);
  sg_free(one);
  sg_free(two);
  return 0;
}
