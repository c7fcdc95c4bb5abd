/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the pure HTTP/1.1 request parser (httpd/sg_h1_parse). */
#include "harness.h"

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "httpd/sg_h1_parse.h"

#define MAXH (64 * 1024)

/* Parses |s| in one go (on a writable copy); returns the parser's result. */
static int parse(const char *s, sg_h1_head *h, size_t *hl, char **copy) {
  size_t n = strlen(s);
  *copy = sg_xstrndup(s, n);
  sg_h1_scan scan = {0};
  return sg_h1_parse_head(*copy, n, MAXH, &scan, h, hl);
}

static int parse_rv(const char *s) {
  sg_h1_head h;
  size_t hl;
  char *c;
  int rv = parse(s, &h, &hl, &c);
  sg_free(c);
  return rv;
}

static bool hdr_is(const sg_h1_head *h, size_t i, const char *name, const char *value) {
  return i < h->nheaders && h->headers[i].name_len == strlen(name) &&
         memcmp(h->headers[i].name, name, strlen(name)) == 0 &&
         h->headers[i].value_len == strlen(value) &&
         memcmp(h->headers[i].value, value, strlen(value)) == 0;
}

static void t_simple(void) {
  sg_h1_head h;
  size_t hl;
  char *c;
  const char *req = "GET /v1.0/users/a%40b/sendMail?x=1 HTTP/1.1\r\n"
                    "Host: graph.local:8443\r\n"
                    "X-Custom-Header:   spaced value \t\r\n"
                    "Accept:\r\n"
                    "\r\n";
  ASSERT_OK(parse(req, &h, &hl, &c));
  ASSERT_EQ(strlen(req), hl);
  ASSERT_EQ(3, h.method_len);
  ASSERT_MEM_EQ("GET", h.method, 3);
  ASSERT_EQ(strlen("/v1.0/users/a%40b/sendMail?x=1"), h.target_len);
  ASSERT_MEM_EQ("/v1.0/users/a%40b/sendMail?x=1", h.target, h.target_len);
  ASSERT_EQ(1, h.minor);
  ASSERT_EQ(3, h.nheaders);
  ASSERT(hdr_is(&h, 0, "host", "graph.local:8443"));
  ASSERT(hdr_is(&h, 1, "x-custom-header", "spaced value"));
  ASSERT(hdr_is(&h, 2, "accept", ""));
  ASSERT_EQ(16, h.host_len);
  ASSERT(h.keep_alive);
  ASSERT(!h.chunked && !h.has_length && !h.expect_continue);
  sg_free(c);
}

/* Every prefix is incomplete; the whole is complete; the scan state carries over. */
static void t_split_every_byte(void) {
  const char *req = "POST /emails:send?api-version=2023-03-31 HTTP/1.1\r\n"
                    "Host: acs.local\r\n"
                    "Content-Length: 11\r\n"
                    "Content-Type: application/json\r\n"
                    "\r\n";
  size_t n = strlen(req);
  /* A fresh parse of every prefix. */
  for (size_t i = 0; i < n; i++) {
    char *p = sg_xstrndup(req, i);
    sg_h1_scan scan = {0};
    sg_h1_head h;
    size_t hl;
    ASSERT_EQ(SG_ERR_AGAIN, sg_h1_parse_head(p, i, MAXH, &scan, &h, &hl));
    sg_free(p);
  }
  /* One growing buffer, one byte at a time, keeping the scan state. */
  char *p = sg_xstrndup(req, n);
  sg_h1_scan scan = {0};
  sg_h1_head h;
  size_t hl = 0;
  for (size_t i = 1; i <= n; i++) {
    int rv = sg_h1_parse_head(p, i, MAXH, &scan, &h, &hl);
    ASSERT_EQ(i == n ? 0 : SG_ERR_AGAIN, rv);
  }
  ASSERT_EQ(n, hl);
  ASSERT(h.has_length);
  ASSERT_EQ(11, h.content_length);
  ASSERT(hdr_is(&h, 2, "content-type", "application/json"));
  sg_free(p);
  /* Two-piece splits at every boundary, with the scan state. */
  for (size_t i = 1; i < n; i++) {
    char *q = sg_xstrndup(req, n);
    sg_h1_scan sc = {0};
    ASSERT_EQ(SG_ERR_AGAIN, sg_h1_parse_head(q, i, MAXH, &sc, &h, &hl));
    ASSERT_OK(sg_h1_parse_head(q, n, MAXH, &sc, &h, &hl));
    ASSERT_EQ(n, hl);
    ASSERT_EQ(11, h.content_length);
    sg_free(q);
  }
}

