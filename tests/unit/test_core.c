/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/: sg_buf, errors, JSON string writing, address masking. */
#include "harness.h"

#include "core/sg_err.h"
#include "core/sg_json_write.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "core/sg_utf8.h"

static void t_buf(void) {
  sg_buf b = SG_BUF_INIT;
  sg_buf_append_str(&b, "hello");
  sg_buf_printf(&b, " %d %s", 42, "x");
  ASSERT_STR_EQ("hello 42 x", b.data);
  sg_buf_consume(&b, 6);
  ASSERT_STR_EQ("42 x", b.data);
  for (int i = 0; i < 1000; i++)
    sg_buf_append_char(&b, 'a');
  ASSERT_EQ(1004, b.len);
  sg_buf_reset(&b);
  ASSERT_EQ(0, b.len);
  sg_buf_free(&b);
}

static void t_err(void) {
  ASSERT_STR_EQ("timed out", sg_strerror(SG_ERR_TIMEOUT));
  ASSERT_STR_EQ("SG_ERR_TLS_VERIFY", sg_err_name(SG_ERR_TLS_VERIFY));
  ASSERT_STR_EQ("ECONNREFUSED", sg_err_name(-111));
}

static void t_json_escape(void) {
  sg_buf b = SG_BUF_INIT;
  const char in[] = "a\"b\\c\n\r\t\x01\x1f/\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
  sg_jw_str(&b, in, sizeof(in) - 1);
  ASSERT_STR_EQ("\"a\\\"b\\\\c\\n\\r\\t\\u0001\\u001f/\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
                b.data);
  sg_buf_reset(&b);
  /* Invalid UTF-8: a lone continuation byte, an overlong, a surrogate. */
  const char bad[] = "x\x80y\xc0\xafz\xed\xa0\x80";
  sg_jw_str(&b, bad, sizeof(bad) - 1);
  ASSERT_STR_EQ("\"x\\ufffdy\\ufffd\\ufffdz\\ufffd\\ufffd\\ufffd\"", b.data);
  ASSERT(!sg_utf8_valid(bad, sizeof(bad) - 1));
  ASSERT(sg_utf8_valid(in, sizeof(in) - 1));
  /* NUL inside the string is escaped, not a terminator. */
  sg_buf_reset(&b);
  sg_jw_str(&b, "a\0b", 3);
  ASSERT_STR_EQ("\"a\\u0000b\"", b.data);
  sg_buf_free(&b);
}

static void t_mask(void) {
  char out[64];
  sg_log_mask_addr("jane.doe@example.com", out, sizeof out);
  ASSERT_STR_EQ("j***@example.com", out);
  sg_log_mask_addr("nonsense", out, sizeof out);
  ASSERT_STR_EQ("***", out);
  sg_log_set_show_recipients(true);
  sg_log_mask_addr("jane.doe@example.com", out, sizeof out);
  ASSERT_STR_EQ("jane.doe@example.com", out);
  sg_log_set_show_recipients(false);
  /* Addresses quoted in a provider's message are masked too. */
  char text[128];
  sg_log_mask_text("The recipient 'jane.doe@example.com' and <bob@b.example> are invalid.", text,
                   sizeof text);
  ASSERT_STR_EQ("The recipient 'j***@example.com' and <b***@b.example> are invalid.", text);
  sg_log_mask_text("no address @ all", text, sizeof text);
  ASSERT_STR_EQ("no address @ all", text);
  sg_log_mask_text("x@y.z", text, 4); /* bounded */
  ASSERT_STR_EQ("x**", text);
  sg_log_set_show_recipients(true);
  sg_log_mask_text("jane@example.com", text, sizeof text);
  ASSERT_STR_EQ("jane@example.com", text);
  sg_log_set_show_recipients(false);
}

SG_TESTS({"buf", t_buf}, {"err", t_err}, {"json_escape", t_json_escape}, {"mask", t_mask})
