/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the DATA reader (smtp/sg_smtp_data): dot-stuffing, the end of
 * data, and the SMTP smuggling cases (bare CR / LF never end a message). */
#include "harness.h"

#include "smtp/sg_smtp_data.h"

typedef struct res {
  bool done;
  size_t used;
  unsigned flags;
  sg_buf body;
} res;

/* Feeds |s| (|n| bytes) in pieces of |step| (0 = at once). */
static res run(const char *s, size_t n, size_t step, size_t cap) {
  res r = {0};
  sg_buf_init(&r.body);
  sg_smtp_data d;
  sg_smtp_data_init(&d, cap);
  size_t pos = 0;
  while (pos < n && !r.done) {
    size_t len = step == 0 || n - pos < step ? n - pos : step;
    size_t used = sg_smtp_data_feed(&d, (const uint8_t *)s + pos, len, &r.body, &r.done);
    ASSERT_LE(used, len);
    if (!r.done)
      ASSERT_EQ(len, used);
    pos += used;
  }
  r.used = pos;
  r.flags = d.flags;
  return r;
}

/* The same result fed at once, bytewise and in threes. */
static res run_all(const char *s, size_t cap) {
  size_t n = strlen(s);
  res a = run(s, n, 0, cap);
  size_t steps[] = {1, 3};
  for (size_t i = 0; i < 2; i++) {
    res b = run(s, n, steps[i], cap);
    ASSERT_EQ(a.done, b.done);
    ASSERT_EQ(a.used, b.used);
    ASSERT_EQ(a.flags, b.flags);
    if (a.flags == 0) { /* a refused message's bytes are not defined */
      ASSERT_EQ(a.body.len, b.body.len);
      ASSERT(a.body.len == 0 || memcmp(a.body.data, b.body.data, a.body.len) == 0);
    }
    sg_buf_free(&b.body);
  }
  return a;
}

static void expect(const char *in, bool done, size_t used, unsigned flags, const char *body) {
  res r = run_all(in, 1 << 20);
  ASSERT_EQ(done, r.done);
  ASSERT_EQ(used, r.used);
  ASSERT_EQ(flags, r.flags);
  if (body) {
    ASSERT_EQ(strlen(body), r.body.len);
    if (r.body.len > 0)
      ASSERT_MEM_EQ(body, r.body.data, r.body.len);
  }
  sg_buf_free(&r.body);
}

static void t_plain(void) {
  const char *in = "Subject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n";
  expect(in, true, strlen(in) - 6, 0, "Subject: hi\r\n\r\nbody\r\n");
  expect(".\r\n", true, 3, 0, "");
  expect("no end yet\r\n", false, 12, 0, NULL);
  expect("a\r\n.", false, 4, 0, NULL);
  expect("a\r\n.\r", false, 5, 0, NULL);
}

static void t_dot_stuffing(void) {
  expect("..leading dot\r\n...\r\n.x\r\n.\r\n", true, 27, 0, ".leading dot\r\n..\r\nx\r\n");
  /* A dot in the middle of a line is content. */
  expect("a.b\r\n .\r\n.\r\n", true, 12, 0, "a.b\r\n .\r\n");
}

/* SMTP smuggling: none of these ends the message; all are refused at the real end. */
static void t_smuggling(void) {
  const char *cases[] = {
      "a\n.\nMAIL FROM:<x@evil.example>\r\n",   "a\r\n.\nMAIL FROM:<x@evil.example>\r\n",
      "a\n.\r\nMAIL FROM:<x@evil.example>\r\n", "a\r.\rMAIL FROM:<x@evil.example>\r\n",
      "a\r.\r\nMAIL FROM:<x@evil.example>\r\n", "a\r\n.\rMAIL FROM:<x@evil.example>\r\n",
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char in[200];
    snprintf(in, sizeof in, "%s\r\n.\r\n", cases[i]);
    res r = run_all(in, 1 << 20);
    ASSERT(r.done);
    ASSERT_EQ(strlen(in), r.used); /* the end is the real <CRLF>.<CRLF> only */
    ASSERT(r.flags & (SG_SMTP_DATA_BARE_LF | SG_SMTP_DATA_BARE_CR));
    sg_buf_free(&r.body);
  }
  expect("bare\nlf\r\n.\r\n", true, 12, SG_SMTP_DATA_BARE_LF, NULL);
  expect("bare\rcr\r\n.\r\n", true, 12, SG_SMTP_DATA_BARE_CR, NULL);
  expect("\n.\r\n.\r\n", true, 7, SG_SMTP_DATA_BARE_LF, NULL);
  expect("x\r\r\n.\r\n", true, 7, SG_SMTP_DATA_BARE_CR, NULL);
}

static void t_line_length(void) {
  char in[1100];
  memset(in, 'a', 998);
  strcpy(in + 998, "\r\n.\r\n");
  expect(in, true, 1003, 0, NULL);
  memset(in, 'a', 999);
  strcpy(in + 999, "\r\n.\r\n");
  expect(in, true, 1004, SG_SMTP_DATA_LONG_LINE, NULL);
}

static void t_size_cap(void) {
  const char *in = "0123456789\r\n0123456789\r\n.\r\nNOOP\r\n";
  res r = run_all(in, 24);
  ASSERT(r.done && r.flags == 0);
  ASSERT_EQ(24, r.body.len);
  sg_buf_free(&r.body);
  r = run_all(in, 23);
  ASSERT(r.done);
  ASSERT_EQ(SG_SMTP_DATA_TOO_BIG, r.flags);
  ASSERT_EQ(strlen(in) - 6, r.used); /* read to the end all the same */
  ASSERT_LE(r.body.len, 23);
  sg_buf_free(&r.body);
}

SG_TESTS({"plain", t_plain}, {"dot_stuffing", t_dot_stuffing}, {"smuggling", t_smuggling},
         {"line_length", t_line_length}, {"size_cap", t_size_cap})