static void t_bad_request_lines(void) {
  const char *bad[] = {
      "GET  / HTTP/1.1\r\nHost: a\r\n\r\n",           /* two spaces */
      "GET / HTTP/2.0\r\nHost: a\r\n\r\n",            /* version */
      "GET / HTTP/1.1 \r\nHost: a\r\n\r\n",           /* trailing space */
      "GET / http/1.1\r\nHost: a\r\n\r\n",            /* case */
      "GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n",    /* absolute-form */
      "GET * HTTP/1.1\r\nHost: a\r\n\r\n",            /* * only for OPTIONS */
      "G@T / HTTP/1.1\r\nHost: a\r\n\r\n",            /* not a token */
      "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n",         /* space in target */
      "GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n",        /* control in target */
      " GET / HTTP/1.1\r\nHost: a\r\n\r\n",           /* leading space */
      "GET / HTTP/1.1\r\n\r\n",                       /* no Host in 1.1 */
      "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", /* two Hosts */
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",             /* h2 preface */
  };
  for (size_t i = 0; i < SG_ARRAY_LEN(bad); i++) {
    int rv = parse_rv(bad[i]);
    if (rv != SG_ERR_PARSE)
      SG_FAIL_("case %zu: expected SG_ERR_PARSE, got %d", i, rv);
  }
  ASSERT_OK(parse_rv("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"));
  ASSERT_OK(parse_rv("GET / HTTP/1.0\r\n\r\n")); /* Host optional in 1.0 */
}

static void t_injection(void) {
  const char *bad[] = {
      "GET / HTTP/1.1\nHost: a\r\n\r\n",                 /* bare LF after request line */
      "GET / HTTP/1.1\r\nHost: a\n\r\n",                 /* bare LF after a field */
      "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n",    /* bare CR in a value */
      "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", /* obs-fold */
      "GET / HTTP/1.1\r\nHost: a\r\nX : a\r\n\r\n",      /* space before colon */
      "GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n",   /* DEL */
      "GET / HTTP/1.1\r\nHost: a\r\n: a\r\n\r\n",        /* empty name */
      "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\n\n",
  };
  for (size_t i = 0; i < SG_ARRAY_LEN(bad); i++) {
    int rv = parse_rv(bad[i]);
    if (rv != SG_ERR_PARSE)
      SG_FAIL_("case %zu: expected SG_ERR_PARSE, got %d", i, rv);
  }
  /* NUL inside a value (strlen-based helper cannot carry it). */
  char req[] = "GET / HTTP/1.1\r\nHost: a\r\nX: a?b\r\n\r\n";
  req[sizeof "GET / HTTP/1.1\r\nHost: a\r\nX: a" - 1] = '\0';
  sg_h1_scan scan = {0};
  sg_h1_head h;
  size_t hl;
  ASSERT_EQ(SG_ERR_PARSE, sg_h1_parse_head(req, sizeof req - 1, MAXH, &scan, &h, &hl));
  /* A bare LF is reported as soon as it arrives, without waiting for more. */
  char early[] = "GET / HTTP/1.1\n";
  sg_h1_scan s2 = {0};
  ASSERT_EQ(SG_ERR_PARSE, sg_h1_parse_head(early, sizeof early - 1, MAXH, &s2, &h, &hl));
  /* obs-text is allowed in values. */
  ASSERT_OK(parse_rv("GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\r\n\r\n"));
}

