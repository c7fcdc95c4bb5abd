/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for smtpc/sg_smtpc_reply (reply lines) and sg_smtpc_ehlo. */
#include "harness.h"

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "smtpc/sg_smtpc_ehlo.h"
#include "smtpc/sg_smtpc_reply.h"

static int parse(const char *s, sg_smtpc_reply *r, size_t *used) {
  return sg_smtpc_reply_parse(s, strlen(s), r, used);
}

static void t_single(void) {
  sg_smtpc_reply r;
  size_t used = 0;
  ASSERT_OK(parse("250 2.0.0 OK queued\r\nrest", &r, &used));
  ASSERT_EQ(250, r.code);
  ASSERT_STR_EQ("2.0.0", r.enh);
  ASSERT_STR_EQ("OK queued", r.text);
  ASSERT_EQ(21, used);
  ASSERT_EQ(1, r.nlines);
}

static void t_multiline(void) {
  sg_smtpc_reply r;
  size_t used = 0;
  const char *s = "250-mx.example Hello\r\n250-PIPELINING\r\n250 SIZE 1000\r\n";
  ASSERT_OK(parse(s, &r, &used));
  ASSERT_EQ(strlen(s), used);
  ASSERT_EQ(3, r.nlines);
  ASSERT_STR_EQ("mx.example Hello\nPIPELINING\nSIZE 1000", r.text);
  ASSERT_STR_EQ("", r.enh);
  /* Incomplete replies are AGAIN at every cut. */
  for (size_t cut = 0; cut < strlen(s); cut++)
    ASSERT_EQ(SG_ERR_AGAIN, sg_smtpc_reply_parse(s, cut, &r, &used));
}

static void t_enhanced(void) {
  sg_smtpc_reply r;
  size_t used;
  ASSERT_OK(parse("550 5.7.30 Basic authentication is not supported for Client Submission.\r\n", &r,
                  &used));
  ASSERT_STR_EQ("5.7.30", r.enh);
  ASSERT_STR_EQ("Basic authentication is not supported for Client Submission.", r.text);
  ASSERT_OK(parse("535 5.7.139 Authentication unsuccessful\r\n", &r, &used));
  ASSERT_STR_EQ("5.7.139", r.enh);
  /* A class that differs from the code's is no enhanced code. */
  ASSERT_OK(parse("550 4.7.0 odd\r\n", &r, &used));
  ASSERT_STR_EQ("", r.enh);
  ASSERT_STR_EQ("4.7.0 odd", r.text);
  /* Bare code, bare LF. */
  ASSERT_OK(parse("354\n", &r, &used));
  ASSERT_EQ(354, r.code);
  ASSERT_EQ(4, used);
  ASSERT_STR_EQ("", r.text);
  ASSERT_OK(parse("250 5.7.3x not a code\r\n", &r, &used));
  ASSERT_STR_EQ("", r.enh);
}

static void t_malformed(void) {
  sg_smtpc_reply r;
  size_t used;
  ASSERT_EQ(SG_ERR_PARSE, parse("hello\r\n", &r, &used));
  ASSERT_EQ(SG_ERR_PARSE, parse("25\r\n", &r, &used));
  ASSERT_EQ(SG_ERR_PARSE, parse("650 x\r\n", &r, &used));
  ASSERT_EQ(SG_ERR_PARSE, parse("150 x\r\n", &r, &used));
  ASSERT_EQ(SG_ERR_PARSE, parse("250x\r\n", &r, &used));
  ASSERT_EQ(SG_ERR_PARSE, parse("250-a\r\n251 b\r\n", &r, &used));
  ASSERT_EQ(SG_ERR_PARSE, sg_smtpc_reply_parse("250 a\0b\r\n", 9, &r, &used));
  /* A line over the bound, complete or not. */
  sg_buf b = SG_BUF_INIT;
  sg_buf_append_str(&b, "250 ");
  for (int i = 0; i < SG_SMTPC_REPLY_LINE_MAX; i++)
    sg_buf_append_char(&b, 'x');
  ASSERT_EQ(SG_ERR_PARSE, sg_smtpc_reply_parse(b.data, b.len, &r, &used));
  sg_buf_append_str(&b, "\r\n");
  ASSERT_EQ(SG_ERR_PARSE, sg_smtpc_reply_parse(b.data, b.len, &r, &used));
  sg_buf_reset(&b);
  /* Too many lines. */
  for (int i = 0; i <= SG_SMTPC_REPLY_LINES_MAX; i++)
    sg_buf_append_str(&b, "250-x\r\n");
  sg_buf_append_str(&b, "250 x\r\n");
  ASSERT_EQ(SG_ERR_PARSE, sg_smtpc_reply_parse(b.data, b.len, &r, &used));
  sg_buf_reset(&b);
  /* Long texts are cut, not overflowed. */
  for (int i = 0; i < 100; i++)
    sg_buf_append_str(&b,
                      "250-0123456789012345678901234567890123456789012345678901234567890123\r\n");
  sg_buf_append_str(&b, "250 end\r\n");
  ASSERT_OK(sg_smtpc_reply_parse(b.data, b.len, &r, &used));
  ASSERT_EQ(SG_SMTPC_REPLY_TEXT_MAX - 1, r.text_len);
  ASSERT_EQ(strlen(r.text), r.text_len);
  sg_buf_free(&b);
}

static void t_ehlo(void) {
  sg_smtpc_reply r;
  size_t used;
  ASSERT_OK(parse("250-SN4PR0501CA0123.outlook.office365.com Hello [1.2.3.4]\r\n"
                  "250-SIZE 157286400\r\n250-PIPELINING\r\n250-DSN\r\n"
                  "250-ENHANCEDSTATUSCODES\r\n250-AUTH LOGIN XOAUTH2\r\n250-8BITMIME\r\n"
                  "250-BINARYMIME\r\n250-CHUNKING\r\n250 SMTPUTF8\r\n",
                  &r, &used));
  sg_smtpc_ext e;
  sg_smtpc_ehlo_parse(&r, &e);
  ASSERT(e.pipelining && e.eightbitmime && e.smtputf8 && e.enhanced && e.size);
  ASSERT(!e.starttls);
  ASSERT_EQ(157286400, e.size_max);
  ASSERT_EQ(SG_SMTPC_MECH_LOGIN | SG_SMTPC_MECH_XOAUTH2, e.mechs);
  ASSERT_OK(parse("250-x\r\n250-STARTTLS\r\n250-AUTH=PLAIN\r\n250 SIZE\r\n", &r, &used));
  sg_smtpc_ehlo_parse(&r, &e);
  ASSERT(e.starttls && !e.pipelining && e.size);
  ASSERT_EQ(0, e.size_max);
  ASSERT_EQ(SG_SMTPC_MECH_PLAIN, e.mechs);
  /* The first line names the server; a keyword there does not count. */
  ASSERT_OK(parse("250 STARTTLS\r\n", &r, &used));
  sg_smtpc_ehlo_parse(&r, &e);
  ASSERT(!e.starttls);
  /* Prefixes are not keywords. */
  ASSERT_OK(parse("250-x\r\n250 STARTTLSX\r\n", &r, &used));
  sg_smtpc_ehlo_parse(&r, &e);
  ASSERT(!e.starttls);
}

SG_TESTS({"single", t_single}, {"multiline", t_multiline}, {"enhanced", t_enhanced},
         {"malformed", t_malformed}, {"ehlo", t_ehlo})
