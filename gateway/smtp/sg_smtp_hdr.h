/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The From: header field of a submitted message (RFC 5322 3.6.2, 3.4): the
 * addresses of its mailbox-list, so the session can check that an
 * authenticated user writes only as the addresses it may use. Handles
 * folding, comments, quoted display names, angle addresses and groups. Also
 * the plain value of a field (Subject, Message-ID) for notifications. Pure.
 */
#ifndef SG_SMTP_HDR_H
#define SG_SMTP_HDR_H

#include <stddef.h>
#include <stdint.h>

#include "core/sg_mem.h"

/*
 * Appends the addresses of the From: field in the header section of |msg|
 * (|n| bytes, CRLF lines) to |out|, each NUL-terminated. Returns the number
 * of addresses (0 when the message has no From: field), or SG_ERR_PARSE when
 * there is more than one From: field or one without any address.
 */
int sg_smtp_hdr_from(const uint8_t *msg, size_t n, sg_buf *out);

/*
 * Copies the value of the first field named |name| (any case) in the header
 * section |hdr| (|hlen| bytes; CRLF or LF lines) into |out| (|cap| >= 1
 * bytes, NUL-terminated): unfolded, blanks at both ends removed, every
 * control character (CR, LF and HT included) turned into a space, cut at
 * |cap| - 1 bytes. Returns the length copied; 0 (and "") when there is no
 * such field.
 */
size_t sg_smtp_hdr_value(const char *hdr, size_t hlen, const char *name, char *out, size_t cap);

#endif
