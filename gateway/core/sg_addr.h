/* SPDX-License-Identifier: Apache-2.0 */
/*
 * E-mail address syntax (the addr-spec subset providers accept): local@domain,
 * no spaces, no CR/LF or other controls, no display-name or angle brackets,
 * at most 254 bytes; local part 1..64 bytes of atext and single dots (or UTF-8
 * for SMTPUTF8); domain of dot-separated labels (letters, digits, hyphens, or
 * UTF-8 for IDN), at least two labels, or an address literal [..]. Pure.
 */
#ifndef SG_ADDR_H
#define SG_ADDR_H

#include <stdbool.h>
#include <stddef.h>

/* True when |s| (|n| bytes) is an acceptable address. */
bool sg_addr_valid(const char *s, size_t n);

/* The domain part of a valid address (after the last '@'), or NULL. */
const char *sg_addr_domain(const char *s);

#endif
