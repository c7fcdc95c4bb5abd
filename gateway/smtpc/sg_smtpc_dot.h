/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A message's bytes as SMTP DATA carries them (RFC 5321 4.5.2, 2.3.8): every
 * line ends in CRLF (a bare LF or a bare CR becomes CRLF, as Postfix's
 * smtp client does), a line that starts with '.' gets one more, and the data
 * ends with CRLF "." CRLF. The encoder streams from the caller's memory in
 * chunks of a chosen size, so a large message is never copied whole a second
 * time. sg_smtpc_dot_scan checks a message before anything is sent: lines of
 * at most 998 octets (RFC 5322 2.1.1; the limit counts the line without its
 * CRLF), no NUL, and reports what the MAIL command needs to say (8-bit data,
 * 8-bit header fields, the encoded size). Pure.
 */
#ifndef SG_SMTPC_DOT_H
#define SG_SMTPC_DOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sg_mem.h"

/* RFC 5322 2.1.1 / RFC 5321 4.5.3.1.6: a line is at most 998 octets + CRLF. */
#define SG_SMTPC_LINE_MAX 998

typedef struct sg_smtpc_msg_info {
  bool has_8bit;       /* a byte >= 0x80 anywhere: BODY=8BITMIME */
  bool header_8bit;    /* one in the header section: SMTPUTF8 (RFC 6532) */
  uint64_t wire_size;  /* bytes sg_smtpc_dot_fill produces, terminator included */
  size_t longest_line; /* octets, CRLF excluded */
  size_t bad_line;     /* 1-based number of the first offending line, or 0 */
  size_t bad_line_len; /* its length */
} sg_smtpc_msg_info;

/*
 * Scans the |n| bytes of |msg|. Returns 0, or one of: SG_ERR_TOOBIG (a line
 * over SG_SMTPC_LINE_MAX octets: info->bad_line and bad_line_len say which),
 * SG_ERR_PARSE (a NUL byte, on line info->bad_line; SMTP DATA cannot carry
 * it), SG_ERR_INVAL (empty message). |info| is filled either way.
 */
int sg_smtpc_dot_scan(const uint8_t *msg, size_t n, sg_smtpc_msg_info *info);

/* The streaming encoder's position in one message. */
typedef struct sg_smtpc_dot {
  const uint8_t *src; /* borrowed: the whole message */
  size_t n, off;
  bool bol;  /* at the start of an output line */
  bool cr;   /* the last source byte was a CR not yet followed */
  bool done; /* the terminator has been produced */
} sg_smtpc_dot;

/* Starts encoding |src| (|n| bytes, borrowed until done). */
void sg_smtpc_dot_init(sg_smtpc_dot *d, const uint8_t *src, size_t n);

/*
 * Appends at most about |budget| encoded bytes (at least one source line
 * segment; never more than |budget| + 16) to |out|, ending with the
 * terminator once the source is used up. Returns the bytes appended; 0 when
 * done.
 */
size_t sg_smtpc_dot_fill(sg_smtpc_dot *d, sg_buf *out, size_t budget);

#endif
