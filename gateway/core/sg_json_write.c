/* SPDX-License-Identifier: Apache-2.0 */
/* JSON string escaping and scalar writing; see sg_json_write.h. */
#include "core/sg_json_write.h"

#include <inttypes.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/sg_clock.h"
#include "core/sg_utf8.h"

#if defined(__SSE2__)
/* The bytes among the 16 of |v| that need escaping, one bit each. Signed
 * compare: below 0x20 are the controls and 0x80..0xff (negative). */
static inline unsigned stop_mask(__m128i v) {
  const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  return (unsigned)_mm_movemask_epi8(_mm_or_si128(
      _mm_cmplt_epi8(v, space), _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash))));
}

static inline __m128i load16(const unsigned char *p) {
  return _mm_loadu_si128((const __m128i *)(const void *)p);
}
#endif

/* Length of the leading run of bytes that need no escaping (0x20..0x7f but '"'
 * and '\\'). SSE2 (every x86-64) tests 16 bytes at a time; elsewhere eight
 * at a time in a word (SWAR). Either way the first byte that needs escaping
 * is found exactly, without a second byte-by-byte scan. */
static size_t plain_run(const unsigned char *p, size_t n) {
  size_t i = 0;
#if defined(__SSE2__)
  while (i + 16 <= n) {
    unsigned mask = stop_mask(load16(p + i));
    if (mask)
      return i + (size_t)__builtin_ctz(mask);
    i += 16;
  }
#endif
  const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  while (i + 8 <= n) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');
    /* Each term flags its lowest matching byte exactly (a borrow can only
     * flag bytes above a real match), so the lowest flag is the answer. */
    uint64_t bad = (w & highs) | ((w - ones * 0x20) & ~w & highs) | ((q - ones) & ~q & highs) |
                   ((bs - ones) & ~bs & highs);
    if (bad) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
      return i + (size_t)__builtin_ctzll(bad) / 8;
#else
      break;
#endif
    }
    i += 8;
  }
  while (i < n && p[i] >= 0x20 && p[i] < 0x80 && p[i] != '"' && p[i] != '\\')
    i++;
  return i;
}

/* The escape sequence of |c| (ASCII that plain_run stopped at) into |o|. */
static size_t escape_ascii(unsigned char c, char *o) {
  static const char hex[] = "0123456789abcdef";
  char e = 0;
  switch (c) {
  case '"':
    e = '"';
    break;
  case '\\':
    e = '\\';
    break;
  case '\n':
    e = 'n';
    break;
  case '\r':
    e = 'r';
    break;
  case '\t':
    e = 't';
    break;
  case '\b':
    e = 'b';
    break;
  case '\f':
    e = 'f';
    break;
  default:
    memcpy(o, "\\u00", 4);
    o[4] = hex[c >> 4];
    o[5] = hex[c & 15];
    return 6;
  }
  o[0] = '\\';
  o[1] = e;
  return 2;
}

/* Copies the leading run of |p| that needs no escaping to |o| (room for |n|
 * bytes) and returns its length. With SSE2 a block of 16 is stored whole as
 * it is tested, also past the byte that ends the run (the caller overwrites
 * from there), and the last bytes of a string of 16 or more are one block
 * that overlaps the one before: no memcpy call per run. */
static size_t copy_run(char *o, const unsigned char *p, size_t n) {
  size_t i = 0;
#if defined(__SSE2__)
  if (n >= 16) {
    for (; i + 16 <= n; i += 16) {
      __m128i v = load16(p + i);
      _mm_storeu_si128((__m128i *)(void *)(o + i), v);
      unsigned mask = stop_mask(v);
      if (mask)
        return i + (size_t)__builtin_ctz(mask);
    }
    if (i == n)
      return n;
    /* Bytes n-16 .. i-1 were tested and stored already (the same values). */
    __m128i v = load16(p + n - 16);
    _mm_storeu_si128((__m128i *)(void *)(o + n - 16), v);
    unsigned mask = stop_mask(v) >> (i - (n - 16));
    return mask ? i + (size_t)__builtin_ctz(mask) : n;
  }
#endif
  size_t run = plain_run(p + i, n - i);
  memcpy(o + i, p + i, run);
  return i + run;
}

/* Written straight into the buffer: runs of plain bytes by copy_run, an
 * escape at most 6 bytes, and the buffer is grown only when the rest might
 * not fit (never per byte). */
