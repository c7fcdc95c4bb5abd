/* SPDX-License-Identifier: Apache-2.0 */
/* DATA body reader; see sg_smtp_data.h. */
#include "smtp/sg_smtp_data.h"

#include <string.h>

enum {
  ST_BOL,    /* at the start of a line (after CRLF, or at the start of data) */
  ST_DOT,    /* "." at the start of a line */
  ST_DOT_CR, /* ".\r" at the start of a line */
  ST_MID,    /* inside a line */
  ST_CR,     /* "\r" inside a line */
};

void sg_smtp_data_init(sg_smtp_data *d, size_t max_bytes) {
  memset(d, 0, sizeof *d);
  d->state = ST_BOL;
  d->max_bytes = max_bytes;
}

static void emit(sg_smtp_data *d, const uint8_t *p, size_t n, sg_buf *out) {
  d->total += n;
  if (d->total > d->max_bytes)
    d->flags |= SG_SMTP_DATA_TOO_BIG;
  if (d->flags == 0)
    sg_buf_append(out, p, n);
}

/* |n| octets of line content. */
static void content(sg_smtp_data *d, const uint8_t *p, size_t n, sg_buf *out) {
  d->line_len += n;
  if (d->line_len > SG_SMTP_MAX_DATA_LINE)
    d->flags |= SG_SMTP_DATA_LONG_LINE;
  emit(d, p, n, out);
}

size_t sg_smtp_data_feed(sg_smtp_data *d, const uint8_t *p, size_t n, sg_buf *out, bool *done) {
  static const uint8_t crlf[2] = {'\r', '\n'}, dot = '.', cr = '\r';
  *done = false;
  size_t i = 0;
  while (i < n) {
    uint8_t c = p[i];
    switch (d->state) {
    case ST_BOL:
      if (c == '.') {
        d->state = ST_DOT;
        i++;
        continue;
      }
      d->state = ST_MID;
      continue; /* the same byte, inside the line */
    case ST_DOT:
      if (c == '\r') {
        d->state = ST_DOT_CR;
        i++;
        continue;
      }
      /* The leading dot was stuffing (or a client that forgot to stuff): drop it. */
      d->state = ST_MID;
      continue;
    case ST_DOT_CR:
      if (c == '\n') {
        *done = true;
        return i + 1;
      }
      /* ".\r" then something else: the CR is bare. The dot was content. */
      d->flags |= SG_SMTP_DATA_BARE_CR;
      content(d, &dot, 1, out);
      content(d, &cr, 1, out);
      d->state = ST_MID;
      continue;
    case ST_CR:
      if (c == '\n') {
        emit(d, crlf, 2, out);
        d->line_len = 0;
        d->state = ST_BOL;
        i++;
        continue;
      }
      d->flags |= SG_SMTP_DATA_BARE_CR;
      content(d, &cr, 1, out);
      d->state = ST_MID;
      continue;
    default: { /* ST_MID: take the run of plain octets at once */
      size_t j = i;
      while (j < n && p[j] != '\r' && p[j] != '\n')
        j++;
      if (j > i)
        content(d, p + i, j - i, out);
      i = j;
      if (i == n)
        break;
      if (p[i] == '\n') {
        /* A bare LF never ends a line here: "\n.\n" stays inside the message. */
        d->flags |= SG_SMTP_DATA_BARE_LF;
        content(d, p + i, 1, out);
      } else {
        d->state = ST_CR;
      }
      i++;
    }
    }
  }
  return i;
}
