/* SPDX-License-Identifier: Apache-2.0 */
/* From: addresses of a message; see sg_smtp_hdr.h. */
#include "smtp/sg_smtp_hdr.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "core/sg_err.h"
#include "job/sg_mail_hdr.h"

typedef struct from_acc {
  sg_buf *out;
  int n;
  bool bad; /* an address too long or malformed */
} from_acc;

static void on_addr(const char *addr, void *ud) {
  from_acc *c = ud;
  if (addr[0] == '\0') {
    c->bad = true;
    return;
  }
  sg_buf_append_str(c->out, addr);
  sg_buf_append_char(c->out, '\0');
  c->n++;
}

int sg_smtp_hdr_from(const uint8_t *msg, size_t n, sg_buf *out) {
  const char *m = (const char *)msg;
  size_t hlen = sg_mail_hdr_len(m, n);
  size_t mark = out->len;
  from_acc c = {out, 0, false};
  size_t fields = sg_mail_hdr_addrs(m, hlen, "From", on_addr, &c);
  if (fields == 0)
    return 0;
  if (fields > 1 || c.bad || c.n == 0) {
    out->len = mark; /* what this call appended goes again */
    if (out->data)
      out->data[mark] = '\0';
    return SG_ERR_PARSE;
  }
  return c.n;
}

size_t sg_smtp_hdr_value(const char *hdr, size_t hlen, const char *name, char *out, size_t cap) {
  size_t want = strlen(name), pos = 0, k = 0;
  out[0] = '\0';
  while (pos < hlen) {
    size_t nlen, end = sg_mail_hdr_next(hdr, hlen, pos, &nlen);
    if (nlen != want || strncasecmp(hdr + pos, name, want) != 0) {
      pos = end;
      continue;
    }
    const char *v = memchr(hdr + pos, ':', end - pos);
    if (v == NULL)
      return 0;
    for (v++; v < hdr + end && k + 1 < cap; v++) {
      unsigned char c = (unsigned char)*v;
      if (c == '\r' || c == '\n' || (k == 0 && (c == ' ' || c == '\t')))
        continue; /* unfolding (the blank after the line end stays), leading blanks */
      out[k++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    break;
  }
  while (k > 0 && out[k - 1] == ' ')
    k--;
  out[k] = '\0';
  return k;
}
