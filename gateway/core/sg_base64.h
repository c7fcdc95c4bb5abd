/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Base64 (RFC 4648 §4, with padding) and base64url (§5, without padding).
 * Pure; no allocation except through sg_buf.
 */
#ifndef SG_BASE64_H
#define SG_BASE64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sg_mem.h"

/* Encoded length of |n| bytes with padding. */
size_t sg_base64_len(size_t n);
/* Appends the standard base64 of |p| to |out|. */
void sg_base64_encode(sg_buf *out, const void *p, size_t n);
/* Same, with a CRLF after every |wrap| output characters (0: no wrapping),
 * except at the very end: lines are joined by CRLF, the output never ends
 * with one. */
void sg_base64_encode_wrapped(sg_buf *out, const void *p, size_t n, size_t wrap);
/* Appends base64url without padding. */
void sg_base64url_encode(sg_buf *out, const void *p, size_t n);
/*
 * Strictly decodes standard base64 (padding required, no other characters
 * except, when |allow_ws|, CR, LF, space and tab which are skipped). Appends
 * the bytes to |out|. Returns 0 or SG_ERR_PARSE (|out| may hold partial data).
 * Empty input is valid. Non-zero unused bits before the padding ("Zh==") are
 * accepted, as OpenSSL does.
 */
int sg_base64_decode(sg_buf *out, const char *s, size_t n, bool allow_ws);
/* Checks validity without producing output; returns true when valid. */
bool sg_base64_valid(const char *s, size_t n, bool allow_ws);

#endif
