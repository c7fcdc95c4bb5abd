/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 5322 header fields and address lists; see sg_mail_hdr.h. */
#include "job/sg_mail_hdr.h"

#include <string.h>
#include <strings.h>

size_t sg_mail_hdr_len(const char *msg, size_t len) {
  size_t pos = 0;
  while (pos < len) {
    const char *nl = memchr(msg + pos, '\n', len - pos);
    size_t end = nl ? (size_t)(nl - msg) + 1 : len;
    size_t n = end - pos;
    if ((n == 1 && msg[pos] == '\n') || (n == 2 && msg[pos] == '\r' && msg[pos + 1] == '\n'))
      return end;
    pos = end;
  }
  return len;
}

typedef struct collector {
  char bare[SG_MAIL_ADDR_MAX + 1], angle[SG_MAIL_ADDR_MAX + 1];
  size_t nbare, nangle;
  bool has_angle, overflow;
  size_t count;
  sg_mail_addr_cb cb;
  void *ud;
} collector;

static void put(char *buf, size_t *n, bool *overflow, char c) {
  if (*n < SG_MAIL_ADDR_MAX)
    buf[(*n)++] = c;
  else
    *overflow = true;
}

static void emit(collector *c) {
  char *s = c->has_angle ? c->angle : c->bare;
  size_t n = c->has_angle ? c->nangle : c->nbare;
  s[n] = '\0';
  if (c->has_angle) { /* an obsolete route "@a,@b:x@y" keeps only x@y */
    char *colon = strrchr(s, ':');
    if (colon != NULL && s[0] == '@')
      s = colon + 1;
  }
  if (s[0] != '\0' || c->overflow) {
    c->cb(c->overflow ? "" : s, c->ud);
    c->count++;
  }
  c->nbare = c->nangle = 0;
  c->has_angle = c->overflow = false;
}

size_t sg_mail_addr_list(const char *s, size_t n, sg_mail_addr_cb cb, void *ud) {
  collector c;
  memset(&c, 0, sizeof c);
  c.cb = cb;
  c.ud = ud;
  bool in_angle = false;
  for (size_t i = 0; i < n; i++) {
    char ch = s[i];
    if (ch == '(') { /* comment, nested, with quoted-pairs */
      int depth = 1;
      for (i++; i < n && depth > 0; i++) {
        if (s[i] == '\\')
          i++;
        else if (s[i] == '(')
          depth++;
        else if (s[i] == ')')
          depth--;
      }
      i--;
      continue;
    }
    if (ch == '"') { /* quoted string: kept verbatim (a quoted local part) */
      char *buf = in_angle ? c.angle : c.bare;
      size_t *len = in_angle ? &c.nangle : &c.nbare;
      put(buf, len, &c.overflow, '"');
      for (i++; i < n && s[i] != '"'; i++) {
        if (s[i] == '\\' && i + 1 < n)
          put(buf, len, &c.overflow, s[i++]);
        put(buf, len, &c.overflow, s[i]);
      }
      put(buf, len, &c.overflow, '"');
      continue;
    }
    if (in_angle) {
      if (ch == '>')
        in_angle = false;
      else if (ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n')
        put(c.angle, &c.nangle, &c.overflow, ch);
      continue;
    }
    switch (ch) {
    case '<':
      in_angle = c.has_angle = true;
      c.nangle = 0;
      break;
    case ',':
      emit(&c);
      break;
    case ':': /* a group's display name ends; its members follow */
      c.nbare = 0;
      c.has_angle = c.overflow = false;
      break;
    case ';':
      emit(&c);
      break;
    case ' ':
    case '\t':
    case '\r':
    case '\n':
      break;
    default:
      put(c.bare, &c.nbare, &c.overflow, ch);
    }
  }
  if (in_angle)
    c.overflow = true; /* "<a@b" without its '>': reported as "", not guessed */
  emit(&c);
  return c.count;
}

/* The unit of the header section at |pos|: a field's first line and its
 * continuation lines (starting with SP or HT), or a line that is not a field.
 * Returns where the next unit starts. */
static size_t next_unit(const char *hdr, size_t hlen, size_t pos) {
  do {
    const char *nl = memchr(hdr + pos, '\n', hlen - pos);
    pos = nl ? (size_t)(nl - hdr) + 1 : hlen;
  } while (pos < hlen && (hdr[pos] == ' ' || hdr[pos] == '\t'));
  return pos;
}

/* The name of the field |f| (|flen| bytes) and its length, or 0 when |f| is
 * not a field (the empty line, a line without ':'). */
static size_t field_name(const char *f, size_t flen) {
  const char *colon = memchr(f, ':', flen);
  if (colon == NULL || f[0] == ' ' || f[0] == '\t')
    return 0;
  size_t nlen = (size_t)(colon - f);
  while (nlen > 0 && (f[nlen - 1] == ' ' || f[nlen - 1] == '\t'))
    nlen--;
  return nlen;
}

size_t sg_mail_hdr_next(const char *hdr, size_t hlen, size_t pos, size_t *name_len) {
  size_t next = next_unit(hdr, hlen, pos);
  *name_len = field_name(hdr + pos, next - pos);
  return next;
}

static bool name_is(const char *name, size_t nlen, const char *want) {
  return nlen > 0 && strlen(want) == nlen && strncasecmp(name, want, nlen) == 0;
}

size_t sg_mail_hdr_addrs(const char *hdr, size_t hlen, const char *name, sg_mail_addr_cb cb,
                         void *ud) {
  size_t fields = 0;
  sg_buf val = SG_BUF_INIT;
  for (size_t pos = 0, next; pos < hlen; pos = next) {
    next = next_unit(hdr, hlen, pos);
    const char *f = hdr + pos;
    size_t nlen = field_name(f, next - pos);
    if (!name_is(f, nlen, name))
      continue;
    fields++;
    sg_buf_reset(&val);
    for (const char *p = (const char *)memchr(f, ':', next - pos) + 1; p < hdr + next; p++)
      if (*p != '\r' && *p != '\n') /* unfolded */
        sg_buf_append_char(&val, *p);
    sg_mail_addr_list(val.data ? val.data : "", val.len, cb, ud);
  }
  sg_buf_free(&val);
  return fields;
}

static void ignore_addr(const char *addr, void *ud) {
  (void)addr, (void)ud;
}

bool sg_mail_hdr_has(const char *hdr, size_t hlen, const char *name) {
  return sg_mail_hdr_addrs(hdr, hlen, name, ignore_addr, NULL) > 0;
}

size_t sg_mail_hdr_remove(sg_buf *b, size_t *hlen, const char *name) {
  sg_buf out = SG_BUF_INIT;
  size_t removed = 0;
  for (size_t pos = 0, next; pos < *hlen; pos = next) {
    next = next_unit(b->data, *hlen, pos);
    const char *f = b->data + pos;
    if (name_is(f, field_name(f, next - pos), name))
      removed++;
    else
      sg_buf_append(&out, f, next - pos);
  }
  if (removed == 0) {
    sg_buf_free(&out);
    return 0;
  }
  size_t new_hlen = out.len;
  sg_buf_append(&out, b->data + *hlen, b->len - *hlen);
  sg_buf_free(b);
  *b = out;
  *hlen = new_hlen;
  return removed;
}
