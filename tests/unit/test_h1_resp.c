/* SPDX-License-Identifier: Apache-2.0 */
/* net/sg_h1_resp: HTTP/1.1 responses with a length, chunked or read to the
 * end, at every split point; what a lax parser would let through is refused. */
#include "harness.h"

#include "core/sg_err.h"
#include "net/sg_h1_resp.h"

/* Parses |text| as it arrives byte by byte: incomplete until the end. */
static int parse_all(const char *text, bool eof, sg_h1_resp *out) {
  size_t n = strlen(text);
  char *buf = malloc(n + 1);
  ASSERT_NOT_NULL(buf);
  for (size_t i = 0; i < n; i++) {
    memcpy(buf, text, i);
    sg_h1_resp r;
    int rv = sg_h1_resp_parse(buf, i, false, &r);
    if (rv == 0)
      sg_h1_resp_free(&r);
    ASSERT(rv == SG_ERR_AGAIN || rv == SG_ERR_PARSE || (rv == 0 && !eof));
  }
  memcpy(buf, text, n);
  static char keep[4096]; /* the headers point into the buffer */
  ASSERT(n < sizeof keep);
  memcpy(keep, buf, n);
  free(buf);
  return sg_h1_resp_parse(keep, n, eof, out);
}

static void t_length(void) {
  sg_h1_resp r;
  ASSERT_OK(parse_all("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      "Content-Length: 11\r\n\r\n{\"a\":\"bcd\"}",
                      false, &r));
  ASSERT_EQ(200, r.status);
  ASSERT_EQ(2u, r.nheaders);
  ASSERT_MEM_EQ("content-type", r.headers[0].name, 12);
  ASSERT_EQ(11u, r.body.len);
  ASSERT_MEM_EQ("{\"a\":\"bcd\"}", r.body.data, 11);
  sg_h1_resp_free(&r);
}

static void t_chunked(void) {
  sg_h1_resp r;
  ASSERT_OK(parse_all("HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "5\r\nhello\r\n7;x=y\r\n, world\r\n0\r\nTrailer: t\r\n\r\n",
                      false, &r));
  ASSERT_EQ(400, r.status);
  ASSERT_EQ(12u, r.body.len);
  ASSERT_MEM_EQ("hello, world", r.body.data, 12);
  sg_h1_resp_free(&r);
}

static void t_to_eof(void) {
  sg_h1_resp r;
  char a[] = "HTTP/1.0 200 OK\r\n\r\nall of it";
  ASSERT_EQ(SG_ERR_AGAIN, sg_h1_resp_parse(a, strlen(a), false, &r));
  ASSERT_OK(sg_h1_resp_parse(a, strlen(a), true, &r));
  ASSERT_EQ(9u, r.body.len);
  sg_h1_resp_free(&r);
  /* A length promised and not delivered before the end: an error. */
  char b[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort";
  ASSERT_EQ(SG_ERR_PARSE, sg_h1_resp_parse(b, strlen(b), true, &r));
  char c[] = "HTTP/1.1 204 No Content\r\n\r\n";
  ASSERT_OK(sg_h1_resp_parse(c, strlen(c), false, &r));
  ASSERT_EQ(0u, r.body.len);
  sg_h1_resp_free(&r);
}

static void t_refused(void) {
  static const char *bad[] = {
      "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",                         /* bare LF */
      "HTTP/2 200 OK\r\n\r\n",                                              /* not 1.x */
      "HTTP/1.1 2000 OK\r\n\r\n",                                           /* status */
      "HTTP/1.1 200 OK\r\n folded: x\r\n\r\n",                              /* obs-fold */
      "HTTP/1.1 200 OK\r\nName : v\r\n\r\n",                                /* space before colon */
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", /* two lengths */
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n",
      "HTTP/1.1 200 OK\r\nX: a\x01b\r\n\r\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", bad[i]);
    sg_h1_resp r;
    int rv = sg_h1_resp_parse(buf, strlen(buf), true, &r);
    if (rv != SG_ERR_PARSE)
      SG_FAIL_("case %zu: expected SG_ERR_PARSE, got %d", i, rv);
  }
}

SG_TESTS({"length", t_length}, {"chunked", t_chunked}, {"to_eof", t_to_eof}, {"refused", t_refused})
