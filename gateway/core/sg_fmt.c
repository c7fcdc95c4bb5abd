/* SPDX-License-Identifier: Apache-2.0 */
/* Formatting without printf; see sg_fmt.h. */
#include "core/sg_fmt.h"

#include <string.h>

size_t sg_fmt_u64(char *out, uint64_t v) {
  if (v < 10) { /* most RESP lengths and counts are short */
    out[0] = (char)('0' + v);
    out[1] = '\0';
    return 1;
  }
  if (v < 100) {
    out[0] = (char)('0' + v / 10);
    out[1] = (char)('0' + v % 10);
    out[2] = '\0';
    return 2;
  }
  char tmp[20];
  size_t n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  for (size_t i = 0; i < n; i++)
    out[i] = tmp[n - 1 - i];
  out[n] = '\0';
  return n;
}

size_t sg_fmt_i64(char *out, int64_t v) {
  if (v >= 0)
    return sg_fmt_u64(out, (uint64_t)v);
  out[0] = '-';
  /* -(v + 1) + 1 keeps INT64_MIN in range. */
  return 1 + sg_fmt_u64(out + 1, (uint64_t)(-(v + 1)) + 1u);
}

size_t sg_fmt_hex(char *out, uint64_t v, unsigned digits) {
  static const char hex[] = "0123456789abcdef";
  if (digits == 0 || digits > 16)
    digits = 16;
  for (unsigned i = digits; i-- > 0;) {
    out[i] = hex[v & 15];
    v >>= 4;
  }
  out[digits] = '\0';
  return digits;
}

size_t sg_fmt_copy(char *dst, size_t cap, const char *src) {
  size_t n = strlen(src);
  if (n >= cap)
    n = cap - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
  return n;
}

size_t sg_fmt_copy_utf8(char *dst, size_t cap, const char *src, size_t n) {
  size_t k = n < cap - 1 ? n : cap - 1;
  if (k < n)
    while (k > 0 && ((unsigned char)src[k] & 0xC0) == 0x80)
      k--;
  for (size_t i = 0; i < k; i++) {
    unsigned char c = (unsigned char)src[i];
    dst[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
  }
  dst[k] = '\0';
  return k;
}

size_t sg_fmt_copy_ascii(char *dst, size_t cap, const char *src, size_t n) {
  size_t k = n < cap - 1 ? n : cap - 1;
  for (size_t i = 0; i < k; i++) {
    unsigned char c = (unsigned char)src[i];
    dst[i] = (c < 0x20 || c > 0x7e) ? '?' : (char)c;
  }
  dst[k] = '\0';
  return k;
}

size_t sg_fmt_guid(char out[37], uint64_t x, uint64_t y) {
  char *p = out;
  p += sg_fmt_hex(p, x >> 32, 8);
  *p++ = '-';
  p += sg_fmt_hex(p, x >> 16, 4);
  *p++ = '-';
  *p++ = '4';
  p += sg_fmt_hex(p, x, 3);
  *p++ = '-';
  p += sg_fmt_hex(p, ((y >> 48) & 0x3fff) | 0x8000, 4);
  *p++ = '-';
  p += sg_fmt_hex(p, y, 12);
  return (size_t)(p - out);
}
