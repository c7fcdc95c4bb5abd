/* SPDX-License-Identifier: Apache-2.0 */
/* JSON string escaping and scalar writing; see sg_json_write.h. */
#include "json/sg_json_write.h"

#include <inttypes.h>
#include <string.h>

size_t sg_utf8_seq(const unsigned char *p, size_t n) {
  unsigned char c = p[0];
  if (c < 0x80)
    return 1;
  size_t len;
  uint32_t cp;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (len > n)
    return 0;
  for (size_t i = 1; i < len; i++) {
    if ((p[i] & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return len;
}

bool sg_utf8_valid(const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  while (i < n) {
    /* ASCII runs, eight bytes at a time: most text is ASCII. */
    while (i + 8 <= n) {
      uint64_t w;
      memcpy(&w, p + i, 8);
      if (w & 0x8080808080808080ull)
        break;
      i += 8;
    }
    while (i < n && p[i] < 0x80)
      i++;
    if (i == n)
      break;
    size_t k = sg_utf8_seq(p + i, n - i);
    if (k == 0)
      return false;
    i += k;
  }
  return true;
}

/* Length of the leading run of bytes that need no escaping (0x20..0x7f but '"'
 * and '\\'), eight bytes at a time while it lasts (SWAR: each test is exact
 * as a yes/no for the whole word). */
static size_t plain_run(const unsigned char *p, size_t n) {
  const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  size_t i = 0;
  while (i + 8 <= n) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');
    uint64_t bad = (w & highs) | ((w - ones * 0x20) & ~w & highs) | ((q - ones) & ~q & highs) |
                   ((bs - ones) & ~bs & highs);
    if (bad)
      break;
    i += 8;
  }
  while (i < n && p[i] >= 0x20 && p[i] < 0x80 && p[i] != '"' && p[i] != '\\')
    i++;
  return i;
}

void sg_jw_escape(sg_buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  sg_buf_reserve(b, n + 8);
  while (i < n) {
    /* Copy the longest run that needs no escaping in one go. */
    size_t run = i + plain_run(p + i, n - i);
    if (run > i) {
      sg_buf_append(b, p + i, run - i);
      i = run;
      continue;
    }
    unsigned char c = p[i];
    if (c >= 0x80) {
      size_t k = sg_utf8_seq(p + i, n - i);
      if (k == 0) {
        sg_buf_append(b, "\\ufffd", 6);
        i++;
      } else {
        sg_buf_append(b, p + i, k);
        i += k;
      }
      continue;
    }
    switch (c) {
    case '"':
      sg_buf_append(b, "\\\"", 2);
      break;
    case '\\':
      sg_buf_append(b, "\\\\", 2);
      break;
    case '\n':
      sg_buf_append(b, "\\n", 2);
      break;
    case '\r':
      sg_buf_append(b, "\\r", 2);
      break;
    case '\t':
      sg_buf_append(b, "\\t", 2);
      break;
    case '\b':
      sg_buf_append(b, "\\b", 2);
      break;
    case '\f':
      sg_buf_append(b, "\\f", 2);
      break;
    default: {
      char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      sg_buf_append(b, u, 6);
    }
    }
    i++;
  }
}

size_t sg_jw_escaped_len(const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  size_t out = 0, i = 0;
  while (i < n) {
    size_t run = plain_run(p + i, n - i);
    out += run;
    i += run;
    if (i >= n)
      break;
    unsigned char c = p[i];
    if (c >= 0x80) {
      size_t k = sg_utf8_seq(p + i, n - i);
      out += k ? k : 6; /* invalid bytes become \ufffd */
      i += k ? k : 1;
      continue;
    }
    if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f')
      out += 2;
    else if (c < 0x20)
      out += 6; /* \u00XX */
    else
      out += 1;
    i++;
  }
  return out;
}

void sg_jw_str(sg_buf *b, const char *s, size_t n) {
  sg_buf_append_char(b, '"');
  sg_jw_escape(b, s, n);
  sg_buf_append_char(b, '"');
}

void sg_jw_cstr(sg_buf *b, const char *s) { sg_jw_str(b, s ? s : "", s ? strlen(s) : 0); }

void sg_jw_key(sg_buf *b, const char *key) {
  sg_buf_append_char(b, '"');
  sg_buf_append_str(b, key);
  sg_buf_append(b, "\":", 2);
}

void sg_jw_int(sg_buf *b, int64_t v) { sg_buf_printf(b, "%" PRId64, v); }

void sg_jw_bool(sg_buf *b, bool v) {
  if (v)
    sg_buf_append(b, "true", 4);
  else
    sg_buf_append(b, "false", 5);
}
