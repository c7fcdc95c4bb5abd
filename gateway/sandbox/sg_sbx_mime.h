/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small scanner for the header section of a decoded RFC 5322 message, for
 * the sandbox's Graph MIME path (microsoft-apis.md §1.5). It finds the
 * recipients (To/Cc/Bcc address lists, groups included), Subject, From and
 * X- headers. It does not parse bodies or MIME parts, decode RFC 2047
 * encoded words, or accept obsolete syntax (routes, NUL). Pure: no I/O.
 */
#ifndef SG_SBX_MIME_H
#define SG_SBX_MIME_H

#include <stdbool.h>
#include <stddef.h>

#include "sandbox/sg_sbx_msg.h"

/*
 * Scans the header section of the |n| bytes at |p|: "Name: value" lines and
 * folded continuation lines (starting with SP or HT), ended by the first
 * empty line or the end of data; CRLF and bare LF both end lines.
 *
 * Appends the addresses of every To, Cc and Bcc field to m->to/cc/bcc, sets
 * m->subject (raw, unfolded) and m->from from the first such fields, and
 * records up to 64 X- fields with sg_sbx_msg_add_hdr. |m| and |p| are
 * borrowed. An address failing sg_sbx_addr_valid is not added; the first
 * one is copied (truncated) into |bad| (|badcap| > 0), which is "" otherwise.
 *
 * Returns 0, or SG_ERR_PARSE when there is no header field or a line is
 * neither a field nor a continuation (what |m| received is then unspecified;
 * the caller frees it).
 */
int sg_sbx_mime_scan(const char *p, size_t n, sg_sbx_msg *m, char *bad, size_t badcap);

/* True when |s| (|n| bytes) is a valid RFC 5322 field name: 1+ of '!'..'~' but ':'. */
bool sg_sbx_mime_field_name_ok(const char *s, size_t n);

#endif
