/* SPDX-License-Identifier: Apache-2.0 */
/* Dot-stuffing, CRLF normalisation and the line check; see sg_smtpc_dot.h. */
#include "smtpc/sg_smtpc_dot.h"

#include <string.h>

#include "core/sg_err.h"

int sg_smtpc_dot_scan(const uint8_t *msg, size_t n, sg_smtpc_msg_info *info) {
  memset(info, 0, sizeof *info);
  if (n == 0)
    return SG_ERR_INVAL;
  size_t line = 1;
  bool in_header = true, bol = true;
  uint64_t wire = 0;
  int rv = 0;
  /* A line at a time: memchr finds the breaks and NULs, a loop without
   * exits (vectorised) ORs the bytes for the 8-bit test. */
  size_t i = 0;
  while (i < n) {
    const uint8_t *p = msg + i;
    size_t rest = n - i;
    const uint8_t *lf = memchr(p, '\n', rest);
    size_t seg = lf ? (size_t)(lf - p) : rest;
    const uint8_t *cr = memchr(p, '\r', seg);
    if (cr)
      seg = (size_t)(cr - p);
    if (rv == 0) {
      const uint8_t *nul = memchr(p, '\0', seg);
      if (nul && (size_t)(nul - p) <= SG_SMTPC_LINE_MAX) {
        rv = SG_ERR_PARSE;
        info->bad_line = line;
        info->bad_line_len = 0;
      } else if (seg > SG_SMTPC_LINE_MAX) {
        rv = SG_ERR_TOOBIG;
        info->bad_line = line;
        info->bad_line_len = seg;
      }
    }
    uint8_t acc = 0;
    for (size_t k = 0; k < seg; k++)
      acc |= p[k];
    if (acc & 0x80) {
      info->has_8bit = true;
      if (in_header)
        info->header_8bit = true;
    }
    if (seg > 0 && p[0] == '.')
      wire++;
    wire += seg;
    if (seg > info->longest_line)
      info->longest_line = seg;
    i += seg;
    if (i == n) {
      bol = seg == 0;
      break;
    }
    /* a line break: CRLF, a bare CR or a bare LF */
    i += msg[i] == '\r' && i + 1 < n && msg[i + 1] == '\n' ? 2 : 1;
    if (seg == 0 && in_header)
      in_header = false; /* the empty line ends the header section */
    wire += 2;
    line++;
    bol = true;
  }
  if (!bol)
    wire += 2; /* the last line gets its CRLF */
  info->wire_size = wire + 3;
  return rv;
}

void sg_smtpc_dot_init(sg_smtpc_dot *d, const uint8_t *src, size_t n) {
  memset(d, 0, sizeof *d);
  d->src = src;
  d->n = n;
  d->bol = true;
}

size_t sg_smtpc_dot_fill(sg_smtpc_dot *d, sg_buf *out, size_t budget) {
  if (d->done)
    return 0;
  size_t start = out->len;
  sg_buf_reserve(out, budget + 16);
  while (out->len - start < budget && d->off < d->n) {
    uint8_t c = d->src[d->off];
    if (d->cr) { /* a CR before: CRLF whatever follows; a LF after it is eaten */
      d->cr = false;
      sg_buf_append(out, "\r\n", 2);
      d->bol = true;
      if (c == '\n') {
        d->off++;
        continue;
      }
    }
    if (c == '\r') {
      d->cr = true;
      d->off++;
      continue;
    }
    if (c == '\n') {
      sg_buf_append(out, "\r\n", 2);
      d->bol = true;
      d->off++;
      continue;
    }
    if (d->bol && c == '.')
      sg_buf_append_char(out, '.');
    /* Copy the run up to the next line break, within the budget. */
    size_t room = budget > out->len - start ? budget - (out->len - start) : 1;
    size_t end = d->off, lim = d->n - d->off < room ? d->n : d->off + room;
    while (end < lim && d->src[end] != '\r' && d->src[end] != '\n')
      end++;
    if (end == d->off)
      end++;
    sg_buf_append(out, d->src + d->off, end - d->off);
    d->off = end;
    d->bol = false;
  }
  if (d->off == d->n) {
    if (d->cr) {
      d->cr = false;
      sg_buf_append(out, "\r\n", 2);
      d->bol = true;
    }
    if (!d->bol)
      sg_buf_append(out, "\r\n", 2);
    sg_buf_append(out, ".\r\n", 3);
    d->done = true;
  }
  return out->len - start;
}