void sg_jw_escape(sg_buf *b, const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  sg_buf_reserve(b, n + 8);
  while (i < n) {
    if (b->cap - b->len < n - i + 7) /* the rest as a run, one escape (<= 6) and the NUL */
      sg_buf_reserve(b, n - i + 6 + (n - i) / 8);
    char *o = b->data + b->len;
    size_t run = copy_run(o, p + i, n - i);
    o += run;
    i += run;
    if (i < n) {
      unsigned char c = p[i];
      if (c < 0x80) {
        o += escape_ascii(c, o);
        i++;
      } else {
        size_t k = sg_utf8_seq(p + i, n - i);
        if (k == 0) { /* not UTF-8: the replacement character */
          memcpy(o, "\\ufffd", 6);
          o += 6;
          i++;
        } else {
          memcpy(o, p + i, k);
          o += k;
          i += k;
        }
      }
    }
    b->len = (size_t)(o - b->data);
  }
  if (b->cap)
    b->data[b->len] = '\0';
}

#if defined(__SSE2__)
/* The bytes among the 16 of |v| escaped in two bytes (\" \\ \n \r \t \b \f). */
static inline unsigned short_escapes(__m128i v) {
  __m128i m =
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
  m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n')),
                                   _mm_cmpeq_epi8(v, _mm_set1_epi8('\r'))));
  m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\t')),
                                   _mm_cmpeq_epi8(v, _mm_set1_epi8('\b'))));
  m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8('\f')));
  return (unsigned)_mm_movemask_epi8(m);
}

/* What escaping adds to each control character: \b \t \n \f \r one byte,
 * the others (\u00XX) five. */
static const unsigned char k_ctl_extra[32] = {5, 5, 5, 5, 5, 5, 5, 5, 1, 1, 1, 5, 1, 1, 5, 5,
                                              5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5};

/* Set bits of a 16-bit mask (usually none or one: no popcount call). */
static inline size_t bits16(unsigned m) {
  size_t n = 0;
  for (; m; m &= m - 1)
    n++;
  return n;
}
#endif

size_t sg_jw_escaped_len(const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  size_t out = 0, i = 0;
  while (i < n) {
#if defined(__SSE2__)
    /* Blocks of ASCII counted whole: an escape is one byte more (\n) or
     * five (\u00XX); a block with a byte of 0x80 or more goes the exact way
     * below (UTF-8 sequences, \ufffd for invalid ones). */
    for (; i + 16 <= n; i += 16) {
      __m128i v = load16(p + i);
      unsigned stop = stop_mask(v);
      if (stop == 0) {
        out += 16;
        continue;
      }
      if (_mm_movemask_epi8(v))
        break;
      if ((stop & (stop - 1)) == 0) { /* one escape (text with line breaks) */
        unsigned char c = p[i + (size_t)__builtin_ctz(stop)];
        out += 16 + (c < 0x20 ? k_ctl_extra[c] : 1u);
        continue;
      }
      unsigned two = short_escapes(v);
      out += 16 + bits16(two) + 5 * bits16(stop & ~two);
    }
    if (i >= n)
      break;
#endif
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

void sg_jw_cstr(sg_buf *b, const char *s) {
  sg_jw_str(b, s ? s : "", s ? strlen(s) : 0);
}

void sg_jw_key(sg_buf *b, const char *key) {
  sg_buf_append_char(b, '"');
  sg_buf_append_str(b, key);
  sg_buf_append(b, "\":", 2);
}

void sg_jw_int(sg_buf *b, int64_t v) {
  sg_buf_printf(b, "%" PRId64, v);
}

void sg_jw_bool(sg_buf *b, bool v) {
  if (v)
    sg_buf_append(b, "true", 4);
  else
    sg_buf_append(b, "false", 5);
}

void sg_jw_member(sg_buf *b, const char *key) {
  if (b->len > 0 && b->data[b->len - 1] != '{' && b->data[b->len - 1] != '[')
    sg_buf_append_char(b, ',');
  sg_jw_key(b, key);
}

void sg_jw_mstr(sg_buf *b, const char *key, const char *v) {
  sg_jw_member(b, key);
  if (v)
    sg_jw_cstr(b, v);
  else
    sg_buf_append(b, "null", 4);
}

void sg_jw_mint(sg_buf *b, const char *key, int64_t v) {
  sg_jw_member(b, key);
  sg_jw_int(b, v);
}

void sg_jw_mbool(sg_buf *b, const char *key, bool v) {
  sg_jw_member(b, key);
  sg_jw_bool(b, v);
}

void sg_jw_mnull(sg_buf *b, const char *key) {
  sg_jw_member(b, key);
  sg_buf_append(b, "null", 4);
}

void sg_jw_mtime(sg_buf *b, const char *key, int64_t unix_ms) {
  char ms_key[64];
  size_t n = strlen(key);
  if (n > sizeof ms_key - 4)
    n = sizeof ms_key - 4;
  memcpy(ms_key, key, n);
  memcpy(ms_key + n, "_ms", 4);
  if (unix_ms == 0) {
    sg_jw_mnull(b, key);
    sg_jw_mnull(b, ms_key);
    return;
  }
  char t[32];
  sg_time_rfc3339(unix_ms, t);
  sg_jw_mstr(b, key, t);
  sg_jw_mint(b, ms_key, unix_ms);
}
