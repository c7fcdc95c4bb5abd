/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/sg_base64: RFC 4648 vectors, strict decoding, wrapping, base64url. */
#include "harness.h"

#include <openssl/sha.h>

#include "core/sg_base64.h"
#include "core/sg_err.h"
#include "core/sg_mem.h"

static const struct {
  const char *plain, *b64, *url;
} rfc4648[] = {
    /* RFC 4648 §10; base64url differs only by dropping the padding here. */
    {"", "", ""},
    {"f", "Zg==", "Zg"},
    {"fo", "Zm8=", "Zm8"},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg==", "Zm9vYg"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
};

static void t_vectors(void) {
  sg_buf b = SG_BUF_INIT;
  for (size_t i = 0; i < SG_ARRAY_LEN(rfc4648); i++) {
    size_t n = strlen(rfc4648[i].plain);
    ASSERT_EQ(strlen(rfc4648[i].b64), sg_base64_len(n));
    sg_buf_reset(&b);
    sg_base64_encode(&b, rfc4648[i].plain, n);
    ASSERT_STR_EQ(rfc4648[i].b64, b.data);
    sg_buf_reset(&b);
    sg_base64url_encode(&b, rfc4648[i].plain, n);
    ASSERT_STR_EQ(rfc4648[i].url, b.data);
    sg_buf_reset(&b);
    ASSERT_OK(sg_base64_decode(&b, rfc4648[i].b64, strlen(rfc4648[i].b64), false));
    ASSERT_EQ(n, b.len);
    ASSERT_STR_EQ(rfc4648[i].plain, b.data);
    ASSERT(sg_base64_valid(rfc4648[i].b64, strlen(rfc4648[i].b64), false));
  }
  /* Appends, never overwrites. */
  sg_buf_reset(&b);
  sg_buf_append_str(&b, "x:");
  sg_base64_encode(&b, "foo", 3);
  ASSERT_STR_EQ("x:Zm9v", b.data);
  ASSERT_OK(sg_base64_decode(&b, "Zm8=", 4, false));
  ASSERT_STR_EQ("x:Zm9vfo", b.data);
  sg_buf_free(&b);
}

static void t_alphabets(void) {
  /* 0xfbefbe is four sextets of 62 ('+' or '-'); 0xff starts with 63 ('/' or '_'). */
  const unsigned char in[] = {0xfb, 0xef, 0xbe, 0xfb, 0xef, 0xbe, 0xff};
  sg_buf b = SG_BUF_INIT;
  sg_base64_encode(&b, in, sizeof in);
  ASSERT_STR_EQ("++++++++/w==", b.data);
  sg_buf_reset(&b);
  sg_base64url_encode(&b, in, sizeof in);
  ASSERT_STR_EQ("--------_w", b.data);
  sg_buf_reset(&b);
  const unsigned char all[] = {0xff, 0xff, 0xff};
  sg_base64_encode(&b, all, 3);
  ASSERT_STR_EQ("////", b.data);
  sg_buf_reset(&b);
  sg_base64url_encode(&b, all, 3);
  ASSERT_STR_EQ("____", b.data);
  /* The url alphabet is not accepted by the standard decoder. */
  ASSERT(!sg_base64_valid("____", 4, false));
  ASSERT(!sg_base64_valid("--8=", 4, false));
  sg_buf_free(&b);
}

static void t_roundtrip(void) {
  unsigned char data[300];
  for (size_t i = 0; i < sizeof data; i++)
    data[i] = (unsigned char)(i * 37 + 11);
  sg_buf e = SG_BUF_INIT, d = SG_BUF_INIT;
  for (size_t n = 0; n <= sizeof data; n++) {
    sg_buf_reset(&e);
    sg_buf_reset(&d);
    sg_base64_encode(&e, data, n);
    ASSERT_EQ(sg_base64_len(n), e.len);
    ASSERT_OK(sg_base64_decode(&d, e.data, e.len, false));
    ASSERT_EQ(n, d.len);
    ASSERT_MEM_EQ(data, d.data, n);
    /* base64url is the same text with - _ and no padding. */
    sg_buf u = SG_BUF_INIT;
    sg_base64url_encode(&u, data, n);
    size_t unpadded = e.len;
    while (unpadded > 0 && e.data[unpadded - 1] == '=')
      unpadded--;
    ASSERT_EQ(unpadded, u.len);
    for (size_t k = 0; k < u.len; k++) {
      char c = e.data[k] == '+' ? '-' : e.data[k] == '/' ? '_' : e.data[k];
      ASSERT_EQ(c, u.data[k]);
    }
    sg_buf_free(&u);
  }
  sg_buf_free(&e);
  sg_buf_free(&d);
}

static void t_acs_empty_hash(void) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256((const unsigned char *)"", 0, md);
  sg_buf b = SG_BUF_INIT;
  sg_base64_encode(&b, md, sizeof md);
  ASSERT_STR_EQ("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", b.data);
  /* And the ACS sample key from microsoft-apis.md decodes to bytes 0..31. */
  sg_buf_reset(&b);
  const char *key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
  ASSERT_OK(sg_base64_decode(&b, key, strlen(key), false));
  ASSERT_EQ(32, b.len);
  for (int i = 0; i < 32; i++)
    ASSERT_EQ(i, (unsigned char)b.data[i]);
  sg_buf_free(&b);
}

static void reject(const char *s, bool allow_ws) {
  sg_buf b = SG_BUF_INIT;
  if (sg_base64_decode(&b, s, strlen(s), allow_ws) != SG_ERR_PARSE)
    SG_FAIL_("decode accepted <%s>", s);
  if (sg_base64_valid(s, strlen(s), allow_ws))
    SG_FAIL_("valid accepted <%s>", s);
  sg_buf_free(&b);
}

