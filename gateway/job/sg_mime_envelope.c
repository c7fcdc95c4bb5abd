/* SPDX-License-Identifier: Apache-2.0 */
/* A MIME message's header section rewritten for its envelope; see sg_mime_envelope.h. */
#include "job/sg_mime_envelope.h"

#include "job/sg_mail_hdr.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#define MAX_RCPTS 1024 /* Graph takes at most 1,000 recipients; the codec checks that */

typedef struct field_check {
  const char *const *rcpts;
  size_t n;
  bool all_in; /* every address of the field is an envelope recipient */
  bool *covered;
} field_check;

static size_t find(const char *const *rcpts, size_t n, const char *addr) {
  for (size_t i = 0; i < n; i++)
    if (strcasecmp(rcpts[i], addr) == 0)
      return i;
  return n;
}

static void on_check(const char *addr, void *ud) {
  field_check *c = ud;
  if (find(c->rcpts, c->n, addr) == c->n)
    c->all_in = false;
}

static void on_cover(const char *addr, void *ud) {
  field_check *c = ud;
  size_t i = find(c->rcpts, c->n, addr);
  if (i < c->n)
    c->covered[i] = true;
}

static bool named(const char *f, size_t nlen, const char *name) {
  return nlen == strlen(name) && strncasecmp(f, name, nlen) == 0;
}

/* The length of the header fields, without the blank line that ends them
 * (|hlen| from sg_mail_hdr_len: it includes that line when there is one). */
static size_t fields_len(const char *m, size_t hlen) {
  if (hlen >= 1 && m[hlen - 1] == '\n') {
    size_t b = hlen >= 2 && m[hlen - 2] == '\r' ? hlen - 2 : hlen - 1;
    if (b == 0 || m[b - 1] == '\n')
      return b; /* the last line, [b, hlen), is blank */
  }
  return hlen;
}

void sg_mime_envelope(const uint8_t *mime, size_t len, const char *const *rcpts, size_t n,
                      sg_buf *out) {
  const char *m = (const char *)mime;
  size_t fields_end = fields_len(m, sg_mail_hdr_len(m, len));
  bool covered_stack[64] = {false};
  bool *covered = n <= 64 ? covered_stack : sg_xcalloc(n, sizeof *covered);
  size_t start = out->len, pos = 0;
  while (pos < fields_end) {
    size_t nlen, end = sg_mail_hdr_next(m, fields_end, pos, &nlen);
    const char *f = m + pos;
    size_t flen = end - pos;
    bool to = named(f, nlen, "To"), cc = named(f, nlen, "Cc");
    if (named(f, nlen, "Bcc")) {
      pos = end; /* the Bcc field below replaces it */
      continue;
    }
    if (to || cc) {
      size_t vo = (size_t)((const char *)memchr(f, ':', flen) - f) + 1; /* the value */
      field_check c = {rcpts, n, true, covered};
      sg_mail_addr_list(f + vo, flen - vo, on_check, &c);
      if (c.all_in) {
        sg_mail_addr_list(f + vo, flen - vo, on_cover, &c);
        sg_buf_append(out, f, flen);
      } else {
        sg_buf_append_str(out, to ? "X-Original-To:" : "X-Original-Cc:");
        /* (the name and any blanks before the colon are dropped with it) */
        sg_buf_append(out, f + vo, flen - vo);
      }
      pos = end;
      continue;
    }
    sg_buf_append(out, f, flen);
    pos = end;
  }
  /* A field cut short at the end of the header section still needs its line end. */
  if (out->len > start && out->data[out->len - 1] != '\n')
    sg_buf_append_str(out, "\r\n");
  bool first = true;
  for (size_t i = 0; i < n && i < MAX_RCPTS; i++) {
    if (covered[i])
      continue;
    sg_buf_append_str(out, first ? "Bcc: " : ",\r\n ");
    sg_buf_append_str(out, rcpts[i]);
    first = false;
  }
  if (!first)
    sg_buf_append_str(out, "\r\n");
  sg_buf_append(out, m + fields_end, len - fields_end);
  if (covered != covered_stack)
    sg_free(covered);
}
