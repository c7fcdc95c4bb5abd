/* SPDX-License-Identifier: Apache-2.0 */
/* x-www-form-urlencoded parsing; see sg_sbx_form.h. */
#include "sandbox/sg_sbx_form.h"

#include <string.h>

#include "core/sg_err.h"

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int sg_sbx_form_decode(sg_buf *out, const char *s, size_t n) {
  sg_buf_reserve(out, n);
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '\0')
      return SG_ERR_PARSE;
    if (c == '+') {
      c = ' ';
    } else if (c == '%') {
      if (n - i < 3)
        return SG_ERR_PARSE;
      int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
      if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
        return SG_ERR_PARSE;
      c = (char)(hi * 16 + lo);
      i += 2;
    }
    sg_buf_append_char(out, c);
  }
  out->data[out->len] = '\0'; /* reserved above, also when nothing was appended */
  return 0;
}

void sg_sbx_form_free(sg_sbx_form *f) {
  for (size_t i = 0; i < f->n; i++) {
    sg_free(f->pairs[i].key);
    sg_free(f->pairs[i].value);
  }
  sg_free(f->pairs);
  f->pairs = NULL;
  f->n = 0;
}

int sg_sbx_form_parse(sg_sbx_form *f, const char *s, size_t n) {
  if (n > SG_SBX_FORM_MAX_BYTES)
    return SG_ERR_TOOBIG;
  size_t cap = 0;
  const char *p = s, *end = s + n;
  int rv = 0;
  while (p < end) {
    const char *amp = memchr(p, '&', (size_t)(end - p));
    const char *seg_end = amp ? amp : end;
    if (seg_end > p) {
      if (f->n == SG_SBX_FORM_MAX_PAIRS) {
        rv = SG_ERR_TOOBIG;
        break;
      }
      const char *eq = memchr(p, '=', (size_t)(seg_end - p));
      const char *kend = eq ? eq : seg_end;
      sg_buf k = SG_BUF_INIT, v = SG_BUF_INIT;
      sg_buf_reserve(&v, 0); /* a key without '=' still gets a "" value */
      v.data[0] = '\0';
      rv = sg_sbx_form_decode(&k, p, (size_t)(kend - p));
      if (rv == 0 && eq)
        rv = sg_sbx_form_decode(&v, eq + 1, (size_t)(seg_end - eq - 1));
      if (rv != 0) {
        sg_buf_free(&k);
        sg_buf_free(&v);
        break;
      }
      if (f->n == cap) {
        cap = cap ? cap * 2 : 8;
        f->pairs = sg_xrealloc(f->pairs, cap * sizeof(*f->pairs));
      }
      sg_sbx_form_pair *pair = &f->pairs[f->n++];
      pair->key = sg_buf_steal(&k, &pair->key_len);
      pair->value = sg_buf_steal(&v, &pair->value_len);
    }
    p = amp ? amp + 1 : end;
  }
  if (rv != 0)
    sg_sbx_form_free(f);
  return rv;
}

const char *sg_sbx_form_get(const sg_sbx_form *f, const char *key) {
  size_t kl = strlen(key);
  for (size_t i = 0; i < f->n; i++)
    if (f->pairs[i].key_len == kl && memcmp(f->pairs[i].key, key, kl) == 0)
      return f->pairs[i].value;
  return NULL;
}

size_t sg_sbx_form_count(const sg_sbx_form *f, const char *key) {
  size_t kl = strlen(key), c = 0;
  for (size_t i = 0; i < f->n; i++)
    if (f->pairs[i].key_len == kl && memcmp(f->pairs[i].key, key, kl) == 0)
      c++;
  return c;
}
