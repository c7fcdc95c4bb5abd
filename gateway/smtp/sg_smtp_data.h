/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DATA body reader (RFC 5321 4.1.1.4, 4.5.2): removes dot-stuffing and
 * finds the end of data, which is <CRLF>.<CRLF> and nothing else. A bare LF
 * or a bare CR anywhere in the data marks the message as refused (it is read
 * to its real end all the same), so "\n.\n", "\r.\r" or "\n.\r\n" can never
 * end a message early and smuggle a second one behind it (SMTP smuggling,
 * 2023). Lines longer than 998 octets (RFC 5322 2.1.1) and messages over the
 * size cap are marked too; the reader keeps reading to the end of data so the
 * session stays in step with the client. Pure: bytes in, message bytes out.
 */
#ifndef SG_SMTP_DATA_H
#define SG_SMTP_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sg_mem.h"

/* RFC 5322 2.1.1: at most 998 characters per line, CRLF excluded. */
#define SG_SMTP_MAX_DATA_LINE 998

/* Why a message read by the reader is refused (bits of sg_smtp_data.flags). */
enum {
  SG_SMTP_DATA_BARE_LF = 1u << 0,
  SG_SMTP_DATA_BARE_CR = 1u << 1,
  SG_SMTP_DATA_LONG_LINE = 1u << 2,
  SG_SMTP_DATA_TOO_BIG = 1u << 3,
};

typedef struct sg_smtp_data {
  int state;
  size_t line_len;  /* octets of the current line so far */
  size_t max_bytes; /* cap of the message (unstuffed, CRLFs included) */
  size_t total;     /* message octets seen (also past the cap) */
  unsigned flags;   /* SG_SMTP_DATA_* */
} sg_smtp_data;

/* Starts reading a message (right after the 354 reply) capped at |max_bytes|. */
void sg_smtp_data_init(sg_smtp_data *d, size_t max_bytes);

/*
 * Reads up to |n| bytes of |p|. Message bytes are appended to |out| (the
 * final CRLF before the dot included, the terminating ".\r\n" not) as long as
 * no flag is set; after that nothing more is appended (what |out| holds of
 * a refused message is not defined). Returns how many bytes
 * were consumed; sets *done when the end of data was reached, in which case
 * the bytes after it were not consumed (they are the next command).
 */
size_t sg_smtp_data_feed(sg_smtp_data *d, const uint8_t *p, size_t n, sg_buf *out, bool *done);

#endif