static void t_smuggling(void) {
  ASSERT_EQ(SG_ERR_PARSE, parse_rv("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n"));
  ASSERT_EQ(SG_ERR_PARSE, parse_rv("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                                   "Content-Length: 4\r\n\r\n"));
  ASSERT_OK(parse_rv("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                     "Content-Length: 3\r\n\r\n"));
  ASSERT_EQ(SG_ERR_PARSE, parse_rv("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3,3\r\n\r\n"));
  ASSERT_EQ(SG_ERR_PARSE, parse_rv("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"));
  ASSERT_EQ(SG_ERR_PARSE,
            parse_rv("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n"));
  ASSERT_EQ(SG_ERR_PARSE,
            parse_rv("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"));
  ASSERT_EQ(SG_ERR_PARSE, parse_rv("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n"));
  ASSERT_EQ(SG_ERR_PARSE, parse_rv("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"));
  sg_h1_head h;
  size_t hl;
  char *c;
  ASSERT_OK(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n", &h, &hl, &c));
  ASSERT(h.chunked);
  sg_free(c);
}

static void t_connection_semantics(void) {
  sg_h1_head h;
  size_t hl;
  char *c;
  ASSERT_OK(
      parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Close\r\n\r\n", &h, &hl, &c));
  ASSERT(!h.keep_alive);
  sg_free(c);
  ASSERT_OK(parse("GET / HTTP/1.0\r\n\r\n", &h, &hl, &c));
  ASSERT(!h.keep_alive);
  sg_free(c);
  ASSERT_OK(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &h, &hl, &c));
  ASSERT(h.keep_alive);
  ASSERT_EQ(0, h.minor);
  sg_free(c);
  ASSERT_OK(parse("PUT /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
                  &h, &hl, &c));
  ASSERT(h.expect_continue);
  sg_free(c);
}

static void t_too_big(void) {
  sg_buf b = SG_BUF_INIT;
  sg_buf_append_str(&b, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ");
  for (int i = 0; i < 70000; i++)
    sg_buf_append_char(&b, 'a');
  sg_h1_scan scan = {0};
  sg_h1_head h;
  size_t hl;
  ASSERT_EQ(SG_ERR_TOOBIG, sg_h1_parse_head(b.data, b.len, MAXH, &scan, &h, &hl));
  sg_buf_append_str(&b, "\r\n\r\n");
  sg_h1_scan s2 = {0};
  ASSERT_EQ(SG_ERR_TOOBIG, sg_h1_parse_head(b.data, b.len, MAXH, &s2, &h, &hl));
  /* Just under the limit is fine. */
  sg_buf_reset(&b);
  sg_buf_append_str(&b, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ");
  while (b.len < 1000 - 4)
    sg_buf_append_char(&b, 'b');
  sg_buf_append_str(&b, "\r\n\r\n");
  sg_h1_scan s3 = {0};
  ASSERT_OK(sg_h1_parse_head(b.data, b.len, 1000, &s3, &h, &hl));
  sg_h1_scan s4 = {0};
  ASSERT_EQ(SG_ERR_TOOBIG, sg_h1_parse_head(b.data, b.len, 999, &s4, &h, &hl));
  /* Too many fields. */
  sg_buf_reset(&b);
  sg_buf_append_str(&b, "GET / HTTP/1.1\r\nHost: a\r\n");
  for (int i = 0; i < SG_H1_MAX_HEADERS; i++)
    sg_buf_printf(&b, "X-%d: v\r\n", i);
  sg_buf_append_str(&b, "\r\n");
  sg_h1_scan s5 = {0};
  ASSERT_EQ(SG_ERR_TOOBIG, sg_h1_parse_head(b.data, b.len, MAXH, &s5, &h, &hl));
  sg_buf_free(&b);
}

static void t_pipelined(void) {
  const char *two = "GET /one HTTP/1.1\r\nHost: a\r\n\r\n"
                    "\r\n" /* a stray CRLF between requests is tolerated */
                    "POST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi"
                    "GET /three HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
  sg_buf b = SG_BUF_INIT;
  sg_buf_append_str(&b, two);
  sg_h1_scan scan = {0};
  sg_h1_head h;
  size_t hl;
  ASSERT_OK(sg_h1_parse_head(b.data, b.len, MAXH, &scan, &h, &hl));
  ASSERT_MEM_EQ("/one", h.target, 4);
  sg_buf_consume(&b, hl);
  sg_h1_head_reset(&scan);
  ASSERT_OK(sg_h1_parse_head(b.data, b.len, MAXH, &scan, &h, &hl));
  ASSERT_MEM_EQ("/two", h.target, 4);
  ASSERT_EQ(2, h.content_length);
  ASSERT_MEM_EQ("hi", b.data + hl, 2);
  sg_buf_consume(&b, hl + 2);
  sg_h1_head_reset(&scan);
  ASSERT_OK(sg_h1_parse_head(b.data, b.len, MAXH, &scan, &h, &hl));
  ASSERT_MEM_EQ("/three", h.target, 6);
  ASSERT(!h.keep_alive);
  ASSERT_EQ(b.len, hl);
  sg_buf_free(&b);
}

static const char chunked_body[] = "5\r\nhello\r\n"
                                   "1A;ext=\"v\"\r\nabcdefghijklmnopqrstuvwxyz\r\n"
                                   "0\r\n"
                                   "X-Trailer: t\r\n"
                                   "\r\n"
                                   "NEXT";

static void t_chunked(void) {
  size_t n = strlen(chunked_body);
  const char *want = "helloabcdefghijklmnopqrstuvwxyz";
  /* Whole, then split at every byte boundary. */
  for (size_t split = 0; split <= n; split++) {
    sg_h1_chunked d;
    sg_h1_chunked_init(&d);
    sg_buf body = SG_BUF_INIT;
    size_t used1 = 0, used2 = 0;
    int rv = sg_h1_chunked_feed(&d, chunked_body, split, &used1, &body, 1000);
    if (rv == 0) {
      ASSERT_EQ(split, used1);
      rv = sg_h1_chunked_feed(&d, chunked_body + split, n - split, &used2, &body, 1000);
    }
    ASSERT_EQ(1, rv);
    ASSERT_EQ(n - 4, used1 + used2); /* "NEXT" belongs to the next request */
    ASSERT_STR_EQ(want, body.data);
    sg_buf_free(&body);
  }
  /* One byte at a time. */
  sg_h1_chunked d;
  sg_h1_chunked_init(&d);
  sg_buf body = SG_BUF_INIT;
  size_t i = 0;
  int rv = 0;
  for (; i < n && rv == 0; i++) {
    size_t used;
    rv = sg_h1_chunked_feed(&d, chunked_body + i, 1, &used, &body, 1000);
    ASSERT_EQ(1, used);
  }
  ASSERT_EQ(1, rv);
  ASSERT_EQ(n - 4, i);
  ASSERT_STR_EQ(want, body.data);
  sg_buf_free(&body);
}

static int chunked_rv(const char *s, size_t max) {
  sg_h1_chunked d;
  sg_h1_chunked_init(&d);
  sg_buf body = SG_BUF_INIT;
  size_t used;
  int rv = sg_h1_chunked_feed(&d, s, strlen(s), &used, &body, max);
  ASSERT_LE(body.len, max);
  sg_buf_free(&body);
  return rv;
}

static void t_chunked_bad(void) {
  ASSERT_EQ(SG_ERR_PARSE, chunked_rv("x\r\n", 100));
  ASSERT_EQ(SG_ERR_PARSE, chunked_rv("\r\n", 100));
  ASSERT_EQ(SG_ERR_PARSE, chunked_rv("5\nhello\r\n", 100));         /* bare LF */
  ASSERT_EQ(SG_ERR_PARSE, chunked_rv("5\r\nhelloX\r\n", 100));      /* data longer than size */
  ASSERT_EQ(SG_ERR_PARSE, chunked_rv("1234567890123456\r\n", 100)); /* 16 hex digits */
  ASSERT_EQ(SG_ERR_PARSE, chunked_rv("0\r\nbad trailer\r\n\r\n", 100));
  ASSERT_EQ(SG_ERR_PARSE, chunked_rv("0\r\n\rX", 100));
  ASSERT_EQ(SG_ERR_TOOBIG, chunked_rv("65\r\n", 100)); /* 101 > 100 */
  ASSERT_EQ(SG_ERR_TOOBIG,
            chunked_rv("40\r\n" /* 64 */
                       "0123456789012345678901234567890123456789012345678901234567890123"
                       "\r\n40\r\n",
                       100));
  ASSERT_EQ(0, chunked_rv("64\r\n", 100)); /* exactly 100 is allowed */
  /* An endless chunk extension is cut off. */
  sg_buf b = SG_BUF_INIT;
  sg_buf_append_str(&b, "1;");
  for (int i = 0; i < 5000; i++)
    sg_buf_append_char(&b, 'e');
  ASSERT_EQ(SG_ERR_TOOBIG, chunked_rv(b.data, 100));
  sg_buf_free(&b);
}

static void t_reason(void) {
  ASSERT_STR_EQ("OK", sg_h1_reason(200));
  ASSERT_STR_EQ("Content Too Large", sg_h1_reason(413));
  ASSERT_STR_EQ("", sg_h1_reason(299));
}

SG_TESTS({"simple", t_simple}, {"split_every_byte", t_split_every_byte},
         {"bad_request_lines", t_bad_request_lines}, {"injection", t_injection},
         {"smuggling", t_smuggling}, {"connection_semantics", t_connection_semantics},
         {"too_big", t_too_big}, {"pipelined", t_pipelined}, {"chunked", t_chunked},
         {"chunked_bad", t_chunked_bad}, {"reason", t_reason})