static void accept_(const char *s, bool allow_ws, const char *want) {
  sg_buf b = SG_BUF_INIT;
  if (sg_base64_decode(&b, s, strlen(s), allow_ws) != 0)
    SG_FAIL_("decode rejected <%s>", s);
  ASSERT(sg_base64_valid(s, strlen(s), allow_ws));
  ASSERT_EQ(strlen(want), b.len);
  ASSERT_STR_EQ(want, b.len ? b.data : "");
  sg_buf_free(&b);
}

static void t_strict(void) {
  /* Missing or wrong padding, wrong lengths. */
  reject("Zg", false);
  reject("Zg=", false);
  reject("Zg===", false);
  reject("Zm8", false);
  reject("Z", false);
  reject("Z===", false);
  reject("====", false);
  reject("=", false);
  reject("Zm9vY", false);
  reject("Zm9vYg=", false);
  /* Padding only at the end. */
  reject("Zg==Zg==", false);
  reject("Zm=8", false);
  reject("Zg==Z", false);
  reject("Zm8=Zm9v", false);
  /* Bad characters. */
  reject("Zm9v!", false);
  reject("Zm9-", false);
  reject("Zm9_", false);
  reject("Zm\x80v", false);
  ASSERT(!sg_base64_valid("Zm\0v", 4, false));
  ASSERT(!sg_base64_valid("Zm\0v", 4, true));
  reject("Zm9v\n", false);
  reject("Zm 9v", false);
  /* Blanks are skipped only when allowed, and only CR LF SP HT. */
  accept_("Zm9v\r\nYmFy", true, "foobar");
  accept_(" Zm9v\tYg= =\n", true, "foob");
  accept_("\r\n", true, "");
  reject("Zm9v\vYmFy", true);
  reject("Zm9v\fYmFy", true);
  reject("Zg==\r\nZg==", true);
  reject("Zg\r\n", true);
  /* Empty input decodes to nothing. */
  accept_("", false, "");
  /* Non-zero pad bits are accepted (documented choice). */
  accept_("Zh==", false, "f");
  accept_("Zm9=", false, "fo");
}

static void t_wrapped(void) {
  unsigned char data[200];
  for (size_t i = 0; i < sizeof data; i++)
    data[i] = (unsigned char)i;
  sg_buf flat = SG_BUF_INIT, w = SG_BUF_INIT, d = SG_BUF_INIT;
  size_t widths[] = {0, 4, 7, 64, 76, 1000};
  for (size_t n = 0; n <= sizeof data; n += 1) {
    sg_buf_reset(&flat);
    sg_base64_encode(&flat, data, n);
    for (size_t k = 0; k < SG_ARRAY_LEN(widths); k++) {
      size_t wrap = widths[k];
      sg_buf_reset(&w);
      sg_base64_encode_wrapped(&w, data, n, wrap);
      /* Lines of exactly |wrap| characters joined by CRLF, the last one
       * shorter or equal, and no CRLF at the end. */
      size_t pos = 0, off = 0;
      while (pos < w.len) {
        const char *crlf = strstr(w.data + pos, "\r\n");
        size_t line = crlf ? (size_t)(crlf - (w.data + pos)) : w.len - pos;
        if (crlf)
          ASSERT_EQ(wrap, line);
        else
          ASSERT(wrap == 0 || line <= wrap);
        ASSERT(line > 0);
        ASSERT_MEM_EQ(flat.data + off, w.data + pos, line);
        off += line;
        pos += line + (crlf ? 2 : 0);
      }
      ASSERT_EQ(flat.len, off);
      ASSERT(w.len < 2 || memcmp(w.data + w.len - 2, "\r\n", 2) != 0);
      sg_buf_reset(&d);
      ASSERT_OK(sg_base64_decode(&d, w.data, w.len, true));
      ASSERT_EQ(n, d.len);
      ASSERT_MEM_EQ(data, d.data, n);
      if (wrap && flat.len > wrap)
        ASSERT_EQ(SG_ERR_PARSE, sg_base64_decode(&d, w.data, w.len, false));
    }
  }
  /* 57 bytes make exactly one 76-character line: no CRLF at all. */
  sg_buf_reset(&w);
  sg_base64_encode_wrapped(&w, data, 57, 76);
  ASSERT_EQ(76, w.len);
  sg_buf_reset(&w);
  sg_base64_encode_wrapped(&w, data, 114, 76);
  ASSERT_EQ(76 * 2 + 2, w.len);
  sg_buf_free(&flat);
  sg_buf_free(&w);
  sg_buf_free(&d);
}

static void t_large(void) {
  size_t n = 3 * 1024 * 1024 + 1;
  unsigned char *data = sg_xmalloc(n);
  for (size_t i = 0; i < n; i++)
    data[i] = (unsigned char)(i ^ (i >> 8));
  sg_buf e = SG_BUF_INIT, d = SG_BUF_INIT;
  sg_base64_encode_wrapped(&e, data, n, 76);
  ASSERT_OK(sg_base64_decode(&d, e.data, e.len, true));
  ASSERT_EQ(n, d.len);
  ASSERT_MEM_EQ(data, d.data, n);
  sg_buf_free(&e);
  sg_buf_free(&d);
  sg_free(data);
}

SG_TESTS({"vectors", t_vectors}, {"alphabets", t_alphabets}, {"roundtrip", t_roundtrip},
         {"acs_empty_hash", t_acs_empty_hash}, {"strict", t_strict}, {"wrapped", t_wrapped},
         {"large", t_large})
