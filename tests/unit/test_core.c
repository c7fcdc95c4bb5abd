/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/: sg_buf, errors, JSON string writing, address masking. */
#include "harness.h"

#include "core/sg_addr.h"
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

/* Non-ASCII bytes only as UTF-8, in the local part and in IDN labels alike. */
static void t_addr_utf8(void) {
  static const char *const ok[] = {"j\xc3\xb6rg@contoso.com",
                                   "info@b\xc3\xbc"
                                   "cher.example",
                                   "\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.example",
                                   "a@\xf0\x9f\x98\x80.example"};
  static const char *const bad[] = {
      "j\xffrg@contoso.com", /* never a UTF-8 byte */
      "j\x80rg@contoso.com", /* a lone continuation byte */
      "info@b\xfc"
      "cher.example",               /* Latin-1, not UTF-8 */
      "a@x\xc0\xaf.example",        /* an overlong '/' */
      "a@x\xed\xa0\x80.example",    /* a surrogate */
      "a\xe4\xbe@example.com",      /* a sequence cut short */
      "a@example.co\xe4\xbe",       /* ... at the very end */
      "a@\xf4\x90\x80\x80.example", /* above U+10FFFF */
  };
  for (size_t i = 0; i < SG_ARRAY_LEN(ok); i++)
    ASSERT(sg_addr_valid(ok[i], strlen(ok[i])));
  for (size_t i = 0; i < SG_ARRAY_LEN(bad); i++)
    ASSERT(!sg_addr_valid(bad[i], strlen(bad[i])));
}

/* sg_has_ctl as a byte loop: C0 (a tab only when allowed), DEL, C1 (0xC2 0x80..0x9F). */
static bool ctl_reference(const unsigned char *p, size_t n, bool allow_tab) {
  for (size_t i = 0; i < n; i++)
    if ((p[i] < 0x20 && !(allow_tab && p[i] == '\t')) || p[i] == 0x7f ||
        (i + 1 < n && p[i] == 0xC2 && p[i + 1] >= 0x80 && p[i + 1] <= 0x9F))
      return true;
  return false;
}

/* The vector scan agrees with the byte loop wherever the byte that decides
 * falls (in a 16-byte block, across two, in the tail). */
/* The local part takes exactly RFC 5322 atext; a single byte of 0x80 or more
 * is never UTF-8 on its own. */
static void t_addr_atext(void) {
  for (unsigned c = 1; c < 256; c++) {
    char a[] = {'a', (char)c, 'b', '@', 'e', 'x', '.', 'o', 'r', 'g', '\0'};
    bool want = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~.", (int)c));
    if (c == '@') /* the last @ splits: "a@b" is not a local part */
      want = false;
    ASSERT_EQ(want, sg_addr_valid(a, strlen(a)));
  }
}

static void t_has_ctl(void) {
  static const unsigned char bytes[] = {'a',  ' ',  '~',  '\t', 0x01, 0x1f, 0x7f, 0xC2,
                                        0x80, 0x9F, 0xA0, 0xC3, 0xFF, '\r', '\n', 0x00};
  unsigned char buf[48];
  uint64_t x = 88172645463325252ull;
  for (int round = 0; round < 20000; round++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    size_t n = (size_t)(x % sizeof buf);
    memset(buf, 'a', sizeof buf);
    /* Mostly printable, one to three other bytes anywhere. */
    for (unsigned k = 0; k < 1 + (x >> 8) % 3 && n > 0; k++)
      buf[(x >> (16 + 8 * k)) % n] = bytes[(x >> (40 + 4 * k)) % sizeof bytes];
    for (int tab = 0; tab < 2; tab++)
      ASSERT_EQ(ctl_reference(buf, n, tab), sg_has_ctl((const char *)buf, n, tab));
  }
  ASSERT(!sg_has_ctl("plain text that is longer than sixteen bytes", 44, false));
  ASSERT(sg_has_ctl("plain text that is longer than\x7f", 31, false));
  ASSERT(sg_has_ctl("sixteen bytes...\xC2\x85", 18, true));
  ASSERT(!sg_has_ctl("sixteen bytes...\xC2\xA0", 18, true));
  ASSERT(!sg_has_ctl("sixteen bytes...\xC2", 17, true)); /* cut short: not a C1 */
}

SG_TESTS({"buf", t_buf}, {"err", t_err}, {"json_escape", t_json_escape}, {"mask", t_mask},
         {"has_ctl", t_has_ctl}, {"addr_atext", t_addr_atext}, {"addr_utf8", t_addr_utf8})
