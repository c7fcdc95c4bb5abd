/* SPDX-License-Identifier: Apache-2.0 */
/*
 * E-mail address syntax (the addr-spec subset providers accept): local@domain,
 * no spaces, no CR/LF or other controls, no display-name or angle brackets,
 * at most 254 bytes; local part 1..64 bytes of atext and single dots (or UTF-8
 * for SMTPUTF8); domain of dot-separated labels (letters, digits, hyphens, or
 * UTF-8 for IDN), at least two labels, or an address literal: [IPv4] or
 * [IPv6:...] (RFC 5321 4.1.3), nothing else in brackets. Bytes of 0x80 or
 * more only as valid UTF-8 (sg_utf8.h: no stray bytes, overlongs or
 * surrogates). Pure.
 */
#ifndef SG_ADDR_H
#define SG_ADDR_H

#include <stdbool.h>
#include <stddef.h>

/* True when |s| (|n| bytes) is an acceptable address. */
bool sg_addr_valid(const char *s, size_t n);

/* True when |s| (|n| bytes) holds a control character: C0 (a tab only when
 * |allow_tab| is false), DEL, or a UTF-8-encoded C1 control. */
bool sg_has_ctl(const char *s, size_t n, bool allow_tab);

/* The domain part of a valid address (after the last '@'), or NULL. */
const char *sg_addr_domain(const char *s);

#endif
