/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The From: header field of a submitted message (RFC 5322 3.6.2, 3.4): the
 * addresses of its mailbox-list, so the session can check that an
 * authenticated user writes only as the addresses it may use. Handles
 * folding, comments, quoted display names, angle addresses and groups. Pure.
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

#endif
