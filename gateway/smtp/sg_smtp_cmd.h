/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SMTP command lines (RFC 5321 4.1, with the ESMTP parameters sendgate
 * advertises: SIZE (RFC 1870), BODY=8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531),
 * AUTH= (RFC 4954, ignored)). Parses one line, without its CRLF, into a verb
 * and arguments, or says which reply a malformed line gets (500/501/555 with
 * enhanced status codes, RFC 2034). Pure: no I/O, no state; what a command
 * means in the session's current state is sg_smtp_session's business.
 */
#ifndef SG_SMTP_CMD_H
#define SG_SMTP_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 5321 4.5.3.1.4: a command line is at most 512 octets, CRLF included. */
#define SG_SMTP_MAX_LINE 512
/* RFC 5321 4.5.3.1.3: a reverse-path or forward-path is at most 256 octets,
 * the angle brackets included. */
#define SG_SMTP_MAX_PATH 256
/* RFC 5321 4.5.3.1.8: a server must take at least 100 recipients; we take
 * exactly that many per message (then 452 4.5.3). */
#define SG_SMTP_MAX_RCPTS 100
/* RFC 5321 4.5.3.1.2: a domain name is at most 255 octets. */
#define SG_SMTP_MAX_DOMAIN 255

typedef enum {
  SG_SMTP_CMD_EHLO,
  SG_SMTP_CMD_HELO,
  SG_SMTP_CMD_MAIL,
  SG_SMTP_CMD_RCPT,
  SG_SMTP_CMD_DATA,
  SG_SMTP_CMD_RSET,
  SG_SMTP_CMD_NOOP,
  SG_SMTP_CMD_QUIT,
  SG_SMTP_CMD_STARTTLS,
  SG_SMTP_CMD_AUTH,
  SG_SMTP_CMD_VRFY,
  SG_SMTP_CMD_HELP,
} sg_smtp_verb;

typedef enum {
  SG_SMTP_BODY_7BIT = 0,
  SG_SMTP_BODY_8BITMIME,
} sg_smtp_body;

typedef struct sg_smtp_cmd {
  sg_smtp_verb verb;
  /* EHLO/HELO: the client's domain or address literal. MAIL/RCPT: the
   * address between the angle brackets ("" for the null sender <>).
   * AUTH: the mechanism, upper-cased. VRFY/HELP: the argument as given. */
  char arg[SG_SMTP_MAX_LINE];
  /* AUTH: the initial response ("=" for an empty one), when has_initial. */
  char initial[SG_SMTP_MAX_LINE];
  bool has_initial;
  /* MAIL parameters. */
  bool has_size;
  uint64_t size;
  sg_smtp_body body;
  bool smtputf8;
} sg_smtp_cmd;

/*
 * Parses the command line |line| (|n| bytes, CRLF removed) into |out|.
 * Verbs are case-insensitive; "MAIL FROM:" and "RCPT TO:" accept one space
 * before the path, as common clients send. Addresses are checked with
 * core/sg_addr.h; an address with 8-bit bytes needs the SMTPUTF8 parameter
 * (checked by the session for RCPT). Returns 0, or SG_ERR_PARSE with
 * *reply set to a static reply line without CRLF ("501 5.5.4 ...").
 */
int sg_smtp_cmd_parse(const char *line, size_t n, sg_smtp_cmd *out, const char **reply);

/* True when |s| holds a byte >= 0x80. */
bool sg_smtp_has_8bit(const char *s);

#endif
