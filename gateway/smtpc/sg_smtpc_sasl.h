/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client's SASL responses for SMTP AUTH (RFC 4954): XOAUTH2 (Google's and
 * Microsoft's OAuth 2.0 bearer form, microsoft-apis.md 6.3), PLAIN (RFC 4616)
 * and LOGIN (the de-facto username/password exchange). Each appends the
 * base64 text of one response to |out|, without CRLF. Pure; secrets are only
 * copied into |out|, which the caller wipes and frees.
 */
#ifndef SG_SMTPC_SASL_H
#define SG_SMTPC_SASL_H

#include "core/sg_mem.h"

/* base64("user=" user "\x01auth=Bearer " token "\x01\x01"). */
void sg_smtpc_sasl_xoauth2(sg_buf *out, const char *user, const char *token);

/* base64("" NUL user NUL password): no authorization identity. */
void sg_smtpc_sasl_plain(sg_buf *out, const char *user, const char *password);

/* base64(s): one LOGIN step (the user name, then the password). */
void sg_smtpc_sasl_login_step(sg_buf *out, const char *s);

/* Overwrites |b|'s bytes with zeros, then frees it (secrets in buffers). */
void sg_smtpc_sasl_wipe(sg_buf *b);

#endif
