/* SPDX-License-Identifier: Apache-2.0 */
/* SMTP reply parsing; see sg_smtpc_reply.h. */
#include "smtpc/sg_smtpc_reply.h"

#include <string.h>

#include "core/sg_err.h"

static bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

/* Length of an RFC 3463 code "c.sss.ddd" at |p| (|n| bytes) of class |cls|,
 * followed by a space or the end of the line; 0 when there is none. */
static size_t enh_len(const char *p, size_t n, int cls) {
  if (n < 5 || p[0] != (char)('0' + cls) || p[1] != '.')
    return 0;
  size_t i = 2, d = 0;
  while (i < n && is_digit(p[i]) && d < 3)
    i++, d++;
  if (d == 0 || i >= n || p[i] != '.')
    return 0;
  i++;
  d = 0;
  while (i < n && is_digit(p[i]) && d < 3)
    i++, d++;
  if (d == 0 || (i < n && p[i] != ' '))
    return 0;
  return i;
}

static void add_text(sg_smtpc_reply *out, const char *p, size_t n) {
  size_t room = sizeof out->text - 1 - out->text_len;
  if (out->nlines > 1 && room > 0) {
    out->text[out->text_len++] = '\n';
    room--;
  }
  if (n > room)
    n = room;
  memcpy(out->text + out->text_len, p, n);
  out->text_len += n;
  out->text[out->text_len] = '\0';
}

int sg_smtpc_reply_parse(const char *p, size_t n, sg_smtpc_reply *out, size_t *used) {
  memset(out, 0, offsetof(sg_smtpc_reply, text) + 1);
  out->text_len = 0;
  size_t off = 0;
  for (;;) {
    const char *line = p + off;
    size_t avail = n - off;
    const char *nl = memchr(line, '\n', avail);
    size_t scan = nl ? (size_t)(nl - line) : avail;
    if (memchr(line, '\0', scan))
      return SG_ERR_PARSE;
    if (!nl)
      return avail > SG_SMTPC_REPLY_LINE_MAX ? SG_ERR_PARSE : SG_ERR_AGAIN;
    size_t len = scan; /* without the LF */
    if (len > 0 && line[len - 1] == '\r')
      len--;
    if (len > SG_SMTPC_REPLY_LINE_MAX)
      return SG_ERR_PARSE;
    if (len < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2]) ||
        line[0] < '2' || line[0] > '5' || (len > 3 && line[3] != ' ' && line[3] != '-'))
      return SG_ERR_PARSE;
    int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (out->nlines > 0 && code != out->code)
      return SG_ERR_PARSE;
    if (++out->nlines > SG_SMTPC_REPLY_LINES_MAX)
      return SG_ERR_PARSE;
    out->code = code;
    const char *text = len > 3 ? line + 4 : line + 3;
    size_t tlen = len > 3 ? len - 4 : 0;
    if (out->nlines == 1) {
      size_t e = enh_len(text, tlen, code / 100);
      if (e > 0 && e < sizeof out->enh) {
        memcpy(out->enh, text, e);
        out->enh[e] = '\0';
        text += e;
        tlen -= e;
        if (tlen > 0) /* the space after the code */
          text++, tlen--;
      }
    }
    add_text(out, text, tlen);
    off += scan + 1;
    if (len == 3 || line[3] == ' ') {
      *used = off;
      return 0;
    }
  }
}

bool sg_smtpc_reply_next_line(const sg_smtpc_reply *r, size_t *pos, const char **line,
                              size_t *len) {
  if (*pos > r->text_len || (*pos == r->text_len && (*pos > 0 || r->nlines == 0)))
    return false;
  const char *s = r->text + *pos;
  const char *e = memchr(s, '\n', r->text_len - *pos);
  size_t l = e ? (size_t)(e - s) : r->text_len - *pos;
  *line = s;
  *len = l;
  *pos += l + 1;
  return true;
}
