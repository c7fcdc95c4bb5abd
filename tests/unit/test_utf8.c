/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/sg_utf8: sequence lengths, the RFC 3629 edge cases, long ASCII runs. */
#include "harness.h"

#include "core/sg_utf8.h"

#define SEQ(s) sg_utf8_seq((const unsigned char *)(s), sizeof(s) - 1)
#define VALID(s) sg_utf8_valid((s), sizeof(s) - 1)

static void t_seq(void) {
  ASSERT_EQ(1, SEQ("a"));
  ASSERT_EQ(2, SEQ("\xc3\xa9"));
  ASSERT_EQ(3, SEQ("\xe2\x82\xac"));
  ASSERT_EQ(4, SEQ("\xf0\x9f\x98\x80"));
  ASSERT_EQ(4, SEQ("\xf4\x8f\xbf\xbf")); /* U+10FFFF */
  ASSERT_EQ(0, SEQ("\x80"));             /* lone continuation */
  ASSERT_EQ(0, SEQ("\xc0\xaf"));         /* overlong '/' */
  ASSERT_EQ(0, SEQ("\xe0\x80\xaf"));     /* overlong, 3 bytes */
  ASSERT_EQ(0, SEQ("\xf0\x80\x80\xaf")); /* overlong, 4 bytes */
  ASSERT_EQ(0, SEQ("\xed\xa0\x80"));     /* surrogate U+D800 */
  ASSERT_EQ(0, SEQ("\xf4\x90\x80\x80")); /* above U+10FFFF */
  ASSERT_EQ(0, SEQ("\xf5\x80\x80\x80"));
  ASSERT_EQ(0, SEQ("\xe2\x82"));     /* cut short */
  ASSERT_EQ(0, SEQ("\xe2\x28\xa1")); /* bad continuation */
}

static void t_valid(void) {
  ASSERT(VALID(""));
  ASSERT(VALID("plain ascii"));
  ASSERT(VALID("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  ASSERT(!VALID("caf\xc3"));
  ASSERT(!VALID("x\xed\xbf\xbfy"));
  /* Long ASCII runs (the 16- and 8-byte fast paths) with a bad byte at each offset. */
  char buf[80];
  for (size_t bad = 0; bad < sizeof buf; bad++) {
    memset(buf, 'a', sizeof buf);
    ASSERT(sg_utf8_valid(buf, sizeof buf));
    buf[bad] = (char)0xff;
    ASSERT(!sg_utf8_valid(buf, sizeof buf));
    ASSERT(sg_utf8_valid(buf, bad)); /* the prefix before it is fine */
  }
  /* The length bounds the check: a NUL is just a byte. */
  ASSERT(sg_utf8_valid("a\0b", 3));
}

SG_TESTS({"seq", t_seq}, {"valid", t_valid})
