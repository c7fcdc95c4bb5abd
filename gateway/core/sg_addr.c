/* SPDX-License-Identifier: Apache-2.0 */
/* E-mail address syntax check; see sg_addr.h. */
#include "core/sg_addr.h"

#include <string.h>

static bool atext(unsigned char c) {
  if (c >= 0x80)
    return true; /* UTF-8 (SMTPUTF8); validity of the sequence is checked elsewhere */
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
    return true;
  return strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL && c != '\0';
}

static bool label_char(unsigned char c) {
  return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '-';
}

static bool domain_valid(const char *d, size_t n) {
  if (n == 0 || n > 253)
    return false;
  if (d[0] == '[')
    return n > 2 && d[n - 1] == ']' && memchr(d, ' ', n) == NULL;
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
  if (at == NULL)
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
  return domain_valid(at + 1, n - ln - 1);
}

const char *sg_addr_domain(const char *s) {
  const char *at = strrchr(s, '@');
  return at ? at + 1 : NULL;
}
