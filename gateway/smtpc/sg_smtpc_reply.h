/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SMTP replies as a client reads them (RFC 5321 4.2): one or more lines
 * "ddd-text" ending with "ddd text" (or a bare "ddd"), all with the same
 * code, each ending in CRLF (a bare LF is tolerated, as Postfix does), and
 * the enhanced status code of RFC 3463 ("5.7.30") at the start of the text
 * when the server gives one. Pure and stateless: the caller keeps the bytes
 * received so far and asks again when more arrive; every bound is fixed here
 * (line length, line count, kept text), so a hostile server cannot make the
 * parser use more than the caller's input cap. Interpreting a reply is the
 * business of sg_smtpc_proto (which state) and sg_smtpc_classify (outcome).
 */
#ifndef SG_SMTPC_REPLY_H
#define SG_SMTPC_REPLY_H

#include <stdbool.h>
#include <stddef.h>

/* RFC 5321 4.5.3.1.5 says 512 octets for a reply line; servers exceed it
 * with long texts (Exchange's diagnostics), so we take 2048, as Postfix's
 * line_length_limit default does. */
#define SG_SMTPC_REPLY_LINE_MAX 2048
/* Lines of one reply: an EHLO reply has one per extension (about 15). */
#define SG_SMTPC_REPLY_LINES_MAX 128
/* Text kept from one reply (lines joined with '\n'); the rest is cut. */
#define SG_SMTPC_REPLY_TEXT_MAX 4096

typedef struct sg_smtpc_reply {
  int code;     /* 200..599 */
  char enh[16]; /* "5.7.30", or "" when the first line carries none */
  unsigned nlines;
  /* The lines' texts (without "ddd-"/"ddd "), joined with '\n'; the first
   * line's enhanced code and the space after it are not included.
   * NUL-terminated; cut at SG_SMTPC_REPLY_TEXT_MAX - 1 bytes. */
  char text[SG_SMTPC_REPLY_TEXT_MAX];
  size_t text_len;
} sg_smtpc_reply;

/*
 * Parses one complete reply from the start of |p| (|n| bytes). On success
 * fills |*out| and sets |*used| to the bytes it took (the caller drops them;
 * what follows may be the next reply). Returns 0 or one of: SG_ERR_AGAIN
 * (the reply is not complete yet; nothing used), SG_ERR_PARSE (not an SMTP
 * reply: a line without a three-digit code 2xx..5xx, a code that changes
 * between lines, a line over SG_SMTPC_REPLY_LINE_MAX or a reply over
 * SG_SMTPC_REPLY_LINES_MAX lines, a NUL byte).
 */
int sg_smtpc_reply_parse(const char *p, size_t n, sg_smtpc_reply *out, size_t *used);

/* The reply's class: 2, 3, 4 or 5. */
static inline int sg_smtpc_reply_class(const sg_smtpc_reply *r) {
  return r->code / 100;
}

/*
 * Iterates over the lines of r->text: call with *pos 0 first; returns false
 * when there are no more. |*line| points into r->text (not NUL-terminated),
 * |*len| is its length.
 */
bool sg_smtpc_reply_next_line(const sg_smtpc_reply *r, size_t *pos, const char **line, size_t *len);

#endif
