/* SPDX-License-Identifier: Apache-2.0 */
/* Formatting without printf; see sg_fmt.h. */
#include "core/sg_fmt.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* "00" to "99": two digits per division. */
static const char k_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233"
    "34353637383940414243444546474849505152535455565758596061626364656667"
    "6869707172737475767778798081828384858687888990919293949596979899";

/* 10^0 .. 10^19 (every power of ten a uint64_t holds). */
static const uint64_t k_pow10[20] = {1u,
                                     10u,
                                     100u,
                                     1000u,
                                     10000u,
                                     100000u,
                                     1000000u,
                                     10000000u,
                                     100000000u,
                                     1000000000u,
                                     10000000000u,
                                     100000000000u,
                                     1000000000000u,
                                     10000000000000u,
                                     100000000000000u,
                                     1000000000000000u,
                                     10000000000000000u,
                                     100000000000000000u,
                                     1000000000000000000u,
                                     10000000000000000000u};

size_t sg_fmt_u64(char *out, uint64_t v) {
  if (v < 10) { /* most RESP lengths and counts are short */
    out[0] = (char)('0' + v);
    out[1] = '\0';
    return 1;
  }
  /* The digit count from the bit length (1233 / 4096 ~ log10(2)), corrected
   * by one comparison, instead of a division per digit (ledger fields and
   * packed values have 19 digits); then written from the end two at a time. */
  unsigned t = ((64u - (unsigned)__builtin_clzll(v)) * 1233u) >> 12;
  size_t n = t + 1 - (v < k_pow10[t]);
  char *p = out + n;
  *p = '\0';
  while (v >= 100) {
    unsigned d = (unsigned)(v % 100) * 2;
    v /= 100;
    *--p = k_pairs[d + 1];
    *--p = k_pairs[d];
  }
  if (v >= 10) {
    *--p = k_pairs[v * 2 + 1];
    *--p = k_pairs[v * 2];
  } else {
    *--p = (char)('0' + v);
  }
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

#if defined(__SSE2__)
/* The 16 bytes at |src| to |dst|, each outside 0x20..0x7e as '?'. */
static void ascii16(char *dst, const char *src) {
  __m128i v = _mm_loadu_si128((const __m128i *)(const void *)src);
  /* Signed compare: below 0x20 are the controls and 0x80..0xff (negative). */
  __m128i bad =
      _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)), _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));
  v = _mm_or_si128(_mm_andnot_si128(bad, v), _mm_and_si128(bad, _mm_set1_epi8('?')));
  _mm_storeu_si128((__m128i *)(void *)dst, v);
}
#endif

size_t sg_fmt_copy_ascii(char *dst, size_t cap, const char *src, size_t n) {
  size_t k = n < cap - 1 ? n : cap - 1;
#if defined(__SSE2__)
  if (k >= 16) { /* blocks of 16, the last one overlapping the one before */
    for (size_t i = 0; i + 16 <= k; i += 16)
      ascii16(dst + i, src + i);
    ascii16(dst + k - 16, src + k - 16);
    dst[k] = '\0';
    return k;
  }
#endif
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
