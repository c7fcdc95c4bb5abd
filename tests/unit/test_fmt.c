/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/sg_fmt: each formatter against snprintf on the same value. */
#include "harness.h"

#include <inttypes.h>
#include <stdio.h>

#include "core/sg_fmt.h"
#include "core/sg_mem.h"
#include "core/sg_rand.h"

static uint64_t next(uint64_t *s) {
  return sg_rand_next(s);
}

static void t_decimal(void) {
  const uint64_t u[] = {0,
                        1,
                        9,
                        10,
                        99,
                        100,
                        101,
                        999,
                        1000,
                        4294967295u,
                        4294967296u,
                        9999999999999999999u,
                        10000000000000000000u,
                        UINT64_MAX - 1,
                        UINT64_MAX};
  char got[SG_FMT_U64_MAX + 1], want[32];
  for (size_t i = 0; i < SG_ARRAY_LEN(u); i++) {
    int n = snprintf(want, sizeof want, "%" PRIu64, u[i]);
    ASSERT_EQ((size_t)n, sg_fmt_u64(got, u[i]));
    ASSERT_STR_EQ(want, got);
  }
  const int64_t s[] = {0, -1, 1, -10, 604800, INT64_MAX, INT64_MIN, INT64_MIN + 1};
  for (size_t i = 0; i < SG_ARRAY_LEN(s); i++) {
    int n = snprintf(want, sizeof want, "%" PRId64, s[i]);
    ASSERT_EQ((size_t)n, sg_fmt_i64(got, s[i]));
    ASSERT_STR_EQ(want, got);
  }
  /* Each side of every power of ten and of two (the digit count's edges). */
  for (int k = 0; k < 64; k++) {
    uint64_t p10 = 1;
    for (int j = 0; j < k % 20; j++)
      p10 *= 10;
    const uint64_t e[] = {p10 - 1, p10, p10 + 1, (1ull << k) - 1, 1ull << k, (1ull << k) + 1};
    for (size_t i = 0; i < SG_ARRAY_LEN(e); i++) {
      int n = snprintf(want, sizeof want, "%" PRIu64, e[i]);
      ASSERT_EQ((size_t)n, sg_fmt_u64(got, e[i]));
      ASSERT_STR_EQ(want, got);
    }
  }
  uint64_t r = 0x9e3779b97f4a7c15ull;
  for (int i = 0; i < 10000; i++) {
    uint64_t v = next(&r) >> (i % 64);
    snprintf(want, sizeof want, "%" PRIu64, v);
    sg_fmt_u64(got, v);
    ASSERT_STR_EQ(want, got);
  }
}

static void t_hex(void) {
  char got[20];
  ASSERT_EQ(4, sg_fmt_hex(got, 0xabc, 4));
  ASSERT_STR_EQ("0abc", got);
  ASSERT_EQ(2, sg_fmt_hex(got, 0x1234, 2)); /* low digits only */
  ASSERT_STR_EQ("34", got);
  ASSERT_EQ(16, sg_fmt_hex(got, UINT64_MAX, 16));
  ASSERT_STR_EQ("ffffffffffffffff", got);
  ASSERT_EQ(16, sg_fmt_hex(got, 1, 0)); /* out of range: all 16 */
  ASSERT_STR_EQ("0000000000000001", got);
}

static void t_copy(void) {
  char d[6];
  ASSERT_EQ(3, sg_fmt_copy(d, sizeof d, "abc"));
  ASSERT_STR_EQ("abc", d);
  ASSERT_EQ(5, sg_fmt_copy(d, sizeof d, "abcdefgh")); /* cut to fit, terminated */
  ASSERT_STR_EQ("abcde", d);
  ASSERT_EQ(0, sg_fmt_copy(d, 1, "abc"));
  ASSERT_STR_EQ("", d);
}

/* The GUID the gateway sends as client-request-id, as the printf it replaced
 * wrote it: version 4, variant 10xx. */
