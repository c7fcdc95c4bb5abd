/* SPDX-License-Identifier: Apache-2.0 */
/* Dot-stuffing, CRLF normalisation and the line check; see sg_smtpc_dot.h. */
#include "smtpc/sg_smtpc_dot.h"

#include <string.h>

#include "core/sg_err.h"

int sg_smtpc_dot_scan(const uint8_t *msg, size_t n, sg_smtpc_msg_info *info) {
  memset(info, 0, sizeof *info);
  if (n == 0)
    return SG_ERR_INVAL;
  size_t line = 1, len = 0;
  bool in_header = true, bol = true;
  uint64_t wire = 0;
  int rv = 0;
  for (size_t i = 0; i < n; i++) {
    uint8_t c = msg[i];
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < n && msg[i + 1] == '\n')
        i++;
      if (len == 0 && in_header)
        in_header = false; /* the empty line ends the header section */
      if (len > info->longest_line)
        info->longest_line = len;
      wire += 2;
      line++;
      len = 0;
      bol = true;
      continue;
    }
    if (c == '\0' && rv == 0) {
      rv = SG_ERR_PARSE;
      info->bad_line = line;
      info->bad_line_len = 0;
    }
    if (c >= 0x80) {
      info->has_8bit = true;
      if (in_header)
        info->header_8bit = true;
    }
    if (bol && c == '.')
      wire++;
    bol = false;
    wire++;
    if (++len == SG_SMTPC_LINE_MAX + 1 && rv == 0) {
      rv = SG_ERR_TOOBIG;
      info->bad_line = line;
    }
    if (rv == SG_ERR_TOOBIG && info->bad_line == line)
      info->bad_line_len = len;
  }
  if (len > info->longest_line)
    info->longest_line = len;
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
