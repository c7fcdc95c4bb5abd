/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A walk over protobuf wire bytes, guided by a protobuf-c message descriptor,
 * that tells whether any string field (in nested messages and map entries
 * too) holds a NUL byte. protobuf-c hands string fields out as C strings, so
 * such a field would be cut at the NUL without a word: the job codec refuses
 * the job instead (content fidelity). Pure; bounded depth; malformed input
 * is not this walk's to judge (the real decoder does that).
 */
#ifndef SG_PB_SCAN_H
#define SG_PB_SCAN_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Nesting followed at most (MailJob -> Attachment is 2 deep). */
#define SG_PB_SCAN_MAX_DEPTH 8

/* True when a string field of |d| in the |len| bytes at |p| contains a NUL.
 * Stops (false) at the first malformed byte. */
bool sg_pb_has_nul_string(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t len);

#endif