static void t_guid(void) {
  uint64_t r = 42;
  for (int i = 0; i < 1000; i++) {
    uint64_t x = next(&r), y = next(&r);
    char got[37], want[64];
    snprintf(want, sizeof want, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(x >> 32),
             (unsigned)(x >> 16) & 0xffff, (unsigned)x & 0xfff,
             (unsigned)((y >> 48) & 0x3fff) | 0x8000, (unsigned long long)(y & 0xffffffffffffull));
    ASSERT_EQ(36, sg_fmt_guid(got, x, y));
    ASSERT_STR_EQ(want, got);
  }
}

static void t_copy_utf8(void) {
  char d[8];
  ASSERT_EQ(5, sg_fmt_copy_utf8(d, sizeof d, "hello", 5));
  ASSERT_STR_EQ("hello", d);
  /* Control characters, NUL and DEL become spaces; the length bounds the source. */
  ASSERT_EQ(6, sg_fmt_copy_utf8(d, sizeof d, "a\nb\0c\x7f!", 6));
  ASSERT_STR_EQ("a b c ", d);
  /* Cut at cap - 1 = 7 bytes, but never inside a character: "abcde" + 3-byte euro. */
  ASSERT_EQ(5, sg_fmt_copy_utf8(d, sizeof d, "abcde\xe2\x82\xac", 8));
  ASSERT_STR_EQ("abcde", d);
  ASSERT_EQ(7, sg_fmt_copy_utf8(d, sizeof d, "abcd\xe2\x82\xacz", 8));
  ASSERT_STR_EQ("abcd\xe2\x82\xac", d);
  /* A character that fits whole is kept even when more follows. */
  ASSERT_EQ(6, sg_fmt_copy_utf8(d, sizeof d, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 8));
  ASSERT_STR_EQ("\xc3\xa9\xc3\xa9\xc3\xa9", d);
  char one[1];
  ASSERT_EQ(0, sg_fmt_copy_utf8(one, sizeof one, "abc", 3));
  ASSERT_STR_EQ("", one);
}

static void t_copy_ascii(void) {
  char d[8];
  ASSERT_EQ(7, sg_fmt_copy_ascii(d, sizeof d, "a\tb\xc3\xa9~\x7f!", 9));
  ASSERT_STR_EQ("a?b??~?", d);
  ASSERT_EQ(3, sg_fmt_copy_ascii(d, sizeof d, "abc", 3));
  ASSERT_STR_EQ("abc", d);
  /* Every byte value at every place of 1 to 70 bytes, cut or not by |cap|. */
  char src[70], got[72], want[72];
  for (size_t n = 1; n <= sizeof src; n++) {
    for (unsigned c = 0; c < 256; c += 3) {
      size_t at = (c * 7) % n;
      memset(src, 'a' + (int)(n % 26), sizeof src);
      src[at] = (char)c;
      src[(at + 17) % n] = (char)(255 - c);
      size_t cap = c % 2 ? sizeof got : n; /* odd: room for all; even: the last byte cut */
      size_t k = n < cap - 1 ? n : cap - 1;
      for (size_t i = 0; i < k; i++)
        want[i] = (unsigned char)src[i] < 0x20 || (unsigned char)src[i] > 0x7e ? '?' : src[i];
      want[k] = '\0';
      memset(got, 'Z', sizeof got);
      ASSERT_EQ(k, sg_fmt_copy_ascii(got, cap, src, n));
      ASSERT_STR_EQ(want, got);
      if (k + 1 < sizeof got)
        ASSERT_EQ('Z', got[k + 1]); /* nothing written past the NUL */
    }
  }
}

SG_TESTS({"decimal", t_decimal}, {"hex", t_hex}, {"copy", t_copy}, {"copy_utf8", t_copy_utf8},
         {"copy_ascii", t_copy_ascii}, {"guid", t_guid})
