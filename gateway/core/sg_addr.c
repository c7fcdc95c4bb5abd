/* SPDX-License-Identifier: Apache-2.0 */
/* E-mail address syntax check; see sg_addr.h. */
#include "core/sg_addr.h"

#include "core/sg_utf8.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* UTF-8 C1 controls (U+0080..U+009F) are 0xC2 0x80..0x9F. */
static bool c1_at(const unsigned char *p, size_t left) {
  return left >= 2 && p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F;
}

bool sg_has_ctl(const char *s, size_t n, bool allow_tab) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  while (i < n) {
#if defined(__SSE2__)
    /* Printable ASCII 16 bytes at a time; the signed compare also stops at
     * 0x80..0xff, where a C1 control may start. */
    const __m128i space = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f);
    while (i + 16 <= n) {
      __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
      unsigned mask = (unsigned)_mm_movemask_epi8(
          _mm_or_si128(_mm_cmplt_epi8(v, space), _mm_cmpeq_epi8(v, del)));
      if (mask) {
        i += (size_t)__builtin_ctz(mask);
        break;
      }
      i += 16;
    }
    if (i >= n)
      break;
#endif
    unsigned char c = p[i];
    if (c < 0x20 ? !(allow_tab && c == '\t') : c == 0x7f || c1_at(p + i, n - i))
      return true;
    i++;
  }
  return false;
}

/* An address literal (RFC 5321 4.1.3): [IPv4] or [IPv6:...]; nothing else. */
static bool literal_valid(const char *d, size_t n) {
  char ip[64];
  if (n < 3 || d[n - 1] != ']' || n - 2 >= sizeof ip)
    return false;
  memcpy(ip, d + 1, n - 2);
  ip[n - 2] = '\0';
  unsigned char bin[16];
  if (strncasecmp(ip, "IPv6:", 5) == 0)
    return inet_pton(AF_INET6, ip + 5, bin) == 1;
  return inet_pton(AF_INET, ip, bin) == 1;
}

#define B(c) (1u << ((c)&31))
/* RFC 5322 atext below 0x80, one bit each: letters, digits and
 * !#$%&'*+-/=?^_`{|}~ (one table lookup a byte, no strchr). */
static const uint32_t k_atext[4] = {
    0,
    B('!') | B('#') | B('$') | B('%') | B('&') | B('\'') | B('*') | B('+') | B('-') | B('/') |
        0x3FFu << ('0' & 31) | B('=') | B('?'),
    0x3FFFFFFu << ('A' & 31) | B('^') | B('_'),
    B('`') | 0x3FFFFFFu << ('a' & 31) | B('{') | B('|') | B('}') | B('~')};
#undef B

static bool atext(unsigned char c) {
  if (c >= 0x80)
    return true; /* UTF-8 (SMTPUTF8): sg_addr_valid checks the sequences */
  return k_atext[c >> 5] >> (c & 31) & 1u;
}

static bool label_char(unsigned char c) {
  return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '-';
}

static bool domain_valid(const char *d, size_t n) {
  if (n == 0 || n > 253)
    return false;
  if (d[0] == '[')
    return literal_valid(d, n);
  size_t labels = 0, len = 0;
  for (size_t i = 0; i <= n; i++) {
    if (i == n || d[i] == '.') {
      if (len == 0 || len > 63 || d[i - 1] == '-' || d[i - len] == '-')
        return false;
      labels++;
      len = 0;
      continue;
    }
    if (!label_char((unsigned char)d[i]))
      return false;
    len++;
  }
  return labels >= 2;
}

bool sg_addr_valid(const char *s, size_t n) {
  if (n == 0 || n > 254)
    return false;
  const char *at = NULL;
  for (size_t i = n; i > 0; i--)
    if (s[i - 1] == '@') {
      at = s + i - 1;
      break;
    }
  if (at == NULL || sg_has_ctl(s, n, false))
    return false;
  size_t ln = (size_t)(at - s);
  if (ln == 0 || ln > 64 || s[0] == '.' || s[ln - 1] == '.')
    return false;
  for (size_t i = 0; i < ln; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '.') {
      if (s[i + 1] == '.')
        return false;
      continue;
    }
    if (!atext(c))
      return false;
  }
  /* Bytes of 0x80 or more must form UTF-8 (RFC 6531): a lone 0xff or an
   * overlong sequence is no address, whatever its parts look like. */
  return domain_valid(at + 1, n - ln - 1) && sg_utf8_valid(s, n);
}

const char *sg_addr_domain(const char *s) {
  const char *at = strrchr(s, '@');
  return at ? at + 1 : NULL;
}
