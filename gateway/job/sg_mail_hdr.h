/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 5322 header fields of a message, as `sendgate sendmail` (and smtpd's
 * From: check) need them: where the header section ends, the addresses in
 * fields such as To/Cc/Bcc/From (address lists with display names, quoted
 * strings, comments, angle addresses and groups), and removing a field
 * (Bcc) with its continuation lines. Pure; takes CRLF or LF line ends. The
 * addresses are extracted, not validated: check them with sg_addr_valid.
 */
#ifndef SG_MAIL_HDR_H
#define SG_MAIL_HDR_H

#include <stdbool.h>
#include <stddef.h>

#include "core/sg_mem.h"

/* Longest address handed to a callback; longer ones are reported as "" . */
#define SG_MAIL_ADDR_MAX 998

/* Called with each address found (NUL-terminated, borrowed for the call). */
typedef void (*sg_mail_addr_cb)(const char *addr, void *ud);

/*
 * The length of the header section of |msg| (|len| bytes), including the
 * empty line that ends it; |len| when there is no empty line.
 */
size_t sg_mail_hdr_len(const char *msg, size_t len);

/*
 * Calls |cb| for each address in the address list |s| (|n| bytes, unfolded
 * or not): "a@b.c", "Name <a@b.c>", "\"Doe, J\" <j@d.e> (comment)",
 * "team: a@b.c, c@d.e;", "undisclosed-recipients:;". An address too long or
 * malformed (an angle address without its '>') is reported as "". Returns
 * the number of addresses.
 */
size_t sg_mail_addr_list(const char *s, size_t n, sg_mail_addr_cb cb, void *ud);

/*
 * For each field named |name| (any case) in the header section |hdr| (|hlen|
 * bytes), calls sg_mail_addr_list on its unfolded value. Returns the number
 * of fields found.
 */
size_t sg_mail_hdr_addrs(const char *hdr, size_t hlen, const char *name, sg_mail_addr_cb cb,
                         void *ud);

/*
 * Walks the header section |hdr| (|hlen| bytes): the unit at |pos| is a
 * field with its continuation lines (or a line that is not a field). Returns
 * where the next unit starts; *name_len is the length of the field's name
 * (at |hdr + pos|, without the colon and blanks before it), 0 when the unit
 * is not a field.
 */
size_t sg_mail_hdr_next(const char *hdr, size_t hlen, size_t pos, size_t *name_len);

/* True when the header section holds a field named |name|. */
bool sg_mail_hdr_has(const char *hdr, size_t hlen, const char *name);

/*
 * Removes every field named |name| (with its continuation lines) from the
 * header section at the start of |b| (|*hlen| bytes, updated). Returns the
 * number of fields removed.
 */
size_t sg_mail_hdr_remove(sg_buf *b, size_t *hlen, const char *name);

#endif
