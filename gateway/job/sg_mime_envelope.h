/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A MIME job's envelope. Graph's MIME sendMail delivers a message to the
 * recipients named in its To, Cc and Bcc header fields; SMTP delivers to the
 * envelope (RCPT TO), which may differ (Bcc recipients are in no header; a
 * mailing list's To: names no recipient). So before a MIME job with
 * recipients goes to Graph, its header section is rewritten to name exactly
 * the envelope:
 *   - a To or Cc field whose addresses are all envelope recipients stays;
 *   - a To or Cc field naming anyone else is kept for the reader under
 *     X-Original-To / X-Original-Cc (so Graph does not deliver to them);
 *   - Bcc fields go; one Bcc field names the envelope recipients that no
 *     kept field names (folded, one address per line).
 * Addresses are compared without regard to case. The body is not touched.
 * Pure.
 */
#ifndef SG_MIME_ENVELOPE_H
#define SG_MIME_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "core/sg_mem.h"

/* Appends the rewritten message to |out|. |rcpts| are |n| valid addresses. */
void sg_mime_envelope(const uint8_t *mime, size_t len, const char *const *rcpts, size_t n,
                      sg_buf *out);

#endif
