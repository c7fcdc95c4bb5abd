/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for smtpc/sg_smtpc_dot: CRLF, dot-stuffing, the 998 limit, chunking. */
#include "harness.h"

#include "core/sg_err.h"
#include "smtpc/sg_smtpc_dot.h"

/* Encodes |s| in chunks of |budget| and returns the whole output. */
static char *encode(const char *s, size_t n, size_t budget) {
  sg_smtpc_dot d;
  sg_smtpc_dot_init(&d, (const uint8_t *)s, n);
  sg_buf out = SG_BUF_INIT;
  size_t got, rounds = 0;
  while ((got = sg_smtpc_dot_fill(&d, &out, budget)) > 0) {
    ASSERT_LE(got, budget + 16);
    ASSERT_LT(rounds++, n + 10);
  }
  ASSERT(d.done);
  sg_buf_append(&out, "", 0);
  return sg_buf_steal(&out, NULL);
}

static void check(const char *in, const char *want) {
  for (size_t budget = 1; budget < 40; budget++) {
    char *got = encode(in, strlen(in), budget);
    ASSERT_STR_EQ(want, got);
    sg_free(got);
  }
  sg_smtpc_msg_info info;
  int rv = sg_smtpc_dot_scan((const uint8_t *)in, strlen(in), &info);
  ASSERT(rv == 0 || rv == SG_ERR_INVAL);
  if (rv == 0)
    ASSERT_EQ(strlen(want), info.wire_size);
}

static void t_stuffing(void) {
  check("a\r\n.b\r\n", "a\r\n..b\r\n.\r\n");
  check(".\r\n", "..\r\n.\r\n");
  check("x\r\n.\r\n.\r\n", "x\r\n..\r\n..\r\n.\r\n");
  check("a.b\r\n", "a.b\r\n.\r\n");
  check("..x", "...x\r\n.\r\n");
}

static void t_crlf(void) {
  check("a\nb\n", "a\r\nb\r\n.\r\n");
  check("a\rb", "a\r\nb\r\n.\r\n");
  check("a\r\r\nb", "a\r\n\r\nb\r\n.\r\n");
  check("no newline", "no newline\r\n.\r\n");
  check("a\n.\n", "a\r\n..\r\n.\r\n");
  check("a\r", "a\r\n.\r\n");
  check("\n\n", "\r\n\r\n.\r\n");
}

static void t_scan(void) {
  sg_smtpc_msg_info info;
  sg_buf b = SG_BUF_INIT;
  sg_buf_append_str(&b, "Subject: x\r\n\r\n");
  for (int i = 0; i < SG_SMTPC_LINE_MAX; i++)
    sg_buf_append_char(&b, 'y');
  sg_buf_append_str(&b, "\r\nshort\r\n");
  ASSERT_OK(sg_smtpc_dot_scan((uint8_t *)b.data, b.len, &info));
  ASSERT_EQ(SG_SMTPC_LINE_MAX, info.longest_line);
  ASSERT(!info.has_8bit);
  sg_buf_reset(&b);
  sg_buf_append_str(&b, "Subject: x\r\n\r\nok\r\n");
  for (int i = 0; i < 1200; i++)
    sg_buf_append_char(&b, 'y');
  ASSERT_EQ(SG_ERR_TOOBIG, sg_smtpc_dot_scan((uint8_t *)b.data, b.len, &info));
  ASSERT_EQ(4, info.bad_line);
  ASSERT_EQ(1200, info.bad_line_len);
  sg_buf_free(&b);
  ASSERT_EQ(SG_ERR_PARSE, sg_smtpc_dot_scan((const uint8_t *)"a\r\nb\0c", 6, &info));
  ASSERT_EQ(2, info.bad_line);
  ASSERT_EQ(SG_ERR_INVAL, sg_smtpc_dot_scan((const uint8_t *)"", 0, &info));
  /* 8-bit in the body only, and in a header. */
  ASSERT_OK(sg_smtpc_dot_scan((const uint8_t *)"Subject: a\r\n\r\n\xc3\xa9\r\n", 17, &info));
  ASSERT(info.has_8bit && !info.header_8bit);
  ASSERT_OK(sg_smtpc_dot_scan((const uint8_t *)"Subject: \xc3\xa9\r\n\r\nb\r\n", 17, &info));
  ASSERT(info.has_8bit && info.header_8bit);
}

static void t_large(void) {
  /* A 1 MB message with dots at line starts, encoded in 64 KB chunks. */
  sg_buf in = SG_BUF_INIT, want = SG_BUF_INIT;
  for (int i = 0; i < 20000; i++) {
    sg_buf_append_str(&in, i % 3 ? "line of text here, fifty bytes or so ..........\n"
                                 : ".dotted line\n");
    sg_buf_append_str(&want, i % 3 ? "line of text here, fifty bytes or so ..........\r\n"
                                   : "..dotted line\r\n");
  }
  sg_buf_append_str(&want, ".\r\n");
  char *got = encode(in.data, in.len, 65536);
  ASSERT_EQ(want.len, strlen(got));
  ASSERT_MEM_EQ(want.data, got, want.len);
  sg_smtpc_msg_info info;
  ASSERT_OK(sg_smtpc_dot_scan((uint8_t *)in.data, in.len, &info));
  ASSERT_EQ(want.len, info.wire_size);
  sg_free(got);
  sg_buf_free(&in);
  sg_buf_free(&want);
}

SG_TESTS({"stuffing", t_stuffing}, {"crlf", t_crlf}, {"scan", t_scan}, {"large", t_large})
